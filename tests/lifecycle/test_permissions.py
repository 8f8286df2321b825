"""Every write action of the lifecycle, as every role of the cast (design habit 8).

The table below says who may do what. It is written by hand from the policy the guide
describes (model sections 2, 5.2 and 5.3; ``osom.core.policy.ACTS``), not read from the
code under test: the tests only call the actions. For each cell:

- allowed: the action succeeds, something is written, and exactly one audit event records
  it, with the right verb, actor and authority (an executive team member acts on the
  executive's authority, and the event names the executive; an assessor acts in their
  own right as assessor);
- refused: ``NotAllowed`` with a full sentence naming who may do it, and nothing written,
  in the lifecycle's tables or the network's.

Assessments are done on the cast's service (managed by ``manager``, with ``team_member``
in its team), so the manager's and the team's rights are tried where they would hold.
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass

import pytest

from osom.core.errors import NotAllowed
from osom.core.models import AuditEvent, Organisation
from osom.lifecycle import actions
from osom.lifecycle.models import Criterion

from ..network import test_permissions as network
from ..network.test_permissions import assert_one_event_for, assert_refusal_is_a_sentence_naming_who_may
from .helpers import BUDGET, DECOMMISSION, SOON, allocated, decided, on_agenda, published, scheduled, snapshot

ROLES = network.ROLES
EXEC = network.EXEC
MANAGER = network.MANAGER
TEAM = "team_member"
ASSESSOR = "assessor"

# Reads and constants exported beside the writes.
NOT_WRITES = {"allocation_balance"}


@dataclass(frozen=True)
class Row(network.Row):
    # the acts of the policy this action checks, where they are not just its verb
    policy_acts: tuple[str, ...] = ()


def _panel(c):
    """A panel of assessors: the executive, someone from outside the service, and the
    manager of another service."""
    return [c.executive, c.outsider, c.other_manager]


# --- preconditions, each built through the actions by the people who would do it -------

def _add_criterion(c):
    return lambda actor: actions.add_criterion(
        actor=actor, name="Publish performance data", meaning="The service publishes its metrics every month.",
        stages=["beta", "live"])


def _edit_criterion(c):
    criterion = Criterion.objects.get(slug="understand-users-and-their-needs")
    return lambda actor: actions.edit_criterion(
        actor=actor, criterion=criterion, name="Understand users and what they need", meaning=criterion.meaning,
        stages=criterion.stages, expected_revision=criterion.revision)


def _schedule(c):
    return lambda actor: actions.schedule_assessment(
        actor=actor, service=c.service, kind="transition", scheduled_for=SOON, assessors=[c.executive])


def _edit_assessment(c):
    assessment = scheduled(c, c.service)
    return lambda actor: actions.edit_assessment(
        actor=actor, assessment=assessment, scheduled_for=SOON + dt.timedelta(days=7),
        assessors=[c.executive, c.exec_team], criteria=None, agenda_note="Moved a week later.")


def _publish_agenda(c):
    assessment = scheduled(c, c.service)
    return lambda actor: actions.publish_assessment_agenda(actor=actor, assessment=assessment)


def _cancel(c):
    assessment = scheduled(c, c.service)
    return lambda actor: actions.cancel_assessment(actor=actor, assessment=assessment, reason="The team asked for a month more.")


def _record(assessors):
    def setup(c):
        assessment = on_agenda(c, c.service, assessors=assessors(c))
        items = list(assessment.items.select_related("criterion"))
        decisions = {i.criterion.slug: {"decision": "met", "did_well": "Evidence of needs."} for i in items}
        return lambda actor: actions.record_assessment_decisions(
            actor=actor, assessment=assessment, decisions=decisions, result="met", outcome="progress_to_alpha")
    return setup


def _publish_progress(c):
    assessment = decided(c, c.service, outcome="progress_to_alpha")
    return lambda actor: actions.publish_assessment_report(actor=actor, assessment=assessment, **BUDGET)


def _publish_decommissioning(c):
    assessment = decided(c, c.service, outcome="not_required")
    return lambda actor: actions.publish_assessment_report(actor=actor, assessment=assessment, **DECOMMISSION)


def _addendum(assessors):
    def setup(c):
        report = published(c, c.service, outcome="more_research", assessors=assessors(c))
        return lambda actor: actions.add_report_addendum(
            actor=actor, assessment=report, text="The research plan was shared with the team afterwards.")
    return setup


def _cadence_default(c):
    return lambda actor: actions.set_assessment_cadence(actor=actor, days=180)


def _cadence_of_a_service(c):
    return lambda actor: actions.set_assessment_cadence(actor=actor, days=90, service=c.service)


def _allocate(c):
    return lambda actor: actions.allocate_budget(actor=actor, service=c.service, period="2026-27", amount="12000.00")


def _spend(c):
    allocation = allocated(c)
    return lambda actor: actions.record_spend(
        actor=actor, allocation=allocation, amount="250.00", spent_on=SOON, description="Research incentives")


def _reinvest(c):
    allocation = allocated(c)
    return lambda actor: actions.reinvest_savings(actor=actor, allocation=allocation, amount="100.00",
                                                  purpose="Accessibility testing")


def _request_funding(c):
    return lambda actor: actions.request_funding(
        actor=actor, service=c.service, kind="expand", period="2026-27", amount="5000.00",
        rationale="Twice as many residents applied as the contract foresaw.")


def _decide_funding(c):
    request = actions.request_funding(actor=c.manager, service=c.service, kind="expand", period="2026-27",
                                      amount="5000.00", rationale="Twice as many residents applied.")
    return lambda actor: actions.decide_funding_request(actor=actor, request=request, grant=True,
                                                        note="Demand is real; granted for this year.")


EXECUTIVE_ONLY = {"executive": EXEC, "exec_team": EXEC}
EXECUTIVE_ALONE = {"executive": EXEC}
MANAGER_ONLY = {"manager": MANAGER}
MANAGER_OR_TEAM = {"manager": MANAGER, "team_member": TEAM}
# the panel of _panel: the executive acts as executive; the others as assessors
EXECUTIVE_OR_PANEL = {"executive": EXEC, "exec_team": EXEC, "outsider": ASSESSOR, "other_manager": ASSESSOR}

# THE table: who may assess services and move their money (model sections 2, 5.2 and 5.3).
MATRIX: dict[str, Row] = {
    "add_criterion": Row("add_criterion", "add_criterion", _add_criterion, EXECUTIVE_ONLY, ("executive",),
                         policy_acts=("manage_criteria",)),
    "edit_criterion": Row("edit_criterion", "edit_criterion", _edit_criterion, EXECUTIVE_ONLY, ("executive",),
                          policy_acts=("manage_criteria",)),
    "schedule_assessment": Row("schedule_assessment", "schedule_assessment", _schedule, EXECUTIVE_ONLY,
                               ("executive",)),
    "edit_assessment": Row("edit_assessment", "edit_assessment", _edit_assessment, EXECUTIVE_ONLY, ("executive",)),
    "publish_assessment_agenda": Row("publish_assessment_agenda", "publish_assessment_agenda", _publish_agenda,
                                     EXECUTIVE_ONLY, ("executive",)),
    "cancel_assessment": Row("cancel_assessment", "cancel_assessment", _cancel, EXECUTIVE_ONLY, ("executive",)),
    "record_assessment_decisions": Row("record_assessment_decisions", "record_assessment_decisions",
                                       _record(lambda c: [c.executive]), EXECUTIVE_ONLY, ("executive", "assessors")),
    "record_assessment_decisions as an assessor": Row(
        "record_assessment_decisions", "record_assessment_decisions", _record(_panel), EXECUTIVE_OR_PANEL,
        ("executive", "assessors")),
    "publish_assessment_report": Row("publish_assessment_report", "publish_assessment_report", _publish_progress,
                                     EXECUTIVE_ONLY, ("executive",)),
    # a report that decommissions is also the act of decommissioning, which the executive keeps by default
    "publish_assessment_report that decommissions": Row(
        "publish_assessment_report", "publish_assessment_report", _publish_decommissioning, EXECUTIVE_ALONE,
        ("executive",), reserved=True, policy_acts=("decommission_service",)),
    "add_report_addendum": Row("add_report_addendum", "add_report_addendum", _addendum(lambda c: [c.executive]),
                               EXECUTIVE_ONLY, ("executive", "assessors")),
    "add_report_addendum as an assessor": Row("add_report_addendum", "add_report_addendum", _addendum(_panel),
                                              EXECUTIVE_OR_PANEL, ("executive", "assessors")),
    "set_assessment_cadence": Row("set_assessment_cadence", "set_assessment_cadence", _cadence_default,
                                  EXECUTIVE_ONLY, ("executive",)),
    "set_assessment_cadence of a service": Row("set_assessment_cadence", "set_assessment_cadence",
                                               _cadence_of_a_service, EXECUTIVE_ONLY, ("executive",)),
    "allocate_budget": Row("allocate_budget", "allocate_budget", _allocate, EXECUTIVE_ONLY, ("executive",)),
    "record_spend": Row("record_spend", "record_spend", _spend, MANAGER_OR_TEAM, ("service manager", "its team")),
    "reinvest_savings": Row("reinvest_savings", "reinvest_savings", _reinvest, MANAGER_ONLY, ("service manager",)),
    "request_funding": Row("request_funding", "request_funding", _request_funding, MANAGER_ONLY,
                           ("service manager",)),
    "decide_funding_request": Row("decide_funding_request", "decide_funding_request", _decide_funding,
                                  EXECUTIVE_ONLY, ("executive",)),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def test_the_matrix_covers_every_write_action_of_the_lifecycle():
    functions = {name for name in actions.__all__ if inspect.isfunction(getattr(actions, name))}
    assert NOT_WRITES <= functions
    assert functions - NOT_WRITES == {row.action for row in MATRIX.values()}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_lifecycle_action(cast, act, role):
    row = MATRIX[act]
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = snapshot()
    before_events = {e["id"] for e in before["core.AuditEvent"]}
    if role in row.allowed:
        do(actor)
        after = snapshot()
        event = assert_one_event_for(row, role, cast, before_events)
        if row.allowed[role] == ASSESSOR:
            assert event.authority_person is None, "an assessor acts in their own right"
        changed = [table for table in after if table != "core.AuditEvent" and after[table] != before[table]]
        assert changed, "an allowed act must write what it says it does"
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
        assert snapshot() == before, "a refused act writes nothing, not even an audit event"


def test_an_assessor_of_one_assessment_has_no_say_on_another(cast):
    """Being on one panel gives no right on the next assessment, even of the same service."""
    first = published(cast, cast.service, outcome="more_research", assessors=_panel(cast))
    second = on_agenda(cast, cast.service, assessors=[cast.executive])
    before = snapshot()
    with pytest.raises(NotAllowed, match="assessors"):
        actions.record_assessment_decisions(actor=cast.outsider, assessment=second, result="met")
    with pytest.raises(NotAllowed, match="assessors"):
        actions.add_report_addendum(actor=cast.outsider, assessment=second, text="A note.")
    assert snapshot() == before
    actions.add_report_addendum(actor=cast.outsider, assessment=first, text="A note on the panel's own report.")


def test_once_the_executive_no_longer_reserves_it_its_team_may_decommission(cast):
    org = Organisation.current()
    Organisation.objects.filter(pk=org.pk).update(
        reserved_acts=[a for a in org.reserved_acts if a != "decommission_service"])
    do = _publish_decommissioning(cast)
    do(cast.exec_team)
    cast.service.refresh_from_db()
    assert cast.service.lifecycle_stage == "decommissioned"
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.verb, event.actor, event.authority, event.authority_person) == (
        "publish_assessment_report", cast.exec_team, "executive", cast.executive)
