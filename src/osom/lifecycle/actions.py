"""Every write of the lifecycle: criteria, assessments and their reports, the stage
changes reports make, live cadence, and budgets (model 4, 5.2, 5.3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.urls import reverse
from django.db.models import F, Max, Sum
from django.utils import timezone
from django.utils.text import slugify

from osom.core.numbers import as_id
from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, Errors, InvalidInput
from osom.core.models import Organisation, Person
from osom.core.notify import notify
from osom.core.policy import authorise
from osom.interop import webhooks
from osom.network.contract import write_decommissioned_version
from osom.network.models import Service
from osom.network.stages import Lifecycle

from .models import (
    Assessment, AssessmentCriterion, AssessmentKind, AssessmentStatus, BudgetAllocation, Criterion,
    CriterionSource, FundingRequest, Reinvestment, ReportAddendum, Result, Spend, StageChange,
)
from .outcomes import DECOMMISSION_CONDITIONS, OUTCOMES, outcome_for

__all__ = [
    "add_criterion", "edit_criterion", "schedule_assessment", "edit_assessment", "publish_assessment_agenda",
    "cancel_assessment", "record_assessment_decisions", "publish_assessment_report", "add_report_addendum",
    "set_assessment_cadence", "allocate_budget", "record_spend", "reinvest_savings", "request_funding",
    "decide_funding_request", "allocation_balance", "REASSESSMENT_AFTER_DAYS",
]

ASSESSED_STAGES = (Lifecycle.DISCOVERY, Lifecycle.ALPHA, Lifecycle.BETA, Lifecycle.LIVE)
REASSESSMENT_AFTER_DAYS = 28
_MAX_MONEY = Decimal("1e13")


# ---------------------------------------------------------------- helpers

def _text(value) -> str:
    return " ".join(str(value or "").split()) if value is not None else ""


def _prose(value) -> str:
    return str(value or "").strip()


def _money(errors: Errors, field: str, value, *, required: bool = True, positive: bool = True) -> Decimal | None:
    if value in (None, ""):
        if required:
            errors.add(field, "Give an amount of money.")
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
        if not amount.is_finite():
            raise InvalidOperation
        if abs(amount) >= _MAX_MONEY:
            errors.add(field, "That amount is too large.")
            return None
        exact = amount == amount.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        errors.add(field, f"“{value}” is not an amount of money.")
        return None
    if not exact:
        errors.add(field, "Give the amount to the penny at most (two decimal places).")
    elif positive and amount <= 0:
        errors.add(field, "The amount must be more than zero.")
    return amount


def _date(errors: Errors, field: str, value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.add(field, f"“{value}” is not a date: use YYYY-MM-DD." if value else "Give a date.")
        return None


def _period(errors: Errors, value) -> str:
    period = _text(value)
    if not period:
        errors.add("period", "Say which period the money is for, e.g. 2026-27.")
    elif len(period) > 40:
        errors.add("period", "Keep the period to 40 characters.")
    return period


def _check_revision(obj, expected, what: str) -> None:
    if expected is not None and int(expected) != obj.revision:
        raise Conflict(f"{what} was changed by someone else since you opened it. Reload it, then make your change again.",
                       field="revision", changes=[f"Now at revision {obj.revision}."])


def _lock(model, obj):
    """The row as it is now, locked until the act ends: FOR NO KEY UPDATE on PostgreSQL,
    which lets another act insert rows referring to it (an audit event naming the
    service) while excluding every other lock of the row."""
    return model.objects.select_for_update(no_key=True).get(pk=obj.pk)


def _stage_label(stage: str) -> str:
    return dict(Lifecycle.choices).get(stage, stage).lower()


# ---------------------------------------------------------------- criteria

def _clean_criterion(errors: Errors, name, meaning, link, stages, *, exclude_pk=None) -> dict:
    name, meaning, link = _text(name), _prose(meaning), _text(link)
    if not name:
        errors.add("name", "Give the criterion a name.")
    elif len(name) > 200:
        errors.add("name", "Keep the name to 200 characters.")
    elif Criterion.objects.filter(name__iexact=name).exclude(pk=exclude_pk).exists():
        errors.add("name", f"There is already a criterion called “{name}”.")
    if not meaning:
        errors.add("meaning", "Say what the criterion means.")
    if link and not link.startswith(("http://", "https://")):
        errors.add("link", "A link must start with http:// or https://.")
    stages = list(stages or [])
    bad = [s for s in stages if s not in ASSESSED_STAGES]
    if bad:
        errors.add("stages", f"“{bad[0]}” is not a stage that is assessed: use discovery, alpha, beta or live.")
    return {"name": name, "meaning": meaning, "link": link, "stages": [s for s in ASSESSED_STAGES if s in stages]}


@refuses_null_characters
def add_criterion(*, actor: Person, name: str, meaning: str, link: str = "", stages=(),
                  source: str = CriterionSource.EXECUTIVE) -> Criterion:
    """The executive adds a criterion, e.g. from guidance it published or a mandate."""
    authority = authorise(actor, "manage_criteria")
    errors = Errors()
    data = _clean_criterion(errors, name, meaning, link, stages)
    if source not in (CriterionSource.EXECUTIVE, CriterionSource.GUIDANCE, CriterionSource.MANDATE):
        errors.add("source", "A new criterion comes from the executive, from guidance or from a mandate.")
    errors.raise_if_any()
    with transaction.atomic():
        slug, n = slugify(data["name"])[:190] or "criterion", 2
        base = slug
        while Criterion.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        position = (Criterion.objects.aggregate(m=Max("position"))["m"] or 0) + 1
        criterion = Criterion.objects.create(slug=slug, source=source, position=position, **data)
        audit.record(actor, "add_criterion", criterion, authority=authority,
                     summary=f"Added the assessment criterion “{criterion.name}”", after=data)
    return criterion


@refuses_null_characters
def edit_criterion(*, actor: Person, criterion: Criterion, name: str, meaning: str, link: str = "", stages=(),
                   active: bool = True, expected_revision: int | None = None) -> Criterion:
    """Change a criterion's words, link or default stages, or retire it. Published
    reports keep showing it as it is named now; their decisions never change."""
    authority = authorise(actor, "manage_criteria")
    errors = Errors()
    data = _clean_criterion(errors, name, meaning, link, stages, exclude_pk=criterion.pk)
    errors.raise_if_any()
    with transaction.atomic():
        criterion = _lock(Criterion, criterion)
        _check_revision(criterion, expected_revision, f"The criterion “{criterion.name}”")
        before = {"name": criterion.name, "stages": criterion.stages, "active": criterion.active}
        for k, v in data.items():
            setattr(criterion, k, v)
        criterion.active = bool(active)
        criterion.revision += 1
        criterion.save()
        audit.record(actor, "edit_criterion", criterion, authority=authority,
                     summary=f"Changed the assessment criterion “{criterion.name}”",
                     before=before, after={"name": criterion.name, "stages": criterion.stages, "active": criterion.active})
    return criterion


# ---------------------------------------------------------------- assessments

def _clean_agenda(errors: Errors, service: Service, *, kind: str | None, scheduled_for, assessors, criteria,
                  already: set[int] | None = None) -> dict:
    """``already``: criteria on the agenda now, which may stay even if since retired."""
    out: dict = {}
    if kind is not None:
        if not kind:
            errors.add("kind", "Say what is assessed: a stage transition, a periodic live assessment or a reassessment.")
        elif kind not in AssessmentKind.values:
            errors.add("kind", f"“{kind}” is not a kind of assessment: use {', '.join(AssessmentKind.values)}.")
        elif kind == AssessmentKind.PERIODIC and service.lifecycle_stage != Lifecycle.LIVE:
            errors.add("kind", f"{service.name} is in {_stage_label(service.lifecycle_stage)}; only a live service has periodic assessments.")
        elif kind == AssessmentKind.TRANSITION and service.lifecycle_stage == Lifecycle.LIVE:
            errors.add("kind", f"{service.name} is live: assess it periodically, not for a transition.")
        out["kind"] = kind
    out["scheduled_for"] = _date(errors, "scheduled_for", scheduled_for)
    people = [p for p in (assessors or []) if p is not None]
    if not people:
        errors.add("assessors", "Choose at least one assessor: the executive, members of its team, or a panel.")
    elif any(not p.is_active for p in people):
        errors.add("assessors", "Every assessor must still be in the organisation.")
    elif any(p.pk == service.manager_id for p in people) or service.team.filter(
            person__in=people, ended_at__isnull=True).exists():
        errors.add("assessors", f"Those who run {service.name} — its manager and its team — cannot assess it.")
    out["assessors"] = people
    # a few dozen criteria at most: filtered here, since SQLite cannot search inside JSON lists
    chosen = list(criteria) if criteria is not None else [
        c for c in Criterion.objects.filter(active=True) if service.lifecycle_stage in c.stages
    ]
    if not chosen:
        errors.add("criteria", "Choose at least one criterion for the agenda.")
    elif any(not c.active and c.pk not in (already or set()) for c in chosen):
        errors.add("criteria", "A retired criterion cannot be added to an agenda.")
    out["criteria"] = list(dict.fromkeys(chosen))
    return out


def _write_items(assessment: Assessment, criteria: list[Criterion]) -> None:
    AssessmentCriterion.objects.filter(assessment=assessment).exclude(criterion__in=criteria).delete()
    existing = set(assessment.items.values_list("criterion_id", flat=True))
    for position, criterion in enumerate(criteria):
        if criterion.pk in existing:
            AssessmentCriterion.objects.filter(assessment=assessment, criterion=criterion).update(position=position)
        else:
            AssessmentCriterion.objects.create(assessment=assessment, criterion=criterion, position=position)


@refuses_null_characters
def schedule_assessment(*, actor: Person, service: Service, kind: str, scheduled_for, assessors, criteria=None,
                        agenda_note: str = "", reassesses: Assessment | None = None) -> Assessment:
    """Schedule an assessment of a service at its current stage: a stage transition,
    a periodic live assessment or a reassessment, with its assessors and criteria
    (by default, the criteria that suit the stage)."""
    authority = authorise(actor, "schedule_assessment", service=service)
    with transaction.atomic():
        # decided on the service as it is now, locked: two schedulings at once make one assessment
        service = _lock(Service, service)
        if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            raise InvalidInput(f"{service.name} is decommissioned; there is nothing left to assess.", field="service")
        if service.current_version_id is None:
            raise InvalidInput(f"{service.name} has no approved contract to assess.", field="service")
        errors = Errors()
        data = _clean_agenda(errors, service, kind=kind or "", scheduled_for=scheduled_for, assessors=assessors,
                             criteria=criteria)
        if reassesses is not None:
            reassesses = Assessment.objects.get(pk=reassesses.pk)
            if reassesses.service_id != service.pk:
                errors.add("reassesses", "A reassessment follows a report on the same service.")
            elif reassesses.status != AssessmentStatus.PUBLISHED or reassesses.result != Result.NOT_MET:
                errors.add("reassesses", "Only a published report whose result was Not Met is reassessed.")
        errors.raise_if_any()
        open_one = service.assessments.filter(status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA]).first()
        if open_one is not None:
            raise Conflict(f"{service.name} already has an assessment on {open_one.scheduled_for:%d %b %Y}; "
                           f"change or cancel that one first.", field="service")
        assessment = Assessment.objects.create(
            service=service, kind=data["kind"], stage=service.lifecycle_stage, scheduled_for=data["scheduled_for"],
            agenda_note=_prose(agenda_note), created_by=actor, reassesses=reassesses,
        )
        assessment.assessors.set(data["assessors"])
        _write_items(assessment, data["criteria"])
        audit.record(actor, "schedule_assessment", assessment, authority=authority, service=service,
                     summary=f"Scheduled a {assessment.get_kind_display().lower()} of {service.name} for "
                             f"{assessment.scheduled_for:%d %b %Y}",
                     after={"assessors": [p.email for p in data["assessors"]], "criteria": [c.slug for c in data["criteria"]]})
    return assessment


def _open(assessment: Assessment, *states: str) -> None:
    if assessment.status not in states:
        labels = {AssessmentStatus.PUBLISHED: "its report is published",
                  AssessmentStatus.CANCELLED: "it was cancelled",
                  AssessmentStatus.SCHEDULED: "its agenda is not yet published",
                  AssessmentStatus.AGENDA: "its agenda is already published"}
        raise Conflict(f"This assessment cannot do that now: {labels[assessment.status]}.", field="assessment")


@refuses_null_characters
def edit_assessment(*, actor: Person, assessment: Assessment, scheduled_for, assessors, criteria, agenda_note: str = "",
                    expected_revision: int | None = None) -> Assessment:
    """Change the date, assessors, criteria or note of an assessment not yet reported on.
    If its agenda was already sent, the manager is told again."""
    service = assessment.service
    authority = authorise(actor, "edit_assessment", service=service)
    errors = Errors()
    data = _clean_agenda(errors, service, kind=None, scheduled_for=scheduled_for, assessors=assessors, criteria=criteria,
                         already=set(assessment.items.values_list("criterion_id", flat=True)))
    errors.raise_if_any()
    with transaction.atomic():
        assessment = _lock(Assessment, assessment)
        _open(assessment, AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA)
        _check_revision(assessment, expected_revision, "This assessment")
        assessment.scheduled_for = data["scheduled_for"]
        assessment.agenda_note = _prose(agenda_note)
        assessment.revision += 1
        assessment.save()
        assessment.assessors.set(data["assessors"])
        _write_items(assessment, data["criteria"])
        audit.record(actor, "edit_assessment", assessment, authority=authority, service=service,
                     summary=f"Changed the {assessment.get_kind_display().lower()} of {service.name} "
                             f"({assessment.scheduled_for:%d %b %Y})",
                     after={"assessors": [p.email for p in data["assessors"]], "criteria": [c.slug for c in data["criteria"]]})
        if assessment.status == AssessmentStatus.AGENDA:
            _email_agenda(assessment, changed=True)
    return assessment


def _email_agenda(assessment: Assessment, *, changed: bool = False) -> None:
    """Tell the manager, once the transaction has committed (nothing is sent for a
    write that was rolled back)."""
    service = assessment.service
    manager = service.manager
    if manager is None:
        return
    terms = Organisation.current().terms()
    criteria = [item.criterion.name for item in assessment.items.select_related("criterion")]
    subject = f"{'Changed agenda' if changed else 'Agenda'}: {assessment.get_kind_display().lower()} of {service.name} on {assessment.scheduled_for:%d %b %Y}"
    body = "\n".join([
        f"Dear {manager.name},",
        "",
        f"The {terms['executive']} will assess {service.name} ({_stage_label(assessment.stage)}) on {assessment.scheduled_for:%A %d %B %Y}.",
        "",
        "The criteria on the agenda:",
        *[f"  - {name}" for name in criteria],
        "",
        assessment.agenda_note or "",
        f"Assessors: {', '.join(p.name for p in assessment.assessors.all())}.",
    ])
    notify([manager], subject, reverse("lifecycle:assessment", args=[assessment.pk]), subject=subject, body=body)


@refuses_null_characters
def publish_assessment_agenda(*, actor: Person, assessment: Assessment) -> Assessment:
    """Publish the agenda in advance: it shows on the service page and the manager is emailed."""
    service = assessment.service
    authority = authorise(actor, "publish_assessment_agenda", service=service)
    with transaction.atomic():
        assessment = _lock(Assessment, assessment)
        _open(assessment, AssessmentStatus.SCHEDULED)
        if not assessment.items.exists():
            raise InvalidInput("Put at least one criterion on the agenda first.", field="criteria")
        assessment.status = AssessmentStatus.AGENDA
        assessment.agenda_published_at = timezone.now()
        assessment.revision += 1
        assessment.save()
        audit.record(actor, "publish_assessment_agenda", assessment, authority=authority, service=service,
                     summary=f"Published the agenda of the {assessment.get_kind_display().lower()} of {service.name}")
        _email_agenda(assessment)
    return assessment


@refuses_null_characters
def cancel_assessment(*, actor: Person, assessment: Assessment, reason: str) -> Assessment:
    service = assessment.service
    authority = authorise(actor, "cancel_assessment", service=service)
    reason = _prose(reason)
    if not reason:
        raise InvalidInput("Say why the assessment is cancelled.", field="reason")
    with transaction.atomic():
        assessment = _lock(Assessment, assessment)
        _open(assessment, AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA)
        assessment.status = AssessmentStatus.CANCELLED
        assessment.revision += 1
        assessment.save()
        audit.record(actor, "cancel_assessment", assessment, authority=authority, service=service,
                     summary=f"Cancelled the {assessment.get_kind_display().lower()} of {service.name}", reason=reason)
    return assessment


@refuses_null_characters
def record_assessment_decisions(*, actor: Person, assessment: Assessment, decisions: dict | None = None,
                                result: str | None = None, outcome: str | None = None, summary: str | None = None,
                                expected_revision: int | None = None) -> Assessment:
    """The assessors record, per criterion, Met or Not Met, what the team did well and
    what it needs to improve; and the overall result and outcome. ``decisions`` maps a
    criterion's id or slug to ``{"decision", "did_well", "to_improve"}``."""
    service = assessment.service
    authority = authorise(actor, "record_assessment_decisions", service=service, obj=assessment)
    errors = Errors()
    items = {item.criterion_id: item for item in assessment.items.select_related("criterion")}
    by_slug = {item.criterion.slug: item for item in items.values()}
    updates = []
    for ref, values in (decisions or {}).items():
        item = items.get(ref) if isinstance(ref, int) else (by_slug.get(str(ref)) or items.get(as_id(ref)))
        field = f"decisions[{ref}]"
        if item is None:
            errors.add(field, f"“{ref}” is not a criterion on this assessment's agenda.")
            continue
        values = values or {}
        decision = _text(values.get("decision")) if "decision" in values else item.decision
        if decision and decision not in Result.values:
            errors.add(f"{field}.decision", f"“{decision}” is not a decision: use met or not_met.")
        updates.append((item, decision,
                        _prose(values["did_well"]) if "did_well" in values else item.did_well,
                        _prose(values["to_improve"]) if "to_improve" in values else item.to_improve))
    if result not in (None, "") and result not in Result.values:
        errors.add("result", f"“{result}” is not a result: use met or not_met.")
    if outcome not in (None, "") and outcome_for(assessment.stage, outcome) is None:
        allowed = ", ".join(o.key for o in OUTCOMES[assessment.stage])
        errors.add("outcome", f"“{outcome}” is not an outcome of a {_stage_label(assessment.stage)} assessment: use {allowed}.")
    errors.raise_if_any()
    with transaction.atomic():
        assessment = _lock(Assessment, assessment)
        _open(assessment, AssessmentStatus.AGENDA)
        _check_revision(assessment, expected_revision, "This assessment")
        for item, decision, did_well, to_improve in updates:
            item.decision, item.did_well, item.to_improve = decision, did_well, to_improve
            item.save()
        if result is not None:
            assessment.result = result
        if outcome is not None:
            assessment.outcome = outcome
        if summary is not None:
            assessment.summary = _prose(summary)
        assessment.revision += 1
        assessment.save()
        audit.record(actor, "record_assessment_decisions", assessment, authority=authority, service=service,
                     summary=f"Recorded decisions on {len(updates)} criteria of the assessment of {service.name}",
                     after={"decisions": {i.criterion.slug: d for i, d, _, _ in updates}, "result": assessment.result,
                            "outcome": assessment.outcome})
    return assessment


def _next_due(service: Service, base: dt.date) -> dt.date:
    days = service.assessment_cadence_days or Organisation.current().live_cadence_days
    return base + dt.timedelta(days=days)


def _check_report(assessment, service, chosen, budget_amount, budget_period, decommission_condition,
                  decommission_reasons, migration_path):
    """Everything a report needs before it is published; every problem reported at once."""
    errors = Errors()
    undecided = [i.criterion.name for i in assessment.items.select_related("criterion") if not i.decision]
    if undecided:
        errors.add("decisions", f"Record Met or Not Met on every criterion first; still open: {', '.join(undecided[:3])}"
                                f"{' and more' if len(undecided) > 3 else ''}.")
    if assessment.result not in Result.values:
        errors.add("result", "Record the overall result, Met or Not Met.")
    if chosen is None:
        errors.add("outcome", "Choose the outcome of the assessment.")
    elif chosen.requires_met and assessment.result != Result.MET:
        errors.add("outcome", f"“{chosen.label.split(':')[0]}” needs a Met result; with Not Met the service stays in "
                              f"{_stage_label(assessment.stage)} and is reassessed.")
    amount, period = None, ""
    if chosen is not None and chosen.budget_for:
        amount = _money(errors, "budget_amount", budget_amount)
        period = _text(budget_period)
        if not period:
            errors.add("budget_period", "Say which period the budget is for, e.g. 2026-27.")
        elif len(period) > 40:
            errors.add("budget_period", "Keep the period to 40 characters.")
    condition = _text(decommission_condition).lower()
    reasons, path = _prose(decommission_reasons), _prose(migration_path)
    if chosen is not None and chosen.decommissions:
        if condition not in DECOMMISSION_CONDITIONS:
            errors.add("decommission_condition", "Say which condition is met: a (new needs it cannot meet, and a better "
                                                 "service) or b (the needs no longer exist).")
        if not reasons:
            errors.add("decommission_reasons", "Record why the service is decommissioned, so the organisation keeps the lesson.")
        consumed = (service.consumer_links.filter(version__service__current_version=F("version"))
                    .exclude(version__service__lifecycle_stage=Lifecycle.DECOMMISSIONED).exists())
        if consumed and not path:
            errors.add("migration_path", "Other services consume it: say how they migrate away.")
    errors.raise_if_any()
    return condition, reasons, path, amount, period


@refuses_null_characters
def publish_assessment_report(*, actor: Person, assessment: Assessment, budget_amount=None, budget_period: str = "",
                              decommission_condition: str = "", decommission_reasons: str = "", migration_path: str = "",
                              expected_revision: int | None = None) -> Assessment:
    """Publish the report to everyone. It pins the approved contract version it judged
    and the manager, and never changes again. Its outcome moves the service — or keeps
    it at its stage for a new round — as the outcome table says; progress allocates the
    next stage's budget in the same act; a decommissioning outcome keeps its reasons and
    the consumers' migration path in a new contract version; *Not Met* schedules a
    reassessment."""
    service = assessment.service
    authority = authorise(actor, "publish_assessment_report", service=service)
    with transaction.atomic():
        # checked on the rows as they are now, locked, not on what the caller last read
        service = _lock(Service, service)
        assessment = _lock(Assessment, assessment)
        _open(assessment, AssessmentStatus.AGENDA)
        _check_revision(assessment, expected_revision, "This assessment")
        chosen = outcome_for(assessment.stage, assessment.outcome)
        if chosen is not None and chosen.decommissions:
            authorise(actor, "decommission_service", service=service)
        condition, reasons, path, amount, period = _check_report(
            assessment, service, chosen, budget_amount, budget_period, decommission_condition, decommission_reasons,
            migration_path)
        if service.lifecycle_stage != assessment.stage:
            raise Conflict(f"{service.name} is now in {_stage_label(service.lifecycle_stage)}, not "
                           f"{_stage_label(assessment.stage)} as when this assessment was scheduled.", field="assessment")
        now = timezone.now()
        assessment.status = AssessmentStatus.PUBLISHED
        assessment.published_at = now
        assessment.published_by = actor
        assessment.contract_version_id = service.current_version_id
        assessment.manager_id = service.manager_id
        # what the service accounts for: the guidance it rejected, as it stood on the day
        from osom.governance.queries import rejected_guidance_for

        assessment.rejected_guidance = rejected_guidance_for(service)
        if chosen.decommissions:
            assessment.decommission_condition = condition
            assessment.decommission_reasons = reasons
            assessment.migration_path = path
        assessment.revision += 1
        assessment.save()

        moved_to = chosen.moves_to
        if moved_to:
            StageChange.objects.create(service=service, from_stage=assessment.stage, to_stage=moved_to, at=now,
                                       assessment=assessment, note=chosen.label)
            service.lifecycle_stage = moved_to
            service.stage_since = now
        elif chosen.new_round:
            StageChange.objects.create(service=service, from_stage=assessment.stage, to_stage=assessment.stage, at=now,
                                       assessment=assessment, note=f"A new round of {_stage_label(assessment.stage)}")
        if service.lifecycle_stage == Lifecycle.LIVE:
            service.next_assessment_due = _next_due(service, timezone.localdate(now))
        elif service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            service.next_assessment_due = None
        service.revision += 1
        service.save()
        if chosen.decommissions:
            write_decommissioned_version(
                actor=actor, service=service, migration_path=path,
                reasons=f"Condition ({condition}): {DECOMMISSION_CONDITIONS[condition]}\n\n{reasons}",
                note=f"Decommissioned by the assessment of {assessment.published_at:%d %b %Y}.",
            )
        allocation = None
        if chosen.budget_for:
            allocation = BudgetAllocation.objects.create(
                service=service, period=period, stage=chosen.budget_for, amount=amount, assessment=assessment,
                allocated_by=actor, note=f"Allocated with the report that moved {service.name} to {_stage_label(chosen.budget_for)}.",
            )
        reassessment = None
        if assessment.result == Result.NOT_MET and not chosen.decommissions:
            reassessment = Assessment.objects.create(
                service=service, kind=AssessmentKind.REASSESSMENT, stage=service.lifecycle_stage,
                scheduled_for=timezone.localdate(now) + dt.timedelta(days=REASSESSMENT_AFTER_DAYS), created_by=actor,
                reassesses=assessment, agenda_note="Reassessment of the criteria not met.",
            )
            reassessment.assessors.set(assessment.assessors.all())
            not_met = [i.criterion for i in assessment.items.select_related("criterion") if i.decision == Result.NOT_MET]
            _write_items(reassessment, not_met or [i.criterion for i in assessment.items.select_related("criterion")])
        summary = f"Published the report of the {assessment.get_kind_display().lower()} of {service.name}: " \
                  f"{assessment.get_result_display()}, {chosen.label.split(':')[0].lower()}"
        if moved_to:
            summary += f"; {service.name} moved from {_stage_label(assessment.stage)} to {_stage_label(moved_to)}"
        if allocation:
            summary += f"; {allocation.amount} allocated for {_stage_label(allocation.stage)} ({allocation.period})"
        if reassessment:
            summary += f"; reassessment scheduled for {reassessment.scheduled_for:%d %b %Y}"
        notify([service.manager, *assessment.assessors.all()], f"Assessment report published: {service.name}, "
               f"{assessment.get_result_display()}", reverse("lifecycle:assessment", args=[assessment.pk]))
        webhooks.emit("service.stage_changed", webhooks.stage_changed(service, from_stage=assessment.stage, actor=actor, assessment=assessment))
        webhooks.emit("report.published", webhooks.report_published(assessment, service=service, actor=actor))
        audit.record(actor, "publish_assessment_report", assessment, authority=authority, service=service, summary=summary,
                     before={"stage": assessment.stage},
                     after={"stage": service.lifecycle_stage, "result": assessment.result, "outcome": assessment.outcome,
                            "contract_version": assessment.contract_version.number if assessment.contract_version else None,
                            "budget": str(allocation.amount) if allocation else None})
    return assessment


@refuses_null_characters
def add_report_addendum(*, actor: Person, assessment: Assessment, text: str) -> ReportAddendum:
    """A later correction or note on a published report; the report itself never changes."""
    service = assessment.service
    authority = authorise(actor, "add_report_addendum", service=service, obj=assessment)
    text = _prose(text)
    if not text:
        raise InvalidInput("Write the addendum.", field="text")
    if assessment.status != AssessmentStatus.PUBLISHED:
        raise Conflict("Only a published report takes an addendum; until then, change the assessment itself.", field="assessment")
    with transaction.atomic():
        addendum = ReportAddendum.objects.create(assessment=assessment, text=text, author=actor)
        audit.record(actor, "add_report_addendum", assessment, authority=authority, service=service,
                     summary=f"Added an addendum to the report on {service.name} of {assessment.published_at:%d %b %Y}")
    return addendum


@refuses_null_characters
def set_assessment_cadence(*, actor: Person, days, service: Service | None = None) -> None:
    """How often live services are assessed: the organisation's default, or (with
    ``service``) one service's own interval; ``days=None`` with a service returns it to
    the default. Next-due dates are worked out again."""
    authority = authorise(actor, "set_assessment_cadence", service=service)
    if days in (None, "") and service is not None:
        value = None
    else:
        try:
            value = int(days)
        except (TypeError, ValueError):
            raise InvalidInput(f"“{days}” is not a number of days.", field="days")
        if not 7 <= value <= 3650:
            raise InvalidInput("The interval must be between 7 and 3650 days.", field="days")
    with transaction.atomic():
        org = Organisation.current()
        if service is None:
            before = org.live_cadence_days
            Organisation.objects.filter(pk=org.pk).update(live_cadence_days=value, revision=org.revision + 1)
            affected = Service.objects.filter(lifecycle_stage=Lifecycle.LIVE, assessment_cadence_days__isnull=True)
            target, label = org, f"Set the default interval between live assessments to {value} days (was {before})"
        else:
            service = _lock(Service, service)
            before = service.assessment_cadence_days
            service.assessment_cadence_days = value
            service.save(update_fields=["assessment_cadence_days"])
            affected = Service.objects.filter(pk=service.pk, lifecycle_stage=Lifecycle.LIVE)
            target = service
            label = (f"Set {service.name}'s interval between live assessments to {value} days" if value
                     else f"Returned {service.name} to the default interval between live assessments")
        _recompute_due(affected)
        audit.record(actor, "set_assessment_cadence", target, authority=authority, service=service, summary=label,
                     before={"days": before}, after={"days": value})


def _recompute_due(services) -> None:
    default = Organisation.current().live_cadence_days
    rows = services.annotate(last=Max("assessments__published_at")).values_list("pk", "last", "stage_since", "assessment_cadence_days")
    changed = []
    for pk, last, since, own in rows:
        base = timezone.localdate(last or since)
        changed.append(Service(pk=pk, next_assessment_due=base + dt.timedelta(days=own or default)))
    Service.objects.bulk_update(changed, ["next_assessment_due"], batch_size=1000)


# ---------------------------------------------------------------- budgets

def allocation_balance(allocation: BudgetAllocation) -> dict:
    spent = allocation.spends.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    reinvested = allocation.reinvestments.aggregate(s=Sum("amount"))["s"] or Decimal("0")
    return {"allocated": allocation.amount, "spent": spent, "reinvested": reinvested,
            "remaining": allocation.amount - spent - reinvested}


@refuses_null_characters
def allocate_budget(*, actor: Person, service: Service, period: str, amount, stage: str | None = None,
                    note: str = "") -> BudgetAllocation:
    """The executive allocates money to a service for a period, at its stage."""
    authority = authorise(actor, "allocate_budget", service=service)
    errors = Errors()
    period = _period(errors, period)
    value = _money(errors, "amount", amount)
    if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        errors.add("service", f"{service.name} is decommissioned; it is not funded any more.")
    else:
        stage = stage or service.lifecycle_stage
        if stage not in ASSESSED_STAGES:
            errors.add("stage", f"“{stage}” is not a stage that is funded: use discovery, alpha, beta or live.")
    errors.raise_if_any()
    with transaction.atomic():
        allocation = BudgetAllocation.objects.create(service=service, period=period, stage=stage, amount=value,
                                                     note=_prose(note), allocated_by=actor)
        audit.record(actor, "allocate_budget", allocation, authority=authority, service=service,
                     summary=f"Allocated {value} to {service.name} for {period} ({_stage_label(stage)})",
                     after={"amount": str(value), "period": period, "stage": stage})
    return allocation


@refuses_null_characters
def record_spend(*, actor: Person, allocation: BudgetAllocation, amount, spent_on, description: str) -> Spend:
    """Money spent against an allocation, recorded by the service's manager or team."""
    service = allocation.service
    authority = authorise(actor, "record_spend", service=service)
    errors = Errors()
    value = _money(errors, "amount", amount)
    day = _date(errors, "spent_on", spent_on)
    description = _text(description)
    if not description:
        errors.add("description", "Say what the money was spent on.")
    elif len(description) > 300:
        errors.add("description", "Keep the description to 300 characters.")
    errors.raise_if_any()
    with transaction.atomic():
        spend = Spend.objects.create(allocation=allocation, amount=value, spent_on=day, description=description,
                                     recorded_by=actor)
        audit.record(actor, "record_spend", spend, authority=authority, service=service,
                     summary=f"Recorded {value} spent by {service.name} on {description} ({allocation.period})",
                     after={"amount": str(value), "spent_on": day.isoformat()})
    return spend


@refuses_null_characters
def reinvest_savings(*, actor: Person, allocation: BudgetAllocation, amount, purpose: str) -> Reinvestment:
    """The manager re-invests savings found against an allocation (model 5.3)."""
    service = allocation.service
    authority = authorise(actor, "reinvest_savings", service=service)
    errors = Errors()
    value = _money(errors, "amount", amount)
    purpose = _text(purpose)
    if not purpose:
        errors.add("purpose", "Say what the savings are re-invested in.")
    elif len(purpose) > 300:
        errors.add("purpose", "Keep what they are re-invested in to 300 characters.")
    errors.raise_if_any()
    with transaction.atomic():
        allocation = _lock(BudgetAllocation, allocation)
        remaining = allocation_balance(allocation)["remaining"]
        if value > remaining:
            raise InvalidInput(f"Only {remaining} of this allocation is unspent; that is all that can be re-invested.",
                               field="amount")
        reinvestment = Reinvestment.objects.create(allocation=allocation, amount=value, purpose=purpose, recorded_by=actor)
        audit.record(actor, "reinvest_savings", reinvestment, authority=authority, service=service,
                     summary=f"{service.name} re-invested {value} of savings in {purpose}",
                     after={"amount": str(value), "period": allocation.period})
    return reinvestment


@refuses_null_characters
def request_funding(*, actor: Person, service: Service, kind: str, period: str, rationale: str, amount=None) -> FundingRequest:
    """A manager who cannot meet the contract on the budget asks the executive to
    expand the budget, or to narrow the scope."""
    authority = authorise(actor, "request_funding", service=service)
    errors = Errors()
    if Service.objects.filter(pk=service.pk, lifecycle_stage=Lifecycle.DECOMMISSIONED).exists():
        errors.add("service", f"{service.name} is decommissioned; it is not funded any more.")
    if kind not in FundingRequest.Kind.values:
        errors.add("kind", f"“{kind}” is not a kind of request: use expand or narrow.")
    period = _period(errors, period)
    value = _money(errors, "amount", amount, required=(kind == FundingRequest.Kind.EXPAND))
    rationale = _prose(rationale)
    if not rationale:
        errors.add("rationale", "Explain why the contract cannot be met on the budget.")
    errors.raise_if_any()
    with transaction.atomic():
        request = FundingRequest.objects.create(service=service, kind=kind, period=period, amount=value,
                                                rationale=rationale, requested_by=actor)
        audit.record(actor, "request_funding", request, authority=authority, service=service,
                     summary=f"{service.name} asked to {request.get_kind_display().lower()}"
                             + (f" by {value}" if value else "") + f" for {period}",
                     after={"kind": kind, "amount": str(value) if value else None})
    return request


@refuses_null_characters
def decide_funding_request(*, actor: Person, request: FundingRequest, grant: bool, note: str = "",
                           amount=None) -> FundingRequest:
    """The executive grants or declines a funding request, saying why. Granting an
    expansion allocates the money in the same act (the amount asked, unless another is given)."""
    service = request.service
    authority = authorise(actor, "decide_funding_request", service=service)
    errors = Errors()
    note = _prose(note)
    if not note:
        errors.add("note", "Say why, so the manager and everyone else can see the reasoning.")
    value = None
    if grant and request.kind == FundingRequest.Kind.EXPAND:
        value = _money(errors, "amount", amount if amount not in (None, "") else request.amount)
    errors.raise_if_any()
    with transaction.atomic():
        request = _lock(FundingRequest, request)
        if grant and Service.objects.filter(pk=service.pk, lifecycle_stage=Lifecycle.DECOMMISSIONED).exists():
            raise Conflict(f"{service.name} is decommissioned; it is not funded any more. Decline the request.",
                           field="request")
        if request.status != FundingRequest.Status.OPEN:
            raise Conflict(f"This request was already {request.get_status_display().lower()}.", field="request")
        request.status = FundingRequest.Status.GRANTED if grant else FundingRequest.Status.DECLINED
        request.decision_note = note
        request.decided_by = actor
        request.decided_at = timezone.now()
        request.save()
        if value is not None:
            BudgetAllocation.objects.create(service=service, period=request.period, stage=service.lifecycle_stage,
                                            amount=value, funding_request=request, allocated_by=actor,
                                            note=f"Granted on request: {note}")
        notify([request.requested_by, service.manager], f"Funding request {request.get_status_display().lower()}: {service.name}",
               reverse("lifecycle:budget", args=[service.slug]), body=note)
        audit.record(actor, "decide_funding_request", request, authority=authority, service=service,
                     summary=f"{'Granted' if grant else 'Declined'} {service.name}'s request to "
                             f"{request.get_kind_display().lower()}" + (f"; {value} allocated" if value else ""),
                     reason=note)
    return request
