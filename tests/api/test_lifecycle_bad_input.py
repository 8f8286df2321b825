"""Bad input to every write endpoint of the lifecycle: a JSON answer naming the field and
saying what is wrong in a sentence — 400 (the model's rules), 409 (a conflict or the
wrong moment), 404 (nothing there) or 422 (the request's shape) — and nothing written.
Each case is sent by someone with the right to act, so only the input is wrong."""

from __future__ import annotations

import pytest

from osom.core.models import ApiToken, Person
from osom.lifecycle import actions
from osom.lifecycle.models import Criterion

from ..lifecycle.helpers import (
    BUDGET,
    DECOMMISSION,
    EVERY_TABLE,
    SOON,
    allocated,
    decided,
    decommissioned,
    on_agenda,
    published,
    scheduled,
)

P = "/services/parking-permits"
UNDERSTAND_USERS = "understand-users-and-their-needs"


def everything() -> dict[str, list[dict]]:
    """Every row of every table the lifecycle's writes may touch, the network's and the
    audit log included (API tokens aside: using one notes when it was last used)."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE if m is not ApiToken}


def _criterion_edit(stale: bool = False, **changes):
    def setup(c):
        criterion = Criterion.objects.get(slug=UNDERSTAND_USERS)
        seen = criterion.revision
        if stale:
            actions.edit_criterion(actor=c.exec_team, criterion=criterion, name=criterion.name,
                                   meaning="Evidence from research.", stages=criterion.stages)
        return ("PUT", f"/criteria/{UNDERSTAND_USERS}", {
            "name": criterion.name, "meaning": criterion.meaning, "stages": criterion.stages,
            "expected_revision": seen, **changes})
    return setup


def _schedule(**changes):
    return lambda c: ("POST", f"{P}/assessments", {"scheduled_for": SOON.isoformat(), "assessors": [c.executive.pk],
                                                   **changes})


def _scheduled(c):
    return scheduled(c, c.service)


def _agenda(c):
    return on_agenda(c, c.service)


def _report(c):
    return published(c, c.service, outcome="more_research")


def _to(make, method: str, suffix: str = "", *, moved: int = 0, **body):
    """A request about the assessment ``make`` builds, sending its revision (moved on by
    ``moved``, to make it stale) with ``body``."""
    def setup(c):
        a = make(c)
        return (method, f"/assessments/{a.pk}{suffix}", {**body, "expected_revision": a.revision + moved})
    return setup


def _agenda_decisions(c, **changes):
    a = on_agenda(c, c.service)
    return ("PUT", f"/assessments/{a.pk}/decisions", {"expected_revision": a.revision, **changes})


def _publish(outcome: str, result: str = "met", **report):
    def setup(c):
        a = decided(c, c.service, outcome=outcome, result=result)
        return ("POST", f"/assessments/{a.pk}/publish", {"expected_revision": a.revision, **report})
    return setup


def _undecided(c):
    a = on_agenda(c, c.service)
    a = actions.record_assessment_decisions(actor=c.executive, assessment=a, result="met", outcome="progress_to_alpha")
    return ("POST", f"/assessments/{a.pk}/publish", {"expected_revision": a.revision, **BUDGET})


def _open_request(c):
    return actions.request_funding(actor=c.manager, service=c.service, kind="narrow", period="2026-27",
                                   rationale="Too much to do.").pk


def _decided_request(c):
    request = actions.request_funding(actor=c.manager, service=c.service, kind="narrow", period="2026-27",
                                      rationale="Too much to do.")
    actions.decide_funding_request(actor=c.executive, request=request, grant=False, note="Not this year.")
    return request.pk


def _left(c):
    Person.objects.filter(pk=c.outsider.pk).update(is_active=False)
    return c.outsider.email


# name → (role, set-up returning (method, path, body), status, field)
CASES = {
    # criteria
    "a criterion without its meaning": ("executive", lambda c: ("POST", "/criteria", {
        "name": "Publish data", "meaning": " "}), 400, "meaning"),
    "a criterion named like another": ("executive", lambda c: ("POST", "/criteria", {
        "name": "understand users and their needs", "meaning": "Again."}), 400, "name"),
    "a criterion whose link is not a web address": ("executive", lambda c: ("POST", "/criteria", {
        "name": "Publish data", "meaning": "Monthly.", "link": "ftp://example.org"}), 400, "link"),
    "a criterion for the decommissioned stage": ("executive", lambda c: ("POST", "/criteria", {
        "name": "Publish data", "meaning": "Monthly.", "stages": ["live", "decommissioned"]}), 422, "stages[1]"),
    "a new criterion said to be common": ("executive", lambda c: ("POST", "/criteria", {
        "name": "Publish data", "meaning": "Monthly.", "source": "common"}), 400, "source"),
    "a criterion without a name": ("executive", lambda c: ("POST", "/criteria", {"meaning": "Monthly."}), 422, "name"),
    "editing a criterion with a stale revision": ("executive", _criterion_edit(stale=True), 409, "revision"),
    "editing a criterion without its revision": ("executive", lambda c: ("PUT", f"/criteria/{UNDERSTAND_USERS}", {
        "name": "Understand users", "meaning": "Evidence."}), 422, "expected_revision"),
    "editing a criterion that does not exist": ("executive", lambda c: ("PUT", "/criteria/nowhere", {
        "name": "x", "meaning": "y", "expected_revision": 1}), 404, "slug"),
    "renaming a criterion to a taken name": ("executive", _criterion_edit(name="Build the right team"), 400, "name"),
    # scheduling and editing
    "scheduling without assessors": ("executive", _schedule(assessors=[]), 400, "assessors"),
    "scheduling an unknown assessor": ("executive", _schedule(assessors=["nobody@example.org"]), 400, "assessors[0]"),
    "scheduling someone who has left": ("executive", lambda c: _schedule(assessors=[_left(c)])(c), 400, "assessors"),
    "scheduling an unknown criterion": ("executive", _schedule(criteria=[UNDERSTAND_USERS, "nope"]), 400, "criteria[1]"),
    "scheduling an empty agenda": ("executive", _schedule(criteria=[]), 400, "criteria"),
    "scheduling a retired criterion": ("executive", lambda c: (
        actions.edit_criterion(actor=c.executive, criterion=Criterion.objects.get(slug=UNDERSTAND_USERS),
                               name="Understand users and their needs", meaning="Evidence.", stages=["discovery"],
                               active=False),
        _schedule(criteria=[UNDERSTAND_USERS])(c))[1], 400, "criteria"),
    "scheduling on a day that is not a date": ("executive", _schedule(scheduled_for="next tuesday"), 422,
                                               "scheduled_for"),
    "scheduling an unknown kind": ("executive", _schedule(kind="annual"), 422, "kind"),
    "a periodic assessment of a service in discovery": ("executive", _schedule(kind="periodic"), 400, "kind"),
    "a second open assessment": ("executive", lambda c: (scheduled(c, c.service), _schedule()(c))[1], 409, "service"),
    "reassessing an assessment that does not exist": ("executive", _schedule(reassesses=9999), 400, "reassesses"),
    "reassessing a report that was met": ("executive", lambda c: _schedule(
        kind="reassessment", reassesses=published(c, c.service, outcome="more_research").pk)(c), 400, "reassesses"),
    "scheduling a decommissioned service": ("executive", lambda c: (
        "POST", f"/services/{decommissioned(c).slug}/assessments",
        {"scheduled_for": SOON.isoformat(), "assessors": [c.executive.pk]}), 400, "service"),
    "scheduling a service that does not exist": ("executive", lambda c: (
        "POST", "/services/nowhere/assessments", {"scheduled_for": SOON.isoformat(), "assessors": [1]}), 404, "slug"),
    "editing an assessment with a stale revision": ("executive", _to(_scheduled, "PUT", moved=-1, agenda_note="x"),
                                                    409, "revision"),
    "editing a published report": ("executive", _to(_report, "PUT", agenda_note="x"), 409, "assessment"),
    "editing an assessment that does not exist": ("executive", lambda c: (
        "PUT", "/assessments/9999", {"expected_revision": 1}), 404, "assessment_id"),
    "publishing an agenda twice": ("executive", lambda c: (
        "POST", f"/assessments/{on_agenda(c, c.service).pk}/agenda", None), 409, "assessment"),
    "cancelling without a reason": ("executive", lambda c: (
        "POST", f"/assessments/{scheduled(c, c.service).pk}/cancel", {"reason": "  "}), 400, "reason"),
    "cancelling with no body": ("executive", lambda c: (
        "POST", f"/assessments/{scheduled(c, c.service).pk}/cancel", None), 422, "body"),
    "cancelling a published report": ("executive", lambda c: (
        "POST", f"/assessments/{published(c, c.service, outcome='more_research').pk}/cancel", {"reason": "Oops"}),
        409, "assessment"),
    # decisions
    "a decision on a criterion not on the agenda": ("executive", lambda c: _agenda_decisions(
        c, decisions={"make-new-source-code-open": {"decision": "met"}}), 400, "decisions[make-new-source-code-open]"),
    "a decision that is neither met nor not met": ("executive", lambda c: _agenda_decisions(
        c, decisions={UNDERSTAND_USERS: {"decision": "maybe"}}), 400, f"decisions[{UNDERSTAND_USERS}].decision"),
    "a result that is neither met nor not met": ("executive", lambda c: _agenda_decisions(c, result="passed"),
                                                 400, "result"),
    "an outcome from another stage's table": ("executive", lambda c: _agenda_decisions(c, outcome="progress_to_live"),
                                              400, "outcome"),
    "decisions before the agenda is published": ("executive", _to(_scheduled, "PUT", "/decisions", result="met"),
                                                 409, "assessment"),
    "decisions with a stale revision": ("executive", _to(_agenda, "PUT", "/decisions", moved=1, result="met"),
                                        409, "revision"),
    "decisions without the revision": ("executive", lambda c: (
        "PUT", f"/assessments/{on_agenda(c, c.service).pk}/decisions", {"result": "met"}), 422, "expected_revision"),
    # the report
    "publishing with criteria undecided": ("executive", _undecided, 400, "decisions"),
    "progressing without the next stage's budget": ("executive", _publish("progress_to_alpha"), 400, "budget_amount"),
    "a budget sent as a float": ("executive", _publish("progress_to_alpha", budget_amount=25000.5,
                                                       budget_period="2026-27"), 422, "budget_amount"),
    "a budget finer than a penny": ("executive", _publish("progress_to_alpha", budget_amount="25000.005",
                                                          budget_period="2026-27"), 400, "budget_amount"),
    "a budget without its period": ("executive", _publish("progress_to_alpha", budget_amount="25000.00"),
                                    400, "budget_period"),
    "progressing on a Not Met result": ("executive", _publish("progress_to_alpha", result="not_met", **BUDGET),
                                        400, "outcome"),
    "decommissioning without its reasons": ("executive", _publish(
        "not_required", **{**DECOMMISSION, "decommission_reasons": ""}), 400, "decommission_reasons"),
    "decommissioning on no condition of the model": ("executive", _publish(
        "not_required", **{**DECOMMISSION, "decommission_condition": "c"}), 400, "decommission_condition"),
    "publishing a report twice": ("executive", _to(_report, "POST", "/publish"), 409, "assessment"),
    "publishing with a stale revision": ("executive", _publish("more_research", expected_revision=1), 409, "revision"),
    "an addendum to a report not yet published": ("executive", lambda c: (
        "POST", f"/assessments/{on_agenda(c, c.service).pk}/addenda", {"text": "A note."}), 409, "assessment"),
    "an empty addendum": ("executive", lambda c: (
        "POST", f"/assessments/{published(c, c.service, outcome='more_research').pk}/addenda", {"text": " "}),
        400, "text"),
    "an addendum to an assessment that does not exist": ("executive", lambda c: (
        "POST", "/assessments/9999/addenda", {"text": "A note."}), 404, "assessment_id"),
    # cadence
    "a default cadence of three days": ("executive", lambda c: ("PUT", "/organisation/cadence", {"days": 3}), 400, "days"),
    "a default cadence that is not a number": ("executive", lambda c: ("PUT", "/organisation/cadence", {"days": "often"}),
                                               422, "days"),
    "no default cadence at all": ("executive", lambda c: ("PUT", "/organisation/cadence", {"days": None}), 422, "days"),
    "a service cadence of ten years and more": ("executive", lambda c: ("PUT", f"{P}/cadence", {"days": 5000}),
                                                400, "days"),
    # budgets
    "allocating nothing": ("executive", lambda c: ("POST", f"{P}/allocations", {"period": "2026-27", "amount": "0"}),
                           400, "amount"),
    "allocating words": ("executive", lambda c: ("POST", f"{P}/allocations", {"period": "2026-27", "amount": "lots"}),
                         400, "amount"),
    "allocating without a period": ("executive", lambda c: ("POST", f"{P}/allocations", {"period": " ", "amount": "10"}),
                                    400, "period"),
    "allocating for the decommissioned stage": ("executive", lambda c: ("POST", f"{P}/allocations", {
        "period": "2026-27", "amount": "10", "stage": "decommissioned"}), 422, "stage"),
    "a spend against an allocation that does not exist": ("manager", lambda c: (
        "POST", "/allocations/9999/spends", {"amount": "1.00", "description": "Pens"}), 404, "allocation_id"),
    "a spend without saying on what": ("manager", lambda c: (
        "POST", f"/allocations/{allocated(c).pk}/spends", {"amount": "1.00", "description": ""}), 400, "description"),
    "a spend on a day that is not a date": ("manager", lambda c: (
        "POST", f"/allocations/{allocated(c).pk}/spends", {"amount": "1.00", "description": "Pens",
                                                          "spent_on": "31/02/2026"}), 422, "spent_on"),
    "a negative spend": ("team_member", lambda c: (
        "POST", f"/allocations/{allocated(c).pk}/spends", {"amount": "-5.00", "description": "Refund"}), 400, "amount"),
    "re-investing more than is unspent": ("manager", lambda c: (
        "POST", f"/allocations/{allocated(c, amount='100.00').pk}/reinvestments", {
            "amount": "100.01", "purpose": "Testing"}), 400, "amount"),
    "re-investing in nothing": ("manager", lambda c: (
        "POST", f"/allocations/{allocated(c).pk}/reinvestments", {"amount": "1.00", "purpose": ""}), 400, "purpose"),
    "asking to expand the budget by no amount": ("manager", lambda c: ("POST", f"{P}/funding-requests", {
        "kind": "expand", "period": "2026-27", "rationale": "More residents."}), 400, "amount"),
    "asking for an unknown kind of change": ("manager", lambda c: ("POST", f"{P}/funding-requests", {
        "kind": "double", "period": "2026-27", "rationale": "More residents."}), 422, "kind"),
    "asking without a reason": ("manager", lambda c: ("POST", f"{P}/funding-requests", {
        "kind": "narrow", "period": "2026-27", "rationale": ""}), 400, "rationale"),
    "deciding a request twice": ("executive", lambda c: (
        "POST", f"/funding-requests/{_decided_request(c)}/decision", {"grant": True, "note": "After all."}),
        409, "request"),
    "deciding without saying why": ("executive", lambda c: (
        "POST", f"/funding-requests/{_open_request(c)}/decision", {"grant": False, "note": ""}), 400, "note"),
    "deciding a request that does not exist": ("executive", lambda c: (
        "POST", "/funding-requests/9999/decision", {"grant": False, "note": "No."}), 404, "request_id"),
    "deciding without saying grant or not": ("executive", lambda c: (
        "POST", "/funding-requests/9999/decision", {"note": "No."}), 422, "grant"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_lifecycle_input_is_refused_naming_the_field_and_nothing_is_written(cast, api_as, name):
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


def test_every_problem_of_a_report_is_named_at_once(cast, api_as):
    a = decided(cast, cast.service, outcome="not_required")
    response = api_as("executive").post(f"/assessments/{a.pk}/publish", {"expected_revision": a.revision})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"decommission_condition", "decommission_reasons"}


def test_a_stale_decision_says_what_changed(cast, api_as):
    a = on_agenda(cast, cast.service)
    client = api_as("executive")
    assert client.put(f"/assessments/{a.pk}/decisions", {"result": "met", "expected_revision": a.revision}).status_code == 200
    second = client.put(f"/assessments/{a.pk}/decisions", {"result": "not_met", "expected_revision": a.revision})
    assert second.status_code == 409
    assert second.json()["error"] == "conflict" and second.json()["changes"] == [f"Now at revision {a.revision + 1}."]


@pytest.mark.parametrize("path", ["/assessments/9999", "/assessments/9999/report.md"])
def test_an_unknown_assessment_is_a_404_json(cast, api_as, path):
    response = api_as("outsider").get(path)
    assert response.status_code == 404
    assert response.json()["field"] == "assessment_id"


@pytest.mark.parametrize("path", ["/services/nowhere/budget", "/services/nowhere/timeline"])
def test_an_unknown_service_is_a_404_json(cast, api_as, path):
    response = api_as("outsider").get(path)
    assert response.status_code == 404 and response.json()["field"] == "slug"


@pytest.mark.parametrize("params, field", [({"stage": "decommissioned"}, "stage"), ({"source": "rumour"}, "source"),
                                           ({"limit": 0}, "limit")])
def test_the_criteria_list_refuses_a_filter_out_of_range(cast, api_as, params, field):
    response = api_as("outsider").get("/criteria", **params)
    assert response.status_code == 422 and response.json()["field"] == field


@pytest.mark.parametrize("params, field", [({"status": "lost"}, "status"), ({"date_from": "yesterday"}, "date_from"),
                                           ({"result": "passed"}, "result"), ({"offset": -1}, "offset")])
def test_the_assessments_list_refuses_a_filter_out_of_range(cast, api_as, params, field):
    response = api_as("outsider").get("/assessments", **params)
    assert response.status_code == 422 and response.json()["field"] == field


def test_an_unpublished_report_has_no_markdown(cast, api_as):
    a = on_agenda(cast, cast.service)
    response = api_as("outsider").get(f"/assessments/{a.pk}/report.md")
    assert response.status_code == 404
    assert response.json()["message"] == "This assessment has no published report yet."



def test_a_decommissioned_service_is_not_funded(cast, api_as):
    slug, client = decommissioned(cast).slug, api_as("executive")
    before = everything()
    response = client.post(f"/services/{slug}/allocations", {"period": "2026-27", "amount": "10"})
    assert response.status_code == 400
    # the action also objects to the stage it defaulted to (the service's own), so the
    # service's error is not the first one: both are named
    assert "service" in {e["field"] for e in response.json()["errors"]}
    assert everything() == before
