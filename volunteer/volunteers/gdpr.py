"""GDPR rights: a copy of everything stored about someone, and erasure — for a user (volunteer
or staff) and for a person we help (*borger*). The one home of anonymisation.

A user's export and erasure walk the whole schema (``db.metadata``) rather than a hand-kept list
of tables, so a table added later that points at a user is exported and scrubbed without anyone
remembering to. Tables marked ``info={"helped_person": True}`` hold data about the people we
help: they point at staff (who created or decided a record), but are not the staff member's
data, so a user's export leaves them out; the person's own export and erasure
(``export_helped_person``, ``forget_helped_person``) cover them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, String, Table, Text, and_, cast, delete, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from werkzeug.security import check_password_hash

from volunteer import audit, bookings, geo
from volunteer.auth.models import User, new_session_token
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment
from volunteer.db import unicode_lower
from volunteer.extensions import db
from volunteer.notifications import links
from volunteer.notifications.models import OutboxMessage
from volunteer.persons.models import Person, PersonState, Referral, person_activity_types
from volunteer.volunteers import services

DELETED_NAME = "Slettet bruger"  # stored, not shown through gettext: it is data, like a name
DELETED_PERSON_NAME = "Slettet borger"
SCRUBBED = "[slettet]"
# Secrets are not personal data worth handing out, and a leaked export must not unlock anything.
SECRET_COLUMNS = {
    "password_hash",
    "session_token",
    "calendar_token",
    "totp_secret",  # the second factor: a leaked export must not carry it
    "code_hash",  # the recovery codes (hashed, but still not handed out)
    "claim_code_hash",  # a claim letter's one-time code (keyed hash)
}
# Too short to scrub safely: replacing them would damage unrelated text.
MIN_SCRUB_LENGTH = 4


class WrongPassword(Exception):
    """The password did not match, so nothing was deleted."""


def _references(table: Table, user: User) -> ColumnElement[bool] | None:
    """A condition picking the rows of ``table`` that point at the user or their profile."""
    if table.info.get("helped_person"):
        return None  # someone else's data (a person we help), even where it names the user
    conditions: list[ColumnElement[bool]] = []
    profile_id = user.profile.id if user.profile else None
    for fk in table.foreign_keys:
        target = fk.column.table.name
        if target == "users":
            conditions.append(fk.parent == user.id)
        elif target == "volunteer_profiles" and profile_id is not None:
            conditions.append(fk.parent == profile_id)
    if table.name == "users":
        conditions.append(table.c.id == user.id)
    elif table.name == "audit_events":
        conditions.append(and_(table.c.object_type == "user", table.c.object_id == user.id))
    elif table.name == "outbox_messages" and user.email:  # an account without email got none
        conditions.append(table.c.recipient_email == user.email)
    return or_(*conditions) if conditions else None


def _plain(value: Any, locale: str) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return links.redact(value, locale=locale)
    return value


def export(user: User, *, actor: User) -> dict[str, list[dict[str, Any]]]:
    """Every row in every table that references the user, keyed by table name. Audited; commits.

    Secrets (password hash, session and calendar tokens) are left out.
    """
    data: dict[str, list[dict[str, Any]]] = {}
    for table in db.metadata.sorted_tables:
        condition = _references(table, user)
        if condition is None:
            continue
        primary = list(table.primary_key.columns)
        rows = db.session.execute(select(table).where(condition).order_by(*primary)).mappings()
        found = [
            {
                key: _plain(value, user.locale)
                for key, value in row.items()
                if key not in SECRET_COLUMNS
            }
            for row in rows
        ]
        if found:
            data[table.name] = found
    data.update(_own_forloeb(user))
    audit.record("gdpr.exported", "user", user.id, actor_id=actor.id)
    db.session.commit()
    return data


# What a volunteer's export holds of their forløb: what they need to know about their own
# part, never the person's name, address or phone (those rows are the person's data).
FORLOEB_COLUMNS = (
    "id",
    "activity_type_id",
    "start_date",
    "weekday",
    "start_time",
    "end_time",
    "state",
    "activated_on",
    "paused_on",
    "ended_on",
    "end_reason",
)


def _own_forloeb(user: User) -> dict[str, list[dict[str, Any]]]:
    from volunteer.pairs.models import Forloeb, ForloebCheckin, Respondent

    table = Forloeb.__table__
    rows = _rows(
        select(*(table.c[name] for name in FORLOEB_COLUMNS))
        .where(table.c.volunteer_id == user.id)
        .order_by(table.c.id),
        user.locale,
        set(),
    )
    checkins = _rows(
        select(
            ForloebCheckin.forloeb_id,
            ForloebCheckin.due_on,
            ForloebCheckin.answer,
            ForloebCheckin.answered_at,
        )
        .join(Forloeb, Forloeb.id == ForloebCheckin.forloeb_id)
        .where(
            Forloeb.volunteer_id == user.id,
            ForloebCheckin.respondent == Respondent.VOLUNTEER,
        )
        .order_by(ForloebCheckin.id),
        user.locale,
        set(),
    )
    return {
        name: found for name, found in (("forloeb", rows), ("forloeb_checkins", checkins)) if found
    }


def delete_account(user: User, password: str, now: datetime) -> None:
    """Erase the user's account at their own request (``forget_person``). Commits.

    Checks the password first (WrongPassword: nothing happens).
    """
    if user.password_hash is None or not check_password_hash(user.password_hash, password):
        raise WrongPassword
    forget_person(user, now, reason="deleted")
    db.session.commit()


def forget_person(user: User, now: datetime, *, reason: str) -> None:
    """Erase a person's personal data and keep anonymised history; the one anonymiser, used by
    account deletion (``reason="deleted"``) and the retention job (``reason="retention"``).
    Does not commit.

    Current assignments are ended and future visits cancelled, telling coordinators "a
    volunteer" has left; the profile and its rows (address, postcode, town, point, calendar
    token, the declared gender) go; messages to the user go; the user row keeps its id (so
    assignments and visits still count in statistics) but loses name, email, phone, password
    and sessions; and every text in the database that still contains the name, email or phone
    is scrubbed.
    """
    traces = [t for t in (user.name, user.email, user.phone) if t and len(t) >= MIN_SCRUB_LENGTH]
    old_email = user.email
    _end_forloeb(user, now)

    assignments = db.session.scalars(
        select(Assignment).where(
            Assignment.volunteer_id == user.id,
            Assignment.state.in_(services.ACTIVE_ASSIGNMENT_STATES),
        )
    ).all()
    # Every need before any volunteer a freed place is offered to (the order of bookings.locks).
    bookings.lock_needs(a.need_id for a in assignments)
    withdrawn_visits = set()
    for assignment in assignments:
        for visit in services.end_assignment(assignment, now, volunteer_name=None):
            withdrawn_visits.add(visit.id)
    future_visits = bookings.booked_ahead(now, volunteer_id=user.id)
    for visit in future_visits:
        bookings.cancel(visit, now, tell_coordinators=True)
    db.session.flush()

    db.session.execute(
        delete(OutboxMessage).where(
            or_(OutboxMessage.recipient_id == user.id, OutboxMessage.recipient_email == old_email)
        )
    )
    user.profile = None  # delete-orphan: the profile and its rows go
    user.name = DELETED_NAME
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.email_confirmed_at = None
    user.phone = None
    user.password_hash = None
    user.active = False
    user.deleted_at = now
    user.session_token = new_session_token()
    # The identities at OpenID providers and the second factor go with the person.
    user.oidc_links.clear()
    user.recovery_codes.clear()
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
    db.session.flush()
    _scrub(traces)
    user.organisations.clear()
    user.centres.clear()
    db.session.flush()
    audit.record(
        "account.deleted" if reason == "deleted" else "account.anonymised",
        "user",
        user.id,
        actor_id=user.id if reason == "deleted" else None,
        reason=reason,
        assignments_ended=len(assignments),
        visits_cancelled=len(withdrawn_visits) + len(future_visits),
    )


def _end_forloeb(user: User, now: datetime) -> None:
    """A volunteer who leaves ends their forløb (through the forløb's ``move``): the visits
    ahead go and the person waits for someone new."""
    from volunteer.pairs import states
    from volunteer.pairs.models import EndReason, Forloeb

    for forloeb in db.session.scalars(
        select(Forloeb).where(
            Forloeb.volunteer_id == user.id, Forloeb.state != states.ForloebState.ENDED
        )
    ).all():
        states.move(forloeb, states.ForloebState.ENDED, now, reason=EndReason.VOLUNTEER_STOPPED)


# The people we help.

# A person's fields that say exactly where they live and how to reach them (and their contact's).
PERSON_CONTACT_COLUMNS = {"address", "phone", "email", "contact_phone", "contact_email"}
REFERRAL_CONTACT_COLUMNS = {"person_address", "person_phone", "referrer_phone", "referrer_email"}


def _rows(query: Any, locale: str, hidden: set[str]) -> list[dict[str, Any]]:
    return [
        {key: _plain(value, locale) for key, value in row.items() if key not in hidden}
        for row in db.session.execute(query).mappings()
    ]


def export_helped_person(
    person: Person, *, contact_visible: bool
) -> dict[str, list[dict[str, Any]]]:
    """Every row stored about a person we help, keyed by table name: the person, their weekly
    windows and activity types, the referral that brought them, and the audit trail about
    them. Without ``contact_visible`` (``persons.services.can_see_contact``) the exact address,
    phone and email columns are left out. Does not audit or commit (the caller does)."""
    from volunteer.audit import AuditEvent
    from volunteer.pairs.models import Forloeb
    from volunteer.persons.models import PersonWindow

    person_hidden = set() if contact_visible else PERSON_CONTACT_COLUMNS
    referral_hidden = set() if contact_visible else REFERRAL_CONTACT_COLUMNS
    tables: dict[str, list[dict[str, Any]]] = {
        "persons": _rows(
            select(Person.__table__).where(Person.id == person.id), "da", person_hidden
        ),
        "person_windows": _rows(
            select(PersonWindow.__table__)
            .where(PersonWindow.person_id == person.id)
            .order_by(PersonWindow.weekday, PersonWindow.start_time),
            "da",
            set(),
        ),
        "person_activity_types": _rows(
            select(person_activity_types).where(person_activity_types.c.person_id == person.id),
            "da",
            set(),
        ),
        "referrals": _rows(
            select(Referral.__table__).where(Referral.person_id == person.id).order_by(Referral.id),
            "da",
            referral_hidden,
        ),
        "forloeb": _rows(
            select(Forloeb.__table__).where(Forloeb.person_id == person.id).order_by(Forloeb.id),
            "da",
            set(),
        ),
        "audit_events": _rows(
            select(AuditEvent.__table__)
            .where(AuditEvent.object_type == "person", AuditEvent.object_id == person.id)
            .order_by(AuditEvent.id),
            "da",
            set(),
        ),
    }
    return {name: rows for name, rows in tables.items() if rows}


def _referral_traces(referral: Referral) -> list[str]:
    return [
        t
        for t in (
            referral.referrer_name,
            referral.referrer_email,
            referral.referrer_phone,
            referral.person_name,
            referral.person_address,
            referral.person_phone,
        )
        if t and len(t) >= MIN_SCRUB_LENGTH
    ]


def _blank_referral(referral: Referral) -> None:
    if referral.referrer_email:
        db.session.execute(
            delete(OutboxMessage).where(OutboxMessage.recipient_email == referral.referrer_email)
        )
    referral.referrer_name = SCRUBBED
    referral.referrer_phone = None
    referral.referrer_email = None
    referral.person_name = SCRUBBED
    referral.person_address = SCRUBBED
    referral.person_phone = None
    referral.message = ""
    referral.decline_reason = SCRUBBED if referral.decline_reason else None


def forget_helped_person(
    person: Person, now: datetime, *, reason: str, actor_id: int | None = None
) -> None:
    """Erase a person we help and keep anonymised figures; used at their request
    (``reason="deleted"``) and by the retention job (``reason="retention"``). Does not commit.

    The row keeps its id, organisation, postcode, town, local area, activity types, state and
    dates (waiting since, ended on, consent date and method) for the statistics; it loses the
    name, phone, email, exact address and point (moved to the postcode's), the weekly windows,
    the wishes, the contact person, who gave the consent, and the note. The referral that
    brought them loses the referrer's and the person's details, and mail to the referrer goes.
    Every text elsewhere still holding one of these is scrubbed.
    """
    from volunteer.pairs import states
    from volunteer.pairs.models import EndReason

    states.end_for_person(person.id, now, EndReason.PERSON_STOPPED)  # no more visits
    referrals = db.session.scalars(select(Referral).where(Referral.person_id == person.id)).all()
    traces = [
        t
        for t in (
            person.name,
            person.phone,
            person.email,
            person.address,
            person.contact_name,
            person.contact_phone,
            person.contact_email,
            person.consent_given_by,
        )
        if t and len(t) >= MIN_SCRUB_LENGTH
    ]
    for referral in referrals:
        traces += _referral_traces(referral)
        _blank_referral(referral)
    for address in (person.email, person.contact_email):
        if address:
            db.session.execute(
                delete(OutboxMessage).where(OutboxMessage.recipient_email == address)
            )
    place = geo.lookup(person.postcode)
    person.name = DELETED_PERSON_NAME
    person.phone = person.email = None
    person.address = ""
    if place is not None:
        person.lat, person.lon = place.lat, place.lon
    person.windows = []
    person.interests = person.volunteer_wish = person.note = person.wish_gender = ""
    person.wish_required = False
    person.contact_name = person.contact_relation = None
    person.contact_phone = person.contact_email = None
    person.consent_given_by = None
    if person.state != PersonState.ENDED:
        person.state, person.ended_on = PersonState.ENDED, local_today(now)
    person.anonymised_at = now
    db.session.flush()
    _scrub(sorted(set(traces), key=len, reverse=True))
    audit.record(
        "person.deleted" if reason == "deleted" else "person.anonymised",
        "person",
        person.id,
        actor_id=actor_id,
        reason=reason,
    )


def forget_referral(referral: Referral, *, reason: str) -> None:
    """Erase a declined referral's personal details (the retention job). Does not commit."""
    traces = _referral_traces(referral)
    _blank_referral(referral)
    db.session.flush()
    _scrub(sorted(set(traces), key=len, reverse=True))
    audit.record("referral.anonymised", "referral", referral.id, actor_id=None, reason=reason)


def _scrub(traces: list[str]) -> None:
    """Replace every remaining occurrence of the traces in every text column of every table."""
    if not traces:
        return
    pattern = re.compile("|".join(re.escape(t) for t in traces), re.IGNORECASE)
    for table in db.metadata.sorted_tables:
        primary = list(table.primary_key.columns)
        for column in table.columns:
            if not isinstance(column.type, String | Text | JSON):
                continue
            as_text = cast(column, Text)
            # Exactly as written, and case-folded (æøå too, on SQLite as well: unicode_lower).
            matches = or_(
                *(as_text.contains(t, autoescape=True) for t in traces),
                *(unicode_lower(as_text).contains(t.lower(), autoescape=True) for t in traces),
            )
            rows = db.session.execute(select(*primary, column).where(matches)).all()
            for *key, value in rows:
                db.session.execute(
                    update(table)
                    .where(and_(*(c == k for c, k in zip(primary, key, strict=True))))
                    .values({column.name: _replace(value, pattern)})
                )
    # The ORM may hold the old texts in memory; make it read the scrubbed ones.
    db.session.expire_all()


def _replace(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(SCRUBBED, value)
    if isinstance(value, list):
        return [_replace(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, pattern) for k, v in value.items()}
    return value
