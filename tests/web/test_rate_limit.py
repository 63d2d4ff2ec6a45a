"""Login, registration and password reset are throttled per client address."""

from __future__ import annotations

import socket

import pytest

from support import factories, make_app
from volunteer.extensions import limiter


def _fresh_counters(app):
    """Flask-Limiter keeps one state per process (production has one app per process; these
    tests make many): start each test with no attempts counted and the storage taken as alive
    (the Redis-down test leaves it marked dead, which Flask-Limiter only rechecks now and then;
    there is no public call for that)."""
    limiter._storage_dead = False
    limiter.reset()
    return app


@pytest.fixture
def limited_app(backend, tmp_path):
    for app in make_app(backend, tmp_path, RATELIMIT_ENABLED=True):
        yield _fresh_counters(app)


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
    limiter._storage_dead = False  # as _fresh_counters, but there is no storage to reset
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
        limiter._storage_dead = False
        next(app_iter, None)


def _bad_logins(client, email: str, count: int, forwarded_for: str | None = None) -> list[int]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return [
        client.post(
            "/konto/log-ind", data={"email": email, "password": "forkert"}, headers=headers
        ).status_code
        for _ in range(count)
    ]


def test_without_a_proxy_a_forged_forwarded_for_does_not_reset_the_limit(limited_app):
    client = limited_app.test_client()
    user = factories.user()
    assert _bad_logins(client, user.email, 10, "203.0.113.1") == [200] * 10
    # A new made-up address per attempt is ignored: the limit is on the real peer address.
    assert _bad_logins(client, user.email, 1, "203.0.113.2") == [429]


def test_behind_one_proxy_each_client_address_has_its_own_limit(backend, tmp_path):
    app_iter = make_app(backend, tmp_path, RATELIMIT_ENABLED=True, PROXY_HOPS=1)
    app = _fresh_counters(next(app_iter))
    try:
        client = app.test_client()
        user = factories.user()
        assert _bad_logins(client, user.email, 11, "203.0.113.7") == [200] * 10 + [429]
        assert _bad_logins(client, user.email, 1, "203.0.113.8") == [200]
        # The scheme comes from the proxy too: redirects stay on https.
        response = client.get(
            "/min-side/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "frivillig.dk"}
        )
        assert response.status_code == 302
        assert response.headers["Location"].startswith(("https://frivillig.dk/", "/konto/log-ind"))
    finally:
        next(app_iter, None)
