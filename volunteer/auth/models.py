"""Users, their roles, and which organisations and centres staff belong to."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.auth.sealed import SealedString
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
    # None for an account a coordinator keeps for someone without email (``managed_by_id``).
    # Unique among the addresses given: NULLs never collide, on SQLite or PostgreSQL.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
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
    # A managed account: made by a coordinator for someone who does not use the web (no
    # password, cannot log in) until its owner claims it (``claimed_at``) with an invitation
    # link or the one-time code of a claim letter (``volunteer.auth.managed``).
    managed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The claim letter's code, as a keyed hash (never the code), and when it stops working.
    claim_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    claim_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Two-factor (TOTP): the shared secret (set at enrolment, counts once confirmed with a code)
    # and the last time step used, so the same code cannot be used twice. Stored encrypted
    # (``volunteer.auth.sealed``).
    totp_secret: Mapped[str | None] = mapped_column(SealedString)
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=organisation_members, back_populates="members"
    )
    centres: Mapped[list[Centre]] = relationship(secondary=centre_staff, back_populates="staff")
    profile: Mapped[VolunteerProfile | None] = relationship(
        back_populates="user", foreign_keys="VolunteerProfile.user_id", cascade="all, delete-orphan"
    )
    oidc_links: Mapped[list[OidcLink]] = relationship(
        back_populates="user", foreign_keys="OidcLink.user_id", cascade="all, delete-orphan"
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(cascade="all, delete-orphan")

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.active and self.deleted_at is None

    @property
    def email_confirmed(self) -> bool:
        """Whether the account's email address is proved to be its owner's."""
        return self.email_confirmed_at is not None

    @hybrid_property
    def managed(self) -> bool:
        """A coordinator keeps the account for its owner, who has not claimed it yet."""
        return self.managed_by_id is not None and self.claimed_at is None

    @managed.inplace.expression
    @classmethod
    def _managed_sql(cls) -> ColumnElement[bool]:
        return and_(cls.managed_by_id.is_not(None), cls.claimed_at.is_(None))

    @hybrid_property
    def identity_confirmed(self) -> bool:
        """The one rule for whether anything about this person may go to third parties (a
        centre, a contact person, the matching): their address is proved by a link mailed to
        it, or a coordinator keeps the account for them (the coordinator met the person and
        vouches for them; until the owner claims it — from then on their own address counts)."""
        return self.email_confirmed_at is not None or bool(self.managed)

    @identity_confirmed.inplace.expression
    @classmethod
    def _identity_confirmed_sql(cls) -> ColumnElement[bool]:
        return or_(cls.email_confirmed_at.is_not(None), cls.managed)

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class OidcLink(Base):
    """An identity at an OpenID provider (``provider`` is its name in ``SAMSKAB_OIDC_PROVIDERS``)
    linked to an account. Only the provider's stable subject is kept: never a CPR number, never
    the other claims. Until ``approved_at`` is set (the password was proved, or a coordinator or
    administrator approved) the identity logs nobody in."""

    __tablename__ = "oidc_links"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        UniqueConstraint("provider", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The broker's age assurance at the last login (MitID: "over 18"), for the lektiecafé rules;
    # None when the provider said nothing.
    adult: Mapped[bool | None] = mapped_column(Boolean)

    user: Mapped[User] = relationship(back_populates="oidc_links", foreign_keys=[user_id])

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


class RecoveryCode(Base):
    """One of an account's one-time two-factor recovery codes, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginPolicy(Base):
    """How a staff role logs in, set by an administrator (audited): whether a second factor is
    required after the password, and whether the password may be used at all (off once the
    municipality's single sign-on works). No row: the defaults (password, no second factor)."""

    __tablename__ = "login_policies"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="role"),)

    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    require_two_factor: Mapped[bool] = mapped_column(Boolean, default=False)
    password_login: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
