"""A process killed (SIGKILL: no clean-up, as in a power cut or the OOM killer) in the
middle of an act leaves the database exactly as it was before the act: every table
holds the same rows, the audit chain verifies, SQLite is still in WAL mode and sound,
and the same act then succeeds from the start.

"In the middle": the process (``procs.py crash``) runs the act with one function of
it — ``notify`` or ``audit.record``, called near the end, after everything else is
written — wrapped to say so once it has done its work and then to wait; the test kills
it there, inside the act's transaction. The bulk loads are covered too: a catalogue
imported from a spreadsheet (killed half way through its adoptions), and the demo
organisation, loaded in one transaction.
"""

from __future__ import annotations

import os
import signal
import sqlite3

import pytest

from . import procs

# scenario: what the database holds once the act has been done again, to the end
CRASHES = {
    # the version becomes the current contract; its manager is told
    "approve_version": {"status": "approved", "current_version": 2, "approved_versions": 2, "events": 1, "notified": 1},
    # the service moves from discovery to alpha with alpha's budget, in the same act
    "publish_report": {"status": "published", "stage": "alpha", "stage_changes": 1, "allocations": 1, "versions": 1,
                       "decommissioned_versions": 0, "open_assessments": 0, "events": 1},
    # the service is decommissioned and its reasons kept in a new contract version
    "decommission": {"status": "published", "stage": "decommissioned", "stage_changes": 1, "allocations": 0,
                     "versions": 2, "decommissioned_versions": 1, "open_assessments": 0, "events": 1},
    "publish_coe": {"status": "published", "notified": 1, "events": 1},
    # a bulk act: a saved filter resolved into 40 services, a target and a notification each
    "issue_mandate_bulk": {"status": "issued", "targets": procs.BULK, "notified": procs.BULK, "events": 1},
    # an import: every service of the spreadsheet adopted, and one event for the import
    "import_catalogue": {"services": procs.IMPORTED, "events": 1},
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request):
    reason = procs.skip_reason(request.param)
    if reason:
        pytest.skip(reason)
    return request.param


@pytest.fixture(scope="module")
def database(backend, tmp_path_factory):
    db = procs.prepare(backend, tmp_path_factory.mktemp(f"crash-{backend}"), "crash",
                       [f"{name}@crash" for name in CRASHES])
    yield db
    db.drop()


@pytest.fixture
def empty_database(backend, tmp_path_factory):
    """Migrated, with nobody in it: the demo loads only into an empty database."""
    db = procs.prepare(backend, tmp_path_factory.mktemp(f"demo-{backend}"), "demo", [])
    yield db
    db.drop()


def _kill_in_the_middle(db: procs.Database, key: str) -> dict:
    """Start the act, kill the process inside it; the database state it saw before."""
    proc = procs.start(db, "crash", key)
    try:
        before, inside = procs.wait_until_inside(proc)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert inside["in_transaction"], f"{inside['where']} was not called inside the act's transaction"
    assert proc.returncode == -signal.SIGKILL
    assert before is not None
    return before["state"]


def _assert_sqlite_sound(db: procs.Database) -> None:
    """Opened afresh, as after a restart, without the app's connection settings."""
    if db.backend != "sqlite":
        return
    with sqlite3.connect(db.sqlite_file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _assert_as_before(before: dict, after: dict) -> None:
    changed = {t: (before.get(t), after.get(t)) for t in sorted(set(before) | set(after)) if before.get(t) != after.get(t)}
    assert not changed, f"tables changed by an act that never committed: {changed}"


@pytest.mark.parametrize("name", list(CRASHES))
def test_a_process_killed_in_the_middle_of_an_act_leaves_the_database_as_it_was(database, name):
    key = f"{name}@crash"
    before = _kill_in_the_middle(database, key)
    _assert_sqlite_sound(database)

    after = procs.run(database, "after", key)

    _assert_as_before(before, after["state"])
    assert after["chain"]["intact"] and after["chain"]["command"] == 0, after["chain"]
    # nothing is left half-done or locked: the act now goes through from the start
    assert after["redo"] == {"outcome": "done"}, after["redo"]
    assert after["facts"] == CRASHES[name]
    assert after["chain_after_redo"]["intact"], after["chain_after_redo"]
    _assert_sqlite_sound(database)


def test_a_demo_load_killed_half_way_leaves_the_database_empty(empty_database):
    before = _kill_in_the_middle(empty_database, "demo@crash")
    _assert_sqlite_sound(empty_database)

    # (loading the demo into an empty database is tested in tests/network/test_demo.py)
    after = procs.run(empty_database, "after", "demo@crash", "--no-redo")

    _assert_as_before(before, after["state"])
    assert before["core_person"][0] == 0 and before["core_auditevent"][0] == 0
    assert after["facts"] == {"people": 0, "services": 0, "events": 0}
    assert after["chain"]["intact"] and after["chain"]["command"] == 0
