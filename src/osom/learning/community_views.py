"""The pages of communities of practice (model 8): the communities and their members,
the guidance each issues for its profession, the executive's endorsement, evaluation
disputes escalated to the executive, the coverage of the professions present in service
teams, and the open roles in those teams shown to the practitioners they concern.

Every POST calls one action through :func:`osom.core.views.apply_action`: a role that
may not act gets the 403 page with the policy's sentence (checked before any form is
shown), bad input and conflicts come back on the fields they name, nothing is written.
Lists paginate and cost a fixed number of queries whatever their length."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from osom.core.models import Person
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.governance.models import Dispute
from osom.network.models import Service, TeamMembership
from osom.network.stages import Lifecycle

from . import communities as acts
from . import queries
from .community_forms import (
    EVERY,
    CommunityEditForm,
    CommunityFilterForm,
    CommunityForm,
    EndorseForm,
    EscalateForm,
    GuidanceForm,
    OpenRoleFilterForm,
    OpenRoleForm,
    WithdrawEndorsementForm,
    WithdrawGuidanceForm,
)
from .models import Community, CommunityGuidance, CommunityMembership, OpenRole

__all__ = [
    "communities",
    "community_edit",
    "community_endorse",
    "community_join",
    "community_leave",
    "community_new",
    "community_page",
    "community_unendorse",
    "coverage",
    "escalate",
    "guidance_new",
    "guidance_withdraw",
    "open_role_close",
    "open_role_new",
    "open_roles",
]

STATES = [
    {"value": "endorsed", "label": "Endorsed", "says": "a community the executive endorsed advises managers"},
    {"value": "forming", "label": "Forming", "says": "a community is forming, not yet endorsed"},
    {"value": "none", "label": "No community", "says": "nobody has formed one yet"},
]


def _posted(request):
    """The POST's data for a form, bound even when the POST is empty."""
    return request.POST if request.method == "POST" else None


def _page(request, qs, param: str = "page"):
    return Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get(param))


def _button(request, call, success, back: str):
    """A bare button (join, leave): the refusal becomes a message or the 403 page."""
    ok, result = apply_action(request, None, call)
    if ok:
        messages.success(request, success(result) if callable(success) else success)
    elif result is not None:
        return result
    return redirect(back)


def _community(pk: int) -> Community:
    return get_object_or_404(Community.objects.select_related("lead", "endorsed_by"), pk=pk)


# ---------------------------------------------------------------- communities

def communities(request):
    """Every community of practice: its profession, lead, members and endorsement."""
    known = acts.professions()
    form = CommunityFilterForm(request.GET or None, professions=known)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = (Community.objects.select_related("lead")
          .annotate(members=Count("memberships", filter=Q(memberships__left_at__isnull=True))))
    if filters.get("profession"):
        qs = qs.filter(profession=filters["profession"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    page = _page(request, qs.order_by("name", "pk"))
    return render(request, "learning/community/communities.html", {
        "nav": "communities", "sub": "communities", "form": form, "page": page, "filtered": any(filters.values()),
        "may_form": can(request.user, "form_community"),
    })


def community_new(request):
    """Anyone forms a community around a profession; they lead it."""
    if refused := refusal(request.user, "form_community"):
        return forbidden(request, refused)
    known = acts.professions()
    wanted = request.GET.get("profession", "")
    form = CommunityForm(_posted(request), professions=known,
                         initial={"profession": wanted if wanted in known else ""})
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: acts.form_community(
            actor=request.user, name=form.cleaned_data.get("name", ""),
            profession=form.cleaned_data.get("profession", ""), purpose=form.cleaned_data.get("purpose", "")))
        if ok:
            messages.success(request, f"Formed the community “{result.name}”. You lead it and are its first member.")
            return redirect("learning:community", pk=result.pk)
        if result is not None:
            return result
    return render(request, "learning/community/community_form.html", {
        "nav": "communities", "sub": "communities", "form": form})


def _members(community: Community):
    return (Person.objects.filter(community_memberships__community=community, community_memberships__left_at__isnull=True,
                                  is_active=True).order_by("name", "pk"))


def _community_context(request, community: Community, *, endorse_form=None, unendorse_form=None) -> dict:
    """The community page: a fixed number of queries whatever its number of members."""
    user = request.user
    memberships = (CommunityMembership.objects.filter(community=community, left_at__isnull=True)
                   .select_related("person").order_by("person__name", "pk"))
    page = _page(request, memberships, "members")
    is_member = memberships.filter(person=user).exists()
    guidance = list(community.guidance.select_related("published_by").order_by("-published_at", "-pk"))
    current = [g for g in guidance if g.withdrawn_at is None]
    roles = list(OpenRole.objects.filter(status=OpenRole.Status.OPEN, role__job_family=community.profession)
                 .select_related("service", "role").order_by("-posted_at", "-pk")[:20])
    disputes = list(Dispute.objects.filter(community=community).order_by("-raised_at", "-pk")[:10])
    endorsed = community.status == Community.Status.ENDORSED
    may = {
        "edit": can(user, "edit_community", obj=community),
        "publish": can(user, "publish_community_guidance", obj=community),
        "withdraw_guidance": can(user, "withdraw_community_guidance", obj=community),
        "escalate": can(user, "escalate_evaluation_dispute", obj=community),
        "endorse": not endorsed and can(user, "endorse_community"),
        "unendorse": endorsed and can(user, "withdraw_endorsement"),
    }
    has_evaluation = any(g.kind == CommunityGuidance.Kind.EVALUATION for g in current)
    return {
        "nav": "communities", "sub": "communities", "community": community, "members": page, "is_member": is_member,
        "is_lead": community.lead_id == user.pk,
        "practice": [g for g in current if g.kind == CommunityGuidance.Kind.PRACTICE],
        "evaluation": [g for g in current if g.kind == CommunityGuidance.Kind.EVALUATION],
        "withdrawn": [g for g in guidance if g.withdrawn_at is not None],
        "roles": roles, "disputes": disputes, "may": may, "has_evaluation": has_evaluation,
        "endorse_form": endorse_form or (EndorseForm() if may["endorse"] else None),
        "unendorse_form": unendorse_form or (WithdrawEndorsementForm() if may["unendorse"] else None),
        "withdraw_guidance_form": WithdrawGuidanceForm() if may["withdraw_guidance"] else None,
    }


def community_page(request, pk: int):
    """A community: its purpose, lead and members, the guidance it issues, the open
    roles in its profession, and what each person may do with it."""
    community = _community(pk)
    return render(request, "learning/community/community.html", _community_context(request, community))


def community_edit(request, pk: int):
    """The lead changes the name or purpose, or hands the lead to another member."""
    community = _community(pk)
    if refused := refusal(request.user, "edit_community", obj=community):
        return forbidden(request, refused)
    form = CommunityEditForm(_posted(request), members=_members(community), initial={
        "name": community.name, "purpose": community.purpose, "lead": community.lead_id, "revision": community.revision})
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: acts.edit_community(
            actor=request.user, community=community, name=form.cleaned_data.get("name", ""),
            purpose=form.cleaned_data.get("purpose", ""), lead=form.cleaned_data.get("lead"),
            expected_revision=form.cleaned_data.get("revision")))
        if ok:
            if result.lead_id != request.user.pk:
                messages.success(request, f"Saved. {result.lead.name} now leads the community.")
            else:
                messages.success(request, "Saved the community.")
            return redirect("learning:community", pk=result.pk)
        if result is not None:
            return result
    return render(request, "learning/community/community_form.html", {
        "nav": "communities", "sub": "communities", "form": form, "community": community})


@require_POST
def community_join(request, pk: int):
    community = _community(pk)
    return _button(request, lambda: acts.join_community(actor=request.user, community=community),
                   f"You joined {community.name}.", reverse("learning:community", args=[pk]))


@require_POST
def community_leave(request, pk: int):
    community = _community(pk)
    return _button(request, lambda: acts.leave_community(actor=request.user, community=community),
                   f"You left {community.name}.", reverse("learning:community", args=[pk]))


@require_POST
def community_endorse(request, pk: int):
    """The executive endorses a community able to advise on evaluating its practitioners."""
    community = _community(pk)
    if refused := refusal(request.user, "endorse_community"):
        return forbidden(request, refused)
    form = EndorseForm(request.POST)
    ok, result = apply_action(request, form, lambda: acts.endorse_community(
        actor=request.user, community=community, on=form.cleaned_data.get("on") or None))
    if ok:
        messages.success(request, f"Endorsed {result.name}. Its members have been told.")
        return redirect("learning:community", pk=pk)
    return result or render(request, "learning/community/community.html",
                            _community_context(request, community, endorse_form=form))


@require_POST
def community_unendorse(request, pk: int):
    community = _community(pk)
    if refused := refusal(request.user, "withdraw_endorsement"):
        return forbidden(request, refused)
    form = WithdrawEndorsementForm(request.POST)
    ok, result = apply_action(request, form, lambda: acts.withdraw_endorsement(
        actor=request.user, community=community, reason=form.cleaned_data.get("reason", "")))
    if ok:
        messages.success(request, f"Withdrew the endorsement of {result.name}. Its lead has been told why.")
        return redirect("learning:community", pk=pk)
    return result or render(request, "learning/community/community.html",
                            _community_context(request, community, unendorse_form=form))


def guidance_new(request, pk: int):
    """The lead publishes guidance for the profession: on practice, or on evaluating
    practitioners (what the executive looks for before endorsing)."""
    community = _community(pk)
    if refused := refusal(request.user, "publish_community_guidance", obj=community):
        return forbidden(request, refused)
    wanted = request.GET.get("kind", "")
    form = GuidanceForm(_posted(request), initial={"kind": wanted if wanted in CommunityGuidance.Kind.values else ""})
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: acts.publish_community_guidance(
            actor=request.user, community=community, kind=form.cleaned_data.get("kind", ""),
            title=form.cleaned_data.get("title", ""), body=form.cleaned_data.get("body", "")))
        if ok:
            messages.success(request, f"Published “{result.title}”. The members have been told.")
            return redirect(f"{reverse('learning:community', args=[pk])}#guidance-{result.pk}")
        if result is not None:
            return result
    return render(request, "learning/community/guidance_form.html", {
        "nav": "communities", "sub": "communities", "form": form, "community": community})


@require_POST
def guidance_withdraw(request, pk: int):
    guidance = get_object_or_404(CommunityGuidance.objects.select_related("community"), pk=pk)
    community = guidance.community
    if refused := refusal(request.user, "withdraw_community_guidance", obj=community):
        return forbidden(request, refused)
    form = WithdrawGuidanceForm(request.POST)
    ok, result = apply_action(request, form, lambda: acts.withdraw_community_guidance(
        actor=request.user, guidance=guidance, reason=form.cleaned_data.get("reason", "")))
    if ok:
        messages.success(request, f"Withdrew “{result.title}”. It stays on record as withdrawn.")
    elif result is not None:
        return result
    else:
        for error in form.non_field_errors():
            messages.error(request, error)
    return redirect("learning:community", pk=community.pk)


def escalate(request, pk: int):
    """The lead escalates an evaluation dispute the community could not settle to the
    executive, who mediates it."""
    community = _community(pk)
    if refused := refusal(request.user, "escalate_evaluation_dispute", obj=community):
        return forbidden(request, refused)
    form = EscalateForm(_posted(request))
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: acts.escalate_evaluation_dispute(
            actor=request.user, community=community, subject=form.cleaned_data.get("subject", ""),
            description=form.cleaned_data.get("description", "")))
        if ok:
            messages.success(request, f"Escalated “{result.subject}” to the executive, who has been told.")
            return redirect("governance:dispute", pk=result.pk)
        if result is not None:
            return result
    return render(request, "learning/community/escalate_form.html", {
        "nav": "communities", "sub": "communities", "form": form, "community": community})


# ---------------------------------------------------------------- coverage

def coverage(request):
    """Each profession present in service teams, as a bar as long as its number of
    practitioners, coloured (and labelled) by whether a community covers it."""
    rows = queries.coverage()
    widest = max((r["people"] for r in rows), default=0) or 1
    for row in rows:
        row["width"] = max(round(100 * row["people"] / widest), 6)
        row["label"] = next(s["label"] for s in STATES if s["value"] == row["state"])
    totals = {s["value"]: sum(1 for r in rows if r["state"] == s["value"]) for s in STATES}
    return render(request, "learning/community/coverage.html", {
        "nav": "communities", "sub": "coverage", "rows": rows, "states": [{**s, "count": totals[s["value"]]} for s in STATES],
        "total": len(rows), "may_form": can(request.user, "form_community"),
    })


# ---------------------------------------------------------------- open roles

def _my_professions(person) -> list[str]:
    """The professions a person practises: of their communities and their team roles."""
    mine = set(CommunityMembership.objects.filter(person=person, left_at__isnull=True)
               .values_list("community__profession", flat=True))
    mine |= set(TeamMembership.objects.filter(person=person, ended_at__isnull=True).values_list("role__job_family", flat=True))
    return sorted(mine)


def open_roles(request):
    """Open roles in service teams: by default those of the viewer's professions, or of
    every profession, or of one."""
    known = acts.professions()
    chosen = request.GET.get("profession", "")
    form = OpenRoleFilterForm(request.GET or None, professions=known)
    user = request.user
    mine = _my_professions(user)
    if chosen and chosen != EVERY and chosen not in known:
        chosen = EVERY
    page = None
    if not chosen and mine:
        roles = queries.open_roles_for(user)
    else:
        qs = OpenRole.objects.filter(status=OpenRole.Status.OPEN).select_related("service", "role", "posted_by")
        if chosen and chosen != EVERY:
            qs = qs.filter(role__job_family=chosen)
        page = _page(request, qs.order_by("-posted_at", "-pk"))
        roles = list(page.object_list)
    for role in roles:
        role.may_close = can(user, "close_open_role", service=role.service)
    managed = [s for s in Service.objects.filter(manager=user).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
               .only("pk", "name", "slug", "manager_id").order_by("name")
               if can(user, "post_open_role", service=s)]
    return render(request, "learning/community/open_roles.html", {
        "nav": "communities", "sub": "open_roles", "form": form, "roles": roles, "page": page, "chosen": chosen,
        "mine": mine, "managed": managed, "here": request.get_full_path(),
    })


def open_role_new(request, slug: str):
    """A service's manager posts a place in the team; the practitioners of its
    profession are told."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "post_open_role", service=service):
        return forbidden(request, refused)
    form = OpenRoleForm(_posted(request))
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: acts.post_open_role(
            actor=request.user, service=service, role=form.cleaned_data.get("role"),
            level=form.cleaned_data.get("level", ""), description=form.cleaned_data.get("description", "")))
        if ok:
            messages.success(request, f"Posted the open role {result.role.name} in {service.name}. "
                             f"The members of communities of {result.role.job_family} have been told.")
            return redirect(f"{reverse('learning:open_roles')}?profession={EVERY}")
        if result is not None:
            return result
    return render(request, "learning/community/open_role_form.html", {
        "nav": "communities", "sub": "open_roles", "form": form, "service": service})


CLOSINGS = {"filled": True, "withdrawn": False}


@require_POST
def open_role_close(request, pk: int):
    """The manager marks an open role filled, or withdraws it."""
    opening = get_object_or_404(OpenRole.objects.select_related("service__manager", "role"), pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("learning:open_roles")
    if refused := refusal(request.user, "close_open_role", service=opening.service):
        return forbidden(request, refused)
    outcome = request.POST.get("outcome", "")
    if outcome not in CLOSINGS:
        messages.error(request, "Say whether the role was filled or withdrawn.")
        return redirect(back)
    return _button(request, lambda: acts.close_open_role(actor=request.user, opening=opening, filled=CLOSINGS[outcome]),
                   lambda o: f"{o.role.name} in {o.service.name} is {o.get_status_display().lower()}.", back)
