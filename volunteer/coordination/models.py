"""Assignments: a volunteer paired with a need, from proposal to the end of the commitment."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from volunteer.db import Base, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from volunteer.auth.models import User
    from volunteer.catalogue.models import ActivityType, LocalArea, Organisation
    from volunteer.needs.models import Need


class AssignmentState(enum.StrEnum):
    PROPOSED = "proposed"  # suggested by matching, waiting for the coordinator
    WAITLISTED = "waitlisted"  # signed up to a full need; offered the next free slot in order
    INVITED = "invited"  # approved by the coordinator, waiting for the volunteer
    PENDING = "pending"  # said yes to an activity that needs approval; waiting for a coordinator
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"


# The state machine. ``volunteer.bookings.move`` is the only writer of ``Assignment.state`` and
# refuses every other move. A finished row (declined, expired, withdrawn, ended) may start
# again by signing up: there is one row per volunteer and need, so it is reused.
_AGAIN = frozenset({AssignmentState.ACCEPTED, AssignmentState.PENDING, AssignmentState.WAITLISTED})
TRANSITIONS: dict[AssignmentState, frozenset[AssignmentState]] = {
    AssignmentState.PROPOSED: frozenset(
        {AssignmentState.INVITED, AssignmentState.DECLINED, AssignmentState.EXPIRED}
    ),
    AssignmentState.WAITLISTED: frozenset(
        {
            AssignmentState.INVITED,
            AssignmentState.ACCEPTED,
            AssignmentState.PENDING,
            AssignmentState.WITHDRAWN,
        }
    ),
    AssignmentState.INVITED: frozenset(
        {
            AssignmentState.ACCEPTED,
            AssignmentState.PENDING,
            AssignmentState.DECLINED,
            AssignmentState.EXPIRED,
        }
    ),
    # A coordinator approves (after a first conversation) or declines; the volunteer may leave.
    AssignmentState.PENDING: frozenset(
        {AssignmentState.ACCEPTED, AssignmentState.DECLINED, AssignmentState.WITHDRAWN}
    ),
    AssignmentState.ACCEPTED: frozenset({AssignmentState.WITHDRAWN, AssignmentState.ENDED}),
    AssignmentState.DECLINED: _AGAIN,
    AssignmentState.EXPIRED: _AGAIN,
    AssignmentState.WITHDRAWN: _AGAIN,
    AssignmentState.ENDED: _AGAIN,
}


class Approval(Base):
    """A coordinator has met the volunteer (a first conversation) and approved them for an
    activity type that requires it, in one organisation: their later sign-ups are accepted."""

    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("volunteer_id", "organisation_id", "activity_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    activity_type_id: Mapped[int] = mapped_column(
        ForeignKey("activity_types.id", ondelete="CASCADE")
    )
    talked_on: Mapped[date]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AssignmentSource(enum.StrEnum):
    MATCHING = "matching"
    SIGNUP = "signup"
    MANUAL = "manual"


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(one_of("state", AssignmentState), name="state"),
        CheckConstraint(one_of("source", AssignmentSource), name="source"),
        # One row per volunteer and need: a double click or a refresh cannot create a second one.
        UniqueConstraint("need_id", "volunteer_id"),
        # Sign-up order, numbered under the need's lock: no two sign-ups share a place in line.
        UniqueConstraint("need_id", "queue_number"),
        Index("ix_assignments_need_id_state", "need_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"))
    match_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("match_runs.id", ondelete="SET NULL"), index=True
    )
    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(10))
    km: Mapped[float | None]
    score: Mapped[float | None]
    explanation: Mapped[list[Any]] = mapped_column(JSON, default=list)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # 1, 2, 3 … in the order sign-ups took the need's lock; orders the waiting list. A counter,
    # not a timestamp: web nodes' clocks differ and a request's clock is read before it waits.
    queue_number: Mapped[int | None]
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invite_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    need: Mapped[Need] = relationship()
    match_run: Mapped[MatchRun | None] = relationship()
    volunteer: Mapped[User] = relationship(foreign_keys=[volunteer_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def can_move_to(self, state: AssignmentState) -> bool:
        return state in TRANSITIONS[AssignmentState(self.state)]


class RunState(enum.StrEnum):
    QUEUED = "queued"  # asked for on the web; waiting for the worker (the scheduler)
    RUNNING = "running"  # claimed by a worker, the engine is solving
    DONE = "done"  # proposals and figures stored
    FAILED = "failed"  # the engine or the worker failed; ``error`` says why


# A run's life; ``volunteer.coordination.runs.move`` is the only writer of ``MatchRun.state``.
RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.QUEUED: frozenset({RunState.RUNNING}),
    RunState.RUNNING: frozenset({RunState.DONE, RunState.FAILED}),
    RunState.DONE: frozenset(),
    RunState.FAILED: frozenset(),
}
ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)


class MatchRun(Base):
    """One run of the matching for an organisation: who asked, when, for what, how far it has
    got (``state``), and when done the engine's figures."""

    __tablename__ = "match_runs"
    __table_args__ = (
        CheckConstraint(one_of("status", ("optimal", "feasible")), name="status"),
        CheckConstraint(one_of("state", RunState), name="state"),
        CheckConstraint("gap >= 0", name="gap"),
        # One queued or running run per organisation, even for two clicks at the same moment: a
        # run replaces the proposals for its needs, and areas share the volunteers, so two runs
        # of one organisation at once would offer the same volunteer twice.
        Index(
            "uq_match_runs_organisation_id_active",
            "organisation_id",
            unique=True,
            sqlite_where=text("state IN ('queued', 'running')"),
            postgresql_where=text("state IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    local_area_id: Mapped[int | None] = mapped_column(
        ForeignKey("local_areas.id", ondelete="SET NULL")
    )
    activity_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity_types.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dry_run: Mapped[bool] = mapped_column(default=False)
    # The server default serves the previous version's code during a rolling upgrade: it writes
    # only solved runs and does not know this column.
    state: Mapped[str] = mapped_column(
        String(8), default=RunState.QUEUED, server_default=RunState.DONE.value
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a failed run failed, for the coordinator's page and the operator.
    error: Mapped[str | None] = mapped_column(Text)
    # The engine's figures, set when the run is done (None or 0 until then).
    status: Mapped[str | None] = mapped_column(String(10))
    gap: Mapped[float] = mapped_column(default=0.0)
    seconds: Mapped[float] = mapped_column(default=0.0)
    needs: Mapped[int] = mapped_column(default=0)
    volunteers: Mapped[int] = mapped_column(default=0)
    proposals: Mapped[int] = mapped_column(default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Needs left (partly) unfilled and why: {need id: {"open": n, "reason": code}}.
    unmatched: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    organisation: Mapped[Organisation] = relationship()
    local_area: Mapped[LocalArea | None] = relationship()
    activity_type: Mapped[ActivityType | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more will happen to this run."""
        return not RUN_TRANSITIONS[RunState(self.state)]
