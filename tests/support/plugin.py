"""The test suite's pytest plugin: one app per test on each backend, its client, one login
fixture and one SMTP sink. Registered by ``tests/conftest.py``; ``tests`` is on the path by the
``pythonpath`` setting in pyproject.toml, so no test changes ``sys.path``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support import PG_SCHEMA, PG_SKIP, PG_URL, StatementLog, drop_pg_schema, make_app
from support.auth import log_in
from support.smtp import SMTPSink, smtp_config, start_smtp
from volunteer.auth.models import User


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip(PG_SKIP)
    return request.param


@pytest.fixture
def app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with an empty schema, inside an app context, on each backend."""
    yield from make_app(backend, tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth(client: FlaskClient) -> Callable[..., None]:
    """``auth(user)`` signs ``user`` in on ``client`` (or ``auth(user, other_client)``)."""

    def sign_in(user: User | str, on: FlaskClient | None = None) -> None:
        log_in(on or client, user)

    return sign_in


@pytest.fixture
def sql_statements(app: Flask) -> StatementLog:
    """``sql_statements.of(client, url)``: the SQL statements one GET of ``url`` runs."""
    return StatementLog()


@pytest.fixture
def smtp(app: Flask) -> Iterator[SMTPSink]:
    """An SMTP server that accepts everything; the app is configured to deliver to it."""
    sink = SMTPSink()
    controller = start_smtp(sink)
    app.config.update(smtp_config(controller))
    yield sink
    controller.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave no per-run schema behind in the shared PostgreSQL database."""
    if PG_URL:
        drop_pg_schema(PG_URL, PG_SCHEMA)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if PG_URL:
        return ["PostgreSQL: database tests also run against SAMSKAB_TEST_DATABASE_URL"]
    return [PG_SKIP]
