"""Drawing maps as SVG: well formed, self-contained, escaped, accessible and repeatable, with
every statement drawn where the text puts it."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osom.maps.svg import DEFAULT_STAGE_LABELS, plot_area, render_svg
from osom.maps.text import Component, Link, UrlDef, WardleyMap, parse

EXAMPLES = Path(__file__).parent / "examples"
NS = {"s": "http://www.w3.org/2000/svg"}


def draw(text: str, **kwargs) -> ET.Element:
    return ET.fromstring(render_svg(parse(text), **kwargs))


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def group(root: ET.Element, name: str, css: str = "component") -> ET.Element:
    found = [g for g in root.iter("{http://www.w3.org/2000/svg}g")
             if g.get("data-name") == name and css in g.get("class", "").split()]
    assert found, f"no {css} group for {name}"
    return found[0]


def expected_point(visibility: float, evolution: float, width: float = 900, height: float = 620):
    left, top, w, h = plot_area(width, height)
    return left + evolution * w, top + (1 - visibility) * h


def circle_at(g: ET.Element) -> tuple[float, float]:
    """The centre of the component's own circle (drawn last, after any rings)."""
    circles = [c for c in g.iter("{http://www.w3.org/2000/svg}circle") if c.get("stroke") == "#000"]
    return float(circles[-1].get("cx")), float(circles[-1].get("cy"))


@pytest.fixture(scope="module")
def payroll() -> ET.Element:
    return draw((EXAMPLES / "payroll.owm").read_text(encoding="utf-8"))


def test_it_is_an_accessible_svg_document(payroll):
    assert payroll.tag == "{http://www.w3.org/2000/svg}svg"
    assert payroll.get("role") == "img"
    title_id, desc_id = payroll.get("aria-labelledby").split()
    title = payroll.find("s:title", NS)
    desc = payroll.find("s:desc", NS)
    assert title.get("id") == title_id and title.text == "Wardley map: Payroll service"
    assert desc.get("id") == desc_id
    assert "9 components and 7 links" in desc.text and "Employees" in desc.text


@pytest.mark.parametrize("name, visibility, evolution", [
    ("Payslip portal", 0.86, 0.48), ("Pay run", 0.74, 0.38), ("Ledger", 0.62, 0.71), ("Tax rules", 0.55, 0.22),
    ("Bank transfer", 0.31, 0.93), ("Identity check", 0.44, 0.60), ("Pension contributions", 0.40, 0.45),
])
def test_each_component_is_named_and_drawn_at_its_coordinates(payroll, name, visibility, evolution):
    g = group(payroll, name)
    assert name in texts(g)
    x, y = circle_at(g)
    ex, ey = expected_point(visibility, evolution)
    assert x == pytest.approx(ex, abs=0.06) and y == pytest.approx(ey, abs=0.06)


def test_anchors_are_bold_names_at_their_coordinates(payroll):
    g = group(payroll, "Employees")
    (text,) = g.iter("{http://www.w3.org/2000/svg}text")
    x, _ = expected_point(0.96, 0.55)
    assert text.text == "Employees" and text.get("font-weight") == "bold"
    assert float(text.get("x")) == pytest.approx(x, abs=0.06)


def test_positions_follow_the_size_asked_for():
    root = draw("component A [0.25, 0.75]", width=1200, height=800)
    assert root.get("width") == "1200" and root.get("viewBox") == "0 0 1200 800"
    x, y = circle_at(group(root, "A"))
    ex, ey = expected_point(0.25, 0.75, 1200, 800)
    assert (x, y) == (pytest.approx(ex, abs=0.06), pytest.approx(ey, abs=0.06))


def test_the_axes_carry_the_four_stages_and_lines_at_the_stage_boundaries():
    root = draw("component A [0.5, 0.5]", stages=(0.25, 0.5, 0.75))
    for label in DEFAULT_STAGE_LABELS:
        assert label in texts(root)
    left, _, w, _ = plot_area()
    lines = [float(line.get("x1")) for line in root.iter("{http://www.w3.org/2000/svg}line") if line.get("class") == "stage"]
    assert lines == [pytest.approx(left + s * w, abs=0.06) for s in (0.25, 0.5, 0.75)]


def test_custom_evolution_labels_replace_the_stage_names(payroll):
    shown = texts(payroll)
    assert all(label in shown for label in ("Uncharted", "Emerging", "Good", "Best"))
    assert "Genesis" not in shown


def test_the_title_is_drawn(payroll):
    assert "Payroll service" in texts(payroll)


def test_inertia_is_a_thick_bar_beside_the_component(payroll):
    bars = [r for r in group(payroll, "Ledger").iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "inertia"]
    assert len(bars) == 1 and float(bars[0].get("width")) >= 4
    assert not [r for r in group(payroll, "Pay run").iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "inertia"]


@pytest.mark.parametrize("name, marks", [
    ("Pay run", {"mark-build"}), ("Ledger", {"mark-buy", "mark-market"}), ("Tax rules", {"mark-outsource"}),
    ("Bank transfer", {"mark-ecosystem"}), ("Identity check", {"mark-buy", "mark-market"}), ("Payslip portal", set()),
])
def test_decorators_are_drawn_as_marks(payroll, name, marks):
    found = {el.get("class") for el in group(payroll, name).iter() if (el.get("class") or "").startswith("mark-")}
    assert found == marks


def test_links_and_their_labels(payroll):
    links = [g for g in payroll.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "link"]
    assert len(links) == 7
    assert "limited by cut-off times" in texts(payroll)
    line = links[0].find("s:line", NS)
    assert (float(line.get("x1")), float(line.get("y1"))) == tuple(pytest.approx(v, abs=0.06) for v in expected_point(0.96, 0.55))
    assert (float(line.get("x2")), float(line.get("y2"))) == tuple(pytest.approx(v, abs=0.06) for v in expected_point(0.86, 0.48))


def test_flows_are_dashed_with_arrows_and_values(payroll):
    flows = [g.find("s:line", NS) for g in payroll.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "flow"]
    assert len(flows) == 4 and all(f.get("stroke-dasharray") for f in flows)
    assert [(bool(f.get("marker-end")), bool(f.get("marker-start"))) for f in flows] == [
        (True, False), (False, True), (True, True), (True, False)]
    assert "£2 per payslip" in texts(payroll)


def test_evolve_is_a_dashed_red_arrow_to_the_new_position_with_the_new_name(payroll):
    g = group(payroll, "Pay run", css="evolve")
    line = g.find("s:line", NS)
    assert line.get("stroke") == "#d0312d" and line.get("stroke-dasharray") and line.get("marker-end")
    new_x, y = expected_point(0.74, 0.62)
    circle = g.find("s:circle[@stroke='#d0312d']", NS)
    assert float(circle.get("cx")) == pytest.approx(new_x, abs=0.06) and float(circle.get("cy")) == pytest.approx(y, abs=0.06)
    assert "Payroll as a service" in texts(g)
    assert {el.get("class") for el in g.iter()} >= {"mark-buy"}


def test_pipelines_are_boxes_with_their_components(payroll):
    pipelines = [g for g in payroll.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "pipeline"]
    assert [p.get("data-parent") for p in pipelines] == ["Ledger", "Identity check"]
    block = pipelines[0]
    assert block.find("s:rect", NS) is not None
    names = [g.get("data-name") for g in block.iter("{http://www.w3.org/2000/svg}g") if g.get("data-name")]
    assert names == ["Spreadsheet ledger", "Hosted ledger", "Ledger platform"]
    x, _ = circle_at(group(block, "Hosted ledger"))
    assert x == pytest.approx(expected_point(0, 0.58)[0], abs=0.06)
    span = pipelines[1].find("s:rect", NS)
    left = float(span.get("x"))
    assert left < expected_point(0, 0.50)[0] < left + float(span.get("width"))


def test_notes_annotations_and_their_legend(payroll):
    shown = texts(payroll)
    assert "Pay run frozen in the last week of the tax year" in shown
    numbers = [g.get("data-number") for g in payroll.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "annotation"]
    assert numbers == ["1", "2"]
    second = [g for g in payroll.iter("{http://www.w3.org/2000/svg}g") if g.get("data-number") == "2"][0]
    assert len(second.findall("s:circle", NS)) == 2 and second.find("s:polyline", NS) is not None
    legend = [g for g in payroll.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "annotations-legend"][0]
    assert texts(legend)[1:] == ["1. Moving to a service removes the month-end crunch",
                                 "2. Bank cut-off drives the ledger's timing"]
    x, y = expected_point(0.16, 0.62)
    rect = legend.find("s:rect", NS)
    width = float(rect.get("width"))
    # where the text puts it, moved left only as far as it takes to stay inside the drawing
    assert float(rect.get("x")) == pytest.approx(min(x, 900 - width - 4), abs=0.06)
    assert float(rect.get("y")) == pytest.approx(y, abs=0.06)


def test_boxes_and_accelerators(payroll):
    kinds = [g.get("class") for g in payroll.iter("{http://www.w3.org/2000/svg}g") if (g.get("class") or "").startswith("box")]
    assert kinds == ["box pioneers", "box settlers", "box townplanners"]
    assert {"Pioneers", "Settlers", "Town planners"} <= set(texts(payroll))
    assert group(payroll, "Open banking", css="accelerator").find("s:polygon", NS) is not None
    assert group(payroll, "Legacy contracts", css="deaccelerator").find("s:polygon", NS) is not None


def test_a_submap_links_to_its_address(payroll):
    g = group(payroll, "Pension contributions")
    (link,) = g.iter("{http://www.w3.org/2000/svg}a")
    assert link.get("href") == "https://maps.example.org/pension"


@pytest.mark.parametrize("address, linked", [
    ("https://maps.example.org/x", True), ("http://intranet/maps/7", True), ("../maps/7", True), ("maps/7?v=2#top", True),
    ("javascript:alert(1)", False), ("JavaScript:alert(1)", False), (" javascript:alert(1)", False),
    ("data:text/html,<b>x</b>", False), ("vbscript:x", False), ("java\tscript:x", False), ("ftp://example.org/x", False),
])
def test_only_http_and_relative_addresses_become_links(address, linked):
    m = WardleyMap(components=[Component("Sub", 0.5, 0.5, kind="submap", url="ref")], urls=[UrlDef("ref", address)])
    root = ET.fromstring(render_svg(m))
    hrefs = [a.get("href") for a in root.iter("{http://www.w3.org/2000/svg}a")]
    assert hrefs == ([address.strip()] if linked else [])


def test_user_text_is_escaped_everywhere():
    hostile = '<script>alert("x")</script> & "quoted" \'single\''
    m = WardleyMap(title=hostile, components=[Component(hostile, 0.5, 0.5), Component("B", 0.2, 0.8)],
                   links=[Link(hostile, "B", label=hostile)])
    svg = render_svg(m)
    root = ET.fromstring(svg)
    assert "<script" not in svg
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert texts(root).count(hostile) == 3  # title, component name, link label
    assert group(root, hostile) is not None
    assert root.find("s:title", NS).text == f"Wardley map: {hostile}"


def test_characters_xml_cannot_hold_are_replaced():
    root = draw("component Bell\x07 and null\x00 [0.5, 0.5]")
    assert "Bell\ufffd and null\ufffd" in texts(root)


def test_the_drawing_is_self_contained(payroll):
    svg = ET.tostring(payroll, encoding="unicode")
    for element in payroll.iter():
        assert element.tag.split("}")[1] not in ("image", "script", "style", "foreignObject", "use")
        for name, value in element.attrib.items():
            if name == "href":
                continue
            assert "http" not in value or name == "xmlns", (name, value)
            assert "url(" not in value or value.startswith("url(#"), (name, value)
    assert "@import" not in svg and "@font-face" not in svg


def test_undeclared_names_are_drawn_next_to_what_they_link_to():
    root = draw("component Ledger [0.6, 0.7]\nLedger->Bank feed\nOrphan->Other orphan")
    g = group(root, "Bank feed", css="undeclared")
    x, y = float(g.find("s:circle", NS).get("cx")), float(g.find("s:circle", NS).get("cy"))
    lx, ly = expected_point(0.6, 0.7)
    assert x == pytest.approx(lx, abs=0.06) and y > ly  # below what uses it
    assert group(root, "Orphan", css="undeclared") is not None and group(root, "Other orphan", css="undeclared") is not None


def test_an_unknown_extension_still_draws_what_is_understood():
    root = draw((EXAMPLES / "council.owm").read_text(encoding="utf-8"))
    assert "Billing" in texts(root) and "Payments" in texts(root)


def test_the_same_map_gives_the_same_bytes_whatever_the_hash_seed():
    text = (EXAMPLES / "payroll.owm").read_text(encoding="utf-8")
    assert render_svg(parse(text)) == render_svg(parse(text))
    script = ("import sys; from osom.maps.text import parse; from osom.maps.svg import render_svg; "
              "sys.stdout.buffer.write(render_svg(parse(sys.stdin.read())).encode())")
    outputs = {subprocess.run([sys.executable, "-c", script], input=text.encode(), capture_output=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2", "3")}
    assert len(outputs) == 1
    assert outputs.pop().decode() == render_svg(parse(text))


def test_two_different_maps_have_different_ids():
    first, second = draw("component A [0.5, 0.5]"), draw("component B [0.5, 0.5]")
    assert first.get("aria-labelledby") != second.get("aria-labelledby")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_draws_a_well_formed_svg(text):
    root = ET.fromstring(render_svg(parse(text)))
    assert root.get("role") == "img"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.owm")), ids=lambda p: p.name)
def test_every_example_draws(path):
    root = draw(path.read_text(encoding="utf-8"))
    assert root.find("s:desc", NS).text
