"""Approval before the first visit: for activity types that require it (a care-home visit, a
visiting friend for a senior who lives alone), a volunteer's yes waits as *pending* until a
coordinator of the need's organisation has had a first conversation with them and approves.

The gate itself is in ``volunteer.bookings`` (a yes lands on pending while ``needs_approval``,
and the need's coordinators are asked to call the volunteer);
this module is the coordinators' queue and their two answers. Approval is recorded once per
volunteer, organisation and activity type, so the volunteer's later sign-ups for that type in
that organisation are accepted at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from volunteer import audit, bookings
from volunteer.auth.models import User
from volunteer.clock import local_today
from volunteer.coordination.models import Approval, Assignment, AssignmentState
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.needs.models import Need
from volunteer.notifications.services import enqueue

REASON_MAX = 500


class NotFound(Exception):
    """No pending sign-up with that id in the coordinator's organisations."""


class BadAnswer(Exception):
    """The answer cannot be recorded; ``code`` says why: "talk_missing", "talk_in_future",
    "reason_missing"."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def queue(user: User) -> list[Assignment]:
    """Pending sign-ups in the coordinator's organisations (all of them for an admin), oldest
    first."""
    query = (
        select(Assignment)
        .join(Assignment.need)
        .where(Assignment.state == AssignmentState.PENDING)
        .options(
            joinedload(Assignment.volunteer).joinedload(User.profile),
            joinedload(Assignment.need).joinedload(Need.activity_type),
        )
        .order_by(Assignment.responded_at, Assignment.id)
    )
    orgs = organisation_ids(user)
    if orgs is not None:
        query = query.where(Need.organisation_id.in_(orgs))
    return list(db.session.scalars(query).unique())


def _own_pending(user: User, assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    orgs = organisation_ids(user)
    if (
        assignment is None
        or assignment.state != AssignmentState.PENDING
        or (orgs is not None and assignment.need.organisation_id not in orgs)
    ):
        raise NotFound
    return assignment


@dataclass(frozen=True)
class Answered:
    assignment: Assignment
    accepted: bool


def approve(user: User, assignment_id: int, talked_on: date | None, now: datetime) -> Answered:
    """Approve the volunteer for the need's activity type in its organisation (after the first
    conversation on ``talked_on``) and accept their pending yes. Raises NotFound, BadAnswer and
    bookings.Refused (the need has no date ahead any more, or the volunteer became busy).
    Commits."""
    assignment = _own_pending(user, assignment_id)
    if talked_on is None:
        raise BadAnswer("talk_missing")
    if talked_on > local_today(now):
        raise BadAnswer("talk_in_future")
    need = assignment.need
    db.session.add(
        Approval(
            volunteer_id=assignment.volunteer_id,
            organisation_id=need.organisation_id,
            activity_type_id=need.activity_type_id,
            talked_on=talked_on,
            approved_by_id=user.id,
            approved_at=now,
        )
    )
    db.session.flush()
    try:
        bookings.move(assignment, AssignmentState.ACCEPTED, now)
    except bookings.Refused:
        db.session.rollback()
        raise
    audit.record(
        "assignment.approved",
        "assignment",
        assignment.id,
        actor_id=user.id,
        talked_on=talked_on.isoformat(),
    )
    enqueue(
        f"approval-given:{assignment.id}:{int(now.timestamp())}",
        assignment.volunteer,
        "approval_given",
        need=need,
    )
    db.session.commit()
    return Answered(assignment, accepted=True)


def decline(user: User, assignment_id: int, reason: str, now: datetime) -> Answered:
    """Decline the volunteer's pending yes, with a reason they are told. Raises NotFound and
    BadAnswer. Commits."""
    assignment = _own_pending(user, assignment_id)
    reason = (reason or "").strip()[:REASON_MAX]
    if not reason:
        raise BadAnswer("reason_missing")
    bookings.move(assignment, AssignmentState.DECLINED, now)
    audit.record("assignment.not_approved", "assignment", assignment.id, actor_id=user.id)
    enqueue(
        f"approval-declined:{assignment.id}:{int(now.timestamp())}",
        assignment.volunteer,
        "approval_declined",
        need=assignment.need,
        reason=reason,
    )
    db.session.commit()
    return Answered(assignment, accepted=False)
