"""Putting messages in the outbox, and what staff do with it.

Callers add a message in the same transaction as the change that causes it; the unique
``dedup_key`` makes a repeated call (a job run twice, two schedulers, a double click) a no-op.
Delivery is ``volunteer.notifications.delivery.dispatch``, run by the scheduler; nothing here
talks SMTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from volunteer import audit
from volunteer.auth.models import Role, User, organisation_members
from volunteer.extensions import db
from volunteer.notifications import links
from volunteer.notifications.models import OutboxMessage, OutboxState
from volunteer.volunteers.models import VolunteerProfile, organisation_volunteers


class NotRetryable(Exception):
    """Only a failed message can be sent again."""


@dataclass(frozen=True)
class Addressee:
    """Someone without an account a message goes to (the referrer of a henvisning): what
    ``enqueue`` and the mail templates read of a recipient."""

    email: str
    name: str
    locale: str = "da"
    id: None = None

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


def enqueue(
    dedup_key: str,
    recipient: User | Addressee,
    template: str,
    subject: str | None = None,
    *,
    ics: str | None = None,
    to_email: str | None = None,
    **context: object,
) -> OutboxMessage | None:
    """Render ``mail/<template>.txt`` (and ``.subject.txt``, and ``.html`` when it exists) in the
    recipient's language and add it to the outbox, with an optional iCalendar attachment.
    ``to_email`` sends it to another address of the recipient than their current one (an
    email change: the link goes to the new address, the notice to the old one).
    A ``links.BearerLink`` in the context is stored as a marker, never as a URL. An
    ``Addressee`` (no account) gets the message at their address, with no recipient id.

    Returns the existing message when ``dedup_key`` was used before, and None (nothing is
    written) when the recipient has no address: an account a coordinator keeps for someone
    without email gets no mail, and nothing fails for it. The insert skips a key
    another transaction wrote meanwhile (ON CONFLICT DO NOTHING), so concurrent jobs never fail
    or duplicate. Does not commit: the message belongs to the caller's transaction.
    """
    address = to_email or recipient.email
    if not address:
        return None
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    if existing is not None:
        return existing
    with force_locale(recipient.locale), links.collecting() as bearer_links:
        context.setdefault("site_url", current_app.config["SITE_URL"].rstrip("/"))
        context.setdefault("recipient", recipient)
        body = render_template(f"mail/{template}.txt", **context)
        try:
            html: str | None = render_template(f"mail/{template}.html", **context)
        except TemplateNotFound:
            html = None
        if subject is None:
            subject = render_template(f"mail/{template}.subject.txt", **context).strip()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(OutboxMessage)
        .values(
            dedup_key=dedup_key,
            recipient_email=address,
            recipient_id=recipient.id,
            locale=recipient.locale,
            subject=subject,
            body_text=body,
            body_html=html,
            ics=ics,
            links=bearer_links or None,
        )
        .on_conflict_do_nothing(index_elements=["dedup_key"])
    )
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    assert message is not None
    return message


def already_enqueued(dedup_key: str) -> bool:
    """Whether a message with this key exists, so a job can skip work and count only news."""
    return (
        db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key))
        is not None
    )


def _visible_to(viewer: User) -> ColumnElement[bool] | None:
    """Which messages a staff member may read: an admin all; a coordinator those to the people
    of their own organisations (its coordinators and member volunteers) — mail is personal data.
    None means no restriction."""
    if viewer.role == Role.ADMIN:
        return None
    org_ids = [o.id for o in viewer.organisations]
    colleagues = select(organisation_members.c.user_id).where(
        organisation_members.c.organisation_id.in_(org_ids)
    )
    members = (
        select(VolunteerProfile.user_id)
        .join(organisation_volunteers, organisation_volunteers.c.profile_id == VolunteerProfile.id)
        .where(organisation_volunteers.c.organisation_id.in_(org_ids))
    )
    return or_(OutboxMessage.recipient_id.in_(colleagues), OutboxMessage.recipient_id.in_(members))


def messages(viewer: User, state: str | None = None, limit: int = 200) -> Sequence[OutboxMessage]:
    """The newest messages the viewer may read, optionally in one state, for the outbox page."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if state:
        query = query.where(OutboxMessage.state == state)
    visible = _visible_to(viewer)
    if visible is not None:
        query = query.where(visible)
    return db.session.scalars(query).all()


def message_for(viewer: User, message_id: int) -> OutboxMessage | None:
    """One message, if the viewer may read it."""
    query = select(OutboxMessage).where(OutboxMessage.id == message_id)
    visible = _visible_to(viewer)
    if visible is not None:
        query = query.where(visible)
    return db.session.scalar(query)


def open_message(viewer: User, message_id: int) -> OutboxMessage | None:
    """One message for the message page, if the viewer may read it; the reading is audited
    (messages are personal data). Commits."""
    found = message_for(viewer, message_id)
    if found is not None:
        audit.record("outbox.message_viewed", "outbox_message", found.id, actor_id=viewer.id)
        db.session.commit()
    return found


def retry(message: OutboxMessage, now: datetime) -> None:
    """Give a failed message a fresh set of attempts, due at once. Commits. (Its bearer links are
    minted again when it is delivered, so the new email carries fresh tokens.)"""
    if message.state != OutboxState.FAILED:
        raise NotRetryable
    message.state = OutboxState.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_by = None
    message.claimed_until = None
    db.session.commit()
