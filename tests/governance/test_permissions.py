"""Every write action of governance, as every role of the cast (design habit 8).

The table below says who may do what. It is written by hand from the policy the guide
describes (model sections 2, 5.5–5.8 and 10; ``osom.core.policy.ACTS``), not read from
the code under test: the tests only call the actions. For each cell:

- allowed: the action succeeds, something is written, and exactly one audit event records
  it, with the verb the table states, the actor and the authority (an executive team
  member acts on the executive's authority, and the event names the executive);
- refused: ``NotAllowed`` with a full sentence naming who may do it, and nothing written
  — in governance's tables, the network's, the lifecycle's, or anyone's notifications.

The service concerned is the cast's service (managed by ``manager``, with ``team_member``
in its team), so the manager's right is tried where it would hold, and the other
manager's where it would not.
"""

from __future__ import annotations

import inspect

import pytest

from osom.core.errors import NotAllowed
from osom.governance import actions

from .. import factories
from ..lifecycle.test_permissions import Row
from ..network import test_permissions as network
from ..network.test_permissions import assert_one_event_for, assert_refusal_is_a_sentence_naming_who_may
from .helpers import (
    DUE, NEEDS, deviation, drafted_guidance, drafted_mandate, evaluation_dispute, issued_mandate, proposal,
    published_guidance, services_dispute, snapshot, target_of,
)

ROLES = network.ROLES
EXEC = network.EXEC
MANAGER = network.MANAGER
SELF = "self"
ANYONE = "anyone"

# What the module exports beside its writes.
NOT_WRITES = {"SCOPE_FILTERS"}


# --- preconditions, each built through the actions by the people who would do it -------

def _draft_mandate(c):
    return lambda actor: actions.draft_mandate(
        actor=actor, title="Publish your metrics monthly", instruction="Publish every metric of your contract monthly.",
        due_date=DUE, services=[c.service])


def _issue_mandate(c):
    mandate = drafted_mandate(c)
    return lambda actor: actions.issue_mandate(actor=actor, mandate=mandate)


def _close_mandate(c):
    mandate = issued_mandate(c)
    return lambda actor: actions.close_mandate(actor=actor, mandate=mandate, note="Superseded by the new hosting plan.")


def _remind_mandate(c):
    mandate = issued_mandate(c)
    return lambda actor: actions.remind_mandate(actor=actor, mandate=mandate)


def _acknowledge_mandate(c):
    target = target_of(issued_mandate(c), c.service)
    return lambda actor: actions.acknowledge_mandate(actor=actor, target=target, note="Planned for next sprint.")


def _report_mandate_progress(c):
    target = target_of(issued_mandate(c), c.service)
    return lambda actor: actions.report_mandate_progress(
        actor=actor, target=target, note="Sign-in moved to the shared service.", done=True)


def _draft_guidance(c):
    return lambda actor: actions.draft_guidance(
        actor=actor, title="Encrypt data at rest", body="Encrypt every store of personal data.", source="law",
        category="security", source_detail="UK GDPR article 32")


def _publish_guidance(c):
    guidance = drafted_guidance(c)
    return lambda actor: actions.publish_guidance(actor=actor, guidance=guidance)


def _withdraw_guidance(c):
    guidance = published_guidance(c)
    return lambda actor: actions.withdraw_guidance(actor=actor, guidance=guidance, reason="The platform is retired.")


def _decide_guidance(c):
    guidance = published_guidance(c)
    return lambda actor: actions.decide_guidance(
        actor=actor, guidance=guidance, service=c.service, decision="reject",
        rationale="Permits are free; the service takes no payments.")


def _raise_dispute(c):
    return lambda actor: actions.raise_dispute(
        actor=actor, service=c.service, other_service=c.other_service, subject="Identity outages",
        description="Residents cannot sign in at month end.")


def _raise_evaluation_dispute(c):
    return lambda actor: actions.raise_dispute(
        actor=actor, kind="evaluation", subject="My evaluation", description="It ignored my community's guidance.")


def _withdraw_dispute(c):
    dispute = services_dispute(c)  # raised by the manager
    return lambda actor: actions.withdraw_dispute(actor=actor, dispute=dispute, note="Identity fixed it.")


def _withdraw_evaluation_dispute(c):
    dispute = evaluation_dispute(c)  # raised by the team member
    return lambda actor: actions.withdraw_dispute(actor=actor, dispute=dispute, note="We talked it through.")


def _resolve_dispute(c):
    dispute = services_dispute(c)
    return lambda actor: actions.resolve_dispute(
        actor=actor, dispute=dispute, resolution="Identity moves its maintenance window.", lever="none")


def _propose_needs(c):
    return lambda actor: actions.propose_needs(actor=actor, title="Visitor permits", needs=NEEDS[:1])


def _fold_proposal(c):
    proposed = proposal(c)
    return lambda actor: actions.fold_proposal(actor=actor, proposal=proposed, service=c.service,
                                               note="Parking permits already issues permits.")


def _decline_proposal(c):
    proposed = proposal(c)
    return lambda actor: actions.decline_proposal(actor=actor, proposal=proposed, reason="Not a priority this year.")


def _establish_from_proposal(c):
    proposed = proposal(c)
    return lambda actor: actions.establish_from_proposal(
        actor=actor, proposal=proposed, content=factories.contract("Visitor permits"), manager=c.outsider)


def _record_deviation(c):
    return lambda actor: actions.record_deviation(
        actor=actor, title="No CoE for minor incidents", compromised="Every problem becomes a CoE.",
        positive="Less paperwork.", negative="Small lessons are lost.", governance="A monthly review of incidents.",
        review_on=DUE)


def _retire_deviation(c):
    recorded = deviation(c)
    return lambda actor: actions.retire_deviation(actor=actor, deviation=recorded, reason="The two services merged.")


def _set_reserved_acts(c):
    return lambda actor: actions.set_reserved_acts(
        actor=actor, acts=["replace_manager", "decommission_service", "issue_mandate"])


def _read_notifications(c):
    # the other manager disputes with Parking permits: its manager is told
    actions.raise_dispute(actor=c.other_manager, service=c.other_service, other_service=c.service,
                          subject="Permit checks flood Identity", description="Every permit page calls Identity twice.")
    return lambda actor: actions.read_notifications(actor=actor, person=c.manager)


EXECUTIVE_ONLY = {"executive": EXEC, "exec_team": EXEC}
EXECUTIVE_ALONE = {"executive": EXEC}
MANAGER_ONLY = {"manager": MANAGER}
EVERYONE = {role: ANYONE for role in ROLES}

# THE table: who may use the executive's levers, and answer them (model 2, 5.5–5.8, 10).
# The verb is the one each act's audit event records; ``policy_acts`` names the acts of
# the policy an action checks where they are not just its verb.
MATRIX: dict[str, Row] = {
    # mandates (5.5)
    "draft_mandate": Row("draft_mandate", "draft_mandate", _draft_mandate, EXECUTIVE_ONLY, ("executive",)),
    "issue_mandate": Row("issue_mandate", "issue_mandate", _issue_mandate, EXECUTIVE_ONLY, ("executive",)),
    "close_mandate": Row("close_mandate", "close_mandate", _close_mandate, EXECUTIVE_ONLY, ("executive",)),
    "remind_mandate": Row("remind_mandate", "remind_mandate", _remind_mandate, EXECUTIVE_ONLY, ("executive",)),
    "acknowledge_mandate": Row("acknowledge_mandate", "acknowledge_mandate", _acknowledge_mandate, MANAGER_ONLY,
                               ("service manager",)),
    "report_mandate_progress": Row("report_mandate_progress", "report_mandate_progress", _report_mandate_progress,
                                   MANAGER_ONLY, ("service manager",)),
    # guidance (5.6)
    "draft_guidance": Row("draft_guidance", "draft_guidance", _draft_guidance, EXECUTIVE_ONLY, ("executive",)),
    "publish_guidance": Row("publish_guidance", "publish_guidance", _publish_guidance, EXECUTIVE_ONLY,
                            ("executive",)),
    "withdraw_guidance": Row("withdraw_guidance", "withdraw_guidance", _withdraw_guidance, EXECUTIVE_ONLY,
                             ("executive",)),
    "decide_guidance": Row("decide_guidance", "decide_guidance", _decide_guidance, MANAGER_ONLY,
                           ("service manager",)),
    # mediation (5.7)
    "raise_dispute": Row("raise_dispute", "raise_dispute", _raise_dispute, MANAGER_ONLY, ("service manager",)),
    "raise_dispute about an evaluation": Row("raise_dispute", "raise_dispute", _raise_evaluation_dispute, EVERYONE,
                                             (), policy_acts=("raise_evaluation_dispute",)),
    "withdraw_dispute": Row("withdraw_dispute", "withdraw_dispute", _withdraw_dispute, {"manager": SELF},
                            ("person themselves",)),
    "withdraw_dispute about an evaluation": Row("withdraw_dispute", "withdraw_dispute", _withdraw_evaluation_dispute,
                                                {"team_member": SELF}, ("person themselves",)),
    "resolve_dispute": Row("resolve_dispute", "resolve_dispute", _resolve_dispute, EXECUTIVE_ONLY, ("executive",)),
    # demand management (5.8)
    "propose_needs": Row("propose_needs", "propose_needs", _propose_needs, EVERYONE, ()),
    "fold_proposal": Row("fold_proposal", "fold_proposal", _fold_proposal, EXECUTIVE_ONLY, ("executive",),
                         policy_acts=("decide_proposal",)),
    "decline_proposal": Row("decline_proposal", "decline_proposal", _decline_proposal, EXECUTIVE_ONLY,
                            ("executive",), policy_acts=("decide_proposal",)),
    "establish_from_proposal": Row("establish_from_proposal", "establish_from_proposal", _establish_from_proposal,
                                   EXECUTIVE_ONLY, ("executive",),
                                   policy_acts=("decide_proposal", "establish_service")),
    # adapting the template (10) and delegation (2)
    "record_deviation": Row("record_deviation", "record_deviation", _record_deviation, EXECUTIVE_ONLY,
                            ("executive",)),
    "retire_deviation": Row("retire_deviation", "retire_deviation", _retire_deviation, EXECUTIVE_ONLY,
                            ("executive",), policy_acts=("record_deviation",)),
    # the executive keeps the choice of what it keeps to itself, always
    "set_reserved_acts": Row("set_reserved_acts", "set_reserved_acts", _set_reserved_acts, EXECUTIVE_ALONE,
                             ("executive",), reserved=True),
    # one's own notifications
    "read_notifications": Row("read_notifications", "read_notifications", _read_notifications, {"manager": SELF},
                              ("person themselves",)),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def test_the_matrix_covers_every_write_action_of_governance():
    functions = {name for name in actions.__all__ if inspect.isfunction(getattr(actions, name))}
    assert set(actions.__all__) - functions == NOT_WRITES, "everything else the module exports is a write"
    assert functions == {row.action for row in MATRIX.values()}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_governance_action(cast, act, role):
    row = MATRIX[act]
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = snapshot()
    before_events = {e["id"] for e in before["core.AuditEvent"]}
    if role in row.allowed:
        do(actor)
        after = snapshot()
        event = assert_one_event_for(row, role, cast, before_events)
        if row.allowed[role] in (SELF, ANYONE):
            assert event.authority_person is None, "a person acting in their own right acts for nobody else"
        changed = [table for table in after if table != "core.AuditEvent" and after[table] != before[table]]
        assert changed, "an allowed act must write what it says it does"
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
        assert snapshot() == before, "a refused act writes nothing, not even an audit event or a notification"
