"""Organisations, local areas, centres and activity types: the world that needs live in."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.auth.models import centre_staff, organisation_members
from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.auth.models import User

ORGANISATION_KINDS = ("municipality", "association", "local_council")
CENTRE_KINDS = ("plejecenter", "aktivitetscenter", "bibliotek", "skole", "andet")


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(one_of("kind", ORGANISATION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary=organisation_members, back_populates="organisations"
    )
    centres: Mapped[list[Centre]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"


class LocalArea(Base):
    """A lokalområde: the unit Hedensted's local councils, filters and reports work in."""

    __tablename__ = "local_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    postcode: Mapped[str | None] = mapped_column(String(4))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    organisation: Mapped[Organisation | None] = relationship()

    def __repr__(self) -> str:
        return f"<LocalArea {self.name}>"


class Centre(Base):
    """A place where activities happen: plejecenter, aktivitetscenter, library, school."""

    __tablename__ = "centres"
    __table_args__ = (
        CheckConstraint(one_of("kind", CENTRE_KINDS), name="kind"),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(4))
    town: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float]
    lon: Mapped[float]
    phone: Mapped[str | None] = mapped_column(String(32))
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    organisation: Mapped[Organisation] = relationship(back_populates="centres")
    local_area: Mapped[LocalArea | None] = relationship()
    staff: Mapped[list[User]] = relationship(secondary=centre_staff, back_populates="centres")

    def __repr__(self) -> str:
        return f"<Centre {self.name}>"


class ActivityType(Base):
    __tablename__ = "activity_types"
    __table_args__ = (CheckConstraint("code = lower(code)", name="code_lower"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_da: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    description_da: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    requires_child_certificate: Mapped[bool] = mapped_column(Boolean, default=False)
    # A coordinator approves each volunteer (after a first conversation) before their first visit.
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Offered to the people we help (spisevenner, besøgsven): a referral may ask for it.
    for_persons: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_da

    def description(self, locale: str) -> str:
        return self.description_en if locale == "en" else self.description_da

    def __repr__(self) -> str:
        return f"<ActivityType {self.code}>"
