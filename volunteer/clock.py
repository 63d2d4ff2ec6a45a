"""The local (Europe/Copenhagen) clock: the one home for "today" and wall-clock conversion.

Everything is stored in UTC; a date a person means ("today", "the 3rd", "paused until") is a
Copenhagen date. Taking ``now.date()`` of a UTC instant is wrong for one or two hours after
local midnight, so every rule asks this module instead. Bottom floor: imports no Flask.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")


def to_local(moment: datetime) -> datetime:
    """A UTC instant as local (Copenhagen) wall-clock time."""
    return moment.astimezone(LOCAL_TZ)


def local_now(now: datetime) -> datetime:
    """The same instant as ``now``, on Copenhagen's wall clock."""
    return to_local(now)


def local_today(now: datetime) -> date:
    """The Copenhagen date at the instant ``now`` (not the UTC date)."""
    return to_local(now).date()


def local_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a Copenhagen wall-clock time (DST is decided by the date)."""
    return datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(UTC)


def local_day_bounds(now: datetime) -> tuple[date, datetime, datetime]:
    """Today in Copenhagen and its first and last instant in UTC (23 or 25 hours around DST)."""
    today = local_today(now)
    return today, local_to_utc(today, time(0)), local_to_utc(today + timedelta(days=1), time(0))
