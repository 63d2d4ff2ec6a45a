"""The catalogue the forms choose from: active activity types and centres, local areas and
organisations, in display order."""

from __future__ import annotations

from sqlalchemy import select

from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation
from volunteer.extensions import db


def activity_types() -> list[ActivityType]:
    return list(
        db.session.scalars(
            select(ActivityType)
            .where(ActivityType.active.is_(True))
            .order_by(ActivityType.sort_order, ActivityType.id)
        )
    )


def centres() -> list[Centre]:
    return list(
        db.session.scalars(select(Centre).where(Centre.active.is_(True)).order_by(Centre.name))
    )


def local_areas() -> list[LocalArea]:
    return list(db.session.scalars(select(LocalArea).order_by(LocalArea.name)))


def organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))
