"""Referrals (*henvisninger*): a relative, home-care staff or the senior themself asks for a
spiseven or besøgsven, without an account.

A referral goes to the queue of the organisation of the postcode's local area
(``services.route_postcode``: the local area with that postcode, else the nearest one; its
organisation). A coordinator of that organisation turns it into a person (waiting since the day
of the referral), or declines it with a reason that is emailed back where the referrer gave an
address. The referrer gets a receipt by email where they gave one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select
from werkzeug.exceptions import NotFound

from volunteer import audit, geo
from volunteer.auth.models import Role, User
from volunteer.catalogue.services import person_activity_types
from volunteer.clock import local_today
from volunteer.coordination.services import organisation_ids
from volunteer.extensions import db
from volunteer.needs import manage
from volunteer.needs.models import Need, Schedule
from volunteer.notifications.services import Addressee, enqueue
from volunteer.persons.models import Person, Referral, ReferralState, ReferrerRelation
from volunteer.persons.services import (
    PersonData,
    PersonError,
    is_staff_of,
    new_person,
    refuse_cpr,
    route_postcode,
)
from volunteer.volunteers.gdpr import SCRUBBED


@dataclass(frozen=True)
class ReferralData:
    referrer_name: str
    referrer_relation: str
    person_name: str
    person_postcode: str
    person_address: str
    consent: bool
    referrer_phone: str | None = None
    referrer_email: str | None = None
    person_phone: str | None = None
    activity_codes: list[str] = field(default_factory=list)
    message: str = ""


def submit_referral(data: ReferralData, now: datetime, locale: str = "da") -> Referral:
    """Store a referral in the queue of the postcode's organisation and, where the referrer gave
    an email address, put a receipt in the outbox. Raises PersonError (consent not given, a CPR
    number in a text, an unknown postcode or activity), storing nothing. Commits."""
    if not data.consent:
        raise PersonError("consent", "required")
    if data.referrer_relation not in set(ReferrerRelation):
        raise PersonError("referrer_relation", "unknown")
    refuse_cpr(
        {
            "referrer_name": data.referrer_name,
            "person_name": data.person_name,
            "person_address": data.person_address,
            "message": data.message,
        }
    )
    place = geo.lookup(data.person_postcode)
    if place is None:
        raise PersonError("person_postcode", "unknown")
    offered = {a.code for a in person_activity_types()}
    if not data.activity_codes or not set(data.activity_codes) <= offered:
        raise PersonError("activity_codes", "unknown")
    route = route_postcode(place.code)
    referral = Referral(
        organisation_id=route.organisation_id,
        local_area_id=route.local_area_id,
        referrer_name=data.referrer_name,
        referrer_relation=data.referrer_relation,
        referrer_phone=data.referrer_phone or None,
        referrer_email=data.referrer_email or None,
        person_name=data.person_name,
        person_postcode=place.code,
        person_town=place.town,
        person_address=data.person_address,
        person_phone=data.person_phone or None,
        activity_codes=sorted(set(data.activity_codes)),
        message=data.message,
        consent=True,
        locale=locale,
        created_at=now,
    )
    db.session.add(referral)
    db.session.flush()
    if referral.referrer_email:
        enqueue(
            f"referral-receipt:{referral.id}",
            _referrer(referral),
            "referral_receipt",
            referral=referral,
        )
    audit.record(
        "referral.received",
        "referral",
        referral.id,
        actor_id=None,
        organisation_id=route.organisation_id,
    )
    db.session.commit()
    return referral


def _referrer(referral: Referral) -> Addressee:
    assert referral.referrer_email
    return Addressee(
        email=referral.referrer_email, name=referral.referrer_name, locale=referral.locale
    )


def _queue_query(viewer: User):  # type: ignore[no-untyped-def]
    query = select(Referral).where(Referral.state == ReferralState.NEW)
    ids = organisation_ids(viewer)
    return query if ids is None else query.where(Referral.organisation_id.in_(ids))


def queue(viewer: User) -> list[Referral]:
    """New referrals for the viewer's organisations (admins: all, also those without an
    organisation), the oldest first."""
    if not viewer.has_role(Role.COORDINATOR, Role.ADMIN):
        return []
    return list(db.session.scalars(_queue_query(viewer).order_by(Referral.created_at, Referral.id)))


def queue_size(viewer: User) -> int:
    return len(queue(viewer))


def open_referral(viewer: User, referral_id: int, *, audited: bool = True) -> Referral:
    """A new referral of the viewer's organisation (admins: any); else NotFound. The view is
    audited (unless ``audited`` is false: an action, audited itself). Commits."""
    if not viewer.has_role(Role.COORDINATOR, Role.ADMIN):
        raise NotFound
    referral = db.session.scalar(_queue_query(viewer).where(Referral.id == referral_id))
    if referral is None:
        raise NotFound
    if audited:
        audit.record("referral.viewed", "referral", referral.id, actor_id=viewer.id)
        db.session.commit()
    return referral


def _decidable(viewer: User, referral: Referral) -> None:
    if referral.state != ReferralState.NEW:
        raise NotFound
    if referral.organisation_id is None:
        if not viewer.has_role(Role.ADMIN):
            raise NotFound
    elif not is_staff_of(viewer, referral.organisation_id):
        raise NotFound


@dataclass(frozen=True)
class WeeklyNeed:
    """A weekly need to make with the person: the weekday and times of the visits."""

    weekday: int
    start_time: time
    end_time: time


def accept_referral(
    viewer: User,
    referral: Referral,
    data: PersonData,
    now: datetime,
    weekly: WeeklyNeed | None = None,
) -> Person:
    """Register the referred person (waiting since the day of the referral) and close the
    referral; with ``weekly``, also make a weekly need for them as a draft (``weekly_need``).
    Raises PersonError, storing nothing. Commits."""
    _decidable(viewer, referral)
    try:
        person = new_person(viewer, data, now)
    except PersonError:
        db.session.rollback()
        raise
    person.waiting_since = min(local_today(referral.created_at), local_today(now))
    if weekly is not None:
        weekly_need(viewer, person, weekly, now)  # commits (with the person), or stores nothing
    referral.state = ReferralState.ACCEPTED
    referral.person = person
    referral.decided_by_id = viewer.id
    referral.decided_at = now
    audit.record(
        "referral.accepted", "referral", referral.id, actor_id=viewer.id, person_id=person.id
    )
    db.session.commit()
    return person


def weekly_need(viewer: User, person: Person, weekly: WeeklyNeed, now: datetime) -> Need:
    """A weekly need for the person's first activity, as a draft the coordinator opens when
    ready, through ``needs.manage.create_need``. Its place is the person's postcode only (a
    need is public once open): never their name or exact address. Commits; raises PersonError
    (storing nothing, the person neither) when the need cannot be made."""
    if not person.activity_types:
        db.session.rollback()
        raise PersonError("activity_type_ids", "required")
    activity = person.activity_types[0]
    today = local_today(now)
    data = manage.NeedData(
        organisation_id=person.organisation_id,
        activity_type_id=activity.id,
        title=f"{activity.name_da} i {person.town}",
        description=(
            f"En borger i {person.town} vil gerne have en fast {activity.name_da.lower()} "
            "en gang om ugen. Koordinatoren fortæller mere."
        ),
        centre_id=None,
        postcode=person.postcode,
        address=None,
        local_area_id=person.local_area_id,
        schedule=Schedule.WEEKLY,
        weekday=weekly.weekday,
        first_date=today + timedelta(days=(weekly.weekday - today.weekday() - 1) % 7 + 1),
        last_date=None,
        start_time=weekly.start_time,
        end_time=weekly.end_time,
        skip_holidays=False,
        slots=1,
        requires_child_certificate=False,
        languages=list(person.languages),
    )
    try:
        return manage.create_need(viewer, data, now, open_now=False)
    except manage.NeedError as error:  # create_need has rolled back: the person is gone too
        raise PersonError("need_weekday", "unknown") from error


def decline_referral(viewer: User, referral: Referral, reason: str, now: datetime) -> None:
    """Decline the referral with a reason, emailed to the referrer where they gave an address.
    Raises PersonError for an empty reason or one holding a CPR number. Commits."""
    _decidable(viewer, referral)
    reason = reason.strip()
    if not reason:
        raise PersonError("reason", "required")
    refuse_cpr({"reason": reason})
    referral.state = ReferralState.DECLINED
    referral.decline_reason = reason
    referral.decided_by_id = viewer.id
    referral.decided_at = now
    if referral.referrer_email:
        enqueue(
            f"referral-declined:{referral.id}",
            _referrer(referral),
            "referral_declined",
            referral=referral,
            reason=reason,
            organisation=referral.organisation,
        )
    audit.record("referral.declined", "referral", referral.id, actor_id=viewer.id)
    db.session.commit()


def declined_before(cutoff: datetime) -> list[Referral]:
    """Declined referrals decided before ``cutoff`` whose details are still there."""
    return list(
        db.session.scalars(
            select(Referral).where(
                Referral.state == ReferralState.DECLINED,
                Referral.decided_at < cutoff,
                Referral.referrer_name != SCRUBBED,
            )
        )
    )
