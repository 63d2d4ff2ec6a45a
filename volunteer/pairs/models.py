"""A forløb (a long-term pair: a volunteer and a person we help) and its check-ins.

The visits of a forløb are ordinary visits: each forløb has its own weekly need, marked
``Need.private`` (never listed, never matched, no public page), so reminders, "Kan ikke komme",
calendars and reports work for it as for any other. Its place is the person's postcode only;
the exact address is shown through ``persons.services.can_see_contact``.

The tables are marked ``info={"helped_person": True}``: they hold data about a person we help,
so a staff member's own GDPR export leaves them out; the volunteer's export has their own
forløb without the person's contact details (``volunteer.volunteers.gdpr``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow
from volunteer.persons.models import HELPED_PERSON

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.catalogue.models import ActivityType, Organisation
    from volunteer.needs.models import Need
    from volunteer.persons.models import Person


class ForloebState(enum.StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class EndReason(enum.StrEnum):
    """Why a forløb ended: fixed codes, never free text (no health data, no names)."""

    DECLINED = "declined"  # the volunteer said no to the proposal
    WITHDRAWN = "withdrawn"  # the coordinator took the proposal back
    VOLUNTEER_STOPPED = "volunteer_stopped"
    PERSON_STOPPED = "person_stopped"
    NOT_A_MATCH = "not_a_match"
    MOVED = "moved"
    OTHER = "other"


class CheckinAnswer(enum.StrEnum):
    GOOD = "good"
    TALK = "talk"  # would like to talk to a coordinator
    STOP = "stop"  # would like to stop


class Respondent(enum.StrEnum):
    VOLUNTEER = "volunteer"
    CONTACT = "contact"  # the person's contact person, where there is one with an email


class Forloeb(Base):
    """A volunteer and a person, weekly on one weekday and time, from ``start_date``."""

    __tablename__ = "forloeb"
    __table_args__ = (
        CheckConstraint(one_of("state", ForloebState), name="state"),
        CheckConstraint("end_reason IS NULL OR " + one_of("end_reason", EndReason), name="reason"),
        CheckConstraint(
            "state != 'ended' OR (ended_on IS NOT NULL AND end_reason IS NOT NULL)", name="ended"
        ),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        {"info": HELPED_PERSON},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    activity_type_id: Mapped[int] = mapped_column(
        ForeignKey("activity_types.id", ondelete="RESTRICT")
    )
    # The forløb's own private weekly need (its occurrences and visits).
    need_id: Mapped[int | None] = mapped_column(
        ForeignKey("needs.id", ondelete="SET NULL"), index=True
    )
    start_date: Mapped[date] = mapped_column(Date)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    state: Mapped[str] = mapped_column(String(10), default=ForloebState.PROPOSED, index=True)
    # The engine's reasons as [code, params] pairs (``match_reasons`` renders them).
    explanation: Mapped[list[Any]] = mapped_column(JSON, default=list)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_on: Mapped[date | None] = mapped_column(Date)
    paused_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    organisation: Mapped[Organisation] = relationship()
    activity_type: Mapped[ActivityType] = relationship()
    need: Mapped[Need | None] = relationship()
    checkins: Mapped[list[ForloebCheckin]] = relationship(
        back_populates="forloeb",
        cascade="all, delete-orphan",
        order_by="(ForloebCheckin.due_on, ForloebCheckin.id)",
    )

    def __repr__(self) -> str:
        return f"<Forloeb {self.id} {self.state}>"


class ForloebCheckin(Base):
    """One "Hvordan går det?" to one respondent on one due date. An answer other than "good"
    is a task for the coordinators until one of them marks it handled."""

    __tablename__ = "forloeb_checkins"
    __table_args__ = (
        UniqueConstraint("forloeb_id", "due_on", "respondent"),
        CheckConstraint(one_of("respondent", Respondent), name="respondent"),
        CheckConstraint("answer IS NULL OR " + one_of("answer", CheckinAnswer), name="answer"),
        {"info": HELPED_PERSON},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forloeb_id: Mapped[int] = mapped_column(
        ForeignKey("forloeb.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date] = mapped_column(Date)
    respondent: Mapped[str] = mapped_column(String(10))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answer: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    forloeb: Mapped[Forloeb] = relationship(back_populates="checkins")

    @property
    def is_task(self) -> bool:
        return self.answer not in (None, CheckinAnswer.GOOD) and self.handled_at is None
