"""API routes for governance: mandates as campaigns with their burn-up, guidance and
each service's decision on it, disputes and their mediation, proposals of needs and the
matcher, deviations from the template, the acts the executive keeps to itself, the
dashboards and a person's notifications (model 5.5–5.8, 10).

Reads use ``queries`` and ``matching`` (or a query here with its joins, never one per
row); every write is one call to ``actions``, which checks the caller's right, the rules
and writes the audit event. Everyone signed in reads everything: nothing is hidden."""

from __future__ import annotations

import re
import sys
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from osom.api.schemas import READ_ERRORS, WRITE_ERRORS, EstablishIn, PageQuery, page, page_rows
from osom.core.api import actor, find_person
from osom.core.errors import InvalidInput, NotFound
from osom.core.models import AuditEvent, Notification, Organisation
from osom.core.orgcache import current_organisation
from osom.core.policy import ACTS, ALWAYS_RESERVED
from osom.lifecycle.api_schemas import money_text
from osom.lifecycle.models import Assessment
from osom.network.models import ContractVersion, Service
from osom.network.stages import Lifecycle

from . import actions, queries
from .api_schemas import (
    AcknowledgeIn,
    AttentionQuery,
    CloseIn,
    DecideIn,
    DecisionOut,
    DeclineIn,
    DeviationEditIn,
    DeviationFilters,
    DeviationIn,
    DeviationOut,
    DeviationPage,
    DisputeDetail,
    DisputeFilters,
    DisputeIn,
    DisputePage,
    DisputeWithdrawIn,
    DuplicateFilters,
    DuplicatePage,
    ExecutiveAttentionOut,
    FoldIn,
    GuidanceDetail,
    GuidanceDetailQuery,
    GuidanceEditIn,
    GuidanceFilters,
    GuidanceIn,
    GuidancePage,
    ManagerObligationsOut,
    MandateDetail,
    MandateEditIn,
    MandateFilters,
    MandateIn,
    MandatePage,
    MatchIn,
    NotificationFilters,
    NotificationPage,
    ProgressIn,
    ProposalDetail,
    ProposalFilters,
    ProposalIn,
    ProposalPage,
    ReadIn,
    ReadOut,
    RejectionPage,
    RemindedOut,
    ReservedActsIn,
    ReservedActsOut,
    ResolveIn,
    RetireIn,
    SuggestionPage,
    TargetOut,
    WithdrawGuidanceIn,
)
from .matching import find_duplicate_needs, suggest_services, tokens
from .models import Deviation, Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget, Proposal

__all__ = ["router", "shared_words"]

router = Router(tags=["governance"])

_DONE, _ACKNOWLEDGED = MandateTarget.Status.DONE, MandateTarget.Status.ACKNOWLEDGED
_WORD = re.compile(r"[A-Za-z0-9]+")


# ---------------------------------------------------------------- finding what a request names


def _service(slug: str, field: str = "slug") -> Service:
    """The service a path names, or a 404."""
    service = Service.objects.select_related("manager").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field=field)
    return service


def _named_service(slug: str, field: str) -> Service:
    """The service a request's body names by slug, or a 400 naming ``field``."""
    slug = (slug or "").strip()
    service = Service.objects.select_related("manager").filter(slug=slug).first() if slug else None
    if service is None:
        raise InvalidInput(f"There is no service “{slug}”; GET /services lists them." if slug
                           else "Name a service by its slug.", field=field)
    return service


def _services(slugs: list[str], field: str = "services") -> list[Service]:
    """Services named by slug, in the order given (one query); 400 naming an unknown one."""
    found = {s.slug: s for s in Service.objects.filter(slug__in=[s.strip() for s in slugs])}
    chosen = []
    for n, slug in enumerate(slugs):
        service = found.get(slug.strip())
        if service is None:
            raise InvalidInput(f"There is no service “{slug}”; GET /services lists them.", field=f"{field}[{n}]")
        chosen.append(service)
    return chosen


def _found(model, pk: int, what: str, field: str):
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"There is no {what} with id {pk}.", field=field)
    return obj


def _mandate(mandate_id: int) -> Mandate:
    return _found(Mandate, mandate_id, "mandate", "mandate_id")


def _guidance(guidance_id: int) -> Guidance:
    return _found(Guidance, guidance_id, "guidance", "guidance_id")


def _dispute(dispute_id: int) -> Dispute:
    dispute = Dispute.objects.select_related("service", "raised_by").filter(pk=dispute_id).first()
    if dispute is None:
        raise NotFound(f"There is no dispute with id {dispute_id}.", field="dispute_id")
    return dispute


def _proposal(proposal_id: int) -> Proposal:
    return _found(Proposal, proposal_id, "proposal", "proposal_id")


def _deviation(deviation_id: int) -> Deviation:
    return _found(Deviation, deviation_id, "deviation", "deviation_id")


# ---------------------------------------------------------------- why a match matched


def shared_words(stems: list[str], *texts: str) -> list[str]:
    """The matcher's stems as people wrote the words ('hous' → 'housing'), taken from
    ``texts``; a stem found in none of them stays as it is."""
    seen: dict[str, str] = {}
    for text in texts:
        for word in _WORD.findall(text or ""):
            found = tokens(word)
            if found and found[0] in stems and found[0] not in seen:
                seen[found[0]] = word.lower()
    return [seen.get(s, s) for s in stems]


def _need_text(need: dict) -> str:
    return " ".join(need.get(k, "") or "" for k in ("as_a", "i_need", "so_that"))


def _suggestions(needs: list[dict], limit: int = 5) -> list[dict[str, Any]]:
    """Existing services that could meet ``needs``, best first, each saying why (two queries)."""
    if not any(_need_text(n).strip() for n in needs):
        return []
    asked = " ".join(_need_text(n) for n in needs)
    return [
        {"service": m.service, "score": m.score, "best_need": m.best_need, "need_score": m.need_score,
         "words": shared_words(m.words, asked, m.best_need, m.service.name, m.service.summary)}
        for m in suggest_services(needs, limit=limit)
    ]


# ---------------------------------------------------------------- mandates


_MANDATE_FIELDS = ("id", "title", "status", "due_date", "scope_description", "created_by", "created_at", "issued_at",
                   "closed_at", "last_reminded_at", "revision")
# the list's order: the issued first (they are the ones in progress), then drafts, then the closed
_ISSUED_FIRST = Case(When(status=Mandate.Status.ISSUED, then=Value(0)), When(status=Mandate.Status.DRAFT, then=Value(1)),
                     default=Value(2), output_field=IntegerField())


def _with_progress(qs):
    return qs.annotate(
        total=Count("targets"),
        done=Count("targets", filter=Q(targets__status=_DONE)),
        acknowledged=Count("targets", filter=Q(targets__status__in=[_ACKNOWLEDGED, _DONE])),
    )


def _mandate_row(m: Mandate, total: int, acknowledged: int, done: int) -> dict[str, Any]:
    overdue = m.status == Mandate.Status.ISSUED and m.due_date < timezone.localdate() and done < total
    return {**{name: getattr(m, name) for name in _MANDATE_FIELDS},
            "total": total, "acknowledged": acknowledged, "done": done, "overdue": overdue}


def _target_out(t: MandateTarget) -> dict[str, Any]:
    """:class:`TargetOut` from a target whose service and its manager are loaded."""
    return {"mandate": t.mandate_id, "service": t.service, "manager": t.service.manager, "status": t.status,
            "progress_note": t.progress_note, "acknowledged_at": t.acknowledged_at, "done_at": t.done_at,
            "updated_at": t.updated_at}


def _mandate_detail(mandate_id: int) -> dict[str, Any]:
    """:class:`MandateDetail` in a fixed number of queries, whatever the number of services."""
    mandate = Mandate.objects.select_related("created_by").filter(pk=mandate_id).first()
    if mandate is None:
        raise NotFound(f"There is no mandate with id {mandate_id}.", field="mandate_id")
    targets = list(mandate.targets.select_related("service__manager").order_by("service__name", "pk"))
    done = sum(1 for t in targets if t.status == _DONE)
    acknowledged = sum(1 for t in targets if t.status in (_ACKNOWLEDGED, _DONE))
    return {
        **_mandate_row(mandate, len(targets), acknowledged, done),
        "instruction": mandate.instruction,
        "scope_filter": dict(mandate.scope_filter or {}),
        "targets": [_target_out(t) for t in targets],
        "burn_up": queries.burn_up(mandate),
    }


def _mandate_kwargs(payload: MandateIn) -> dict[str, Any]:
    """What the action is given: the services named, or the saved filter."""
    scope = payload.scope_filter.values() if payload.scope_filter is not None else None
    if scope and scope.get("consumes") and not Service.objects.filter(slug=scope["consumes"]).exists():
        raise InvalidInput(f"There is no service “{scope['consumes']}” to consume; GET /services lists them.",
                           field="scope_filter.consumes")
    return {"title": payload.title, "instruction": payload.instruction, "due_date": payload.due_date,
            "services": _services(payload.services), "scope_filter": scope}


def _target(mandate_id: int, service_slug: str) -> MandateTarget:
    """One service's row of a mandate, or a 404 naming what is not there."""
    mandate = _mandate(mandate_id)
    target = (MandateTarget.objects.select_related("mandate", "service__manager")
              .filter(mandate=mandate, service__slug=service_slug).first())
    if target is None:
        service = _service(service_slug, field="service_slug")
        raise NotFound(f"The mandate “{mandate.title}” does not apply to {service.name}.", field="service_slug")
    return target


def _target_body(target: MandateTarget) -> dict[str, Any]:
    return _target_out(MandateTarget.objects.select_related("service__manager").get(pk=target.pk))


@router.get("/mandates", response={200: MandatePage, **READ_ERRORS})
def list_mandates(request: HttpRequest, filters: Query[MandateFilters]):
    """Every mandate with its progress (services acknowledged and done, counted in the
    database): the issued first, then drafts, then the closed, each by due date."""
    qs = _with_progress(Mandate.objects.select_related("created_by"))
    if filters.status:
        qs = qs.filter(status=filters.status)
    result = page(qs.order_by(_ISSUED_FIRST, "due_date", "-pk"), filters)
    return {"items": [_mandate_row(m, m.total, m.acknowledged, m.done) for m in result["items"]],
            "count": result["count"], "next_cursor": result["next_cursor"]}


@router.post("/mandates", response={201: MandateDetail, **WRITE_ERRORS})
def draft_mandate(request: HttpRequest, payload: MandateIn):
    """The executive drafts a mandate: what must change, by when, for which services —
    listed by slug, or chosen by a saved filter when it is issued. A mandate cannot
    change a contract (model 5.5)."""
    mandate = actions.draft_mandate(actor=actor(request), **_mandate_kwargs(payload))
    return Status(201, _mandate_detail(mandate.pk))


@router.get("/mandates/{mandate_id}", response={200: MandateDetail, **READ_ERRORS})
def get_mandate(request: HttpRequest, mandate_id: int):
    """A mandate: what must change, by when, each service's acknowledgement and progress,
    and the burn-up of services done over time since it was issued."""
    return _mandate_detail(mandate_id)


@router.put("/mandates/{mandate_id}", response={200: MandateDetail, **WRITE_ERRORS})
def rewrite_mandate(request: HttpRequest, mandate_id: int, payload: MandateEditIn):
    """Rewrite a mandate while it is a draft (409 once issued, or if the draft has moved
    on since ``expected_revision``)."""
    actions.draft_mandate(actor=actor(request), mandate=_mandate(mandate_id),
                          expected_revision=payload.expected_revision, **_mandate_kwargs(payload))
    return _mandate_detail(mandate_id)


@router.post("/mandates/{mandate_id}/issue", response={200: MandateDetail, **WRITE_ERRORS})
def issue_mandate(request: HttpRequest, mandate_id: int):
    """Issue the mandate: a saved filter is resolved into services now, and each
    service's manager is told and asked to acknowledge it."""
    actions.issue_mandate(actor=actor(request), mandate=_mandate(mandate_id))
    return _mandate_detail(mandate_id)


@router.post("/mandates/{mandate_id}/close", response={200: MandateDetail, **WRITE_ERRORS})
def close_mandate(request: HttpRequest, mandate_id: int, payload: CloseIn | None = None):
    """Close an issued mandate: it takes no more progress."""
    actions.close_mandate(actor=actor(request), mandate=_mandate(mandate_id), note=payload.note if payload else "")
    return _mandate_detail(mandate_id)


@router.post("/mandates/{mandate_id}/remind", response={200: RemindedOut, **WRITE_ERRORS})
def remind_mandate(request: HttpRequest, mandate_id: int):
    """Remind the managers of the services that have not yet done what the mandate asks."""
    told = actions.remind_mandate(actor=actor(request), mandate=_mandate(mandate_id))
    return {"reminded": told, "last_reminded_at": Mandate.objects.get(pk=mandate_id).last_reminded_at}


@router.post("/mandates/{mandate_id}/targets/{service_slug}/acknowledge", response={200: TargetOut, **WRITE_ERRORS})
def acknowledge_mandate(request: HttpRequest, mandate_id: int, service_slug: str, payload: AcknowledgeIn | None = None):
    """The service's manager acknowledges the mandate for their service."""
    target = actions.acknowledge_mandate(actor=actor(request), target=_target(mandate_id, service_slug),
                                         note=payload.note if payload else "")
    return _target_body(target)


@router.post("/mandates/{mandate_id}/targets/{service_slug}/progress", response={200: TargetOut, **WRITE_ERRORS})
def report_mandate_progress(request: HttpRequest, mandate_id: int, service_slug: str, payload: ProgressIn):
    """The service's manager reports progress, and says (``done``) when the service has
    done what the mandate asks."""
    target = actions.report_mandate_progress(actor=actor(request), target=_target(mandate_id, service_slug),
                                             note=payload.note, done=payload.done)
    return _target_body(target)


# ---------------------------------------------------------------- guidance


_GUIDANCE_FIELDS = ("id", "title", "source", "source_detail", "category", "status", "created_by", "created_at",
                    "published_at", "withdrawn_at", "revision", "adopted", "rejected")


def _guidance_with_counts():
    return Guidance.objects.select_related("created_by").annotate(
        adopted=Count("decisions", filter=Q(decisions__decision=GuidanceDecision.Decision.ADOPT)),
        rejected=Count("decisions", filter=Q(decisions__decision=GuidanceDecision.Decision.REJECT)),
    )


def _guidance_detail(guidance_id: int, query: GuidanceDetailQuery | None = None) -> dict[str, Any]:
    """:class:`GuidanceDetail`: the guidance, and a page of the running services with
    their decisions, in a fixed number of queries whatever the size of the network."""
    query = query or GuidanceDetailQuery()
    guidance = _guidance_with_counts().filter(pk=guidance_id).first()
    if guidance is None:
        raise NotFound(f"There is no guidance with id {guidance_id}.", field="guidance_id")
    running = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
    services = running.select_related("manager").order_by("name", "pk")
    if query.decision in ("adopt", "reject"):
        services = services.filter(guidance_decisions__guidance=guidance, guidance_decisions__decision=query.decision)
    elif query.decision == "none":
        services = services.exclude(guidance_decisions__guidance=guidance)
    shown = page(services, query)
    decided = {d.service_id: d for d in GuidanceDecision.objects.filter(
        guidance=guidance, service_id__in=[s.pk for s in shown["items"]]).select_related("decided_by")}
    counts = GuidanceDecision.objects.filter(guidance=guidance, service__in=running).aggregate(
        adopt=Count("pk", filter=Q(decision=GuidanceDecision.Decision.ADOPT)),
        reject=Count("pk", filter=Q(decision=GuidanceDecision.Decision.REJECT)))
    items = []
    for s in shown["items"]:
        d = decided.get(s.pk)
        items.append({"service": s, "manager": s.manager, "decision": d.decision if d else None,
                      "rationale": d.rationale if d else "", "decided_by": d.decided_by if d else None,
                      "decided_at": d.decided_at if d else None})
    return {
        **{name: getattr(guidance, name) for name in _GUIDANCE_FIELDS},
        "body": guidance.body,
        "undecided": running.count() - counts["adopt"] - counts["reject"],
        "decisions": {"items": items, "count": shown["count"], "next_cursor": shown["next_cursor"]},
    }


@router.get("/guidance", response={200: GuidancePage, **READ_ERRORS})
def list_guidance(request: HttpRequest, filters: Query[GuidanceFilters]):
    """All guidance, the latest published first (drafts last), with how many services
    adopted and rejected each piece; filtered by status, category and source."""
    qs = _guidance_with_counts()
    for name in ("status", "category", "source"):
        if getattr(filters, name):
            qs = qs.filter(**{name: getattr(filters, name)})
    return page(qs.order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk"), filters)


@router.post("/guidance", response={201: GuidanceDetail, **WRITE_ERRORS})
def draft_guidance(request: HttpRequest, payload: GuidanceIn):
    """The executive drafts guidance: technology choice, architecture, security policy,
    procurement… from outside (law, good practice) or inside (a CoE's lessons)."""
    guidance = actions.draft_guidance(actor=actor(request), title=payload.title, body=payload.body,
                                      source=str(payload.source), category=str(payload.category),
                                      source_detail=payload.source_detail)
    return Status(201, _guidance_detail(guidance.pk))


@router.get("/guidance/{guidance_id}", response={200: GuidanceDetail, **READ_ERRORS})
def get_guidance(request: HttpRequest, guidance_id: int, query: Query[GuidanceDetailQuery]):
    """A piece of guidance, where it comes from, and every running service's decision on
    it (adopted, rejected with its rationale, or not yet decided), paged."""
    return _guidance_detail(guidance_id, query)


@router.put("/guidance/{guidance_id}", response={200: GuidanceDetail, **WRITE_ERRORS})
def rewrite_guidance(request: HttpRequest, guidance_id: int, payload: GuidanceEditIn):
    """Rewrite guidance while it is a draft; published guidance is withdrawn and
    replaced, never rewritten (409)."""
    actions.draft_guidance(actor=actor(request), guidance=_guidance(guidance_id), title=payload.title,
                           body=payload.body, source=str(payload.source), category=str(payload.category),
                           source_detail=payload.source_detail, expected_revision=payload.expected_revision)
    return _guidance_detail(guidance_id)


@router.post("/guidance/{guidance_id}/publish", response={200: GuidanceDetail, **WRITE_ERRORS})
def publish_guidance(request: HttpRequest, guidance_id: int):
    """Publish the guidance to everyone; every service manager is asked to decide whether
    their services adopt it."""
    actions.publish_guidance(actor=actor(request), guidance=_guidance(guidance_id))
    return _guidance_detail(guidance_id)


@router.post("/guidance/{guidance_id}/withdraw", response={200: GuidanceDetail, **WRITE_ERRORS})
def withdraw_guidance(request: HttpRequest, guidance_id: int, payload: WithdrawGuidanceIn):
    """Withdraw published guidance, saying why."""
    actions.withdraw_guidance(actor=actor(request), guidance=_guidance(guidance_id), reason=payload.reason)
    return _guidance_detail(guidance_id)


@router.put("/guidance/{guidance_id}/decisions/{service_slug}", response={200: DecisionOut, **WRITE_ERRORS})
def decide_guidance(request: HttpRequest, guidance_id: int, service_slug: str, payload: DecideIn):
    """The service's manager records that it adopts the guidance, or rejects it with a
    rationale it accounts for at its next assessment. A later decision replaces it."""
    guidance = _guidance(guidance_id)
    service = _service(service_slug, field="service_slug")
    record = actions.decide_guidance(actor=actor(request), guidance=guidance, service=service,
                                     decision=str(payload.decision), rationale=payload.rationale)
    return {"guidance": guidance.pk, "service": service, "decision": record.decision, "rationale": record.rationale,
            "decided_by": record.decided_by, "decided_at": record.decided_at}


@router.get("/services/{slug}/guidance-rejections", response={200: RejectionPage, **READ_ERRORS})
def list_guidance_rejections(request: HttpRequest, slug: str, query: Query[PageQuery]):
    """The published guidance the service rejected, with its rationale: what it accounts
    for at its next assessment (model 5.6). By title."""
    service = _service(slug)
    rows = queries.rejected_guidance_for(service)
    return page_rows(rows, query, key=lambda r: r["guidance_id"], scope=f"guidance-rejections:{service.pk}")


# ---------------------------------------------------------------- disputes


def _lever(value: str) -> str | None:
    return value or None


def _dispute_row(d: Dispute) -> dict[str, Any]:
    return {"id": d.pk, "kind": d.kind, "status": d.status, "subject": d.subject, "service": d.service,
            "other_service": d.other_service, "raised_by": d.raised_by, "raised_at": d.raised_at,
            "lever": _lever(d.lever), "resolved_at": d.resolved_at}


def _dispute_detail(dispute_id: int) -> dict[str, Any]:
    d = (Dispute.objects.select_related("service", "other_service", "raised_by", "resolved_by", "mandate",
                                        "contract_version__service").filter(pk=dispute_id).first())
    if d is None:
        raise NotFound(f"There is no dispute with id {dispute_id}.", field="dispute_id")
    cv = d.contract_version
    return {
        **_dispute_row(d), "description": d.description, "resolution": d.resolution, "resolved_by": d.resolved_by,
        "mandate": {"id": d.mandate.pk, "title": d.mandate.title} if d.mandate else None,
        "contract_version": {"service": cv.service.slug, "number": cv.number} if cv else None,
        "assessment": d.assessment_id,
    }


@router.get("/disputes", response={200: DisputePage, **READ_ERRORS})
def list_disputes(request: HttpRequest, filters: Query[DisputeFilters]):
    """Every dispute the executive mediates, the newest first; filtered by status and kind."""
    qs = Dispute.objects.select_related("service", "other_service", "raised_by").order_by("-raised_at", "-pk")
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    result = page(qs, filters)
    return {"items": [_dispute_row(d) for d in result["items"]], "count": result["count"], "next_cursor": result["next_cursor"]}


@router.post("/disputes", response={201: DisputeDetail, **WRITE_ERRORS})
def raise_dispute(request: HttpRequest, payload: DisputeIn):
    """A manager raises a dispute between their service and another; or anyone, through
    their community of practice, disputes how they were evaluated (``kind: evaluation``,
    naming no service). The executive and the other service's manager are told."""
    kind = str(payload.kind)
    service = _named_service(payload.service, "service") if payload.service is not None else None
    other = _named_service(payload.other_service, "other_service") if payload.other_service is not None else None
    if kind == Dispute.Kind.SERVICES and service is None:
        raise InvalidInput("Name the service you raise the dispute for, by its slug.", field="service")
    if kind == Dispute.Kind.EVALUATION and (service or other):
        raise InvalidInput("A dispute about an evaluation names no service; leave the services out.",
                           field="service" if service else "other_service")
    dispute = actions.raise_dispute(actor=actor(request), kind=kind, service=service, other_service=other,
                                    subject=payload.subject, description=payload.description)
    return Status(201, _dispute_detail(dispute.pk))


@router.get("/disputes/{dispute_id}", response={200: DisputeDetail, **READ_ERRORS})
def get_dispute(request: HttpRequest, dispute_id: int):
    """A dispute: what it is about, between whom, and how the executive resolved it —
    with the mandate, contract alteration or assessment it used."""
    return _dispute_detail(dispute_id)


@router.post("/disputes/{dispute_id}/resolve", response={200: DisputeDetail, **WRITE_ERRORS})
def resolve_dispute(request: HttpRequest, dispute_id: int, payload: ResolveIn):
    """The executive mediates with the levers it already has: records the resolution and
    the lever used — a mandate, a contract alteration or an assessment, linked — or none."""
    dispute = _dispute(dispute_id)
    mandate = version = assessment = None
    if payload.mandate is not None:
        mandate = Mandate.objects.filter(pk=payload.mandate).first()
        if mandate is None:
            raise InvalidInput(f"There is no mandate with id {payload.mandate}.", field="mandate")
    if payload.contract_version is not None:
        ref = payload.contract_version
        version = ContractVersion.objects.filter(service__slug=ref.service.strip(), number=ref.number).first()
        if version is None:
            raise InvalidInput(f"There is no version {ref.number} of a service “{ref.service}”.",
                               field="contract_version")
    if payload.assessment is not None:
        assessment = Assessment.objects.filter(pk=payload.assessment).first()
        if assessment is None:
            raise InvalidInput(f"There is no assessment with id {payload.assessment}.", field="assessment")
    actions.resolve_dispute(actor=actor(request), dispute=dispute, resolution=payload.resolution,
                            lever=str(payload.lever), mandate=mandate, contract_version=version, assessment=assessment)
    return _dispute_detail(dispute_id)


@router.post("/disputes/{dispute_id}/withdraw", response={200: DisputeDetail, **WRITE_ERRORS})
def withdraw_dispute(request: HttpRequest, dispute_id: int, payload: DisputeWithdrawIn | None = None):
    """Whoever raised the dispute withdraws it."""
    actions.withdraw_dispute(actor=actor(request), dispute=_dispute(dispute_id), note=payload.note if payload else "")
    return _dispute_detail(dispute_id)


# ---------------------------------------------------------------- demand management


_PROPOSAL_FIELDS = ("id", "title", "status", "proposed_by", "proposed_at", "service", "decided_by", "decided_at")


def _proposals():
    return Proposal.objects.select_related("proposed_by", "decided_by", "service")


def _proposal_detail(proposal_id: int) -> dict[str, Any]:
    """:class:`ProposalDetail`; while it is open, with the services that could meet its
    needs (once decided, today's matches would only echo the decision)."""
    proposal = _proposals().select_related("draft_version").filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(f"There is no proposal with id {proposal_id}.", field="proposal_id")
    needs = [{"as_a": n.as_a, "i_need": n.i_need, "so_that": n.so_that} for n in proposal.needs.all()]
    return {
        **{name: getattr(proposal, name) for name in _PROPOSAL_FIELDS},
        "needs_count": len(needs), "context": proposal.context, "decision_note": proposal.decision_note,
        "needs": needs,
        "draft_version": proposal.draft_version.number if proposal.draft_version else None,
        "suggestions": _suggestions(needs) if proposal.status == Proposal.Status.OPEN else [],
    }


@router.get("/proposals", response={200: ProposalPage, **READ_ERRORS})
def list_proposals(request: HttpRequest, filters: Query[ProposalFilters]):
    """Everyone's proposals of needs, the newest first, with what was decided."""
    qs = _proposals().annotate(needs_count=Count("needs")).order_by("-proposed_at", "-pk")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters)


@router.post("/proposals", response={201: ProposalDetail, **WRITE_ERRORS})
def propose_needs(request: HttpRequest, payload: ProposalIn):
    """Anyone proposes needs the network may not meet (model 5.8); the executive is told.
    The answer suggests existing services that could meet them."""
    proposal = actions.propose_needs(actor=actor(request), title=payload.title, context=payload.context,
                                     needs=[n.model_dump() for n in payload.needs])
    return Status(201, _proposal_detail(proposal.pk))


@router.get("/proposals/{proposal_id}", response={200: ProposalDetail, **READ_ERRORS})
def get_proposal(request: HttpRequest, proposal_id: int):
    """A proposal: its needs, what was decided, and while it is open the existing
    services that could meet its needs, each with the words that matched."""
    return _proposal_detail(proposal_id)


@router.post("/proposals/{proposal_id}/fold", response={200: ProposalDetail, **WRITE_ERRORS})
def fold_proposal(request: HttpRequest, proposal_id: int, payload: FoldIn):
    """The needs fit an existing service: a draft of its contract opens with them added,
    for its manager to refine and submit (``draft_version`` in the answer)."""
    proposal = _proposal(proposal_id)
    service = _named_service(payload.service, "service")
    actions.fold_proposal(actor=actor(request), proposal=proposal, service=service, note=payload.note)
    return _proposal_detail(proposal_id)


@router.post("/proposals/{proposal_id}/decline", response={200: ProposalDetail, **WRITE_ERRORS})
def decline_proposal(request: HttpRequest, proposal_id: int, payload: DeclineIn):
    """The executive does not want the organisation to meet these needs, and says why."""
    actions.decline_proposal(actor=actor(request), proposal=_proposal(proposal_id), reason=payload.reason)
    return _proposal_detail(proposal_id)


@router.post("/proposals/{proposal_id}/establish", response={200: ProposalDetail, **WRITE_ERRORS})
def establish_from_proposal(request: HttpRequest, proposal_id: int, payload: EstablishIn):
    """The executive wants the needs met and no service fits: a new service is
    established in discovery with this contract (the shape of ``POST /services``) and,
    optionally, its manager. The answer's ``service`` names it."""
    proposal = _proposal(proposal_id)
    manager = find_person(payload.manager, "manager") if payload.manager else None
    actions.establish_from_proposal(actor=actor(request), proposal=proposal, content=payload.content(), manager=manager)
    return _proposal_detail(proposal_id)


@router.post("/matching/suggestions", response={200: SuggestionPage, **WRITE_ERRORS})
def suggest(request: HttpRequest, payload: MatchIn):
    """Which existing services could meet these needs? Ranked, best first, each with the
    words that matched and its closest need. Writes nothing."""
    needs = [n.model_dump() for n in payload.needs]
    if not any(_need_text(n).strip() for n in needs):
        raise InvalidInput("Give at least one need, with some words to match.", field="needs")
    items = _suggestions(needs, limit=payload.limit)
    return {"items": items, "count": len(items)}


@router.get("/matching/duplicates", response={200: DuplicatePage, **READ_ERRORS})
def list_duplicates(request: HttpRequest, filters: Query[DuplicateFilters]):
    """Needs of different services that look alike: candidates for a shared service
    (model 5.2), the most alike first."""
    pairs = find_duplicate_needs(threshold=filters.threshold, limit=sys.maxsize)
    shown = page_rows(pairs, filters, key=_pair_key, scope="matching-duplicates")
    items = [
        {"score": p.score, "words": shared_words(p.words, p.first["need"], p.second["need"]),
         "first": p.first, "second": p.second}
        for p in shown["items"]
    ]
    return {**shown, "items": items}


def _pair_key(pair) -> str:
    """A pair of needs, named uniquely and shortly enough for a cursor: both needs' ids."""
    return f"{pair.first['need_id']}-{pair.second['need_id']}"


# ---------------------------------------------------------------- deviations


_DEVIATION_FIELDS = ("id", "title", "compromised", "positive", "negative", "governance", "review_on", "status",
                     "recorded_by", "recorded_at", "revision")


def _retirements(ids: list[int]) -> dict[int, AuditEvent]:
    """Why and when each retired deviation was retired: its audit event keeps the reason
    (one query, even when none is retired, so the cost does not vary)."""
    events = (AuditEvent.objects.filter(verb="retire_deviation", object_type="deviation",
                                        object_id__in=[str(i) for i in ids])
              .only("object_id", "reason", "at").order_by("at", "id"))
    return {int(e.object_id): e for e in events}


def _deviations_out(deviations: list[Deviation]) -> list[dict[str, Any]]:
    today = timezone.localdate()
    retired = _retirements([d.pk for d in deviations if d.status == Deviation.Status.RETIRED])
    out = []
    for d in deviations:
        event = retired.get(d.pk)
        out.append({**{name: getattr(d, name) for name in _DEVIATION_FIELDS},
                    "overdue": d.status == Deviation.Status.ACTIVE and d.review_on < today,
                    "retired_reason": event.reason if event else "", "retired_at": event.at if event else None})
    return out


def _deviation_body(deviation_id: int) -> dict[str, Any]:
    return _deviations_out([Deviation.objects.select_related("recorded_by").get(pk=deviation_id)])[0]


@router.get("/deviations", response={200: DeviationPage, **READ_ERRORS})
def list_deviations(request: HttpRequest, filters: Query[DeviationFilters]):
    """The adaptation register (model 10): each compromise of the template, its
    consequences, the governance that balances them and when it is next reviewed; those
    in force first, by review date."""
    qs = Deviation.objects.select_related("recorded_by").order_by("status", "review_on", "pk")
    if filters.status:
        qs = qs.filter(status=filters.status)
    result = page(qs, filters)
    return {"items": _deviations_out(result["items"]), "count": result["count"], "next_cursor": result["next_cursor"]}


@router.post("/deviations", response={201: DeviationOut, **WRITE_ERRORS})
def record_deviation(request: HttpRequest, payload: DeviationIn):
    """The executive accepts a compromise of the template as a deviation."""
    deviation = actions.record_deviation(actor=actor(request), **payload.model_dump())
    return Status(201, _deviation_body(deviation.pk))


@router.put("/deviations/{deviation_id}", response={200: DeviationOut, **WRITE_ERRORS})
def revise_deviation(request: HttpRequest, deviation_id: int, payload: DeviationEditIn):
    """Revise a deviation (409 if it has moved on since ``expected_revision``)."""
    actions.record_deviation(actor=actor(request), deviation=_deviation(deviation_id), **payload.model_dump())
    return _deviation_body(deviation_id)


@router.post("/deviations/{deviation_id}/retire", response={200: DeviationOut, **WRITE_ERRORS})
def retire_deviation(request: HttpRequest, deviation_id: int, payload: RetireIn):
    """Retire a deviation that no longer applies, saying why."""
    actions.retire_deviation(actor=actor(request), deviation=_deviation(deviation_id), reason=payload.reason)
    return _deviation_body(deviation_id)


# ---------------------------------------------------------------- delegation


def _reserved_body(org: Organisation) -> dict[str, Any]:
    reserved = list(org.reserved_acts or [])
    return {
        "acts": [{"act": act, "says": ACTS[act].says, "kept": act in reserved or act in ALWAYS_RESERVED,
                  "always": act in ALWAYS_RESERVED} for act in actions.RESERVABLE],
        "reserved": reserved,
        "revision": org.revision,
    }


@router.get("/organisation/reserved-acts", response={200: ReservedActsOut, **READ_ERRORS})
def get_reserved_acts(request: HttpRequest):
    """Every act the executive's team may do in its name, each in the policy's words and
    whether the executive keeps it to itself."""
    return _reserved_body(current_organisation())


@router.put("/organisation/reserved-acts", response={200: ReservedActsOut, **WRITE_ERRORS})
def set_reserved_acts(request: HttpRequest, payload: ReservedActsIn):
    """The executive chooses the acts it keeps to itself (the executive's own act: its
    team may never make this choice); the others its team may do in its name."""
    return _reserved_body(actions.set_reserved_acts(actor=actor(request), acts=payload.acts))


# ---------------------------------------------------------------- dashboards and notifications


def _due(services: list[Service]) -> list[dict[str, Any]]:
    today = timezone.localdate()
    return [{"service": s, "manager": s.manager, "next_assessment_due": s.next_assessment_due,
             "days": (today - s.next_assessment_due).days} for s in services]


@router.get("/dashboard/executive", response={200: ExecutiveAttentionOut, **READ_ERRORS})
def get_executive_attention(request: HttpRequest, query: Query[AttentionQuery]):
    """What needs the executive's attention now, in the order to act on it: overdue
    assessments, reports to publish, funding requests, open disputes, mandates behind,
    proposals; then assessments due soon and the latest rejections of guidance. Anyone
    may read it."""
    attention = queries.executive_attention(limit=query.limit)
    body = {
        "overdue": _due(attention["overdue"]),
        "assessments_to_report": attention["assessments_to_report"],
        "funding_requests": [
            {"id": r.pk, "service": r.service, "kind": r.kind, "period": r.period, "amount": money_text(r.amount),
             "requested_by": r.requested_by, "requested_at": r.requested_at}
            for r in attention["funding_requests"]],
        "disputes": attention["disputes"],
        "mandates_behind": attention["mandates_behind"],
        "proposals": attention["proposals"],
        "due_soon": _due(attention["due_soon"]),
        "rejections": attention["rejections"],
        "limit": query.limit,
    }
    body["to_act_on"] = sum(len(body[k]) for k in ("overdue", "assessments_to_report", "funding_requests", "disputes",
                                                   "mandates_behind", "proposals"))
    return body


@router.get("/dashboard/me", response={200: ManagerObligationsOut, **READ_ERRORS})
def get_my_obligations(request: HttpRequest):
    """What is asked of the services the caller manages: assessments to come, mandates
    not yet done, published guidance not yet decided on, open disputes they are in."""
    ob = queries.manager_obligations(actor(request))
    body = {
        "services": ob["services"],
        "agendas": ob["agendas"],
        "mandates": [{"mandate": {"id": t.mandate.pk, "title": t.mandate.title}, "due_date": t.mandate.due_date,
                      "service": t.service, "status": t.status, "progress_note": t.progress_note}
                     for t in ob["mandates"]],
        "guidance_to_decide": [{"guidance": g, "service": s} for g, s in ob["guidance_to_decide"]],
        "disputes": ob["disputes"],
    }
    body["to_act_on"] = sum(len(body[k]) for k in ("agendas", "mandates", "guidance_to_decide", "disputes"))
    return body


@router.get("/notifications", response={200: NotificationPage, **READ_ERRORS})
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]):
    """The caller's own notifications: the unread first, then the newest first."""
    mine = Notification.objects.filter(person=actor(request))
    qs = mine.order_by(Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()),
                       "-created_at", "-pk")
    if filters.unread is not None:
        qs = qs.filter(read_at__isnull=filters.unread)
    result = page(qs, filters)
    items = [{"id": n.pk, "text": n.text, "link": n.link, "url": request.build_absolute_uri(n.link) if n.link else "",
              "created_at": n.created_at, "read_at": n.read_at, "read": n.read_at is not None}
             for n in result["items"]]
    return {"items": items, "count": result["count"], "next_cursor": result["next_cursor"], "unread": mine.filter(read_at__isnull=True).count()}


@router.post("/notifications/read", response={200: ReadOut, **WRITE_ERRORS})
def read_notifications(request: HttpRequest, payload: ReadIn | None = None):
    """Mark the caller's notifications as read: those listed by id, or all of them."""
    me = actor(request)
    marked = actions.read_notifications(actor=me, person=me, ids=payload.ids if payload else None)
    return {"marked": marked, "unread": Notification.objects.filter(person=me, read_at__isnull=True).count()}
