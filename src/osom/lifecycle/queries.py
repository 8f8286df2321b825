"""Reads of the lifecycle shared by pages and exports: a service's lifecycle panel, the
published reports, what is due, budgets. Each makes a fixed number of queries whatever
the size of the network: lists paginate and sums are done in SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Case, DecimalField, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from osom.core.models import Person
from osom.core.numbers import plain_number
from osom.network.models import ContractVersion, Dependency, Service
from osom.network.stages import Lifecycle

from .models import (
    Assessment,
    AssessmentCriterion,
    AssessmentStatus,
    BudgetAllocation,
    Criterion,
    CriterionSource,
    FundingRequest,
    Reinvestment,
    ReportAddendum,
    Spend,
    StageChange,
)
from .outcomes import DECOMMISSION_CONDITIONS, outcome_for

__all__ = [
    "SOURCE_ORDER", "source_headings", "criteria_library", "decommissioned_providers", "service_lifecycle", "open_assessment",
    "assessment_detail", "previous_reports", "published_reports", "due_services", "upcoming_assessments",
    "allocations_with_balance", "service_budget", "budget_overview", "report_markdown", "report_filename",
    "outcome_label", "service_spends", "service_reinvestments", "service_requests", "budget_periods", "open_funding_requests", "format_money", "CURRENCY_SYMBOLS",
]

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=18, decimal_places=2)

# The criteria library reads in this order (model 5.2: common, technical, then what the
# executive draws from the doctrine, guidance and mandates, then its own).
SOURCE_ORDER = [
    CriterionSource.COMMON, CriterionSource.TECHNICAL, CriterionSource.DOCTRINE,
    CriterionSource.GUIDANCE, CriterionSource.MANDATE, CriterionSource.EXECUTIVE,
]


# Symbols for the currencies organisations most often keep their books in; any other
# code is written before the amount ("CHF 1,200.00").
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}


def format_money(value, currency: str = "GBP") -> str:
    """A Decimal amount as people read money: £1,234.50, −£20.00 (never a float)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    text = f"{abs(value):,.2f}"
    text = f"{symbol}{text}" if symbol else f"{(currency or '').upper()} {text}".strip()
    return f"−{text}" if value < 0 else text


def source_headings(executive: str = "Executive") -> dict[str, str]:
    """The heading of each source's group of criteria, in the organisation's words."""
    return {
        CriterionSource.COMMON: "Common criteria", CriterionSource.TECHNICAL: "Technical criteria",
        CriterionSource.DOCTRINE: "Doctrine patterns", CriterionSource.GUIDANCE: "From guidance",
        CriterionSource.MANDATE: "From mandates", CriterionSource.EXECUTIVE: f"Added by the {executive.lower()}",
    }


def outcome_label(assessment: Assessment) -> str:
    """The outcome's words as the outcome table gives them ("" when none is chosen)."""
    chosen = outcome_for(assessment.stage, assessment.outcome) if assessment.outcome else None
    return chosen.label if chosen else (assessment.outcome or "")


# ---------------------------------------------------------------- criteria

def criteria_library(*, source: str = "", include_retired: bool = True):
    """Criteria grouped by source, in the library's order (one query per page)."""
    qs = Criterion.objects.all()
    if source:
        qs = qs.filter(source=source)
    if not include_retired:
        qs = qs.filter(active=True)
    order = Case(*[When(source=s, then=Value(i)) for i, s in enumerate(SOURCE_ORDER)], output_field=IntegerField())
    return qs.annotate(source_order=order).order_by("source_order", "-active", "position", "name")


# ---------------------------------------------------------------- the service page

def decommissioned_providers(service: Service, contract=None) -> list[Dependency]:
    """The dependencies of the service's current contract whose provider is
    decommissioned, with the provider's current (decommissioned) version: one query, and
    none when the page gives the current ``contract`` it has read with its dependencies
    and their providers and none of them is decommissioned."""
    if not service.current_version_id:
        return []
    if contract is not None and contract.pk == service.current_version_id and not any(
            d.provider.lifecycle_stage == Lifecycle.DECOMMISSIONED for d in contract.dependencies.all()):
        return []
    return list(
        Dependency.objects.filter(version_id=service.current_version_id, provider__lifecycle_stage=Lifecycle.DECOMMISSIONED)
        .select_related("provider", "provider__current_version")
        .order_by("provider__name")
    )


def _spent_subquery():
    return Coalesce(
        Subquery(Spend.objects.filter(allocation=OuterRef("pk")).order_by().values("allocation")
                 .annotate(s=Sum("amount")).values("s")[:1], output_field=_MONEY),
        Value(ZERO), output_field=_MONEY,
    )


def _reinvested_subquery():
    return Coalesce(
        Subquery(Reinvestment.objects.filter(allocation=OuterRef("pk")).order_by().values("allocation")
                 .annotate(s=Sum("amount")).values("s")[:1], output_field=_MONEY),
        Value(ZERO), output_field=_MONEY,
    )


def allocations_with_balance(service: Service):
    """The service's allocations, newest first, each with what was spent and re-invested
    against it, summed in SQL (one query)."""
    return (
        BudgetAllocation.objects.filter(service=service)
        .select_related("assessment", "allocated_by")
        .annotate(spent=_spent_subquery(), reinvested=_reinvested_subquery())
        .order_by("-allocated_at", "-pk")
    )


def _budget_summary(allocations: list[BudgetAllocation]) -> dict | None:
    """Allocated against spent for the period of the newest allocation: "this period"."""
    if not allocations:
        return None
    period = allocations[0].period
    rows = [a for a in allocations if a.period == period]
    allocated = sum((a.amount for a in rows), ZERO)
    spent = sum((a.spent for a in rows), ZERO)
    reinvested = sum((a.reinvested for a in rows), ZERO)
    return {
        "period": period, "allocated": allocated, "spent": spent, "reinvested": reinvested,
        "remaining": allocated - spent - reinvested,
        "percent": int((spent * 100 / allocated).to_integral_value()) if allocated else 0,
    }


def _agenda_prefetches():
    return [
        Prefetch("items", queryset=AssessmentCriterion.objects.select_related("criterion").order_by("position", "pk")),
        Prefetch("assessors", queryset=Person.objects.order_by("name")),
    ]


def open_assessment(service: Service) -> Assessment | None:
    """The service's assessment that is scheduled or whose agenda is published, with its
    agenda (three queries)."""
    return (
        Assessment.objects.filter(service=service, status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA])
        .prefetch_related(*_agenda_prefetches())
        .order_by("scheduled_for", "pk")
        .first()
    )


def service_lifecycle(service: Service, *, today: dt.date | None = None) -> dict:
    """What the lifecycle panel of a service page shows, in a fixed number of queries."""
    today = today or timezone.localdate()
    reports = list(
        Assessment.objects.filter(service=service, status=AssessmentStatus.PUBLISHED)
        .only("pk", "service_id", "stage", "kind", "result", "outcome", "published_at", "scheduled_for", "status")
        .order_by("-published_at", "-pk")
    )
    for r in reports:
        r.outcome_text = outcome_label(r)
    changes = list(
        StageChange.objects.filter(service=service)
        .select_related("assessment")
        .only("pk", "from_stage", "to_stage", "at", "note", "assessment__id", "assessment__published_at",
              "assessment__status", "service_id")
        .order_by("at", "pk")
    )
    entered = changes[0].from_stage if changes and changes[0].from_stage else service.lifecycle_stage
    timeline = [{
        "at": service.established_at,
        "stage": entered,
        "label": f"Adopted at {dict(Lifecycle.choices)[entered].lower()}" if service.adopted
                 else f"Established in {dict(Lifecycle.choices)[entered].lower()}",
        "assessment": None,
        "new_round": False,
    }]
    for c in changes:
        timeline.append({
            "at": c.at, "stage": c.to_stage, "assessment": c.assessment, "new_round": c.is_new_round,
            "label": (f"A new round of {c.get_to_stage_display().lower()}" if c.is_new_round
                      else f"Moved to {c.get_to_stage_display().lower()}"),
            "note": c.note,
        })
    allocations = list(allocations_with_balance(service))
    due = service.next_assessment_due if service.lifecycle_stage == Lifecycle.LIVE else None
    return {
        "open": open_assessment(service),
        "reports": reports,
        "timeline": list(reversed(timeline)),  # newest first, like the reports
        "budget": _budget_summary(allocations),
        "due": due,
        "overdue": bool(due and due < today),
        "today": today,
    }


# ---------------------------------------------------------------- one assessment

def assessment_detail(pk: int) -> Assessment:
    """An assessment with everything its page or report shows: service, people, agenda,
    the pinned contract version with its needs, metrics and dependencies, addenda."""
    from osom.network.queries import _version_prefetches  # the contract include's prefetches

    assessment = (
        Assessment.objects.select_related("service", "service__manager", "service__current_version", "manager", "published_by", "created_by",
                                          "reassesses")
        .prefetch_related(*_agenda_prefetches(), Prefetch("addenda", queryset=_addenda()))
        .get(pk=pk)
    )
    if assessment.contract_version_id:
        assessment.pinned_version = (
            ContractVersion.objects.select_related("approved_by").prefetch_related(*_version_prefetches())
            .get(pk=assessment.contract_version_id)
        )
    else:
        assessment.pinned_version = None
    assessment.outcome_text = outcome_label(assessment)
    # the guidance the service rejected and accounts for: as published with the report,
    # or as it stands today while the assessment is to come
    if assessment.status == AssessmentStatus.PUBLISHED:
        assessment.guidance_rejected = assessment.rejected_guidance or []
    else:
        from osom.governance.queries import rejected_guidance_for

        assessment.guidance_rejected = rejected_guidance_for(assessment.service)
    return assessment


def _addenda():
    return ReportAddendum.objects.select_related("author").order_by("created_at", "pk")


def previous_reports(assessment: Assessment) -> list[Assessment]:
    """The service's other published reports, newest first (one query)."""
    rows = list(
        Assessment.objects.filter(service_id=assessment.service_id, status=AssessmentStatus.PUBLISHED)
        .exclude(pk=assessment.pk)
        .only("pk", "stage", "kind", "result", "outcome", "published_at", "scheduled_for", "status", "service_id")
        .order_by("-published_at", "-pk")
    )
    for r in rows:
        r.outcome_text = outcome_label(r)
    return rows


# ---------------------------------------------------------------- network-wide lists

def published_reports(*, since: dt.date | None = None, until: dt.date | None = None, result: str = "",
                      stage: str = "", service: str = ""):
    """Published reports, newest first, filtered; one query for a page (and one to count)."""
    qs = (
        Assessment.objects.filter(status=AssessmentStatus.PUBLISHED)
        .select_related("service", "manager")
        .only("pk", "stage", "kind", "result", "outcome", "published_at", "scheduled_for", "status",
              "service__id", "service__name", "service__slug", "service__lifecycle_stage",
              "manager__id", "manager__name")
    )
    zone = timezone.get_current_timezone()
    if since:
        qs = qs.filter(published_at__gte=dt.datetime.combine(since, dt.time.min, tzinfo=zone))
    if until:
        qs = qs.filter(published_at__lt=dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    if result:
        qs = qs.filter(result=result)
    if stage:
        qs = qs.filter(stage=stage)
    if service:
        qs = qs.filter(Q(service__name__icontains=service) | Q(service__slug=service))
    return qs.order_by("-published_at", "-pk")


def due_services():
    """Live services with their next periodic assessment, the overdue ones first (the
    earliest dates), with the date of any assessment already scheduled (one query)."""
    booked = (
        Assessment.objects.filter(service=OuterRef("pk"), status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA])
        .order_by("scheduled_for").values("scheduled_for")[:1]
    )
    booked_id = (
        Assessment.objects.filter(service=OuterRef("pk"), status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA])
        .order_by("scheduled_for").values("pk")[:1]
    )
    return (
        Service.objects.filter(lifecycle_stage=Lifecycle.LIVE, next_assessment_due__isnull=False)
        .select_related("manager")
        .only("pk", "name", "slug", "lifecycle_stage", "next_assessment_due", "assessment_cadence_days",
              "manager__id", "manager__name")
        .annotate(booked_for=Subquery(booked), booked_id=Subquery(booked_id))
        .order_by("next_assessment_due", "name")
    )


def upcoming_assessments():
    """Assessments scheduled or with their agenda published, soonest first (one query)."""
    return (
        Assessment.objects.filter(status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA])
        .select_related("service")
        .only("pk", "kind", "stage", "status", "scheduled_for", "service__id", "service__name", "service__slug")
        .order_by("scheduled_for", "pk")
    )


# ---------------------------------------------------------------- budgets

def service_budget(service: Service) -> dict:
    """A service's allocations with their balances and totals (one query); spending,
    re-investments and funding requests are paged by the page."""
    allocations = list(allocations_with_balance(service))
    totals = {
        "allocated": sum((a.amount for a in allocations), ZERO),
        "spent": sum((a.spent for a in allocations), ZERO),
        "reinvested": sum((a.reinvested for a in allocations), ZERO),
    }
    totals["remaining"] = totals["allocated"] - totals["spent"] - totals["reinvested"]
    for a in allocations:
        a.remaining = a.amount - a.spent - a.reinvested
    return {
        "allocations": allocations,
        "totals": totals,
        "summary": _budget_summary(allocations),
    }


def service_reinvestments(service: Service):
    return (
        Reinvestment.objects.filter(allocation__service=service).select_related("allocation", "recorded_by")
        .order_by("-recorded_at", "-pk")
    )


def service_requests(service: Service):
    """The service's funding requests, those awaiting a decision first."""
    return (
        FundingRequest.objects.filter(service=service).select_related("requested_by", "decided_by")
        .order_by(Case(When(status=FundingRequest.Status.OPEN, then=Value(0)), default=Value(1)), "-requested_at", "-pk")
    )


def service_spends(service: Service):
    return (
        Spend.objects.filter(allocation__service=service).select_related("allocation", "recorded_by")
        .order_by("-spent_on", "-pk")
    )


def _merge(allocated, spent, reinvested, key) -> list[dict]:
    rows: dict = {}
    for source, name in ((allocated, "allocated"), (spent, "spent"), (reinvested, "reinvested")):
        for row in source:
            entry = rows.setdefault(row[key], {"key": row[key], "allocated": ZERO, "spent": ZERO, "reinvested": ZERO})
            entry[name] = row["total"] or ZERO
    for entry in rows.values():
        entry["remaining"] = entry["allocated"] - entry["spent"] - entry["reinvested"]
        entry["percent"] = int((entry["spent"] * 100 / entry["allocated"]).to_integral_value()) if entry["allocated"] else None
    return list(rows.values())


def budget_overview(periods: list[str] | None = None) -> dict:
    """The network's money, allocated against spent, by stage and by period: sums in SQL
    (three queries for the stages, three for the periods on the page)."""
    by_stage = _merge(
        BudgetAllocation.objects.values("stage").annotate(total=Sum("amount")).order_by(),
        Spend.objects.values(stage=F("allocation__stage")).annotate(total=Sum("amount")).order_by(),
        Reinvestment.objects.values(stage=F("allocation__stage")).annotate(total=Sum("amount")).order_by(),
        "stage",
    )
    labels = dict(Lifecycle.choices)
    order = [s for s, _ in Lifecycle.choices]
    by_stage.sort(key=lambda r: order.index(r["key"]) if r["key"] in order else 99)
    for r in by_stage:
        r["label"] = labels.get(r["key"], r["key"])
    totals = {
        name: sum((r[name] for r in by_stage), ZERO) for name in ("allocated", "spent", "reinvested", "remaining")
    }
    totals["percent"] = int((totals["spent"] * 100 / totals["allocated"]).to_integral_value()) if totals["allocated"] else None
    result = {"by_stage": by_stage, "totals": totals}
    if periods is not None:
        rows = _merge(
            BudgetAllocation.objects.filter(period__in=periods).values("period").annotate(total=Sum("amount")).order_by(),
            Spend.objects.filter(allocation__period__in=periods).values(period=F("allocation__period"))
            .annotate(total=Sum("amount")).order_by(),
            Reinvestment.objects.filter(allocation__period__in=periods).values(period=F("allocation__period"))
            .annotate(total=Sum("amount")).order_by(),
            "period",
        )
        rows.sort(key=lambda r: periods.index(r["key"]))
        result["by_period"] = rows
    return result


def budget_periods():
    """The periods money was allocated for, newest first (paged by the page)."""
    return BudgetAllocation.objects.values_list("period", flat=True).distinct().order_by("-period")


def open_funding_requests():
    return (
        FundingRequest.objects.filter(status=FundingRequest.Status.OPEN).select_related("service", "requested_by")
        .order_by("requested_at", "pk")
    )


# ---------------------------------------------------------------- the report as Markdown

def report_filename(assessment: Assessment) -> str:
    day = timezone.localtime(assessment.published_at).date() if assessment.published_at else assessment.scheduled_for
    return f"{assessment.service.slug}-assessment-{day:%Y-%m-%d}.md"


def report_markdown(assessment: Assessment, *, terms: dict, previous: list[Assessment], allocations, currency: str = "GBP",
                    base_url: str = "") -> str:
    """The published report as a Markdown document (everything the report page shows)."""
    from django.urls import reverse

    service = assessment.service
    version = assessment.pinned_version
    published = timezone.localtime(assessment.published_at) if assessment.published_at else None
    lines = [
        f"# Assessment report: {service.name}",
        "",
        f"- **Date:** {published:%d %B %Y}" if published else f"- **Date:** {assessment.scheduled_for:%d %B %Y}",
        f"- **Result:** {assessment.get_result_display()}",
        f"- **Stage assessed:** {assessment.get_stage_display()} ({assessment.get_kind_display().lower()})",
        f"- **{terms['service_manager']}:** {assessment.manager.name if assessment.manager else 'none appointed'}",
    ]
    if version is not None:
        lines.append(f"- **Contract version assessed:** version {version.number} "
                     f"({base_url}{reverse('network:version', args=[service.slug, version.number])})")
    lines.append(f"- **Assessors:** {', '.join(p.name for p in assessment.assessors.all())}")
    lines.append(f"- **Outcome:** {assessment.outcome_text}")
    lines.append("")
    if assessment.summary:
        lines += ["## Summary", "", assessment.summary.strip(), ""]
    if version is not None:
        lines += ["## The contract assessed", "", version.purpose.strip(), ""]
        needs = list(version.needs.all())
        if needs:
            lines += ["### User needs", ""]
            for need in needs:
                measured = "; ".join(m.name for m in need.metrics.all())
                lines.append(f"- As a {need.as_a}, I need {need.i_need}, so that {need.so_that}."
                             + (f" Measured by: {measured}." if measured else ""))
            lines.append("")
        metrics = list(version.metrics.all())
        if metrics:
            lines += ["### Service metrics", "", "| Metric | Unit | Direction | Target |", "|---|---|---|---|"]
            for m in metrics:
                target = plain_number(m.target) if m.target is not None else "—"
                lines.append(f"| {_cell(m.name)} | {_cell(m.unit)} | {m.get_direction_display()} | {target} |")
            lines.append("")
    rejected = getattr(assessment, "guidance_rejected", None) or assessment.rejected_guidance or []
    if rejected:
        lines += ["## Guidance the service rejected", ""]
        lines += [f"- **{_cell(g['title'])}**: {g['rationale'].strip()}" for g in rejected]
        lines.append("")
    lines += ["## Criteria", ""]
    for item in assessment.items.all():
        c = item.criterion
        lines.append(f"### {c.name}: {item.get_decision_display() or 'not decided'}")
        lines.append("")
        lines.append(f"What it means: {base_url}{reverse('lifecycle:criterion', args=[c.slug])}")
        lines.append("")
        if item.did_well:
            lines += ["**What the team did well**", "", item.did_well.strip(), ""]
        if item.to_improve:
            lines += ["**What the team needs to improve**", "", item.to_improve.strip(), ""]
    if assessment.decommission_reasons:
        lines += ["## Why the service is decommissioned", "",
                  f"Condition ({assessment.decommission_condition}): "
                  f"{DECOMMISSION_CONDITIONS.get(assessment.decommission_condition, '')}", "",
                  assessment.decommission_reasons.strip(), ""]
        if assessment.migration_path:
            lines += ["### How consumers migrate away", "", assessment.migration_path.strip(), ""]
    allocations = list(allocations)
    if allocations:
        lines += ["## Budget allocated", ""]
        for a in allocations:
            lines.append(f"- {format_money(a.amount, currency)} for {a.get_stage_display().lower()}, {a.period}")
        lines.append("")
    addenda = list(assessment.addenda.all())
    if addenda:
        lines += ["## Addenda", ""]
        for a in addenda:
            lines += [f"**{timezone.localtime(a.created_at):%d %B %Y}, {a.author.name}:** {a.text.strip()}", ""]
    if previous:
        lines += ["## Previous reports", ""]
        for r in previous:
            lines.append(f"- {timezone.localtime(r.published_at):%d %B %Y}: {r.get_stage_display()}, "
                         f"{r.get_result_display()} ({base_url}{reverse('lifecycle:assessment', args=[r.pk])})")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
