"""Refusals that used to let bad input through, each checked at the action and, where
the API is the way in, at the API: the refusal names the field and nothing is written.

- A null character (U+0000) in any text: PostgreSQL cannot store it (the act failed
  with a server error) and SQLite kept it. Every action refuses it, as a form does,
  before it reads or writes anything; the API refuses it wherever a request carries
  it — body, query or path — naming the field as the client sent it.
- A re-investment's purpose longer than its column (300 characters).
- Acts decided on the caller's copy of a row rather than on the row as it is now,
  locked: revoking a token, scheduling an assessment. Their races (and adding a team
  member's) are in ``test_races.py``; here, the same acts given a copy read before
  someone else changed the row.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from osom.core import actions as core
from osom.core.actions import NULL_CHARACTERS, null_character_at
from osom.core.errors import InvalidInput
from osom.core.models import ApiToken, AuditEvent
from osom.governance import actions as governance
from osom.learning import actions as learning
from osom.learning import communities
from osom.lifecycle import actions as lifecycle
from osom.lifecycle.forms import ReinvestForm
from osom.lifecycle.models import Assessment, Criterion, Reinvestment
from osom.network import actions as network
from osom.network.models import ProfessionalRole, Service

from .. import factories

NUL = "before\x00after"
ACTION_MODULES = (core, network, lifecycle, governance, learning, communities)


def _day(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def _rows() -> dict[str, int]:
    """How many rows each table holds."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _refused(act: Callable[[], object], field: str, message: str = NULL_CHARACTERS) -> InvalidInput:
    """``act`` is refused as invalid input naming ``field``, and writes nothing."""
    before = _rows()
    with pytest.raises(InvalidInput) as refused:
        act()
    assert (refused.value.field, refused.value.message) == (field, message)
    assert refused.value.errors == {field: [message]}
    assert _rows() == before
    return refused.value


# ---------------------------------------------------------------- null characters, at the actions


def _public_actions():
    for module in ACTION_MODULES:
        for name in module.__all__:
            function = getattr(module, name)
            if callable(function) and "actor" in inspect.signature(function).parameters:
                yield f"{module.__name__}.{name}", function


def test_every_action_refuses_null_characters():
    """Checked once for all, so that an action added later cannot forget it."""
    found = dict(_public_actions())
    assert len(found) > 60  # every app's actions were found
    assert [name for name, function in found.items() if not getattr(function, "refuses_null_characters", False)] == []


def test_a_null_character_is_found_at_any_depth_and_named_as_the_errors_name_fields():
    assert null_character_at("plain") is None
    assert null_character_at({"needs": [{"as_a": "resident"}, {"so_that": NUL}]}) == "needs[1].so_that"
    assert null_character_at([["a", ("b", NUL)]], "rows") == "rows[0][1][1]"
    assert null_character_at({"scope": {"q\x00": "x"}}) == "scope"  # a key: the mapping it is in
    assert null_character_at({"decisions": {"accessible": {"did_well": NUL}}}) == "decisions.accessible.did_well"
    assert null_character_at({"when": _day(1), "count": 3, "who": None}) is None
    deep: object = NUL
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    assert null_character_at(deep, "x") == "x" + "[0]" * 5000


@dataclass(frozen=True)
class Case:
    field: str
    act: Callable  # (cast) -> a function doing the act with a null character in ``field``


def _assessment_with_agenda(c) -> Assessment:
    assessment = lifecycle.schedule_assessment(actor=c.executive, service=c.service, kind="transition",
                                               scheduled_for=_day(7), assessors=[c.executive])
    return lifecycle.publish_assessment_agenda(actor=c.executive, assessment=assessment)


def _coe(c, **content):
    return lambda: learning.write_coe(actor=c.manager, service=c.service, content={
        "title": "Renewals failed", "occurred_on": _day(-1).isoformat(), **content})


def _decisions(c):
    assessment = _assessment_with_agenda(c)
    slug = assessment.items.select_related("criterion").first().criterion.slug
    return Case(f"decisions.{slug}.did_well", lambda: lifecycle.record_assessment_decisions(
        actor=c.executive, assessment=assessment, decisions={slug: {"decision": "met", "did_well": NUL}}))


CASES: dict[str, Callable] = {
    "terminology": lambda c: Case("model_name", lambda: core.edit_terminology(
        actor=c.executive, values={"name": "Plain", "model_name": NUL})),
    "person": lambda c: Case("name", lambda: core.create_person(actor=c.executive, email="new@example.org", name=NUL)),
    "token": lambda c: Case("label", lambda: core.issue_api_token(actor=c.manager, person=c.manager, label=NUL)),
    "contract purpose": lambda c: Case("purpose", lambda: network.establish_service(
        actor=c.executive, content=factories.contract("Plain", purpose=NUL))),
    "contract need": lambda c: Case("needs[0].so_that", lambda: network.establish_service(actor=c.executive, content={
        **factories.contract("Plain"), "needs": [{"as_a": "resident", "i_need": "a permit", "so_that": NUL}]})),
    "contract metric": lambda c: Case("metrics[0].name", lambda: network.adopt_existing_service(
        actor=c.executive, lifecycle_stage="live", content={
            **factories.contract("Plain"), "metrics": [{"key": "m1", "name": NUL, "unit": "%"}]})),
    "draft note": lambda c: Case("change_note", lambda: network.draft_contract_version(
        actor=c.manager, service=c.service, change_note=NUL)),
    "dependency note": lambda c: Case("note", lambda: network.add_dependency(
        actor=c.manager, service=c.other_service, provider=c.service, note=NUL)),
    "criterion": lambda c: Case("name", lambda: lifecycle.add_criterion(actor=c.executive, name=NUL, meaning="Plain.")),
    "agenda note": lambda c: Case("agenda_note", lambda: lifecycle.schedule_assessment(
        actor=c.executive, service=c.service, kind="transition", scheduled_for=_day(7), assessors=[c.executive],
        agenda_note=NUL)),
    "decisions": _decisions,
    "budget note": lambda c: Case("note", lambda: lifecycle.allocate_budget(
        actor=c.executive, service=c.service, period="2026-27", amount="10.00", note=NUL)),
    "funding": lambda c: Case("rationale", lambda: lifecycle.request_funding(
        actor=c.manager, service=c.service, kind="narrow", period="2026-27", rationale=NUL)),
    "mandate": lambda c: Case("title", lambda: governance.draft_mandate(
        actor=c.executive, title=NUL, instruction="Plain.", due_date=_day(30), services=[c.service])),
    "mandate scope key": lambda c: Case("scope_filter", lambda: governance.draft_mandate(
        actor=c.executive, title="Plain", instruction="Plain.", due_date=_day(30), scope_filter={"q\x00": "x"})),
    "guidance": lambda c: Case("body", lambda: governance.draft_guidance(
        actor=c.executive, title="Plain", body=NUL, source="law", category="security")),
    "dispute": lambda c: Case("description", lambda: governance.raise_dispute(
        actor=c.manager, service=c.service, other_service=c.other_service, subject="Plain", description=NUL)),
    "proposed need": lambda c: Case("needs[0].i_need", lambda: governance.propose_needs(
        actor=c.outsider, title="Plain", needs=[{"as_a": "visitor", "i_need": NUL, "so_that": "I can park"}])),
    "deviation": lambda c: Case("negative", lambda: governance.record_deviation(
        actor=c.executive, title="Plain", compromised="A.", positive="B.", negative=NUL, governance="C.",
        review_on=_day(30))),
    "coe lessons": lambda c: Case("lessons", _coe(c, lessons=NUL)),
    "coe action": lambda c: Case("actions[0].description", _coe(c, actions=[
        {"description": NUL, "owner": c.manager.email, "due_date": _day(7).isoformat()}])),
    "doctrine round": lambda c: Case("title", lambda: learning.open_doctrine_round(
        actor=c.manager, service=c.service, title=NUL)),
    "community": lambda c: Case("purpose", lambda: communities.form_community(
        actor=c.team_member, name="Researchers", profession=ProfessionalRole.objects.get(name="User researcher").job_family,
        purpose=NUL)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_an_action_given_a_null_character_refuses_it_naming_the_field_and_writes_nothing(cast, case):
    chosen = CASES[case](cast)
    _refused(chosen.act, chosen.field)


def test_the_same_text_without_the_null_character_is_accepted(cast):
    guidance = governance.draft_guidance(actor=cast.executive, title="Plain", body="before after", source="law",
                                         category="security")
    assert guidance.body == "before after"


# ---------------------------------------------------------------- null characters, at the API


@pytest.fixture
def api(cast) -> Client:
    _, token = core.issue_api_token(actor=cast.executive, person=cast.executive)
    client = Client(raise_request_exception=False)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def _api_refused(response, field: str) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response.json() == {"error": "invalid", "message": NULL_CHARACTERS, "field": field,
                               "errors": [{"field": field, "message": NULL_CHARACTERS}]}


@pytest.mark.parametrize("where", ["top", "nested", "key"])
def test_a_null_character_in_a_request_body_is_refused_naming_its_place(cast, api, where):
    if where == "top":
        path, body, field = "/api/v1/criteria", {"name": NUL, "meaning": "Plain."}, "name"
    elif where == "nested":
        path, field = "/api/v1/services", "needs[0].so_that"
        body = {**factories.contract("Plain"), "needs": [{"as_a": "resident", "i_need": "a permit", "so_that": NUL}]}
    else:
        assessment = _assessment_with_agenda(cast)
        path, field = f"/api/v1/assessments/{assessment.pk}/decisions", "decisions"
        body = {"decisions": {"accessible\x00": {"decision": "met"}}, "expected_revision": assessment.revision}
    before = _rows()
    method = api.put if where == "key" else api.post
    _api_refused(method(path, json.dumps(body), content_type="application/json"), field)
    assert _rows() == before


def test_a_null_character_in_a_query_or_a_path_is_refused_rather_than_sent_to_the_database(cast, api):
    _api_refused(api.get("/api/v1/services", {"q": "park\x00"}), "q")
    _api_refused(api.get("/api/v1/assessments", {"service": "parking\x00"}), "service")
    _api_refused(api.get("/api/v1/services/parking%00permits"), "slug")
    assert api.get("/api/v1/services", {"q": "park"}).json()["count"] == 1


def test_a_request_that_is_not_signed_in_is_refused_as_such_first(cast):
    response = Client().post("/api/v1/criteria", json.dumps({"name": NUL, "meaning": "Plain."}),
                             content_type="application/json")
    assert response.status_code == 401


# ---------------------------------------------------------------- a re-investment's purpose


def test_a_reinvestment_purpose_is_kept_to_its_column(cast):
    allocation = lifecycle.allocate_budget(actor=cast.executive, service=cast.service, period="2026-27", amount="100.00")
    _refused(lambda: lifecycle.reinvest_savings(actor=cast.manager, allocation=allocation, amount="5.00",
                                                purpose="x" * 301),
             "purpose", "Keep what they are re-invested in to 300 characters.")
    kept = lifecycle.reinvest_savings(actor=cast.manager, allocation=allocation, amount="5.00", purpose="y" * 300)
    assert Reinvestment.objects.get().purpose == kept.purpose == "y" * 300


def test_the_reinvestment_form_says_so_before_sending(cast):
    allocation = lifecycle.allocate_budget(actor=cast.executive, service=cast.service, period="2026-27", amount="100.00")

    def errors(purpose: str) -> dict:
        form = ReinvestForm({"allocation": allocation.pk, "amount": "5.00", "purpose": purpose}, service=cast.service,
                            allocations=[allocation])
        form.is_valid()
        return form.errors

    assert "purpose" in errors("x" * 301)
    assert errors("before\x00after")["purpose"] == [NULL_CHARACTERS]
    assert errors("x" * 300) == {}


# ---------------------------------------------------------------- decided on the row as it is now


def test_a_token_revoked_since_it_was_read_is_not_revoked_again(cast):
    token, _ = core.issue_api_token(actor=cast.manager, person=cast.manager)
    read_earlier = ApiToken.objects.get(pk=token.pk)
    core.revoke_api_token(actor=cast.manager, token=token)
    revoked_at = ApiToken.objects.get(pk=token.pk).revoked_at

    _refused(lambda: core.revoke_api_token(actor=cast.executive, token=read_earlier), "token",
             "This token was already revoked.")
    assert ApiToken.objects.get(pk=token.pk).revoked_at == revoked_at
    assert AuditEvent.objects.filter(verb="revoke_api_token").count() == 1


def test_a_service_decommissioned_since_it_was_read_is_not_scheduled_for_assessment(cast):
    ex = cast.executive
    service = factories.service(ex, "Old payments", manager=cast.manager)
    read_earlier = Service.objects.get(pk=service.pk)
    criteria = list(Criterion.objects.filter(active=True).order_by("position")[:1])
    assessment = lifecycle.schedule_assessment(actor=ex, service=service, kind="transition", scheduled_for=_day(7),
                                               assessors=[ex], criteria=criteria)
    lifecycle.publish_assessment_agenda(actor=ex, assessment=assessment)
    lifecycle.record_assessment_decisions(actor=ex, assessment=assessment, result="met", outcome="not_required",
                                          decisions={criteria[0].slug: {"decision": "met"}})
    lifecycle.publish_assessment_report(actor=ex, assessment=assessment, decommission_condition="b",
                                        decommission_reasons="Nobody needs it.")
    assert read_earlier.lifecycle_stage == "discovery"

    _refused(lambda: lifecycle.schedule_assessment(actor=ex, service=read_earlier, kind="transition",
                                                   scheduled_for=_day(14), assessors=[ex], criteria=criteria),
             "service", "Old payments is decommissioned; there is nothing left to assess.")

