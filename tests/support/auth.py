"""Logging in through the real login form: the one way tests sign a person in."""

from __future__ import annotations

from flask.testing import FlaskClient

from support.factories import PASSWORD
from volunteer.auth.models import User


def log_in(
    client: FlaskClient,
    user: User | str,
    password: str = PASSWORD,
    *,
    csrf_token: str | None = None,
) -> None:
    """Sign ``user`` (a factory user, or an email address) in on ``client``; with
    ``csrf_token`` when the app checks CSRF (as production does)."""
    email = user if isinstance(user, str) else user.email
    data = {"email": email, "password": password}
    if csrf_token is not None:
        data["csrf_token"] = csrf_token
    response = client.post("/konto/log-ind", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
