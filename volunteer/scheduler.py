"""The scheduler process: ``flask --app app scheduler run``.

One APScheduler ``BlockingScheduler`` per deployment runs every job; the web process never
does (in gunicorn every worker would run each job). A lock makes a second scheduler a hot
standby: a PostgreSQL session advisory lock, or on SQLite an ``flock`` on a file next to the
database. The standby polls every SCHEDULER_STANDBY_POLL_S seconds and takes over when the
holder dies (its connection or file descriptor closes with it).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from volunteer.clock import LOCAL_TZ, to_local
from volunteer.coordination import runs
from volunteer.extensions import db
from volunteer.jobs.certificates import certificate_renewals
from volunteer.jobs.digests import centre_digest, coordinator_digest
from volunteer.jobs.invitations import expire_invitations
from volunteer.jobs.maintenance import next_dates, occurrence_horizon, retention
from volunteer.jobs.visits import visit_followups, visit_reminders
from volunteer.notifications import delivery, health
from volunteer.pairs.checkins import forloeb_checkins
from volunteer.proposals.closeout import closeout_reminders
from volunteer.proposals.digest import proposal_digests

log = logging.getLogger("samskab.scheduler")

# The advisory lock's key: any constant shared by all Samskab schedulers ("Samskab" in ASCII).
ADVISORY_LOCK_KEY = 0x53616D736B6162


def dispatch_outbox(app: Flask, now: datetime) -> dict[str, int]:
    """Deliver due outbox messages (``volunteer.notifications.delivery.dispatch``)."""
    return delivery.dispatch(now)


def matching_runs(app: Flask, now: datetime) -> dict[str, int]:
    """Solve the coordinators' queued matching runs (``volunteer.coordination.runs.run_queued``)."""
    return runs.run_queued(now)


@dataclass(frozen=True)
class Job:
    func: Callable[..., dict[str, int]]
    trigger: Callable[[], BaseTrigger]
    description: str


# Stable ids: APScheduler, the job_runs table and `flask jobs run NAME` all use them.
JOBS: dict[str, Job] = {
    "dispatch_outbox": Job(
        dispatch_outbox,
        lambda: IntervalTrigger(seconds=30, timezone=LOCAL_TZ),
        "send pending outbox messages",
    ),
    "matching_runs": Job(
        matching_runs,
        # Often: a coordinator is watching the run's page.
        lambda: IntervalTrigger(seconds=3, timezone=LOCAL_TZ),
        "solve queued matching runs",
    ),
    "visit_reminders": Job(
        visit_reminders,
        lambda: IntervalTrigger(minutes=5, timezone=LOCAL_TZ),
        "remind volunteers of visits",
    ),
    "expire_invitations": Job(
        expire_invitations,
        lambda: IntervalTrigger(minutes=10, timezone=LOCAL_TZ),
        "expire unanswered invitations",
    ),
    "centre_digest": Job(
        centre_digest,
        lambda: CronTrigger(hour=7, minute=0, timezone=LOCAL_TZ),
        "today's visits, to centre staff",
    ),
    "visit_followups": Job(
        visit_followups,
        lambda: CronTrigger(hour=9, minute=0, timezone=LOCAL_TZ),
        "ask centres to confirm visits",
    ),
    "coordinator_digest": Job(
        coordinator_digest,
        lambda: CronTrigger(day_of_week="mon", hour=7, minute=30, timezone=LOCAL_TZ),
        "weekly overview for coordinators",
    ),
    "occurrence_horizon": Job(
        occurrence_horizon,
        lambda: CronTrigger(hour=2, minute=30, timezone=LOCAL_TZ),
        "generate occurrences ahead",
    ),
    "next_dates": Job(
        next_dates,
        lambda: IntervalTrigger(minutes=10, timezone=LOCAL_TZ),
        "move needs' next date on",
    ),
    "certificate_renewals": Job(
        certificate_renewals,
        lambda: CronTrigger(hour=8, minute=0, timezone=LOCAL_TZ),
        "announce child certificates to renew",
    ),
    "forloeb_checkins": Job(
        forloeb_checkins,
        lambda: CronTrigger(hour=9, minute=30, timezone=LOCAL_TZ),
        'ask forløb "how is it going?"',
    ),
    "proposal_digests": Job(
        proposal_digests,
        lambda: CronTrigger(hour=17, minute=0, timezone=LOCAL_TZ),
        "tell followers what changed on proposals",
    ),
    "closeout_reminders": Job(
        closeout_reminders,
        lambda: CronTrigger(hour=9, minute=30, timezone=LOCAL_TZ),
        "ask tovholdere how their activity went",
    ),
    "retention": Job(
        retention, lambda: CronTrigger(hour=3, minute=30, timezone=LOCAL_TZ), "delete and anonymise"
    ),
}
HEARTBEAT_JOB = "heartbeat"
HEARTBEAT_S = 60


def run_job(app: Flask, job_id: str, now: datetime | None = None, **options: Any) -> dict[str, int]:
    """Run one job in its own app context, record the run, log its counts at INFO.

    ``now`` defaults to the real time at the start of the run, so a late run sees the late
    time. Errors are recorded and raised again (APScheduler logs them; the CLI exits non-zero).
    """
    job = JOBS[job_id]
    with app.app_context():
        now = now or datetime.now(UTC)
        health.job_started(job_id)
        try:
            summary = job.func(app, now, **options)
        except Exception as exc:
            db.session.rollback()
            health.job_finished(job_id, None, error=f"{type(exc).__name__}: {exc}")
            raise
        health.job_finished(job_id, summary)
    log.info("%s: %s", job_id, " ".join(f"{k}={v}" for k, v in summary.items()) or "done")
    return summary


class SchedulerLock(Protocol):
    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection of its own (no pool: closing the
    connection ends the session and so frees the lock, even if the process is killed)."""

    def __init__(self, url: str, key: int = ADVISORY_LOCK_KEY) -> None:
        self.engine = create_engine(url, poolclass=NullPool)
        self.key = key
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        # If the holder's host vanishes without closing the socket, the server notices within
        # about half a minute and frees the lock for the standby.
        connection.execute(text("SET tcp_keepalives_idle = 10"))
        connection.execute(text("SET tcp_keepalives_interval = 5"))
        connection.execute(text("SET tcp_keepalives_count = 3"))
        if connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}):
            self.connection = connection
            return True
        connection.close()
        return False

    def held(self) -> bool:
        if self.connection is None:
            return False
        try:
            self.connection.scalar(text("SELECT 1"))
        except Exception:
            return False
        return True

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        finally:
            self.connection.close()
            self.connection = None
            self.engine.dispose()


class FileLock:
    """An exclusive ``flock`` on a file: one holder per host, freed when the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def lock_for(app: Flask) -> SchedulerLock:
    """The advisory lock on PostgreSQL; a lock file next to the SQLite database otherwise."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(url.render_as_string(hide_password=False))
    if app.config.get("SCHEDULER_LOCK_FILE"):
        return FileLock(Path(app.config["SCHEDULER_LOCK_FILE"]))
    database = url.database if url.database and url.database != ":memory:" else None
    base = Path(database) if database else Path(app.instance_path) / "samskab.db"
    return FileLock(base.with_name(base.name + ".scheduler-lock"))


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _heartbeat(app: Flask, scheduler: BlockingScheduler, lock: SchedulerLock) -> None:
    """Record that this scheduler is alive; stop it if it lost the lock (back to standby)."""
    with app.app_context():
        if not lock.held():
            log.error("Scheduler lock lost; stopping jobs and waiting as a standby")
            scheduler.shutdown(wait=False)
            return
        health.beat(instance_name(), active=True)


def build_scheduler(app: Flask, lock: SchedulerLock | None = None) -> BlockingScheduler:
    """The scheduler with every job registered under its stable id (not started)."""
    scheduler = BlockingScheduler(timezone=LOCAL_TZ)
    # Coalesce: a scheduler that was down runs a missed job once, not once per missed turn.
    options = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": app.config["SCHEDULER_MISFIRE_GRACE_S"],
    }
    for job_id, job in JOBS.items():
        scheduler.add_job(
            run_job, job.trigger(), args=(app, job_id), id=job_id, name=job_id, **options
        )
    if lock is not None:
        scheduler.add_job(
            _heartbeat,
            IntervalTrigger(seconds=HEARTBEAT_S, timezone=LOCAL_TZ),
            args=(app, scheduler, lock),
            id=HEARTBEAT_JOB,
            name=HEARTBEAT_JOB,
            next_run_time=datetime.now(LOCAL_TZ),
            **options,
        )
    return scheduler


def wait_for_lock(app: Flask, lock: SchedulerLock) -> None:
    """Block until this process holds the lock, beating as a standby meanwhile."""
    announced = False
    while not lock.acquire():
        if not announced:
            log.info("Another scheduler holds the lock; waiting as a hot standby")
            announced = True
        with app.app_context():
            health.beat(instance_name(), active=False)
        time.sleep(app.config["SCHEDULER_STANDBY_POLL_S"])
    log.info("Scheduler lock acquired; running jobs: %s", ", ".join(JOBS))


@click.group("scheduler", cls=AppGroup)
def scheduler_cli() -> None:
    """The scheduler process that runs reminders, digests and email delivery."""


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the scheduler (blocks). A second one waits as a hot standby."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    lock = lock_for(app)
    try:
        while True:
            wait_for_lock(app, lock)
            scheduler = build_scheduler(app, lock)
            try:
                scheduler.start()
            except (KeyboardInterrupt, SystemExit):
                break
            finally:
                lock.release()
    finally:
        with app.app_context():
            health.forget(instance_name())


@scheduler_cli.command("status")
def scheduler_status() -> None:
    """Show the last run of every job; exit 1 when the heartbeat is older than 5 minutes."""
    now = datetime.now(UTC)
    state = health.status(now)
    if state.last_beat is None:
        click.echo("WARNING: no scheduler has ever reported; is `scheduler run` running?")
    else:
        age = int((now - state.last_beat).total_seconds())
        flag = "WARNING: heartbeat is stale" if state.stale else "heartbeat ok"
        click.echo(f"{flag}: last at {to_local(state.last_beat):%Y-%m-%d %H:%M:%S} ({age} s ago)")
    for instance in state.instances:
        role = "active" if instance.active else "standby"
        click.echo(f"  {role:<8} {instance.instance} {to_local(instance.beat_at):%H:%M:%S}")
    for job_id in JOBS:
        run = state.runs.get(job_id)
        if run is None:
            click.echo(f"{job_id:<20} never run")
            continue
        counts = " ".join(f"{k}={v}" for k, v in run.summary.items())
        click.echo(
            f"{job_id:<20} {run.status:<7} {to_local(run.started_at):%Y-%m-%d %H:%M:%S} "
            f"{counts}{'  ' + run.error if run.error else ''}"
        )
    if state.stale:
        raise SystemExit(1)


@click.group("jobs", cls=AppGroup)
def jobs_cli() -> None:
    """Run scheduled jobs by hand."""


@jobs_cli.command("list")
def jobs_list() -> None:
    """List the jobs and what they do."""
    for job_id, job in JOBS.items():
        click.echo(f"{job_id:<20} {job.description}")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(list(JOBS)))
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    help="Pretend it is this time (ISO 8601; without an offset it is Copenhagen time).",
)
@click.option(
    "--dry-run/--apply",
    default=True,
    help="retention only: report what would change (default) or change it.",
)
def jobs_run(name: str, now: datetime | None, dry_run: bool) -> None:
    """Run one job once, now (or at --now), and print its counts."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if now is not None:
        now = (now if now.tzinfo else now.replace(tzinfo=LOCAL_TZ)).astimezone(UTC)
    options = {"dry_run": dry_run} if name == "retention" else {}
    summary = run_job(app, name, now, **options)
    click.echo(f"{name}: " + (" ".join(f"{k}={v}" for k, v in summary.items()) or "done"))
