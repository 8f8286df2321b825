"""The acts the executive keeps to itself, chosen on a page and obeyed by the policy."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent, Organisation
from osom.core.policy import refusal
from osom.governance.actions import RESERVABLE

URL = "governance:reserved_acts"


def test_the_executive_chooses_the_acts_and_the_policy_obeys_at_once(cast, client):
    assert refusal(cast.exec_team, "draft_mandate") is None
    client.force_login(cast.executive)
    before = AuditEvent.objects.count()
    response = client.post(reverse(URL), {"acts": ["draft_mandate", "allocate_budget"]})
    assert response.status_code == 302
    assert sorted(Organisation.current().reserved_acts) == ["allocate_budget", "draft_mandate"]
    assert AuditEvent.objects.count() == before + 1 and AuditEvent.objects.latest("id").verb == "set_reserved_acts"
    assert "keeps the right to draft a mandate" in refusal(cast.exec_team, "draft_mandate")
    # what was kept by default (replacing a manager) is now the team's to do again
    assert refusal(cast.exec_team, "replace_manager", service=cast.service) is None
    assert refusal(cast.executive, "draft_mandate") is None
    # the form shows what is kept now
    page = client.get(reverse(URL))
    assert sorted(page.context["form"]["acts"].value()) == ["allocate_budget", "draft_mandate"]


def test_the_page_offers_every_reservable_act_with_the_policys_words(cast, client):
    client.force_login(cast.executive)
    body = client.get(reverse(URL)).content.decode()
    for act in RESERVABLE:
        if act != "set_reserved_acts":  # always kept: not a choice
            assert f'value="{act}"' in body
    assert "Establish a service" in body and "Replace a service&#x27;s manager" in body
    # the policy's words, out of the context of one object
    assert "Edit a contract draft" in body and "Revoke an API token" in body and "this" not in body.split("<form")[1]


def test_keeping_nothing_is_allowed(cast, client):
    client.force_login(cast.executive)
    client.post(reverse(URL), {})
    assert Organisation.current().reserved_acts == []


def test_an_unknown_act_is_refused_and_nothing_changes(cast, client):
    client.force_login(cast.executive)
    before = AuditEvent.objects.count()
    response = client.post(reverse(URL), {"acts": ["draft_mandate", "rule_the_world"]})
    assert response.status_code == 200 and response.context["form"].errors["acts"]
    assert Organisation.current().reserved_acts == ["replace_manager", "decommission_service"]
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", ["exec_team", "manager", "team_member", "outsider"])
def test_everyone_else_is_refused_with_the_policys_sentence(cast, client, role):
    client.force_login(cast.by_role()[role])
    before = AuditEvent.objects.count()
    response = client.post(reverse(URL), {"acts": ["draft_mandate"]})
    assert response.status_code == 403
    body = response.content.decode()
    if role == "exec_team":
        assert "keeps the right to choose the acts it keeps to itself" in body
    else:
        assert "Only the Executive may choose the acts it keeps to itself." in body
    assert Organisation.current().reserved_acts == ["replace_manager", "decommission_service"]
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("role", ["exec_team", "outsider"])
def test_everyone_else_reads_the_list(cast, client, role):
    client.force_login(cast.by_role()[role])
    response = client.get(reverse(URL))
    assert response.status_code == 200 and response.context["form"] is None
    body = response.content.decode()
    assert [a["act"] for a in response.context["kept"]] == ["replace_manager", "decommission_service"]
    assert '<span class="kept">Replace a service&#x27;s manager</span>' in body
    team = body[body.index('id="team-h"'):]
    assert "<li>Draft a mandate</li>" in team and "Replace a service" not in team
