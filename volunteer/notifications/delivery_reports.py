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
from typing import Any

from sqlalchemy import select

from volunteer.extensions import db
from volunteer.notifications.models import Channel, OutboxMessage, OutboxState, SmsStatus

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


def parse(body: bytes) -> tuple[str, str, str | None]:
    """(provider id, our status, the gateway's error text) of a report; BadReport otherwise."""
    try:
        report: Any = json.loads(body)
        provider_id, status = str(report["id"]), PROVIDER_STATUSES[str(report["status"]).upper()]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadReport from exc
    error = report.get("error")
    return provider_id, status, str(error)[:500] if error else None


def record(provider_id: str, status: str, error: str | None, now: datetime) -> bool:
    """Give the SMS the gateway calls ``provider_id`` the reported status; False when no SMS
    has that id (an unknown id, or a report about a message since deleted). A report that would
    step back (sent after delivered) is ignored; a failure marks the message failed, so staff
    can send it again. Commits."""
    message = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.provider_id == provider_id, OutboxMessage.channel == Channel.SMS
        )
    )
    if message is None:
        return False
    current = SmsStatus(message.sms_status or SmsStatus.PENDING)
    if _RANK[SmsStatus(status)] > _RANK[current]:
        message.sms_status = status
        message.status_at = now
        if status == SmsStatus.FAILED:
            message.state = OutboxState.FAILED
            message.last_error = f"delivery report: {error or 'undeliverable'}"
    db.session.commit()
    return True
