"""End to end: two real `flask scheduler run` processes on one SQLite database.

The first takes the lock and beats as the active scheduler; the second waits as a hot standby
(it beats, inactive, and runs no jobs); when the first is killed with SIGKILL, the second takes
over within one standby poll.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

import pytest

try:
    import volunteer.scheduler  # noqa: F401  (the process below runs it)
except ImportError as exc:  # pragma: no cover - only without the scheduler's dependencies
    pytest.skip(f"the scheduler module cannot be imported: {exc}", allow_module_level=True)

from volunteer import create_app
from volunteer.config import DEFAULTS, ENV_VARS
from volunteer.extensions import db
from volunteer.scheduler import JOBS

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
HOST = socket.gethostname()

# A short standby poll when the configuration can take one from the environment.
POLL_VAR = next((var for var, key in ENV_VARS.items() if key == "SCHEDULER_STANDBY_POLL_S"), None)
POLL_S = 2 if POLL_VAR else int(DEFAULTS["SCHEDULER_STANDBY_POLL_S"])
TAKEOVER_TIMEOUT_S = min(90, POLL_S + 20)
START_TIMEOUT_S = 20


def _env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMSKAB_")}
    env.update(
        SAMSKAB_ENV="development",
        SAMSKAB_SECRET_KEY="scheduler-process-test-" + "x" * 32,
        SAMSKAB_DATABASE_URL=f"sqlite:///{database}",
        PYTHONUNBUFFERED="1",
    )
    if POLL_VAR:
        env[POLL_VAR] = str(POLL_S)
    return env


def _flask(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "flask", "--app", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _tables(database: Path) -> set[str]:
    with closing(sqlite3.connect(database)) as con:
        return {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _create_schema(database: Path, env: dict[str, str]) -> str:
    """`flask db upgrade`; if the migration does not create every table the models define,
    a fresh database with ``db.create_all()`` instead. Returns which was used."""
    upgrade = _flask(env, "db", "upgrade")
    missing = set(db.metadata.tables) - _tables(database) if database.exists() else {"*"}
    if upgrade.returncode == 0 and not missing:
        return "flask db upgrade"
    for path in database.parent.glob(database.name + "*"):
        path.unlink()
    app = create_app(
        {
            "SAMSKAB_ENV": "testing",
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": env["SAMSKAB_DATABASE_URL"],
        }
    )
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    reason = (
        f"failed ({upgrade.stderr.strip().splitlines()[-1:]})"
        if upgrade.returncode
        else f"lacks tables {sorted(missing)}"
    )
    return f"db.create_all() (flask db upgrade {reason})"


def _heartbeats(database: Path) -> dict[str, bool]:
    """instance → active, from the scheduler_heartbeats table."""
    with closing(sqlite3.connect(database, timeout=10)) as con:
        rows = con.execute("SELECT instance, active FROM scheduler_heartbeats").fetchall()
    return {instance: bool(active) for instance, active in rows}


def _beat_at(database: Path, instance: str) -> str | None:
    """When ``instance`` last wrote its heartbeat (each standby poll writes one)."""
    with closing(sqlite3.connect(database, timeout=10)) as con:
        row = con.execute(
            "SELECT beat_at FROM scheduler_heartbeats WHERE instance = ?", (instance,)
        ).fetchone()
    return row[0] if row else None


def _jobs_run_by(proc: subprocess.Popen) -> list[str]:
    """The jobs a scheduler process ran: ``run_job`` logs "<job>: <counts>" after each run.
    (The job_runs table cannot tell: it counts the active scheduler's runs too.)"""
    log = _log(proc)
    return [job for job in JOBS if f"{job}: " in log]


def _wait_for(condition: Callable[[], Any], timeout: float, what: str, *procs: Any) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"{what}: scheduler pid {proc.pid} exited:\n{_log(proc)}")
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout:.0f} s\n" + "\n".join(_log(p) for p in procs))


def _log(proc: subprocess.Popen) -> str:
    return proc.log_path.read_text()  # type: ignore[attr-defined]


class Schedulers:
    """Starts `flask scheduler run` processes, each in its own process group, and kills every
    one of them (the whole group) on close."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, []

    def start(self, name: str) -> subprocess.Popen:
        log_path = self.logs / f"scheduler-{name}.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [PYTHON, "-m", "flask", "--app", "app", "scheduler", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc.log_path = log_path  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@pytest.fixture
def schedulers(tmp_path: Path) -> Iterator[tuple[Schedulers, Path, dict[str, str]]]:
    database = tmp_path / "s.db"
    env = _env(database)
    how = _create_schema(database, env)
    print(f"schema: {how}; standby poll {POLL_S} s via {POLL_VAR or 'the default (no env var)'}")
    runner = Schedulers(env, tmp_path)
    try:
        yield runner, database, env
    finally:
        runner.close()


def _status(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _flask(env, "scheduler", "status", timeout=30)


def test_a_second_scheduler_stands_by_and_takes_over_when_the_first_is_killed(schedulers):
    runner, database, env = schedulers
    lock_file = database.with_name(database.name + ".scheduler-lock")

    first = runner.start("first")
    me_first = f"{HOST}:{first.pid}"
    _wait_for(
        lambda: _heartbeats(database).get(me_first) is True, START_TIMEOUT_S, "first active", first
    )
    status = _status(env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "heartbeat ok" in status.stdout
    assert f"active   {me_first}" in status.stdout
    assert lock_file.read_text().split() == [HOST, str(first.pid)]

    second = runner.start("second")
    me_second = f"{HOST}:{second.pid}"
    _wait_for(
        lambda: me_second in _heartbeats(database),
        START_TIMEOUT_S,
        "second beats as a standby",
        first,
        second,
    )
    # Wait (no fixed sleep) until the standby has polled twice more, trying the lock each time.
    for _ in range(2):
        beat = _beat_at(database, me_second)
        _wait_for(
            lambda beat=beat: _beat_at(database, me_second) != beat,
            START_TIMEOUT_S,
            "the standby polls again",
            first,
            second,
        )
    beats = _heartbeats(database)
    assert beats[me_second] is False and beats[me_first] is True
    assert lock_file.read_text().split() == [HOST, str(first.pid)]
    assert _jobs_run_by(second) == []  # the standby ran nothing
    assert _jobs_run_by(first)  # while the active one did (its log shows its runs)
    second_log = _log(second)
    assert "waiting as a hot standby" in second_log
    assert "Scheduler lock acquired" not in second_log
    status = _status(env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"standby  {me_second}" in status.stdout

    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed = time.monotonic()
    _wait_for(
        lambda: _heartbeats(database).get(me_second) is True,
        TAKEOVER_TIMEOUT_S,
        "second takes over",
        second,
    )
    took = time.monotonic() - killed
    print(f"the standby took over {took:.1f} s after SIGKILL (poll {POLL_S} s)")
    assert took <= POLL_S + 5, f"took over after {took:.1f} s (poll {POLL_S} s)"
    assert lock_file.read_text().split() == [HOST, str(second.pid)]
    assert "Scheduler lock acquired" in _log(second)
    status = _status(env)
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"active   {me_second}" in status.stdout
