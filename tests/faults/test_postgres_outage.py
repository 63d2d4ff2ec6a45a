"""PostgreSQL stops while the app runs, then starts again: the SAME app (same engine, same pool)
answers with the Danish "busy, try again" page while it is down, writes nothing half, and
serves normally again once it is back, without a restart.

A TCP proxy (tests/faults/faults_support.py) stands between the app and the real server, so
"stopping" the database cuts every live connection, the idle ones in the pool included, and
resets new ones; the real server keeps running for the other tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, time
from typing import Any

import pytest
from faults_support import DatabaseProxy, assert_busy_page
from flask import Flask
from sqlalchemy import event, func, select

from support import (
    PG_SCHEMA,
    PG_SKIP,
    PG_URL,
    IsolatedClient,
    base_config,
    ensure_pg_schema,
    factories,
    pg_url_with_schema,
)
from support.auth import log_in
from volunteer import create_app
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import (
    Assignment,
    AuditEvent,
    Need,
    NeedStatus,
    User,
    Visit,
    VolunteerProfile,
)
from volunteer.needs.services import sync_occurrences
from volunteer.volunteers.models import AvailabilityWindow

pytestmark = pytest.mark.skipif(not PG_URL, reason=PG_SKIP)

NEW_VOLUNTEER = {
    "name": "Ole Olsen",
    "email": "ole@example.org",
    "postcode": "8722",
    "password": "rugbroed-og-ost-42",
    "password_confirm": "rugbroed-og-ost-42",
    "consent": "y",
}


@pytest.fixture
def proxy() -> Iterator[DatabaseProxy]:
    assert PG_URL
    proxy = DatabaseProxy(PG_URL)
    yield proxy
    proxy.close()


@pytest.fixture
def app(proxy: DatabaseProxy, tmp_path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """The app on the per-run test schema, reaching PostgreSQL only through the proxy."""
    assert PG_URL
    ensure_pg_schema(PG_URL, PG_SCHEMA, fresh=False)
    app = create_app(
        base_config(tmp_path, SQLALCHEMY_DATABASE_URI=pg_url_with_schema(proxy.url, PG_SCHEMA))
    )
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"]  # what recovery rests on
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        proxy.start()  # a failed test may have left it stopped
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """An open weekly need with future dates, and a volunteer who may sign up for it."""
    org = factories.organisation("Hedensted Kommune")
    need = factories.need(
        org, factories.activity_type("spisevenner"), title="Spiseven", first_date=date(2026, 1, 1)
    )
    sync_occurrences(need, utcnow().date())
    volunteer = factories.user(name="Karen Frivillig")
    volunteer.profile.availability = [
        AvailabilityWindow(weekday=need.weekday, start_time=time(16), end_time=time(21))
    ]
    volunteer.profile.max_km = 50
    db.session.commit()
    world = {"need": need.id, "volunteer": volunteer.email}
    db.session.remove()  # the test body holds no connection the outage would have to cut
    return world


def counts() -> dict[str, int]:
    """Rows in the tables registration and sign-up write."""
    db.session.remove()
    result = {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (User, VolunteerProfile, AuditEvent, Assignment, Visit)
    }
    db.session.remove()
    return result


@contextmanager
def fault_at(
    proxy_action: Callable[[], None], *, statement: str | None = None, commit: bool = False
) -> Iterator[list[str]]:
    """Run ``proxy_action`` (cut the connections, or stop the server) inside the request's
    transaction: just before the first statement starting with ``statement`` is sent, or just
    before the COMMIT. Yields the statements it fired on (the test checks it did fire)."""
    fired: list[str] = []
    engine = db.engine

    def before_statement(conn, cursor, sql, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement and not fired and sql.lstrip().upper().startswith(statement):
            fired.append(sql)
            proxy_action()

    def before_commit(conn):  # type: ignore[no-untyped-def]
        if commit and not fired:
            fired.append("COMMIT")
            proxy_action()

    event.listen(engine, "before_cursor_execute", before_statement)
    event.listen(engine, "commit", before_commit)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before_statement)
        event.remove(engine, "commit", before_commit)


def test_database_stops_and_starts_under_the_same_app(app, proxy, world):
    need_page = f"/opgaver/{world['need']}"
    anonymous = app.test_client()
    volunteer = app.test_client()
    log_in(volunteer, world["volunteer"])

    # Up: normal service, and the pool holds connections (which the outage must cut).
    for url in ("/", "/opgaver/", need_page):
        assert anonymous.get(url).status_code == 200
    assert volunteer.get("/min-side/").status_code == 200
    before = counts()
    assert proxy.connections >= 1

    proxy.stop()

    # Every page that reads the database: the calm Danish 503, for visitors and the logged in.
    for url in ("/", "/opgaver/", need_page, "/opgaver/?q=spise"):
        assert_busy_page(anonymous.get(url))
    for url in ("/min-side/", need_page, "/koordinator/"):
        assert_busy_page(volunteer.get(url))
    # Writes in progress: registration, a sign-up, a login. Each is refused whole.
    assert_busy_page(anonymous.post("/konto/opret", data=NEW_VOLUNTEER))
    assert_busy_page(volunteer.post(f"{need_page}/tilmeld"))
    assert_busy_page(
        app.test_client().post(
            "/konto/log-ind",
            data={"email": world["volunteer"], "password": factories.PASSWORD},
        )
    )
    # What does not need the database keeps working: liveness, static files, plain pages.
    assert anonymous.get("/healthz").status_code == 200
    with anonymous.get("/static/css/samskab.css") as static:
        assert static.status_code == 200
    assert anonymous.get("/om").status_code == 200
    assert anonymous.get("/readyz").status_code == 503  # readiness tells the load balancer
    assert proxy.refused >= 1  # the app really tried to reconnect, and was turned away

    proxy.start()

    # The very next requests work: the same app, the same pool, nobody restarted anything.
    response = anonymous.get(need_page)
    assert response.status_code == 200 and "Spiseven" in response.get_data(as_text=True)
    assert volunteer.get("/min-side/").status_code == 200  # the login survived the outage
    assert anonymous.get("/readyz").status_code == 200
    # Nothing of the refused writes reached the database ...
    assert counts() == before
    # ... and the same forms go through now, whole.
    assert anonymous.post("/konto/opret", data=NEW_VOLUNTEER).status_code == 302
    assert volunteer.post(f"{need_page}/tilmeld").status_code == 302
    after = counts()
    assert after["User"] == before["User"] + 1
    assert after["VolunteerProfile"] == before["VolunteerProfile"] + 1
    assert after["Assignment"] == 1 and after["Visit"] >= 1


@pytest.mark.parametrize("outage", ["restart", "cut"])
def test_a_restart_between_requests_is_invisible(app, proxy, world, outage):
    """The server restarts (or the connections drop) while nobody is asking: every pooled
    connection is dead, but pool_pre_ping notices at checkout and opens a fresh one, so the
    next visitor gets the page, not an error."""
    client = app.test_client()
    log_in(client, world["volunteer"])
    url = f"/opgaver/{world['need']}"
    assert client.get(url).status_code == 200
    made = proxy.connections
    if outage == "restart":
        proxy.stop()
        proxy.start()
    else:
        proxy.kill_connections()
    for _ in range(3):
        assert client.get(url).status_code == 200
    assert client.post(f"{url}/tilmeld").status_code == 302
    assert proxy.connections > made  # the dead connections were replaced, not reused
    assert counts()["Assignment"] == 1


def test_a_second_outage_and_recovery(app, proxy, world):
    """Recovery is not a one-off: down, up, down, up, on one app."""
    client = app.test_client()
    url = f"/opgaver/{world['need']}"
    for _ in range(2):
        assert client.get(url).status_code == 200
        proxy.stop()
        assert_busy_page(client.get(url))
        proxy.start()
    assert client.get(url).status_code == 200


# Where the connection dies inside one request's transaction. Registration inserts the user and
# the profile, then the audit event, then commits; a sign-up locks the need, inserts the
# assignment, then the visits, updates the need, and commits.
REGISTRATION_FAULTS = {
    "registration, after user and profile": {"statement": "INSERT INTO AUDIT_EVENTS"},
    "registration, at commit": {"commit": True},
}
SIGNUP_FAULTS = {
    "sign-up, after the assignment": {"statement": "INSERT INTO VISITS"},
    "sign-up, at commit": {"commit": True},
}


@pytest.mark.parametrize("outage", ["cut", "stop"])
@pytest.mark.parametrize("where", list(REGISTRATION_FAULTS))
def test_registration_loses_its_connection_mid_transaction(app, proxy, world, where, outage):
    action = proxy.kill_connections if outage == "cut" else proxy.stop
    client = app.test_client()
    before = counts()
    with fault_at(action, **REGISTRATION_FAULTS[where]) as fired:
        assert_busy_page(client.post("/konto/opret", data=NEW_VOLUNTEER))
    assert fired
    if outage == "stop":
        assert_busy_page(client.get("/opgaver/"))
        proxy.start()
    # The user saw "try again"; the database holds nothing of the attempt.
    assert counts() == before
    response = client.post("/konto/opret", data=NEW_VOLUNTEER)
    assert response.status_code == 302
    after = counts()
    assert after["User"] == before["User"] + 1
    assert after["VolunteerProfile"] == before["VolunteerProfile"] + 1
    assert after["AuditEvent"] == before["AuditEvent"] + 1


@pytest.mark.parametrize("outage", ["cut", "stop"])
@pytest.mark.parametrize("where", list(SIGNUP_FAULTS))
def test_sign_up_loses_its_connection_mid_transaction(app, proxy, world, where, outage):
    action = proxy.kill_connections if outage == "cut" else proxy.stop
    client = app.test_client()
    log_in(client, world["volunteer"])
    need_page = f"/opgaver/{world['need']}"
    before = counts()
    with fault_at(action, **SIGNUP_FAULTS[where]) as fired:
        assert_busy_page(client.post(f"{need_page}/tilmeld"))
    assert fired
    if outage == "stop":
        proxy.start()
    # No assignment without its visits (or the reverse), no audit event, the need unchanged;
    # and the lock on the need died with the connection, so the retry does not wait for it.
    assert counts() == before
    assert db.session.get(Need, world["need"]).status == NeedStatus.OPEN
    db.session.remove()
    response = client.post(f"{need_page}/tilmeld", follow_redirects=True)
    assert response.status_code == 200
    assert "Du er tilmeldt. Tak!" in response.get_data(as_text=True)
    after = counts()
    assert after["Assignment"] == 1 and after["Visit"] >= 1
