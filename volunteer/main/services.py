from __future__ import annotations

from volunteer.auth.models import User
from volunteer.extensions import db


def set_locale(user: User, locale: str) -> None:
    """Remember the user's language for pages and emails. Commits."""
    user.locale = locale
    db.session.commit()
