"""Helpers for the attack tests: what the database holds, and logging in through the form."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from support import csrf_token_from
from support.auth import log_in
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import ActivityType, Organisation

STRONG_PASSWORD = "rugbroed-og-ost-42"


def row_counts() -> dict[str, int]:
    """Rows per table: a refused or re-shown request must leave every number as it was."""
    db.session.rollback()  # see what the requests committed, not this session's snapshot
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: "changed nothing" means this is equal."""
    db.session.rollback()
    return {
        table.name: sorted(
            (tuple(repr(v) for v in row) for row in db.session.execute(select(table))),
        )
        for table in db.metadata.sorted_tables
    }


def login_with_token(client, user) -> str:  # type: ignore[no-untyped-def]
    """Log in as production does (with the form's CSRF token); return the new session's token."""
    token = csrf_token_from(client.get("/konto/log-ind").get_data(as_text=True))
    log_in(client, user, csrf_token=token)
    # The login starts a fresh session (no fixation), so the token changes: read it again.
    return csrf_token_from(client.get("/om").get_data(as_text=True))


def first_id(model: type) -> int:
    return db.session.scalar(select(model.id).order_by(model.id))  # type: ignore[attr-defined]


def future(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def need_form_data() -> dict[str, Any]:
    """A need a coordinator of the world's first organisation may save (valid as it stands)."""
    return {
        "organisation_id": first_id(Organisation),
        "activity_type_id": first_id(ActivityType),
        "title": "Højtlæsning",
        "description": "Læs avisen højt for en beboer.",
        "centre_id": 0,
        "postcode": "7130",
        "address": "",
        "local_area_id": 0,
        "schedule": "weekly",
        "weekday": 2,
        "first_date": future(7),
        "last_date": "",
        "start_time": "10:00",
        "end_time": "11:30",
        "slots": 2,
    }


def today() -> date:
    return utcnow().date()
