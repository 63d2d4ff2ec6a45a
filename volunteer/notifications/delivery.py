"""Delivering the outbox: claim a batch, send its emails over one SMTP connection and its SMS
through the gateway, record each outcome.

A message is marked sent only after the SMTP server (or the SMS gateway) accepted it, and the
mark is committed at once, so a crash loses nothing (at worst a message the server had accepted
is sent again after its claim runs out; an SMS carries its row's reference, so a gateway that
deduplicates on it sends it once). Claims keep two dispatchers from sending the same row.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, NamedTuple, Protocol

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import case, func, or_, select, update

from volunteer.extensions import db
from volunteer.notifications import links, short_links, sms
from volunteer.notifications.models import Channel, OutboxMessage, OutboxState, SmsStatus

log = logging.getLogger("samskab.outbox")

SUMMARY_KEYS = ("claimed", "sent", "retry", "failed", "deferred", "connection_errors")


class _Pending(NamedTuple):
    id: int
    dedup_key: str
    attempts: int
    email: EmailMessage


class Transport(Protocol):
    # Whether the recipient gets the message: only then are bearer links minted into it.
    delivers: bool

    def send(self, message: EmailMessage) -> None: ...


class LogTransport:
    """Development delivery (no SMTP host configured): the message goes to the log, with its
    bearer links hidden — a log is read by more people than the recipient."""

    delivers = False

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        log.info(
            "Outbox message to %s: %s\n%s",
            message["To"],
            message["Subject"],
            body.get_content() if body is not None else "",
        )


class SMTPTransport:
    """One SMTP connection; ``send`` returns only when the server accepted the message."""

    delivers = True

    def __init__(self, connection: smtplib.SMTP) -> None:
        self.connection = connection

    def send(self, message: EmailMessage) -> None:
        self.connection.send_message(message)


@contextmanager
def transport(config: Any) -> Iterator[Transport]:
    """The configured transport, connected (and logged in) for one batch."""
    if not config.get("SMTP_HOST"):
        yield LogTransport()
        return
    host, port, timeout = config["SMTP_HOST"], int(config["SMTP_PORT"]), config["SMTP_TIMEOUT_S"]
    connection: smtplib.SMTP
    if config["SMTP_SSL"]:
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            connection.starttls()
        if config.get("SMTP_USER"):
            connection.login(config["SMTP_USER"], config["SMTP_PASSWORD"] or "")
        yield SMTPTransport(connection)
    finally:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


def build_email(message: OutboxMessage, mail_from: str, *, live_links: bool = True) -> EmailMessage:
    """The MIME message: plain text, an HTML alternative, and the .ics as an attachment.

    Bearer links are minted now, with fresh tokens (``live_links``), or shown hidden.
    The Message-ID is derived from the outbox row, so a retried delivery carries the same id
    and receiving servers can tell it is the same message.
    """

    def body(text: str, *, html: bool = False) -> str:
        if not live_links:
            return links.redact(text, locale=message.locale)
        with force_locale(message.locale):
            return links.mint(text, message.links, html=html)

    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "samskab.invalid"
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.recipient_email
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = f"<outbox-{message.id}@{domain}>"
    email["Content-Language"] = message.locale
    email.set_content(body(message.body_text))
    if message.body_html:
        email.add_alternative(body(message.body_html, html=True), subtype="html")
    if message.ics:
        email.add_attachment(
            message.ics, subtype="calendar", filename="samskab.ics", params={"method": "PUBLISH"}
        )
    return email


def claim(worker: str, now: datetime, limit: int) -> list[int]:
    """Claim up to ``limit`` due pending messages for ``worker`` and commit; returns their ids.

    On PostgreSQL the candidates are selected FOR UPDATE SKIP LOCKED, so a second dispatcher
    passes over rows being claimed instead of waiting for them. The UPDATE repeats the
    conditions, so on SQLite (one writer at a time, no row locks) a row another dispatcher
    claimed in between is not taken again. Rows whose claim ran out (a dispatcher died) are
    claimable again. (The candidates are a separate statement: as a LIMIT subquery inside the
    UPDATE, PostgreSQL may evaluate it more than once and claim more than ``limit`` rows.)
    """
    claimable = (
        OutboxMessage.state == OutboxState.PENDING,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )
    due = (
        select(OutboxMessage.id)
        .where(*claimable)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    candidates = db.session.scalars(due).all()
    if not candidates:
        db.session.commit()
        return []
    lease = timedelta(seconds=current_app.config["OUTBOX_CLAIM_S"])
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), *claimable)
        .values(claimed_by=worker, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return list(
        db.session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.claimed_by == worker, OutboxMessage.state == OutboxState.PENDING)
            .order_by(OutboxMessage.id)
        )
    )


def _finish(message_id: int, worker: str, **values: Any) -> None:
    """Record one outcome, only while the claim is still ours, and commit it at once."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record_failure(
    pending: _Pending | _PendingSms, worker: str, now: datetime, error: str, *, final: bool = False
) -> str:
    """One more failed attempt: back off exponentially, or give up after the last attempt (or
    at once when ``final``: the receiver refused the message itself)."""
    config = current_app.config
    attempts = pending.attempts + 1
    extra: dict[str, Any] = {}
    if isinstance(pending, _PendingSms):
        extra = {"sms_status": SmsStatus.PENDING}
    if final or attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        if extra:
            extra = {"sms_status": SmsStatus.FAILED, "status_at": now}
        state = OutboxState.FAILED
        log.warning("Outbox message %s failed for good: %s", pending.dedup_key, error)
    else:
        state = OutboxState.PENDING
    delay = timedelta(seconds=config["OUTBOX_BACKOFF_S"] * 2 ** (attempts - 1))
    _finish(
        pending.id,
        worker,
        state=state,
        attempts=attempts,
        next_attempt_at=now + delay,
        last_error=error[:2000],
        **extra,
    )
    return "failed" if state == OutboxState.FAILED else "retry"


def release(worker: str, error: str, ids: Sequence[int] | None = None) -> None:
    """Give claimed rows (of ``ids``, or all) back untouched (the server could not be reached:
    not their fault)."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.claimed_by == worker,
            *(() if ids is None else (OutboxMessage.id.in_(ids),)),
        )
        .values(claimed_by=None, claimed_until=None, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _still_claimed(worker: str, ids: Sequence[int]) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.claimed_by == worker, OutboxMessage.id.in_(ids))
        )
        or 0
    )


def deliver_batch(ids: Sequence[int], worker: str, now: datetime) -> Counter[str]:
    """Send the claimed messages, each by its channel (emails over one SMTP connection, SMS
    through the gateway); count sent / retry / failed / deferred."""
    channels = {
        row.id: row.channel
        for row in db.session.execute(
            select(OutboxMessage.id, OutboxMessage.channel).where(OutboxMessage.id.in_(ids))
        )
    }
    outcome: Counter[str] = Counter()
    emails = [i for i in ids if channels.get(i) == Channel.EMAIL]
    texts = [i for i in ids if channels.get(i) == Channel.SMS]
    if emails:
        outcome.update(_deliver_emails(emails, worker, now))
    if texts:
        outcome.update(_deliver_sms(texts, worker, now))
    return outcome


def _deliver_emails(ids: Sequence[int], worker: str, now: datetime) -> Counter[str]:
    """Send the claimed emails over one connection."""
    config = current_app.config
    outcome: Counter[str] = Counter()
    try:
        with transport(config) as wire:
            # Built before the first send: each outcome commits, which would expire ORM
            # objects and cost a reload.
            batch = [
                _Pending(
                    m.id,
                    m.dedup_key,
                    m.attempts,
                    build_email(m, config["MAIL_FROM"], live_links=wire.delivers),
                )
                for m in db.session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .order_by(OutboxMessage.id)
                )
            ]
            for pending in batch:
                try:
                    wire.send(pending.email)
                except smtplib.SMTPServerDisconnected as exc:
                    outcome[_record_failure(pending, worker, now, f"disconnected: {exc}")] += 1
                    break
                except smtplib.SMTPException as exc:
                    outcome[_record_failure(pending, worker, now, _describe(exc))] += 1
                    continue
                _finish(pending.id, worker, state=OutboxState.SENT, sent_at=now, last_error=None)
                outcome["sent"] += 1
    except (OSError, smtplib.SMTPException) as exc:
        # Connecting, TLS or login failed, or the connection broke: the rows stay pending.
        log.warning("SMTP server unavailable: %s", exc)
        outcome["connection_errors"] += 1
    remaining = _still_claimed(worker, ids)
    if remaining:
        release(worker, "not sent: the SMTP server could not be reached", ids)
        outcome["deferred"] += remaining
    return outcome


class _PendingSms(NamedTuple):
    id: int
    dedup_key: str
    attempts: int
    to_phone: str
    text: str


def sms_text(
    message: Any, now: datetime, pending: list[dict[str, Any]], *, live_links: bool = True
) -> str:
    """The SMS to send (``message``: an outbox row's id, body_text, links, locale): its bearer
    links minted now as fresh short links (``live_links``, their rows added to ``pending``), or
    shown hidden."""
    if not live_links:
        return links.redact(message.body_text, locale=message.locale)

    def shortener(spec: links.Spec) -> str:
        return short_links.create(spec, now, message.id, pending)

    with force_locale(message.locale):
        return links.mint(message.body_text, message.links, shortener=shortener)


def _deliver_sms(ids: Sequence[int], worker: str, now: datetime) -> Counter[str]:
    """Send the claimed SMS one request each; a gateway that cannot be reached (5xx, timeout)
    ends the batch, and the rest stay pending for the next run."""
    config = current_app.config
    outcome: Counter[str] = Counter()
    with sms.gateway(config) as wire:
        # Plain rows, not ORM objects: each outcome commits, which would expire them all again.
        rows = db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.dedup_key,
                OutboxMessage.attempts,
                OutboxMessage.to_phone,
                OutboxMessage.body_text,
                OutboxMessage.links,
                OutboxMessage.locale,
            )
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.id)
        ).all()
        new_links: list[dict[str, Any]] = []
        batch = [
            _PendingSms(
                m.id,
                m.dedup_key,
                m.attempts,
                m.to_phone or "",
                sms_text(m, now, new_links, live_links=wire.delivers),
            )
            for m in rows
        ]
        # The short links are stored (hashed) before the first SMS that carries one goes out.
        short_links.store(new_links)
        db.session.commit()
        for pending in batch:
            try:
                provider_id = wire.send(pending.to_phone, pending.text, f"outbox-{pending.id}")
            except sms.GatewayRejected as exc:
                outcome[_record_failure(pending, worker, now, str(exc), final=True)] += 1
                continue
            except sms.GatewayUnavailable as exc:
                log.warning("SMS gateway unavailable: %s", exc)
                outcome[_record_failure(pending, worker, now, str(exc))] += 1
                outcome["connection_errors"] += 1
                break
            # A delivery report may have overtaken the answer: it is not undone.
            reported = OutboxMessage.sms_status.in_([SmsStatus.DELIVERED, SmsStatus.FAILED])
            _finish(
                pending.id,
                worker,
                state=case(
                    (OutboxMessage.sms_status == SmsStatus.FAILED, OutboxState.FAILED.value),
                    else_=OutboxState.SENT.value,
                ),
                sent_at=now,
                last_error=case((reported, OutboxMessage.last_error), else_=None),
                provider_id=provider_id,
                sms_status=case((reported, OutboxMessage.sms_status), else_=SmsStatus.SENT.value),
                status_at=case((reported, OutboxMessage.status_at), else_=now),
            )
            outcome["sent"] += 1
    remaining = _still_claimed(worker, ids)
    if remaining:
        release(worker, "not sent: the SMS gateway could not be reached", ids)
        outcome["deferred"] += remaining
    return outcome


def _describe(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {code} {reply.decode(errors='replace')}"
            for rcpt, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dispatch(now: datetime, max_batches: int | None = None) -> dict[str, int]:
    """Deliver due pending messages, a batch per connection, until none are due, the server is
    unreachable, or ``max_batches`` (default OUTBOX_MAX_BATCHES_PER_RUN) is reached."""
    config = current_app.config
    max_batches = max_batches or config["OUTBOX_MAX_BATCHES_PER_RUN"]
    worker = new_worker_id()
    totals: Counter[str] = Counter()
    for _ in range(max_batches):
        ids = claim(worker, now, config["OUTBOX_BATCH_SIZE"])
        if not ids:
            break
        totals["claimed"] += len(ids)
        totals.update(deliver_batch(ids, worker, now))
        if totals["connection_errors"]:
            break
    return {key: totals[key] for key in SUMMARY_KEYS}
