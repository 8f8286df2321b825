"""API routes for the lifecycle: the criteria library, assessments from scheduling to
the published report, what is due, each service's timeline, and budgets (model 4, 5.2,
5.3). Reads use ``queries`` (or a query here with its prefetches, never one per row);
every write is one call to ``actions``, which checks the caller's right, the rules and
writes the audit event."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Status

from osom.api.schemas import READ_ERRORS, WRITE_ERRORS, PageQuery, page, page_rows
from osom.core.api import actor, find_person
from osom.core.errors import InvalidInput, NotFound
from osom.core.models import AuditEvent, Organisation, Person
from osom.core.orgcache import current_organisation
from osom.network.models import Service
from osom.network.stages import Lifecycle

from . import actions, queries
from .api_schemas import (
    AddendumIn,
    AddendumOut,
    AllocateIn,
    AllocationOut,
    AssessmentDetail,
    AssessmentEditIn,
    AssessmentFilters,
    AssessmentPage,
    BudgetOverviewOut,
    BudgetQuery,
    CadenceIn,
    CadenceOut,
    CancelIn,
    CriterionEditIn,
    CriterionFilters,
    CriterionIn,
    CriterionOut,
    CriterionPage,
    DecisionsIn,
    DueFilters,
    DuePage,
    FundingDecisionIn,
    FundingRequestIn,
    FundingRequestOut,
    PublishIn,
    ReinvestIn,
    ReinvestmentOut,
    ScheduleIn,
    ServiceBudgetOut,
    ServiceCadenceIn,
    SpendIn,
    SpendOut,
    TimelinePage,
    money_text,
)
from .models import (
    Assessment,
    AssessmentKind,
    AssessmentStatus,
    BudgetAllocation,
    Criterion,
    FundingRequest,
    Reinvestment,
    Spend,
    StageChange,
)
from .outcomes import OUTCOMES

__all__ = ["router"]

router = Router(tags=["lifecycle"])

_OPEN = (AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA)
_MONEY_FIELDS = ("allocated", "spent", "reinvested", "remaining")


# ---------------------------------------------------------------- finding what a request names


def _service(slug: str) -> Service:
    service = Service.objects.select_related("manager", "current_version").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="slug")
    return service


def _assessment(assessment_id: int) -> Assessment:
    assessment = Assessment.objects.select_related("service", "service__manager").filter(pk=assessment_id).first()
    if assessment is None:
        raise NotFound(f"There is no assessment with id {assessment_id}.", field="assessment_id")
    return assessment


def _allocation(allocation_id: int) -> BudgetAllocation:
    allocation = BudgetAllocation.objects.select_related("service", "service__manager").filter(pk=allocation_id).first()
    if allocation is None:
        raise NotFound(f"There is no budget allocation with id {allocation_id}.", field="allocation_id")
    return allocation


def _funding_request(request_id: int) -> FundingRequest:
    funding = FundingRequest.objects.select_related("service", "service__manager").filter(pk=request_id).first()
    if funding is None:
        raise NotFound(f"There is no funding request with id {request_id}.", field="request_id")
    return funding


def _people(refs: list[str], field: str) -> list[Person]:
    """The people a request names, by id or email; 400 naming the first unknown one."""
    return [find_person(ref, f"{field}[{n}]") for n, ref in enumerate(refs)]


def _criteria(slugs: list[str], field: str = "criteria") -> list[Criterion]:
    """Criteria named by slug, in the order given (one query); 400 naming an unknown one."""
    found = {c.slug: c for c in Criterion.objects.filter(slug__in=[s.strip() for s in slugs])}
    chosen = []
    for n, slug in enumerate(slugs):
        criterion = found.get(slug.strip())
        if criterion is None:
            raise InvalidInput(f"There is no criterion “{slug}”; GET /criteria lists them.", field=f"{field}[{n}]")
        chosen.append(criterion)
    return chosen


# ---------------------------------------------------------------- answers


def _day(a: Assessment) -> date:
    return timezone.localtime(a.published_at).date() if a.published_at else a.scheduled_for


def _report_ref(a: Assessment) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind, "stage": a.stage, "result": a.result or None, "outcome": a.outcome or None,
            "outcome_label": queries.outcome_label(a), "published_at": a.published_at}


def _row(a: Assessment) -> dict[str, Any]:
    """:class:`AssessmentRow` from an assessment whose service (and its manager), pinned
    manager and assessors are loaded."""
    published = a.status == AssessmentStatus.PUBLISHED
    return {
        **_report_ref(a),
        "service": a.service, "status": a.status, "scheduled_for": a.scheduled_for, "day": _day(a),
        "manager": a.manager if published else a.service.manager,
        "assessors": list(a.assessors.all()),
    }


def _cancel_reason(a: Assessment) -> str:
    if a.status != AssessmentStatus.CANCELLED:
        return ""
    return (AuditEvent.objects.filter(verb="cancel_assessment", object_type="assessment", object_id=str(a.pk))
            .order_by("-at").values_list("reason", flat=True).first() or "")


def _detail(request: HttpRequest, assessment_id: int) -> dict[str, Any]:
    """:class:`AssessmentDetail`, in a fixed number of queries whatever its agenda."""
    try:
        a = queries.assessment_detail(assessment_id)
    except Assessment.DoesNotExist:
        raise NotFound(f"There is no assessment with id {assessment_id}.", field="assessment_id") from None
    items = []
    for item in a.items.all():
        c = item.criterion
        url = request.build_absolute_uri(reverse("lifecycle:criterion", args=[c.slug]))
        items.append({
            "criterion": {"slug": c.slug, "name": c.name, "link": c.link, "url": url},
            "position": item.position, "decision": item.decision or None,
            "did_well": item.did_well, "to_improve": item.to_improve,
        })
    return {
        **_row(a),
        "revision": a.revision, "agenda_note": a.agenda_note, "agenda_published_at": a.agenda_published_at,
        "reassesses": a.reassesses_id, "created_by": a.created_by, "created_at": a.created_at,
        "items": items, "summary": a.summary,
        "outcomes": [{"key": o.key, "label": o.label, "moves_to": o.moves_to, "requires_met": o.requires_met}
                     for o in OUTCOMES.get(a.stage, ())],
        "contract_version": a.pinned_version.number if a.pinned_version else None,
        "published_by": a.published_by,
        "decommission_condition": a.decommission_condition or None,
        "decommission_reasons": a.decommission_reasons, "migration_path": a.migration_path,
        "rejected_guidance": a.rejected_guidance or [],
        "allocations": [{"id": x.pk, "period": x.period, "stage": x.stage, "amount": money_text(x.amount)}
                        for x in a.allocations.order_by("pk")],
        "addenda": list(a.addenda.all()),
        "cancel_reason": _cancel_reason(a),
        "previous_reports": [_report_ref(r) for r in queries.previous_reports(a)],
    }


def _allocation_out(a: BudgetAllocation, slug: str) -> dict[str, Any]:
    """:class:`AllocationOut` from an allocation annotated with ``spent`` and ``reinvested``."""
    return {
        "id": a.pk, "service": slug, "period": a.period, "stage": a.stage, "amount": money_text(a.amount),
        "spent": money_text(a.spent), "reinvested": money_text(a.reinvested),
        "remaining": money_text(a.amount - a.spent - a.reinvested), "note": a.note,
        "assessment": a.assessment_id, "funding_request": a.funding_request_id,
        "allocated_by": a.allocated_by, "allocated_at": a.allocated_at,
    }


def _spend_out(s: Spend) -> dict[str, Any]:
    return {"id": s.pk, "allocation": s.allocation_id, "period": s.allocation.period, "amount": money_text(s.amount),
            "spent_on": s.spent_on, "description": s.description, "recorded_by": s.recorded_by,
            "recorded_at": s.recorded_at}


def _reinvestment_out(r: Reinvestment) -> dict[str, Any]:
    return {"id": r.pk, "allocation": r.allocation_id, "period": r.allocation.period, "amount": money_text(r.amount),
            "purpose": r.purpose, "recorded_by": r.recorded_by, "recorded_at": r.recorded_at}


def _request_out(r: FundingRequest, slug: str, allocation: int | None) -> dict[str, Any]:
    return {
        "id": r.pk, "service": slug, "kind": r.kind, "period": r.period, "amount": money_text(r.amount),
        "rationale": r.rationale, "status": r.status, "decision_note": r.decision_note,
        "requested_by": r.requested_by, "requested_at": r.requested_at, "decided_by": r.decided_by,
        "decided_at": r.decided_at, "allocation": allocation,
    }


def _totals(row: dict[str, Any]) -> dict[str, str]:
    return {name: money_text(row[name]) for name in _MONEY_FIELDS}


def _cadence_out(service: Service | None, default: int) -> dict[str, Any]:
    if service is None:
        return {"default_days": default, "service": None, "days": None, "effective_days": default,
                "next_assessment_due": None}
    return {"default_days": default, "service": service, "days": service.assessment_cadence_days,
            "effective_days": service.assessment_cadence_days or default,
            "next_assessment_due": service.next_assessment_due if service.lifecycle_stage == Lifecycle.LIVE else None}


# ---------------------------------------------------------------- criteria


@router.get("/criteria", response={200: CriterionPage, **READ_ERRORS})
def list_criteria(request: HttpRequest, filters: Query[CriterionFilters]):
    """The criteria library, in its order: common, technical, doctrine, guidance,
    mandates, then the executive's own; retired criteria last in each group."""
    qs = queries.criteria_library(source=filters.source or "")
    if filters.active is not None:
        qs = qs.filter(active=filters.active)
    if filters.stage:
        # the stages are a JSON list; its text holds the stage in quotes (SQLite cannot
        # search inside JSON, and this reads the same on PostgreSQL)
        qs = qs.filter(stages__icontains=f'"{filters.stage}"')
    return page(qs, filters)


@router.post("/criteria", response={201: CriterionOut, **WRITE_ERRORS})
def add_criterion(request: HttpRequest, payload: CriterionIn):
    """The executive adds a criterion, e.g. from guidance it published or a mandate."""
    criterion = actions.add_criterion(actor=actor(request), name=payload.name, meaning=payload.meaning,
                                      link=payload.link, stages=payload.stages, source=payload.source)
    return Status(201, criterion)


@router.put("/criteria/{slug}", response={200: CriterionOut, **WRITE_ERRORS})
def edit_criterion(request: HttpRequest, slug: str, payload: CriterionEditIn):
    """Change a criterion's words, link or stages, or retire it (``active: false``).
    Published reports keep their decisions on it."""
    criterion = Criterion.objects.filter(slug=slug).first()
    if criterion is None:
        raise NotFound(f"There is no criterion “{slug}”.", field="slug")
    return actions.edit_criterion(actor=actor(request), criterion=criterion, name=payload.name,
                                  meaning=payload.meaning, link=payload.link, stages=payload.stages,
                                  active=payload.active, expected_revision=payload.expected_revision)


# ---------------------------------------------------------------- reading assessments


@router.get("/assessments", response={200: AssessmentPage, **READ_ERRORS})
def list_assessments(request: HttpRequest, filters: Query[AssessmentFilters]):
    """Published reports and assessments to come, newest first (by the day of the
    report, or the day scheduled), filtered and paged."""
    qs = (
        Assessment.objects.select_related("service", "service__manager", "manager")
        .prefetch_related(Prefetch("assessors", queryset=Person.objects.order_by("name", "pk")))
        .order_by("-listed_on", "-pk")  # the stored day, read from its index
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    else:
        qs = qs.exclude(status=AssessmentStatus.CANCELLED)
    if filters.service:
        qs = qs.filter(service__slug=filters.service.strip())
    if filters.result:
        qs = qs.filter(result=filters.result)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.date_from:
        qs = qs.filter(listed_on__gte=filters.date_from)
    if filters.date_to:
        qs = qs.filter(listed_on__lte=filters.date_to)
    result = page(qs, filters)
    return {"items": [_row(a) for a in result["items"]], "count": result["count"], "next_cursor": result["next_cursor"]}


# Declared before /assessments/{assessment_id} so that its address is not taken for an id.
@router.get("/assessments/due", response={200: DuePage, **READ_ERRORS})
def list_due(request: HttpRequest, filters: Query[DueFilters]):
    """Live services by the date of their next periodic assessment, the overdue first,
    with any assessment already scheduled."""
    today = timezone.localdate()
    qs = queries.due_services().only(
        "pk", "name", "slug", "lifecycle_stage", "next_assessment_due", "assessment_cadence_days",
        "manager__id", "manager__name", "manager__email",
    )
    if filters.overdue is True:
        qs = qs.filter(next_assessment_due__lt=today)
    elif filters.overdue is False:
        qs = qs.filter(next_assessment_due__gte=today)
    result = page(qs, filters)
    default = current_organisation().live_cadence_days
    items = []
    for s in result["items"]:
        late = (today - s.next_assessment_due).days
        items.append({
            "service": s, "manager": s.manager, "next_assessment_due": s.next_assessment_due,
            "overdue": late > 0, "days_overdue": max(late, 0),
            "cadence_days": s.assessment_cadence_days or default, "own_cadence": s.assessment_cadence_days is not None,
            "booked_for": s.booked_for, "booked_id": s.booked_id,
        })
    return {"items": items, "count": result["count"], "next_cursor": result["next_cursor"]}


@router.get("/assessments/{assessment_id}", response={200: AssessmentDetail, **READ_ERRORS})
def get_assessment(request: HttpRequest, assessment_id: int):
    """An assessment: its agenda with each criterion's decision, the result, outcome and
    summary; once published, the report with the contract version it judged, the
    manager, the money it allocated, addenda, and the service's previous reports."""
    return _detail(request, assessment_id)


@router.get(
    "/assessments/{assessment_id}/report.md",
    response=READ_ERRORS,
    openapi_extra={"responses": {"200": {
        "description": "The published report as a Markdown document",
        "content": {"text/markdown": {"schema": {"type": "string"}}},
    }}},
)
def get_report_markdown(request: HttpRequest, assessment_id: int):
    """The published report as Markdown, to keep or send; 404 until it is published."""
    try:
        a = queries.assessment_detail(assessment_id)
    except Assessment.DoesNotExist:
        raise NotFound(f"There is no assessment with id {assessment_id}.", field="assessment_id") from None
    if not a.is_published:
        raise NotFound("This assessment has no published report yet.", field="assessment_id")
    org = current_organisation()
    text = queries.report_markdown(
        a, terms=org.terms(), previous=queries.previous_reports(a), allocations=a.allocations.order_by("pk"),
        currency=org.currency, base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{queries.report_filename(a)}"'
    return response


# ---------------------------------------------------------------- conducting assessments


@router.post("/services/{slug}/assessments", response={201: AssessmentDetail, **WRITE_ERRORS})
def schedule_assessment(request: HttpRequest, slug: str, payload: ScheduleIn):
    """The executive schedules an assessment of the service at its current stage, with
    its assessors and the criteria on its agenda (by default, those suiting the stage).
    A service has at most one assessment open (409 otherwise)."""
    service = _service(slug)
    reassesses = None
    if payload.reassesses is not None:
        reassesses = Assessment.objects.filter(pk=payload.reassesses).first()
        if reassesses is None:
            raise InvalidInput(f"There is no assessment with id {payload.reassesses}.", field="reassesses")
    kind = payload.kind or (AssessmentKind.PERIODIC if service.lifecycle_stage == Lifecycle.LIVE
                            else AssessmentKind.TRANSITION)
    assessment = actions.schedule_assessment(
        actor=actor(request), service=service, kind=kind, scheduled_for=payload.scheduled_for,
        assessors=_people(payload.assessors, "assessors"),
        criteria=_criteria(payload.criteria) if payload.criteria is not None else None,
        agenda_note=payload.agenda_note, reassesses=reassesses,
    )
    return Status(201, _detail(request, assessment.pk))


@router.put("/assessments/{assessment_id}", response={200: AssessmentDetail, **WRITE_ERRORS})
def edit_assessment(request: HttpRequest, assessment_id: int, payload: AssessmentEditIn):
    """Change the date, assessors, criteria or note of an assessment not yet reported
    on; what is not given stays. If its agenda was sent, the manager is sent it again."""
    a = _assessment(assessment_id)
    if payload.criteria is not None:
        criteria = _criteria(payload.criteria)
    else:
        criteria = [i.criterion for i in a.items.select_related("criterion").order_by("position", "pk")]
    actions.edit_assessment(
        actor=actor(request), assessment=a,
        scheduled_for=payload.scheduled_for if payload.scheduled_for is not None else a.scheduled_for,
        assessors=_people(payload.assessors, "assessors") if payload.assessors is not None else list(a.assessors.all()),
        criteria=criteria,
        agenda_note=payload.agenda_note if payload.agenda_note is not None else a.agenda_note,
        expected_revision=payload.expected_revision,
    )
    return _detail(request, a.pk)


@router.post("/assessments/{assessment_id}/agenda", response={200: AssessmentDetail, **WRITE_ERRORS})
def publish_agenda(request: HttpRequest, assessment_id: int):
    """Publish the agenda in advance: it shows on the service page and the manager is emailed."""
    actions.publish_assessment_agenda(actor=actor(request), assessment=_assessment(assessment_id))
    return _detail(request, assessment_id)


@router.post("/assessments/{assessment_id}/cancel", response={200: AssessmentDetail, **WRITE_ERRORS})
def cancel_assessment(request: HttpRequest, assessment_id: int, payload: CancelIn):
    """Cancel an assessment not yet reported on, saying why."""
    actions.cancel_assessment(actor=actor(request), assessment=_assessment(assessment_id), reason=payload.reason)
    return _detail(request, assessment_id)


@router.put("/assessments/{assessment_id}/decisions", response={200: AssessmentDetail, **WRITE_ERRORS})
def record_decisions(request: HttpRequest, assessment_id: int, payload: DecisionsIn):
    """The assessors (or the executive) record, per criterion, Met or Not Met, what the
    team did well and what it needs to improve; and the result, outcome and summary.
    Only what is given changes; the agenda must be published first."""
    decisions = {ref: values.model_dump(exclude_unset=True) for ref, values in payload.decisions.items()}
    actions.record_assessment_decisions(
        actor=actor(request), assessment=_assessment(assessment_id), decisions=decisions, result=payload.result,
        outcome=payload.outcome, summary=payload.summary, expected_revision=payload.expected_revision,
    )
    return _detail(request, assessment_id)


@router.post("/assessments/{assessment_id}/publish", response={200: AssessmentDetail, **WRITE_ERRORS})
def publish_report(request: HttpRequest, assessment_id: int, payload: PublishIn):
    """Publish the report to everyone; it never changes again. Its outcome moves the
    service (or starts a new round at its stage); progress allocates the next stage's
    budget in the same act; decommissioning keeps the condition, the reasons and the
    consumers' migration path; Not Met schedules a reassessment."""
    actions.publish_assessment_report(
        actor=actor(request), assessment=_assessment(assessment_id), budget_amount=payload.budget_amount,
        budget_period=payload.budget_period, decommission_condition=payload.decommission_condition,
        decommission_reasons=payload.decommission_reasons, migration_path=payload.migration_path,
        expected_revision=payload.expected_revision,
    )
    return _detail(request, assessment_id)


@router.post("/assessments/{assessment_id}/addenda", response={201: AddendumOut, **WRITE_ERRORS})
def add_addendum(request: HttpRequest, assessment_id: int, payload: AddendumIn):
    """A later correction or note on a published report, which itself never changes."""
    addendum = actions.add_report_addendum(actor=actor(request), assessment=_assessment(assessment_id),
                                           text=payload.text)
    return Status(201, addendum)


# ---------------------------------------------------------------- cadence and timeline


@router.put("/organisation/cadence", response={200: CadenceOut, **WRITE_ERRORS})
def set_default_cadence(request: HttpRequest, payload: CadenceIn):
    """How often live services are assessed, unless set for a service; their next due
    dates are worked out again (the executive's act)."""
    actions.set_assessment_cadence(actor=actor(request), days=payload.days)
    # read afresh: the request's copy of the organisation is from before the change
    return _cadence_out(None, Organisation.current().live_cadence_days)


@router.put("/services/{slug}/cadence", response={200: CadenceOut, **WRITE_ERRORS})
def set_service_cadence(request: HttpRequest, slug: str, payload: ServiceCadenceIn):
    """How often this service is assessed while live; null returns it to the default."""
    actions.set_assessment_cadence(actor=actor(request), days=payload.days, service=_service(slug))
    return _cadence_out(_service(slug), Organisation.current().live_cadence_days)


@router.get("/services/{slug}/timeline", response={200: TimelinePage, **READ_ERRORS})
def get_timeline(request: HttpRequest, slug: str, query: Query[PageQuery]):
    """The service's way through the lifecycle, oldest first: where it entered, then
    each stage change or new round, with the report that made it."""
    service = _service(slug)
    changes = list(StageChange.objects.filter(service=service).select_related("assessment").order_by("at", "pk"))
    entered = changes[0].from_stage if changes and changes[0].from_stage else service.lifecycle_stage
    label = dict(Lifecycle.choices)[entered].lower()
    entries = [(0, {
        "at": service.established_at, "from_stage": None, "to_stage": entered, "new_round": False,
        "label": f"Adopted at {label}" if service.adopted else f"Established in {label}", "note": "", "report": None,
    })]
    for c in changes:
        entries.append((c.pk, {
            "at": c.at, "from_stage": c.from_stage or None, "to_stage": c.to_stage, "new_round": c.is_new_round,
            "label": (f"A new round of {c.get_to_stage_display().lower()}" if c.is_new_round
                      else f"Moved to {c.get_to_stage_display().lower()}"),
            "note": c.note, "report": _report_ref(c.assessment) if c.assessment else None,
        }))
    # the first entry is the service's start (key 0); each change after it is named by its id
    shown = page_rows(entries, query, key=lambda e: e[0], scope=f"timeline:{service.pk}")
    return {**shown, "items": [entry for _, entry in shown["items"]]}


# ---------------------------------------------------------------- budgets


@router.get("/services/{slug}/budget", response={200: ServiceBudgetOut, **READ_ERRORS})
def get_service_budget(request: HttpRequest, slug: str, query: Query[BudgetQuery]):
    """A service's money: each allocation with what was spent and re-invested against
    it (summed in the database), the spends (paged), re-investments and funding requests."""
    service = _service(slug)
    money = queries.service_budget(service)
    granted = {a.funding_request_id: a.pk for a in money["allocations"] if a.funding_request_id}
    spends = page(queries.service_spends(service), query)
    return {
        "service": service,
        "currency": current_organisation().currency,
        "totals": _totals(money["totals"]),
        "allocations": [_allocation_out(a, service.slug) for a in money["allocations"]],
        "spends": {"items": [_spend_out(s) for s in spends["items"]], "count": spends["count"], "next_cursor": spends["next_cursor"]},
        "reinvestments": [_reinvestment_out(r) for r in queries.service_reinvestments(service)],
        "funding_requests": [_request_out(r, service.slug, granted.get(r.pk)) for r in queries.service_requests(service)],
    }


@router.get("/budgets", response={200: BudgetOverviewOut, **READ_ERRORS})
def get_budget_overview(request: HttpRequest, query: Query[BudgetQuery]):
    """The network's money, allocated against spent and re-invested: by stage, and by
    period (newest first, paged), summed in the database."""
    # the periods are few (one a year or a quarter): paged from one list of them
    periods = page_rows(list(queries.budget_periods()), query, key=str, scope="budgets")
    overview = queries.budget_overview(periods["items"])

    def row(r: dict[str, Any]) -> dict[str, Any]:
        return {**_totals(r), "key": r["key"], "percent_spent": r["percent"]}

    return {
        "currency": current_organisation().currency,
        "totals": _totals(overview["totals"]),
        "by_stage": [row(r) for r in overview["by_stage"]],
        "by_period": {"items": [row(r) for r in overview["by_period"]], "count": periods["count"],
                      "next_cursor": periods["next_cursor"]},
        "open_funding_requests": queries.open_funding_requests().count(),
    }


@router.post("/services/{slug}/allocations", response={201: AllocationOut, **WRITE_ERRORS})
def allocate_budget(request: HttpRequest, slug: str, payload: AllocateIn):
    """The executive allocates money to the service for a period, at its stage (or another)."""
    service = _service(slug)
    allocation = actions.allocate_budget(actor=actor(request), service=service, period=payload.period,
                                         amount=payload.amount, stage=payload.stage, note=payload.note)
    return Status(201, _allocation_out(queries.allocations_with_balance(service).get(pk=allocation.pk), slug))


@router.post("/allocations/{allocation_id}/spends", response={201: SpendOut, **WRITE_ERRORS})
def record_spend(request: HttpRequest, allocation_id: int, payload: SpendIn):
    """The service's manager or team records money spent against an allocation."""
    allocation = _allocation(allocation_id)
    spend = actions.record_spend(actor=actor(request), allocation=allocation, amount=payload.amount,
                                 spent_on=payload.spent_on or timezone.localdate(), description=payload.description)
    spend.allocation = allocation
    return Status(201, _spend_out(spend))


@router.post("/allocations/{allocation_id}/reinvestments", response={201: ReinvestmentOut, **WRITE_ERRORS})
def reinvest_savings(request: HttpRequest, allocation_id: int, payload: ReinvestIn):
    """The service's manager re-invests savings found against an allocation, up to what
    is unspent."""
    allocation = _allocation(allocation_id)
    reinvestment = actions.reinvest_savings(actor=actor(request), allocation=allocation, amount=payload.amount,
                                            purpose=payload.purpose)
    reinvestment.allocation = allocation
    return Status(201, _reinvestment_out(reinvestment))


@router.post("/services/{slug}/funding-requests", response={201: FundingRequestOut, **WRITE_ERRORS})
def request_funding(request: HttpRequest, slug: str, payload: FundingRequestIn):
    """The service's manager, who cannot meet the contract on the budget, asks the
    executive to expand the budget or to narrow the scope."""
    service = _service(slug)
    funding = actions.request_funding(actor=actor(request), service=service, kind=payload.kind, period=payload.period,
                                      rationale=payload.rationale, amount=payload.amount)
    return Status(201, _request_out(funding, slug, None))


@router.post("/funding-requests/{request_id}/decision", response={200: FundingRequestOut, **WRITE_ERRORS})
def decide_funding_request(request: HttpRequest, request_id: int, payload: FundingDecisionIn):
    """The executive grants or declines a funding request, saying why. Granting an
    expansion allocates the money in the same act."""
    funding = actions.decide_funding_request(actor=actor(request), request=_funding_request(request_id),
                                             grant=payload.grant, note=payload.note, amount=payload.amount)
    funding = FundingRequest.objects.select_related("service", "requested_by", "decided_by").get(pk=funding.pk)
    allocation = BudgetAllocation.objects.filter(funding_request=funding).values_list("pk", flat=True).first()
    return _request_out(funding, funding.service.slug, allocation)
