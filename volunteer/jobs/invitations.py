"""Invitation expiry: an invitation nobody answered in time frees its slot for the next one."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from sqlalchemy import select

from volunteer import bookings
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.needs.signup import offer_next
from volunteer.notifications.services import enqueue


def expire_invitations(app: Flask, now: datetime) -> dict[str, int]:
    """Move invitations whose ``invite_expires_at`` has passed from ``invited`` to ``expired``,
    tell the volunteer (kindly) and the need's coordinators, and offer the slot to the next
    volunteer on the waiting list (``offer_next``).

    One transaction per invitation, under the need's lock (as accepting takes it), so an
    invitation accepted a moment before the job gets to it is left alone.
    """
    due = db.session.scalars(
        select(Assignment)
        .where(
            Assignment.state == AssignmentState.INVITED,
            Assignment.invite_expires_at <= now,
        )
        .order_by(Assignment.invite_expires_at, Assignment.id)
    ).all()
    expired = offered = 0
    for assignment in due:
        bookings.lock_need(assignment.need_id)
        db.session.refresh(assignment)
        still_due = assignment.invite_expires_at is not None and assignment.invite_expires_at <= now
        if assignment.state != AssignmentState.INVITED or not still_due:
            db.session.rollback()
            continue
        bookings.move(assignment, AssignmentState.EXPIRED, now)
        need = assignment.need
        if assignment.volunteer.is_active:
            enqueue(
                f"invitation-expired:{assignment.id}:volunteer",
                assignment.volunteer,
                "invitation_expired",
                need=need,
                assignment=assignment,
            )
        for coordinator in coordinators_of(need.organisation_id):
            enqueue(
                f"invitation-expired:{assignment.id}:coordinator:{coordinator.id}",
                coordinator,
                "invitation_expired_coordinator",
                need=need,
                assignment=assignment,
            )
        if offer_next(need, now) is not None:
            offered += 1
        db.session.commit()
        expired += 1
    return {"expired": expired, "offered": offered}
