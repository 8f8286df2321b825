"""Corrections of Error as pages (model 7): the library, searchable by service, doctrine
pattern and text; one form for the whole CoE; the CoE itself with its corrective
actions; the executive's reviews of the published CoEs; and the learning figures.

Every POST calls one action: a role that may not act gets the 403 page with the
policy's sentence (checked before any form is shown), bad input comes back on the field
the action names, in the row it names, with nothing written. Lists paginate and cost a
fixed number of queries whatever their length."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from osom.core.context import organisation_for
from osom.core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.governance import actions as governance_actions
from osom.governance.models import Guidance
from osom.network.models import Service

from . import actions, queries
from .coe_forms import (
    ROW_GROUPS,
    AddActionForm,
    CoEFormSets,
    CoEGuidanceForm,
    DropActionForm,
    HoldReviewForm,
    LibraryFilterForm,
    ReviewForm,
    VerifyActionForm,
)
from .models import CoEReview, CorrectionOfError, CorrectiveAction, DoctrinePattern

__all__ = [
    "action_add",
    "action_update",
    "action_verify",
    "coe_discard",
    "coe_edit",
    "coe_guidance",
    "coe_new",
    "coe_page",
    "coe_publish",
    "figures",
    "library",
    "review_hold",
    "review_new",
    "review_page",
    "reviews",
]

DRAFT, PUBLISHED, REVIEWED = (CorrectionOfError.Status.DRAFT, CorrectionOfError.Status.PUBLISHED,
                              CorrectionOfError.Status.REVIEWED)
OPEN, DONE, DROPPED = CorrectiveAction.Status.OPEN, CorrectiveAction.Status.DONE, CorrectiveAction.Status.DROPPED

# The account a CoE gives, in the order it is read, with the heading each part has.
SECTIONS = [
    ("problem", "The problem"),
    ("impact", "Its impact"),
    ("root_cause", "The root cause"),
    ("root_cause_data", "Data supporting the root cause"),
    ("trade_offs_that_led", "The trade-offs that led to it"),
    ("trade_offs_to_avoid", "Trade-offs to avoid in future"),
    ("lessons", "Lessons learned"),
]


def _page(request, qs):
    return Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the library

def library(request):
    """Every published CoE (and the drafts of the viewer's own services), searchable by
    text, service, pattern (helped or hurt) and status, with its overdue actions."""
    form = LibraryFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = queries.coe_library(q=filters.get("q", ""), service=filters.get("service", ""), pattern=filters.get("pattern", ""),
                             effect=filters.get("effect", ""), status=filters.get("status", ""), viewer=request.user)
    if filters.get("effect") and not filters.get("pattern"):
        qs = qs.filter(pattern_effects__effect=filters["effect"]).distinct()
    page = _page(request, qs)
    page.object_list = list(page.object_list)
    ids = [c.pk for c in page.object_list]
    today = timezone.localdate()
    # the overdue actions of the CoEs on this page, in one query
    overdue = dict(CorrectiveAction.objects.filter(coe_id__in=ids, status=OPEN, due_date__lt=today)
                   .values("coe_id").annotate(n=Count("pk")).values_list("coe_id", "n")) if ids else {}
    for coe in page.object_list:
        coe.overdue = overdue.get(coe.pk, 0)
    pattern = None
    if filters.get("pattern"):
        pattern = DoctrinePattern.objects.filter(slug=filters["pattern"]).only("name", "slug").first()
    context = {"nav": "coes", "sub": "library", "form": form, "page": page, "pattern": pattern,
               "effect": filters.get("effect", ""), "filtered": any(filters.values())}
    if request.htmx and request.htmx.target == "coe-results":
        return render(request, "learning/coe/_library_results.html", context)
    return render(request, "learning/coe/library.html", context)


# ---------------------------------------------------------------- writing a CoE

def _form_page(request, service: Service, forms, coe=None, *, status: int = 200):
    return render(request, "learning/coe/form.html", {
        "nav": "coes", "service": service, "coe": coe, "forms": forms, "main": forms.main,
        "conflict_changes": getattr(forms, "conflict_changes", []),
    }, status=status)


def _write(request, service: Service, coe: CorrectionOfError | None):
    """The one form for the whole CoE: show it, add rows to it, or save it as a draft."""
    content = actions.coe_content(coe) if coe is not None else None
    if request.method != "POST":
        forms = CoEFormSets(service, content=content)
        if coe is not None:
            forms.main.initial["revision"] = coe.revision
        return _form_page(request, service, forms, coe)
    more = request.POST.get("more", "")
    if more:
        # "add more rows": the same form again with two more empty rows, nothing saved
        prefixes = {prefix for prefix, *_ in ROW_GROUPS}
        forms = CoEFormSets(service, request.POST, more=more if more in prefixes else "")
        return _form_page(request, service, forms, coe)
    forms = CoEFormSets(service, request.POST)
    if not forms.is_valid():
        return _form_page(request, service, forms, coe)
    try:
        result = actions.write_coe(actor=request.user, service=service, content=forms.content(), coe=coe,
                                   expected_revision=forms.main.cleaned_data.get("revision") if coe else None)
    except NotAllowed as exc:
        return forbidden(request, exc.message)
    except DomainError as exc:
        forms.place(exc.errors or {"": [exc.message]})
        if isinstance(exc, Conflict):
            forms.conflict_changes = list(exc.changes)
        return _form_page(request, service, forms, coe)
    messages.success(request, f"Saved the draft “{result.title}”." if coe else
                     f"Started the Correction of Error “{result.title}”. It is a draft until its manager publishes it.")
    return redirect("learning:coe", pk=result.pk)


def coe_new(request, slug: str):
    """Someone of a service (its manager or team) writes up a problem."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "write_coe", service=service):
        return forbidden(request, refused)
    return _write(request, service, None)


def coe_edit(request, pk: int):
    """Rewrite a draft CoE; a published one is fixed, its actions tracked on its page."""
    coe = _coe(pk)
    if refused := refusal(request.user, "write_coe", service=coe.service):
        return forbidden(request, refused)
    if not coe.is_draft:
        messages.warning(request, "This Correction of Error is published: its account is fixed. "
                         "Add corrective actions to it instead.")
        return redirect("learning:coe", pk=coe.pk)
    return _write(request, coe.service, coe)


# ---------------------------------------------------------------- a CoE

def _coe(pk: int) -> CorrectionOfError:
    return get_object_or_404(CorrectionOfError.objects.select_related(
        "service__manager", "author", "published_by", "review"), pk=pk)


def _draft_refusal(request, coe: CorrectionOfError) -> str | None:
    """A draft is read only by the people who may write it: its service's manager and team."""
    if not coe.is_draft:
        return None
    refused = refusal(request.user, "write_coe", service=coe.service)
    return f"This Correction of Error is still a draft. {refused}" if refused else None


def _guidance_seed(coe: CorrectionOfError) -> dict:
    title, body = queries.guidance_seed(coe)
    return {"title": title, "body": body}


def _coe_context(request, coe: CorrectionOfError, *, bound: dict | None = None, add_form=None, guidance_form=None,
                 publish_errors: dict | None = None) -> dict:
    """The CoE page: a fixed number of queries whatever the number of its parts."""
    user, service, bound = request.user, coe.service, bound or {}
    draft = coe.is_draft
    may = {
        "write": draft and can(user, "write_coe", service=service),
        "discard": draft and can(user, "discard_coe", service=service),
        "publish": draft and can(user, "publish_coe", service=service),
        "add_action": not draft and can(user, "add_corrective_action", service=service),
        "update_any": not draft and can(user, "update_corrective_action", service=service),
        "verify": not draft and can(user, "verify_corrective_action", service=service),
        "guidance": not draft and can(user, "draft_guidance"),
    }
    today = timezone.localdate()
    corrective = list(coe.actions.select_related("owner", "verified_by"))
    for a in corrective:
        a.overdue = a.is_overdue(today)
        # the owner may update their own action (SELF), as the policy says; the others by their right on the service
        a.may_update = not draft and (may["update_any"] or a.owner_id == user.pk) and a.status != CorrectiveAction.Status.VERIFIED
        a.may_verify = may["verify"] and a.status == DONE
        a.drop_form = bound.get(("drop", a.pk)) or DropActionForm(prefix=f"d{a.pk}")
        a.verify_form = bound.get(("verify", a.pk)) or VerifyActionForm(prefix=f"v{a.pk}")
        a.drop_open = ("drop", a.pk) in bound
    guidance = [g for g in coe.guidance.all().order_by("-created_at")
                if g.status != Guidance.Status.DRAFT or may["guidance"]]
    publish_errors = publish_errors or {}
    sections = [{"field": f, "title": t, "text": getattr(coe, f), "errors": publish_errors.get(f, [])} for f, t in SECTIONS]
    return {
        "nav": "coes", "coe": coe, "service": service, "may": may, "sections": sections,
        "timeline": list(coe.timeline.all()), "chains": list(coe.why_chains.all()),
        "effects": list(coe.pattern_effects.select_related("pattern")), "corrective": corrective,
        "overdue_count": sum(1 for a in corrective if a.overdue), "guidance": guidance, "today": today,
        "publish_errors": publish_errors, "publish_messages": [t for texts in publish_errors.values() for t in texts],
        "add_form": add_form or (AddActionForm(service=service) if may["add_action"] else None),
        "guidance_form": guidance_form or (CoEGuidanceForm() if may["guidance"] else None),
        "guidance_seed": _guidance_seed(coe) if may["guidance"] else None,
    }


def coe_page(request, pk: int):
    """A CoE: its account, timeline, "5 whys", the patterns that helped or hurt, its
    corrective actions, the review it went through and the guidance drawn from it."""
    coe = _coe(pk)
    if refused := _draft_refusal(request, coe):
        return forbidden(request, refused)
    return render(request, "learning/coe/coe.html", _coe_context(request, coe))


@require_POST
def coe_publish(request, pk: int):
    """The manager publishes the CoE; what it still lacks is shown where it belongs."""
    coe = _coe(pk)
    if refused := refusal(request.user, "publish_coe", service=coe.service):
        return forbidden(request, refused)
    try:
        actions.publish_coe(actor=request.user, coe=coe, expected_revision=_int(request.POST.get("revision")))
    except NotAllowed as exc:  # pragma: no cover - refused above
        return forbidden(request, exc.message)
    except InvalidInput as exc:
        coe = _coe(pk)
        context = _coe_context(request, coe, publish_errors=exc.errors or {"": [exc.message]})
        return render(request, "learning/coe/coe.html", context, status=400)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("learning:coe", pk=pk)
    executive = organisation_for(request).terms()["executive"]
    messages.success(request, "Published the Correction of Error. It is on the agenda of the next review; "
                     f"the {executive} and the owners of its actions have been told.")
    return redirect("learning:coe", pk=pk)


@require_POST
def coe_discard(request, pk: int):
    coe = _coe(pk)
    if refused := refusal(request.user, "discard_coe", service=coe.service):
        return forbidden(request, refused)
    title, slug = coe.title, coe.service.slug
    ok, result = apply_action(request, None, lambda: actions.discard_coe(actor=request.user, coe=coe))
    if ok:
        messages.success(request, f"Discarded the draft “{title}”.")
        return redirect("network:service", slug=slug)
    return result or redirect("learning:coe", pk=pk)


@require_POST
def coe_guidance(request, pk: int):
    """The executive starts a draft of guidance from a CoE's lessons, then rewrites it."""
    coe = _coe(pk)
    if refused := refusal(request.user, "draft_guidance"):
        return forbidden(request, refused)
    form = CoEGuidanceForm(request.POST)
    seed = _guidance_seed(coe)
    ok, result = apply_action(request, form, lambda: governance_actions.draft_guidance(
        actor=request.user, title=seed["title"], body=seed["body"], source=Guidance.Source.COE,
        category=form.cleaned_data.get("category") or "", coe=coe))
    if ok:
        messages.success(request, "Started a draft of guidance from this Correction of Error. Rewrite it as guidance, "
                         "then publish it.")
        return redirect("governance:guidance_edit", pk=result.pk)
    if result is not None:
        return result
    if coe.is_draft:
        for error in form.non_field_errors():
            messages.error(request, error)
        return redirect("learning:coe", pk=pk)
    return render(request, "learning/coe/coe.html", _coe_context(request, coe, guidance_form=form), status=400)


# ---------------------------------------------------------------- corrective actions

def _back_to(action: CorrectiveAction) -> str:
    return f"{reverse('learning:coe', args=[action.coe_id])}#action-{action.pk}"


@require_POST
def action_add(request, pk: int):
    coe = _coe(pk)
    if refused := refusal(request.user, "add_corrective_action", service=coe.service):
        return forbidden(request, refused)
    form = AddActionForm(request.POST, service=coe.service)
    ok, result = apply_action(request, form, lambda: actions.add_corrective_action(
        actor=request.user, coe=coe, description=form.cleaned_data.get("description", ""),
        owner=form.cleaned_data.get("owner", ""), due_date=form.cleaned_data.get("due_date", "")))
    if ok:
        messages.success(request, f"Added the corrective action, owned by {result.owner.name}.")
        return redirect(_back_to(result))
    return result or render(request, "learning/coe/coe.html", _coe_context(request, coe, add_form=form), status=400)


def _action(pk: int) -> CorrectiveAction:
    return get_object_or_404(CorrectiveAction.objects.select_related("coe__service", "owner"), pk=pk)


@require_POST
def action_update(request, pk: int):
    """Mark an action done, drop it (with a reason), or reopen it."""
    action = _action(pk)
    if refused := refusal(request.user, "update_corrective_action", service=action.coe.service, subject=action.owner):
        return forbidden(request, refused)
    status = (request.POST.get("status") or "").strip()
    form = DropActionForm(request.POST, prefix=f"d{pk}")
    ok, result = apply_action(request, form, lambda: actions.update_corrective_action(
        actor=request.user, action=action, status=status, note=form.cleaned_data.get("note", "")))
    if ok:
        said = {DONE: "done", DROPPED: "dropped", OPEN: "open again"}.get(result.status, result.get_status_display().lower())
        messages.success(request, f"The corrective action is {said}.")
        return redirect(_back_to(action))
    if result is not None:
        return result
    if status == DROPPED and "note" in form.errors:
        coe = _coe(action.coe_id)
        if refused := _draft_refusal(request, coe):
            return forbidden(request, refused)
        return render(request, "learning/coe/coe.html", _coe_context(request, coe, bound={("drop", pk): form}), status=400)
    for error in [*form.non_field_errors(), *form.errors.get("note", [])]:
        messages.error(request, error)
    return redirect(_back_to(action))


@require_POST
def action_verify(request, pk: int):
    """The manager or the executive confirms a done action had its effect."""
    action = _action(pk)
    if refused := refusal(request.user, "verify_corrective_action", service=action.coe.service):
        return forbidden(request, refused)
    form = VerifyActionForm(request.POST, prefix=f"v{pk}")
    ok, result = apply_action(request, form, lambda: actions.verify_corrective_action(
        actor=request.user, action=action, note=form.cleaned_data.get("note", "")))
    if ok:
        messages.success(request, "Verified the corrective action: it is closed for good.")
    elif result is not None:
        return result
    else:
        for error in form.non_field_errors():
            messages.error(request, error)
    return redirect(_back_to(action))


# ---------------------------------------------------------------- reviews

def reviews(request):
    """The executive's reviews, the coming ones first, and how many CoEs wait for one."""
    upcoming = Case(When(status=CoEReview.Status.SCHEDULED, then=Value(0)), default=Value(1), output_field=IntegerField())
    qs = (CoEReview.objects.annotate(coes=Count("reviewed"), first=upcoming).select_related("scheduled_by", "held_by")
          .order_by("first", "-scheduled_for", "-pk"))
    return render(request, "learning/coe/reviews.html", {
        "nav": "coes", "sub": "reviews", "page": _page(request, qs), "waiting": actions.review_agenda().count(),
        "may_schedule": can(request.user, "schedule_coe_review"),
    })


def review_new(request):
    """The executive schedules a review; every manager is told."""
    if refused := refusal(request.user, "schedule_coe_review"):
        return forbidden(request, refused)
    form = ReviewForm(request.POST or None)
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.schedule_coe_review(
            actor=request.user, scheduled_for=form.cleaned_data.get("scheduled_for", ""),
            title=form.cleaned_data.get("title", "")))
        if ok:
            manager = organisation_for(request).terms()["service_manager"].lower()
            messages.success(request, f"Scheduled “{result.title}”. Every {manager} has been told.")
            return redirect("learning:review", pk=result.pk)
        if result is not None:
            return result
    return render(request, "learning/coe/review_form.html", {"nav": "coes", "sub": "reviews", "form": form,
                                                             "waiting": actions.review_agenda().count()})


def _review(pk: int) -> CoEReview:
    return get_object_or_404(CoEReview.objects.select_related("scheduled_by", "held_by"), pk=pk)


def _review_context(request, review: CoEReview, *, hold_form=None) -> dict:
    context = {"nav": "coes", "sub": "reviews", "review": review}
    if review.status == CoEReview.Status.SCHEDULED:
        agenda = list(actions.review_agenda().annotate(
            action_count=Count("actions", distinct=True),
            hurt=Count("pattern_effects", filter=Q(pattern_effects__effect="hurt"), distinct=True)))
        may_hold = can(request.user, "hold_coe_review")
        context["agenda"] = agenda
        context["may_hold"] = may_hold
        context["hold_form"] = hold_form or (HoldReviewForm(agenda=agenda) if may_hold and agenda else None)
    else:
        context["reviewed"] = list(review.reviewed.select_related("service").order_by("service__name", "pk"))
    return context


def review_page(request, pk: int):
    """Before it is held: its agenda (every published CoE not yet reviewed) and, for the
    executive, the form to record it. After: its record."""
    review = _review(pk)
    return render(request, "learning/coe/review.html", _review_context(request, review))


@require_POST
def review_hold(request, pk: int):
    review = _review(pk)
    if refused := refusal(request.user, "hold_coe_review"):
        return forbidden(request, refused)
    agenda = list(actions.review_agenda().annotate(
        action_count=Count("actions", distinct=True),
        hurt=Count("pattern_effects", filter=Q(pattern_effects__effect="hurt"), distinct=True)))
    form = HoldReviewForm(request.POST, agenda=agenda)
    ok, result = apply_action(request, form, lambda: actions.hold_coe_review(
        actor=request.user, review=review, **form.action_kwargs()))
    if ok:
        count = result.reviewed.count()
        messages.success(request, f"Recorded the review: {count} Correction{'s' if count != 1 else ''} of Error "
                         "marked reviewed; their authors have been told.")
        return redirect("learning:review", pk=pk)
    if result is not None:
        return result
    return render(request, "learning/coe/review.html", _review_context(request, _review(pk), hold_form=form), status=400)


# ---------------------------------------------------------------- the learning figures

def _readable(group: dict) -> list[str]:
    """The words a group's root causes share, as their first CoE writes them (the
    figures compare folded words: "certificat" for "certificates")."""
    wanted = set(group["shared_words"])
    found: dict[str, str] = {}
    for coe in group["coes"]:
        for word in re.findall(r"[A-Za-z0-9]+", coe.root_cause or ""):
            folded = queries._words(word)
            stem = next(iter(folded), None)
            if stem in wanted and stem not in found:
                found[stem] = word.lower()
    return [found.get(stem, stem) for stem in group["shared_words"]]


def figures(request):
    """What the executive watches of the learning loop, for the organisation or one
    service: how fast and how punctually actions close, those past due, problems that
    repeat, and the CoEs waiting for review."""
    services = list(Service.objects.filter(corrections__status__in=[PUBLISHED, REVIEWED]).distinct()
                    .order_by("name").only("pk", "name", "slug"))
    chosen = next((s for s in services if s.slug == request.GET.get("service")), None)
    data = queries.learning_figures(service=chosen)
    for group in data["repeated"]:
        group["words"] = _readable(group)
    overdue = list(queries.overdue_actions(services=[chosen] if chosen else None, limit=50))
    today = timezone.localdate()
    for a in overdue:
        a.days_late = (today - a.due_date).days
    return render(request, "learning/coe/figures.html", {
        "nav": "coes", "sub": "figures", "figures": data, "overdue": overdue, "services": services, "chosen": chosen,
    })
