"""Putting messages in the outbox, and what staff do with it.

Callers add a message in the same transaction as the change that causes it; the unique
``dedup_key`` makes a repeated call (a job run twice, two schedulers, a double click) a no-op.
Delivery is ``volunteer.notifications.delivery.dispatch``, run by the scheduler; nothing here
talks SMTP or to the SMS gateway.

Whether a person gets a message by email, SMS or both is decided in one place,
``channels_for``; ``notify`` enqueues a message on each of them.
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
from volunteer.auth.models import ContactChannel, Role, User, organisation_members
from volunteer.extensions import db
from volunteer.notifications import links, short_links, sms
from volunteer.notifications.models import Channel, OutboxMessage, OutboxState, SmsStatus
from volunteer.volunteers.models import VolunteerProfile, organisation_volunteers


class NotRetryable(Exception):
    """Only a failed message can be sent again."""


class NoPhone(ValueError):
    """An SMS to someone without a Danish phone number."""


class PhoneRequired(ValueError):
    """SMS chosen without a phone number to send them to."""


class EmailRequired(ValueError):
    """Email chosen by someone without an email address."""


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
    channel: str = Channel.EMAIL,
    to_phone: str | None = None,
    **context: object,
) -> OutboxMessage | None:
    """Render ``mail/<template>.txt`` (and ``.subject.txt``, and ``.html`` when it exists) in the
    recipient's language and add it to the outbox, with an optional iCalendar attachment.
    ``to_email`` sends it to another address of the recipient than their current one (an
    email change: the link goes to the new address, the notice to the old one).
    ``channel`` "sms" renders ``sms/<template>.txt`` instead, fitted into one SMS
    (``sms.fit_sms``), to ``to_phone`` or the recipient's phone (NoPhone without one); its
    bearer links become short links when it is sent. An SMS needs no email address.
    A ``links.BearerLink`` in the context is stored as a marker, never as a URL. An
    ``Addressee`` (no account) gets the message at their address, with no recipient id.

    Returns the existing message when ``dedup_key`` was used before, and None (nothing is
    written) when the recipient has no address: an account a coordinator keeps for someone
    without email gets no mail, and nothing fails for it. The insert skips a key
    another transaction wrote meanwhile (ON CONFLICT DO NOTHING), so concurrent jobs never fail
    or duplicate. Does not commit: the message belongs to the caller's transaction.
    """
    address = to_email or recipient.email
    if channel != Channel.SMS and not address:
        return None
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    if existing is not None:
        return existing
    if channel == Channel.SMS:
        to_phone = to_phone or sms.phone_or_none(getattr(recipient, "phone", None))
        if to_phone is None:
            raise NoPhone(dedup_key)
    with force_locale(recipient.locale), links.collecting() as bearer_links:
        context.setdefault("site_url", current_app.config["SITE_URL"].rstrip("/"))
        context.setdefault("recipient", recipient)
        html: str | None = None
        if channel == Channel.SMS:
            with sms.collecting_slots() as slots:
                text = render_template(f"sms/{template}.txt", shorten=sms.shorten, **context)
            body = sms.fit_sms(text, slots, link_length=short_links.url_length())
            ics = None
        else:
            body = render_template(f"mail/{template}.txt", **context)
            try:
                html = render_template(f"mail/{template}.html", **context)
            except TemplateNotFound:
                html = None
        if subject is None:
            subject = render_template(f"mail/{template}.subject.txt", **context).strip()
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(OutboxMessage)
        .values(
            dedup_key=dedup_key,
            channel=channel,
            recipient_email=None if channel == Channel.SMS else address,
            to_phone=to_phone if channel == Channel.SMS else None,
            sms_status=SmsStatus.PENDING if channel == Channel.SMS else None,
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


def channels_for(person: User | Addressee) -> tuple[Channel, ...]:
    """The channels a person gets reminders, invitations and check-ins on: what they chose
    (email, SMS or both), as far as they have the address for it. Someone who chose SMS without
    a usable phone number gets email, and someone without an email address (a volunteer a
    coordinator manages) SMS, rather than nothing. Empty only when there is no address at all."""
    email = getattr(person, "email", None)
    phone = sms.phone_or_none(getattr(person, "phone", None))
    choice = getattr(person, "contact_channel", ContactChannel.EMAIL)
    wanted = []
    if email and choice in (ContactChannel.EMAIL, ContactChannel.BOTH):
        wanted.append(Channel.EMAIL)
    if phone and choice in (ContactChannel.SMS, ContactChannel.BOTH):
        wanted.append(Channel.SMS)
    if not wanted:
        wanted = [Channel.EMAIL] if email else [Channel.SMS] if phone else []
    return tuple(wanted)


def channel_key(dedup_key: str, channel: str) -> str:
    """The dedup key of the message on ``channel``: the email keeps the plain key."""
    return dedup_key if channel == Channel.EMAIL else f"{dedup_key}:{channel}"


def notify(
    dedup_key: str, recipient: User | Addressee, template: str, **kwargs: object
) -> list[OutboxMessage]:
    """``enqueue`` the message on every channel of ``channels_for(recipient)`` (an SMS gets the
    key ``<dedup_key>:sms``). Does not commit."""
    return [
        enqueue(channel_key(dedup_key, channel), recipient, template, channel=channel, **kwargs)  # type: ignore[arg-type]
        for channel in channels_for(recipient)
    ]


def set_contact(user: User, channel: str, phone: str | None) -> None:
    """A person's choice of channel and their phone number (stored in E.164). SMS needs a
    Danish phone number (PhoneRequired, sms.BadPhone), email an email address (EmailRequired).
    Commits."""
    if channel not in set(ContactChannel):
        raise ValueError(channel)
    normalised = sms.normalise_phone(phone) if phone and phone.strip() else None
    if channel in (ContactChannel.SMS, ContactChannel.BOTH) and normalised is None:
        raise PhoneRequired
    if channel in (ContactChannel.EMAIL, ContactChannel.BOTH) and not user.email:
        raise EmailRequired
    user.contact_channel = channel
    user.phone = normalised
    db.session.commit()


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
    minted again when it is delivered, so the new email or SMS carries fresh tokens.)"""
    if message.state != OutboxState.FAILED:
        raise NotRetryable
    message.state = OutboxState.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_by = None
    message.claimed_until = None
    if message.channel == Channel.SMS:
        message.sms_status = SmsStatus.PENDING
        message.provider_id = None
        message.status_at = now
    db.session.commit()
