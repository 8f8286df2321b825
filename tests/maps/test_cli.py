"""``osom map render IN OUT``: draw map text from a file or standard input."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from osom.cli import main

EXAMPLES = Path(__file__).parent / "examples"


def test_it_writes_an_svg_and_reports_nothing_for_a_clean_map(tmp_path, capsys):
    out = tmp_path / "payroll.svg"
    assert main(["map", "render", str(EXAMPLES / "payroll.owm"), str(out)]) == 0
    root = ET.fromstring(out.read_text(encoding="utf-8"))
    assert root.get("role") == "img"
    assert capsys.readouterr().err == ""


def test_each_warning_is_printed_as_file_line_message(tmp_path, capsys):
    source = EXAMPLES / "council.owm"
    out = tmp_path / "council.svg"
    assert main(["map", "render", str(source), str(out)]) == 0
    assert out.exists()
    err = capsys.readouterr().err.splitlines()
    assert f"{source}:3: component “Foo”: the position must be two numbers [visibility, evolution], not [0.5] " \
           "(the line is kept as written)" in err
    lines = sorted(int(line.split(":")[1]) for line in err)
    assert lines == [2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 16, 17]


def test_it_reads_standard_input_and_can_write_standard_output(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("title Über\ncomponent Café [0.5, 0.5]\nCafé->Bar\n".encode())))
    assert main(["map", "render", "-", "-"]) == 0
    captured = capsys.readouterr()
    root = ET.fromstring(captured.out)
    assert root.find("{http://www.w3.org/2000/svg}title").text == "Wardley map: Über"
    assert captured.err.strip().startswith("-:3: “Bar” is linked here but never declared")


def test_a_file_that_cannot_be_read_is_one_line_and_exit_code_2(tmp_path, capsys):
    assert main(["map", "render", str(tmp_path / "missing.owm"), str(tmp_path / "out.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot read" in err and "missing.owm" in err
    assert not (tmp_path / "out.svg").exists()


def test_a_file_that_is_not_utf8_is_refused(tmp_path, capsys):
    source = tmp_path / "latin1.owm"
    source.write_bytes("title Café".encode("latin-1"))
    assert main(["map", "render", str(source), str(tmp_path / "out.svg")]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_an_output_that_cannot_be_written_is_exit_code_2(tmp_path, capsys):
    assert main(["map", "render", str(EXAMPLES / "library.owm"), str(tmp_path / "no" / "such" / "dir.svg")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_the_command_runs_as_a_program(tmp_path):
    out = tmp_path / "library.svg"
    done = subprocess.run([sys.executable, "-m", "osom.cli", "map", "render", str(EXAMPLES / "library.owm"), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Library lending" in out.read_text(encoding="utf-8")
    assert f"{EXAMPLES / 'library.owm'}:18: “Book supplier” is linked here but never declared" in done.stderr
