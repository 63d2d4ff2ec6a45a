"""The scheduler: job table, the CLI, health records, and the single-runner lock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from jobs_support import visit
from sqlalchemy import select, text

from support import PG_SKIP, PG_URL, factories, pg_url_with_schema
from volunteer.clock import LOCAL_TZ
from volunteer.extensions import db
from volunteer.models import JobRun, OutboxMessage, Role
from volunteer.notifications import health
from volunteer.scheduler import (
    JOBS,
    AdvisoryLock,
    FileLock,
    build_scheduler,
    lock_for,
)

EXPECTED_JOBS = {
    "dispatch_outbox",
    "matching_runs",
    "visit_reminders",
    "expire_invitations",
    "centre_digest",
    "visit_followups",
    "coordinator_digest",
    "occurrence_horizon",
    "next_dates",
    "certificate_renewals",
    "forloeb_checkins",
    "proposal_digests",
    "closeout_reminders",
    "retention",
}


def test_every_job_is_registered_with_its_stable_id_and_settings(app):
    scheduler = build_scheduler(app)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == EXPECTED_JOBS == set(JOBS)
    assert str(scheduler.timezone) == "Europe/Copenhagen"
    for job_id, job in jobs.items():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time == app.config["SCHEDULER_MISFIRE_GRACE_S"]
        assert job.args == (app, job_id)
        assert str(job.trigger.timezone) == "Europe/Copenhagen"
    assert not scheduler.running
    digest = jobs["coordinator_digest"].trigger
    assert isinstance(digest, CronTrigger)
    # Monday 07:30 Copenhagen time, in winter and in summer.
    winter = digest.get_next_fire_time(None, datetime(2026, 11, 27, tzinfo=LOCAL_TZ))
    assert winter == datetime(2026, 11, 30, 7, 30, tzinfo=LOCAL_TZ)
    assert winter.astimezone(UTC).hour == 6
    summer = digest.get_next_fire_time(None, datetime(2026, 6, 3, tzinfo=LOCAL_TZ))
    assert summer.astimezone(UTC).hour == 5


def test_the_heartbeat_is_added_when_a_lock_is_held(app, tmp_path):
    scheduler = build_scheduler(app, FileLock(tmp_path / "lock"))
    assert "heartbeat" in {job.id for job in scheduler.get_jobs()}


def test_jobs_run_from_the_cli_with_an_injected_now(app):
    v = visit(date(2026, 11, 28), time(9))  # 08:00 UTC
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["jobs", "run", "visit_reminders", "--now", "2026-11-27T08:00:00+00:00"]
    )
    assert result.exit_code == 0, result.output
    assert "visit_reminders: reminders_24h=1" in result.output
    db.session.expire_all()
    message = db.session.scalar(select(OutboxMessage))
    assert message.dedup_key == f"visit-reminder:{v.id}:24h"
    run = db.session.get(JobRun, "visit_reminders")
    assert (run.status, run.runs, run.summary) == ("ok", 1, {"reminders_24h": 1})


def test_retention_from_the_cli_is_a_dry_run_unless_told_otherwise(app):
    old = factories.user(Role.VOLUNTEER, created_at=datetime(2020, 1, 1, tzinfo=UTC))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "run", "retention", "--now", "2026-11-27T08:00:00"])
    assert result.exit_code == 0, result.output
    assert "users_anonymised=1" in result.output
    db.session.expire_all()
    assert db.session.get(type(old), old.id).deleted_at is None
    result = runner.invoke(args=["jobs", "run", "retention", "--apply"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(type(old), old.id).deleted_at is not None


def test_a_failing_job_is_recorded_and_fails_the_command(app, monkeypatch):
    def broken(app, now):
        raise RuntimeError("database on fire")

    monkeypatch.setitem(JOBS, "centre_digest", replace(JOBS["centre_digest"], func=broken))
    result = app.test_cli_runner().invoke(args=["jobs", "run", "centre_digest"])
    assert result.exit_code != 0
    db.session.expire_all()
    run = db.session.get(JobRun, "centre_digest")
    assert run.status == "error" and "database on fire" in run.error and run.failures == 1


def test_status_warns_when_the_heartbeat_is_stale(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 1 and "no scheduler has ever reported" in result.output

    health.beat("host:1", active=True)
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 0, result.output
    assert "heartbeat ok" in result.output and "visit_reminders" in result.output

    beat = db.session.scalar(select(health.SchedulerHeartbeat))
    beat.beat_at = datetime.now(UTC) - timedelta(minutes=6)
    db.session.commit()
    result = runner.invoke(args=["scheduler", "status"])
    assert result.exit_code == 1 and "stale" in result.output

    client.post(
        "/konto/log-ind",
        data={"email": factories.user(Role.ADMIN).email, "password": factories.PASSWORD},
    )
    page = client.get("/admin/planlaegger").get_data(as_text=True)
    assert "Planlæggeren har ikke meldt sig siden" in page and "visit_reminders" in page


def test_the_file_lock_admits_one_holder_at_a_time(tmp_path):
    first, second = FileLock(tmp_path / "s.lock"), FileLock(tmp_path / "s.lock")
    assert first.acquire()
    assert not second.acquire()  # another open file description: refused like another process
    first.release()
    assert second.acquire()
    assert not first.acquire()
    second.release()


def test_sqlite_uses_a_lock_file_beside_the_database(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    lock = lock_for(app)
    assert isinstance(lock, FileLock)
    assert lock.path.name == "test.db.scheduler-lock"


@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
def test_the_advisory_lock_admits_one_holder_at_a_time():
    url = pg_url_with_schema(PG_URL, "public")
    first, second = AdvisoryLock(url), AdvisoryLock(url)
    try:
        assert first.acquire() and first.held()
        assert not second.acquire()
        first.release()
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
def test_the_advisory_lock_is_freed_when_its_holder_dies():
    url = pg_url_with_schema(PG_URL, "public")
    first, second = AdvisoryLock(url), AdvisoryLock(url)
    try:
        assert first.acquire()
        assert first.connection is not None
        # Kill the holder's session from outside, as if its process had died.
        pid = first.connection.connection.dbapi_connection.info.backend_pid
        with second.engine.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        assert not first.held()
        assert second.acquire()
    finally:
        second.release()
        first.connection = None
