"""What coordinators may see and record about volunteers.

A coordinator sees only the volunteers who let one of the coordinator's organisations contact
them; admins see everyone. Any other volunteer is NotFound, so ids cannot be probed. Every view
of a volunteer's profile is audited, as is every child-certificate record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import Role, User
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.volunteers.models import (
    AvailabilityWindow,
    VolunteerProfile,
    organisation_volunteers,
    volunteer_interests,
)

PAGE_SIZE = 25
CERTIFICATE_STATES = ("valid", "expired", "none")


class CertificateDatesInvalid(Exception):
    """Checked in the future, or valid until before it was checked."""


@dataclass(frozen=True)
class VolunteerFilter:
    local_area_id: int | None = None
    activity_type_id: int | None = None
    weekday: int | None = None
    certificate: str | None = None


@dataclass(frozen=True)
class VolunteerPage:
    profiles: list[VolunteerProfile]
    page: int
    pages: int
    total: int


def _visible_to(viewer: User) -> Select[tuple[VolunteerProfile]]:
    query = select(VolunteerProfile).join(VolunteerProfile.user).where(User.active.is_(True))
    ids = organisation_ids(viewer)
    if ids is not None:
        query = query.where(
            exists().where(
                organisation_volunteers.c.profile_id == VolunteerProfile.id,
                organisation_volunteers.c.organisation_id.in_(ids),
            )
        )
    return query


def volunteer_list(
    viewer: User, filters: VolunteerFilter, today: date, page: int = 1
) -> VolunteerPage:
    """One page of the viewer's volunteers, filtered, in name order; a fixed number of queries
    whatever the page size (related rows are loaded in bulk)."""
    query = _visible_to(viewer)
    if filters.local_area_id is not None:
        query = query.where(VolunteerProfile.local_area_id == filters.local_area_id)
    if filters.activity_type_id is not None:
        query = query.where(
            exists().where(
                volunteer_interests.c.profile_id == VolunteerProfile.id,
                volunteer_interests.c.activity_type_id == filters.activity_type_id,
            )
        )
    if filters.weekday is not None:
        query = query.where(
            exists().where(
                AvailabilityWindow.profile_id == VolunteerProfile.id,
                AvailabilityWindow.weekday == filters.weekday,
            )
        )
    valid_until = VolunteerProfile.child_cert_valid_until
    if filters.certificate == "valid":
        query = query.where(valid_until >= today)
    elif filters.certificate == "expired":
        query = query.where(valid_until < today)
    elif filters.certificate == "none":
        query = query.where(valid_until.is_(None))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    profiles = db.session.scalars(
        query.options(
            joinedload(VolunteerProfile.user),
            joinedload(VolunteerProfile.local_area),
            selectinload(VolunteerProfile.interests),
            selectinload(VolunteerProfile.availability),
        )
        .order_by(User.name, VolunteerProfile.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return VolunteerPage(list(profiles), page, pages, total)


def _visible_profile(viewer: User, user_id: int) -> VolunteerProfile:
    profile = db.session.scalar(_visible_to(viewer).where(VolunteerProfile.user_id == user_id))
    if profile is None:
        raise NotFound
    return profile


def view_volunteer(viewer: User, user_id: int) -> VolunteerProfile:
    """A volunteer's profile for a coordinator or admin; the view is audited. Commits."""
    if not viewer.has_role(Role.COORDINATOR, Role.ADMIN):
        raise NotFound
    profile = _visible_profile(viewer, user_id)
    audit.record("volunteer.viewed", "user", user_id, actor_id=viewer.id)
    db.session.commit()
    return profile


def record_child_certificate(
    viewer: User, user_id: int, *, checked_on: date, valid_until: date, today: date
) -> VolunteerProfile:
    """Record that the viewer checked the volunteer's børneattest. Commits.

    Only the fact is stored (when, by whom, valid until) — never the certificate or a CPR
    number. The check cannot be in the future, and the certificate cannot expire before it.
    """
    if checked_on > today or valid_until < checked_on:
        raise CertificateDatesInvalid
    profile = _visible_profile(viewer, user_id)
    profile.child_cert_checked_on = checked_on
    profile.child_cert_valid_until = valid_until
    profile.child_cert_checked_by = viewer
    audit.record(
        "volunteer.child_certificate_recorded",
        "user",
        user_id,
        actor_id=viewer.id,
        checked_on=checked_on.isoformat(),
        valid_until=valid_until.isoformat(),
    )
    db.session.commit()
    return profile
