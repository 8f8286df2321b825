"""Reading the lifecycle through the API: the criteria library, assessments and their
reports (also as Markdown), what is due, a service's timeline and budgets — with their
filters and pages, money as exact strings, and as many queries for a large network as
for a small one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from osom.lifecycle import actions
from osom.lifecycle.models import Criterion

from .. import factories
from ..lifecycle.helpers import (
    BUDGET,
    SOON,
    allocated,
    clock_at,
    decided,
    midday_today,
    on_agenda,
    published,
    scheduled,
    service_at,
)
from .conftest import ApiClient, token_for

P = "/services/parking-permits"
UNDERSTAND_USERS = "understand-users-and-their-needs"


@pytest.fixture
def reader(cast, api_as) -> ApiClient:
    return api_as("outsider")


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["items"]]


# ---------------------------------------------------------------- criteria


def test_the_criteria_library_lists_every_criterion_in_its_order(cast, reader):
    body = reader.get("/criteria", limit=500).json()
    assert body["count"] == Criterion.objects.count() == len(body["items"])
    first = body["items"][0]
    assert first["slug"] == UNDERSTAND_USERS and first["source"] == "common"
    assert first["stages"] == ["discovery", "alpha", "beta", "live"] and first["active"] is True
    sources = [c["source"] for c in body["items"]]
    assert sources.index("technical") > max(i for i, s in enumerate(sources) if s == "common")


def test_the_criteria_are_filtered_by_source_stage_and_use(cast, reader):
    added = actions.add_criterion(actor=cast.executive, name="Publish performance data", meaning="Monthly.",
                                  stages=["live"])
    technical = reader.get("/criteria", source="technical", limit=500).json()
    assert technical["count"] == 3 and {c["source"] for c in technical["items"]} == {"technical"}
    live = {c["slug"] for c in reader.get("/criteria", stage="live", limit=500).json()["items"]}
    discovery = {c["slug"] for c in reader.get("/criteria", stage="discovery", limit=500).json()["items"]}
    assert added.slug in live and added.slug not in discovery
    assert "operate-a-reliable-service" in live and "operate-a-reliable-service" not in discovery
    assert reader.get("/criteria", active=False).json()["count"] == 0
    actions.edit_criterion(actor=cast.executive, criterion=added, name=added.name, meaning=added.meaning,
                           stages=added.stages, active=False)
    assert _slugs(reader.get("/criteria", active=False)) == [added.slug]
    assert added.slug not in _slugs(reader.get("/criteria", active=True, limit=500))


def _slugs(response) -> list[str]:
    return [row["slug"] for row in response.json()["items"]]


def test_a_criterion_read_back_can_be_sent_back_changed(cast, api_as):
    client = api_as("executive")
    criterion = client.get("/criteria", limit=1).json()["items"][0]
    changed = client.put(f"/criteria/{criterion['slug']}", {
        **criterion, "link": "https://www.gov.uk/service-manual/service-standard/point-1-understand-user-needs",
        "expected_revision": criterion["revision"]})
    assert changed.status_code == 200, changed.content
    assert changed.json()["revision"] == criterion["revision"] + 1 and changed.json()["link"].startswith("https://")


# ---------------------------------------------------------------- assessments


def test_the_list_holds_reports_and_assessments_to_come_newest_first(cast, reader):
    identity_report = published(cast, cast.other_service, outcome="more_research")
    report = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    coming = scheduled(cast, cast.other_service)
    cancelled = actions.cancel_assessment(actor=cast.executive, assessment=scheduled(cast, cast.service),
                                          reason="Moved to next quarter.")
    body = reader.get("/assessments").json()
    assert body["count"] == 3
    # the one to come is newest (it is in a fortnight); the two reports are of today, the later first
    assert _ids(reader.get("/assessments")) == [coming.pk, report.pk, identity_report.pk]
    row = body["items"][1]
    assert row["service"] == {"slug": "parking-permits", "name": "Parking permits", "lifecycle_stage": "alpha"}
    assert (row["status"], row["stage"], row["kind"], row["result"], row["outcome"]) == (
        "published", "discovery", "transition", "met", "progress_to_alpha")
    assert row["outcome_label"].startswith("Progress to alpha")
    assert row["day"] == timezone.localdate().isoformat()
    assert row["manager"]["email"] == cast.manager.email
    assert [p["email"] for p in row["assessors"]] == [cast.executive.email]
    assert body["items"][0]["result"] is None and body["items"][0]["status"] == "scheduled"
    assert _ids(reader.get("/assessments", status="cancelled")) == [cancelled.pk]


def test_the_list_filters_by_service_status_result_stage_and_dates(cast, reader):
    first = published(cast, cast.service, outcome="more_research", result="not_met")  # schedules a reassessment
    reassessment = cast.service.assessments.get(status="scheduled")
    other = published(cast, cast.other_service, outcome="more_research")
    assert _ids(reader.get("/assessments", service="parking-permits")) == [reassessment.pk, first.pk]
    assert _ids(reader.get("/assessments", status="published")) == [other.pk, first.pk]
    assert _ids(reader.get("/assessments", result="not_met")) == [first.pk]
    assert _ids(reader.get("/assessments", stage="discovery", status="published")) == [other.pk, first.pk]
    assert reader.get("/assessments", stage="live").json() == {"items": [], "count": 0, "next_cursor": None}
    today = timezone.localdate()
    assert _ids(reader.get("/assessments", date_to=today.isoformat())) == [other.pk, first.pk]
    assert _ids(reader.get("/assessments", date_from=(today + dt.timedelta(days=1)).isoformat())) == [reassessment.pk]
    assert _ids(reader.get("/assessments", kind="reassessment")) == [reassessment.pk]
    page = reader.get("/assessments", limit=1, offset=1).json()
    assert page["count"] == 3 and [r["id"] for r in page["items"]] == [other.pk]


def test_an_open_assessment_shows_its_agenda_and_who_assesses(cast, reader):
    a = on_agenda(cast, cast.service, assessors=[cast.executive, cast.outsider])
    body = reader.get(f"/assessments/{a.pk}").json()
    assert body["status"] == "agenda" and body["revision"] == a.revision and body["agenda_published_at"]
    assert [p["email"] for p in body["assessors"]] == [cast.executive.email, cast.outsider.email]
    item = body["items"][0]
    assert item["criterion"]["slug"] == UNDERSTAND_USERS and item["criterion"]["name"] == "Understand users and their needs"
    assert item["criterion"]["url"] == f"http://testserver/assessments/criteria/{UNDERSTAND_USERS}/"
    assert item["decision"] is None and item["did_well"] == ""
    assert [o["key"] for o in body["outcomes"]] == ["not_required", "more_research", "progress_to_alpha"]
    assert body["contract_version"] is None and body["published_at"] is None
    assert body["manager"]["email"] == cast.manager.email  # the manager now; the report pins it
    assert body["previous_reports"] == [] and body["addenda"] == [] and body["allocations"] == []


def test_a_published_report_shows_everything_it_pins(cast, api_as, reader):
    earlier = published(cast, cast.service, outcome="more_research")
    report = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    actions.add_report_addendum(actor=cast.executive, assessment=report, text="The budget starts in April.")
    body = reader.get(f"/assessments/{report.pk}").json()
    assert (body["status"], body["result"], body["outcome"]) == ("published", "met", "progress_to_alpha")
    assert body["summary"] == "The team knows its users."
    assert body["contract_version"] == 1 and body["manager"]["email"] == cast.manager.email
    assert body["published_by"]["email"] == cast.executive.email
    assert {i["decision"] for i in body["items"]} == {"met"}
    assert body["items"][0]["did_well"] == "Talked to residents every week."
    assert body["allocations"] == [{"id": body["allocations"][0]["id"], "period": "2026-27", "stage": "alpha",
                                    "amount": "25000.00"}]
    assert [a["text"] for a in body["addenda"]] == ["The budget starts in April."]
    assert body["addenda"][0]["author"]["email"] == cast.executive.email
    assert [r["id"] for r in body["previous_reports"]] == [earlier.pk]
    assert body["previous_reports"][0]["outcome"] == "more_research"
    assert body["service"]["lifecycle_stage"] == "alpha"


def test_a_cancelled_assessment_says_why(cast, reader):
    a = actions.cancel_assessment(actor=cast.executive, assessment=scheduled(cast, cast.service),
                                  reason="The team asked for a month more.")
    assert reader.get(f"/assessments/{a.pk}").json()["cancel_reason"] == "The team asked for a month more."


def test_a_published_report_reads_as_markdown(cast, reader):
    report = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    response = reader.get(f"/assessments/{report.pk}/report.md")
    assert response.status_code == 200 and response["Content-Type"] == "text/markdown; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("# Assessment report: Parking permits\n")
    assert "- **Result:** Met" in text and "£25,000.00 for alpha, 2026-27" in text
    assert f"http://testserver/assessments/criteria/{UNDERSTAND_USERS}/" in text


def test_an_assessment_reads_in_as_many_queries_however_long_its_agenda_and_history(cast):
    client = ApiClient(token_for(cast.executive))
    short = actions.publish_assessment_report(actor=cast.executive, assessment=decided(
        cast, cast.service, outcome="more_research", criteria=list(Criterion.objects.filter(slug=UNDERSTAND_USERS))))
    few = _count(client, f"/assessments/{short.pk}")
    for _ in range(3):
        published(cast, cast.service, outcome="more_research")
    long = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    actions.add_report_addendum(actor=cast.executive, assessment=long, text="One.")
    actions.add_report_addendum(actor=cast.executive, assessment=long, text="Two.")
    assert long.items.count() > 3
    assert _count(client, f"/assessments/{long.pk}") == few


def _count(client: ApiClient, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return len(queries)


def _many_reports(c, n: int, start: int) -> None:
    """``n`` services, each with a published report (and a panel of two) and one open assessment."""
    for i in range(start, start + n):
        service = factories.service(c.executive, f"Service {i:03}", manager=c.manager if i % 2 else c.other_manager)
        published(c, service, outcome="more_research", assessors=[c.executive, c.outsider])
        scheduled(c, service, assessors=[c.exec_team])


def test_the_assessments_list_makes_as_many_queries_for_60_services_as_for_10(cast):
    client = ApiClient(token_for(cast.executive))
    _many_reports(cast, 10, 0)
    small = _count(client, "/assessments", limit=500)
    small_filtered = _count(client, "/assessments", limit=500, status="published", date_to=SOON.isoformat())
    _many_reports(cast, 50, 10)
    assert client.get("/assessments", limit=500).json()["count"] == 120
    assert _count(client, "/assessments", limit=500) == small
    assert _count(client, "/assessments", limit=500, status="published", date_to=SOON.isoformat()) == small_filtered
    # the token and its person; the page of rows with service, its manager and the
    # pinned manager; the assessors of the page; the count
    assert small == 4


# ---------------------------------------------------------------- what is due


def _live(c, name: str, *, adopted_days_ago: int = 0):
    """A live service adopted ``adopted_days_ago`` days ago, so due a year after that."""
    with clock_at(midday_today() - dt.timedelta(days=adopted_days_ago)):
        return service_at(c, "live", name)


def test_due_lists_live_services_the_overdue_first(cast, reader):
    late = _live(cast, "Payroll", adopted_days_ago=400)
    fresh = _live(cast, "Libraries")
    booked = scheduled(cast, fresh)
    body = reader.get("/assessments/due").json()
    assert body["count"] == 2
    first, second = body["items"]
    assert first["service"]["slug"] == late.slug and first["overdue"] is True and first["days_overdue"] == 35
    assert first["cadence_days"] == 365 and first["own_cadence"] is False and first["booked_for"] is None
    assert first["manager"]["email"] == cast.manager.email
    assert second["service"]["slug"] == fresh.slug and second["overdue"] is False and second["days_overdue"] == 0
    assert second["booked_for"] == SOON.isoformat() and second["booked_id"] == booked.pk
    assert [r["service"]["slug"] for r in reader.get("/assessments/due", overdue=True).json()["items"]] == [late.slug]
    assert [r["service"]["slug"] for r in reader.get("/assessments/due", overdue=False).json()["items"]] == [fresh.slug]
    assert reader.get("/assessments/due", limit=1, offset=1).json()["items"][0]["service"]["slug"] == fresh.slug


def test_the_cadence_moves_the_due_dates(cast, api_as):
    live = service_at(cast, "live", "Payroll")
    today = timezone.localdate()
    client = api_as("executive")
    body = client.put("/organisation/cadence", {"days": 90}).json()
    assert body == {"default_days": 90, "service": None, "days": None, "effective_days": 90,
                    "next_assessment_due": None}
    row = client.get("/assessments/due").json()["items"][0]
    assert row["next_assessment_due"] == (today + dt.timedelta(days=90)).isoformat() and row["cadence_days"] == 90
    own = client.put(f"/services/{live.slug}/cadence", {"days": 180}).json()
    assert own["service"]["slug"] == live.slug
    assert (own["days"], own["effective_days"], own["default_days"]) == (180, 180, 90)
    assert own["next_assessment_due"] == (today + dt.timedelta(days=180)).isoformat()
    row = client.get("/assessments/due").json()["items"][0]
    assert (row["cadence_days"], row["own_cadence"]) == (180, True)
    back = client.put(f"/services/{live.slug}/cadence", {"days": None}).json()
    assert (back["days"], back["effective_days"]) == (None, 90)
    assert back["next_assessment_due"] == (today + dt.timedelta(days=90)).isoformat()
    # a service not live has an interval for when it is, but no date yet
    assert client.put(f"{P}/cadence", {"days": 60}).json()["next_assessment_due"] is None


def test_the_due_list_makes_as_many_queries_for_60_services_as_for_10(cast):
    client = ApiClient(token_for(cast.executive))
    for i in range(10):
        scheduled(cast, _live(cast, f"Live {i:03}", adopted_days_ago=i * 40))
    small = _count(client, "/assessments/due", limit=500)
    for i in range(10, 60):
        service = _live(cast, f"Live {i:03}", adopted_days_ago=i * 7)
        if i % 3:
            scheduled(cast, service)
    assert client.get("/assessments/due", limit=500).json()["count"] == 60
    assert _count(client, "/assessments/due", limit=500) == small
    # the token and its person; the page of services with their manager and the date
    # and id of any assessment booked; the count; the organisation's default interval
    assert small == 4


# ---------------------------------------------------------------- timeline


def test_the_timeline_shows_each_stage_change_with_the_report_that_made_it(cast, reader):
    again = published(cast, cast.service, outcome="more_research")
    onwards = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    body = reader.get(f"{P}/timeline").json()
    assert body["count"] == 3
    entered, round_, moved = body["items"]
    assert (entered["from_stage"], entered["to_stage"], entered["label"], entered["report"]) == (
        None, "discovery", "Established in discovery", None)
    assert round_["new_round"] is True and round_["report"]["id"] == again.pk
    assert round_["label"] == "A new round of discovery"
    assert (moved["from_stage"], moved["to_stage"], moved["new_round"]) == ("discovery", "alpha", False)
    assert moved["report"]["id"] == onwards.pk and moved["report"]["result"] == "met"
    assert reader.get(f"{P}/timeline", limit=1, offset=2).json()["items"][0]["to_stage"] == "alpha"


def test_an_adopted_service_enters_its_timeline_at_its_stage(cast, reader):
    service = service_at(cast, "beta", "Payments")
    assert reader.get(f"/services/{service.slug}/timeline").json()["items"][0]["label"] == "Adopted at beta"


# ---------------------------------------------------------------- budgets


def _money(c):
    """An allocation with two spends and a re-investment, a granted expansion, and an
    open request to narrow the scope."""
    first = allocated(c, amount="120000.00")
    actions.record_spend(actor=c.manager, allocation=first, amount="1000.10", spent_on=SOON, description="Research")
    actions.record_spend(actor=c.team_member, allocation=first, amount="0.20", spent_on=SOON, description="Pens")
    actions.reinvest_savings(actor=c.manager, allocation=first, amount="500.00", purpose="Accessibility testing")
    request = actions.request_funding(actor=c.manager, service=c.service, kind="expand", period="2026-27",
                                      amount="5000.00", rationale="Twice as many residents applied.")
    actions.decide_funding_request(actor=c.executive, request=request, grant=True, note="Demand is real.")
    actions.request_funding(actor=c.manager, service=c.service, kind="narrow", period="2027-28",
                            rationale="Drop paper applications.")
    return first, request


def test_a_services_budget_shows_balances_as_exact_money(cast, reader):
    first, granted = _money(cast)
    body = reader.get(f"{P}/budget").json()
    assert body["currency"] == "GBP"
    assert body["totals"] == {"allocated": "125000.00", "spent": "1000.30", "reinvested": "500.00",
                              "remaining": "123499.70"}
    by_id = {a["id"]: a for a in body["allocations"]}
    assert by_id[first.pk] | {"amount": "120000.00", "spent": "1000.30", "reinvested": "500.00",
                              "remaining": "118499.70", "stage": "discovery", "period": "2026-27"} == by_id[first.pk]
    grant = next(a for a in body["allocations"] if a["funding_request"] == granted.pk)
    assert grant["amount"] == "5000.00" and grant["remaining"] == "5000.00"
    assert body["spends"]["count"] == 2 and {s["amount"] for s in body["spends"]["items"]} == {"1000.10", "0.20"}
    assert body["reinvestments"][0]["amount"] == "500.00" and body["reinvestments"][0]["allocation"] == first.pk
    requests = {r["kind"]: r for r in body["funding_requests"]}
    assert requests["expand"]["status"] == "granted" and requests["expand"]["allocation"] == grant["id"]
    assert requests["narrow"]["status"] == "open" and requests["narrow"]["amount"] is None
    assert reader.get(f"{P}/budget", limit=1).json()["spends"]["count"] == 2
    assert len(reader.get(f"{P}/budget", limit=1).json()["spends"]["items"]) == 1


def test_a_services_budget_reads_in_as_many_queries_however_many_allocations_and_spends(cast):
    client = ApiClient(token_for(cast.executive))
    allocated(cast)
    few = _count(client, f"{P}/budget")
    _money(cast)
    for _ in range(5):
        allocation = allocated(cast, amount="10.00")
        actions.record_spend(actor=cast.manager, allocation=allocation, amount="1.00", spent_on=SOON, description="Pens")
        actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="1.00", purpose="Tea")
    assert _count(client, f"{P}/budget") == few


def test_the_network_budget_groups_money_by_stage_and_period(cast, reader):
    _money(cast)
    live = service_at(cast, "live", "Payroll")
    allocated(cast, live, amount="0.10", period="2027-28")
    body = reader.get("/budgets").json()
    assert body["totals"] == {"allocated": "125000.10", "spent": "1000.30", "reinvested": "500.00",
                              "remaining": "123499.80"}
    assert [(r["key"], r["allocated"], r["percent_spent"]) for r in body["by_stage"]] == [
        ("discovery", "125000.00", 1), ("live", "0.10", 0)]
    assert body["by_period"]["count"] == 2
    assert [(r["key"], r["allocated"], r["spent"]) for r in body["by_period"]["items"]] == [
        ("2027-28", "0.10", "0.00"), ("2026-27", "125000.00", "1000.30")]
    assert body["open_funding_requests"] == 1
    paged = reader.get("/budgets", limit=1, offset=1).json()["by_period"]
    assert paged["count"] == 2 and [r["key"] for r in paged["items"]] == ["2026-27"]


def test_an_allocation_answers_with_its_balance(cast, api_as):
    body = api_as("executive").post(f"{P}/allocations", {"period": "2026-27", "amount": 120000, "stage": "alpha"}).json()
    assert (body["amount"], body["spent"], body["remaining"], body["stage"]) == ("120000.00", "0.00", "120000.00", "alpha")
    spend = api_as("team_member").post(f"/allocations/{body['id']}/spends", {"amount": "19.99", "description": "Pens"})
    assert spend.status_code == 201 and spend.json()["spent_on"] == timezone.localdate().isoformat()
    assert spend.json()["amount"] == "19.99" and spend.json()["recorded_by"]["email"] == cast.team_member.email
