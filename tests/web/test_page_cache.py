"""Public pages are cached briefly for anonymous visitors, never for logged-in users."""

from __future__ import annotations

from datetime import date

import pytest

from support import factories, make_app
from volunteer import caching
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.needs.services import sync_occurrences


@pytest.fixture
def cached_app(backend, tmp_path):
    yield from make_app(backend, tmp_path, ANONYMOUS_PAGE_CACHE_S=30)


def _need(title):
    need = factories.need(
        factories.organisation(),
        factories.activity_type(),
        title=title,
        first_date=date(2026, 1, 1),
    )
    sync_occurrences(need, utcnow().date())
    db.session.commit()
    return need


def test_anonymous_visitors_share_a_copy_for_a_few_seconds(cached_app, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock[0])
    client = cached_app.test_client()
    _need("Første opgave")
    assert "Første opgave" in client.get("/opgaver/").get_data(as_text=True)
    _need("Anden opgave")
    assert "Anden opgave" not in client.get("/opgaver/").get_data(as_text=True)
    # Another filter, or another language, is another page.
    assert "Anden opgave" in client.get("/opgaver/?q=opgave").get_data(as_text=True)
    clock[0] += 31
    assert "Anden opgave" in client.get("/opgaver/").get_data(as_text=True)


def test_logged_in_users_always_get_a_fresh_page(cached_app):
    client = cached_app.test_client()
    _need("Første opgave")
    client.get("/opgaver/")
    user = factories.user()
    client.post("/konto/log-ind", data={"email": user.email, "password": factories.PASSWORD})
    _need("Anden opgave")
    assert "Anden opgave" in client.get("/opgaver/").get_data(as_text=True)


def test_public_pages_set_no_cookie_and_hold_no_token(cached_app):
    need = _need("Første opgave")
    client = cached_app.test_client()
    for url in ("/", "/opgaver/", f"/opgaver/{need.id}"):
        response = client.get(url)
        assert "Set-Cookie" not in response.headers, url
        assert "csrf_token" not in response.get_data(as_text=True), url


def test_another_language_is_another_page(cached_app):
    client = cached_app.test_client()
    client.get("/opgaver/")
    client.post("/sprog", data={"locale": "en", "next": "/opgaver/"})
    assert '<html lang="en">' in client.get("/opgaver/").get_data(as_text=True)


def test_a_visitor_with_a_message_waiting_gets_a_fresh_page(cached_app):
    client = cached_app.test_client()
    client.get("/opgaver/")
    client.post("/konto/glemt-adgangskode", data={"email": "nobody@example.org"})
    page = client.get("/opgaver/").get_data(as_text=True)
    assert "Hvis der findes en konto med den e-mail" in page
    assert "Hvis der findes en konto" not in client.get("/opgaver/").get_data(as_text=True)
