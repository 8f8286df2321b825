"""Every write to the service network (design habit 1).

Each action takes a keyword-only ``actor``, checks the actor's right in the policy
table, checks the model's rules, writes in one transaction and records one audit event
in that same transaction. Pages, the API and the CLI call these and nothing else.
"""

from __future__ import annotations

from datetime import timedelta
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.urls import reverse
from django.utils.text import slugify

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, InvalidInput
from osom.core.models import Organisation, Person
from osom.core.notify import notify
from osom.core.policy import authorise
from osom.interop import webhooks

from . import queries
from .contract import apply_approved as _apply_approved
from .contract import clean_content, read_content, write_content
from .models import Appointment, ContractVersion, Dependency, ProfessionalRole, Service, TeamMembership
from .stages import LEVELS, Lifecycle, VersionStatus

__all__ = [
    "establish_service",
    "adopt_existing_service",
    "appoint_manager",
    "draft_contract_version",
    "edit_contract_draft",
    "discard_contract_draft",
    "submit_contract_version",
    "approve_contract_version",
    "return_contract_version",
    "alter_contract",
    "add_dependency",
    "remove_dependency",
    "add_team_member",
    "remove_team_member",
    "flag_for_decommissioning",
    "clear_decommission_flag",
    "DependencyResult",
]


# Addresses that name pages, not services (/services/new/, /services/lookup/).
RESERVED_SLUGS = {"new", "lookup"}


def _unique_slug(name: str) -> str:
    base = slugify(name)[:140] or "service"
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Service.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def _content_summary(content: dict) -> dict:
    return {
        "name": content["name"],
        "evolution_stage": content["evolution_stage"],
        "user_type": content["user_type"],
        "needs": len(content["needs"]),
        "metrics": len(content["metrics"]),
        "dependencies": [getattr(d["provider"], "slug", d["provider"]) for d in content["dependencies"]],
    }


def _check_manager(person: Person | None, field: str = "manager") -> None:
    if person is not None and not person.is_active:
        raise InvalidInput(f"{person} has left the organisation and cannot manage a service.", field=field)


def _create_service(actor, content: dict, stage: str, *, adopted: bool, note: str) -> Service:
    service = Service.objects.create(
        name=content["name"],
        slug=_unique_slug(content["name"]),
        lifecycle_stage=stage,
        evolution_stage=content["evolution_stage"],
        user_type=content["user_type"],
        adopted=adopted,
    )
    version = ContractVersion(
        service=service,
        number=1,
        status=VersionStatus.DRAFT,
        lifecycle_stage=stage,
        created_by=actor,
        change_note=note,
    )
    write_content(version, content)
    now = timezone.now()
    version.status = VersionStatus.APPROVED
    version.submitted_at = now
    version.approved_by = actor
    version.approved_at = now
    version.save()
    _apply_approved(service, version)
    return service


def _appoint(service: Service, person: Person, actor: Person, reason: str) -> None:
    now = timezone.now()
    Appointment.objects.filter(service=service, ended_at__isnull=True).update(ended_at=now)
    Appointment.objects.create(service=service, person=person, started_at=now, appointed_by=actor, reason=reason)
    service.manager = person
    service.revision += 1
    service.save(update_fields=["manager", "revision"])


@refuses_null_characters
def establish_service(*, actor: Person, content: dict, manager: Person | None = None) -> Service:
    """Establish a new service (model 5.2): publish its contract, which the seven drafting
    steps wrote, and appoint its manager. A new service starts in discovery."""
    authority = authorise(actor, "establish_service")
    cleaned = clean_content(content)
    _check_manager(manager)
    with transaction.atomic():
        service = _create_service(actor, cleaned, Lifecycle.DISCOVERY, adopted=False, note="Contract published when the service was established.")
        if manager is not None:
            _appoint(service, manager, actor, "Appointed when the service was established.")
        webhooks.emit("service.established", webhooks.service_established(service, how="established", actor=actor))
        audit.record(
            actor, "establish_service", service, authority=authority, service=service,
            summary=f"Established {service.name} in discovery" + (f", managed by {manager}" if manager else ""),
            after={**_content_summary(cleaned), "manager": manager.email if manager else None},
        )
    return service


ADOPTABLE_STAGES = (Lifecycle.DISCOVERY, Lifecycle.ALPHA, Lifecycle.BETA, Lifecycle.LIVE)


def _clean_team(team, manager: Person | None) -> list[tuple[Person, ProfessionalRole, str]]:
    """The team a service is adopted with, each entry (person, role, level) checked; every
    problem is reported under ``team``, naming the person."""
    entries = list(team or [])
    problems: list[str] = []
    seen: set[int] = set()
    levels = dict(LEVELS)
    for entry in entries:
        try:
            person, role, level = entry
        except (TypeError, ValueError):
            problems.append("Each member of the team is given as a person, their role and their level.")
            continue
        if not isinstance(person, Person):
            problems.append("Each member of the team is a person of the organisation.")
            continue
        if not person.is_active:
            problems.append(f"{person} has left the organisation and cannot join the team.")
        if not isinstance(role, ProfessionalRole):
            problems.append(f"Give {person}'s role from the professional framework.")
        if level not in levels:
            problems.append(f"“{level}” is not a level, for {person}: use one of {', '.join(levels)}.")
        if person.pk in seen:
            problems.append(f"{person} is named twice in the team.")
        seen.add(person.pk)
        if manager is not None and person.pk == manager.pk:
            problems.append(f"{person} is appointed to manage the service, so is not also in its team.")
    if problems:
        raise InvalidInput.collect({"team": problems})
    return [tuple(entry) for entry in entries]


def _team_summary(team: list[tuple[Person, ProfessionalRole, str]]) -> list[dict]:
    return [{"person": person.email, "role": role.name, "level": level} for person, role, level in team]


@refuses_null_characters
def adopt_existing_service(
    *, actor: Person, content: dict, lifecycle_stage: str, manager: Person | None = None, change_note: str = "",
    team: list[tuple[Person, ProfessionalRole, str]] | None = None, decommission_flag: str = "",
) -> Service:
    """Bring a service that already runs into the model (model 4): a contract written for
    it, entering at the stage it is really at. ``change_note`` adds to the contract's note
    what the adoption should keep on record.

    A running service comes with the team it already has: ``team`` lists each member as
    (person, professional role, level). ``decommission_flag``, when given, is why the
    service is adopted flagged for decommissioning (a catalogue marked it deprecated, say):
    the flag asks the executive to consider an assessment, which alone decommissions."""
    authority = authorise(actor, "adopt_existing_service")
    cleaned = clean_content(content)
    if lifecycle_stage not in ADOPTABLE_STAGES:
        raise InvalidInput(
            f"“{lifecycle_stage}” is not a stage a running service can be adopted at: use discovery, alpha, beta or live.",
            field="lifecycle_stage",
        )
    _check_manager(manager)
    members = _clean_team(team, manager)
    flag = (decommission_flag or "").strip()
    with transaction.atomic():
        note = " ".join(("Contract written when the running service was adopted.", (change_note or "").strip())).strip()
        service = _create_service(actor, cleaned, lifecycle_stage, adopted=True, note=note)
        changed = []
        if lifecycle_stage == Lifecycle.LIVE:
            days = Organisation.current().live_cadence_days
            service.next_assessment_due = timezone.localdate() + timedelta(days=days)
            changed.append("next_assessment_due")
        if flag:
            service.decommission_flag = flag
            service.decommission_flagged_at = timezone.now()
            service.decommission_flagged_by = actor
            changed += ["decommission_flag", "decommission_flagged_at", "decommission_flagged_by"]
        if changed:
            service.save(update_fields=changed)
        if manager is not None:
            _appoint(service, manager, actor, "Appointed when the service was adopted.")
        TeamMembership.objects.bulk_create([
            TeamMembership(service=service, person=person, role=role, level=level, added_by=actor)
            for person, role, level in members
        ])
        webhooks.emit("service.established", webhooks.service_established(service, how="adopted", actor=actor))
        summary = f"Adopted {service.name} at its real stage, {service.get_lifecycle_stage_display().lower()}"
        if members:
            summary += f", with a team of {len(members)}"
        if flag:
            summary += ", flagged for decommissioning"
        audit.record(
            actor, "adopt_existing_service", service, authority=authority, service=service, summary=summary,
            after={**_content_summary(cleaned), "lifecycle_stage": lifecycle_stage,
                   "manager": manager.email if manager else None, "team": _team_summary(members),
                   "decommission_flag": flag or None},
        )
    return service


@refuses_null_characters
def appoint_manager(*, actor: Person, service: Service, person: Person, reason: str = "") -> Appointment:
    """Appoint the service's manager; with a manager already in post this replaces them,
    which the executive may keep to itself, and needs a reason."""
    with transaction.atomic():
        # decided on the service as it is now, locked: whether this appoints or replaces
        service = _lock_service(service)
        replacing = service.manager_id is not None
        authority = authorise(actor, "replace_manager" if replacing else "appoint_manager", service=service)
        if person is None:
            raise InvalidInput("Choose the person to appoint.", field="person")
        reason = (reason or "").strip()
        _check_manager(person, "person")
        if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            raise InvalidInput(f"{service.name} is decommissioned; it needs no manager.", field="service")
        if replacing and service.manager_id == person.pk:
            raise InvalidInput(f"{person} already manages {service.name}.", field="person")
        if replacing and not reason:
            raise InvalidInput("Say why the manager is being replaced.", field="reason")
        before = service.manager.email if replacing else None
        _appoint(service, person, actor, reason)
        appointment = service.appointments.get(ended_at__isnull=True)
        notify([person], f"You now manage {service.name}", reverse("network:service", args=[service.slug]))
        audit.record(
            actor, "replace_manager" if replacing else "appoint_manager", service, authority=authority, service=service,
            summary=(f"Replaced {service.name}'s manager with {person}" if replacing else f"Appointed {person} to manage {service.name}"),
            before={"manager": before}, after={"manager": person.email}, reason=reason,
        )
    return appointment


# Row locks are FOR NO KEY UPDATE on PostgreSQL (SQLite has none: its writers take turns).
# They exclude each other, yet let another act insert rows that refer to the locked row,
# which FOR UPDATE would block: approving a version (the service locked, then waiting for
# the version) and returning it (the version locked, then its audit event, which names
# the service, waiting for the service) would deadlock. A row an act deletes is locked
# FOR UPDATE, as the delete needs.


def _lock_service(service: Service) -> Service:
    return Service.objects.select_for_update(no_key=True).get(pk=service.pk)


def _lock_version(version: ContractVersion) -> ContractVersion:
    return ContractVersion.objects.select_for_update(no_key=True).get(pk=version.pk)


def _new_draft(actor: Person, service: Service, change_note: str = "") -> ContractVersion:
    """Write a new draft copied from the current approved version (no audit: callers record it)."""
    if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        raise InvalidInput(f"{service.name} is decommissioned; its contract no longer changes.", field="service")
    service = _lock_service(service)
    open_draft = queries.open_draft(service)
    if open_draft is not None:
        raise Conflict(
            f"{service.name} already has an open draft, version {open_draft.number}; edit that one.",
            field="service",
        )
    number = (service.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    version = ContractVersion(
        service=service,
        number=number,
        status=VersionStatus.DRAFT,
        lifecycle_stage=service.lifecycle_stage,
        created_by=actor,
        change_note=(change_note or "").strip(),
        based_on=service.current_version,
    )
    # dependencies on services decommissioned since are carried over; the draft shows them
    content = read_content(service.current_version)
    content["dependencies"] = [{"provider": d["provider"], "note": d["note"]} for d in content["dependencies"]]
    write_content(version, clean_content(content, service=service))
    return version


@refuses_null_characters
def draft_contract_version(*, actor: Person, service: Service, change_note: str = "") -> ContractVersion:
    """Open a new draft of the contract, starting from the current approved version.
    A service has at most one open draft at a time."""
    authority = authorise(actor, "draft_contract_version", service=service)
    with transaction.atomic():
        version = _new_draft(actor, service, change_note)
        audit.record(
            actor, "draft_contract_version", version, authority=authority, service=service,
            summary=f"Opened draft version {version.number} of {service.name}'s contract",
        )
    return version


def _check_revision(version: ContractVersion, expected: int | None) -> None:
    if expected is not None and int(expected) != version.revision:
        who = version.created_by
        raise Conflict(
            f"Version {version.number} of {version.service.name} was changed by someone else since you opened it "
            f"(revision {expected} → {version.revision}). Reload it, then make your change again.",
            field="revision",
            changes=[f"Now at revision {version.revision}; drafted by {who}."],
        )


@refuses_null_characters
def edit_contract_draft(
    *, actor: Person, version: ContractVersion, content: dict, change_note: str | None = None, expected_revision: int | None = None
) -> ContractVersion:
    """Replace a draft's content. Approved versions never change; a submitted one goes
    back to draft first. ``expected_revision`` detects a concurrent edit."""
    service = version.service
    authority = authorise(actor, "edit_contract_draft", service=service)
    cleaned = clean_content(content, service=service)
    with transaction.atomic():
        version = _lock_version(version)
        if version.status != VersionStatus.DRAFT:
            raise Conflict(
                f"Version {version.number} is {version.get_status_display().lower()}; only a draft can be edited.",
                field="version",
            )
        _check_revision(version, expected_revision)
        before = _content_summary(read_content(version))
        if change_note is not None:
            version.change_note = change_note.strip()
        version.revision += 1
        write_content(version, cleaned)
        audit.record(
            actor, "edit_contract_draft", version, authority=authority, service=service,
            summary=f"Edited draft version {version.number} of {service.name}'s contract",
            before=before, after=_content_summary(cleaned),
        )
    return version


@refuses_null_characters
def discard_contract_draft(*, actor: Person, version: ContractVersion) -> None:
    """Throw away a draft that will not be submitted."""
    service = version.service
    authority = authorise(actor, "discard_contract_draft", service=service)
    with transaction.atomic():
        version = ContractVersion.objects.select_for_update().get(pk=version.pk)  # to be deleted
        if version.status == VersionStatus.APPROVED:
            raise Conflict(f"Version {version.number} is approved and is kept for ever.", field="version")
        number = version.number
        audit.record(
            actor, "discard_contract_draft", version, authority=authority, service=service,
            summary=f"Discarded draft version {number} of {service.name}'s contract",
        )
        version.delete()


@refuses_null_characters
def submit_contract_version(*, actor: Person, version: ContractVersion) -> ContractVersion:
    """The manager submits a draft to the executive for approval."""
    service = version.service
    authority = authorise(actor, "submit_contract_version", service=service)
    with transaction.atomic():
        version = _lock_version(version)
        if version.status != VersionStatus.DRAFT:
            raise Conflict(f"Version {version.number} is {version.get_status_display().lower()}, not a draft.", field="version")
        content = read_content(version)
        clean_content(content, service=service)  # still valid against today's network
        version.status = VersionStatus.SUBMITTED
        version.submitted_at = timezone.now()
        version.revision += 1
        version.save()
        audit.record(
            actor, "submit_contract_version", version, authority=authority, service=service,
            summary=f"Submitted version {version.number} of {service.name}'s contract for approval",
        )
    return version


@refuses_null_characters
def approve_contract_version(*, actor: Person, version: ContractVersion, expected_revision: int | None = None) -> ContractVersion:
    """The executive approves a submitted version; it becomes the current contract and
    never changes again."""
    service = version.service
    authority = authorise(actor, "approve_contract_version", service=service)
    with transaction.atomic():
        service = _lock_service(service)
        version = _lock_version(version)
        if version.status != VersionStatus.SUBMITTED:
            state = "already approved" if version.status == VersionStatus.APPROVED else "still a draft"
            raise Conflict(f"Version {version.number} of {service.name} is {state}; only a submitted version can be approved.", field="version")
        _check_revision(version, expected_revision)
        if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            raise Conflict(f"{service.name} is decommissioned; its contract no longer changes.", field="version")
        if version.based_on_id and version.based_on_id != service.current_version_id:
            base = version.based_on.number
            raise Conflict(
                f"Version {version.number} was drafted from version {base}, but the contract has changed since "
                f"(version {service.current_version.number} is current). Approving it would undo that change: "
                f"return it, and draft again from the current contract.", field="version",
                changes=[f"Version {service.current_version.number} is now the current contract."])
        # the network may have changed since submission (a name taken, a provider gone)
        clean_content(read_content(version), service=service)
        previous = service.current_version
        version.status = VersionStatus.APPROVED
        version.lifecycle_stage = service.lifecycle_stage
        version.approved_by = actor
        version.approved_at = timezone.now()
        version.save()
        _apply_approved(service, version)
        notify([service.manager, version.created_by], f"Version {version.number} of {service.name}'s contract is approved",
               reverse("network:version", args=[service.slug, version.number]))
        webhooks.emit("contract.approved", webhooks.contract_approved(version, previous=previous, actor=actor))
        audit.record(
            actor, "approve_contract_version", version, authority=authority, service=service,
            summary=f"Approved version {version.number} of {service.name}'s contract",
            before={"current_version": previous.number if previous else None},
            after={"current_version": version.number},
        )
    return version


@refuses_null_characters
def return_contract_version(*, actor: Person, version: ContractVersion, reason: str) -> ContractVersion:
    """The executive sends a submitted version back to its manager as a draft, saying why."""
    service = version.service
    authority = authorise(actor, "return_contract_version", service=service)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the version goes back to its manager.", field="reason")
    with transaction.atomic():
        version = _lock_version(version)
        if version.status != VersionStatus.SUBMITTED:
            raise Conflict(f"Version {version.number} is not awaiting approval.", field="version")
        version.status = VersionStatus.DRAFT
        version.submitted_at = None
        version.revision += 1
        version.save()
        notify([service.manager, version.created_by], f"Version {version.number} of {service.name}'s contract was returned",
               reverse("network:version", args=[service.slug, version.number]), body=reason)
        audit.record(
            actor, "return_contract_version", version, authority=authority, service=service,
            summary=f"Returned version {version.number} of {service.name}'s contract to its manager", reason=reason,
        )
    return version


@refuses_null_characters
def alter_contract(*, actor: Person, service: Service, content: dict, reason: str, risk: str) -> ContractVersion:
    """The executive alters an approved contract (model 5.2): a new approved version,
    with the reason for the change and the risk it carries on record."""
    authority = authorise(actor, "alter_contract", service=service)
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = ["Say why the contract is being altered."]
    if not (risk or "").strip():
        errors["risk"] = ["Say what risk the alteration carries."]
    if errors:
        raise InvalidInput.collect(errors)
    if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        raise InvalidInput(f"{service.name} is decommissioned; its contract no longer changes.", field="service")
    cleaned = clean_content(content, service=service)
    with transaction.atomic():
        service = _lock_service(service)
        number = (service.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        previous = service.current_version
        now = timezone.now()
        version = ContractVersion(
            service=service, number=number, status=VersionStatus.DRAFT, lifecycle_stage=service.lifecycle_stage,
            created_by=actor, change_note=reason.strip(), is_alteration=True,
            alteration_reason=reason.strip(), alteration_risk=risk.strip(),
        )
        write_content(version, cleaned)
        version.status = VersionStatus.APPROVED
        version.submitted_at = now
        version.approved_by = actor
        version.approved_at = now
        version.save()
        _apply_approved(service, version)
        webhooks.emit("contract.approved", webhooks.contract_approved(version, previous=previous, actor=actor))
        audit.record(
            actor, "alter_contract", version, authority=authority, service=service,
            summary=f"Altered {service.name}'s contract: version {number} replaces version {previous.number if previous else '—'}",
            before=_content_summary(read_content(previous)) if previous else None,
            after=_content_summary(cleaned), reason=f"{reason.strip()}\n\nRisk: {risk.strip()}",
        )
    return version


@dataclass
class DependencyResult:
    """What adding a dependency did: the draft it went into, and any cycle it closed."""

    version: ContractVersion
    dependency: Dependency
    cycle: list[str] = field(default_factory=list)


def _draft_for_change(actor: Person, service: Service) -> ContractVersion:
    draft = queries.open_draft(service)
    if draft is None:
        draft = _new_draft(actor, service)
    if draft.status != VersionStatus.DRAFT:
        raise Conflict(
            f"Version {draft.number} of {service.name} is awaiting approval; it cannot change until the "
            f"executive approves or returns it.",
            field="service",
        )
    return draft


@refuses_null_characters
def add_dependency(*, actor: Person, service: Service, provider: Service, note: str = "") -> DependencyResult:
    """Record in the service's draft contract that it consumes ``provider``. Opens a
    draft if none is open. A cycle is allowed but reported, naming the services in it."""
    authority = authorise(actor, "add_dependency", service=service)
    if provider is None:
        raise InvalidInput("Name the service consumed.", field="provider")
    if provider.pk == service.pk:
        raise InvalidInput(f"{service.name} cannot depend on itself.", field="provider")
    if provider.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        raise InvalidInput(f"{provider.name} is decommissioned; nothing new may depend on it.", field="provider")
    note = (note or "").strip()
    if len(note) > 300:
        raise InvalidInput("Keep the note to 300 characters.", field="note")
    with transaction.atomic():
        draft = _draft_for_change(actor, service)
        if draft.dependencies.filter(provider=provider).exists():
            raise InvalidInput(f"{service.name} already depends on {provider.name}.", field="provider")
        dependency = Dependency.objects.create(version=draft, provider=provider, note=note)
        draft.revision += 1
        draft.save(update_fields=["revision"])
        cycle = queries.cycle_through(service, extra_edges=[(service.pk, provider.pk)])
        summary = f"{service.name} now consumes {provider.name} (draft version {draft.number})"
        if cycle:
            summary += "; this closes a cycle: " + " → ".join(cycle)
        audit.record(
            actor, "add_dependency", dependency, authority=authority, service=service, summary=summary,
            after={"provider": provider.slug, "note": note, "cycle": cycle},
        )
    return DependencyResult(draft, dependency, cycle)


@refuses_null_characters
def remove_dependency(*, actor: Person, service: Service, provider: Service) -> ContractVersion:
    """Take ``provider`` out of the service's draft contract (opening a draft if needed)."""
    authority = authorise(actor, "remove_dependency", service=service)
    if provider is None:
        raise InvalidInput("Name the service no longer consumed.", field="provider")
    with transaction.atomic():
        draft = _draft_for_change(actor, service)
        link = draft.dependencies.filter(provider=provider).first()
        if link is None:
            raise InvalidInput(f"{service.name} does not depend on {provider.name}.", field="provider")
        link.delete()
        draft.revision += 1
        draft.save(update_fields=["revision"])
        audit.record(
            actor, "remove_dependency", draft, authority=authority, service=service,
            summary=f"{service.name} no longer consumes {provider.name} (draft version {draft.number})",
            before={"provider": provider.slug},
        )
    return draft


@refuses_null_characters
def add_team_member(
    *, actor: Person, service: Service, person: Person, role: ProfessionalRole | None, level: str
) -> TeamMembership:
    """The manager appoints someone to the service's team, in a framework role and level."""
    authority = authorise(actor, "add_team_member", service=service)
    errors: dict[str, list[str]] = {}
    if person is None or not person.is_active:
        errors["person"] = ["Choose someone who is in the organisation."]
    if role is None:
        errors["role"] = ["Choose the person's role from the professional framework."]
    if level not in dict(LEVELS):
        errors["level"] = [f"“{level}” is not a level: use one of {', '.join(dict(LEVELS))}."]
    if errors:
        raise InvalidInput.collect(errors)
    with transaction.atomic():
        # checked on the service locked, so that two additions at once make one membership
        service = _lock_service(service)
        if service.team.filter(person=person, ended_at__isnull=True).exists():
            raise InvalidInput(f"{person} is already in {service.name}'s team.", field="person")
        membership = TeamMembership.objects.create(service=service, person=person, role=role, level=level, added_by=actor)
        audit.record(
            actor, "add_team_member", membership, authority=authority, service=service,
            summary=f"{person} joined {service.name}'s team as {dict(LEVELS)[level].lower()} {role.name.lower()}",
            after={"person": person.email, "role": role.name, "level": level},
        )
    return membership


@refuses_null_characters
def remove_team_member(*, actor: Person, membership: TeamMembership) -> TeamMembership:
    """The manager ends someone's membership of the team; the history is kept."""
    service = membership.service
    authority = authorise(actor, "remove_team_member", service=service)
    with transaction.atomic():
        membership = TeamMembership.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "person", "role").get(pk=membership.pk)
        if membership.ended_at is not None:
            raise InvalidInput(f"{membership.person} already left {service.name}'s team.", field="membership")
        membership.ended_at = timezone.now()
        membership.save(update_fields=["ended_at"])
        audit.record(
            actor, "remove_team_member", membership, authority=authority, service=service,
            summary=f"{membership.person} left {service.name}'s team",
            before={"person": membership.person.email, "role": membership.role.name},
        )
    return membership




def _decommission_flag_summary(service: Service) -> dict:
    return {
        "decommission_flag": service.decommission_flag or None,
        "flagged_by": service.decommission_flagged_by.email if service.decommission_flagged_by_id else None,
        "flagged_at": service.decommission_flagged_at.isoformat() if service.decommission_flagged_at else None,
    }


@refuses_null_characters
def flag_for_decommissioning(*, actor: Person, service: Service, reason: str) -> Service:
    """Flag a running service for decommissioning (model 5.2): its manager or the
    executive says why it may no longer be needed. The flag decommissions nothing: it
    asks the executive to consider an assessment, which alone can."""
    authority = authorise(actor, "flag_for_decommissioning", service=service)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the service should be considered for decommissioning.", field="reason")
    with transaction.atomic():
        # decided on the service as it is now, locked: two flags at once make one
        service = _lock_service(service)
        if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            raise InvalidInput(f"{service.name} is already decommissioned.", field="service")
        if service.decommission_flag:
            who = service.decommission_flagged_by
            when = timezone.localtime(service.decommission_flagged_at) if service.decommission_flagged_at else None
            raise InvalidInput(
                f"{service.name} is already flagged for decommissioning"
                + (f", by {who}" if who else "") + (f" on {when:%d %b %Y}" if when else "")
                + f": “{service.decommission_flag}”.", field="service")
        service.decommission_flag = reason
        service.decommission_flagged_at = timezone.now()
        service.decommission_flagged_by = actor
        service.revision += 1
        service.save(update_fields=["decommission_flag", "decommission_flagged_at", "decommission_flagged_by",
                                    "revision"])
        if service.manager_id != actor.pk:
            notify([service.manager], f"{service.name} is flagged for decommissioning",
                   reverse("network:service", args=[service.slug]), body=reason)
        audit.record(
            actor, "flag_for_decommissioning", service, authority=authority, service=service,
            summary=f"Flagged {service.name} for decommissioning", after=_decommission_flag_summary(service),
            reason=reason,
        )
    return service


@refuses_null_characters
def clear_decommission_flag(*, actor: Person, service: Service, reason: str) -> Service:
    """The executive clears a service's flag for decommissioning, saying why it is kept;
    who flagged it, when and why stay in the audit log."""
    authority = authorise(actor, "clear_decommission_flag", service=service)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the flag is cleared.", field="reason")
    with transaction.atomic():
        service = _lock_service(service)
        if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            raise InvalidInput(f"{service.name} is decommissioned; a flag no longer matters.", field="service")
        if not service.decommission_flag:
            raise InvalidInput(f"{service.name} is not flagged for decommissioning.", field="service")
        before = _decommission_flag_summary(service)
        flagged_by = service.decommission_flagged_by
        service.decommission_flag = ""
        service.decommission_flagged_at = None
        service.decommission_flagged_by = None
        service.revision += 1
        service.save(update_fields=["decommission_flag", "decommission_flagged_at", "decommission_flagged_by",
                                    "revision"])
        notify([p for p in (service.manager, flagged_by) if p is not None and p.pk != actor.pk],
               f"{service.name} is no longer flagged for decommissioning",
               reverse("network:service", args=[service.slug]), body=reason)
        audit.record(
            actor, "clear_decommission_flag", service, authority=authority, service=service,
            summary=f"Cleared {service.name}'s flag for decommissioning", before=before, reason=reason,
        )
    return service
