"""The forløb state machine: ``move()`` is the only way a forløb's state changes.

``proposed → active | ended``, ``active → paused | ended``, ``paused → active | ended``;
ended is final and always has a reason (``EndReason``). The visits follow the state through
the forløb's private weekly need and the booking rules of ``volunteer.bookings``:

- active: the need is open for the moment it takes to book the volunteer (``bookings.start``:
  dates ahead, clashes, weekly capacity, a confirmed email) and is then filled; the horizon job
  keeps adding dates and visits like for any weekly need;
- paused: the visits ahead are called off through ``bookings.cancel`` and the need rests (no
  new dates); the volunteer keeps the weekday, so the pair stays stable;
- active again: the dates the pause called off are made afresh from today;
- ended: the volunteer's place ends through ``bookings.move`` (which cancels the visits ahead)
  and the need closes.

The person follows: paired while a forløb is active or paused, waiting again (a new waiting
time) when it ends, unless the coordinator ends the person's registration with it. Call inside
the transaction; nothing here commits.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import delete, select

from volunteer import bookings
from volunteer.auth.models import User
from volunteer.bookings.states import needs_approval
from volunteer.catalogue.models import ActivityType
from volunteer.clock import local_today
from volunteer.coordination.models import Approval, Assignment, AssignmentSource, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus
from volunteer.needs.services import sync_occurrences
from volunteer.pairs.models import EndReason, Forloeb, ForloebState
from volunteer.persons.models import PersonState
from volunteer.persons.services import set_state

_P, _A, _S, _E = ForloebState.PROPOSED, ForloebState.ACTIVE, ForloebState.PAUSED, ForloebState.ENDED
# from → the states it may move to.
TRANSITIONS: dict[ForloebState, frozenset[ForloebState]] = {
    _P: frozenset({_A, _E}),
    _A: frozenset({_S, _E}),
    _S: frozenset({_A, _E}),
    _E: frozenset(),
}
# The states in which the pair holds: the person is paired, the volunteer may see the contact
# details only while active (``persons.services.can_see_contact``).
CURRENT = frozenset({_A, _S})
PAUSE_REASON = "forløb paused"
END_REASON = "forløb ended"


class ForbiddenMove(Exception):
    """The forløb state table has no such move (e.g. ended → active)."""


class Refused(Exception):
    """The booking rules refuse the volunteer at the forløb's time; ``code`` is the booking
    rule's ("clash", "over_capacity", "email_unconfirmed", "finished", "full")."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def move(
    forloeb: Forloeb,
    to: ForloebState,
    now: datetime,
    *,
    actor: User | None = None,
    reason: EndReason | None = None,
    end_person: bool = False,
) -> None:
    """Move the forløb to ``to`` if the state table allows it (else ForbiddenMove); ended needs
    a ``reason`` (ValueError without). Raises Refused when the volunteer cannot be booked at
    the forløb's time; the caller rolls back then."""
    current = ForloebState(forloeb.state)
    if to not in TRANSITIONS[current]:
        raise ForbiddenMove(f"{current} → {to}")
    if to == _E and reason is None:
        raise ValueError("an ended forløb needs a reason")
    today = local_today(now)
    need = bookings.lock_need(forloeb.need_id) if forloeb.need_id is not None else None
    # A forløb without its need (deleted by hand) still moves; only its visits cannot follow.
    if to == _A and current == _P:
        if need is not None:
            _book(forloeb, need, actor, now)
        forloeb.activated_on = today
    elif to == _A:
        if need is not None:
            _resume(need, now)
        forloeb.paused_on = None
    elif to == _S:
        if need is not None:
            _rest(need, now)
        forloeb.paused_on = today
    else:
        if need is not None:
            _close(forloeb, need, now)
        forloeb.ended_on = today
        forloeb.end_reason = reason
    forloeb.state = to
    if actor is not None:
        forloeb.decided_by_id = actor.id
    db.session.flush()
    _person_follows(forloeb, today, end_person=end_person)


def _book(forloeb: Forloeb, need: Need, actor: User | None, now: datetime) -> None:
    """Generate the dates and book the volunteer on them (the booking rules decide)."""
    need.status = NeedStatus.OPEN
    sync_occurrences(need, local_today(now))
    volunteer = db.session.get(User, forloeb.volunteer_id)
    assert volunteer is not None
    _approve(forloeb, need, actor, now)
    try:
        bookings.start(
            need.id,
            volunteer,
            AssignmentState.ACCEPTED,
            now,
            source=AssignmentSource.MANUAL,
            decided_by_id=actor.id if actor is not None else None,
            explanation=list(forloeb.explanation or []),
        )
    except bookings.Refused as error:
        raise Refused(error.code) from error


def _approve(forloeb: Forloeb, need: Need, actor: User | None, now: datetime) -> None:
    """A forløb is proposed by a coordinator who chose the volunteer for it: that is the first
    conversation an activity type asking for approval wants, so it is recorded as one."""
    if not needs_approval(forloeb.volunteer_id, need):
        return
    activity = db.session.get(ActivityType, need.activity_type_id)
    assert activity is not None
    db.session.add(
        Approval(
            volunteer_id=forloeb.volunteer_id,
            organisation_id=need.organisation_id,
            activity_type_id=activity.id,
            talked_on=local_today(now),
            approved_by_id=forloeb.created_by_id,
            approved_at=now,
        )
    )
    db.session.flush()


def _future(need: Need, now: datetime) -> list[Occurrence]:
    return list(
        db.session.scalars(
            select(Occurrence).where(Occurrence.need_id == need.id, Occurrence.starts_at > now)
        )
    )


def _rest(need: Need, now: datetime) -> None:
    for visit in bookings.booked_ahead(now, need_id=need.id):
        bookings.cancel(visit, now, reason=PAUSE_REASON)
    for occurrence in _future(need, now):
        occurrence.status = OccurrenceStatus.CANCELLED
    need.status = NeedStatus.DRAFT
    need.next_starts_at = None


def _resume(need: Need, now: datetime) -> None:
    """The dates the pause called off never happened: they go, and are made again with fresh
    visits by ``sync_occurrences`` (the volunteer's place is still accepted)."""
    future = [o.id for o in _future(need, now)]
    if future:
        db.session.execute(
            delete(Occurrence).where(
                Occurrence.id.in_(future), Occurrence.status == OccurrenceStatus.CANCELLED
            )
        )
        db.session.expire(need)
    need.status = NeedStatus.FILLED
    sync_occurrences(need, local_today(now))


def _close(forloeb: Forloeb, need: Need, now: datetime) -> None:
    held = db.session.scalars(
        select(Assignment).where(
            Assignment.need_id == need.id,
            Assignment.volunteer_id == forloeb.volunteer_id,
            Assignment.state.in_(bookings.HELD_STATES),
        )
    ).all()
    for assignment in held:
        bookings.move(assignment, AssignmentState.ENDED, now)
    for visit in bookings.booked_ahead(now, need_id=need.id):
        bookings.cancel(visit, now, reason=END_REASON)
    for occurrence in _future(need, now):
        occurrence.status = OccurrenceStatus.CANCELLED
    need.status = NeedStatus.CLOSED
    need.next_starts_at = None


def _person_follows(forloeb: Forloeb, today: date, *, end_person: bool) -> None:
    person = forloeb.person
    if end_person:
        set_state(person, PersonState.ENDED, today)
        return
    current = db.session.scalar(
        select(Forloeb.id)
        .where(Forloeb.person_id == person.id, Forloeb.state.in_(list(CURRENT)))
        .limit(1)
    )
    if current is not None:
        set_state(person, PersonState.PAIRED, today)
    elif person.state == PersonState.PAIRED:
        set_state(person, PersonState.WAITING, today)


def end_for_person(person_id: int, now: datetime, reason: EndReason) -> int:
    """End every forløb of the person that is not over (their registration ends, or they are
    erased): the visits ahead go. The person's state is the caller's. Returns how many."""
    current = db.session.scalars(
        select(Forloeb).where(Forloeb.person_id == person_id, Forloeb.state != _E)
    ).all()
    for forloeb in current:
        move(forloeb, _E, now, reason=reason, end_person=True)
    return len(current)
