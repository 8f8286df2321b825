"""Every write page of governance, as every role: allowed (a redirect and exactly one
audit event), or the 403 page with the policy's sentence and nothing written. Pages
with a form refuse before showing it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.core.notify import notify

from ..governance.helpers import (
    DUE,
    drafted_guidance,
    drafted_mandate,
    issued_mandate,
    published_guidance,
    services_dispute,
    snapshot,
    target_of,
)

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
EXECUTIVE = {"executive", "exec_team"}
ONLY_EXEC = "Only the Executive may {}."


def _mandate_data(c) -> dict:
    return {"title": "Publish your metrics monthly", "instruction": "Every metric, monthly.", "due_date": DUE.isoformat(),
            "scope": "list", "services": [c.service.pk]}


def _target(c, view, data):
    mandate = issued_mandate(c)
    t = target_of(mandate, c.service)
    return reverse(view, args=[mandate.pk, t.pk]), {k.format(t.pk): v for k, v in data.items()}


def _guidance_data(**extra) -> dict:
    return {"title": "Prefer open standards", "body": "Use open standards.", "category": "architecture",
            "source": "practice", "source_detail": "", **extra}


def _rewrite_mandate(c):
    m = drafted_mandate(c)
    return reverse("governance:mandate_edit", args=[m.pk]), {**_mandate_data(c), "revision": m.revision}


def _rewrite_guidance(c):
    g = drafted_guidance(c)
    return reverse("governance:guidance_edit", args=[g.pk]), _guidance_data(revision=g.revision)


def _decide(c):
    g = published_guidance(c)
    p = f"s{c.service.pk}"
    return reverse("governance:guidance_decide", args=[g.pk, c.service.slug]), {f"{p}-decision": "reject",
                                                                                 f"{p}-rationale": "Does not fit."}


# name → (set-up returning (url, data), roles allowed, the policy's sentence for the others)
PAGES = {
    "draft a mandate": (lambda c: (reverse("governance:mandate_new"), _mandate_data(c)), EXECUTIVE,
                        ONLY_EXEC.format("draft a mandate")),
    "rewrite a draft mandate": (_rewrite_mandate, EXECUTIVE, ONLY_EXEC.format("draft a mandate")),
    "issue a mandate": (lambda c: (reverse("governance:mandate_issue", args=[drafted_mandate(c).pk]), {}), EXECUTIVE,
                        ONLY_EXEC.format("issue a mandate")),
    "remind of a mandate": (lambda c: (reverse("governance:mandate_remind", args=[issued_mandate(c).pk]), {}), EXECUTIVE,
                            ONLY_EXEC.format("send reminders of a mandate")),
    "close a mandate": (lambda c: (reverse("governance:mandate_close", args=[issued_mandate(c).pk]), {"note": "Done."}),
                        EXECUTIVE, ONLY_EXEC.format("close a mandate")),
    "acknowledge a mandate": (
        lambda c: _target(c, "governance:target_acknowledge", {"a{}-note": "Next sprint."}), {"manager"},
        "Only the service manager of Parking permits may acknowledge a mandate for this service."),
    "report progress on a mandate": (
        lambda c: _target(c, "governance:target_progress", {"t{}-note": "Half done.", "t{}-done": ""}), {"manager"},
        "Only the service manager of Parking permits may report this service's progress on a mandate."),
    "draft guidance": (lambda c: (reverse("governance:guidance_new"), _guidance_data()), EXECUTIVE,
                       ONLY_EXEC.format("draft guidance")),
    "rewrite draft guidance": (_rewrite_guidance, EXECUTIVE, ONLY_EXEC.format("draft guidance")),
    "publish guidance": (lambda c: (reverse("governance:guidance_publish", args=[drafted_guidance(c).pk]), {}), EXECUTIVE,
                         ONLY_EXEC.format("publish guidance")),
    "withdraw guidance": (lambda c: (reverse("governance:guidance_withdraw", args=[published_guidance(c).pk]),
                                     {"reason": "Superseded."}), EXECUTIVE, ONLY_EXEC.format("withdraw guidance")),
    "decide on guidance": (_decide, {"manager"},
                           "Only the service manager of Parking permits may decide whether this service adopts guidance."),
    "raise a dispute for a service": (
        lambda c: (reverse("governance:dispute_raise", args=[c.service.slug]),
                   {"other_service": c.other_service.pk, "subject": "Outages", "description": "Month-end outages."}),
        {"manager"}, "Only the service manager of Parking permits may raise a dispute for this service."),
    "raise an evaluation dispute": (
        lambda c: (reverse("governance:dispute_raise_evaluation"), {"subject": "My evaluation", "description": "Unfair."}),
        set(ROLES), ""),
    "resolve a dispute": (
        lambda c: (reverse("governance:dispute_resolve", args=[services_dispute(c).pk]),
                   {"resolution": "Agreed a fix.", "lever": "none"}), EXECUTIVE, ONLY_EXEC.format("resolve a dispute")),
    "withdraw a dispute": (
        lambda c: (reverse("governance:dispute_withdraw", args=[services_dispute(c).pk]), {"note": "Settled."}), {"manager"},
        "Only the person themselves may withdraw this dispute."),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(cast, client, page, role):
    setup, allowed, sentence = PAGES[page]
    url, data = setup(cast)
    client.force_login(cast.by_role()[role])
    before_events = AuditEvent.objects.count()
    before = snapshot()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:3000]
        assert AuditEvent.objects.count() == before_events + 1
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert sentence.replace("'", "&#x27;") in body, body[body.find("callout"):][:300]
        assert AuditEvent.objects.count() == before_events
        assert snapshot() == before


FORM_PAGES = {
    "draft a mandate": (lambda c: reverse("governance:mandate_new"), EXECUTIVE),
    "rewrite a draft mandate": (lambda c: reverse("governance:mandate_edit", args=[drafted_mandate(c).pk]), EXECUTIVE),
    "draft guidance": (lambda c: reverse("governance:guidance_new"), EXECUTIVE),
    "rewrite draft guidance": (lambda c: reverse("governance:guidance_edit", args=[drafted_guidance(c).pk]), EXECUTIVE),
    "raise a dispute for a service": (lambda c: reverse("governance:dispute_raise", args=[c.service.slug]), {"manager"}),
    "raise an evaluation dispute": (lambda c: reverse("governance:dispute_raise_evaluation"), set(ROLES)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(FORM_PAGES))
def test_form_pages_refuse_before_showing_the_form(cast, client, page, role):
    make_url, allowed = FORM_PAGES[page]
    url = make_url(cast)
    client.force_login(cast.by_role()[role])
    response = client.get(url)
    if role in allowed:
        assert response.status_code == 200 and 'method="post"' in response.content.decode()
    else:
        assert response.status_code == 403
        assert "Only the " in response.content.decode() and "<form method=\"post\" novalidate>" not in response.content.decode()


def test_the_executive_keeps_an_act_to_itself_and_its_team_gets_the_sentence(cast, client):
    from osom.governance.actions import set_reserved_acts

    set_reserved_acts(actor=cast.executive, acts=["issue_mandate"])
    mandate = drafted_mandate(cast)
    client.force_login(cast.exec_team)
    before = AuditEvent.objects.count()
    response = client.post(reverse("governance:mandate_issue", args=[mandate.pk]))
    assert response.status_code == 403
    assert "keeps the right to issue a mandate to itself" in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_only_the_person_marks_their_own_notifications_read(cast, client):
    notify([cast.manager, cast.other_manager], "Something happened")
    client.force_login(cast.other_manager)
    client.post(reverse("governance:notifications"))
    assert cast.manager.notifications.get().read_at is None  # the page only ever reads the signed-in person's
    assert cast.other_manager.notifications.get().read_at is not None


def test_button_urls_answer_only_posts(cast, client):
    mandate = drafted_mandate(cast)
    client.force_login(cast.executive)
    assert client.get(reverse("governance:mandate_issue", args=[mandate.pk])).status_code == 405
