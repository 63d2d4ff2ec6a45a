"""Forløb from the coordinators' and the volunteers' side: who sees one, proposing a volunteer
for a waiting person, the volunteer's answer (or the coordinator recording their yes on the
phone), pausing, resuming and ending, the lists and the figures.

A coordinator of the person's organisation (or an administrator) sees and changes a forløb; its
volunteer sees their own (the person's exact address and phone only while it is active:
``persons.services.can_see_contact``); everyone else gets NotFound, so ids cannot be probed.
Every state change goes through ``states.move``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType
from volunteer.clock import local_today
from volunteer.coordination.services import coordinators_of, organisation_ids
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Schedule
from volunteer.notifications.services import enqueue
from volunteer.pairs import states
from volunteer.pairs.models import EndReason, Forloeb, ForloebState
from volunteer.persons.models import Person, PersonState
from volunteer.persons.services import is_staff_of
from volunteer.volunteers.models import VolunteerProfile, organisation_volunteers

OPEN_STATES = (ForloebState.PROPOSED, ForloebState.ACTIVE, ForloebState.PAUSED)


class ForloebError(Exception):
    """A forløb cannot be made or moved as asked; ``code`` says why (the views say it in
    Danish): "not_waiting", "has_forloeb", "not_member", "no_activity", "in_past", "state",
    or a booking rule's code ("clash", "over_capacity", "email_unconfirmed", …)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Pattern:
    """The weekly pattern of a forløb: weekday (0 = Monday), times in local time, first date."""

    weekday: int
    start_time: time
    end_time: time
    start_date: date


# Who sees what.


def visible_forloeb(viewer: User, forloeb_id: int) -> Forloeb:
    """The forløb for a coordinator of its organisation (or an admin) or for its volunteer;
    NotFound for anyone else."""
    forloeb = db.session.get(Forloeb, forloeb_id)
    if forloeb is None or not viewer.is_authenticated:
        raise NotFound
    if forloeb.person.anonymised_at is not None:
        raise NotFound
    if is_staff_of(viewer, forloeb.organisation_id):
        return forloeb
    if viewer.role == Role.VOLUNTEER and forloeb.volunteer_id == viewer.id:
        return forloeb
    raise NotFound


def managed_forloeb(viewer: User, forloeb_id: int) -> Forloeb:
    """The forløb for a coordinator of its organisation (or an admin); NotFound otherwise."""
    forloeb = visible_forloeb(viewer, forloeb_id)
    if not is_staff_of(viewer, forloeb.organisation_id):
        raise NotFound
    return forloeb


def has_active_forloeb(user: User, person: Person) -> bool:
    """Whether ``user`` is the volunteer of an *active* forløb with ``person``."""
    if not user.is_authenticated or user.role != Role.VOLUNTEER:
        return False
    found = db.session.scalar(
        select(Forloeb.id).where(
            Forloeb.person_id == person.id,
            Forloeb.volunteer_id == user.id,
            Forloeb.state == ForloebState.ACTIVE,
        )
    )
    return found is not None


def forloeb_of_need(need_id: int) -> int | None:
    """The id of the forløb whose private need this is."""
    return db.session.scalar(select(Forloeb.id).where(Forloeb.need_id == need_id))


# Proposing and answering.


def _private_need(person: Person, activity: ActivityType, pattern: Pattern, viewer: User) -> Need:
    """The forløb's own weekly need: the person's postcode only, never their name or address."""
    need = Need(
        organisation_id=person.organisation_id,
        activity_type_id=activity.id,
        local_area_id=person.local_area_id,
        created_by_id=viewer.id,
        contact_id=viewer.id if viewer.role == Role.COORDINATOR else None,
        title=f"{activity.name_da} i {person.town}",
        description="",
        address=None,
        postcode=person.postcode,
        town=person.town,
        lat=person.lat,
        lon=person.lon,
        schedule=Schedule.WEEKLY,
        weekday=pattern.weekday,
        start_time=pattern.start_time,
        end_time=pattern.end_time,
        first_date=pattern.start_date,
        last_date=None,
        skip_holidays=False,
        slots=1,
        languages=[],
        status=NeedStatus.DRAFT,
        private=True,
    )
    db.session.add(need)
    db.session.flush()
    return need


def _is_member(volunteer: User, organisation_id: int) -> bool:
    return (
        db.session.scalar(
            select(VolunteerProfile.id)
            .join(
                organisation_volunteers,
                organisation_volunteers.c.profile_id == VolunteerProfile.id,
            )
            .where(
                VolunteerProfile.user_id == volunteer.id,
                organisation_volunteers.c.organisation_id == organisation_id,
            )
        )
        is not None
    )


def propose(
    viewer: User,
    person: Person,
    volunteer_id: int,
    pattern: Pattern,
    now: datetime,
    explanation: list[list[object]] | None = None,
) -> Forloeb:
    """Propose a volunteer (a member of the person's organisation) for a waiting person with
    no other forløb under way; the volunteer is asked by email and on Min side. Commits;
    raises ForloebError, storing nothing."""
    if not is_staff_of(viewer, person.organisation_id):
        raise NotFound
    if person.state != PersonState.WAITING:
        raise ForloebError("not_waiting")
    if pattern.start_date < local_today(now):
        raise ForloebError("in_past")
    if pattern.end_time <= pattern.start_time or not 0 <= pattern.weekday <= 6:
        raise ForloebError("times")
    busy = db.session.scalar(
        select(Forloeb.id).where(
            Forloeb.person_id == person.id, Forloeb.state.in_(list(OPEN_STATES))
        )
    )
    if busy is not None:
        raise ForloebError("has_forloeb")
    volunteer = db.session.get(User, volunteer_id)
    if (
        volunteer is None
        or volunteer.role != Role.VOLUNTEER
        or not volunteer.is_active
        or volunteer.deleted_at is not None
        or not _is_member(volunteer, person.organisation_id)
    ):
        raise ForloebError("not_member")
    if not person.activity_types:
        raise ForloebError("no_activity")
    activity = person.activity_types[0]
    need = _private_need(person, activity, pattern, viewer)
    forloeb = Forloeb(
        person_id=person.id,
        volunteer_id=volunteer.id,
        organisation_id=person.organisation_id,
        activity_type_id=activity.id,
        need_id=need.id,
        start_date=pattern.start_date,
        weekday=pattern.weekday,
        start_time=pattern.start_time,
        end_time=pattern.end_time,
        state=ForloebState.PROPOSED,
        explanation=explanation or [],
        proposed_at=now,
        created_by_id=viewer.id,
    )
    db.session.add(forloeb)
    db.session.flush()
    enqueue(
        f"forloeb-proposed:{forloeb.id}",
        volunteer,
        "forloeb_proposed",
        forloeb=forloeb,
        activity=activity,
        town=person.town,
    )
    audit.record("forloeb.proposed", "forloeb", forloeb.id, actor_id=viewer.id, person_id=person.id)
    db.session.commit()
    return forloeb


def _move(forloeb: Forloeb, to: ForloebState, actor: User, now: datetime, **kwargs) -> None:  # type: ignore[no-untyped-def]
    try:
        states.move(forloeb, to, now, actor=actor, **kwargs)
    except states.ForbiddenMove as error:
        db.session.rollback()
        raise ForloebError("state") from error
    except states.Refused as error:
        db.session.rollback()
        raise ForloebError(error.code) from error
    audit.record(f"forloeb.{to}", "forloeb", forloeb.id, actor_id=actor.id)
    db.session.commit()


def answer(volunteer: User, forloeb: Forloeb, yes: bool, now: datetime) -> None:
    """The volunteer says yes (the forløb starts: its visits are booked) or no (it ends as
    declined and the person goes on waiting). The coordinators are told. Commits; raises
    ForloebError (nothing changes) when the booking rules refuse."""
    if forloeb.volunteer_id != volunteer.id:
        raise NotFound
    if forloeb.state != ForloebState.PROPOSED:
        raise ForloebError("state")
    if yes:
        _move(forloeb, ForloebState.ACTIVE, volunteer, now)
    else:
        _move(forloeb, ForloebState.ENDED, volunteer, now, reason=EndReason.DECLINED)
    for coordinator in coordinators_of(forloeb.organisation_id):
        enqueue(
            f"forloeb-answered:{forloeb.id}:{coordinator.id}",
            coordinator,
            "forloeb_answered",
            forloeb=forloeb,
            yes=yes,
            volunteer=volunteer,
        )
    db.session.commit()


def record_yes(viewer: User, forloeb: Forloeb, now: datetime) -> None:
    """A coordinator records the volunteer's yes given by phone or in person. Commits."""
    if not is_staff_of(viewer, forloeb.organisation_id):
        raise NotFound
    if forloeb.state != ForloebState.PROPOSED:
        raise ForloebError("state")
    _move(forloeb, ForloebState.ACTIVE, viewer, now)


def pause(viewer: User, forloeb: Forloeb, now: datetime) -> None:
    if not is_staff_of(viewer, forloeb.organisation_id):
        raise NotFound
    _move(forloeb, ForloebState.PAUSED, viewer, now)


def resume(viewer: User, forloeb: Forloeb, now: datetime) -> None:
    if not is_staff_of(viewer, forloeb.organisation_id):
        raise NotFound
    if forloeb.state != ForloebState.PAUSED:
        raise ForloebError("state")
    _move(forloeb, ForloebState.ACTIVE, viewer, now)


def end(
    viewer: User, forloeb: Forloeb, reason: EndReason, now: datetime, *, end_person: bool = False
) -> None:
    """End the forløb with a reason; the visits ahead are called off. The person waits again,
    or with ``end_person`` their registration ends too (retention anonymises them later)."""
    if not is_staff_of(viewer, forloeb.organisation_id):
        raise NotFound
    _move(forloeb, ForloebState.ENDED, viewer, now, reason=reason, end_person=end_person)


# Lists.


def for_person(person: Person) -> list[Forloeb]:
    return list(
        db.session.scalars(
            select(Forloeb)
            .where(Forloeb.person_id == person.id)
            .options(selectinload(Forloeb.volunteer))
            .order_by(Forloeb.proposed_at.desc(), Forloeb.id.desc())
        )
    )


def for_volunteer(volunteer: User) -> list[Forloeb]:
    """The volunteer's forløb that are not over, proposals first."""
    rows = db.session.scalars(
        select(Forloeb)
        .join(Forloeb.person)
        .where(
            Forloeb.volunteer_id == volunteer.id,
            Forloeb.state.in_(list(OPEN_STATES)),
            Person.anonymised_at.is_(None),
        )
        .options(selectinload(Forloeb.person), selectinload(Forloeb.activity_type))
        .order_by(Forloeb.proposed_at, Forloeb.id)
    ).all()
    order = {ForloebState.PROPOSED: 0, ForloebState.ACTIVE: 1, ForloebState.PAUSED: 2}
    return sorted(rows, key=lambda f: order.get(ForloebState(f.state), 3))


def for_organisations(viewer: User) -> list[Forloeb]:
    """The viewer's organisations' forløb that are not over."""
    query = (
        select(Forloeb)
        .where(Forloeb.state.in_(list(OPEN_STATES)))
        .options(selectinload(Forloeb.person), selectinload(Forloeb.volunteer))
        .order_by(Forloeb.state, Forloeb.proposed_at)
    )
    ids = organisation_ids(viewer)
    if ids is not None:
        query = query.where(Forloeb.organisation_id.in_(ids))
    return list(db.session.scalars(query))


# Figures for the dashboard.


@dataclass(frozen=True)
class Figures:
    persons_waiting: int
    median_waiting_days: float | None
    active_pairs: int
    paused_pairs: int
    ended_pairs: int
    median_pair_days: float | None
    # Of the pairs that started at least a year ago: how many ended within their first year.
    started_a_year_ago: int
    ended_within_a_year: int

    @property
    def ended_within_a_year_share(self) -> float | None:
        if not self.started_a_year_ago:
            return None
        return self.ended_within_a_year / self.started_a_year_ago


def figures(organisation_ids_: list[int] | None, today: date) -> Figures:
    """Waiting persons and median waiting days; pairs active and paused; how long pairs last
    (from the start to the end, or to today while they last) and how many of those started
    at least a year ago ended within it (the literature: 31 % of new mentoring matches)."""
    persons = select(Person).where(Person.anonymised_at.is_(None))
    pairs = select(Forloeb).where(Forloeb.activated_on.is_not(None))
    if organisation_ids_ is not None:
        persons = persons.where(Person.organisation_id.in_(organisation_ids_))
        pairs = pairs.where(Forloeb.organisation_id.in_(organisation_ids_))
    waiting = [
        max(0, (today - p.waiting_since).days)
        for p in db.session.scalars(persons.where(Person.state == PersonState.WAITING))
        if p.waiting_since is not None
    ]
    started = list(db.session.scalars(pairs))
    lasted = [((f.ended_on or today) - f.activated_on).days for f in started if f.activated_on]
    year_ago = today - timedelta(days=365)
    old = [f for f in started if f.activated_on and f.activated_on <= year_ago]
    return Figures(
        persons_waiting=len(waiting),
        median_waiting_days=statistics.median(waiting) if waiting else None,
        active_pairs=sum(f.state == ForloebState.ACTIVE for f in started),
        paused_pairs=sum(f.state == ForloebState.PAUSED for f in started),
        ended_pairs=sum(f.state == ForloebState.ENDED for f in started),
        median_pair_days=statistics.median(lasted) if lasted else None,
        started_a_year_ago=len(old),
        ended_within_a_year=sum(
            1
            for f in old
            if f.ended_on is not None
            and f.activated_on is not None
            and (f.ended_on - f.activated_on).days < 365
        ),
    )
