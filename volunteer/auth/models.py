"""Users, their roles, and which organisations and centres staff belong to."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.catalogue.models import Centre, Organisation
    from volunteer.volunteers.models import VolunteerProfile


class Role(enum.StrEnum):
    VOLUNTEER = "volunteer"
    COORDINATOR = "coordinator"
    CENTRE = "centre"
    ADMIN = "admin"


LOCALES = ("da", "en")


class ContactChannel(enum.StrEnum):
    """How a person wants reminders and invitations: ``notifications.services.channels_for``."""

    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


organisation_members = Table(
    "organisation_members",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
)

centre_staff = Table(
    "centre_staff",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("centre_id", ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(one_of("role", Role), name="role"),
        CheckConstraint(one_of("locale", LOCALES), name="locale"),
        CheckConstraint(one_of("contact_channel", ContactChannel), name="contact_channel"),
        CheckConstraint("email = lower(email)", name="email_lower"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    contact_channel: Mapped[str] = mapped_column(
        String(5), default=ContactChannel.EMAIL, server_default=ContactChannel.EMAIL.value
    )
    role: Mapped[str] = mapped_column(String(16), default=Role.VOLUNTEER)
    locale: Mapped[str] = mapped_column(String(2), default="da")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What the session cookie carries instead of the id: changing it logs the user out everywhere
    # (at logout, password reset, deletion), which a signed cookie alone cannot do.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the owner of the address proved it (a link mailed to it); None until then. Nothing
    # about a volunteer goes to third parties before (``email_confirmed``).
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_members, back_populates="members"
    )
    centres: Mapped[list[Centre]] = relationship(secondary=centre_staff, back_populates="staff")
    profile: Mapped[VolunteerProfile | None] = relationship(
        back_populates="user", foreign_keys="VolunteerProfile.user_id", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active and self.deleted_at is None

    @property
    def email_confirmed(self) -> bool:
        """Whether the account's email address is proved to be its owner's."""
        return self.email_confirmed_at is not None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"
