"""Time clashes and weekly capacity: may this volunteer take this need as well?

A need's dates are a weekday, a time and a date range (a one-off need is a range of one day),
so two needs clash when they share a weekday, their times overlap and a date lies in both
ranges. Weekly capacity ("Højst hvor mange aktiviteter om ugen?") counts the activities that
meet in one calendar week. Only what is still ahead of ``today`` counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from volunteer.auth.models import User
from volunteer.clock import local_today
from volunteer.coordination.models import Assignment, AssignmentState
from volunteer.extensions import db
from volunteer.needs.models import Need

# What busies a volunteer: places held (accepted, pending approval, invited). Coordinators'
# proposals count too when building a proposal, so a review never holds two proposals at one
# time for one person.
COMMITTED_STATES = (AssignmentState.ACCEPTED, AssignmentState.PENDING, AssignmentState.INVITED)
PROPOSING_STATES = (*COMMITTED_STATES, AssignmentState.PROPOSED)


@dataclass(frozen=True)
class Slot:
    """A need's dates from today: weekday, times, first and last date (None: no end)."""

    need_id: int
    title: str
    weekday: int
    start: time
    end: time
    first: date
    last: date | None


def slot_of(need: Need, today: date) -> Slot | None:
    """The need's dates still ahead, from its first to its last date on its weekday; None when
    none is left."""
    first = max(need.first_date, today)
    first += timedelta(days=(need.weekday - first.weekday()) % 7)
    last = need.last_date
    if last is not None:
        last -= timedelta(days=(last.weekday() - need.weekday) % 7)
        if last < first:
            return None
    return Slot(need.id, need.title, need.weekday, need.start_time, need.end_time, first, last)


def clash(a: Slot, b: Slot) -> bool:
    """Whether the two meet at some date and time (their dates fall on the same weekday grid,
    so ranges that overlap share a date)."""
    return (
        a.weekday == b.weekday
        and a.start < b.end
        and b.start < a.end
        and (b.last is None or a.first <= b.last)
        and (a.last is None or b.first <= a.last)
    )


def _week(day: date) -> int:
    return (day.toordinal() - 1) // 7  # 0001-01-01 was a Monday


def _weeks(slot: Slot) -> tuple[int, float]:
    return _week(slot.first), float("inf") if slot.last is None else _week(slot.last)


def most_in_one_week(target: Slot, others: Iterable[Slot]) -> int:
    """The most of ``others`` that take place in one week of ``target``'s weeks."""
    lo, hi = _weeks(target)
    events: list[tuple[float, int]] = []
    for slot in others:
        start, end = _weeks(slot)
        start, end = max(start, lo), min(end, hi)
        if start <= end:
            events += [(start, 1), (end + 1, -1)]
    most = current = 0
    for _week_number, step in sorted(events, key=lambda e: (e[0], e[1])):
        current += step
        most = max(most, current)
    return most


def conflict(target: Slot, busy: Sequence[Slot], capacity: int) -> str | None:
    """Why a volunteer busy with ``busy`` cannot also take ``target``: "clash" (at the same
    time as one of them) or "over_capacity" (a week would hold more than ``capacity``);
    None when they can. The target's own need in ``busy`` is ignored."""
    others = [slot for slot in busy if slot.need_id != target.need_id]
    if any(clash(target, slot) for slot in others):
        return "clash"
    if most_in_one_week(target, others) + 1 > capacity:
        return "over_capacity"
    return None


def commitments(
    volunteer_ids: Iterable[int],
    today: date,
    states: Sequence[str] = COMMITTED_STATES,
) -> dict[int, list[Slot]]:
    """Each volunteer's commitments still ahead (one query for all of them)."""
    ids = list(volunteer_ids)
    result: dict[int, list[Slot]] = defaultdict(list)
    if not ids:
        return result
    rows = db.session.execute(
        select(Assignment.volunteer_id, Need)
        .join(Need, Need.id == Assignment.need_id)
        .where(Assignment.volunteer_id.in_(ids), Assignment.state.in_(states))
    ).all()
    for volunteer_id, need in rows:
        slot = slot_of(need, today)
        if slot is not None:
            result[volunteer_id].append(slot)
    return result


def conflict_for(
    volunteer: User,
    need: Need,
    now: datetime,
    *,
    states: Sequence[str] = COMMITTED_STATES,
) -> str | None:
    """``conflict`` for one volunteer and need, with their commitments from the database."""
    profile = volunteer.profile
    today = local_today(now)
    target = slot_of(need, today)
    if profile is None or target is None:
        return None
    busy = commitments([volunteer.id], today, states)[volunteer.id]
    return conflict(target, busy, profile.weekly_capacity)
