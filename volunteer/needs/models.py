"""Needs posted by coordinators, and their dated occurrences."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.catalogue.models import ActivityType, Centre, LocalArea, Organisation


class Schedule(enum.StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"


class NeedStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"


class OccurrenceStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class Need(Base):
    """What a coordinator asks volunteers for.

    The schedule is kept in local time (a weekly need at 17:00 stays at 17:00 across daylight
    saving time); occurrences carry the UTC instants.
    """

    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint(one_of("schedule", Schedule), name="schedule"),
        CheckConstraint(one_of("status", NeedStatus), name="status"),
        CheckConstraint("slots > 0", name="slots_positive"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        CheckConstraint("last_date IS NULL OR last_date >= first_date", name="last_after_first"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point"),
        Index("ix_needs_status_next_starts_at", "status", "next_starts_at"),
        # The list's activity filter, counted and paged from the index alone (#16).
        Index(
            "ix_needs_status_activity_type_id_next_starts_at",
            "status",
            "activity_type_id",
            "next_starts_at",
        ),
        # "Near a postcode" and the suggestions: the bounding box on latitude read from the
        # index, with longitude and the next date in it too (no table rows for the box).
        Index("ix_needs_status_lat_lon", "status", "lat", "lon", "next_starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    centre_id: Mapped[int | None] = mapped_column(
        ForeignKey("centres.id", ondelete="SET NULL"), index=True
    )
    activity_type_id: Mapped[int] = mapped_column(
        ForeignKey("activity_types.id", ondelete="RESTRICT"), index=True
    )
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Whom volunteers ask about the need: a coordinator of its organisation, named with their
    # phone and email on the need's page and in every email about it (``needs.contact``).
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(160))
    description: Mapped[str] = mapped_column(Text, default="")
    # Where: the centre's place, or a postcode (and an optional street address). Shown only
    # through ``volunteer.needs.place``: the one formatter, and the one rule for who may see
    # the street (the need's managers, its centre's staff, an accepted volunteer).
    address: Mapped[str | None] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(4), index=True)
    town: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float]
    lon: Mapped[float]
    schedule: Mapped[str] = mapped_column(String(10), default=Schedule.ONCE)
    # The weekday of every occurrence (for a one-off need, its date's): what filters and the
    # matching use, the same way for both kinds of schedule.
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)
    skip_holidays: Mapped[bool] = mapped_column(Boolean, default=True)
    slots: Mapped[int] = mapped_column(Integer, default=1)
    requires_child_certificate: Mapped[bool] = mapped_column(Boolean, default=False)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default=NeedStatus.DRAFT)
    # A forløb's own weekly need (``volunteer.pairs``): never listed, matched or shown publicly.
    private: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The next scheduled date, kept with the occurrences (sync_occurrences) and refreshed by the
    # scheduler as dates pass, so the public list can sort and count without a subquery per need.
    # Whatever cancels or removes an occurrence sets it again (sync_occurrences, close_need), so
    # a value still ahead is always a scheduled occurrence (``bookings.bookable_sql`` relies on
    # it); one that has passed may lag behind by a job run.
    next_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    filled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    centre: Mapped[Centre | None] = relationship()
    activity_type: Mapped[ActivityType] = relationship()
    local_area: Mapped[LocalArea | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    contact: Mapped[User | None] = relationship(foreign_keys=[contact_id])
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="need", cascade="all, delete-orphan", order_by="Occurrence.starts_at"
    )

    @property
    def is_weekly(self) -> bool:
        return self.schedule == Schedule.WEEKLY

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.title!r} {self.status}>"


class Occurrence(Base):
    """One dated instance of a need, in UTC."""

    __tablename__ = "occurrences"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="end_after_start"),
        CheckConstraint(one_of("status", OccurrenceStatus), name="status"),
        UniqueConstraint("need_id", "starts_at"),
        Index("ix_occurrences_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=OccurrenceStatus.SCHEDULED)

    need: Mapped[Need] = relationship(back_populates="occurrences")

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600
