"""Constraints live in the database, not only in Python; time is stored as UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from support import factories
from volunteer.extensions import db
from volunteer.models import (
    Assignment,
    AvailabilityWindow,
    Need,
    Occurrence,
    OutboxMessage,
    User,
    Visit,
)


def _fails(statement):
    with pytest.raises(IntegrityError):
        statement()
    db.session.rollback()


def test_emails_are_unique(app):
    factories.user(email="karen@example.org")
    _fails(lambda: factories.user(email="karen@example.org"))


def test_emails_must_be_stored_lower_case(app):
    _fails(lambda: factories.user(email="Karen@Example.org"))


def test_unknown_role_is_refused(app):
    _fails(lambda: factories.user(role="superuser"))


def test_slots_must_be_positive(app):
    org, activity = factories.organisation(), factories.activity_type()
    _fails(lambda: factories.need(org, activity, slots=0))


def test_a_need_must_end_after_it_starts(app):
    org, activity = factories.organisation(), factories.activity_type()
    _fails(lambda: factories.need(org, activity, start_time=time(18), end_time=time(17)))


def test_last_date_cannot_be_before_first_date(app):
    org, activity = factories.organisation(), factories.activity_type()
    _fails(
        lambda: factories.need(
            org, activity, first_date=date(2026, 12, 1), last_date=date(2026, 11, 1)
        )
    )


def test_every_need_has_a_weekday_from_monday_to_sunday(app):
    org, activity = factories.organisation(), factories.activity_type()
    _fails(lambda: factories.need(org, activity, weekday=None))
    _fails(lambda: factories.need(org, activity, weekday=7))


def test_unknown_need_status_is_refused(app):
    org, activity = factories.organisation(), factories.activity_type()
    _fails(lambda: factories.need(org, activity, status="pending"))


def test_availability_window_must_end_after_it_starts(app):
    volunteer = factories.user()
    db.session.add(
        AvailabilityWindow(
            profile=volunteer.profile, weekday=2, start_time=time(18), end_time=time(18)
        )
    )
    _fails(db.session.commit)


def test_foreign_keys_are_enforced(app):
    activity = factories.activity_type()
    db.session.add(
        Need(
            organisation_id=987654,
            activity_type=activity,
            title="x",
            postcode="7130",
            town="Juelsminde",
            lat=55.75,
            lon=10.0,
            start_time=time(10),
            end_time=time(11),
            first_date=date(2026, 12, 1),
        )
    )
    _fails(db.session.commit)


def test_one_assignment_per_volunteer_and_need(app):
    org, activity = factories.organisation(), factories.activity_type()
    need, volunteer = factories.need(org, activity), factories.user()
    db.session.add(Assignment(need=need, volunteer=volunteer, state="accepted", source="signup"))
    db.session.commit()
    db.session.add(Assignment(need=need, volunteer=volunteer, state="accepted", source="signup"))
    _fails(db.session.commit)


def test_unknown_assignment_state_is_refused(app):
    org, activity = factories.organisation(), factories.activity_type()
    need, volunteer = factories.need(org, activity), factories.user()
    db.session.add(Assignment(need=need, volunteer=volunteer, state="maybe", source="signup"))
    _fails(db.session.commit)


def test_visit_hours_are_bounded(app):
    org, activity = factories.organisation(), factories.activity_type()
    need, volunteer = factories.need(org, activity), factories.user()
    start = datetime(2026, 12, 3, 16, 30, tzinfo=UTC)
    occurrence = Occurrence(need=need, starts_at=start, ends_at=start + timedelta(hours=1))
    db.session.add(Visit(occurrence=occurrence, volunteer=volunteer, hours=25))
    _fails(db.session.commit)


def test_outbox_dedup_keys_are_unique(app):
    for _ in range(2):
        db.session.add(
            OutboxMessage(
                dedup_key="visit-reminder:1:24h",
                recipient_email="a@example.org",
                subject="s",
                body_text="b",
            )
        )
    _fails(db.session.commit)


def test_timestamps_come_back_as_the_same_utc_instant(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity)
    copenhagen_summer = timezone(timedelta(hours=2))
    start = datetime(2026, 7, 2, 17, 30, tzinfo=copenhagen_summer)
    db.session.add(Occurrence(need=need, starts_at=start, ends_at=start + timedelta(hours=2)))
    db.session.commit()
    db.session.expire_all()
    stored = db.session.scalar(select(Occurrence))
    assert stored.starts_at == start
    assert stored.starts_at.utcoffset() == timedelta(0)
    assert stored.starts_at.hour == 15


def test_naive_datetimes_are_refused(app):
    org, activity = factories.organisation(), factories.activity_type()
    need = factories.need(org, activity)
    naive = datetime(2026, 7, 2, 17, 30)
    db.session.add(Occurrence(need=need, starts_at=naive, ends_at=naive + timedelta(hours=1)))
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.commit()
    db.session.rollback()


def test_created_at_defaults_to_now_in_utc(app):
    before = datetime.now(UTC)
    user = factories.user()
    db.session.expire_all()
    created = db.session.get(User, user.id).created_at
    assert before - timedelta(seconds=1) <= created <= datetime.now(UTC)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite pragmas only")
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
