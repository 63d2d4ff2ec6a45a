"""Shared fixtures: an app per test on SQLite, and on PostgreSQL when SAMSKAB_TEST_DATABASE_URL
is set (CI sets it); factories for the data most tests need."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from volunteer import create_app
from volunteer.extensions import db

PG_URL = os.environ.get("SAMSKAB_TEST_DATABASE_URL")
PG_SKIP = (
    "PostgreSQL tests skipped: set SAMSKAB_TEST_DATABASE_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run them; CI does."
)
PG_SCHEMA = "samskab_tests"


def pg_url_with_schema(url: str, schema: str) -> str:
    """The URL with a search_path, so tests use their own schema in a shared database."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def ensure_pg_schema(url: str, schema: str, *, fresh: bool) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        if fresh:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()


def base_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "SAMSKAB_ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SITE_URL": "http://samskab.test",
    }
    config.update(overrides)
    return config


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip(PG_SKIP)
    return request.param


_pg_schema_ready = False


def _database_url(backend: str, tmp_path: Path) -> str:
    global _pg_schema_ready
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    assert PG_URL
    if not _pg_schema_ready:
        ensure_pg_schema(PG_URL, PG_SCHEMA, fresh=True)
        _pg_schema_ready = True
    return pg_url_with_schema(PG_URL, PG_SCHEMA)


def make_app(backend: str, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    app = create_app(
        base_config(tmp_path, SQLALCHEMY_DATABASE_URI=_database_url(backend, tmp_path), **overrides)
    )
    with app.app_context():
        if backend == "postgresql":
            db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        if backend == "postgresql":
            db.drop_all()
        db.engine.dispose()


@pytest.fixture
def app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with an empty schema, inside an app context, on each backend."""
    yield from make_app(backend, tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if PG_URL:
        return ["PostgreSQL: database tests also run against SAMSKAB_TEST_DATABASE_URL"]
    return [PG_SKIP]
