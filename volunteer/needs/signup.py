"""Signing up for a need without ever overbooking it, the waiting list, and invitations.

The slot check and the insert happen in one transaction that holds a lock on the need:
``SELECT … FOR UPDATE`` on PostgreSQL, and on SQLite a write to the need's row as the first
statement, which takes SQLite's single write lock until commit. Concurrent sign-ups therefore
queue up; each sees the accepted count left by the previous one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from volunteer import audit
from volunteer.auth.models import User
from volunteer.centres.models import Visit, VisitState
from volunteer.clock import local_today
from volunteer.coordination.models import (
    Assignment,
    AssignmentSource,
    AssignmentState,
)
from volunteer.extensions import db
from volunteer.needs.eligibility import reasons_not_eligible
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus
from volunteer.notifications.services import enqueue

INVITATION_DAYS = 3
HELD_STATES = (AssignmentState.ACCEPTED, AssignmentState.INVITED)


class NotEligible(Exception):
    """The volunteer cannot take this need; ``reasons`` says why (eligibility codes)."""

    def __init__(self, reasons: tuple[str, ...]):
        super().__init__(", ".join(reasons))
        self.reasons = reasons


class AlreadySignedUp(Exception):
    """The volunteer already has an active assignment for this need."""

    def __init__(self, assignment: Assignment):
        super().__init__(assignment.state)
        self.assignment = assignment


class InvitationClosed(Exception):
    """The invitation is no longer open (answered, expired or withdrawn)."""


@dataclass(frozen=True)
class SignupResult:
    assignment: Assignment
    waitlisted: bool
    position: int | None  # place in the waiting list, 1 = next


def lock_need(need_id: int) -> Need:
    """Lock the need's row for the rest of the transaction and return it, freshly loaded."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(Need).where(Need.id == need_id).values(status=Need.status))
        return db.session.scalars(
            select(Need).where(Need.id == need_id).execution_options(populate_existing=True)
        ).one()
    return db.session.scalars(
        select(Need)
        .where(Need.id == need_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def assignment_of(volunteer: User, need: Need) -> Assignment | None:
    """The volunteer's own assignment for the need, in whatever state."""
    return db.session.scalar(
        select(Assignment).where(
            Assignment.need_id == need.id, Assignment.volunteer_id == volunteer.id
        )
    )


def held_count(need_id: int) -> int:
    """Slots taken: accepted volunteers plus open invitations (an invitation holds its slot)."""
    return db.session.scalar(
        select(func.count()).where(Assignment.need_id == need_id, Assignment.state.in_(HELD_STATES))
    )


def waitlist_position(assignment: Assignment) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Assignment.need_id == assignment.need_id,
            Assignment.state == AssignmentState.WAITLISTED,
            Assignment.queue_number <= assignment.queue_number,
        )
    )


def next_queue_number(need_id: int) -> int:
    """The need's next place in line. Only call while holding the need's lock."""
    last = db.session.scalar(
        select(func.max(Assignment.queue_number)).where(Assignment.need_id == need_id)
    )
    return (last or 0) + 1


def create_visits(assignment: Assignment, now: datetime) -> None:
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


def _update_filled_status(need: Need, now: datetime) -> None:
    held = held_count(need.id)
    if need.status == NeedStatus.OPEN and held >= need.slots:
        need.status = NeedStatus.FILLED
        need.filled_at = now
    elif need.status == NeedStatus.FILLED and held < need.slots:
        need.status = NeedStatus.OPEN


def sign_up(volunteer: User, need_id: int, now: datetime) -> SignupResult:
    """Sign ``volunteer`` up for the need: accepted while a slot is free, else waitlisted.

    Never overbooks, even under concurrent requests. Raises NotEligible or AlreadySignedUp and
    changes nothing then. Commits.
    """
    need = lock_need(need_id)
    reasons = reasons_not_eligible(volunteer, need, local_today(now))
    if reasons:
        db.session.rollback()
        raise NotEligible(reasons)
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.need_id == need.id, Assignment.volunteer_id == volunteer.id
        )
    )
    if assignment is not None and assignment.state in (
        AssignmentState.ACCEPTED,
        AssignmentState.INVITED,
        AssignmentState.WAITLISTED,
        AssignmentState.PROPOSED,
    ):
        db.session.rollback()
        raise AlreadySignedUp(assignment)
    free = held_count(need.id) < need.slots
    state = AssignmentState.ACCEPTED if free else AssignmentState.WAITLISTED
    if assignment is None:
        assignment = Assignment(
            need=need, volunteer_id=volunteer.id, source=AssignmentSource.SIGNUP
        )
        db.session.add(assignment)
    assignment.state = state
    assignment.source = AssignmentSource.SIGNUP
    assignment.created_at = now
    assignment.queue_number = next_queue_number(need.id)
    assignment.responded_at = now if free else None
    assignment.ended_at = None
    try:
        db.session.flush()
    except IntegrityError:  # a double click that slipped past the check: the first one won
        db.session.rollback()
        existing = db.session.scalar(
            select(Assignment).where(
                Assignment.need_id == need_id, Assignment.volunteer_id == volunteer.id
            )
        )
        raise AlreadySignedUp(existing) from None
    if free:
        create_visits(assignment, now)
        _update_filled_status(need, now)
    audit.record(
        "assignment.signed_up", "assignment", assignment.id, actor_id=volunteer.id, state=state
    )
    db.session.commit()
    return SignupResult(assignment, not free, None if free else waitlist_position(assignment))


def offer_next(need: Need, now: datetime) -> Assignment | None:
    """Offer a free slot to the first volunteer on the waiting list (an invitation by email).

    Call inside the transaction that freed the slot; does not commit. Returns the invited
    assignment, or None when no slot is free or nobody is waiting.
    """
    need = lock_need(need.id)
    if held_count(need.id) >= need.slots:
        return None
    nxt = db.session.scalar(
        select(Assignment)
        .where(Assignment.need_id == need.id, Assignment.state == AssignmentState.WAITLISTED)
        .order_by(Assignment.queue_number, Assignment.id)
        .limit(1)
    )
    if nxt is None:
        _update_filled_status(need, now)
        return None
    nxt.state = AssignmentState.INVITED
    nxt.invited_at = now
    nxt.invite_expires_at = now + timedelta(days=INVITATION_DAYS)
    db.session.flush()
    enqueue(
        f"invitation:{nxt.id}:{int(now.timestamp())}",
        nxt.volunteer,
        "slot_offered",
        need=need,
        assignment=nxt,
    )
    _update_filled_status(need, now)
    return nxt


def _own_invitation(volunteer: User, assignment_id: int) -> Assignment | None:
    return db.session.scalar(
        select(Assignment).where(
            Assignment.id == assignment_id, Assignment.volunteer_id == volunteer.id
        )
    )


def accept_invitation(volunteer: User, assignment_id: int, now: datetime) -> Assignment | None:
    """The volunteer accepts an open invitation (their own only; None when not theirs). Commits."""
    assignment = _own_invitation(volunteer, assignment_id)
    if assignment is None:
        return None
    need = lock_need(assignment.need_id)
    db.session.refresh(assignment)
    expired = assignment.invite_expires_at is not None and assignment.invite_expires_at < now
    if assignment.state != AssignmentState.INVITED or expired:
        db.session.rollback()
        raise InvitationClosed
    assignment.state = AssignmentState.ACCEPTED
    assignment.responded_at = now
    create_visits(assignment, now)
    _update_filled_status(need, now)
    audit.record("assignment.accepted", "assignment", assignment.id, actor_id=volunteer.id)
    db.session.commit()
    return assignment


def decline_invitation(volunteer: User, assignment_id: int, now: datetime) -> Assignment | None:
    """The volunteer declines; the slot goes to the next on the waiting list. Commits."""
    assignment = _own_invitation(volunteer, assignment_id)
    if assignment is None:
        return None
    need = lock_need(assignment.need_id)
    db.session.refresh(assignment)
    if assignment.state != AssignmentState.INVITED:
        db.session.rollback()
        raise InvitationClosed
    assignment.state = AssignmentState.DECLINED
    assignment.responded_at = now
    audit.record("assignment.declined", "assignment", assignment.id, actor_id=volunteer.id)
    offer_next(need, now)
    db.session.commit()
    return assignment
