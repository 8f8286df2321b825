"""Request and response shapes of the API v1, and the one place rows become them.

Every route declares these, so the OpenAPI description is complete and every answer
validates against it. Conventions, the same everywhere:

- Lists answer ``{"items": [...], "count": N, "next_cursor": "..."}``; ``count`` is the
  number of rows that match the filters, ``limit`` (1–500, default 50) says how many
  rows a page holds and ``cursor`` (the ``next_cursor`` of the page before) where it
  starts; ``next_cursor`` is null on the last page. ``offset`` still works, for clients
  written before cursors; a request giving both is refused (see :mod:`osom.api.paging`).
- People are named by ``{"id", "name", "email"}``; services by ``{"slug", "name",
  "lifecycle_stage"}``. In a request a person may be given by id or by email.
- Metric targets are exact decimals, always sent back as strings (``"99.95"``) so no
  digit is lost to floating point; a request may give a target as a string or a number.
- A contract's content has the same shape in a request and in an answer, so a client
  may read a version, change it and send it back as a draft.
- Errors answer :class:`ErrorOut`: ``field`` names what is wrong (``needs[0].so_that``)
  and ``message`` says what is wrong with it, in a sentence.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from ninja import Field, Schema
from pydantic import BeforeValidator, WithJsonSchema

from osom.api.paging import page_queryset, page_rows
from osom.core.models import Person, Role
from osom.network.models import ContractVersion, Service
from osom.network.stages import LEVELS, Direction, Evolution, Lifecycle, MetricKind, UserType, VersionStatus

__all__ = [
    "ErrorOut", "READ_ERRORS", "WRITE_ERRORS", "MAX_OFFSET", "RowId", "WholeNumber", "Day", "Moment", "PageQuery", "page",
    "page_rows", "NextCursor", "decimal_text",
    "PersonRef", "ServiceRef", "PersonOrId",
    # services
    "ServiceFilters", "ServiceRow", "ServicePage", "ServiceDetail", "service_detail",
    "VersionSummary", "VersionPage", "VersionOut", "version_out", "ContractDiffOut",
    "AppointmentOut", "TeamMemberOut", "team_member_out", "ContractIn", "EstablishIn", "AdoptIn",
    "AppointIn", "DraftIn", "DraftEditIn", "ApproveIn", "ReturnIn", "AlterationIn",
    "DependencyIn", "DependencyAdded", "TeamMemberIn",
    # organisation
    "PersonFilters", "PersonOut", "PersonPage", "PersonDetail", "PersonIn", "MembershipOut",
    "AuditFilters", "AuditEventOut", "AuditPage", "OrganisationOut", "TerminologyIn",
    "ProfessionalRoleOut", "RolePage", "TokenIn", "TokenOut", "TokenIssued", "TokenPage",
]


# ---------------------------------------------------------------- common shapes


class ErrorItem(Schema):
    field: str = Field(description="The field, with its place in a list: needs[2].so_that")
    message: str


class ErrorOut(Schema):
    """Why a request was refused. ``error`` is one of invalid (400, 422), unauthorised
    (401), forbidden (403), not_found (404), conflict (409)."""

    error: str
    message: str = Field(description="A sentence saying what is wrong")
    field: str | None = Field(None, description="The first field that is wrong, when a field is to blame")
    errors: list[ErrorItem] = Field(default_factory=list, description="Every field that is wrong")
    changes: list[str] | None = Field(None, description="For a conflict: what changed since the client read it")


_AUTH = {401: ErrorOut}
READ_ERRORS: dict[int, type[Schema]] = {**_AUTH, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {**_AUTH, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}

MAX_LIMIT = 500
# Far beyond any list the organisation holds, and well inside the 64 bits a database's
# OFFSET takes: a larger offset is refused (422) instead of reaching the database.
MAX_OFFSET = 10**9

def _whole_number(value: Any) -> Any:
    """JSON's true and false, and numbers with a fraction, are not whole numbers here:
    refused instead of read as 1, 0 or a truncated value."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("give a whole number")
    return value


def _date_text(value: Any) -> Any:
    """A date or time arrives as ISO 8601 text; a bare number is refused, not read as a
    count of seconds since 1970."""
    if value is not None and not isinstance(value, (str, date)):
        raise ValueError("give a date as text, YYYY-MM-DD (a time as YYYY-MM-DDTHH:MM:SS)")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Day = Annotated[date, BeforeValidator(_date_text)]
Moment = Annotated[datetime, BeforeValidator(_date_text)]

RowId = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=2**63 - 1)]
"""The id of a row: positive and within the 64 bits the databases store, so an id
beyond them is refused (422) naming the field instead of reaching the database."""


class PageQuery(Schema):
    limit: WholeNumber = Field(50, ge=1, le=MAX_LIMIT, description=f"How many rows to return (at most {MAX_LIMIT})")
    cursor: str | None = Field(
        None, min_length=1, max_length=8000,
        description="Where the page starts: the next_cursor of the page before, passed back as it was answered. "
                    "Leave it out for the first page. Preferred to offset: a walk by cursor gives every row once, "
                    "even while rows are added. A cursor is refused (422) on another list or with other filters",
    )
    offset: WholeNumber = Field(
        0, ge=0, le=MAX_OFFSET,
        description=f"How many matching rows to skip (at most {MAX_OFFSET}); kept for older clients, prefer cursor. "
                    "Giving both offset and cursor is refused (422, field offset)",
    )


NextCursor = Annotated[str | None, Field(
    description="Pass it as cursor to get the next page; null on the last page")]
"""The ``next_cursor`` of every list answer."""


def page(qs: QuerySet, query: PageQuery) -> dict[str, Any]:
    """One page of ``qs``, the number of rows it holds and the next page's cursor: two
    queries, whatever the size (see :func:`osom.api.paging.page_queryset`)."""
    return page_queryset(qs, query)


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as plain text without trailing zeros: 95.0000 → "95", 99.9500 → "99.95"."""
    if value is None:
        return None
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "") else text


def _id_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


PersonOrId = Annotated[
    str,
    BeforeValidator(_id_as_text),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string", "format": "email"}],
                    "description": "A person, by id or by email address"}),
]
"""A person named in a request, by id (``12``) or email (``ada@example.org``)."""

RoleOrId = Annotated[
    str,
    BeforeValidator(_id_as_text),
    WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}],
                    "description": "A professional framework role, by id or by name (see GET /roles)"}),
]


class PersonRef(Schema):
    id: WholeNumber
    name: str
    email: str


class ServiceRef(Schema):
    slug: str
    name: str
    lifecycle_stage: Lifecycle


# ---------------------------------------------------------------- contracts


class MetricIO(Schema):
    """A service metric. ``key`` stays the same from version to version."""

    key: str = Field("", description="Lower-case letters, digits and hyphens; made from the name when empty")
    name: str
    unit: str = Field(description="%, ms, £, count…")
    direction: Direction = Direction.HIGHER
    target: Decimal | None = Field(
        None, description="Exact decimal; answered as a string (\"99.95\"), accepted as a string or a number"
    )
    kind: MetricKind = MetricKind.OUTCOME
    how_measured: str = ""
    is_proxy: bool = Field(False, description="A proxy metric agreed with the executive")


class MetricOut(MetricIO):
    key: str
    target: str | None = Field(None, description="Exact decimal as a string, e.g. \"99.95\"; null when there is no target")

    @staticmethod
    def resolve_target(obj) -> str | None:
        return decimal_text(obj.target)


class NeedIO(Schema):
    """As a <as_a> I need <i_need> so that <so_that>, measured by ``metrics``."""

    key: str = Field("", description="Lower-case letters, digits and hyphens; made from the need when empty")
    as_a: str
    i_need: str
    so_that: str
    metrics: list[str] = Field(default_factory=list, description="Keys (or names) of this contract's metrics")


class DependencyIn(Schema):
    provider: str = Field(description="The service consumed, by slug or name")
    note: str = Field("", description="What it is consumed for")


class ContractIn(Schema):
    """The content of a contract version (model section 3)."""

    name: str
    user_type: UserType
    evolution_stage: Evolution
    purpose: str = Field(description="What the service is (Markdown)")
    benefit: str = ""
    usage: str = ""
    onboarding: str = ""
    expectations: str = ""
    support: str = ""
    migration_path: str = ""
    metrics: list[MetricIO] = Field(default_factory=list)
    needs: list[NeedIO] = Field(default_factory=list)
    dependencies: list[DependencyIn] = Field(default_factory=list)

    def content(self) -> dict[str, Any]:
        """The content dict the actions take (see ``osom.network.contract``)."""
        return self.model_dump(include=set(ContractIn.model_fields), mode="python")


class EstablishIn(ContractIn):
    manager: PersonOrId | None = Field(None, description="The service manager to appoint, by id or email")


class AdoptIn(EstablishIn):
    lifecycle_stage: Lifecycle = Field(description="The stage the running service is really at")


class AlterationIn(ContractIn):
    reason: str = Field(description="Why the executive alters the contract")
    risk: str = Field(description="The risk the alteration carries")


class DraftIn(Schema):
    change_note: str = Field("", description="What the new version will change and why")


class DraftEditIn(ContractIn):
    change_note: str | None = Field(None, description="What changed and why; unchanged when null")
    expected_revision: WholeNumber = Field(description="The draft's revision the client last read; 409 if it has moved on")


class ApproveIn(Schema):
    expected_revision: WholeNumber | None = Field(None, description="The revision the executive read; 409 if it has moved on")


class ReturnIn(Schema):
    reason: str = Field(description="Why the version goes back to its manager")


class AppointIn(Schema):
    person: PersonOrId
    reason: str = Field("", description="Needed when a manager is replaced")


Level = Literal[tuple(value for value, _ in LEVELS)]  # type: ignore[valid-type]
"""A level of the professional framework's ladder, from trainee to head of profession."""


class TeamMemberIn(Schema):
    person: PersonOrId
    role: RoleOrId
    level: Level = Field(description="The person's level in their role")


class DependencyOut(Schema):
    provider: str = Field(description="Slug of the service consumed")
    provider_name: str
    note: str


class ConsumerOut(Schema):
    consumer: str = Field(description="Slug of the service whose current contract consumes this one")
    consumer_name: str
    note: str


class VersionSummary(Schema):
    number: WholeNumber
    status: VersionStatus
    revision: WholeNumber = Field(description="Moves on each change to a draft; send it back to detect concurrent edits")
    name: str
    lifecycle_stage: Lifecycle
    change_note: str
    is_alteration: bool
    created_by: PersonRef
    created_at: Moment
    submitted_at: Moment | None
    approved_by: PersonRef | None
    approved_at: Moment | None


class VersionPage(Schema):
    items: list[VersionSummary]
    count: WholeNumber
    next_cursor: NextCursor


class VersionOut(VersionSummary):
    """A contract version in full: description, needs with their metric keys, metrics
    and the services it consumes."""

    service: str = Field(description="Slug of the service")
    user_type: UserType
    evolution_stage: Evolution
    purpose: str
    benefit: str
    usage: str
    onboarding: str
    expectations: str
    support: str
    migration_path: str
    decommission_reasons: str
    alteration_reason: str
    alteration_risk: str
    metrics: list[MetricOut]
    needs: list[NeedIO]
    dependencies: list[DependencyOut]
    cycle: list[str] = Field(
        default_factory=list, description="Names of the services in a dependency cycle through this one, if any"
    )


_VERSION_ATTRIBUTES = tuple(
    name for name in VersionOut.model_fields if name not in ("service", "metrics", "needs", "dependencies", "cycle")
)


def version_out(version: ContractVersion, service: Service, *, cycle: list[str] | None = None) -> dict[str, Any]:
    """:class:`VersionOut` from a version of ``service`` whose metrics, needs (with their
    metrics) and dependencies (with their providers) are prefetched."""
    return {
        **{name: getattr(version, name) for name in _VERSION_ATTRIBUTES},
        "service": service.slug,
        "metrics": list(version.metrics.all()),
        "needs": [
            {"key": n.key, "as_a": n.as_a, "i_need": n.i_need, "so_that": n.so_that,
             "metrics": [m.key for m in n.metrics.all()]}
            for n in version.needs.all()
        ],
        "dependencies": [
            {"provider": d.provider.slug, "provider_name": d.provider.name, "note": d.note}
            for d in version.dependencies.all()
        ],
        "cycle": cycle or [],
    }


class ChangeOut(Schema):
    what: str
    key: str
    before: str
    after: str


class KeyedText(Schema):
    key: str
    text: str


class ListDiff(Schema):
    added: list[KeyedText]
    removed: list[KeyedText]
    changed: list[ChangeOut]


class DependencyChange(Schema):
    provider: str
    note: str


class DependencyDiff(Schema):
    added: list[DependencyChange]
    removed: list[DependencyChange]


class ContractDiffOut(Schema):
    """How the contract changed from one version to another."""

    from_version: WholeNumber
    to_version: WholeNumber
    changed: bool
    fields: list[ChangeOut] = Field(description="Headline and description fields, with before and after")
    needs: ListDiff = Field(description="Needs by key")
    metrics: ListDiff = Field(description="Metrics by key, one change per changed attribute")
    dependencies: DependencyDiff = Field(description="Services consumed, by slug")


# ---------------------------------------------------------------- services


class ServiceFilters(PageQuery):
    q: str = Field("", description="Words in the name, summary or slug")
    stage: Lifecycle | None = Field(None, description="Lifecycle stage")
    evolution: Evolution | None = Field(None, description="Evolution stage")
    manager: str = Field("", description="The manager's id or email, or none for services without one")
    users: UserType | None = Field(None, description="external or internal also match services serving both")


class ServiceRow(Schema):
    """A service as the network list shows it."""

    slug: str
    name: str
    summary: str
    lifecycle_stage: Lifecycle
    evolution_stage: Evolution
    user_type: UserType
    adopted: bool
    manager: PersonRef | None
    consumes_count: WholeNumber = Field(description="Services its current contract consumes")
    consumed_by_count: WholeNumber = Field(description="Services whose current contract consumes it")
    needs_count: WholeNumber = Field(description="User needs in its current contract")


class ServicePage(Schema):
    items: list[ServiceRow]
    count: WholeNumber
    next_cursor: NextCursor


class ProfessionalRoleOut(Schema):
    id: WholeNumber
    framework: str
    job_family: str
    name: str


class RolePage(Schema):
    items: list[ProfessionalRoleOut]
    count: WholeNumber
    next_cursor: NextCursor


class TeamMemberOut(Schema):
    id: WholeNumber = Field(description="The membership's id, for DELETE /services/{slug}/team/{id}")
    person: PersonRef
    role: ProfessionalRoleOut
    level: str
    started_at: Moment
    ended_at: Moment | None


def team_member_out(m) -> dict[str, Any]:
    """A team membership whose person and role are loaded."""
    return {"id": m.pk, "person": m.person, "role": m.role, "level": m.level,
            "started_at": m.started_at, "ended_at": m.ended_at}


class AppointmentOut(Schema):
    person: PersonRef
    started_at: Moment
    ended_at: Moment | None = Field(description="Null for the manager in post")
    appointed_by: PersonRef
    reason: str


class ServiceDetail(Schema):
    """A service: its current contract, its place in the network, its people, its history."""

    slug: str
    name: str
    summary: str
    lifecycle_stage: Lifecycle
    evolution_stage: Evolution
    user_type: UserType
    adopted: bool
    established_at: Moment
    revision: WholeNumber
    manager: PersonRef | None
    current_contract: VersionOut | None = Field(description="The current approved version")
    open_draft: WholeNumber | None = Field(description="Number of the draft or submitted version, if one is open")
    consumes: list[DependencyOut] = Field(description="Services its current contract consumes")
    consumed_by: list[ConsumerOut] = Field(description="Services whose current contract consumes it")
    cycle: list[str] = Field(description="Names of the services in a dependency cycle through it, if any")
    appointments: list[AppointmentOut] = Field(description="Who managed it when, newest first")
    team: list[TeamMemberOut] = Field(description="Its current team")
    versions: list[VersionSummary] = Field(description="Every version of its contract, newest first")


def service_detail(detail: dict[str, Any], cycle: list[str]) -> dict[str, Any]:
    """:class:`ServiceDetail` from what ``queries.service_detail`` read."""
    service: Service = detail["service"]
    current = version_out(detail["current"], service, cycle=cycle) if detail["current"] else None
    return {
        **{name: getattr(service, name) for name in (
            "slug", "name", "summary", "lifecycle_stage", "evolution_stage", "user_type", "adopted",
            "established_at", "revision", "manager")},
        "current_contract": current,
        "open_draft": detail["open_draft"].number if detail["open_draft"] else None,
        "consumes": current["dependencies"] if current else [],
        "consumed_by": [
            {"consumer": d.version.service.slug, "consumer_name": d.version.service.name, "note": d.note}
            for d in detail["consumers"]
        ],
        "cycle": cycle,
        "appointments": detail["appointments"],
        "team": [team_member_out(m) for m in detail["team"]],
        "versions": detail["versions"],
    }


class DependencyAdded(Schema):
    """What adding a dependency did: the draft it went into and any cycle it closed."""

    version: WholeNumber = Field(description="Number of the draft the dependency was written into")
    revision: WholeNumber = Field(description="The draft's revision after the change")
    provider: str
    provider_name: str
    note: str
    cycle: list[str] = Field(description="Names of the services in the cycle this closes, first and last the same; empty if none")


# ---------------------------------------------------------------- organisation


class PersonFilters(PageQuery):
    q: str = Field("", description="Words in the name or email")
    role: Role | None = None


class PersonOut(Schema):
    id: WholeNumber
    name: str
    email: str
    role: Role
    areas_of_interest: list[str] = Field(description="For executive team members: finance, security, risk…")
    is_active: bool
    joined_at: Moment
    manages: list[ServiceRef] = Field(description="The services this person manages now")

    @staticmethod
    def resolve_areas_of_interest(obj: Person) -> list[str]:
        return obj.interests()

    @staticmethod
    def resolve_manages(obj: Person) -> list[Service]:
        return list(obj.managed_services.all())


class PersonPage(Schema):
    items: list[PersonOut]
    count: WholeNumber
    next_cursor: NextCursor


class MembershipOut(Schema):
    id: WholeNumber
    service: ServiceRef
    role: ProfessionalRoleOut
    level: str
    started_at: Moment
    ended_at: Moment | None


class PersonDetail(PersonOut):
    memberships: list[MembershipOut] = Field(description="The teams this person is or was in, newest first")

    @staticmethod
    def resolve_memberships(obj: Person) -> list:
        return list(obj.memberships.all())


class PersonIn(Schema):
    email: str
    name: str
    role: Role = Role.MEMBER
    areas_of_interest: str = Field("", description="Comma-separated, for executive team members")
    password: str | None = Field(
        None, description="At least 10 characters; without one the person cannot sign in with a password"
    )


class AuditFilters(PageQuery):
    service: str = Field("", description="Slug of the service acted on")
    person: RowId | None = Field(None, description="Id of the person who acted")
    verb: str = Field("", description="The act, e.g. establish_service, appoint_manager")


class AuditEventOut(Schema):
    """One recorded act: who did what, on whose authority, to what, and why."""

    id: WholeNumber
    at: Moment
    actor: PersonRef | None
    actor_label: str
    authority: str = Field(description="In whose right the actor acted: executive, service_manager, team_member, self")
    authority_person: PersonRef | None = Field(description="The executive, when a member of its team acted in its name")
    verb: str
    object_type: str
    object_id: str
    object_label: str
    service: ServiceRef | None
    summary: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str


class AuditPage(Schema):
    items: list[AuditEventOut]
    count: WholeNumber
    next_cursor: NextCursor


class OrganisationOut(Schema):
    """The organisation's own names for the model and its roles (model section 10)."""

    name: str
    model_name: str
    executive_name: str
    executive_team_name: str
    service_manager_name: str
    reserved_acts: list[str] = Field(description="Acts the executive keeps to itself")
    revision: WholeNumber


class TerminologyIn(Schema):
    name: str | None = None
    model_name: str | None = None
    executive_name: str | None = None
    executive_team_name: str | None = None
    service_manager_name: str | None = None
    expected_revision: WholeNumber = Field(description="The revision the client last read; 409 if it has moved on")

    def values(self) -> dict[str, Any]:
        """The names given, and only those."""
        return self.model_dump(exclude_unset=True, exclude={"expected_revision"})


class TokenIn(Schema):
    label: str = Field("", description="What the token is for")
    days: WholeNumber | None = Field(90, description="How long it lasts, 1 to 3650 days; null for a token that never expires")


class TokenOut(Schema):
    id: WholeNumber
    label: str
    prefix: str = Field(description="The token's first characters, to recognise it")
    created_at: Moment
    expires_at: Moment | None
    revoked_at: Moment | None
    last_used_at: Moment | None


class TokenIssued(TokenOut):
    token: str = Field(description="The token itself. It is shown this once and never again")


class TokenPage(Schema):
    items: list[TokenOut]
    count: WholeNumber
    next_cursor: NextCursor
