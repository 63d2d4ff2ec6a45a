"""Proposals (*forslag*) and what hangs on them: edit history, co-authors, "Jeg er med",
followers, comments and reports of comments, and the events the followers' digest tells.

Amounts are whole øre (integers), shown in kroner with the page's number format. Dates a person
means (the answer deadline) are Copenhagen dates (``volunteer.clock``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.catalogue.models import LocalArea, Organisation


class ProposalState(enum.StrEnum):
    DRAFT = "draft"
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    ADOPTED = "adopted"
    DECLINED = "declined"
    COMPLETED = "completed"


# The states that still wait for an official answer (adopted or declined).
AWAITING_ANSWER = frozenset({ProposalState.RECEIVED, ProposalState.UNDER_REVIEW})


class ProposalSchedule(enum.StrEnum):
    WEEKLY = "weekly"
    ONCE = "once"


class AuthorState(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class SupportKind(enum.StrEnum):
    HELPER = "helper"
    PARTICIPANT = "participant"


class EventKind(enum.StrEnum):
    STATE = "state"
    COMMENT = "comment"
    EDIT = "edit"


class Proposal(Base):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(one_of("state", ProposalState), name="state"),
        CheckConstraint(one_of("schedule", ProposalSchedule), name="schedule"),
        CheckConstraint("weekday IS NULL OR weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("helpers_wanted BETWEEN 0 AND 500", name="helpers_wanted"),
        CheckConstraint("amount_ore >= 0", name="amount_ore"),
        CheckConstraint(
            "state != 'declined' OR (answer_text IS NOT NULL AND answer_text != '')",
            name="declined_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(160))
    what: Mapped[str] = mapped_column(Text, default="")
    for_whom: Mapped[str] = mapped_column(Text, default="")
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL"), index=True
    )
    postcode: Mapped[str] = mapped_column(String(4))
    town: Mapped[str] = mapped_column(String(80), default="")
    schedule: Mapped[str] = mapped_column(String(10), default=ProposalSchedule.WEEKLY)
    weekday: Mapped[int | None] = mapped_column(Integer)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    first_date: Mapped[date | None] = mapped_column(Date)
    helpers_wanted: Mapped[int] = mapped_column(Integer, default=0)
    helper_roles: Mapped[str] = mapped_column(Text, default="")
    # What the proposers ask of the municipality.
    ask_room: Mapped[bool] = mapped_column(Boolean, default=False)
    ask_materials: Mapped[str] = mapped_column(Text, default="")
    amount_ore: Mapped[int] = mapped_column(Integer, default=0)
    # Who answers: the coordinators of this organisation (else of the local area's council).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[str] = mapped_column(String(12), default=ProposalState.DRAFT, index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_deadline: Mapped[date | None] = mapped_column(Date, index=True)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    local_area: Mapped[LocalArea | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    authors: Mapped[list[ProposalAuthor]] = relationship(
        back_populates="proposal", cascade="all, delete-orphan", order_by="ProposalAuthor.id"
    )

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.state}>"


class ProposalRevision(Base):
    """One edit: who, when, and each changed field's old and new value."""

    __tablename__ = "proposal_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class ProposalAuthor(Base):
    """A co-author, invited by email; a user once they accept."""

    __tablename__ = "proposal_authors"
    __table_args__ = (
        CheckConstraint(one_of("state", AuthorState), name="state"),
        UniqueConstraint("proposal_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default=AuthorState.INVITED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal: Mapped[Proposal] = relationship(back_populates="authors")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


class ProposalSupport(Base):
    """ "Jeg er med": as a helper or a participant, one per user and proposal."""

    __tablename__ = "proposal_supports"
    __table_args__ = (
        CheckConstraint(one_of("kind", SupportKind), name="kind"),
        UniqueConstraint("proposal_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    user: Mapped[User] = relationship()


class ProposalFollow(Base):
    __tablename__ = "proposal_follows"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalComment(Base):
    """A comment; a coordinator may hide it, with a reason shown where it was."""

    __tablename__ = "proposal_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposal: Mapped[Proposal] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    hidden_by: Mapped[User | None] = relationship(foreign_keys=[hidden_by_id])


class CommentReport(Base):
    """Someone reports a comment as abusive (once per comment)."""

    __tablename__ = "comment_reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("proposal_comments.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProposalEvent(Base):
    """A change the followers and authors are told about, with its text (the old and new state
    and the answer, the comment's excerpt, the fields edited). ``digested_at``: the digest that
    told it has been put in the outbox."""

    __tablename__ = "proposal_events"
    __table_args__ = (CheckConstraint(one_of("kind", EventKind), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    digested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    proposal: Mapped[Proposal] = relationship()
    actor: Mapped[User | None] = relationship()


class ProposalNeed(Base):
    """A need an adopted proposal became (one proposal may become several)."""

    __tablename__ = "proposal_needs"

    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivityLead(Base):
    """A *tovholder*: the proposer as the contact person of the one activity (need) their
    proposal became. Not a role on the account: it lets them see that need's helpers and
    confirm its visits, and nothing else (``adoption.lead_needs``)."""

    __tablename__ = "activity_leads"

    need_id: Mapped[int] = mapped_column(
        ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Pool(Base):
    """A local-area fund (*pulje*): an amount a local area has for proposals in one year.
    ``voting``: the area's residents vote (approval style) before the council decides, until
    ``voting_closes_on`` (a Copenhagen date, inclusive)."""

    __tablename__ = "pools"
    __table_args__ = (
        UniqueConstraint("local_area_id", "year"),
        CheckConstraint("amount_ore >= 0", name="amount_ore"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    local_area_id: Mapped[int] = mapped_column(
        ForeignKey("local_areas.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    amount_ore: Mapped[int] = mapped_column(Integer, default=0)
    voting: Mapped[bool] = mapped_column(Boolean, default=False)
    voting_closes_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    local_area: Mapped[LocalArea] = relationship()


class PoolGrant(Base):
    """What the council granted a proposal from a pool (one grant per proposal)."""

    __tablename__ = "pool_grants"
    __table_args__ = (CheckConstraint("amount_ore > 0", name="amount_ore"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), unique=True
    )
    amount_ore: Mapped[int] = mapped_column(Integer)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    pool: Mapped[Pool] = relationship()


class PoolVote(Base):
    """A resident approves a proposal in the pool's vote: once per account, pool and proposal
    (approval voting: a resident may approve several proposals)."""

    __tablename__ = "pool_votes"
    __table_args__ = (UniqueConstraint("pool_id", "user_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pool: Mapped[Pool] = relationship()
    proposal: Mapped[Proposal] = relationship()


class ActivityReport(Base):
    """The tovholder's close-out of an activity (a need a proposal became): how many took
    part, how many times it met, and a short note. Made when the activity ends and every three
    months (``closeout.closeout_reminders`` asks for it)."""

    __tablename__ = "activity_reports"
    __table_args__ = (
        CheckConstraint("participants BETWEEN 0 AND 100000", name="participants"),
        CheckConstraint("sessions BETWEEN 0 AND 10000", name="sessions"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    participants: Mapped[int] = mapped_column(Integer, default=0)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
