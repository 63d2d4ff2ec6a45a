"""The public pages: Danish by default, English on request, safe headers, kind errors."""

from __future__ import annotations

from datetime import date, time

import pytest
from flask import abort
from sqlalchemy.exc import OperationalError

from support import count_queries, factories
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.needs.services import sync_occurrences


@pytest.fixture
def open_need(app):
    org, activity = (
        factories.organisation("Hedensted Kommune"),
        factories.activity_type("spisevenner"),
    )
    need = factories.need(
        org, activity, title="Spiseven på Bakkegården", first_date=date(2026, 1, 1)
    )
    sync_occurrences(need, utcnow().date())
    db.session.commit()
    return need


def test_front_page_is_danish_and_lists_open_needs(client, open_need):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="da">' in page
    assert "Gør en forskel der, hvor du bor" in page
    assert "Spiseven på Bakkegården" in page
    assert "Hver torsdag kl. 17.30–19.00" in page
    assert "Næste gang: torsdag den" in page
    assert "2 frivillige søges" in page


def test_drafts_and_needs_without_future_dates_are_not_listed(client, app):
    org, activity = factories.organisation(), factories.activity_type()
    factories.need(org, activity, title="Kladde", status="draft")
    factories.need(
        org,
        activity,
        title="Forbi",
        schedule="once",
        weekday=date(2020, 1, 1).weekday(),
        first_date=date(2020, 1, 1),
    )
    page = client.get("/opgaver/").get_data(as_text=True)
    assert "Kladde" not in page and "Forbi" not in page
    assert "0 aktiviteter mangler frivillige." in page


def test_need_page_shows_town_dates_and_no_address(client, open_need):
    open_need.address = "Bakkevej 12, 2. tv."
    db.session.commit()
    page = client.get(f"/opgaver/{open_need.id}").get_data(as_text=True)
    assert "7130 Juelsminde" in page
    assert "Bakkevej 12" not in page
    assert page.count("(uge ") >= 4


def test_a_draft_need_page_is_not_found(client, app):
    need = factories.need(factories.organisation(), factories.activity_type(), status="draft")
    assert client.get(f"/opgaver/{need.id}").status_code == 404


def test_language_switch_to_english_and_back(client, open_need):
    response = client.post("/sprog", data={"locale": "en", "next": "/opgaver/"})
    assert response.headers["Location"] == "/opgaver/"
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Make a difference where you live" in page
    client.post("/sprog", data={"locale": "da"})
    assert "Gør en forskel" in client.get("/").get_data(as_text=True)


def test_language_switch_ignores_foreign_next_and_unknown_languages(client, app):
    response = client.post("/sprog", data={"locale": "xx", "next": "//evil.example"})
    assert response.headers["Location"] == "/"
    assert '<html lang="da">' in client.get("/").get_data(as_text=True)


def test_a_logged_in_users_language_is_saved(client, app):
    user = factories.user()
    client.post("/konto/log-ind", data={"email": user.email, "password": factories.PASSWORD})
    client.post("/sprog", data={"locale": "en"})
    db.session.refresh(user)
    assert user.locale == "en"


def test_security_headers(client, app):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client, open_need):
    for url in ("/", "/opgaver/", f"/opgaver/{open_need.id}", "/konto/opret", "/om"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and "<style" not in page and " style=" not in page


def test_about_page_credits_geonames(client, app):
    page = client.get("/om").get_data(as_text=True)
    assert "GeoNames" in page and "CC BY 4.0" in page


def test_bootstrap_is_served_locally(client, app):
    page = client.get("/").get_data(as_text=True)
    assert "cdn" not in page.lower()
    with client.get("/bootstrap/static/css/bootstrap.min.css") as response:
        assert response.status_code == 200


def test_404_is_danish(client, app):
    response = client.get("/findes-ikke")
    assert response.status_code == 404
    assert "Vi kan ikke finde siden" in response.get_data(as_text=True)


def test_unexpected_errors_give_a_danish_500_without_a_traceback(app, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    client = app.test_client()
    response = client.get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Der gik noget galt hos os" in page
    assert "secret internals" not in page and "Traceback" not in page
    assert "secret internals" in caplog.text
    assert client.get("/forbidden").status_code == 403


def test_oversized_bodies_are_refused(client, app):
    response = client.post("/konto/log-ind", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "for meget tekst" in response.get_data(as_text=True)


def test_health_check(client, app):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readiness_check_reports_the_database(client, app, monkeypatch):
    assert client.get("/readyz").json == {"status": "ok", "database": "ok"}

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(db.session, "execute", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "unreachable"}


def test_front_page_query_count_does_not_grow_with_needs(client, app):

    org, activity = factories.organisation(), factories.activity_type()
    for i in range(12):
        need = factories.need(org, activity, title=f"Opgave {i}", first_date=date(2026, 1, 1))
        sync_occurrences(need, utcnow().date())
    db.session.commit()
    few = count_queries(client, "/")
    many = count_queries(client, "/opgaver/")
    assert few <= 4 and many <= 6, (few, many)


def test_times_on_pages_are_local_time(client, app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity, start_time=time(9), end_time=time(10))
    sync_occurrences(need, utcnow().date())
    db.session.commit()
    page = client.get(f"/opgaver/{need.id}").get_data(as_text=True)
    assert "kl. 09.00–10.00" in page
    assert page.count("09.00–10.00") >= 3


def test_every_page_links_a_favicon_that_is_served(client, open_need):
    for url in ("/", "/om", f"/opgaver/{open_need.id}", "/findes-ikke"):
        page = client.get(url).get_data(as_text=True)
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page, url
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert icon.data.startswith(b"<svg") and b"<title>Samskab</title>" in icon.data
        # What browsers ask for without reading the page:
        with client.get("/favicon.ico") as asked:
            assert asked.status_code == 200 and asked.mimetype == "image/svg+xml"
            assert asked.data == icon.data
