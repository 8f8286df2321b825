"""The Correction of Error pages: the library, the one form for a whole CoE, the CoE
page and its corrective actions, the reviews, the learning figures and the learning
panel of a service's page. Every form writes through its action; a refused role gets
the 403 page with the policy's sentence; bad input comes back by its field, in its row,
with nothing written; lists cost the same queries however long they are."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from osom.core.models import AuditEvent, Notification
from osom.core.policy import refusal
from osom.governance.models import Guidance
from osom.learning import actions
from osom.learning.models import (
    CoEReview,
    CorrectionOfError,
    CorrectiveAction,
    PatternEffect,
    TimelineEvent,
    WhyChain,
)

from .. import factories

TODAY = timezone.localdate()
SOON = TODAY + dt.timedelta(days=14)
LATE = TODAY - dt.timedelta(days=5)
LEARNING_TABLES = [CorrectionOfError, TimelineEvent, WhyChain, PatternEffect, CorrectiveAction, CoEReview, Guidance,
                   Notification]


def snapshot() -> dict:
    """Every row a CoE page's action may touch."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in LEARNING_TABLES}


def content(c, *, title="Renewals failed overnight", root_cause="The signing certificate expired unnoticed", due=SOON,
            **extra) -> dict:
    return {
        "title": title, "occurred_on": (TODAY - dt.timedelta(days=3)).isoformat(), "users_affected": True,
        "problem": "Permit renewals failed for **six hours**.", "impact": "300 residents could not renew.",
        "root_cause": root_cause, "root_cause_data": "The gateway logs show TLS errors from 02:00.",
        "trade_offs_that_led": "Speed of delivery over operational alerts.",
        "trade_offs_to_avoid": "Shipping without an owner for certificates.", "lessons": "Every certificate has an owner.",
        "timeline": [{"at": f"{TODAY - dt.timedelta(days=3)} 02:00", "description": "Alerts fired"},
                     {"at": f"{TODAY - dt.timedelta(days=3)} 08:10", "description": "Certificate renewed"}],
        "why_chains": [{"question": "Why did renewals fail?", "whys": ["The certificate expired", "Nobody owned it"]}],
        "pattern_effects": [{"pattern": "manage-failure", "effect": "hurt", "note": "No alert on expiry"},
                            {"pattern": "be-transparent", "effect": "helped", "note": ""}],
        "actions": [{"description": "Alert on certificate expiry", "owner": c.team_member.email, "due_date": due.isoformat()},
                    {"description": "Name an owner for every certificate", "owner": c.manager.email,
                     "due_date": SOON.isoformat()}],
        **extra,
    }


def drafted(c, **kwargs) -> CorrectionOfError:
    return actions.write_coe(actor=c.team_member, service=c.service, content=content(c, **kwargs))


def published(c, **kwargs) -> CorrectionOfError:
    coe = drafted(c, **kwargs)
    return actions.publish_coe(actor=c.manager, coe=coe)


def reviewed(c, **kwargs) -> CorrectionOfError:
    coe = published(c, **kwargs)
    review = actions.schedule_coe_review(actor=c.executive, scheduled_for=TODAY, title="Spring review")
    actions.hold_coe_review(actor=c.executive, review=review, notes="A good write-up.", coe_notes={coe.pk: "Share widely"})
    coe.refresh_from_db()
    return coe


def form_data(c, **overrides) -> dict:
    """What the CoE form posts: the account, one event (and an empty row), a chain of two
    answers, a pattern that hurt, and two corrective actions."""
    day = TODAY - dt.timedelta(days=2)
    data = {
        "title": "Payments stalled at month end", "occurred_on": day.isoformat(), "users_affected": "on",
        "problem": "Card payments stalled.", "impact": "About 40 payments were retried.", "root_cause": "A full queue.",
        "root_cause_data": "Queue depth graph.", "trade_offs_that_led": "No capacity tests.", "trade_offs_to_avoid": "",
        "lessons": "Test capacity before month end.",
        "timeline-TOTAL_FORMS": "2", "timeline-INITIAL_FORMS": "0",
        "timeline-0-at": f"{day}T09:30", "timeline-0-description": "Queue alarms", "timeline-1-at": "",
        "timeline-1-description": "",
        "whys-TOTAL_FORMS": "1", "whys-INITIAL_FORMS": "0",
        "whys-0-question": "Why did payments stall?", "whys-0-why_1": "The queue was full", "whys-0-why_2": "Nobody sized it",
        "whys-0-more": "",
        "patterns-TOTAL_FORMS": "2", "patterns-INITIAL_FORMS": "0",
        "patterns-0-pattern": "manage-failure", "patterns-0-effect": "hurt", "patterns-0-note": "No load test",
        "patterns-1-pattern": "", "patterns-1-note": "",
        "actions-TOTAL_FORMS": "2", "actions-INITIAL_FORMS": "0",
        "actions-0-description": "Size the queue", "actions-0-owner": c.team_member.email, "actions-0-due_date": SOON.isoformat(),
        "actions-1-description": "Add a load test", "actions-1-owner": c.manager.email, "actions-1-due_date": SOON.isoformat(),
    }
    data.update(overrides)
    return data


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:800]
    return len(ctx.captured_queries)


# ---------------------------------------------------------------- every page renders

def test_every_page_renders_for_an_outsider_without_any_button_to_act(cast, client):
    done = reviewed(cast, title="Parking map went blank", root_cause="A map tile provider changed its terms")
    review = CoEReview.objects.get()
    coe = published(cast, due=LATE)
    upcoming = actions.schedule_coe_review(actor=cast.executive, scheduled_for=SOON, title="Summer review")
    client.force_login(cast.outsider)
    for url, says in [
        (reverse("learning:coes"), coe.title),
        (reverse("learning:coe", args=[coe.pk]), "Every certificate has an owner"),
        (reverse("learning:coe", args=[done.pk]), "Share widely"),
        (reverse("learning:reviews"), "Summer review"),
        (reverse("learning:review", args=[upcoming.pk]), coe.title),  # on the agenda
        (reverse("learning:review", args=[review.pk]), "A good write-up."),
        (reverse("learning:figures"), "Alert on certificate expiry"),  # overdue
        (reverse("network:service", args=[cast.service.slug]), coe.title),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert says in body, url
        for act in ("publish/", "discard/", "guidance/", "actions/new/", "update/", "verify/", "hold/"):
            assert not re.search(f'action="[^"]*{act}"', body), (url, act)
        assert "Schedule a review" not in body and "Record the review" not in body and "Write up a problem" not in body


def test_the_nav_links_the_doctrine_the_coes_and_the_communities(cast, client):
    client.force_login(cast.outsider)
    body = client.get(reverse("network:list")).content.decode()
    nav = body[body.index('aria-label="Main"'):body.index("</nav>", body.index('aria-label="Main"'))]
    for name, label in (("learning:doctrine", "Doctrine"), ("learning:coes", "Corrections of Error"),
                        ("learning:communities", "Communities")):
        assert f'href="{reverse(name)}"' in nav and f">{label}</a>" in nav
    body = client.get(reverse("learning:coes")).content.decode()
    assert f'href="{reverse("learning:coes")}" aria-current="page"' in body


def test_a_draft_is_seen_only_by_the_people_of_its_service(cast, client):
    coe = drafted(cast)
    for role, status in (("manager", 200), ("team_member", 200), ("outsider", 403), ("executive", 403),
                         ("other_manager", 403)):
        client.force_login(cast.by_role()[role])
        response = client.get(reverse("learning:coe", args=[coe.pk]))
        assert response.status_code == status, role
        if status == 403:
            assert "This Correction of Error is still a draft." in response.content.decode()
        listed = client.get(reverse("learning:coes")).content.decode()
        assert (coe.title in listed) == (status == 200), role


# ---------------------------------------------------------------- the library

def test_the_library_searches_by_text_service_pattern_effect_and_status(cast, client):
    certificate = published(cast)
    other = actions.write_coe(actor=cast.other_manager, service=cast.other_service, content=content(
        cast, title="Sign-in outage", root_cause="A database failover loop",
        pattern_effects=[{"pattern": "manage-failure", "effect": "helped"}],
        actions=[{"description": "Fix failover", "owner": cast.other_manager.email, "due_date": SOON.isoformat()}]))
    actions.publish_coe(actor=cast.other_manager, coe=other)
    client.force_login(cast.outsider)

    def titles(**params):
        response = client.get(reverse("learning:coes"), params)
        return {c.title for c in response.context["page"].object_list}

    assert titles() == {certificate.title, other.title}
    assert titles(q="failover") == {other.title}
    assert titles(q="certificate expired") == {certificate.title}
    assert titles(service=cast.other_service.slug) == {other.title}
    assert titles(pattern="manage-failure") == {certificate.title, other.title}
    assert titles(pattern="manage-failure", effect="hurt") == {certificate.title}
    assert titles(pattern="manage-failure", effect="helped") == {other.title}
    assert titles(effect="helped") == {certificate.title, other.title}  # be-transparent helped the first
    assert titles(status="reviewed") == set()
    body = client.get(reverse("learning:coes"), {"pattern": "manage-failure", "effect": "hurt"}).content.decode()
    assert "where <strong>Manage failure</strong> hurt" in body


def test_the_library_shows_status_service_date_users_and_overdue_count(cast, client):
    coe = published(cast, due=LATE)  # one of its two actions is past due
    client.force_login(cast.outsider)
    body = client.get(reverse("learning:coes")).content.decode()
    row = body[body.index(coe.title):body.index("</tr>", body.index(coe.title))]
    assert "Awaiting review" in row and cast.service.name in row and "Felt by users" in row
    assert coe.occurred_on.strftime("%Y-%m-%d") in row
    assert re.search(r'coe-badge--overdue">1<span class="visually-hidden"> overdue', row)


def test_the_library_answers_htmx_with_its_results_only(cast, client):
    published(cast)
    client.force_login(cast.outsider)
    response = client.get(reverse("learning:coes"), {"q": "renewals"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="coe-results")
    body = response.content.decode()
    assert "<html" not in body and "Renewals failed overnight" in body


def test_the_library_costs_the_same_queries_however_many_coes(cast, client, settings):
    settings.PAGE_SIZE = 10
    client.force_login(cast.team_member)  # a viewer who also sees their service's drafts
    for i in range(2):
        published(cast, title=f"Problem {i}", due=LATE)
    drafted(cast, title="A draft")
    few = _queries(client, reverse("learning:coes"))
    filtered = reverse("learning:coes") + "?page=2&pattern=manage-failure&effect=hurt"
    few_filtered = _queries(client, filtered)  # also names the pattern chosen
    for i in range(2, 25):
        coe = published(cast, title=f"Problem {i}", due=LATE)
        actions.add_corrective_action(actor=cast.manager, coe=coe, description="One more", owner=cast.manager,
                                      due_date=LATE)
    assert _queries(client, reverse("learning:coes")) == few
    assert _queries(client, filtered) == few_filtered


# ---------------------------------------------------------------- the CoE form

def test_a_team_member_writes_a_whole_coe_in_one_form(cast, client):
    client.force_login(cast.team_member)
    response = client.get(reverse("learning:coe_new", args=[cast.service.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    # every part of model 7 is asked for, the repeating groups start with blank rows
    for label in ("The problem", "Its impact", "The root cause", "Data supporting the root cause",
                  "The trade-offs that led to it", "Trade-offs to avoid in future", "Lessons learned",
                  "Timeline", "“5 whys”", "Doctrine patterns that helped or hurt", "Corrective actions"):
        assert label in body, label
    assert 'name="timeline-2-at"' in body and 'name="actions-1-owner"' in body and 'name="whys-0-why_5"' in body
    assert f'<option value="{cast.team_member.email}">' in body  # owners chosen among people, by email
    before = AuditEvent.objects.count()
    response = client.post(reverse("learning:coe_new", args=[cast.service.slug]), form_data(cast))
    coe = CorrectionOfError.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("learning:coe", args=[coe.pk])
    assert AuditEvent.objects.count() == before + 1 and AuditEvent.objects.latest("pk").verb == "write_coe"
    assert coe.status == "draft" and coe.users_affected and coe.author == cast.team_member
    assert coe.root_cause_data == "Queue depth graph." and coe.lessons == "Test capacity before month end."
    assert [e.description for e in coe.timeline.all()] == ["Queue alarms"]  # the empty row is left out
    assert timezone.localtime(coe.timeline.get().at).strftime("%H:%M") == "09:30"
    assert [(w.question, w.whys) for w in coe.why_chains.all()] == [
        ("Why did payments stall?", ["The queue was full", "Nobody sized it"])]
    assert [(e.pattern.slug, e.effect, e.note) for e in coe.pattern_effects.all()] == [("manage-failure", "hurt", "No load test")]
    assert [(a.description, a.owner, a.due_date) for a in coe.actions.all()] == [
        ("Size the queue", cast.team_member, SOON), ("Add a load test", cast.manager, SOON)]


def test_more_rows_are_added_without_script_and_nothing_is_saved(cast, client):
    client.force_login(cast.manager)
    data = form_data(cast, more="actions")
    response = client.post(reverse("learning:coe_new", args=[cast.service.slug]), data)
    body = response.content.decode()
    assert response.status_code == 200 and not CorrectionOfError.objects.exists()
    assert 'name="actions-3-description"' in body and 'name="actions-4-description"' not in body
    assert 'value="actions-TOTAL_FORMS"' not in body and 'name="actions-TOTAL_FORMS" value="4"' in body
    assert "Size the queue" in body and 'value="Payments stalled at month end"' in body  # what was typed stays
    # the added rows then save like any other
    data = form_data(cast, **{"actions-TOTAL_FORMS": "3", "actions-2-description": "Review the alarms",
                              "actions-2-owner": cast.manager.email, "actions-2-due_date": SOON.isoformat()})
    client.post(reverse("learning:coe_new", args=[cast.service.slug]), data)
    assert CorrectionOfError.objects.get().actions.count() == 3


def test_bad_input_comes_back_by_its_field_in_its_row_and_nothing_is_written(cast, client):
    client.force_login(cast.manager)
    before = snapshot()
    events = AuditEvent.objects.count()
    # the first action row is left empty, so the action's "actions[0]" is the form's second row
    data = form_data(cast, title="", **{
        "timeline-0-at": "", "actions-0-description": "", "actions-0-owner": "", "actions-0-due_date": "",
        "actions-1-due_date": "next week", "whys-0-why_1": "", "whys-0-why_2": "",
        "patterns-0-effect": "",
    })
    response = client.post(reverse("learning:coe_new", args=[cast.service.slug]), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert snapshot() == before and AuditEvent.objects.count() == events

    title = body[body.index('for="id_title"'):body.index('id="id_title"', body.index('for="id_title"'))]
    assert "Give it a title." in title
    assert "“next week” is not a date: use YYYY-MM-DD." in body[body.index('id="actions-1"'):body.index('id="id_actions-1-due_date"')]
    assert "“next week”" not in body[body.index('id="actions-0"'):body.index('id="actions-1"')]
    assert "Give the time it happened." in body[body.index('id="timeline-0"'):body.index('id="id_timeline-0-at"')]
    assert "Give at least one answer to “why?”." in body[body.index('id="whys-0"'):body.index('id="id_whys-0-why_1"')]
    assert "Say whether the pattern helped or hurt." in body[body.index('id="patterns-0"'):body.index('id="id_patterns-0-effect_0"')]
    # the summary at the top links each problem to its field
    assert '<a href="#id_actions-1-due_date">Action 2, due date: “next week” is not a date' in body
    assert 'value="Size the queue"' not in body and "Add a load test" in body  # what was typed stays


def test_a_post_claiming_thousands_of_rows_is_refused_without_building_them(cast, client):
    client.force_login(cast.manager)
    before = snapshot()
    response = client.post(reverse("learning:coe_new", args=[cast.service.slug]),
                           form_data(cast, **{"timeline-TOTAL_FORMS": "5000"}))
    body = response.content.decode()
    assert response.status_code == 200 and snapshot() == before
    assert "Please submit at most 100 forms." in body and 'name="timeline-100-at"' not in body


def test_rewriting_a_draft_shows_its_parts_and_a_stale_revision_is_a_conflict(cast, client):
    coe = drafted(cast)
    client.force_login(cast.manager)
    body = client.get(reverse("learning:coe_edit", args=[coe.pk])).content.decode()
    assert 'value="Renewals failed overnight"' in body and "Alert on certificate expiry" in body
    assert 'name="whys-0-why_2" value="Nobody owned it"' in body and 'value="manage-failure" selected' in body
    assert 'name="revision" value="1"' in body and "Remove this action" in body
    data = form_data(cast, title="Renewals failed overnight again", revision="1", **{"actions-1-DELETE": "on"})
    response = client.post(reverse("learning:coe_edit", args=[coe.pk]), data)
    assert response.status_code == 302
    coe.refresh_from_db()
    assert coe.title == "Renewals failed overnight again" and coe.revision == 2
    assert [a.description for a in coe.actions.all()] == ["Size the queue"]  # the removed row is gone
    # someone else saved meanwhile: the form says so, and nothing is written
    before = snapshot()
    response = client.post(reverse("learning:coe_edit", args=[coe.pk]), form_data(cast, title="Stale", revision="1"))
    body = response.content.decode()
    assert response.status_code == 200 and snapshot() == before
    assert "was changed by someone else since you opened it" in body and "Now at revision 2." in body


def test_a_published_coe_is_not_rewritten(cast, client):
    coe = published(cast)
    client.force_login(cast.manager)
    response = client.get(reverse("learning:coe_edit", args=[coe.pk]), follow=True)
    assert "its account is fixed" in response.content.decode()
    before = snapshot()
    client.post(reverse("learning:coe_edit", args=[coe.pk]), form_data(cast, revision=str(coe.revision)))
    assert snapshot() == before


# ---------------------------------------------------------------- the CoE page

def test_the_coe_page_shows_every_part_the_chain_and_the_pattern_chips(cast, client):
    coe = published(cast, due=LATE)
    client.force_login(cast.outsider)
    body = client.get(reverse("learning:coe", args=[coe.pk])).content.decode()
    assert "Permit renewals failed for <strong>six hours</strong>." in body  # Markdown, rendered
    for text in ("300 residents could not renew.", "The signing certificate expired unnoticed", "TLS errors from 02:00",
                 "Speed of delivery over operational alerts.", "Shipping without an owner", "Alerts fired",
                 "Certificate renewed"):
        assert text in body, text
    chain = body[body.index('class="coe-chain"'):]
    assert chain.index("Why did renewals fail?") < chain.index("The certificate expired") < chain.index("Nobody owned it")
    hurt = f'href="{reverse("learning:coes")}?pattern=manage-failure&amp;effect=hurt"'
    assert re.search(re.escape(hurt) + r'[^>]*><span class="coe-chip__effect">Hurt</span> Manage failure', body)
    assert 'class="coe-chip coe-chip--helped"' in body
    first = body[body.index(f'id="action-{coe.actions.first().pk}"'):body.index(f'id="action-{coe.actions.last().pk}"')]
    assert "Overdue" in first and "Open" in first
    assert "(5\xa0days late)" in first


def test_markdown_in_a_coe_is_sanitised(cast, client):
    coe = published(cast, lessons="<script>alert(1)</script> [x](javascript:alert(2)) **kept**")
    client.force_login(cast.outsider)
    body = client.get(reverse("learning:coe", args=[coe.pk])).content.decode()
    assert "<script>alert(1)" not in body and "href=\"javascript" not in body and "<strong>kept</strong>" in body


def test_the_buttons_follow_each_persons_rights(cast, client):
    draft = drafted(cast)
    client.force_login(cast.manager)
    body = client.get(reverse("learning:coe", args=[draft.pk])).content.decode()
    assert "Publish it" in body and "Change the draft" in body and "Discard the draft" in body
    client.force_login(cast.team_member)
    body = client.get(reverse("learning:coe", args=[draft.pk])).content.decode()
    assert "Publish it" not in body and "Change the draft" in body and "Discard the draft" in body
    coe = published(cast, title="Published one")
    action = coe.actions.get(owner=cast.team_member)
    actions.update_corrective_action(actor=cast.team_member, action=coe.actions.get(owner=cast.manager), status="done")
    client.force_login(cast.executive)
    body = client.get(reverse("learning:coe", args=[coe.pk])).content.decode()
    assert "Start a draft of guidance" in body and "Verify it" in body and "Mark done" not in body
    assert "Add a corrective action" not in body
    client.force_login(cast.team_member)
    body = client.get(reverse("learning:coe", args=[coe.pk])).content.decode()
    assert reverse("learning:action_update", args=[action.pk]) in body and "Add a corrective action" in body
    assert "Verify it" not in body and "Start a draft of guidance" not in body


def test_publishing_with_parts_missing_names_each_part_and_publishes_nothing(cast, client):
    coe = actions.write_coe(actor=cast.manager, service=cast.service, content={"title": "Half written",
                                                                              "occurred_on": TODAY.isoformat()})
    client.force_login(cast.manager)
    before = snapshot()
    response = client.post(reverse("learning:coe_publish", args=[coe.pk]), {"revision": coe.revision})
    body = response.content.decode()
    assert response.status_code == 400 and snapshot() == before
    problem = body[body.index('id="part-problem"'):body.index('id="part-impact"')]
    assert "Say what the problem was." in problem
    assert "Write down the lessons learned." in body[body.index('id="part-lessons"'):]
    assert "List at least one corrective action" in body[body.index('id="part-actions"'):]
    assert '<a href="#part-root_cause">Give the root cause.</a>' in body


def test_the_manager_publishes_and_it_goes_on_the_agenda(cast, client):
    coe = drafted(cast)
    client.force_login(cast.manager)
    response = client.post(reverse("learning:coe_publish", args=[coe.pk]), {"revision": coe.revision}, follow=True)
    assert "Published the Correction of Error." in response.content.decode()
    assert list(actions.review_agenda()) == [CorrectionOfError.objects.get(pk=coe.pk)]
    assert cast.executive.notifications.filter(link=reverse("learning:coe", args=[coe.pk])).exists()


def test_discarding_a_draft(cast, client):
    coe = drafted(cast)
    client.force_login(cast.team_member)
    response = client.post(reverse("learning:coe_discard", args=[coe.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("network:service", args=[cast.service.slug])
    assert "Discarded the draft “Renewals failed overnight”." in response.content.decode()
    assert not CorrectionOfError.objects.exists()
    # a published one is never discarded
    coe = published(cast)
    client.force_login(cast.manager)
    before = snapshot()
    response = client.post(reverse("learning:coe_discard", args=[coe.pk]), follow=True)
    assert "never discarded" in response.content.decode() and snapshot() == before


def test_the_executive_starts_guidance_from_a_coe(cast, client):
    coe = published(cast)
    client.force_login(cast.executive)
    response = client.post(reverse("learning:coe_guidance", args=[coe.pk]), {"category": "operations"})
    guidance = Guidance.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("governance:guidance_edit", args=[guidance.pk])
    assert guidance.coe == coe and guidance.source == "coe" and guidance.category == "operations"
    assert guidance.status == "draft" and "Every certificate has an owner." in guidance.body
    assert "Shipping without an owner for certificates." in guidance.body
    body = client.get(reverse("learning:coe", args=[coe.pk])).content.decode()
    section = body[body.index('id="guidance-h"'):]
    assert reverse("governance:guidance", args=[guidance.pk]) in section
    # without a category: the message by the field, nothing written
    before = snapshot()
    response = client.post(reverse("learning:coe_guidance", args=[coe.pk]), {"category": ""})
    body = response.content.decode()
    assert response.status_code == 400 and snapshot() == before
    field = body[body.index('for="id_category"'):body.index('id="id_category"', body.index('for="id_category"'))]
    assert "is not a category" in field


# ---------------------------------------------------------------- corrective actions

def test_the_owner_marks_done_the_manager_verifies_and_a_drop_needs_a_reason(cast, client):
    coe = published(cast)
    mine, managers = coe.actions.get(owner=cast.team_member), coe.actions.get(owner=cast.manager)
    client.force_login(cast.team_member)
    response = client.post(reverse("learning:action_update", args=[mine.pk]), {"status": "done"}, follow=True)
    assert "The corrective action is done." in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "done" and mine.done_at is not None
    # dropping without a reason: the message by the reason's field, the form open, nothing written
    before = snapshot()
    response = client.post(reverse("learning:action_update", args=[managers.pk]), {"status": "dropped", f"d{managers.pk}-note": " "})
    body = response.content.decode()
    assert response.status_code == 400 and snapshot() == before
    row = body[body.index(f'id="action-{managers.pk}"'):]
    assert '<details class="coe-drop" open>' in row
    assert "Say why the action is dropped." in row[:row.index(f'id="id_d{managers.pk}-note"')]
    client.post(reverse("learning:action_update", args=[managers.pk]),
                {"status": "dropped", f"d{managers.pk}-note": "Covered by the alert."})
    managers.refresh_from_db()
    assert managers.status == "dropped" and managers.dropped_reason == "Covered by the alert."
    client.post(reverse("learning:action_update", args=[managers.pk]), {"status": "open"})
    managers.refresh_from_db()
    assert managers.status == "open" and managers.dropped_reason == ""
    client.force_login(cast.manager)
    response = client.post(reverse("learning:action_verify", args=[mine.pk]), {f"v{mine.pk}-note": "No alert missed since."},
                           follow=True)
    assert "Verified the corrective action" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == "verified" and mine.verified_by == cast.manager
    # verifying what is not done: a message, nothing written
    before = snapshot()
    response = client.post(reverse("learning:action_verify", args=[managers.pk]), follow=True)
    assert "Only an action marked done can be verified." in response.content.decode() and snapshot() == before


def test_adding_an_action_to_a_published_coe_and_its_bad_input(cast, client):
    coe = published(cast)
    client.force_login(cast.manager)
    before = snapshot()
    response = client.post(reverse("learning:action_add", args=[coe.pk]),
                           {"new-description": "Rotate keys", "new-owner": "", "new-due_date": SOON.isoformat()})
    body = response.content.decode()
    assert response.status_code == 400 and snapshot() == before
    assert "Name the person who owns it." in body[body.index('for="id_new-owner"'):body.index('id="id_new-owner"')]
    response = client.post(reverse("learning:action_add", args=[coe.pk]),
                           {"new-description": "Rotate keys", "new-owner": cast.other_manager.email,
                            "new-due_date": SOON.isoformat()}, follow=True)
    assert "Added the corrective action, owned by Olu Other." in response.content.decode()
    assert coe.actions.filter(description="Rotate keys", owner=cast.other_manager).exists()


# ---------------------------------------------------------------- reviews

def test_the_executive_schedules_a_review_and_holds_it(cast, client):
    first = published(cast)
    second = published(cast, title="Second problem")
    drafted(cast, title="Still a draft")
    client.force_login(cast.executive)
    body = client.get(reverse("learning:reviews")).content.decode()
    assert "Schedule a review" in body and "<strong>2</strong> published Corrections of Error await review" in body
    response = client.post(reverse("learning:review_new"), {"scheduled_for": SOON.isoformat(), "title": ""})
    review = CoEReview.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("learning:review", args=[review.pk])
    assert review.title == f"Review of Corrections of Error, {SOON.day} {SOON:%B %Y}"
    body = client.get(reverse("learning:review", args=[review.pk])).content.decode()
    agenda = body[body.index('id="agenda-h"'):body.index('id="hold-h"')]
    assert first.title in agenda and second.title in agenda and "Still a draft" not in agenda
    assert "Permit renewals failed for" in agenda  # each with a summary
    assert body.count('name="reviewed"') == 2 and body.count("checked") == 2  # all ticked by default
    response = client.post(reverse("learning:review_hold", args=[review.pk]), {
        "notes": "Certificates need owners everywhere.", "reviewed": [str(first.pk)], f"note_{first.pk}": "Share widely"},
        follow=True)
    body = response.content.decode()
    assert "1 Correction of Error marked reviewed" in body and "Certificates need owners everywhere." in body
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "reviewed" and first.review == review and first.review_note == "Share widely"
    assert second.status == "published"  # not gone through: stays for the next review
    body = client.get(reverse("learning:coe", args=[first.pk])).content.decode()
    assert "Reviewed</strong> in" in body and reverse("learning:review", args=[review.pk]) in body and "Share widely" in body


def test_holding_a_review_with_nothing_ticked_says_so_by_the_checkboxes(cast, client):
    published(cast)
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    client.force_login(cast.executive)
    before = snapshot()
    response = client.post(reverse("learning:review_hold", args=[review.pk]), {"notes": "Nothing."})
    body = response.content.decode()
    assert response.status_code == 400 and snapshot() == before
    box = body[body.index('id="id_reviewed"'):body.index('name="reviewed"')]
    assert "Choose the Corrections of Error that were gone through." in box
    assert 'name="reviewed" value' in body and "checked" not in box


def test_scheduling_without_a_date_says_so_by_the_field(cast, client):
    client.force_login(cast.executive)
    before = snapshot()
    response = client.post(reverse("learning:review_new"), {"scheduled_for": "", "title": ""})
    body = response.content.decode()
    assert response.status_code == 200 and snapshot() == before
    assert "Give a date." in body[body.index('for="id_scheduled_for"'):body.index('id="id_scheduled_for"')]


def test_the_reviews_list_costs_the_same_queries_however_many(cast, client, settings):
    settings.PAGE_SIZE = 5
    client.force_login(cast.outsider)
    actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    few = _queries(client, reverse("learning:reviews"))
    for i in range(12):
        published(cast, title=f"Problem {i}")
        review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY - dt.timedelta(days=i + 1))
        actions.hold_coe_review(actor=cast.executive, review=review)
    assert _queries(client, reverse("learning:reviews")) == few


def test_the_review_agenda_and_the_coe_page_cost_the_same_queries_however_many(cast, client):
    client.force_login(cast.executive)
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    coe = published(cast)
    agenda, page = _queries(client, reverse("learning:review", args=[review.pk])), _queries(
        client, reverse("learning:coe", args=[coe.pk]))
    for i in range(8):
        published(cast, title=f"Problem {i}")
        actions.add_corrective_action(actor=cast.manager, coe=coe, description=f"More {i}", owner=cast.team_member,
                                      due_date=LATE)
    assert _queries(client, reverse("learning:review", args=[review.pk])) == agenda
    assert _queries(client, reverse("learning:coe", args=[coe.pk])) == page


# ---------------------------------------------------------------- the learning figures

def test_the_figures_show_the_medians_shares_overdue_actions_and_repeated_problems(cast, client):
    first = published(cast, due=LATE)
    published(cast, title="Renewals failed again", root_cause="The signing certificate expired again unnoticed")
    done = first.actions.get(owner=cast.manager)
    actions.update_corrective_action(actor=cast.manager, action=done, status="done")
    client.force_login(cast.outsider)
    response = client.get(reverse("learning:figures"))
    body = response.content.decode()
    figures = response.context["figures"]
    assert figures["closed"] == 1 and figures["share_on_time"] == 100 and figures["open_overdue"] == 1
    tiles = body[body.index('class="coe-tiles"'):body.index("</ul>", body.index('class="coe-tiles"'))]
    assert "100%" in tiles and "1 of 1 by their due date" in tiles and "Open actions overdue" in tiles
    overdue = body[body.index('id="overdue-h"'):body.index('id="repeat-h"')]
    assert "Alert on certificate expiry" in overdue and ">5</span>" in overdue  # five days late
    repeats = body[body.index('id="repeat-h"'):]
    assert "2 times" in repeats and '<span class="coe-word">certificate</span>' in repeats
    assert "Renewals failed again" in repeats
    # one service's figures
    response = client.get(reverse("learning:figures"), {"service": cast.other_service.slug})
    assert response.context["figures"]["open_overdue"] == 1  # no CoE there: the choice is ignored


def test_the_figures_cost_the_same_queries_however_many_coes(cast, client):
    client.force_login(cast.outsider)
    published(cast, due=LATE)
    few = _queries(client, reverse("learning:figures"))
    for i in range(10):
        published(cast, title=f"Problem {i}", due=LATE)
    assert _queries(client, reverse("learning:figures")) == few


# ---------------------------------------------------------------- the service page

def test_the_service_page_shows_its_learning_and_the_links_each_person_may_follow(cast, client):
    from osom.learning import communities

    coe = published(cast, due=LATE)
    draft = drafted(cast, title="Half-written draft")
    rnd = actions.open_doctrine_round(actor=cast.manager, service=cast.service, title="Spring self-assessment")
    from osom.network.models import ProfessionalRole

    communities.post_open_role(actor=cast.manager, service=cast.service,
                               role=ProfessionalRole.objects.get(name="User researcher"), level="senior")
    url = reverse("network:service", args=[cast.service.slug])
    client.force_login(cast.team_member)
    body = client.get(url).content.decode()
    panel = body[body.index('id="learning-h"'):]
    panel = panel[:panel.index("</section>")]
    assert coe.title in panel and draft.title in panel and "coe-badge--overdue" in panel
    assert reverse("learning:round", args=[rnd.pk]) in panel and "Spring self-assessment" in panel
    assert "Senior user researcher" in panel
    assert reverse("learning:coe_new", args=[cast.service.slug]) in panel
    assert reverse("learning:open_role_new", args=[cast.service.slug]) not in panel  # the manager posts roles
    client.force_login(cast.manager)
    panel = client.get(url).content.decode()
    assert reverse("learning:open_role_new", args=[cast.service.slug]) in panel
    assert reverse("learning:service_round_new", args=[cast.service.slug]) not in panel  # a round is open already
    client.force_login(cast.outsider)
    panel = client.get(url).content.decode()
    assert coe.title in panel and draft.title not in panel
    assert reverse("learning:coe_new", args=[cast.service.slug]) not in panel


def test_the_service_page_costs_the_same_queries_however_much_learning_it_has(cast, client):
    client.force_login(cast.team_member)
    url = reverse("network:service", args=[cast.service.slug])
    published(cast)
    few = _queries(client, url)
    for i in range(8):
        published(cast, title=f"Problem {i}", due=LATE)
    drafted(cast, title="A draft")
    assert _queries(client, url) == few


# ---------------------------------------------------------------- permissions

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
EXECUTIVE = {"executive", "exec_team"}
PEOPLE = {"manager", "team_member"}


def _rewrite(c):
    coe = drafted(c)
    return reverse("learning:coe_edit", args=[coe.pk]), form_data(c, revision=str(coe.revision)), ("write_coe", c.service)


def _update(c):
    action = published(c).actions.get(owner=c.team_member)
    return (reverse("learning:action_update", args=[action.pk]), {"status": "done"},
            ("update_corrective_action", c.service, c.team_member))


def _verify(c):
    action = published(c).actions.get(owner=c.team_member)
    actions.update_corrective_action(actor=c.team_member, action=action, status="done")
    return reverse("learning:action_verify", args=[action.pk]), {}, ("verify_corrective_action", c.service)


def _hold(c):
    coe = published(c)
    review = actions.schedule_coe_review(actor=c.executive, scheduled_for=TODAY)
    return (reverse("learning:review_hold", args=[review.pk]), {"notes": "Held.", "reviewed": [str(coe.pk)]},
            ("hold_coe_review", None))


PAGES = {
    "write a CoE": (lambda c: (reverse("learning:coe_new", args=[c.service.slug]), form_data(c), ("write_coe", c.service)),
                    PEOPLE),
    "rewrite a draft": (_rewrite, PEOPLE),
    "publish a CoE": (lambda c: (reverse("learning:coe_publish", args=[drafted(c).pk]), {}, ("publish_coe", c.service)),
                      {"manager"}),
    "discard a draft": (lambda c: (reverse("learning:coe_discard", args=[drafted(c).pk]), {}, ("discard_coe", c.service)),
                        PEOPLE),
    "add a corrective action": (lambda c: (
        reverse("learning:action_add", args=[published(c).pk]),
        {"new-description": "Rotate keys", "new-owner": c.manager.email, "new-due_date": SOON.isoformat()},
        ("add_corrective_action", c.service)), PEOPLE),
    "mark an action done": (_update, PEOPLE),
    "verify an action": (_verify, EXECUTIVE | {"manager"}),
    "start guidance from a CoE": (lambda c: (reverse("learning:coe_guidance", args=[published(c).pk]),
                                             {"category": "operations"}, ("draft_guidance", None)), EXECUTIVE),
    "schedule a review": (lambda c: (reverse("learning:review_new"), {"scheduled_for": SOON.isoformat()},
                                     ("schedule_coe_review", None)), EXECUTIVE),
    "hold a review": (_hold, EXECUTIVE),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(PAGES))
def test_write_pages_allow_or_refuse_each_role(cast, client, page, role):
    setup, allowed = PAGES[page]
    url, data, (act, service, *subject) = setup(cast)
    person = cast.by_role()[role]
    client.force_login(person)
    events = AuditEvent.objects.count()
    before = snapshot()
    response = client.post(url, data)
    if role in allowed:
        assert response.status_code == 302, response.content.decode()[:3000]
        assert AuditEvent.objects.count() == events + 1
    else:
        assert response.status_code == 403
        sentence = refusal(person, act, service=service, subject=subject[0] if subject else None)
        assert sentence and sentence.replace("'", "&#x27;") in response.content.decode()
        assert AuditEvent.objects.count() == events and snapshot() == before


FORM_PAGES = {
    "write a CoE": (lambda c: reverse("learning:coe_new", args=[c.service.slug]), PEOPLE),
    "rewrite a draft": (lambda c: reverse("learning:coe_edit", args=[drafted(c).pk]), PEOPLE),
    "schedule a review": (lambda c: reverse("learning:review_new"), EXECUTIVE),
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
        assert response.status_code == 200 and 'method="post" novalidate' in body
    else:
        assert response.status_code == 403 and "Only the " in body and 'method="post" novalidate' not in body


def test_button_urls_answer_only_posts(cast, client):
    coe = drafted(cast)
    client.force_login(cast.manager)
    for name in ("learning:coe_publish", "learning:coe_discard", "learning:coe_guidance", "learning:action_add"):
        assert client.get(reverse(name, args=[coe.pk])).status_code == 405, name


def test_a_decommissioned_service_has_no_link_to_write_a_coe(cast, client):
    from osom.network.models import Service

    service = factories.service(cast.executive, "Old kiosk", manager=cast.manager)
    # decommissioning takes a whole assessment; the stage is all this page looks at
    Service.objects.filter(pk=service.pk).update(lifecycle_stage="decommissioned")
    client.force_login(cast.manager)
    body = client.get(reverse("network:service", args=[service.slug])).content.decode()
    assert reverse("learning:coe_new", args=[service.slug]) not in body
