"""Visits: a volunteer at one occurrence, confirmed (or not) by the centre."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.coordination.models import Assignment
    from volunteer.needs.models import Occurrence


class VisitState(enum.StrEnum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint(one_of("state", VisitState), name="state"),
        CheckConstraint("hours IS NULL OR (hours >= 0 AND hours <= 24)", name="hours"),
        UniqueConstraint("occurrence_id", "volunteer_id"),
        Index("ix_visits_volunteer_id_state", "volunteer_id", "state"),
        # Covers the reports' aggregates (count/sum by state over a period's occurrences), so
        # they read the index alone instead of 100,000 visit rows.
        Index("ix_visits_report", "occurrence_id", "state", "volunteer_id", "hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(ForeignKey("occurrences.id", ondelete="CASCADE"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignments.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(10), default=VisitState.SCHEDULED)
    hours: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(String(500))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    occurrence: Mapped[Occurrence] = relationship()
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    assignment: Mapped[Assignment | None] = relationship()
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
