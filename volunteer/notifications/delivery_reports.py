"""SMS delivery reports: what the gateway POSTs back to ``/sms/status`` about each SMS.

A report is accepted only with a valid signature (HMAC-SHA256 of the raw body with
SMS_WEBHOOK_SECRET, hex, in the ``X-Samskab-Signature`` header). It names the gateway's id for
the message (GatewayAPI.com style: ``{"id": 123, "msisdn": 4520304050, "status": "DELIVERED",
"error": null, "userref": "outbox-42", ...}``). Reports are idempotent and may come late or out
of order: a final status (delivered, failed) is never overwritten by an earlier one (sent), and
the same report twice changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import or_, select

from volunteer.extensions import db
from volunteer.notifications.models import Channel, OutboxMessage, OutboxState, SmsStatus
from volunteer.urls import MAX_ID

SIGNATURE_HEADER = "X-Samskab-Signature"

# The gateway's words (GatewayAPI.com's set) for where a message is.
PROVIDER_STATUSES = {
    "DELIVERED": SmsStatus.DELIVERED,
    "UNDELIVERABLE": SmsStatus.FAILED,
    "REJECTED": SmsStatus.FAILED,
    "EXPIRED": SmsStatus.FAILED,
    "SKIPPED": SmsStatus.FAILED,
    "DELETED": SmsStatus.FAILED,
    "ACCEPTED": SmsStatus.SENT,
    "ENROUTE": SmsStatus.SENT,
    "BUFFERED": SmsStatus.SENT,
    "SCHEDULED": SmsStatus.SENT,
    "UNKNOWN": SmsStatus.SENT,
}
_RANK = {SmsStatus.PENDING: 0, SmsStatus.SENT: 1, SmsStatus.DELIVERED: 2, SmsStatus.FAILED: 2}


class BadReport(ValueError):
    """Not a delivery report this service can read."""


def sign(body: bytes, secret: str) -> str:
    """The signature of ``body`` (what the gateway sends, and the fake gateway in the tests)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verified(body: bytes, signature: str | None, secret: str | None) -> bool:
    """Whether ``signature`` is the secret's signature of ``body`` (constant time); False
    without a secret, so reports are refused until one is configured."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip().lower())


class Report(NamedTuple):
    provider_id: str
    status: str
    error: str | None
    # Our reference for the message ("outbox-<id>"), as sent in ``userref``.
    reference: str | None


def parse(body: bytes) -> Report:
    """What a report says; BadReport when it cannot be read."""
    try:
        report: Any = json.loads(body)
        provider_id, status = str(report["id"]), PROVIDER_STATUSES[str(report["status"]).upper()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadReport from exc
    error, reference = report.get("error"), report.get("userref")
    return Report(
        provider_id,
        status,
        str(error)[:500] if error else None,
        str(reference) if reference else None,
    )


def _message(report: Report) -> OutboxMessage | None:
    sms = OutboxMessage.channel == Channel.SMS
    message = db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.provider_id == report.provider_id, sms)
    )
    if message is not None or not report.reference:
        return message
    # A report can overtake the gateway's answer: the SMS does not know its id yet.
    number = report.reference.removeprefix("outbox-")
    if not number.isdecimal() or int(number) > MAX_ID:
        return None
    # (Or the answer was recorded between the two queries.)
    message = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == int(number),
            or_(
                OutboxMessage.provider_id.is_(None),
                OutboxMessage.provider_id == report.provider_id,
            ),
            sms,
        )
    )
    if message is not None:
        message.provider_id = report.provider_id
    return message


def record(report: Report, now: datetime) -> bool:
    """Give the SMS the report is about the reported status; False when no SMS has its id (an
    unknown id, or a message since deleted). A report that would step back (sent after
    delivered) is ignored; a failure marks the message failed, so staff can send it again.
    Commits."""
    message = _message(report)
    if message is None:
        return False
    status, error = report.status, report.error
    current = SmsStatus(message.sms_status or SmsStatus.PENDING)
    if _RANK[SmsStatus(status)] > _RANK[current]:
        message.sms_status = status
        message.status_at = now
        if status == SmsStatus.FAILED:
            message.state = OutboxState.FAILED
            message.last_error = f"delivery report: {error or 'undeliverable'}"
    db.session.commit()
    return True
