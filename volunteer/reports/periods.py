"""Calendar periods in Copenhagen time, and SQL that sorts UTC instants into them.

Grouping by local month or year in SQL is done with a CASE over the UTC instants where each
local period starts (computed here, so daylight saving time is decided by the date). That is
the same SQL on SQLite (which has no time zones) and PostgreSQL, and a visit at 00:30 on the
first of a month lands in that month, not in the previous one as a UTC truncation would put it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from babel.dates import format_date
from sqlalchemy import ColumnElement, case

from volunteer.clock import local_to_utc


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole local months: ``first`` (a first of month) up to, not including, ``end``."""

    first: date
    end: date

    @property
    def months(self) -> list[date]:
        months, month = [], self.first
        while month < self.end:
            months.append(month)
            month = add_months(month, 1)
        return months

    @property
    def starts_at(self) -> datetime:
        return local_to_utc(self.first, time(0))

    @property
    def ends_at(self) -> datetime:
        return local_to_utc(self.end, time(0))

    def contains(self, column: Any) -> ColumnElement[bool]:
        return (column >= self.starts_at) & (column < self.ends_at)


def month_label(month: date, locale: str) -> str:
    """'jan. 2026' / 'Jan 2026'."""
    return format_date(month, "MMM y", locale=locale)


def last_months(today: date, count: int = 12) -> Period:
    """The ``count`` months up to and including ``today``'s month."""
    this_month = today.replace(day=1)
    return Period(add_months(this_month, 1 - count), add_months(this_month, 1))


def quarter(year: int, number: int) -> Period:
    first = date(year, 3 * (number - 1) + 1, 1)
    return Period(first, add_months(first, 3))


def previous_quarter(today: date) -> tuple[int, int]:
    """The last quarter that has ended: what a committee meeting reports on."""
    number = (today.month - 1) // 3  # 0 in Q1 → Q4 of last year
    return (today.year, number) if number else (today.year - 1, 4)


def bucket(column: Any, starts: list[date], labels: list[str]) -> ColumnElement[str]:
    """SQL: the label of the local period (starting at ``starts[i]``, ending where the next one
    starts) that the UTC ``column`` falls in. Rows must be limited to the whole range already;
    the last period runs to the end of that range."""
    whens = [
        (column < local_to_utc(next_start, time(0)), label)
        for next_start, label in zip(starts[1:], labels, strict=False)
    ]
    return case(*whens, else_=labels[-1]) if whens else case((column.is_not(None), labels[-1]))
