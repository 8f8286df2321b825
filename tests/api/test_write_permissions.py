"""Every write endpoint, called by every role: allowed, and exactly one audit event by
that person; or a 403 JSON refusal with the policy's sentence, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from osom.core.models import ApiToken, AuditEvent, Organisation
from osom.network import actions

from .. import factories
from .conftest import snapshot, token_for

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
EXECUTIVE = {"executive", "exec_team"}


@dataclass
class Write:
    setup: Callable  # cast → (method, path, body)
    allowed: set[str]
    status: int
    verb: str


def _draft(c):
    return actions.draft_contract_version(actor=c.manager, service=c.service)


def _submitted(c):
    draft = _draft(c)
    return actions.submit_contract_version(actor=c.manager, version=draft)


def _unmanaged(c):
    return factories.service(c.executive, "Libraries")


P = "/services/parking-permits"

WRITES: dict[str, Write] = {
    "establish a service": Write(
        lambda c: ("POST", "/services", {**factories.contract("Waste collection"), "manager": c.outsider.email}),
        EXECUTIVE, 201, "establish_service"),
    "adopt an existing service": Write(
        lambda c: ("POST", "/services/adopt", {**factories.contract("Payroll"), "lifecycle_stage": "live"}),
        EXECUTIVE, 201, "adopt_existing_service"),
    "appoint a first manager": Write(
        lambda c: ("POST", f"/services/{_unmanaged(c).slug}/manager", {"person": c.outsider.email}),
        EXECUTIVE, 201, "appoint_manager"),
    "replace the manager": Write(
        lambda c: ("POST", f"{P}/manager", {"person": c.outsider.pk, "reason": "Rotation"}),
        {"executive"}, 201, "replace_manager"),  # the executive keeps this act by default
    "open a draft": Write(
        lambda c: ("POST", f"{P}/drafts", {"change_note": "Add a need"}),
        EXECUTIVE | {"manager"}, 201, "draft_contract_version"),
    "edit a draft": Write(
        lambda c: (lambda d: ("PUT", f"{P}/versions/{d.number}", {
            **factories.contract("Parking permits", needs=2, dependencies=["identity"]),
            "expected_revision": d.revision}))(_draft(c)),
        EXECUTIVE | {"manager"}, 200, "edit_contract_draft"),
    "discard a draft": Write(
        lambda c: ("DELETE", f"{P}/versions/{_draft(c).number}", None),
        EXECUTIVE | {"manager"}, 204, "discard_contract_draft"),
    "submit a draft": Write(
        lambda c: ("POST", f"{P}/versions/{_draft(c).number}/submit", None),
        {"manager"}, 200, "submit_contract_version"),
    "approve a version": Write(
        lambda c: (lambda v: ("POST", f"{P}/versions/{v.number}/approve", {"expected_revision": v.revision}))(_submitted(c)),
        EXECUTIVE, 200, "approve_contract_version"),
    "return a version": Write(
        lambda c: ("POST", f"{P}/versions/{_submitted(c).number}/return", {"reason": "Needs targets"}),
        EXECUTIVE, 200, "return_contract_version"),
    "alter a contract": Write(
        lambda c: ("POST", f"{P}/alterations", {
            **factories.contract("Parking permits", needs=2, dependencies=["identity"]),
            "reason": "A new law", "risk": "Residents must re-apply"}),
        EXECUTIVE, 201, "alter_contract"),
    "add a dependency": Write(
        lambda c: ("POST", "/services/identity/dependencies", {"provider": "parking-permits", "note": "Permit checks"}),
        EXECUTIVE | {"other_manager"}, 201, "add_dependency"),
    "remove a dependency": Write(
        lambda c: ("DELETE", f"{P}/dependencies/identity", None),
        EXECUTIVE | {"manager"}, 200, "remove_dependency"),
    "add a team member": Write(
        lambda c: ("POST", f"{P}/team", {"person": c.outsider.email, "role": "Content designer", "level": "senior"}),
        {"manager"}, 201, "add_team_member"),
    "remove a team member": Write(
        lambda c: ("DELETE", f"{P}/team/{c.service.team.get().pk}", None),
        {"manager"}, 200, "remove_team_member"),
    "rename the model's roles": Write(
        lambda c: ("PUT", "/organisation", {"executive_name": "Board", "expected_revision": Organisation.current().revision}),
        EXECUTIVE, 200, "edit_terminology"),
    "add a person": Write(
        lambda c: ("POST", "/people", {"email": "new@example.org", "name": "New Person"}),
        EXECUTIVE, 201, "create_person"),
    "issue an API token": Write(
        lambda c: ("POST", "/tokens", {"label": "laptop", "days": 30}),
        set(ROLES), 201, "issue_api_token"),
    "revoke the manager's API token": Write(
        lambda c: (token_for(c.manager),
                   ("DELETE", f"/tokens/{ApiToken.objects.filter(person=c.manager).latest('pk').pk}", None))[1],
        EXECUTIVE | {"manager"}, 200, "revoke_api_token"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_each_write_is_allowed_or_refused_by_role(cast, api_as, name, role):
    write = WRITES[name]
    client = api_as(role)  # the caller's own token exists before the set-up
    method, path, body = write.setup(cast)
    before = snapshot()
    response = client.call(method, path, body)
    if role in write.allowed:
        assert response.status_code == write.status, response.content.decode()[:600]
        new = AuditEvent.objects.exclude(pk__in=before["audit"])
        assert [(e.verb, e.actor) for e in new] == [(write.verb, cast.by_role()[role])]
    else:
        assert response.status_code == 403, response.content.decode()[:600]
        body = response.json()
        assert body["error"] == "forbidden"
        assert body["message"].startswith(("Only the ", "The ")) and body["message"].endswith(".")
        assert snapshot() == before


def test_an_executive_team_member_acts_on_the_executives_authority(cast, api_as):
    response = api_as("exec_team").post("/services", factories.contract("Waste collection"))
    assert response.status_code == 201
    event = AuditEvent.objects.latest("id")
    assert event.actor == cast.exec_team and event.authority_person == cast.executive
