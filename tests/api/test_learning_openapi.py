"""The learning loop's part of the OpenAPI document: every route is there, tagged,
described, with its refusals; and every answer of whole journeys — a doctrine
self-assessment from opening to heat map, a CoE from draft to review and guidance, a
community from forming to endorsement and its open roles — validates against it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from ..learning.test_permissions import AGO, DUE, PROFESSION, TODAY, coe_content
from .conftest import API
from .routes import LEARNING_ROUTES
from .test_learning_write_permissions import clients_for
from .test_openapi import Checked


@pytest.fixture
def as_person(cast):
    """The API as each person of the cast, the community's lead and the action's owner."""
    return clients_for(cast)


@pytest.fixture
def spec(db) -> dict[str, Any]:
    return Client().get(f"{API}/openapi.json").json()


@pytest.fixture
def as_(spec, as_person):
    """``as_("lead")`` calls the API as that person, checking each answer against the
    document; every client of a test shares one record of the routes answered."""
    seen: set[tuple[str, str, int]] = set()

    def make(role: str) -> Checked:
        checked = Checked(spec, as_person(role))
        checked.seen = seen
        return checked

    make.seen = seen
    make.world = as_person.world
    return make


DOCTRINE = {r for r in LEARNING_ROUTES if r[1].startswith("/doctrine")}
COMMUNITIES = {r for r in LEARNING_ROUTES if r[1].startswith(("/communit", "/open-roles")) or r[1].endswith("/open-roles")}
COES = LEARNING_ROUTES - DOCTRINE - COMMUNITIES


def _answered(seen: set[tuple[str, str, int]], routes: set[tuple[str, str]]) -> None:
    missing = routes - {(method, template) for method, template, _ in seen}
    assert not missing, f"the journey left out {sorted(missing)}"


def test_the_document_lists_every_learning_route_described_with_its_refusals(spec):
    operations = {(method.upper(), path.removeprefix(API)): op for path, item in spec["paths"].items()
                  for method, op in item.items()}
    assert LEARNING_ROUTES <= set(operations), sorted(LEARNING_ROUTES - set(operations))
    tagged = {route for route, op in operations.items() if op["tags"] == ["learning"]}
    assert tagged == LEARNING_ROUTES, "the learning router publishes exactly these routes"
    for route in LEARNING_ROUTES:
        operation = operations[route]
        assert operation.get("description"), route
        assert "401" in operation["responses"], route
        if route[0] != "GET":
            assert {"400", "403", "404", "409", "422"} <= set(operation["responses"]), route


def test_the_choices_a_request_takes_are_described_as_enumerations(spec):
    schemas = spec["components"]["schemas"]

    def enum(schema: dict) -> list:
        return next(s["enum"] for s in [schema, *schema.get("anyOf", [])] if "enum" in s)

    assert enum(schemas["RatingIn"]["properties"]["rating"]) == ["good", "partly", "weak", "unknown"]
    assert enum(schemas["PatternEffectIn"]["properties"]["effect"]) == ["helped", "hurt"]
    assert enum(schemas["ActionUpdateIn"]["properties"]["status"]) == ["open", "done", "dropped"]
    assert enum(schemas["CommunityGuidanceIn"]["properties"]["kind"]) == ["practice", "evaluation"]
    assert set(schemas["CoEIn"]["required"]) == {"service", "title", "occurred_on"}
    assert schemas["CoEEditIn"]["required"] == ["expected_revision"]


def test_a_doctrine_journey_matches_the_document(cast, as_):
    executive, manager, team, outsider = as_("executive"), as_("manager"), as_("team_member"), as_("outsider")
    R = "/doctrine/rounds/{round_id}"

    patterns = outsider("GET", "/doctrine/patterns", "/doctrine/patterns", group="communication")
    assert patterns["count"] == 4
    pattern = patterns["items"][0]
    executive("PATCH", "/doctrine/patterns/{slug}", f"/doctrine/patterns/{pattern['slug']}",
              {"meaning": "We say what we mean.", "expected_revision": pattern["revision"]})
    executive("PATCH", "/doctrine/patterns/{slug}", f"/doctrine/patterns/{pattern['slug']}",
              {"meaning": "Again.", "expected_revision": pattern["revision"]}, 409)
    manager("PATCH", "/doctrine/patterns/{slug}", "/doctrine/patterns/nowhere",
            {"meaning": "x", "expected_revision": 1}, 404)
    first = manager("POST", "/doctrine/rounds", "/doctrine/rounds", {"service": "parking-permits", "title": "Spring"}, 201)
    manager("POST", "/doctrine/rounds", "/doctrine/rounds", {"service": "parking-permits"}, 409)
    outsider("POST", "/doctrine/rounds", "/doctrine/rounds", {"service": None}, 403)
    team("POST", f"{R}/ratings", f"/doctrine/rounds/{first['id']}/ratings",
         {"ratings": [{"pattern": "know-your-users", "rating": "weak"}]})
    team("POST", f"{R}/ratings", f"/doctrine/rounds/{first['id']}/ratings",
         {"ratings": [{"pattern": "know-your-users", "rating": "so-so"}]}, 422)
    manager("POST", f"{R}/close", f"/doctrine/rounds/{first['id']}/close")
    second = manager("POST", "/doctrine/rounds", "/doctrine/rounds", {"service": "parking-permits"}, 201)
    rated = team("POST", f"{R}/ratings", f"/doctrine/rounds/{second['id']}/ratings", {"ratings": [
        {"pattern": "know-your-users", "rating": "good", "evidence": "We interview residents monthly."},
        {"pattern": "manage-failure", "rating": "weak"}]})
    assert rated["written"] == 2 and rated["previous"] == first["id"]
    detail = outsider("GET", R, f"/doctrine/rounds/{second['id']}")
    assert detail["change"][0]["direction"] == "better"
    outsider("GET", R, "/doctrine/rounds/9999", status=404)
    outsider("GET", "/doctrine/rounds", "/doctrine/rounds", service="parking-permits")
    heat = outsider("GET", "/doctrine/heat-map", "/doctrine/heat-map")
    assert len(heat["patterns"]) == 40
    _answered(as_.seen, DOCTRINE)


def test_a_coe_journey_matches_the_document(cast, as_):
    executive, manager, team, outsider = as_("executive"), as_("manager"), as_("team_member"), as_("outsider")
    C = "/coes/{coe_id}"
    w = as_.world

    body = {"service": "parking-permits", **coe_content(w)}
    coe = team("POST", "/coes", "/coes", body, 201)
    team("POST", "/coes", "/coes", {**body, "occurred_on": "last week"}, 422)
    team("POST", "/coes", "/coes", {**body, "problem": "", "title": " "}, 400)
    outsider("POST", "/coes", "/coes", body, 403)
    outsider("GET", C, f"/coes/{coe['id']}", status=403)  # a draft is its service's business
    coe = team("PUT", C, f"/coes/{coe['id']}", {**coe, "lessons": "Own every certificate.",
                                                 "expected_revision": coe["revision"]})
    team("PUT", C, f"/coes/{coe['id']}", {"expected_revision": coe["revision"] - 1}, 409)
    spare = team("POST", "/coes", "/coes", {"service": "parking-permits", "title": "A false alarm",
                                            "occurred_on": AGO.isoformat()}, 201)
    team("DELETE", C, f"/coes/{spare['id']}", None, 204)
    team("POST", f"{C}/publish", f"/coes/{coe['id']}/publish", None, 403)
    coe = manager("POST", f"{C}/publish", f"/coes/{coe['id']}/publish", {"expected_revision": coe["revision"]})
    manager("DELETE", C, f"/coes/{coe['id']}", None, 409)
    action = team("POST", f"{C}/actions", f"/coes/{coe['id']}/actions",
                  {"description": "Name a certificate owner", "owner": cast.manager.email, "due_date": DUE.isoformat()}, 201)
    team("POST", "/corrective-actions/{action_id}/update", f"/corrective-actions/{action['id']}/update",
         {"status": "done", "note": "Owners named."})
    manager("POST", "/corrective-actions/{action_id}/verify", f"/corrective-actions/{action['id']}/verify",
            {"note": "Checked the register."})
    manager("POST", "/corrective-actions/{action_id}/verify", f"/corrective-actions/{action['id']}/verify", None, 409)
    outsider("GET", "/coes", "/coes", q="certificate", pattern="manage-failure", effect="hurt")
    outsider("GET", C, f"/coes/{coe['id']}")
    review = executive("POST", "/coe-reviews", "/coe-reviews", {"scheduled_for": TODAY.isoformat()}, 201)
    assert [c["id"] for c in review["agenda"]] == [coe["id"]]
    manager("GET", "/coe-reviews", "/coe-reviews")
    manager("GET", "/coe-reviews/{review_id}", f"/coe-reviews/{review['id']}")
    held = executive("POST", "/coe-reviews/{review_id}/hold", f"/coe-reviews/{review['id']}/hold",
                     {"notes": "Certificates need owners.", "coe_notes": {str(coe["id"]): "Share widely."}})
    assert held["reviewed"][0]["review_note"] == "Share widely."
    executive("POST", "/coe-reviews/{review_id}/hold", f"/coe-reviews/{review['id']}/hold", {}, 409)
    guidance = executive("POST", f"{C}/guidance", f"/coes/{coe['id']}/guidance", {"category": "operations"}, 201)
    assert guidance["coe"] == coe["id"] and guidance["source"] == "coe"
    outsider("GET", "/learning/figures", "/learning/figures")
    _answered(as_.seen, COES)


def test_a_community_journey_matches_the_document(cast, as_):
    executive, lead, owner, manager = as_("executive"), as_("lead"), as_("owner"), as_("manager")
    K = "/communities/{community_id}"

    body = {"name": "User research", "profession": PROFESSION, "purpose": "Researchers learn from each other."}
    community = lead("POST", "/communities", "/communities", body, 201)
    k = community["id"]
    lead("POST", "/communities", "/communities", body, 400)
    owner("POST", f"{K}/join", f"/communities/{k}/join")
    owner("POST", f"{K}/join", f"/communities/{k}/join", None, 409)
    lead("PATCH", K, f"/communities/{k}", {"purpose": "Research together.", "expected_revision": community["revision"]})
    executive("POST", f"{K}/endorse", f"/communities/{k}/endorse", None, 409)
    guidance = lead("POST", f"{K}/guidance", f"/communities/{k}/guidance", {
        "kind": "evaluation", "title": "Evaluating researchers", "body": "Look at what the team changed."}, 201)
    lead("POST", f"{K}/guidance", f"/communities/{k}/guidance", {"kind": "folklore", "title": "x", "body": "y"}, 422)
    executive("POST", f"{K}/endorse", f"/communities/{k}/endorse", {"on": TODAY.isoformat()})
    executive("POST", f"{K}/withdraw-endorsement", f"/communities/{k}/withdraw-endorsement",
              {"reason": "It has not met for a year."})
    lead("POST", "/community-guidance/{guidance_id}/withdraw", f"/community-guidance/{guidance['id']}/withdraw",
         {"reason": "Replaced."})
    dispute = lead("POST", f"{K}/escalate", f"/communities/{k}/escalate", {
        "subject": "A researcher's level", "description": "We could not settle it."}, 201)
    assert dispute["community"]["id"] == k and dispute["kind"] == "evaluation"
    owner("POST", f"{K}/leave", f"/communities/{k}/leave")
    opening = manager("POST", "/services/{slug}/open-roles", "/services/parking-permits/open-roles",
                      {"role": "User researcher", "level": "senior"}, 201)
    owner("POST", "/services/{slug}/open-roles", "/services/parking-permits/open-roles",
          {"role": "User researcher", "level": "senior"}, 403)
    owner("GET", K, f"/communities/{k}")
    owner("GET", "/communities", "/communities", profession=PROFESSION)
    owner("GET", "/communities/coverage", "/communities/coverage")
    owner("GET", "/open-roles", "/open-roles", profession=PROFESSION)
    manager("POST", "/open-roles/{opening_id}/close", f"/open-roles/{opening['id']}/close", {"filled": True})
    manager("POST", "/open-roles/{opening_id}/close", f"/open-roles/{opening['id']}/close", {"filled": True}, 409)
    _answered(as_.seen, COMMUNITIES)
