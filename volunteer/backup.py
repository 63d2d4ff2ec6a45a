"""``flask --app app backup PATH``: a consistent copy of the SQLite database while it is in use.

SQLite's online backup API copies the database page by page through SQLite itself, inside a
read transaction, so the copy holds exactly the committed state at one moment, even while the
web server and the scheduler write (copying the file with ``cp`` can tear a transaction, and
misses what is still in the ``-wal`` file). PostgreSQL has its own tool, ``pg_dump``; the command
says how to run it rather than doing half of its job.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """The backup could not be written (the message says why, for the operator)."""


def sqlite_backup(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` with the online backup API, then check the copy.

    Writes to a temporary file beside ``target`` and renames it, so ``target`` is never a
    half-written database (a full disk or a crash leaves the old backup, if any, in place).
    """
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source)
    dest = sqlite3.connect(partial)
    try:
        src.backup(dest)  # all pages in one step: one consistent snapshot
        # The copy stands alone: no -wal file beside it that it would depend on.
        dest.execute("PRAGMA journal_mode=DELETE")
        status = dest.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dest.close()
        src.close()
    if status != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"The copy failed its integrity check: {status}")
    os.replace(partial, target)


def pg_dump_command(url: URL, target: str) -> str:
    """The ``pg_dump`` command for this database, without the password (pg_dump reads it from
    ``PGPASSWORD`` or ``~/.pgpass``; on a command line it would land in the shell history)."""
    parts = ["pg_dump", "--format=custom", f"--file={target}"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    parts.append(f"--dbname={url.database or ''}")
    return shlex.join(parts)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the database to PATH (SQLite; for PostgreSQL, says how)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise click.ClickException("An in-memory database cannot be backed up.")
        try:
            sqlite_backup(Path(url.database), path)
        except (BackupError, sqlite3.Error, OSError) as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backup written to {path} (integrity check ok).")
        return
    if url.get_backend_name() == "postgresql":
        click.echo(
            "This database is PostgreSQL: back it up with pg_dump, which takes a consistent "
            "snapshot while the site runs. Set PGPASSWORD (or use ~/.pgpass) and run:\n\n"
            f"  {pg_dump_command(url, str(path))}\n\n"
            "Restore with pg_restore --dbname=… " + shlex.quote(str(path)),
            err=True,
        )
        raise SystemExit(2)
    raise click.ClickException(f"No backup method for {url.get_backend_name()} databases.")
