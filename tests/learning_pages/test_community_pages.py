"""The pages of communities of practice and open roles: what each shows, the writes
made through them (each through its one action), who may act (the 403 page with the
policy's sentence for the others, and nothing written), bad input on the field it
concerns, and the cost of the lists in queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.actions import create_person
from osom.core.models import AuditEvent
from osom.governance.models import Dispute
from osom.learning import communities
from osom.learning.models import (
    Community,
    CommunityGuidance,
    CommunityMembership,
    OpenRole,
)
from osom.network.actions import add_team_member

from .. import factories
from ..learning.test_permissions import (
    PROFESSION,
    endorsed,
    evaluation_guidance,
    formed,
    posted_role,
    role_named,
    snapshot,
    world,
)

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider", "lead"]
EXECUTIVE = {"executive", "exec_team"}
ONLY_EXEC = "Only the Executive may {}."
ONLY_LEAD = "Only the community's lead may {}."


@pytest.fixture
def w(cast):
    """The cast, with Lee Lead, who forms the community acted on, and Owen Owner."""
    return world(cast)


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return len(ctx.captured_queries)


def _people(c, start: int, count: int) -> list:
    return [create_person(actor=c.executive, email=f"person{i}@example.org", name=f"Person {i:03d}")
            for i in range(start, start + count)]


# ---------------------------------------------------------------- the list of communities

def test_the_list_shows_profession_lead_members_and_endorsement(w, client):
    forming = formed(w, name="Content design", profession="User-centred design")
    communities.join_community(actor=w.team_member, community=forming)
    done = endorsed(w, lead=w.owner, name="Data people", profession="Data")
    client.force_login(w.outsider)
    body = _get(client, reverse("learning:communities"))
    rows = {name: row for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
            for name in re.findall(r"<strong>([^<]+)</strong>", row)}
    assert "User-centred design" in rows["Content design"] and "Lee Lead" in rows["Content design"]
    assert '<td class="num">2</td>' in rows["Content design"] and "Forming" in rows["Content design"]
    assert "Owen Owner" in rows["Data people"] and '<td class="num">1</td>' in rows["Data people"]
    assert f'datetime="{done.endorsed_on:%Y-%m-%d}"' in rows["Data people"]
    assert f'href="{reverse("learning:communities")}" aria-current="page">Communities</a>' in body  # the main navigation
    body = _get(client, reverse("learning:communities") + "?status=endorsed")
    assert "Data people" in body and "Content design" not in body


def test_anyone_forms_a_community_and_leads_it(w, client):
    client.force_login(w.outsider)
    assert reverse("learning:community_new") in _get(client, reverse("learning:communities"))
    body = _get(client, reverse("learning:community_new"))
    for profession in communities.professions():
        assert f'<option value="{profession}"' in body
    response = client.post(reverse("learning:community_new"), {
        "name": "Researchers", "profession": PROFESSION, "purpose": "Learn from each other."})
    community = Community.objects.get(name="Researchers")
    assert response.status_code == 302 and response["Location"] == reverse("learning:community", args=[community.pk])
    assert community.lead == w.outsider and community.profession == PROFESSION
    assert CommunityMembership.objects.filter(community=community, person=w.outsider, left_at__isnull=True).exists()


def test_the_coverage_page_offers_to_form_a_community_for_an_uncovered_profession(w, client):
    client.force_login(w.outsider)
    body = _get(client, reverse("learning:community_new") + f"?profession={PROFESSION}")
    assert f'<option value="{PROFESSION}" selected>' in body


# ---------------------------------------------------------------- a community

def test_the_community_page_shows_purpose_lead_members_guidance_and_open_roles(w, client):
    community = formed(w)
    communities.join_community(actor=w.team_member, community=community)
    evaluation_guidance(community)
    communities.publish_community_guidance(actor=w.lead, community=community, kind="practice", title="Consent forms",
                                           body="Use **the shared** consent form.")
    old = communities.publish_community_guidance(actor=w.lead, community=community, kind="practice", title="Old forms",
                                                 body="Paper forms.")
    communities.withdraw_community_guidance(actor=w.lead, guidance=old)
    researcher = posted_role(w, role="User researcher")
    posted_role(w, role="Software developer")  # another profession: not shown here
    client.force_login(w.outsider)
    body = _get(client, reverse("learning:community", args=[community.pk]))
    assert "Researchers across services learn from each other." in body
    assert "Lee Lead" in body and "Tia Team" in body and "<dt>Members</dt><dd>2</dd>" in body
    evaluation = body[body.index('id="evaluation-h"'):body.index('id="practice-h"')]
    assert "Evaluating user researchers" in evaluation and "Consent forms" not in evaluation
    practice = body[body.index('id="practice-h"'):body.index('id="roles-h"')]
    assert "<strong>the shared</strong>" in practice and "withdrawn" in practice and "Old forms" in practice
    roles = body[body.index('id="roles-h"'):]
    assert "User researcher" in roles and "Software developer" not in roles.split('class="aside"')[0]
    assert researcher.service.name in roles
    # an outsider may join, and nothing else
    assert reverse("learning:community_join", args=[community.pk]) in body
    for name in ("community_edit", "community_endorse", "community_unendorse", "community_guidance_new",
                 "community_escalate", "community_leave"):
        assert reverse(f"learning:{name}", args=[community.pk]) not in body, name
    assert reverse("learning:community_guidance_withdraw", args=[old.pk - 1]) not in body


def test_the_lead_sees_their_buttons_and_the_executive_its_own(w, client):
    community = formed(w)
    evaluation_guidance(community)
    client.force_login(w.lead)
    body = _get(client, reverse("learning:community", args=[community.pk]))
    for name in ("community_edit", "community_guidance_new", "community_escalate"):
        assert reverse(f"learning:{name}", args=[community.pk]) in body, name
    assert reverse("learning:community_leave", args=[community.pk]) not in body  # the lead hands over first
    assert reverse("learning:community_endorse", args=[community.pk]) not in body
    client.force_login(w.executive)
    body = _get(client, reverse("learning:community", args=[community.pk]))
    assert reverse("learning:community_endorse", args=[community.pk]) in body
    assert reverse("learning:community_edit", args=[community.pk]) not in body


def test_a_person_joins_and_leaves_a_community(w, client):
    community = formed(w)
    client.force_login(w.team_member)
    response = client.post(reverse("learning:community_join", args=[community.pk]), follow=True)
    assert "You joined User research." in response.content.decode()
    assert reverse("learning:community_leave", args=[community.pk]) in response.content.decode()
    assert CommunityMembership.objects.filter(community=community, person=w.team_member, left_at__isnull=True).exists()
    response = client.post(reverse("learning:community_leave", args=[community.pk]), follow=True)
    assert "You left User research." in response.content.decode()
    assert not CommunityMembership.objects.filter(community=community, person=w.team_member, left_at__isnull=True).exists()


def test_the_lead_cannot_leave_and_is_told_why_and_nothing_is_written(w, client):
    community = formed(w)
    client.force_login(w.lead)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("learning:community_leave", args=[community.pk]), follow=True)
    assert "hand the lead to another member before leaving" in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_joining_twice_says_so_and_writes_nothing(w, client):
    community = formed(w)
    client.force_login(w.lead)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("learning:community_join", args=[community.pk]), follow=True)
    assert "You are a member of User research already." in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_the_lead_hands_the_lead_to_a_member(w, client):
    community = formed(w)
    communities.join_community(actor=w.team_member, community=community)
    client.force_login(w.lead)
    body = _get(client, reverse("learning:community_edit", args=[community.pk]))
    assert "Tia Team" in body and "Lee Lead" in body and "Ola Outsider" not in body  # members only
    response = client.post(reverse("learning:community_edit", args=[community.pk]), {
        "name": "User research", "purpose": "Research, together.", "lead": w.team_member.pk,
        "revision": community.revision}, follow=True)
    assert "Tia Team now leads the community." in response.content.decode()
    community.refresh_from_db()
    assert community.lead == w.team_member and community.purpose == "Research, together."
    assert w.team_member.notifications.filter(text__contains="You now lead").exists()


def test_the_executive_endorses_a_community_and_withdraws_the_endorsement_with_a_reason(w, client):
    community = formed(w)
    evaluation_guidance(community)
    client.force_login(w.executive)
    response = client.post(reverse("learning:community_endorse", args=[community.pk]), {"on": ""}, follow=True)
    community.refresh_from_db()
    assert community.status == "endorsed" and community.endorsed_by == w.executive
    body = response.content.decode()
    assert f"Endorsed {community.endorsed_on:%-d %b %Y}" in body
    assert reverse("learning:community_unendorse", args=[community.pk]) in body
    response = client.post(reverse("learning:community_unendorse", args=[community.pk]),
                           {"reason": "It has not met for a year."})
    assert response.status_code == 302
    community.refresh_from_db()
    assert community.status == "forming" and community.endorsed_on is None
    event = AuditEvent.objects.filter(verb="withdraw_endorsement").get()
    assert event.reason == "It has not met for a year."


def test_the_lead_publishes_and_withdraws_guidance(w, client):
    community = formed(w)
    client.force_login(w.lead)
    body = _get(client, reverse("learning:community_guidance_new", args=[community.pk]) + "?kind=evaluation")
    assert re.search(r'<input type="radio" name="kind" value="evaluation"[^>]*checked', body)
    response = client.post(reverse("learning:community_guidance_new", args=[community.pk]), {
        "kind": "evaluation", "title": "Evaluating researchers", "body": "Look at *what changed*."})
    guidance = CommunityGuidance.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#guidance-{guidance.pk}")
    assert guidance.kind == "evaluation" and guidance.published_by == w.lead
    body = _get(client, reverse("learning:community", args=[community.pk]))
    assert "<em>what changed</em>" in body
    assert reverse("learning:community_guidance_withdraw", args=[guidance.pk]) in body
    response = client.post(reverse("learning:community_guidance_withdraw", args=[guidance.pk]), {"reason": "Replaced."})
    assert response.status_code == 302
    guidance.refresh_from_db()
    assert guidance.withdrawn_at is not None
    assert AuditEvent.objects.get(verb="withdraw_community_guidance").reason == "Replaced."


def test_the_guidance_is_markdown_sanitised(w, client):
    community = formed(w)
    communities.publish_community_guidance(actor=w.lead, community=community, kind="practice", title="Tricks",
                                           body="Hello <script>alert(1)</script> <img src=x onerror=alert(2)>")
    client.force_login(w.outsider)
    body = _get(client, reverse("learning:community", args=[community.pk]))
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body  # shown as the text it is


def test_the_lead_escalates_a_dispute_and_lands_on_the_governance_dispute(w, client):
    community = formed(w)
    client.force_login(w.lead)
    response = client.post(reverse("learning:community_escalate", args=[community.pk]), {
        "subject": "A researcher's level", "description": "The manager and the researcher disagree; we could not settle it."})
    dispute = Dispute.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("governance:dispute", args=[dispute.pk])
    assert dispute.community == community and dispute.kind == Dispute.Kind.EVALUATION
    body = _get(client, reverse("learning:community", args=[community.pk]))
    assert reverse("governance:dispute", args=[dispute.pk]) in body and "A researcher&#x27;s level" in body


# ---------------------------------------------------------------- coverage

def test_coverage_draws_a_bar_per_profession_coloured_by_its_state(w, client):
    # User-centred design: Tia's team role, with an endorsed community
    endorsed(w)
    # Data: a team member with a forming community; Software development: nobody formed one
    add_team_member(actor=w.manager, service=w.service, person=w.owner, role=role_named("Data scientist"), level="senior")
    formed(w, lead=w.owner, name="Data people", profession="Data")
    add_team_member(actor=w.other_manager, service=w.other_service, person=w.outsider,
                    role=role_named("Software developer"), level="senior")
    add_team_member(actor=w.manager, service=w.service, person=w.outsider, role=role_named("Software developer"),
                    level="senior")
    client.force_login(w.team_member)
    body = _get(client, reverse("learning:coverage"))
    rows = dict(re.findall(r'<li class="lg-coverage__row" data-state="(\w+)" data-profession="([^"]+)"', body))
    assert {v: k for k, v in rows.items()} == {"User-centred design": "endorsed", "Data": "forming",
                                               "Software development": "none"}
    none_row = re.search(r'data-profession="Software development">.*?</li>', body, re.DOTALL).group(0)
    assert "lg-coverage__bar--none" in none_row and "No community" in none_row
    assert "1 person in 2 services" in none_row
    assert f"{reverse('learning:community_new')}?profession=Software%20development" in none_row
    assert re.search(r"<strong>1</strong> endorsed", body) and re.search(r"<strong>1</strong> no community", body)


# ---------------------------------------------------------------- open roles

def test_open_roles_default_to_the_viewers_professions(w, client):
    researcher = posted_role(w, role="User researcher")
    developer = posted_role(w, role="Software developer")
    client.force_login(w.team_member)  # a user researcher
    body = _get(client, reverse("learning:open_roles"))
    assert f'id="role-{researcher.pk}"' in body and f'id="role-{developer.pk}"' not in body
    assert "your professions: User-centred design" in body
    body = _get(client, reverse("learning:open_roles") + "?profession=all")
    assert f'id="role-{researcher.pk}"' in body and f'id="role-{developer.pk}"' in body
    body = _get(client, reverse("learning:open_roles") + "?profession=Software%20development")
    assert f'id="role-{researcher.pk}"' not in body and f'id="role-{developer.pk}"' in body
    client.force_login(w.outsider)  # no community, no team: everything
    body = _get(client, reverse("learning:open_roles"))
    assert f'id="role-{researcher.pk}"' in body and f'id="role-{developer.pk}"' in body
    assert "every open role is shown" in body


def test_a_manager_posts_an_open_role_and_the_practitioners_are_told(w, client):
    community = formed(w)
    client.force_login(w.manager)
    body = _get(client, reverse("learning:open_roles"))
    assert reverse("learning:open_role_new", args=[w.service.slug]) in body
    assert reverse("learning:open_role_new", args=[w.other_service.slug]) not in body
    body = _get(client, reverse("learning:open_role_new", args=[w.service.slug]))
    assert '<optgroup label="User-centred design">' in body
    response = client.post(reverse("learning:open_role_new", args=[w.service.slug]), {
        "role": role_named("User researcher").pk, "level": "senior", "description": "Research renewals."})
    assert response.status_code == 302
    opening = OpenRole.objects.get()
    assert (opening.service, opening.role.name, opening.level, opening.posted_by) == (
        w.service, "User researcher", "senior", w.manager)
    assert w.lead.notifications.filter(text__contains="Open role in Parking permits").exists()
    assert "Research renewals." in _get(client, reverse("learning:community", args=[community.pk]))


def test_the_manager_closes_an_open_role_as_filled_or_withdrawn(w, client):
    filled, withdrawn = posted_role(w), posted_role(w, role="User researcher")
    client.force_login(w.manager)
    body = _get(client, reverse("learning:open_roles") + "?profession=all")
    assert reverse("learning:open_role_close", args=[filled.pk]) in body
    back = reverse("learning:open_roles") + "?profession=all"
    response = client.post(reverse("learning:open_role_close", args=[filled.pk]), {"outcome": "filled", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    client.post(reverse("learning:open_role_close", args=[withdrawn.pk]), {"outcome": "withdrawn",
                                                                          "next": "https://elsewhere.example/"})
    filled.refresh_from_db()
    withdrawn.refresh_from_db()
    assert (filled.status, withdrawn.status) == ("filled", "withdrawn")
    body = _get(client, reverse("learning:open_roles") + "?profession=all")
    assert f'id="role-{filled.pk}"' not in body and f'id="role-{withdrawn.pk}"' not in body


def test_closing_an_open_role_without_saying_how_writes_nothing(w, client):
    opening = posted_role(w)
    client.force_login(w.manager)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("learning:open_role_close", args=[opening.pk]), {"outcome": "sold"}, follow=True)
    assert "Say whether the role was filled or withdrawn." in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_other_managers_see_no_close_buttons(w, client):
    opening = posted_role(w)
    client.force_login(w.other_manager)
    assert reverse("learning:open_role_close", args=[opening.pk]) not in _get(
        client, reverse("learning:open_roles") + "?profession=all")


def test_every_page_needs_signing_in(w, client):
    for name in ("learning:communities", "learning:coverage", "learning:open_roles", "learning:community_new"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_button_urls_answer_only_posts(w, client):
    community = formed(w)
    client.force_login(w.lead)
    for name in ("community_join", "community_leave", "community_endorse", "community_unendorse"):
        assert client.get(reverse(f"learning:{name}", args=[community.pk])).status_code == 405, name


# ---------------------------------------------------------------- queries

def test_the_list_of_communities_costs_the_same_queries_whatever_their_number(w, client):
    client.force_login(w.outsider)
    url = reverse("learning:communities")
    for i in range(2):
        formed(w, name=f"Community {i}")
    few = _queries(client, url)
    for i, person in enumerate(_people(w, 0, 6)):
        community = formed(w, lead=person, name=f"Community {i + 2}")
        communities.join_community(actor=w.team_member, community=community)
    assert _queries(client, url) == few


def test_a_community_page_costs_the_same_queries_whatever_its_number_of_members(w, client):
    community = formed(w)
    evaluation_guidance(community)
    posted_role(w, role="User researcher")
    client.force_login(w.executive)
    url = reverse("learning:community", args=[community.pk])
    few = _queries(client, url)
    for person in _people(w, 0, 8):
        communities.join_community(actor=person, community=community)
    posted_role(w, role="Content designer")
    assert _queries(client, url) == few


def test_the_members_list_paginates(w, client, settings):
    settings.PAGE_SIZE = 3
    community = formed(w)
    for person in _people(w, 0, 4):
        communities.join_community(actor=person, community=community)
    client.force_login(w.outsider)
    body = _get(client, reverse("learning:community", args=[community.pk]))
    assert "<dt>Members</dt><dd>5</dd>" in body and "Page 1 of 2" in body
    assert "Person 003" not in body
    assert "Person 003" in _get(client, reverse("learning:community", args=[community.pk]) + "?members=2")


def test_coverage_and_open_roles_cost_the_same_queries_whatever_their_size(w, client):
    client.force_login(w.manager)
    posted_role(w)
    few = (_queries(client, reverse("learning:coverage")), _queries(client, reverse("learning:open_roles") + "?profession=all"))
    extra = factories.service(w.executive, "Street lighting", manager=w.manager)
    for i, person in enumerate(_people(w, 0, 4)):
        role = ["Data scientist", "Software developer", "Content designer", "Delivery manager"][i]
        add_team_member(actor=w.manager, service=extra, person=person, role=role_named(role), level="senior")
        posted_role(w, service=extra, role=role)
    formed(w, name="Data people", profession="Data")
    many = (_queries(client, reverse("learning:coverage")), _queries(client, reverse("learning:open_roles") + "?profession=all"))
    assert many == few, (few, many)


# ---------------------------------------------------------------- who may act

def _endorsable(c):
    community = formed(c)
    evaluation_guidance(community)
    return reverse("learning:community_endorse", args=[community.pk]), {"on": ""}


def _unendorse(c):
    return reverse("learning:community_unendorse", args=[endorsed(c).pk]), {"reason": "It has not met for a year."}


def _edit(c):
    community = formed(c)
    return reverse("learning:community_edit", args=[community.pk]), {
        "name": "User research guild", "purpose": "Together.", "lead": c.lead.pk, "revision": community.revision}


def _withdraw_guidance(c):
    return reverse("learning:community_guidance_withdraw", args=[evaluation_guidance(formed(c)).pk]), {"reason": "Old."}


def _close_role(c):
    return reverse("learning:open_role_close", args=[posted_role(c).pk]), {"outcome": "filled"}


# name → (set-up returning (url, data), roles allowed, the policy's sentence for the others)
PAGES = {
    "form a community": (
        lambda c: (reverse("learning:community_new"), {"name": "Content design", "profession": PROFESSION,
                                                        "purpose": "Plain English."}), set(ROLES), ""),
    "change a community": (_edit, {"lead"}, ONLY_LEAD.format("change this community of practice")),
    "endorse a community": (_endorsable, EXECUTIVE, ONLY_EXEC.format("endorse a community of practice")),
    "withdraw an endorsement": (_unendorse, EXECUTIVE, ONLY_EXEC.format("withdraw a community's endorsement")),
    "publish guidance": (
        lambda c: (reverse("learning:community_guidance_new", args=[formed(c).pk]),
                   {"kind": "practice", "title": "Consent", "body": "Use the shared form."}),
        {"lead"}, ONLY_LEAD.format("publish guidance for this community's profession")),
    "withdraw guidance": (_withdraw_guidance, {"lead"}, ONLY_LEAD.format("withdraw this community's guidance")),
    "escalate a dispute": (
        lambda c: (reverse("learning:community_escalate", args=[formed(c).pk]),
                   {"subject": "A level", "description": "We disagree."}),
        {"lead"}, ONLY_LEAD.format("escalate an evaluation dispute to the executive")),
    "post an open role": (
        lambda c: (reverse("learning:open_role_new", args=[c.service.slug]),
                   {"role": role_named("Content designer").pk, "level": "senior", "description": ""}),
        {"manager"}, "Only the service manager of Parking permits may post an open role in this service's team."),
    "close an open role": (_close_role, {"manager"},
                           "Only the service manager of Parking permits may close an open role in this service's team."),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(w, client, page, role):
    setup, allowed, sentence = PAGES[page]
    url, data = setup(w)
    client.force_login(w.by_role()[role])
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert AuditEvent.objects.count() == events + 1
        assert AuditEvent.objects.latest("pk").actor == w.by_role()[role]
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert "You cannot do this" in body and sentence.replace("'", "&#x27;") in body
        assert snapshot() == before and AuditEvent.objects.count() == events


FORM_PAGES = {
    "change a community": (lambda c: reverse("learning:community_edit", args=[formed(c).pk]), {"lead"}),
    "publish guidance": (lambda c: reverse("learning:community_guidance_new", args=[formed(c).pk]), {"lead"}),
    "escalate a dispute": (lambda c: reverse("learning:community_escalate", args=[formed(c).pk]), {"lead"}),
    "post an open role": (lambda c: reverse("learning:open_role_new", args=[c.service.slug]), {"manager"}),
    "form a community": (lambda c: reverse("learning:community_new"), set(ROLES)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(FORM_PAGES))
def test_form_pages_refuse_before_showing_the_form(w, client, page, role):
    make_url, allowed = FORM_PAGES[page]
    url = make_url(w)
    client.force_login(w.by_role()[role])
    response = client.get(url)
    body = response.content.decode()
    if role in allowed:
        assert response.status_code == 200 and '<form method="post" novalidate' in body
    else:
        assert response.status_code == 403 and "Only the " in body and '<form method="post" novalidate' not in body


# ---------------------------------------------------------------- bad input

def _stale_edit(c):
    community = formed(c)
    communities.edit_community(actor=c.lead, community=community, name="User research", purpose="Changed meanwhile.")
    return reverse("learning:community_edit", args=[community.pk]), {
        "name": "User research", "purpose": "Mine.", "lead": c.lead.pk, "revision": 1}


def _endorse(c, **data):
    community = formed(c)
    evaluation_guidance(community)
    return reverse("learning:community_endorse", args=[community.pk]), data


# name → (who, set-up returning (url, data), {field: words of the sentence}); "" is the top of the form
CASES = {
    "a community without a name, profession or purpose": (
        "outsider", lambda c: (reverse("learning:community_new"), {"name": " ", "profession": "", "purpose": ""}),
        {"name": "Give the community a name.", "profession": "Choose the profession the community gathers.",
         "purpose": "Say what the community is for."}),
    "a community with a name taken already": (
        "outsider", lambda c: (formed(c) and reverse("learning:community_new"),
                               {"name": "user research", "profession": PROFESSION, "purpose": "Again."}),
        {"name": "There is a community called"}),
    "a community of a profession the framework does not have": (
        "outsider", lambda c: (reverse("learning:community_new"),
                               {"name": "Astrologers", "profession": "Astrology", "purpose": "Stars."}),
        {"profession": "Select a valid choice"}),
    "a change made on a stale page": ("lead", _stale_edit, {"": "changed by someone else"}),
    "a change emptying the purpose": (
        "lead", lambda c: (reverse("learning:community_edit", args=[formed(c).pk]),
                           {"name": "User research", "purpose": " ", "lead": c.lead.pk}),
        {"purpose": "Say what the community is for."}),
    "a lead who is not a member": (
        "lead", lambda c: (reverse("learning:community_edit", args=[formed(c).pk]),
                           {"name": "User research", "purpose": "Together.", "lead": c.outsider.pk}),
        {"lead": "Select a valid choice"}),
    "guidance without a kind, title or body": (
        "lead", lambda c: (reverse("learning:community_guidance_new", args=[formed(c).pk]),
                           {"kind": "", "title": "", "body": ""}),
        {"kind": "Choose practice or evaluation.", "title": "Give it a title.", "body": "Write the guidance itself."}),
    "an endorsement before any guidance on evaluating": (
        "executive", lambda c: (reverse("learning:community_endorse", args=[formed(c).pk]), {"on": ""}),
        {"": "has not yet published guidance on evaluating its practitioners"}),
    "an endorsement dated in the future": (
        "executive", lambda c: _endorse(c, on="2999-01-01"), {"on": "the date is in the future"}),
    "an endorsement dated by something not a date": (
        "executive", lambda c: _endorse(c, on="last spring"), {"on": "is not a date"}),
    "an endorsement withdrawn without a reason": (
        "executive", lambda c: (reverse("learning:community_unendorse", args=[endorsed(c).pk]), {"reason": " "}),
        {"reason": "Say why the endorsement is withdrawn."}),
    "a dispute without a subject or description": (
        "lead", lambda c: (reverse("learning:community_escalate", args=[formed(c).pk]), {"subject": "", "description": ""}),
        {"subject": "Give it a title.", "description": "Describe the dispute and what the community tried."}),
    "an open role without a role or level": (
        "manager", lambda c: (reverse("learning:open_role_new", args=[c.service.slug]),
                              {"role": "", "level": "", "description": "Help us."}),
        {"role": "Choose the role from the professional framework.", "level": "Choose a level."}),
    "an open role with a description too long": (
        "manager", lambda c: (reverse("learning:open_role_new", args=[c.service.slug]),
                              {"role": role_named("Content designer").pk, "level": "senior", "description": "x" * 4001}),
        {"description": "Keep the description to 4,000 characters."}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_field_says_why_and_writes_nothing(w, client, case):
    who, setup, expected = CASES[case]
    url, data = setup(w)
    client.force_login(w.by_role()[who])
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    forms = [f for f in (response.context.get(k) for k in ("form", "endorse_form", "unendorse_form"))
             if f is not None and f.errors]
    forms = list({id(f): f for f in forms}.values())  # a form shown through {% include … with form=… %} is found twice
    assert len(forms) == 1, forms
    errors = forms[0].errors
    body = response.content.decode()
    for field, words in expected.items():
        key = field or "__all__"
        assert key in errors, (key, errors)
        assert any(words in e for e in errors[key]), (field, errors[key])
        assert errors[key][0].replace("'", "&#x27;") in body
    assert snapshot() == before and AuditEvent.objects.count() == events
