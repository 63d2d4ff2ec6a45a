"""Every command the README prints runs exactly as printed, from a plain shell, after `make`
(issue #11: `.venv/bin/flask --app app jobs list` died with a traceback because SAMSKAB_ENV was
exported only inside make); and a configuration error is one line on stderr, never a traceback.

The commands are the lines of the README's ``sh`` code blocks and the inline ``.venv/bin/…`` and
``make …`` commands of its prose. They run in a copy of this checkout (its tracked files, with
this checkout's ``.venv`` linked in, so nothing is installed) after ``make seed``, i.e. what
``make run`` does before it serves, in an environment without any SAMSKAB_*/FLASK_* variable:
the ``.flaskenv`` that make writes is what makes them work. Nothing touches this checkout's
``instance/``. That part takes a minute or two (the demo seed, a matching dry run), so it runs
with the other smoke checks when SAMSKAB_RUN_SMOKE=1 (CI sets it); the rest always runs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from volunteer.config import EXIT_CONFIG_ERROR

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV = ROOT / ".venv"

FENCE = re.compile(r"^[ \t]*```(\w*)[ \t]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
INLINE_COMMAND = re.compile(r"^(?:[A-Z][A-Z0-9_]*=\S+\s+)*(?:\.venv/bin/\S+|make\s+\S)")

SCHEDULER_RUN = ".venv/bin/flask --app app scheduler run"
MAKE_RUN_REASON = (
    "serves until stopped: tests/smoke/test_make_run.py runs `make run` on a fresh clone on a "
    "free port (5000 and 8000 may be taken on a shared machine)"
)
# Started, but not run to the end.
LONG_RUNNING = {
    "make run": MAKE_RUN_REASON,
    "make run PORT=8000": MAKE_RUN_REASON,
    "make run PORT=5101": MAKE_RUN_REASON,
    "SAMSKAB_DATABASE_URL=postgresql+psycopg://user@host/samskab make run": (
        "serves until stopped, on the reader's own PostgreSQL server (user@host)"
    ),
    SCHEDULER_RUN: "runs until stopped: started here first, checked to take the lock and beat",
}
# Not run here at all.
NOT_RUN = {
    "make test": "the whole test suite, which this test is part of",
    "SAMSKAB_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test make test": (
        "the whole test suite, which this test is part of"
    ),
    "make bench": "the benchmarks run for minutes; bench/ checks itself",
}
# What a person types at a command's prompts.
STDIN = {
    ".venv/bin/flask --app app create-user --role admin you@example.org": (
        "Ada Admin\nreadme-password-2026\nreadme-password-2026\n"
    ),
}
COMMAND_TIMEOUT_S = 180
START_TIMEOUT_S = 60


def readme_commands() -> list[str]:
    """The README's commands in the order it prints them, each once, without trailing comments."""
    commands = []
    for language, body in FENCE.findall(README):
        if language == "sh":
            commands += [line.strip() for line in body.splitlines()]
    prose = FENCE.sub("", README)
    commands += [span for span in re.findall(r"`([^`\n]+)`", prose) if INLINE_COMMAND.match(span)]
    commands = [re.sub(r"\s+#\s.*$", "", line) for line in commands]
    return list(dict.fromkeys(c for c in commands if c and not c.startswith("#")))


def plain_environment() -> dict[str, str]:
    """A login shell's environment: no SAMSKAB_*/FLASK_* settings, no virtualenv, no make."""
    skip = ("SAMSKAB_", "FLASK_", "VIRTUAL_ENV", "PYTHONPATH", "MAKE", "MFLAGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p
    )
    return env


def _traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text


def test_the_readme_commands_are_found_and_every_exception_is_still_printed():
    commands = readme_commands()
    assert ".venv/bin/flask --app app jobs list" in commands
    assert ".venv/bin/flask --app app scheduler status" in commands
    assert "make messages" in commands and len(commands) >= 15, commands
    assert not [line for line in commands if line.startswith("SAMSKAB_SECRET_KEY")], (
        "the production environment file is not a list of commands"
    )
    stale = (set(LONG_RUNNING) | set(NOT_RUN) | set(STDIN)) - set(commands)
    assert not stale, "no longer in the README"


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this checkout's tracked files after `make seed` from a plain shell."""
    if os.environ.get("SAMSKAB_RUN_SMOKE") != "1":
        pytest.skip("README commands on a copy of the checkout: set SAMSKAB_RUN_SMOKE=1 (CI does)")
    if not (VENV / "bin" / "flask").exists():
        pytest.skip("no .venv in this checkout: run `make translations` first")
    dest = tmp_path_factory.mktemp("readme") / "samskab"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    for name in filter(None, tracked):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(VENV, target_is_directory=True)
    # Older than the shared venv, so make uses it rather than rebuilding it.
    stamp = (VENV / "bin" / "activate").stat().st_mtime - 60
    os.utime(dest / "pyproject.toml", (stamp, stamp))
    setup = subprocess.run(
        ["make", "seed"],
        cwd=dest,
        env=plain_environment(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert "pip install" not in setup.stdout, "make rebuilt the venv"
    return dest


def test_make_writes_a_development_flaskenv_that_git_ignores(checkout):
    flaskenv = (checkout / ".flaskenv").read_text()
    assert "FLASK_APP=app" in flaskenv.splitlines()
    assert "SAMSKAB_ENV=development" in flaskenv.splitlines()
    ignored = subprocess.run(["git", "check-ignore", "-q", ".flaskenv"], cwd=ROOT)
    assert ignored.returncode == 0
    assert (checkout / "instance" / "samskab.db").exists()


def _shell(checkout: Path, command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", "-c", command],
        cwd=checkout,
        env=plain_environment(),
        capture_output=True,
        text=True,
        start_new_session=True,  # no terminal: prompts read stdin
        **kwargs,
    )


def test_every_readme_command_runs_as_printed_from_a_plain_shell(checkout, tmp_path):
    log_path = tmp_path / "scheduler.log"
    with log_path.open("w") as log:
        scheduler = subprocess.Popen(
            ["sh", "-c", SCHEDULER_RUN],
            cwd=checkout,
            env=plain_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    failures = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        beat = re.compile(r'Job "heartbeat .* executed successfully')
        while not beat.search(log_path.read_text()):
            assert scheduler.poll() is None, f"{SCHEDULER_RUN} stopped:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, f"no heartbeat:\n{log_path.read_text()}"
            time.sleep(0.5)
        assert "Scheduler lock acquired" in log_path.read_text()

        for command in readme_commands():
            if command in LONG_RUNNING or command in NOT_RUN:
                continue
            result = _shell(
                checkout,
                command,
                input=STDIN.get(command, ""),
                timeout=COMMAND_TIMEOUT_S,
            )
            output = result.stdout + result.stderr
            if result.returncode != 0 or _traceback(output):
                failures.append(f"$ {command}\n(exit {result.returncode})\n{output[-2000:]}")
    finally:
        if scheduler.poll() is None:
            os.killpg(scheduler.pid, signal.SIGTERM)
            try:
                scheduler.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(scheduler.pid, signal.SIGKILL)
                scheduler.wait()
    assert not failures, "\n\n".join(failures)
    assert not _traceback(log_path.read_text()), log_path.read_text()[-3000:]
    assert list((checkout / "backups").glob("samskab-*.db")), "the backup was not written"


CONFIG_ERRORS = {
    "production without a secret key": {"SAMSKAB_ENV": "production"},
    "an unknown SAMSKAB_ENV": {"SAMSKAB_ENV": "staging"},
    "a database URL that is none": {
        "SAMSKAB_ENV": "development",
        "SAMSKAB_SECRET_KEY": "k" * 48,
        "SAMSKAB_DATABASE_URL": "samskab.db",
    },
    "a number that is none": {
        "SAMSKAB_ENV": "development",
        "SAMSKAB_SECRET_KEY": "k" * 48,
        "SAMSKAB_PROXY_HOPS": "one",
    },
}
STARTS = {
    "flask jobs list": [".venv/bin/flask", "--app", "app", "jobs", "list"],
    "flask scheduler --help": [".venv/bin/flask", "--app", "app", "scheduler", "--help"],
    "flask db upgrade": [".venv/bin/flask", "--app", "app", "db", "upgrade"],
    "import app": [".venv/bin/python", "-c", "import app"],
}


CASES = [("flask jobs list", error) for error in CONFIG_ERRORS] + [
    (start, "production without a secret key") for start in STARTS if start != "flask jobs list"
]


@pytest.mark.parametrize(("start", "error"), CASES)
def test_a_configuration_error_is_one_line_on_stderr_without_a_traceback(start, error, tmp_path):
    if not VENV.exists():
        pytest.skip("no .venv in this checkout: run `make translations` first")
    env = plain_environment()
    env.setdefault("SAMSKAB_DATABASE_URL", f"sqlite:///{tmp_path / 'samskab.db'}")
    env.update(CONFIG_ERRORS[error])
    result = subprocess.run(
        STARTS[start], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == EXIT_CONFIG_ERROR, result.stdout + result.stderr
    assert not _traceback(result.stdout + result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Samskab cannot start: "), result.stderr
    assert "SAMSKAB_" in lines[0]
    assert not (tmp_path / "samskab.db").exists()


def test_gunicorn_with_a_configuration_error_says_one_line_and_stops(tmp_path):
    """gunicorn never reads .flaskenv: without SAMSKAB_ENV it runs as production and refuses to
    start without a secret key; the master stops instead of restarting its workers."""
    if not (VENV / "bin" / "gunicorn").exists():
        pytest.skip("no .venv in this checkout: run `make translations` first")
    env = plain_environment()
    env["SAMSKAB_DATABASE_URL"] = f"sqlite:///{tmp_path / 'samskab.db'}"
    result = subprocess.run(
        [".venv/bin/gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "app:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = result.stdout + result.stderr
    assert result.returncode == EXIT_CONFIG_ERROR, output
    assert not _traceback(output), output
    ours = [line for line in output.splitlines() if "Samskab cannot start" in line]
    assert len(ours) == 1 and "SAMSKAB_SECRET_KEY" in ours[0], output
    assert "App failed to load" in output
