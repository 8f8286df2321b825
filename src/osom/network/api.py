"""API routes for the service network: services, their versioned contracts, managers,
teams and dependencies. Reads use ``queries``; every write is one call to ``actions``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from osom.core.numbers import as_id
from osom.api import schemas
from osom.api.schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    AdoptIn,
    AlterationIn,
    AppointIn,
    AppointmentOut,
    ApproveIn,
    ContractDiffOut,
    DependencyAdded,
    DependencyIn,
    DraftEditIn,
    DraftIn,
    EstablishIn,
    Moment,
    NextCursor,
    PageQuery,
    ReturnIn,
    TeamMemberIn,
    TeamMemberOut,
    VersionOut,
    VersionPage,
    page,
    service_detail,
    team_member_out,
    version_out,
)
from osom.core.api import actor, find_person
from osom.core.errors import InvalidInput, NotFound

from . import actions, queries
from .diff import diff_versions
from .models import ContractVersion, ProfessionalRole, Service, TeamMembership
from .stages import VersionStatus

__all__ = ["router"]

router = Router(tags=["services"])


# ---------------------------------------------------------------- the flag for decommissioning
# The service shapes of ``osom.api.schemas``, with the flag a service may carry. They keep
# the names of the shapes they extend, which no other route answers, so the OpenAPI
# document names them as before.


def _flag_of(service) -> str | None:
    return service.decommission_flag if service.is_flagged_for_decommissioning else None


def _flagged_at(service):
    return service.decommission_flagged_at if service.is_flagged_for_decommissioning else None


class ServiceFilters(schemas.ServiceFilters):
    flagged: bool | None = Field(None, description="true: only the services flagged for decommissioning; false: "
                                                   "only those that are not")


class ServiceRow(schemas.ServiceRow):
    decommission_flag: str | None = Field(description="Why it is flagged for decommissioning; null when it is not")
    decommission_flagged_at: Moment | None = Field(description="When it was flagged; null when it is not")

    @staticmethod
    def resolve_decommission_flag(obj) -> str | None:
        return _flag_of(obj)

    @staticmethod
    def resolve_decommission_flagged_at(obj):
        return _flagged_at(obj)


class ServicePage(Schema):
    items: list[ServiceRow]
    count: schemas.WholeNumber
    next_cursor: NextCursor


class ServiceDetail(schemas.ServiceDetail):
    decommission_flag: str | None = Field(description="Why it is flagged for decommissioning; null when it is not. "
                                                      "The flag decommissions nothing: it asks for an assessment")
    decommission_flagged_at: Moment | None = Field(description="When it was flagged; null when it is not")
    decommission_flagged_by: schemas.PersonRef | None = Field(description="Who flagged it; null when it is not flagged")


class DecommissionFlagIn(Schema):
    reason: str = Field(description="Why the service should be considered for decommissioning")


class ClearFlagIn(Schema):
    reason: str = Field(description="Why the service is kept")


# ---------------------------------------------------------------- finding what a request names


def _service(slug: str) -> Service:
    service = Service.objects.select_related("manager", "current_version").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="slug")
    return service


def _version(service: Service, number: int, field: str = "number") -> ContractVersion:
    version = ContractVersion.objects.filter(service=service, number=number).first()
    if version is None:
        raise NotFound(f"{service.name} has no version {number}.", field=field)
    version.service = service
    return version


def _provider(ref: str) -> Service:
    """A service named in a request body, by slug or name."""
    ref = (ref or "").strip()
    provider = Service.objects.filter(Q(slug=ref) | Q(name__iexact=ref)).first() if ref else None
    if provider is None:
        raise InvalidInput(f"There is no service “{ref}”." if ref else "Name the service consumed.", field="provider")
    return provider


def _professional_role(ref: str) -> ProfessionalRole:
    ref = (ref or "").strip()
    query = Q(pk=as_id(ref)) if as_id(ref) else Q(name__iexact=ref)
    role = ProfessionalRole.objects.filter(query).order_by("pk").first() if ref else None
    if role is None:
        raise InvalidInput(
            f"“{ref}” is not a role of the professional framework; GET /roles lists them." if ref
            else "Choose the person's role from the professional framework.",
            field="role",
        )
    return role


# ---------------------------------------------------------------- answers


def _service_body(slug: str) -> dict[str, Any]:
    """The full :class:`ServiceDetail` of a service, in a fixed number of queries."""
    try:
        detail = queries.service_detail(slug)
    except Service.DoesNotExist:
        raise NotFound(f"There is no service “{slug}”.", field="slug") from None
    service = detail["service"]
    cycle = queries.cycle_through(service) if service.current_version_id else []
    flagged = service.is_flagged_for_decommissioning
    return {**service_detail(detail, cycle), "decommission_flag": _flag_of(service),
            "decommission_flagged_at": _flagged_at(service),
            "decommission_flagged_by": service.decommission_flagged_by if flagged else None}


def _version_body(service: Service, number: int) -> dict[str, Any]:
    """:class:`VersionOut`, with the cycle a draft would close, or the cycle through the
    service today for its current version."""
    try:
        version = queries.version_detail(service, number)
    except ContractVersion.DoesNotExist:
        raise NotFound(f"{service.name} has no version {number}.", field="number") from None
    if version.status != VersionStatus.APPROVED:
        cycle = queries.cycle_through(service, draft=version)
    elif version.pk == service.current_version_id:
        cycle = queries.cycle_through(service)
    else:
        cycle = []
    return version_out(version, service, cycle=cycle)


# ---------------------------------------------------------------- reading the network


@router.get("/services", response={200: ServicePage, **READ_ERRORS})
def list_services(request: HttpRequest, filters: Query[ServiceFilters]):
    """The network: every service with its stages, manager, users and how many services
    it consumes and is consumed by, filtered and paged."""
    qs = queries.network_list(
        q=filters.q.strip(),
        stage=filters.stage or "",
        evolution=filters.evolution or "",
        manager=filters.manager.strip(),
        users=filters.users or "",
        flagged=filters.flagged,
    )
    return page(qs, filters)


# Declared before /services/{slug} so that its address is not taken for a slug.
@router.post("/services/adopt", response={201: ServiceDetail, **WRITE_ERRORS})
def adopt_existing_service(request: HttpRequest, payload: AdoptIn):
    """Adopt a service that already runs into the model, with a contract written for it,
    at the lifecycle stage it is really at (the executive's act)."""
    manager = find_person(payload.manager, "manager") if payload.manager else None
    service = actions.adopt_existing_service(
        actor=actor(request), content=payload.content(), lifecycle_stage=payload.lifecycle_stage, manager=manager
    )
    return Status(201, _service_body(service.slug))


@router.post("/services", response={201: ServiceDetail, **WRITE_ERRORS})
def establish_service(request: HttpRequest, payload: EstablishIn):
    """Establish a new service in discovery: publish its first contract and, optionally,
    appoint its manager (the executive's act)."""
    manager = find_person(payload.manager, "manager") if payload.manager else None
    service = actions.establish_service(actor=actor(request), content=payload.content(), manager=manager)
    return Status(201, _service_body(service.slug))


@router.get("/services/{slug}", response={200: ServiceDetail, **READ_ERRORS})
def get_service(request: HttpRequest, slug: str):
    """A service: its current contract (needs with their metric keys, metrics,
    dependencies), the services that consume it, its manager and their predecessors,
    its team and its versions."""
    return _service_body(slug)


@router.get("/services/{slug}/versions", response={200: VersionPage, **READ_ERRORS})
def list_versions(request: HttpRequest, slug: str, query: Query[PageQuery]):
    """Every version of the service's contract, newest first."""
    service = _service(slug)
    qs = service.versions.select_related("created_by", "approved_by").order_by("-number")
    return page(qs, query)


@router.get("/services/{slug}/versions/{number}", response={200: VersionOut, **READ_ERRORS})
def get_version(request: HttpRequest, slug: str, number: int):
    """One version of the contract, as approved or as it stands in draft."""
    return _version_body(_service(slug), number)


@router.get("/services/{slug}/diff", response={200: ContractDiffOut, **READ_ERRORS})
def compare_versions(
    request: HttpRequest,
    slug: str,
    older: int | None = Query(None, alias="from", description="Version to compare from; the one before `to` by default"),
    newer: int | None = Query(None, alias="to", description="Version to compare to; the newest by default"),
):
    """How the contract changed from one version to another: description fields with
    before and after, needs and metrics added, removed and changed by key, services
    consumed added and removed."""
    service = _service(slug)
    numbers = list(service.versions.order_by("-number").values_list("number", flat=True))
    if newer is None:
        newer = numbers[0]
    if older is None:
        older = next((n for n in numbers if n < newer), newer)
    diff = diff_versions(_version(service, older, "from"), _version(service, newer, "to"))
    return {**diff.as_dict(), "changed": not diff.is_empty}


# ---------------------------------------------------------------- changing a service


@router.post("/services/{slug}/manager", response={201: AppointmentOut, **WRITE_ERRORS})
def appoint_manager(request: HttpRequest, slug: str, payload: AppointIn):
    """Appoint the service's manager. Replacing one in post needs a reason, and the
    executive may keep that act to itself."""
    service = _service(slug)
    person = find_person(payload.person, "person")
    appointment = actions.appoint_manager(actor=actor(request), service=service, person=person, reason=payload.reason)
    return Status(201, appointment)


@router.post("/services/{slug}/decommission-flag", response={200: ServiceDetail, **WRITE_ERRORS})
def flag_for_decommissioning(request: HttpRequest, slug: str, payload: DecommissionFlagIn):
    """Flag a running service for decommissioning, saying why (its manager or the
    executive). The flag decommissions nothing: it asks the executive to consider an
    assessment. A service already flagged, or decommissioned, is refused (400)."""
    actions.flag_for_decommissioning(actor=actor(request), service=_service(slug), reason=payload.reason)
    return _service_body(slug)


@router.post("/services/{slug}/decommission-flag/clear", response={200: ServiceDetail, **WRITE_ERRORS})
def clear_decommission_flag(request: HttpRequest, slug: str, payload: ClearFlagIn):
    """Clear a service's flag for decommissioning, saying why the service is kept (the
    executive's act). Who flagged it, when and why stay in the audit log."""
    actions.clear_decommission_flag(actor=actor(request), service=_service(slug), reason=payload.reason)
    return _service_body(slug)


@router.post("/services/{slug}/drafts", response={201: VersionOut, **WRITE_ERRORS})
def draft_contract_version(request: HttpRequest, slug: str, payload: DraftIn | None = None):
    """Open a new draft of the contract, copied from the current approved version. A
    service has at most one open draft (409 otherwise)."""
    service = _service(slug)
    version = actions.draft_contract_version(
        actor=actor(request), service=service, change_note=payload.change_note if payload else ""
    )
    return Status(201, _version_body(service, version.number))


@router.put("/services/{slug}/versions/{number}", response={200: VersionOut, **WRITE_ERRORS})
def edit_contract_draft(request: HttpRequest, slug: str, number: int, payload: DraftEditIn):
    """Replace a draft's content. Only a draft changes; ``expected_revision`` must be the
    revision the client read, else 409 says what moved on."""
    service = _service(slug)
    actions.edit_contract_draft(
        actor=actor(request), version=_version(service, number), content=payload.content(),
        change_note=payload.change_note, expected_revision=payload.expected_revision,
    )
    return _version_body(service, number)


@router.delete("/services/{slug}/versions/{number}", response={204: None, **WRITE_ERRORS})
def discard_contract_draft(request: HttpRequest, slug: str, number: int):
    """Discard a draft or submitted version; approved versions are kept for ever."""
    service = _service(slug)
    actions.discard_contract_draft(actor=actor(request), version=_version(service, number))
    return Status(204, None)


@router.post("/services/{slug}/versions/{number}/submit", response={200: VersionOut, **WRITE_ERRORS})
def submit_contract_version(request: HttpRequest, slug: str, number: int):
    """The service's manager submits a draft to the executive for approval."""
    service = _service(slug)
    actions.submit_contract_version(actor=actor(request), version=_version(service, number))
    return _version_body(service, number)


@router.post("/services/{slug}/versions/{number}/approve", response={200: VersionOut, **WRITE_ERRORS})
def approve_contract_version(request: HttpRequest, slug: str, number: int, payload: ApproveIn | None = None):
    """The executive approves a submitted version: it becomes the current contract and
    never changes again."""
    service = _service(slug)
    actions.approve_contract_version(
        actor=actor(request), version=_version(service, number),
        expected_revision=payload.expected_revision if payload else None,
    )
    return _version_body(_service(slug), number)


@router.post("/services/{slug}/versions/{number}/return", response={200: VersionOut, **WRITE_ERRORS})
def return_contract_version(request: HttpRequest, slug: str, number: int, payload: ReturnIn):
    """The executive sends a submitted version back to its manager as a draft, saying why."""
    service = _service(slug)
    actions.return_contract_version(actor=actor(request), version=_version(service, number), reason=payload.reason)
    return _version_body(service, number)


@router.post("/services/{slug}/alterations", response={201: VersionOut, **WRITE_ERRORS})
def alter_contract(request: HttpRequest, slug: str, payload: AlterationIn):
    """The executive alters the approved contract: a new approved version, with the
    reason and the risk on record."""
    service = _service(slug)
    version = actions.alter_contract(
        actor=actor(request), service=service, content=payload.content(), reason=payload.reason, risk=payload.risk
    )
    return Status(201, _version_body(_service(slug), version.number))


@router.post("/services/{slug}/dependencies", response={201: DependencyAdded, **WRITE_ERRORS})
def add_dependency(request: HttpRequest, slug: str, payload: DependencyIn):
    """Record in the service's draft contract (opened if none is) that it consumes
    another service. A cycle is allowed, and reported by the names of its services."""
    service = _service(slug)
    result = actions.add_dependency(
        actor=actor(request), service=service, provider=_provider(payload.provider), note=payload.note
    )
    return Status(201, {
        "version": result.version.number,
        "revision": result.version.revision,
        "provider": result.dependency.provider.slug,
        "provider_name": result.dependency.provider.name,
        "note": result.dependency.note,
        "cycle": result.cycle,
    })


@router.delete("/services/{slug}/dependencies/{provider_slug}", response={200: VersionOut, **WRITE_ERRORS})
def remove_dependency(request: HttpRequest, slug: str, provider_slug: str):
    """Take a provider out of the service's draft contract (opened if none is); answers
    the draft."""
    service = _service(slug)
    provider = Service.objects.filter(slug=provider_slug).first()
    if provider is None:
        raise NotFound(f"There is no service “{provider_slug}”.", field="provider_slug")
    draft = actions.remove_dependency(actor=actor(request), service=service, provider=provider)
    return _version_body(service, draft.number)


@router.post("/services/{slug}/team", response={201: TeamMemberOut, **WRITE_ERRORS})
def add_team_member(request: HttpRequest, slug: str, payload: TeamMemberIn):
    """The service's manager appoints someone to its team, in a professional framework
    role and level."""
    service = _service(slug)
    membership = actions.add_team_member(
        actor=actor(request), service=service, person=find_person(payload.person, "person"),
        role=_professional_role(payload.role), level=payload.level,
    )
    return Status(201, team_member_out(membership))


@router.delete("/services/{slug}/team/{membership_id}", response={200: TeamMemberOut, **WRITE_ERRORS})
def remove_team_member(request: HttpRequest, slug: str, membership_id: int):
    """The service's manager ends someone's membership of its team; the history is kept,
    so the answer is the ended membership."""
    service = _service(slug)
    membership = TeamMembership.objects.select_related("person", "role").filter(pk=membership_id, service=service).first()
    if membership is None:
        raise NotFound(f"{service.name}'s team has no membership {membership_id}.", field="membership_id")
    membership.service = service
    return team_member_out(actions.remove_team_member(actor=actor(request), membership=membership))
