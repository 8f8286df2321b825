"""The lifecycle's pages: what each shows to anyone in the organisation, and what they
cost in queries whatever the size of the network."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from osom.lifecycle import actions
from osom.lifecycle.models import Assessment
from osom.lifecycle.queries import format_money
from osom.network.models import Service

from .. import factories
from .helpers import criteria, decided, published, scheduled, with_agenda


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _body(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def _later(monkeypatch, days: int) -> None:
    """Time passes: "today" is ``days`` from now for the pages (nothing is written)."""
    future = timezone.localdate() + dt.timedelta(days=days)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: future)


# ---------------------------------------------------------------- the service page


def test_service_page_shows_the_lifecycle_panel_to_an_outsider(cast, client):
    client.force_login(cast.outsider)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    assert 'aria-labelledby="lifecycle-h"' in body and ">Lifecycle</h2>" in body
    assert "Established in discovery" in body
    assert "No report published yet." in body
    assert "No budget allocated yet." in body
    assert "Schedule an assessment" not in body and "Allocate a budget" not in body and "Ask for funding" not in body


def test_service_panel_offers_the_executive_scheduling_and_money_and_the_manager_funding(cast, client):
    url = reverse("network:service", args=[cast.service.slug])
    client.force_login(cast.executive)
    body = _body(client, url)
    assert reverse("lifecycle:schedule", args=[cast.service.slug]) in body
    assert "Schedule an assessment" in body and "Allocate a budget" in body and "Ask for funding" not in body
    client.force_login(cast.manager)
    body = _body(client, url)
    assert "Ask for funding" in body and "Schedule an assessment" not in body and "Allocate a budget" not in body


def test_service_panel_shows_a_published_agenda_with_its_criteria_and_assessors(cast, client):
    assessment = with_agenda(cast, assessors=[cast.executive, cast.exec_team])
    client.force_login(cast.outsider)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    assert f"Agenda: stage transition on {assessment.scheduled_for:%-d %b %Y}" in body
    for c in criteria(2):
        assert c.name in body
    assert f"{cast.exec_team.name}" in body
    assert reverse("lifecycle:assessment", args=[assessment.pk]) in body


def test_service_panel_links_reports_the_timeline_and_the_budget_after_progress(cast, client):
    report = published(cast)
    actions.record_spend(actor=cast.manager, allocation=report.allocations.get(), amount="20000", spent_on="2026-05-01",
                         description="User research")
    client.force_login(cast.outsider)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    assert '<span class="tag tag--alpha">Alpha</span>' in body
    assert reverse("lifecycle:assessment", args=[report.pk]) in body
    assert "Progress to alpha" in body and "Moved to alpha" in body and "Established in discovery" in body
    assert "2026-27: <strong>£20,000.00</strong> spent of £120,000.00 allocated" in body


def test_service_panel_shows_a_new_round_as_such(cast, client):
    decided_one = decided(cast, result="not_met", outcome="more_research")
    actions.publish_assessment_report(actor=cast.executive, assessment=decided_one)
    client.force_login(cast.outsider)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    assert "A new round of discovery" in body
    assert "lc-timeline__step--round" in body


def test_service_panel_flags_an_overdue_live_assessment(cast, client, monkeypatch):
    live = factories.service(cast.executive, "Street lighting", stage="live")
    url = reverse("network:service", args=[live.slug])
    client.force_login(cast.outsider)
    body = _body(client, url)
    assert f"Next periodic assessment due {live.next_assessment_due:%-d %b %Y}" in body and "Overdue" not in body
    _later(monkeypatch, 400)
    body = _body(client, url)
    assert '<strong class="lc-overdue">Overdue</strong>' in body and "lc-due--overdue" in body


def test_service_page_flags_a_decommissioned_provider_with_its_migration_path(cast, client):
    identity = cast.other_service
    assessment = decided(cast, identity, result="not_met", outcome="not_required")
    actions.publish_assessment_report(actor=cast.executive, assessment=assessment, decommission_condition="b",
                                      decommission_reasons="Nobody needs it.",
                                      migration_path="Use **the national identity service** instead.")
    client.force_login(cast.outsider)
    body = _body(client, reverse("network:service", args=[cast.service.slug]))
    assert "It consumes a decommissioned service." in body
    assert f'<a href="{reverse("network:service", args=[identity.slug])}">Identity</a>' in body
    assert "<strong>the national identity service</strong>" in body
    # the provider's own page carries no such flag
    assert "It consumes a decommissioned service." not in _body(client, reverse("network:service", args=[identity.slug]))


def _grow(executive, count: int, *, consuming: Service | None = None) -> None:
    start = Service.objects.count()
    for i in range(count):
        factories.service(executive, f"Grown service {start + i:04d}", dependencies=[consuming.slug] if consuming else [])


def test_service_page_panels_make_the_same_number_of_queries_with_5_or_60_services(cast, client):
    report = published(cast)
    actions.allocate_budget(actor=cast.executive, service=cast.service, period="2027-28", amount="5000")
    scheduled(cast)
    client.force_login(cast.manager)  # the manager's buttons need their own right checks
    url = reverse("network:service", args=[cast.service.slug])
    _grow(cast.executive, 3, consuming=cast.service)
    assert Service.objects.count() == 5
    small = _queries(client, url)
    _grow(cast.executive, 55, consuming=cast.service)
    assert Service.objects.count() == 60
    assert _queries(client, url) == small
    assert report.pk  # the report is on the page in both


# ---------------------------------------------------------------- criteria


def test_criteria_library_groups_by_source_with_meaning_and_stages(cast, client, settings):
    settings.PAGE_SIZE = 100
    actions.add_criterion(actor=cast.executive, name="Follow the cloud-first guidance", meaning="Use *public cloud* first.",
                          link="https://example.org/cloud", stages=["alpha"], source="guidance")
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:criteria"))
    for heading in ("Common criteria", "Technical criteria", "Doctrine patterns", "From guidance"):
        assert f">{heading}</h2>" in body
    assert body.index("Common criteria") < body.index("Technical criteria") < body.index("Doctrine patterns")
    assert 'id="understand-users-and-their-needs"' in body
    assert "<em>public cloud</em>" in body and 'href="https://example.org/cloud"' in body
    assert "Add a criterion" not in body and "/edit/" not in body
    client.force_login(cast.executive)
    body = _body(client, reverse("lifecycle:criteria"))
    assert "Add a criterion" in body and reverse("lifecycle:criterion_edit", args=["understand-users-and-their-needs"]) in body


def test_each_criterion_has_its_own_page_that_agendas_link_to(cast, client):
    added = actions.add_criterion(actor=cast.executive, name="Publish the *open* data", meaning="Datasets are **open**.",
                                  stages=["beta", "live"], source="mandate")
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:criterion", args=[added.slug]))
    assert "Publish the *open* data</h1>" in body and "<strong>open</strong>" in body and "From mandates" in body
    assert "Edit the criterion" not in body
    client.force_login(cast.executive)
    assert "Edit the criterion" in _body(client, reverse("lifecycle:criterion", args=[added.slug]))


def test_criteria_library_filters_by_source(cast, client):
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:criteria") + "?source=technical")
    assert "Make new source code open" in body and "Understand users and their needs" not in body


# ---------------------------------------------------------------- scheduling and conducting


def test_schedule_page_ticks_the_criteria_that_suit_the_stage(cast, client):
    client.force_login(cast.executive)
    response = client.get(reverse("lifecycle:schedule", args=[cast.service.slug]))
    form = response.context["form"]
    suited = set(form.initial["criteria"])
    assert suited and all("discovery" in c.stages for c in form._criteria if c.pk in suited)
    assert [k for k, _ in form.fields["kind"].choices] == ["transition", "reassessment"]
    body = response.content.decode()
    assert 'name="criteria"' in body and "Doctrine patterns" in body


def test_scheduling_from_the_page_creates_the_assessment(cast, client):
    client.force_login(cast.executive)
    chosen = criteria(3)
    response = client.post(reverse("lifecycle:schedule", args=[cast.service.slug]), {
        "kind": "transition", "scheduled_for": "2030-03-14", "assessors": [cast.executive.pk, cast.exec_team.pk],
        "criteria": [c.pk for c in chosen], "agenda_note": "Show us the research.",
    })
    assessment = Assessment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("lifecycle:assessment", args=[assessment.pk])
    assert assessment.scheduled_for == dt.date(2030, 3, 14) and assessment.items.count() == 3
    assert set(assessment.assessors.all()) == {cast.executive, cast.exec_team}


def test_changing_an_assessment_keeps_a_criterion_retired_since_it_was_put_on_the_agenda(cast, client):
    assessment = scheduled(cast)
    kept = criteria(1)[0]
    actions.edit_criterion(actor=cast.executive, criterion=kept, name=kept.name, meaning=kept.meaning,
                           stages=kept.stages, active=False)
    client.force_login(cast.executive)
    url = reverse("lifecycle:assessment_edit", args=[assessment.pk])
    body = _body(client, url)
    assert f"{kept.name} <span class=\"tag tag--outline\">retired</span>" in body
    on_agenda = list(assessment.items.values_list("criterion_id", flat=True))
    assessment.refresh_from_db()
    response = client.post(url, {"scheduled_for": "2030-05-05", "assessors": [cast.executive.pk], "criteria": on_agenda,
                                 "agenda_note": "", "revision": assessment.revision})
    assert response.status_code == 302
    assert set(assessment.items.values_list("criterion_id", flat=True)) == set(on_agenda)


def test_assessment_page_shows_the_agenda_and_the_executives_buttons_by_status(cast, client):
    assessment = scheduled(cast)
    url = reverse("lifecycle:assessment", args=[assessment.pk])
    client.force_login(cast.outsider)
    body = _body(client, url)
    for c in criteria(2):
        assert f'href="{reverse("lifecycle:criterion", args=[c.slug])}"' in body
    assert "Publish the agenda" not in body and "Cancel this assessment" not in body and "Change the assessment" not in body
    client.force_login(cast.executive)
    body = _body(client, url)
    assert "Publish the agenda" in body and "Cancel this assessment" in body and "Change the assessment" in body
    assert "Save the decisions" not in body  # not before the agenda is published


def test_the_decisions_form_is_for_the_executive_and_the_assessors_only(cast, client):
    assessment = with_agenda(cast, assessors=[cast.executive, cast.other_manager])
    url = reverse("lifecycle:assessment", args=[assessment.pk])
    for person, sees in ((cast.executive, True), (cast.other_manager, True), (cast.manager, False), (cast.outsider, False)):
        client.force_login(person)
        body = _body(client, url)
        assert ("Save the decisions" in body) is sees, person
    client.force_login(cast.other_manager)
    assert "Publish the report" not in _body(client, url)


def test_recording_decisions_from_the_page_saves_each_criterion(cast, client):
    assessment = with_agenda(cast)
    items = list(assessment.items.all())
    client.force_login(cast.executive)
    data = {"result": "met", "outcome": "progress_to_alpha", "summary": "Good.", "revision": assessment.revision + 0}
    assessment.refresh_from_db()
    data["revision"] = assessment.revision
    for item in items:
        data[f"c{item.criterion_id}_decision"] = "met"
        data[f"c{item.criterion_id}_did_well"] = "Talked to users"
        data[f"c{item.criterion_id}_to_improve"] = "More of them"
    response = client.post(reverse("lifecycle:decisions", args=[assessment.pk]), data)
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.result == "met" and assessment.outcome == "progress_to_alpha"
    assert {i.decision for i in assessment.items.all()} == {"met"}
    body = _body(client, reverse("lifecycle:assessment", args=[assessment.pk]))
    assert 'name="budget_amount"' in body and 'name="budget_period"' in body and "Budget for alpha" in body
    assert 'name="decommission_reasons"' not in body


def test_the_publish_form_asks_for_reasons_and_migration_when_the_outcome_decommissions(cast, client):
    assessment = decided(cast, result="not_met", outcome="not_required")
    client.force_login(cast.executive)
    body = _body(client, reverse("lifecycle:assessment", args=[assessment.pk]))
    assert 'name="decommission_condition"' in body and 'name="decommission_reasons"' in body and 'name="migration_path"' in body
    assert 'name="budget_amount"' not in body


def test_publishing_from_the_page_moves_the_service_and_allocates_its_budget(cast, client):
    assessment = decided(cast)
    client.force_login(cast.executive)
    response = client.post(reverse("lifecycle:publish_report", args=[assessment.pk]), {
        "budget_amount": "90,000", "budget_period": "2026-27", "revision": assessment.revision})
    assert response.status_code == 302
    cast.service.refresh_from_db()
    assert cast.service.lifecycle_stage == "alpha"
    assert cast.service.allocations.get().amount == Decimal("90000.00")


def test_a_cancelled_assessment_shows_why(cast, client):
    assessment = scheduled(cast)
    actions.cancel_assessment(actor=cast.executive, assessment=assessment, reason="The manager is on leave.")
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:assessment", args=[assessment.pk]))
    assert "This assessment was cancelled." in body and "The manager is on leave." in body


# ---------------------------------------------------------------- the report


def test_report_page_shows_everything_the_model_asks_of_a_report(cast, client):
    earlier = decided(cast, result="not_met", outcome="more_research")
    earlier = actions.publish_assessment_report(actor=cast.executive, assessment=earlier)
    # the Not Met report scheduled a reassessment: cancel it to schedule the next transition
    actions.cancel_assessment(actor=cast.executive, assessment=Assessment.objects.get(status="scheduled"), reason="Replaced.")
    report = published(cast, assessors=[cast.executive, cast.exec_team])
    actions.add_report_addendum(actor=cast.exec_team, assessment=report, text="The budget starts in *May*.")
    client.force_login(cast.outsider)
    url = reverse("lifecycle:assessment", args=[report.pk])
    body = _body(client, url)
    assert body == _body(client, reverse("lifecycle:report", args=[report.pk])) or "Assessment report" in body
    assert "Assessment report" in body and "<strong>Met</strong>" in body
    assert f"{timezone.localtime(report.published_at):%-d %B %Y}" in body
    assert "Discovery" in body and cast.manager.name in body
    version = report.contract_version
    assert reverse("network:version", args=[cast.service.slug, version.number]) in body
    assert "Parking permits need 1" in body and "Parking permits outcome 1" in body  # needs and metrics
    assert cast.exec_team.name in body
    for item in report.items.select_related("criterion"):
        assert f'href="{reverse("lifecycle:criterion", args=[item.criterion.slug])}">{item.criterion.name}</a>' in body
        assert f"Good work on {item.criterion.name}." in body
    assert "Keep going." in body
    assert "Progress to alpha: the needs are identified" in body
    assert "£120,000.00" in body and "2026-27" in body
    assert reverse("lifecycle:assessment", args=[earlier.pk]) in body  # the previous report
    assert "The budget starts in <em>May</em>." in body
    assert 'name="text"' not in body  # no addendum form for an outsider
    client.force_login(cast.exec_team)
    assert 'name="text"' in _body(client, url)


def test_report_page_shows_decommission_reasons(cast, client):
    assessment = decided(cast, cast.other_service, result="not_met", outcome="not_required")
    actions.publish_assessment_report(actor=cast.executive, assessment=assessment, decommission_condition="b",
                                      decommission_reasons="Its needs are gone.", migration_path="Use the new one.")
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:assessment", args=[assessment.pk]))
    assert "Why the service is decommissioned" in body and "Its needs are gone." in body and "Use the new one." in body
    assert "Condition (b):" in body


def test_report_page_has_a_print_stylesheet(cast, client):
    report = published(cast)
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:report", args=[report.pk]))
    assert "lifecycle/lifecycle.css" in body
    from django.contrib.staticfiles import finders

    css = open(finders.find("lifecycle/lifecycle.css")).read()
    assert "@media print" in css and "break-inside: avoid" in css


def test_report_url_of_an_unpublished_assessment_goes_to_the_assessment(cast, client):
    assessment = scheduled(cast)
    client.force_login(cast.outsider)
    response = client.get(reverse("lifecycle:report", args=[assessment.pk]))
    assert response.status_code == 302
    assert client.get(reverse("lifecycle:report_md", args=[assessment.pk])).status_code == 404


def test_report_exports_as_markdown(cast, client):
    report = published(cast)
    actions.add_report_addendum(actor=cast.executive, assessment=report, text="A later note.")
    client.force_login(cast.outsider)
    response = client.get(reverse("lifecycle:report_md", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    day = timezone.localtime(report.published_at).date()
    assert response["Content-Disposition"] == f'attachment; filename="parking-permits-assessment-{day:%Y-%m-%d}.md"'
    text = response.content.decode()
    assert text.startswith("# Assessment report: Parking permits\n")
    assert "- **Result:** Met" in text and "- **Stage assessed:** Discovery (stage transition)" in text
    assert f"- **Service manager:** {cast.manager.name}" in text
    assert "version 1 (http://testserver/services/parking-permits/versions/1/)" in text
    assert f"- **Assessors:** {cast.executive.name}" in text
    assert "- **Outcome:** Progress to alpha: the needs are identified" in text
    assert "- As a resident, I need Parking permits need 1, so that I get on with my day." in text
    assert "| Parking permits outcome 1 | % | Higher is better | 95 |" in text
    for item in report.items.select_related("criterion"):
        assert f"### {item.criterion.name}: Met" in text
        assert f"http://testserver/assessments/criteria/{item.criterion.slug}/" in text
    assert "**What the team did well**" in text and "Keep going." in text
    assert "- £120,000.00 for alpha, 2026-27" in text
    assert "A later note." in text


# ---------------------------------------------------------------- network-wide lists


def test_reports_list_shows_published_reports_newest_first_and_filters(cast, client):
    first = published(cast)
    second_one = decided(cast, cast.other_service, result="not_met", outcome="more_research")
    second = actions.publish_assessment_report(actor=cast.executive, assessment=second_one)
    scheduled(cast, factories.service(cast.executive, "Waste"))  # not published: never listed
    client.force_login(cast.outsider)

    def listed(**params):
        response = client.get(reverse("lifecycle:reports"), params)
        assert response.status_code == 200
        return [r.pk for r in response.context["page"].object_list]

    assert listed() == [second.pk, first.pk]
    assert listed(result="met") == [first.pk]
    assert listed(result="not_met") == [second.pk]
    assert listed(stage="discovery") == [second.pk, first.pk]
    assert listed(stage="alpha") == []
    assert listed(service="identity") == [second.pk]
    today = timezone.localdate()
    assert listed(since=(today - dt.timedelta(days=1)).isoformat(), until=today.isoformat()) == [second.pk, first.pk]
    assert listed(until=(today - dt.timedelta(days=1)).isoformat()) == []
    body = _body(client, reverse("lifecycle:reports"))
    assert "Progress to alpha: the needs are identified" in body and "Parking permits" in body


def test_reports_list_answers_htmx_with_the_results_fragment(cast, client):
    published(cast)
    client.force_login(cast.outsider)
    response = client.get(reverse("lifecycle:reports"), {"service": "park"}, HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="reports-results")
    body = response.content.decode()
    assert "<html" not in body and "Parking permits" in body


def _reports_for(cast, count: int) -> None:
    start = Service.objects.count()
    for i in range(count):
        published(cast, factories.service(cast.executive, f"Assessed service {start + i:04d}", manager=cast.manager))


def test_reports_list_query_count_does_not_grow_with_the_number_of_reports(cast, client, settings):
    settings.PAGE_SIZE = 20
    client.force_login(cast.outsider)
    _reports_for(cast, 5)
    small = _queries(client, reverse("lifecycle:reports"))
    _reports_for(cast, 55)
    response = client.get(reverse("lifecycle:reports"))
    assert response.context["page"].paginator.count == 60 and len(response.context["page"].object_list) == 20
    assert _queries(client, reverse("lifecycle:reports")) == small
    assert _queries(client, reverse("lifecycle:reports") + "?page=3") == small


def test_due_list_puts_overdue_services_first_and_highlights_them(cast, client, monkeypatch):
    soon = factories.service(cast.executive, "Street lighting", stage="live")
    actions.set_assessment_cadence(actor=cast.executive, service=soon, days=30)
    later = factories.service(cast.executive, "Libraries", stage="live")
    booked = scheduled(cast, later, kind="periodic", days=10)
    client.force_login(cast.outsider)
    response = client.get(reverse("lifecycle:due"))
    assert [s.name for s in response.context["services"].object_list] == ["Street lighting", "Libraries"]
    body = response.content.decode()
    assert "<strong class=\"lc-overdue\">" not in body and "lc-row--overdue" not in body
    assert reverse("lifecycle:assessment", args=[booked.pk]) in body  # booked, and coming up
    assert "Set the default interval" not in body
    _later(monkeypatch, 60)
    body = _body(client, reverse("lifecycle:due"))
    assert body.count('<tr class="lc-row--overdue">') == 1
    assert '<strong class="lc-overdue">Overdue</strong> since' in body
    client.force_login(cast.executive)
    assert "Set the default interval" in _body(client, reverse("lifecycle:due"))


def test_due_list_query_count_does_not_grow_with_the_number_of_live_services(cast, client, settings):
    settings.PAGE_SIZE = 20
    client.force_login(cast.executive)

    def grow(n):
        start = Service.objects.count()
        for i in range(n):
            s = factories.service(cast.executive, f"Live service {start + i:04d}", stage="live", manager=cast.manager)
            if i % 3 == 0:
                scheduled(cast, s, kind="periodic", days=i + 1)

    grow(5)
    small = _queries(client, reverse("lifecycle:due"))
    grow(55)
    assert Service.objects.filter(lifecycle_stage="live").count() == 60
    assert _queries(client, reverse("lifecycle:due")) == small


# ---------------------------------------------------------------- budgets


def test_budget_page_shows_allocations_spending_reinvestment_and_requests(cast, client):
    allocation = actions.allocate_budget(actor=cast.executive, service=cast.service, period="2026-27", amount="10000")
    actions.record_spend(actor=cast.team_member, allocation=allocation, amount="2500.50", spent_on="2026-05-02",
                         description="Usability testing")
    actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="1000", purpose="Automated tests")
    actions.request_funding(actor=cast.manager, service=cast.service, kind="expand", period="2026-27", amount="5000",
                            rationale="More users than expected.")
    client.force_login(cast.outsider)
    body = _body(client, reverse("lifecycle:budget", args=[cast.service.slug]))
    assert "£10,000.00" in body and "£2,500.50" in body and "£1,000.00" in body and "£6,499.50" in body
    assert "Usability testing" in body and "Automated tests" in body and "More users than expected." in body
    assert "Awaiting a decision" in body
    for form in ('id="allocate"', 'id="spend"', 'id="reinvest"', 'id="request"', 'id="cadence"', "Decide"):
        assert form not in body
    client.force_login(cast.executive)
    body = _body(client, reverse("lifecycle:budget", args=[cast.service.slug]))
    assert 'id="allocate"' in body and 'id="cadence"' in body and "Decide" in body and 'id="spend"' not in body
    client.force_login(cast.manager)
    body = _body(client, reverse("lifecycle:budget", args=[cast.service.slug]))
    assert 'id="spend"' in body and 'id="reinvest"' in body and 'id="request"' in body and 'id="allocate"' not in body
    client.force_login(cast.team_member)
    body = _body(client, reverse("lifecycle:budget", args=[cast.service.slug]))
    assert 'id="spend"' in body and 'id="reinvest"' not in body


def test_budgets_overview_sums_by_stage_and_by_period(cast, client):
    a = actions.allocate_budget(actor=cast.executive, service=cast.service, period="2026-27", amount="1000")
    actions.allocate_budget(actor=cast.executive, service=cast.other_service, period="2026-27", amount="500.25")
    actions.allocate_budget(actor=cast.executive, service=cast.other_service, period="2027-28", amount="2000", stage="alpha")
    actions.record_spend(actor=cast.manager, allocation=a, amount="400", spent_on="2026-06-01", description="Research")
    client.force_login(cast.outsider)
    response = client.get(reverse("lifecycle:budgets"))
    by_stage = {r["key"]: r for r in response.context["by_stage"]}
    assert by_stage["discovery"]["allocated"] == Decimal("1500.25") and by_stage["discovery"]["spent"] == Decimal("400")
    assert by_stage["alpha"]["allocated"] == Decimal("2000")
    by_period = [(r["key"], r["allocated"], r["spent"]) for r in response.context["by_period"]]
    assert by_period == [("2027-28", Decimal("2000"), Decimal("0.00")), ("2026-27", Decimal("1500.25"), Decimal("400"))]
    body = response.content.decode()
    assert "£3,500.25" in body and "£1,100.25" in body


@pytest.mark.parametrize("value, currency, shown", [
    (Decimal("1234.5"), "GBP", "£1,234.50"), (Decimal("-20"), "EUR", "−€20.00"), (Decimal("0.1"), "CHF", "CHF 0.10"),
])
def test_money_is_shown_in_the_organisations_currency(value, currency, shown):
    assert format_money(value, currency) == shown


def test_budget_pages_make_the_same_number_of_queries_however_much_is_recorded(cast, client, settings):
    settings.PAGE_SIZE = 10
    allocation = actions.allocate_budget(actor=cast.executive, service=cast.service, period="2026-27", amount="100000")
    client.force_login(cast.manager)
    urls = [reverse("lifecycle:budget", args=[cast.service.slug]), reverse("lifecycle:budgets")]

    def record(n):
        for i in range(n):
            actions.record_spend(actor=cast.manager, allocation=allocation, amount="10", spent_on="2026-05-01",
                                 description=f"Item {i}")
            actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="1", purpose=f"Saving {i}")
            actions.request_funding(actor=cast.manager, service=cast.service, kind="narrow", period=f"2026-{i}",
                                    rationale="Too much to do.")

    record(3)
    small = [_queries(client, url) for url in urls]
    record(30)
    assert [_queries(client, url) for url in urls] == small
    response = client.get(urls[0] + "?spends=2&requests=3")
    assert response.context["spends"].number == 2 and response.context["requests"].number == 3
    assert "?spends=3&amp;requests=3" in response.content.decode()  # each list keeps its own place
