"""What "Min side" shows and changes: profile, availability, away periods, visits, assignments.

Every function here acts on the given user's own rows only; a row of somebody else's is treated
as not existing (``NotFound``), so the pages cannot be used to find out what exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from volunteer import audit, bookings, geo
from volunteer.auth.models import User
from volunteer.catalogue.models import ActivityType, LocalArea, Organisation
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.coordination.services import coordinators_of
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence, Schedule
from volunteer.needs.services import local_to_utc
from volunteer.needs.signup import offer_next
from volunteer.notifications.services import enqueue
from volunteer.volunteers.models import AvailabilityWindow, AwayPeriod, Gender, VolunteerProfile

ACTIVE_ASSIGNMENT_STATES = (
    AssignmentState.INVITED,
    AssignmentState.PENDING,
    AssignmentState.ACCEPTED,
    AssignmentState.WAITLISTED,
)

# The availability grid: two-hour blocks in local time, as (start hour, end hour).
TIME_BLOCKS = [(8, 10), (10, 12), (12, 14), (14, 16), (16, 18), (18, 20), (20, 22)]


class UnknownPostcode(Exception):
    """The postcode is not a Danish postcode."""


class DateInPast(Exception):
    """The date has already passed."""


class NotAllowed(Exception):
    """The row is in a state where this cannot be done (e.g. a visit that has already passed)."""


@dataclass(frozen=True)
class Overview:
    upcoming_visits: list[Visit]
    assignments: list[Assignment]


def overview(user: User, now: datetime, limit: int = 10) -> Overview:
    """The user's next visits and current assignments (their own, nobody else's)."""
    visits = db.session.scalars(
        select(Visit)
        .join(Visit.occurrence)
        .where(
            Visit.volunteer_id == user.id,
            Visit.state == VisitState.SCHEDULED,
            Occurrence.starts_at >= now,
        )
        .options(joinedload(Visit.occurrence).joinedload(Occurrence.need).joinedload(Need.centre))
        .order_by(Occurrence.starts_at)
        .limit(limit)
    ).all()
    assignments = db.session.scalars(
        select(Assignment)
        .where(Assignment.volunteer_id == user.id, Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES))
        .options(
            joinedload(Assignment.need).joinedload(Need.activity_type),
            joinedload(Assignment.need).joinedload(Need.centre),
        )
        .order_by(Assignment.created_at)
    ).all()
    return Overview(list(visits), list(assignments))


def profile_of(user: User) -> VolunteerProfile:
    """The user's profile; staff accounts have none, so their "Min side" has no profile pages."""
    if user.profile is None:
        raise NotFound
    return user.profile


def update_profile(
    user: User,
    *,
    name: str,
    phone: str | None,
    postcode: str,
    address: str | None,
    max_km: int,
    weekly_capacity: int,
    interest_ids: Iterable[int],
    languages: Iterable[str],
    organisation_ids: Iterable[int],
    skills: str,
    about: str,
    paused_until: date | None,
    gender: str | None = None,
) -> VolunteerProfile:
    """Save the volunteer's own details. Commits.

    ``gender`` is the volunteer's own answer ("" when they would rather not say, or a
    ``Gender``); ``None`` leaves it as it is.

    A new postcode moves the profile's point and local area; the street address is stored for
    coordinators only. The child certificate is not touched here: only coordinators record it.
    """
    profile = profile_of(user)
    place = geo.lookup(postcode)
    if place is None:
        raise UnknownPostcode(postcode)
    if place.code != profile.postcode:
        profile.postcode, profile.town = place.code, place.town
        profile.lat, profile.lon = place.lat, place.lon
        profile.local_area = db.session.scalar(
            select(LocalArea).where(LocalArea.postcode == place.code).order_by(LocalArea.id)
        )
    user.name = name
    user.phone = phone or None
    profile.address = address or None
    profile.max_km = float(max_km)
    profile.weekly_capacity = weekly_capacity
    profile.interests = _rows(ActivityType, interest_ids)
    profile.languages = list(dict.fromkeys(languages))
    profile.organisations = _rows(Organisation, organisation_ids)
    _leave_waiting_lists(user, {o.id for o in profile.organisations}, utcnow())
    profile.skills = skills
    profile.about = about
    profile.paused_until = paused_until
    if gender is not None:
        if gender and gender not in set(Gender):
            raise ValueError(f"unknown gender {gender!r}")
        profile.gender = gender
    db.session.commit()
    return profile


def _leave_waiting_lists(user: User, organisation_ids: set[int], now: datetime) -> None:
    """An organisation the volunteer no longer lets contact them offers them no freed place:
    they leave the waiting lists of its needs."""
    waiting = db.session.scalars(
        select(Assignment)
        .join(Assignment.need)
        .where(
            Assignment.volunteer_id == user.id,
            Assignment.state == AssignmentState.WAITLISTED,
            Need.organisation_id.not_in(organisation_ids),
        )
    ).all()
    for assignment in waiting:
        bookings.move(assignment, AssignmentState.WITHDRAWN, now)


def _rows(model: type[Any], ids: Iterable[int]) -> list[Any]:
    wanted = set(ids)
    if not wanted:
        return []
    return list(db.session.scalars(select(model).where(model.id.in_(wanted))))


def join_default_organisations(profile: VolunteerProfile) -> None:
    """Let the municipality contact a new volunteer (they can say no on their profile).

    Does not commit: called inside the registration transaction.
    """
    for organisation in db.session.scalars(
        select(Organisation).where(Organisation.kind == "municipality")
    ):
        if organisation not in profile.organisations:
            profile.organisations.append(organisation)


@dataclass(frozen=True)
class AwayAdded:
    period: AwayPeriod
    merged: bool  # it overlapped or touched periods already there, which are now one
    visits_inside: list[Visit]  # scheduled visits in it, for the volunteer to decide on


def add_away_period(user: User, start: date, end: date, today: date) -> AwayAdded:
    """Add dates the volunteer is away. The period must not have started already; one that
    overlaps or touches an existing period is merged with it, so no two periods overlap.
    Returns the period and the scheduled visits inside it (still booked: the volunteer
    chooses which to cancel, ``cancel_visits_while_away``). Commits."""
    if end < start:
        raise ValueError("end before start")
    if start < today:
        raise DateInPast(start)
    profile = profile_of(user)
    touching = [
        p
        for p in profile.away_periods
        if p.start_date <= end + timedelta(days=1) and start <= p.end_date + timedelta(days=1)
    ]
    for other in touching:
        start, end = min(start, other.start_date), max(end, other.end_date)
        profile.away_periods.remove(other)
    db.session.flush()
    period = AwayPeriod(profile=profile, start_date=start, end_date=end)
    db.session.add(period)
    db.session.commit()
    return AwayAdded(period, bool(touching), visits_while_away(user, period))


def _own_period(user: User, period_id: int) -> AwayPeriod:
    period = db.session.get(AwayPeriod, period_id)
    if period is None or period.profile.user_id != user.id:
        raise NotFound
    return period


def visits_while_away(user: User, period: AwayPeriod, after: datetime | None = None) -> list[Visit]:
    """The user's scheduled visits on the period's dates (local days), soonest first; with
    ``after``, only those that start later than that instant (the ones that can be cancelled)."""
    query = (
        select(Visit)
        .join(Visit.occurrence)
        .where(
            Visit.volunteer_id == user.id,
            Visit.state == VisitState.SCHEDULED,
            Occurrence.starts_at >= local_to_utc(period.start_date, time(0)),
            Occurrence.starts_at < local_to_utc(period.end_date + timedelta(days=1), time(0)),
        )
        .options(
            joinedload(Visit.occurrence).joinedload(Occurrence.need).joinedload(Need.centre),
            joinedload(Visit.occurrence).joinedload(Occurrence.need).joinedload(Need.activity_type),
        )
        .order_by(Occurrence.starts_at, Visit.id)
    )
    if after is not None:
        query = query.where(Occurrence.starts_at > after)
    return list(db.session.scalars(query).unique())


def away_visits(
    user: User, period_id: int, after: datetime | None = None
) -> tuple[AwayPeriod, list[Visit]]:
    """One of the user's own away periods (somebody else's: NotFound) and the visits still
    booked inside it (with ``after``: only those still to come)."""
    period = _own_period(user, period_id)
    return period, visits_while_away(user, period, after)


def away_overview(user: User, now: datetime) -> list[tuple[AwayPeriod, int]]:
    """The user's away periods, first first, each with how many visits still to come are
    booked inside it (the volunteer may have kept them, or booked them afterwards)."""
    periods = sorted(profile_of(user).away_periods, key=lambda p: (p.start_date, p.id))
    return [(p, len(visits_while_away(user, p, now))) for p in periods]


def cancel_visits_while_away(
    user: User, period_id: int, visit_ids: Iterable[int], now: datetime, reason: str = ""
) -> list[Visit]:
    """Cancel the chosen visits inside one of the user's away periods, each through the same
    path as cancelling one visit (the need's coordinators are told of each). Commits.

    All or nothing: somebody else's period or visit, or an id that does not exist, is
    NotFound; one of the user's own visits that is not a scheduled, future visit inside the
    period (a forged id, or one that has passed or was cancelled meanwhile) is NotAllowed, and
    nothing is cancelled.
    """
    period, inside = away_visits(user, period_id, now)
    chosen = set(visit_ids)
    by_id = {v.id: v for v in inside}
    strays = chosen - by_id.keys()
    for visit_id in sorted(strays):
        own_visit(user, visit_id)  # NotFound unless it is one of theirs
    if strays:
        raise NotAllowed("not inside the away period")
    cancelled = [v for v in inside if v.id in chosen]
    for visit in cancelled:
        _cancel_visit(user, visit, reason, now)
    db.session.commit()
    return cancelled


def remove_away_period(user: User, period_id: int) -> None:
    """Remove one of the volunteer's own away periods (somebody else's is NotFound). Commits."""
    db.session.delete(_own_period(user, period_id))
    db.session.commit()


def merge_blocks(slots: Iterable[tuple[int, int]]) -> list[tuple[int, time, time]]:
    """Chosen grid blocks ``(weekday, start hour)`` → sorted, non-overlapping windows.

    Blocks that touch or overlap on the same day become one window, so Monday 10–12 and
    12–14 are stored as Monday 10–14.
    """
    block_end = dict(TIME_BLOCKS)
    windows: list[tuple[int, int, int]] = []
    for weekday, start in sorted(set(slots)):
        end = block_end[start]
        if windows and windows[-1][0] == weekday and start <= windows[-1][2]:
            last = windows[-1]
            windows[-1] = (weekday, last[1], max(last[2], end))
        else:
            windows.append((weekday, start, end))
    return [(day, time(start), time(end)) for day, start, end in windows]


def parse_slots(values: Iterable[str]) -> set[tuple[int, int]]:
    """Form values like '0-16' (Monday, the block from 16) → blocks; unknown values are refused."""
    starts = {start for start, _ in TIME_BLOCKS}
    slots = set()
    for value in values:
        day_text, _, hour_text = value.partition("-")
        if not (day_text.isdecimal() and hour_text.isdecimal()):
            raise ValueError(value)
        day, hour = int(day_text), int(hour_text)
        if not (0 <= day <= 6 and hour in starts):
            raise ValueError(value)
        slots.add((day, hour))
    return slots


def chosen_blocks(profile: VolunteerProfile) -> set[tuple[int, int]]:
    """The grid blocks that lie wholly inside a stored window.

    Windows entered elsewhere (e.g. 9–12) may not line up with the grid; a block is shown only
    when the volunteer is free for all of it, so the grid never claims more than they said.
    """
    return {
        (window.weekday, start)
        for window in profile.availability
        for start, end in TIME_BLOCKS
        if window.start_time <= time(start) and time(end) <= window.end_time
    }


def save_availability(
    user: User, slots: Iterable[tuple[int, int]], *, actor: User | None = None
) -> list[AvailabilityWindow]:
    """Replace the volunteer's weekly windows with the merged blocks, in one transaction.
    ``actor``: a coordinator recording the times of a volunteer whose account they keep
    (audited as done by the coordinator for the volunteer)."""
    profile = profile_of(user)
    # Delete first in its own statement: the unit of work would insert the new rows before
    # deleting the old ones and trip the (profile, weekday, start) unique constraint.
    db.session.execute(
        delete(AvailabilityWindow).where(AvailabilityWindow.profile_id == profile.id)
    )
    db.session.expire(profile, ["availability"])
    windows = [
        AvailabilityWindow(profile_id=profile.id, weekday=day, start_time=start, end_time=end)
        for day, start, end in merge_blocks(slots)
    ]
    db.session.add_all(windows)
    if actor is not None:
        audit.record(
            "volunteer.availability_saved",
            "user",
            user.id,
            actor_id=actor.id,
            on_behalf_of=user.id,
            windows=len(windows),
        )
    db.session.commit()
    return windows


def visits_page(user: User, now: datetime) -> Overview:
    """My visits: every upcoming scheduled visit and every current assignment."""
    return overview(user, now, limit=200)


def own_assignment(user: User, assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.volunteer_id != user.id:
        raise NotFound
    return assignment


def own_visit(user: User, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.volunteer_id != user.id:
        raise NotFound
    return visit


def end_assignment(
    assignment: Assignment, now: datetime, *, volunteer_name: str | None
) -> list[Visit]:
    """Take the volunteer off the need: accepted or waitlisted → withdrawn, invited → declined
    (the state machine's word for turning an invitation down), and cancel their future visits
    for it. Tells the need's coordinators; ``volunteer_name`` None says "a volunteer" (used when
    the account is deleted). A place it held goes to the next on the waiting list. Does not
    commit."""
    state = AssignmentState(assignment.state)
    if state not in ACTIVE_ASSIGNMENT_STATES:
        raise NotAllowed(assignment.state)
    target = (
        AssignmentState.DECLINED if state == AssignmentState.INVITED else AssignmentState.WITHDRAWN
    )
    cancelled = bookings.move(assignment, target, now)
    assignment.ended_at = now
    for coordinator in coordinators_of(assignment.need.organisation_id):
        enqueue(
            f"assignment-withdrawn:{assignment.id}:{coordinator.id}",
            coordinator,
            "volunteer_assignment_withdrawn",
            need=assignment.need,
            volunteer_name=volunteer_name,
            cancelled_visits=len(cancelled),
        )
    if state in bookings.HELD_STATES:
        offer_next(assignment.need, now)
    return cancelled


def withdraw(user: User, assignment_id: int, now: datetime) -> Assignment:
    """The volunteer leaves one of their own assignments (somebody else's: NotFound). Commits."""
    assignment = own_assignment(user, assignment_id)
    cancelled = end_assignment(assignment, now, volunteer_name=user.name)
    audit.record(
        "assignment.withdrawn",
        "assignment",
        assignment.id,
        actor_id=user.id,
        cancelled_visits=len(cancelled),
    )
    db.session.commit()
    return assignment


def _cancel_visit(user: User, visit: Visit, reason: str, now: datetime, via: str = "page") -> None:
    """Cancel one of the user's scheduled future visits and tell the need's coordinators (and
    the centre, when it is today or tomorrow). A one-off need has no other date, so the place
    itself is given up: it goes to the next on the waiting list, who is invited to confirm it
    within the invitation's deadline."""
    if not bookings.cancellable(visit, now):
        raise NotAllowed(visit.state)
    bookings.cancel(
        visit, now, reason=reason or None, tell_coordinators=True, volunteer_name=user.name
    )
    audit.record("visit.cancelled", "visit", visit.id, actor_id=user.id, via=via)
    need = visit.occurrence.need
    assignment = db.session.get(Assignment, visit.assignment_id) if visit.assignment_id else None
    if (
        need.schedule == Schedule.ONCE
        and assignment is not None
        and assignment.state in bookings.YES_STATES
        and not bookings.booked_ahead(now, volunteer_id=user.id, need_id=need.id)
    ):
        bookings.move(assignment, AssignmentState.WITHDRAWN, now)
        offer_next(need, now)


def cancel_visit(
    user: User, visit_id: int, reason: str, now: datetime, *, via: str = "page"
) -> Visit:
    """The volunteer cannot come to one of their own future visits. Commits.

    Only a scheduled visit that has not started can be cancelled; the coordinators are told,
    with the reason. ``via`` says where (the page, or the reminder's link) for the audit.
    """
    visit = own_visit(user, visit_id)
    _cancel_visit(user, visit, reason, now, via=via)
    db.session.commit()
    return visit
