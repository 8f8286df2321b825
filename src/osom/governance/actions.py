"""Every write of the executive's levers (model 5.5–5.8, 10): mandates as campaigns,
guidance and each service's decision on it, disputes and mediation, proposals of new
needs, deviations from the template, delegation, and reading notifications."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, Errors, InvalidInput
from osom.core.models import Organisation, Person
from osom.core.notify import notify
from osom.core.policy import ACTS, authorise
from osom.interop import webhooks
from osom.network import records
from osom.network.contract import clean_content, read_content, write_content
from osom.network.models import ContractVersion, Service
from osom.network.queries import network_list
from osom.network.stages import Lifecycle

from .models import Deviation, Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget, Proposal, ProposedNeed

__all__ = [
    "draft_mandate", "issue_mandate", "close_mandate", "remind_mandate", "acknowledge_mandate",
    "report_mandate_progress", "draft_guidance", "publish_guidance", "withdraw_guidance", "decide_guidance",
    "raise_dispute", "withdraw_dispute", "resolve_dispute", "propose_needs", "fold_proposal",
    "decline_proposal", "establish_from_proposal", "record_deviation", "retire_deviation", "set_reserved_acts",
    "read_notifications", "SCOPE_FILTERS",
]

# The filters a mandate's scope may be saved as: those of the network list, plus what a
# service consumes ("live services on commodity hosting").
SCOPE_FILTERS = ("stage", "evolution", "users", "q", "consumes")


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _prose(value) -> str:
    return str(value or "").strip()


def _date(errors: Errors, field: str, value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.add(field, f"“{value}” is not a date: use YYYY-MM-DD." if value else "Give a date.")
        return None


def _title(errors: Errors, value, field: str = "title") -> str:
    title = _text(value)
    if not title:
        errors.add(field, "Give it a title.")
    elif len(title) > 200:
        errors.add(field, "Keep the title to 200 characters.")
    return title


def _lock(model, obj):
    """The row as it is now, locked until the act ends: FOR NO KEY UPDATE on PostgreSQL,
    which lets another act insert rows referring to it while excluding every other lock
    of the row."""
    return model.objects.select_for_update(no_key=True).get(pk=obj.pk)


def _check_revision(obj, expected, what: str) -> None:
    if expected is not None and int(expected) != obj.revision:
        raise Conflict(f"{what} was changed by someone else since you opened it. Reload it, then make your change again.",
                       field="revision", changes=[f"Now at revision {obj.revision}."])


# ---------------------------------------------------------------- mandates

def scope_services(scope_filter: dict):
    """The services a saved filter chooses today (not decommissioned)."""
    f = {k: v for k, v in (scope_filter or {}).items() if v}
    qs = network_list(q=f.get("q", ""), stage=f.get("stage", ""), evolution=f.get("evolution", ""), users=f.get("users", ""))
    if f.get("consumes"):
        from django.db.models import F

        qs = qs.filter(current_version__dependencies__provider__slug=f["consumes"],
                       current_version__dependencies__version=F("current_version"))
    return qs.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)


@refuses_null_characters
def draft_mandate(*, actor: Person, title: str, instruction: str, due_date, services=None, scope_filter: dict | None = None,
                  mandate: Mandate | None = None, expected_revision: int | None = None) -> Mandate:
    """Write (or rewrite, until issued) a mandate: what must change, by when, and for
    which services — a list, or a saved filter resolved when it is issued."""
    authority = authorise(actor, "draft_mandate")
    errors = Errors()
    title = _title(errors, title)
    instruction = _prose(instruction)
    if not instruction:
        errors.add("instruction", "Say what must change.")
    due = _date(errors, "due_date", due_date)
    if due and due < timezone.localdate():
        errors.add("due_date", "The due date has passed already; choose a later one.")
    services = [s for s in (services or []) if s is not None]
    scope = {k: _text(v) for k, v in (scope_filter or {}).items() if _text(v)}
    unknown = set(scope) - set(SCOPE_FILTERS)
    if unknown:
        errors.add("scope_filter", f"“{sorted(unknown)[0]}” is not a filter: use {', '.join(SCOPE_FILTERS)}.")
    if services and scope:
        errors.add("scope_filter", "Choose the services either as a list or by a filter, not both.")
    if not services and not scope:
        errors.add("services", "Choose the services the mandate applies to, or a filter that chooses them.")
    if any(s.lifecycle_stage == Lifecycle.DECOMMISSIONED for s in services):
        errors.add("services", "A decommissioned service cannot be mandated to change.")
    errors.raise_if_any()
    with transaction.atomic():
        if mandate is None:
            mandate = Mandate.objects.create(title=title, instruction=instruction, due_date=due, scope_filter=scope,
                                             created_by=actor)
            verb_summary = f"Drafted the mandate “{title}”"
        else:
            mandate = _lock(Mandate, mandate)
            if mandate.status != Mandate.Status.DRAFT:
                raise Conflict("This mandate is issued already; it can no longer be rewritten.", field="mandate")
            _check_revision(mandate, expected_revision, "This mandate")
            mandate.title, mandate.instruction, mandate.due_date, mandate.scope_filter = title, instruction, due, scope
            mandate.revision += 1
            mandate.save()
            verb_summary = f"Rewrote the draft mandate “{title}”"
        MandateTarget.objects.filter(mandate=mandate).delete()
        MandateTarget.objects.bulk_create([MandateTarget(mandate=mandate, service=s) for s in dict.fromkeys(services)])
        mandate.scope_description = ", ".join(f"{k}: {v}" for k, v in scope.items()) if scope else f"{len(services)} chosen services"
        mandate.save(update_fields=["scope_description"])
        audit.record(actor, "draft_mandate", mandate, authority=authority, summary=verb_summary,
                     after={"services": [s.slug for s in services], "scope_filter": scope, "due_date": due.isoformat()})
    return mandate


@refuses_null_characters
def issue_mandate(*, actor: Person, mandate: Mandate) -> Mandate:
    """Issue the mandate: a saved filter is resolved into services now, and each
    service's manager is told and asked to acknowledge it."""
    authority = authorise(actor, "issue_mandate")
    with transaction.atomic():
        mandate = _lock(Mandate, mandate)
        if mandate.status != Mandate.Status.DRAFT:
            raise Conflict(f"This mandate is {mandate.get_status_display().lower()} already.", field="mandate")
        if mandate.scope_filter:
            chosen = list(scope_services(mandate.scope_filter).order_by().values_list("pk", flat=True))
            MandateTarget.objects.bulk_create([MandateTarget(mandate=mandate, service_id=pk) for pk in chosen])
        gone = mandate.targets.filter(service__lifecycle_stage=Lifecycle.DECOMMISSIONED).select_related("service").first()
        if gone is not None:
            raise InvalidInput(f"{gone.service.name} has been decommissioned since the mandate was drafted; "
                               "take it out before issuing.", field="services")
        targets = list(mandate.targets.select_related("service__manager"))
        if not targets:
            raise InvalidInput("No service matches this mandate's scope today; change it before issuing.", field="scope_filter")
        mandate.status = Mandate.Status.ISSUED
        mandate.issued_at = timezone.now()
        mandate.revision += 1
        mandate.save()
        link = reverse("governance:mandate", args=[mandate.pk])
        told = notify([t.service.manager for t in targets], f"Mandate: {mandate.title} (due {mandate.due_date:%d %b %Y})",
                      link, body=f"The executive has issued a mandate that applies to a service you manage.\n\n{mandate.instruction}")
        webhooks.emit("mandate.issued", webhooks.mandate_issued(mandate, actor=actor, services=[t.service for t in targets]))
        audit.record(actor, "issue_mandate", mandate, authority=authority,
                     summary=f"Issued the mandate “{mandate.title}” to {len(targets)} services ({told} managers told)",
                     after={"services": [t.service.slug for t in targets]})
    return mandate


@refuses_null_characters
def close_mandate(*, actor: Person, mandate: Mandate, note: str = "") -> Mandate:
    authority = authorise(actor, "close_mandate")
    with transaction.atomic():
        mandate = _lock(Mandate, mandate)
        if mandate.status != Mandate.Status.ISSUED:
            raise Conflict("Only an issued mandate can be closed.", field="mandate")
        mandate.status = Mandate.Status.CLOSED
        mandate.closed_at = timezone.now()
        mandate.revision += 1
        mandate.save()
        done = mandate.targets.filter(status=MandateTarget.Status.DONE).count()
        audit.record(actor, "close_mandate", mandate, authority=authority, reason=_prose(note),
                     summary=f"Closed the mandate “{mandate.title}” with {done} of {mandate.targets.count()} services done")
    return mandate


@refuses_null_characters
def remind_mandate(*, actor: Person, mandate: Mandate) -> int:
    """Remind the managers of the services not yet done; returns how many were reminded."""
    authority = authorise(actor, "remind_mandate")
    with transaction.atomic():
        mandate = _lock(Mandate, mandate)
        if mandate.status != Mandate.Status.ISSUED:
            raise Conflict("Only an issued mandate has managers to remind.", field="mandate")
        behind = list(mandate.targets.exclude(status=MandateTarget.Status.DONE).select_related("service__manager"))
        if not behind:
            raise InvalidInput("Every service has done what the mandate asks; nobody needs reminding.", field="mandate")
        told = notify([t.service.manager for t in behind], f"Reminder: {mandate.title} is due {mandate.due_date:%d %b %Y}",
                      reverse("governance:mandate", args=[mandate.pk]))
        mandate.last_reminded_at = timezone.now()
        mandate.save(update_fields=["last_reminded_at"])
        audit.record(actor, "remind_mandate", mandate, authority=authority,
                     summary=f"Reminded {told} managers of the mandate “{mandate.title}” ({len(behind)} services not done)")
    return told


def _target(mandate_target: MandateTarget) -> MandateTarget:
    target = MandateTarget.objects.select_for_update(no_key=True).select_related("mandate", "service").get(pk=mandate_target.pk)
    if target.mandate.status != Mandate.Status.ISSUED:
        raise Conflict(f"The mandate is {target.mandate.get_status_display().lower()}; it takes no more progress.", field="mandate")
    return target


@refuses_null_characters
def acknowledge_mandate(*, actor: Person, target: MandateTarget, note: str = "") -> MandateTarget:
    """The manager acknowledges the mandate for their service."""
    service = target.service
    authority = authorise(actor, "acknowledge_mandate", service=service)
    with transaction.atomic():
        target = _target(target)
        if target.status != MandateTarget.Status.PENDING:
            raise Conflict(f"{service.name} has acknowledged this mandate already.", field="target")
        target.status = MandateTarget.Status.ACKNOWLEDGED
        target.acknowledged_at = target.updated_at = timezone.now()
        if note:
            target.progress_note = _prose(note)
        target.save()
        audit.record(actor, "acknowledge_mandate", target, authority=authority, service=service,
                     summary=f"{service.name} acknowledged the mandate “{target.mandate.title}”")
    return target


@refuses_null_characters
def report_mandate_progress(*, actor: Person, target: MandateTarget, note: str, done: bool = False) -> MandateTarget:
    """The manager reports progress, and says when the service has done what was asked."""
    service = target.service
    authority = authorise(actor, "report_mandate_progress", service=service)
    note = _prose(note)
    if not note:
        raise InvalidInput("Say what has been done so far.", field="note")
    with transaction.atomic():
        target = _target(target)
        if target.status == MandateTarget.Status.DONE:
            raise Conflict(f"{service.name} has already done what this mandate asks.", field="target")
        now = timezone.now()
        if target.acknowledged_at is None:
            target.acknowledged_at = now
        target.status = MandateTarget.Status.DONE if done else MandateTarget.Status.ACKNOWLEDGED
        target.done_at = now if done else None
        target.progress_note = note
        target.updated_at = now
        target.save()
        audit.record(actor, "report_mandate_progress", target, authority=authority, service=service,
                     summary=f"{service.name} {'completed' if done else 'reported progress on'} the mandate “{target.mandate.title}”",
                     after={"done": done, "note": note})
    return target


# ---------------------------------------------------------------- guidance

@refuses_null_characters
def draft_guidance(*, actor: Person, title: str, body: str, source: str, category: str, source_detail: str = "",
                   guidance: Guidance | None = None, expected_revision: int | None = None, coe=None) -> Guidance:
    """Write (or rewrite, while a draft) a piece of guidance; guidance drawn from a
    Correction of Error links back to it."""
    authority = authorise(actor, "draft_guidance")
    errors = Errors()
    title = _title(errors, title)
    body = _prose(body)
    if not body:
        errors.add("body", "Write the guidance itself.")
    if source not in Guidance.Source.values:
        errors.add("source", f"“{source}” is not a source: use {', '.join(Guidance.Source.values)}.")
    if category not in Guidance.Category.values:
        errors.add("category", f"“{category}” is not a category: use {', '.join(Guidance.Category.values)}.")
    detail = _text(source_detail)
    if len(detail) > 300:
        errors.add("source_detail", "Keep the source to 300 characters.")
    if coe is not None:
        if coe.status == "draft":
            errors.add("coe", "Guidance draws only on a published Correction of Error.")
        if source != Guidance.Source.COE:
            errors.add("source", "Guidance drawn from a Correction of Error has the source “coe”.")
        detail = detail or f"Correction of Error: {coe.title} ({coe.service.name})"[:300]
    errors.raise_if_any()
    with transaction.atomic():
        if guidance is None:
            guidance = Guidance.objects.create(title=title, body=body, source=source, category=category,
                                               source_detail=detail, created_by=actor, coe=coe)
            summary = f"Drafted the guidance “{title}”"
        else:
            guidance = _lock(Guidance, guidance)
            if guidance.status != Guidance.Status.DRAFT:
                raise Conflict("Published guidance is not rewritten: withdraw it and publish new guidance.", field="guidance")
            _check_revision(guidance, expected_revision, "This guidance")
            guidance.title, guidance.body, guidance.source, guidance.category, guidance.source_detail = (
                title, body, source, category, detail)
            if coe is not None:
                guidance.coe = coe
            guidance.revision += 1
            guidance.save()
            summary = f"Rewrote the draft guidance “{title}”"
        audit.record(actor, "draft_guidance", guidance, authority=authority, summary=summary,
                     after={"title": title, "source": source, "category": category,
                            **({"coe": guidance.coe_id} if guidance.coe_id else {})})
    return guidance


@refuses_null_characters
def publish_guidance(*, actor: Person, guidance: Guidance) -> Guidance:
    """Publish guidance to everyone; every service manager is asked to decide on it."""
    authority = authorise(actor, "publish_guidance")
    with transaction.atomic():
        guidance = _lock(Guidance, guidance)
        if guidance.status != Guidance.Status.DRAFT:
            raise Conflict(f"This guidance is {guidance.get_status_display().lower()} already.", field="guidance")
        guidance.status = Guidance.Status.PUBLISHED
        guidance.published_at = timezone.now()
        guidance.revision += 1
        guidance.save()
        running = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED).filter(manager__isnull=False)
        managers = Person.objects.filter(pk__in=running.values("manager_id"))
        told = notify(managers, f"New guidance: {guidance.title} — decide whether your services adopt it",
                      reverse("governance:guidance", args=[guidance.pk]), body=guidance.body)
        audit.record(actor, "publish_guidance", guidance, authority=authority,
                     summary=f"Published the guidance “{guidance.title}” ({told} managers asked to decide)")
    return guidance


@refuses_null_characters
def withdraw_guidance(*, actor: Person, guidance: Guidance, reason: str) -> Guidance:
    authority = authorise(actor, "withdraw_guidance")
    reason = _prose(reason)
    if not reason:
        raise InvalidInput("Say why the guidance is withdrawn.", field="reason")
    with transaction.atomic():
        guidance = _lock(Guidance, guidance)
        if guidance.status != Guidance.Status.PUBLISHED:
            raise Conflict("Only published guidance can be withdrawn.", field="guidance")
        guidance.status = Guidance.Status.WITHDRAWN
        guidance.withdrawn_at = timezone.now()
        guidance.revision += 1
        guidance.save()
        audit.record(actor, "withdraw_guidance", guidance, authority=authority, reason=reason,
                     summary=f"Withdrew the guidance “{guidance.title}”")
    return guidance


@refuses_null_characters
def decide_guidance(*, actor: Person, guidance: Guidance, service: Service, decision: str, rationale: str = "") -> GuidanceDecision:
    """The manager records that the service adopts the guidance, or rejects it with a
    rationale it will account for at its next assessment. A later decision replaces it."""
    authority = authorise(actor, "decide_guidance", service=service)
    guidance = Guidance.objects.get(pk=guidance.pk)  # as it is now, not as the caller last read it
    errors = Errors()
    if decision not in GuidanceDecision.Decision.values:
        errors.add("decision", f"“{decision}” is not a decision: use adopt or reject.")
    rationale = _prose(rationale)
    if decision == GuidanceDecision.Decision.REJECT and not rationale:
        errors.add("rationale", "Say why the guidance does not fit this service; the service accounts for it at assessment.")
    if guidance.status != Guidance.Status.PUBLISHED:
        errors.add("guidance", "Only published guidance is decided on.")
    if Service.objects.filter(pk=service.pk, lifecycle_stage=Lifecycle.DECOMMISSIONED).exists():
        errors.add("service", f"{service.name} is decommissioned; it decides on no new guidance.")
    errors.raise_if_any()
    with transaction.atomic():
        previous = GuidanceDecision.objects.select_for_update(no_key=True).filter(guidance=guidance, service=service).first()
        before = {"decision": previous.decision, "rationale": previous.rationale} if previous else None
        if previous is None:
            record = GuidanceDecision.objects.create(guidance=guidance, service=service, decision=decision,
                                                     rationale=rationale, decided_by=actor)
        else:
            previous.decision, previous.rationale, previous.decided_by, previous.decided_at = (
                decision, rationale, actor, timezone.now())
            previous.save()
            record = previous
        audit.record(actor, "decide_guidance", record, authority=authority, service=service,
                     summary=f"{service.name} {'adopted' if decision == 'adopt' else 'rejected'} the guidance “{guidance.title}”",
                     before=before, after={"decision": decision, "rationale": rationale})
    return record


# ---------------------------------------------------------------- disputes

@refuses_null_characters
def raise_dispute(*, actor: Person, subject: str, description: str, service: Service | None = None,
                  other_service: Service | None = None, kind: str = Dispute.Kind.SERVICES) -> Dispute:
    """A manager raises a dispute between their service and another; or anyone, through
    their community of practice, disputes how they were evaluated."""
    if kind not in Dispute.Kind.values:
        raise InvalidInput(f"“{kind}” is not a kind of dispute: use services or evaluation.", field="kind")
    if kind == Dispute.Kind.SERVICES:
        if service is None:
            raise InvalidInput("Name the service raising the dispute.", field="service")
        authority = authorise(actor, "raise_dispute", service=service)
    else:
        authority = authorise(actor, "raise_evaluation_dispute")
        if service is not None or other_service is not None:
            raise InvalidInput("A dispute about an evaluation is between a person and their manager, through their "
                               "community of practice; it names no service.", field="service")
    errors = Errors()
    subject_text = _title(errors, subject, "subject")
    description = _prose(description)
    if not description:
        errors.add("description", "Describe what the dispute is about.")
    if kind not in Dispute.Kind.values:
        errors.add("kind", f"“{kind}” is not a kind of dispute: use services or evaluation.")
    elif kind == Dispute.Kind.SERVICES:
        if other_service is None:
            errors.add("other_service", "Name the other service in the dispute.")
        elif service is not None and other_service.pk == service.pk:
            errors.add("other_service", "A service cannot be in dispute with itself.")
    errors.raise_if_any()
    with transaction.atomic():
        dispute = Dispute.objects.create(kind=kind, raised_by=actor, service=service, other_service=other_service,
                                         subject=subject_text, description=description)
        executive = Person.objects.filter(role="executive", is_active=True)
        notify([*executive, other_service.manager if other_service else None], f"Dispute raised: {subject_text}",
               reverse("governance:dispute", args=[dispute.pk]))
        audit.record(actor, "raise_dispute", dispute, authority=authority, service=service,
                     summary=(f"{service.name} raised a dispute with {other_service.name}: {subject_text}"
                              if kind == Dispute.Kind.SERVICES else f"Raised a dispute about an evaluation: {subject_text}"))
    return dispute


@refuses_null_characters
def withdraw_dispute(*, actor: Person, dispute: Dispute, note: str = "") -> Dispute:
    authority = authorise(actor, "withdraw_dispute", subject=dispute.raised_by)
    with transaction.atomic():
        dispute = _lock(Dispute, dispute)
        if dispute.status != Dispute.Status.OPEN:
            raise Conflict(f"This dispute is {dispute.get_status_display().lower()} already.", field="dispute")
        dispute.status = Dispute.Status.WITHDRAWN
        dispute.resolution = _prose(note)
        dispute.resolved_at = timezone.now()
        dispute.save()
        audit.record(actor, "withdraw_dispute", dispute, authority=authority, service=dispute.service,
                     summary=f"Withdrew the dispute “{dispute.subject}”", reason=_prose(note))
    return dispute


@refuses_null_characters
def resolve_dispute(*, actor: Person, dispute: Dispute, resolution: str, lever: str, mandate: Mandate | None = None,
                    contract_version: ContractVersion | None = None, assessment=None) -> Dispute:
    """The executive mediates: records the resolution and the lever it used — a mandate,
    a contract alteration, an assessment, or none — linked to it (model 5.7)."""
    authority = authorise(actor, "resolve_dispute", service=dispute.service)
    errors = Errors()
    resolution = _prose(resolution)
    if not resolution:
        errors.add("resolution", "Record how the dispute was resolved.")
    links = {Dispute.Lever.MANDATE: ("mandate", mandate), Dispute.Lever.ALTERATION: ("contract_version", contract_version),
             Dispute.Lever.ASSESSMENT: ("assessment", assessment)}
    if lever not in Dispute.Lever.values:
        errors.add("lever", f"“{lever}” is not a lever: use {', '.join(Dispute.Lever.values)}.")
    elif lever in links and links[lever][1] is None:
        errors.add(links[lever][0], f"Link the {Dispute.Lever(lever).label.lower().removeprefix('a ').removeprefix('an ')} used.")
    elif lever == Dispute.Lever.ALTERATION and not contract_version.is_alteration:
        errors.add("contract_version", "That contract version is not an alteration by the executive.")
    errors.raise_if_any()
    with transaction.atomic():
        dispute = _lock(Dispute, dispute)
        if dispute.status != Dispute.Status.OPEN:
            raise Conflict(f"This dispute is {dispute.get_status_display().lower()} already.", field="dispute")
        dispute.status = Dispute.Status.RESOLVED
        dispute.resolution, dispute.lever = resolution, lever
        dispute.mandate = mandate if lever == Dispute.Lever.MANDATE else None
        dispute.contract_version = contract_version if lever == Dispute.Lever.ALTERATION else None
        dispute.assessment = assessment if lever == Dispute.Lever.ASSESSMENT else None
        dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
        dispute.save()
        notify([dispute.raised_by, dispute.other_service.manager if dispute.other_service else None],
               f"Dispute resolved: {dispute.subject}", reverse("governance:dispute", args=[dispute.pk]))
        audit.record(actor, "resolve_dispute", dispute, authority=authority, service=dispute.service,
                     summary=f"Resolved the dispute “{dispute.subject}” ({Dispute.Lever(lever).label.lower()})",
                     reason=resolution)
    return dispute


# ---------------------------------------------------------------- demand management

def _clean_needs(errors: Errors, needs) -> list[dict]:
    out = []
    for i, n in enumerate(needs or []):
        n = n or {}
        as_a, i_need, so_that = _text(n.get("as_a")), _prose(n.get("i_need")), _prose(n.get("so_that"))
        if not as_a:
            errors.add(f"needs[{i}].as_a", "Say who has the need (As a …).")
        elif len(as_a) > 300:
            errors.add(f"needs[{i}].as_a", "Keep “As a” to 300 characters.")
        if not i_need:
            errors.add(f"needs[{i}].i_need", "Say what they need (I need …).")
        if not so_that:
            errors.add(f"needs[{i}].so_that", "Say the outcome they want (so that …).")
        out.append({"as_a": as_a, "i_need": i_need, "so_that": so_that})
    if not out:
        errors.add("needs", "Propose at least one need.")
    return out


@refuses_null_characters
def propose_needs(*, actor: Person, title: str, needs: list[dict], context: str = "") -> Proposal:
    """Anyone proposes needs the network may not meet (model 5.8)."""
    authority = authorise(actor, "propose_needs")
    errors = Errors()
    title = _title(errors, title)
    cleaned = _clean_needs(errors, needs)
    errors.raise_if_any()
    with transaction.atomic():
        proposal = Proposal.objects.create(title=title, context=_prose(context), proposed_by=actor)
        ProposedNeed.objects.bulk_create([ProposedNeed(proposal=proposal, position=i, **n) for i, n in enumerate(cleaned)])
        notify(Person.objects.filter(role="executive", is_active=True), f"Needs proposed: {title}",
               reverse("governance:proposal", args=[proposal.pk]))
        audit.record(actor, "propose_needs", proposal, authority=authority,
                     summary=f"Proposed {len(cleaned)} need{'s' if len(cleaned) != 1 else ''}: {title}")
    return proposal


def _open_proposal(proposal: Proposal) -> Proposal:
    proposal = Proposal.objects.select_for_update(no_key=True).get(pk=proposal.pk)
    if proposal.status != Proposal.Status.OPEN:
        raise Conflict(f"This proposal was decided already: {proposal.get_status_display().lower()}.", field="proposal")
    return proposal


@refuses_null_characters
def fold_proposal(*, actor: Person, proposal: Proposal, service: Service, note: str = "") -> ContractVersion:
    """The needs fit an existing service: open a draft of its contract with them added,
    for its manager to refine and submit — a contract alteration made with the manager."""
    authority = authorise(actor, "decide_proposal", service=service)
    if service is None:
        raise InvalidInput("Choose the service the needs are folded into.", field="service")
    service = Service.objects.get(pk=service.pk)
    if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        raise InvalidInput(f"{service.name} is decommissioned; fold the needs into a running service.", field="service")
    with transaction.atomic():
        proposal = _open_proposal(proposal)
        from osom.network.queries import open_draft

        if open_draft(service) is not None:
            raise Conflict(f"{service.name} already has an open draft; fold the needs in once it is approved or discarded.",
                           field="service")
        draft = records.new_draft(actor, service, change_note=f"Needs folded in from the proposal “{proposal.title}”.")
        content = read_content(draft)
        content["needs"] += [{"as_a": n.as_a, "i_need": n.i_need, "so_that": n.so_that, "metrics": []}
                             for n in proposal.needs.all()]
        write_content(draft, clean_content(content, service=service))
        proposal.status = Proposal.Status.FOLDED
        proposal.service, proposal.draft_version = service, draft
        proposal.decision_note = _prose(note)
        proposal.decided_by, proposal.decided_at = actor, timezone.now()
        proposal.save()
        notify([service.manager, proposal.proposed_by], f"Needs folded into {service.name}: {proposal.title}",
               reverse("network:version", args=[service.slug, draft.number]))
        audit.record(actor, "fold_proposal", proposal, authority=authority, service=service, reason=_prose(note),
                     summary=f"Folded the proposal “{proposal.title}” into {service.name}: draft version {draft.number} opened")
    return draft


@refuses_null_characters
def decline_proposal(*, actor: Person, proposal: Proposal, reason: str) -> Proposal:
    """The executive does not want the organisation to meet these needs, and says why."""
    authority = authorise(actor, "decide_proposal")
    reason = _prose(reason)
    if not reason:
        raise InvalidInput("Say why the organisation will not meet these needs.", field="reason")
    with transaction.atomic():
        proposal = _open_proposal(proposal)
        proposal.status = Proposal.Status.DECLINED
        proposal.decision_note = reason
        proposal.decided_by, proposal.decided_at = actor, timezone.now()
        proposal.save()
        notify([proposal.proposed_by], f"Proposal declined: {proposal.title}", reverse("governance:proposal", args=[proposal.pk]))
        audit.record(actor, "decline_proposal", proposal, authority=authority, reason=reason,
                     summary=f"Declined the proposal “{proposal.title}”")
    return proposal


@refuses_null_characters
def establish_from_proposal(*, actor: Person, proposal: Proposal, content: dict, manager: Person | None = None) -> Service:
    """The executive wants the needs met and no service fits: a new service in discovery,
    its contract pre-filled from the proposal (``content`` is the finished contract)."""
    authority = authorise(actor, "decide_proposal")
    authorise(actor, "establish_service")
    cleaned = clean_content(content)
    if manager is not None and not manager.is_active:
        raise InvalidInput(f"{manager} has left the organisation and cannot manage a service.", field="manager")
    with transaction.atomic():
        proposal = _open_proposal(proposal)
        service = records.create_service(actor, cleaned, Lifecycle.DISCOVERY, adopted=False,
                                         note=f"Established for the proposal “{proposal.title}”.")
        if manager is not None:
            records.appoint(service, manager, actor, "Appointed when the service was established.")
        proposal.status = Proposal.Status.ESTABLISHED
        proposal.service = service
        proposal.decided_by, proposal.decided_at = actor, timezone.now()
        proposal.save()
        notify([proposal.proposed_by, manager], f"A new service meets your proposal: {service.name}",
               reverse("network:service", args=[service.slug]))
        webhooks.emit("service.established", webhooks.service_established(service, how="proposal", actor=actor, proposal=proposal))
        audit.record(actor, "establish_from_proposal", service, authority=authority, service=service,
                     summary=f"Established {service.name} in discovery for the proposal “{proposal.title}”",
                     after={"name": service.name, "needs": len(cleaned["needs"]), "manager": manager.email if manager else None})
    return service


def proposal_content(proposal: Proposal) -> dict:
    """A contract pre-filled from a proposal, to finish in the establish wizard."""
    return {
        "name": proposal.title, "user_type": "", "evolution_stage": "genesis", "purpose": proposal.context,
        "needs": [{"as_a": n.as_a, "i_need": n.i_need, "so_that": n.so_that, "metrics": []} for n in proposal.needs.all()],
        "metrics": [], "dependencies": [],
    }


# ---------------------------------------------------------------- adaptation and delegation

@refuses_null_characters
def record_deviation(*, actor: Person, title: str, compromised: str, positive: str, negative: str, governance: str,
                     review_on, deviation: Deviation | None = None, expected_revision: int | None = None) -> Deviation:
    """Accept a compromise of the template as a deviation (model 10), or revise one."""
    authority = authorise(actor, "record_deviation")
    errors = Errors()
    title = _title(errors, title)
    fields = {"compromised": _prose(compromised), "positive": _prose(positive), "negative": _prose(negative),
              "governance": _prose(governance)}
    says = {"compromised": "Say what part of the template is compromised.",
            "positive": "Record its positive consequences.",
            "negative": "Record its negative consequences.",
            "governance": "Say what governance balances the negative consequences."}
    for name, value in fields.items():
        if not value:
            errors.add(name, says[name])
    review = _date(errors, "review_on", review_on)
    errors.raise_if_any()
    with transaction.atomic():
        if deviation is None:
            deviation = Deviation.objects.create(title=title, review_on=review, recorded_by=actor, **fields)
            summary = f"Recorded the deviation “{title}”, to review on {review:%d %b %Y}"
        else:
            deviation = _lock(Deviation, deviation)
            if deviation.status == Deviation.Status.RETIRED:
                raise Conflict("This deviation is retired; record a new one if the compromise returns.", field="deviation")
            _check_revision(deviation, expected_revision, "This deviation")
            deviation.title, deviation.review_on = title, review
            for name, value in fields.items():
                setattr(deviation, name, value)
            deviation.revision += 1
            deviation.save()
            summary = f"Revised the deviation “{title}”"
        audit.record(actor, "record_deviation", deviation, authority=authority, summary=summary,
                     after={"title": title, "review_on": review.isoformat()})
    return deviation


@refuses_null_characters
def retire_deviation(*, actor: Person, deviation: Deviation, reason: str) -> Deviation:
    authority = authorise(actor, "record_deviation")
    reason = _prose(reason)
    if not reason:
        raise InvalidInput("Say why the deviation no longer applies.", field="reason")
    with transaction.atomic():
        deviation = _lock(Deviation, deviation)
        if deviation.status == Deviation.Status.RETIRED:
            raise Conflict("This deviation is retired already.", field="deviation")
        deviation.status = Deviation.Status.RETIRED
        deviation.revision += 1
        deviation.save()
        audit.record(actor, "retire_deviation", deviation, authority=authority, reason=reason,
                     summary=f"Retired the deviation “{deviation.title}”")
    return deviation


# Acts the executive may keep to itself: those its team can otherwise do in its name.
RESERVABLE = sorted(act for act, rule in ACTS.items() if "executive" in rule.rights)


@refuses_null_characters
def set_reserved_acts(*, actor: Person, acts: list[str]) -> Organisation:
    """The executive chooses which of its acts its team may not do in its name."""
    authority = authorise(actor, "set_reserved_acts")
    chosen = sorted(set(acts or []))
    unknown = [a for a in chosen if a not in RESERVABLE]
    if unknown:
        raise InvalidInput(f"“{unknown[0]}” is not an act of the executive's.", field="acts")
    with transaction.atomic():
        org = Organisation.objects.select_for_update(no_key=True).get(pk=Organisation.current().pk)
        before = list(org.reserved_acts or [])
        org.reserved_acts = chosen
        org.revision += 1
        org.save()
        audit.record(actor, "set_reserved_acts", org, authority=authority, before={"reserved": before},
                     after={"reserved": chosen},
                     summary=f"The executive now keeps {len(chosen)} acts to itself" + (
                         f": {', '.join(a.replace('_', ' ') for a in chosen)}" if chosen else ""))
    return org


@refuses_null_characters
def read_notifications(*, actor: Person, person: Person, ids: list[int] | None = None) -> int:
    """Mark one's notifications as read (all of them, or those listed)."""
    authority = authorise(actor, "read_notifications", subject=person)
    with transaction.atomic():
        qs = person.notifications.filter(read_at__isnull=True)
        if ids is not None:
            qs = qs.filter(pk__in=ids)
        count = qs.update(read_at=timezone.now())
        if count == 0:
            return 0  # nothing changed, nothing to record
        audit.record(actor, "read_notifications", person, authority=authority,
                     summary=f"{person.name} marked {count} notification{'s' if count != 1 else ''} as read")
    return count
