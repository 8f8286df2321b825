"""A service's consumers at scale: its page counts them and names the first by name, a
page of their own lists them all a page at a time, and neither reads more as they grow."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.network import queries
from osom.network.models import Service

from .. import factories


def _grow(executive, names: list[str], provider: Service) -> None:
    for name in names:
        factories.service(executive, name, dependencies=[provider.slug])


def _get(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_the_service_page_names_the_first_consumers_by_name_and_links_to_all(cast, client):
    hub = cast.other_service  # Parking permits consumes it already
    _grow(cast.executive, [f"Consumer {i:02d}" for i in range(25, 0, -1)], hub)  # made in reverse order
    client.force_login(cast.outsider)
    response, _ = _get(client, reverse("network:service", args=[hub.slug]))
    shown = [row["name"] for row in response.context["consumers"]]
    assert shown == [f"Consumer {i:02d}" for i in range(1, 21)], "the first twenty by name"
    assert response.context["consumers_total"] == 26 and response.context["consumers_more"] == 6
    body = response.content.decode()
    assert "Consumed by <span class=\"muted small\">(26)</span>" in body
    assert "Consumer 20" in body and "Consumer 21" not in body and "Parking permits</a>" not in body
    assert f'href="{reverse("network:consumers", args=[hub.slug])}">See all 26 consumers' in body


def test_a_service_with_few_consumers_lists_them_all_without_a_link(cast, client):
    client.force_login(cast.outsider)
    response, _ = _get(client, reverse("network:service", args=[cast.other_service.slug]))
    assert [row["name"] for row in response.context["consumers"]] == ["Parking permits"]
    assert response.context["consumers_total"] == 1 and response.context["consumers_more"] == 0
    assert "See all" not in response.content.decode()
    response, _ = _get(client, reverse("network:service", args=[cast.service.slug]))
    assert response.context["consumers_total"] == 0
    assert "No service consumes it." in response.content.decode()


def test_the_consumers_page_lists_every_consumer_by_name_a_page_at_a_time(cast, client, settings):
    settings.PAGE_SIZE = 10
    hub = cast.other_service
    _grow(cast.executive, [f"Consumer {i:02d}" for i in range(1, 15)], hub)
    client.force_login(cast.outsider)
    url = reverse("network:consumers", args=[hub.slug])
    first, _ = _get(client, url)
    second, _ = _get(client, url, page=2)
    names = [row["name"] for row in first.context["page"].object_list] + \
            [row["name"] for row in second.context["page"].object_list]
    assert names == sorted([f"Consumer {i:02d}" for i in range(1, 15)] + ["Parking permits"])
    assert first.context["page"].paginator.count == 15
    body = first.content.decode()
    assert "15 services consume it" in body and "page 1 of 2" in body and 'rel="next"' in body
    assert first.context["page"].object_list[0]["lifecycle_label"] == "Discovery"


def test_a_consumer_drafting_away_is_still_listed_until_approved(cast, client):
    from osom.network import actions

    actions.remove_dependency(actor=cast.manager, service=cast.service, provider=cast.other_service)
    client.force_login(cast.outsider)
    response, _ = _get(client, reverse("network:consumers", args=[cast.other_service.slug]))
    assert [row["name"] for row in response.context["page"].object_list] == ["Parking permits"]


def test_an_unknown_service_has_no_consumers_page(cast, client):
    client.force_login(cast.outsider)
    assert client.get(reverse("network:consumers", args=["no-such-service"])).status_code == 404


def test_neither_page_reads_more_as_the_consumers_grow(cast, client, settings):
    settings.PAGE_SIZE = 10
    hub = cast.other_service
    client.force_login(cast.outsider)
    pages = [reverse("network:service", args=[hub.slug]), reverse("network:consumers", args=[hub.slug])]
    _grow(cast.executive, [f"Early {i:02d}" for i in range(3)], hub)
    small = [_get(client, url)[1] for url in pages]
    _grow(cast.executive, [f"Later {i:02d}" for i in range(40)], hub)
    large = [_get(client, url)[1] for url in pages]
    assert large == small
    assert queries.consumer_rows(hub).count() == 44


def test_a_cycle_below_the_service_is_found_from_its_part_of_the_network_only(cast, client):
    """Parking permits → Identity; Identity coming to consume Parking permits closes a cycle,
    found from the services below each, and the page names it."""
    from osom.network import actions

    draft = actions.add_dependency(actor=cast.executive, service=cast.other_service, provider=cast.service)
    assert queries.cycle_through(cast.other_service, draft=draft.version) == ["Identity", "Parking permits", "Identity"]
    assert queries.cycle_through(cast.other_service) == [], "only drafted so far"
    actions.approve_contract_version(actor=cast.executive, version=actions.submit_contract_version(
        actor=cast.other_manager, version=draft.version))
    assert queries.cycle_through(cast.service) == ["Parking permits", "Identity", "Parking permits"]
    client.force_login(cast.outsider)
    body = client.get(reverse("network:service", args=[cast.service.slug])).content.decode()
    assert "Parking permits → Identity → Parking permits" in body
