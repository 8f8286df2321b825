"""Calling the API as each of the named people, with their own personal API tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from osom.core.actions import issue_api_token
from osom.core.models import ApiToken, Person

API = "/api/v1"


class ApiClient:
    """A JSON client for /api/v1 acting as one person (or as nobody, with ``token=None``)."""

    def __init__(self, token: str | None, client: Client | None = None) -> None:
        self.client = client or Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, **params: Any):
        data = json.dumps(body) if body is not None else ""
        if params:
            from urllib.parse import urlencode

            path = f"{path}?{urlencode(params, doseq=True)}"
        return self.client.generic(method, API + path, data=data, content_type="application/json", headers=self.headers)

    def get(self, path: str, **params: Any):
        return self.call("GET", path, **params)

    def post(self, path: str, body: Any = None):
        return self.call("POST", path, {} if body is None else body)

    def put(self, path: str, body: Any):
        return self.call("PUT", path, body)

    def delete(self, path: str):
        return self.call("DELETE", path)


def token_for(person: Person) -> str:
    """A fresh personal API token, issued by the person themselves through the action."""
    _, raw = issue_api_token(actor=person, person=person, label="tests")
    # first use records when the token was used (at most once a minute): do it now, so
    # the query counts the tests compare are those of ordinary, repeated use
    ApiToken.authenticate(raw)
    return raw


@pytest.fixture
def api_as(cast) -> Callable[[str], ApiClient]:
    """``api_as("manager")`` calls the API as that member of the cast."""
    tokens: dict[str, str] = {}

    def make(role: str) -> ApiClient:
        if role not in tokens:
            tokens[role] = token_for(cast.by_role()[role])
        return ApiClient(tokens[role])

    return make


def snapshot() -> dict[str, list]:
    """Everything an API write could change, to prove that a refused one changed nothing."""
    from osom.core.models import ApiToken, AuditEvent, Organisation
    from osom.network.models import Appointment, ContractVersion, Dependency, Metric, Need, Service, TeamMembership

    return {
        "audit": list(AuditEvent.objects.values_list("pk", flat=True)),
        "people": list(Person.objects.values_list("pk", "email", "role")),
        "organisation": list(Organisation.objects.values_list("pk", "revision")),
        "tokens": list(ApiToken.objects.values_list("pk", "revoked_at")),
        "services": list(Service.objects.values_list("pk", "name", "manager_id", "current_version_id", "revision")),
        "versions": list(ContractVersion.objects.values_list("pk", "status", "revision")),
        "needs": list(Need.objects.values_list("pk", flat=True)),
        "metrics": list(Metric.objects.values_list("pk", flat=True)),
        "dependencies": list(Dependency.objects.values_list("pk", flat=True)),
        "appointments": list(Appointment.objects.values_list("pk", "ended_at")),
        "team": list(TeamMembership.objects.values_list("pk", "ended_at")),
    }
