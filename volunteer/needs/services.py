"""Needs and their occurrences: the schedule rules and the queries the pages use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import holidays
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from volunteer.centres.models import Visit
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.i18n import LOCAL_TZ
from volunteer.needs.models import Need, NeedStatus, Occurrence, OccurrenceStatus, Schedule

HORIZON_WEEKS = 8


def local_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a Copenhagen wall-clock time (DST is decided by the date)."""
    return datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(UTC)


@cache
def _danish_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("DK", years=year)


def is_public_holiday(day: date) -> bool:
    return day in _danish_holidays(day.year)


def occurrence_dates(need: Need, start: date, until: date) -> list[date]:
    """The dates in [start, until] on which the need takes place."""
    if need.schedule == Schedule.ONCE:
        return [need.first_date] if start <= need.first_date <= until else []
    first = max(start, need.first_date)
    last = min(until, need.last_date) if need.last_date else until
    offset = (need.weekday - first.weekday()) % 7
    day = first + timedelta(days=offset)
    dates = []
    while day <= last:
        if not (need.skip_holidays and is_public_holiday(day)):
            dates.append(day)
        day += timedelta(days=7)
    return dates


def sync_occurrences(need: Need, today: date, weeks: int = HORIZON_WEEKS) -> None:
    """Bring the need's future occurrences in step with its schedule, up to ``weeks`` ahead.

    Missing occurrences are added. Future ones the schedule no longer has are deleted when no
    visit refers to them, and cancelled otherwise, so visits are never silently lost.
    Does not commit.
    """
    until = today + timedelta(weeks=weeks)
    wanted = {
        local_to_utc(day, need.start_time): local_to_utc(day, need.end_time)
        for day in occurrence_dates(need, today, until)
    }
    existing = {
        o.starts_at: o
        for o in db.session.scalars(
            select(Occurrence).where(
                Occurrence.need_id == need.id,
                Occurrence.starts_at >= local_to_utc(today, time(0)),
            )
        )
    }
    with_visits = set(
        db.session.scalars(
            select(Visit.occurrence_id).where(
                Visit.occurrence_id.in_([o.id for o in existing.values()])
            )
        )
    )
    for starts_at, occurrence in existing.items():
        if starts_at in wanted:
            occurrence.ends_at = wanted[starts_at]
        elif occurrence.id in with_visits:
            occurrence.status = OccurrenceStatus.CANCELLED
        else:
            db.session.delete(occurrence)
    for starts_at, ends_at in wanted.items():
        if starts_at not in existing:
            db.session.add(Occurrence(need=need, starts_at=starts_at, ends_at=ends_at))
    db.session.flush()


@dataclass(frozen=True)
class NeedCard:
    """What a list of needs shows about one need."""

    need: Need
    next_starts_at: datetime | None
    accepted: int

    @property
    def open_slots(self) -> int:
        return max(0, self.need.slots - self.accepted)


def _accepted_counts(need_ids: Sequence[int]) -> dict[int, int]:
    rows = db.session.execute(
        select(Assignment.need_id, func.count())
        .where(Assignment.need_id.in_(need_ids), Assignment.state == AssignmentState.ACCEPTED)
        .group_by(Assignment.need_id)
    )
    return dict(rows.all())


def _next_starts(need_ids: Sequence[int], now: datetime) -> dict[int, datetime]:
    rows = db.session.execute(
        select(Occurrence.need_id, func.min(Occurrence.starts_at))
        .where(
            Occurrence.need_id.in_(need_ids),
            Occurrence.starts_at >= now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
        .group_by(Occurrence.need_id)
    )
    return dict(rows.all())


def cards_for(needs: Iterable[Need], now: datetime) -> list[NeedCard]:
    """List entries for ``needs`` with two queries in all, whatever their number."""
    needs = list(needs)
    ids = [n.id for n in needs]
    accepted = _accepted_counts(ids)
    next_starts = _next_starts(ids, now)
    return [NeedCard(n, next_starts.get(n.id), accepted.get(n.id, 0)) for n in needs]


def open_needs_query(now: datetime) -> Select[tuple[Need]]:
    """Open needs that still have a date ahead, soonest first, with what the list shows loaded."""
    next_start = (
        select(func.min(Occurrence.starts_at))
        .where(
            Occurrence.need_id == Need.id,
            Occurrence.starts_at >= now,
            Occurrence.status == OccurrenceStatus.SCHEDULED,
        )
        .correlate(Need)
        .scalar_subquery()
    )
    return (
        select(Need)
        .where(Need.status == NeedStatus.OPEN, next_start.is_not(None))
        .options(joinedload(Need.activity_type), joinedload(Need.centre))
        .order_by(next_start, Need.id)
    )


def get_public_need(need_id: int) -> Need | None:
    """A need anyone may look at: open or filled (drafts and closed needs are not public)."""
    need = db.session.get(Need, need_id)
    if need is None or need.status not in (NeedStatus.OPEN, NeedStatus.FILLED):
        return None
    return need


def upcoming_occurrences(need: Need, now: datetime, limit: int = 5) -> list[Occurrence]:
    return list(
        db.session.scalars(
            select(Occurrence)
            .where(
                Occurrence.need_id == need.id,
                Occurrence.starts_at >= now,
                Occurrence.status == OccurrenceStatus.SCHEDULED,
            )
            .order_by(Occurrence.starts_at)
            .limit(limit)
        )
    )
