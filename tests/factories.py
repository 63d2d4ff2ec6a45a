"""Small factories for test data: real rows through the models, with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import date, time
from typing import Any

from werkzeug.security import generate_password_hash

from volunteer import geo
from volunteer.extensions import db
from volunteer.models import (
    ActivityType,
    Centre,
    Need,
    NeedStatus,
    Organisation,
    Role,
    Schedule,
    User,
    VolunteerProfile,
)

PASSWORD = "en-lang-god-adgangskode"
# Hashing is deliberately slow; tests share one hash (verification still runs for real).
_HASH = generate_password_hash(PASSWORD)
_counter = itertools.count(1)


def user(role: Role = Role.VOLUNTEER, postcode: str = "7130", **fields: Any) -> User:
    n = next(_counter)
    fields.setdefault("email", f"person{n}@example.org")
    fields.setdefault("name", f"Person Nummer{n}")
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
