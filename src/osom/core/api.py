"""API routes for the organisation: its people, its own names for the model, the
professional framework, the audit log and personal API tokens."""

from __future__ import annotations

from django.db.models import Prefetch, Q
from django.http import HttpRequest
from ninja import Query, Router, Status

from osom.core.numbers import as_id
from osom.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    AuditFilters,
    AuditPage,
    OrganisationOut,
    PageQuery,
    PersonDetail,
    PersonFilters,
    PersonIn,
    PersonOut,
    PersonPage,
    RolePage,
    TerminologyIn,
    TokenIn,
    TokenIssued,
    TokenOut,
    TokenPage,
    page,
)
from osom.network.models import ProfessionalRole, Service, TeamMembership

from . import actions
from .errors import InvalidInput, NotFound
from .models import ApiToken, AuditEvent, Organisation, Person

__all__ = ["router", "actor", "find_person"]

router = Router(tags=["organisation"])


def actor(request: HttpRequest) -> Person:
    """The signed-in person the request acts as (by token or session)."""
    return request.auth  # type: ignore[attr-defined, return-value]


def find_person(ref: str, field: str) -> Person:
    """The person a request names by id or email, or a 400 naming ``field``."""
    ref = (ref or "").strip()
    query = Q(pk=as_id(ref)) if as_id(ref) else Q(email__iexact=ref)
    person = Person.objects.filter(query).first() if ref else None
    if person is None:
        raise InvalidInput(
            f"There is no person “{ref}” in the organisation." if ref else "Name a person, by id or email.", field=field
        )
    return person


def _people():
    """People with the services each manages now: one more query for the whole page."""
    return Person.objects.prefetch_related(
        Prefetch("managed_services", queryset=Service.objects.order_by("name"))
    ).order_by("name", "pk")


def _person_detail(person_id: int) -> Person:
    memberships = TeamMembership.objects.select_related("service", "role").order_by("-started_at", "-pk")
    person = _people().prefetch_related(Prefetch("memberships", queryset=memberships)).filter(pk=person_id).first()
    if person is None:
        raise NotFound(f"There is no person with id {person_id}.", field="person_id")
    return person


@router.get("/people", response={200: PersonPage, **READ_ERRORS})
def list_people(request: HttpRequest, filters: Query[PersonFilters]):
    """Everyone in the organisation, with the services each one manages."""
    qs = _people()
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(email__icontains=filters.q))
    if filters.role:
        qs = qs.filter(role=filters.role)
    return page(qs, filters)


@router.get("/people/{person_id}", response={200: PersonDetail, **READ_ERRORS})
def get_person(request: HttpRequest, person_id: int):
    """A person: their role, the services they manage and the teams they are or were in."""
    return _person_detail(person_id)


@router.post("/people", response={201: PersonOut, **WRITE_ERRORS})
def create_person(request: HttpRequest, payload: PersonIn):
    """Add someone to the organisation (the executive's act)."""
    person = actions.create_person(
        actor=actor(request), email=payload.email, name=payload.name, role=payload.role,
        areas_of_interest=payload.areas_of_interest, password=payload.password,
    )
    return Status(201, person)


@router.get("/audit", response={200: AuditPage, **READ_ERRORS})
def list_audit_events(request: HttpRequest, filters: Query[AuditFilters]):
    """The audit log, newest first: every act, who did it, on whose authority and why."""
    qs = AuditEvent.objects.select_related("actor", "authority_person", "service").order_by("-at", "-id")
    if filters.service:
        qs = qs.filter(service__slug=filters.service)
    if filters.person is not None:
        qs = qs.filter(actor_id=filters.person)
    if filters.verb:
        qs = qs.filter(verb=filters.verb)
    return page(qs, filters)


@router.get("/organisation", response={200: OrganisationOut, **READ_ERRORS})
def get_organisation(request: HttpRequest):
    """The organisation's own names for the model, the executive, its team and a
    service manager, and the acts the executive keeps to itself."""
    return Organisation.current()


@router.put("/organisation", response={200: OrganisationOut, **WRITE_ERRORS})
def edit_terminology(request: HttpRequest, payload: TerminologyIn):
    """Rename the model's roles in the organisation's own words (the executive's act).
    Only the names given change; ``expected_revision`` guards against a concurrent edit."""
    return actions.edit_terminology(
        actor=actor(request), values=payload.values(), expected_revision=payload.expected_revision
    )


@router.get("/roles", response={200: RolePage, **READ_ERRORS})
def list_professional_roles(request: HttpRequest, query: Query[PageQuery]):
    """The professional framework's roles team members hold (job family and role)."""
    return page(ProfessionalRole.objects.order_by("framework", "job_family", "name"), query)


@router.get("/tokens", response={200: TokenPage, **READ_ERRORS})
def list_tokens(request: HttpRequest, query: Query[PageQuery]):
    """The caller's own API tokens, newest first (never the tokens themselves)."""
    return page(ApiToken.objects.filter(person=actor(request)).order_by("-created_at", "-pk"), query)


@router.post("/tokens", response={201: TokenIssued, **WRITE_ERRORS})
def issue_token(request: HttpRequest, payload: TokenIn):
    """Issue a personal API token for the caller. The answer holds the token itself,
    shown this once; send it as ``Authorization: Bearer <token>``."""
    token, raw = actions.issue_api_token(actor=actor(request), person=actor(request), label=payload.label, days=payload.days)
    return Status(201, {**{name: getattr(token, name) for name in TokenOut.model_fields}, "token": raw})


@router.delete("/tokens/{token_id}", response={200: TokenOut, **WRITE_ERRORS})
def revoke_token(request: HttpRequest, token_id: int):
    """Revoke an API token: the caller's own, or anyone's by the executive."""
    token = ApiToken.objects.select_related("person").filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"There is no API token with id {token_id}.", field="token_id")
    return actions.revoke_api_token(actor=actor(request), token=token)
