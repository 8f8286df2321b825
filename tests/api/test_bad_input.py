"""Bad input to every write endpoint: a JSON answer naming the field and saying what is
wrong in a sentence, with 400 (the model's rules), 409 (a conflict), 404 (nothing
there) or 422 (the request's shape), and nothing written."""

from __future__ import annotations

import pytest

from osom.core.models import ApiToken, Organisation
from osom.network import actions

from .. import factories
from .conftest import ApiClient, snapshot, token_for

P = "/services/parking-permits"


def _draft(c):
    return actions.draft_contract_version(actor=c.manager, service=c.service)


def _submitted(c):
    return actions.submit_contract_version(actor=c.manager, version=_draft(c))


def _contract(**changes):
    return {**factories.contract("Parking permits", dependencies=["identity"]), **changes}


def _revoked_token(c):
    token_for(c.manager)
    token = ApiToken.objects.filter(person=c.manager).latest("pk")
    from osom.core.actions import revoke_api_token

    revoke_api_token(actor=c.manager, token=token)
    return token.pk


# name → (role, set-up returning (method, path, body), status, field)
CASES = {
    "a contract without a purpose": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "purpose": "  "}), 400, "purpose"),
    "a contract without needs": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "needs": []}), 400, "needs"),
    "a need measured by an unknown metric": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"),
        "needs": [{"as_a": "resident", "i_need": "bins emptied", "so_that": "streets stay clean", "metrics": ["nope"]}]}),
        400, "needs[0].metrics"),
    "a need without its outcome": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "needs": [{"as_a": "resident", "i_need": "bins emptied", "so_that": ""}]}),
        400, "needs[0].so_that"),
    "a need missing a field": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "needs": [{"as_a": "resident", "i_need": "bins emptied"}]}),
        422, "needs[0].so_that"),
    "a target that is not a number": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "metrics": [{"key": "m1", "name": "Bins", "unit": "%", "target": "lots"}]}),
        422, "metrics[0].target"),
    "an unknown evolution stage": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "evolution_stage": "ancient"}), 422, "evolution_stage"),
    "a name another service has": ("executive", lambda c: ("POST", "/services", factories.contract("identity")),
                                   400, "name"),
    "a manager who is not in the organisation": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "manager": "nobody@example.org"}), 400, "manager"),
    "a dependency on an unknown service": ("executive", lambda c: ("POST", "/services", {
        **factories.contract("Waste"), "dependencies": [{"provider": "nowhere"}]}), 400, "dependencies[0].provider"),
    "adopting at the decommissioned stage": ("executive", lambda c: ("POST", "/services/adopt", {
        **factories.contract("Payroll"), "lifecycle_stage": "decommissioned"}), 400, "lifecycle_stage"),
    "adopting without a stage": ("executive", lambda c: ("POST", "/services/adopt", factories.contract("Payroll")),
                                 422, "lifecycle_stage"),
    "replacing a manager without a reason": ("executive", lambda c: ("POST", f"{P}/manager", {
        "person": c.outsider.pk}), 400, "reason"),
    "appointing an unknown person": ("executive", lambda c: ("POST", f"{P}/manager", {
        "person": 9999, "reason": "Rotation"}), 400, "person"),
    "appointing the manager in post": ("executive", lambda c: ("POST", f"{P}/manager", {
        "person": c.manager.email, "reason": "Again"}), 400, "person"),
    "a second open draft": ("manager", lambda c: (_draft(c), ("POST", f"{P}/drafts", {}))[1], 409, "service"),
    "editing a draft with a stale revision": ("manager", lambda c: (lambda d: ("PUT", f"{P}/versions/{d.number}", {
        **_contract(), "expected_revision": d.revision - 1}))(_draft(c)), 409, "revision"),
    "editing a draft without its revision": ("manager", lambda c: ("PUT", f"{P}/versions/{_draft(c).number}",
                                                                   _contract()), 422, "expected_revision"),
    "editing a draft into a self-dependency": ("manager", lambda c: (lambda d: ("PUT", f"{P}/versions/{d.number}", {
        **_contract(dependencies=[{"provider": "parking-permits"}]), "expected_revision": d.revision}))(_draft(c)),
        400, "dependencies[0].provider"),
    "editing an approved version": ("manager", lambda c: ("PUT", f"{P}/versions/1", {
        **_contract(), "expected_revision": 1}), 409, "version"),
    "editing a version that does not exist": ("manager", lambda c: ("PUT", f"{P}/versions/9", {
        **_contract(), "expected_revision": 1}), 404, "number"),
    "discarding an approved version": ("manager", lambda c: ("DELETE", f"{P}/versions/1", None), 409, "version"),
    "submitting an approved version": ("manager", lambda c: ("POST", f"{P}/versions/1/submit", None), 409, "version"),
    "approving a draft not yet submitted": ("executive", lambda c: ("POST", f"{P}/versions/{_draft(c).number}/approve",
                                                                    None), 409, "version"),
    "approving with a stale revision": ("executive", lambda c: (lambda v: (
        "POST", f"{P}/versions/{v.number}/approve", {"expected_revision": v.revision - 1}))(_submitted(c)), 409, "revision"),
    "returning without a reason": ("executive", lambda c: ("POST", f"{P}/versions/{_submitted(c).number}/return",
                                                           {"reason": " "}), 400, "reason"),
    "returning with no body": ("executive", lambda c: ("POST", f"{P}/versions/{_submitted(c).number}/return", None),
                               422, "body"),
    "altering without the risk": ("executive", lambda c: ("POST", f"{P}/alterations", {
        **_contract(), "reason": "A new law", "risk": ""}), 400, "risk"),
    "depending on an unknown service": ("manager", lambda c: ("POST", f"{P}/dependencies", {"provider": "nowhere"}),
                                        400, "provider"),
    "depending on itself": ("manager", lambda c: ("POST", f"{P}/dependencies", {"provider": "parking-permits"}),
                            400, "provider"),
    "depending twice on the same service": ("manager", lambda c: ("POST", f"{P}/dependencies", {"provider": "Identity"}),
                                            400, "provider"),
    "removing a dependency there is not": ("other_manager", lambda c: (
        "DELETE", "/services/identity/dependencies/parking-permits", None), 400, "provider"),
    "removing a dependency on an unknown service": ("manager", lambda c: ("DELETE", f"{P}/dependencies/nowhere", None),
                                                    404, "provider_slug"),
    "a team member at an unknown level": ("manager", lambda c: ("POST", f"{P}/team", {
        "person": c.outsider.email, "role": "Content designer", "level": "wizard"}), 422, "level"),
    "a team member in an unknown role": ("manager", lambda c: ("POST", f"{P}/team", {
        "person": c.outsider.email, "role": "Astronaut", "level": "senior"}), 400, "role"),
    "a team member already in the team": ("manager", lambda c: ("POST", f"{P}/team", {
        "person": c.team_member.pk, "role": "Content designer", "level": "senior"}), 400, "person"),
    "removing a membership of another team": ("other_manager", lambda c: (
        "DELETE", f"/services/identity/team/{c.service.team.get().pk}", None), 404, "membership_id"),
    "an empty name for the executive": ("executive", lambda c: ("PUT", "/organisation", {
        "executive_name": "", "expected_revision": Organisation.current().revision}), 400, "executive_name"),
    "renaming with a stale revision": ("executive", lambda c: ("PUT", "/organisation", {
        "executive_name": "Board", "expected_revision": Organisation.current().revision + 1}), 409, "revision"),
    "a person without an email address": ("executive", lambda c: ("POST", "/people", {
        "email": "not-an-address", "name": "New Person"}), 400, "email"),
    "a person already in the organisation": ("executive", lambda c: ("POST", "/people", {
        "email": c.outsider.email.upper(), "name": "Again"}), 400, "email"),
    "a person in an unknown role": ("executive", lambda c: ("POST", "/people", {
        "email": "new@example.org", "name": "New Person", "role": "emperor"}), 422, "role"),
    "a token lasting no days": ("outsider", lambda c: ("POST", "/tokens", {"days": 0}), 400, "days"),
    "revoking a token twice": ("manager", lambda c: ("DELETE", f"/tokens/{_revoked_token(c)}", None), 400, "token"),
    "revoking a token that does not exist": ("manager", lambda c: ("DELETE", "/tokens/9999", None), 404, "token_id"),
    "writing to a service that does not exist": ("executive", lambda c: ("POST", "/services/nowhere/drafts", {}),
                                                 404, "slug"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(cast, api_as, name):
    role, setup, status, field = CASES[name]
    client = api_as(role)
    method, path, body = setup(cast)
    before = snapshot()
    response = client.call(method, path, body)
    assert response.status_code == status, response.content.decode()[:600]
    error = response.json()
    assert error["field"] == field, error
    assert error["message"].strip().endswith("."), error
    if status in (400, 422):
        assert field in {e["field"] for e in error["errors"]}
    assert snapshot() == before


def test_a_conflict_says_what_changed(cast, api_as):
    draft = _draft(cast)
    client = api_as("manager")
    first = client.put(f"{P}/versions/{draft.number}", {**_contract(), "expected_revision": draft.revision})
    assert first.status_code == 200
    second = client.put(f"{P}/versions/{draft.number}", {**_contract(), "expected_revision": draft.revision})
    assert second.status_code == 409
    assert second.json()["error"] == "conflict" and second.json()["changes"]


def test_a_body_that_is_not_json_is_a_400_naming_the_body(cast, api_as):
    client = api_as("executive")
    before = snapshot()
    response = client.client.post("/api/v1/services", data="{not json", content_type="application/json",
                                  headers=client.headers)
    assert response.status_code == 400
    assert response.json()["field"] == "body"
    assert snapshot() == before


def test_every_field_that_is_wrong_is_named_at_once(cast, api_as):
    response = api_as("executive").post("/services", {
        **factories.contract("Waste"), "purpose": "", "needs": [{"as_a": "", "i_need": "x", "so_that": "y"}]})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"purpose", "needs[0].as_a"}


@pytest.mark.parametrize("path", ["/services/nowhere", "/services/nowhere/versions", "/services/nowhere/diff"])
def test_an_unknown_service_is_a_404_json(cast, api_as, path):
    response = api_as("outsider").get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "There is no service “nowhere”.", "field": "slug",
                               "errors": [{"field": "slug", "message": "There is no service “nowhere”."}]}


def test_an_unknown_version_is_a_404_naming_the_number(cast, api_as):
    response = api_as("outsider").get(f"{P}/versions/7")
    assert response.status_code == 404 and response.json()["field"] == "number"
    response = api_as("outsider").get(f"{P}/diff", **{"from": 1, "to": 7})
    assert response.status_code == 404 and response.json()["field"] == "to"


def test_no_one_signed_out_can_write(cast):
    before = snapshot()
    response = ApiClient(None).post("/services", factories.contract("Waste"))
    assert response.status_code == 401
    assert snapshot() == before
