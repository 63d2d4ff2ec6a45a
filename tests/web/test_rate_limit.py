"""Login, registration and password reset are throttled per client address."""

from __future__ import annotations

import socket

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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens


def test_with_redis_unreachable_logins_still_work_and_are_still_limited(tmp_path, caplog):
    """The counters' store is down: visitors are not refused with errors (each node counts in
    its own memory instead), and the eleventh bad password is still refused."""
    pytest.importorskip("redis")
    app_iter = make_app(
        "sqlite",
        tmp_path,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}/0",
    )
    app = next(app_iter)
    try:
        client = app.test_client()
        user = factories.user()
        good = client.post(
            "/konto/log-ind", data={"email": user.email, "password": factories.PASSWORD}
        )
        assert good.status_code == 302
        client.post("/konto/log-ud")
        statuses = [
            client.post(
                "/konto/log-ind", data={"email": user.email, "password": "forkert"}
            ).status_code
            for _ in range(10)
        ]
        assert statuses == [200] * 9 + [429]
    finally:
        next(app_iter, None)
