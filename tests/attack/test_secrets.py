"""No secret in the repository, and no way to start production without one.

Every tracked file (``git ls-files``) is scanned for private keys, cloud and chat tokens,
passwords in URLs, hard-coded secret keys and passwords, and files that hold secrets (``.env``,
key files, anything under ``instance/``). What is allowed is listed below, exactly: the demo
password the README publishes, the test-only keys, and a fake credential a test uses to check
that it is never shown.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path, PurePosixPath

import pytest

from volunteer import create_app
from volunteer.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]

# The patterns are written so that this file does not match itself (e.g. "-{5}BEGIN").
TOKENS = {
    "private key": re.compile(r"-{5}BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-{5}"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws_?secret_?access_?key\W{1,4}[A-Za-z0-9/+=]{40}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Za-z0-9]+/"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "Stripe key": re.compile(r"\b[rs]k_live_[0-9A-Za-z]{16,}"),
}

# <scheme>://<user>:<password>@<host>
URL_CREDENTIALS = re.compile(r"\b[a-z][a-z0-9+.-]*://([^\s/:@'\"<>]+):([^\s/@'\"<>]+)@")

# NAME = "value", "NAME": "value", NAME: "value", NAME="value" ...
SENSITIVE_NAME = r"\w*(?:SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|API_?KEY|PRIVATE_?KEY)\w*"
QUOTED_ASSIGNMENT = re.compile(
    rf"""(?i)\b({SENSITIVE_NAME})["']?\s*(?::|=|:=)\s*[rb]?["']([^"'\s]{{8,}})["']"""
)
# ... and, in shell, make, ini and similar files, NAME=value without quotes.
BARE_ASSIGNMENT = re.compile(rf"""(?i)\b({SENSITIVE_NAME})\s*[:=]\s*([^\s"'$({{][^\s"']{{7,}})""")
BARE_SUFFIXES = {".sh", ".ini", ".cfg", ".conf", ".toml", ".yml", ".yaml", ".env", ".properties"}
BARE_NAMES = {"Makefile", "Procfile", "run", "Dockerfile"}

# Names of other settings or environment variables (config.py maps SAMSKAB_SECRET_KEY to
# SECRET_KEY): a reference, not a value.
IDENTIFIER = re.compile(r"[A-Z][A-Z0-9_]*")

# The only literal secrets allowed: (path, name, value), exactly.
ALLOWED_ASSIGNMENTS = {
    # Published in the README: every account `make run` seeds has it (demo data only).
    ("volunteer/demo.py", "DEMO_PASSWORD", "samskab-demo-2026"),
    # The SMS benchmark's own fake gateway on 127.0.0.1 (started by the benchmark, no provider).
    ("bench/sms.py", "TOKEN", "fake-gateway-token"),
}
ALLOWED_TEST_KEYS = {
    ("tests/support/__init__.py", "SECRET_KEY", "test-secret-key-not-for-production"),
    ("tests/jobs/test_scheduler_process.py", "SAMSKAB_SECRET_KEY", "scheduler-process-test-"),
    ("tests/multinode/conftest.py", "SECRET_KEY", "multinode-"),  # + a random suffix
    # The fake SMS gateway's signing secret for delivery reports (tests only).
    ("tests/jobs/test_sms.py", "SECRET", "webhook-secret"),
}
ALLOWED_URL_CREDENTIALS = {
    # A fake password, to check that the backup command never prints it.
    ("tests/faults/test_backup.py", "samskab", "hemmelig-kode"),
}

# Files that hold secrets by their nature.
SECRET_FILES = (
    re.compile(r"(^|/)\.env(\.[^/]*)?$"),  # .env, .env.local, .env.production ...
    re.compile(r"(^|/)instance/"),
    re.compile(r"(^|/)secret_key$"),
    re.compile(r"\.(pem|key|p12|pfx|jks|keystore|kdbx)$"),
    re.compile(r"(^|/)id_(rsa|dsa|ecdsa|ed25519)(\.pub)?$"),
    re.compile(r"(^|/)(\.pgpass|\.netrc|\.npmrc|\.pypirc|credentials\.json)$"),
)


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@cache
def _in_git() -> bool:
    return shutil.which("git") is not None and _git("rev-parse", "--git-dir").returncode == 0


@pytest.fixture(scope="module")
def tracked() -> dict[str, str]:
    """Every tracked file that exists in the working tree: path → text."""
    if not _in_git():
        pytest.skip("not a git checkout: there are no tracked files to scan")
    paths = _git("ls-files", "-z").stdout.split("\0")
    files = {}
    for path in filter(None, paths):
        file = ROOT / path
        if file.is_file():  # deleted but not yet committed: not there to leak
            files[path] = file.read_bytes().decode("utf-8", errors="replace")
    assert len(files) > 100, "git ls-files found almost nothing: the scan would prove nothing"
    return files


def is_test_file(path: str) -> bool:
    return path.startswith("tests/")


def token_findings(text: str) -> list[str]:
    return [name for name, pattern in TOKENS.items() if pattern.search(text)]


def url_credentials(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in URL_CREDENTIALS.finditer(text)]


def secret_assignments(path: str, text: str) -> list[tuple[str, str]]:
    """(name, literal value) of every assignment of a literal to a secret-looking name."""
    patterns = [QUOTED_ASSIGNMENT]
    pure = PurePosixPath(path)
    if pure.suffix in BARE_SUFFIXES or pure.name in BARE_NAMES or pure.name.startswith(".env"):
        patterns.append(BARE_ASSIGNMENT)
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            name, value = match.group(1), match.group(2)
            if not IDENTIFIER.fullmatch(value):
                found.append((name, value))
    return found


def test_no_private_keys_or_tokens(tracked):
    leaks = {path: found for path, text in tracked.items() if (found := token_findings(text))}
    assert leaks == {}


def test_no_passwords_in_urls(tracked):
    leaks = [
        (path, user, password)
        for path, text in tracked.items()
        for user, password in url_credentials(text)
        if (path, user, password) not in ALLOWED_URL_CREDENTIALS
    ]
    assert leaks == []


def test_no_hard_coded_secrets_outside_the_tests(tracked):
    leaks = [
        (path, name, value)
        for path, text in tracked.items()
        if not is_test_file(path)
        for name, value in secret_assignments(path, text)
        if (path, name, value) not in ALLOWED_ASSIGNMENTS
    ]
    assert leaks == []


def test_the_tests_use_only_their_own_listed_keys(tracked):
    """Test passwords are made-up form data; but a secret key in a test must be one of the
    listed test-only keys (so a real one pasted into a test is caught)."""
    keys = [
        (path, name, value)
        for path, text in tracked.items()
        if is_test_file(path)
        for name, value in secret_assignments(path, text)
        if "SECRET" in name.upper() or "KEY" in name.upper()
    ]
    assert [key for key in keys if key not in ALLOWED_TEST_KEYS] == []


def test_the_allowed_secrets_are_still_there(tracked):
    """The allowlist stays narrow: an entry whose secret is gone is removed, not kept."""
    for path, name, value in ALLOWED_ASSIGNMENTS:
        assert (name, value) in secret_assignments(path, tracked[path]), (path, name)
    for path, user, password in ALLOWED_URL_CREDENTIALS:
        assert (user, password) in url_credentials(tracked[path]), path


def test_no_secret_files_are_tracked(tracked):
    found = [path for path in tracked if any(p.search(path) for p in SECRET_FILES)]
    assert found == []


@pytest.mark.parametrize(
    "path", ["instance/", "instance/secret_key", "instance/samskab.db", "instance/samskab.db-wal"]
)
def test_the_instance_folder_and_the_generated_key_are_ignored(path):
    if not _in_git():
        pytest.skip("not a git checkout: .gitignore does not apply")
    result = _git("check-ignore", "--no-index", "--quiet", path)
    assert result.returncode == 0, f"{path} is not ignored by git: {result.stderr}"


def test_the_scanner_finds_what_it_looks_for():
    """The patterns are not vacuous: samples (made up here, so none is in the file) are found."""
    dashes = "-" * 5
    samples = {
        "private key": f"{dashes}BEGIN RSA PRIVATE KEY{dashes}\nMIIEow...",
        "AWS access key": "key = " + "AKIA" + "Q" * 16,
        "GitHub token": "ghp_" + "a1" * 18,
        "Slack token": "xoxb-" + "1234567890-abc",
        "Google API key": "AIza" + "B" * 35,
    }
    for name, text in samples.items():
        assert name in token_findings(text), name
    url = "postgresql" + "://bob:s3cret-kode@db.example.org/prod"
    assert url_credentials(url) == [("bob", "s3cret-kode")]
    assert url_credentials("postgresql+psycopg://postgres@127.0.0.1:5432/test") == []
    python = 'SECRET_KEY = "' + "q" * 24 + '"\nconfig = {"SMTP_PASSWORD": "' + "p" * 12 + '"}'
    assert secret_assignments("volunteer/settings.py", python) == [
        ("SECRET_KEY", "q" * 24),
        ("SMTP_PASSWORD", "p" * 12),
    ]
    shell = "export SAMSKAB_SECRET_KEY=" + "z" * 20 + "\nTOKEN=$FROM_THE_ENVIRONMENT\n"
    assert secret_assignments(".ci/run", shell) == [("SAMSKAB_SECRET_KEY", "z" * 20)]
    # References to other settings, and code, are not secrets.
    assert secret_assignments("volunteer/config.py", '"SAMSKAB_SECRET_KEY": "SECRET_KEY",') == []
    assert secret_assignments("volunteer/x.py", "password=form.password.data") == []
    assert any(p.search(".env") for p in SECRET_FILES)
    assert any(p.search("deploy/.env.production") for p in SECRET_FILES)
    assert not any(p.search("volunteer/envelope.py") for p in SECRET_FILES)


# Production refuses to start without a secret key, or in debug mode, however it is started:
# ``gunicorn 'app:app'`` and ``flask --app app run`` build the app from the environment.
# (tests/unit/test_config.py checks the same rules with settings passed in directly.)


@pytest.fixture
def production_environment(monkeypatch, tmp_path):
    """A clean environment as on a server: only SAMSKAB_* / FLASK_* given here count."""
    import os

    for name in list(os.environ):
        if name.startswith(("SAMSKAB_", "FLASK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SAMSKAB_DATABASE_URL", f"sqlite:///{tmp_path / 'samskab.db'}")
    return monkeypatch


def test_production_is_the_default_and_needs_a_secret_key(production_environment):
    with pytest.raises(ConfigError, match="SAMSKAB_SECRET_KEY"):
        create_app()
    production_environment.setenv("SAMSKAB_ENV", "production")
    production_environment.setenv("SAMSKAB_SECRET_KEY", "")
    with pytest.raises(ConfigError, match="SAMSKAB_SECRET_KEY"):
        create_app()


@pytest.mark.parametrize("debug", [{"SAMSKAB_DEBUG": "1"}, {"FLASK_DEBUG": "1"}])
def test_production_refuses_debug_mode_from_the_environment(production_environment, debug):
    """SAMSKAB_DEBUG, and Flask's own FLASK_DEBUG (what ``flask run --debug`` sets): the
    interactive debugger on a public server would run any code a visitor sends."""
    production_environment.setenv("SAMSKAB_SECRET_KEY", "k" * 48)
    for name, value in debug.items():
        production_environment.setenv(name, value)
    with pytest.raises(ConfigError, match="Debug"):
        create_app()


def test_production_starts_with_a_key_and_without_debug(production_environment):
    production_environment.setenv("SAMSKAB_SECRET_KEY", "k" * 48)
    app = create_app()
    assert app.config["SAMSKAB_ENV"] == "production"
    assert not app.debug and app.config["SESSION_COOKIE_SECURE"]
