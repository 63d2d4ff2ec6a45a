"""The local clock: Copenhagen's date and wall clock, right at 00:30 and on both DST days."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

import volunteer
from volunteer.clock import local_day_bounds, local_now, local_to_utc, local_today, to_local

# 00:30 in Copenhagen on an ordinary winter day, the spring-forward day and the fall-back day.
HALF_PAST_MIDNIGHT = [
    (datetime(2026, 12, 2, 23, 30, tzinfo=UTC), date(2026, 12, 3)),
    (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),
    (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), date(2026, 10, 25)),
]


@pytest.mark.parametrize(("now", "today"), HALF_PAST_MIDNIGHT)
def test_today_is_the_copenhagen_date_not_the_utc_date(now, today):
    assert now.date() == today - timedelta(days=1)
    assert local_today(now) == today
    assert local_now(now).time() == time(0, 30)
    assert to_local(now) == now


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        (datetime(2026, 12, 2, 23, 30, tzinfo=UTC), 24),
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 23),
        (datetime(2026, 10, 24, 22, 30, tzinfo=UTC), 25),
    ],
)
def test_a_local_day_is_23_24_or_25_hours(now, hours):
    today, start, end = local_day_bounds(now)
    assert today == local_today(now)
    assert start <= now < end
    assert end - start == timedelta(hours=hours)


def test_wall_clock_to_utc_follows_summer_time():
    assert local_to_utc(date(2026, 3, 29), time(1, 30)) == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert local_to_utc(date(2026, 3, 29), time(3, 30)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local_to_utc(date(2026, 10, 25), time(17)) == datetime(2026, 10, 25, 16, tzinfo=UTC)


def test_today_is_written_once():
    """Every "today" in the app is ``clock.local_today(now)``: no module takes the date of
    ``to_local(now)``, the UTC date or the machine's own clock."""
    root = Path(volunteer.__file__).parent
    pattern = re.compile(
        r"to_local\(now\)\.date\(\)|date\.today\(\)|datetime\.now\(\)|utcnow\(\)\.date\(\)"
    )
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "clock.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []
