"""The network seen whole: its Wardley map generated from the contracts (filters, the
part one service depends on, the cap on big drawings, the exports), a service's
neighbourhood, who is affected if it fails, and the cycles."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from django.urls import reverse

from osom.maps import queries
from osom.maps.text import parse
from osom.network.models import Service

from .helpers import make_depend, small_network


def _get(client, url: str, params: dict | None = None, status: int = 200):
    response = client.get(url, params or {})
    assert response.status_code == status, (url, params, response.status_code)
    return response


def _svg(body: str) -> str:
    svg = body[body.index("<svg"):body.index("</svg>") + 6]
    ET.fromstring(svg)
    return svg


def _shown(client, **params) -> set[str]:
    selection = _get(client, reverse("maps:network"), params).context["selection"]
    return {node["name"] for node in selection.nodes}


# ---------------------------------------------------------------- the network map

def test_the_network_map_draws_every_running_service_and_their_dependencies(cast, client):
    small_network(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("maps:network")).content.decode()
    svg = _svg(body)
    for name in ("Parking permits", "Identity", "Pay a fine", "Payments", "Hosting"):
        assert name in svg
    assert "<strong>5</strong> services shown, among 5 running services; 4 dependencies." in body
    # those meeting external users head the value chain, above what they consume
    wardley_map = parse(_get(client, reverse("maps:network_text")).content.decode())
    height = {c.name: c.visibility for c in wardley_map.components}
    assert height["Pay a fine"] > height["Payments"] > height["Hosting"]
    assert height["Parking permits"] > height["Identity"]
    hosting = wardley_map.component("Hosting")
    assert hosting.evolution >= 0.70  # its contract says commodity


def test_a_decommissioned_service_is_left_off_the_network_map(cast, client):
    network = small_network(cast)
    # decommissioning takes a whole assessment; only its outcome matters here
    Service.objects.filter(pk=network["hosting"].pk).update(lifecycle_stage="decommissioned")
    client.force_login(cast.outsider)
    selection = _get(client, reverse("maps:network")).context["selection"]
    assert "Hosting" not in {n["name"] for n in selection.nodes}
    assert selection.running == 4 and len(selection.edges) == 3


def test_around_keeps_one_service_and_what_it_depends_on_transitively(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    assert _shown(client, around=network["fine"].slug) == {"Pay a fine", "Payments", "Hosting", "Identity"}
    assert _shown(client, around=network["payments"].slug) == {"Payments", "Hosting"}
    body = _get(client, reverse("maps:network"), {"around": "pay-a-fine"}).content.decode()
    assert "Service network: what Pay a fine depends on" in body
    response = _get(client, reverse("maps:network"), {"around": "no-such-service"}, status=404)
    assert "No running service has the address “no-such-service”" in response.content.decode()


def test_filters_keep_one_part_of_the_network_and_the_links_among_it(cast, client):
    small_network(cast)
    client.force_login(cast.outsider)
    assert _shown(client, evolution="commodity") == {"Hosting"}
    assert _shown(client, stage="live") == {"Pay a fine", "Payments", "Hosting"}
    assert _shown(client, stage="discovery") == {"Parking permits", "Identity"}
    assert _shown(client, q="PAY") == {"Pay a fine", "Payments"}
    selection = _get(client, reverse("maps:network"), {"q": "pay"}).context["selection"]
    names = {n["key"]: n["name"] for n in selection.nodes}
    assert [(names[c], names[p]) for c, p in selection.edges] == [("Pay a fine", "Payments")]
    assert _shown(client, stage="live", evolution="custom") == {"Pay a fine"}
    assert _shown(client, stage="nonsense") == {"Parking permits", "Identity", "Pay a fine", "Payments", "Hosting"}


def test_a_big_network_is_capped_with_a_count_and_a_suggestion(cast, client, monkeypatch):
    small_network(cast)
    monkeypatch.setattr(queries, "DRAWING_CAP", 2)
    client.force_login(cast.outsider)
    response = _get(client, reverse("maps:network"))
    body = response.content.decode()
    assert "<strong>2</strong> services shown of 5 matching" in body
    assert "5 services match: the drawing shows the first 2" in body and "Narrow it with a filter" in body
    # those meeting external users are kept first
    assert {n["name"] for n in response.context["selection"].nodes} == {"Parking permits", "Pay a fine"}
    svg = client.get(reverse("maps:network_svg")).content.decode()
    assert "Pay a fine" in svg and "Hosting" not in svg
    text = client.get(reverse("maps:network_text")).content.decode()
    assert {c.name for c in parse(text).components} >= {"Pay a fine", "Payments", "Hosting", "Identity"}


def test_the_network_map_exports_as_text_and_svg_with_the_same_filters(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    response = _get(client, reverse("maps:network_text"), {"around": network["payments"].slug})
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="network-map.owm"'
    wardley_map = parse(response.content.decode())
    assert {c.name for c in wardley_map.components if c.kind == "component"} == {"Payments", "Hosting"}
    assert ("Payments", "Hosting") in {(link.source, link.target) for link in wardley_map.links}
    response = _get(client, reverse("maps:network_svg"), {"evolution": "commodity"})
    assert response["Content-Type"] == "image/svg+xml"
    assert "sandbox" in response["Content-Security-Policy"]
    svg = response.content.decode()
    ET.fromstring(svg)
    assert "Hosting" in svg and "Payments" not in svg
    body = _get(client, reverse("maps:network"), {"evolution": "commodity"}).content.decode()
    assert f'href="{reverse("maps:network_svg")}?evolution=commodity"' in body


# ---------------------------------------------------------------- a service's neighbourhood

def test_the_neighbourhood_draws_consumers_above_and_providers_below_each_a_link(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    response = _get(client, reverse("maps:neighbourhood", args=[network["payments"].slug]), {"hops": "1"})
    view = response.context["view"]
    assert {n.service.name for n in view.consumers} == {"Pay a fine"}
    assert {n.service.name for n in view.providers} == {"Hosting"}
    assert view.related == []
    layers = {n.service.name: n.layer for n in view.nodes}
    assert layers == {"Pay a fine": -1, "Payments": 0, "Hosting": 1}
    svg = _svg(response.content.decode())
    boxes = {b.node.service.name: b for b in response.context["layout"].boxes}
    assert boxes["Pay a fine"].y < boxes["Payments"].y < boxes["Hosting"].y
    for service in (network["fine"], network["payments"], network["hosting"]):
        assert f'<a href="{reverse("network:service", args=[service.slug])}">' in svg
    # two hops away: Identity, another provider of Payments' consumer
    view = _get(client, reverse("maps:neighbourhood", args=[network["payments"].slug]), {"hops": "2"}).context["view"]
    assert {n.service.name: n.relation for n in view.related} == {"Identity": "related"}


def test_the_neighbourhood_asks_one_to_four_hops_and_defaults_to_two(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    url = reverse("maps:neighbourhood", args=[network["hosting"].slug])
    assert _get(client, url).context["hops"] == 2
    assert _get(client, url, {"hops": "9"}).context["hops"] == 2
    assert _get(client, url, {"hops": "x"}).context["hops"] == 2
    view = _get(client, url, {"hops": "1"}).context["view"]
    assert {n.service.name for n in view.nodes} == {"Hosting", "Payments"}
    view = _get(client, url, {"hops": "4"}).context["view"]
    assert {n.service.name for n in view.nodes} == {"Hosting", "Payments", "Pay a fine", "Identity", "Parking permits"}
    body = _get(client, url).content.decode()
    assert '<option value="2" selected>2 dependencies away</option>' in body


# ---------------------------------------------------------------- impact

def test_the_impact_page_lists_direct_and_transitive_consumers_with_a_chain_each(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    response = _get(client, reverse("maps:impact", args=[network["hosting"].slug]))
    body = response.content.decode()
    rows = {r.service.name: r for r in response.context["rows"]}
    assert set(rows) == {"Payments", "Pay a fine"}
    assert rows["Payments"].hops == 1 and rows["Pay a fine"].hops == 2
    assert [s.name for s in rows["Pay a fine"].chain] == ["Pay a fine", "Payments", "Hosting"]
    assert [s.name for s in response.context["direct"]] == ["Payments"]
    assert "External users are reached." in body and "1 affected service meets external users" in body
    counts = {value: n for value, _label, n in response.context["view"].by_stage}
    assert counts == {"discovery": 0, "alpha": 0, "beta": 0, "live": 2}
    chain = re.search(r'<ol class="chain" aria-label="Chain from Pay a fine to Hosting">(.*?)</ol>', body, re.S).group(1)
    links = [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", chain)]
    assert links == ["Pay a fine", "Payments", "Hosting"]
    assert f'<a href="{reverse("network:service", args=[network["payments"].slug])}">Payments</a>' in chain


def test_a_failure_felt_only_inside_says_so(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("maps:impact", args=[network["fine"].slug])).content.decode()
    assert "No running service consumes Pay a fine" in body and "external users" in body
    body = _get(client, reverse("maps:impact", args=[cast.other_service.slug])).content.decode()
    assert "2 affected services meet external users" in body  # Parking permits and Pay a fine


def test_the_impact_list_paginates(cast, client, settings):
    network = small_network(cast)
    settings.PAGE_SIZE = 1
    client.force_login(cast.outsider)
    url = reverse("maps:impact", args=[network["hosting"].slug])
    first = _get(client, url).context["rows"]
    second = _get(client, url, {"page": "2"}).context["rows"]
    assert [r.service.name for r in first] == ["Payments"] and [r.service.name for r in second] == ["Pay a fine"]


# ---------------------------------------------------------------- cycles

def test_the_cycles_page_shows_each_cycle_as_a_chain_of_links(cast, client):
    network = small_network(cast)
    client.force_login(cast.outsider)
    assert "There is no dependency cycle" in _get(client, reverse("maps:cycles")).content.decode()
    make_depend(cast, network["hosting"], network["fine"])  # Hosting → Pay a fine → Payments → Hosting
    body = _get(client, reverse("maps:cycles")).content.decode()
    assert "1 cycle, through 3 services." in body
    chain = re.search(r'<ol class="chain" aria-label="Cycle of 3 services">(.*?)</ol>', body, re.S).group(1)
    names = re.findall(r'<a href="/services/([^/]+)/">([^<]+)</a>', chain)
    assert len(names) == 4 and names[0] == names[-1]
    assert {name for _slug, name in names} == {"Hosting", "Pay a fine", "Payments"}
