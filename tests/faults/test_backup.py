"""``flask backup``: on SQLite a consistent, complete copy even while another connection writes;
on PostgreSQL clear pg_dump guidance, no password shown, and a non-zero exit. And restores: the
site runs on the restored copy (SQLite) or the pg_restore'd database (PostgreSQL), every row
there."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from support import (
    PG_SKIP,
    PG_URL,
    base_config,
    drop_pg_schema,
    ensure_pg_schema,
    make_app,
    pg_url_with_schema,
)
from volunteer import create_app, demo
from volunteer.backup import sqlite_backup
from volunteer.extensions import db


@pytest.fixture
def sqlite_app(tmp_path):
    yield from make_app("sqlite", tmp_path)


def counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names
    }


def test_backup_while_another_connection_writes(sqlite_app, tmp_path):
    assert demo.seed(volunteers=20) is not None
    db.session.remove()
    source = Path(db.engine.url.database)

    # A writer in another connection: a probe table gets rows two at a time, each pair in one
    # transaction. A consistent copy holds whole transactions only, so an even number of rows.
    writer = sqlite3.connect(source, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA busy_timeout=5000")
    writer.execute("CREATE TABLE backup_probe (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL)")
    stop = threading.Event()
    written = []

    def write() -> None:
        pair = 0
        while not stop.is_set():
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO backup_probe (pair) VALUES (?)", (pair,))
            writer.execute("INSERT INTO backup_probe (pair) VALUES (?)", (pair,))
            writer.execute("COMMIT")
            pair += 1
            written.append(pair)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        while len(written) < 20:  # the writer is really going before the backup starts
            stop.wait(0.005)
        result = sqlite_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "integrity check ok" in result.output

    copy = sqlite3.connect(tmp_path / "copy.db")
    original = sqlite3.connect(source)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copied, now = counts(copy), counts(original)
        probe_copied, probe_now = copied.pop("backup_probe"), now.pop("backup_probe")
        assert copied == now  # every application table, row for row
        assert sum(copied.values()) > 100  # the demo world really is in it
        assert probe_copied % 2 == 0 and 0 < probe_copied <= probe_now
        # The copy does not lean on a -wal file: it is complete on its own.
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        copy.close()
        original.close()
        writer.close()


def test_a_failed_backup_leaves_no_half_written_file(tmp_path):
    with pytest.raises(Exception, match="no database"):
        sqlite_backup(tmp_path / "missing.db", tmp_path / "copy.db")
    assert list(tmp_path.iterdir()) == []


def test_postgresql_gets_pg_dump_guidance_without_the_password(tmp_path):
    app = create_app(
        base_config(
            tmp_path,
            SQLALCHEMY_DATABASE_URI="postgresql://samskab:hemmelig-kode@db.example.org:5433/prod",
        )
    )
    result = app.test_cli_runner().invoke(args=["backup", "/var/backups/samskab.dump"])
    assert result.exit_code != 0
    output = result.output
    assert "pg_dump" in output
    assert "--host=db.example.org" in output and "--port=5433" in output
    assert "--dbname=prod" in output and "--username=samskab" in output
    assert "hemmelig-kode" not in output


def _log_in_as_demo_volunteer(app) -> int:
    client = app.test_client()
    response = client.post(
        "/konto/log-ind",
        data={"email": "frivillig@example.org", "password": demo.DEMO_PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client.get("/min-side/").status_code


def test_the_restored_sqlite_copy_serves_the_site(sqlite_app, tmp_path):
    """Restore as the README says (the copy where the database URL points): the site starts on
    it, every row is there, and the demo volunteer can log in."""
    demo.seed(volunteers=20)
    db.session.remove()
    copy = tmp_path / "restore" / "samskab.db"
    copy.parent.mkdir()
    result = sqlite_app.test_cli_runner().invoke(args=["backup", str(copy)])
    assert result.exit_code == 0, result.output
    original = sqlite3.connect(db.engine.url.database)
    expected = counts(original)
    original.close()

    restored = create_app(base_config(copy.parent, SQLALCHEMY_DATABASE_URI=f"sqlite:///{copy}"))
    with restored.app_context():
        check = sqlite3.connect(copy)
        try:
            assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert counts(check) == expected
        finally:
            check.close()
        assert restored.test_client().get("/readyz").status_code == 200
        assert _log_in_as_demo_volunteer(restored) == 200
        db.engine.dispose()


@pytest.mark.skipif(not PG_URL, reason=PG_SKIP)
@pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump is not installed")
def test_postgresql_dump_and_restore_with_the_printed_command(tmp_path):
    """The production procedure end to end: a migrated database with the demo world, dumped with
    the command `flask backup` prints, restored with pg_restore into a new database, where every
    table has every row, the schema is at the newest migration and the site works."""
    pid = os.getpid()
    schema, restored_db = f"samskab_backup_{pid}", f"samskab_restore_{pid}"
    server = make_url(PG_URL)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    ensure_pg_schema(PG_URL, schema, fresh=True)
    dump = tmp_path / "samskab.dump"
    try:
        source = create_app(
            base_config(tmp_path, SQLALCHEMY_DATABASE_URI=pg_url_with_schema(PG_URL, schema))
        )
        with source.app_context():
            upgrade()
            demo.seed(volunteers=20)
            db.session.remove()
            expected = _pg_counts(db.engine, schema)
            result = source.test_cli_runner().invoke(args=["backup", str(dump)])
            db.engine.dispose()
        command = next(
            line.strip()
            for line in result.output.splitlines()
            if line.strip().startswith("pg_dump")
        )
        # The printed command, limited to this test's schema (the database is shared).
        subprocess.run([*shlex.split(command), f"--schema={schema}"], check=True, timeout=120)
        assert dump.stat().st_size > 10_000

        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{restored_db}"'))
            conn.execute(text(f'CREATE DATABASE "{restored_db}"'))
        target = server.set(drivername="postgresql", database=restored_db)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={target.render_as_string(hide_password=False)}",
                str(dump),
            ],
            check=True,
            timeout=120,
        )

        restored_url = server.set(database=restored_db).render_as_string(hide_password=False)
        restored = create_app(
            base_config(tmp_path, SQLALCHEMY_DATABASE_URI=pg_url_with_schema(restored_url, schema))
        )
        with restored.app_context():
            assert _pg_counts(db.engine, schema) == expected
            assert sum(expected.values()) > 500
            with db.engine.connect() as conn:
                version = conn.scalar(text("SELECT version_num FROM alembic_version"))
            assert version == _newest_revision()
            assert restored.test_client().get("/readyz").status_code == 200
            assert _log_in_as_demo_volunteer(restored) == 200
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_pg_schema(PG_URL, schema)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{restored_db}" WITH (FORCE)'))
        admin.dispose()


def _pg_counts(engine, schema: str) -> dict[str, int]:
    with engine.connect() as conn:
        names = conn.scalars(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
            {"s": schema},
        ).all()
        return {
            name: conn.scalar(text(f'SELECT count(*) FROM "{schema}"."{name}"')) for name in names
        }


def _newest_revision() -> str:
    from alembic.script import ScriptDirectory

    from volunteer.config import PROJECT_ROOT

    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()
