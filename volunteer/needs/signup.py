"""Signing up for a need without ever overbooking it, the waiting list, and invitations.

The booking rules (places, clashes, capacity, the state table) live in ``volunteer.bookings``;
this module is the volunteer's side of them. Each function takes the need's lock
(``bookings.lock_need``) before it counts, so concurrent sign-ups queue up and each sees the
places left by the previous one; taking a place also takes the volunteer's lock (in
``bookings.start``/``move``), so one person's two sign-ups at once for two needs at the same
time cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from volunteer import audit, bookings
from volunteer.auth.models import User
from volunteer.coordination.models import (
    Assignment,
    AssignmentSource,
    AssignmentState,
)
from volunteer.extensions import db
from volunteer.needs.eligibility import reasons_not_eligible
from volunteer.needs.models import Need
from volunteer.notifications import sms
from volunteer.notifications.models import Channel
from volunteer.notifications.services import channel_key, enqueue, notify

INVITATION_DAYS = bookings.INVITATION_DAYS
ACTIVE_STATES = (
    AssignmentState.ACCEPTED,
    AssignmentState.PENDING,
    AssignmentState.INVITED,
    AssignmentState.WAITLISTED,
    AssignmentState.PROPOSED,
)


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


def assignment_of(volunteer: User, need: Need) -> Assignment | None:
    """The volunteer's own assignment for the need, in whatever state."""
    return db.session.scalar(
        select(Assignment).where(
            Assignment.need_id == need.id, Assignment.volunteer_id == volunteer.id
        )
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


def sign_up(
    volunteer: User, need_id: int, now: datetime, *, actor: User | None = None
) -> SignupResult:
    """Sign ``volunteer`` up for the need: accepted while a place is free, else waitlisted.
    ``actor``: a coordinator signing up a volunteer whose account they keep (the same rules;
    the audit says it was done by the coordinator for the volunteer).

    Never overbooks, even under concurrent requests, and never books a volunteer twice at one
    time or past their weekly capacity. Raises NotEligible or AlreadySignedUp and changes
    nothing then. Commits.
    """
    need = bookings.lock_need(need_id)
    reasons = reasons_not_eligible(volunteer, need, now)
    if reasons:
        db.session.rollback()
        raise NotEligible(reasons)
    assignment = assignment_of(volunteer, need)
    if assignment is not None and assignment.state in ACTIVE_STATES:
        db.session.rollback()
        raise AlreadySignedUp(assignment)
    free = bookings.held_count(need.id) < need.slots
    state = AssignmentState.ACCEPTED if free else AssignmentState.WAITLISTED
    queue_number = next_queue_number(need.id)
    try:
        if assignment is None:
            assignment = bookings.start(
                need.id,
                volunteer,
                state,
                now,
                source=AssignmentSource.SIGNUP,
                queue_number=queue_number,
            )
        else:  # signing up again after leaving: the same row, at the back of the line
            assignment.source = AssignmentSource.SIGNUP
            assignment.created_at = now
            assignment.queue_number = queue_number
            bookings.move(assignment, state, now)
    except bookings.Refused as exc:
        db.session.rollback()
        raise NotEligible((exc.code,)) from None
    except IntegrityError:  # a double click that slipped past the check: the first one won
        db.session.rollback()
        existing = db.session.scalar(
            select(Assignment).where(
                Assignment.need_id == need_id, Assignment.volunteer_id == volunteer.id
            )
        )
        raise AlreadySignedUp(existing) from None
    on_behalf = {} if actor is None else {"on_behalf_of": volunteer.id}
    audit.record(
        "assignment.signed_up",
        "assignment",
        assignment.id,
        actor_id=(actor or volunteer).id,
        state=state,
        **on_behalf,
    )
    db.session.commit()
    return SignupResult(assignment, not free, None if free else waitlist_position(assignment))


def offer_next(need: Need, now: datetime) -> Assignment | None:
    """Offer a free place to the first volunteer on the waiting list who can still take it (an
    invitation on their channels, ``notifications.services.channels_for``). Someone busy at
    that time now, or at their weekly capacity, keeps their place in line; a closed account is
    taken off the list.

    A volunteer whose account a coordinator keeps cannot answer an email: they are offered the
    place by SMS when they have a phone, to answer their coordinator; without one they keep
    their place in line, the next is offered it, and their coordinator is told to call them.

    Call inside the transaction that freed the place; does not commit. Returns the invited
    assignment, or None when no place is free or nobody waiting can take it.
    """
    need = bookings.lock_need(need.id)
    if bookings.held_count(need.id) >= need.slots:
        return None
    waiting = db.session.scalars(
        select(Assignment)
        .where(Assignment.need_id == need.id, Assignment.state == AssignmentState.WAITLISTED)
        .order_by(Assignment.queue_number, Assignment.id)
    ).all()
    for nxt in waiting:
        volunteer = nxt.volunteer
        if not volunteer.is_active:
            bookings.move(nxt, AssignmentState.WITHDRAWN, now)
            continue
        keeper = db.session.get(User, volunteer.managed_by_id) if volunteer.managed else None
        by_sms = keeper is not None and sms.phone_or_none(volunteer.phone) is not None
        if keeper is not None and not by_sms:
            _tell_keeper(keeper, nxt, now)
            continue
        try:
            bookings.move(nxt, AssignmentState.INVITED, now)
        except bookings.Refused:
            continue
        key = f"invitation:{nxt.id}:{int(now.timestamp())}"
        if by_sms:
            enqueue(
                channel_key(key, Channel.SMS),
                volunteer,
                "slot_offered",
                channel=Channel.SMS,
                need=need,
                assignment=nxt,
                keeper=keeper,
            )
        else:
            notify(key, volunteer, "slot_offered", need=need, assignment=nxt, keeper=None)
        return nxt
    return None


def _tell_keeper(keeper: User, waiting: Assignment, now: datetime) -> None:
    """The coordinator who keeps the account of the next on the waiting list, who has no
    phone: "X er næste på ventelisten til … — ring til hende"."""
    enqueue(
        f"waitlist-keeper:{waiting.id}:{int(now.timestamp())}",
        keeper,
        "waitlist_keeper",
        need=waiting.need,
        assignment=waiting,
        volunteer=waiting.volunteer,
    )


def _own_invitation(volunteer: User, assignment_id: int) -> Assignment | None:
    return db.session.scalar(
        select(Assignment).where(
            Assignment.id == assignment_id, Assignment.volunteer_id == volunteer.id
        )
    )


def accept_invitation(volunteer: User, assignment_id: int, now: datetime) -> Assignment | None:
    """The volunteer accepts an open invitation (their own only; None when not theirs).
    Raises InvitationClosed when it is no longer open, and bookings.Refused when the place no
    longer exists or the volunteer is busy then; nothing changes then. Commits."""
    assignment = _own_invitation(volunteer, assignment_id)
    if assignment is None:
        return None
    bookings.lock_need(assignment.need_id)
    db.session.refresh(assignment)
    expired = assignment.invite_expires_at is not None and assignment.invite_expires_at < now
    if assignment.state != AssignmentState.INVITED or expired:
        db.session.rollback()
        raise InvitationClosed
    try:
        bookings.move(assignment, AssignmentState.ACCEPTED, now)
    except bookings.Refused:
        db.session.rollback()
        raise
    audit.record("assignment.accepted", "assignment", assignment.id, actor_id=volunteer.id)
    db.session.commit()
    return assignment


def decline_invitation(volunteer: User, assignment_id: int, now: datetime) -> Assignment | None:
    """The volunteer declines; the place goes to the next on the waiting list. Commits."""
    assignment = _own_invitation(volunteer, assignment_id)
    if assignment is None:
        return None
    need = bookings.lock_need(assignment.need_id)
    db.session.refresh(assignment)
    if assignment.state != AssignmentState.INVITED:
        db.session.rollback()
        raise InvitationClosed
    bookings.move(assignment, AssignmentState.DECLINED, now)
    audit.record("assignment.declined", "assignment", assignment.id, actor_id=volunteer.id)
    offer_next(need, now)
    db.session.commit()
    return assignment
