"""A volunteer's profile: where they live, how far they travel, when they are free, what they like.

The data minimisation rules of the privacy notice apply here first.
"""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.catalogue.models import ActivityType, LocalArea, Organisation

volunteer_interests = Table(
    "volunteer_interests",
    Base.metadata,
    Column("profile_id", ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "activity_type_id", ForeignKey("activity_types.id", ondelete="CASCADE"), primary_key=True
    ),
)

# The organisations a volunteer lets contact them; coordinators see only their members.
organisation_volunteers = Table(
    "organisation_volunteers",
    Base.metadata,
    Column("profile_id", ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False, default=utcnow),
)


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class Gender(enum.StrEnum):
    """A volunteer's gender as they declared it (never guessed), and what a person may wish
    their volunteer to be ("en kvinde"). Not declared is the empty string."""

    WOMAN = "woman"
    MAN = "man"


class VolunteerProfile(Base):
    """One per volunteer user.

    The børneattest is recorded as the fact that a coordinator checked it (when, by whom, valid
    until) — never the certificate itself and never a CPR number.
    """

    __tablename__ = "volunteer_profiles"
    __table_args__ = (
        CheckConstraint("max_km >= 0 AND max_km <= 200", name="max_km"),
        CheckConstraint("weekly_capacity >= 1 AND weekly_capacity <= 14", name="weekly_capacity"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point"),
        CheckConstraint(
            "child_cert_valid_until IS NULL OR child_cert_checked_on IS NULL "
            "OR child_cert_valid_until >= child_cert_checked_on",
            name="child_cert_dates",
        ),
        CheckConstraint("gender = '' OR " + one_of("gender", Gender), name="gender"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    postcode: Mapped[str] = mapped_column(String(4), index=True)
    town: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float]
    lon: Mapped[float]
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL"), index=True
    )
    max_km: Mapped[float] = mapped_column(default=10.0)
    weekly_capacity: Mapped[int] = mapped_column(Integer, default=1)
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["da"])
    skills: Mapped[str] = mapped_column(Text, default="")
    about: Mapped[str] = mapped_column(Text, default="")
    paused_until: Mapped[date | None] = mapped_column(Date)
    # Optional and the volunteer's own: "" (they would rather not say) or a ``Gender``. Some
    # people we help ask for a woman or a man; only coordinators of their organisations see it.
    gender: Mapped[str] = mapped_column(String(5), default="", server_default=text("''"))
    child_cert_checked_on: Mapped[date | None] = mapped_column(Date)
    child_cert_valid_until: Mapped[date | None] = mapped_column(Date)
    child_cert_checked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The secret in the private calendar feed URL; replacing it revokes the old URL.
    calendar_token: Mapped[str | None] = mapped_column(
        String(64), unique=True, default=new_calendar_token
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="profile", foreign_keys=[user_id])
    child_cert_checked_by: Mapped[User | None] = relationship(
        foreign_keys=[child_cert_checked_by_id]
    )
    local_area: Mapped[LocalArea | None] = relationship()
    interests: Mapped[list[ActivityType]] = relationship(secondary=volunteer_interests)
    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_volunteers, order_by="Organisation.name"
    )
    availability: Mapped[list[AvailabilityWindow]] = relationship(
        back_populates="profile",
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_time)",
    )
    away_periods: Mapped[list[AwayPeriod]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="AwayPeriod.start_date"
    )

    def has_valid_child_certificate(self, on: date) -> bool:
        return self.child_cert_valid_until is not None and self.child_cert_valid_until >= on

    def __repr__(self) -> str:
        return f"<VolunteerProfile user={self.user_id} {self.postcode}>"


class AvailabilityWindow(Base):
    """A weekly window in local time when the volunteer is free (0 = Monday)."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        UniqueConstraint("profile_id", "weekday", "start_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    profile: Mapped[VolunteerProfile] = relationship(back_populates="availability")


class AwayPeriod(Base):
    """Dates the volunteer is away (holiday, illness): not offered anything then."""

    __tablename__ = "away_periods"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="end_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("volunteer_profiles.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)

    profile: Mapped[VolunteerProfile] = relationship(back_populates="away_periods")
