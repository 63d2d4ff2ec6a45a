"""The mail server is down, stuck or drops the line: the site keeps working.

Every page that causes an email only writes the outbox in its own transaction, so registration,
a password reset, signing up, leaving, and the coordinators' actions answer at once whatever the
SMTP server does. The ``dispatch_outbox`` job then fails softly (messages stay pending, nothing
lost, nothing marked sent), and once the server is back each message is delivered exactly once.

(tests/jobs/test_outbox.py covers the delivery rules themselves: rejections and their backoff,
claims, a refused connection in ``delivery.dispatch``.)
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from faults_support import BadSMTPServer
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from support import factories
from support.auth import log_in
from support.smtp import SMTPSink, free_port
from volunteer.coordination import runs
from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.models import (
    Assignment,
    AssignmentState,
    JobRun,
    OutboxMessage,
    OutboxState,
    Role,
    User,
)
from volunteer.needs.services import sync_occurrences
from volunteer.scheduler import run_job
from volunteer.volunteers.models import AvailabilityWindow

# How long dispatch waits for a silent server (short: the tests wait it out).
SMTP_TIMEOUT_S = 1
# A page that queues mail answers well within this (in practice in tens of milliseconds).
QUICK_S = 5
BACKOFF_S = 120


@pytest.fixture
def now() -> datetime:
    """A minute ahead: the messages written during the test are due by then."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


@pytest.fixture
def smtp_port(app: Flask) -> int:
    """The app delivers to a port where, for now, nobody listens."""
    port = free_port()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_TIMEOUT_S=SMTP_TIMEOUT_S,
        OUTBOX_BACKOFF_S=BACKOFF_S,
    )
    return port


class SMTPBack:
    """The real mail server coming back on the port the app was told to use."""

    def __init__(self, port: int) -> None:
        self.sink = SMTPSink()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    """One organisation with a coordinator, two needs with one place each, three volunteers
    (the third a member the matching can propose)."""
    org = factories.organisation("Hedensted Kommune")
    activity = factories.activity_type("spisevenner")
    coordinator = factories.user(Role.COORDINATOR, organisations=[org])
    needs = {}
    for title in ("Spiseven i Juelsminde", "Spiseven i Hedensted"):
        need = factories.need(org, activity, title=title, slots=1, first_date=date(2026, 1, 1))
        sync_occurrences(need, utcnow().date())
        needs[title] = need.id
    people = {}
    for name in ("Ole Olsen", "Per Persen", "Karen Jensen"):
        person = factories.user(name=name)
        person.profile.availability = [
            AvailabilityWindow(weekday=3, start_time=clock(16), end_time=clock(21))
        ]
        person.profile.max_km = 50
        if name == "Karen Jensen":
            person.profile.organisations.append(org)
        people[name] = person.email
    db.session.commit()
    return {
        "org": org.id,
        "coordinator": coordinator.email,
        "juelsminde": needs["Spiseven i Juelsminde"],
        "hedensted": needs["Spiseven i Hedensted"],
        **people,
    }


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def timed(client_call, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The response, checked to be quick and not an error (2xx or a redirect)."""
    started = time.monotonic()
    response = client_call(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert response.status_code < 400, response.get_data(as_text=True)[-1500:]
    assert elapsed < QUICK_S, f"{elapsed:.2f}s: did the request wait for SMTP?"
    return response


def use_the_site(app: Flask, world: dict[str, Any]) -> dict[str, int]:
    """Everything that queues an email, through the web, as people would. Returns how many
    messages each step added to the outbox."""
    added: dict[str, int] = {}

    def step(name: str, client: FlaskClient, method: str, url: str, **kwargs: Any) -> None:
        before = len(outbox())
        timed(getattr(client, method), url, **kwargs)
        added[name] = len(outbox()) - before

    visitor = app.test_client()
    step(
        "registration",
        visitor,
        "post",
        "/konto/opret",
        data={
            "name": "Ny Frivillig",
            "email": "ny@example.org",
            "postcode": "8722",
            "password": "rugbroed-og-ost-42",
            "password_confirm": "rugbroed-og-ost-42",
            "consent": "y",
        },
    )
    step(
        "password reset",
        app.test_client(),
        "post",
        "/konto/glemt-adgangskode",
        data={"email": world["Ole Olsen"]},
    )
    need = f"/opgaver/{world['hedensted']}"
    ole, per = app.test_client(), app.test_client()
    log_in(ole, world["Ole Olsen"])
    log_in(per, world["Per Persen"])
    step("sign-up", ole, "post", f"{need}/tilmeld")
    step("sign-up, waiting list", per, "post", f"{need}/tilmeld")
    oles = db.session.scalar(select(Assignment.id).where(Assignment.state == "accepted"))
    # Ole leaves: the coordinator is told, and the place is offered to Per.
    step("leaving", ole, "post", f"/min-side/aftaler/{oles}/meld-fra")

    coordinator = app.test_client()
    log_in(coordinator, world["coordinator"])
    # The coordinator closes the need: Per, invited meanwhile, is told.
    step("closing a need", coordinator, "post", f"{need}/luk")
    # ... and runs the matching and approves the proposal: Karen is invited.
    response = timed(
        coordinator.post,
        "/koordinator/matchning",
        data={"organisation_id": world["org"], "local_area_id": 0, "activity_type_id": 0},
    )
    assert runs.run_queued(utcnow())["done"] == 1  # the scheduler's matching_runs job
    proposal = db.session.scalar(
        select(Assignment.id).where(Assignment.state == AssignmentState.PROPOSED)
    )
    assert proposal is not None
    step(
        "approving a match",
        coordinator,
        "post",
        response.headers["Location"].removesuffix("/status") + "/beslut",
        data={"proposal": [proposal], "action": "approve"},
    )
    return added


EMAILING_STEPS = {
    "registration": 1,  # the link to confirm the address
    "password reset": 1,
    "leaving": 2,  # to the coordinator, and the offer to the next in line
    "closing a need": 1,
    "approving a match": 1,
}


def assert_everything_went_through(added: dict[str, int]) -> None:
    assert added == {
        "sign-up": 0,
        "sign-up, waiting list": 0,
        **EMAILING_STEPS,
    }
    assert db.session.scalar(select(func.count()).where(User.email == "ny@example.org")) == 1
    states = db.session.scalars(select(Assignment.state).order_by(Assignment.id)).all()
    # Ole left; Per was invited when the need closed, so his invitation expired.
    assert states == ["withdrawn", "expired", "invited"]


def assert_all_pending_untouched(messages: list[OutboxMessage]) -> None:
    """Not lost, not sent, not counted as a failed attempt, and free for the next run."""
    for message in messages:
        assert message.state == OutboxState.PENDING
        assert message.sent_at is None and message.attempts == 0
        assert message.claimed_by is None and message.last_error


@pytest.mark.parametrize("mode", ["refused", "hang", "drop"])
def test_the_site_keeps_working_while_smtp_is_down(app, smtp_port, world, now, mode):
    bad = None if mode == "refused" else BadSMTPServer(mode, port=smtp_port)
    try:
        added = use_the_site(app, world)
        assert_everything_went_through(added)
        if bad is not None:
            assert bad.accepted == 0  # no page so much as opened a connection to the server

        # The scheduler's run: it fails softly, and says so.
        started = time.monotonic()
        summary = run_job(app, "dispatch_outbox", now)
        assert time.monotonic() - started < SMTP_TIMEOUT_S + QUICK_S  # bounded by the timeout
        queued = sum(EMAILING_STEPS.values())
        assert summary["sent"] == 0 and summary["connection_errors"] == 1
        assert summary["claimed"] == summary["deferred"] == queued
        assert db.session.get(JobRun, "dispatch_outbox").status == "ok"
        assert_all_pending_untouched(outbox())
        # The next run tries again (the scheduler's 30 s interval is the wait), and fails alike.
        assert run_job(app, "dispatch_outbox", now)["deferred"] == queued
        assert_all_pending_untouched(outbox())
    finally:
        if bad is not None:
            bad.close()

    # The server is back: each message goes out once, and only once.
    server = SMTPBack(smtp_port)
    try:
        assert run_job(app, "dispatch_outbox", now)["sent"] == queued
        assert run_job(app, "dispatch_outbox", now + timedelta(hours=1))["claimed"] == 0
    finally:
        server.stop()
    messages = outbox()
    assert all(m.state == OutboxState.SENT and m.sent_at == now for m in messages)
    ids = server.sink.message_ids()
    assert sorted(ids) == sorted(f"<outbox-{m.id}@samskab.example.org>" for m in messages)
    assert {m["To"] for m in server.sink.received} == {m.recipient_email for m in messages}


def test_a_line_that_drops_during_delivery_backs_off_then_delivers_once(app, smtp_port, world, now):
    """The server answers, then hangs up as a message starts. That counts as one failed attempt
    of that message, which waits OUTBOX_BACKOFF_S; the dispatcher reconnects for the rest, and
    each of them meets the same fate. Nothing is lost or sent, and after the backoff, with the
    server back, each message goes out once."""
    use_the_site(app, world)
    queued = len(outbox())
    bad = BadSMTPServer("drop_on_mail", port=smtp_port)
    try:
        summary = run_job(app, "dispatch_outbox", now)
    finally:
        bad.close()
    assert summary["retry"] == queued and summary["sent"] == summary["failed"] == 0
    assert bad.accepted == queued  # one connection per message: it hung up on each
    for message in outbox():
        assert (message.state, message.attempts) == (OutboxState.PENDING, 1)
        assert message.next_attempt_at == now + timedelta(seconds=BACKOFF_S)
        assert message.claimed_by is None and "disconnected" in message.last_error

    server = SMTPBack(smtp_port)
    try:
        # Back, but the messages wait out their backoff first; then each goes out once.
        for early in (0, BACKOFF_S - 1):
            assert run_job(app, "dispatch_outbox", now + timedelta(seconds=early))["claimed"] == 0
        assert run_job(app, "dispatch_outbox", now + timedelta(seconds=BACKOFF_S))["sent"] == queued
        assert run_job(app, "dispatch_outbox", now + timedelta(days=1))["claimed"] == 0
    finally:
        server.stop()
    assert all(m.state == OutboxState.SENT for m in outbox())
    ids = server.sink.message_ids()
    assert len(ids) == len(set(ids)) == queued


def test_the_site_keeps_working_while_a_dispatch_is_stuck(app, smtp_port, world, now):
    """The scheduler is blocked on a silent SMTP server; the web pages that queue mail must not
    wait for it (on SQLite: the dispatcher holds no write lock while it talks SMTP)."""
    app.config["SMTP_TIMEOUT_S"] = 60  # stuck for as long as the test likes; released below
    seed = app.test_client()
    timed(seed.post, "/konto/glemt-adgangskode", data={"email": world["Per Persen"]})
    bad = BadSMTPServer("hang", port=smtp_port)
    errors: list[BaseException] = []
    results: list[dict[str, int]] = []

    def dispatcher() -> None:
        try:
            results.append(run_job(app, "dispatch_outbox", now))
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=dispatcher)
    try:
        thread.start()
        deadline = time.monotonic() + 5
        while bad.accepted == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bad.accepted == 1, "the dispatcher never reached the SMTP server"
        # While it waits on the server: the whole round of pages, all answered promptly.
        added = use_the_site(app, world)
        assert thread.is_alive(), "the pages waited for the stuck dispatch"
    finally:
        bad.close()  # the server hangs up: the dispatch gives up at once
        thread.join(timeout=10)
    assert not thread.is_alive() and errors == []
    (summary,) = results
    assert summary["connection_errors"] == 1 and summary["deferred"] == 1
    assert_everything_went_through(added)
    messages = outbox()
    assert len(messages) == 1 + sum(EMAILING_STEPS.values())
    assert all(m.state == OutboxState.PENDING and m.claimed_by is None for m in messages)

    server = SMTPBack(smtp_port)
    try:
        assert run_job(app, "dispatch_outbox", now)["sent"] == len(messages)
    finally:
        server.stop()
    ids = server.sink.message_ids()
    assert len(ids) == len(set(ids)) == len(messages)
