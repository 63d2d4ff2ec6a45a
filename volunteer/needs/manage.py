"""Coordinators' operations on needs: create, edit, open, close, copy — for their own
organisations only (admins: all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from volunteer import audit, bookings, geo
from volunteer.auth.models import User
from volunteer.catalogue.models import ActivityType, Centre, Organisation
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.needs.contact import ContactError, choose_contact
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus, Schedule
from volunteer.needs.services import sync_occurrences
from volunteer.needs.signup import offer_next
from volunteer.notifications.services import enqueue


class NeedError(Exception):
    """A need cannot be saved as given; ``field`` names the form field, ``code`` the problem."""

    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class NeedData:
    """A need as the coordinator describes it (already checked for form-level errors)."""

    organisation_id: int
    activity_type_id: int
    title: str
    description: str
    centre_id: int | None
    postcode: str | None
    address: str | None
    local_area_id: int | None
    schedule: str
    weekday: int
    first_date: date
    last_date: date | None
    start_time: time
    end_time: time
    skip_holidays: bool
    slots: int
    requires_child_certificate: bool
    languages: list[str]
    # A coordinator of the organisation; None: keep the current one, else the creator or the
    # organisation's first coordinator (``contact.choose_contact``).
    contact_id: int | None = None


def may_manage(user: User, need: Need) -> bool:
    ids = organisation_ids(user)
    return ids is None or need.organisation_id in ids


def managed_need(user: User, need_id: int) -> Need | None:
    """The need if ``user`` may manage it; None otherwise (the view answers 404 either way, so
    another organisation's need ids reveal nothing). A forløb's private need is managed only
    through its forløb (``volunteer.pairs``), so it is None here too."""
    need = db.session.get(Need, need_id)
    if need is None or need.private:
        return None
    return need if may_manage(user, need) else None


def manageable_organisations(user: User) -> list[Organisation]:
    ids = organisation_ids(user)
    query = select(Organisation).order_by(Organisation.name)
    if ids is not None:
        query = query.where(Organisation.id.in_(ids))
    return list(db.session.scalars(query))


def _apply(need: Need, data: NeedData, user: User, today: date, *, new: bool) -> None:
    if data.organisation_id not in [o.id for o in manageable_organisations(user)]:
        raise NeedError("organisation_id", "not_yours")
    try:
        contact = choose_contact(data.organisation_id, data.contact_id, user, need.contact_id)
    except ContactError as exc:
        raise NeedError("contact_id", exc.code) from exc
    activity = db.session.get(ActivityType, data.activity_type_id)
    if activity is None:
        raise NeedError("activity_type_id", "unknown")
    if data.schedule == Schedule.ONCE and new and data.first_date < today:
        raise NeedError("first_date", "in_past")
    if data.last_date is not None and data.last_date < data.first_date:
        raise NeedError("last_date", "before_first")
    if data.end_time <= data.start_time:
        raise NeedError("end_time", "before_start")
    centre = db.session.get(Centre, data.centre_id) if data.centre_id else None
    if data.centre_id and centre is None:
        raise NeedError("centre_id", "unknown")
    if centre is not None:
        place = (centre.postcode, centre.town, centre.lat, centre.lon)
    else:
        found = geo.lookup(data.postcode or "")
        if found is None:
            raise NeedError("postcode", "unknown")
        place = (found.code, found.town, found.lat, found.lon)
    need.organisation_id = data.organisation_id
    need.contact = contact
    need.activity_type = activity
    need.title = data.title
    need.description = data.description
    need.centre = centre
    need.postcode, need.town, need.lat, need.lon = place
    need.address = data.address or None
    need.local_area_id = data.local_area_id or (centre.local_area_id if centre else None)
    need.schedule = data.schedule
    need.weekday = data.weekday if data.schedule == Schedule.WEEKLY else data.first_date.weekday()
    need.first_date = data.first_date
    need.last_date = data.first_date if data.schedule == Schedule.ONCE else data.last_date
    need.start_time = data.start_time
    need.end_time = data.end_time
    need.skip_holidays = data.skip_holidays
    need.slots = data.slots
    need.requires_child_certificate = (
        data.requires_child_certificate or activity.requires_child_certificate
    )
    need.languages = sorted(set(data.languages))


def create_need(user: User, data: NeedData, now: datetime, *, open_now: bool) -> Need:
    """Create a need (a draft, or open at once). Commits; raises NeedError, storing nothing."""
    need = Need(created_by_id=user.id, status=NeedStatus.DRAFT)
    try:
        _apply(need, data, user, local_today(now), new=True)
        db.session.add(need)
        db.session.flush()
        if open_now:
            _open(need, now)
    except NeedError:
        db.session.rollback()
        raise
    audit.record("need.created", "need", need.id, actor_id=user.id)
    db.session.commit()
    return need


def _check_bookings_still_fit(need: Need, now: datetime) -> None:
    """The changed need must still fit everyone on it: not fewer places than volunteers who
    have said yes, and no clash or full week for anyone holding a place."""
    if need.slots < bookings.accepted_count(need.id):
        raise NeedError("slots", "below_accepted")
    holders = db.session.scalars(
        select(Assignment).where(
            Assignment.need_id == need.id, Assignment.state.in_(bookings.HELD_STATES)
        )
    ).all()
    # Their commitments elsewhere stay as counted until the edit commits: a sign-up for
    # another need at the new time waits, then sees it (need first, then volunteers).
    bookings.lock_volunteers(a.volunteer_id for a in holders)
    for assignment in holders:
        problem = bookings.conflict_for(assignment.volunteer, need, now)
        if problem is not None:
            raise NeedError("start_time", problem)


def update_need(user: User, need: Need, data: NeedData, now: datetime) -> Need:
    """Save changes; occurrences follow the new schedule (dates with visits are kept and
    cancelled, never silently deleted). Refused (NeedError) when the change no longer fits
    the volunteers on the need; a place added goes to the waiting list. Commits; raises
    NeedError, changing nothing."""
    need = bookings.lock_need(need.id)
    try:
        _apply(need, data, user, local_today(now), new=False)
        _check_bookings_still_fit(need, now)
    except NeedError:
        db.session.rollback()
        raise
    if need.status in (NeedStatus.OPEN, NeedStatus.FILLED):
        sync_occurrences(need, local_today(now))
        bookings.refresh_status(need, now)
        while need.status == NeedStatus.OPEN and offer_next(need, now) is not None:
            pass
    audit.record("need.updated", "need", need.id, actor_id=user.id)
    db.session.commit()
    return need


def _open(need: Need, now: datetime) -> None:
    """Publish: only a need with a date ahead, so a finished slot is never shown as open."""
    need.status = NeedStatus.OPEN
    need.opened_at = need.opened_at or now
    sync_occurrences(need, local_today(now))
    if not bookings.has_dates_ahead(need.id, now):
        raise NeedError("first_date", "no_dates")
    bookings.refresh_status(need, now)


def open_need(user: User, need: Need, now: datetime) -> None:
    """Publish a draft (or reopen a closed need). Commits; raises NeedError (changing
    nothing) when it has no date ahead."""
    try:
        _open(need, now)
    except NeedError:
        db.session.rollback()
        raise
    audit.record("need.opened", "need", need.id, actor_id=user.id)
    db.session.commit()


# Where closing a need moves each assignment: a yes ends, an open question (proposal or
# invitation) expires, a yes still waiting for approval is declined, the waiting list is
# withdrawn.
CLOSING_MOVES = {
    AssignmentState.ACCEPTED: AssignmentState.ENDED,
    AssignmentState.PENDING: AssignmentState.DECLINED,
    AssignmentState.INVITED: AssignmentState.EXPIRED,
    AssignmentState.PROPOSED: AssignmentState.EXPIRED,
    AssignmentState.WAITLISTED: AssignmentState.WITHDRAWN,
}


def close_need(user: User, need: Need, now: datetime) -> int:
    """Close the need: no more sign-ups; future dates are cancelled and the volunteers told.
    Returns how many visits were cancelled. Commits."""
    need = bookings.lock_need(need.id)
    need.status = NeedStatus.CLOSED
    need.next_starts_at = None
    future = db.session.scalars(
        select(Occurrence)
        .where(Occurrence.need_id == need.id, Occurrence.starts_at > now)
        .options(selectinload(Occurrence.need))
    ).all()
    cancelled = 0
    for occurrence in future:
        occurrence.status = OccurrenceStatus.CANCELLED
    for visit in bookings.booked_ahead(now, occurrence_ids=[o.id for o in future]):
        bookings.cancel(visit, now, reason="need closed")
        cancelled += 1
    assignments = db.session.scalars(
        select(Assignment).where(
            Assignment.need_id == need.id, Assignment.state.in_(list(CLOSING_MOVES))
        )
    ).all()
    for assignment in assignments:
        told = assignment.state != AssignmentState.PROPOSED  # a proposal was never sent
        bookings.move(assignment, CLOSING_MOVES[AssignmentState(assignment.state)], now)
        if told:
            enqueue(
                f"need-closed:{need.id}:{assignment.volunteer_id}",
                assignment.volunteer,
                "need_closed",
                need=need,
            )
    audit.record("need.closed", "need", need.id, actor_id=user.id, visits_cancelled=cancelled)
    db.session.commit()
    return cancelled


def copy_need(user: User, need: Need) -> Need:
    """A new draft with the same description and schedule, for the coordinator to adjust."""
    skip = {"id", "status", "created_at", "updated_at", "opened_at", "filled_at", "created_by_id"}
    values = {f.key: getattr(need, f.key) for f in Need.__table__.columns if f.key not in skip}
    values["title"] = f"{need.title} (kopi)"[:160]
    copy = Need(**values, status=NeedStatus.DRAFT, created_by_id=user.id)
    db.session.add(copy)
    db.session.flush()
    audit.record("need.copied", "need", copy.id, actor_id=user.id, source=need.id)
    db.session.commit()
    return copy


@dataclass(frozen=True)
class NeedPeople:
    accepted: list[Assignment]
    invited: list[Assignment]
    waitlist: list[Assignment]
    proposed: list[Assignment]

    @property
    def held(self) -> int:
        return len(self.accepted) + len(self.invited)


def people_for(need: Need) -> NeedPeople:
    """The need's volunteers, invitations, waiting list (in order) and proposals."""
    rows = db.session.scalars(
        select(Assignment)
        .where(Assignment.need_id == need.id)
        .options(selectinload(Assignment.volunteer))
        .order_by(Assignment.queue_number.nulls_last(), Assignment.created_at, Assignment.id)
    ).all()
    by_state: dict[str, list[Assignment]] = {}
    for row in rows:
        by_state.setdefault(row.state, []).append(row)
    return NeedPeople(
        accepted=by_state.get(AssignmentState.ACCEPTED, []),
        invited=by_state.get(AssignmentState.INVITED, []),
        waitlist=by_state.get(AssignmentState.WAITLISTED, []),
        proposed=by_state.get(AssignmentState.PROPOSED, []),
    )
