"""The lifecycle's pages: the criteria library, scheduling and conducting an assessment,
its published report (also as Markdown), the network's reports and what is due, and
budgets. Every POST calls one action through :func:`osom.core.views.apply_action`: a
role that may not act gets the 403 page with the policy's sentence (checked before any
form is shown), bad input and conflicts come back on the fields they name."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from osom.core.context import organisation_for
from osom.core.errors import DomainError, NotAllowed
from osom.core.models import AuditEvent
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Service
from osom.network.stages import Lifecycle

from . import actions, queries
from .forms import (
    AddendumForm,
    AllocateForm,
    AssessmentEditForm,
    CadenceForm,
    CancelForm,
    CriterionForm,
    DecideRequestForm,
    DecisionsForm,
    FundingRequestForm,
    PublishReportForm,
    ReinvestForm,
    ReportFilterForm,
    ScheduleForm,
    SpendForm,
)
from .models import Assessment, AssessmentStatus, BudgetAllocation, Criterion, CriterionSource, FundingRequest
from .outcomes import DECOMMISSION_CONDITIONS

__all__ = [
    "reports", "due", "criteria", "criterion_page", "criterion_add", "criterion_edit", "schedule", "assessment_page", "assessment_edit",
    "publish_agenda", "cancel", "record_decisions", "publish_report", "report_page", "report_markdown",
    "add_addendum", "budget", "allocate", "record_spend", "reinvest", "request_funding", "decide_request",
    "service_cadence", "budgets",
]

NAV = "assessments"


def _page(request, qs, param: str = "page", size: int | None = None):
    return Paginator(qs, size or settings.PAGE_SIZE).get_page(request.GET.get(param))


def _post_only(redirect_to):
    """A POST endpoint; a GET (a reload, a shared link) goes to the page it belongs to."""
    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method != "POST":
                return redirect(redirect_to(*args, **kwargs))
            return view(request, *args, **kwargs)
        return wrapped
    return decorate


def _renaming(call, rename):
    """Run ``call``; the field names in its refusal are turned into the form's own."""
    def wrapped():
        try:
            return call()
        except NotAllowed:
            raise
        except DomainError as exc:
            exc.errors = {rename(k): v for k, v in exc.errors.items()}
            raise
    return wrapped


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("manager"), slug=slug)


def _assessment(pk: int) -> Assessment:
    return get_object_or_404(Assessment.objects.select_related("service", "service__manager"), pk=pk)


# ---------------------------------------------------------------- network-wide lists


def reports(request):
    """Every published assessment report, newest first, filtered and paged."""
    form = ReportFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = queries.published_reports(
        since=filters.get("since"), until=filters.get("until"), result=filters.get("result") or "",
        stage=filters.get("stage") or "", service=(filters.get("service") or "").strip(),
    )
    page = _page(request, qs)
    page.object_list = list(page.object_list)
    for r in page.object_list:
        r.outcome_text = queries.outcome_label(r)
    context = {"nav": NAV, "form": form, "page": page, "filtered": any(filters.values()) if filters else False}
    if request.htmx and request.htmx.target == "reports-results":
        return render(request, "lifecycle/_reports_results.html", context)
    return render(request, "lifecycle/reports.html", context)


def due(request):
    """Live services by their next periodic assessment, the overdue first; the
    assessments already coming up; the executive sets the default interval here."""
    org = organisation_for(request)
    cadence_form = None
    if request.method == "POST":
        if refused := refusal(request.user, "set_assessment_cadence"):
            return forbidden(request, refused)
        cadence_form = CadenceForm(request.POST)
        ok, result = apply_action(request, cadence_form, lambda: actions.set_assessment_cadence(
            actor=request.user, days=cadence_form.cleaned_data["days"]))
        if ok:
            messages.success(request, f"Live services are now assessed every {int(cadence_form.cleaned_data['days'])} days "
                                      f"unless set otherwise; their next due dates were worked out again.")
            return redirect("lifecycle:due")
        if result is not None:
            return result
    elif can(request.user, "set_assessment_cadence"):
        cadence_form = CadenceForm(initial={"days": org.live_cadence_days})
    today = timezone.localdate()
    services = _page(request, queries.due_services())
    upcoming = _page(request, queries.upcoming_assessments(), "upcoming")
    return render(request, "lifecycle/due.html", {
        "nav": NAV, "services": services, "upcoming": upcoming, "today": today, "cadence_form": cadence_form,
        "default_days": org.live_cadence_days,
    })


# ---------------------------------------------------------------- criteria


def criteria(request):
    """The criteria library, grouped by source: what each criterion means and the stages it suits."""
    source = request.GET.get("source", "")
    if source not in CriterionSource.values:
        source = ""
    terms = organisation_for(request).terms()
    headings = queries.source_headings(terms["executive"])
    page = _page(request, queries.criteria_library(source=source))
    page.object_list = list(page.object_list)
    for c in page.object_list:
        c.group_heading = headings.get(c.source, c.source)
    return render(request, "lifecycle/criteria.html", {
        "nav": NAV, "page": page, "source": source,
        "sources": [(s, headings[s]) for s in queries.SOURCE_ORDER],
    })


def criterion_page(request, slug: str):
    """One criterion: what it means, where it comes from, the stages it suits. Agendas
    and reports link here, so the link works whichever page of the library it is on."""
    criterion = get_object_or_404(Criterion, slug=slug)
    terms = organisation_for(request).terms()
    return render(request, "lifecycle/criterion.html", {
        "nav": NAV, "criterion": criterion,
        "source_heading": queries.source_headings(terms["executive"]).get(criterion.source, criterion.source),
    })


def criterion_add(request):
    if refused := refusal(request.user, "manage_criteria"):
        return forbidden(request, refused)
    form = CriterionForm(request.POST or None)
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.add_criterion(
            actor=request.user, name=form.cleaned_data["name"], meaning=form.cleaned_data["meaning"],
            link=form.cleaned_data["link"], stages=form.cleaned_data["stages"],
            source=form.cleaned_data.get("source") or CriterionSource.EXECUTIVE))
        if ok:
            messages.success(request, f"Added the criterion “{result.name}”.")
            return redirect("lifecycle:criterion", slug=result.slug)
        if result is not None:
            return result
    return render(request, "lifecycle/criterion_form.html", {"nav": NAV, "form": form, "criterion": None})


def criterion_edit(request, slug: str):
    criterion = get_object_or_404(Criterion, slug=slug)
    if refused := refusal(request.user, "manage_criteria"):
        return forbidden(request, refused)
    initial = {"name": criterion.name, "meaning": criterion.meaning, "link": criterion.link,
               "stages": criterion.stages, "active": criterion.active, "revision": criterion.revision}
    form = CriterionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.edit_criterion(
            actor=request.user, criterion=criterion, name=form.cleaned_data["name"],
            meaning=form.cleaned_data["meaning"], link=form.cleaned_data["link"], stages=form.cleaned_data["stages"],
            active=form.cleaned_data["active"], expected_revision=form.cleaned_data.get("revision")))
        if ok:
            messages.success(request, f"Saved the criterion “{result.name}”.")
            return redirect("lifecycle:criterion", slug=result.slug)
        if result is not None:
            return result
    return render(request, "lifecycle/criterion_form.html", {"nav": NAV, "form": form, "criterion": criterion})


# ---------------------------------------------------------------- scheduling


def schedule(request, slug: str):
    """The executive schedules an assessment of the service at its current stage."""
    service = _service(slug)
    if refused := refusal(request.user, "schedule_assessment", service=service):
        return forbidden(request, refused)
    open_one = queries.open_assessment(service)
    initial = {"assessors": [request.user.pk]}
    form = ScheduleForm(request.POST or None, service=service, initial=initial,
                        headings=queries.source_headings(organisation_for(request).executive_name))
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.schedule_assessment(
            actor=request.user, service=service, kind=form.cleaned_data.get("kind") or "",
            scheduled_for=form.cleaned_data["scheduled_for"], assessors=list(form.cleaned_data["assessors"]),
            criteria=list(form.cleaned_data["criteria"]), agenda_note=form.cleaned_data["agenda_note"]))
        if ok:
            messages.success(request, f"Scheduled the assessment of {service.name} for {result.scheduled_for:%-d %B %Y}. "
                                      "Publish its agenda when it is ready: the manager is told then.")
            return redirect("lifecycle:assessment", pk=result.pk)
        if result is not None:
            return result
    return render(request, "lifecycle/schedule.html", {
        "nav": NAV, "service": service, "form": form, "open_one": open_one, "editing": False,
    })


def assessment_edit(request, pk: int):
    assessment = _assessment(pk)
    service = assessment.service
    if refused := refusal(request.user, "edit_assessment", service=service):
        return forbidden(request, refused)
    if assessment.status not in (AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA):
        messages.warning(request, "Only an assessment not yet reported on, nor cancelled, can be changed.")
        return redirect("lifecycle:assessment", pk=assessment.pk)
    initial = {
        "scheduled_for": assessment.scheduled_for.isoformat(), "agenda_note": assessment.agenda_note,
        "assessors": list(assessment.assessors.values_list("pk", flat=True)),
        "criteria": list(assessment.items.order_by("position").values_list("criterion_id", flat=True)),
        "revision": assessment.revision,
    }
    form = AssessmentEditForm(request.POST or None, service=service, initial=initial, keep=initial["criteria"],
                              headings=queries.source_headings(organisation_for(request).executive_name))
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.edit_assessment(
            actor=request.user, assessment=assessment, scheduled_for=form.cleaned_data["scheduled_for"],
            assessors=list(form.cleaned_data["assessors"]), criteria=list(form.cleaned_data["criteria"]),
            agenda_note=form.cleaned_data["agenda_note"], expected_revision=form.cleaned_data.get("revision")))
        if ok:
            note = " The manager was sent the changed agenda." if result.status == AssessmentStatus.AGENDA else ""
            messages.success(request, f"Saved the assessment.{note}")
            return redirect("lifecycle:assessment", pk=result.pk)
        if result is not None:
            return result
    return render(request, "lifecycle/schedule.html", {
        "nav": NAV, "service": service, "form": form, "assessment": assessment, "editing": True,
    })


# ---------------------------------------------------------------- one assessment


def _cancel_reason(assessment: Assessment) -> str:
    return (
        AuditEvent.objects.filter(verb="cancel_assessment", object_type="assessment", object_id=str(assessment.pk))
        .order_by("-at").values_list("reason", flat=True).first() or ""
    )


def _assessment_context(request, assessment: Assessment, *, cancel_form=None, decisions_form=None,
                        publish_form=None) -> dict:
    user, service = request.user, assessment.service
    status = assessment.status
    open_ = status in (AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA)
    context = {
        "nav": NAV, "assessment": assessment, "service": service,
        "may_edit": open_ and can(user, "edit_assessment", service=service),
        "may_publish_agenda": status == AssessmentStatus.SCHEDULED and can(user, "publish_assessment_agenda", service=service),
        "may_cancel": open_ and can(user, "cancel_assessment", service=service),
        "cancel_reason": _cancel_reason(assessment) if status == AssessmentStatus.CANCELLED else "",
    }
    if context["may_cancel"]:
        context["cancel_form"] = cancel_form or CancelForm()
    if status == AssessmentStatus.AGENDA:
        items = list(assessment.items.all())
        if decisions_form is not None or can(user, "record_assessment_decisions", service=service, obj=assessment):
            context["decisions_form"] = decisions_form or DecisionsForm(assessment=assessment, items=items)
        if publish_form is not None or can(user, "publish_assessment_report", service=service):
            context["publish_form"] = publish_form or PublishReportForm(assessment=assessment)
        context["undecided"] = [i.criterion.name for i in items if not i.decision]
        context["ready"] = not context["undecided"] and bool(assessment.result) and bool(assessment.outcome)
    return context


def assessment_page(request, pk: int):
    """An assessment: its agenda and, by status, what can be done with it; once its
    report is published, the report."""
    try:
        assessment = queries.assessment_detail(pk)
    except Assessment.DoesNotExist:
        raise Http404("No assessment has that number.")
    if assessment.is_published:
        return _render_report(request, assessment)
    return render(request, "lifecycle/assessment.html", _assessment_context(request, assessment))


def _rerender(request, pk: int, **forms):
    """The assessment page again, with the form that was refused bound to what was sent."""
    assessment = queries.assessment_detail(pk)
    return render(request, "lifecycle/assessment.html", _assessment_context(request, assessment, **forms))


@_post_only(lambda pk: reverse("lifecycle:assessment", args=[pk]))
def publish_agenda(request, pk: int):
    assessment = _assessment(pk)
    if refused := refusal(request.user, "publish_assessment_agenda", service=assessment.service):
        return forbidden(request, refused)
    ok, result = apply_action(request, None, lambda: actions.publish_assessment_agenda(actor=request.user, assessment=assessment))
    if ok:
        who = assessment.service.manager.name if assessment.service.manager else "nobody: the service has no manager"
        messages.success(request, f"Published the agenda; it shows on the service page. Sent to {who}.")
    elif result is not None:
        return result
    return redirect("lifecycle:assessment", pk=pk)


@_post_only(lambda pk: reverse("lifecycle:assessment", args=[pk]))
def cancel(request, pk: int):
    assessment = _assessment(pk)
    if refused := refusal(request.user, "cancel_assessment", service=assessment.service):
        return forbidden(request, refused)
    form = CancelForm(request.POST)
    ok, result = apply_action(request, form, lambda: actions.cancel_assessment(
        actor=request.user, assessment=assessment, reason=form.cleaned_data["reason"]))
    if ok:
        messages.success(request, "Cancelled the assessment.")
        return redirect("lifecycle:assessment", pk=pk)
    if result is not None:
        return result
    return _rerender(request, pk, cancel_form=form)


@_post_only(lambda pk: reverse("lifecycle:assessment", args=[pk]))
def record_decisions(request, pk: int):
    """The assessors (or the executive) record the decisions, the result and the outcome."""
    assessment = _assessment(pk)
    if refused := refusal(request.user, "record_assessment_decisions", service=assessment.service, obj=assessment):
        return forbidden(request, refused)
    items = list(assessment.items.select_related("criterion").order_by("position", "pk"))
    form = DecisionsForm(request.POST, assessment=assessment, items=items)
    ok, result = apply_action(request, form, _renaming(lambda: actions.record_assessment_decisions(
        actor=request.user, assessment=assessment, decisions=form.decisions(),
        result=form.cleaned_data.get("result") or "", outcome=form.cleaned_data.get("outcome") or "",
        summary=form.cleaned_data.get("summary") or "", expected_revision=form.cleaned_data.get("revision"),
    ), DecisionsForm.field_for))
    if ok:
        messages.success(request, "Saved the decisions.")
        return redirect(reverse("lifecycle:assessment", args=[pk]) + "#publish")
    if result is not None:
        return result
    return _rerender(request, pk, decisions_form=form)


@_post_only(lambda pk: reverse("lifecycle:assessment", args=[pk]))
def publish_report(request, pk: int):
    """The executive publishes the report; its outcome moves the service."""
    assessment = _assessment(pk)
    if refused := refusal(request.user, "publish_assessment_report", service=assessment.service):
        return forbidden(request, refused)
    form = PublishReportForm(request.POST, assessment=assessment)
    ok, result = apply_action(request, form, lambda: actions.publish_assessment_report(
        actor=request.user, assessment=assessment, **form.action_kwargs()))
    if ok:
        result.service.refresh_from_db()
        messages.success(request, f"Published the report. {result.service.name} is now in "
                                  f"{result.service.get_lifecycle_stage_display().lower()}.")
        return redirect("lifecycle:assessment", pk=pk)
    if result is not None:
        return result
    return _rerender(request, pk, publish_form=form)


# ---------------------------------------------------------------- the report


def _report_context(request, assessment: Assessment, addendum_form=None) -> dict:
    service = assessment.service
    allocations = list(assessment.allocations.order_by("pk"))
    may_add = can(request.user, "add_report_addendum", service=service, obj=assessment)
    return {
        "nav": NAV, "assessment": assessment, "service": service, "version": assessment.pinned_version,
        "published_day": timezone.localtime(assessment.published_at).date(),
        "previous": queries.previous_reports(assessment), "allocations": allocations,
        "addendum_form": addendum_form or (AddendumForm() if may_add else None),
        "decommission_condition_text": DECOMMISSION_CONDITIONS.get(assessment.decommission_condition, ""),
    }


def _render_report(request, assessment: Assessment, addendum_form=None):
    return render(request, "lifecycle/report.html", _report_context(request, assessment, addendum_form))


def report_page(request, pk: int):
    try:
        assessment = queries.assessment_detail(pk)
    except Assessment.DoesNotExist:
        raise Http404("No assessment has that number.")
    if not assessment.is_published:
        return redirect("lifecycle:assessment", pk=pk)
    return _render_report(request, assessment)


def report_markdown(request, pk: int):
    """The published report as a Markdown file to keep or send."""
    try:
        assessment = queries.assessment_detail(pk)
    except Assessment.DoesNotExist:
        raise Http404("No assessment has that number.")
    if not assessment.is_published:
        raise Http404("This assessment has no published report yet.")
    org = organisation_for(request)
    text = queries.report_markdown(
        assessment, terms=org.terms(), previous=queries.previous_reports(assessment),
        allocations=assessment.allocations.order_by("pk"), currency=org.currency,
        base_url=request.build_absolute_uri("/").rstrip("/"),
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{queries.report_filename(assessment)}"'
    return response


@_post_only(lambda pk: reverse("lifecycle:assessment", args=[pk]))
def add_addendum(request, pk: int):
    assessment = _assessment(pk)
    if refused := refusal(request.user, "add_report_addendum", service=assessment.service, obj=assessment):
        return forbidden(request, refused)
    form = AddendumForm(request.POST)
    ok, result = apply_action(request, form, lambda: actions.add_report_addendum(
        actor=request.user, assessment=assessment, text=form.cleaned_data["text"]))
    if ok:
        messages.success(request, "Added the addendum to the report.")
        return redirect(reverse("lifecycle:assessment", args=[pk]) + "#addenda")
    if result is not None:
        return result
    return _render_report(request, queries.assessment_detail(pk), addendum_form=form)


# ---------------------------------------------------------------- budgets


def _budget_context(request, service: Service, **bound) -> dict:
    user = request.user
    money = queries.service_budget(service)
    allocations = money["allocations"]
    live_service = service.lifecycle_stage != Lifecycle.DECOMMISSIONED
    context = {
        "nav": "network", "service": service, **money,
        "spends": _page(request, queries.service_spends(service), "spends"),
        "reinvestments": _page(request, queries.service_reinvestments(service), "reinvestments"),
        "requests": _page(request, queries.service_requests(service), "requests"),
        "default_days": organisation_for(request).live_cadence_days,
    }

    def offer(name, act, make, when=True):
        if name in bound:
            context[name] = bound[name]
        elif when and can(user, act, service=service):
            context[name] = make()

    offer("allocate_form", "allocate_budget",
          lambda: AllocateForm(initial={"stage": service.lifecycle_stage if live_service else ""}), live_service)
    offer("spend_form", "record_spend",
          lambda: SpendForm(service=service, allocations=allocations,
                            initial={"spent_on": timezone.localdate().isoformat()}), bool(allocations))
    offer("reinvest_form", "reinvest_savings", lambda: ReinvestForm(service=service, allocations=allocations),
          bool(allocations))
    offer("request_form", "request_funding", lambda: FundingRequestForm(), live_service)
    offer("cadence_form", "set_assessment_cadence",
          lambda: CadenceForm(initial={"days": service.assessment_cadence_days or ""}))
    may_decide = can(user, "decide_funding_request", service=service)
    deciding = bound.get("decide_form")
    context["requests"].object_list = list(context["requests"].object_list)
    for r in context["requests"].object_list:
        if deciding is not None and deciding.request_id == r.pk:
            r.decide_form = deciding
        elif may_decide and r.status == FundingRequest.Status.OPEN:
            r.decide_form = DecideRequestForm(prefix=f"r{r.pk}")
    return context


def budget(request, slug: str):
    """A service's money: what it was given, spent, re-invested and asked for."""
    service = _service(slug)
    return render(request, "lifecycle/budget.html", _budget_context(request, service))


def _budget_post(request, slug, act, form_name, make_form, call, success):
    service = _service(slug)
    if refused := refusal(request.user, act, service=service):
        return forbidden(request, refused)
    form = make_form(service)
    ok, result = apply_action(request, form, lambda: call(service, form))
    if ok:
        messages.success(request, success(service, result))
        return redirect(reverse("lifecycle:budget", args=[service.slug]))
    if result is not None:
        return result
    return render(request, "lifecycle/budget.html", _budget_context(request, service, **{form_name: form}))


def _allocations(service):
    return list(BudgetAllocation.objects.filter(service=service).order_by("-allocated_at", "-pk"))


def _money_text(request, value) -> str:
    return queries.format_money(value, organisation_for(request).currency)


def _budget_redirect(slug, **_):
    return reverse("lifecycle:budget", args=[slug])


@_post_only(_budget_redirect)
def allocate(request, slug: str):
    return _budget_post(
        request, slug, "allocate_budget", "allocate_form", lambda s: AllocateForm(request.POST),
        lambda s, f: actions.allocate_budget(actor=request.user, service=s, period=f.cleaned_data["period"],
                                             amount=f.cleaned_data["amount"], stage=f.cleaned_data["stage"],
                                             note=f.cleaned_data["note"]),
        lambda s, a: f"Allocated {_money_text(request, a.amount)} to {s.name} for {a.period}.",
    )


@_post_only(_budget_redirect)
def record_spend(request, slug: str):
    return _budget_post(
        request, slug, "record_spend", "spend_form",
        lambda s: SpendForm(request.POST, service=s, allocations=_allocations(s)),
        lambda s, f: actions.record_spend(actor=request.user, allocation=f.cleaned_data["allocation"],
                                          amount=f.cleaned_data["amount"], spent_on=f.cleaned_data["spent_on"],
                                          description=f.cleaned_data["description"]),
        lambda s, sp: f"Recorded {_money_text(request, sp.amount)} spent on {sp.description}.",
    )


@_post_only(_budget_redirect)
def reinvest(request, slug: str):
    return _budget_post(
        request, slug, "reinvest_savings", "reinvest_form",
        lambda s: ReinvestForm(request.POST, service=s, allocations=_allocations(s)),
        lambda s, f: actions.reinvest_savings(actor=request.user, allocation=f.cleaned_data["allocation"],
                                              amount=f.cleaned_data["amount"], purpose=f.cleaned_data["purpose"]),
        lambda s, r: f"Re-invested {_money_text(request, r.amount)} of savings in {r.purpose}.",
    )


@_post_only(_budget_redirect)
def request_funding(request, slug: str):
    return _budget_post(
        request, slug, "request_funding", "request_form", lambda s: FundingRequestForm(request.POST),
        lambda s, f: actions.request_funding(actor=request.user, service=s, kind=f.cleaned_data.get("kind") or "",
                                             period=f.cleaned_data["period"], rationale=f.cleaned_data["rationale"],
                                             amount=f.cleaned_data["amount"] or None),
        lambda s, r: f"Sent your request to the {organisation_for(request).executive_name.lower()}: "
                     f"{r.get_kind_display().lower()} for {r.period}.",
    )


@_post_only(_budget_redirect)
def decide_request(request, slug: str, request_id: int):
    service = _service(slug)
    funding = get_object_or_404(FundingRequest, pk=request_id, service=service)

    def make(s):
        form = DecideRequestForm(request.POST, prefix=f"r{funding.pk}")
        form.request_id = funding.pk
        return form

    return _budget_post(
        request, slug, "decide_funding_request", "decide_form", make,
        lambda s, f: actions.decide_funding_request(actor=request.user, request=funding,
                                                    grant=f.cleaned_data["decision"] == "grant",
                                                    note=f.cleaned_data["note"], amount=f.cleaned_data["amount"] or None),
        lambda s, r: f"{r.get_status_display()}: the request to {r.get_kind_display().lower()} for {r.period}.",
    )


@_post_only(_budget_redirect)
def service_cadence(request, slug: str):
    return _budget_post(
        request, slug, "set_assessment_cadence", "cadence_form", lambda s: CadenceForm(request.POST),
        lambda s, f: actions.set_assessment_cadence(actor=request.user, service=s, days=f.cleaned_data["days"].strip() or None),
        lambda s, _: (f"{s.name} is now assessed every {int(request.POST['days'])} days while live."
                      if request.POST.get("days", "").strip() else f"{s.name} is assessed at the organisation's default interval."),
    )


def budgets(request):
    """The network's money: allocated against spent, by stage and by period, and the
    funding requests awaiting the executive."""
    periods = _page(request, queries.budget_periods(), "periods")
    page_periods = list(periods.object_list)
    overview = queries.budget_overview(page_periods)
    open_requests = _page(request, queries.open_funding_requests(), "requests")
    return render(request, "lifecycle/budgets.html", {
        "nav": NAV, "periods": periods, "open_requests": open_requests, **overview,
    })
