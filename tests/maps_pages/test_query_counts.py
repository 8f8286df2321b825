"""The map and graph pages cost the same number of queries however large the network or
a map's history (design habit 6): each is measured, then measured again after the
network has grown, and must not have made one query more."""

from __future__ import annotations

from django.db import connection
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.orgcache import OrganisationPerRequest, current_organisation

from .. import factories
from .helpers import MAP, queries_of, saved, small_network


def _grow(c, network: dict, start: int, count: int) -> None:
    """``count`` more services: each consumes Hosting and the one before it, and is
    consumed by a journey that meets external users."""
    previous = network["payments"]
    for i in range(start, start + count):
        middle = factories.service(c.executive, f"Platform {i}", manager=c.other_manager, user_type="internal",
                                   evolution_stage=("product", "commodity", "custom")[i % 3],
                                   dependencies=[network["hosting"].slug, previous.slug], stage="live")
        factories.service(c.executive, f"Journey {i}", user_type="external", dependencies=[middle.slug])
        previous = middle


def _urls(c, network: dict) -> list[str]:
    return [
        reverse("maps:network"),
        reverse("maps:network") + f"?around={network['fine'].slug}&evolution=product",
        reverse("maps:network_text"),
        reverse("maps:network_svg") + "?stage=live",
        reverse("maps:neighbourhood", args=[network["hosting"].slug]) + "?hops=3",
        reverse("maps:neighbourhood", args=[network["payments"].slug]),
        reverse("maps:impact", args=[network["hosting"].slug]),
        reverse("maps:impact", args=[network["hosting"].slug]) + "?page=2",
        reverse("maps:cycles"),
        reverse("maps:map", args=[c.service.slug]),
    ]


def test_the_network_map_the_neighbourhood_and_the_impact_pages_cost_the_same_at_two_sizes(cast, client, settings):
    settings.PAGE_SIZE = 3  # so the impact list has a second page at both sizes
    network = small_network(cast)
    saved(cast)
    _grow(cast, network, 0, 2)
    client.force_login(cast.outsider)
    few = {url: queries_of(client, url) for url in _urls(cast, network)}
    _grow(cast, network, 2, 12)
    for i in range(5):
        saved(cast, MAP + f"note Step {i} [0.2, 0.2]\n", note=f"Step {i}")
    many = {url: queries_of(client, url) for url in _urls(cast, network)}
    assert many == few
    # and the larger network really is larger on those pages
    response = client.get(reverse("maps:impact", args=[network["hosting"].slug]))
    assert response.context["view"].total == 2 + 2 * 14  # Payments, Pay a fine, each platform and journey


def test_the_map_panel_makes_two_queries_at_most_however_long_the_history(cast):
    def panel_queries(person) -> int:
        request = RequestFactory().get("/")
        request.user = person
        template = Template("{% load maps_panel %}{% map_panel service %}")

        def page(request):  # as in a request: the organisation read once, and first
            current_organisation()
            with CaptureQueriesContext(connection) as ctx:
                html = template.render(Context({"request": request, "service": cast.service}))
            assert "Wardley map" in html
            return HttpResponse(str(len(ctx.captured_queries)))

        return int(OrganisationPerRequest(page)(request).content)

    saved(cast)
    # 1. the current version with who saved it; 2. whether the person is in the team
    assert panel_queries(cast.outsider) == 2
    assert panel_queries(cast.manager) == 1  # the manager's right needs no query
    for i in range(6):
        saved(cast, MAP + f"note Step {i} [0.2, 0.2]\n")
    assert panel_queries(cast.outsider) == 2
