"""The scheduler's health: last run of every job and heartbeats, recorded and read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from volunteer.db import utcnow
from volunteer.extensions import db
from volunteer.notifications.models import JobRun, JobRunStatus, SchedulerHeartbeat

# A heartbeat older than this means no scheduler is running jobs.
STALE_AFTER = timedelta(minutes=5)


def job_started(job_id: str) -> None:
    """Record that a job began (commits, so the status page shows a run in progress)."""
    run = db.session.get(JobRun, job_id) or JobRun(job_id=job_id, runs=0, failures=0)
    run.status = JobRunStatus.RUNNING
    run.started_at = utcnow()
    run.finished_at = None
    run.runs += 1
    db.session.add(run)
    db.session.commit()


def job_finished(job_id: str, summary: dict[str, Any] | None, error: str | None = None) -> None:
    """Record how a job ended: its summary, or the error. Commits."""
    run = db.session.get(JobRun, job_id)
    assert run is not None, "job_started first"
    run.finished_at = utcnow()
    run.status = JobRunStatus.ERROR if error else JobRunStatus.OK
    run.summary = summary or {}
    run.error = error
    if error:
        run.failures += 1
    db.session.commit()


def beat(instance: str, active: bool) -> None:
    """This scheduler process is alive (and holds the lock when ``active``). Commits."""
    heartbeat = db.session.get(SchedulerHeartbeat, instance) or SchedulerHeartbeat(
        instance=instance
    )
    heartbeat.active = active
    heartbeat.beat_at = utcnow()
    db.session.add(heartbeat)
    db.session.commit()


def forget(instance: str) -> None:
    """The process is stopping cleanly. Commits."""
    heartbeat = db.session.get(SchedulerHeartbeat, instance)
    if heartbeat is not None:
        db.session.delete(heartbeat)
        db.session.commit()


@dataclass(frozen=True)
class Status:
    last_beat: datetime | None
    instances: list[SchedulerHeartbeat]
    runs: dict[str, JobRun]
    stale: bool


def status(now: datetime) -> Status:
    """What the admin page and ``flask scheduler status`` show. ``stale`` is true when no
    active scheduler has beaten within the last five minutes."""
    instances = list(
        db.session.scalars(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc()))
    )
    beats = [h.beat_at for h in instances if h.active]
    last_beat = max(beats) if beats else None
    runs = {run.job_id: run for run in db.session.scalars(select(JobRun))}
    return Status(
        last_beat=last_beat,
        instances=instances,
        runs=runs,
        stale=last_beat is None or now - last_beat > STALE_AFTER,
    )
