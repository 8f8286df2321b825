"""Impact and the map around a service read only their part of the network (recursive
queries). The results are those of a walk over the whole network, checked here on a small
network with a diamond, cycles (one through the failed service) and decommissioned
services, the expected answers worked out by hand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.maps import queries
from osom.network.graph import Graph, impact_of
from osom.network.models import Service
from osom.network.queries import current_edges

from .. import factories
from .helpers import make_depend, queries_of


@pytest.fixture
def web(cast):
    """Consumer → provider:

        A → H, B → H            (H is the service that fails)
        C → A, C → B            (a diamond: C is two hops away either way)
        D → C, E → D, D → E     (a cycle above the diamond)
        H → D                   (a cycle through H itself: H → D → C → A → H)
        F → A, G → F            (F decommissioned: neither it nor G, which reaches H only through F)
        X → Y                   (elsewhere)
    """
    ex = cast.executive

    def make(name, *providers, stage="live"):
        return factories.service(ex, name, dependencies=[p.slug for p in providers], stage=stage,
                                 user_type="internal", evolution_stage="product")

    h = make("Hosting")
    a = make("Alpha", h)
    b = make("Beta", h)
    c = make("Charlie", a, b)
    d = make("Delta", c)
    e = make("Echo", d)
    make_depend(cast, d, c, e)
    make_depend(cast, h, d)
    f = make("Foxtrot", a)
    g = make("Golf", f)
    y = make("Yankee")
    x = make("X-ray", y)
    # decommissioning takes a whole assessment; only its outcome matters here
    Service.objects.filter(pk=f.pk).update(lifecycle_stage="decommissioned")
    return {s.name[0]: s for s in (h, a, b, c, d, e, f, g, x, y)}


def test_impact_finds_every_running_consumer_with_its_hops_and_a_shortest_chain(web):
    w = web
    impact, found = impact_of(w["H"].pk)
    assert impact.affected == {w["A"].pk: 1, w["B"].pk: 1, w["C"].pk: 2, w["D"].pk: 3, w["E"].pk: 4}
    assert impact.direct == sorted([w["A"].pk, w["B"].pk])
    # Alpha was made before Beta, so the walk reaches Charlie through Alpha first
    assert impact.chain(w["E"].pk) == [w[k].pk for k in "EDCAH"]
    assert impact.chain(w["C"].pk) == [w[k].pk for k in "CAH"]
    assert impact.chain(w["B"].pk) == [w[k].pk for k in "BH"]
    assert found[w["D"].pk] == ("Delta", "live", "internal")
    assert w["F"].pk not in found and w["G"].pk not in found and w["X"].pk not in found


def test_impact_agrees_with_a_walk_over_the_whole_network(web):
    running = set(Service.objects.exclude(lifecycle_stage="decommissioned").values_list("pk", flat=True))
    for service in web.values():
        keep = running | {service.pk}
        whole = Graph([(c, p) for c, p in current_edges() if c in keep and p in keep]).impact(service.pk)
        part, _found = impact_of(service.pk)
        assert part.affected == whole.affected, service.name
        assert part.direct == whole.direct, service.name
        assert {i: part.chain(i) for i in part.affected} == {i: whole.chain(i) for i in whole.affected}, service.name


def test_a_decommissioned_service_that_fails_still_shows_who_consumes_it(web):
    impact, _found = impact_of(web["F"].pk)
    assert impact.affected == {web["G"].pk: 1}


def test_the_impact_view_counts_by_stage_and_orders_nearest_first_then_by_name(web):
    view = queries.impact_view(web["H"])
    assert [Service.objects.get(pk=i).name for i in view.order] == ["Alpha", "Beta", "Charlie", "Delta", "Echo"]
    assert dict((value, n) for value, _label, n in view.by_stage)["live"] == 5
    assert view.external_reached == 0 and view.deepest == 4
    rows = view.rows(view.order)
    assert [s.name for s in rows[-1].chain] == ["Echo", "Delta", "Charlie", "Alpha", "Hosting"]


def test_the_impact_page_shows_the_hand_worked_answer(web, cast, client):
    client.force_login(cast.outsider)
    response = client.get(reverse("maps:impact", args=[web["H"].slug]))
    assert response.status_code == 200
    assert response.context["view"].total == 5 and response.context["direct_total"] == 2
    body = response.content.decode()
    assert "Echo" in body and "Foxtrot" not in body and "Golf" not in body and "X-ray" not in body


def test_the_map_around_a_service_keeps_it_and_what_it_depends_on_only(web):
    w = web
    selection = queries.network_selection(around=w["E"].slug)
    # Echo → Delta → Charlie → Alpha, Beta → Hosting, and Hosting → Delta closes a cycle
    assert [n["name"] for n in selection.nodes] == ["Alpha", "Beta", "Charlie", "Delta", "Echo", "Hosting"]
    pairs = {(w[a].pk, w[b].pk) for a, b in ("ED", "DE", "DC", "CA", "CB", "AH", "BH", "HD")}
    assert set(selection.edges) == pairs
    assert selection.around["name"] == "Echo" and selection.matched == 6
    assert selection.running == Service.objects.exclude(lifecycle_stage="decommissioned").count()
    # a decommissioned provider is left out, and so is what lies only beyond it
    assert [n["name"] for n in queries.network_selection(around=w["G"].slug).nodes] == ["Golf"]
    assert queries.network_selection(around=w["F"].slug).not_found, "a decommissioned service has no map"
    assert queries.network_selection(around="no-such-service").not_found


def test_the_map_around_a_service_filters_and_caps_as_the_whole_map_does(web):
    w = web
    only_h = queries.network_selection(around=w["E"].slug, q="hosting")
    assert [n["name"] for n in only_h.nodes] == ["Hosting"] and only_h.edges == []
    capped = queries.network_selection(around=w["E"].slug, cap=2)
    assert capped.capped and capped.matched == 6 and len(capped.nodes) == 2


def test_the_map_around_and_the_impact_cost_the_same_however_far_they_reach(cast, client):
    hub = factories.service(cast.executive, "Hub", stage="live")
    top = factories.service(cast.executive, "Top 0", dependencies=[hub.slug], stage="live")
    client.force_login(cast.outsider)
    urls = [reverse("maps:network") + f"?around={top.slug}", reverse("maps:impact", args=[hub.slug])]
    few = [queries_of(client, url) for url in urls]
    below = hub
    for i in range(1, 12):  # a chain of eleven between the top and the hub
        below = factories.service(cast.executive, f"Layer {i:02d}", dependencies=[below.slug], stage="live")
    make_depend(cast, top, hub, below)
    many = [queries_of(client, url) for url in urls]
    assert many == few
    assert len(queries.network_selection(around=top.slug).nodes) == 13
    assert queries.impact_view(hub).total == 12
