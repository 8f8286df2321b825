"""The organisation's YAML writer and its quick reader agree with a general YAML reader
on any text: what is written is what is read, whichever reader reads it."""

from __future__ import annotations

import random

import pytest
import yaml

from osom.interop.yamltext import Unusual, columns, fast_load, record, value

AWKWARD = [
    "plain words", "yes", "No", "on", "null", "~", "12", "-5", "0", "007", "1.5", "1e3", ".inf", "2026-01-01",
    "a: b", "a #b", "- x", "", " lead", "trail ", "x\ny\n", "x\ny", "x\n\ny\n", "x\n\n", "\nstart", "a\r\nb",
    "tab\tin", "line\u2028sep", "nel\x85x", "del\x7f", "bom\ufeff", "😀 emoji\nnext", "'quote", '"dq', "&anchor",
    "*alias", "!tag", "%pct", "@at", "`bt", "{a}", "[a]", "a,b", "<<", "x\n  indented\nback\n", "x\n- item\n",
    "x\n# comment\n", "ends with backslash \\", "ünïcödé", "a" * 300, "...", "---", "x\n---\ny", "=",
]


def corpus(n: int = 4000, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    chars = "ab \n\t\r:#-'\"\\\u2028\x85é😀{}[],&*!|>%@`?~0123."
    return AWKWARD + ["".join(rng.choice(chars) for _ in range(rng.randint(0, 14))) for _ in range(n)]


def records(texts):
    return [[("id", n), ("text", t), ("listed", [t, "x", 3]), ("none", []), ("nothing", None), ("flag", n % 2 == 0),
             ("json", {"k": t, "n": [1, None, True], "a": {"z": 1, "b": t}})] for n, t in enumerate(texts)]


def test_any_text_written_reads_back_exactly_with_a_general_yaml_reader():
    texts = corpus()
    written = "# a header\n" + "".join(record(r) for r in records(texts))
    read = yaml.safe_load(written)
    assert [item["text"] for item in read] == texts
    assert [item["listed"][0] for item in read] == texts
    assert [item["json"]["a"]["b"] for item in read] == texts
    assert read[0]["none"] == [] and read[0]["nothing"] is None and read[0]["flag"] is True


def test_the_quick_reader_reads_what_the_writer_writes_as_yaml_does():
    written = "# a header\n" + "".join(record(r) for r in records(corpus(seed=11)))
    quick = fast_load(written)
    assert quick is not None
    items, starts = quick
    assert items == yaml.safe_load(written)
    lines = written.split("\n")
    assert all(lines[s - 1].startswith("- id: ") for s in starts) and len(starts) == len(items)


def test_the_quick_reader_hands_anything_else_to_a_general_reader():
    # YAML that reads as other types, or is laid out otherwise: not read quickly, never misread
    for text in ["- a: 1.5\n", "- a: 2026-01-01\n", "- a: 'x'\n", "- a: yes\n", "- {a: 1}\n", "- a: x\n\n- a: y\n",
                 "- a: 0x1F\n", "- a: >\n    folded\n", "a: 1\n", "- a: x\n  a: y\n"]:
        assert fast_load(text) is None, text
    assert fast_load("# nothing\n[]\n") == ([], [])


def test_numbers_in_json_read_back_as_numbers_and_deeper_indents_go_to_a_general_reader():
    values = [1e-05, 1e20, -2.0, 0.1, 123456789.123, 1e300, [1e-05, {"a": 1e20, "b": [0.5, 7]}]]
    written = "".join(record([("id", n), ("json", v)]) for n, v in enumerate(values))
    assert [item["json"] for item in yaml.safe_load(written)] == values
    # a literal block indented further than the writer indents is measured as YAML measures it
    assert fast_load("- id: 1\n  body: |\n      hello\n      world\n") is None


NAMES = ["id", "text", "listed", "none", "nothing", "flag", "json"]


def by_records(found, names):
    columns, starts = found
    return [dict(zip(names, values)) for values in zip(*[[value(v) for v in column] for column in columns])], list(starts)


def test_the_column_reader_reads_what_the_writer_writes_as_the_quick_reader_does():
    for seed in (11, 12):
        written = "# a header\n" + "".join(record(r) for r in records(corpus(seed=seed)))
        found = columns(written, NAMES)
        assert found is not None
        items, starts = by_records(found, NAMES)
        assert (items, starts) == fast_load(written)
        assert any("\n" in item["text"] for item in items)  # literal blocks among them
    # records with one value a line: their lines counted without looking at each
    plain = "".join(record([("id", n), ("name", f"n{n}")]) for n in range(5))
    assert by_records(columns(plain, ["id", "name"]), ["id", "name"]) == fast_load(plain)


def test_the_column_reader_hands_any_other_layout_to_the_record_reader():
    usual = "- id: 1\n  name: a\n- id: 2\n  name: b\n"
    assert columns(usual, ["id", "name"]) is not None
    for text in [
        "- name: a\n  id: 1\n",  # another order
        "- id: 1\n- id: 2\n  name: b\n",  # a field missing
        "- id: 1\n  name: a\n  more: x\n",  # a field more
        "- id: 1\n  name: a\n# a comment\n- id: 2\n  name: b\n",  # a comment between records
        "- id: 1\n  name: a\n\n- id: 2\n  name: b\n",  # a blank line between records
        "- id: 1\n  name: a\n- id: 2\n  name: b",  # no line break at the end
        "id: 1\n- id: 1\n  name: a\n",  # not a comment before the first
        "[]\n",
    ]:
        assert columns(text, ["id", "name"]) is None, text
    # a value YAML reads otherwise, or laid out otherwise: not read here, never misread
    for text in ["- id: 1\n  name: 1.5\n", "- id: 1\n  name: 'x'\n", "- id: 1\n  name: yes\n", "- id: 1\n  name:\n",
                 "- id: 1\n  name: \n", "- id: 1\n  name: |\n\n- id: 2\n  name: b\n", "- id: 1\n  name: |+\n    x\n",
                 "- id: 1\n  name: |\n      deeper\n", "- id: 1\n  name: x\r\n"]:
        found = columns(text, ["id", "name"])
        with pytest.raises(Unusual):
            if found is None:
                raise Unusual
            [value(v) for column in found[0] for v in column]
        quick = fast_load(text)
        assert quick is None or quick[0] == yaml.safe_load(text), text
