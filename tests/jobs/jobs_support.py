"""Factories for the job tests: visits on a given local day, UTC instants."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from support import factories
from volunteer.clock import local_to_utc
from volunteer.extensions import db
from volunteer.models import Centre, Need, Occurrence, Role, User, Visit


def visit(
    day: date,
    at: time = time(17),
    *,
    hours: int = 2,
    volunteer: User | None = None,
    need: Need | None = None,
    centre: Centre | None = None,
    **fields: Any,
) -> Visit:
    """A scheduled visit at ``day`` ``at`` Copenhagen time (a new need when none is given)."""
    if need is None:
        org = centre.organisation if centre is not None else factories.organisation()
        need = factories.need(org, factories.activity_type(), centre=centre, title="Spiseven")
    volunteer = volunteer or factories.user(Role.VOLUNTEER)
    starts_at = local_to_utc(day, at)
    occurrence = Occurrence(
        need=need, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours)
    )
    v = Visit(occurrence=occurrence, volunteer=volunteer, **fields)
    db.session.add(v)
    db.session.commit()
    return v


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)
