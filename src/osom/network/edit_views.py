"""Changing the network from its pages: contract drafts and their workflow, alterations,
managers, teams and dependencies. Every POST calls one action; its refusals become
form errors (bad input, conflicts) or a 403 page (a role that may not act)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from osom.core.numbers import as_id
from osom.core.errors import DomainError, NotAllowed
from osom.core.policy import refusal
from osom.core.views import forbidden

from . import actions, queries
from .contract import read_content
from .forms import (
    AlterationForm,
    AppointForm,
    ClearFlagForm,
    ContractForm,
    DecommissionFlagForm,
    DependencyForm,
    DependencyFormSet,
    MetricFormSet,
    NeedFormSet,
    ReasonForm,
    TeamMemberForm,
    content_from_forms,
    initial_from_content,
)
from .models import ContractVersion, Service, TeamMembership

__all__ = [
    "edit_draft", "open_draft", "submit_version", "approve_version", "return_version", "discard_version",
    "alter_contract", "appoint_manager", "add_team_member", "remove_team_member", "add_dependency",
    "remove_dependency", "flag_for_decommissioning", "clear_decommission_flag", "attach_errors",
]

_PATH = re.compile(r"^(needs|metrics|dependencies)\[(\d+)\](?:\.(\w+))?$")
_FORMSET_FOR = {"needs": "needs", "metrics": "metrics", "dependencies": "deps"}


def attach_errors(exc: DomainError, form, formsets: dict | None = None) -> None:
    """Put a refusal's field errors where the person will see them: on the field of the
    form or of the formset row it names (``needs[2].so_that``), else at the top."""
    formsets = formsets or {}
    for path, texts in (exc.errors or {"": [exc.message]}).items():
        match = _PATH.match(path)
        target, field = form, path
        if match and _FORMSET_FOR[match.group(1)] in formsets:
            fs = formsets[_FORMSET_FOR[match.group(1)]]
            kept = [f for f in fs.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            index = int(match.group(2))
            if index < len(kept):
                target, field = kept[index], match.group(3)
        for text in texts:
            if field and field in target.fields:
                target.add_error(field, text)
            elif target is form:
                form.add_error(None, f"{text}" if not path or path in form.fields else f"{text}")
            else:
                target.add_error(None, text)


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("manager", "current_version"), slug=slug)


def _version(service: Service, number: int) -> ContractVersion:
    return get_object_or_404(ContractVersion.objects.select_related("service"), service=service, number=number)


def _editor_forms(request, prefix_data=None, initial=None, form_class=ContractForm):
    data = request.POST if request.method == "POST" else None
    initial = initial or {"form": {}, "needs": [], "metrics": [], "deps": []}
    return (
        form_class(data, initial=initial["form"]),
        NeedFormSet(data, prefix="needs", initial=initial["needs"]),
        MetricFormSet(data, prefix="metrics", initial=initial["metrics"]),
        DependencyFormSet(data, prefix="deps", initial=initial["deps"]),
    )


def edit_draft(request, slug: str, number: int):
    """The contract editor for a draft: every part of the contract on one page."""
    service = _service(slug)
    version = _version(service, number)
    if refused := refusal(request.user, "edit_contract_draft", service=service):
        return forbidden(request, refused)
    if not version.is_editable:
        messages.warning(request, f"Version {version.number} is {version.get_status_display().lower()}; only a draft can be edited.")
        return redirect("network:version", slug=service.slug, number=version.number)
    initial = initial_from_content(read_content(version))
    initial["form"].update(change_note=version.change_note, revision=version.revision)
    form, needs, metrics, deps = _editor_forms(request, initial=initial)
    if request.method == "POST" and all(x.is_valid() for x in (form, needs, metrics, deps)):
        try:
            actions.edit_contract_draft(
                actor=request.user, version=version, content=content_from_forms(form, needs, metrics, deps),
                change_note=form.cleaned_data.get("change_note", ""), expected_revision=form.cleaned_data["revision"],
            )
        except NotAllowed as exc:
            return forbidden(request, exc.message)
        except DomainError as exc:
            attach_errors(exc, form, {"needs": needs, "metrics": metrics, "deps": deps})
        else:
            version.refresh_from_db()
            cycle = queries.cycle_through(service, draft=version)
            messages.success(request, f"Saved draft version {version.number}.")
            if cycle:
                messages.warning(request, "This draft makes a dependency cycle: " + " → ".join(cycle) + ".")
            return redirect("network:version", slug=service.slug, number=version.number)
    return render(request, "network/edit.html", {
        "nav": "network", "service": service, "version": version, "form": form,
        "needs": needs, "metrics": metrics, "deps": deps, "mode": "edit",
    })


def _terms(request):
    from osom.core.context import organisation_for

    return organisation_for(request).terms()


def alter_contract(request, slug: str):
    """The executive alters the approved contract: a new approved version, with the
    reason and the risk on record."""
    service = _service(slug)
    if refused := refusal(request.user, "alter_contract", service=service):
        return forbidden(request, refused)
    if service.current_version is None:
        raise Http404("This service has no approved contract to alter.")
    initial = initial_from_content(read_content(service.current_version))
    form, needs, metrics, deps = _editor_forms(request, initial=initial, form_class=AlterationForm)
    if request.method == "POST" and all(x.is_valid() for x in (form, needs, metrics, deps)):
        try:
            version = actions.alter_contract(
                actor=request.user, service=service, content=content_from_forms(form, needs, metrics, deps),
                reason=form.cleaned_data.get("reason", ""), risk=form.cleaned_data.get("risk", ""),
            )
        except NotAllowed as exc:
            return forbidden(request, exc.message)
        except DomainError as exc:
            attach_errors(exc, form, {"needs": needs, "metrics": metrics, "deps": deps})
        else:
            messages.success(request, f"Altered the contract: version {version.number} is now current.")
            return redirect("network:service", slug=service.slug)
    return render(request, "network/edit.html", {
        "nav": "network", "service": service, "version": service.current_version, "form": form,
        "needs": needs, "metrics": metrics, "deps": deps, "mode": "alter",
    })


def _simple_post(request, slug, call, success, *, number=None):
    """Run a workflow action from a button; refusals come back as messages or a 403."""
    service = _service(slug)
    version = _version(service, number) if number is not None else None
    try:
        result = call(service, version)
    except NotAllowed as exc:
        return forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        return None, service, version
    messages.success(request, success(result) if callable(success) else success)
    return result, service, version


@require_POST
def open_draft(request, slug: str):
    out = _simple_post(request, slug, lambda s, v: actions.draft_contract_version(actor=request.user, service=s),
                       lambda v: f"Opened draft version {v.number}. Change what you need, then submit it.")
    if not isinstance(out, tuple):
        return out
    result, service, _ = out
    if result is None:
        return redirect("network:service", slug=service.slug)
    return redirect("network:edit_draft", slug=service.slug, number=result.number)


@require_POST
def submit_version(request, slug: str, number: int):
    out = _simple_post(request, slug, lambda s, v: actions.submit_contract_version(actor=request.user, version=v),
                       lambda v: f"Submitted version {v.number} to the {_terms(request)['executive']} for approval.", number=number)
    return out if not isinstance(out, tuple) else redirect("network:version", slug=slug, number=number)


@require_POST
def approve_version(request, slug: str, number: int):
    revision = request.POST.get("revision")
    out = _simple_post(
        request, slug,
        lambda s, v: actions.approve_contract_version(actor=request.user, version=v,
                                                      expected_revision=as_id(revision)),
        lambda v: f"Approved version {v.number}: it is now the current contract.", number=number,
    )
    return out if not isinstance(out, tuple) else redirect("network:version", slug=slug, number=number)


@require_POST
def return_version(request, slug: str, number: int):
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    out = _simple_post(request, slug, lambda s, v: actions.return_contract_version(actor=request.user, version=v, reason=reason),
                       lambda v: f"Returned version {v.number} to its manager.", number=number)
    return out if not isinstance(out, tuple) else redirect("network:version", slug=slug, number=number)


@require_POST
def discard_version(request, slug: str, number: int):
    out = _simple_post(request, slug, lambda s, v: actions.discard_contract_draft(actor=request.user, version=v),
                       f"Discarded draft version {number}.", number=number)
    if not isinstance(out, tuple):
        return out
    result, service, _ = out
    if ContractVersion.objects.filter(service=service, number=number).exists():
        return redirect("network:version", slug=slug, number=number)
    return redirect("network:service", slug=slug)


def appoint_manager(request, slug: str):
    """Appoint the service's manager, or replace the one in post (with a reason)."""
    service = _service(slug)
    act = "replace_manager" if service.manager_id else "appoint_manager"
    if refused := refusal(request.user, act, service=service):
        return forbidden(request, refused)
    form = AppointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.appoint_manager(actor=request.user, service=service, person=form.cleaned_data["person"],
                                    reason=form.cleaned_data.get("reason", ""))
        except NotAllowed as exc:
            return forbidden(request, exc.message)
        except DomainError as exc:
            attach_errors(exc, form)
        else:
            messages.success(request, f"{form.cleaned_data['person']} now manages {service.name}.")
            return redirect("network:service", slug=service.slug)
    return render(request, "network/appoint.html", {"nav": "network", "service": service, "form": form, "replacing": bool(service.manager_id)})


def add_team_member(request, slug: str):
    """The manager adds someone to the team, in a framework role and level."""
    service = _service(slug)
    if refused := refusal(request.user, "add_team_member", service=service):
        return forbidden(request, refused)
    form = TeamMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.add_team_member(actor=request.user, service=service, person=form.cleaned_data["person"],
                                    role=form.cleaned_data["role"], level=form.cleaned_data["level"])
        except NotAllowed as exc:
            return forbidden(request, exc.message)
        except DomainError as exc:
            attach_errors(exc, form)
        else:
            messages.success(request, f"{form.cleaned_data['person']} joined the team.")
            return redirect("network:service", slug=service.slug)
    return render(request, "network/team_add.html", {"nav": "network", "service": service, "form": form})


@require_POST
def remove_team_member(request, slug: str, membership_id: int):
    service = _service(slug)
    membership = get_object_or_404(TeamMembership.objects.select_related("person", "role", "service"), pk=membership_id, service=service)
    try:
        actions.remove_team_member(actor=request.user, membership=membership)
    except NotAllowed as exc:
        return forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.person} left the team.")
    return redirect("network:service", slug=service.slug)


def add_dependency(request, slug: str):
    """Add a service this one consumes, in its draft contract; a cycle is reported."""
    service = _service(slug)
    if refused := refusal(request.user, "add_dependency", service=service):
        return forbidden(request, refused)
    form = DependencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["provider"].strip()
        provider = Service.objects.filter(name__iexact=name).first() or Service.objects.filter(slug=name).first()
        if provider is None:
            form.add_error("provider", f"There is no service “{name}”.")
        else:
            try:
                result = actions.add_dependency(actor=request.user, service=service, provider=provider,
                                                note=form.cleaned_data.get("note", ""))
            except NotAllowed as exc:
                return forbidden(request, exc.message)
            except DomainError as exc:
                attach_errors(exc, form)
            else:
                messages.success(request, f"Draft version {result.version.number} now consumes {provider.name}.")
                if result.cycle:
                    messages.warning(request, "This makes a dependency cycle: " + " → ".join(result.cycle) + ".")
                return redirect("network:version", slug=service.slug, number=result.version.number)
    return render(request, "network/dependency_add.html", {"nav": "network", "service": service, "form": form})


@require_POST
def remove_dependency(request, slug: str, provider_slug: str):
    service = _service(slug)
    provider = get_object_or_404(Service, slug=provider_slug)
    try:
        draft = actions.remove_dependency(actor=request.user, service=service, provider=provider)
    except NotAllowed as exc:
        return forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("network:service", slug=service.slug)
    messages.success(request, f"Draft version {draft.number} no longer consumes {provider.name}.")
    return redirect("network:version", slug=service.slug, number=draft.number)


def _flag_page(request, slug: str, *, clearing: bool):
    """The form to flag a service for decommissioning, or to clear its flag, with the reason."""
    service = get_object_or_404(Service.objects.select_related("manager", "decommission_flagged_by"), slug=slug)
    act = "clear_decommission_flag" if clearing else "flag_for_decommissioning"
    if refused := refusal(request.user, act, service=service):
        return forbidden(request, refused)
    form = (ClearFlagForm if clearing else DecommissionFlagForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = actions.clear_decommission_flag if clearing else actions.flag_for_decommissioning
        try:
            action(actor=request.user, service=service, reason=form.cleaned_data.get("reason", ""))
        except NotAllowed as exc:
            return forbidden(request, exc.message)
        except DomainError as exc:
            attach_errors(exc, form)
        else:
            messages.success(request, f"{service.name} is no longer flagged for decommissioning." if clearing
                             else f"Flagged {service.name} for decommissioning.")
            return redirect("network:service", slug=service.slug)
    return render(request, "network/decommission_flag.html",
                  {"nav": "network", "service": service, "form": form, "clearing": clearing})


def flag_for_decommissioning(request, slug: str):
    """The manager or the executive flags the service for decommissioning, saying why."""
    return _flag_page(request, slug, clearing=False)


def clear_decommission_flag(request, slug: str):
    """The executive clears the service's flag, saying why it is kept."""
    return _flag_page(request, slug, clearing=True)
