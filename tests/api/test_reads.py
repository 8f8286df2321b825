"""Reading the network and the organisation through the API: lists with their filters
and pages, a service in full, versions and their differences, people, the audit log."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.network import actions
from osom.network.models import ProfessionalRole, Service

from .. import factories
from .conftest import ApiClient, token_for

P = "/services/parking-permits"


@pytest.fixture
def reader(cast, api_as) -> ApiClient:
    return api_as("outsider")


def _slugs(response) -> list[str]:
    return [row["slug"] for row in response.json()["items"]]


# ---------------------------------------------------------------- the services list


def test_the_list_shows_each_service_with_its_links(cast, reader):
    body = reader.get("/services").json()
    assert body["count"] == 2 and set(body) == {"items", "count", "next_cursor"}
    rows = {row["slug"]: row for row in body["items"]}
    assert rows["parking-permits"]["consumes_count"] == 1 and rows["identity"]["consumed_by_count"] == 1
    assert rows["parking-permits"]["needs_count"] == 1
    assert rows["parking-permits"]["manager"] == {"id": cast.manager.pk, "name": "Max Manager", "email": "max@example.org"}


def test_the_list_pages_with_limit_and_offset(cast, reader):
    for i in range(5):
        factories.service(cast.executive, f"Service {i}")
    first = reader.get("/services", limit=3)
    second = reader.get("/services", limit=3, offset=3)
    assert first.json()["count"] == second.json()["count"] == 7
    assert len(first.json()["items"]) == 3 and len(second.json()["items"]) == 3
    assert not set(_slugs(first)) & set(_slugs(second))
    assert reader.get("/services", offset=7).json() == {"items": [], "count": 7, "next_cursor": None}


@pytest.mark.parametrize("params, field", [({"limit": 501}, "limit"), ({"limit": 0}, "limit"),
                                           ({"offset": -1}, "offset"), ({"stage": "ancient"}, "stage")])
def test_the_list_refuses_a_page_or_filter_out_of_range(cast, reader, params, field):
    response = reader.get("/services", **params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_the_list_filters_by_words_stages_manager_and_users(cast, reader):
    factories.service(cast.executive, "Payroll", stage="live", evolution_stage="commodity", user_type="internal",
                      manager=cast.manager)
    factories.service(cast.executive, "Libraries", user_type="both")
    assert _slugs(reader.get("/services", q="PARK")) == ["parking-permits"]
    assert _slugs(reader.get("/services", stage="live")) == ["payroll"]
    assert _slugs(reader.get("/services", evolution="product")) == ["identity"]
    assert _slugs(reader.get("/services", manager=cast.manager.pk)) == ["parking-permits", "payroll"]
    assert _slugs(reader.get("/services", manager=cast.other_manager.email)) == ["identity"]
    assert _slugs(reader.get("/services", manager="none")) == ["libraries"]
    assert _slugs(reader.get("/services", users="internal")) == ["identity", "libraries", "payroll"]
    assert _slugs(reader.get("/services", users="both")) == ["libraries"]
    assert reader.get("/services", stage="live", q="park").json() == {"items": [], "count": 0, "next_cursor": None}


def _list_queries(client: ApiClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, limit=500)
    assert response.status_code == 200
    return len(queries)


def test_the_lists_make_as_many_queries_for_200_services_as_for_10(cast):
    client = ApiClient(token_for(cast.executive))
    previous = "identity"
    for i in range(8):
        previous = factories.service(cast.executive, f"Small {i:03}", manager=cast.manager,
                                     dependencies=[previous]).slug
    lists = ("/services", "/people", "/audit")
    small = {path: _list_queries(client, path) for path in lists}
    for i in range(190):
        previous = factories.service(cast.executive, f"Large {i:03}", manager=cast.other_manager,
                                     dependencies=[previous]).slug
    assert Service.objects.count() == 200
    large = {path: _list_queries(client, path) for path in lists}
    assert large == small
    # /services: the token and its person; the page of rows with their manager and
    # counts (one query, correlated subqueries); the count of matching rows.
    assert small["/services"] == 3
    # /people: the token; the page; the services each person manages; the count.
    assert small["/people"] == 4


# ---------------------------------------------------------------- a service, its versions, their diff


def _queries(client: ApiClient, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def test_a_service_and_its_version_read_in_as_many_queries_however_many_links_and_needs(cast):
    client = ApiClient(token_for(cast.executive))
    paths = ("/services/identity", "/services/identity/versions/1", "/services/identity/diff")
    few = {path: _queries(client, path) for path in paths}
    for i in range(12):
        factories.service(cast.executive, f"Consumer {i}", dependencies=["identity"])
    for person in (cast.team_member, cast.outsider, cast.manager):
        actions.add_team_member(actor=cast.other_manager, service=cast.other_service, person=person,
                                role=ProfessionalRole.objects.get(name="Data engineer"), level="senior")
    actions.alter_contract(actor=cast.executive, service=cast.other_service, reason="More needs", risk="None",
                           content=factories.contract("Identity", needs=6, user_type="internal", evolution_stage="product"))
    actions.appoint_manager(actor=cast.executive, service=cast.other_service, person=cast.outsider, reason="Rotation")
    many = {path: _queries(client, path.replace("/1", "/2")) for path in paths}
    assert many == few




def test_a_service_shows_its_contract_links_people_and_history(cast, reader):
    body = reader.get(P).json()
    contract = body["current_contract"]
    assert contract["number"] == 1 and contract["status"] == "approved"
    assert contract["needs"][0]["metrics"] == ["m1"]
    assert contract["metrics"][0] | {"target": "95"} == contract["metrics"][0]
    assert body["consumes"] == [{"provider": "identity", "provider_name": "Identity", "note": ""}]
    assert body["manager"]["email"] == "max@example.org"
    assert [a["person"]["email"] for a in body["appointments"]] == ["max@example.org"]
    assert body["team"][0]["person"]["email"] == "tia@example.org"
    assert body["team"][0]["role"]["name"] == "User researcher" and body["team"][0]["level"] == "senior"
    assert [v["number"] for v in body["versions"]] == [1] and body["open_draft"] is None
    identity = reader.get("/services/identity").json()
    assert identity["consumed_by"] == [{"consumer": "parking-permits", "consumer_name": "Parking permits", "note": ""}]


@pytest.mark.parametrize("sent, shown", [(99.995, "99.995"), ("100", "100"), ("0.5000", "0.5"), (None, None)])
def test_a_metric_target_is_answered_as_an_exact_decimal_string(cast, api_as, sent, shown):
    content = factories.contract("Payments")
    content["metrics"][0]["target"] = sent
    created = api_as("executive").post("/services", content)
    assert created.status_code == 201, created.content
    assert created.json()["current_contract"]["metrics"][0]["target"] == shown


def test_versions_are_listed_newest_first_and_read_one_by_one(cast, reader):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service, change_note="Two needs")
    versions = reader.get(f"{P}/versions").json()
    assert versions["count"] == 2 and [v["number"] for v in versions["items"]] == [2, 1]
    one = reader.get(f"{P}/versions/{draft.number}").json()
    assert one["status"] == "draft" and one["change_note"] == "Two needs" and one["revision"] == draft.revision
    assert reader.get(P).json()["open_draft"] == draft.number


def test_a_version_read_back_can_be_sent_back_as_a_draft(cast, api_as):
    client = api_as("manager")
    draft = client.post(f"{P}/drafts").json()
    draft["needs"].append({"as_a": "visitor", "i_need": "a day permit", "so_that": "I can park", "metrics": ["m1"]})
    edited = client.put(f"{P}/versions/{draft['number']}", {**draft, "expected_revision": draft["revision"]})
    assert edited.status_code == 200, edited.content
    assert len(edited.json()["needs"]) == 2 and edited.json()["revision"] == draft["revision"] + 1


def test_the_diff_names_what_changed_between_two_versions(cast, reader):
    content = factories.contract("Parking permits", needs=2)
    content["purpose"] = "Parking permits for residents and visitors."
    content["metrics"][0]["target"] = "97.5"
    actions.alter_contract(actor=cast.executive, service=cast.service, content=content, reason="Visitors", risk="Low")
    diff = reader.get(f"{P}/diff", **{"from": 1, "to": 2}).json()
    assert diff["from_version"] == 1 and diff["to_version"] == 2 and diff["changed"]
    assert [(f["key"], f["after"]) for f in diff["fields"]] == [("purpose", "Parking permits for residents and visitors.")]
    assert [n["key"] for n in diff["needs"]["added"]] == ["parking-permits-need-2"]
    assert ("m1", "95", "97.5") in [(m["key"], m["before"], m["after"]) for m in diff["metrics"]["changed"]]
    assert [m["key"] for m in diff["metrics"]["added"]] == ["m2"]
    assert diff["dependencies"]["removed"] == [{"provider": "identity", "note": ""}]
    assert reader.get(f"{P}/diff").json()["from_version"] == 1  # the newest against the one before, by default


# ---------------------------------------------------------------- people, audit, organisation, roles


def test_people_are_listed_with_the_services_they_manage(cast, reader):
    body = reader.get("/people", limit=2).json()
    assert body["count"] == 6 and len(body["items"]) == 2
    everyone = {p["email"]: p for p in reader.get("/people").json()["items"]}
    assert [s["slug"] for s in everyone["max@example.org"]["manages"]] == ["parking-permits"]
    assert everyone["bea@example.org"]["areas_of_interest"] == ["finance", "risk"]
    assert [p["email"] for p in reader.get("/people", role="executive_team").json()["items"]] == ["bea@example.org"]
    assert reader.get("/people", q="tia").json()["count"] == 1


def test_a_person_shows_their_teams(cast, reader):
    body = reader.get(f"/people/{cast.team_member.pk}").json()
    assert [(m["service"]["slug"], m["role"]["name"]) for m in body["memberships"]] == [("parking-permits", "User researcher")]
    assert reader.get("/people/9999").status_code == 404


def test_the_audit_log_filters_by_service_person_and_verb(cast, reader):
    everything = reader.get("/audit", limit=500).json()
    assert everything["count"] == len(everything["items"]) > 0
    by_service = reader.get("/audit", service="parking-permits").json()["items"]
    assert by_service and all(e["service"]["slug"] == "parking-permits" for e in by_service)
    by_person = reader.get("/audit", person=cast.manager.pk).json()["items"]
    assert [e["verb"] for e in by_person] == ["add_team_member"]
    established = reader.get("/audit", verb="establish_service").json()
    assert established["count"] == 2 and all(e["actor"]["id"] == cast.executive.pk for e in established["items"])


def test_the_organisation_shows_its_own_names(cast, api_as):
    body = api_as("outsider").get("/organisation").json()
    assert body["executive_name"] == "Executive"
    changed = api_as("executive").put("/organisation", {"executive_name": "Board", "expected_revision": body["revision"]})
    assert changed.json()["executive_name"] == "Board" and changed.json()["model_name"] == body["model_name"]


def test_the_professional_roles_are_listed(cast, reader):
    body = reader.get("/roles", limit=500).json()
    assert body["count"] == len(body["items"]) and "User researcher" in {r["name"] for r in body["items"]}


def test_adding_a_dependency_reports_the_cycle_it_closes(cast, api_as):
    body = api_as("other_manager").post("/services/identity/dependencies", {"provider": "parking-permits"}).json()
    assert body["cycle"] == ["Identity", "Parking permits", "Identity"]
    assert body["provider"] == "parking-permits" and body["version"] == 2
    assert api_as("outsider").get(f"/services/identity/versions/{body['version']}").json()["cycle"] == body["cycle"]
