"""Helpers the test modules share: database URLs per backend, an app factory for tests, and
a test client whose requests run in their own contexts."""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, text

from volunteer import create_app
from volunteer.extensions import db

PG_URL = os.environ.get("SAMSKAB_TEST_DATABASE_URL")
PG_SKIP = (
    "PostgreSQL tests skipped: set SAMSKAB_TEST_DATABASE_URL "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run them; CI does."
)
# Per test run, so two runs on one machine (a developer's and CI's) never share tables.
PG_SCHEMA = f"samskab_tests_{os.getpid()}"


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


def drop_pg_schema(url: str, schema: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def base_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "SAMSKAB_ENV": "testing",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SITE_URL": "http://samskab.test",
        "ANONYMOUS_PAGE_CACHE_S": 0,
    }
    config.update(overrides)
    return config


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


class IsolatedClient(FlaskClient):
    """Each request runs in its own contexts, as in production.

    The test body keeps an app context open for its own queries; without this, requests would
    share it (and its ``g``, cached locale and logged-in user), which hides real bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return contextvars.Context().run(super().open, *args, **kwargs)


def make_app(backend: str, tmp_path: Path, **overrides: Any) -> Iterator[Flask]:
    app = create_app(
        base_config(tmp_path, SQLALCHEMY_DATABASE_URI=_database_url(backend, tmp_path), **overrides)
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        if backend == "postgresql":
            db.drop_all()
        db.create_all()
        yield app
        db.session.remove()
        if backend == "postgresql":
            db.drop_all()
        db.engine.dispose()


# A form's token field, with or without a form prefix ("link-csrf_token"), in either attribute
# order WTForms and the templates write it.
CSRF_RE = re.compile(
    r'name="(?:[\w-]+-)?csrf_token"(?: type="hidden")? value="([^"]+)"'
    r'|type="hidden" name="(?:[\w-]+-)?csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class StatementLog:
    """The SQL statements the app runs while recording (an SQLAlchemy ``before_cursor_execute``
    listener on the app's engine); ``of(client, url)`` records one GET."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)

    def of(self, client: FlaskClient, url: str) -> list[str]:
        """The statements one GET of ``url`` runs (it must answer 200)."""
        self.statements = []
        event.listen(db.engine, "before_cursor_execute", self._record)
        try:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        finally:
            event.remove(db.engine, "before_cursor_execute", self._record)
        return self.statements


def count_queries(client: FlaskClient, url: str) -> int:
    """How many SQL statements one GET of ``url`` runs (for N+1 checks)."""
    return len(StatementLog().of(client, url))


def delivered_text(message: Any, part: str = "plain") -> str:
    """What the recipient of an outbox message reads: the body as delivery builds it, with its
    bearer links minted (the stored body only holds markers)."""
    from volunteer.notifications.delivery import build_email

    body = build_email(message, "Samskab <noreply@samskab.test>").get_body((part,))
    assert body is not None
    return body.get_content()


def queued(key_prefix: str) -> list[Any]:
    """The outbox messages whose dedup key starts with ``key_prefix``, oldest first."""
    from sqlalchemy import select

    from volunteer.models import OutboxMessage

    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.dedup_key.startswith(key_prefix, autoescape=True))
            .order_by(OutboxMessage.id)
        )
    )
