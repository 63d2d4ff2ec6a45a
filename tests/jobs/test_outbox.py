"""The outbox: enqueue, claims, SMTP delivery with retries, log delivery, the admin pages."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from jobs_support import visit
from sqlalchemy import func, select

from support import csrf_token_from, factories
from support.auth import log_in
from support.smtp import SMTPSink, free_port, smtp_config, start_smtp
from volunteer.extensions import db
from volunteer.jobs.visits import visit_reminders
from volunteer.models import OutboxMessage, OutboxState, Role
from volunteer.notifications import delivery
from volunteer.notifications.services import enqueue

# Messages become due when they are written (real time); dispatch runs a moment later.


@pytest.fixture
def now() -> datetime:
    """A minute after the test starts: messages written during the test are due by then.
    (Taken per test, not at import, so a long test run cannot leave the messages in the future.)"""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


def _messages(n: int, **fields) -> list[int]:
    person = factories.user(Role.VOLUNTEER, **fields)
    ids = [
        enqueue(f"test:{i}", person, "password_reset", reset_link=f"/r/{i}", max_age_minutes=60).id
        for i in range(n)
    ]
    db.session.commit()
    return ids


def _state(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    found = db.session.get(OutboxMessage, message_id)
    assert found is not None
    return found


def test_enqueue_is_idempotent_per_dedup_key(app):
    person = factories.user(Role.VOLUNTEER)
    first = enqueue("k:1", person, "password_reset", reset_link="/x", max_age_minutes=60)
    second = enqueue("k:1", person, "password_reset", reset_link="/y", max_age_minutes=60)
    db.session.commit()
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert "/x" in first.body_text and first.state == OutboxState.PENDING


def test_without_smtp_messages_go_to_the_log_and_are_marked_sent(app, now, caplog):
    (message_id,) = _messages(1)
    with caplog.at_level(logging.INFO, logger="samskab.outbox"):
        summary = delivery.dispatch(now)
    assert summary["sent"] == 1
    assert "/r/0" in caplog.text
    message = _state(message_id)
    assert message.state == OutboxState.SENT and message.sent_at == now
    assert message.claimed_by is None


def test_smtp_delivers_text_html_and_calendar(app, now, smtp):
    v = visit(now.date() + timedelta(days=1), time(12), hours=2)
    visit_reminders(app, v.occurrence.starts_at - timedelta(hours=20))
    summary = delivery.dispatch(now)
    assert summary == {
        "claimed": 1,
        "sent": 1,
        "retry": 0,
        "failed": 0,
        "deferred": 0,
        "connection_errors": 0,
    }
    (email,) = smtp.received
    assert email["To"] == v.volunteer.email
    text = email.get_body(("plain",)).get_content()
    assert text.startswith("Kære ") and "kl. 12.00–14.00" in text
    assert "<strong>Spiseven</strong>" in email.get_body(("html",)).get_content()
    (attachment,) = list(email.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert f"UID:visit-{v.id}@samskab" in attachment.get_content()
    message = db.session.scalar(select(OutboxMessage))
    assert email["Message-ID"] == f"<outbox-{message.id}@samskab.example.org>"
    assert _state(message.id).state == OutboxState.SENT


@pytest.mark.parametrize(
    "reject", [{"reject_data": "451 4.3.0 Try later"}, {"reject_rcpt": "550 5.1.1 No such user"}]
)
def test_rejected_messages_back_off_then_fail_and_can_be_retried(app, now, smtp, reject):
    app.config.update(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_S=60)
    for name, value in reject.items():
        setattr(smtp, name, value)
    (message_id,) = _messages(1)

    assert delivery.dispatch(now)["retry"] == 1
    message = _state(message_id)
    assert (message.state, message.attempts) == (OutboxState.PENDING, 1)
    assert message.next_attempt_at == now + timedelta(seconds=60)
    assert reject[next(iter(reject))][:3] in message.last_error

    assert delivery.dispatch(now + timedelta(seconds=59))["claimed"] == 0  # still backing off
    assert delivery.dispatch(now + timedelta(seconds=60))["retry"] == 1
    assert _state(message_id).next_attempt_at == now + timedelta(seconds=60 + 120)
    assert delivery.dispatch(now + timedelta(seconds=180))["failed"] == 1
    message = _state(message_id)
    assert (message.state, message.attempts) == (OutboxState.FAILED, 3)
    assert delivery.dispatch(now + timedelta(days=1))["claimed"] == 0
    assert smtp.received == []


def test_smtp_down_leaves_every_message_pending(app, now):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nobody listens there
    ids = _messages(3)
    summary = delivery.dispatch(now)
    assert summary["connection_errors"] == 1 and summary["sent"] == 0
    assert summary["deferred"] == 3
    for message_id in ids:
        message = _state(message_id)
        assert (message.state, message.attempts) == (OutboxState.PENDING, 0)
        assert message.claimed_by is None and message.last_error
    # The server comes back: everything goes out.
    sink = SMTPSink()
    controller = start_smtp(sink)
    app.config.update(smtp_config(controller))
    try:
        assert delivery.dispatch(now)["sent"] == 3
    finally:
        controller.stop()
    assert len(sink.received) == 3


def test_batches_share_one_connection_and_stop_when_the_queue_is_empty(app, now, smtp):
    app.config.update(OUTBOX_BATCH_SIZE=4)
    _messages(10)
    summary = delivery.dispatch(now)
    assert summary["claimed"] == 10 and summary["sent"] == 10
    assert len(set(smtp.message_ids())) == 10


def test_a_claimed_row_is_not_claimed_again_until_the_claim_runs_out(app, now):
    ids = _messages(3)
    first = delivery.claim("worker-a", now, 2)
    second = delivery.claim("worker-b", now, 10)
    assert first == ids[:2] and second == ids[2:]
    assert delivery.claim("worker-c", now, 10) == []
    lease = timedelta(seconds=app.config["OUTBOX_CLAIM_S"])
    assert delivery.claim("worker-c", now + lease + timedelta(seconds=1), 10) == ids


def test_concurrent_dispatchers_never_send_a_row_twice(app, now, smtp):
    app.config.update(OUTBOX_BATCH_SIZE=7)
    _messages(120)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def dispatcher() -> None:
        try:
            with app.app_context():
                start.wait()
                delivery.dispatch(now)
                db.session.remove()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = smtp.message_ids()
    assert len(ids) == 120 and len(set(ids)) == 120
    sent = db.session.scalar(select(func.count()).where(OutboxMessage.state == OutboxState.SENT))
    assert sent == 120


def test_admin_outbox_lists_shows_and_retries_a_failed_message(app, client):
    (message_id,) = _messages(1)
    message = _state(message_id)
    message.state, message.attempts, message.last_error = OutboxState.FAILED, 8, "550 nope"
    db.session.commit()
    admin = factories.user(Role.ADMIN)
    log_in(client, admin)

    page = client.get("/admin/udbakke/?state=failed").get_data(as_text=True)
    assert "Udbakke" in page and "Fejlet" in page and message.subject in page
    page = client.get(f"/admin/udbakke/{message_id}").get_data(as_text=True)
    assert "550 nope" in page and "/r/0" in page and "Send igen" in page

    response = client.post(
        f"/admin/udbakke/{message_id}/send-igen", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    message = _state(message_id)
    assert (message.state, message.attempts) == (OutboxState.PENDING, 0)


def test_volunteers_cannot_see_the_outbox(app, client):
    log_in(client, factories.user(Role.VOLUNTEER))
    assert client.get("/admin/udbakke/").status_code == 403


def test_coordinators_see_only_mail_to_their_own_organisations_people(app, client):
    ours, theirs = factories.organisation("Hedensted Kommune"), factories.organisation("Røde Kors")
    coordinator = factories.user(Role.COORDINATOR, organisations=[ours])
    member = factories.user(Role.VOLUNTEER, name="Karen Medlem")
    member.profile.organisations.append(ours)
    stranger = factories.user(Role.VOLUNTEER, name="Ole Fremmed")
    stranger.profile.organisations.append(theirs)
    db.session.commit()
    mine = enqueue("test:ours", member, "password_reset", reset_link="/r/1", max_age_minutes=60)
    other = enqueue(
        "test:theirs", stranger, "password_reset", reset_link="/r/2", max_age_minutes=60
    )
    db.session.commit()
    log_in(client, coordinator)
    page = client.get("/admin/udbakke/").get_data(as_text=True)
    assert member.email in page and stranger.email not in page
    assert client.get(f"/admin/udbakke/{mine.id}").status_code == 200
    assert client.get(f"/admin/udbakke/{other.id}").status_code == 404
    assert client.post(f"/admin/udbakke/{other.id}/send-igen").status_code == 404
