"""Every write endpoint of the lifecycle, called by every role: allowed, with exactly one
audit event by that person; or a 403 JSON refusal with the policy's sentence, and
nothing written in any table of the network or the lifecycle.

Who may do what is the policy table's (``osom.core.policy.ACTS``): most acts are the
executive's; the assessors of an assessment also record its decisions and add addenda
to its report; the manager or the team record spending; the manager alone re-invests
savings and asks for funding; a report that decommissions is the executive's alone (it
keeps that act to itself by default)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from osom.core.models import AuditEvent, Organisation
from osom.lifecycle import actions
from osom.lifecycle.models import Criterion

from ..lifecycle.helpers import (
    BUDGET,
    DECOMMISSION,
    SOON,
    allocated,
    decided,
    on_agenda,
    published,
    scheduled,
)
from .test_lifecycle_bad_input import everything
from .test_write_permissions import ROLES

EXECUTIVE = {"executive", "exec_team"}
PANEL = {"outsider", "other_manager"}  # assessors on the panel besides the executive


@dataclass
class Write:
    setup: Callable  # cast → (method, path, body)
    allowed: set[str]
    status: int
    verb: str


def _panel(c):
    return [c.executive, c.outsider, c.other_manager]


def _criterion_edit(c):
    criterion = Criterion.objects.get(slug="understand-users-and-their-needs")
    return ("PUT", f"/criteria/{criterion.slug}", {
        "name": "Understand users and what they need", "meaning": criterion.meaning, "stages": criterion.stages,
        "expected_revision": criterion.revision})


def _edit_assessment(c):
    a = scheduled(c, c.service)
    return ("PUT", f"/assessments/{a.pk}", {"agenda_note": "Moved a week later.",
                                             "assessors": [c.executive.pk, c.exec_team.email],
                                             "expected_revision": a.revision})


def _decisions(assessment):
    return {i.criterion.slug: {"decision": "met", "did_well": "Evidence of needs."}
            for i in assessment.items.select_related("criterion")}


def _record(assessors):
    def setup(c):
        a = on_agenda(c, c.service, assessors=assessors(c))
        return ("PUT", f"/assessments/{a.pk}/decisions", {
            "decisions": _decisions(a), "result": "met", "outcome": "progress_to_alpha", "expected_revision": a.revision})
    return setup


def _addendum(assessors):
    def setup(c):
        report = published(c, c.service, outcome="more_research", assessors=assessors(c))
        return ("POST", f"/assessments/{report.pk}/addenda", {"text": "The research plan was shared afterwards."})
    return setup


def _publish(outcome, **report):
    def setup(c):
        a = decided(c, c.service, outcome=outcome)
        return ("POST", f"/assessments/{a.pk}/publish", {**report, "expected_revision": a.revision})
    return setup


def _decide_funding(c):
    request = actions.request_funding(actor=c.manager, service=c.service, kind="expand", period="2026-27",
                                      amount="5000.00", rationale="Twice as many residents applied.")
    return ("POST", f"/funding-requests/{request.pk}/decision", {"grant": True, "note": "Demand is real."})


P = "/services/parking-permits"

WRITES: dict[str, Write] = {
    "add a criterion": Write(
        lambda c: ("POST", "/criteria", {"name": "Publish performance data", "meaning": "Monthly.", "stages": ["live"]}),
        EXECUTIVE, 201, "add_criterion"),
    "edit a criterion": Write(_criterion_edit, EXECUTIVE, 200, "edit_criterion"),
    "schedule an assessment": Write(
        lambda c: ("POST", f"{P}/assessments", {"scheduled_for": SOON.isoformat(), "assessors": [c.executive.email]}),
        EXECUTIVE, 201, "schedule_assessment"),
    "edit an assessment": Write(_edit_assessment, EXECUTIVE, 200, "edit_assessment"),
    "publish an agenda": Write(
        lambda c: ("POST", f"/assessments/{scheduled(c, c.service).pk}/agenda", None),
        EXECUTIVE, 200, "publish_assessment_agenda"),
    "cancel an assessment": Write(
        lambda c: ("POST", f"/assessments/{scheduled(c, c.service).pk}/cancel", {"reason": "The team asked for more time."}),
        EXECUTIVE, 200, "cancel_assessment"),
    "record decisions": Write(_record(lambda c: [c.executive]), EXECUTIVE, 200, "record_assessment_decisions"),
    "record decisions as an assessor": Write(_record(_panel), EXECUTIVE | PANEL, 200, "record_assessment_decisions"),
    "publish a report": Write(_publish("progress_to_alpha", **BUDGET), EXECUTIVE, 200, "publish_assessment_report"),
    # decommissioning is kept by the executive to itself by default
    "publish a report that decommissions": Write(_publish("not_required", **DECOMMISSION), {"executive"}, 200,
                                                 "publish_assessment_report"),
    "add an addendum": Write(_addendum(lambda c: [c.executive]), EXECUTIVE, 201, "add_report_addendum"),
    "add an addendum as an assessor": Write(_addendum(_panel), EXECUTIVE | PANEL, 201, "add_report_addendum"),
    "set the default cadence": Write(lambda c: ("PUT", "/organisation/cadence", {"days": 180}),
                                     EXECUTIVE, 200, "set_assessment_cadence"),
    "set a service's cadence": Write(lambda c: ("PUT", f"{P}/cadence", {"days": 90}),
                                     EXECUTIVE, 200, "set_assessment_cadence"),
    "allocate a budget": Write(lambda c: ("POST", f"{P}/allocations", {"period": "2026-27", "amount": "12000.00"}),
                               EXECUTIVE, 201, "allocate_budget"),
    "record a spend": Write(
        lambda c: ("POST", f"/allocations/{allocated(c).pk}/spends", {
            "amount": "250.00", "spent_on": SOON.isoformat(), "description": "Research incentives"}),
        {"manager", "team_member"}, 201, "record_spend"),
    "re-invest savings": Write(
        lambda c: ("POST", f"/allocations/{allocated(c).pk}/reinvestments", {"amount": "100.00",
                                                                            "purpose": "Accessibility testing"}),
        {"manager"}, 201, "reinvest_savings"),
    "ask for funding": Write(
        lambda c: ("POST", f"{P}/funding-requests", {"kind": "expand", "period": "2026-27", "amount": "5000.00",
                                                     "rationale": "Twice as many residents applied."}),
        {"manager"}, 201, "request_funding"),
    "decide a funding request": Write(_decide_funding, EXECUTIVE, 200, "decide_funding_request"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_each_lifecycle_write_is_allowed_or_refused_by_role(cast, api_as, name, role):
    write = WRITES[name]
    client = api_as(role)  # the caller's own token exists before the set-up
    method, path, body = write.setup(cast)
    before = everything()
    response = client.call(method, path, body)
    if role in write.allowed:
        assert response.status_code == write.status, response.content.decode()[:600]
        new = AuditEvent.objects.exclude(pk__in=[e["id"] for e in before["core.AuditEvent"]])
        assert [(e.verb, e.actor) for e in new] == [(write.verb, cast.by_role()[role])]
    else:
        assert response.status_code == 403, response.content.decode()[:600]
        refusal = response.json()
        assert refusal["error"] == "forbidden"
        assert refusal["message"].startswith(("Only the ", "The ")) and refusal["message"].endswith(".")
        assert everything() == before


def test_an_executive_team_member_schedules_on_the_executives_authority(cast, api_as):
    response = api_as("exec_team").post(f"{P}/assessments", {"scheduled_for": SOON.isoformat(),
                                                              "assessors": [cast.exec_team.pk]})
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.latest("id")
    assert event.actor == cast.exec_team and event.authority_person == cast.executive


def test_an_assessor_records_decisions_in_their_own_right(cast, api_as):
    a = on_agenda(cast, cast.service, assessors=_panel(cast))
    response = api_as("outsider").put(f"/assessments/{a.pk}/decisions", {
        "decisions": _decisions(a), "expected_revision": a.revision})
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.latest("id")
    assert (event.actor, event.authority, event.authority_person) == (cast.outsider, "assessor", None)


def test_the_executive_keeping_decommissioning_refuses_its_team_with_its_own_sentence(cast, api_as):
    assert "decommission_service" in Organisation.current().reserved_acts
    method, path, body = _publish("not_required", **DECOMMISSION)(cast)
    response = api_as("exec_team").call(method, path, body)
    assert response.status_code == 403
    assert response.json()["message"] == ("The Executive keeps the right to decommission a service to itself; "
                                          "Executive team members may not do it.")
