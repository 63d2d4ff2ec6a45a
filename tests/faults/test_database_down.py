"""When the database is unavailable the visitor gets a calm Danish "busy, try again" page
(503 with Retry-After), never a stack trace or a 500; nothing half-written remains; and the site
works again by itself as soon as the database is back."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from faults_support import BUSY, assert_busy_page
from sqlalchemy import func, select

import volunteer.db
from support import PG_SKIP, PG_URL, IsolatedClient, base_config, factories, make_app
from support.auth import log_in
from volunteer import create_app
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import AwayPeriod, User


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """An app on a database file in its own directory, waiting only 50 ms for a lock (the
    5 s default would make a locked database merely slow, and this test slow)."""
    monkeypatch.setattr(volunteer.db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    folder = tmp_path / "data"
    folder.mkdir()
    app = create_app(
        base_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{folder / 'samskab.db'}")
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_sqlite_file_gone_then_back(sqlite_app, tmp_path):
    client = sqlite_app.test_client()
    need = factories.need(factories.organisation(), factories.activity_type(), title="Spiseven")
    page = f"/opgaver/{need.id}"
    assert "Spiseven" in client.get(page).get_data(as_text=True)

    # The disk (or its mount) goes away: close the pooled connections so the next request must
    # open the file, which is no longer there.
    db.session.remove()
    db.engine.dispose()
    (tmp_path / "data").rename(tmp_path / "away")
    assert_busy_page(client.get(page))
    assert_busy_page(client.get("/"))

    # Back again: the very next request works, nobody restarted anything.
    (tmp_path / "away").rename(tmp_path / "data")
    response = client.get(page)
    assert response.status_code == 200
    assert "Spiseven" in response.get_data(as_text=True)


def test_sqlite_locked_by_another_writer(sqlite_app, tmp_path):
    user = factories.user()
    client = sqlite_app.test_client()
    log_in(client, user)
    start = utcnow().date() + timedelta(days=10)
    form = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=3)).isoformat()}
    db.session.remove()

    # Another process (a migration, the scheduler, a backup) holds the write lock.
    other = sqlite3.connect(tmp_path / "data" / "samskab.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        # A logged-in user, whose row is expired by the rollback: the page must not need it.
        assert_busy_page(client.post("/min-side/fravaer", data=form))
    finally:
        other.execute("ROLLBACK")
        other.close()

    # Nothing half-written, and the same form now goes through.
    assert db.session.scalar(select(func.count()).select_from(AwayPeriod)) == 0
    response = client.post("/min-side/fravaer", data=form)
    assert response.status_code == 302
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(AwayPeriod)) == 1


@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
def test_postgresql_unreachable_then_reachable(tmp_path):
    # Port 1: nothing listens, so every connection is refused at once (the real server keeps
    # running; other tests share it).
    down = create_app(
        base_config(
            tmp_path,
            SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:1/samskab",
        )
    )
    client = down.test_client()
    for url in ("/", "/opgaver/", "/opgaver/1"):
        assert_busy_page(client.get(url))
    signup = {
        "name": "Ole Olsen",
        "email": "ole@example.org",
        "postcode": "8722",
        "password": "rugbroed-og-ost-42",
        "password_confirm": "rugbroed-og-ost-42",
        "consent": "y",
    }
    assert_busy_page(client.post("/konto/opret", data=signup))
    with down.app_context():
        db.engine.dispose()

    # The same code against the reachable server answers normally.
    for good in make_app("postgresql", tmp_path):
        good_client = good.test_client()
        assert good_client.get("/opgaver/").status_code == 200
        assert good_client.post("/konto/opret", data=signup).status_code == 302
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_bug_in_a_query_is_still_a_500(app, monkeypatch):
    """Only "cannot reach the database" is a 503; a broken query is our fault, and says so."""
    from sqlalchemy.exc import IntegrityError

    from volunteer.needs import services

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    monkeypatch.setattr(services, "search_open_needs", broken)
    response = app.test_client().get("/opgaver/")
    assert response.status_code == 500
    assert BUSY not in response.get_data(as_text=True)
