from datetime import UTC, date, datetime, time

import pytest
from flask_babel import force_locale

from volunteer import create_app
from volunteer.clock import to_local
from volunteer.i18n import clock, long_date, short_date, week_number, weekday_name


@pytest.fixture
def ctx(tmp_path):
    app = create_app(
        {"SAMSKAB_ENV": "testing", "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    with app.test_request_context():
        yield


def test_danish_dates_carry_the_weekday_and_danish_month(ctx):
    with force_locale("da"):
        assert long_date(date(2026, 11, 27)) == "fredag den 27. november 2026"
        assert short_date(date(2026, 3, 5)) == "05.03.2026"
        assert clock(time(17, 30)) == "17.30"
        assert week_number(date(2026, 11, 27)) == "uge 48"
        assert weekday_name(0) == "mandag"


def test_english_dates(ctx):
    with force_locale("en"):
        assert long_date(date(2026, 11, 27)) == "Friday 27 November 2026"
        assert clock(time(9, 5)) == "09:05"
        assert week_number(date(2026, 1, 1)) == "week 1"


def test_iso_week_numbers_at_new_year(ctx):
    # 1 January 2027 is a Friday: still in week 53 of 2026, as Danish calendars show.
    with force_locale("da"):
        assert week_number(date(2027, 1, 1)) == "uge 53"


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        # Summer time ends 25 October 2026 at 03:00 local: 00:30 UTC is 02:30 CEST, 01:30 UTC
        # is 02:30 CET (the hour is repeated).
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "2026-10-25 02:30+02:00"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "2026-10-25 02:30+01:00"),
        # Summer time starts 29 March 2026 at 02:00 local (01:00 UTC).
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "2026-03-29 01:59+01:00"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "2026-03-29 03:00+02:00"),
    ],
)
def test_utc_instants_are_shown_in_copenhagen_time_across_dst(utc, local):
    assert to_local(utc).isoformat(sep=" ", timespec="minutes") == local


def test_datetimes_are_formatted_in_local_time(ctx):
    evening_utc = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)  # 00:30 on the 27th in Denmark
    with force_locale("da"):
        assert long_date(evening_utc) == "fredag den 27. november 2026"
        assert clock(evening_utc) == "00.30"
