"""The people we help (*borgere*): who may see them, registering and editing them, the list
with waiting times, export and erasure on request.

Only coordinators of the person's organisation (and administrators) see a person at all; anyone
else gets NotFound, so ids cannot be probed. Every staff view of a person's record is audited.
Whether the exact address and phone show is decided in one place, ``can_see_contact``: every
page and export asks it.

Free texts never hold a CPR number (``contains_cpr``): a service refuses one whatever the form
did. Anonymisation lives with the volunteer's, in ``volunteer.volunteers.gdpr``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from volunteer import audit, geo
from volunteer.auth.models import Role, User
from volunteer.catalogue.models import ActivityType, LocalArea, Organisation
from volunteer.clock import local_today
from volunteer.coordination.services import organisation_ids
from volunteer.db import unicode_lower
from volunteer.extensions import db
from volunteer.persons.models import (
    ConsentMethod,
    Person,
    PersonState,
    PersonWindow,
)
from volunteer.volunteers import gdpr
from volunteer.volunteers.models import Gender
from volunteer.volunteers.services import merge_blocks

# ddmmyy-xxxx (or without the hyphen, or with a space): a plausible day and month first, and no
# digit on either side, so phone numbers (8 digits) and postcodes do not match.
CPR_PATTERN = re.compile(
    r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[-\u2010\u2011 ]?\d{4}(?!\d)"
)


class PersonError(Exception):
    """A person cannot be saved as given; ``field`` names the form field, ``code`` the problem."""

    def __init__(self, field: str, code: str):
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


def contains_cpr(text: str | None) -> bool:
    """Whether ``text`` holds something that looks like a CPR number (ddmmyy-xxxx)."""
    return bool(text) and CPR_PATTERN.search(text or "") is not None


def refuse_cpr(values: dict[str, str | None]) -> None:
    """PersonError(field, "cpr") for the first text that looks like it holds a CPR number."""
    for name, value in values.items():
        if contains_cpr(value):
            raise PersonError(name, "cpr")


# Who may see what.


def is_staff_of(user: User, organisation_id: int | None) -> bool:
    """A coordinator of the organisation, or an administrator."""
    if not user.is_authenticated or not user.has_role(Role.COORDINATOR, Role.ADMIN):
        return False
    ids = organisation_ids(user)
    return ids is None or organisation_id in ids


def can_see_contact(user: User, person: Person) -> bool:
    """Whether ``user`` may see the person's exact address and phone (and email, and their
    contact person's phone and email): coordinators of the person's organisation,
    administrators, and the volunteer of an *active* forløb with the person (not a proposed,
    paused or ended one). The one place that decides; every page and export asks it.
    """
    if person.anonymised_at is not None:
        return False
    if is_staff_of(user, person.organisation_id):
        return True
    from volunteer.pairs.services import has_active_forloeb  # pairs builds on persons

    return has_active_forloeb(user, person)


def _visible_to(viewer: User) -> Select[tuple[Person]]:
    query = select(Person).where(Person.anonymised_at.is_(None))
    ids = organisation_ids(viewer)
    return query if ids is None else query.where(Person.organisation_id.in_(ids))


def visible_person(viewer: User, person_id: int) -> Person:
    """The person if ``viewer`` coordinates their organisation (or is an admin); else NotFound.
    Not audited: for actions, whose own audit event names the person."""
    if not viewer.has_role(Role.COORDINATOR, Role.ADMIN):
        raise NotFound
    person = db.session.scalar(_visible_to(viewer).where(Person.id == person_id))
    if person is None:
        raise NotFound
    return person


def view_person(viewer: User, person_id: int) -> Person:
    """A person's record for a coordinator of their organisation; the view is audited. Commits."""
    person = visible_person(viewer, person_id)
    audit.record("person.viewed", "person", person.id, actor_id=viewer.id)
    db.session.commit()
    return person


# The list.


@dataclass(frozen=True)
class PersonRow:
    person: Person
    waiting_days: int | None


def _contains(column: Any, text: str) -> Any:
    return unicode_lower(column).contains(text.lower(), autoescape=True)


def person_list(viewer: User, today: date, *, text: str = "", state: str = "") -> list[PersonRow]:
    """The viewer's organisations' persons, the longest waiting first, then by name; searched
    by name, postcode, town or contact person (any case, æøå too)."""
    query = _visible_to(viewer).options(
        selectinload(Person.activity_types), selectinload(Person.local_area)
    )
    if state in set(PersonState):
        query = query.where(Person.state == state)
    for word in text.split():
        query = query.where(
            or_(
                _contains(Person.name, word),
                Person.postcode.startswith(word, autoescape=True),
                _contains(Person.town, word),
                _contains(Person.contact_name, word),
            )
        )
    persons = db.session.scalars(
        query.order_by(Person.waiting_since.is_(None), Person.waiting_since, Person.name)
    ).all()
    return [PersonRow(p, waiting_days(p, today)) for p in persons]


def waiting_days(person: Person, today: date) -> int | None:
    """Days the person has waited for a volunteer; None unless they are waiting."""
    if person.state != PersonState.WAITING or person.waiting_since is None:
        return None
    return max(0, (today - person.waiting_since).days)


# Registering and editing.


@dataclass(frozen=True)
class PersonData:
    """A person as the coordinator describes them (already checked for form-level errors)."""

    organisation_id: int
    name: str
    postcode: str
    address: str
    consent_given_by: str
    consent_given_on: date
    consent_method: str
    phone: str | None = None
    email: str | None = None
    local_area_id: int | None = None
    activity_type_ids: list[int] = field(default_factory=list)
    interests: str = ""
    languages: list[str] = field(default_factory=lambda: ["da"])
    # Blocks of the weekly grid the volunteer profile uses: (weekday, start hour).
    slots: set[tuple[int, int]] = field(default_factory=set)
    volunteer_wish: str = ""
    # The wish in a form the matching reads ("" or a Gender), and whether it is a requirement.
    wish_gender: str = ""
    wish_required: bool = False
    contact_name: str | None = None
    contact_relation: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Route:
    """Where a postcode belongs: its local area and the organisation that handles it."""

    local_area_id: int | None
    organisation_id: int | None


def route_postcode(code: str) -> Route:
    """The local area and organisation for a postcode.

    The rule: the local area registered with exactly this postcode; otherwise the nearest local
    area with a point (great-circle distance from the postcode's point). The organisation is
    that local area's organisation. No local area (or one without an organisation): no
    organisation, and only administrators see the referral until they assign it.
    """
    place = geo.lookup(code)
    if place is None:
        return Route(None, None)
    areas = db.session.scalars(select(LocalArea).order_by(LocalArea.id)).all()
    exact = [a for a in areas if a.postcode == place.code]
    if exact:
        area = exact[0]
    else:
        placed = [a for a in areas if a.lat is not None and a.lon is not None]
        if not placed:
            return Route(None, None)
        area = min(
            placed,
            key=lambda a: (geo.distance_km(place.lat, place.lon, a.lat, a.lon), a.id),  # type: ignore[arg-type]
        )
    return Route(area.id, area.organisation_id)


def _apply(person: Person, data: PersonData, viewer: User, today: date) -> None:
    if not is_staff_of(viewer, data.organisation_id):
        raise PersonError("organisation_id", "not_yours")
    if db.session.get(Organisation, data.organisation_id) is None:
        raise PersonError("organisation_id", "unknown")
    refuse_cpr(
        {
            "name": data.name,
            "address": data.address,
            "interests": data.interests,
            "volunteer_wish": data.volunteer_wish,
            "contact_name": data.contact_name,
            "contact_relation": data.contact_relation,
            "consent_given_by": data.consent_given_by,
            "note": data.note,
        }
    )
    if not data.consent_given_by or data.consent_given_on is None:
        raise PersonError("consent_given_by", "required")
    if data.consent_method not in set(ConsentMethod):
        raise PersonError("consent_method", "required")
    if data.consent_given_on > today:
        raise PersonError("consent_given_on", "in_future")
    if data.wish_gender and data.wish_gender not in set(Gender):
        raise PersonError("wish_gender", "unknown")
    if data.wish_required and not data.wish_gender:
        raise PersonError("wish_gender", "required")
    place = geo.lookup(data.postcode)
    if place is None:
        raise PersonError("postcode", "unknown")
    activities = (
        list(
            db.session.scalars(
                select(ActivityType).where(ActivityType.id.in_(data.activity_type_ids))
            )
        )
        if data.activity_type_ids
        else []
    )
    if len(activities) != len(set(data.activity_type_ids)):
        raise PersonError("activity_type_ids", "unknown")
    consent_changed = (person.consent_given_by, person.consent_given_on, person.consent_method) != (
        data.consent_given_by,
        data.consent_given_on,
        data.consent_method,
    )
    person.organisation_id = data.organisation_id
    person.name = data.name
    person.phone = data.phone or None
    person.email = data.email or None
    person.address = data.address
    person.postcode, person.town, person.lat, person.lon = (
        place.code,
        place.town,
        place.lat,
        place.lon,
    )
    person.local_area_id = data.local_area_id or route_postcode(place.code).local_area_id
    person.activity_types = activities
    person.interests = data.interests
    person.languages = sorted(set(data.languages)) or ["da"]
    person.volunteer_wish = data.volunteer_wish
    person.wish_gender = data.wish_gender
    person.wish_required = data.wish_required
    person.contact_name = data.contact_name or None
    person.contact_relation = data.contact_relation or None
    person.contact_phone = data.contact_phone or None
    person.contact_email = data.contact_email or None
    person.consent_given_by = data.consent_given_by
    person.consent_given_on = data.consent_given_on
    person.consent_method = data.consent_method
    if consent_changed:
        person.consent_recorded_by_id = viewer.id
    person.note = data.note
    _replace_windows(person, data.slots)


def _replace_windows(person: Person, slots: Iterable[tuple[int, int]]) -> None:
    person.windows = [
        PersonWindow(weekday=day, start_time=start, end_time=end)
        for day, start, end in merge_blocks(slots)
    ]


def new_person(viewer: User, data: PersonData, now: datetime) -> Person:
    """A waiting person, not yet committed (``create_person`` and a referral's acceptance)."""
    today = local_today(now)
    person = Person(state=PersonState.WAITING, waiting_since=today, created_by_id=viewer.id)
    _apply(person, data, viewer, today)
    db.session.add(person)
    db.session.flush()
    audit.record("person.created", "person", person.id, actor_id=viewer.id)
    return person


def create_person(viewer: User, data: PersonData, now: datetime) -> Person:
    """Register a person, waiting from today. Commits; raises PersonError, storing nothing."""
    try:
        person = new_person(viewer, data, now)
    except PersonError:
        db.session.rollback()
        raise
    db.session.commit()
    return person


def update_person(viewer: User, person: Person, data: PersonData, now: datetime) -> Person:
    """Change a person's record. Commits; raises PersonError, storing nothing."""
    if not is_staff_of(viewer, person.organisation_id):
        raise NotFound
    # Delete the old windows in their own statement: the unit of work would insert the new
    # rows before deleting the old ones.
    for window in list(person.windows):
        db.session.delete(window)
    db.session.flush()
    try:
        _apply(person, data, viewer, local_today(now))
    except PersonError:
        db.session.rollback()
        raise
    audit.record("person.updated", "person", person.id, actor_id=viewer.id)
    db.session.commit()
    return person


def set_state(person: Person, state: PersonState, today: date) -> None:
    """Move a person between waiting, paired and ended (the forløb will call this). Waiting
    again starts a new waiting time; ended records the date. Does not commit."""
    if state == PersonState.WAITING and person.state != PersonState.WAITING:
        person.waiting_since = today
    if state == PersonState.ENDED:
        person.ended_on = today
    else:
        person.ended_on = None
    person.state = state


def end_person(viewer: User, person: Person, now: datetime) -> None:
    """The coordinator ends the person's registration (they moved, no longer want help).
    Retention anonymises them later. Commits."""
    if not is_staff_of(viewer, person.organisation_id):
        raise NotFound
    from volunteer.pairs import states  # pairs builds on persons
    from volunteer.pairs.models import EndReason

    states.end_for_person(person.id, now, EndReason.PERSON_STOPPED)
    set_state(person, PersonState.ENDED, local_today(now))
    audit.record("person.ended", "person", person.id, actor_id=viewer.id)
    db.session.commit()


def reopen_person(viewer: User, person: Person, now: datetime) -> None:
    """An ended person waits again, from today. Commits."""
    if not is_staff_of(viewer, person.organisation_id):
        raise NotFound
    set_state(person, PersonState.WAITING, local_today(now))
    audit.record("person.reopened", "person", person.id, actor_id=viewer.id)
    db.session.commit()


# Export and erasure on request.


def export_person(viewer: User, person: Person) -> dict[str, list[dict[str, Any]]]:
    """Everything stored about the person (``gdpr.export_helped_person``), with the contact
    fields only where ``can_see_contact`` allows. Audited; commits."""
    if not is_staff_of(viewer, person.organisation_id):
        raise NotFound
    data = gdpr.export_helped_person(person, contact_visible=can_see_contact(viewer, person))
    audit.record("person.exported", "person", person.id, actor_id=viewer.id)
    db.session.commit()
    return data


def erase_person(viewer: User, person: Person, now: datetime) -> None:
    """Erase the person at their (or their relative's) request: ``gdpr.forget_helped_person``.
    Commits."""
    if not is_staff_of(viewer, person.organisation_id):
        raise NotFound
    gdpr.forget_helped_person(person, now, reason="deleted", actor_id=viewer.id)
    db.session.commit()


def ended_before(cutoff: date) -> list[Person]:
    """Persons ended before ``cutoff`` and not yet anonymised (for retention)."""
    return list(
        db.session.scalars(
            select(Person).where(
                and_(
                    Person.state == PersonState.ENDED,
                    Person.ended_on < cutoff,
                    Person.anonymised_at.is_(None),
                )
            )
        )
    )
