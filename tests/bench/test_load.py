"""``benchmarks/load.py``: a few seconds of mixed reads and writes against gunicorn on
PostgreSQL end with no errors and every acknowledged write found in the database.
Timings are not asserted: they depend on the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOAD = ROOT / "benchmarks" / "load.py"

sys.path.insert(0, str(ROOT / "benchmarks"))
import load  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)

needs_postgres = pytest.mark.skipif(
    urlparse(os.environ.get("OSOM_DATABASE_URL", "")).scheme not in {"postgres", "postgresql", "postgresql+psycopg"},
    reason="the load test runs gunicorn on PostgreSQL; runs when OSOM_DATABASE_URL names a server (CI's second run)",
)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("load")
    out, raw = tmp / "load.md", tmp / "load.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, str(LOAD), "--seconds", "3", "--warmup", "0", "--users", "2", "--services", "5",
         "--workers", "1", "--threads", "2", "--database", f"osom_load_smoke_{os.getpid()}",
         "--out", str(out), "--json", str(raw)],
        capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return {"text": out.read_text(), "raw": json.loads(raw.read_text())}


@needs_postgres
def test_no_request_failed_and_every_kind_was_made(ran):
    summary = ran["raw"]["summary"]
    assert summary["errors"] == 0, summary["error_samples"]
    assert set(summary["kinds"]) == {kind for kind, _, _ in load.MIX} | {"draft_read", "sign_in"}
    assert all(k["requests"] >= 1 and k["errors"] == 0 for k in summary["kinds"].values())
    assert summary["requests"] == sum(k["requests"] for name, k in summary["kinds"].items() if name != "sign_in")


@needs_postgres
def test_every_acknowledged_write_is_in_the_database(ran):
    writes = ran["raw"]["writes"]
    assert writes["ok"], writes["problems"]
    assert writes["measurements_acknowledged"] >= 2  # each user recorded at least one
    assert writes["measurements_found"] == writes["measurements_acknowledged"]
    assert writes["edits_acknowledged"] >= 1
    assert writes["edits_found"] == writes["edits_acknowledged"]


@needs_postgres
def test_the_section_reports_throughput_latency_and_writes(ran):
    text = ran["text"]
    assert text.startswith("## Load\n")
    assert "| request | count | errors | p50 ms | p95 ms | p99 ms |" in text
    assert "requests a second" in text
    assert "**No lost writes:** yes." in text
    # the command to run it again, without the options that only say where output goes
    assert "python benchmarks/load.py --seconds 3 --warmup 0 --users 2 --services 5" in text
    assert "--out" not in text and "--json" not in text


def test_the_count_catches_a_lost_or_invented_write():
    """The check itself, on any database: a write missing, one never acknowledged, and two
    acknowledged edits from one revision are each reported."""
    tally = load.Tally()
    tally.measurement_ids = {1, 2, 3}
    tally.edits["parking"] = [(1, "first"), (1, "second")]  # two edits from one revision: one was lost
    setup = {"drafts": [{"slug": "parking", "number": 2, "revision": 1}]}
    found = {"measurements": [1, 2, 4], "drafts": [{"slug": "parking", "revision": 2, "purpose": "first",
                                                    "audited": 1}]}
    checked = load.verify(tally, setup, found)
    assert not checked["ok"]
    assert any("1 acknowledged but missing, 1 present but never acknowledged" in p for p in checked["problems"])
    assert any("same revision" in p for p in checked["problems"])
    assert any("revision moved by 1" in p for p in checked["problems"])
