"""The børneattest's renew-by date: a notice ahead of it, to the coordinator who checked it
(or the coordinators of the volunteer's organisations) and to the volunteer. After the date the
gate in sign-up and matching closes by itself: both ask ``has_valid_child_certificate`` on the
local date (``volunteer.needs.eligibility``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from volunteer import bookings
from volunteer.auth.models import Role, User
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment
from volunteer.coordination.services import coordinators_of
from volunteer.extensions import db
from volunteer.jobs.common import CHUNK
from volunteer.needs.models import Need
from volunteer.notifications.services import already_enqueued, enqueue
from volunteer.volunteers.models import VolunteerProfile


def _who_renews(profile: VolunteerProfile) -> list[User]:
    """The coordinator who checked the certificate, while they still are one; else every
    coordinator of the organisations the volunteer lets contact them."""
    checker = profile.child_cert_checked_by
    if checker is not None and checker.is_active and checker.role == Role.COORDINATOR:
        return [checker]
    seen: dict[int, User] = {}
    for organisation in profile.organisations:
        for person in coordinators_of(organisation.id):
            seen.setdefault(person.id, person)
    return list(seen.values())


def _child_activities(user_id: int) -> list[Need]:
    """The needs requiring a certificate that the volunteer has said yes to."""
    return list(
        db.session.scalars(
            select(Need)
            .join(Assignment, Assignment.need_id == Need.id)
            .where(
                Assignment.volunteer_id == user_id,
                Assignment.state.in_(bookings.YES_STATES),
                Need.requires_child_certificate.is_(True),
            )
            .order_by(Need.title, Need.id)
        )
    )


def certificate_renewals(app: Flask, now: datetime) -> dict[str, int]:
    """Once per certificate (its renew-by date is in the key), CERTIFICATE_NOTICE_DAYS before
    it: tell who renews it and the volunteer. Re-checked at run time (a late or missed run
    still tells, as long as the date is not past); the dates are local dates."""
    today = local_today(now)
    horizon = today + timedelta(days=app.config["CERTIFICATE_NOTICE_DAYS"])
    due = (
        select(VolunteerProfile)
        .join(VolunteerProfile.user)
        .options(
            contains_eager(VolunteerProfile.user),
            selectinload(VolunteerProfile.organisations),
            selectinload(VolunteerProfile.child_cert_checked_by),
        )
        .where(
            VolunteerProfile.child_cert_valid_until >= today,
            VolunteerProfile.child_cert_valid_until <= horizon,
            User.role == Role.VOLUNTEER,
            User.active.is_(True),
            User.deleted_at.is_(None),
        )
        .order_by(VolunteerProfile.child_cert_valid_until, VolunteerProfile.id)
    )
    counts: Counter[str] = Counter()
    for number, profile in enumerate(db.session.scalars(due).unique(), start=1):
        valid_until = profile.child_cert_valid_until
        assert valid_until is not None
        key = f"certificate-renewal:{profile.id}:{valid_until.isoformat()}"
        volunteer = profile.user
        context = {
            "volunteer": volunteer,
            "valid_until": valid_until,
            "days_left": (valid_until - today).days,
            "activities": _child_activities(volunteer.id),
        }
        for person in _who_renews(profile):
            if not already_enqueued(f"{key}:{person.id}"):
                enqueue(f"{key}:{person.id}", person, "certificate_renewal", **context)
                counts["coordinators"] += 1
        if not already_enqueued(f"{key}:volunteer"):
            enqueue(f"{key}:volunteer", volunteer, "certificate_expiring", **context)
            counts["volunteers"] += 1
        counts["certificates"] += 1
        if number % CHUNK == 0:
            db.session.commit()
    db.session.commit()
    return {k: counts[k] for k in ("certificates", "coordinators", "volunteers")}
