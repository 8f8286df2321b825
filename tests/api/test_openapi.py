"""The API describes itself: its OpenAPI document is served, complete and true (every
answer of a whole journey validates against it), and its docs work offline."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from osom.network.models import ProfessionalRole

from .. import factories
from .conftest import API, ApiClient
from .routes import (
    DECOMMISSION_FLAG_ROUTES, FITNESS_ROUTES, GOVERNANCE_ROUTES, LEARNING_ROUTES, LIFECYCLE_ROUTES, MAPS_ROUTES,
    SEARCH_ROUTES, WEBHOOK_ROUTES,
)


@pytest.fixture
def spec(db) -> dict[str, Any]:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    return response.json()


def test_the_openapi_document_lists_every_route(spec):
    operations = {(method.upper(), path.removeprefix(API)) for path, item in spec["paths"].items() for method in item}
    expected = {
        ("GET", "/services"), ("POST", "/services"), ("POST", "/services/adopt"), ("GET", "/services/{slug}"),
        ("GET", "/services/{slug}/versions"), ("GET", "/services/{slug}/versions/{number}"),
        ("PUT", "/services/{slug}/versions/{number}"), ("DELETE", "/services/{slug}/versions/{number}"),
        ("POST", "/services/{slug}/versions/{number}/submit"), ("POST", "/services/{slug}/versions/{number}/approve"),
        ("POST", "/services/{slug}/versions/{number}/return"), ("GET", "/services/{slug}/diff"),
        ("POST", "/services/{slug}/manager"), ("POST", "/services/{slug}/drafts"), ("POST", "/services/{slug}/alterations"),
        ("POST", "/services/{slug}/dependencies"), ("DELETE", "/services/{slug}/dependencies/{provider_slug}"),
        ("POST", "/services/{slug}/team"), ("DELETE", "/services/{slug}/team/{membership_id}"),
        ("GET", "/people"), ("POST", "/people"), ("GET", "/people/{person_id}"), ("GET", "/audit"),
        ("GET", "/organisation"), ("PUT", "/organisation"), ("GET", "/roles"),
        ("GET", "/tokens"), ("POST", "/tokens"), ("DELETE", "/tokens/{token_id}"),
    }
    # every route is declared by the app that owns it; nothing else is published
    assert operations == (expected | DECOMMISSION_FLAG_ROUTES | LIFECYCLE_ROUTES | GOVERNANCE_ROUTES | LEARNING_ROUTES
                          | FITNESS_ROUTES | MAPS_ROUTES | WEBHOOK_ROUTES | SEARCH_ROUTES)


def test_every_operation_is_described_and_declares_its_refusals(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation.get("description"), f"{method} {path} has no description"
            assert "401" in operation["responses"], f"{method} {path}"
            if method != "get":
                assert {"400", "403", "422"} <= set(operation["responses"]), f"{method} {path}"
    security = spec["components"]["securitySchemes"]
    assert {s["type"] for s in security.values()} == {"http", "apiKey"}


def test_the_docs_page_uses_only_local_assets(db):
    client = Client()
    html = client.get(f"{API}/docs").content.decode()
    assert "swagger-ui" in html
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert assets and not [a for a in assets if re.match(r"(https?:)?//", a)]
    assert not re.search(r"https?://", html)
    assert '"validatorUrl": null' in html  # swagger-ui would otherwise call an online validator
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset


class Checked:
    """Calls the API and validates every answer against the OpenAPI document."""

    def __init__(self, spec: dict[str, Any], client: ApiClient) -> None:
        self.spec, self.client, self.seen = spec, client, set()

    def __call__(self, method: str, template: str, path: str, body: Any = None, status: int = 200, **params):
        response = self.client.call(method, path, body, **params)
        assert response.status_code == status, response.content.decode()[:600]
        operation = self.spec["paths"][API + template][method.lower()]
        declared = operation["responses"][str(status)]
        if status == 204:
            assert "content" not in declared and not response.content
            return None
        schema = declared["content"]["application/json"]["schema"]
        Draft202012Validator({**schema, "components": self.spec["components"]}).validate(response.json())
        self.seen.add((method, template, status))
        return response.json()


def test_every_answer_of_a_journey_matches_the_document(cast, spec, api_as):
    executive, manager = Checked(spec, api_as("executive")), Checked(spec, api_as("manager"))
    S = "/services/{slug}"
    V = "/services/{slug}/versions/{number}"
    p = "/services/parking-permits"

    executive("GET", "/services", "/services", q="park")
    executive("POST", "/services", "/services", {**factories.contract("Waste"), "manager": cast.other_manager.pk}, 201)
    executive("POST", "/services/adopt", "/services/adopt", {**factories.contract("Payroll"), "lifecycle_stage": "beta"}, 201)
    executive("POST", "/services", "/services", {**factories.contract("Waste"), "purpose": ""}, 400)
    executive("POST", "/services", "/services", {"name": "Waste"}, 422)
    executive("GET", S, "/services/nowhere", status=404)
    executive("GET", S, p)
    draft = manager("POST", f"{S}/drafts", f"{p}/drafts", None, 201)
    n = draft["number"]
    manager("POST", f"{S}/drafts", f"{p}/drafts", {}, 409)
    draft = manager("PUT", V, f"{p}/versions/{n}",
                    {**draft, "purpose": "Permits to park.", "expected_revision": draft["revision"]})
    manager("POST", f"{V}/submit", f"{p}/versions/{n}/submit")
    executive("POST", f"{V}/return", f"{p}/versions/{n}/return", {"reason": "Say who the users are"})
    manager("POST", f"{V}/submit", f"{p}/versions/{n}/submit")
    manager("POST", f"{V}/approve", f"{p}/versions/{n}/approve", None, 403)
    executive("POST", f"{V}/approve", f"{p}/versions/{n}/approve")
    executive("GET", f"{S}/versions", f"{p}/versions")
    executive("GET", V, f"{p}/versions/1")
    executive("GET", f"{S}/diff", f"{p}/diff", **{"from": 1, "to": n})
    executive("POST", f"{S}/alterations", f"{p}/alterations",
              {**factories.contract("Parking permits", needs=2), "reason": "Law", "risk": "Low"}, 201)
    executive("POST", f"{S}/manager", "/services/identity/manager", {"person": cast.outsider.email, "reason": "Rotation"}, 201)
    executive("POST", f"{S}/dependencies", "/services/identity/dependencies", {"provider": "parking-permits"}, 201)
    executive("DELETE", f"{S}/dependencies/{{provider_slug}}", "/services/identity/dependencies/parking-permits")
    executive("DELETE", V, "/services/identity/versions/2", None, 204)
    member = manager("POST", f"{S}/team", f"{p}/team",
                     {"person": cast.outsider.pk, "role": ProfessionalRole.objects.get(name="Content designer").pk,
                      "level": "lead"}, 201)
    manager("DELETE", f"{S}/team/{{membership_id}}", f"{p}/team/{member['id']}")
    executive("GET", "/people", "/people")
    person = executive("POST", "/people", "/people", {"email": "new@example.org", "name": "New Person"}, 201)
    executive("GET", "/people/{person_id}", f"/people/{cast.team_member.pk}")
    executive("GET", "/people/{person_id}", f"/people/{person['id']}")
    executive("GET", "/audit", "/audit", limit=500)
    org = executive("GET", "/organisation", "/organisation")
    executive("PUT", "/organisation", "/organisation", {"model_name": "Our model", "expected_revision": org["revision"]})
    executive("PUT", "/organisation", "/organisation", {"model_name": "Again", "expected_revision": org["revision"]}, 409)
    executive("GET", "/roles", "/roles")
    token = manager("POST", "/tokens", "/tokens", {"label": "ci", "days": None}, 201)
    manager("GET", "/tokens", "/tokens")
    manager("DELETE", "/tokens/{token_id}", f"/tokens/{token['id']}")
    Checked(spec, ApiClient(None))("GET", "/services", "/services", status=401)
    assert len({(m, t) for m, t, _ in executive.seen | manager.seen}) >= 27
