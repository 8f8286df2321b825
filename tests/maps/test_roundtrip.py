"""Round trips: the text read is the text written, and a map changed or built in code is
written as text that reads back as the same map."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osom.maps.statements import BOX_KINDS, DECORATORS, KINDS
from osom.maps.text import (
    Accelerator, Annotation, Box, Component, Evolve, Flow, Link, Method, Note, Pipeline, PipelineComponent, UrlDef,
    WardleyMap, clean_name, clean_text, parse,
)

EXAMPLES = sorted((Path(__file__).parent / "examples").glob("*.owm"))
FALLBACK = "could not be read"


def understood(m: WardleyMap) -> bool:
    """Every line was understood (names used but not declared, or far positions, aside)."""
    return not any("kept as written" in w.message or FALLBACK in w.message for w in m.warnings)


# --- the text read is the text written -----------------------------------------------------------

@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_is_written_back_exactly(path):
    text = path.read_text(encoding="utf-8")
    assert parse(text).to_text() == text


FRAGMENTS = ["component A [0.5, 0.5]", "component", "[", "]", "{", "}", "pipeline A", "->", "+>", "+'", "'", "//", "/*",
             "*/", "evolve A 0.7", "label [1, 2]", "(buy)", "inertia", "annotation 1 [[0.1,0.2],[0.3", "note x [0.1, 0.2]",
             "url(x)", "\r", "\t", " ", "evolution a->b->c->d", "title T", "size [1, 2]", "0.5", "-1e5", "é", "\ufeff"]
lines_of_fragments = st.lists(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=6).map("".join),
                              max_size=12).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text() | lines_of_fragments)
def test_any_text_is_read_without_raising_and_written_back_exactly(text):
    m = parse(text)
    assert m.to_text() == text
    assert not any(FALLBACK in w.message for w in m.warnings)
    lines = text.count("\n") + 1
    assert all(1 <= w.line <= lines and w.message for w in m.warnings)


# --- a map changed in code ---------------------------------------------------------------------

def test_a_changed_statement_is_rewritten_and_everything_else_kept():
    text = (EXAMPLES[0].parent / "payroll.owm").read_text(encoding="utf-8")
    m = parse(text)
    m.component("Ledger").visibility = 0.5
    m.title = "Payroll, next year"
    del m.links[0]
    m.components.append(Component("Open banking API", 0.35, 0.55))
    m.links.append(Link("Pay run", "Open banking API"))
    out = m.to_text()
    assert out.startswith("// Payroll for a mid-sized employer")  # comments stay
    assert "title Payroll, next year\n" in out
    assert "component Ledger [0.5, 0.71] label [14, -6] inertia (buy, market)\nevolve Ledger 0.82\n" in out
    assert "Employees->Payslip portal" not in out
    assert "component Tax rules [0.55, 0.22] inertia label [-60, 4] (outsource)\n" in out  # untouched: as written
    # added statements follow the last of their kind
    assert "url(pensionMap)\ncomponent Open banking API [0.35, 0.55]\n" in out
    assert "Payslip portal->Identity check\nPay run->Open banking API\n" in out
    assert parse(out) == m


def test_a_statement_inserted_or_replaced_in_a_list_keeps_its_place_in_the_text():
    m = parse("component A [0.1, 0.1]\ncomponent B [0.2, 0.2]\nA->B\n")
    m.components.insert(1, Component("Between", 0.15, 0.15))
    m.links[0] = Link("B", "A")
    out = m.to_text()
    assert out == "component A [0.1, 0.1]\ncomponent Between [0.15, 0.15]\ncomponent B [0.2, 0.2]\nB->A\n"
    assert parse(out) == m


def test_added_statements_stay_out_of_comments():
    text = "component A [0.1, 0.1] /* about A\nand more */ component B [0.2, 0.2]\n/* never closed\n"
    m = parse(text)
    m.components.insert(1, Component("Between", 0.15, 0.15))
    m.components.append(Component("Last", 0.3, 0.3))
    out = m.to_text()
    assert out == ("component A [0.1, 0.1]\ncomponent Between [0.15, 0.15]\n/* about A\nand more */ component B [0.2, 0.2]\n"
                   "component Last [0.3, 0.3]\n/* never closed\n")
    assert parse(out) == m


def test_a_method_line_goes_once_its_component_loses_the_decorator():
    text = "buy Hosting\ncomponent Hosting [0.2, 0.9]\n"
    m = parse(text)
    assert m.component("Hosting").decorators == {"buy"}
    m.component("Hosting").decorators.clear()
    assert m.to_text() == "component Hosting [0.2, 0.9]\n"


def test_a_changed_pipeline_block_is_rewritten_whole():
    text = "component L [0.6, 0.7]\npipeline L\n{\n  // options\n  component A [0.2]\n}\nL->X\n"
    m = parse(text)
    m.pipelines[0].children.append(PipelineComponent("B", 0.9))
    out = m.to_text()
    assert out == "component L [0.6, 0.7]\npipeline L\n{\n  component A [0.2]\n  component B [0.9]\n}\nL->X\n"
    assert parse(out) == m


def test_settings_changed_or_removed_in_code():
    m = parse("title A\nstyle wardley\ncomponent X [0.1, 0.2]\n")
    m.style = None
    m.size = (800, 600)
    m.evolution_labels = ("", "b", "c", "")
    m.legend = (0.1, 0.9)
    out = m.to_text()
    assert out == ("title A\ncomponent X [0.1, 0.2]\nsize [800, 600]\nevolution ->b->c->\nannotations [0.1, 0.9]\n")
    assert parse(out) == m


# --- a map built in code ---------------------------------------------------------------------------

names = st.text(min_size=1, max_size=16).map(clean_name).filter(bool)
texts = st.text(min_size=1, max_size=24).map(clean_text).filter(bool)
labels = st.text(max_size=10).map(lambda t: clean_text(t).replace("->", "→"))
numbers = st.floats(min_value=-0.2, max_value=1.2, allow_nan=False) | st.floats(allow_nan=False, allow_infinity=False)
pairs = st.tuples(numbers, numbers)
decorator_sets = st.sets(st.sampled_from(DECORATORS))
refs = st.text(alphabet=string.ascii_letters + string.digits + ":/._-", min_size=1, max_size=20)

components = st.builds(Component, names, numbers, numbers, kind=st.sampled_from(KINDS), label=st.none() | pairs,
                       inertia=st.booleans(), decorators=decorator_sets, url=st.none() | refs)
links = st.builds(Link, names, names, label=st.none() | texts)
flows = st.builds(Flow, names, names, direction=st.sampled_from([">", "<", "<>"]),
                  value=st.none() | labels.map(lambda t: t.replace("'", "’")))
evolves = st.builds(Evolve, names, numbers, new_name=st.none() | names, label=st.none() | pairs, decorators=decorator_sets)
children = st.builds(PipelineComponent, names, numbers, label=st.none() | pairs)
pipelines = st.builds(Pipeline, names, span=st.none() | pairs, children=st.lists(children, max_size=3))
notes = st.builds(Note, texts, numbers, numbers)
annotations = st.builds(Annotation, st.integers(0, 10**6), st.lists(pairs, min_size=1, max_size=3), labels)
boxes = st.builds(Box, st.sampled_from(BOX_KINDS), pairs, pairs)
accelerators = st.builds(Accelerator, names, numbers, numbers, kind=st.sampled_from(["accelerator", "deaccelerator"]))
methods = st.builds(Method, st.sampled_from(DECORATORS), names)
urls = st.builds(UrlDef, names, refs)


@st.composite
def maps(draw) -> WardleyMap:
    m = WardleyMap(
        title=draw(st.none() | texts),
        components=draw(st.lists(components, max_size=6)),
        links=draw(st.lists(links, max_size=5)),
        flows=draw(st.lists(flows, max_size=3)),
        evolves=draw(st.lists(evolves, max_size=3)),
        pipelines=draw(st.lists(pipelines, max_size=2)),
        notes=draw(st.lists(notes, max_size=2)),
        annotations=draw(st.lists(annotations, max_size=3)),
        legend=draw(st.none() | pairs),
        boxes=draw(st.lists(boxes, max_size=2)),
        accelerators=draw(st.lists(accelerators, max_size=2)),
        methods=draw(st.lists(methods, max_size=2)),
        evolution_labels=draw(st.none() | st.tuples(labels, labels, labels, labels)),
        style=draw(st.none() | st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=10)),
        size=draw(st.none() | st.tuples(st.floats(1, 5000), st.floats(1, 5000))),
        urls=draw(st.lists(urls, max_size=2)),
    )
    for method in m.methods:  # a method line gives its component the decorator: say so in the map too
        target = m.component(method.name)
        if target is not None:
            target.decorators.add(method.decorator)
    return m


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(maps())
def test_a_map_built_in_code_reads_back_as_the_same_map(m):
    text = m.to_text()
    back = parse(text)
    assert back == m, text
    assert understood(back), (text, back.warnings)
    assert back.to_text() == text


# --- a parsed map changed in code at random ----------------------------------------------------------

TRICKY = [
    "title A\n/* open\n*/ component X [0.1, 0.2] /* again\nstill */ X->Y // c\npipeline X /* c */\n{\ncomponent A [0.2]\n} /* tail\n",
    "\ufefftitle B\r\ncomponent A [0.1, 0.2] evolve 0.5\r\nbuy A\r\nA->B; x\r\n/* c */ note N [0.1, 0.1] /* d\r\n*/ /* e\r\n"
    " f */ component B [0.3, 0.3] /* g",
    "component X [0.5, 0.5]\npipeline X\n{\ncomponent C [0.1]\n/* c\n",
    "buy Z\nmarket Z\ncomponent Z [0.1,0.1]\ncomponent Z [0.2, 0.2] (build)\nevolve Z->Y 0.9 (buy)\nY->Z\n",
]
SOURCES = [path.read_text(encoding="utf-8") for path in EXAMPLES] + TRICKY
NEW = {"components": components, "links": links, "flows": flows, "evolves": evolves, "notes": notes, "pipelines": pipelines,
       "annotations": annotations, "boxes": boxes, "accelerators": accelerators, "urls": urls}
SETTING_VALUES = {"title": st.none() | texts, "style": st.none() | st.just("plain"), "size": st.none() | pairs.filter(lambda p: min(p) > 0),
                  "evolution_labels": st.none() | st.tuples(labels, labels, labels, labels), "legend": st.none() | pairs}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SOURCES), st.data())
def test_a_parsed_map_changed_in_code_reads_back_as_changed(text, data):
    m = parse(text)
    for _ in range(data.draw(st.integers(0, 6))):
        operation = data.draw(st.sampled_from(["drop", "replace", "insert", "setting", "move"]))
        if operation == "setting":
            setting = data.draw(st.sampled_from(sorted(SETTING_VALUES)))
            setattr(m, setting, data.draw(SETTING_VALUES[setting]))
            continue
        kind = data.draw(st.sampled_from(sorted(NEW)))
        items = getattr(m, kind)
        if operation == "insert" or not items:
            items.insert(data.draw(st.integers(0, len(items))), data.draw(NEW[kind]))
        elif operation == "drop":
            del items[data.draw(st.integers(0, len(items) - 1))]
        elif operation == "replace":
            items[data.draw(st.integers(0, len(items) - 1))] = data.draw(NEW[kind])
        elif kind == "components":
            items[data.draw(st.integers(0, len(items) - 1))].evolution = data.draw(numbers)
    out = m.to_text()
    back = parse(out)
    # a `buy X` line whose component no longer has the decorator is not written
    m.methods = [method for method in m.methods if not (m.component(method.name) and
                                                        method.decorator not in m.component(method.name).decorators)]
    assert back == m, out
