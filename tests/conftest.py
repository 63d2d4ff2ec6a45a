"""Shared fixtures: an app per test on SQLite, and on PostgreSQL when SAMSKAB_TEST_DATABASE_URL
is set (CI sets it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support import PG_SCHEMA, PG_SKIP, PG_URL, drop_pg_schema, make_app


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave no per-run schema behind in the shared PostgreSQL database."""
    if PG_URL:
        drop_pg_schema(PG_URL, PG_SCHEMA)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if PG_URL:
        return ["PostgreSQL: database tests also run against SAMSKAB_TEST_DATABASE_URL"]
    return [PG_SKIP]
