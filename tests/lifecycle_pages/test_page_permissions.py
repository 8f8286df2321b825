"""Every write page of the lifecycle, as every role: allowed, or the 403 page with the
policy's sentence — and an audit event exactly when allowed. Pages with a form refuse
before showing it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.lifecycle import actions
from osom.lifecycle.models import Criterion

from .helpers import criteria, decided, published, scheduled, with_agenda

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
EXECUTIVE = {"executive", "exec_team"}


def _allocation(c):
    return actions.allocate_budget(actor=c.executive, service=c.service, period="2026-27", amount="1000")


def _decisions(c):
    a = with_agenda(c, assessors=[c.executive, c.other_manager])
    data = {"result": "met", "outcome": "progress_to_alpha", "summary": "", "revision": a.revision}
    for item in a.items.all():
        data[f"c{item.criterion_id}_decision"] = "met"
    return reverse("lifecycle:decisions", args=[a.pk]), data


def _request(c):
    r = actions.request_funding(actor=c.manager, service=c.service, kind="expand", period="2026-27", amount="500",
                                rationale="More users.")
    return (reverse("lifecycle:decide_request", args=[c.service.slug, r.pk]),
            {f"r{r.pk}-decision": "grant", f"r{r.pk}-note": "Worth it.", f"r{r.pk}-amount": ""})


# name → (set-up returning (url, data), roles allowed, the policy's sentence for the others)
PAGES = {
    "add a criterion": (
        lambda c: (reverse("lifecycle:criterion_add"), {"name": "Use the design system", "meaning": "It does.", "link": ""}),
        EXECUTIVE, "Only the Executive may add or change assessment criteria.",
    ),
    "edit a criterion": (
        lambda c: (reverse("lifecycle:criterion_edit", args=[criteria(1)[0].slug]),
                   {"name": criteria(1)[0].name, "meaning": "Changed.", "stages": ["alpha"], "active": "on",
                    "revision": criteria(1)[0].revision}),
        EXECUTIVE, "Only the Executive may add or change assessment criteria.",
    ),
    "schedule an assessment": (
        lambda c: (reverse("lifecycle:schedule", args=[c.service.slug]),
                   {"kind": "transition", "scheduled_for": "2030-01-01", "assessors": [c.executive.pk],
                    "criteria": [x.pk for x in criteria(2)]}),
        EXECUTIVE, "Only the Executive may schedule an assessment.",
    ),
    "change an assessment": (
        lambda c: (lambda a: (reverse("lifecycle:assessment_edit", args=[a.pk]),
                              {"scheduled_for": "2030-02-02", "assessors": [c.executive.pk],
                               "criteria": [x.pk for x in criteria(2)], "revision": a.revision}))(scheduled(c)),
        EXECUTIVE, "Only the Executive may change a scheduled assessment.",
    ),
    "publish an agenda": (
        lambda c: (reverse("lifecycle:publish_agenda", args=[scheduled(c).pk]), {}),
        EXECUTIVE, "Only the Executive may publish an assessment's agenda.",
    ),
    "cancel an assessment": (
        lambda c: (reverse("lifecycle:cancel", args=[scheduled(c).pk]), {"reason": "Not needed."}),
        EXECUTIVE, "Only the Executive may cancel an assessment.",
    ),
    "record decisions": (
        _decisions, EXECUTIVE | {"other_manager"}, "Only the Executive or its assessors may record an assessment's decisions.",
    ),
    "publish a report": (
        lambda c: (lambda a: (reverse("lifecycle:publish_report", args=[a.pk]),
                              {"budget_amount": "1000", "budget_period": "2026-27", "revision": a.revision}))(decided(c)),
        EXECUTIVE, "Only the Executive may publish an assessment report.",
    ),
    "add an addendum": (
        lambda c: (reverse("lifecycle:addendum", args=[published(c, assessors=[c.executive, c.other_manager]).pk]),
                   {"text": "A note."}),
        EXECUTIVE | {"other_manager"}, "Only the Executive or its assessors may add an addendum to this report.",
    ),
    "set the default cadence": (
        lambda c: (reverse("lifecycle:due"), {"days": "200"}),
        EXECUTIVE, "Only the Executive may set how often live services are assessed.",
    ),
    "set a service's cadence": (
        lambda c: (reverse("lifecycle:cadence", args=[c.service.slug]), {"days": "90"}),
        EXECUTIVE, "Only the Executive may set how often live services are assessed.",
    ),
    "allocate a budget": (
        lambda c: (reverse("lifecycle:allocate", args=[c.service.slug]), {"period": "2026-27", "amount": "100", "stage": "discovery"}),
        EXECUTIVE, "Only the Executive may allocate a budget.",
    ),
    "record spending": (
        lambda c: (reverse("lifecycle:spend", args=[c.service.slug]),
                   {"allocation": _allocation(c).pk, "amount": "10", "spent_on": "2026-05-01", "description": "Post-its"}),
        {"manager", "team_member"}, "Only the service manager of Parking permits or its team may record spending against this service's budget.",
    ),
    "re-invest savings": (
        lambda c: (reverse("lifecycle:reinvest", args=[c.service.slug]),
                   {"allocation": _allocation(c).pk, "amount": "10", "purpose": "Automation"}),
        {"manager"}, "Only the service manager of Parking permits may re-invest this service's savings.",
    ),
    "ask for funding": (
        lambda c: (reverse("lifecycle:request_funding", args=[c.service.slug]),
                   {"kind": "expand", "period": "2026-27", "amount": "100", "rationale": "More users."}),
        {"manager"}, "Only the service manager of Parking permits may ask for this service's budget or scope to change.",
    ),
    "decide a funding request": (_request, EXECUTIVE, "Only the Executive may decide a funding request."),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(cast, client, page, role):
    setup, allowed, sentence = PAGES[page]
    url, data = setup(cast)
    client.force_login(cast.by_role()[role])
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert AuditEvent.objects.count() == before + 1
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert sentence.replace("'", "&#x27;") in body, body[body.find("callout"):][:300]
        assert AuditEvent.objects.count() == before


FORM_PAGES = {
    "add a criterion": (lambda c: reverse("lifecycle:criterion_add"), EXECUTIVE),
    "edit a criterion": (lambda c: reverse("lifecycle:criterion_edit", args=[criteria(1)[0].slug]), EXECUTIVE),
    "schedule an assessment": (lambda c: reverse("lifecycle:schedule", args=[c.service.slug]), EXECUTIVE),
    "change an assessment": (lambda c: reverse("lifecycle:assessment_edit", args=[scheduled(c).pk]), EXECUTIVE),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(FORM_PAGES))
def test_form_pages_refuse_before_showing_the_form(cast, client, page, role):
    make_url, allowed = FORM_PAGES[page]
    url = make_url(cast)
    client.force_login(cast.by_role()[role])
    response = client.get(url)
    if role in allowed:
        assert response.status_code == 200 and "<form" in response.content.decode()
    else:
        assert response.status_code == 403
        assert "Only the Executive may" in response.content.decode()


READ_PAGES = {
    "reports": lambda c: reverse("lifecycle:reports"),
    "due": lambda c: reverse("lifecycle:due"),
    "criteria": lambda c: reverse("lifecycle:criteria"),
    "a criterion": lambda c: reverse("lifecycle:criterion", args=[criteria(1)[0].slug]),
    "an assessment": lambda c: reverse("lifecycle:assessment", args=[with_agenda(c).pk]),
    "a report": lambda c: reverse("lifecycle:report", args=[published(c).pk]),
    "a report in Markdown": lambda c: reverse("lifecycle:report_md", args=[published(c).pk]),
    "a budget": lambda c: reverse("lifecycle:budget", args=[c.service.slug]),
    "budgets": lambda c: reverse("lifecycle:budgets"),
    "the service page": lambda c: reverse("network:service", args=[c.service.slug]),
}


@pytest.mark.parametrize("page", list(READ_PAGES))
def test_every_page_is_open_to_everyone_in_the_organisation(cast, client, page):
    url = READ_PAGES[page](cast)
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("page", list(READ_PAGES))
def test_every_page_needs_signing_in(cast, client, page):
    response = client.get(READ_PAGES[page](cast))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_executive_team_member_cannot_publish_a_report_that_decommissions(cast, client):
    """Decommissioning is kept by the executive by default: the action refuses it to its
    team even though publishing is theirs, and the page shows the 403 with the sentence."""
    assessment = decided(cast, cast.other_service, result="not_met", outcome="not_required")
    client.force_login(cast.exec_team)
    before = AuditEvent.objects.count()
    response = client.post(reverse("lifecycle:publish_report", args=[assessment.pk]), {
        "decommission_condition": "b", "decommission_reasons": "Gone.", "migration_path": "Elsewhere.",
        "revision": assessment.revision})
    assert response.status_code == 403
    assert "keeps the right to decommission a service to itself" in response.content.decode()
    assert AuditEvent.objects.count() == before
    cast.other_service.refresh_from_db()
    assert cast.other_service.lifecycle_stage == "discovery"


def test_posting_to_a_button_url_with_get_goes_back_to_its_page(cast, client):
    assessment = scheduled(cast)
    client.force_login(cast.executive)
    response = client.get(reverse("lifecycle:publish_agenda", args=[assessment.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("lifecycle:assessment", args=[assessment.pk])
    assert Criterion.objects.exists()
