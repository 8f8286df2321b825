"""Backing up and restoring the embedded database, with the ``osom`` command, in a
separate process on a real file (as an operator would)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys


def _osom(data_dir, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSOM_", "DJANGO_"))}
    env["OSOM_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "osom.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def _count(path, table):
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_a_backup_restores_the_database_as_it_was(tmp_path):
    data = tmp_path / "data"
    database = data / "osom.sqlite3"
    assert _osom(data, "migrate").returncode == 0
    first = _osom(data, "createperson", "chief@example.org", "--role", "executive", "--name", "Chief")
    assert first.returncode == 0, first.stderr
    backup = tmp_path / "backup.sqlite3"
    result = _osom(data, "backup", str(backup))
    assert result.returncode == 0, result.stderr
    assert _count(backup, "core_person") == 1

    # later changes, then the restore brings back the state of the backup
    assert _osom(data, "createperson", "second@example.org", "--as", "chief@example.org").returncode == 0
    assert _count(database, "core_person") == 2
    refused = _osom(data, "restore", str(backup))
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert _count(database, "core_person") == 2
    restored = _osom(data, "restore", str(backup), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert _count(database, "core_person") == 1
    assert _osom(data, "audit", "verify").returncode == 0


def test_a_backup_never_overwrites_a_file_and_a_non_osom_file_is_not_restored(tmp_path):
    data = tmp_path / "data"
    assert _osom(data, "migrate").returncode == 0
    existing = tmp_path / "existing.sqlite3"
    existing.write_text("keep me")
    result = _osom(data, "backup", str(existing))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert existing.read_text() == "keep me"
    stranger = tmp_path / "other.sqlite3"
    with sqlite3.connect(stranger) as db:
        db.execute("CREATE TABLE t (x)")
    result = _osom(data, "restore", str(stranger), "--yes")
    assert result.returncode == 2 and "not an OSOM database" in result.stderr


def test_restoring_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path):
    data = tmp_path / "data"
    assert _osom(data, "migrate").returncode == 0
    text = tmp_path / "notes.txt"
    text.write_text("this is not a database at all, just some words " * 50)
    result = _osom(data, "restore", str(text), "--yes")
    assert result.returncode == 2
    assert "is not a database" in result.stderr and "Traceback" not in result.stderr


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_restored_organisation_exports_exactly_as_it_did_when_backed_up(tmp_path):
    """The demo organisation, backed up while it runs, changed, then restored: its
    catalogue exports and its publication are byte for byte those made at the backup."""
    data = tmp_path / "data"
    assert _osom(data, "demo").returncode == 0
    backup = tmp_path / "backup.sqlite3"
    assert _osom(data, "backup", str(backup)).returncode == 0

    def exports(name):
        folder = tmp_path / name
        for args in (["export", "--to", "csv", str(folder / "csv")], ["export", "--to", "backstage", str(folder / "backstage")],
                     ["publish", "--markdown", str(folder / "published"), "--date", "2026-11-27"]):
            done = _osom(data, *args)
            assert done.returncode == 0, done.stderr
        return _files(folder)

    before = exports("before")
    assert len(before) > 50
    changed = _osom(data, "createperson", "new.manager@northbridge.example", "--as", "ada.okafor@northbridge.example")
    assert changed.returncode == 0, changed.stderr
    assert exports("changed") != before  # the new person is among the exported users
    assert _osom(data, "restore", str(backup), "--yes").returncode == 0
    assert exports("after") == before
    assert _osom(data, "audit", "verify").returncode == 0
