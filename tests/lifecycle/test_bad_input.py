"""Bad input to every write action of the lifecycle: a domain error naming the field,
with a sentence a person can act on, and nothing written (design habits 4 and 8).

Each case is done by someone who has the right to act, so that only the input (or the
moment: a report already published, a request already decided) is wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

import pytest

from osom.core.errors import Conflict, DomainError, InvalidInput
from osom.core.models import Person
from osom.lifecycle import actions
from osom.lifecycle.models import Criterion

from ..network.test_bad_input import assert_is_a_sentence
from .helpers import (
    BUDGET, DECOMMISSION, SOON, allocated, decided, decisions_for, decommissioned, on_agenda, published, scheduled,
    service_at, snapshot,
)

UNDERSTAND_USERS = "understand-users-and-their-needs"


def _left(c, person):
    Person.objects.filter(pk=person.pk).update(is_active=False)
    person.refresh_from_db()
    return person


def _criterion(slug: str = UNDERSTAND_USERS) -> Criterion:
    return Criterion.objects.get(slug=slug)


def _retired(c) -> Criterion:
    criterion = _criterion()
    return actions.edit_criterion(actor=c.executive, criterion=criterion, name=criterion.name,
                                  meaning=criterion.meaning, stages=criterion.stages, active=False)


# --- criteria ----------------------------------------------------------------------------

def _add_criterion(**changes):
    values = {"name": "Publish performance data", "meaning": "It publishes its metrics monthly.", "link": "",
              "stages": ["live"], **changes}
    return lambda c: (lambda: actions.add_criterion(actor=c.executive, **values))


def _edit_criterion(stale=False, **changes):
    def setup(c):
        criterion = _criterion()
        seen = criterion.revision
        if stale:
            actions.edit_criterion(actor=c.exec_team, criterion=criterion, name=criterion.name,
                                   meaning="Evidence from research with real users.", stages=criterion.stages)
        values = {"name": criterion.name, "meaning": criterion.meaning, "stages": criterion.stages, **changes}
        return lambda: actions.edit_criterion(actor=c.executive, criterion=criterion, expected_revision=seen, **values)
    return setup


# --- assessments -------------------------------------------------------------------------

def _schedule(service=lambda c: c.service, **changes):
    def setup(c):
        chosen = service(c)
        values = {"kind": "transition", "scheduled_for": SOON, "assessors": [c.executive], "criteria": None}
        values.update({k: (v(c) if callable(v) else v) for k, v in changes.items()})
        return lambda: actions.schedule_assessment(actor=c.executive, service=chosen, **values)
    return setup


def _schedule_a_second(c):
    scheduled(c, c.service)
    return lambda: actions.schedule_assessment(actor=c.executive, service=c.service, kind="transition",
                                               scheduled_for=SOON, assessors=[c.executive])


def _edit_assessment(make=lambda c: scheduled(c, c.service), stale=False, **changes):
    def setup(c):
        assessment = make(c)
        seen = assessment.revision
        if stale:
            actions.edit_assessment(actor=c.exec_team, assessment=assessment, scheduled_for=SOON,
                                    assessors=[c.executive, c.exec_team], criteria=None)
        values = {"scheduled_for": SOON, "assessors": [c.executive], "criteria": None}
        values.update({k: (v(c) if callable(v) else v) for k, v in changes.items()})
        return lambda: actions.edit_assessment(actor=c.executive, assessment=assessment, expected_revision=seen,
                                               **values)
    return setup


def _cancelled(c):
    assessment = scheduled(c, c.service)
    return actions.cancel_assessment(actor=c.executive, assessment=assessment, reason="Postponed.")


def _publish_agenda_twice(c):
    assessment = on_agenda(c, c.service)
    return lambda: actions.publish_assessment_agenda(actor=c.executive, assessment=assessment)


def _cancel(make=lambda c: scheduled(c, c.service), reason="Postponed."):
    def setup(c):
        assessment = make(c)
        return lambda: actions.cancel_assessment(actor=c.executive, assessment=assessment, reason=reason)
    return setup


def _record(make=lambda c: on_agenda(c, c.service), stale=False, **changes):
    """Record decisions on the cast's service (in discovery); ``changes`` spoil them."""
    def setup(c):
        assessment = make(c)
        seen = assessment.revision
        if stale:
            actions.record_assessment_decisions(actor=c.exec_team, assessment=assessment, summary="Draft notes.")
        values = {"decisions": decisions_for(assessment), "result": "met", "outcome": "progress_to_alpha"}
        values.update({k: (v(c) if callable(v) else v) for k, v in changes.items()})
        return lambda: actions.record_assessment_decisions(actor=c.executive, assessment=assessment,
                                                           expected_revision=seen, **values)
    return setup


def _decision(decision):
    return lambda c: {UNDERSTAND_USERS: {"decision": decision, "did_well": "", "to_improve": ""}}


def _publish(outcome="progress_to_alpha", result="met", service=lambda c: c.service, leave_open=0,
             record=None, **report):
    """Publish a report whose decisions were recorded (all but ``leave_open`` of them);
    ``record`` overrides what was recorded."""
    def setup(c):
        chosen = service(c)
        assessment = on_agenda(c, chosen)
        values = {"decisions": decisions_for(assessment, result, leave_open=leave_open), "result": result,
                  "outcome": outcome, **(record or {})}
        actions.record_assessment_decisions(actor=c.executive, assessment=assessment, **values)
        return lambda: actions.publish_assessment_report(actor=c.executive, assessment=assessment, **report)
    return setup


def _publish_before_the_agenda(c):
    assessment = scheduled(c, c.service)
    return lambda: actions.publish_assessment_report(actor=c.executive, assessment=assessment, **BUDGET)


def _publish_twice(c):
    assessment = decided(c, c.service, outcome="more_research")
    actions.publish_assessment_report(actor=c.executive, assessment=assessment)
    return lambda: actions.publish_assessment_report(actor=c.executive, assessment=assessment)


def _addendum(text, make=lambda c: published(c, c.service, outcome="more_research")):
    def setup(c):
        assessment = make(c)
        return lambda: actions.add_report_addendum(actor=c.executive, assessment=assessment, text=text)
    return setup


def _cadence(days, service=None):
    def setup(c):
        chosen = service(c) if service else None
        return lambda: actions.set_assessment_cadence(actor=c.executive, days=days, service=chosen)
    return setup


# --- budgets -----------------------------------------------------------------------------

def _allocate(service=lambda c: c.service, **changes):
    def setup(c):
        chosen = service(c)
        values = {"period": "2026-27", "amount": "1000.00", **changes}
        return lambda: actions.allocate_budget(actor=c.executive, service=chosen, **values)
    return setup


def _spend(**changes):
    def setup(c):
        allocation = allocated(c)
        values = {"amount": "250.00", "spent_on": SOON, "description": "Research incentives", **changes}
        return lambda: actions.record_spend(actor=c.manager, allocation=allocation, **values)
    return setup


def _reinvest(amount="100.00", purpose="Accessibility testing", spent="800.00"):
    def setup(c):
        allocation = allocated(c, amount="1000.00")
        actions.record_spend(actor=c.manager, allocation=allocation, amount=spent, spent_on=SOON,
                             description="The team's pay")
        return lambda: actions.reinvest_savings(actor=c.manager, allocation=allocation, amount=amount, purpose=purpose)
    return setup


def _request(**changes):
    values = {"kind": "expand", "period": "2026-27", "amount": "5000.00",
              "rationale": "Twice as many residents applied.", **changes}
    return lambda c: (lambda: actions.request_funding(actor=c.manager, service=c.service, **values))


def _decide(twice=False, **changes):
    def setup(c):
        request = actions.request_funding(actor=c.manager, service=c.service, kind="expand", period="2026-27",
                                          amount="5000.00", rationale="Twice as many residents applied.")
        if twice:
            actions.decide_funding_request(actor=c.executive, request=request, grant=False, note="Not this year.")
        values = {"grant": True, "note": "Demand is real.", **changes}
        return lambda: actions.decide_funding_request(actor=c.executive, request=request, **values)
    return setup


@dataclass(frozen=True)
class Case:
    error: type[DomainError]
    field: str
    setup: Callable  # cast → (() → result)


NO_DECISIONS = {"decisions": {}}

CASES: dict[str, Case] = {
    # add_criterion / edit_criterion
    "add a criterion without a name": Case(InvalidInput, "name", _add_criterion(name="  ")),
    "add a criterion named like another, in other case": Case(
        InvalidInput, "name", _add_criterion(name="UNDERSTAND USERS AND THEIR NEEDS")),
    "add a criterion without saying what it means": Case(InvalidInput, "meaning", _add_criterion(meaning="")),
    "add a criterion with a link that is not a web address": Case(InvalidInput, "link",
                                                                  _add_criterion(link="ftp://example.org/x")),
    "add a criterion for a stage that is not assessed": Case(InvalidInput, "stages",
                                                             _add_criterion(stages=["decommissioned"])),
    "add a criterion claiming to be doctrine": Case(InvalidInput, "source", _add_criterion(source="doctrine")),
    "rename a criterion to nothing": Case(InvalidInput, "name", _edit_criterion(name="")),
    "rename a criterion to another's name": Case(InvalidInput, "name", _edit_criterion(name="Build the right team")),
    "edit a criterion someone changed meanwhile": Case(Conflict, "revision", _edit_criterion(stale=True)),
    # schedule_assessment
    "schedule an unknown kind of assessment": Case(InvalidInput, "kind", _schedule(kind="annual")),
    "schedule a periodic assessment of a service not live": Case(InvalidInput, "kind", _schedule(kind="periodic")),
    "schedule a transition of a live service": Case(
        InvalidInput, "kind", _schedule(service=lambda c: service_at(c, "live", "Libraries"))),
    "schedule with no assessors": Case(InvalidInput, "assessors", _schedule(assessors=[])),
    "schedule with an assessor who left": Case(InvalidInput, "assessors",
                                               _schedule(assessors=lambda c: [c.executive, _left(c, c.outsider)])),
    "schedule with no criteria": Case(InvalidInput, "criteria", _schedule(criteria=[])),
    "schedule with a retired criterion": Case(InvalidInput, "criteria", _schedule(criteria=lambda c: [_retired(c)])),
    "schedule for 'tomorrow'": Case(InvalidInput, "scheduled_for", _schedule(scheduled_for="tomorrow")),
    "schedule with no date": Case(InvalidInput, "scheduled_for", _schedule(scheduled_for="")),
    "schedule an assessment of a decommissioned service": Case(InvalidInput, "service",
                                                               _schedule(service=decommissioned)),
    "schedule a second open assessment of a service": Case(Conflict, "service", _schedule_a_second),
    # edit_assessment
    "move an assessment to 'next week'": Case(InvalidInput, "scheduled_for",
                                              _edit_assessment(scheduled_for="next week")),
    "edit an assessment to no assessors": Case(InvalidInput, "assessors", _edit_assessment(assessors=[])),
    "edit an assessment to no criteria": Case(InvalidInput, "criteria", _edit_assessment(criteria=[])),
    "edit a cancelled assessment": Case(Conflict, "assessment", _edit_assessment(make=_cancelled)),
    "edit a published report's assessment": Case(
        Conflict, "assessment", _edit_assessment(make=lambda c: published(c, c.service, outcome="more_research"))),
    "edit an assessment someone changed meanwhile": Case(Conflict, "revision", _edit_assessment(stale=True)),
    # publish_assessment_agenda / cancel_assessment
    "publish an agenda twice": Case(Conflict, "assessment", _publish_agenda_twice),
    "cancel without a reason": Case(InvalidInput, "reason", _cancel(reason="   ")),
    "cancel twice": Case(Conflict, "assessment", _cancel(make=_cancelled)),
    "cancel after the report is published": Case(
        Conflict, "assessment", _cancel(make=lambda c: published(c, c.service, outcome="more_research"))),
    # record_assessment_decisions
    "decide on a criterion not on the agenda": Case(
        InvalidInput, "decisions[no-such-criterion]",
        _record(decisions={"no-such-criterion": {"decision": "met"}})),
    "decide 'maybe'": Case(InvalidInput, f"decisions[{UNDERSTAND_USERS}].decision", _record(decisions=_decision("maybe"))),
    "record an outcome of another stage": Case(InvalidInput, "outcome", _record(outcome="progress_to_beta")),
    "record an outcome that does not exist": Case(InvalidInput, "outcome", _record(outcome="promoted")),
    "record a result that is neither met nor not met": Case(InvalidInput, "result", _record(result="pass")),
    "record decisions before the agenda is published": Case(
        Conflict, "assessment", _record(make=lambda c: scheduled(c, c.service))),
    "record decisions on a published report": Case(
        Conflict, "assessment", _record(make=lambda c: published(c, c.service, outcome="more_research"),
                                        outcome="more_research")),
    "record decisions someone changed meanwhile": Case(Conflict, "revision", _record(stale=True)),
    # publish_assessment_report
    "publish with a criterion undecided": Case(InvalidInput, "decisions", _publish(leave_open=1, **BUDGET)),
    "publish with no result": Case(InvalidInput, "result", _publish(outcome="more_research", record={"result": ""})),
    "publish with no outcome": Case(InvalidInput, "outcome", _publish(record={"outcome": ""}, **BUDGET)),
    "publish progress on a Not Met result": Case(InvalidInput, "outcome", _publish(result="not_met", **BUDGET)),
    "publish progress without a budget amount": Case(InvalidInput, "budget_amount",
                                                     _publish(budget_period="2026-27")),
    "publish progress without a budget period": Case(InvalidInput, "budget_period",
                                                     _publish(budget_amount="25000.00")),
    "publish progress with a negative budget": Case(InvalidInput, "budget_amount",
                                                    _publish(budget_amount="-5", budget_period="2026-27")),
    "publish progress with a budget that is not money": Case(InvalidInput, "budget_amount",
                                                             _publish(budget_amount="lots", budget_period="2026-27")),
    "publish progress with a budget finer than a penny": Case(
        InvalidInput, "budget_amount", _publish(budget_amount="100.001", budget_period="2026-27")),
    "publish a decommissioning without the condition": Case(
        InvalidInput, "decommission_condition",
        _publish(outcome="not_required", **{**DECOMMISSION, "decommission_condition": ""})),
    "publish a decommissioning on a condition the model does not have": Case(
        InvalidInput, "decommission_condition",
        _publish(outcome="not_required", **{**DECOMMISSION, "decommission_condition": "c"})),
    "publish a decommissioning without reasons": Case(
        InvalidInput, "decommission_reasons",
        _publish(outcome="not_required", **{**DECOMMISSION, "decommission_reasons": "  "})),
    "decommission a consumed service without a migration path": Case(
        InvalidInput, "migration_path",
        _publish(outcome="not_required", service=lambda c: c.other_service, **{**DECOMMISSION, "migration_path": ""})),
    "publish a report before its agenda": Case(Conflict, "assessment", _publish_before_the_agenda),
    "publish a report twice": Case(Conflict, "assessment", _publish_twice),
    # add_report_addendum
    "add an empty addendum": Case(InvalidInput, "text", _addendum("   ")),
    "add an addendum to a report not yet published": Case(
        Conflict, "assessment", _addendum("A note.", make=lambda c: on_agenda(c, c.service))),
    # set_assessment_cadence
    "assess live services every 3 days": Case(InvalidInput, "days", _cadence(3)),
    "assess live services every 'x' days": Case(InvalidInput, "days", _cadence("x")),
    "assess live services every 11 years": Case(InvalidInput, "days", _cadence(4015)),
    "assess a live service every 3 days": Case(InvalidInput, "days",
                                               _cadence(3, service=lambda c: service_at(c, "live", "Libraries"))),
    "unset the organisation's default": Case(InvalidInput, "days", _cadence(None)),
    # allocate_budget
    "allocate for no period": Case(InvalidInput, "period", _allocate(period="  ")),
    "allocate for a period too long to be one": Case(InvalidInput, "period", _allocate(period="p" * 41)),
    "allocate nothing": Case(InvalidInput, "amount", _allocate(amount="0")),
    "allocate no amount": Case(InvalidInput, "amount", _allocate(amount="")),
    "allocate a negative amount": Case(InvalidInput, "amount", _allocate(amount="-100")),
    "allocate a fraction of a penny": Case(InvalidInput, "amount", _allocate(amount="12.345")),
    "allocate 'abc'": Case(InvalidInput, "amount", _allocate(amount="abc")),
    "allocate an infinite amount": Case(InvalidInput, "amount", _allocate(amount="Infinity")),
    "allocate too much money": Case(InvalidInput, "amount", _allocate(amount="10000000000000")),
    "allocate for a stage that is not funded": Case(InvalidInput, "stage", _allocate(stage="decommissioned")),
    "allocate to a decommissioned service": Case(InvalidInput, "service",
                                                  _allocate(service=decommissioned, stage="discovery")),
    # record_spend
    "record spend with no description": Case(InvalidInput, "description", _spend(description=" ")),
    "record spend on a day that is not a date": Case(InvalidInput, "spent_on", _spend(spent_on="31/12/2026")),
    "record spend with no date": Case(InvalidInput, "spent_on", _spend(spent_on=None)),
    "record a negative spend": Case(InvalidInput, "amount", _spend(amount="-1")),
    "record a spend that is not money": Case(InvalidInput, "amount", _spend(amount="ten pounds")),
    # reinvest_savings
    "reinvest more than is unspent": Case(InvalidInput, "amount", _reinvest(amount="200.01")),
    "reinvest with no purpose": Case(InvalidInput, "purpose", _reinvest(purpose="")),
    "reinvest nothing": Case(InvalidInput, "amount", _reinvest(amount="0")),
    # request_funding
    "ask for an unknown kind of change": Case(InvalidInput, "kind", _request(kind="more")),
    "ask to expand without an amount": Case(InvalidInput, "amount", _request(amount=None)),
    "ask to expand by an amount that is not money": Case(InvalidInput, "amount", _request(amount="a lot")),
    "ask without a rationale": Case(InvalidInput, "rationale", _request(rationale="  ")),
    "ask for no period": Case(InvalidInput, "period", _request(period="")),
    # decide_funding_request
    "decide without a note": Case(InvalidInput, "note", _decide(note="")),
    "grant a different amount that is not money": Case(InvalidInput, "amount", _decide(amount="abc")),
    "decide a request twice": Case(Conflict, "request", _decide(twice=True)),
}

# Bad input that once made an action fail some other way than a domain error (each
# fixed; kept so it stays fixed).
CASES.update({
    "schedule with no kind at all": Case(InvalidInput, "kind", _schedule(kind=None)),
    "schedule a reassessment of another service's report": Case(InvalidInput, "reassesses", _schedule(
        kind="reassessment",
        reassesses=lambda c: published(c, c.other_service, outcome="more_research", result="not_met"))),
    "allocate an amount beyond decimal precision (1e30)": Case(InvalidInput, "amount", _allocate(amount="1e30")),
    "publish progress with a budget of 30 digits": Case(
        InvalidInput, "budget_amount", _publish(budget_amount="123456789012345678901234567890", budget_period="2026-27")),
})


def _params():
    for name, case in CASES.items():
        yield pytest.param(case, id=name)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_names_the_field_says_why_and_writes_nothing(cast, case):
    do = case.setup(cast)
    before = snapshot()
    with pytest.raises(case.error) as refused:
        do()
    error = refused.value
    assert error.field == case.field, (error.field, error.message)
    assert_is_a_sentence(error.message)
    assert error.errors.get(case.field), error.errors
    assert snapshot() == before, "nothing is written when input is refused"


def test_every_problem_of_a_report_is_reported_at_once(cast):
    """The executive fixing a report sees all its gaps, each at its field."""
    assessment = on_agenda(cast, cast.service)
    actions.record_assessment_decisions(actor=cast.executive, assessment=assessment,
                                        decisions=decisions_for(assessment, leave_open=1), outcome="progress_to_alpha")
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.publish_assessment_report(actor=cast.executive, assessment=assessment, budget_amount="x")
    assert {"decisions", "result", "budget_amount", "budget_period"} <= set(refused.value.errors)
    assert all(m[0].isupper() or m[0] == "“" for ms in refused.value.errors.values() for m in ms)
    assert snapshot() == before


def test_every_problem_of_a_decision_record_is_reported_at_once(cast):
    assessment = on_agenda(cast, cast.service)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.record_assessment_decisions(
            actor=cast.executive, assessment=assessment, result="pass", outcome="progress_to_live",
            decisions={"nope": {"decision": "met"}, UNDERSTAND_USERS: {"decision": "maybe"}})
    assert {"decisions[nope]", f"decisions[{UNDERSTAND_USERS}].decision", "result", "outcome"} <= set(
        refused.value.errors)
    assert snapshot() == before


def test_a_spend_dated_with_a_datetime_is_kept_as_its_day(cast):
    """Not bad input: a page may hand over a datetime; the day is what counts."""
    allocation = allocated(cast)
    spend = actions.record_spend(actor=cast.manager, allocation=allocation, amount="10",
                                 spent_on=dt.datetime(2026, 5, 4, 9, 30), description="Printing")
    assert spend.spent_on == dt.date(2026, 5, 4)
