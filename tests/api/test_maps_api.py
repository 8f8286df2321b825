"""The maps API (model 5.4) on data made through the actions: a service's Wardley map kept
as the text its people wrote, its versions and its drawing; drawing text without saving
it; the network map generated from the contracts; and the dependency graph seen from one
service or as a whole. Saving is allowed to the service's manager and team, with one
audit event, and refused to the others (403, nothing written); a save over someone
else's newer version is refused (409)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.core.models import AuditEvent
from osom.maps.actions import save_service_map
from osom.maps.models import MapVersion
from osom.network import actions as network
from osom.network.models import ContractVersion, Service

from .. import factories
from .conftest import ApiClient, token_for

MAP = """title Parking permits
anchor Residents [0.95, 0.5]
component Parking permits [0.7, 0.35]
component Identity [0.4, 0.7]
Residents->Parking permits
Parking permits->Identity
colour(#ff0000) Identity
"""


@pytest.fixture
def api_as(api_as):
    """Every person's token issued up front, so that a later call writes nothing of its own."""
    for role in ("executive", "exec_team", "manager", "other_manager", "team_member", "outsider"):
        api_as(role)
    return api_as


def map_rows() -> dict[str, list]:
    return {"audit": list(AuditEvent.objects.values_list("pk", flat=True)),
            "maps": list(MapVersion.objects.order_by("pk").values())}


def refused(response, status: int, before: dict, field: str | None = None) -> dict:
    assert response.status_code == status, response.content.decode()[:600]
    body = response.json()
    assert body["message"].strip()
    if field is not None:
        assert body["field"] == field, body
    assert map_rows() == before
    return body


def saved(cast, text: str = MAP, actor=None, note: str = "") -> MapVersion:
    return save_service_map(actor=actor or cast.manager, service=cast.service, text=text, note=note)


def make_cycle(cast) -> None:
    """Identity comes to consume Parking permits, which consumes Identity."""
    network.add_dependency(actor=cast.executive, service=cast.other_service, provider=cast.service)
    draft = ContractVersion.objects.get(service=cast.other_service, status="draft")
    network.submit_contract_version(actor=cast.other_manager, version=draft)
    network.approve_contract_version(actor=cast.executive, version=ContractVersion.objects.get(pk=draft.pk))


# ---------------------------------------------------------------- a service's map


def test_a_service_without_a_map_answers_version_zero(cast, api_as):
    body = api_as("outsider").get("/services/parking-permits/map").json()
    assert body == {"service": {"slug": "parking-permits", "name": "Parking permits", "lifecycle_stage": "discovery"},
                    "number": 0, "text": "", "note": "", "saved_by": None, "saved_at": None, "warnings": []}
    assert api_as("outsider").get("/services/parking-permits/map/versions").json() == {"items": [], "count": 0, "next_cursor": None}
    assert api_as("outsider").get("/services/parking-permits/map.svg").status_code == 404
    assert api_as("outsider").get("/services/nowhere/map").status_code == 404


def test_a_team_member_saves_the_map_and_its_warnings_name_their_lines(cast, api_as):
    last = AuditEvent.objects.latest("pk").pk
    response = api_as("team_member").put("/services/parking-permits/map",
                                         {"text": MAP, "note": "First map", "expected_number": 0})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["number"], body["text"], body["note"], body["saved_by"]["email"]) == (1, MAP, "First map",
                                                                                      cast.team_member.email)
    assert [w["line"] for w in body["warnings"]] == [7]
    assert [(e.verb, e.actor) for e in AuditEvent.objects.filter(pk__gt=last)] == [("save_service_map", cast.team_member)]
    assert api_as("outsider").get("/services/parking-permits/map").json() == body
    second = api_as("manager").put("/services/parking-permits/map", {"text": MAP.replace("0.35", "0.45"),
                                                                     "expected_number": 1})
    assert second.json()["number"] == 2
    versions = api_as("outsider").get("/services/parking-permits/map/versions").json()
    assert [(v["number"], v["warnings"], v["saved_by"]["email"]) for v in versions["items"]] == [
        (2, 1, cast.manager.email), (1, 1, cast.team_member.email)]
    first = api_as("outsider").get("/services/parking-permits/map/versions/1").json()
    assert (first["number"], first["text"], first["note"]) == (1, MAP, "First map")
    assert api_as("outsider").get("/services/parking-permits/map/versions/9").status_code == 404


def test_a_save_over_a_newer_version_is_refused(cast, api_as):
    saved(cast, actor=cast.team_member)
    before = map_rows()
    body = refused(api_as("manager").put("/services/parking-permits/map", {"text": MAP + "note Later [0.1, 0.1]\n",
                                                                           "expected_number": 0}), 409, before, "text")
    assert body["error"] == "conflict" and "version 1" in body["message"]


@pytest.mark.parametrize("role", ["outsider", "other_manager", "executive", "exec_team"])
def test_only_the_services_people_save_its_map(cast, api_as, role):
    before = map_rows()
    body = refused(api_as(role).put("/services/parking-permits/map", {"text": MAP}), 403, before)
    assert body["error"] == "forbidden" and body["message"].startswith("Only ")


@pytest.mark.parametrize("body, status, field", [
    ({"text": "   "}, 400, "text"),
    ({"text": MAP, "note": "n" * 301}, 400, "note"),
    ({"text": MAP, "expected_number": "one"}, 422, "expected_number"),
    ({"note": "No text"}, 422, "text"),
], ids=["empty", "long-note", "number-not-a-number", "no-text"])
def test_a_bad_map_is_refused_naming_the_field(cast, api_as, body, status, field):
    before = map_rows()
    refused(api_as("manager").put("/services/parking-permits/map", body), status, before, field)


def test_the_map_is_drawn_as_svg_that_can_run_nothing(cast, api_as):
    saved(cast)
    saved(cast, MAP.replace("title Parking permits", "title Parking permits, revised"))
    response = api_as("outsider").get("/services/parking-permits/map.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in response["Content-Security-Policy"]
    svg = response.content.decode()
    assert "<svg" in svg and "Parking permits, revised" in svg and "Identity" in svg
    first = api_as("outsider").get("/services/parking-permits/map.svg", number=1).content.decode()
    assert "revised" not in first and "Parking permits" in first


def test_text_is_drawn_without_saving_for_anyone_signed_in(cast, api_as):
    before = map_rows()
    response = api_as("outsider").post("/maps/render", {"text": MAP})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["svg"].lstrip().startswith(("<svg", "<?xml")) and "Residents" in body["svg"]
    assert [w["line"] for w in body["warnings"]] == [7] and body["warnings"][0]["message"]
    assert map_rows() == before
    refused(api_as("outsider").post("/maps/render", {"text": "x" * 200_001}), 400, before, "text")
    assert ApiClient(None).post("/maps/render", {"text": MAP}).status_code == 401


# ---------------------------------------------------------------- the network map


def test_the_network_map_is_drawn_from_the_contracts(cast, api_as):
    client = api_as("outsider")
    response = client.get("/network/map")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text.startswith("title Service network\n")
    assert "component Parking permits [" in text and "component Identity [" in text
    assert "Parking permits->Identity" in text
    drawn = client.get("/network/map", format="svg")
    assert drawn["Content-Type"] == "image/svg+xml" and b"<svg" in drawn.content
    around = client.get("/network/map", around="identity").content.decode()
    assert "Identity" in around and "Parking permits" not in around
    assert "what Identity depends on" in around
    product = client.get("/network/map", evolution="product").content.decode()
    assert "Identity" in product and "component Parking permits" not in product
    missing = client.get("/network/map", around="nowhere")
    assert missing.status_code == 404 and missing.json()["field"] == "around"
    assert client.get("/network/map", format="png").status_code == 422


# ---------------------------------------------------------------- the dependency graph


def test_a_services_neighbourhood_names_each_side(cast, api_as):
    third = factories.service(cast.executive, "Renew a permit", manager=cast.manager, dependencies=["parking-permits"])
    client = api_as("outsider")
    body = client.get("/services/parking-permits/neighbourhood").json()
    assert body["centre"]["slug"] == "parking-permits" and (body["hops"], body["truncated"]) == (1, False)
    assert {(n["service"]["slug"], n["distance"], n["relation"]) for n in body["nodes"]} == {
        ("parking-permits", 0, "centre"), ("identity", 1, "provider"), (third.slug, 1, "consumer")}
    assert sorted((e["consumer"], e["provider"]) for e in body["edges"]) == [
        ("parking-permits", "identity"), ("renew-a-permit", "parking-permits")]
    two = client.get("/services/identity/neighbourhood", hops=2).json()
    assert {n["service"]["slug"]: n["distance"] for n in two["nodes"]} == {
        "identity": 0, "parking-permits": 1, "renew-a-permit": 2}
    assert client.get("/services/identity/neighbourhood", hops=7).status_code == 422


def test_the_impact_of_a_failure_reaches_every_consumer_with_a_chain(cast, api_as):
    factories.service(cast.executive, "Renew a permit", manager=cast.manager, dependencies=["parking-permits"])
    body = api_as("outsider").get("/services/identity/impact").json()
    assert [s["slug"] for s in body["direct"]] == ["parking-permits"]
    assert [(a["service"]["slug"], a["hops"], [s["slug"] for s in a["chain"]]) for a in body["items"]] == [
        ("parking-permits", 1, ["parking-permits", "identity"]),
        ("renew-a-permit", 2, ["renew-a-permit", "parking-permits", "identity"])]
    assert (body["count"], body["deepest"], body["external_reached"]) == (2, 2, 2)
    paged = api_as("outsider").get("/services/identity/impact", limit=1, offset=1).json()
    assert [a["service"]["slug"] for a in paged["items"]] == ["renew-a-permit"] and paged["count"] == 2
    alone = api_as("outsider").get("/services/renew-a-permit/impact").json()
    assert (alone["direct"], alone["items"], alone["count"]) == ([], [], 0)


def test_the_cycles_of_the_network_are_listed(cast, api_as):
    assert api_as("outsider").get("/network/cycles").json() == {"items": [], "count": 0, "next_cursor": None, "services_in_cycles": 0}
    make_cycle(cast)
    body = api_as("outsider").get("/network/cycles").json()
    assert (body["count"], body["services_in_cycles"]) == (1, 2)
    chain = [s["slug"] for s in body["items"][0]["services"]]
    assert chain[0] == chain[-1] and set(chain) == {"identity", "parking-permits"}


# ---------------------------------------------------------------- query counts


def _queries(client: ApiClient, path: str, **params) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return len(captured), response


def _named(slug: str) -> Service:
    return Service.objects.get(slug=slug)


def _grow(cast, first: int, last: int) -> None:
    """Services ``first`` to ``last``, each consuming Parking permits (so each is affected by
    Identity failing) and each with a map; as many more versions of Parking permits' map;
    and a cycle through each pair of new services."""
    for k in range(first, last):
        service = factories.service(cast.executive, f"Service {k}", manager=cast.manager,
                                    dependencies=["parking-permits"])
        save_service_map(actor=cast.manager, service=service, text=f"component Service {k} [0.5, 0.5]\n")
        saved(cast, MAP + f"note Version {k} [0.2, 0.2]\n")
    for k in range(first, last, 2):
        network.add_dependency(actor=cast.executive, service=_named(f"service-{k}"),
                               provider=_named(f"service-{k + 1}"))
        network.add_dependency(actor=cast.executive, service=_named(f"service-{k + 1}"),
                               provider=_named(f"service-{k}"))
        for slug in (f"service-{k}", f"service-{k + 1}"):
            draft = ContractVersion.objects.get(service__slug=slug, status="draft")
            network.submit_contract_version(actor=cast.manager, version=draft)
            network.approve_contract_version(actor=cast.executive, version=ContractVersion.objects.get(pk=draft.pk))


@pytest.mark.parametrize("path, params", [
    ("/services/parking-permits/map/versions", {}), ("/services/identity/impact", {}), ("/network/cycles", {}),
    ("/network/map", {}), ("/network/map", {"format": "svg"}), ("/services/identity/neighbourhood", {"hops": 3}),
    ("/services/parking-permits/map", {}),
], ids=["versions", "impact", "cycles", "network-text", "network-svg", "neighbourhood", "map"])
def test_the_reads_make_as_many_queries_at_any_size(cast, path, params):
    client = ApiClient(token_for(cast.outsider))
    _grow(cast, 0, 2)
    small, first = _queries(client, path, **params)
    _grow(cast, 2, 6)
    large, second = _queries(client, path, **params)
    assert small == large, (small, large)
    assert second.content != first.content  # the larger network was really read
