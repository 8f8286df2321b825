"""Every write action of the service network, as every role of the cast (design habit 8).

One table, below, says who may do what. It is written by hand from the policy the guide
describes (model sections 2 and 5, ``osom.core.policy.ACTS``), not read from the code
under test: the tests only call the actions. For each cell:

- allowed: the action succeeds, something is written, and exactly one audit event records
  it, with the right verb, actor and authority (an executive team member acts on the
  executive's authority, and the event names the executive);
- refused: ``NotAllowed`` with a full sentence naming who may do it, and nothing written.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import pytest

from osom.core.errors import NotAllowed
from osom.core.models import ApiToken, AuditEvent, Organisation, Person
from osom.network import actions
from osom.network.models import (
    Appointment,
    ContractVersion,
    Dependency,
    Metric,
    Need,
    ProfessionalRole,
    Service,
    TeamMembership,
)

from .. import factories

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]

# Authorities an audit event may name.
EXEC = "executive"
MANAGER = "service_manager"

EVERY_TABLE = [
    Person, Organisation, ApiToken, AuditEvent, Service, ContractVersion, Need, Need.metrics.through, Metric,
    Dependency, Appointment, TeamMembership,
]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table an action of this app may touch."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


# --- preconditions, each built through the actions by the people who would do it -------

def _draft(c):
    return actions.draft_contract_version(actor=c.manager, service=c.service, change_note="Next version")


def _submitted(c):
    draft = _draft(c)
    return actions.submit_contract_version(actor=c.manager, version=draft)


def _unmanaged_service(c):
    return factories.service(c.executive, "Waste collection")


def _establish(c):
    return lambda actor: actions.establish_service(actor=actor, content=factories.contract("Waste collection"))


def _adopt(c):
    return lambda actor: actions.adopt_existing_service(
        actor=actor, content=factories.contract("Libraries"), lifecycle_stage="live")


def _appoint_first(c):
    service = _unmanaged_service(c)
    return lambda actor: actions.appoint_manager(actor=actor, service=service, person=c.outsider)


def _replace(c):
    return lambda actor: actions.appoint_manager(
        actor=actor, service=c.service, person=c.outsider, reason="Max moves to another service.")


def _draft_version(c):
    return lambda actor: actions.draft_contract_version(actor=actor, service=c.service, change_note="Visitors")


def _edit_draft(c):
    draft = _draft(c)
    content = factories.contract("Parking permits", needs=2, dependencies=["identity"])
    return lambda actor: actions.edit_contract_draft(
        actor=actor, version=draft, content=content, expected_revision=draft.revision)


def _discard_draft(c):
    draft = _draft(c)
    return lambda actor: actions.discard_contract_draft(actor=actor, version=draft)


def _submit(c):
    draft = _draft(c)
    return lambda actor: actions.submit_contract_version(actor=actor, version=draft)


def _approve(c):
    version = _submitted(c)
    return lambda actor: actions.approve_contract_version(actor=actor, version=version)


def _return(c):
    version = _submitted(c)
    return lambda actor: actions.return_contract_version(actor=actor, version=version, reason="Add a target.")


def _alter(c):
    content = factories.contract("Parking permits", needs=2, dependencies=["identity"])
    return lambda actor: actions.alter_contract(
        actor=actor, service=c.service, content=content,
        reason="Residents asked for visitor permits.", risk="The team is small.")


def _add_dependency(c):
    payments = factories.service(c.executive, "Payments", manager=c.other_manager)
    return lambda actor: actions.add_dependency(actor=actor, service=c.service, provider=payments, note="Fees")


def _remove_dependency(c):
    return lambda actor: actions.remove_dependency(actor=actor, service=c.service, provider=c.other_service)


def _add_team_member(c):
    role = ProfessionalRole.objects.get(name="Content designer")
    return lambda actor: actions.add_team_member(
        actor=actor, service=c.service, person=c.outsider, role=role, level="practitioner")


def _remove_team_member(c):
    membership = TeamMembership.objects.get(service=c.service, person=c.team_member, ended_at__isnull=True)
    return lambda actor: actions.remove_team_member(actor=actor, membership=membership)


@dataclass(frozen=True)
class Row:
    action: str  # the function of osom.network.actions called
    verb: str  # the verb of its audit event, also the act of the policy
    setup: Callable  # cast → (actor → result); builds fresh preconditions
    allowed: dict[str, str]  # role → the authority its audit event names; absent roles are refused
    who: tuple[str, ...]  # words the refusal must contain: the holders of the right
    reserved: bool = False  # the executive keeps this act to itself by default


EXECUTIVE_ONLY = {"executive": EXEC, "exec_team": EXEC}
MANAGER_OR_EXECUTIVE = {"executive": EXEC, "exec_team": EXEC, "manager": MANAGER}
MANAGER_ONLY = {"manager": MANAGER}

# THE table: who may do what to the network (model sections 2, 5.2 and 6).
MATRIX: dict[str, Row] = {
    "establish_service": Row("establish_service", "establish_service", _establish, EXECUTIVE_ONLY, ("executive",)),
    "adopt_existing_service": Row("adopt_existing_service", "adopt_existing_service", _adopt, EXECUTIVE_ONLY,
                                  ("executive",)),
    "appoint_manager": Row("appoint_manager", "appoint_manager", _appoint_first, EXECUTIVE_ONLY, ("executive",)),
    "replace_manager": Row("appoint_manager", "replace_manager", _replace, {"executive": EXEC}, ("executive",),
                           reserved=True),
    "draft_contract_version": Row("draft_contract_version", "draft_contract_version", _draft_version,
                                  MANAGER_OR_EXECUTIVE, ("executive", "service manager")),
    "edit_contract_draft": Row("edit_contract_draft", "edit_contract_draft", _edit_draft, MANAGER_OR_EXECUTIVE,
                               ("executive", "service manager")),
    "discard_contract_draft": Row("discard_contract_draft", "discard_contract_draft", _discard_draft,
                                  MANAGER_OR_EXECUTIVE, ("executive", "service manager")),
    "submit_contract_version": Row("submit_contract_version", "submit_contract_version", _submit, MANAGER_ONLY,
                                   ("service manager",)),
    "approve_contract_version": Row("approve_contract_version", "approve_contract_version", _approve, EXECUTIVE_ONLY,
                                    ("executive",)),
    "return_contract_version": Row("return_contract_version", "return_contract_version", _return, EXECUTIVE_ONLY,
                                   ("executive",)),
    "alter_contract": Row("alter_contract", "alter_contract", _alter, EXECUTIVE_ONLY, ("executive",)),
    "add_dependency": Row("add_dependency", "add_dependency", _add_dependency, MANAGER_OR_EXECUTIVE,
                          ("executive", "service manager")),
    "remove_dependency": Row("remove_dependency", "remove_dependency", _remove_dependency, MANAGER_OR_EXECUTIVE,
                             ("executive", "service manager")),
    "add_team_member": Row("add_team_member", "add_team_member", _add_team_member, MANAGER_ONLY,
                           ("service manager",)),
    "remove_team_member": Row("remove_team_member", "remove_team_member", _remove_team_member, MANAGER_ONLY,
                              ("service manager",)),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def assert_refusal_is_a_sentence_naming_who_may(message: str, row: Row, role: str) -> None:
    assert message[:1].isupper() and message.rstrip().endswith("."), message
    assert len(message.split()) >= 5, message
    if row.reserved and role == "exec_team":
        # the executive team is told that the executive keeps the right to itself
        assert "keeps the right" in message and "Executive" in message, message
        return
    assert message.startswith("Only "), message
    for word in row.who:
        assert word in message.lower(), f"{message!r} does not name {word!r}"


def check_cell(cast, row, role: str, snapshot: Callable[[], dict]) -> AuditEvent | None:
    """One cell of a permission matrix: ``role`` does ``row``'s act. Allowed, it writes
    what it says and exactly one audit event, which is returned; refused, it is told who
    may, and ``snapshot`` (every table the act could touch) is unchanged."""
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = snapshot()
    before_events = {e["id"] for e in before["core.AuditEvent"]}
    if role in row.allowed:
        do(actor)
        after = snapshot()
        event = assert_one_event_for(row, role, cast, before_events)
        changed = [table for table in after if table != "core.AuditEvent" and after[table] != before[table]]
        assert changed, "an allowed act must write what it says it does"
        return event
    with pytest.raises(NotAllowed) as refused:
        do(actor)
    assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
    assert snapshot() == before, "a refused act writes nothing, not even an audit event"
    return None


def assert_one_event_for(row: Row, role: str, cast, before_ids: set[int]) -> AuditEvent:
    new = list(AuditEvent.objects.exclude(pk__in=before_ids))
    assert len(new) == 1, [e.verb for e in new]
    event = new[0]
    actor = cast.by_role()[role]
    assert event.verb == row.verb
    assert event.actor == actor
    assert event.authority == row.allowed[role]
    if role == "exec_team" and event.authority == EXEC:
        assert event.authority_person == cast.executive, "an executive team member acts on the executive's authority"
    elif role != "executive":
        assert event.authority_person is None
    return event


def test_the_matrix_covers_every_write_action_of_the_network():
    # the flag for decommissioning has its table beside its own tests
    from .test_decommission_flag import MATRIX as FLAG_MATRIX

    writes = {
        name for name in actions.__all__
        if inspect.isfunction(getattr(actions, name))
    }
    assert writes == {row.action for row in (*MATRIX.values(), *FLAG_MATRIX.values())}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_network_action(cast, act, role):
    check_cell(cast, MATRIX[act], role, snapshot)


def test_an_event_of_the_executive_team_names_the_executive_as_authority(cast):
    """Spelled out once, as the guide says it: acts of the executive team are the executive's."""
    version = _submitted(cast)
    actions.approve_contract_version(actor=cast.exec_team, version=version)
    event = AuditEvent.objects.filter(verb="approve_contract_version").get()
    assert (event.actor, event.authority, event.authority_person) == (cast.exec_team, "executive", cast.executive)
