"""Backing up and restoring the embedded database.

SQLite's online backup API copies a consistent snapshot while the app keeps running.
For PostgreSQL, use pg_dump and pg_restore (docs/deployment.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from django.db import connection

from .errors import InvalidInput

__all__ = ["backup_database", "restore_database"]


def _require_sqlite(what: str) -> Path:
    if connection.vendor != "sqlite":
        raise InvalidInput(f"{what} works on the embedded SQLite database; on PostgreSQL use pg_dump and pg_restore "
                           "(see docs/deployment.md).", field="database")
    return Path(connection.settings_dict["NAME"])


def _check_is_osom(db: sqlite3.Connection, where: str) -> None:
    try:
        intact = db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        raise InvalidInput(f"{where} is not a database.", field="file")
    if not intact:
        raise InvalidInput(f"{where} is damaged: SQLite's integrity check failed.", field="file")
    try:
        applied = db.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'core'").fetchone()[0]
    except sqlite3.DatabaseError:
        applied = 0
    if not applied:
        raise InvalidInput(f"{where} is not an OSOM database.", field="file")


def backup_database(target: str | Path) -> Path:
    """Write a consistent copy of the live database to ``target`` (never overwritten)."""
    source = _require_sqlite("Backing up")
    target = Path(target).resolve()
    if target.exists():
        raise InvalidInput(f"{target} already exists; choose a new file, so no backup is overwritten.", field="file")
    if not target.parent.is_dir():
        raise InvalidInput(f"The folder {target.parent} does not exist.", field="file")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        _check_is_osom(dst, str(target))
    return target


def restore_database(backup: str | Path) -> Path:
    """Replace the live database's content with a backup's, in one step; stop the app first."""
    destination = _require_sqlite("Restoring")
    backup = Path(backup).resolve()
    if not backup.is_file():
        raise InvalidInput(f"There is no file {backup}.", field="file")
    with sqlite3.connect(backup.as_uri() + "?mode=ro", uri=True) as src:
        _check_is_osom(src, str(backup))
        connection.close()  # this process lets go of the database before it is replaced
        with sqlite3.connect(destination) as dst:
            src.backup(dst)
    return destination
