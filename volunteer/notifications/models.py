"""The outbox (every email the system sends, written in the transaction that causes it) and the
scheduler's health records (last run of every job, heartbeats)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from volunteer.db import Base, UTCDateTime, one_of, utcnow


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class SmsStatus(enum.StrEnum):
    """Where an SMS is, as the gateway's delivery reports tell (``sms_status``)."""

    PENDING = "pending"  # not yet handed to the gateway
    SENT = "sent"  # the gateway took it (and may report it on its way)
    DELIVERED = "delivered"  # the phone got it
    FAILED = "failed"  # rejected, or reported undeliverable


class OutboxMessage(Base):
    """One message to one recipient on one channel: an email, or an SMS (``to_phone``, its
    delivery status and the gateway's id for it)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(one_of("state", OutboxState), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint(one_of("channel", Channel), name="channel"),
        CheckConstraint(
            "sms_status IS NULL OR " + one_of("sms_status", SmsStatus), name="sms_status"
        ),
        CheckConstraint(
            "(channel = 'email' AND recipient_email IS NOT NULL)"
            " OR (channel = 'sms' AND to_phone IS NOT NULL)",
            name="address",
        ),
        Index("ix_outbox_messages_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique: a job run twice, or two schedulers, cannot create a second message.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(
        String(5), default=Channel.EMAIL, server_default=Channel.EMAIL.value
    )
    recipient_email: Mapped[str | None] = mapped_column(String(254))
    # E.164 (+4520304050); only for an SMS.
    to_phone: Mapped[str | None] = mapped_column(String(16))
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(2), default="da")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    # What the bearer links in the bodies are for (kind and ids, never a token): the bodies
    # hold markers, and delivery mints the URLs (volunteer.notifications.links).
    links: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A dispatcher owns a pending row while claimed_until lies ahead; a dispatcher that dies
    # mid-batch gives its rows back when the claim runs out.
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SMS only: the gateway's id (what delivery reports name) and the latest reported status.
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    sms_status: Mapped[str | None] = mapped_column(String(10))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def address(self) -> str:
        """Where it goes: the email address or the phone number."""
        return (self.to_phone if self.channel == Channel.SMS else self.recipient_email) or ""

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.dedup_key} {self.state}>"


class ShortLink(Base):
    """A short bearer link in an SMS (``/s/<code>``), minted when the SMS is sent. Only the
    code's SHA-256 is stored, with what the link is for (kind and ids, as in
    ``OutboxMessage.links``): the live URL is minted again when the link is opened."""

    __tablename__ = "short_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRunStatus(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    ERROR = "error"


class JobRun(Base):
    """The last run of one scheduled job: what the status page and `scheduler status` show."""

    __tablename__ = "job_runs"
    __table_args__ = (CheckConstraint(one_of("status", JobRunStatus), name="status"),)

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default=JobRunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class SchedulerHeartbeat(Base):
    """One row per scheduler process: the active one (holding the lock) and hot standbys."""

    __tablename__ = "scheduler_heartbeats"

    instance: Mapped[str] = mapped_column(String(120), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
