"""What coordinators may see and record about volunteers.

A coordinator sees only the volunteers who let one of the coordinator's organisations contact
them; admins see everyone. Any other volunteer is NotFound, so ids cannot be probed. Every view
of a volunteer's profile is audited, as is every child-certificate record.

The list can be searched (name, email, phone, postcode, town, activity of interest) without
regard to case, æøå included, on SQLite and PostgreSQL alike (``volunteer.db.unicode_lower``);
a volunteer's page adds what they do now and have done for the viewer's organisations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from werkzeug.exceptions import NotFound

from volunteer import audit
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType
from volunteer.centres.models import Visit, VisitState
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.coordination.services import organisation_ids
from volunteer.db import unicode_lower
from volunteer.extensions import db
from volunteer.needs.models import Need, Occurrence
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
    # Free text: every word must be found in the name, email, postcode, town or an activity
    # of interest; or the whole text, without spaces and dashes, in the phone number.
    text: str = ""


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


def _contains(column: Any, text: str) -> ColumnElement[bool]:
    return unicode_lower(column).contains(text.lower(), autoescape=True)


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch not in " -")


def _text_matches(text: str) -> ColumnElement[bool] | None:
    """Case-insensitive on both backends (æøå too); None for an empty text."""
    words = text.split()
    if not words:
        return None

    def word(w: str) -> ColumnElement[bool]:
        return or_(
            _contains(User.name, w),
            _contains(User.email, w),
            VolunteerProfile.postcode.startswith(w, autoescape=True),
            _contains(VolunteerProfile.town, w),
            exists().where(
                volunteer_interests.c.profile_id == VolunteerProfile.id,
                volunteer_interests.c.activity_type_id == ActivityType.id,
                or_(_contains(ActivityType.name_da, w), _contains(ActivityType.name_en, w)),
            ),
        )

    every_word = and_(*(word(w) for w in words))
    digits = _digits(text)
    if not digits.lstrip("+").isdigit():
        return every_word
    phone = func.replace(func.replace(User.phone, " ", ""), "-", "")
    return or_(every_word, phone.contains(digits, autoescape=True))


def visible_user_ids(viewer: User, user_ids: Iterable[int]) -> set[int]:
    """Which of these volunteers ``viewer`` may open (one query; none asked, none run)."""
    wanted = set(user_ids)
    if not wanted or not viewer.has_role(Role.COORDINATOR, Role.ADMIN):
        return set()
    query = _visible_to(viewer).where(VolunteerProfile.user_id.in_(wanted))
    return set(db.session.scalars(query.with_only_columns(VolunteerProfile.user_id)))


def volunteer_list(
    viewer: User, filters: VolunteerFilter, today: date, page: int = 1
) -> VolunteerPage:
    """One page of the viewer's volunteers, filtered, in name order; a fixed number of queries
    whatever the page size (related rows are loaded in bulk)."""
    query = _visible_to(viewer)
    matches = _text_matches(filters.text)
    if matches is not None:
        query = query.where(matches)
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


# What a volunteer is part of now, on the volunteer's page (finished rows are history).
CURRENT_STATES = (
    AssignmentState.ACCEPTED,
    AssignmentState.INVITED,
    AssignmentState.WAITLISTED,
    AssignmentState.PROPOSED,
)
LAST_VISITS = 5


@dataclass(frozen=True)
class VolunteerRecord:
    """The volunteer's page: the profile, what they do now and what they have done, limited
    to the viewer's organisations' needs (admins: all)."""

    profile: VolunteerProfile
    current: list[Assignment]
    visits_done: int  # confirmed visits
    last_visits: list[Visit]  # the latest visits that have begun, in any state


def volunteer_page(viewer: User, user_id: int, now: datetime) -> VolunteerRecord:
    """The volunteer's profile with their activities and history; audited like
    ``view_volunteer`` (which it calls, and which commits)."""
    profile = view_volunteer(viewer, user_id)
    ids = organisation_ids(viewer)

    def scoped(query: Select[Any]) -> Select[Any]:
        return query if ids is None else query.where(Need.organisation_id.in_(ids))

    current = db.session.scalars(
        scoped(
            select(Assignment)
            .join(Assignment.need)
            .where(Assignment.volunteer_id == user_id, Assignment.state.in_(CURRENT_STATES))
        )
        .options(contains_eager(Assignment.need).joinedload(Need.organisation))
        .order_by(Need.title, Assignment.id)
    ).all()
    begun = scoped(
        select(Visit)
        .join(Visit.occurrence)
        .join(Occurrence.need)
        .where(Visit.volunteer_id == user_id, Occurrence.starts_at <= now)
    )
    done = db.session.scalar(
        select(func.count()).select_from(
            begun.where(Visit.state == VisitState.CONFIRMED).subquery()
        )
    )
    last = db.session.scalars(
        begun.options(contains_eager(Visit.occurrence).contains_eager(Occurrence.need))
        .order_by(Occurrence.starts_at.desc(), Visit.id.desc())
        .limit(LAST_VISITS)
    ).all()
    return VolunteerRecord(profile, list(current), done or 0, list(last))


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
