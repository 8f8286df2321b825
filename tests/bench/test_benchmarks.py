"""``benchmarks/run.py``: the benchmark command runs end to end on a tiny organisation and
writes a table naming every target with its floor. Timings are not asserted: they depend
on the machine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"

sys.path.insert(0, str(ROOT / "benchmarks"))
import run as bench  # noqa: E402  (benchmarks/ is a folder of scripts, not a package)


def _command(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OSOM_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["TMPDIR"] = str(tmp_path)  # the generated databases go under the test's own folder
    return subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, env=env,
                          cwd=str(ROOT), timeout=600)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("bench")
    out, raw = tmp_path / "x.md", tmp_path / "x.json"
    done = _command("--sizes", "30", "--repeat", "2", "--database", "sqlite", "--out", str(out),
                    "--json", str(raw), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    return {"tmp": tmp_path, "text": out.read_text(), "raw": json.loads(raw.read_text()), "done": done}


def test_writes_a_table_naming_every_target(measured):
    text = measured["text"]
    assert "## sqlite, 30 services" in text
    assert "| target | p50 ms | p95 ms | queries | floor p50 ms | ratio | query p50 ms | met? |" in text
    for _key, label, _budget in bench.TARGETS:
        rows = [line for line in text.splitlines() if line.startswith(f"| {label} |")]
        assert len(rows) == 1, label
        cells = [c.strip() for c in rows[0].strip("|").split("|")]
        assert len(cells) == 8
        # p50, p95, queries, the served floor and the bare query are numbers; the ratio ends
        # in ×; met is yes or says why not
        for cell in [*cells[1:5], cells[6]]:
            assert re.fullmatch(r"[\d,]+(\.\d)?", cell), (label, cell)
        assert cells[5].endswith("×")
        assert cells[7] == "yes" or cells[7].startswith("no: ")


def test_names_the_machine(measured):
    text = measured["text"]
    assert f"{os.cpu_count()} cores (nproc)" in text
    assert f"Python {sys.version.split()[0]}" in text
    assert "SQLite 3." in text and "PostgreSQL" in text


def test_every_target_answered_and_was_counted(measured):
    (run,) = measured["raw"]
    assert run["database"] == "sqlite" and run["size"] == 30
    for key, _label, _budget in bench.TARGETS:
        row = run["targets"][key]
        assert row["status"] == 200, (key, row["url"])
        # every page reads the database at least once; each floor fetched rows
        assert row["queries"] >= 1, key
        assert row["floor_lines"] >= 1, key
        # the floor served through the app answered, signed in as the page was
        assert row["served_status"] == 200, key
        assert row["served_p50"] > 0
        assert row["p95"] >= row["p50"] > 0
    assert run["maxrss_mb"] > 0


def test_leaves_no_database_behind(measured):
    assert not list(measured["tmp"].glob("osom-benchrun-*"))


def test_refuses_sizes_that_are_not_numbers(tmp_path):
    done = _command("--sizes", "many", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "--sizes" in done.stderr


def test_percentile_interpolates():
    assert bench._percentile([1.0], 0.95) == 1.0
    assert bench._percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert bench._percentile([0.0, 10.0], 0.95) == pytest.approx(9.5)


def test_met_names_what_is_missed():
    row = {"status": 200, "p50": 40.0, "p95": 160.0, "served_status": 200, "served_p50": 10.0}
    assert bench._met("network_list", 150, row) == "no: p95 > 150 ms, > 3× floor"
    assert bench._met("impact", 200, {**row, "p50": 20.0}) == "yes"
