"""Bad input to every write endpoint of governance: a JSON answer naming the field and
saying what is wrong in a sentence — 400 (the model's rules), 409 (a conflict or the
wrong moment), 404 (nothing there) or 422 (the request's shape) — and nothing written.
Each case is sent by someone with the right to act, so only the input is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from osom.core.models import ApiToken, Person
from osom.governance import actions
from osom.network import actions as network_actions

from .. import factories
from ..governance.helpers import (
    DUE,
    EVERY_TABLE,
    NEEDS,
    deviation,
    drafted_guidance,
    drafted_mandate,
    issued_mandate,
    proposal,
    published_guidance,
    services_dispute,
    target_of,
)
from ..lifecycle.helpers import decommissioned

YESTERDAY = timezone.localdate() - dt.timedelta(days=1)
P = "parking-permits"
MANDATE = {"title": "Move to shared identity", "instruction": "Sign people in through Identity.",
           "due_date": DUE.isoformat(), "services": [P]}
GUIDANCE = {"title": "Encrypt data at rest", "body": "Encrypt every store of personal data.", "source": "law",
            "category": "security"}
DISPUTE = {"service": P, "other_service": "identity", "subject": "Identity outages",
           "description": "Residents cannot sign in at month end."}
DEVIATION = {"title": "No CoE for minor incidents", "compromised": "Every problem becomes a CoE.",
             "positive": "Less paperwork.", "negative": "Small lessons are lost.",
             "governance": "A monthly review of incidents.", "review_on": DUE.isoformat()}


def everything() -> dict[str, list[dict]]:
    """Every row of every table a governance write may touch — the network's, the
    lifecycle's, notifications and the audit log included (API tokens aside: using one
    notes when it was last used)."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE if m is not ApiToken}


# ---------------------------------------------------------------- set-ups


def _mandate(**changes):
    return lambda c: ("POST", "/mandates", {**MANDATE, **changes})


def _rewrite(make, moved: int = 0, **changes):
    def setup(c):
        m = make(c)
        return ("PUT", f"/mandates/{m.pk}", {**MANDATE, "expected_revision": m.revision + moved, **changes})
    return setup


def _stale_mandate(c):
    m = drafted_mandate(c)
    seen = m.revision
    actions.draft_mandate(actor=c.exec_team, mandate=m, title="Changed meanwhile", instruction="Again.", due_date=DUE,
                          services=[c.service], expected_revision=seen)
    return ("PUT", f"/mandates/{m.pk}", {**MANDATE, "expected_revision": seen})


def _all_done(c):
    m = issued_mandate(c)
    for service in (c.service, c.other_service):
        actions.report_mandate_progress(actor=service.manager, target=target_of(m, service), note="Done.", done=True)
    return ("POST", f"/mandates/{m.pk}/remind", None)


def _closed(c):
    m = issued_mandate(c)
    return actions.close_mandate(actor=c.executive, mandate=m, note="Superseded.")


def _acknowledged(c):
    m = issued_mandate(c)
    actions.acknowledge_mandate(actor=c.manager, target=target_of(m, c.service))
    return ("POST", f"/mandates/{m.pk}/targets/{P}/acknowledge", {"note": "Again."})


def _stale_guidance(c):
    g = drafted_guidance(c)
    seen = g.revision
    actions.draft_guidance(actor=c.exec_team, guidance=g, title="Changed meanwhile", body="Again.", source="practice",
                           category="technology")
    return ("PUT", f"/guidance/{g.pk}", {**GUIDANCE, "expected_revision": seen})


def _decide(make, **body):
    return lambda c: ("PUT", f"/guidance/{make(c).pk}/decisions/{P}", body)


def _resolve(make=services_dispute, **body):
    return lambda c: ("POST", f"/disputes/{make(c).pk}/resolve", {
        "resolution": "Identity moves its maintenance window.", **body})


def _resolved(c):
    d = services_dispute(c)
    return actions.resolve_dispute(actor=c.executive, dispute=d, resolution="Agreed.", lever="none")


def _approved_version(c):
    """A version its manager drafted and the executive approved: not an alteration."""
    draft = network_actions.draft_contract_version(actor=c.manager, service=c.service, change_note="Next")
    network_actions.submit_contract_version(actor=c.manager, version=draft)
    network_actions.approve_contract_version(actor=c.executive, version=draft)
    return {"service": P, "number": draft.number}


def _open_draft(c):
    network_actions.draft_contract_version(actor=c.manager, service=c.service, change_note="Working on it")
    return ("POST", f"/proposals/{proposal(c).pk}/fold", {"service": P})


def _decided(c):
    return actions.decline_proposal(actor=c.executive, proposal=proposal(c), reason="Not this year.")


def _stale_deviation(c):
    d = deviation(c)
    seen = d.revision
    actions.record_deviation(actor=c.exec_team, deviation=d, expected_revision=seen,
                             **{**DEVIATION, "title": "Revised meanwhile by someone else"})
    return ("PUT", f"/deviations/{d.pk}", {**DEVIATION, "expected_revision": seen})


def _revise_retired(c):
    d = deviation(c)
    seen = d.revision
    actions.retire_deviation(actor=c.exec_team, deviation=d, reason="Merged.")
    return ("PUT", f"/deviations/{d.pk}", {**DEVIATION, "expected_revision": seen + 1})


def _retired(c):
    d = deviation(c)
    return actions.retire_deviation(actor=c.executive, deviation=d, reason="Merged.")


def _left(c):
    Person.objects.filter(pk=c.outsider.pk).update(is_active=False)
    return c.outsider.email


# name → (role, set-up returning (method, path, body), status, field)
CASES = {
    # mandates
    "a mandate without a title": ("executive", _mandate(title=" "), 400, "title"),
    "a mandate without an instruction": ("executive", _mandate(instruction=""), 400, "instruction"),
    "a mandate due yesterday": ("executive", _mandate(due_date=YESTERDAY.isoformat()), 400, "due_date"),
    "a mandate due on no date": ("executive", _mandate(due_date="soon"), 422, "due_date"),
    "a mandate for an unknown service": ("executive", _mandate(services=[P, "nowhere"]), 400, "services[1]"),
    "a mandate for no service": ("executive", _mandate(services=[]), 400, "services"),
    "a mandate with a list and a filter": ("executive", _mandate(scope_filter={"stage": "live"}), 400, "scope_filter"),
    "a filter that is not one of the network list's": ("executive", _mandate(
        services=[], scope_filter={"colour": "red"}), 422, "scope_filter.colour"),
    "a filter on a stage that does not exist": ("executive", _mandate(
        services=[], scope_filter={"stage": "retired"}), 422, "scope_filter.stage"),
    "a filter consuming an unknown service": ("executive", _mandate(
        services=[], scope_filter={"consumes": "nowhere"}), 400, "scope_filter.consumes"),
    "a mandate for a decommissioned service": ("executive", lambda c: _mandate(
        services=[decommissioned(c).slug])(c), 400, "services"),
    "rewriting a mandate with a stale revision": ("executive", _stale_mandate, 409, "revision"),
    "rewriting an issued mandate": ("executive", _rewrite(issued_mandate), 409, "mandate"),
    "rewriting without the revision": ("executive", lambda c: (
        "PUT", f"/mandates/{drafted_mandate(c).pk}", MANDATE), 422, "expected_revision"),
    "rewriting a mandate that does not exist": ("executive", lambda c: (
        "PUT", "/mandates/9999", {**MANDATE, "expected_revision": 1}), 404, "mandate_id"),
    "issuing a mandate twice": ("executive", lambda c: ("POST", f"/mandates/{issued_mandate(c).pk}/issue", None),
                                409, "mandate"),
    "issuing a filter no service matches": ("executive", lambda c: (
        "POST", f"/mandates/{drafted_mandate(c, scope_filter={'stage': 'live'}).pk}/issue", None), 400, "scope_filter"),
    "closing a draft": ("executive", lambda c: ("POST", f"/mandates/{drafted_mandate(c).pk}/close", None),
                        409, "mandate"),
    "reminding of a draft": ("executive", lambda c: ("POST", f"/mandates/{drafted_mandate(c).pk}/remind", None),
                             409, "mandate"),
    "reminding when every service is done": ("executive", _all_done, 400, "mandate"),
    "acknowledging twice": ("manager", _acknowledged, 409, "target"),
    "acknowledging for a service the mandate does not name": ("manager", lambda c: (
        "POST", f"/mandates/{issued_mandate(c, services=[c.other_service]).pk}/targets/{P}/acknowledge", None),
        404, "service_slug"),
    "acknowledging for a service that does not exist": ("manager", lambda c: (
        "POST", f"/mandates/{issued_mandate(c).pk}/targets/nowhere/acknowledge", None), 404, "service_slug"),
    "acknowledging a mandate that does not exist": ("manager", lambda c: (
        "POST", f"/mandates/9999/targets/{P}/acknowledge", None), 404, "mandate_id"),
    "progress without a note": ("manager", lambda c: (
        "POST", f"/mandates/{issued_mandate(c).pk}/targets/{P}/progress", {"note": " ", "done": True}), 400, "note"),
    "progress saying nothing at all": ("manager", lambda c: (
        "POST", f"/mandates/{issued_mandate(c).pk}/targets/{P}/progress", {}), 422, "note"),
    "progress on a closed mandate": ("manager", lambda c: (
        "POST", f"/mandates/{_closed(c).pk}/targets/{P}/progress", {"note": "Late."}), 409, "mandate"),
    # guidance
    "guidance without a body": ("executive", lambda c: ("POST", "/guidance", {**GUIDANCE, "body": ""}), 400, "body"),
    "guidance from an unknown source": ("executive", lambda c: ("POST", "/guidance", {**GUIDANCE, "source": "rumour"}),
                                        422, "source"),
    "guidance of an unknown category": ("executive", lambda c: (
        "POST", "/guidance", {**GUIDANCE, "category": "magic"}), 422, "category"),
    "guidance whose source is too long": ("executive", lambda c: (
        "POST", "/guidance", {**GUIDANCE, "source_detail": "x" * 301}), 400, "source_detail"),
    "rewriting published guidance": ("executive", lambda c: (
        "PUT", f"/guidance/{published_guidance(c).pk}", {**GUIDANCE, "expected_revision": 2}), 409, "guidance"),
    "rewriting guidance with a stale revision": ("executive", _stale_guidance, 409, "revision"),
    "rewriting guidance that does not exist": ("executive", lambda c: (
        "PUT", "/guidance/9999", {**GUIDANCE, "expected_revision": 1}), 404, "guidance_id"),
    "publishing guidance twice": ("executive", lambda c: (
        "POST", f"/guidance/{published_guidance(c).pk}/publish", None), 409, "guidance"),
    "withdrawing a draft": ("executive", lambda c: (
        "POST", f"/guidance/{drafted_guidance(c).pk}/withdraw", {"reason": "Oops."}), 409, "guidance"),
    "withdrawing without a reason": ("executive", lambda c: (
        "POST", f"/guidance/{published_guidance(c).pk}/withdraw", {"reason": ""}), 400, "reason"),
    "a decision that is neither adopt nor reject": ("manager", _decide(published_guidance, decision="maybe"),
                                                    422, "decision"),
    "rejecting without a rationale": ("manager", _decide(published_guidance, decision="reject"), 400, "rationale"),
    "deciding on a draft": ("manager", _decide(drafted_guidance, decision="adopt"), 400, "guidance"),
    "deciding on guidance that does not exist": ("manager", lambda c: (
        "PUT", f"/guidance/9999/decisions/{P}", {"decision": "adopt"}), 404, "guidance_id"),
    "deciding for a service that does not exist": ("manager", lambda c: (
        "PUT", f"/guidance/{published_guidance(c).pk}/decisions/nowhere", {"decision": "adopt"}), 404, "service_slug"),
    # disputes
    "a dispute between services naming no service": ("manager", lambda c: (
        "POST", "/disputes", {**DISPUTE, "service": None}), 400, "service"),
    "a dispute with an unknown service": ("manager", lambda c: (
        "POST", "/disputes", {**DISPUTE, "other_service": "nowhere"}), 400, "other_service"),
    "a dispute with no other service": ("manager", lambda c: (
        "POST", "/disputes", {**DISPUTE, "other_service": None}), 400, "other_service"),
    "a service in dispute with itself": ("manager", lambda c: (
        "POST", "/disputes", {**DISPUTE, "other_service": P}), 400, "other_service"),
    "a dispute without a subject": ("manager", lambda c: ("POST", "/disputes", {**DISPUTE, "subject": ""}),
                                    400, "subject"),
    "a dispute without a description": ("manager", lambda c: ("POST", "/disputes", {**DISPUTE, "description": " "}),
                                        400, "description"),
    "a dispute of an unknown kind": ("manager", lambda c: ("POST", "/disputes", {**DISPUTE, "kind": "feud"}),
                                     422, "kind"),
    "an evaluation dispute naming a service": ("team_member", lambda c: (
        "POST", "/disputes", {**DISPUTE, "kind": "evaluation"}), 400, "service"),
    "resolving with an unknown lever": ("executive", _resolve(lever="threats"), 422, "lever"),
    "resolving by a mandate without naming it": ("executive", _resolve(lever="mandate"), 400, "mandate"),
    "resolving by a mandate that does not exist": ("executive", _resolve(lever="mandate", mandate=9999),
                                                   400, "mandate"),
    "resolving by an alteration that is not one": ("executive", lambda c: _resolve(
        lever="alteration", contract_version=_approved_version(c))(c), 400, "contract_version"),
    "resolving by a version that does not exist": ("executive", _resolve(
        lever="alteration", contract_version={"service": P, "number": 99}), 400, "contract_version"),
    "resolving by an assessment that does not exist": ("executive", _resolve(lever="assessment", assessment=9999),
                                                       400, "assessment"),
    "resolving without saying how": ("executive", _resolve(lever="none", resolution=" "), 400, "resolution"),
    "resolving a dispute twice": ("executive", _resolve(_resolved, lever="none"), 409, "dispute"),
    "resolving a dispute that does not exist": ("executive", lambda c: (
        "POST", "/disputes/9999/resolve", {"resolution": "Agreed.", "lever": "none"}), 404, "dispute_id"),
    "withdrawing a resolved dispute": ("manager", lambda c: ("POST", f"/disputes/{_resolved(c).pk}/withdraw", None),
                                       409, "dispute"),
    # demand management
    "a proposal without a title": ("outsider", lambda c: ("POST", "/proposals", {"title": "", "needs": NEEDS}),
                                   400, "title"),
    "a proposal of no needs": ("outsider", lambda c: ("POST", "/proposals", {"title": "Permits", "needs": []}),
                               400, "needs"),
    "a need without its outcome": ("outsider", lambda c: ("POST", "/proposals", {"title": "Permits", "needs": [
        NEEDS[0], {**NEEDS[1], "so_that": " "}]}), 400, "needs[1].so_that"),
    "a need missing its outcome altogether": ("outsider", lambda c: ("POST", "/proposals", {"title": "Permits", "needs": [
        {"as_a": "carer", "i_need": "a permit"}]}), 422, "needs[0].so_that"),
    "folding into an unknown service": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/fold", {"service": "nowhere"}), 400, "service"),
    "folding into a service with an open draft": ("executive", _open_draft, 409, "service"),
    "folding into a decommissioned service": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/fold", {"service": decommissioned(c).slug}), 400, "service"),
    "declining without a reason": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/decline", {"reason": ""}), 400, "reason"),
    "deciding a proposal twice": ("executive", lambda c: (
        "POST", f"/proposals/{_decided(c).pk}/fold", {"service": P}), 409, "proposal"),
    "establishing a service without saying what it is": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/establish", {**factories.contract("Visitor permits"), "purpose": ""}),
        400, "purpose"),
    "establishing a service under a name taken": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/establish", factories.contract("Identity")), 400, "name"),
    "establishing with an unknown manager": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/establish", {
            **factories.contract("Visitor permits"), "manager": "nobody@example.org"}), 400, "manager"),
    "establishing with a manager who has left": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/establish", {
            **factories.contract("Visitor permits"), "manager": _left(c)}), 400, "manager"),
    "establishing without the kind of users": ("executive", lambda c: (
        "POST", f"/proposals/{proposal(c).pk}/establish", {
            k: v for k, v in factories.contract("Visitor permits").items() if k != "user_type"}), 422, "user_type"),
    "deciding a proposal that does not exist": ("executive", lambda c: (
        "POST", "/proposals/9999/decline", {"reason": "No."}), 404, "proposal_id"),
    "matching needs with no words": ("outsider", lambda c: (
        "POST", "/matching/suggestions", {"needs": [{"as_a": " ", "i_need": ""}]}), 400, "needs"),
    "matching with no suggestion wanted": ("outsider", lambda c: (
        "POST", "/matching/suggestions", {"needs": NEEDS, "limit": 0}), 422, "limit"),
    # deviations
    "a deviation without its governance": ("executive", lambda c: (
        "POST", "/deviations", {**DEVIATION, "governance": ""}), 400, "governance"),
    "a deviation reviewed on no date": ("executive", lambda c: (
        "POST", "/deviations", {**DEVIATION, "review_on": "next year"}), 422, "review_on"),
    "revising a deviation with a stale revision": ("executive", _stale_deviation, 409, "revision"),
    "revising a retired deviation": ("executive", _revise_retired, 409, "deviation"),
    "revising a deviation that does not exist": ("executive", lambda c: (
        "PUT", "/deviations/9999", {**DEVIATION, "expected_revision": 1}), 404, "deviation_id"),
    "retiring without a reason": ("executive", lambda c: (
        "POST", f"/deviations/{deviation(c).pk}/retire", {"reason": " "}), 400, "reason"),
    "retiring a deviation twice": ("executive", lambda c: (
        "POST", f"/deviations/{_retired(c).pk}/retire", {"reason": "Again."}), 409, "deviation"),
    # delegation and notifications
    "keeping an act that is not the executive's": ("executive", lambda c: (
        "PUT", "/organisation/reserved-acts", {"acts": ["issue_mandate", "submit_contract_version"]}), 400, "acts"),
    "keeping acts that are not a list": ("executive", lambda c: (
        "PUT", "/organisation/reserved-acts", {"acts": "all"}), 422, "acts"),
    "marking notifications that are not ids": ("manager", lambda c: (
        "POST", "/notifications/read", {"ids": ["latest"]}), 422, "ids[0]"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_governance_input_is_refused_naming_the_field_and_nothing_is_written(cast, api_as, name):
    role, setup, status, field = CASES[name]
    client = api_as(role)
    method, path, body = setup(cast)
    before = everything()
    response = client.call(method, path, body)
    assert response.status_code == status, response.content.decode()[:600]
    error = response.json()
    assert error["field"] == field, error
    assert error["message"].strip().endswith("."), error
    if status in (400, 422):
        assert field in {e["field"] for e in error["errors"]}
    assert everything() == before


def test_every_problem_of_a_mandate_is_named_at_once(cast, api_as):
    response = api_as("executive").post("/mandates", {"title": "", "instruction": "", "due_date": YESTERDAY.isoformat(),
                                                       "services": []})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"title", "instruction", "due_date", "services"}


def test_a_stale_rewrite_says_what_changed(cast, api_as):
    method, path, body = _stale_mandate(cast)
    response = api_as("executive").call(method, path, body)
    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and response.json()["changes"] == ["Now at revision 2."]


@pytest.mark.parametrize("path, field", [
    ("/mandates/9999", "mandate_id"), ("/guidance/9999", "guidance_id"), ("/disputes/9999", "dispute_id"),
    ("/proposals/9999", "proposal_id"), ("/services/nowhere/guidance-rejections", "slug"),
])
def test_an_unknown_object_is_a_404_json(cast, api_as, path, field):
    response = api_as("outsider").get(path)
    assert response.status_code == 404 and response.json()["field"] == field


@pytest.mark.parametrize("path, params, field", [
    ("/mandates", {"status": "lost"}, "status"), ("/guidance", {"category": "magic"}, "category"),
    ("/guidance", {"source": "rumour"}, "source"), ("/disputes", {"kind": "feud"}, "kind"),
    ("/proposals", {"status": "maybe"}, "status"), ("/deviations", {"status": "asleep"}, "status"),
    ("/matching/duplicates", {"threshold": 2}, "threshold"), ("/matching/duplicates", {"threshold": "alike"}, "threshold"),
    ("/notifications", {"limit": 0}, "limit"), ("/dashboard/executive", {"limit": 1000}, "limit"),
    ("/guidance/1", {"decision": "maybe"}, "decision"),
])
def test_a_list_refuses_a_filter_out_of_range(cast, api_as, path, params, field):
    published_guidance(cast)
    response = api_as("outsider").get(path, **params)
    assert response.status_code == 422 and response.json()["field"] == field
