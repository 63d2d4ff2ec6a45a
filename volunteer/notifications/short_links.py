"""Short bearer links for SMS (``/s/<code>``): a full signed link does not fit in 160 septets.

Minted when the SMS is sent, like every bearer link (``volunteer.notifications.links``): a
random code goes into the SMS, and only its SHA-256 is stored, with what the link is for. Opening
the short link mints the live URL of that kind at that moment and redirects to it, so the short
link is exactly as strong as the link it stands for, and expires after SHORT_LINK_MAX_AGE_S.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select

from volunteer.extensions import db
from volunteer.notifications import links
from volunteer.notifications.models import ShortLink

# 10 characters of base 62: 59 bits, against a rate-limited route; short enough for an SMS.
CODE_LENGTH = 10
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PATH = "/s/"


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def url_length() -> int:
    """How many characters a short link takes in an SMS (what ``fit_sms`` reserves for it)."""
    return len(current_app.config["SITE_URL"].rstrip("/")) + len(PATH) + CODE_LENGTH


def create(
    spec: links.Spec, now: datetime, message_id: int | None, pending: list[dict[str, Any]]
) -> str:
    """A new short link for ``spec``; returns its URL (the code is in no row). Its row (with the
    code's hash) goes to ``pending``, for ``store``."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    pending.append(
        {
            "code_hash": _hash(code),
            "spec": spec,
            "message_id": message_id,
            "created_at": now,
            "expires_at": now + timedelta(seconds=current_app.config["SHORT_LINK_MAX_AGE_S"]),
        }
    )
    return current_app.config["SITE_URL"].rstrip("/") + PATH + code


def store(pending: list[dict[str, Any]]) -> None:
    """Insert the short links ``create`` made, in one statement. Does not commit."""
    if pending:
        db.session.execute(insert(ShortLink), pending)


def target(code: str, now: datetime) -> str | None:
    """The live URL a short link stands for, freshly minted; None when the code is unknown,
    expired, or its link can no longer be made."""
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    found = db.session.scalar(select(ShortLink).where(ShortLink.code_hash == _hash(code)))
    if found is None or found.expires_at <= now:
        return None
    return links.live_url(found.spec)
