"""The server-drawn charts, as pure functions: exact Decimal scales and labels, accessible
markup, gaps where a value is missing, and the picture of the money capped to its largest
flows when the network is large."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

import pytest

from osom.fitness.charts import (
    FlowBand,
    FlowNode,
    Point,
    RankedFlows,
    flow_diagram,
    format_period,
    format_value,
    line_chart,
    money_text,
    nice_ticks,
)

D = Decimal


def test_ticks_are_round_exact_decimals():
    assert [str(t) for t in nice_ticks(D("0.1"), D("0.3"))] == ["0.1", "0.15", "0.2", "0.25", "0.3"]
    assert nice_ticks(D("97.1"), D("99.2")) == [D(97), D(98), D(99), D(100)]
    assert nice_ticks(D("0.0077"), D("0.02")) == [D("0.005"), D("0.01"), D("0.015"), D("0.02")]
    # one value alone still gets a scale around it
    assert nice_ticks(D(5), D(5), 2) == [D("4.5"), D(5), D("5.5")]
    assert nice_ticks(D(0), D(0), 2) == [D(-1), D(0), D(1)]


def test_values_read_as_people_write_them():
    assert format_value(D("98.5000"), "%") == "98.5%"
    assert format_value(D("0.0200"), "GBP") == "£0.02"
    assert format_value(D("0.0077"), "£") == "£0.0077"
    assert format_value(D("1200"), "£ per month") == "£1,200.00 per month"
    assert format_value(D("12345.5"), "seconds") == "12,345.5 seconds"
    assert format_value(D("-3"), "") == "−3"
    assert format_value(None, "%") == ""
    assert money_text(D("1234.5")) == "£1,234.50" and money_text(D("-3"), "CHF") == "−CHF 3.00"
    assert money_text(D("0.0077"), "EUR") == "€0.0077"


def test_periods_in_few_words():
    assert format_period(dt.date(2026, 3, 1), dt.date(2026, 3, 31)) == "Mar 2026"
    assert format_period(dt.date(2026, 3, 4), dt.date(2026, 3, 4)) == "4 Mar 2026"
    assert format_period(dt.date(2026, 1, 1), dt.date(2026, 3, 31)) == "1 Jan – 31 Mar 2026"
    assert format_period(dt.date(2025, 12, 1), dt.date(2026, 2, 28)) == "1 Dec 2025 – 28 Feb 2026"


def _points(*values):
    return [Point(dt.date(2026, 1 + i, 28), None if v is None else D(v), f"m{i}") for i, v in enumerate(values)]


def test_a_line_chart_is_an_image_with_a_title_a_description_and_a_dashed_target():
    svg = str(line_chart(_points("0.1", "0.2", "0.3"), chart_id="c", title="Share done", unit="%",
                         target=D("0.25"), direction="higher", size="large"))
    assert re.match(r'<svg class="fx-chart fx-chart--large" id="c" role="img" [^>]*aria-labelledby="c-title c-desc"', svg)
    assert '<title id="c-title">Share done</title>' in svg
    assert ("<desc id=\"c-desc\">3 values from 28 Jan 2026 to 28 Mar 2026, between 0.1% and 0.3%; the latest is "
            "0.3% (m2). Target: 0.25%, higher is better.</desc>") in svg
    assert re.search(r'<line class="fx-chart__target"[^>]*stroke-dasharray="6 4"><title>Target 0.25%</title>', svg)
    ticks = re.findall(r'class="fx-chart__tick"[^>]*>([^<]+)<', svg)
    assert ticks[:5] == ["0.1%", "0.15%", "0.2%", "0.25%", "0.3%"] and "28 Jan" in ticks and "28 Mar" in ticks
    # every coordinate is written to a tenth of a pixel at most: no float noise
    assert not re.search(r"\d\.\d{2,}", re.sub(r"<(title|desc|text)[^>]*>[^<]*<", "", svg))


def test_a_missing_value_is_a_gap_with_its_reason():
    svg = str(line_chart(_points("1", "2", None, "4", "5"), chart_id="g", title="Figure", size="large"))
    assert svg.count('<polyline class="fx-chart__line"') == 2
    assert "m2: no value: nobody reported" not in svg
    gap = str(line_chart([*_points("1", "2")[:2], Point(dt.date(2026, 3, 28), None, "Mar", "no service reported m1")],
                         chart_id="h", title="Figure"))
    assert "<title>Mar: no value: no service reported m1</title>" in gap and "1 period has no value." in gap


def test_an_empty_chart_says_so():
    svg = str(line_chart([], chart_id="e", title="Nothing"))
    assert 'role="img"' in svg and "No values yet" in svg and "No values have been recorded yet." in svg
    assert "<polyline" not in svg


def test_text_in_a_chart_is_escaped():
    svg = str(line_chart(_points("1"), chart_id="x", title="<script>alert(1)</script>", unit="<b>"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg


def _flow(n_providers: int):
    """One journey consuming ``n_providers`` providers, each passing it money k."""
    nodes = [FlowNode("J", "Journey", D(1000 + sum(range(1, n_providers + 1))), D(1000 + sum(range(1, n_providers + 1))),
                      D(1000))]
    bands = []
    for k in range(1, n_providers + 1):
        nodes.append(FlowNode(f"P{k}", f"Provider {k}", D(k), D(0), D(k)))
        bands.append(FlowBand(f"P{k}", "J", D(k), D(1)))
    return nodes, bands


def test_the_money_picture_puts_services_in_layers_by_depth():
    nodes = [FlowNode("H", "Hosting", D(100), D(0), D(100)), FlowNode("I", "Identity", D(70), D(0), D(50)),
             FlowNode("J", "Journey", D(170), D(170), D(0))]
    bands = [FlowBand("H", "I", D(20), D("0.2")), FlowBand("H", "J", D(80), D("0.8")), FlowBand("I", "J", D(70), D(1))]
    picture = flow_diagram(nodes, bands, chart_id="f", title="Money", money=money_text)
    svg = str(picture.svg)
    assert picture.layers == 3 and picture.drawn_bands == 3 and picture.hidden_bands == 0
    x = {name: float(v) for v, name in re.findall(r'<text class="fx-flow__label" x="([\d.]+)"[^>]*><tspan[^>]*>([^<]+)<', svg)}
    assert x["Hosting"] < x["Identity"] < x["Journey"] < x["External users"]
    assert "Journey → External users: £170.00" in svg


def test_a_cycle_does_not_break_the_layers():
    nodes = [FlowNode("A", "A", D(10), D(5), D(5)), FlowNode("B", "B", D(10), D(5), D(5))]
    bands = [FlowBand("A", "B", D(5), D("0.5")), FlowBand("B", "A", D(5), D("0.5"))]
    picture = flow_diagram(nodes, bands, chart_id="c", title="Money", money=money_text)
    assert picture.layers == 2 and "fx-flow__band--back" in str(picture.svg)


def test_a_large_network_draws_only_its_largest_flows_and_says_what_it_left_out():
    nodes, bands = _flow(60)
    picture = flow_diagram(nodes, bands, chart_id="f", title="Money", money=money_text, max_bands=20, max_services=40)
    assert picture.drawn_bands == 20 and picture.hidden_bands == 40
    assert picture.hidden_amount == sum(D(k) for k in range(1, 41))  # the 40 smallest
    assert picture.hidden_services == 40
    svg = str(picture.svg)
    assert "Provider 60 → Journey" in svg and "Provider 41 → Journey" in svg and "Provider 40 → Journey" not in svg
    assert "40 smaller flows, £820.00 in all, are not drawn." in svg
    # at most max_services services however many bands are allowed
    capped = flow_diagram(nodes, bands, chart_id="f", title="Money", money=money_text, max_bands=500, max_services=10)
    assert len(capped.nodes) == 10 and capped.drawn_bands == 9


def test_no_money_is_an_empty_picture_that_says_so():
    picture = flow_diagram([], [], chart_id="f", title="Money", money=money_text)
    assert "No spending recorded for this period" in str(picture.svg) and picture.layers == 0


def test_the_dates_under_a_chart_never_crowd_each_other():
    quarters = [Point(dt.date(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 28), D(m), "") for m in range(3, 27, 3)]
    for size, gap in (("large", 90), ("small", 120)):
        svg = str(line_chart(quarters, chart_id="q", title="Quarters", size=size))
        xs = [float(x) for x in re.findall(r'<text class="fx-chart__tick" x="([\d.]+)" y="[\d.]+" text-anchor', svg)]
        assert len(xs) >= 2 and xs == sorted(xs)
        assert all(b - a >= gap for a, b in zip(xs, xs[1:])), (size, xs)
        assert "Dec 2026" in svg and "Mar 2025" in svg  # the newest and the oldest are named


def test_the_y_axis_names_a_long_unit_once_and_signs_money_on_each_tick():
    minutes = str(line_chart(_points("4.5", "7", "9"), chart_id="m", title="Minutes", unit="minutes", size="large"))
    ticks = re.findall(r'class="fx-chart__tick" x="[\d.]+" y="[\d.]+" dy="0.32em"[^>]*>([^<]+)<', minutes)
    assert ticks == ["4", "6", "8", "10"]
    assert re.search(r'<text class="fx-chart__unit"[^>]*>minutes</text>', minutes)
    money = str(line_chart(_points("1200", "1500"), chart_id="p", title="Cost", unit="£ per month", size="large"))
    ticks = re.findall(r'class="fx-chart__tick" x="[\d.]+" y="[\d.]+" dy="0.32em"[^>]*>([^<]+)<', money)
    assert ticks[0] == "£1200" and all(t.startswith("£") for t in ticks)
    assert re.search(r'<text class="fx-chart__unit"[^>]*>per month</text>', money)
    percent = str(line_chart(_points("50", "60"), chart_id="q", title="Share", unit="%"))
    assert "fx-chart__unit" not in percent and ">60%<" in percent


def test_flows_given_as_units_in_any_order_draw_the_same_picture_making_only_the_drawn_bands():
    nodes, bands = _flow(60)
    # a zero flow and a service's flow to itself are never drawn, given either way
    bands += [FlowBand("P1", "J", D(0), D(1)), FlowBand("J", "J", D(5), D("0.5"))]
    as_bands = flow_diagram(nodes, bands, chart_id="f", title="Money", money=money_text, max_bands=20, max_services=40)
    names = {n.key: n.name for n in nodes}
    shuffled = list(bands)
    random.Random(7).shuffle(shuffled)
    made = []

    def band(item):
        made.append(item)
        return next(b for b in bands if (b.source, b.target, b.amount) == (item[0], item[1], D(item[2]).scaleb(-2)))

    flows = RankedFlows([(b.source, b.target, int(b.amount * 100)) for b in shuffled], band=band, name=names.get)
    as_units = flow_diagram(nodes, flows, chart_id="f", title="Money", money=money_text, max_bands=20, max_services=40)
    assert str(as_units.svg) == str(as_bands.svg)
    assert (as_units.drawn_bands, as_units.hidden_bands, as_units.hidden_services) == (20, 40, 40)
    assert as_units.hidden_amount == as_bands.hidden_amount == sum(D(k) for k in range(1, 41))
    assert len(made) == 20  # the other flows stayed plain tuples
    assert [item[2] for item in flows.first(3)] == [6000, 5900, 5800]


def _drawn_by_ranking_everything(nodes, items, names, max_bands, max_services):
    """What the picture should draw, worked out plainly: rank every flow, then walk them."""
    known = {n.key for n in nodes if n.total > 0 or n.external > 0}
    ranked = sorted((i for i in items if i[2] > 0 and i[0] != i[1] and i[0] in known and i[1] in known),
                    key=lambda i: (-i[2], names[i[0]], names[i[1]], i[0], i[1]))
    drawn, shown = [], set()
    for item in ranked:
        new = {item[0], item[1]} - shown
        if len(drawn) < max_bands and len(shown) + len(new) <= max_services:
            drawn.append(item)
            shown |= new
    return drawn, sum(i[2] for i in ranked) - sum(i[2] for i in drawn), len(ranked) - len(drawn)


@pytest.mark.parametrize("seed", range(12))
def test_the_flows_drawn_are_those_a_ranking_of_every_flow_would_choose(seed):
    """Only the largest flows are ranked at first; when they do not fill the picture, the
    rest are: ties in amount (broken by the names), many services or few, many flows or few."""
    rng = random.Random(seed)
    count = rng.choice([5, 30, 120, 400])
    nodes = [FlowNode(k, f"Service {rng.randrange(count // 2 + 1):03}", D(rng.randrange(0, 500)),
                      D(rng.randrange(0, 50)), D(1)) for k in range(count)]
    names = {n.key: n.name for n in nodes}
    pairs = {(rng.randrange(count), rng.randrange(count)) for _ in range(rng.choice([10, 300, 3000]))}
    items = [(p, c, rng.choice([0, 1, 2, 5, 5, 5, 50, rng.randrange(1, 10_000)])) for p, c in sorted(pairs)]
    rng.shuffle(items)
    max_bands, max_services = rng.choice([(3, 4), (20, 40), (90, 40), (500, 10)])
    picked = []

    def band(item):
        picked.append(item)
        return FlowBand(item[0], item[1], D(item[2]))

    picture = flow_diagram(nodes, RankedFlows(items, band=band, name=names.get, places=0), chart_id="r",
                           title="Money", money=money_text, max_bands=max_bands, max_services=max_services)
    drawn, hidden_amount, hidden_bands = _drawn_by_ranking_everything(nodes, items, names, max_bands, max_services)
    assert picked == drawn
    assert (picture.drawn_bands, picture.hidden_bands, picture.hidden_amount) == (len(drawn), hidden_bands,
                                                                                  D(hidden_amount))
    ranked = RankedFlows(items, band=band, name=names.get)
    assert ranked.first(25) == ranked.ranked()[:25] == sorted(items, key=lambda i: (-i[2], names[i[0]],
                                                                                  names[i[1]], i[0], i[1]))[:25]


def test_a_small_flow_is_drawn_when_the_largest_leave_room_for_it_and_no_larger_one_fits():
    """The largest flows here each join two services not yet shown, so after the first
    none fits among three services; a small one from the first provider still does."""
    nodes = [FlowNode(k, f"S{k:02}", D(1000), D(1000)) for k in range(62)]
    items = [(2 * k, 2 * k + 1, 1000 - k) for k in range(30)] + [(0, 61, 1)]
    random.Random(3).shuffle(items)
    names = {n.key: n.name for n in nodes}
    flows = RankedFlows(items, band=lambda item: FlowBand(item[0], item[1], D(item[2])), name=names.get, places=0)
    picture = flow_diagram(nodes, flows, chart_id="s", title="Money", money=money_text, max_bands=5, max_services=3)
    assert (picture.drawn_bands, picture.hidden_bands) == (2, 29)
    assert _drawn_by_ranking_everything(nodes, items, names, 5, 3)[0] == [(0, 1, 1000), (0, 61, 1)]
    assert {n.key for n in picture.nodes} == {0, 1, 61}
