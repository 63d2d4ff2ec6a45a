"""Login, registration and password reset are throttled per client address."""

from __future__ import annotations

import pytest

import factories
from support import make_app


@pytest.fixture
def limited_app(backend, tmp_path):
    yield from make_app(backend, tmp_path, RATELIMIT_ENABLED=True)


def test_the_eleventh_bad_password_in_a_minute_gets_429(limited_app):
    client = limited_app.test_client()
    user = factories.user()
    for _ in range(10):
        response = client.post("/konto/log-ind", data={"email": user.email, "password": "forkert"})
        assert response.status_code == 200
    response = client.post("/konto/log-ind", data={"email": user.email, "password": "forkert"})
    assert response.status_code == 429
    assert "For mange forsøg" in response.get_data(as_text=True)
    # Looking at the login page is not limited; only attempts are.
    assert client.get("/konto/log-ind").status_code == 200


def test_password_reset_requests_are_limited(limited_app):
    client = limited_app.test_client()
    statuses = [
        client.post("/konto/glemt-adgangskode", data={"email": "a@example.org"}).status_code
        for _ in range(6)
    ]
    assert statuses == [302] * 5 + [429]
