"""Every write endpoint of governance, called by every role: allowed, with exactly one
audit event by that person; or a 403 JSON refusal with the policy's sentence, and
nothing written in any table — governance's, the network's, the lifecycle's, anyone's
notifications or the audit log.

Who may do what is the policy table's (``osom.core.policy.ACTS``): the executive (or a
member of its team in its name) drafts, issues, closes and reminds mandates, writes and
withdraws guidance, resolves disputes, decides proposals and keeps the deviations
register; the executive alone chooses the acts it keeps to itself; a service's manager
acknowledges and reports on mandates, decides on guidance and raises disputes for their
service; anyone proposes needs and disputes their own evaluation; only whoever raised a
dispute withdraws it; each person marks their own notifications as read."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from osom.core.models import AuditEvent, Notification
from osom.core.notify import notify
from osom.governance import actions

from .. import factories
from ..governance.helpers import (
    DUE,
    NEEDS,
    deviation,
    drafted_guidance,
    drafted_mandate,
    evaluation_dispute,
    issued_mandate,
    proposal,
    published_guidance,
    services_dispute,
)
from .test_governance_bad_input import everything
from .test_write_permissions import ROLES

EXECUTIVE = {"executive", "exec_team"}
EVERYONE = set(ROLES)


@dataclass
class Write:
    setup: Callable  # cast → (method, path, body)
    allowed: set[str]
    status: int
    verb: str


P = "parking-permits"
MANDATE = {"title": "Publish your metrics monthly", "instruction": "Publish every metric of your contract monthly.",
           "due_date": DUE.isoformat(), "services": [P]}
GUIDANCE = {"title": "Encrypt data at rest", "body": "Encrypt every store of personal data.", "source": "law",
            "category": "security", "source_detail": "UK GDPR article 32"}
DEVIATION = {"title": "No CoE for minor incidents", "compromised": "Every problem becomes a CoE.",
             "positive": "Less paperwork.", "negative": "Small lessons are lost.",
             "governance": "A monthly review of incidents.", "review_on": DUE.isoformat()}


def _rewrite_mandate(c):
    m = drafted_mandate(c)
    return ("PUT", f"/mandates/{m.pk}", {**MANDATE, "expected_revision": m.revision})


def _rewrite_guidance(c):
    g = drafted_guidance(c)
    return ("PUT", f"/guidance/{g.pk}", {**GUIDANCE, "expected_revision": g.revision})


def _revise_deviation(c):
    d = deviation(c)
    return ("PUT", f"/deviations/{d.pk}", {**DEVIATION, "expected_revision": d.revision})


def _read_notifications(c):
    # everyone has something to read: the executive is told of the proposal, the others
    # of a dispute between the two services and of guidance they are asked to decide on
    proposal(c)
    services_dispute(c)
    published_guidance(c)
    notify(list(c.by_role().values()), "The network map was updated.")  # and the executive team too
    return ("POST", "/notifications/read", None)


WRITES: dict[str, Write] = {
    # mandates (model 5.5)
    "draft a mandate": Write(lambda c: ("POST", "/mandates", MANDATE), EXECUTIVE, 201, "draft_mandate"),
    "draft a mandate by a filter": Write(
        lambda c: ("POST", "/mandates", {**MANDATE, "services": [], "scope_filter": {"stage": "discovery"}}),
        EXECUTIVE, 201, "draft_mandate"),
    "rewrite a draft mandate": Write(_rewrite_mandate, EXECUTIVE, 200, "draft_mandate"),
    "issue a mandate": Write(lambda c: ("POST", f"/mandates/{drafted_mandate(c).pk}/issue", None),
                             EXECUTIVE, 200, "issue_mandate"),
    "close a mandate": Write(lambda c: ("POST", f"/mandates/{issued_mandate(c).pk}/close", {"note": "Superseded."}),
                             EXECUTIVE, 200, "close_mandate"),
    "remind of a mandate": Write(lambda c: ("POST", f"/mandates/{issued_mandate(c).pk}/remind", None),
                                 EXECUTIVE, 200, "remind_mandate"),
    "acknowledge a mandate": Write(
        lambda c: ("POST", f"/mandates/{issued_mandate(c).pk}/targets/{P}/acknowledge", {"note": "Next sprint."}),
        {"manager"}, 200, "acknowledge_mandate"),
    "report progress on a mandate": Write(
        lambda c: ("POST", f"/mandates/{issued_mandate(c).pk}/targets/{P}/progress", {"note": "Moved.", "done": True}),
        {"manager"}, 200, "report_mandate_progress"),
    # guidance (5.6)
    "draft guidance": Write(lambda c: ("POST", "/guidance", GUIDANCE), EXECUTIVE, 201, "draft_guidance"),
    "rewrite draft guidance": Write(_rewrite_guidance, EXECUTIVE, 200, "draft_guidance"),
    "publish guidance": Write(lambda c: ("POST", f"/guidance/{drafted_guidance(c).pk}/publish", None),
                              EXECUTIVE, 200, "publish_guidance"),
    "withdraw guidance": Write(
        lambda c: ("POST", f"/guidance/{published_guidance(c).pk}/withdraw", {"reason": "The platform is retired."}),
        EXECUTIVE, 200, "withdraw_guidance"),
    "decide on guidance": Write(
        lambda c: ("PUT", f"/guidance/{published_guidance(c).pk}/decisions/{P}", {
            "decision": "reject", "rationale": "Permits are free; the service takes no payments."}),
        {"manager"}, 200, "decide_guidance"),
    # mediation (5.7)
    "raise a dispute between services": Write(
        lambda c: ("POST", "/disputes", {"service": P, "other_service": "identity", "subject": "Identity outages",
                                         "description": "Residents cannot sign in at month end."}),
        {"manager"}, 201, "raise_dispute"),
    "raise a dispute about an evaluation": Write(
        lambda c: ("POST", "/disputes", {"kind": "evaluation", "subject": "My evaluation",
                                         "description": "It ignored my community's guidance."}),
        EVERYONE, 201, "raise_dispute"),
    "withdraw a dispute between services": Write(
        lambda c: ("POST", f"/disputes/{services_dispute(c).pk}/withdraw", {"note": "Identity fixed it."}),
        {"manager"}, 200, "withdraw_dispute"),
    "withdraw a dispute about an evaluation": Write(
        lambda c: ("POST", f"/disputes/{evaluation_dispute(c).pk}/withdraw", None),
        {"team_member"}, 200, "withdraw_dispute"),
    "resolve a dispute": Write(
        lambda c: ("POST", f"/disputes/{services_dispute(c).pk}/resolve", {
            "resolution": "Identity moves its maintenance window.", "lever": "none"}),
        EXECUTIVE, 200, "resolve_dispute"),
    # demand management (5.8)
    "propose needs": Write(lambda c: ("POST", "/proposals", {"title": "Visitor permits", "needs": NEEDS[:1]}),
                           EVERYONE, 201, "propose_needs"),
    "fold a proposal into a service": Write(
        lambda c: ("POST", f"/proposals/{proposal(c).pk}/fold", {"service": P, "note": "It issues permits."}),
        EXECUTIVE, 200, "fold_proposal"),
    "decline a proposal": Write(
        lambda c: ("POST", f"/proposals/{proposal(c).pk}/decline", {"reason": "Not a priority this year."}),
        EXECUTIVE, 200, "decline_proposal"),
    "establish a service for a proposal": Write(
        lambda c: ("POST", f"/proposals/{proposal(c).pk}/establish", {
            **factories.contract("Visitor permits"), "manager": c.outsider.email}),
        EXECUTIVE, 200, "establish_from_proposal"),
    # adapting the template (10) and delegation (2)
    "record a deviation": Write(lambda c: ("POST", "/deviations", DEVIATION), EXECUTIVE, 201, "record_deviation"),
    "revise a deviation": Write(_revise_deviation, EXECUTIVE, 200, "record_deviation"),
    "retire a deviation": Write(
        lambda c: ("POST", f"/deviations/{deviation(c).pk}/retire", {"reason": "The two services merged."}),
        EXECUTIVE, 200, "retire_deviation"),
    # the executive keeps the choice of what it keeps to itself, always
    "choose the acts kept": Write(
        lambda c: ("PUT", "/organisation/reserved-acts", {"acts": ["replace_manager", "issue_mandate"]}),
        {"executive"}, 200, "set_reserved_acts"),
    # one's own notifications: the API only ever reaches the caller's
    "read one's notifications": Write(_read_notifications, EVERYONE, 200, "read_notifications"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_each_governance_write_is_allowed_or_refused_by_role(cast, api_as, name, role):
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


def test_the_matrix_covers_every_governance_write_route(cast):
    from .routes import GOVERNANCE_ROUTES

    # asking the matcher for suggestions is a POST that writes nothing (tested below)
    writes = {(m, t) for m, t in GOVERNANCE_ROUTES if m != "GET"} - {("POST", "/matching/suggestions")}

    def route(method: str, path: str) -> tuple[str, str] | None:
        return next(((m, t) for m, t in writes
                     if m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", t), path)), None)

    assert {route(*write.setup(cast)[:2]) for write in WRITES.values()} == writes


@pytest.mark.parametrize("role", ROLES)
def test_asking_the_matcher_writes_nothing_whoever_asks(cast, api_as, role):
    client = api_as(role)
    before = everything()
    response = client.post("/matching/suggestions", {"needs": NEEDS})
    assert response.status_code == 200, response.content
    assert everything() == before


def test_an_executive_team_member_issues_on_the_executives_authority(cast, api_as):
    mandate = drafted_mandate(cast)
    response = api_as("exec_team").post(f"/mandates/{mandate.pk}/issue")
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.latest("id")
    assert (event.actor, event.authority_person) == (cast.exec_team, cast.executive)


def test_an_act_the_executive_keeps_is_refused_to_its_team_with_its_own_sentence(cast, api_as):
    actions.set_reserved_acts(actor=cast.executive, acts=["issue_mandate"])
    mandate, client = drafted_mandate(cast), api_as("exec_team")
    before = everything()
    response = client.post(f"/mandates/{mandate.pk}/issue")
    assert response.status_code == 403
    assert response.json()["message"] == ("The Executive keeps the right to issue a mandate to itself; "
                                          "Executive team members may not do it.")
    assert everything() == before


def test_a_manager_acknowledges_only_for_their_own_service(cast, api_as):
    mandate = issued_mandate(cast)
    response = api_as("manager").post(f"/mandates/{mandate.pk}/targets/identity/acknowledge")
    assert response.status_code == 403
    assert response.json()["message"] == "Only the service manager of Identity may acknowledge a mandate for this service."


def test_marking_read_never_touches_someone_elses_notifications(cast, api_as):
    services_dispute(cast)  # Identity's manager is told
    theirs = list(Notification.objects.filter(person=cast.other_manager).values_list("pk", flat=True))
    assert theirs
    response = api_as("manager").post("/notifications/read", {"ids": theirs})
    assert response.status_code == 200 and response.json()["marked"] == 0
    assert not Notification.objects.filter(pk__in=theirs, read_at__isnull=False).exists()
    # nothing changed, so nothing is recorded
    assert not AuditEvent.objects.filter(verb="read_notifications").exists()
