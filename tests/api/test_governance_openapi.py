"""Governance's part of the OpenAPI document: every route is there, described, with its
refusals; and every answer of whole journeys — a mandate from draft to burn-up, guidance
and the services' decisions, a dispute and its mediation, proposals and the matcher,
deviations, delegation, the dashboards and notifications — validates against it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from .. import factories
from ..governance.helpers import DUE, NEEDS
from .conftest import API
from .routes import GOVERNANCE_ROUTES
from .test_openapi import Checked


@pytest.fixture
def spec(db) -> dict[str, Any]:
    return Client().get(f"{API}/openapi.json").json()


@pytest.fixture
def as_(spec, api_as):
    """``as_("manager")`` calls the API as that person, checking each answer against the
    document; every client of a test shares one record of the routes answered."""
    seen: set[tuple[str, str, int]] = set()

    def make(role: str) -> Checked:
        checked = Checked(spec, api_as(role))
        checked.seen = seen
        return checked

    make.seen = seen
    return make


# The routes each journey answers; together, every route of governance.
MANDATES = {r for r in GOVERNANCE_ROUTES if r[1].startswith("/mandates")}
GUIDANCE_AND_DISPUTES = {r for r in GOVERNANCE_ROUTES if r[1].startswith(("/guidance", "/disputes"))
                         or r[1].endswith("/guidance-rejections")}
DEMAND = {r for r in GOVERNANCE_ROUTES if r[1].startswith(("/proposals", "/matching"))}
THE_REST = GOVERNANCE_ROUTES - MANDATES - GUIDANCE_AND_DISPUTES - DEMAND


def _answered(seen: set[tuple[str, str, int]], routes: set[tuple[str, str]]) -> None:
    missing = routes - {(method, template) for method, template, _ in seen}
    assert not missing, f"the journey left out {sorted(missing)}"


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path.removeprefix(API)): op for path, item in spec["paths"].items()
            for method, op in item.items()}


def test_the_document_lists_every_governance_route_described_with_its_refusals(spec):
    operations = _operations(spec)
    assert GOVERNANCE_ROUTES <= set(operations), sorted(GOVERNANCE_ROUTES - set(operations))
    for route in GOVERNANCE_ROUTES:
        operation = operations[route]
        assert operation["tags"] == ["governance"], route
        assert operation.get("description"), route
        assert "401" in operation["responses"], route
        if route[0] != "GET":
            assert {"400", "403", "404", "409", "422"} <= set(operation["responses"]), route


def test_the_choices_a_request_takes_are_described_as_enumerations(spec):
    schemas = spec["components"]["schemas"]

    def enum(schema: dict) -> list:
        return next(s["enum"] for s in [schema, *schema.get("anyOf", [])] if "enum" in s)

    # the models' choices are written inline: as components, their shared names (Status) would collide
    assert not {"Status", "Kind", "Source", "Decision", "Lever"} & set(schemas)
    assert enum(schemas["DecideIn"]["properties"]["decision"]) == ["adopt", "reject"]
    assert enum(schemas["ResolveIn"]["properties"]["lever"]) == ["mandate", "alteration", "assessment", "none"]
    assert set(enum(schemas["GuidanceIn"]["properties"]["source"])) == {"law", "practice", "coe", "community"}
    # a saved filter names only the filters the network list has
    assert schemas["ScopeFilterIn"]["additionalProperties"] is False
    assert set(schemas["ScopeFilterIn"]["properties"]) == {"stage", "evolution", "users", "q", "consumes"}


def test_a_mandate_journey_matches_the_document(cast, as_):
    executive, manager, outsider = as_("executive"), as_("manager"), as_("outsider")
    M = "/mandates/{mandate_id}"
    T = f"{M}/targets/{{service_slug}}"

    body = {"title": "Move to shared identity", "instruction": "Sign people in through Identity.",
            "due_date": DUE.isoformat(), "services": ["parking-permits"]}
    mandate = executive("POST", "/mandates", "/mandates", body, 201)
    i = mandate["id"]
    executive("POST", "/mandates", "/mandates", {**body, "services": ["nowhere"]}, 400)
    executive("POST", "/mandates", "/mandates", {**body, "due_date": "soon"}, 422)
    outsider("POST", "/mandates", "/mandates", body, 403)
    mandate = executive("PUT", M, f"/mandates/{i}", {**body, "services": [], "scope_filter": {"users": "external"},
                                                     "expected_revision": mandate["revision"]})
    executive("PUT", M, f"/mandates/{i}", {**body, "expected_revision": mandate["revision"] - 1}, 409)
    executive("GET", M, "/mandates/9999", status=404)
    mandate = executive("POST", f"{M}/issue", f"/mandates/{i}/issue")
    assert {t["service"]["slug"] for t in mandate["targets"]} == {"parking-permits"}
    manager("POST", f"{T}/acknowledge", f"/mandates/{i}/targets/parking-permits/acknowledge", {"note": "Next sprint."})
    manager("POST", f"{T}/acknowledge", f"/mandates/{i}/targets/identity/acknowledge", {}, 404)
    executive("POST", f"{M}/remind", f"/mandates/{i}/remind")
    manager("POST", f"{T}/progress", f"/mandates/{i}/targets/parking-permits/progress", {"note": "Done.", "done": True})
    outsider("GET", "/mandates", "/mandates?status=issued")  # (status= is the HTTP status to Checked)
    detail = outsider("GET", M, f"/mandates/{i}")
    assert detail["burn_up"][-1]["done"] == 1
    executive("POST", f"{M}/close", f"/mandates/{i}/close", {"note": "All done."})
    executive("POST", f"{M}/close", f"/mandates/{i}/close", None, 409)
    _answered(as_.seen, MANDATES)


def test_a_guidance_and_dispute_journey_matches_the_document(cast, as_):
    executive, manager, other, outsider = as_("executive"), as_("manager"), as_("other_manager"), as_("outsider")
    G = "/guidance/{guidance_id}"

    guidance = executive("POST", "/guidance", "/guidance", {
        "title": "Use the shared payment platform", "body": "Take payments through it.", "source": "practice",
        "category": "technology"}, 201)
    g = guidance["id"]
    executive("POST", "/guidance", "/guidance", {"title": "x", "body": "y", "source": "rumour", "category": "data"}, 422)
    executive("PUT", G, f"/guidance/{g}", {**guidance, "body": "Take every payment through it.",
                                            "expected_revision": guidance["revision"]})
    executive("POST", f"{G}/publish", f"/guidance/{g}/publish")
    manager("PUT", f"{G}/decisions/{{service_slug}}", f"/guidance/{g}/decisions/parking-permits",
            {"decision": "reject", "rationale": "Permits are free."})
    other("PUT", f"{G}/decisions/{{service_slug}}", f"/guidance/{g}/decisions/identity", {"decision": "adopt"})
    other("PUT", f"{G}/decisions/{{service_slug}}", f"/guidance/{g}/decisions/parking-permits",
          {"decision": "adopt"}, 403)
    manager("PUT", f"{G}/decisions/{{service_slug}}", f"/guidance/{g}/decisions/parking-permits",
            {"decision": "reject"}, 400)
    outsider("GET", "/guidance", "/guidance", category="technology")
    outsider("GET", G, f"/guidance/{g}", decision="reject")
    outsider("GET", "/services/{slug}/guidance-rejections", "/services/parking-permits/guidance-rejections")
    executive("POST", f"{G}/withdraw", f"/guidance/{g}/withdraw", {"reason": "The platform is retired."})

    dispute = manager("POST", "/disputes", "/disputes", {
        "service": "parking-permits", "other_service": "identity", "subject": "Identity outages",
        "description": "Residents cannot sign in at month end."}, 201)
    outsider("POST", "/disputes", "/disputes", {"kind": "evaluation", "subject": "My evaluation",
                                                "description": "It ignored my community's guidance."}, 201)
    d = "/disputes/{dispute_id}"
    outsider("GET", "/disputes", "/disputes", kind="services")
    outsider("GET", d, f"/disputes/{dispute['id']}")
    other("POST", f"{d}/withdraw", f"/disputes/{dispute['id']}/withdraw", None, 403)
    executive("POST", f"{d}/resolve", f"/disputes/{dispute['id']}/resolve",
              {"resolution": "Identity moves its maintenance window.", "lever": "mandate"}, 400)
    mandate = executive("POST", "/mandates", "/mandates", {
        "title": "Maintain outside month end", "instruction": "Move maintenance windows.",
        "due_date": DUE.isoformat(), "services": ["identity"]}, 201)
    resolved = executive("POST", f"{d}/resolve", f"/disputes/{dispute['id']}/resolve", {
        "resolution": "Identity moves its maintenance window.", "lever": "mandate", "mandate": mandate["id"]})
    assert resolved["mandate"] == {"id": mandate["id"], "title": "Maintain outside month end"}
    manager("POST", f"{d}/withdraw", f"/disputes/{dispute['id']}/withdraw", {"note": "Too late."}, 409)
    evaluation = outsider("POST", "/disputes", "/disputes", {"kind": "evaluation", "subject": "Again",
                                                             "description": "Still."}, 201)
    outsider("POST", f"{d}/withdraw", f"/disputes/{evaluation['id']}/withdraw", {"note": "Settled."})
    _answered(as_.seen, GUIDANCE_AND_DISPUTES)


def test_a_demand_journey_matches_the_document(cast, as_):
    executive, outsider = as_("executive"), as_("outsider")
    P = "/proposals/{proposal_id}"

    suggested = outsider("POST", "/matching/suggestions", "/matching/suggestions",
                         {"needs": [{"i_need": "Parking permits need 1"}]})
    assert suggested["items"][0]["service"]["slug"] == "parking-permits"
    outsider("POST", "/matching/suggestions", "/matching/suggestions", {"needs": [{}]}, 400)
    outsider("GET", "/matching/duplicates", "/matching/duplicates", threshold=0.2)
    first = outsider("POST", "/proposals", "/proposals", {"title": "Visitor permits", "needs": NEEDS}, 201)
    second = outsider("POST", "/proposals", "/proposals", {"title": "Carer permits", "needs": NEEDS[1:]}, 201)
    third = outsider("POST", "/proposals", "/proposals", {"title": "Bike hangars", "needs": [
        {"as_a": "cyclist", "i_need": "a secure bike hangar", "so_that": "my bike is not stolen"}]}, 201)
    outsider("POST", "/proposals", "/proposals", {"title": "Nothing", "needs": []}, 400)
    outsider("GET", "/proposals", "/proposals")
    outsider("GET", P, f"/proposals/{first['id']}")
    outsider("POST", f"{P}/decline", f"/proposals/{first['id']}/decline", {"reason": "No."}, 403)
    folded = executive("POST", f"{P}/fold", f"/proposals/{first['id']}/fold", {"service": "parking-permits"})
    assert folded["status"] == "folded" and folded["draft_version"] == 2
    executive("POST", f"{P}/decline", f"/proposals/{second['id']}/decline", {"reason": "Not this year."})
    executive("POST", f"{P}/decline", f"/proposals/{second['id']}/decline", {"reason": "Again."}, 409)
    established = executive("POST", f"{P}/establish", f"/proposals/{third['id']}/establish",
                            {**factories.contract("Bike hangars"), "manager": cast.outsider.email})
    assert established["service"]["slug"] == "bike-hangars"
    executive("POST", f"{P}/establish", "/proposals/9999/establish", factories.contract("Bikes"), 404)
    _answered(as_.seen, DEMAND)


def test_deviations_delegation_dashboards_and_notifications_match_the_document(cast, as_):
    executive, team, manager = as_("executive"), as_("exec_team"), as_("manager")
    D = "/deviations/{deviation_id}"

    body = {"title": "One manager for two services", "compromised": "Each service has its own manager.",
            "positive": "A scarce specialist covers both.", "negative": "One person judges conflicts.",
            "governance": "Disputes go straight to the executive.", "review_on": DUE.isoformat()}
    deviation = executive("POST", "/deviations", "/deviations", body, 201)
    team("PUT", D, f"/deviations/{deviation['id']}", {**body, "expected_revision": deviation["revision"]})
    team("PUT", D, f"/deviations/{deviation['id']}", {**body, "expected_revision": deviation["revision"]}, 409)
    executive("POST", f"{D}/retire", f"/deviations/{deviation['id']}/retire", {"reason": "The services merged."})
    manager("GET", "/deviations", "/deviations?status=retired")

    acts = manager("GET", "/organisation/reserved-acts", "/organisation/reserved-acts")
    assert {a["act"] for a in acts["acts"] if a["kept"]} >= {"replace_manager", "decommission_service"}
    team("PUT", "/organisation/reserved-acts", "/organisation/reserved-acts", {"acts": []}, 403)
    executive("PUT", "/organisation/reserved-acts", "/organisation/reserved-acts", {"acts": ["issue_mandate"]})
    executive("PUT", "/organisation/reserved-acts", "/organisation/reserved-acts", {"acts": ["fly"]}, 400)

    manager("POST", "/proposals", "/proposals", {"title": "Visitor permits", "needs": NEEDS}, 201)
    manager("POST", "/disputes", "/disputes", {"service": "parking-permits", "other_service": "identity",
                                               "subject": "Outages", "description": "At month end."}, 201)
    executive("GET", "/dashboard/executive", "/dashboard/executive")
    manager("GET", "/dashboard/me", "/dashboard/me")
    notes = executive("GET", "/notifications", "/notifications")
    assert notes["unread"] == 2
    executive("POST", "/notifications/read", "/notifications/read", {"ids": [notes["items"][0]["id"]]})
    executive("POST", "/notifications/read", "/notifications/read", None)
    executive("GET", "/notifications", "/notifications", unread=False)
    _answered(as_.seen, THE_REST)
