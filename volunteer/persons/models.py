"""The people the schemes help (*borgere*) and the referrals (*henvisninger*) that bring them.

Never a CPR number, never health data: free texts are checked for something that looks like a
CPR number (``services.contains_cpr``) and the forms warn against both. The exact address and
the phone of a person are shown only where ``services.can_see_contact`` allows it.

The tables are marked ``info={"helped_person": True}``: they hold data about someone else than
the staff user they point at (who created or decided them), so a staff member's own GDPR export
leaves them out (``volunteer.volunteers.gdpr``); the person's own export is
``gdpr.export_helped_person``.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    Time,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow
from volunteer.volunteers.models import Gender

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.catalogue.models import ActivityType, LocalArea, Organisation

HELPED_PERSON = {"helped_person": True}


class PersonState(enum.StrEnum):
    WAITING = "waiting"
    PAIRED = "paired"
    ENDED = "ended"


class ConsentMethod(enum.StrEnum):
    """How the person's consent to be registered was given."""

    WRITTEN = "written"
    ORAL_TO_STAFF = "oral_to_staff"
    RELATIVE_WITH_POWER_OF_ATTORNEY = "power_of_attorney"


class ReferrerRelation(enum.StrEnum):
    """Who refers: a relative, home-care or other staff, the person themself, someone else."""

    RELATIVE = "relative"
    STAFF = "staff"
    SELF = "self"
    OTHER = "other"


class ReferralState(enum.StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    DECLINED = "declined"


person_activity_types = Table(
    "person_activity_types",
    Base.metadata,
    Column("person_id", ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "activity_type_id", ForeignKey("activity_types.id", ondelete="CASCADE"), primary_key=True
    ),
    info=HELPED_PERSON,
)


class Person(Base):
    """A senior or a family a scheme helps: a *borger*. Belongs to one organisation, whose
    coordinators manage them."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint(one_of("state", PersonState), name="state"),
        CheckConstraint(
            "consent_method IS NULL OR " + one_of("consent_method", ConsentMethod),
            name="consent_method",
        ),
        CheckConstraint("lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180", name="point"),
        CheckConstraint("state != 'ended' OR ended_on IS NOT NULL", name="ended_on"),
        CheckConstraint("wish_gender = '' OR " + one_of("wish_gender", Gender), name="wish_gender"),
        CheckConstraint("wish_gender != '' OR NOT wish_required", name="wish_required"),
        {"info": HELPED_PERSON},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(4), index=True)
    town: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float]
    lon: Mapped[float]
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL"), index=True
    )
    # What they would like: activity types (below), interests in their own words, languages,
    # and the weekly windows that suit them.
    interests: Mapped[str] = mapped_column(Text, default="")
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["da"])
    # The person's own wish about the volunteer ("en kvinde"), in their words; matching may use
    # it as a hard rule only because they asked for it.
    volunteer_wish: Mapped[str] = mapped_column(Text, default="")
    # The same wish in a form the matching reads: the volunteer's gender ("" for no wish, or a
    # ``Gender``), and whether the person asked for it as a requirement. Required, only
    # volunteers who declared that gender are proposed; otherwise it only ranks them.
    wish_gender: Mapped[str] = mapped_column(String(5), default="", server_default=text("''"))
    wish_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    contact_name: Mapped[str | None] = mapped_column(String(120))
    contact_relation: Mapped[str | None] = mapped_column(String(80))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # The consent record: by whom, on which date, and how.
    consent_given_by: Mapped[str | None] = mapped_column(String(120))
    consent_given_on: Mapped[date | None] = mapped_column(Date)
    consent_method: Mapped[str | None] = mapped_column(String(20))
    consent_recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(10), default=PersonState.WAITING, index=True)
    waiting_since: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    local_area: Mapped[LocalArea | None] = relationship()
    activity_types: Mapped[list[ActivityType]] = relationship(
        secondary=person_activity_types, order_by="ActivityType.sort_order"
    )
    windows: Mapped[list[PersonWindow]] = relationship(
        back_populates="person",
        cascade="all, delete-orphan",
        order_by="(PersonWindow.weekday, PersonWindow.start_time)",
    )
    consent_recorded_by: Mapped[User | None] = relationship(foreign_keys=[consent_recorded_by_id])

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.state}>"


class PersonWindow(Base):
    """A weekly window in local time that suits the person (0 = Monday), as a volunteer's
    ``AvailabilityWindow``."""

    __tablename__ = "person_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("end_time > start_time", name="end_after_start"),
        {"info": HELPED_PERSON},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)

    person: Mapped[Person] = relationship(back_populates="windows")


class Referral(Base):
    """A *henvisning*: someone without an account asks for a spiseven or besøgsven for a
    person. Lands in the queue of the organisation chosen from the postcode
    (``services.route_postcode``); becomes a Person, or is declined with a reason."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(one_of("state", ReferralState), name="state"),
        CheckConstraint(one_of("referrer_relation", ReferrerRelation), name="referrer_relation"),
        {"info": HELPED_PERSON},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL")
    )
    referrer_name: Mapped[str] = mapped_column(String(120))
    referrer_relation: Mapped[str] = mapped_column(String(10))
    referrer_phone: Mapped[str | None] = mapped_column(String(32))
    referrer_email: Mapped[str | None] = mapped_column(String(254))
    person_name: Mapped[str] = mapped_column(String(120))
    person_postcode: Mapped[str] = mapped_column(String(4))
    person_town: Mapped[str] = mapped_column(String(80))
    person_address: Mapped[str] = mapped_column(String(200))
    person_phone: Mapped[str | None] = mapped_column(String(32))
    # Activity type codes (the ones offered to persons) the referral asks for.
    activity_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str] = mapped_column(String(2), default="da")
    state: Mapped[str] = mapped_column(String(10), default=ReferralState.NEW, index=True)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()
    local_area: Mapped[LocalArea | None] = relationship()
    person: Mapped[Person | None] = relationship()

    def __repr__(self) -> str:
        return f"<Referral {self.id} {self.state}>"
