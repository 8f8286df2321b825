"""The governance pages as everyone sees them: what they show, the burn-up of a mandate,
the htmx scope preview, notifications, the service page's rejected guidance, and what
each list costs in queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.actions import create_person
from osom.core.models import Notification
from osom.governance import actions
from osom.governance.models import Mandate, MandateTarget
from osom.governance.templatetags.governance import chart_geometry

from .. import factories
from ..governance.helpers import (
    DUE,
    drafted_guidance,
    drafted_mandate,
    evaluation_dispute,
    issued_mandate,
    published_guidance,
    services_dispute,
    target_of,
)


def _queries(client, url, **extra) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200, response.content.decode()[:800]
    return len(ctx.captured_queries)


def _grow(executive, count: int, start: int = 0, manager=None) -> list:
    return [factories.service(executive, f"Grown service {i:03d}", manager=manager) for i in range(start, start + count)]


def _rejected(c, title="Use the shared payment platform"):
    guidance = published_guidance(c, title=title)
    actions.decide_guidance(actor=c.manager, guidance=guidance, service=c.service, decision="reject",
                            rationale="Our payments are all by direct debit, which it does not take.")
    return guidance


# ---------------------------------------------------------------- every page, as an outsider

def test_every_governance_page_renders_for_an_outsider_without_any_form_to_act(cast, client):
    mandate = issued_mandate(cast)
    draft = drafted_mandate(cast, title="Publish your metrics monthly")
    guidance = _rejected(cast)
    draft_guidance = drafted_guidance(cast, title="Encrypt backups")
    dispute = services_dispute(cast)
    client.force_login(cast.outsider)
    for url, says in [
        (reverse("governance:dashboard"), "Latest guidance"),
        (reverse("governance:notifications"), "Notifications"),
        (reverse("governance:mandates"), mandate.title),
        (reverse("governance:mandate", args=[mandate.pk]), "cannot change a contract"),
        (reverse("governance:mandate", args=[draft.pk]), "This mandate is a draft"),
        (reverse("governance:guidance_list"), guidance.title),
        (reverse("governance:guidance", args=[guidance.pk]), "Our payments are all by direct debit"),
        (reverse("governance:guidance", args=[draft_guidance.pk]), "This guidance is a draft"),
        (reverse("governance:disputes"), dispute.subject),
        (reverse("governance:dispute", args=[dispute.pk]), "Residents cannot sign in"),
        (reverse("network:service", args=[cast.service.slug]), "Guidance rejected"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert says in body, url
        for action_url in ("issue/", "remind/", "close/", "acknowledge/", "progress/", "publish/", "withdraw/",
                           "decide/", "resolve/"):
            assert f'action="{url}{action_url}' not in body, (url, action_url)
    body = client.get(reverse("governance:mandate", args=[mandate.pk])).content.decode()
    assert "Acknowledge<span" not in body and "Issue the mandate" not in body
    body = client.get(reverse("governance:dispute", args=[dispute.pk])).content.decode()
    assert "Resolve the dispute" not in body and "Withdraw the dispute" not in body


def test_the_nav_links_the_dashboard_mandates_guidance_and_unread_notifications(cast, client):
    issued_mandate(cast)  # tells the manager
    client.force_login(cast.manager)
    body = client.get(reverse("network:list")).content.decode()
    for name in ("governance:dashboard", "governance:mandates", "governance:guidance_list", "governance:notifications"):
        assert f'href="{reverse(name)}"' in body
    assert re.search(r"Notifications <span[^>]*>1<span class=\"visually-hidden\"> unread", body)


def test_every_page_needs_signing_in(cast, client):
    for name in ("governance:dashboard", "governance:notifications", "governance:mandates", "governance:guidance_list",
                 "governance:disputes"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- mandates

def test_the_mandate_page_shows_each_service_with_the_managers_own_buttons_on_their_own_rows(cast, client):
    mandate = issued_mandate(cast)
    client.force_login(cast.manager)
    body = client.get(reverse("governance:mandate", args=[mandate.pk])).content.decode()
    mine, theirs = target_of(mandate, cast.service), target_of(mandate, cast.other_service)
    assert reverse("governance:target_acknowledge", args=[mandate.pk, mine.pk]) in body
    assert reverse("governance:target_progress", args=[mandate.pk, mine.pk]) in body
    assert reverse("governance:target_acknowledge", args=[mandate.pk, theirs.pk]) not in body
    # the manager's row comes first, and says it awaits acknowledgement
    assert body.index(cast.service.name) < body.index(cast.other_service.name)
    assert "Awaiting acknowledgement" in body and cast.other_manager.name in body


def test_the_executive_sees_issue_on_a_draft_and_remind_and_close_once_issued(cast, client):
    client.force_login(cast.executive)
    draft = drafted_mandate(cast)
    body = client.get(reverse("governance:mandate", args=[draft.pk])).content.decode()
    assert "Issue the mandate" in body and "Change the draft" in body and "Remind" not in body
    response = client.post(reverse("governance:mandate_issue", args=[draft.pk]), follow=True)
    body = response.content.decode()
    assert "Issued the mandate to 2 services" in body
    assert "Remind the managers not done" in body and "Close the mandate" in body and "Issue the mandate" not in body
    response = client.post(reverse("governance:mandate_remind", args=[draft.pk]), follow=True)
    assert "Reminded 2 managers" in response.content.decode()
    response = client.post(reverse("governance:mandate_close", args=[draft.pk]), {"note": "Enough."}, follow=True)
    assert "Closed the mandate" in response.content.decode()
    assert Mandate.objects.get(pk=draft.pk).status == "closed"


def test_the_burn_up_on_the_mandate_page_matches_the_acknowledgements_and_completions_recorded(cast, client):
    third = factories.service(cast.executive, "Waste collection", manager=cast.manager)
    mandate = issued_mandate(cast, services=[cast.service, cast.other_service, third])
    actions.acknowledge_mandate(actor=cast.manager, target=target_of(mandate, cast.service), note="Next sprint.")
    actions.report_mandate_progress(actor=cast.other_manager, target=target_of(mandate, cast.other_service),
                                    note="Moved to shared sign-in.", done=True)
    client.force_login(cast.outsider)
    response = client.get(reverse("governance:mandate", args=[mandate.pk]))
    body = response.content.decode()
    last = response.context["burn_up"][-1]
    assert (last["done"], last["acknowledged"], last["total"]) == (1, 2, 3)
    assert response.context["counts"] == {"total": 3, "done": 1, "acknowledged": 2}
    assert "<strong>1 of 3</strong> services done" in body and "<strong>2 of 3</strong> acknowledged" in body
    # the chart: an accessible SVG with a title and a description saying the same
    assert '<svg viewBox="0 0 640 280" role="img" aria-labelledby="burnup-title burnup-desc"' in body
    assert re.search(r"<desc id=\"burnup-desc\">[^<]*1 of 3 services had done what the mandate asks and 2 had acknowledged it",
                     body)
    # and the table for screen readers, one row per day, the last row today's figures
    table = body[body.index('id="burnup-data"'):body.index("</table>", body.index('id="burnup-data"'))]
    rows = re.findall(r"<tr><th scope=\"row\">.*?</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>", table)
    assert rows and rows[-1] == ("1", "2", "3")
    assert [int(r[0]) for r in rows] == sorted(int(r[0]) for r in rows)  # a burn-up never goes down


def test_the_burn_up_geometry_rises_with_the_services_done():
    points = [{"date": "2030-01-01", "done": 0, "acknowledged": 0, "total": 4},
              {"date": "2030-01-05", "done": 1, "acknowledged": 3, "total": 4},
              {"date": "2030-01-10", "done": 4, "acknowledged": 4, "total": 4}]
    chart = chart_geometry(points, dt.date(2030, 1, 20))
    assert chart["done_path"].startswith(f"M{chart['left']:.1f},{chart['bottom']:.1f} ")  # zero, at the issue date
    assert chart["acknowledged_end"]["y"] == chart["top"] and chart["done_end"]["x"] < chart["right"]
    assert chart["done_end"]["y"] == chart["total_y"] == chart["top"]  # all done: the line meets the total
    assert chart["due"]["x"] == chart["right"]  # the due date is the right edge
    assert [t["value"] for t in chart["y_ticks"]] == [0, 1, 2, 3, 4]
    assert chart_geometry([], dt.date(2030, 1, 20)) is None


def test_a_draft_mandate_has_no_burn_up_yet(cast, client):
    client.force_login(cast.outsider)
    body = client.get(reverse("governance:mandate", args=[drafted_mandate(cast).pk])).content.decode()
    assert "<svg" not in body


def test_the_new_mandate_page_previews_how_many_services_a_filter_chooses(cast, client):
    factories.service(cast.executive, "Street lighting", stage="live", manager=cast.manager, dependencies=["identity"])
    factories.service(cast.executive, "Bins", stage="live", manager=cast.manager)
    client.force_login(cast.executive)
    url = reverse("governance:mandate_new")
    response = client.get(url, {"stage": "live", "consumes": "identity"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="scope-preview")
    body = response.content.decode()
    assert "<html" not in body
    assert "<strong>1 service</strong> matches today: Street lighting" in body
    body = client.get(url, {"stage": "live"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="scope-preview").content.decode()
    assert "<strong>2 services</strong> match today: Bins, Street lighting" in body
    body = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="scope-preview").content.decode()
    assert "Choose at least one filter" in body
    # the full page carries the htmx wiring, and works without it
    body = client.get(url).content.decode()
    assert 'hx-target="#scope-preview"' in body and "<form" in body


def test_the_executive_drafts_a_mandate_by_filter_and_issues_it_to_the_services_it_chooses(cast, client):
    hosting = factories.service(cast.executive, "Cloud hosting", stage="live", evolution_stage="commodity")
    on_it = factories.service(cast.executive, "Street lighting", stage="live", manager=cast.manager,
                              dependencies=[hosting.slug])
    factories.service(cast.executive, "Bins", stage="live", manager=cast.manager)
    client.force_login(cast.executive)
    response = client.post(reverse("governance:mandate_new"), {
        "title": "Move off the old hosting", "instruction": "Use the **new** platform.", "due_date": DUE.isoformat(),
        "scope": "filter", "stage": "live", "consumes": hosting.slug, "services": [cast.service.pk]})
    mandate = Mandate.objects.get(title="Move off the old hosting")
    assert response.status_code == 302 and response["Location"] == reverse("governance:mandate", args=[mandate.pk])
    assert mandate.scope_filter == {"stage": "live", "consumes": hosting.slug}  # the list, not chosen, is ignored
    body = client.get(response["Location"]).content.decode()
    assert "<strong>new</strong>" in body and "Cloud hosting" in body  # Markdown; the filter in words
    client.post(reverse("governance:mandate_issue", args=[mandate.pk]))
    assert list(MandateTarget.objects.filter(mandate=mandate).values_list("service", flat=True)) == [on_it.pk]


def test_the_executive_rewrites_a_draft_mandate(cast, client):
    mandate = drafted_mandate(cast)
    client.force_login(cast.executive)
    url = reverse("governance:mandate_edit", args=[mandate.pk])
    form = client.get(url).context["form"]
    assert form.initial["services"] == [cast.service.pk, cast.other_service.pk] or set(form.initial["services"]) == {
        cast.service.pk, cast.other_service.pk}
    response = client.post(url, {"title": "Shorter", "instruction": "Do it.", "due_date": DUE.isoformat(), "scope": "list",
                                 "services": [cast.other_service.pk], "revision": mandate.revision})
    assert response.status_code == 302
    mandate.refresh_from_db()
    assert mandate.title == "Shorter" and [t.service for t in mandate.targets.all()] == [cast.other_service]


def test_the_manager_acknowledges_then_completes_from_the_mandate_page(cast, client):
    mandate = issued_mandate(cast)
    target = target_of(mandate, cast.service)
    client.force_login(cast.manager)
    response = client.post(reverse("governance:target_acknowledge", args=[mandate.pk, target.pk]),
                           {f"a{target.pk}-note": "Planned for May."}, follow=True)
    assert "Parking permits has acknowledged the mandate." in response.content.decode()
    response = client.post(reverse("governance:target_progress", args=[mandate.pk, target.pk]),
                           {f"t{target.pk}-note": "Shared sign-in is live.", f"t{target.pk}-done": "on"}, follow=True)
    body = response.content.decode()
    assert "Parking permits has done what the mandate asks." in body
    target.refresh_from_db()
    assert target.status == "done" and target.progress_note == "Shared sign-in is live."
    assert reverse("governance:target_progress", args=[mandate.pk, target.pk]) not in body  # nothing left to do


def test_the_mandate_list_shows_status_due_date_and_progress(cast, client):
    mandate = issued_mandate(cast)
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service), note="Done.", done=True)
    drafted_mandate(cast, title="Publish your metrics monthly")
    client.force_login(cast.outsider)
    body = client.get(reverse("governance:mandates")).content.decode()
    assert "1 of 2 done" in body and "Issued" in body and "Not issued yet" in body
    response = client.get(reverse("governance:mandates"), {"status": "draft"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="mandate-results")
    body = response.content.decode()
    assert "<html" not in body and "Publish your metrics monthly" in body and mandate.title not in body


def test_the_mandate_list_costs_the_same_queries_for_3_or_40_mandates(cast, client):
    client.force_login(cast.outsider)
    for i in range(3):
        issued_mandate(cast, title=f"Mandate {i}")
    few = _queries(client, reverse("governance:mandates"))
    for i in range(3, 40):
        issued_mandate(cast, title=f"Mandate {i}") if i % 2 else drafted_mandate(cast, title=f"Mandate {i}")
    assert _queries(client, reverse("governance:mandates")) == few


@pytest.mark.parametrize("viewer", ["manager", "executive", "outsider"])
def test_a_mandate_page_costs_the_same_queries_for_5_or_40_services(cast, client, viewer):
    """Queries: session, person, organisation, unread count; the mandate; the page of
    targets (count + rows with service and manager); the progress counts; the burn-up
    (mandate, targets). None of them per service."""
    grown = _grow(cast.executive, 38, manager=cast.manager)
    small = issued_mandate(cast, services=[cast.service, cast.other_service, *grown[:3]], title="Small")
    large = issued_mandate(cast, services=[cast.service, cast.other_service, *grown], title="Large")
    for mandate in (small, large):  # some progress on each, so every kind of row shows
        actions.acknowledge_mandate(actor=cast.manager, target=target_of(mandate, grown[0]))
        actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, grown[1]), note="Done.", done=True)
    assert large.targets.count() == 40 and small.targets.count() == 5
    client.force_login(cast.by_role()[viewer])
    assert _queries(client, reverse("governance:mandate", args=[large.pk])) == _queries(
        client, reverse("governance:mandate", args=[small.pk]))


# ---------------------------------------------------------------- guidance

def test_the_guidance_list_filters_by_category_status_and_source(cast, client):
    published_guidance(cast, title="Use the shared payment platform")
    actions.draft_guidance(actor=cast.executive, title="Encrypt every backup", body="Always.", source="law",
                           category="security", source_detail="Data protection law")
    client.force_login(cast.outsider)

    def titles(**params):
        return {g.title for g in client.get(reverse("governance:guidance_list"), params).context["page"].object_list}

    assert titles() == {"Use the shared payment platform", "Encrypt every backup"}
    assert titles(category="security") == {"Encrypt every backup"}
    assert titles(status="published") == {"Use the shared payment platform"}
    assert titles(source="practice") == {"Use the shared payment platform"}


def test_the_guidance_page_shows_every_services_decision_and_the_managers_form(cast, client):
    guidance = _rejected(cast)
    factories.service(cast.executive, "Waste collection", manager=cast.manager)
    client.force_login(cast.manager)
    response = client.get(reverse("governance:guidance", args=[guidance.pk]))
    body = response.content.decode()
    assert "Rejected" in body and "Our payments are all by direct debit" in body and "Not decided yet" in body
    assert [f.service.name for f in response.context["decision_forms"]] == ["Parking permits", "Waste collection"]
    assert response.context["counts"] == {"adopt": 0, "reject": 1, "all": 3, "none": 2}
    rejected = client.get(reverse("governance:guidance", args=[guidance.pk]), {"decision": "reject"})
    assert [s.name for s in rejected.context["page"].object_list] == ["Parking permits"]
    undecided = client.get(reverse("governance:guidance", args=[guidance.pk]), {"decision": "none"})
    assert [s.name for s in undecided.context["page"].object_list] == ["Identity", "Waste collection"]


def test_the_manager_adopts_guidance_from_its_page(cast, client):
    guidance = published_guidance(cast)
    client.force_login(cast.other_manager)
    prefix = f"s{cast.other_service.pk}"
    response = client.post(reverse("governance:guidance_decide", args=[guidance.pk, cast.other_service.slug]),
                           {f"{prefix}-decision": "adopt", f"{prefix}-rationale": ""}, follow=True)
    assert "Identity adopts this guidance." in response.content.decode()
    assert guidance.decisions.get().decision == "adopt"


def test_the_executive_drafts_publishes_and_withdraws_guidance_from_its_pages(cast, client):
    client.force_login(cast.executive)
    response = client.post(reverse("governance:guidance_new"), {
        "title": "Prefer open standards", "body": "Use *open* standards.", "category": "architecture",
        "source": "practice", "source_detail": ""})
    assert response.status_code == 302
    url = response["Location"]
    guidance_pk = int(url.strip("/").split("/")[-1])
    body = client.get(url).content.decode()
    assert "<em>open</em>" in body and "Publish the guidance" in body
    edit = reverse("governance:guidance_edit", args=[guidance_pk])
    revision = client.get(edit).context["form"].initial["revision"]
    client.post(edit, {"title": "Prefer open standards everywhere", "body": "Use open standards.", "category": "architecture",
                       "source": "practice", "revision": revision})
    response = client.post(reverse("governance:guidance_publish", args=[guidance_pk]), follow=True)
    body = response.content.decode()
    assert "Prefer open standards everywhere" in body and "Withdraw the guidance" in body
    assert Notification.objects.filter(person=cast.manager, text__contains="Prefer open standards").exists()
    response = client.post(reverse("governance:guidance_withdraw", args=[guidance_pk]), {"reason": "Superseded."}, follow=True)
    assert "Withdrew the guidance." in response.content.decode()


def test_the_service_page_shows_the_guidance_it_rejected_with_the_rationale(cast, client):
    guidance = _rejected(cast)
    client.force_login(cast.outsider)
    body = client.get(reverse("network:service", args=[cast.service.slug])).content.decode()
    aside = body[body.index('id="rejected-guidance-h"'):]
    assert guidance.title in aside[:2000] and "Our payments are all by direct debit" in aside[:2000]
    body = client.get(reverse("network:service", args=[cast.other_service.slug])).content.decode()
    assert "None: it has rejected no published guidance." in body


# ---------------------------------------------------------------- disputes

def test_a_manager_raises_a_dispute_from_their_service_and_the_executive_resolves_it_with_a_mandate(cast, client):
    client.force_login(cast.manager)
    body = client.get(reverse("governance:disputes")).content.decode()
    assert reverse("governance:dispute_raise", args=[cast.service.slug]) in body
    response = client.post(reverse("governance:dispute_raise", args=[cast.service.slug]), {
        "other_service": cast.other_service.pk, "subject": "Sign-in outages",
        "description": "Residents cannot sign in on the last day of the month."})
    assert response.status_code == 302
    dispute_url = response["Location"]
    mandate = issued_mandate(cast, services=[cast.other_service], title="Keep sign-in up at month end")
    unrelated = issued_mandate(cast, services=[factories.service(cast.executive, "Bins")], title="Unrelated")
    client.force_login(cast.executive)
    response = client.get(dispute_url)
    choices = [str(m) for m in response.context["resolve_form"].fields["mandate"].queryset]
    assert mandate.title in choices and unrelated.title not in choices
    response = client.post(dispute_url + "resolve/", {"resolution": "Identity adds capacity.", "lever": "mandate",
                                                      "mandate": mandate.pk}, follow=True)
    body = response.content.decode()
    assert "Resolved the dispute" in body and "Keep sign-in up at month end" in body and "A mandate" in body


def test_anyone_raises_an_evaluation_dispute_and_withdraws_it(cast, client):
    client.force_login(cast.team_member)
    response = client.post(reverse("governance:dispute_raise_evaluation"), {
        "subject": "My research evaluation", "description": "It ignored the community's guidance."})
    assert response.status_code == 302
    body = client.get(response["Location"]).content.decode()
    assert "Withdraw the dispute" in body and "about their evaluation" not in body
    response = client.post(response["Location"] + "withdraw/", {"note": "Settled."}, follow=True)
    assert "Withdrew the dispute." in response.content.decode()


def test_the_dispute_list_filters_by_status_and_kind(cast, client):
    services_dispute(cast)
    evaluation_dispute(cast)
    client.force_login(cast.outsider)

    def subjects(**params):
        return {d.subject for d in client.get(reverse("governance:disputes"), params).context["page"].object_list}

    assert subjects(kind="evaluation") == {"My research evaluation"}
    assert subjects(kind="services") == {"Identity outages at month end"}
    assert subjects(status="resolved") == set()


# ---------------------------------------------------------------- dashboards

def test_the_executive_dashboard_lists_what_needs_attention_each_with_a_link_to_act(cast, client):
    dispute = services_dispute(cast)
    guidance = _rejected(cast)
    client.force_login(cast.exec_team)
    response = client.get(reverse("governance:dashboard"))
    body = response.content.decode()
    sections = {s["key"]: s["count"] for s in response.context["sections"]}
    assert sections["disputes"] == 1 and sections["rejections"] == 1
    assert reverse("governance:dispute", args=[dispute.pk]) in body
    assert f'{reverse("governance:guidance", args=[guidance.pk])}?decision=reject' in body
    assert "Needs the executive" in body


def test_the_manager_dashboard_lists_what_is_asked_of_their_services(cast, client):
    mandate = issued_mandate(cast)
    guidance = published_guidance(cast, title="Prefer open standards")
    services_dispute(cast)
    client.force_login(cast.manager)
    response = client.get(reverse("governance:dashboard"))
    body = response.content.decode()
    assert "sections" not in response.context
    assert f'{reverse("governance:mandate", args=[mandate.pk])}#target-{target_of(mandate, cast.service).pk}' in body
    assert f'{reverse("governance:guidance", args=[guidance.pk])}#decide-{cast.service.slug}' in body
    assert "Identity outages at month end" in body and "Acknowledge it" in body


def test_someone_who_manages_nothing_gets_a_friendly_summary(cast, client):
    published_guidance(cast)
    client.force_login(cast.team_member)
    body = client.get(reverse("governance:dashboard")).content.decode()
    assert "Your teams" in body and "Parking permits" in body and "Use the shared payment platform" in body


@pytest.mark.parametrize("viewer", ["executive", "manager"])
def test_the_dashboard_costs_the_same_queries_however_much_there_is(cast, client, viewer):
    def add(n: int, start: int):
        grown = _grow(cast.executive, n, start, manager=cast.manager)
        for i, s in enumerate(grown):
            issued_mandate(cast, services=[s], title=f"Mandate {start + i}")
            published_guidance(cast, title=f"Guidance {start + i}")
            actions.raise_dispute(actor=cast.manager, service=s, other_service=cast.other_service,
                                  subject=f"Dispute {start + i}", description="Outages.")

    client.force_login(cast.by_role()[viewer])
    add(1, 0)
    few = _queries(client, reverse("governance:dashboard"))
    add(12, 1)
    assert _queries(client, reverse("governance:dashboard")) == few


# ---------------------------------------------------------------- notifications

def test_notifications_newest_first_unread_highlighted_and_marked_read(cast, client):
    issued_mandate(cast)
    published_guidance(cast)
    client.force_login(cast.manager)
    response = client.get(reverse("governance:notifications"))
    body = response.content.decode()
    texts = [n.text for n in response.context["page"].object_list]
    assert texts[0].startswith("New guidance") and texts[1].startswith("Mandate:")
    assert body.count('class="gv-unread"') == 2 and "2 unread notifications" in body
    response = client.post(reverse("governance:notifications"), follow=True)
    body = response.content.decode()
    assert "Marked 2 notifications as read." in body and 'class="gv-unread"' not in body
    assert not Notification.objects.filter(person=cast.manager, read_at__isnull=True).exists()
    assert Notification.objects.filter(person=cast.other_manager, read_at__isnull=True).count() == 2  # theirs untouched


def test_notifications_paginate(cast, client, settings):
    settings.PAGE_SIZE = 3
    person = create_person(actor=cast.executive, email="many@example.org", name="Many Notes")
    from osom.core.notify import notify

    for i in range(7):
        notify([person], f"Note {i}")
    client.force_login(person)
    response = client.get(reverse("governance:notifications"), {"page": 3})
    assert [n.text for n in response.context["page"].object_list] == ["Note 0"]
    assert "Page 3 of 3" in response.content.decode()
