"""Small factories for test data: real rows through the models, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from werkzeug.security import generate_password_hash

from volunteer import geo
from volunteer.extensions import db
from volunteer.models import (
    ActivityType,
    Assignment,
    AssignmentSource,
    AssignmentState,
    AvailabilityWindow,
    Centre,
    LocalArea,
    Need,
    NeedStatus,
    Occurrence,
    Organisation,
    Person,
    Proposal,
    Referral,
    Role,
    Schedule,
    User,
    Visit,
    VisitState,
    VolunteerProfile,
)

PASSWORD = "en-lang-god-adgangskode"
# Hashing is deliberately slow; tests share one hash (verification still runs for real).
_HASH = generate_password_hash(PASSWORD)
_counter = itertools.count(1)
CONFIRMED_AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def user(role: Role = Role.VOLUNTEER, postcode: str = "7130", **fields: Any) -> User:
    n = next(_counter)
    fields.setdefault("email", f"person{n}@example.org")
    fields.setdefault("name", f"Person Nummer{n}")
    # Confirmed unless a test says otherwise (``email_confirmed_at=None``).
    fields.setdefault("email_confirmed_at", CONFIRMED_AT)
    u = User(role=role, password_hash=_HASH, **fields)
    if role == Role.VOLUNTEER:
        place = geo.lookup(postcode)
        assert place is not None
        u.profile = VolunteerProfile(
            postcode=place.code, town=place.town, lat=place.lat, lon=place.lon
        )
    db.session.add(u)
    db.session.commit()
    return u


def organisation(name: str | None = None) -> Organisation:
    org = Organisation(name=name or f"Forening {next(_counter)}", kind="association")
    db.session.add(org)
    db.session.commit()
    return org


def local_area(name: str, postcode: str, org: Organisation | None = None) -> LocalArea:
    place = geo.lookup(postcode)
    assert place is not None
    area = LocalArea(name=name, postcode=postcode, lat=place.lat, lon=place.lon, organisation=org)
    db.session.add(area)
    db.session.commit()
    return area


def activity_type(code: str | None = None, child: bool = False) -> ActivityType:
    code = code or f"aktivitet-{next(_counter)}"
    activity = ActivityType(
        code=code, name_da=code.title(), name_en=code.title(), requires_child_certificate=child
    )
    db.session.add(activity)
    db.session.commit()
    return activity


def centre(org: Organisation, postcode: str = "7130", name: str | None = None) -> Centre:
    place = geo.lookup(postcode)
    assert place is not None
    c = Centre(
        name=name or f"Plejecenter {next(_counter)}",
        kind="plejecenter",
        postcode=place.code,
        town=place.town,
        lat=place.lat,
        lon=place.lon,
        organisation=org,
    )
    db.session.add(c)
    db.session.commit()
    return c


def need(
    org: Organisation,
    activity: ActivityType,
    *,
    postcode: str = "7130",
    title: str = "Spiseven til aftensmad",
    **fields: Any,
) -> Need:
    place = geo.lookup(postcode)
    assert place is not None
    values: dict[str, Any] = dict(
        schedule=Schedule.WEEKLY,
        weekday=3,
        start_time=time(17, 30),
        end_time=time(19),
        first_date=date(2026, 11, 2),
        slots=2,
        status=NeedStatus.OPEN,
    )
    values.update(fields)
    n = Need(
        organisation=org,
        activity_type=activity,
        title=title,
        postcode=place.code,
        town=place.town,
        lat=place.lat,
        lon=place.lon,
        **values,
    )
    db.session.add(n)
    db.session.commit()
    return n


# Staff, members, occurrences, assignments and visits.
def coordinator(org: Organisation, **fields) -> User:
    person = user(role=Role.COORDINATOR, **fields)
    person.organisations.append(org)
    db.session.commit()
    return person


def member(org: Organisation, **fields) -> User:
    """A volunteer who lets ``org`` contact them."""
    person = user(**fields)
    person.profile.organisations.append(org)
    db.session.commit()
    return person


def managed(org: Organisation, by: User, **fields: Any) -> User:
    """A volunteer whose account ``by`` (a coordinator of ``org``) keeps: no email, no
    password, not claimed."""
    fields.setdefault("email", None)
    fields.setdefault("email_confirmed_at", None)
    person = member(org, managed_by_id=by.id, **fields)
    person.password_hash = None
    db.session.commit()
    return person


def free_volunteer(org: Organisation | None = None, **fields: Any) -> User:
    """A volunteer free every day 8–22, who travels 50 km and takes up to 5 activities a week
    (a member of ``org`` if given): nothing but the rule under test stands in their way."""
    person = member(org, **fields) if org is not None else user(**fields)
    person.profile.max_km = 50
    person.profile.weekly_capacity = 5
    for weekday in range(7):
        db.session.add(
            AvailabilityWindow(
                profile=person.profile, weekday=weekday, start_time=time(8), end_time=time(22)
            )
        )
    db.session.commit()
    return person


def occurrence(need: Need, starts_at: datetime, hours: float = 1.5) -> Occurrence:
    occ = Occurrence(need=need, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours))
    db.session.add(occ)
    db.session.commit()
    return occ


def assignment(
    need: Need, volunteer: User, state: AssignmentState = AssignmentState.ACCEPTED
) -> Assignment:
    a = Assignment(need=need, volunteer=volunteer, state=state, source=AssignmentSource.MANUAL)
    db.session.add(a)
    db.session.commit()
    return a


def visit(
    occ: Occurrence,
    volunteer: User,
    assignment: Assignment | None = None,
    state: VisitState = VisitState.SCHEDULED,
) -> Visit:
    v = Visit(occurrence=occ, volunteer=volunteer, assignment=assignment, state=state)
    db.session.add(v)
    db.session.commit()
    return v


def person(
    org: Organisation, *activities: ActivityType, postcode: str = "7130", **fields: Any
) -> Person:
    """A waiting person we help, with a consent record."""
    place = geo.lookup(postcode)
    assert place is not None
    n = next(_counter)
    values: dict[str, Any] = dict(
        name=f"Borger Nummer{n}",
        address=f"Strandvejen {n}",
        phone="+45 75 00 00 00",
        consent_given_by=f"Borger Nummer{n}",
        consent_given_on=date(2026, 11, 1),
        consent_method="written",
        waiting_since=date(2026, 11, 1),
    )
    values.update(fields)
    p = Person(
        organisation=org,
        postcode=place.code,
        town=place.town,
        lat=place.lat,
        lon=place.lon,
        activity_types=list(activities),
        **values,
    )
    db.session.add(p)
    db.session.commit()
    return p


def referral(org: Organisation | None, postcode: str = "7130", **fields: Any) -> Referral:
    """A new referral in ``org``'s queue."""
    place = geo.lookup(postcode)
    assert place is not None
    n = next(_counter)
    values: dict[str, Any] = dict(
        referrer_name=f"Datter Nummer{n}",
        referrer_relation="relative",
        referrer_email=f"datter{n}@example.org",
        person_name=f"Mor Nummer{n}",
        person_address=f"Havnegade {n}",
        activity_codes=["spisevenner"],
        consent=True,
    )
    values.update(fields)
    r = Referral(
        organisation=org,
        person_postcode=place.code,
        person_town=place.town,
        **values,
    )
    db.session.add(r)
    db.session.commit()
    return r


def proposal(
    author: User,
    org: Organisation | None,
    *,
    state: str = "received",
    postcode: str = "7130",
    submitted_at: datetime | None = None,
    **fields: Any,
) -> Proposal:
    """A proposal by ``author`` answered by ``org``; sent (``received``) unless ``state``
    says otherwise, with the answer deadline 14 local days after ``submitted_at``."""
    from volunteer.clock import local_today

    place = geo.lookup(postcode)
    assert place is not None
    n = next(_counter)
    values: dict[str, Any] = dict(title=f"Gåklub nummer {n}", what="Vi går en tur hver uge")
    values.update(fields)
    p = Proposal(
        organisation=org,
        postcode=place.code,
        town=place.town,
        state=state,
        created_by_id=author.id,
        **values,
    )
    if state != "draft":
        p.submitted_at = submitted_at or datetime.now(UTC)
        p.answer_deadline = local_today(p.submitted_at) + timedelta(days=14)
    db.session.add(p)
    db.session.commit()
    return p
