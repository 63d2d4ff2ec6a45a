"""Occurrences: weekly schedules in local time, stored as UTC, across DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from support import factories
from volunteer.extensions import db
from volunteer.models import Occurrence, Visit
from volunteer.needs.services import occurrence_dates, sync_occurrences


def _starts(need):
    return list(
        db.session.scalars(
            select(Occurrence.starts_at)
            .where(Occurrence.need_id == need.id, Occurrence.status == "scheduled")
            .order_by(Occurrence.starts_at)
        )
    )


def test_weekly_need_keeps_local_time_across_the_october_dst_change(app):
    org, activity = factories.organisation(), factories.activity_type()
    # Sundays at 17:00; summer time ends Sunday 25 October 2026.
    need = factories.need(
        org,
        activity,
        weekday=6,
        start_time=time(17),
        end_time=time(18),
        first_date=date(2026, 10, 1),
    )
    sync_occurrences(need, date(2026, 10, 12), weeks=3)
    db.session.commit()
    assert _starts(need) == [
        datetime(2026, 10, 18, 15, 0, tzinfo=UTC),  # CEST, UTC+2
        datetime(2026, 10, 25, 16, 0, tzinfo=UTC),  # the DST day itself: CET, UTC+1
        datetime(2026, 11, 1, 16, 0, tzinfo=UTC),
    ]


def test_weekly_need_keeps_local_time_across_the_march_dst_change(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(
        org,
        activity,
        weekday=6,
        start_time=time(10),
        end_time=time(11),
        first_date=date(2026, 3, 1),
    )
    sync_occurrences(need, date(2026, 3, 22), weeks=1)
    db.session.commit()
    assert _starts(need) == [
        datetime(2026, 3, 22, 9, 0, tzinfo=UTC),  # CET
        datetime(2026, 3, 29, 8, 0, tzinfo=UTC),  # summer time starts that night: CEST
    ]


def test_public_holidays_are_skipped_when_the_need_says_so(app):
    org, activity = factories.organisation(), factories.activity_type()
    # Fridays; 25 December 2026 (juledag) is a Friday.
    fridays = factories.need(org, activity, weekday=4, first_date=date(2026, 12, 1))
    assert date(2026, 12, 25) not in occurrence_dates(fridays, date(2026, 12, 1), date(2027, 1, 10))
    fridays.skip_holidays = False
    assert date(2026, 12, 25) in occurrence_dates(fridays, date(2026, 12, 1), date(2027, 1, 10))


def test_first_and_last_dates_bound_the_occurrences(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(
        org, activity, weekday=0, first_date=date(2026, 12, 7), last_date=date(2026, 12, 21)
    )
    assert occurrence_dates(need, date(2026, 11, 1), date(2027, 3, 1)) == [
        date(2026, 12, 7),
        date(2026, 12, 14),
        date(2026, 12, 21),
    ]


def test_a_one_off_need_has_one_occurrence(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity, schedule="once", weekday=5, first_date=date(2026, 12, 12))
    sync_occurrences(need, date(2026, 11, 27))
    sync_occurrences(need, date(2026, 11, 27))
    db.session.commit()
    assert len(_starts(need)) == 1


def test_changing_the_schedule_moves_occurrences_but_keeps_ones_with_visits(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity, weekday=3, first_date=date(2026, 11, 26))
    today = date(2026, 11, 27)
    sync_occurrences(need, today, weeks=4)
    db.session.commit()
    thursdays = db.session.scalars(
        select(Occurrence).where(Occurrence.need_id == need.id).order_by(Occurrence.starts_at)
    ).all()
    assert [o.starts_at.weekday() for o in thursdays] == [3, 3, 3, 3]
    volunteer = factories.user()
    db.session.add(Visit(occurrence=thursdays[0], volunteer=volunteer, state="confirmed"))
    db.session.commit()

    need.weekday = 1  # now Tuesdays
    sync_occurrences(need, today, weeks=4)
    db.session.commit()

    db.session.expire_all()
    kept = db.session.get(Occurrence, thursdays[0].id)
    assert kept is not None and kept.status == "cancelled"
    assert db.session.scalar(select(Visit)).occurrence_id == kept.id
    assert all(db.session.get(Occurrence, o.id) is None for o in thursdays[1:])
    assert {s.weekday() for s in _starts(need)} == {1} and len(_starts(need)) == 4


def test_changing_the_time_updates_future_occurrences_in_place(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity, weekday=3, first_date=date(2026, 11, 26))
    sync_occurrences(need, date(2026, 11, 27), weeks=2)
    db.session.commit()
    before = {o.id for o in db.session.scalars(select(Occurrence))}
    need.end_time = time(20)
    sync_occurrences(need, date(2026, 11, 27), weeks=2)
    db.session.commit()
    after = db.session.scalars(select(Occurrence)).all()
    assert {o.id for o in after} == before
    assert all(o.ends_at - o.starts_at == timedelta(hours=2, minutes=30) for o in after)
