"""Putting messages in the outbox.

Callers add a message in the same transaction as the change that causes it; the unique
``dedup_key`` makes a repeated call (a job run twice, a double click) a no-op. Delivery happens
elsewhere. Until a delivery process is configured, committed messages are written to the log so
that nothing is lost in development.
"""

from __future__ import annotations

import logging

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from volunteer.auth.models import User
from volunteer.extensions import db
from volunteer.notifications.models import OutboxMessage

log = logging.getLogger("samskab.outbox")


def enqueue(
    dedup_key: str,
    recipient: User,
    template: str,
    subject: str | None = None,
    **context: object,
) -> OutboxMessage:
    """Render ``mail/<template>.txt`` (and ``.subject.txt``) in the recipient's language and
    add it to the outbox. Returns the existing message when ``dedup_key`` was used before."""
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    if existing is not None:
        return existing
    with force_locale(recipient.locale):
        context.setdefault("site_url", current_app.config["SITE_URL"].rstrip("/"))
        context.setdefault("recipient", recipient)
        body = render_template(f"mail/{template}.txt", **context)
        if subject is None:
            subject = render_template(f"mail/{template}.subject.txt", **context).strip()
    message = OutboxMessage(
        dedup_key=dedup_key,
        recipient_email=recipient.email,
        recipient_id=recipient.id,
        locale=recipient.locale,
        subject=subject,
        body_text=body,
    )
    db.session.add(message)
    db.session.info.setdefault("outbox_new", []).append(message)
    return message


@event.listens_for(Session, "after_commit")
def _log_committed_messages(session: Session) -> None:
    """Development delivery: the message is safely stored, so show it in the log."""
    for message in session.info.pop("outbox_new", []):
        log.info(
            "Outbox message %s to %s: %s\n%s",
            message.dedup_key,
            message.recipient_email,
            message.subject,
            message.body_text,
        )


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("outbox_new", None)
