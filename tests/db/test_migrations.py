"""`flask db upgrade` on an empty database gives exactly the models' schema, on both backends."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from support import (
    PG_SKIP,
    PG_URL,
    base_config,
    drop_pg_schema,
    ensure_pg_schema,
    pg_url_with_schema,
)
from volunteer import create_app
from volunteer.extensions import db

DRIFT_SCHEMA = f"samskab_drift_{os.getpid()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        if not PG_URL:
            pytest.skip(PG_SKIP)
        ensure_pg_schema(PG_URL, DRIFT_SCHEMA, fresh=True)
        url = pg_url_with_schema(PG_URL, DRIFT_SCHEMA)
    app = create_app(base_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    with app.app_context():
        yield app
        db.engine.dispose()
    if request.param == "postgresql":
        drop_pg_schema(PG_URL, DRIFT_SCHEMA)


def _drift():
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models_exactly(empty_app):
    upgrade()
    assert _drift() == []
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables


def test_downgrade_to_base_and_up_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert _drift() == []


def test_the_upgrade_command_line_works(empty_app):
    result = empty_app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "users" in inspect(db.engine).get_table_names()
