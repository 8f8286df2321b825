"""Every write action of the learning loop, as every role of the cast (design habit 8).

The table below says who may do what. It is written by hand from the policy the guide
describes (model sections 7, 8, 9 and 11; ``osom.core.policy.ACTS``), not read from the
code under test: the tests only call the actions. For each cell:

- allowed: the action succeeds, something is written, and exactly one audit event records
  it, with the verb the table states, the actor and the authority (an executive team
  member acts on the executive's authority, and the event names the executive);
- refused: ``NotAllowed`` with a full sentence naming who may do it, and nothing written
  — in the learning loop's tables, governance's, the network's, or anyone's notifications.

Besides the six people of the cast, two more take part where a right belongs to a
particular person: ``lead``, who formed and leads the community of practice acted on,
and ``owner``, who owns the corrective action acted on (neither manages a service nor
sits in its team, so only the lead's or the person's own right lets them act).

This module also holds the builders the other learning tests use: data is made through
the actions, by the people who would make it.
"""

from __future__ import annotations

import datetime as dt
import inspect
from dataclasses import dataclass

import pytest
from django.utils import timezone

from osom.core.actions import create_person
from osom.core.errors import NotAllowed
from osom.core.models import AuditEvent, Person
from osom.core.policy import ACTS
from osom.learning import actions, communities
from osom.learning.models import (
    CoEReview,
    Community,
    CommunityGuidance,
    CommunityMembership,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRating,
    DoctrineRound,
    OpenRole,
    PatternEffect,
    TimelineEvent,
    WhyChain,
)
from osom.network.models import ProfessionalRole

from ..governance.helpers import EVERY_TABLE as GOVERNANCE_TABLES
from ..lifecycle.test_permissions import Row
from ..network import test_permissions as network
from ..network.test_permissions import assert_refusal_is_a_sentence_naming_who_may

ROLES = [*network.ROLES, "lead", "owner"]
EXEC = network.EXEC
MANAGER = network.MANAGER
TEAM = "team_member"
SELF = "self"
LEAD = "lead"
ANYONE = "anyone"

LEARNING_TABLES = [
    DoctrinePattern, DoctrineRound, DoctrineRating, CorrectionOfError, TimelineEvent, WhyChain, PatternEffect,
    CorrectiveAction, CoEReview, Community, CommunityMembership, CommunityGuidance, OpenRole,
]
# governance's tables too (an escalated dispute, guidance drawn from a CoE), with the
# network's, the lifecycle's and everyone's notifications
EVERY_TABLE = [*GOVERNANCE_TABLES, *LEARNING_TABLES]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a learning action may touch, notifications included."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


TODAY = timezone.localdate()
AGO = TODAY - dt.timedelta(days=3)
DUE = TODAY + dt.timedelta(days=14)
PROFESSION = "User-centred design"  # the team member is a user researcher


# --- the people ---------------------------------------------------------------------------

@dataclass
class World:
    """The cast, with the lead of a community and the owner of a corrective action."""

    cast: object  # the ``cast`` fixture's Cast
    lead: Person
    owner: Person

    def __getattr__(self, name):
        return getattr(self.cast, name)

    def by_role(self) -> dict[str, Person]:
        return {**self.cast.by_role(), "lead": self.lead, "owner": self.owner}


def world(cast) -> World:
    lead = create_person(actor=cast.executive, email="lee@example.org", name="Lee Lead")
    owner = create_person(actor=cast.executive, email="owen@example.org", name="Owen Owner")
    return World(cast, lead, owner)


# --- builders, each through the actions by the people who would do it ----------------------

def coe_content(c, *, owner=None, **changes) -> dict:
    """A Correction of Error with everything model 7 asks for: ready to publish."""
    owner = owner or c.team_member
    content = {
        "title": "Permit renewals failed overnight",
        "occurred_on": AGO.isoformat(),
        "users_affected": True,
        "problem": "Renewals failed between 01:00 and 06:00.",
        "impact": "312 residents could not renew; 40 were fined.",
        "root_cause": "The payment certificate expired and nobody was told.",
        "root_cause_data": "Gateway logs show TLS errors from 01:02.",
        "trade_offs_that_led": "Speed of launch over operational checks.",
        "trade_offs_to_avoid": "Certificates without an owner.",
        "lessons": "Every certificate needs an owner and an alert.",
        "timeline": [{"at": f"{AGO} 01:02", "description": "First TLS error"},
                     {"at": f"{AGO} 06:10", "description": "Certificate renewed"}],
        "why_chains": [{"question": "Why did renewals fail?",
                        "whys": ["The certificate expired", "Nobody owned it", "Ownership was never assigned"]}],
        "pattern_effects": [{"pattern": "manage-failure", "effect": "hurt", "note": "No alert on expiry."},
                            {"pattern": "be-transparent", "effect": "helped", "note": "Status page kept up to date."}],
        "actions": [{"description": "Alert 30 days before any certificate expires", "owner": owner.email,
                     "due_date": DUE.isoformat()}],
    }
    content.update(changes)
    return content


def drafted_coe(c, *, actor=None, service=None, **changes) -> CorrectionOfError:
    return actions.write_coe(actor=actor or c.manager, service=service or c.service, content=coe_content(c, **changes))


def published_coe(c, *, service=None, **changes) -> CorrectionOfError:
    coe = drafted_coe(c, service=service, actor=(service or c.service).manager, **changes)
    return actions.publish_coe(actor=coe.service.manager, coe=coe)


def first_action(coe: CorrectionOfError) -> CorrectiveAction:
    return coe.actions.order_by("position").first()


def open_round(c, service=None, *, organisation: bool = False) -> DoctrineRound:
    if organisation:
        return actions.open_doctrine_round(actor=c.executive, service=None)
    service = service or c.service
    return actions.open_doctrine_round(actor=service.manager, service=service)


def rate(actor, rnd, **ratings) -> int:
    """``rate(person, round, know_your_users="good")``: pattern slugs with underscores."""
    return actions.rate_doctrine(actor=actor, round=rnd, ratings=[
        {"pattern": slug.replace("_", "-"), "rating": rating} for slug, rating in ratings.items()])


def formed(w, *, lead=None, name="User research", profession=PROFESSION) -> Community:
    return communities.form_community(actor=lead or w.lead, name=name, profession=profession,
                                      purpose="Researchers across services learn from each other.")


def evaluation_guidance(community: Community, kind: str = "evaluation") -> CommunityGuidance:
    return communities.publish_community_guidance(
        actor=community.lead, community=community, kind=kind, title="Evaluating user researchers",
        body="Look at the research plans and what the team changed because of them.")


def endorsed(w, **kwargs) -> Community:
    community = formed(w, **kwargs)
    evaluation_guidance(community)
    return communities.endorse_community(actor=w.executive, community=community)


def role_named(name: str) -> ProfessionalRole:
    return ProfessionalRole.objects.get(name=name)


def posted_role(c, service=None, role: str = "Content designer") -> OpenRole:
    service = service or c.service
    return communities.post_open_role(actor=service.manager, service=service, role=role_named(role), level="senior",
                                      description="Rewrite the permit pages in plain English.")


# --- preconditions of each cell: set up, then the act as a function of the actor ----------

def _edit_meaning(w):
    pattern = DoctrinePattern.objects.get(slug="know-your-users")
    return lambda actor: actions.edit_doctrine_meaning(actor=actor, pattern=pattern,
                                                       meaning="Name every group of people who use the service.")


def _open_round(w):
    return lambda actor: actions.open_doctrine_round(actor=actor, service=w.service, title="Spring self-assessment")


def _open_organisation_round(w):
    return lambda actor: actions.open_doctrine_round(actor=actor, service=None, title="The organisation, spring")


def _close_round(w):
    rnd = open_round(w)
    rate(w.team_member, rnd, know_your_users="good")
    return lambda actor: actions.close_doctrine_round(actor=actor, round=rnd)


def _close_organisation_round(w):
    rnd = open_round(w, organisation=True)
    rate(w.outsider, rnd, know_your_users="weak")
    return lambda actor: actions.close_doctrine_round(actor=actor, round=rnd)


def _rate(w):
    rnd = open_round(w)
    return lambda actor: rate(actor, rnd, know_your_users="good", manage_failure="weak")


def _rate_organisation(w):
    rnd = open_round(w, organisation=True)
    return lambda actor: rate(actor, rnd, be_transparent="partly")


def _write_coe(w):
    return lambda actor: actions.write_coe(actor=actor, service=w.service, content=coe_content(w))


def _rewrite_coe(w):
    coe = drafted_coe(w)
    return lambda actor: actions.write_coe(actor=actor, service=w.service, coe=coe,
                                           content=coe_content(w, lessons="Own every certificate."))


def _discard_coe(w):
    coe = drafted_coe(w)
    return lambda actor: actions.discard_coe(actor=actor, coe=coe)


def _publish_coe(w):
    coe = drafted_coe(w)
    return lambda actor: actions.publish_coe(actor=actor, coe=coe)


def _add_action(w):
    coe = published_coe(w)
    return lambda actor: actions.add_corrective_action(actor=actor, coe=coe, description="Name a certificate owner",
                                                       owner=w.manager.email, due_date=DUE)


def _update_action(w):
    action = first_action(published_coe(w, owner=w.owner))
    return lambda actor: actions.update_corrective_action(actor=actor, action=action, status="done",
                                                          note="Alerts are live.")


def _verify_action(w):
    action = first_action(published_coe(w))
    actions.update_corrective_action(actor=w.team_member, action=action, status="done")
    return lambda actor: actions.verify_corrective_action(actor=actor, action=action, note="An alert fired in testing.")


def _schedule_review(w):
    return lambda actor: actions.schedule_coe_review(actor=actor, scheduled_for=DUE)


def _hold_review(w):
    published_coe(w)
    review = actions.schedule_coe_review(actor=w.executive, scheduled_for=TODAY)
    return lambda actor: actions.hold_coe_review(actor=actor, review=review, notes="Certificates need owners.")


def _form(w):
    return lambda actor: communities.form_community(actor=actor, name="Content design", profession=PROFESSION,
                                                    purpose="Plain English everywhere.")


def _edit_community(w):
    community = formed(w)
    return lambda actor: communities.edit_community(actor=actor, community=community, name="User research guild",
                                                    purpose="Researchers learn from each other.")


def _join(w):
    community = formed(w)
    return lambda actor: communities.join_community(actor=actor, community=community, person=w.owner)


def _leave(w):
    community = formed(w)
    communities.join_community(actor=w.owner, community=community)
    return lambda actor: communities.leave_community(actor=actor, community=community, person=w.owner)


def _endorse(w):
    community = formed(w)
    evaluation_guidance(community)
    return lambda actor: communities.endorse_community(actor=actor, community=community)


def _withdraw_endorsement(w):
    community = endorsed(w)
    return lambda actor: communities.withdraw_endorsement(actor=actor, community=community,
                                                          reason="It has not met for a year.")


def _publish_community_guidance(w):
    community = formed(w)
    return lambda actor: communities.publish_community_guidance(
        actor=actor, community=community, kind="practice", title="Consent forms", body="Use the shared consent form.")


def _withdraw_community_guidance(w):
    guidance = evaluation_guidance(formed(w))
    return lambda actor: communities.withdraw_community_guidance(actor=actor, guidance=guidance,
                                                                 reason="Replaced by the new framework.")


def _escalate(w):
    community = formed(w)
    return lambda actor: communities.escalate_evaluation_dispute(
        actor=actor, community=community, subject="A researcher's evaluation",
        description="The manager and the researcher disagree on the level; we could not settle it.")


def _post_role(w):
    return lambda actor: communities.post_open_role(actor=actor, service=w.service, role=role_named("Content designer"),
                                                    level="senior")


def _close_role(w):
    opening = posted_role(w)
    return lambda actor: communities.close_open_role(actor=actor, opening=opening, filled=True)


EXECUTIVE_ONLY = {"executive": EXEC, "exec_team": EXEC}
MANAGER_ONLY = {"manager": MANAGER}
MANAGER_OR_EXECUTIVE = {"executive": EXEC, "exec_team": EXEC, "manager": MANAGER}
MANAGER_OR_TEAM = {"manager": MANAGER, "team_member": TEAM}
EVERYONE = {role: ANYONE for role in ROLES}
THE_LEAD = {"lead": LEAD}
THE_OWNER = {"owner": SELF}

# THE table: who may do what in the learning loop (model 7, 8, 9, 11). The verb is the one
# each act's audit event records; ``policy_acts`` names the acts of the policy an action
# checks where they are not just its verb.
MATRIX: dict[str, Row] = {
    # the doctrine (9)
    "edit_doctrine_meaning": Row("edit_doctrine_meaning", "edit_doctrine_meaning", _edit_meaning, EXECUTIVE_ONLY,
                                 ("executive",)),
    "open_doctrine_round": Row("open_doctrine_round", "open_doctrine_round", _open_round, MANAGER_OR_EXECUTIVE,
                               ("executive", "service manager")),
    "open_doctrine_round of the organisation": Row("open_doctrine_round", "open_doctrine_round",
                                                   _open_organisation_round, EXECUTIVE_ONLY, ("executive",)),
    "close_doctrine_round": Row("close_doctrine_round", "close_doctrine_round", _close_round, MANAGER_OR_EXECUTIVE,
                                ("executive", "service manager")),
    "close_doctrine_round of the organisation": Row("close_doctrine_round", "close_doctrine_round",
                                                    _close_organisation_round, EXECUTIVE_ONLY, ("executive",)),
    "rate_doctrine": Row("rate_doctrine", "rate_doctrine", _rate, MANAGER_OR_TEAM, ("service manager", "its team")),
    "rate_doctrine of the organisation": Row("rate_doctrine", "rate_doctrine", _rate_organisation, EVERYONE, (),
                                             policy_acts=("rate_organisation_doctrine",)),
    # Corrections of Error (7, 11)
    "write_coe": Row("write_coe", "write_coe", _write_coe, MANAGER_OR_TEAM, ("service manager", "its team")),
    "write_coe rewriting a draft": Row("write_coe", "write_coe", _rewrite_coe, MANAGER_OR_TEAM,
                                       ("service manager", "its team")),
    "discard_coe": Row("discard_coe", "discard_coe", _discard_coe, MANAGER_OR_TEAM, ("service manager", "its team")),
    "publish_coe": Row("publish_coe", "publish_coe", _publish_coe, MANAGER_ONLY, ("service manager",)),
    "add_corrective_action": Row("add_corrective_action", "add_corrective_action", _add_action, MANAGER_OR_TEAM,
                                 ("service manager", "its team")),
    "update_corrective_action": Row("update_corrective_action", "update_corrective_action", _update_action,
                                    {**MANAGER_OR_TEAM, **THE_OWNER},
                                    ("service manager", "its team", "person themselves")),
    "verify_corrective_action": Row("verify_corrective_action", "verify_corrective_action", _verify_action,
                                    MANAGER_OR_EXECUTIVE, ("executive", "service manager")),
    "schedule_coe_review": Row("schedule_coe_review", "schedule_coe_review", _schedule_review, EXECUTIVE_ONLY,
                               ("executive",)),
    "hold_coe_review": Row("hold_coe_review", "hold_coe_review", _hold_review, EXECUTIVE_ONLY, ("executive",)),
    # communities of practice (8)
    "form_community": Row("form_community", "form_community", _form, EVERYONE, ()),
    "edit_community": Row("edit_community", "edit_community", _edit_community, THE_LEAD, ("community's lead",)),
    "join_community": Row("join_community", "join_community", _join, THE_OWNER, ("person themselves",)),
    "leave_community": Row("leave_community", "leave_community", _leave, THE_OWNER, ("person themselves",)),
    "endorse_community": Row("endorse_community", "endorse_community", _endorse, EXECUTIVE_ONLY, ("executive",)),
    "withdraw_endorsement": Row("withdraw_endorsement", "withdraw_endorsement", _withdraw_endorsement,
                                EXECUTIVE_ONLY, ("executive",)),
    "publish_community_guidance": Row("publish_community_guidance", "publish_community_guidance",
                                      _publish_community_guidance, THE_LEAD, ("community's lead",)),
    "withdraw_community_guidance": Row("withdraw_community_guidance", "withdraw_community_guidance",
                                       _withdraw_community_guidance, THE_LEAD, ("community's lead",)),
    "escalate_evaluation_dispute": Row("escalate_evaluation_dispute", "escalate_evaluation_dispute", _escalate,
                                       THE_LEAD, ("community's lead",)),
    "post_open_role": Row("post_open_role", "post_open_role", _post_role, MANAGER_ONLY, ("service manager",)),
    "close_open_role": Row("close_open_role", "close_open_role", _close_role, MANAGER_ONLY, ("service manager",)),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def _writes(module) -> set[str]:
    return {name for name in module.__all__ if inspect.isfunction(getattr(module, name))}


def test_the_matrix_covers_every_write_action_of_the_learning_loop():
    assert set(actions.__all__) - _writes(actions) == {"COE_TEXT_FIELDS", "REQUIRED_TO_PUBLISH"}
    assert _writes(communities) - {row.action for row in MATRIX.values()} == {"professions"}, "the one read"
    assert _writes(actions) | (_writes(communities) - {"professions"}) == {row.action for row in MATRIX.values()}


def test_every_learning_act_of_the_policy_has_a_row():
    acts = list(ACTS)
    learning = acts[acts.index("edit_doctrine_meaning"): acts.index("close_open_role") + 1]
    assert len(learning) == 24
    covered = {v for row in MATRIX.values() for v in (row.verb, *row.policy_acts)}
    assert set(learning) <= covered, sorted(set(learning) - covered)


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_learning_action(cast, act, role):
    w = world(cast)
    row = MATRIX[act]
    do = row.setup(w)
    actor = w.by_role()[role]
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
            assert event.authority_person == cast.executive, "an executive team member acts on the executive's authority"
        else:
            assert event.authority_person is None, "a person acting in their own right acts for nobody else"
        changed = [table for table in after if table != "core.AuditEvent" and after[table] != before[table]]
        assert changed, "an allowed act must write what it says it does"
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
        assert snapshot() == before, "a refused act writes nothing, not even an audit event or a notification"
