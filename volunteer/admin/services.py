"""The administrator's overview of the world Samskab runs in."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from volunteer.auth.models import User
from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.extensions import db
from volunteer.notifications.models import OutboxMessage


@dataclass(frozen=True)
class Overview:
    organisations: list[Organisation]
    local_areas: list[LocalArea]
    centres: list[Centre]
    activity_types: list[ActivityType]
    users_by_role: dict[str, int]
    outbox_by_state: dict[str, int]


def overview() -> Overview:
    return Overview(
        organisations=list(db.session.scalars(select(Organisation).order_by(Organisation.name))),
        local_areas=list(db.session.scalars(select(LocalArea).order_by(LocalArea.name))),
        centres=list(
            db.session.scalars(
                select(Centre).options(joinedload(Centre.local_area)).order_by(Centre.name)
            )
        ),
        activity_types=list(
            db.session.scalars(select(ActivityType).order_by(ActivityType.sort_order))
        ),
        users_by_role=dict(
            db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
        ),
        outbox_by_state=dict(
            db.session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            ).all()
        ),
    )
