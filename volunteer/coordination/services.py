"""What a coordinator may see: only their own organisations' needs (admins see all)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from volunteer.auth.models import Role, User, organisation_members
from volunteer.extensions import db
from volunteer.needs.models import Need


def organisation_ids(user: User) -> list[int] | None:
    """The organisations whose data ``user`` may manage; None means all of them (admin)."""
    if user.role == Role.ADMIN:
        return None
    return [o.id for o in user.organisations]


def needs_for(user: User) -> list[Need]:
    query = (
        select(Need)
        .where(Need.private.is_(False))  # a forløb's own need is on the forløb's page
        .options(joinedload(Need.activity_type), joinedload(Need.organisation))
        .order_by(Need.status, Need.first_date, Need.id)
    )
    ids = organisation_ids(user)
    if ids is not None:
        query = query.where(Need.organisation_id.in_(ids))
    return list(db.session.scalars(query))


def coordinators_of(organisation_id: int) -> list[User]:
    """The organisation's active coordinators: who hears about its needs and volunteers."""
    return list(
        db.session.scalars(
            select(User)
            .join(organisation_members, organisation_members.c.user_id == User.id)
            .where(
                organisation_members.c.organisation_id == organisation_id,
                User.role == Role.COORDINATOR,
                User.active.is_(True),
                User.deleted_at.is_(None),
            )
            .order_by(User.id)
        )
    )
