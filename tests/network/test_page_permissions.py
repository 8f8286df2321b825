"""Every write page of the network, as every role: allowed, or a 403 with a sentence —
and an audit event exactly when allowed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.network import actions
from osom.network.models import ProfessionalRole

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]


def _submitted(cast):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service)
    actions.submit_contract_version(actor=cast.manager, version=draft)
    return draft


# name → (set-up returning (url, data), roles allowed)
PAGES = {
    "open a draft": (
        lambda c: (reverse("network:open_draft", args=[c.service.slug]), {}),
        {"executive", "exec_team", "manager"},
    ),
    "submit a draft": (
        lambda c: (reverse("network:submit", args=[c.service.slug,
                                                   actions.draft_contract_version(actor=c.manager, service=c.service).number]), {}),
        {"manager"},
    ),
    "approve a version": (
        lambda c: (reverse("network:approve", args=[c.service.slug, _submitted(c).number]), {}),
        {"executive", "exec_team"},
    ),
    "return a version": (
        lambda c: (reverse("network:return", args=[c.service.slug, _submitted(c).number]), {"reason": "Needs targets"}),
        {"executive", "exec_team"},
    ),
    "discard a draft": (
        lambda c: (reverse("network:discard", args=[c.service.slug,
                                                    actions.draft_contract_version(actor=c.manager, service=c.service).number]), {}),
        {"executive", "exec_team", "manager"},
    ),
    "replace the manager": (
        lambda c: (reverse("network:appoint", args=[c.service.slug]), {"person": c.outsider.pk, "reason": "Rotation"}),
        {"executive"},  # reserved to the executive by default
    ),
    "add a team member": (
        lambda c: (reverse("network:team_add", args=[c.service.slug]),
                   {"person": c.outsider.pk, "role": ProfessionalRole.objects.get(name="Content designer").pk, "level": "senior"}),
        {"manager"},
    ),
    "remove a team member": (
        lambda c: (reverse("network:team_remove", args=[c.service.slug, c.service.team.get().pk]), {}),
        {"manager"},
    ),
    "add a dependency": (
        lambda c: (reverse("network:dependency_add", args=[c.other_service.slug]), {"provider": "Parking permits"}),
        {"executive", "exec_team", "other_manager"},
    ),
    "remove a dependency": (
        lambda c: (reverse("network:dependency_remove", args=[c.service.slug, c.other_service.slug]), {}),
        {"executive", "exec_team", "manager"},
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(cast, client, page, role):
    setup, allowed = PAGES[page]
    url, data = setup(cast)
    person = cast.by_role()[role]
    client.force_login(person)
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:500]
        assert AuditEvent.objects.count() == before + 1
        assert AuditEvent.objects.latest("id").actor == person
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert "Only the" in body or "keeps the right" in body
        assert AuditEvent.objects.count() == before


def test_signed_out_visitors_are_sent_to_sign_in(cast, client):
    response = client.post(reverse("network:open_draft", args=[cast.service.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
