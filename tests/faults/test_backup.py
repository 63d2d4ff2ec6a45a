"""``flask backup``: on SQLite a consistent, complete copy even while another connection writes;
on PostgreSQL clear pg_dump guidance, no password shown, and a non-zero exit."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from support import base_config, make_app
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
