"""The doctrine's pages: the forty patterns in the organisation's words, self-assessment
rounds and their coloured grid, the rate page, and the network's heat map. What each page
shows, who may act on it (the 403 page with the policy's sentence for the others, and
nothing written), bad input on the field it concerns, and the cost of the lists in
queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.learning import actions
from osom.learning.models import DoctrinePattern, DoctrineRating, DoctrineRound

from .. import factories
from ..learning.test_permissions import open_round, rate, snapshot

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
EXECUTIVE = {"executive", "exec_team"}


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return len(ctx.captured_queries)


def _cell(body: str, slug: str) -> str:
    """The ``<li>`` of one pattern's cell in a rendered grid."""
    match = re.search(rf'<li class="lg-cell[^"]*" id="pattern-{slug}"[^>]*>.*?</li>', body, re.DOTALL)
    assert match, slug
    return match.group(0)


def _colour(body: str, slug: str) -> str | None:
    found = re.search(r'data-colour="(\w+)"', _cell(body, slug))
    return found.group(1) if found else None


def _heat_rows(body: str) -> dict[str, str]:
    """Each row of the heat map, by the name of its service."""
    tbody = body[body.index("<tbody>", body.index('class="lg-heat"')):]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", tbody[:tbody.index("</tbody>")], re.DOTALL):
        name = re.search(r'class="lg-heat__service">\s*(?:<a href="[^"]*">)?([^<]+?)\s*(?:</a>|<span)', row).group(1)
        rows[name] = row
    return rows


def _rated_round(c):
    """A round of Parking permits rated by its manager and its team member."""
    rnd = open_round(c)
    rate(c.manager, rnd, know_your_users="good", focus_on_user_needs="good", manage_failure="weak",
         be_transparent="unknown", think_small_teams="weak")
    rate(c.team_member, rnd, know_your_users="good", focus_on_user_needs="partly", manage_failure="unknown",
         think_small_teams="good")
    return rnd


# ---------------------------------------------------------------- the doctrine

def test_the_doctrine_shows_forty_patterns_by_group_and_phase_with_their_meanings(cast, client):
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:doctrine"))
    assert body.count('<li class="lg-cell') == 40
    for heading in ("Phase I", "Stop self-harm", "Phase II", "Become more context aware", "Phase III", "Better for less",
                    "Phase IV", "Continuously evolving"):
        assert heading in body
    for group in ("Communication", "Development", "Operation", "Structure", "Learning", "Leading"):
        assert f'<th scope="row" class="lg-grid__group">{group}</th>' in body
    assert "Words mean the same thing to everyone who works together." in body
    # no round yet: the cells are not coloured, and nobody but the executive may rewrite
    assert "data-colour" not in body
    assert f'href="{reverse("learning:doctrine")}" aria-current="page">Doctrine</a>' in body  # the main navigation
    assert reverse("learning:pattern_edit", args=["know-your-users"]) not in body


def test_the_doctrine_places_each_pattern_in_its_group_row_and_phase_column(cast, client):
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:doctrine"))
    rows = re.findall(r"<tr>\s*<th scope=\"row\" class=\"lg-grid__group\">(\w+)</th>(.*?)</tr>", body, re.DOTALL)
    assert [g for g, _ in rows] == ["Communication", "Development", "Operation", "Structure", "Learning", "Leading"]
    slots = {g: re.findall(r'<td class="lg-grid__slot">(.*?)</td>', cells, re.DOTALL) for g, cells in rows}
    assert 'id="pattern-know-your-users"' in slots["Development"][0]
    assert 'id="pattern-think-fire-fast-inexpensive-restrained-elegant"' in slots["Development"][1]
    assert 'id="pattern-there-is-no-core"' in slots["Leading"][3]
    assert "lg-cell" not in slots["Structure"][0]  # no structure pattern in phase I


def test_the_doctrine_takes_the_colours_of_the_organisations_latest_round(cast, client):
    rnd = open_round(cast, organisation=True)
    rate(cast.outsider, rnd, know_your_users="weak", be_transparent="good")
    client.force_login(cast.team_member)
    body = _get(client, reverse("learning:doctrine"))
    assert _colour(body, "know-your-users") == "weak" and _colour(body, "be-transparent") == "good"
    assert _colour(body, "move-fast") == "unknown"
    assert rnd.title in body and reverse("learning:round_rate", args=[rnd.pk]) in body


def test_the_executive_rewrites_a_meaning_through_the_action(cast, client):
    pattern = DoctrinePattern.objects.get(slug="know-your-users")
    client.force_login(cast.executive)
    body = _get(client, reverse("learning:doctrine"))
    assert reverse("learning:pattern_edit", args=[pattern.slug]) in body
    body = _get(client, reverse("learning:pattern_edit", args=[pattern.slug]))
    assert pattern.meaning in body and f'value="{pattern.revision}"' in body
    response = client.post(reverse("learning:pattern_edit", args=[pattern.slug]),
                           {"meaning": "Name every group of people who use the service.", "revision": pattern.revision})
    assert response.status_code == 302 and response["Location"].endswith("#pattern-know-your-users")
    pattern.refresh_from_db()
    assert pattern.meaning == "Name every group of people who use the service." and pattern.revision == 2
    event = AuditEvent.objects.get(verb="edit_doctrine_meaning")
    assert event.actor == cast.executive
    assert "Name every group of people" in _get(client, reverse("learning:doctrine"))


# ---------------------------------------------------------------- rounds

def test_the_executive_opens_a_round_of_the_organisation_and_everyone_is_asked(cast, client):
    client.force_login(cast.executive)
    assert "Open a self-assessment of the organisation" in _get(client, reverse("learning:rounds"))
    response = client.post(reverse("learning:round_new"), {"title": "The organisation, spring"})
    rnd = DoctrineRound.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("learning:round", args=[rnd.pk])
    assert rnd.service is None and rnd.title == "The organisation, spring"
    assert cast.outsider.notifications.filter(link=reverse("learning:round", args=[rnd.pk])).exists()


def test_a_manager_opens_a_round_of_their_service_from_the_rounds_page(cast, client):
    client.force_login(cast.manager)
    body = _get(client, reverse("learning:rounds"))
    assert reverse("learning:service_round_new", args=[cast.service.slug]) in body
    assert reverse("learning:service_round_new", args=[cast.other_service.slug]) not in body
    assert reverse("learning:round_new") not in body
    response = client.post(reverse("learning:service_round_new", args=[cast.service.slug]), {"title": ""})
    rnd = DoctrineRound.objects.get()
    assert response.status_code == 302 and rnd.service == cast.service
    assert rnd.title.startswith("Parking permits: doctrine self-assessment")  # the action's default


def test_the_round_page_colours_each_cell_from_its_ratings_and_says_the_colour(cast, client):
    rnd = _rated_round(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:round", args=[rnd.pk]))
    assert body.count('data-colour="') == 40
    expected = {"know-your-users": "good", "focus-on-user-needs": "partly", "manage-failure": "weak",
                "be-transparent": "unknown", "think-small-teams": "partly", "move-fast": "unknown"}
    for slug, colour in expected.items():
        assert _colour(body, slug) == colour, slug
    # the colour in words, not colour alone, and the ratings behind it
    assert "Good" in _cell(body, "know-your-users") and "2 good" in _cell(body, "know-your-users")
    assert "1 good, 1 partly" in _cell(body, "focus-on-user-needs")
    assert "1 weak, 1 unknown" in _cell(body, "manage-failure")
    assert "not rated" in _cell(body, "move-fast")
    assert "2 respondents" in body
    # the legend counts the cells of each colour
    assert re.search(r"<strong>Good</strong> \(1\)", body) and re.search(r"<strong>Partly</strong> \(2\)", body)
    assert re.search(r"<strong>Weak</strong> \(1\)", body) and re.search(r"<strong>Unknown</strong> \(36\)", body)


def test_the_round_page_lists_what_to_work_on_next_earliest_phase_first(cast, client):
    rnd = _rated_round(cast)
    client.force_login(cast.manager)
    body = _get(client, reverse("learning:round", args=[rnd.pk]))
    section = body[body.index('id="next-h"'):body.index('id="evidence-h"')]
    order = [name for name in ("Focus on user needs", "Manage failure", "Think small teams") if name in section]
    assert order == ["Focus on user needs", "Manage failure", "Think small teams"]
    assert section.index("Focus on user needs") < section.index("Manage failure") < section.index("Think small teams")
    assert "Know your users" not in section  # good: nothing to do


def test_the_round_page_shows_the_evidence_and_the_change_since_the_round_before(cast, client):
    first = open_round(cast)
    rate(cast.manager, first, know_your_users="weak", manage_failure="good")
    actions.close_doctrine_round(actor=cast.manager, round=first)
    second = open_round(cast)
    actions.rate_doctrine(actor=cast.team_member, round=second, ratings=[
        {"pattern": "know-your-users", "rating": "good", "evidence": "We met 40 residents in March."},
        {"pattern": "manage-failure", "rating": "weak"}])
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:round", args=[second.pk]))
    evidence = body[body.index('id="evidence-h"'):]
    assert "We met 40 residents in March." in evidence and "Tia Team" in evidence
    assert 'href="#evidence-know-your-users"' in _cell(body, "know-your-users")
    change = body[body.index('id="change-h"'):]
    assert first.title in change and "<strong>1</strong> better, <strong>1</strong> worse" in change
    better = re.search(r'<li class="lg-change lg-change--better">.*?</li>', change, re.DOTALL).group(0)
    worse = re.search(r'<li class="lg-change lg-change--worse">.*?</li>', change, re.DOTALL).group(0)
    assert "Know your users" in better and "Weak → Good" in better
    assert "Manage failure" in worse and "Good → Weak" in worse
    first_body = _get(client, reverse("learning:round", args=[first.pk]))
    assert "This is the first self-assessment of Parking permits" in first_body


def test_only_respondents_see_the_rate_button_and_only_the_manager_and_executive_the_close_button(cast, client):
    rnd = _rated_round(cast)
    url = reverse("learning:round", args=[rnd.pk])
    rate_url, close_url = reverse("learning:round_rate", args=[rnd.pk]), reverse("learning:round_close", args=[rnd.pk])
    seen = {}
    for role, person in cast.by_role().items():
        client.force_login(person)
        body = _get(client, url)
        seen[role] = (rate_url in body, close_url in body)
    assert seen == {"executive": (False, True), "exec_team": (False, True), "manager": (True, True),
                    "other_manager": (False, False), "team_member": (True, False), "outsider": (False, False)}


def test_the_rate_page_fills_in_earlier_ratings_and_records_only_what_changed(cast, client):
    rnd = open_round(cast)
    actions.rate_doctrine(actor=cast.team_member, round=rnd, ratings=[
        {"pattern": "know-your-users", "rating": "good", "evidence": "Personas from research."},
        {"pattern": "manage-failure", "rating": "weak"}])
    client.force_login(cast.team_member)
    url = reverse("learning:round_rate", args=[rnd.pk])
    body = _get(client, url)
    assert body.count('type="radio"') == 160
    assert re.search(r'<input type="radio" name="rating_know-your-users" value="good"[^>]*checked', body)
    assert re.search(r'<input type="radio" name="rating_manage-failure" value="weak"[^>]*checked', body)
    assert "Personas from research." in body
    data = {"rating_know-your-users": "good", "evidence_know-your-users": "Personas from research.",  # as before
            "rating_manage-failure": "partly", "evidence_manage-failure": "",  # changed
            "rating_move-fast": "good", "evidence_move-fast": "We ship weekly."}  # new
    events = AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == reverse("learning:round", args=[rnd.pk])
    assert AuditEvent.objects.count() == events + 1
    event = AuditEvent.objects.latest("pk")
    assert event.verb == "rate_doctrine" and set(event.after) == {"manage-failure", "move-fast"}
    mine = {r.pattern.slug: (r.rating, r.evidence) for r in DoctrineRating.objects.filter(respondent=cast.team_member)}
    assert mine == {"know-your-users": ("good", "Personas from research."), "manage-failure": ("partly", ""),
                    "move-fast": ("good", "We ship weekly.")}


def test_sending_the_same_ratings_again_records_nothing(cast, client):
    rnd = open_round(cast)
    rate(cast.manager, rnd, know_your_users="good")
    client.force_login(cast.manager)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("learning:round_rate", args=[rnd.pk]), {"rating_know-your-users": "good"}, follow=True)
    assert "Nothing changed" in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_a_closed_round_takes_no_more_ratings_and_says_so(cast, client):
    rnd = _rated_round(cast)
    actions.close_doctrine_round(actor=cast.manager, round=rnd)
    client.force_login(cast.team_member)
    response = client.get(reverse("learning:round_rate", args=[rnd.pk]), follow=True)
    assert "This self-assessment is closed" in response.content.decode()
    before = snapshot()
    response = client.post(reverse("learning:round_rate", args=[rnd.pk]), {"rating_move-fast": "good"})
    assert response.status_code == 302 and snapshot() == before


def test_closing_a_round_without_ratings_says_why_and_writes_nothing(cast, client):
    rnd = open_round(cast)
    client.force_login(cast.manager)
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(reverse("learning:round_close", args=[rnd.pk]), follow=True)
    assert "Nobody has rated anything yet" in response.content.decode()
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_the_rounds_list_shows_each_rounds_forty_colours(cast, client):
    rnd = _rated_round(cast)
    organisation = open_round(cast, organisation=True)
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:rounds"))
    assert rnd.title in body and organisation.title in body
    assert body.count('<span class="lg-sq ') == 80
    assert 'aria-label="1 good, 2 partly, 1 weak, 36 unknown"' in body
    body = _get(client, reverse("learning:rounds") + "?scope=organisation")
    assert organisation.title in body and rnd.title not in body


def test_button_urls_answer_only_posts(cast, client):
    rnd = _rated_round(cast)
    client.force_login(cast.manager)
    assert client.get(reverse("learning:round_close", args=[rnd.pk])).status_code == 405


def test_every_doctrine_page_needs_signing_in(cast, client):
    for url in (reverse("learning:doctrine"), reverse("learning:rounds"), reverse("learning:heat_map")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- the heat map

def test_the_heat_map_shows_each_service_by_its_latest_finished_round(cast, client):
    old = open_round(cast)
    rate(cast.manager, old, know_your_users="weak")
    actions.close_doctrine_round(actor=cast.manager, round=old)
    latest = open_round(cast)
    rate(cast.manager, latest, know_your_users="good", manage_failure="partly")
    actions.close_doctrine_round(actor=cast.manager, round=latest)
    # a round still being rated does not replace the finished one
    rate(cast.manager, open_round(cast), know_your_users="weak")
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:heat_map"))
    rows = _heat_rows(body)
    ours, theirs = rows["Parking permits"], rows["Identity"]
    assert reverse("learning:round", args=[latest.pk]) in ours
    colours = re.findall(r'data-colour="(\w+)"', ours)
    assert len(colours) == 40
    order = list(DoctrinePattern.objects.values_list("slug", flat=True))
    assert colours[order.index("know-your-users")] == "good" and colours[order.index("manage-failure")] == "partly"
    assert set(re.findall(r'data-colour="(\w+)"', theirs)) == {"unknown"} and "Not rated yet" in theirs
    # the pattern names head the columns, in full for screen readers and on hover
    assert body.count('class="lg-heat__pattern') == 40
    assert 'title="Commit to the direction, be adaptive along the path (phase 3)"' in body


def test_the_executive_may_open_a_round_from_the_heat_map_for_a_service_not_yet_rated(cast, client):
    client.force_login(cast.executive)
    body = _get(client, reverse("learning:heat_map"))
    assert reverse("learning:service_round_new", args=[cast.service.slug]) in body
    client.force_login(cast.outsider)
    assert reverse("learning:service_round_new", args=[cast.service.slug]) not in _get(client, reverse("learning:heat_map"))
    # once a round is open, not yet rated, the row points to it instead
    rnd = open_round(cast)
    client.force_login(cast.executive)
    row = _heat_rows(_get(client, reverse("learning:heat_map")))["Parking permits"]
    assert reverse("learning:round", args=[rnd.pk]) in row and "rating under way" in row
    assert reverse("learning:service_round_new", args=[cast.service.slug]) not in row


def test_the_heat_map_escapes_every_name_in_its_cells(cast, client):
    factories.service(cast.executive, 'Tea & "cake" <b>now</b>', manager=cast.manager, stage="live")
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:heat_map"))
    assert "<b>now</b>" not in body
    named = 'Tea &amp; &quot;cake&quot; &lt;b&gt;now&lt;/b&gt;'
    first = DoctrinePattern.objects.first()
    # each of the row's forty cells names the service and its pattern, escaped
    assert body.count(f'title="{named}, ') == 40
    assert f'title="{named}, {first.name}: Unknown"' in body


def test_the_heat_map_filters_by_stage(cast, client):
    factories.service(cast.executive, "Street lighting", manager=cast.manager, stage="live")
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:heat_map") + "?stage=live")
    assert "Street lighting" in body and "Parking permits" not in body


def _grow_rated(c, start: int, count: int) -> None:
    for i in range(start, start + count):
        service = factories.service(c.executive, f"Grown service {i:03d}", manager=c.manager)
        rnd = actions.open_doctrine_round(actor=c.manager, service=service)
        rate(c.manager, rnd, know_your_users="good", manage_failure="weak", move_fast="partly")


def test_the_heat_map_costs_the_same_queries_whatever_the_number_of_services(cast, client):
    client.force_login(cast.executive)
    url = reverse("learning:heat_map")
    _grow_rated(cast, 0, 2)
    few = _queries(client, url)
    _grow_rated(cast, 2, 6)
    many = _queries(client, url)
    assert many == few, (few, many)
    # the page of services and its count, the latest rated round of each, their
    # ratings counted, the patterns; the rest is the frame (session, person, names)
    assert many <= 14, many


def test_the_heat_map_paginates(cast, client, settings):
    settings.PAGE_SIZE = 2
    factories.service(cast.executive, "Street lighting", manager=cast.manager)
    client.force_login(cast.outsider)
    body = _get(client, reverse("learning:heat_map"))
    assert body.count('class="lg-heat__service"') == 2 and "Page 1 of 2" in body
    body = _get(client, reverse("learning:heat_map") + "?page=2")
    assert body.count('class="lg-heat__service"') == 1


def test_the_rounds_list_costs_the_same_queries_whatever_the_number_of_rounds(cast, client):
    client.force_login(cast.manager)
    url = reverse("learning:rounds")
    _grow_rated(cast, 0, 2)
    few = _queries(client, url)
    _grow_rated(cast, 2, 6)
    many = _queries(client, url)
    assert many == few, (few, many)


def test_the_round_page_costs_the_same_queries_whatever_the_number_of_respondents(cast, client):
    from osom.core.actions import create_person
    from osom.network.actions import add_team_member
    from osom.network.models import ProfessionalRole

    rnd = _rated_round(cast)
    client.force_login(cast.outsider)
    url = reverse("learning:round", args=[rnd.pk])
    few = _queries(client, url)
    for i in range(5):
        person = create_person(actor=cast.executive, email=f"p{i}@example.org", name=f"Person {i}")
        add_team_member(actor=cast.manager, service=cast.service, person=person,
                        role=ProfessionalRole.objects.get(name="User researcher"), level="senior")
        actions.rate_doctrine(actor=person, round=rnd, ratings=[
            {"pattern": "know-your-users", "rating": "partly", "evidence": f"Seen by {i}."}])
    assert _queries(client, url) == few


# ---------------------------------------------------------------- who may act

def _rate_service(c):
    rnd = open_round(c)
    return reverse("learning:round_rate", args=[rnd.pk]), {"rating_know-your-users": "good"}


def _rate_organisation(c):
    rnd = open_round(c, organisation=True)
    return reverse("learning:round_rate", args=[rnd.pk]), {"rating_be-transparent": "partly",
                                                           "evidence_be-transparent": "The blog."}


def _close(c):
    rnd = open_round(c)
    rate(c.team_member, rnd, know_your_users="good")
    return reverse("learning:round_close", args=[rnd.pk]), {}


def _rewrite(c):
    p = DoctrinePattern.objects.get(slug="manage-failure")
    return reverse("learning:pattern_edit", args=[p.slug]), {"meaning": "Plan for failure.", "revision": p.revision}


# name → (set-up returning (url, data), roles allowed, the policy's sentence for the others)
PAGES = {
    "rewrite a pattern's meaning": (_rewrite, EXECUTIVE,
                                    "Only the Executive may rewrite the meaning of a doctrine pattern."),
    "open a round of the organisation": (
        lambda c: (reverse("learning:round_new"), {"title": "Spring"}), EXECUTIVE,
        "Only the service manager or the Executive may open a doctrine self-assessment."),
    "open a round of a service": (
        lambda c: (reverse("learning:service_round_new", args=[c.service.slug]), {"title": "Spring"}),
        EXECUTIVE | {"manager"},
        "Only the service manager of Parking permits or the Executive may open a doctrine self-assessment."),
    "rate a service": (_rate_service, {"manager", "team_member"},
                       "Only the service manager of Parking permits or its team may rate this service against the doctrine."),
    "rate the organisation": (_rate_organisation, set(ROLES), ""),
    "close a round": (_close, EXECUTIVE | {"manager"},
                      "Only the service manager of Parking permits or the Executive may close this doctrine self-assessment."),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(cast, client, page, role):
    setup, allowed, sentence = PAGES[page]
    url, data = setup(cast)
    client.force_login(cast.by_role()[role])
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert AuditEvent.objects.count() == events + 1
        assert AuditEvent.objects.latest("pk").actor == cast.by_role()[role]
    else:
        assert response.status_code == 403
        body = response.content.decode()
        assert "You cannot do this" in body and sentence.replace("'", "&#x27;") in body
        assert snapshot() == before and AuditEvent.objects.count() == events


FORM_PAGES = {
    "rewrite a pattern's meaning": (lambda c: reverse("learning:pattern_edit", args=["manage-failure"]), EXECUTIVE),
    "open a round of the organisation": (lambda c: reverse("learning:round_new"), EXECUTIVE),
    "open a round of a service": (lambda c: reverse("learning:service_round_new", args=[c.service.slug]),
                                  EXECUTIVE | {"manager"}),
    "rate a service": (lambda c: reverse("learning:round_rate", args=[open_round(c).pk]), {"manager", "team_member"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(FORM_PAGES))
def test_form_pages_refuse_before_showing_the_form(cast, client, page, role):
    make_url, allowed = FORM_PAGES[page]
    url = make_url(cast)
    client.force_login(cast.by_role()[role])
    response = client.get(url)
    body = response.content.decode()
    if role in allowed:
        assert response.status_code == 200 and '<form method="post" novalidate' in body
    else:
        assert response.status_code == 403 and "Only the " in body and '<form method="post" novalidate' not in body


def test_the_executive_team_gets_the_sentence_when_the_executive_keeps_an_act_to_itself(cast, client):
    from osom.governance.actions import set_reserved_acts

    set_reserved_acts(actor=cast.executive, acts=["edit_doctrine_meaning"])
    client.force_login(cast.exec_team)
    before = AuditEvent.objects.count()
    response = client.post(reverse("learning:pattern_edit", args=["manage-failure"]), {"meaning": "Plan for failure."})
    assert response.status_code == 403
    assert "keeps the right to rewrite the meaning of a doctrine pattern to itself" in response.content.decode()
    assert AuditEvent.objects.count() == before


# ---------------------------------------------------------------- bad input

def _stale_meaning(c):
    p = DoctrinePattern.objects.get(slug="manage-failure")
    actions.edit_doctrine_meaning(actor=c.executive, pattern=p, meaning="Someone else's words.")
    return reverse("learning:pattern_edit", args=[p.slug]), {"meaning": "Mine.", "revision": 1}


def _second_round(c):
    open_round(c)
    return reverse("learning:service_round_new", args=[c.service.slug]), {"title": "Another"}


def _rating(c, **data):
    return reverse("learning:round_rate", args=[open_round(c).pk]), data


# name → (who, set-up returning (url, data), {field: words of the sentence}); "" is the top of the form
CASES = {
    "a meaning left empty": (
        "executive", lambda c: (reverse("learning:pattern_edit", args=["manage-failure"]), {"meaning": "  "}),
        {"meaning": "Say what the pattern means to the organisation."}),
    "a meaning changed by someone else meanwhile": (
        "executive", _stale_meaning, {"": "changed by someone else"}),
    "a second open round of the same service": (
        "manager", _second_round, {"": "has a self-assessment open already"}),
    "a second open round of the organisation": (
        "executive", lambda c: (open_round(c, organisation=True) and reverse("learning:round_new"), {"title": ""}),
        {"": "The organisation has a self-assessment open already"}),
    "a round title too long": (
        "manager", lambda c: (reverse("learning:service_round_new", args=[c.service.slug]), {"title": "x" * 201}),
        {"title": "at most 200 characters"}),
    "nothing rated": ("team_member", lambda c: _rating(c), {"": "Rate at least one pattern."}),
    "evidence without a rating": (
        "team_member", lambda c: _rating(c, **{"rating_know-your-users": "good", "evidence_manage-failure": "Chaos tests."}),
        {"rating_manage-failure": "Choose good, partly, weak or unknown."}),
    "a rating that is not one": (
        "team_member", lambda c: _rating(c, **{"rating_know-your-users": "excellent"}),
        {"rating_know-your-users": "Select a valid choice"}),
    "evidence too long": (
        "team_member", lambda c: _rating(c, **{"rating_move-fast": "good", "evidence_move-fast": "x" * 4001}),
        {"evidence_move-fast": "Keep the evidence to 4,000 characters."}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_field_says_why_and_writes_nothing(cast, client, case):
    who, setup, expected = CASES[case]
    url, data = setup(cast)
    client.force_login(cast.by_role()[who])
    before, events = snapshot(), AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    errors = response.context["form"].errors
    body = response.content.decode()
    for field, words in expected.items():
        key = field or "__all__"
        assert key in errors, (key, errors)
        assert any(words in e for e in errors[key]), (field, errors[key])
        assert errors[key][0].replace("'", "&#x27;") in body
    assert snapshot() == before and AuditEvent.objects.count() == events


def test_a_field_error_on_the_rate_page_sits_in_its_patterns_fieldset(cast, client):
    url, data = _rating(cast, **{"evidence_manage-failure": "Chaos tests."})
    client.force_login(cast.team_member)
    body = client.post(url, data).content.decode()
    fieldset = re.search(r'<fieldset class="lg-rate__pattern field--error" id="(id_[^"]+)"'
                         r' aria-describedby="meaning-manage-failure \1_error">.*?</fieldset>', body, re.DOTALL)
    assert fieldset and "Choose good, partly, weak or unknown." in fieldset.group(0)
    assert f'id="{fieldset.group(1)}_error"' in fieldset.group(0)  # the message the fieldset names
    assert "Chaos tests." in fieldset.group(0)  # what was typed is kept
