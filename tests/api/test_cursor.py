"""Paging by cursor: a walk gives every row once and in order, even while rows are added
before the cursor; a cursor is refused (422, naming it) when tampered with, made up, or
taken to another list or other filters; NULLs order the same on SQLite and PostgreSQL;
a cursor page costs as many queries for a large list as for a small one."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.api.paging import page_queryset
from osom.api.schemas import PageQuery
from osom.network.models import Service

from .. import factories
from ..lifecycle.helpers import published, scheduled
from .conftest import ApiClient, token_for


@pytest.fixture
def reader(cast, api_as) -> ApiClient:
    return api_as("outsider")


def _walk(client: ApiClient, path: str, limit: int, **params: Any) -> list[dict]:
    """Every row of a list, page by page, following next_cursor until it is null."""
    rows: list[dict] = []
    body = client.get(path, limit=limit, **params).json()
    for _ in range(1000):
        rows += body["items"]
        if body["next_cursor"] is None:
            return rows
        assert len(body["items"]) == limit
        body = client.get(path, limit=limit, cursor=body["next_cursor"], **params).json()
    raise AssertionError("the walk never ended")


def _services(cast, n: int, prefix: str = "Service") -> None:
    for i in range(n):
        factories.service(cast.executive, f"{prefix} {i:02}", manager=cast.manager if i % 3 else None)


def test_a_walk_by_cursor_gives_every_row_once_in_the_lists_order(cast, reader):
    _services(cast, 7)
    everything = [s["slug"] for s in reader.get("/services", limit=500).json()["items"]]
    assert len(everything) == 9
    for limit in (1, 2, 4, 9, 10):
        assert [s["slug"] for s in _walk(reader, "/services", limit)] == everything, limit


def test_the_last_page_has_no_next_cursor_and_the_others_have_one(cast, reader):
    _services(cast, 2)
    first = reader.get("/services", limit=2).json()
    assert first["count"] == 4 and isinstance(first["next_cursor"], str)
    last = reader.get("/services", limit=2, cursor=first["next_cursor"]).json()
    assert len(last["items"]) == 2 and last["next_cursor"] is None and last["count"] == 4
    # an offset page says where to go on by cursor too
    middle = reader.get("/services", limit=1, offset=1).json()
    after = reader.get("/services", limit=1, cursor=middle["next_cursor"]).json()
    assert after["items"] == reader.get("/services", limit=1, offset=2).json()["items"]


def test_rows_added_before_the_cursor_between_pages_are_neither_repeated_nor_skipping_others(cast, reader):
    _services(cast, 6, prefix="Middle")
    before = [s["slug"] for s in reader.get("/services", limit=500).json()["items"]]
    page = reader.get("/services", limit=3).json()
    seen = [s["slug"] for s in page["items"]]
    # new services sorting before every row already read: an offset would show a row again
    factories.service(cast.executive, "Aardvark registry")
    factories.service(cast.executive, "Abacus hire")
    while page["next_cursor"]:
        page = reader.get("/services", limit=3, cursor=page["next_cursor"]).json()
        seen += [s["slug"] for s in page["items"]]
    assert seen == before
    assert len(seen) == len(set(seen))


def test_an_assessments_walk_by_cursor_matches_the_list_newest_first(cast, reader):
    for i in range(3):
        service = factories.service(cast.executive, f"Assessed {i}", manager=cast.manager)
        published(cast, service, outcome="more_research")
        scheduled(cast, service)
    everything = [a["id"] for a in reader.get("/assessments", limit=500).json()["items"]]
    assert len(everything) == 6
    days = [a["day"] for a in reader.get("/assessments", limit=500).json()["items"]]
    assert days == sorted(days, reverse=True)
    assert [a["id"] for a in _walk(reader, "/assessments", 4)] == everything
    assert [a["id"] for a in _walk(reader, "/assessments", 1, status="published")] == [
        a["id"] for a in reader.get("/assessments", limit=500, status="published").json()["items"]]


def test_lists_computed_in_python_walk_by_cursor_too(cast, reader):
    everything = [m["key"] for m in reader.get("/standard-measures").json()["items"]]
    assert len(everything) >= 2
    assert [m["key"] for m in _walk(reader, "/standard-measures", 1)] == everything


def _refusal(response) -> dict:
    assert response.status_code == 422, response.content
    return response.json()


def test_a_tampered_or_made_up_cursor_is_refused_naming_it(cast, reader):
    _services(cast, 3)
    cursor = reader.get("/services", limit=2).json()["next_cursor"]
    head, _, signature = cursor.rpartition(".")
    flipped = head[:-1] + ("A" if head[-1] != "A" else "B") + "." + signature
    for bad in (flipped, cursor + "x", "garbage", "a.b", "....", "%00", "x" * 3000):
        body = _refusal(reader.get("/services", limit=2, cursor=bad))
        assert body["field"] == "cursor", bad
        assert body["message"].startswith("cursor: ")


def test_a_cursor_of_another_list_or_other_filters_is_refused(cast, reader):
    _services(cast, 4)
    cursor = reader.get("/services", limit=2).json()["next_cursor"]
    assert _refusal(reader.get("/people", limit=2, cursor=cursor))["field"] == "cursor"
    assert _refusal(reader.get("/services", limit=2, cursor=cursor, q="service"))["field"] == "cursor"
    filtered = reader.get("/services", limit=1, q="service").json()["next_cursor"]
    assert _refusal(reader.get("/services", limit=1, cursor=filtered))["field"] == "cursor"
    assert reader.get("/services", limit=1, cursor=filtered, q="service").status_code == 200
    # the versions of one service are another list than those of the next
    from osom.network.actions import draft_contract_version

    for service in (cast.service, cast.other_service):
        draft_contract_version(actor=service.manager, service=service, change_note="A second version")
    versions = reader.get("/services/parking-permits/versions", limit=1).json()
    assert versions["next_cursor"] is not None
    assert reader.get("/services/parking-permits/versions", limit=1,
                      cursor=versions["next_cursor"]).status_code == 200
    assert _refusal(reader.get("/services/identity/versions", limit=1,
                               cursor=versions["next_cursor"]))["field"] == "cursor"


def test_a_cursor_and_an_offset_together_are_refused(cast, reader):
    _services(cast, 3)
    cursor = reader.get("/services", limit=2).json()["next_cursor"]
    body = _refusal(reader.get("/services", limit=2, cursor=cursor, offset=2))
    assert body["field"] == "offset" and "cursor" in body["message"]
    body = _refusal(reader.get("/standard-measures", limit=1, cursor=cursor, offset=0))
    assert body["field"] == "offset"


@pytest.mark.parametrize("order", ["manager__name", "-manager__name"])
def test_keys_that_can_be_null_order_nulls_last_on_every_database(cast, order):
    """Services without a manager have no manager name: they come last both ways, and a
    walk over them by cursor (ties broken by id) gives each once."""
    _services(cast, 8)
    qs = Service.objects.select_related("manager").order_by(order)
    expected = sorted((s for s in qs), key=lambda s: (s.manager is None, s.manager.name if s.manager else "", s.pk))
    if order.startswith("-"):
        named = [s for s in expected if s.manager]
        named.sort(key=lambda s: s.pk)
        named.sort(key=lambda s: s.manager.name, reverse=True)
        expected = named + [s for s in expected if not s.manager]
    offset_rows = page_queryset(qs, PageQuery(limit=500))["items"]
    assert [s.pk for s in offset_rows] == [s.pk for s in expected]
    walked, cursor = [], None
    while True:
        query = PageQuery(limit=3, cursor=cursor) if cursor else PageQuery(limit=3)
        result = page_queryset(qs, query)
        walked += result["items"]
        cursor = result["next_cursor"]
        if cursor is None:
            break
    assert [s.pk for s in walked] == [s.pk for s in expected]
    assert any(s.manager is None for s in walked) and any(s.manager for s in walked)


def test_a_list_ordered_by_an_expression_with_nulls_walks_by_cursor(cast, api_as):
    """The guidance list orders by publication (drafts, never published, last), then by creation."""
    from osom.governance import actions as governance

    client = api_as("executive")
    for i in range(5):
        guidance = governance.draft_guidance(actor=cast.executive, title=f"Guidance {i}", body="Do it well.",
                                             source="practice", category="technology")
        if i % 2:
            governance.publish_guidance(actor=cast.executive, guidance=guidance)
    everything = [g["id"] for g in client.get("/guidance", limit=500).json()["items"]]
    assert len(everything) == 5
    assert [g["id"] for g in _walk(client, "/guidance", 2)] == everything


def _queries(client: ApiClient, path: str, **params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


def test_a_page_by_cursor_costs_as_many_queries_for_30_services_as_for_6(cast):
    client = ApiClient(token_for(cast.executive))
    _services(cast, 4, prefix="Small")
    for i in range(3):
        published(cast, factories.service(cast.executive, f"First {i}", manager=cast.manager), outcome="more_research")
    lists = ("/services", "/audit", "/assessments")
    small = {}
    for path in lists:
        cursor = client.get(path, limit=2).json()["next_cursor"]
        assert cursor, path
        small[path], _ = _queries(client, path, limit=2, cursor=cursor)
    _services(cast, 24, prefix="Large")
    for i in range(3):
        published(cast, factories.service(cast.executive, f"Reported {i}", manager=cast.manager),
                  outcome="more_research")
    for path in lists:
        cursor = client.get(path, limit=2).json()["next_cursor"]
        count, body = _queries(client, path, limit=2, cursor=cursor)
        assert count == small[path], path
        assert body["items"], path



def test_the_openapi_document_describes_cursor_and_next_cursor_on_every_list(db):
    from django.test import Client

    from .conftest import API

    spec = Client().get(f"{API}/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    paged = 0
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        names = {p["name"]: p for p in operation.get("parameters", [])}
        if "limit" not in names or "offset" not in names:
            continue
        paged += 1
        assert "cursor" in names and "next_cursor" in names["cursor"]["description"], path
        assert "cursor" in names["offset"]["description"], path
        answer = resolve(operation["responses"]["200"]["content"]["application/json"]["schema"])
        pages = [answer] + [resolve(p) for p in answer["properties"].values()
                            if "next_cursor" in resolve(p).get("properties", {})]
        assert any("next_cursor" in p["properties"] and "next_cursor" in p.get("required", []) for p in pages), path
    assert paged >= 30


def test_the_stored_listing_day_follows_the_schedule_then_the_report(cast):
    """The assessments list orders by a stored day: the day scheduled, moved when the
    assessment is moved, then the report's day (in the organisation's time zone) once published."""
    import datetime as dt

    from django.utils import timezone

    from osom.lifecycle import actions as lifecycle
    from osom.lifecycle.models import Assessment

    from ..lifecycle.helpers import SOON, decided

    coming = scheduled(cast, cast.other_service)
    assert Assessment.objects.get(pk=coming.pk).listed_on == SOON
    later = SOON + dt.timedelta(days=9)
    lifecycle.edit_assessment(actor=cast.executive, assessment=coming, scheduled_for=later,
                              assessors=[cast.executive], criteria=None)
    assert Assessment.objects.get(pk=coming.pk).listed_on == later
    report = lifecycle.publish_assessment_report(
        actor=cast.executive, assessment=decided(cast, cast.service, outcome="more_research"))
    stored = Assessment.objects.get(pk=report.pk)
    assert stored.listed_on == timezone.localdate(stored.published_at) != stored.scheduled_for


@pytest.mark.parametrize("order", ["manager", "-manager"])
def test_a_list_ordered_by_a_relation_walks_in_the_related_models_order(cast, order):
    """Ordered by a relation, the database orders by the related model's own ordering (a
    manager by name), not by the related row's id: the walk by cursor follows the same
    order as the whole list, every row once. The managers are made so that the order of
    their names is not the order of their ids."""
    from osom.core.actions import create_person

    managers = [create_person(actor=cast.executive, email=f"m{i}@example.org", name=name, password=None)
                for i, name in enumerate(["Zoe Last", "Abe First", "Mia Middle"])]
    for i in range(9):
        factories.service(cast.executive, f"Related {i:02}", manager=managers[i % 3])
    qs = Service.objects.filter(name__startswith="Related").order_by(order)
    whole = [s.pk for s in page_queryset(qs, PageQuery(limit=500))["items"]]
    # by the manager's name, as the database orders the list, ties broken by id
    expected = sorted(qs, key=lambda s: s.pk)
    expected.sort(key=lambda s: s.manager.name, reverse=order.startswith("-"))
    assert whole == [s.pk for s in expected]
    assert [s.manager.name for s in qs] == [s.manager.name for s in expected]
    walked, cursor = [], None
    while True:
        result = page_queryset(qs, PageQuery(limit=2, cursor=cursor) if cursor else PageQuery(limit=2))
        walked += [s.pk for s in result["items"]]
        cursor = result["next_cursor"]
        if cursor is None:
            break
    assert walked == whole


def test_a_list_counting_what_is_overdue_today_pages_on_by_cursor_after_midnight(cast, reader, monkeypatch):
    """The CoE list counts each CoE's overdue actions against today: the day is in its SQL,
    but a cursor given before midnight still pages on after it."""
    import datetime as dt

    from django.utils import timezone

    from ..learning.test_permissions import published_coe

    for n in range(3):
        published_coe(cast, title=f"Outage number {n}")
    first = reader.get("/coes", limit=2).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    today = timezone.localdate()
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: today + dt.timedelta(days=1))
    after = reader.get("/coes", limit=2, cursor=first["next_cursor"])
    assert after.status_code == 200, after.json()
    titles = [c["title"] for c in first["items"] + after.json()["items"]]
    assert sorted(titles) == [f"Outage number {n}" for n in range(3)]
    # the filters still count: the same cursor with another filter is refused
    assert _refusal(reader.get("/coes", limit=2, cursor=first["next_cursor"], q="outage"))["field"] == "cursor"
