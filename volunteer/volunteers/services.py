"""What "Min side" shows a user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from volunteer.auth.models import User
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence

ACTIVE_ASSIGNMENT_STATES = (
    AssignmentState.INVITED,
    AssignmentState.ACCEPTED,
    AssignmentState.WAITLISTED,
)


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
        .options(joinedload(Assignment.need).joinedload(Need.activity_type))
        .order_by(Assignment.created_at)
    ).all()
    return Overview(list(visits), list(assignments))
