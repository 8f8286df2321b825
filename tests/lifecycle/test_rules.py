"""The lifecycle's rules, each as the guide says it (model 3, 4, 5.2, 5.3; design habit 3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from osom.core.errors import Conflict, InvalidInput
from osom.core.models import AuditEvent
from osom.lifecycle import actions
from osom.lifecycle.models import (
    Assessment, AssessmentCriterion, BudgetAllocation, Criterion, FundingRequest, ImmutableReport, StageChange,
)
from osom.network import actions as network
from osom.network.models import Service

from .. import factories
from .helpers import (
    BUDGET, DECOMMISSION, SOON, allocated, clock_at, decided, decisions_for, midday_today, on_agenda, published,
    scheduled, service_at, snapshot,
)


def _stage(service) -> str:
    return Service.objects.get(pk=service.pk).lifecycle_stage


# --- a service moves only through a published Met report (model 4) ---------------------------

def test_scheduling_an_agenda_and_decisions_alone_never_move_a_service(cast):
    service = cast.service
    assert _stage(service) == "discovery"
    changes, money = StageChange.objects.count(), BudgetAllocation.objects.count()

    assessment = scheduled(cast, service)
    assert _stage(service) == "discovery"
    assessment = actions.publish_assessment_agenda(actor=cast.executive, assessment=assessment)
    assert _stage(service) == "discovery"
    assessment = actions.record_assessment_decisions(
        actor=cast.executive, assessment=assessment, decisions=decisions_for(assessment), result="met",
        outcome="progress_to_alpha")
    assert _stage(service) == "discovery"
    assert (StageChange.objects.count(), BudgetAllocation.objects.count()) == (changes, money)

    actions.publish_assessment_report(actor=cast.executive, assessment=assessment, **BUDGET)
    assert _stage(service) == "alpha"


def test_it_rejects_progress_without_a_met_report(cast):
    assessment = decided(cast, cast.service, outcome="progress_to_alpha", result="not_met")
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.publish_assessment_report(actor=cast.executive, assessment=assessment, **BUDGET)
    assert refused.value.field == "outcome"
    assert snapshot() == before
    assert _stage(cast.service) == "discovery"


# --- a published report never changes; an addendum may follow it (design habit 3) -----------

def test_a_published_report_cannot_be_saved_or_deleted_even_from_a_fresh_copy(cast):
    stale = decided(cast, cast.service, outcome="more_research")
    actions.publish_assessment_report(actor=cast.executive, assessment=stale)
    fresh = Assessment.objects.get(pk=stale.pk)
    for copy in (fresh, stale):
        copy.summary = "Rewritten after the fact."
        with pytest.raises(ImmutableReport):
            copy.save()
        with pytest.raises(ImmutableReport):
            copy.delete()
    item = AssessmentCriterion.objects.filter(assessment=fresh).first()
    item.decision = "not_met"
    with pytest.raises(ImmutableReport):
        item.save()
    with pytest.raises(ImmutableReport):
        item.delete()
    fresh.refresh_from_db()
    assert fresh.summary == "The team knows its users."
    assert not fresh.items.filter(decision="not_met").exists()


def test_decisions_and_the_assessment_cannot_be_changed_through_the_actions_after_publication(cast):
    report = published(cast, cast.service, outcome="more_research")
    before = snapshot()
    with pytest.raises(Conflict):
        actions.record_assessment_decisions(actor=cast.executive, assessment=report,
                                            decisions=decisions_for(report, "not_met"), result="not_met")
    with pytest.raises(Conflict):
        actions.edit_assessment(actor=cast.executive, assessment=report, scheduled_for=SOON,
                                assessors=[cast.exec_team], criteria=None)
    with pytest.raises(Conflict):
        actions.cancel_assessment(actor=cast.executive, assessment=report, reason="Withdrawn.")
    assert snapshot() == before


def test_an_addendum_follows_a_published_report_and_shows_on_it(cast):
    report = published(cast, cast.service, outcome="more_research", assessors=[cast.executive, cast.outsider])
    row_before = Assessment.objects.filter(pk=report.pk).values().get()
    actions.add_report_addendum(actor=cast.executive, assessment=report, text="The survey had 40 replies, not 400.")
    actions.add_report_addendum(actor=cast.outsider, assessment=report, text="  Agreed, as assessor.  ")
    report = Assessment.objects.get(pk=report.pk)
    assert [(a.text, a.author) for a in report.addenda.all()] == [
        ("The survey had 40 replies, not 400.", cast.executive), ("Agreed, as assessor.", cast.outsider)]
    assert Assessment.objects.filter(pk=report.pk).values().get() == row_before, "the report itself is unchanged"


def test_the_report_keeps_showing_the_contract_version_it_judged_after_an_alteration(cast):
    service = cast.service
    judged = service.current_version
    needs_judged = list(judged.needs.order_by("position").values_list("as_a", "i_need", "so_that"))
    report = published(cast, service, outcome="progress_to_alpha", **BUDGET)
    assert report.contract_version == judged

    network.alter_contract(actor=cast.executive, service=service,
                           content=factories.contract("Parking permits", needs=3, dependencies=["identity"]),
                           reason="Residents asked for visitor permits.", risk="The team is small.")
    service.refresh_from_db()
    assert service.current_version.number == judged.number + 1
    assert service.current_version.needs.count() == 3

    report = Assessment.objects.get(pk=report.pk)
    assert report.contract_version.pk == judged.pk and report.contract_version.number == judged.number
    assert list(report.contract_version.needs.order_by("position").values_list("as_a", "i_need", "so_that")) == \
        needs_judged


def test_publishing_is_refused_if_the_service_changed_stage_since_scheduling(cast):
    assessment = decided(cast, cast.service, outcome="progress_to_alpha")
    # No action moves a service but a report, and a service has one open assessment at a
    # time; the stage is changed here as a concurrent writer (or a repair of the data) would.
    Service.objects.filter(pk=cast.service.pk).update(lifecycle_stage="alpha")
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        actions.publish_assessment_report(actor=cast.executive, assessment=assessment, **BUDGET)
    assert refused.value.field == "assessment"
    assert "alpha" in refused.value.message and "discovery" in refused.value.message
    assert snapshot() == before


def test_every_criterion_must_be_decided_before_the_report_is_published(cast):
    assessment = on_agenda(cast, cast.service)
    actions.record_assessment_decisions(actor=cast.executive, assessment=assessment,
                                        decisions=decisions_for(assessment, leave_open=1), result="met",
                                        outcome="more_research")
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.publish_assessment_report(actor=cast.executive, assessment=assessment)
    assert refused.value.field == "decisions"
    assert snapshot() == before
    last = assessment.items.select_related("criterion").order_by("-position").first()
    actions.record_assessment_decisions(actor=cast.executive, assessment=assessment,
                                        decisions={last.criterion.slug: {"decision": "met"}})
    report = actions.publish_assessment_report(actor=cast.executive, assessment=assessment)
    assert report.status == "published"


# --- the agenda, sent in advance (model 5.2) ---------------------------------------------------

def test_publishing_the_agenda_emails_the_manager(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assessment = scheduled(cast, cast.service, assessors=[cast.executive, cast.outsider])
    assert mailoutbox == [], "scheduling alone sends nothing"
    with django_capture_on_commit_callbacks(execute=True):
        actions.publish_assessment_agenda(actor=cast.executive, assessment=assessment)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [cast.manager.email]
    assert "Parking permits" in mail.subject
    for item in assessment.items.select_related("criterion"):
        assert item.criterion.name in mail.body
    assert cast.outsider.name in mail.body
    # a refused second publication sends nothing more
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Conflict):
            actions.publish_assessment_agenda(actor=cast.executive, assessment=assessment)
    assert len(mailoutbox) == 1


def test_changing_an_agenda_already_sent_tells_the_manager_again(cast, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scheduled_one = scheduled(cast, cast.service)
        actions.edit_assessment(actor=cast.executive, assessment=scheduled_one, scheduled_for=SOON,
                                assessors=[cast.exec_team], criteria=None)
    assert mailoutbox == [], "an agenda not yet sent is changed quietly"
    with django_capture_on_commit_callbacks(execute=True):
        assessment = actions.publish_assessment_agenda(actor=cast.executive, assessment=scheduled_one)
        actions.edit_assessment(actor=cast.executive, assessment=assessment, scheduled_for=SOON + dt.timedelta(days=7),
                                assessors=[cast.exec_team], criteria=None)
    assert [m.to for m in mailoutbox] == [[cast.manager.email]] * 2
    assert mailoutbox[1].subject.startswith("Changed agenda")


def test_the_agenda_defaults_to_the_active_criteria_that_suit_the_stage(cast):
    retired = Criterion.objects.get(slug="build-the-right-team")
    actions.edit_criterion(actor=cast.executive, criterion=retired, name=retired.name, meaning=retired.meaning,
                           stages=retired.stages, active=False)
    added = actions.add_criterion(actor=cast.executive, name="Share research openly",
                                  meaning="Findings are published to the network.", stages=["discovery"])
    live_only = actions.add_criterion(actor=cast.executive, name="Publish performance data",
                                      meaning="Metrics are published monthly.", stages=["live"])

    on_agenda_now = {item.criterion for item in scheduled(cast, cast.service).items.select_related("criterion")}

    expected = {c for c in Criterion.objects.filter(active=True) if "discovery" in c.stages}
    assert on_agenda_now == expected
    assert added in on_agenda_now
    assert Criterion.objects.get(slug="understand-users-and-their-needs") in on_agenda_now
    assert retired not in on_agenda_now and live_only not in on_agenda_now
    assert Criterion.objects.get(slug="operate-a-reliable-service") not in on_agenda_now  # beta and live
    assert not any(c.source == "doctrine" for c in on_agenda_now), "doctrine criteria are chosen by hand"


def test_a_service_has_one_open_assessment_at_a_time(cast):
    first = scheduled(cast, cast.service)
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        scheduled(cast, cast.service)
    assert refused.value.field == "service"
    assert snapshot() == before
    actions.publish_assessment_agenda(actor=cast.executive, assessment=first)
    with pytest.raises(Conflict):
        scheduled(cast, cast.service)
    actions.cancel_assessment(actor=cast.executive, assessment=first, reason="The team asked for a month more.")
    scheduled(cast, cast.service)  # once it is cancelled, another may be scheduled


def test_a_not_met_report_leaves_its_reassessment_as_the_one_open_assessment(cast):
    report = published(cast, cast.service, outcome="more_research", result="not_met")
    again = Assessment.objects.get(reassesses=report)
    with pytest.raises(Conflict):
        scheduled(cast, cast.service)
    assert list(again.assessors.all()) == list(report.assessors.all())


# --- decommissioning (model 5.2) ---------------------------------------------------------------

def test_a_service_with_consumers_cannot_be_decommissioned_without_a_migration_path(cast):
    identity = cast.other_service  # Parking permits consumes it
    assessment = decided(cast, identity, outcome="not_required")
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.publish_assessment_report(actor=cast.executive, assessment=assessment,
                                          **{**DECOMMISSION, "migration_path": "  "})
    assert refused.value.field == "migration_path"
    assert snapshot() == before
    actions.publish_assessment_report(actor=cast.executive, assessment=assessment, **DECOMMISSION)
    identity.refresh_from_db()
    assert identity.lifecycle_stage == "decommissioned"
    assert identity.current_version.migration_path == DECOMMISSION["migration_path"]


def test_a_service_nobody_consumes_may_be_decommissioned_without_a_migration_path(cast):
    service = service_at(cast, "live", "Libraries")
    published(cast, service, outcome="decommission", **{**DECOMMISSION, "migration_path": ""})
    service.refresh_from_db()
    assert service.lifecycle_stage == "decommissioned" and service.next_assessment_due is None


def test_a_service_that_only_a_former_consumer_used_needs_no_migration_path(cast):
    """A consumer that has dropped the dependency is no longer a consumer."""
    network.remove_dependency(actor=cast.manager, service=cast.service, provider=cast.other_service)
    draft = cast.service.versions.get(status="draft")
    network.submit_contract_version(actor=cast.manager, version=draft)
    network.approve_contract_version(actor=cast.executive, version=draft)
    published(cast, cast.other_service, outcome="not_required", **{**DECOMMISSION, "migration_path": ""})
    assert _stage(cast.other_service) == "decommissioned"


def test_a_decommissioned_consumer_does_not_demand_a_migration_path(cast):
    published(cast, cast.service, outcome="not_required", **DECOMMISSION)
    assert _stage(cast.service) == "decommissioned"
    published(cast, cast.other_service, outcome="not_required", **{**DECOMMISSION, "migration_path": ""})
    assert _stage(cast.other_service) == "decommissioned"


def test_a_decommissioned_service_keeps_its_contract_and_the_lesson(cast):
    judged = cast.service.current_version
    report = published(cast, cast.service, outcome="not_required", **DECOMMISSION)
    service = Service.objects.get(pk=cast.service.pk)
    final = service.current_version
    assert final.number == judged.number + 1 and final.status == "approved"
    assert "needs no longer exist" in final.decommission_reasons
    assert DECOMMISSION["decommission_reasons"] in final.decommission_reasons
    assert list(final.needs.values_list("i_need", flat=True)) == list(judged.needs.values_list("i_need", flat=True))
    assert report.contract_version == judged
    with pytest.raises(InvalidInput):
        network.draft_contract_version(actor=cast.executive, service=service)  # nothing is left to change


# --- live cadence (model 5.2: periodic assessments on a cadence the executive sets) ------------

def _live_with_a_report(c, name):
    service = service_at(c, "live", name)
    with clock_at(midday_today()):
        report = published(c, service, outcome="remain_live")
    service.refresh_from_db()
    return service, timezone.localdate(report.published_at)


def test_setting_the_cadence_works_out_when_live_services_are_next_due(cast):
    libraries, day = _live_with_a_report(cast, "Libraries")
    parks, parks_day = _live_with_a_report(cast, "Parks")
    assert libraries.next_assessment_due == day + dt.timedelta(days=365)
    discovery_due = cast.service.next_assessment_due

    actions.set_assessment_cadence(actor=cast.executive, days=90)
    libraries.refresh_from_db(), parks.refresh_from_db()
    assert (libraries.next_assessment_due, parks.next_assessment_due) == (
        day + dt.timedelta(days=90), parks_day + dt.timedelta(days=90))

    actions.set_assessment_cadence(actor=cast.executive, days=30, service=parks)
    libraries.refresh_from_db(), parks.refresh_from_db()
    assert (libraries.next_assessment_due, parks.next_assessment_due) == (
        day + dt.timedelta(days=90), parks_day + dt.timedelta(days=30))

    actions.set_assessment_cadence(actor=cast.exec_team, days=120)  # parks keeps its own interval
    libraries.refresh_from_db(), parks.refresh_from_db()
    assert (libraries.next_assessment_due, parks.next_assessment_due) == (
        day + dt.timedelta(days=120), parks_day + dt.timedelta(days=30))

    actions.set_assessment_cadence(actor=cast.executive, days=None, service=parks)  # back to the default
    parks.refresh_from_db()
    assert parks.next_assessment_due == parks_day + dt.timedelta(days=120)
    assert Service.objects.get(pk=cast.service.pk).next_assessment_due == discovery_due is None

    # the next report counts from its own day, on the service's interval
    actions.set_assessment_cadence(actor=cast.executive, days=60, service=libraries)
    with clock_at(midday_today() + dt.timedelta(days=3)):
        report = published(cast, libraries, outcome="remain_live")
    libraries.refresh_from_db()
    assert libraries.next_assessment_due == timezone.localdate(report.published_at) + dt.timedelta(days=60)
    assert [e.verb for e in AuditEvent.objects.filter(verb="set_assessment_cadence")] == ["set_assessment_cadence"] * 5


def test_the_next_due_date_counts_from_the_organisations_own_day_of_publication(cast):
    service = service_at(cast, "live", "Libraries")
    late_evening_utc = dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.timezone.utc)  # 00:30 on 2 July in London
    with clock_at(late_evening_utc):
        report = published(cast, service, outcome="remain_live")
    service.refresh_from_db()
    assert timezone.localdate(report.published_at) == dt.date(2026, 7, 2)
    assert service.next_assessment_due == dt.date(2026, 7, 2) + dt.timedelta(days=365)


# --- budgets (model 5.3) ----------------------------------------------------------------------

def test_a_service_spends_its_budget_and_reinvests_only_what_is_unspent(cast):
    allocation = allocated(cast, amount="1000.00")
    actions.record_spend(actor=cast.team_member, allocation=allocation, amount="600.00", spent_on=SOON,
                         description="Research incentives")
    assert actions.allocation_balance(allocation) == {
        "allocated": Decimal("1000.00"), "spent": Decimal("600.00"), "reinvested": Decimal("0"),
        "remaining": Decimal("400.00")}

    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="400.01", purpose="Training")
    assert refused.value.field == "amount" and "400.00" in refused.value.message
    assert snapshot() == before

    actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="150.00", purpose="Training")
    actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="250.00", purpose="Accessibility audit")
    assert actions.allocation_balance(allocation)["remaining"] == Decimal("0.00")
    with pytest.raises(InvalidInput):
        actions.reinvest_savings(actor=cast.manager, allocation=allocation, amount="0.01", purpose="More")


def test_an_allocation_is_at_the_services_stage_unless_another_is_named(cast):
    at_stage = allocated(cast, amount="500")
    assert (at_stage.stage, at_stage.amount, at_stage.period) == ("discovery", Decimal("500.00"), "2026-27")
    ahead = actions.allocate_budget(actor=cast.executive, service=cast.service, period="2027-28", amount="1,250.50",
                                    stage="alpha")
    ahead.refresh_from_db()
    assert (ahead.stage, ahead.amount) == ("alpha", Decimal("1250.50"))


def _request(c, kind="expand", amount="5000.00"):
    return actions.request_funding(actor=c.manager, service=c.service, kind=kind, period="2026-27", amount=amount,
                                   rationale="Twice as many residents applied as the contract foresaw.")


def test_granting_an_expansion_allocates_the_granted_amount_for_that_period(cast):
    request = _request(cast)
    actions.decide_funding_request(actor=cast.executive, request=request, grant=True, note="Granted in part.",
                                   amount="4000.00")
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.decision_note) == ("granted", cast.executive, "Granted in part.")
    allocation = BudgetAllocation.objects.get(funding_request=request)
    assert (allocation.service, allocation.period, allocation.amount, allocation.stage) == (
        cast.service, "2026-27", Decimal("4000.00"), "discovery")

    second = _request(cast, amount="700.00")
    actions.decide_funding_request(actor=cast.exec_team, request=second, grant=True, note="As asked.")
    assert BudgetAllocation.objects.get(funding_request=second).amount == Decimal("700.00")


def test_declining_a_request_or_narrowing_the_scope_allocates_nothing(cast):
    declined = _request(cast)
    actions.decide_funding_request(actor=cast.executive, request=declined, grant=False, note="Not this year.")
    narrow = _request(cast, kind="narrow", amount=None)
    actions.decide_funding_request(actor=cast.executive, request=narrow, grant=True, note="Drop visitor permits.")
    assert FundingRequest.objects.get(pk=declined.pk).status == "declined"
    assert FundingRequest.objects.get(pk=narrow.pk).status == "granted"
    assert not BudgetAllocation.objects.exists()


def test_a_funding_request_is_decided_once(cast):
    request = _request(cast)
    actions.decide_funding_request(actor=cast.executive, request=request, grant=True, note="Granted.")
    before = snapshot()
    for grant in (True, False):
        with pytest.raises(Conflict) as refused:
            actions.decide_funding_request(actor=cast.exec_team, request=request, grant=grant, note="Again.")
        assert refused.value.field == "request"
    assert snapshot() == before
    assert BudgetAllocation.objects.filter(funding_request=request).count() == 1


def test_those_who_run_a_service_cannot_assess_it(cast):
    import datetime as _dt

    from osom.core.errors import InvalidInput as _Invalid
    from osom.lifecycle import actions as _lc

    for insider in (cast.manager, cast.team_member):
        with pytest.raises(_Invalid, match="cannot assess it") as refused:
            _lc.schedule_assessment(actor=cast.executive, service=cast.service, kind="transition",
                                    scheduled_for=_dt.date(2027, 1, 5), assessors=[cast.executive, insider])
        assert refused.value.field == "assessors"
