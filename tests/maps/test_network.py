"""The map of the service network, drawn from services and their dependencies."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from osom.maps.network import STAGE_BANDS, USERS, network_map, network_names
from osom.maps.svg import render_svg
from osom.maps.text import Link, parse


def node(key, stage="product", external=False, name=None):
    return {"key": key, "name": name or key.title(), "evolution_stage": stage, "external": external}


def by_name(m):
    return {c.name: c for c in m.components}


def test_services_meeting_external_users_are_at_the_top_and_what_they_consume_below():
    nodes = [node("portal", "custom", True), node("payments", "product"), node("hosting", "commodity")]
    m = network_map(nodes, [("portal", "payments"), ("payments", "hosting")], title="Council services")
    c = by_name(m)
    assert m.title == "Council services"
    assert c["Portal"].visibility > c["Payments"].visibility > c["Hosting"].visibility
    assert c[USERS].kind == "anchor" and c[USERS].visibility > c["Portal"].visibility
    assert Link(USERS, "Portal") in m.links
    assert Link("Portal", "Payments") in m.links and Link("Payments", "Hosting") in m.links


def test_a_service_sits_below_the_lowest_of_its_consumers():
    nodes = [node("a", external=True), node("b"), node("c"), node("d")]
    # d is consumed by a directly and through b and c: the longest path puts it three levels down
    m = network_map(nodes, [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])
    c = by_name(m)
    levels = sorted({round(x.visibility, 2) for x in (c["A"], c["B"], c["C"], c["D"])}, reverse=True)
    assert [round(c[n].visibility, 2) for n in "ABCD"] == levels and len(levels) == 4


def test_a_service_meeting_external_users_and_consumed_by_another_sits_below_it():
    m = network_map([node("a", external=True), node("b", external=True)], [("a", "b")])
    c = by_name(m)
    assert c["A"].visibility > c["B"].visibility
    assert Link(USERS, "A") in m.links and Link(USERS, "B") in m.links


def test_a_cycle_shares_a_level_and_does_not_hang():
    nodes = [node("top", external=True), node("x"), node("y"), node("z"), node("base")]
    edges = [("top", "x"), ("x", "y"), ("y", "z"), ("z", "x"), ("z", "base")]
    m = network_map(nodes, edges)
    c = by_name(m)
    cycle = [c["X"].visibility, c["Y"].visibility, c["Z"].visibility]
    assert max(cycle) - min(cycle) <= 0.05  # one level: only the small stagger between neighbours
    assert c["Top"].visibility > c["X"].visibility > c["Base"].visibility
    assert Link("Z", "X") in m.links  # the cycle's own links are kept


def test_services_no_top_service_reaches_are_placed_by_their_own_chain_below_the_top():
    nodes = [node("front", external=True), node("tool"), node("store")]
    m = network_map(nodes, [("tool", "store")])
    c = by_name(m)
    assert c["Front"].visibility > c["Tool"].visibility > c["Store"].visibility
    assert Link(USERS, "Tool") not in m.links


def test_without_external_services_there_is_no_anchor_and_roots_are_at_the_top():
    m = network_map([node("a"), node("b")], [("a", "b")])
    assert USERS not in by_name(m)
    assert by_name(m)["A"].visibility > by_name(m)["B"].visibility


@pytest.mark.parametrize("stage", ["genesis", "custom", "product", "commodity"])
def test_evolution_is_the_middle_of_the_stage_band(stage):
    m = network_map([node(f"s{i}", stage, name=f"Service {i}") for i in range(5)], [])
    start, end = STAGE_BANDS[stage]
    width = end - start
    values = sorted(c.evolution for c in m.components)
    assert all(start + 0.1 * width <= v <= end - 0.1 * width for v in values)
    assert len(set(values)) == 5  # spread, not stacked


def test_services_sharing_a_place_do_not_overlap_and_the_layout_is_repeatable():
    nodes = [node(f"k{i}", "product", name=f"Service {i}") for i in range(12)]
    first = network_map(nodes, [])
    again = network_map(list(reversed(nodes)), [])
    points = {(c.visibility, c.evolution) for c in first.components}
    assert len(points) == 12
    assert {c.name: (c.visibility, c.evolution) for c in first.components} == \
           {c.name: (c.visibility, c.evolution) for c in again.components}


def test_stage_names_are_forgiving_and_an_unknown_stage_is_warned():
    m = network_map([node("a", "Custom-built"), node("b", "utility"), node("c", "")], [])
    c = by_name(m)
    assert 0.175 < c["A"].evolution < 0.40 and 0.70 < c["B"].evolution < 1
    assert 0.175 < c["C"].evolution < 0.40
    assert len(m.warnings) == 1 and "C" in m.warnings[0].message


def test_dependencies_on_services_not_given_are_left_out_and_warned():
    m = network_map([node("a")], [("a", "ghost"), ("a", "ghost"), ("a", "a")])
    assert m.links == []
    assert len(m.warnings) == 1 and "ghost" in m.warnings[0].message and "2 dependencies" in m.warnings[0].message


def test_nodes_may_be_objects():
    nodes = [SimpleNamespace(key=1, name="Portal", evolution_stage="custom", external=True),
             SimpleNamespace(key=2, name="Payments", evolution_stage="product", external=False)]
    m = network_map(nodes, [(1, 2)])
    assert Link("Portal", "Payments") in m.links


def test_names_the_map_language_treats_specially_are_made_safe_and_read_back():
    awkward = ["Pay -> run", "Tax [UK]", "Rates; arrears", "Plus+>more", "build tools", "{braces}", "  ", "Users",
               "Pay -> run", "a // b", "x+'y'<z"]
    nodes = [node(f"k{i}", name=name) for i, name in enumerate(awkward)]
    nodes[0]["external"] = True
    edges = [(f"k{i}", f"k{i + 1}") for i in range(len(awkward) - 1)]
    m = network_map(nodes, edges, title="Names // with [odd] bits")
    names = network_names(nodes)
    assert names["k0"] == "Pay → run" and names["k8"] == "Pay → run (2)"
    assert names["k1"] == "Tax (UK)" and names["k2"] == "Rates, arrears" and names["k4"] == "Build tools"
    assert names["k6"] == "k6"  # a blank name falls back to the key
    assert names["k7"] == "Users (2)"  # the anchor keeps "Users"
    assert len(set(names.values())) == len(awkward)
    text = m.to_text()
    back = parse(text)
    assert back == m
    assert not [w for w in back.warnings], back.warnings
    assert [link.target for link in back.links if link.source == names["k2"]] == [names["k3"]]


def test_the_network_map_draws():
    m = network_map([node("a", external=True), node("b")], [("a", "b")])
    assert 'data-name="A"' in render_svg(m)


def test_a_large_network_is_mapped_and_read_back():
    """A smoke test at 2,000 services and 6,000 dependencies. It is not timed: a shared
    machine's timings vary too much to assert; 50,000 services are timed by hand."""
    rng = random.Random(7)
    stages = list(STAGE_BANDS)
    nodes = [node(f"s{i}", rng.choice(stages), rng.random() < 0.05, name=f"Service {i} -> part [{i % 7}]")
             for i in range(2000)]
    edges = [(f"s{rng.randrange(2000)}", f"s{rng.randrange(2000)}") for _ in range(6000)]
    m = network_map(nodes, edges, title="Everything")
    assert len(m.components) == 2001
    assert 5000 < len(m.links) <= 6000 + 2000
    assert all("->" not in c.name and "[" not in c.name for c in m.components)
    assert parse(m.to_text()) == m
