"""The assignment state machine: ``start()`` makes a row, ``move()`` is the only way its state
changes. Both enforce the state table (``TRANSITIONS``) and, for a move that takes a place,
the seats, the need's dates, time clashes and weekly capacity; then they keep the need's
open/filled status right. Call them inside the transaction that changes the booking; they
take the need's lock, and for a move that takes a place the volunteer's lock after it (the
order in ``locks``), and do not commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from volunteer.auth.models import User
from volunteer.bookings.clashes import COMMITTED_STATES, conflict_for
from volunteer.bookings.locks import lock_need, lock_volunteer
from volunteer.bookings.places import (
    YES_STATES,
    accepted_count,
    has_dates_ahead,
    held_count,
    refresh_status,
)
from volunteer.bookings.visits import booked_ahead, cancel
from volunteer.catalogue.models import ActivityType
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.models import TRANSITIONS, Approval, Assignment, AssignmentState
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence, OccurrenceStatus
from volunteer.notifications.services import enqueue

INVITATION_DAYS = 3
# A new row starts here: matching proposes, a sign-up is accepted or waits.
INITIAL_STATES = frozenset(
    {
        AssignmentState.PROPOSED,
        AssignmentState.WAITLISTED,
        AssignmentState.PENDING,
        AssignmentState.ACCEPTED,
    }
)
# Moves that take a place; they are checked against seats, dates, clashes and capacity.
TAKING = frozenset({AssignmentState.INVITED, AssignmentState.PENDING, AssignmentState.ACCEPTED})
LEAVING = frozenset({AssignmentState.WITHDRAWN, AssignmentState.ENDED})


class ForbiddenMove(Exception):
    """The state table has no such move (e.g. invited → withdrawn)."""


class Refused(Exception):
    """The move would break a booking rule; ``code`` says which: "full" (no place left),
    "finished" (no date ahead), "clash" (busy then), "over_capacity" (week full) or
    "email_unconfirmed" (a yes before the volunteer has confirmed their email address)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _refuse_unless_bookable(
    volunteer: User,
    need: Need,
    to: AssignmentState,
    now: datetime,
    *,
    answering: bool = False,
) -> None:
    """Raise Refused unless the volunteer may take a place on the need now. ``answering``: an
    invitation is being accepted, and only accepted places count against it (of two
    invitations at one time, whichever is answered first wins).

    Call holding the need's and the volunteer's locks (``_lock``)."""
    if not has_dates_ahead(need.id, now):
        raise Refused("finished")
    if to in YES_STATES and not volunteer.identity_confirmed:
        # A yes tells the centre, the contact and the coordinators who is coming.
        raise Refused("email_unconfirmed")
    if to in YES_STATES:
        taken = accepted_count(need.id, other_than=volunteer.id)
    else:
        taken = held_count(need.id, other_than=volunteer.id)
    if taken >= need.slots:
        raise Refused("full")
    states = YES_STATES if answering else COMMITTED_STATES
    problem = conflict_for(volunteer, need, now, states=states)
    if problem is not None:
        raise Refused(problem)


def _lock(need_id: int, volunteer_id: int) -> Need:
    """The locks a move into a held state takes, in the order of ``locks``: the need's (its
    places), then the volunteer's (their clashes and weekly capacity: a sign-up for another
    need at the same moment locks another need, and waits here until this one is done)."""
    need = lock_need(need_id)
    lock_volunteer(volunteer_id)
    return need


def needs_approval(volunteer_id: int, need: Need) -> bool:
    """Whether the volunteer must be approved (a first conversation with a coordinator) before
    the need's first visit: its activity type asks for it and no coordinator of the need's
    organisation has approved them for that type yet."""
    activity = db.session.get(ActivityType, need.activity_type_id)
    if activity is None or not activity.requires_approval:
        return False
    approved = db.session.scalar(
        select(Approval.id).where(
            Approval.volunteer_id == volunteer_id,
            Approval.organisation_id == need.organisation_id,
            Approval.activity_type_id == need.activity_type_id,
        )
    )
    return approved is None


def _landing(volunteer_id: int, need: Need, to: AssignmentState) -> AssignmentState:
    """A yes lands on accepted, or on pending while the volunteer still needs approval."""
    if to == AssignmentState.ACCEPTED and needs_approval(volunteer_id, need):
        return AssignmentState.PENDING
    return to


def start(
    need_id: int, volunteer: User, state: AssignmentState, now: datetime, **fields: Any
) -> Assignment:
    """A new assignment in one of the initial states (proposed, waitlisted, accepted), added to
    the session and flushed. Accepted is checked like ``move`` (under the same locks); raises
    Refused and adds nothing then. Accepted lands on pending while the volunteer needs approval
    (``needs_approval``): read the state it got from the row."""
    if state not in INITIAL_STATES:
        raise ForbiddenMove(f"new → {state}")
    taking = state in TAKING
    if taking:
        need = _lock(need_id, volunteer.id)
        state = _landing(volunteer.id, need, state)
        _refuse_unless_bookable(volunteer, need, state, now)
    assignment = Assignment(
        need_id=need_id, volunteer_id=volunteer.id, state=state, created_at=now, **fields
    )
    db.session.add(assignment)
    db.session.flush()
    _arrive(assignment, state, now)
    if taking:  # nothing else changes the places held
        refresh_status(need, now)
    return assignment


def move(assignment: Assignment, to: AssignmentState, now: datetime) -> list[Visit]:
    """Move the assignment to ``to`` if the state table allows it (else ForbiddenMove) and, for
    invited or accepted, if a place is free, the need has a date ahead and the volunteer is not
    busy then nor at their weekly capacity (else Refused; nothing changes either way).

    Sets the timestamps of the new state, creates the volunteer's visits on acceptance and
    cancels their future ones on leaving (returned), then refreshes the need's status.
    Accepted lands on pending while the volunteer needs approval (``needs_approval``)."""
    current = AssignmentState(assignment.state)
    if to not in TRANSITIONS[current]:
        raise ForbiddenMove(f"{current} → {to}")
    if to in TAKING:
        need = _lock(assignment.need_id, assignment.volunteer_id)
        to = _landing(assignment.volunteer_id, need, to)
        if to not in TRANSITIONS[current]:
            raise ForbiddenMove(f"{current} → {to}")
        answering = current == AssignmentState.INVITED
        _refuse_unless_bookable(assignment.volunteer, need, to, now, answering=answering)
    else:
        need = lock_need(assignment.need_id)
    assignment.state = to
    cancelled = _arrive(assignment, to, now)
    db.session.flush()
    refresh_status(need, now)
    return cancelled


def _arrive(assignment: Assignment, state: AssignmentState, now: datetime) -> list[Visit]:
    if state == AssignmentState.INVITED:
        assignment.invited_at = now
        assignment.invite_expires_at = now + timedelta(days=INVITATION_DAYS)
    elif state == AssignmentState.PENDING:
        assignment.responded_at = now  # no visits until a coordinator approves
        _ask_for_approval(assignment, now)
    elif state == AssignmentState.ACCEPTED:
        assignment.responded_at = now
        assignment.ended_at = None
        _create_visits(assignment, now)
    elif state in (AssignmentState.DECLINED, AssignmentState.EXPIRED):
        assignment.responded_at = now
    elif state in LEAVING:
        assignment.ended_at = now
        return _cancel_future_visits(assignment, now)
    elif state == AssignmentState.WAITLISTED:
        assignment.responded_at = None
        assignment.ended_at = None
    return []


def _ask_for_approval(assignment: Assignment, now: datetime) -> None:
    """The need's coordinators are asked to call the volunteer for a first conversation."""
    need = db.session.get(Need, assignment.need_id)
    volunteer = db.session.get(User, assignment.volunteer_id)
    for coordinator in coordinators_of(need.organisation_id):
        enqueue(
            f"approval-asked:{assignment.id}:{coordinator.id}:{int(now.timestamp())}",
            coordinator,
            "approval_asked",
            need=need,
            volunteer=volunteer,
        )


def _create_visits(assignment: Assignment, now: datetime) -> None:
    """Visits for the accepted volunteer at every scheduled occurrence still ahead."""
    occurrences = db.session.scalars(
        select(Occurrence).where(
            Occurrence.need_id == assignment.need_id,
            Occurrence.starts_at > now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
    ).all()
    existing = set(
        db.session.scalars(
            select(Visit.occurrence_id).where(
                Visit.volunteer_id == assignment.volunteer_id,
                Visit.occurrence_id.in_([o.id for o in occurrences]),
            )
        )
    )
    for occurrence in occurrences:
        if occurrence.id not in existing:
            db.session.add(
                Visit(
                    occurrence_id=occurrence.id,
                    volunteer_id=assignment.volunteer_id,
                    assignment=assignment,
                    state=VisitState.SCHEDULED,
                )
            )


def _cancel_future_visits(assignment: Assignment, now: datetime) -> list[Visit]:
    visits = booked_ahead(now, volunteer_id=assignment.volunteer_id, need_id=assignment.need_id)
    for visit in visits:
        cancel(visit, now)
    return visits
