"""Matching runs off the request: the coordinator queues a run, the worker solves it.

Solving takes up to ``MATCH_TIME_LIMIT_S`` seconds, too long for a web request next to
gunicorn's timeout. So the web POST only writes a queued ``MatchRun`` (``queue``), and the
scheduler's ``matching_runs`` job claims queued runs one at a time (``claim``), solves them
(``execute``) and marks them done or failed. A run a worker never finished (the process was
killed) is marked failed once it has been running for ``STALE_AFTER`` (``fail_stale``).

Every change of ``MatchRun.state`` goes through ``move``, which enforces ``RUN_TRANSITIONS``.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from volunteer.auth.models import User
from volunteer.coordination import proposals
from volunteer.coordination.models import ACTIVE_RUN_STATES, RUN_TRANSITIONS, MatchRun, RunState
from volunteer.extensions import db

log = logging.getLogger("samskab.matching")

# A run still "running" after this long has lost its worker: the engine stops itself after
# MATCH_TIME_LIMIT_S, and loading and storing take seconds, not minutes.
STALE_AFTER = timedelta(minutes=5)
# How many queued runs one turn of the job solves before it lets the next turn take over.
RUNS_PER_TURN = 20
# A run queued longer than this has probably no scheduler to take it: its page says so.
QUEUED_TOO_LONG = timedelta(minutes=1)
ERROR_LENGTH = 2000


class RunInProgress(Exception):
    """The organisation already has a queued or running run (``run_id``)."""

    def __init__(self, run_id: int) -> None:
        super().__init__(run_id)
        self.run_id = run_id


class InvalidMove(Exception):
    """A change of state that ``RUN_TRANSITIONS`` does not allow."""


def move(run_id: int, source: RunState, target: RunState, **values: Any) -> bool:
    """Move the run from ``source`` to ``target`` (setting ``values`` too), if it is still in
    ``source``; False when another worker moved it first. The only writer of a run's state.
    Raises InvalidMove for a move the table forbids. Does not commit."""
    if target not in RUN_TRANSITIONS[source]:
        raise InvalidMove(f"{source} → {target}")
    moved = db.session.execute(
        update(MatchRun)
        .where(MatchRun.id == run_id, MatchRun.state == source)
        .values(state=target, **values)
    )
    return moved.rowcount == 1  # type: ignore[attr-defined]


def active_run(organisation_id: int) -> MatchRun | None:
    """The organisation's queued or running run, if any."""
    return db.session.scalar(
        select(MatchRun).where(
            MatchRun.organisation_id == organisation_id, MatchRun.state.in_(ACTIVE_RUN_STATES)
        )
    )


def _create(
    user: User | None,
    organisation_id: int,
    now: datetime,
    local_area_id: int | None,
    activity_type_id: int | None,
    dry_run: bool = False,
) -> MatchRun:
    """A new queued run, flushed. Raises NotAllowed, or RunInProgress (also when another
    request queued one a moment ago: the partial unique index refuses the second)."""
    if user is not None:
        proposals.check_organisation(user, organisation_id)
    busy = active_run(organisation_id)
    if busy is not None:
        raise RunInProgress(busy.id)
    run = MatchRun(
        organisation_id=organisation_id,
        local_area_id=local_area_id,
        activity_type_id=activity_type_id,
        created_by_id=user.id if user else None,
        created_at=now,
        dry_run=dry_run,
        state=RunState.QUEUED,
    )
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        busy = active_run(organisation_id)
        if busy is None:
            raise
        raise RunInProgress(busy.id) from None
    return run


def queue(
    user: User,
    organisation_id: int,
    now: datetime,
    *,
    local_area_id: int | None = None,
    activity_type_id: int | None = None,
) -> MatchRun:
    """Ask the worker to match the organisation's open needs (in the area and activity if
    given). Raises NotAllowed when the user does not manage the organisation, RunInProgress
    when it already has a run queued or running. Commits."""
    run = _create(user, organisation_id, now, local_area_id, activity_type_id)
    db.session.commit()
    return run


def run_now(
    user: User | None, organisation_id: int, now: datetime, *, dry_run: bool = False
) -> MatchRun:
    """Match the organisation's open needs here and now (the command line: ``user`` None is
    an operator), through the same states as a queued run. Raises RunInProgress. Commits."""
    run = _create(user, organisation_id, now, None, None, dry_run=dry_run)
    move(run.id, RunState.QUEUED, RunState.RUNNING, started_at=now)
    db.session.commit()
    execute(run.id, now)
    db.session.refresh(run)
    return run


def claim(now: datetime) -> int | None:
    """Take the oldest queued run for this worker (queued → running) and commit; its id, or
    None when nothing is queued.

    On PostgreSQL the candidates are selected FOR UPDATE SKIP LOCKED, so a second worker
    passes over a run being claimed; the move is conditional (still queued), so on SQLite a
    run another worker claimed in between is not taken twice.
    """
    candidates = (
        select(MatchRun.id)
        .where(MatchRun.state == RunState.QUEUED)
        .order_by(MatchRun.created_at, MatchRun.id)
        .limit(RUNS_PER_TURN)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    for run_id in db.session.scalars(candidates).all():
        if move(run_id, RunState.QUEUED, RunState.RUNNING, started_at=now):
            db.session.commit()
            return run_id
    db.session.commit()
    return None


def execute(run_id: int, now: datetime) -> RunState:
    """Solve a claimed (running) run: store its proposals and figures and mark it done, in one
    transaction. If anything fails, nothing of it is kept and the run is marked failed with
    the error. Returns the state the run ended in. Commits."""
    started = time.monotonic()
    run = db.session.get(MatchRun, run_id)
    assert run is not None and run.state == RunState.RUNNING, "claim the run first"
    try:
        proposals.solve_run(run, now)
        finished = now + timedelta(seconds=time.monotonic() - started)
        if not move(run_id, RunState.RUNNING, RunState.DONE, finished_at=finished):
            # Marked failed as stale meanwhile: its page already says so; keep nothing.
            db.session.rollback()
            return RunState.FAILED
        db.session.commit()
        return RunState.DONE
    except Exception as exc:
        db.session.rollback()
        log.exception("Matching run %s failed", run_id)
        move(
            run_id,
            RunState.RUNNING,
            RunState.FAILED,
            finished_at=now + timedelta(seconds=time.monotonic() - started),
            error=f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH],
        )
        db.session.commit()
        return RunState.FAILED


def fail_stale(now: datetime) -> int:
    """Mark runs that have been running longer than STALE_AFTER as failed: their worker died
    (a crash never leaves a run "running" for good). Returns how many. Commits."""
    minutes = int(STALE_AFTER.total_seconds() // 60)
    stale = db.session.scalars(
        select(MatchRun.id).where(
            MatchRun.state == RunState.RUNNING, MatchRun.started_at < now - STALE_AFTER
        )
    ).all()
    failed = 0
    for run_id in stale:
        failed += move(
            run_id,
            RunState.RUNNING,
            RunState.FAILED,
            finished_at=now,
            error=f"The worker stopped: no result after {minutes} minutes.",
        )
        log.warning("Matching run %s was still running after %s minutes; failed", run_id, minutes)
    db.session.commit()
    return failed


def run_queued(now: datetime) -> dict[str, int]:
    """The worker's turn: fail stale runs, then claim and solve queued runs one by one until
    none is left (at most RUNS_PER_TURN). Counts stale, done and failed runs."""
    counts = {"stale": fail_stale(now), "done": 0, "failed": 0}
    started = time.monotonic()
    for _ in range(RUNS_PER_TURN):
        # Each run sees the time it really starts, so a late one in the turn is not misdated.
        at = now + timedelta(seconds=time.monotonic() - started)
        run_id = claim(at)
        if run_id is None:
            break
        counts[str(execute(run_id, at))] += 1
    return counts


def waiting_too_long(run: MatchRun, now: datetime) -> bool:
    """The run is still queued after QUEUED_TOO_LONG (is the scheduler running?)."""
    return run.state == RunState.QUEUED and now - run.created_at > QUEUED_TOO_LONG


def visible_run(user: User, run_id: int) -> MatchRun | None:
    """The run, if it belongs to one of the user's organisations (admins see all)."""
    run = db.session.get(MatchRun, run_id)
    if run is None:
        return None
    try:
        proposals.check_organisation(user, run.organisation_id)
    except proposals.NotAllowed:
        return None
    return run
