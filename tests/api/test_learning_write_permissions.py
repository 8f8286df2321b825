"""Every write endpoint of the learning loop, called by every role: allowed, with exactly
one audit event by that person; or a 403 JSON refusal with the policy's sentence, and
nothing written in any table — the learning loop's, governance's, the network's, the
lifecycle's, anyone's notifications or the audit log.

Who may do what is the policy table's (``osom.core.policy.ACTS``), written out by hand
here: the executive (or a member of its team in its name) rewrites the doctrine's
meanings, assesses the whole organisation, verifies actions, reviews CoEs, draws guidance
from them and endorses communities; a service's manager opens and closes its
self-assessments, publishes its CoEs and posts its open roles; its manager and team rate
it against the doctrine and write its CoEs and their actions; an action's owner updates
it; anyone rates the organisation and forms a community; each person joins and leaves
for themselves; a community's lead changes it, publishes and withdraws its guidance and
escalates its disputes.

Besides the cast, ``lead`` leads the community acted on and ``owner`` owns the corrective
action acted on (see ``tests/learning/test_permissions.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction

from osom.core.actions import create_person
from osom.core.models import ApiToken, AuditEvent
from osom.governance import actions as governance_actions
from osom.learning import actions, communities
from osom.learning.models import DoctrinePattern

from ..learning.test_permissions import (
    AGO,
    DUE,
    EVERY_TABLE,
    PROFESSION,
    TODAY,
    World,
    coe_content,
    drafted_coe,
    endorsed,
    evaluation_guidance,
    first_action,
    formed,
    open_round,
    posted_role,
    published_coe,
    rate,
    world,
)
from .conftest import ApiClient, token_for

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider", "lead", "owner"]
EXECUTIVE = {"executive", "exec_team"}
EVERYONE = set(ROLES)


def everything() -> dict[str, list[dict]]:
    """Every row of every table a learning write may touch — governance's, the network's,
    the lifecycle's, notifications and the audit log included (API tokens aside: using
    one notes when it was last used)."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE if m is not ApiToken}


def clients_for(cast) -> Callable[[str], ApiClient]:
    """``make("lead")`` calls the API as that person of the cast, or as the lead of the
    community or the owner of the action acted on; ``make.world`` holds them all."""
    w = world(cast)
    tokens: dict[str, str] = {}

    def make(role: str) -> ApiClient:
        if role not in tokens:
            tokens[role] = token_for(w.by_role()[role])
        return ApiClient(tokens[role])

    make.world = w
    return make


@pytest.fixture
def as_person(cast):
    return clients_for(cast)


@dataclass
class Write:
    setup: Callable  # world → (method, path, body)
    allowed: set[str]
    status: int
    verb: str


P = "parking-permits"


def _edit_meaning(w):
    pattern = DoctrinePattern.objects.get(slug="know-your-users")
    return ("PATCH", f"/doctrine/patterns/{pattern.slug}",
            {"meaning": "Name every group of people who use the service.", "expected_revision": pattern.revision})


def _close(organisation: bool):
    def setup(w):
        rnd = open_round(w, organisation=organisation)
        rate(w.team_member, rnd, know_your_users="good")
        return ("POST", f"/doctrine/rounds/{rnd.pk}/close", None)
    return setup


def _rewrite_coe(w):
    coe = drafted_coe(w)
    return ("PUT", f"/coes/{coe.pk}", {"lessons": "Own every certificate.", "expected_revision": coe.revision})


def _verify(w):
    action = first_action(published_coe(w))
    actions.update_corrective_action(actor=w.team_member, action=action, status="done")
    return ("POST", f"/corrective-actions/{action.pk}/verify", {"note": "An alert fired in testing."})


def _hold(w):
    published_coe(w)
    review = actions.schedule_coe_review(actor=w.executive, scheduled_for=TODAY)
    return ("POST", f"/coe-reviews/{review.pk}/hold", {"notes": "Certificates need owners."})


def _stranger_led(w: World):
    """A community led by someone who is none of the roles, so every role may join it."""
    nia = create_person(actor=w.executive, email="nia@example.org", name="Nia Newlead")
    return formed(w, lead=nia)


def _leave(w):
    community = _stranger_led(w)
    for person in w.by_role().values():
        communities.join_community(actor=person, community=community)
    return ("POST", f"/communities/{community.pk}/leave", None)


def _edit_community(w):
    community = formed(w)
    return ("PATCH", f"/communities/{community.pk}", {"purpose": "Research together.",
                                                      "expected_revision": community.revision})


def _endorse(w):
    community = formed(w)
    evaluation_guidance(community)
    return ("POST", f"/communities/{community.pk}/endorse", None)


WRITES: dict[str, Write] = {
    # the doctrine (model 9)
    "rewrite a pattern's meaning": Write(_edit_meaning, EXECUTIVE, 200, "edit_doctrine_meaning"),
    "open a service's self-assessment": Write(
        lambda w: ("POST", "/doctrine/rounds", {"service": P, "title": "Spring"}),
        EXECUTIVE | {"manager"}, 201, "open_doctrine_round"),
    "open the organisation's self-assessment": Write(
        lambda w: ("POST", "/doctrine/rounds", {"service": None}), EXECUTIVE, 201, "open_doctrine_round"),
    "rate a service": Write(
        lambda w: ("POST", f"/doctrine/rounds/{open_round(w).pk}/ratings", {"ratings": [
            {"pattern": "know-your-users", "rating": "good"}, {"pattern": "manage-failure", "rating": "weak"}]}),
        {"manager", "team_member"}, 200, "rate_doctrine"),
    "rate the organisation": Write(
        lambda w: ("POST", f"/doctrine/rounds/{open_round(w, organisation=True).pk}/ratings", {"ratings": [
            {"pattern": "be-transparent", "rating": "partly", "evidence": "Minutes are published."}]}),
        EVERYONE, 200, "rate_doctrine"),
    "close a service's self-assessment": Write(_close(False), EXECUTIVE | {"manager"}, 200, "close_doctrine_round"),
    "close the organisation's self-assessment": Write(_close(True), EXECUTIVE, 200, "close_doctrine_round"),
    # Corrections of Error (7, 11)
    "write a CoE": Write(lambda w: ("POST", "/coes", {"service": P, **coe_content(w)}),
                         {"manager", "team_member"}, 201, "write_coe"),
    "rewrite a draft CoE": Write(_rewrite_coe, {"manager", "team_member"}, 200, "write_coe"),
    "discard a draft CoE": Write(lambda w: ("DELETE", f"/coes/{drafted_coe(w).pk}", None),
                                 {"manager", "team_member"}, 204, "discard_coe"),
    "publish a CoE": Write(lambda w: ("POST", f"/coes/{drafted_coe(w).pk}/publish", None),
                           {"manager"}, 200, "publish_coe"),
    "add a corrective action": Write(
        lambda w: ("POST", f"/coes/{published_coe(w).pk}/actions", {
            "description": "Name a certificate owner", "owner": w.manager.email, "due_date": DUE.isoformat()}),
        {"manager", "team_member"}, 201, "add_corrective_action"),
    "update a corrective action": Write(
        lambda w: ("POST", f"/corrective-actions/{first_action(published_coe(w, owner=w.owner)).pk}/update",
                   {"status": "done", "note": "Alerts are live."}),
        {"manager", "team_member", "owner"}, 200, "update_corrective_action"),
    "verify a corrective action": Write(_verify, EXECUTIVE | {"manager"}, 200, "verify_corrective_action"),
    "draw guidance from a CoE": Write(
        lambda w: ("POST", f"/coes/{published_coe(w).pk}/guidance", {"category": "operations"}),
        EXECUTIVE, 201, "draft_guidance"),
    "schedule a review": Write(lambda w: ("POST", "/coe-reviews", {"scheduled_for": DUE.isoformat()}),
                               EXECUTIVE, 201, "schedule_coe_review"),
    "hold a review": Write(_hold, EXECUTIVE, 200, "hold_coe_review"),
    # communities of practice and open roles (8)
    "form a community": Write(
        lambda w: ("POST", "/communities", {"name": "Content design", "profession": PROFESSION,
                                            "purpose": "Plain English everywhere."}),
        EVERYONE, 201, "form_community"),
    "change a community": Write(_edit_community, {"lead"}, 200, "edit_community"),
    "join a community": Write(lambda w: ("POST", f"/communities/{_stranger_led(w).pk}/join", None),
                              EVERYONE, 200, "join_community"),
    "leave a community": Write(_leave, EVERYONE, 200, "leave_community"),
    "endorse a community": Write(_endorse, EXECUTIVE, 200, "endorse_community"),
    "withdraw an endorsement": Write(
        lambda w: ("POST", f"/communities/{endorsed(w).pk}/withdraw-endorsement", {"reason": "It has not met."}),
        EXECUTIVE, 200, "withdraw_endorsement"),
    "publish community guidance": Write(
        lambda w: ("POST", f"/communities/{formed(w).pk}/guidance", {
            "kind": "practice", "title": "Consent forms", "body": "Use the shared consent form."}),
        {"lead"}, 201, "publish_community_guidance"),
    "withdraw community guidance": Write(
        lambda w: ("POST", f"/community-guidance/{evaluation_guidance(formed(w)).pk}/withdraw", {"reason": "Replaced."}),
        {"lead"}, 200, "withdraw_community_guidance"),
    "escalate an evaluation dispute": Write(
        lambda w: ("POST", f"/communities/{formed(w).pk}/escalate", {
            "subject": "A researcher's evaluation", "description": "We could not settle the level."}),
        {"lead"}, 201, "escalate_evaluation_dispute"),
    "post an open role": Write(
        lambda w: ("POST", f"/services/{P}/open-roles", {"role": "Content designer", "level": "senior"}),
        {"manager"}, 201, "post_open_role"),
    "close an open role": Write(lambda w: ("POST", f"/open-roles/{posted_role(w).pk}/close", {"filled": False}),
                                {"manager"}, 200, "close_open_role"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_each_learning_write_is_allowed_or_refused_by_role(cast, as_person, name, role):
    write = WRITES[name]
    client = as_person(role)  # the caller's own token exists before the set-up
    w = as_person.world
    method, path, body = write.setup(w)
    before = everything()
    response = client.call(method, path, body)
    if role in write.allowed:
        assert response.status_code == write.status, response.content.decode()[:600]
        new = AuditEvent.objects.exclude(pk__in=[e["id"] for e in before["core.AuditEvent"]])
        assert [(e.verb, e.actor) for e in new] == [(write.verb, w.by_role()[role])]
    else:
        assert response.status_code == 403, response.content.decode()[:600]
        refusal = response.json()
        assert refusal["error"] == "forbidden"
        assert refusal["message"].startswith("Only the ") and refusal["message"].endswith(".")
        assert everything() == before


def test_the_matrix_covers_every_learning_write_route(cast):
    from .routes import LEARNING_ROUTES

    w = world(cast)
    writes = {(m, t) for m, t in LEARNING_ROUTES if m != "GET"}

    def route(method: str, path: str) -> tuple[str, str] | None:
        return next(((m, t) for m, t in writes
                     if m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)), None)

    def called(write: Write) -> tuple[str, str] | None:
        with transaction.atomic():  # each set-up on its own, as in the matrix
            method, path, _ = write.setup(w)
            transaction.set_rollback(True)
        return route(method, path)

    assert {called(write) for write in WRITES.values()} == writes


def test_the_refusal_names_who_may_act_in_the_policys_words(cast, as_person):
    coe = drafted_coe(as_person.world)
    response = as_person("other_manager").post(f"/coes/{coe.pk}/publish")
    assert response.status_code == 403
    assert response.json()["message"] == ("Only the service manager of Parking permits may publish this "
                                          "service's Correction of Error.")


def test_an_act_the_executive_keeps_is_refused_to_its_team(cast, as_person):
    governance_actions.set_reserved_acts(actor=cast.executive, acts=["endorse_community"])
    method, path, body = _endorse(as_person.world)
    client = as_person("exec_team")
    before = everything()
    response = client.call(method, path, body)
    assert response.status_code == 403
    assert response.json()["message"] == ("The Executive keeps the right to endorse a community of practice to "
                                          "itself; Executive team members may not do it.")
    assert everything() == before


def test_an_executive_team_member_reviews_on_the_executives_authority(cast, as_person):
    method, path, body = _hold(as_person.world)
    response = as_person("exec_team").call(method, path, body)
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.actor, event.authority_person) == ("hold_coe_review", cast.exec_team, cast.executive)


def test_a_draft_is_read_only_by_its_services_people(cast, as_person):
    coe = drafted_coe(as_person.world, actor=cast.team_member, title="A near miss", occurred_on=AGO.isoformat())
    for role in ("manager", "team_member"):
        assert as_person(role).get(f"/coes/{coe.pk}").json()["title"] == "A near miss"
        assert [c["id"] for c in as_person(role).get("/coes").json()["items"]] == [coe.pk]
    for role in ("executive", "other_manager", "outsider"):
        response = as_person(role).get(f"/coes/{coe.pk}")
        assert response.status_code == 403
        assert response.json()["message"] == ("This Correction of Error is still a draft. Only the service manager "
                                              "of Parking permits or its team may write a Correction of Error for "
                                              "this service.")
        assert as_person(role).get("/coes").json() == {"items": [], "count": 0, "next_cursor": None}
