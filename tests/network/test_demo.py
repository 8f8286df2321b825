"""The demo organisation: rich enough to explore, loaded through the actions, safe to repeat.

Loading the demo takes seconds, so the tests that only read it share one load: they are
methods of a Django ``TestCase`` whose ``setUpTestData`` loads it once for the class (in
a transaction rolled back after the class), and each test runs in a savepoint of its own,
rolled back after it. The tests that load the demo differently, or break it, load their own.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from pathlib import Path
from unittest import mock

import networkx as nx
import pytest
import yaml
from django.db.models import Count, F, Q
from django.test import TestCase, override_settings
from django.urls import reverse
from django.utils import timezone

from osom.core.actions import create_person
from osom.core.errors import InvalidInput
from osom.core.models import DEFAULT_RESERVED_ACTS, AuditEvent, Notification, Organisation, Person, Role
from osom.governance.actions import scope_services
from osom.governance.matching import find_duplicate_needs, suggest_services
from osom.governance.models import (
    Deviation, Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget, Proposal, ProposedNeed,
)
from osom.governance.queries import burn_up, rejected_guidance_for
from osom.lifecycle.actions import REASSESSMENT_AFTER_DAYS, allocation_balance
from osom.lifecycle.models import (
    Assessment, AssessmentCriterion, AssessmentKind, AssessmentStatus, BudgetAllocation, FundingRequest,
    Reinvestment, ReportAddendum, Result, Spend, StageChange,
)
from osom.network import queries
from osom.network.demo import (
    DATA_FILE, DEMO_PASSWORD, GOVERNANCE_FILE, LIFECYCLE_FILE, DemoDataError, dependency_order, financial_year,
    load_demo, read_demo_data, read_governance_data, read_lifecycle_data,
)
from osom.network.models import Appointment, ContractVersion, Dependency, Metric, Need, Service, TeamMembership
from osom.network.stages import Evolution, Lifecycle, MetricKind, UserType, VersionStatus

PUBLISHED = AssessmentStatus.PUBLISHED
TO_COME = [AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA]
FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _current(model):
    return model.objects.filter(version__service__current_version=F("version"))


def _counts() -> dict[str, int]:
    return {
        "people": Person.objects.count(),
        "services": Service.objects.count(),
        "versions": ContractVersion.objects.count(),
        "needs": Need.objects.count(),
        "metrics": Metric.objects.count(),
        "dependencies": Dependency.objects.count(),
        "appointments": Appointment.objects.count(),
        "memberships": TeamMembership.objects.count(),
        "audit": AuditEvent.objects.count(),
        "assessments": Assessment.objects.count(),
        "criteria on agendas": AssessmentCriterion.objects.count(),
        "addenda": ReportAddendum.objects.count(),
        "stage changes": StageChange.objects.count(),
        "allocations": BudgetAllocation.objects.count(),
        "spends": Spend.objects.count(),
        "reinvestments": Reinvestment.objects.count(),
        "funding requests": FundingRequest.objects.count(),
        "mandates": Mandate.objects.count(),
        "mandate targets": MandateTarget.objects.count(),
        "guidance": Guidance.objects.count(),
        "guidance decisions": GuidanceDecision.objects.count(),
        "disputes": Dispute.objects.count(),
        "proposals": Proposal.objects.count(),
        "proposed needs": ProposedNeed.objects.count(),
        "deviations": Deviation.objects.count(),
        "notifications": Notification.objects.count(),
    }


def _period() -> str:
    return financial_year(timezone.localdate())[0]


def _nothing_written() -> bool:
    return not (Person.objects.exists() or Service.objects.exists() or AuditEvent.objects.exists()
                or Assessment.objects.exists() or BudgetAllocation.objects.exists() or Mandate.objects.exists()
                or Guidance.objects.exists() or Dispute.objects.exists() or Proposal.objects.exists()
                or Deviation.objects.exists() or Notification.objects.exists())


def _broken(tmp_path, source: Path, change) -> Path:
    """A copy of a demo YAML file with ``change`` applied to its data."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    change(data)
    broken = tmp_path / f"broken-{source.name}"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return broken


class TestTheDemoAsLoaded(TestCase):
    """Everything that reads the demo as ``osom demo`` leaves it, from one load."""

    @classmethod
    def setUpTestData(cls):
        with override_settings(PASSWORD_HASHERS=FAST_HASHING):
            cls.demo = load_demo()

    def test_the_demo_is_a_rich_network(self):
        services = Service.objects.all()
        assert services.count() >= 25
        stages = set(services.values_list("lifecycle_stage", flat=True))
        assert stages == set(Lifecycle.values)
        assert services.filter(lifecycle_stage=Lifecycle.LIVE).count() > services.count() / 2  # most are live
        assert set(services.values_list("evolution_stage", flat=True)) == set(Evolution.values)
        assert set(services.values_list("user_type", flat=True)) == set(UserType.values)
        # services are established in discovery, or adopted at their real stage, later one;
        # from then on only published reports move them
        assert not services.filter(lifecycle_stage=Lifecycle.DISCOVERY, adopted=True).exists()
        moved_on = services.filter(adopted=False).exclude(lifecycle_stage=Lifecycle.DISCOVERY)
        assert moved_on.filter(lifecycle_stage=Lifecycle.ALPHA).exists(), "one was established and moved to alpha"
        for service in moved_on:
            change = service.stage_changes.get(from_stage=Lifecycle.DISCOVERY)
            assert change.to_stage == service.lifecycle_stage and change.assessment.status == PUBLISHED
        for service in services.filter(adopted=True).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED):
            assert not service.stage_changes.exclude(from_stage=F("to_stage")).exists(), service.name
        assert not services.filter(manager__isnull=True).exists()

        needs = _current(Need)
        assert needs.count() >= 60
        assert not needs.annotate(n=Count("metrics")).filter(n=0).exists(), "every need has a metric"
        metric_kinds = set(_current(Metric).values_list("kind", flat=True))
        assert metric_kinds == set(MetricKind.values)
        assert _current(Metric).filter(kind=MetricKind.COST, version__service__user_type=UserType.INTERNAL).exists()
        assert _current(Metric).filter(kind=MetricKind.CONSUMPTION, version__service__user_type=UserType.INTERNAL).exists()

        edges = queries.current_edges()
        assert len(edges) >= 40
        graph = nx.DiGraph(edges)
        # one cycle, on purpose: hosting and logging consume each other (costs flow round it)
        pair = set(Service.objects.filter(name__in=["Cloud hosting", "Logging and monitoring"]).values_list("pk", flat=True))
        assert [set(c) for c in nx.simple_cycles(graph)] == [pair]
        hubs = [pk for pk, consumers in graph.in_degree() if consumers >= 6]
        assert len(hubs) >= 3, "a few shared services are consumed by many"

    def test_the_demo_has_people_in_every_role(self):
        assert Person.objects.filter(role=Role.EXECUTIVE).count() == 1
        team = Person.objects.filter(role=Role.EXECUTIVE_TEAM)
        assert team.count() >= 2 and all(p.interests() for p in team)
        managers = Person.objects.filter(managed_services__isnull=False).distinct()
        assert managers.count() >= 8
        assert managers.annotate(n=Count("managed_services")).filter(n__gt=1).exists(), "someone manages several"
        members = Person.objects.filter(memberships__isnull=False).distinct()
        assert members.count() >= 5
        ordinary = Person.objects.filter(role=Role.MEMBER, managed_services__isnull=True, memberships__isnull=True)
        assert ordinary.count() >= 2
        assert Organisation.current().name == "Northbridge City Council"

    def test_the_demo_has_a_history_worth_exploring(self):
        by_service = ContractVersion.objects.values("service").annotate(n=Count("id"))
        assert sum(1 for row in by_service if row["n"] >= 2) >= 3
        assert any(row["n"] >= 3 for row in by_service)
        revisions = ContractVersion.objects.filter(number__gt=1, is_alteration=False, status=VersionStatus.APPROVED)
        assert revisions.exists() and all(v.change_note for v in revisions)
        # approved on the executive's authority by a member of its team, too
        assert revisions.filter(approved_by__role=Role.EXECUTIVE_TEAM).exists()
        alteration = ContractVersion.objects.get(is_alteration=True)
        assert alteration.alteration_reason and alteration.alteration_risk and alteration.is_approved
        assert ContractVersion.objects.filter(status=VersionStatus.SUBMITTED).count() == 1
        # one draft in the history, and one opened by folding a proposal's needs into a service
        drafts = ContractVersion.objects.filter(status=VersionStatus.DRAFT)
        assert drafts.count() == 2
        assert drafts.filter(pk__in=Proposal.objects.values("draft_version")).count() == 1
        ended = Appointment.objects.filter(ended_at__isnull=False)
        assert ended.count() == 1
        replacement = Appointment.objects.get(service=ended.get().service, ended_at__isnull=True)
        assert replacement.reason and replacement.person != ended.get().person

    def test_the_summary_and_sign_ins_come_from_the_database(self):
        numbers = [int(n) for n in re.findall(r"\d+", self.demo.summary)]
        assert self.demo.summary.startswith("Demo organisation ready: ")
        assert numbers == [
            Service.objects.count(), Service.objects.filter(lifecycle_stage=Lifecycle.DECOMMISSIONED).count(),
            _current(Need).count(), _current(Dependency).count(), Person.objects.count(),
            Assessment.objects.filter(status=PUBLISHED).count(), Assessment.objects.filter(status__in=TO_COME).count(),
            BudgetAllocation.objects.count(),
            Mandate.objects.exclude(status=Mandate.Status.DRAFT).count(),
            Guidance.objects.filter(status=Guidance.Status.PUBLISHED).count(),
            Dispute.objects.filter(status=Dispute.Status.OPEN).count(),
            Proposal.objects.filter(status=Proposal.Status.OPEN).count(),
            Deviation.objects.filter(status=Deviation.Status.ACTIVE).count(),
        ]
        assert self.demo.created
        assert len(self.demo.sign_ins) == 5
        for line, role in zip(self.demo.sign_ins, ["executive", "executive team", "service manager", "team member", "member"]):
            assert line.startswith(role)
            email = line[len(role):].split()[0]
            assert Person.objects.filter(email=email).exists(), line
        assert "ada.okafor@northbridge.example (Ada Okafor, Chief Executive)" in self.demo.sign_ins[0]

    def test_the_demo_has_assessment_reports_with_both_results(self):
        reports = Assessment.objects.filter(status=PUBLISHED)
        assert reports.filter(result=Result.MET).exists() and reports.filter(result=Result.NOT_MET).exists()
        for report in reports:
            assert report.summary and report.contract_version and report.manager, str(report)
            assert report.scheduled_for < timezone.localdate() and report.agenda_note
            items = report.items.all()
            assert items.count() >= 4 and all(i.decision and i.did_well and i.to_improve for i in items), str(report)
            assert report.assessors.exists()
        # assessors: the executive alone, a member of its team alone, and a panel with the
        # manager of another service on it
        alone = reports.annotate(n=Count("assessors")).filter(n=1)
        assert alone.filter(assessors__role=Role.EXECUTIVE).exists()
        assert alone.filter(assessors__role=Role.EXECUTIVE_TEAM).exists()
        assert any(
            report.assessors.filter(managed_services__isnull=False).exclude(pk=report.service.manager_id).exists()
            for report in reports.annotate(n=Count("assessors")).filter(n__gte=2)
        )
        assert ReportAddendum.objects.filter(assessment__status=PUBLISHED).exists()

        # discovery → alpha, with the alpha budget in the same act
        to_alpha = reports.get(outcome="progress_to_alpha")
        assert to_alpha.result == Result.MET and to_alpha.service.lifecycle_stage == Lifecycle.ALPHA
        assert to_alpha.allocations.get().stage == Lifecycle.ALPHA
        assert to_alpha.allocations.get().period == _period()
        # beta Not Met: continue beta, and the reassessment it scheduled has its agenda out
        beta = reports.get(outcome="continue_beta")
        assert beta.result == Result.NOT_MET and beta.service.lifecycle_stage == Lifecycle.BETA
        again = beta.reassessments.get()
        assert again.status == AssessmentStatus.AGENDA and again.kind == AssessmentKind.REASSESSMENT
        assert again.scheduled_for == timezone.localdate() + dt.timedelta(days=REASSESSMENT_AFTER_DAYS)
        not_met = set(beta.items.filter(decision=Result.NOT_MET).values_list("criterion", flat=True))
        assert set(again.items.values_list("criterion", flat=True)) == not_met
        # live: a periodic assessment that keeps it live, due again on the cadence
        stays = reports.get(outcome="remain_live", kind=AssessmentKind.PERIODIC)
        assert stays.service.lifecycle_stage == Lifecycle.LIVE
        assert stays.service.next_assessment_due == stays.published_at.date() + dt.timedelta(days=365)

    def test_the_demo_decommissions_with_reasons_and_flags_the_consumers(self):
        gone = Assessment.objects.filter(status=PUBLISHED, service__lifecycle_stage=Lifecycle.DECOMMISSIONED)
        not_required = gone.get(outcome="not_required")
        assert not_required.stage == Lifecycle.DISCOVERY and not_required.decommission_condition == "b"
        assert not_required.decommission_reasons
        periodic = gone.get(outcome="decommission")
        assert periodic.kind == AssessmentKind.PERIODIC and periodic.stage == Lifecycle.LIVE
        assert periodic.decommission_condition == "a" and periodic.decommission_reasons and periodic.migration_path
        for report in (not_required, periodic):
            service = report.service
            assert service.current_version.lifecycle_stage == Lifecycle.DECOMMISSIONED
            assert report.decommission_reasons in service.current_version.decommission_reasons
            assert service.next_assessment_due is None
        # the consumers' contracts still list the decommissioned provider: they are flagged until they move
        consumers = _current(Dependency).filter(provider=periodic.service).exclude(
            version__service__lifecycle_stage=Lifecycle.DECOMMISSIONED)
        assert consumers.count() >= 1
        assert periodic.service.current_version.migration_path == periodic.migration_path

    def test_the_demo_has_assessments_to_come(self):
        today = timezone.localdate()
        to_come = Assessment.objects.filter(status__in=TO_COME)
        assert all(a.scheduled_for > today for a in to_come)
        assert to_come.filter(status=AssessmentStatus.AGENDA, kind=AssessmentKind.TRANSITION).exists()
        assert to_come.filter(status=AssessmentStatus.AGENDA, kind=AssessmentKind.REASSESSMENT).exists()
        assert to_come.filter(status=AssessmentStatus.SCHEDULED, agenda_published_at__isnull=True).exists()
        assert not Assessment.objects.filter(status=AssessmentStatus.CANCELLED).exists()
        # live cadence: the organisation's default, and one service's own
        assert Organisation.current().live_cadence_days == 365
        own = Service.objects.get(assessment_cadence_days__isnull=False)
        assert own.assessment_cadence_days == 180 and own.lifecycle_stage == Lifecycle.LIVE
        assert not Service.objects.filter(lifecycle_stage=Lifecycle.LIVE, next_assessment_due__isnull=True).exists()
        assert own.next_assessment_due < Service.objects.get(name="Cloud hosting").next_assessment_due

    def test_the_demo_has_budgets_and_spending(self):
        period, start = financial_year(timezone.localdate())
        running = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
        for service in running:
            allocation = service.allocations.filter(period=period, stage=service.lifecycle_stage).first()
            assert allocation is not None, f"{service.name} has no budget for {period}"
        for allocation in BudgetAllocation.objects.all():
            assert Decimal("10000") <= allocation.amount <= Decimal("5000000"), str(allocation)
            assert allocation_balance(allocation)["remaining"] >= 0, str(allocation)
        spends = Spend.objects.select_related("allocation__service")
        assert spends.count() >= 20
        assert spends.values("allocation__service").distinct().count() >= 15
        for spend in spends:
            service = spend.allocation.service
            assert spend.recorded_by == service.manager or service.team.filter(person=spend.recorded_by).exists()
            assert start <= spend.spent_on <= timezone.localdate()
        assert spends.filter(recorded_by__managed_services__isnull=True).exists(), "team members record spending too"
        assert "{" not in "".join(spends.values_list("description", flat=True))
        assert Reinvestment.objects.filter(recorded_by=F("allocation__service__manager")).exists()

        requests = FundingRequest.objects.all()
        assert set(requests.values_list("status", flat=True)) == set(FundingRequest.Status.values)
        granted = requests.get(status=FundingRequest.Status.GRANTED)
        assert granted.kind == FundingRequest.Kind.EXPAND and granted.decision_note
        assert BudgetAllocation.objects.filter(funding_request=granted, period=period).exists()
        declined = requests.get(status=FundingRequest.Status.DECLINED)
        assert declined.kind == FundingRequest.Kind.NARROW and declined.decision_note and declined.decided_by
        assert requests.get(status=FundingRequest.Status.OPEN).decided_by is None

    # ------------------------------------------------------------ the governance

    def test_the_demo_has_mandates_in_every_state(self):
        today = timezone.localdate()
        issued = Mandate.objects.filter(status=Mandate.Status.ISSUED)
        assert issued.count() >= 2
        targets = MandateTarget.objects.filter(mandate__in=issued)
        assert set(targets.values_list("status", flat=True)) == set(MandateTarget.Status.values)
        for mandate in issued:
            assert mandate.issued_at and mandate.due_date > today, str(mandate)
            assert mandate.targets.count() >= 5, str(mandate)
            assert mandate.targets.filter(status=MandateTarget.Status.DONE).exists(), str(mandate)
            assert mandate.targets.filter(status=MandateTarget.Status.PENDING).exists(), str(mandate)
            assert burn_up(mandate)[-1]["done"] == mandate.targets.filter(status=MandateTarget.Status.DONE).count()
        for target in targets.filter(status=MandateTarget.Status.DONE):
            assert target.done_at and target.acknowledged_at and target.progress_note, str(target)
        for target in targets.filter(status=MandateTarget.Status.ACKNOWLEDGED):
            assert target.acknowledged_at and not target.done_at, str(target)
        assert targets.filter(status=MandateTarget.Status.ACKNOWLEDGED).exclude(progress_note="").exists()
        assert not targets.filter(status=MandateTarget.Status.PENDING, acknowledged_at__isnull=False).exists()
        # one issued to a list of services, one to the services a saved filter chose when it was issued
        listed = issued.get(scope_filter={})
        assert listed.title == "Publish an accessibility statement"
        by_filter = issued.exclude(scope_filter={}).get()
        assert by_filter.scope_filter == {"stage": "live", "consumes": "cloud-hosting"}
        chosen = set(scope_services(by_filter.scope_filter).values_list("pk", flat=True))
        assert set(by_filter.targets.values_list("service", flat=True)) == chosen
        hosting = Service.objects.get(slug="cloud-hosting")
        for target in by_filter.targets.select_related("service"):
            service = target.service
            assert service.lifecycle_stage == Lifecycle.LIVE, service.name
            assert _current(Dependency).filter(version__service=service, provider=hosting).exists(), service.name
        # the managers were told, in the app
        for target in targets.select_related("service__manager", "mandate"):
            assert Notification.objects.filter(person=target.service.manager,
                                               link=reverse("governance:mandate", args=[target.mandate_id])).exists()
        draft = Mandate.objects.get(status=Mandate.Status.DRAFT)
        assert draft.issued_at is None and draft.due_date > today and draft.targets.exists()
        assert not draft.targets.exclude(status=MandateTarget.Status.PENDING).exists()

    def test_the_demo_has_guidance_adopted_and_rejected(self):
        published = Guidance.objects.filter(status=Guidance.Status.PUBLISHED)
        assert published.count() >= 3
        assert {"law", "practice", "coe"} <= set(published.values_list("source", flat=True))
        assert published.values("category").distinct().count() >= 2
        assert all(g.source_detail and g.published_at for g in published)
        assert published.get(source=Guidance.Source.COE).source_detail.startswith("Correction of Error")
        assert Guidance.objects.filter(status=Guidance.Status.DRAFT, published_at__isnull=True).count() == 1
        withdrawn = Guidance.objects.get(status=Guidance.Status.WITHDRAWN)
        assert withdrawn.withdrawn_at and withdrawn.published_at
        assert AuditEvent.objects.get(verb="withdraw_guidance").reason
        decisions = GuidanceDecision.objects.filter(guidance__in=published).select_related("service", "guidance")
        adopted = decisions.filter(decision=GuidanceDecision.Decision.ADOPT)
        rejected = decisions.filter(decision=GuidanceDecision.Decision.REJECT)
        assert adopted.count() > rejected.count() >= 2, "mostly adopted, some rejected"
        assert rejected.values("service").distinct().count() >= 2
        for decision in decisions:
            assert decision.decided_by == decision.service.manager, str(decision.service)
        for decision in rejected:
            assert len(decision.rationale) > 100, "a rejection says specifically why"
            assert decision.guidance.title in [r["title"] for r in rejected_guidance_for(decision.service)]
        # a rejection made before a report was published is kept on that report
        snapshots = Assessment.objects.filter(status=PUBLISHED).exclude(rejected_guidance=[])
        assert snapshots.exists()
        for report in snapshots:
            kept = {(r["guidance_id"], r["rationale"]) for r in report.rejected_guidance}
            assert kept == set(rejected.filter(service=report.service).values_list("guidance", "rationale"))
        # withdrawn guidance is no longer held against the service that rejected it
        assert withdrawn.decisions.filter(decision=GuidanceDecision.Decision.REJECT).exists()
        for decision in withdrawn.decisions.all():
            assert withdrawn.pk not in [r["guidance_id"] for r in rejected_guidance_for(decision.service)]

    def test_the_demo_has_disputes_open_and_resolved(self):
        disputes = Dispute.objects.select_related("service", "other_service", "raised_by", "mandate")
        between = disputes.filter(kind=Dispute.Kind.SERVICES)
        assert {Dispute.Status.OPEN, Dispute.Status.RESOLVED} <= set(between.values_list("status", flat=True))
        for dispute in between:
            assert dispute.service and dispute.other_service and dispute.service != dispute.other_service
            assert dispute.raised_by == dispute.service.manager
        assert between.filter(status=Dispute.Status.OPEN).get().resolved_at is None
        resolved = disputes.get(status=Dispute.Status.RESOLVED)
        assert resolved.lever == Dispute.Lever.MANDATE and resolved.resolution and resolved.resolved_by
        assert resolved.mandate.status == Mandate.Status.ISSUED
        assert resolved.mandate.targets.filter(service__in=[resolved.service, resolved.other_service]).exists()
        evaluation = disputes.get(kind=Dispute.Kind.EVALUATION)
        assert evaluation.status == Dispute.Status.OPEN and evaluation.service is None
        member = evaluation.raised_by
        assert member.memberships.exists() and not member.managed_services.exists(), "a team member raised it"

    def test_the_demo_has_proposals_in_every_state(self):
        proposals = Proposal.objects.select_related("service", "draft_version", "decided_by")
        assert set(proposals.values_list("status", flat=True)) == set(Proposal.Status.values)
        assert all(p.needs.exists() for p in proposals)
        waiting = proposals.get(status=Proposal.Status.OPEN)
        assert waiting.decided_by is None and waiting.service is None
        best = suggest_services([{"as_a": n.as_a, "i_need": n.i_need, "so_that": n.so_that} for n in waiting.needs.all()])
        assert len(best) >= 2 and best[0].score >= 0.3, "its page suggests a service that could meet the needs"
        # folded: a draft of an existing service's contract, with the needs added, for its manager to finish
        folded = proposals.get(status=Proposal.Status.FOLDED)
        draft = folded.draft_version
        assert draft.status == VersionStatus.DRAFT and draft.service == folded.service
        assert draft.number == folded.service.current_version.number + 1
        assert set(folded.needs.values_list("i_need", flat=True)) <= set(draft.needs.values_list("i_need", flat=True))
        assert Notification.objects.filter(person=folded.service.manager,
                                           link=reverse("network:version", args=[folded.service.slug, draft.number]))
        declined = proposals.get(status=Proposal.Status.DECLINED)
        assert declined.decision_note and declined.decided_by and declined.service is None
        # established: a new service in discovery, with a manager and a budget
        established = proposals.get(status=Proposal.Status.ESTABLISHED)
        service = established.service
        assert service.lifecycle_stage == Lifecycle.DISCOVERY and not service.adopted and service.manager
        assert service.allocations.filter(period=_period(), stage=Lifecycle.DISCOVERY).exists()
        assert set(established.needs.values_list("i_need", flat=True)) <= set(
            _current(Need).filter(version__service=service).values_list("i_need", flat=True))
        # the executive keeps deciding proposals to itself, besides the acts every organisation starts with
        assert set(Organisation.current().reserved_acts) == set(DEFAULT_RESERVED_ACTS) | {"decide_proposal"}
        assert all(p.decided_by.role == Role.EXECUTIVE for p in proposals.exclude(status=Proposal.Status.OPEN))

    def test_the_demo_has_a_duplication_to_find(self):
        pairs = find_duplicate_needs()  # at the finder's own threshold
        assert pairs, "two services meet the same need in their own way"
        assert all(pair.first["service"] != pair.second["service"] for pair in pairs)
        # the likeliest pair is the one planted: two services each checking, in their own way,
        # that a resident receives council tax support, well above the threshold
        best = pairs[0]
        assert best.score >= 0.45 and "circumstanc" in best.words
        assert "council tax support" in best.first["need"] and "council tax support" in best.second["need"]
        services = Service.objects.filter(name__in=[best.first["service"], best.second["service"]])
        assert not services.filter(lifecycle_stage=Lifecycle.DECOMMISSIONED).exists()
        # the need came into one of them by an ordinary revision, approved on the executive's authority
        assert ContractVersion.objects.filter(service__in=services, number__gt=1, is_alteration=False,
                                              status=VersionStatus.APPROVED).exists()

    def test_the_demo_records_its_deviations_from_the_template(self):
        today = timezone.localdate()
        deviations = Deviation.objects.all()
        assert set(deviations.values_list("status", flat=True)) == set(Deviation.Status.values)
        for deviation in deviations:
            assert all([deviation.compromised, deviation.positive, deviation.negative, deviation.governance]), str(deviation)
        active = deviations.filter(status=Deviation.Status.ACTIVE)
        assert active.count() >= 2 and all(d.review_on > today for d in active)
        assert AuditEvent.objects.get(verb="retire_deviation").reason

    # ------------------------------------------------------------ through the actions, safe to repeat

    def test_every_write_was_made_through_an_audited_action(self):
        verbs = dict(AuditEvent.objects.values_list("verb").annotate(n=Count("id")))
        assert AuditEvent.objects.count() > Service.objects.count()
        assert verbs["create_person"] == Person.objects.count()
        established = verbs.get("establish_service", 0) + verbs["establish_from_proposal"]
        assert established + verbs["adopt_existing_service"] == Service.objects.count()
        assert verbs["add_team_member"] == TeamMembership.objects.count()
        assert verbs["replace_manager"] == Appointment.objects.filter(ended_at__isnull=False).count()
        # (the version that keeps a decommissioned service's reasons is part of its report,
        # and the draft a proposal is folded into is opened by the fold)
        later = ContractVersion.objects.filter(number__gt=1).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
        assert verbs["alter_contract"] == later.filter(is_alteration=True).count()
        assert verbs["draft_contract_version"] + verbs["fold_proposal"] == later.filter(is_alteration=False).count()
        assert verbs["approve_contract_version"] == later.filter(is_alteration=False, status=VersionStatus.APPROVED).count()
        assert verbs["submit_contract_version"] == later.filter(is_alteration=False).exclude(status=VersionStatus.DRAFT).count()
        assert verbs["edit_terminology"] == 1
        # the lifecycle, too: reassessments are scheduled by the reports that ask for them
        assessments = Assessment.objects.all()
        assert verbs["schedule_assessment"] == assessments.exclude(kind=AssessmentKind.REASSESSMENT).count()
        assert verbs["publish_assessment_agenda"] == assessments.filter(agenda_published_at__isnull=False).count()
        assert verbs["record_assessment_decisions"] == verbs["publish_assessment_report"] == assessments.filter(status=PUBLISHED).count()
        assert verbs["add_report_addendum"] == ReportAddendum.objects.count()
        allocations = BudgetAllocation.objects.all()
        assert verbs["allocate_budget"] == allocations.filter(assessment=None, funding_request=None).count()
        assert verbs["record_spend"] == Spend.objects.count()
        assert verbs["reinvest_savings"] == Reinvestment.objects.count()
        assert verbs["request_funding"] == FundingRequest.objects.count()
        assert verbs["decide_funding_request"] == FundingRequest.objects.exclude(status=FundingRequest.Status.OPEN).count()
        assert verbs["set_assessment_cadence"] == 1 + Service.objects.filter(assessment_cadence_days__isnull=False).count()
        # and the governance
        assert verbs["draft_guidance"] == Guidance.objects.count()
        assert verbs["publish_guidance"] == Guidance.objects.exclude(status=Guidance.Status.DRAFT).count()
        assert verbs["withdraw_guidance"] == Guidance.objects.filter(status=Guidance.Status.WITHDRAWN).count()
        assert verbs["decide_guidance"] == GuidanceDecision.objects.count()
        assert verbs["draft_mandate"] == Mandate.objects.count()
        assert verbs["issue_mandate"] == Mandate.objects.exclude(status=Mandate.Status.DRAFT).count()
        targets = MandateTarget.objects.exclude(status=MandateTarget.Status.PENDING)
        assert verbs["acknowledge_mandate"] == targets.filter(progress_note="").count()
        assert verbs["report_mandate_progress"] == targets.exclude(progress_note="").count()
        assert verbs["raise_dispute"] == Dispute.objects.count()
        assert verbs["resolve_dispute"] == Dispute.objects.filter(status=Dispute.Status.RESOLVED).count()
        assert verbs["propose_needs"] == Proposal.objects.count()
        for verb, status in (("fold_proposal", "folded"), ("decline_proposal", "declined"),
                             ("establish_from_proposal", "established")):
            assert verbs[verb] == Proposal.objects.filter(status=status).count() == 1
        assert verbs["record_deviation"] == Deviation.objects.count()
        assert verbs["retire_deviation"] == Deviation.objects.filter(status=Deviation.Status.RETIRED).count()
        assert verbs["set_reserved_acts"] == 1
        # only a service's own systems, pushing measurements with its ingest token, act without a person
        assert not AuditEvent.objects.filter(Q(actor__isnull=True) | Q(actor_label="system")).exclude(
            verb="ingest_measurements").exists()
        # the executive team acted in the executive's name
        assert AuditEvent.objects.filter(actor__role=Role.EXECUTIVE_TEAM, authority_person__role=Role.EXECUTIVE).exists()

    def test_loading_twice_changes_nothing(self):
        before = _counts()
        again = load_demo()
        assert _counts() == before
        assert again.summary == self.demo.summary and again.sign_ins == self.demo.sign_ins
        assert not again.created

    # ------------------------------------------------------------ the pages

    def test_a_demo_person_can_sign_in(self):
        assert self.client.login(email="hannah.osei@northbridge.example", password=DEMO_PASSWORD)
        assert self.client.get(reverse("network:list")).status_code == 200

    def test_every_demo_service_page_renders(self):
        self.client.force_login(Person.objects.get(email="sam.whitaker@northbridge.example"))
        body = self.client.get(reverse("network:list"), {"per_page": 100}).content.decode()
        assert "Northbridge City Council" in body
        rejections = GuidanceDecision.objects.filter(decision=GuidanceDecision.Decision.REJECT,
                                                     guidance__status=Guidance.Status.PUBLISHED)
        rejected = dict(rejections.values_list("service", "guidance__title"))
        for service in Service.objects.all():
            response = self.client.get(reverse("network:service", args=[service.slug]))
            assert response.status_code == 200, service.name
            if service.pk in rejected:  # the guidance it rejected shows on its page
                assert rejected[service.pk] in html.unescape(response.content.decode()), service.name
        for version in ContractVersion.objects.filter(number__gt=1).select_related("service"):
            response = self.client.get(reverse("network:version", args=[version.service.slug, version.number]))
            assert response.status_code == 200, str(version)

    def test_every_governance_page_renders(self):
        pages = [reverse(f"governance:{name}") for name in (
            "dashboard", "notifications", "mandates", "guidance_list", "disputes", "proposals", "duplicates",
            "deviations", "reserved_acts")]
        pages += [reverse("governance:mandate", args=[pk]) for pk in Mandate.objects.values_list("pk", flat=True)]
        pages += [reverse("governance:guidance", args=[pk]) for pk in Guidance.objects.values_list("pk", flat=True)]
        pages += [reverse("governance:dispute", args=[pk]) for pk in Dispute.objects.values_list("pk", flat=True)]
        pages += [reverse("governance:proposal", args=[pk]) for pk in Proposal.objects.values_list("pk", flat=True)]
        pages += [reverse("governance:deviation", args=[pk]) for pk in Deviation.objects.values_list("pk", flat=True)]
        for email in ("ada.okafor@northbridge.example", "lucy.chen@northbridge.example"):
            self.client.force_login(Person.objects.get(email=email))
            for page in pages:
                assert self.client.get(page).status_code == 200, f"{page} for {email}"
        pair = find_duplicate_needs()[0]
        body = html.unescape(self.client.get(reverse("governance:duplicates")).content.decode())
        assert pair.first["service"] in body and pair.second["service"] in body


# ---------------------------------------------------------------- loads of their own


def test_the_demo_follows_the_day_it_is_loaded(db):
    """Loaded on the second day of a financial year, the demo budgets for that year and
    spends nothing before it began; its mandates and deviations are dated from that day."""
    moment = dt.datetime(2027, 4, 2, 12, tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        load_demo()
    assert set(BudgetAllocation.objects.values_list("period", flat=True)) == {"2027-28"}
    assert set(Spend.objects.values_list("spent_on", flat=True)) <= {dt.date(2027, 4, 1), dt.date(2027, 4, 2)}
    assert Assessment.objects.filter(status=PUBLISHED).latest("scheduled_for").scheduled_for < moment.date()
    assert all(a.scheduled_for > moment.date() for a in Assessment.objects.filter(status__in=TO_COME))
    assert all(m.due_date > moment.date() for m in Mandate.objects.all())
    assert all(d.review_on > moment.date() for d in Deviation.objects.filter(status=Deviation.Status.ACTIVE))
    assert {m.issued_at for m in Mandate.objects.filter(status=Mandate.Status.ISSUED)} == {moment}


def test_financial_years():
    assert financial_year(dt.date(2026, 11, 26)) == ("2026-27", dt.date(2026, 4, 1))
    assert financial_year(dt.date(2027, 3, 31)) == ("2026-27", dt.date(2026, 4, 1))
    assert financial_year(dt.date(2027, 4, 1)) == ("2027-28", dt.date(2027, 4, 1))
    assert financial_year(dt.date(2099, 6, 1)) == ("2099-00", dt.date(2099, 4, 1))


def test_the_demo_is_never_mixed_into_another_organisation(db):
    create_person(actor=None, email="boss@elsewhere.example", name="Someone Else", role="executive")
    with pytest.raises(InvalidInput):
        load_demo()
    assert Person.objects.count() == 1 and not Service.objects.exists()


def test_a_failure_leaves_nothing_half_loaded(db, tmp_path):
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    last = list(data["services"])[-1]
    data["services"][last]["needs"][0]["so_that"] = ""  # breaks the last service written
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_demo(path=broken)
    assert _nothing_written()


def test_a_failure_in_the_lifecycle_leaves_nothing_half_loaded(db, tmp_path):
    life = yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8"))
    life["funding_requests"][-1]["amount"] = "12.345"  # not to the penny: the last action refuses it
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(life, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_demo(lifecycle_path=broken)
    assert _nothing_written()


def test_a_failure_in_the_governance_leaves_nothing_half_loaded(db, tmp_path):
    def break_the_last_act(gov):
        gov["deviations"][-1]["retired"]["reason"] = ""  # the last action written refuses it

    with pytest.raises(InvalidInput, match="no longer applies"):
        load_demo(governance_path=_broken(tmp_path, GOVERNANCE_FILE, break_the_last_act))
    assert _nothing_written()


def test_the_lifecycle_data_is_checked_before_anything_is_written(db, tmp_path):
    life = read_lifecycle_data()
    assert {r["service"] for r in life["reports"]} <= set(read_demo_data()["services"])
    life["reports"][0]["criteria"]["understand-users-and-their-needs"]["verdict"] = "met"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(life, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DemoDataError, match="verdict"):
        load_demo(lifecycle_path=broken)
    assert not Person.objects.exists()


def test_the_governance_data_is_checked_before_anything_is_written(db, tmp_path):
    gov = read_governance_data()
    services = set(read_demo_data()["services"])
    for spec in gov["mandates"]:
        assert set(spec.get("services") or []) <= services
    for spec in gov["guidance"]:
        assert set(spec.get("adopted_by") or []) | set(spec.get("rejected_by") or {}) <= services

    def misspell(gov):
        gov["mandates"][0]["deadline"] = 30

    def resolve_with_an_unknown_mandate(gov):
        next(d for d in gov["disputes"] if d.get("resolved"))["resolved"]["mandate"] = "Nothing of the sort"

    def decide_twice(gov):
        gov["proposals"][-1]["decline"] = {"reason": "And declined too."}

    for change, message in ((misspell, "deadline"), (resolve_with_an_unknown_mandate, "Nothing of the sort"),
                            (decide_twice, "decide it once")):
        with pytest.raises(DemoDataError, match=message):
            load_demo(governance_path=_broken(tmp_path, GOVERNANCE_FILE, change))
        assert not Person.objects.exists()


def test_services_are_created_providers_first():
    services = read_demo_data()["services"]
    order = dependency_order(services)
    assert sorted(order) == sorted(services)
    position = {name: i for i, name in enumerate(order)}
    for name, spec in services.items():
        for dep in spec.get("dependencies") or []:
            assert position[dep["service"]] < position[name]
    with pytest.raises(DemoDataError):
        dependency_order({"A": {"dependencies": [{"service": "B"}]}, "B": {"dependencies": [{"service": "A"}]}})
    with pytest.raises(DemoDataError):
        dependency_order({"A": {"dependencies": [{"service": "Nowhere"}]}})
