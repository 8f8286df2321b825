"""The lifecycle's part of the OpenAPI document: every route is there, described, with
its refusals; and every answer of a whole journey — from the criteria to a published
report, what is due and the money — validates against it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from .conftest import API
from .routes import LIFECYCLE_ROUTES
from .test_openapi import Checked



@pytest.fixture
def spec(db) -> dict[str, Any]:
    return Client().get(f"{API}/openapi.json").json()


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path.removeprefix(API)): op for path, item in spec["paths"].items()
            for method, op in item.items()}


def test_the_document_lists_every_lifecycle_route_described_with_its_refusals(spec):
    operations = _operations(spec)
    assert LIFECYCLE_ROUTES <= set(operations), sorted(LIFECYCLE_ROUTES - set(operations))
    for route in LIFECYCLE_ROUTES:
        operation = operations[route]
        assert operation["tags"] == ["lifecycle"], route
        assert operation.get("description"), route
        assert "401" in operation["responses"], route
        if route[0] != "GET":
            assert {"400", "403", "404", "409", "422"} <= set(operation["responses"]), route
    markdown = operations[("GET", "/assessments/{assessment_id}/report.md")]["responses"]["200"]
    assert list(markdown["content"]) == ["text/markdown"]


def test_money_is_described_as_exact_strings(spec):
    schemas = spec["components"]["schemas"]
    amount = schemas["AllocationOut"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"] == r"^-?\d+\.\d{2}$"
    sent = schemas["AllocateIn"]["properties"]["amount"]
    assert {s["type"] for s in sent["anyOf"]} == {"string", "integer"}  # never a number with a fraction


def test_every_answer_of_a_lifecycle_journey_matches_the_document(cast, spec, api_as):
    executive, manager = Checked(spec, api_as("executive")), Checked(spec, api_as("manager"))
    member, outsider = Checked(spec, api_as("team_member")), Checked(spec, api_as("outsider"))
    A = "/assessments/{assessment_id}"
    p = "/services/parking-permits"

    criterion = executive("POST", "/criteria", "/criteria",
                          {"name": "Publish performance data", "meaning": "Monthly.", "stages": ["discovery"]}, 201)
    executive("PUT", "/criteria/{slug}", f"/criteria/{criterion['slug']}",
              {**criterion, "link": "https://example.org/data", "expected_revision": criterion["revision"]})
    executive("PUT", "/criteria/{slug}", "/criteria/nowhere", {**criterion, "expected_revision": 1}, 404)
    outsider("GET", "/criteria", "/criteria", stage="discovery")
    outsider("POST", "/criteria", "/criteria", {"name": "x", "meaning": "y"}, 403)

    a = executive("POST", "/services/{slug}/assessments", f"{p}/assessments",
                  {"scheduled_for": "2031-01-15", "assessors": [cast.executive.email, cast.outsider.pk]}, 201)
    i = a["id"]
    executive("POST", "/services/{slug}/assessments", f"{p}/assessments",
              {"scheduled_for": "2031-01-15", "assessors": [cast.executive.pk]}, 409)
    a = executive("PUT", A, f"/assessments/{i}", {"agenda_note": "Bring the research.", "expected_revision": a["revision"]})
    executive("POST", f"{A}/agenda", f"/assessments/{i}/agenda")
    decisions = {item["criterion"]["slug"]: {"decision": "met", "did_well": "Good evidence."} for item in a["items"]}
    a = outsider("PUT", f"{A}/decisions", f"/assessments/{i}/decisions",
                 {"decisions": decisions, "result": "met", "outcome": "progress_to_alpha", "summary": "Ready.",
                  "expected_revision": a["revision"] + 1})
    executive("POST", f"{A}/publish", f"/assessments/{i}/publish", {"expected_revision": a["revision"]}, 400)
    report = executive("POST", f"{A}/publish", f"/assessments/{i}/publish",
                       {"budget_amount": "40000.00", "budget_period": "2031-32", "expected_revision": a["revision"]})
    assert report["status"] == "published" and report["allocations"][0]["amount"] == "40000.00"
    outsider("POST", f"{A}/addenda", f"/assessments/{i}/addenda", {"text": "Noted."}, 201)
    outsider("GET", A, f"/assessments/{i}")
    outsider("GET", A, "/assessments/9999", status=404)
    outsider("GET", "/assessments", "/assessments", result="met")  # (status= is the expected HTTP status here)

    other = executive("POST", "/services/{slug}/assessments", "/services/identity/assessments",
                      {"scheduled_for": "2031-02-01", "assessors": [cast.exec_team.pk], "criteria": [criterion["slug"]]},
                      201)
    executive("POST", f"{A}/cancel", f"/assessments/{other['id']}/cancel", {"reason": "Not yet."})

    executive("PUT", "/organisation/cadence", "/organisation/cadence", {"days": 200})
    executive("PUT", "/services/{slug}/cadence", f"{p}/cadence", {"days": None})
    outsider("GET", "/assessments/due", "/assessments/due")
    outsider("GET", "/services/{slug}/timeline", f"{p}/timeline")

    allocation = executive("POST", "/services/{slug}/allocations", f"{p}/allocations",
                           {"period": "2031-32", "amount": "1200.50"}, 201)
    member("POST", "/allocations/{allocation_id}/spends", f"/allocations/{allocation['id']}/spends",
           {"amount": "200.25", "description": "Research incentives"}, 201)
    manager("POST", "/allocations/{allocation_id}/reinvestments", f"/allocations/{allocation['id']}/reinvestments",
            {"amount": "100.00", "purpose": "Accessibility testing"}, 201)
    asked = manager("POST", "/services/{slug}/funding-requests", f"{p}/funding-requests",
                    {"kind": "expand", "period": "2031-32", "amount": "5000", "rationale": "Demand doubled."}, 201)
    executive("POST", "/funding-requests/{request_id}/decision", f"/funding-requests/{asked['id']}/decision",
              {"grant": True, "note": "Granted."})
    budget = outsider("GET", "/services/{slug}/budget", f"{p}/budget")
    assert budget["totals"]["remaining"] == "45900.25"
    outsider("GET", "/budgets", "/budgets")
    assert len({(m, t) for m, t, _ in executive.seen | manager.seen | member.seen | outsider.seen}) >= 22

    markdown = api_as("outsider").get(f"/assessments/{i}/report.md")
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
