from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from volunteer.auth.models import User
from volunteer.extensions import db


def set_locale(user: User, locale: str) -> None:
    """Remember the user's language for pages and emails. Commits."""
    user.locale = locale
    db.session.commit()


def database_ready() -> bool:
    """Whether the database answers a trivial query (for a load balancer's readiness check)."""
    try:
        db.session.execute(text("SELECT 1"))
    except DBAPIError:
        db.session.rollback()
        return False
    return True
