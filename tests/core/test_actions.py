"""Every write action on the organisation itself (people, its names, API tokens), as every
role of the cast (design habit 8).

The table below is written by hand from the policy (``osom.core.policy.ACTS``); the
tests only call the actions. Allowed: it succeeds, writes, and exactly one audit event
records it with the right verb, actor and authority. Refused: ``NotAllowed`` with a
sentence naming who may do it, and nothing written.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import pytest

from osom.core import actions
from osom.core.errors import InvalidInput, NotAllowed
from osom.core.models import ApiToken, AuditEvent, Organisation, Person
from osom.network.models import Appointment, ContractVersion, Service, TeamMembership

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]

EXEC = "executive"
SELF = "self"

EVERY_TABLE = [Person, Organisation, ApiToken, AuditEvent, Service, ContractVersion, Appointment, TeamMembership]


def snapshot() -> dict[str, list[dict]]:
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


def _subject(c) -> Person:
    """Someone outside the cast, so that no role of the cast is the person acted on."""
    return actions.create_person(actor=c.executive, email="sam@example.org", name="Sam Subject")


def _edit_terminology(c):
    org = Organisation.current()
    return lambda actor: actions.edit_terminology(
        actor=actor, values={"executive_name": "Board"}, expected_revision=org.revision)


def _create_person(c):
    return lambda actor: actions.create_person(actor=actor, email="new@example.org", name="New Person")


def _issue_own_token(c):
    return lambda actor: actions.issue_api_token(actor=actor, person=actor, label="laptop")


def _issue_token_for_someone_else(c):
    sam = _subject(c)
    return lambda actor: actions.issue_api_token(actor=actor, person=sam, label="laptop")


def _revoke_own_token(c):
    def do(actor):
        token = ApiToken.objects.get(person=actor, label="mine")
        return actions.revoke_api_token(actor=actor, token=token)

    # every member of the cast issues their own token first, so each cell has one to revoke
    for person in c.by_role().values():
        actions.issue_api_token(actor=person, person=person, label="mine")
    return do


def _revoke_someone_elses_token(c):
    sam = _subject(c)
    token, _ = actions.issue_api_token(actor=sam, person=sam, label="sam's")
    return lambda actor: actions.revoke_api_token(actor=actor, token=token)


@dataclass(frozen=True)
class Row:
    action: str
    verb: str
    setup: Callable
    allowed: dict[str, str]  # role → authority named by the audit event
    who: tuple[str, ...]  # words the refusal must contain


EVERYONE_FOR_THEMSELVES = {role: SELF for role in ROLES}

# THE table: who may change the organisation (model sections 2 and 10).
MATRIX: dict[str, Row] = {
    "edit_terminology": Row("edit_terminology", "edit_terminology", _edit_terminology,
                            {"executive": EXEC, "exec_team": EXEC}, ("executive",)),
    "create_person": Row("create_person", "create_person", _create_person,
                         {"executive": EXEC, "exec_team": EXEC}, ("executive",)),
    "issue_api_token_for_oneself": Row("issue_api_token", "issue_api_token", _issue_own_token,
                                       EVERYONE_FOR_THEMSELVES, ("themselves",)),
    # a token is personal: not even the executive issues one for someone else
    "issue_api_token_for_someone_else": Row("issue_api_token", "issue_api_token", _issue_token_for_someone_else,
                                            {}, ("themselves",)),
    "revoke_api_token_of_oneself": Row("revoke_api_token", "revoke_api_token", _revoke_own_token,
                                       EVERYONE_FOR_THEMSELVES, ("themselves", "executive")),
    # the executive may revoke anyone's token (a lost laptop, someone who left)
    "revoke_api_token_of_someone_else": Row("revoke_api_token", "revoke_api_token", _revoke_someone_elses_token,
                                            {"executive": EXEC, "exec_team": EXEC}, ("themselves", "executive")),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def test_the_matrix_covers_every_write_action_of_the_organisation():
    writes = {name for name in actions.__all__ if inspect.isfunction(getattr(actions, name))}
    assert writes == {row.action for row in MATRIX.values()}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_organisation_action(cast, act, role):
    row = MATRIX[act]
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = snapshot()
    before_events = {e["id"] for e in before["core.AuditEvent"]}
    if role in row.allowed:
        do(actor)
        after = snapshot()
        new = list(AuditEvent.objects.exclude(pk__in=before_events))
        assert len(new) == 1, [e.verb for e in new]
        event = new[0]
        assert (event.verb, event.actor, event.authority) == (row.verb, actor, row.allowed[role])
        if role == "exec_team" and event.authority == EXEC:
            assert event.authority_person == cast.executive
        elif role != "executive":
            assert event.authority_person is None
        assert any(after[t] != before[t] for t in after if t != "core.AuditEvent"), "nothing was written"
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        message = refused.value.message
        assert message.startswith("Only ") and message.endswith("."), message
        for word in row.who:
            assert word in message.lower(), f"{message!r} does not name {word!r}"
        assert snapshot() == before, "a refused act writes nothing, not even an audit event"


# --- the one act done without an actor: founding the organisation -----------------------

def test_the_first_person_of_an_empty_organisation_is_its_executive(db):
    ada = actions.create_person(actor=None, email="ada@example.org", name="Ada Lovelace", role="executive")
    event = AuditEvent.objects.get()
    assert ada.is_executive
    assert (event.verb, event.actor, event.authority) == ("create_person", ada, "system")


def test_the_first_person_cannot_be_anything_but_the_executive(db):
    with pytest.raises(InvalidInput) as refused:
        actions.create_person(actor=None, email="bob@example.org", name="Bob", role="member")
    assert refused.value.field == "role"
    assert not Person.objects.exists() and not AuditEvent.objects.exists()


def test_nobody_is_added_without_an_actor_once_the_organisation_exists(cast):
    before = snapshot()
    with pytest.raises(NotAllowed):
        actions.create_person(actor=None, email="eve@example.org", name="Eve", role="member")
    assert snapshot() == before


def test_someone_who_left_can_do_nothing(cast):
    Person.objects.filter(pk=cast.executive.pk).update(is_active=False)
    cast.executive.refresh_from_db()
    before = snapshot()
    with pytest.raises(NotAllowed, match="sign in"):
        actions.create_person(actor=cast.executive, email="eve@example.org", name="Eve")
    assert snapshot() == before
