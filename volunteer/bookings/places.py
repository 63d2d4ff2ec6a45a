"""Held and free places: one definition for every page, digest and report.

An accepted volunteer holds a place, so does one who said yes and waits for a coordinator's
approval (pending), and so does an open invitation (the invited volunteer may still say yes).
Free places are ``slots − held``, never below zero. Proposals and the waiting list hold
nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select

from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus

# Said yes: accepted, or waiting for approval before the first visit.
YES_STATES = (AssignmentState.ACCEPTED, AssignmentState.PENDING)
HELD_STATES = (*YES_STATES, AssignmentState.INVITED)


def _count(need_id: int, states: Sequence[str], other_than: int | None) -> int:
    query = select(func.count()).where(Assignment.need_id == need_id, Assignment.state.in_(states))
    if other_than is not None:
        query = query.where(Assignment.volunteer_id != other_than)
    return db.session.scalar(query) or 0


def held_count(need_id: int, *, other_than: int | None = None) -> int:
    """Places held on the need (accepted, pending, invited), leaving out ``other_than``."""
    return _count(need_id, HELD_STATES, other_than)


def accepted_count(need_id: int, *, other_than: int | None = None) -> int:
    """Volunteers who said yes to the need (accepted or pending approval), leaving out
    volunteer ``other_than``."""
    return _count(need_id, YES_STATES, other_than)


def held_counts(need_ids: Sequence[int]) -> dict[int, int]:
    """Places held per need, in one query (needs without any are left out)."""
    rows = db.session.execute(
        select(Assignment.need_id, func.count())
        .where(Assignment.need_id.in_(need_ids), Assignment.state.in_(HELD_STATES))
        .group_by(Assignment.need_id)
    )
    return {need_id: count for need_id, count in rows.all()}


def held_sql() -> Any:
    """Places held, as a scalar subquery correlated to ``Need`` (for lists and reports)."""
    return (
        select(func.count(Assignment.id))
        .where(Assignment.need_id == Need.id, Assignment.state.in_(HELD_STATES))
        .correlate(Need)
        .scalar_subquery()
    )


def free_of(slots: int, held: int) -> int:
    """Free places from the need's slots and the places held."""
    return max(0, slots - held)


def free_sql() -> Any:
    """Free places as an SQL expression on ``Need`` (``free_of`` in SQL); > 0 means free."""
    return Need.slots - held_sql()


def free_places(need: Need) -> int:
    """Free places on the need now."""
    return free_of(need.slots, held_count(need.id))


def seat_for(assignment: Assignment) -> bool:
    """Whether accepting would still fit: the accepted others leave a place. An invitation
    for a place the coordinator has since taken away (fewer slots) has none."""
    need = assignment.need
    return accepted_count(need.id, other_than=assignment.volunteer_id) < need.slots


def has_dates_ahead(need_id: int, now: datetime) -> bool:
    """Whether a scheduled date of the need is still to begin: a finished need is not open."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Occurrence.need_id == need_id,
                    Occurrence.starts_at > now,
                    Occurrence.status == OccurrenceStatus.SCHEDULED,
                )
            )
        )
    )


def bookable_sql(now: datetime) -> ColumnElement[bool]:
    """``has_dates_ahead`` for lists: open needs with a scheduled date still to begin.

    A kept ``Need.next_starts_at`` still ahead is such a date (whatever cancels or removes an
    occurrence sets it again), so only a need whose kept date has passed (it lags behind by a
    job run) asks its occurrences: the lists count and page from an index, not a subquery per
    need."""
    # "Has a scheduled date ahead" as the first such occurrence (a scalar subquery), not
    # EXISTS: under the OR, PostgreSQL would hash an EXISTS over every future occurrence.
    first_ahead = (
        select(Occurrence.id)
        .where(
            Occurrence.need_id == Need.id,
            Occurrence.starts_at > now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
        .limit(1)
        .scalar_subquery()
    )
    return (
        (Need.status == NeedStatus.OPEN)
        & Need.next_starts_at.is_not(None)
        & or_(Need.next_starts_at > now, first_ahead.is_not(None))
    )


def refresh_status(need: Need, now: datetime) -> None:
    """Open ↔ filled after places change: filled the moment every place is held."""
    held = held_count(need.id)
    if need.status == NeedStatus.OPEN and held >= need.slots:
        need.status = NeedStatus.FILLED
        need.filled_at = now
    elif need.status == NeedStatus.FILLED and held < need.slots:
        need.status = NeedStatus.OPEN
