"""The fitness pages cost a fixed number of queries however many services there are
(design habit 6): each is measured on a small network and again after it has grown tenfold."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.kept import forget_all
from osom.core.orgcache import OrganisationPerRequest
from osom.fitness import actions

from .. import factories
from .helpers import PERIOD, measure, spend

PANEL = Template("{% load fitness_panel %}{% fitness_panel service %}")


def _grow(c, start: int, stop: int) -> None:
    """Services ``start``..``stop``: each consumes Identity, reports its metric twice, spends
    money and completes transactions; Identity shares its consumption among all of them."""
    for i in range(start, stop):
        service = factories.service(c.executive, f"Service {i}", manager=c.other_manager, dependencies=["identity"])
        measure(c, str(90 + i % 10), back=2, service=service, actor=c.other_manager)
        measure(c, str(91 + i % 10), back=1, service=service, actor=c.other_manager)
        spend(c, service, str(100 + i))
        actions.record_transactions(actor=c.other_manager, service=service, period=PERIOD, transactions=1000 + i)
    consumers = ["parking-permits"] + [f"service-{i}" for i in range(stop)]
    share = f"{90 / len(consumers):.4f}%"
    actions.record_consumption_shares(actor=c.other_manager, provider=c.other_service, period=PERIOD,
                                      shares={slug: share for slug in consumers})


def _world(c):
    measure(c, "97", back=1)
    spend(c, c.service, "80")
    spend(c, c.other_service, "400")
    actions.define_aggregation(actor=c.executive, name="Mean outcome", expression="avg(m1) + max(m1) - min(m1)")
    _grow(c, 0, 2)


def _page_queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response.content.decode()


def _panel_queries(c, viewer) -> tuple[int, str]:
    """The panel as the service's page renders it, inside a request (where the
    organisation's settings are read once for the whole page)."""
    request = RequestFactory().get("/")
    request.user = viewer
    out = {}

    def page(req):
        with CaptureQueriesContext(connection) as ctx:
            out["html"] = PANEL.render(Context({"request": req, "service": c.service}))
        out["queries"] = len(ctx.captured_queries)
        return HttpResponse(out["html"])
    OrganisationPerRequest(page)(request)
    return out["queries"], out["html"]


def test_the_service_panel_makes_the_same_few_queries_however_large_the_network(cast):
    _world(cast)
    # 1. the organisation's settings (its currency), read once per request; 2. the metrics
    # of the current contract; 3. their series; 4. their recent values; 5. (for someone
    # who is not the manager) whether the viewer is in the service's team
    small = (_panel_queries(cast, cast.manager)[0], _panel_queries(cast, cast.team_member)[0])
    _grow(cast, 2, 20)
    for i in range(6):
        measure(cast, str(80 + i), back=i + 2)
    large = (_panel_queries(cast, cast.manager), _panel_queries(cast, cast.team_member))
    assert small == (large[0][0], large[1][0])
    assert small == (4, 5)
    assert "97%" in large[0][1] and large[1][1].count('role="img"') == 1


@pytest.mark.parametrize("page", ["overview", "figure", "capital"])
def test_the_network_pages_make_the_same_queries_however_large_the_network(cast, client, page):
    _world(cast)
    url = {"overview": reverse("fitness:overview"), "figure": reverse("fitness:figure", args=["mean-outcome"]),
           "capital": reverse("fitness:capital")}[page]
    client.force_login(cast.outsider)
    client.get(url)  # the session and the organisation's settings are read once, then cached
    forget_all()  # the capital flow of the period worked out, as at its first page
    small, body = _page_queries(client, url)
    _grow(cast, 2, 20)
    large, grown = _page_queries(client, url)  # the flow is worked out again: there were writes
    assert small == large, (page, small, large)
    if page == "capital":
        # with nothing written since, the period's flow is kept: three reads fewer
        assert _page_queries(client, url)[0] == large - 3
        forget_all()
        assert _page_queries(client, url)[0] == large
    # the larger network is really on the page
    if page == "overview":
        assert "Service 19" in grown and "Service 19" not in body
    elif page == "capital":
        assert "Service 19" in grown and grown.count("fx-flow__band") > body.count("fx-flow__band")
    else:
        assert grown.count('class="fx-chart__dot"') >= 2



NETWORK_FITNESS_READS = {
    "page": "/fitness/", "page, missed targets": "/fitness/?status=missed",
    "page, discovery": "/fitness/?stage=discovery", "page, late series": "/fitness/?status=stale",
    "API list": "/api/v1/fitness", "API list, missed targets": "/api/v1/fitness?status=missed",
    "the executive's dashboard": "/dashboard/",
}


@pytest.mark.parametrize("read", list(NETWORK_FITNESS_READS))
def test_the_network_fitness_page_api_list_and_dashboard_counts_make_the_same_queries_at_any_size(cast, client, read):
    """Counts by status, the page's rows and the executive's missed targets and late series
    read the series' indexes: as many queries for twenty services as for two."""
    from osom.core.actions import issue_api_token

    _world(cast)
    url = NETWORK_FITNESS_READS[read]
    if url.startswith("/api/"):
        _token, raw = issue_api_token(actor=cast.executive, person=cast.executive, label="Counting", days=1)
        headers = {"Authorization": f"Bearer {raw}"}
    else:
        client.force_login(cast.executive)
        headers = {}

    def read_it() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.content[:300])
        return len(ctx.captured_queries), response.content.decode()

    read_it()  # the session and the organisation's settings are read once, then cached
    small, body = read_it()
    _grow(cast, 2, 20)
    large, grown = read_it()
    assert small == large, (read, small, large)
    # the larger network is really read (the values recorded are a month old: none is late yet)
    if "dashboard" in read:
        missed = [int(re.search(r"<strong>(\d+)</strong> missed target", page).group(1)) for page in (body, grown)]
        assert missed == [2, 8], missed  # the services whose latest value, 91 + i % 10, falls short of 95
    elif "late series" not in read:
        assert "Service 12" in grown and "Service 12" not in body
