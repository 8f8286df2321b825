"""The executive's levers as pages (model 5.5–5.7): mandates as campaigns with their
burn-up, guidance and each service's decision on it, disputes and their mediation, the
dashboards ("what needs my attention", "what is asked of my services") and a person's
notifications. Demand management and deviations are in ``demand_views``.

Every POST calls one action through :func:`osom.core.views.apply_action`: a role that
may not act gets the 403 page with the policy's sentence (checked before any form is
shown), bad input and conflicts come back on the fields they name, nothing is written.
Lists paginate and cost a fixed number of queries whatever their length."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from osom.core.errors import DomainError, NotAllowed
from osom.core.models import Notification, Role
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Service, TeamMembership
from osom.network.stages import Evolution, Lifecycle

from . import actions, queries
from .forms import (
    FILTER_FIELDS,
    USERS_CHOICES,
    AcknowledgeForm,
    CloseMandateForm,
    DecisionForm,
    DisputeFilterForm,
    EvaluationDisputeForm,
    GuidanceFilterForm,
    GuidanceForm,
    MandateFilterForm,
    MandateForm,
    ProgressForm,
    ResolveForm,
    ServicesDisputeForm,
    WithdrawDisputeForm,
    WithdrawGuidanceForm,
)
from .models import Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget

__all__ = [
    "mandate_list", "mandate_new", "mandate_edit", "mandate_page", "mandate_issue", "mandate_remind", "mandate_close",
    "target_acknowledge", "target_progress", "guidance_list", "guidance_new", "guidance_edit", "guidance_page",
    "guidance_publish", "guidance_withdraw", "guidance_decide", "dispute_list", "dispute_raise", "dispute_raise_evaluation",
    "dispute_page", "dispute_resolve", "dispute_withdraw", "dashboard", "notifications",
]

DONE, ACKNOWLEDGED, PENDING = MandateTarget.Status.DONE, MandateTarget.Status.ACKNOWLEDGED, MandateTarget.Status.PENDING


def _page(request, qs, param: str = "page"):
    return Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get(param))


def _renaming(call, names: dict[str, str]):
    """Run ``call``; the fields its refusal names are renamed to the form's own."""
    def wrapped():
        try:
            return call()
        except NotAllowed:
            raise
        except DomainError as exc:
            exc.errors = {names.get(k, k): v for k, v in exc.errors.items()}
            raise
    return wrapped


def _button(request, call, success, back: str):
    """A bare button (issue, remind, publish): the refusal becomes a message or a 403."""
    ok, result = apply_action(request, None, call)
    if ok:
        messages.success(request, success(result) if callable(success) else success)
    elif result is not None:
        return result
    return redirect(back)


def _results(request, target: str, fragment: str, page: str, context: dict):
    """One view, full page or fragment (design habit 9)."""
    if request.htmx and request.htmx.target == target:
        return render(request, fragment, context)
    return render(request, page, context)


# ---------------------------------------------------------------- mandates

def _with_progress(qs):
    return qs.annotate(
        total=Count("targets"),
        done=Count("targets", filter=Q(targets__status=DONE)),
        acknowledged=Count("targets", filter=Q(targets__status__in=[ACKNOWLEDGED, DONE])),
    )


def mandate_list(request):
    """Every mandate: its status, due date and progress, the issued ones first."""
    form = MandateFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = _with_progress(Mandate.objects.all())
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    order = Case(When(status=Mandate.Status.ISSUED, then=Value(0)), When(status=Mandate.Status.DRAFT, then=Value(1)),
                 default=Value(2), output_field=IntegerField())
    page = _page(request, qs.order_by(order, "due_date", "-pk"))
    context = {"nav": "mandates", "form": form, "page": page, "today": timezone.localdate(),
               "filtered": bool(filters.get("status"))}
    return _results(request, "mandate-results", "governance/_mandate_results.html", "governance/mandates.html", context)


def _scope_preview(params) -> dict:
    """How many services a filter chooses today, and the first of them."""
    chosen = {k: (params.get(k) or "").strip() for k in FILTER_FIELDS if (params.get(k) or "").strip()}
    if not chosen:
        return {"chosen": False}
    qs = actions.scope_services(chosen)
    count, names = qs.count(), list(qs.order_by("name").values_list("name", flat=True)[:8])
    return {"chosen": True, "count": count, "names": names, "more": count - len(names)}


def _mandate_form_page(request, form, mandate=None):
    data = form.data if form.is_bound else form.initial
    return render(request, "governance/mandate_form.html", {
        "nav": "mandates", "form": form, "mandate": mandate,
        "preview": _scope_preview(data),
    })


def mandate_new(request):
    """The executive drafts a mandate; a filter's matching services are counted as it is
    chosen (htmx asks this same view for the ``scope-preview`` fragment)."""
    if refused := refusal(request.user, "draft_mandate"):
        return forbidden(request, refused)
    if request.htmx and request.htmx.target == "scope-preview":
        return render(request, "governance/_scope_preview.html", {"preview": _scope_preview(request.GET)})
    form = MandateForm(request.POST or None, initial={"scope": "list"})
    if request.method == "POST":
        ok, result = apply_action(request, form, _renaming(
            lambda: actions.draft_mandate(actor=request.user, **form.action_kwargs()), {"scope_filter": "scope"}))
        if ok:
            messages.success(request, f"Drafted the mandate “{result.title}”. Check it, then issue it.")
            return redirect("governance:mandate", pk=result.pk)
        if result is not None:
            return result
    return _mandate_form_page(request, form)


def mandate_edit(request, pk: int):
    """Rewrite a mandate while it is a draft."""
    mandate = get_object_or_404(Mandate, pk=pk)
    if refused := refusal(request.user, "draft_mandate"):
        return forbidden(request, refused)
    if mandate.status != Mandate.Status.DRAFT:
        messages.warning(request, "This mandate is issued already; it can no longer be rewritten.")
        return redirect("governance:mandate", pk=mandate.pk)
    form = MandateForm(request.POST or None, initial=MandateForm.initial_for(mandate))
    if request.method == "POST":
        ok, result = apply_action(request, form, _renaming(
            lambda: actions.draft_mandate(actor=request.user, mandate=mandate, **form.action_kwargs()),
            {"scope_filter": "scope"}))
        if ok:
            messages.success(request, f"Saved the draft mandate “{result.title}”.")
            return redirect("governance:mandate", pk=mandate.pk)
        if result is not None:
            return result
    return _mandate_form_page(request, form, mandate)


def _scope_rows(mandate: Mandate) -> list[tuple[str, str]]:
    """The saved filter in words: ("Lifecycle stage", "Live"), ("Consumes", "Hosting")."""
    scope = mandate.scope_filter or {}
    labels = {"stage": ("Lifecycle stage", dict(Lifecycle.choices)), "evolution": ("Evolution", dict(Evolution.choices)),
              "users": ("Users", dict(USERS_CHOICES)), "q": ("Name or description contains", {}), "consumes": ("Consumes", {})}
    if scope.get("consumes"):
        labels["consumes"] = ("Consumes", dict(Service.objects.filter(slug=scope["consumes"]).values_list("slug", "name")))
    return [(labels[k][0], labels[k][1].get(v, v)) for k, v in scope.items() if k in labels]


def _mandate_context(request, mandate: Mandate, *, bound: dict | None = None, close_form=None) -> dict:
    """The mandate page: a fixed number of queries whatever the number of services."""
    user = request.user
    bound = bound or {}
    mine = Case(When(service__manager_id=user.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    targets = mandate.targets.select_related("service__manager").annotate(mine=mine).order_by("mine", "service__name")
    page = _page(request, targets)
    page.object_list = list(page.object_list)
    issued = mandate.status == Mandate.Status.ISSUED
    for t in page.object_list:
        t.may_ack = issued and t.status == PENDING and can(user, "acknowledge_mandate", service=t.service)
        t.may_report = issued and t.status != DONE and can(user, "report_mandate_progress", service=t.service)
        t.ack_form = bound.get(("ack", t.pk)) or AcknowledgeForm(prefix=f"a{t.pk}")
        t.progress_form = bound.get(("progress", t.pk)) or ProgressForm(target=t)
    counts = mandate.targets.aggregate(total=Count("pk"), done=Count("pk", filter=Q(status=DONE)),
                                       acknowledged=Count("pk", filter=Q(status__in=[ACKNOWLEDGED, DONE])))
    may = {act: can(user, act) for act in ("draft_mandate", "issue_mandate", "remind_mandate", "close_mandate")}
    return {
        "nav": "mandates", "mandate": mandate, "page": page, "counts": counts, "burn_up": queries.burn_up(mandate),
        "scope_rows": _scope_rows(mandate), "may": may, "today": timezone.localdate(),
        "close_form": close_form or (CloseMandateForm() if may["close_mandate"] and issued else None),
        "any_mine": any(t.may_ack or t.may_report for t in page.object_list),
    }


def _mandate(pk: int) -> Mandate:
    return get_object_or_404(Mandate.objects.select_related("created_by"), pk=pk)


def mandate_page(request, pk: int):
    """A mandate: what must change, by when, for which services; each service's
    acknowledgement and progress; the burn-up of services done over time."""
    mandate = _mandate(pk)
    return render(request, "governance/mandate.html", _mandate_context(request, mandate))


@require_POST
def mandate_issue(request, pk: int):
    mandate = _mandate(pk)
    return _button(request, lambda: actions.issue_mandate(actor=request.user, mandate=mandate),
                   lambda m: f"Issued the mandate to {m.targets.count()} services; their managers have been told.",
                   reverse("governance:mandate", args=[pk]))


@require_POST
def mandate_remind(request, pk: int):
    mandate = _mandate(pk)
    return _button(request, lambda: actions.remind_mandate(actor=request.user, mandate=mandate),
                   lambda n: f"Reminded {n} manager{'s' if n != 1 else ''} of the services not yet done.",
                   reverse("governance:mandate", args=[pk]))


@require_POST
def mandate_close(request, pk: int):
    mandate = _mandate(pk)
    if refused := refusal(request.user, "close_mandate"):
        return forbidden(request, refused)
    form = CloseMandateForm(request.POST)
    ok, result = apply_action(request, form, lambda: actions.close_mandate(
        actor=request.user, mandate=mandate, note=form.cleaned_data.get("note", "")))
    if ok:
        messages.success(request, "Closed the mandate. It takes no more progress.")
        return redirect("governance:mandate", pk=pk)
    return result or render(request, "governance/mandate.html", _mandate_context(request, mandate, close_form=form))


def _target(pk: int, target_pk: int) -> MandateTarget:
    return get_object_or_404(MandateTarget.objects.select_related("mandate", "service__manager"), pk=target_pk, mandate_id=pk)


def _target_post(request, pk, target_pk, act, kind, make_form, call, success):
    """A manager's act on their service's row: acknowledge, or report progress."""
    target = _target(pk, target_pk)
    if refused := refusal(request.user, act, service=target.service):
        return forbidden(request, refused)
    form = make_form(target)
    ok, result = apply_action(request, form, lambda: call(target, form.cleaned_data))
    if ok:
        messages.success(request, success(target, form.cleaned_data))
        return redirect(f"{reverse('governance:mandate', args=[pk])}#target-{target.pk}")
    if result is not None:
        return result
    target = _target(pk, target_pk)
    if kind == "ack" and target.status != PENDING or target.status == DONE or target.mandate.status != Mandate.Status.ISSUED:
        # the row no longer offers this form (acknowledged or done meanwhile): say why at the top
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect(f"{reverse('governance:mandate', args=[pk])}#target-{target.pk}")
    context = _mandate_context(request, target.mandate, bound={(kind, target.pk): form})
    return render(request, "governance/mandate.html", context)


@require_POST
def target_acknowledge(request, pk: int, target_pk: int):
    return _target_post(
        request, pk, target_pk, "acknowledge_mandate", "ack",
        lambda t: AcknowledgeForm(request.POST, prefix=f"a{t.pk}"),
        lambda t, data: actions.acknowledge_mandate(actor=request.user, target=t, note=data.get("note", "")),
        lambda t, data: f"{t.service.name} has acknowledged the mandate.")


@require_POST
def target_progress(request, pk: int, target_pk: int):
    return _target_post(
        request, pk, target_pk, "report_mandate_progress", "progress",
        lambda t: ProgressForm(request.POST, prefix=f"t{t.pk}"),
        lambda t, data: actions.report_mandate_progress(actor=request.user, target=t, note=data.get("note", ""),
                                                        done=bool(data.get("done"))),
        lambda t, data: (f"{t.service.name} has done what the mandate asks." if data.get("done")
                         else f"Recorded the progress of {t.service.name}."))


# ---------------------------------------------------------------- guidance

def guidance_list(request):
    """All guidance, filterable by category, status and source, with how many services
    adopted and rejected each piece."""
    form = GuidanceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = Guidance.objects.annotate(
        adopted=Count("decisions", filter=Q(decisions__decision=GuidanceDecision.Decision.ADOPT)),
        rejected=Count("decisions", filter=Q(decisions__decision=GuidanceDecision.Decision.REJECT)),
    )
    for name in ("category", "status", "source"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    qs = qs.order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")
    context = {"nav": "guidance", "form": form, "page": _page(request, qs), "filtered": any(filters.values())}
    return _results(request, "guidance-results", "governance/_guidance_results.html", "governance/guidance_list.html", context)


def _guidance_form_page(request, guidance=None):
    if refused := refusal(request.user, "draft_guidance"):
        return forbidden(request, refused)
    if guidance is not None and guidance.status != Guidance.Status.DRAFT:
        messages.warning(request, "Published guidance is not rewritten: withdraw it and publish new guidance.")
        return redirect("governance:guidance", pk=guidance.pk)
    form = GuidanceForm(request.POST or None, initial=GuidanceForm.initial_for(guidance) if guidance else None)
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.draft_guidance(
            actor=request.user, guidance=guidance, **form.action_kwargs()))
        if ok:
            messages.success(request, f"Saved the draft guidance “{result.title}”. Publish it when it is ready.")
            return redirect("governance:guidance", pk=result.pk)
        if result is not None:
            return result
    return render(request, "governance/guidance_form.html", {"nav": "guidance", "form": form, "guidance": guidance})


def guidance_new(request):
    return _guidance_form_page(request)


def guidance_edit(request, pk: int):
    return _guidance_form_page(request, get_object_or_404(Guidance, pk=pk))


DECISION_TABS = [("", "Every service"), ("adopt", "Adopted"), ("reject", "Rejected"), ("none", "Not decided yet")]


def _guidance_context(request, guidance: Guidance, *, bound: dict | None = None, withdraw_form=None) -> dict:
    """The guidance page: a fixed number of queries whatever the number of services."""
    user = request.user
    running = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
    shown = request.GET.get("decision", "")
    services = running.select_related("manager").order_by("name")
    if shown in ("adopt", "reject"):
        services = services.filter(guidance_decisions__guidance=guidance, guidance_decisions__decision=shown)
    elif shown == "none":
        services = services.exclude(guidance_decisions__guidance=guidance)
    else:
        shown = ""
    page = _page(request, services)
    page.object_list = list(page.object_list)
    decided = {d.service_id: d for d in GuidanceDecision.objects.filter(
        guidance=guidance, service_id__in=[s.pk for s in page.object_list]).select_related("decided_by")}
    for s in page.object_list:
        s.decided = decided.get(s.pk)
    counts = GuidanceDecision.objects.filter(guidance=guidance, service__in=running).aggregate(
        adopt=Count("pk", filter=Q(decision="adopt")), reject=Count("pk", filter=Q(decision="reject")))
    counts["all"] = page.paginator.count if not shown else running.count()
    counts["none"] = counts["all"] - counts["adopt"] - counts["reject"]
    # the manager's own services, each with its decision form
    forms = []
    if guidance.status == Guidance.Status.PUBLISHED:
        bound = bound or {}
        own = list(running.filter(manager=user).order_by("name")) if user.is_authenticated else []
        mine = {d.service_id: d for d in GuidanceDecision.objects.filter(guidance=guidance, service__in=own)} if own else {}
        forms = [bound.get(s.pk) or DecisionForm(service=s, decided=mine.get(s.pk))
                 for s in own if can(user, "decide_guidance", service=s)]
    may = {act: can(user, act) for act in ("draft_guidance", "publish_guidance", "withdraw_guidance")}
    return {
        "nav": "guidance", "guidance": guidance, "page": page, "counts": counts, "decision_forms": forms, "may": may,
        "tabs": [(value, label, counts[value or "all"]) for value, label in DECISION_TABS], "shown": shown,
        "withdraw_form": withdraw_form or (WithdrawGuidanceForm() if may["withdraw_guidance"]
                                           and guidance.status == Guidance.Status.PUBLISHED else None),
    }


def _guidance(pk: int) -> Guidance:
    return get_object_or_404(Guidance.objects.select_related("created_by"), pk=pk)


def guidance_page(request, pk: int):
    """A piece of guidance, where it comes from, and every service's decision on it."""
    guidance = _guidance(pk)
    return render(request, "governance/guidance.html", _guidance_context(request, guidance))


@require_POST
def guidance_publish(request, pk: int):
    guidance = _guidance(pk)
    return _button(request, lambda: actions.publish_guidance(actor=request.user, guidance=guidance),
                   "Published the guidance. Every service manager has been asked to decide whether their services adopt it.",
                   reverse("governance:guidance", args=[pk]))


@require_POST
def guidance_withdraw(request, pk: int):
    guidance = _guidance(pk)
    if refused := refusal(request.user, "withdraw_guidance"):
        return forbidden(request, refused)
    form = WithdrawGuidanceForm(request.POST)
    ok, result = apply_action(request, form, lambda: actions.withdraw_guidance(
        actor=request.user, guidance=guidance, reason=form.cleaned_data.get("reason", "")))
    if ok:
        messages.success(request, "Withdrew the guidance.")
        return redirect("governance:guidance", pk=pk)
    return result or render(request, "governance/guidance.html", _guidance_context(request, guidance, withdraw_form=form))


@require_POST
def guidance_decide(request, pk: int, slug: str):
    """A manager records whether one of their services adopts the guidance."""
    guidance = _guidance(pk)
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "decide_guidance", service=service):
        return forbidden(request, refused)
    form = DecisionForm(request.POST, service=service)
    ok, result = apply_action(request, form, lambda: actions.decide_guidance(
        actor=request.user, guidance=guidance, service=service, decision=form.cleaned_data.get("decision") or "",
        rationale=form.cleaned_data.get("rationale", "")))
    if ok:
        messages.success(request, f"{service.name} {'adopts' if result.decision == 'adopt' else 'rejects'} this guidance.")
        return redirect(f"{reverse('governance:guidance', args=[pk])}#decide")
    return result or render(request, "governance/guidance.html", _guidance_context(request, guidance, bound={service.pk: form}))


# ---------------------------------------------------------------- disputes

def dispute_list(request):
    """Every dispute the executive mediates; a manager raises one for their service here."""
    form = DisputeFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = Dispute.objects.select_related("service", "other_service", "raised_by")
    for name in ("status", "kind"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    managed = list(Service.objects.filter(manager=request.user).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
                   .order_by("name").only("pk", "name", "slug", "manager_id"))
    context = {"nav": "disputes", "form": form, "page": _page(request, qs), "filtered": any(filters.values()),
               "managed": [s for s in managed if can(request.user, "raise_dispute", service=s)]}
    return _results(request, "dispute-results", "governance/_dispute_results.html", "governance/disputes.html", context)


def _raise(request, form, template: str, context: dict, call):
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: call(form.cleaned_data))
        if ok:
            messages.success(request, f"Raised the dispute “{result.subject}”. The executive has been told.")
            return redirect("governance:dispute", pk=result.pk)
        if result is not None:
            return result
    return render(request, template, {"nav": "disputes", "form": form, **context})


def dispute_raise(request, slug: str):
    """The manager of a service raises a dispute with another service."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "raise_dispute", service=service):
        return forbidden(request, refused)
    form = ServicesDisputeForm(request.POST or None, service=service)
    return _raise(request, form, "governance/dispute_form.html", {"service": service}, lambda data: actions.raise_dispute(
        actor=request.user, service=service, other_service=data.get("other_service"), subject=data.get("subject", ""),
        description=data.get("description", ""), kind=Dispute.Kind.SERVICES))


def dispute_raise_evaluation(request):
    """Anyone disputes, through their community of practice, how they were evaluated."""
    if refused := refusal(request.user, "raise_evaluation_dispute"):
        return forbidden(request, refused)
    form = EvaluationDisputeForm(request.POST or None)
    return _raise(request, form, "governance/dispute_form.html", {"evaluation": True}, lambda data: actions.raise_dispute(
        actor=request.user, subject=data.get("subject", ""), description=data.get("description", ""),
        kind=Dispute.Kind.EVALUATION))


def _dispute_context(request, dispute: Dispute, *, resolve_form=None, withdraw_form=None) -> dict:
    is_open = dispute.status == Dispute.Status.OPEN
    may_resolve = is_open and can(request.user, "resolve_dispute", service=dispute.service)
    may_withdraw = is_open and can(request.user, "withdraw_dispute", subject=dispute.raised_by)
    return {
        "nav": "disputes", "dispute": dispute,
        "resolve_form": resolve_form or (ResolveForm.for_dispute(dispute) if may_resolve else None),
        "withdraw_form": withdraw_form or (WithdrawDisputeForm() if may_withdraw else None),
    }


def _dispute(pk: int) -> Dispute:
    return get_object_or_404(Dispute.objects.select_related(
        "service__manager", "other_service__manager", "raised_by", "resolved_by", "mandate", "contract_version__service",
        "assessment__service"), pk=pk)


def dispute_page(request, pk: int):
    """A dispute: what it is about, between whom, and how the executive resolved it."""
    dispute = _dispute(pk)
    return render(request, "governance/dispute.html", _dispute_context(request, dispute))


@require_POST
def dispute_resolve(request, pk: int):
    dispute = _dispute(pk)
    if refused := refusal(request.user, "resolve_dispute", service=dispute.service):
        return forbidden(request, refused)
    form = ResolveForm.for_dispute(dispute, request.POST)
    ok, result = apply_action(request, form, lambda: actions.resolve_dispute(
        actor=request.user, dispute=dispute, **form.action_kwargs()))
    if ok:
        messages.success(request, "Resolved the dispute; the parties have been told.")
        return redirect("governance:dispute", pk=pk)
    return result or render(request, "governance/dispute.html", _dispute_context(request, dispute, resolve_form=form))


@require_POST
def dispute_withdraw(request, pk: int):
    dispute = _dispute(pk)
    if refused := refusal(request.user, "withdraw_dispute", subject=dispute.raised_by):
        return forbidden(request, refused)
    form = WithdrawDisputeForm(request.POST)
    ok, result = apply_action(request, form, lambda: actions.withdraw_dispute(
        actor=request.user, dispute=dispute, note=form.cleaned_data.get("note", "")))
    if ok:
        messages.success(request, "Withdrew the dispute.")
        return redirect("governance:dispute", pk=pk)
    return result or render(request, "governance/dispute.html", _dispute_context(request, dispute, withdraw_form=form))


# ---------------------------------------------------------------- dashboards

def _sections(attention: dict, limit: int) -> list[dict]:
    """The executive's "needs my attention", in the order to act on it."""
    order = [
        ("overdue", "Overdue assessments", "Live services past the date of their periodic assessment."),
        ("assessments_to_report", "Assessments to report", "Held (or due today), their reports not yet published."),
        ("funding_requests", "Funding requests", "Managers asking for their budget or scope to change."),
        ("disputes", "Open disputes", "Disputes waiting for mediation."),
        ("mandates_behind", "Mandates past their due date", "Issued mandates some services have not yet done."),
        ("proposals", "Proposed needs", "Needs proposed, awaiting a decision."),
        ("due_soon", f"Assessments due in the next {queries.DUE_SOON_DAYS} days", "Live services to schedule soon."),
        ("unreviewed_coes", "Corrections of Error to review", "Published, not yet gone through in a review."),
        ("overdue_actions", "Overdue corrective actions", "Open actions of published Corrections of Error past their due date."),
        ("rejections", "Guidance rejected", "The latest rejections of published guidance, with their reasons."),
    ]
    return [{"key": key, "title": title, "hint": hint, "items": attention[key], "count": len(attention[key]),
             "more": len(attention[key]) >= limit} for key, title, hint in order]


def dashboard(request):
    """What needs the viewer's attention: for the executive and its team, the things to
    act on across the network; for a manager, what is asked of their services; for
    everyone else, a summary of what governs the network."""
    from osom.learning.models import CorrectiveAction

    user = request.user
    context: dict = {"nav": "dashboard", "today": timezone.localdate()}
    if user.role in (Role.EXECUTIVE, Role.EXECUTIVE_TEAM):
        limit = 20
        sections = _sections(queries.executive_attention(limit=limit), limit)
        context["sections"] = sections
        context["attention_total"] = sum(s["count"] for s in sections if s["key"] not in ("due_soon", "rejections"))
        # one query: the services flagged for decommissioning, for an assessment to consider
        from osom.network.queries import flagged_for_decommissioning

        context["flagged_count"] = flagged_for_decommissioning().count()
    obligations = queries.manager_obligations(user)
    # the fitness section lists a manager's own metrics: none for someone who manages no
    # running service, which the obligations have just read (one query fewer)
    context["manages_services"] = bool(obligations["services"])
    if obligations["services"]:
        context["obligations"] = obligations
        context["obligation_total"] = sum(len(obligations[k]) for k in ("agendas", "mandates", "guidance_to_decide", "disputes",
                                                                         "overdue_actions", "to_verify", "coe_drafts",
                                                                         "open_rounds"))
    if "sections" not in context and "obligations" not in context:
        context["teams"] = list(TeamMembership.objects.filter(person=user, ended_at__isnull=True)
                                .select_related("service").order_by("service__name"))
        context["latest_guidance"] = list(Guidance.objects.filter(status=Guidance.Status.PUBLISHED)
                                          .order_by("-published_at")[:5])
        context["mandates"] = list(_with_progress(Mandate.objects.filter(status=Mandate.Status.ISSUED))
                                   .order_by("due_date")[:5])
        context["my_disputes"] = list(Dispute.objects.filter(raised_by=user).order_by("-raised_at")[:5])
        context["my_actions"] = list(CorrectiveAction.objects.filter(owner=user, status=CorrectiveAction.Status.OPEN)
                                     .exclude(coe__status="draft").select_related("coe").order_by("due_date", "pk")[:10])
    return render(request, "governance/dashboard.html", context)


# ---------------------------------------------------------------- notifications

def notifications(request):
    """The signed-in person's notifications, newest first; the unread ones stand out."""
    person = request.user
    if request.method == "POST":
        ok, result = apply_action(request, None, lambda: actions.read_notifications(actor=request.user, person=person))
        if ok:
            messages.success(request, f"Marked {result} notification{'s' if result != 1 else ''} as read.")
        elif result is not None:
            return result
        return redirect("governance:notifications")
    qs = Notification.objects.filter(person=person).order_by("-created_at", "-pk")
    page = _page(request, qs)
    unread = qs.filter(read_at__isnull=True).count()
    request._osom_unread = unread  # the masthead's count: already known
    return render(request, "governance/notifications.html", {"nav": "notifications", "page": page, "unread": unread})
