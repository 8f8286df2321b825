"""Organisation pages: sign in, people, a person, the audit log, the organisation's own names.

Two helpers here are meant for every app's pages (the network's, and those to come):

``apply_action(request, form, call) -> tuple[bool, object]``
    Runs one action for a POST and turns its refusals into what a page shows.
    ``form`` is validated first (``None`` for a bare button); ``call`` is a function of
    no arguments that calls the action, usually a lambda reading ``form.cleaned_data``.
    Returns ``(True, <what the action returned>)`` when it succeeded, else ``(False, x)``
    where ``x`` is the 403 response to return when the action answered
    :class:`~osom.core.errors.NotAllowed`, or ``None`` when the refusal was put on the
    form (bad input, a conflict, or an invalid form): re-render the page with it. An
    error on a field the form has goes on that field; any other goes to the form's
    non-field errors (shown by ``core/_form_errors.html``). A
    :class:`~osom.core.errors.Conflict` also leaves its ``changes`` on
    ``form.conflict_changes``. Without a form, the refusal becomes an error message.
    Typical use::

        ok, result = apply_action(request, form, lambda: actions.do_it(actor=request.user, **form.cleaned_data))
        if ok:
            return redirect(...)
        if result is not None:
            return result  # the 403 page
        return render(request, "app/page.html", {"form": form})

``forbidden(request, message) -> HttpResponse``
    The 403 page (``core/403.html``) saying, in a sentence, why the person may not act.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from .numbers import as_id
from osom.network.models import Appointment, Service, TeamMembership

from . import actions

from .context import organisation_for
from .errors import Conflict, DomainError, NotAllowed
from .forms import (
    AuditFilterForm,
    PeopleFilterForm,
    PersonForm,
    TerminologyForm,
    TokenForm,
    role_labels,
    verb_label,
)
from .models import ApiToken, AuditEvent, Person, Role
from .policy import ACTS, can, refusal
from .signin import ThrottledAuthenticationForm

__all__ = [
    "apply_action",
    "forbidden",
    "SignInView",
    "people",
    "person_page",
    "issue_token",
    "revoke_token",
    "audit_log",
    "organisation",
]


class SignInView(LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = ThrottledAuthenticationForm


def forbidden(request, message: str) -> HttpResponse:
    """A 403 page saying, in a sentence, why the person may not do this."""
    return render(request, "core/403.html", {"message": message}, status=403)


def _attach(form, exc: DomainError) -> None:
    """Each of the refusal's messages on the field it names, or at the top of the form.
    Hidden fields (a revision) cannot show an error, so theirs go to the top too."""
    for field, texts in (exc.errors or {"": [exc.message]}).items():
        visible = field in form.fields and not form.fields[field].widget.is_hidden
        for text in texts:
            form.add_error(field if visible else None, text)
    if isinstance(exc, Conflict):
        form.conflict_changes = list(exc.changes)


def apply_action(request, form, call: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``call`` (one action) for a POST; see the module docstring for the contract."""
    if form is not None and not form.is_valid():
        return False, None
    try:
        result = call()
    except NotAllowed as exc:
        return False, forbidden(request, exc.message)
    except DomainError as exc:
        if form is None:
            messages.error(request, exc.message)
        else:
            _attach(form, exc)
        return False, None
    return True, result


def _paginate(request, qs):
    return Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))


# ---------------------------------------------------------------- people


def _people_queryset(*, q: str = "", role: str = ""):
    """People with what the list shows about them, in three queries whatever their
    number: the people, the services they manage, their current team places."""
    qs = Person.objects.filter(is_active=True).only("pk", "name", "email", "role", "areas_of_interest").prefetch_related(
        Prefetch("managed_services", queryset=Service.objects.only("pk", "name", "slug", "manager_id").order_by("name")),
        Prefetch(
            "memberships",
            queryset=TeamMembership.objects.filter(ended_at__isnull=True)
            .select_related("service", "role")
            .only("pk", "person_id", "level", "service__name", "service__slug", "role__name")
            .order_by("service__name"),
            to_attr="current_memberships",
        ),
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q))
    if role in (Role.EXECUTIVE, Role.EXECUTIVE_TEAM):
        qs = qs.filter(role=role)
    elif role == "service_manager":
        qs = qs.filter(pk__in=Service.objects.filter(manager__isnull=False).values("manager_id"))
    elif role == "team_member":
        qs = qs.filter(pk__in=TeamMembership.objects.filter(ended_at__isnull=True).values("person_id"))
    return qs.order_by("name", "pk")


def people(request):
    """Everyone in the organisation: role, areas of interest, services managed, teams.
    The executive (and its team) add people here."""
    terms = organisation_for(request).terms()
    add_form = None
    if request.method == "POST":
        if refused := refusal(request.user, "create_person"):
            return forbidden(request, refused)
        add_form = PersonForm(request.POST, terms=terms)
        ok, result = apply_action(
            request, add_form, lambda: actions.create_person(actor=request.user, **add_form.action_kwargs())
        )
        if ok:
            messages.success(request, f"Added {result.name} to the organisation.")
            return redirect("core:person", pk=result.pk)
        if result is not None:
            return result
    elif can(request.user, "create_person"):
        add_form = PersonForm(terms=terms)

    form = PeopleFilterForm(request.GET or None, terms=terms)
    filters = form.cleaned_data if form.is_valid() else {}
    page = _paginate(request, _people_queryset(q=filters.get("q", ""), role=filters.get("role", "")))
    context = {
        "nav": "people",
        "form": form,
        "add_form": add_form,
        "page": page,
        "role_labels": role_labels(terms),
        "filtered": any(filters.values()),
    }
    if request.htmx and request.htmx.target == "people-results":
        return render(request, "core/_people_results.html", context)
    return render(request, "core/people.html", context)


# ---------------------------------------------------------------- a person


def _person_context(request, person: Person, token_form: TokenForm | None = None) -> dict:
    terms = organisation_for(request).terms()
    appointments = list(
        Appointment.objects.filter(person=person).select_related("service", "appointed_by").order_by("-started_at", "-pk")
    )
    memberships = list(
        TeamMembership.objects.filter(person=person)
        .select_related("service", "role", "added_by")
        .order_by("ended_at", "service__name")  # current ones (no end) first
    )
    own = request.user.pk == person.pk
    context = {
        "nav": "people",
        "person": person,
        "role_label": role_labels(terms).get(person.role, person.get_role_display()),
        "current_appointments": [a for a in appointments if a.ended_at is None],
        "past_appointments": [a for a in appointments if a.ended_at is not None],
        "current_memberships": [m for m in memberships if m.ended_at is None],
        "past_memberships": [m for m in memberships if m.ended_at is not None],
        "events": list(
            AuditEvent.objects.filter(actor=person).select_related("service", "authority_person")[:20]
        ),
        "own": own,
    }
    if own:
        context["tokens"] = list(person.api_tokens.order_by("-created_at", "-pk"))
        context["token_form"] = token_form or TokenForm()
        context["now"] = timezone.now()
    return context


def person_page(request, pk: int):
    """Who someone is, what they manage and have managed, their teams and their recent
    acts; on your own page, your API tokens."""
    person = get_object_or_404(Person, pk=pk)
    return render(request, "core/person.html", _person_context(request, person))


def issue_token(request, pk: int):
    """Issue a personal API token and show it, once, in the response to the POST.

    The page is rendered straight away rather than redirected to, so the token is never
    kept in a cookie or the session waiting for the next page; it is marked no-store."""
    person = get_object_or_404(Person, pk=pk)
    if request.method != "POST":
        return redirect("core:person", pk=person.pk)
    if refused := refusal(request.user, "issue_api_token", subject=person):
        return forbidden(request, refused)
    form = TokenForm(request.POST)
    ok, result = apply_action(
        request, form,
        lambda: actions.issue_api_token(
            actor=request.user, person=person, label=form.cleaned_data["label"], days=form.cleaned_data["days"]
        ),
    )
    if not ok:
        if result is not None:
            return result
        return render(request, "core/person.html", _person_context(request, person, form))
    token, raw = result
    messages.success(
        request,
        format_html(
            "Your new API token{}: <code class=\"secret\" tabindex=\"0\">{}</code> "
            "Copy it now: it is shown only this once and cannot be recovered; "
            "from now on it is known only by its first characters, {}…",
            f" “{token.label}”" if token.label else "", raw, token.prefix,
        ),
        extra_tags="token",
    )
    response = render(request, "core/person.html", _person_context(request, person))
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def revoke_token(request, pk: int, token_id: int):
    token = get_object_or_404(ApiToken.objects.select_related("person"), pk=token_id, person_id=pk)
    ok, result = apply_action(request, None, lambda: actions.revoke_api_token(actor=request.user, token=token))
    if ok:
        messages.success(request, f"Revoked the API token {token.prefix}…; it no longer works.")
    elif result is not None:
        return result  # the 403 page
    return redirect("core:person", pk=pk)


# ---------------------------------------------------------------- audit log


def _audit_queryset(filters: dict):
    """Events with their actor, authority and service joined in: one query per page."""
    qs = AuditEvent.objects.select_related("actor", "authority_person", "service")
    service = (filters.get("service") or "").strip()
    if service:
        qs = qs.filter(Q(service__slug=service) | Q(service__name__iexact=service))
    person = (filters.get("person") or "").strip()
    if person:
        qs = qs.filter(actor_id=as_id(person)) if as_id(person) else qs.filter(actor_label__icontains=person)
    if filters.get("verb"):
        qs = qs.filter(verb=filters["verb"])
    zone = timezone.get_current_timezone()
    if filters.get("since"):
        qs = qs.filter(at__gte=datetime.combine(filters["since"], time.min, tzinfo=zone))
    if filters.get("until"):
        qs = qs.filter(at__lt=datetime.combine(filters["until"] + timedelta(days=1), time.min, tzinfo=zone))
    return qs.order_by("-at", "-id")


def audit_log(request):
    """Who did what, when, and on whose authority: every write on the platform."""
    verbs = AuditEvent.objects.order_by("verb").values_list("verb", flat=True).distinct()
    form = AuditFilterForm(request.GET or None, verbs=list(verbs))
    filters = form.cleaned_data if form.is_valid() else {}
    page = _paginate(request, _audit_queryset(filters))
    page.object_list = list(page.object_list)
    for event in page.object_list:
        event.verb_label = verb_label(event.verb)
    context = {
        "nav": "audit",
        "form": form,
        "page": page,
        "filtered": any(filters.values()),
    }
    if request.htmx and request.htmx.target == "audit-results":
        return render(request, "core/_audit_results.html", context)
    return render(request, "core/audit.html", context)


# ---------------------------------------------------------------- the organisation


def organisation(request):
    """The organisation's own names for the model and its roles, and the acts the
    executive keeps to itself. Everyone reads them; the executive (or its team) edits."""
    org = organisation_for(request)
    form = None
    if request.method == "POST":
        if refused := refusal(request.user, "edit_terminology"):
            return forbidden(request, refused)
        form = TerminologyForm(request.POST)
        ok, result = apply_action(
            request, form,
            lambda: actions.edit_terminology(
                actor=request.user, values=form.values(), expected_revision=form.cleaned_data.get("revision"),
            ),
        )
        if ok:
            messages.success(request, "Saved the organisation's names. Every page now uses them.")
            return redirect("core:organisation")
        if result is not None:
            return result
    elif can(request.user, "edit_terminology"):
        form = TerminologyForm(initial={**{f: getattr(org, f) for f in actions.TERM_FIELDS}, "revision": org.revision})
    reserved = [
        {"act": act, "says": ACTS[act].says if act in ACTS else verb_label(act).lower()}
        for act in (org.reserved_acts or [])
    ]
    return render(request, "core/organisation.html", {
        "nav": "organisation",
        "form": form,
        "reserved": reserved,
        "term_rows": [(label, getattr(org, field)) for field, label in actions.TERM_FIELDS.items()],
    })
