"""API routes for the learning loop: the doctrine's forty patterns and the
self-assessments against them with their grid, change and heat map; Corrections of Error
with their corrective actions, the executive's reviews and the guidance drawn from them;
the learning figures; communities of practice, their guidance, the disputes they
escalate, their coverage of the professions, and open roles (model 7, 8, 9, 11).

Reads use ``queries`` (or a query here with its joins, never one per row); every write is
one call to an action, which checks the caller's right, the rules and writes the audit
event. Everyone signed in reads everything, except a draft Correction of Error: only the
people who may write it (its service's manager and team) read it until it is published."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from osom.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, page
from osom.core.api import actor, find_person
from osom.core.errors import InvalidInput, NotAllowed, NotFound
from osom.core.numbers import as_id
from osom.core.policy import refusal
from osom.governance import actions as governance_actions
from osom.governance.models import Guidance
from osom.network.models import ProfessionalRole, Service
from osom.network.stages import Lifecycle

from . import actions, communities, queries
from .api_schemas import (
    ActionUpdateIn,
    ActionVerifyIn,
    CloseOpenRoleIn,
    CoEDetail,
    CoEEditIn,
    CoEFilters,
    CoEGuidanceIn,
    CoEGuidanceOut,
    CoEIn,
    CoEPage,
    CoEReviewDetail,
    CoEReviewFilters,
    CoEReviewIn,
    CoEReviewPage,
    CommunityDetail,
    CommunityEditIn,
    CommunityFilters,
    CommunityGuidanceIn,
    CommunityGuidanceOut,
    CommunityIn,
    CommunityPage,
    CorrectiveActionIn,
    CorrectiveActionOut,
    CoverageOut,
    EndorseIn,
    EscalatedDispute,
    EscalateIn,
    FiguresQuery,
    HeatMapOut,
    HeatMapQuery,
    HoldReviewIn,
    LearningFiguresOut,
    MeaningIn,
    OpenRoleFilters,
    OpenRoleIn,
    OpenRoleOut,
    OpenRolePage,
    PatternFilters,
    PatternOut,
    PatternPage,
    PublishCoEIn,
    RatedOut,
    RatingsIn,
    RoundDetail,
    RoundFilters,
    RoundIn,
    RoundPage,
    WithdrawCommunityGuidanceIn,
    WithdrawEndorsementIn,
)
from .doctrine import GROUPS, PHASES
from .models import (
    CoEReview,
    Community,
    CommunityGuidance,
    CommunityMembership,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRound,
    OpenRole,
    Rating,
)

__all__ = ["router"]

router = Router(tags=["learning"])

_OPEN = CorrectiveAction.Status.OPEN


# ---------------------------------------------------------------- finding what a request names


def _found(qs, pk: int, what: str, field: str):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"There is no {what} with id {pk}.", field=field)
    return obj


def _service(slug: str, field: str = "slug") -> Service:
    """The service a path names, or a 404."""
    service = Service.objects.select_related("manager").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field=field)
    return service


def _named_service(slug: str | None, field: str) -> Service:
    """The service a request's body names by slug, or a 400 naming ``field``."""
    slug = (slug or "").strip()
    service = Service.objects.select_related("manager").filter(slug=slug).first() if slug else None
    if service is None:
        raise InvalidInput(f"There is no service “{slug}”; GET /services lists them." if slug
                           else "Name a service by its slug.", field=field)
    return service


def _filter_service(slug: str, field: str = "service") -> Service | None:
    """The service a list's filter names, or None when it names none; a 404 if unknown."""
    slug = (slug or "").strip()
    return _service(slug, field=field) if slug else None


def _pattern(slug: str) -> DoctrinePattern:
    pattern = DoctrinePattern.objects.filter(slug=slug).first()
    if pattern is None:
        raise NotFound(f"There is no doctrine pattern “{slug}”; GET /doctrine/patterns lists them.", field="slug")
    return pattern


def _round(round_id: int) -> DoctrineRound:
    return _found(DoctrineRound.objects.select_related("service"), round_id, "doctrine self-assessment", "round_id")


def _coe(coe_id: int) -> CorrectionOfError:
    return _found(CorrectionOfError.objects.select_related("service"), coe_id, "Correction of Error", "coe_id")


def _action(action_id: int) -> CorrectiveAction:
    return _found(CorrectiveAction.objects.select_related("coe__service", "owner"), action_id, "corrective action",
                  "action_id")


def _review(review_id: int) -> CoEReview:
    return _found(CoEReview.objects.all(), review_id, "review of Corrections of Error", "review_id")


def _community(community_id: int) -> Community:
    return _found(Community.objects.all(), community_id, "community of practice", "community_id")


def _opening(opening_id: int) -> OpenRole:
    return _found(OpenRole.objects.select_related("service", "role"), opening_id, "open role", "opening_id")


def _professional_role(ref: str) -> ProfessionalRole:
    """A role of the framework, by id or name, or a 400 naming ``role``."""
    ref = (ref or "").strip()
    query = Q(pk=as_id(ref)) if as_id(ref) else Q(name__iexact=ref)
    role = ProfessionalRole.objects.filter(query).order_by("pk").first() if ref else None
    if role is None:
        raise InvalidInput(f"“{ref}” is not a role of the professional framework; GET /roles lists them." if ref
                           else "Choose the role from the professional framework.", field="role")
    return role


def _tally(colours) -> dict[str, int]:
    counts = {value: 0 for value in Rating.values}
    for colour in colours:
        counts[colour] += 1
    return counts


# ---------------------------------------------------------------- the doctrine


def _pattern_out(p: DoctrinePattern) -> dict[str, Any]:
    return {"slug": p.slug, "name": p.name, "group": p.group, "phase": p.phase, "phase_name": PHASES[p.phase],
            "meaning": p.meaning, "position": p.position, "revision": p.revision}


@router.get("/doctrine/patterns", response={200: PatternPage, **READ_ERRORS})
def list_patterns(request: HttpRequest, filters: Query[PatternFilters]):
    """The forty patterns of the doctrine in the table's order, each with its group, its
    phase and its meaning in the organisation's words (filters: ``group``, ``phase``)."""
    qs = DoctrinePattern.objects.order_by("position", "pk")
    if filters.group:
        qs = qs.filter(group=filters.group)
    if filters.phase:
        qs = qs.filter(phase=filters.phase)
    result = page(qs, filters)
    return {"items": [_pattern_out(p) for p in result["items"]], "count": result["count"], "next_cursor": result["next_cursor"]}


@router.patch("/doctrine/patterns/{slug}", response={200: PatternOut, **WRITE_ERRORS})
def edit_pattern_meaning(request: HttpRequest, slug: str, payload: MeaningIn):
    """The executive puts a pattern's meaning in the organisation's own words; its name
    and its place in the table stay the table's (409 if it moved on since ``expected_revision``)."""
    pattern = actions.edit_doctrine_meaning(actor=actor(request), pattern=_pattern(slug), meaning=payload.meaning,
                                            expected_revision=payload.expected_revision)
    return _pattern_out(pattern)


def _rounds():
    return DoctrineRound.objects.select_related("service", "opened_by").annotate(
        respondent_count=Count("ratings__respondent", distinct=True), rating_count=Count("ratings"))


def _round_row(r: DoctrineRound) -> dict[str, Any]:
    return {"id": r.pk, "title": r.title, "service": r.service, "status": r.status, "opened_by": r.opened_by,
            "opened_at": r.opened_at, "closed_at": r.closed_at, "respondents": r.respondent_count,
            "ratings": r.rating_count}


def _round_detail(round_id: int) -> dict[str, Any]:
    """:class:`RoundDetail` in a fixed number of queries, whatever the number of ratings."""
    rnd = _found(_rounds(), round_id, "doctrine self-assessment", "round_id")
    patterns = list(DoctrinePattern.objects.order_by("position", "pk"))
    found = queries.round_cells(rnd)
    cells = {}
    for p in patterns:
        cell = found.get(p.pk)
        cells[p.slug] = ({"colour": cell["colour"], "counts": cell["counts"], "respondents": cell["respondents"],
                          "evidence": cell["evidence"]} if cell else
                         {"colour": Rating.UNKNOWN, "counts": _tally([]), "respondents": 0, "evidence": []})
    layout = [{"group": group, "phases": [
        {"phase": n, "name": name, "patterns": [p.slug for p in patterns if p.group == group and p.phase == n]}
        for n, name in PHASES.items()]} for group in GROUPS]
    before = queries.previous_round(rnd)
    return {
        **_round_row(rnd),
        "cells": cells,
        "layout": layout,
        "colours": _tally(c["colour"] for c in cells.values()),
        "previous": before.pk if before else None,
        "change": queries.round_change(rnd, before) if before else [],
        "work_on_next": queries.work_on_next(rnd),
    }


@router.get("/doctrine/rounds", response={200: RoundPage, **READ_ERRORS})
def list_rounds(request: HttpRequest, filters: Query[RoundFilters]):
    """Every doctrine self-assessment, the newest first, with how many people rated it
    (filters: ``service``, ``organisation``, ``status``)."""
    qs = _rounds().order_by("-opened_at", "-pk")
    service = _filter_service(filters.service)
    if service is not None:
        qs = qs.filter(service=service)
    if filters.organisation is not None:
        qs = qs.filter(service__isnull=filters.organisation)
    if filters.status:
        qs = qs.filter(status=filters.status)
    result = page(qs, filters)
    return {"items": [_round_row(r) for r in result["items"]], "count": result["count"], "next_cursor": result["next_cursor"]}


@router.post("/doctrine/rounds", response={201: RoundDetail, **WRITE_ERRORS})
def open_round(request: HttpRequest, payload: RoundIn):
    """Open a self-assessment against the doctrine: of a service (its manager or the
    executive), or of the whole organisation with ``service`` null (the executive). Its
    people, or everyone, are asked to rate the forty patterns."""
    service = _named_service(payload.service, "service") if payload.service is not None else None
    rnd = actions.open_doctrine_round(actor=actor(request), service=service, title=payload.title)
    return Status(201, _round_detail(rnd.pk))


@router.get("/doctrine/rounds/{round_id}", response={200: RoundDetail, **READ_ERRORS})
def get_round(request: HttpRequest, round_id: int):
    """A self-assessment: each pattern's colour with the ratings and evidence behind it,
    the grid's layout (groups × phases), the change since the round before and what to
    work on next."""
    return _round_detail(round_id)


@router.post("/doctrine/rounds/{round_id}/ratings", response={200: RatedOut, **WRITE_ERRORS})
def rate_round(request: HttpRequest, round_id: int, payload: RatingsIn):
    """The caller rates patterns: good, partly, weak or unknown, with optional evidence.
    Rating a pattern again replaces the caller's earlier rating of it. A service's round
    is rated by its manager and team; the organisation's by anyone."""
    written = actions.rate_doctrine(actor=actor(request), round=_round(round_id),
                                    ratings=[r.model_dump() for r in payload.ratings])
    return {**_round_detail(round_id), "written": written}


@router.post("/doctrine/rounds/{round_id}/close", response={200: RoundDetail, **WRITE_ERRORS})
def close_round(request: HttpRequest, round_id: int):
    """Close a self-assessment that has ratings: it takes no more."""
    actions.close_doctrine_round(actor=actor(request), round=_round(round_id))
    return _round_detail(round_id)


@router.get("/doctrine/heat-map", response={200: HeatMapOut, **READ_ERRORS})
def get_heat_map(request: HttpRequest, query: Query[HeatMapQuery]):
    """Running services × the forty patterns, each service coloured by its latest
    finished self-assessment (or, before any is closed, its latest with ratings): where the network is strong and weak at a glance.
    The services are paged, by name (filter: ``stage``)."""
    qs = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED).order_by("name", "pk")
    if query.stage:
        qs = qs.filter(lifecycle_stage=query.stage)
    result = page(qs, query)
    data = queries.heat_map(result["items"])
    items = [{"service": row["service"], "round": row["round_id"], "cells": row["cells"], "colours": _tally(row["cells"])}
             for row in data["rows"]]
    return {"patterns": data["patterns"], "items": items, "count": result["count"], "next_cursor": result["next_cursor"]}


# ---------------------------------------------------------------- Corrections of Error


def _with_action_counts(qs):
    """CoEs with their actions counted in the database (distinct: a search joins the
    patterns too)."""
    open_ = Q(actions__status=_OPEN)
    return qs.select_related("service", "author").annotate(
        action_count=Count("actions", distinct=True),
        open_actions=Count("actions", filter=open_, distinct=True),
        overdue_actions=Count("actions", filter=open_ & Q(actions__due_date__lt=timezone.localdate()), distinct=True),
    )


def _action_out(a: CorrectiveAction, today) -> dict[str, Any]:
    """:class:`CorrectiveActionOut` from an action whose owner and verifier are loaded."""
    return {"id": a.pk, "coe": a.coe_id, "description": a.description, "owner": a.owner.email,
            "owner_name": a.owner.name, "due_date": a.due_date, "status": a.status, "overdue": a.is_overdue(today),
            "created_at": a.created_at, "done_at": a.done_at, "verified_at": a.verified_at,
            "verified_by": a.verified_by, "dropped_reason": a.dropped_reason, "note": a.note}


def _readable(request: HttpRequest, coe: CorrectionOfError) -> None:
    """A draft is read only by those who may write it: its service's manager and team."""
    if coe.is_draft:
        refused = refusal(actor(request), "write_coe", service=coe.service)
        if refused:
            raise NotAllowed(f"This Correction of Error is still a draft. {refused}")


def _coe_detail(request: HttpRequest, coe_id: int) -> dict[str, Any]:
    """:class:`CoEDetail` in a fixed number of queries, whatever the number of its parts."""
    coe = _found(_with_action_counts(CorrectionOfError.objects.select_related("published_by", "review")),
                 coe_id, "Correction of Error", "coe_id")
    _readable(request, coe)
    today = timezone.localdate()
    return {
        **{name: getattr(coe, name) for name in (
            "id", "title", "service", "status", "occurred_on", "users_affected", "author", "published_at", "reviewed_at",
            "action_count", "open_actions", "overdue_actions", *actions.COE_TEXT_FIELDS, "created_at", "published_by",
            "review", "review_note", "revision")},
        "timeline": [{"at": e.at, "description": e.description} for e in coe.timeline.all()],
        "why_chains": [{"question": c.question, "whys": list(c.whys)} for c in coe.why_chains.all()],
        "pattern_effects": [{"pattern": e.pattern.slug, "name": e.pattern.name, "effect": e.effect, "note": e.note}
                            for e in coe.pattern_effects.select_related("pattern")],
        "actions": [_action_out(a, today) for a in coe.actions.select_related("owner", "verified_by")],
        "guidance": list(Guidance.objects.filter(coe=coe).order_by("created_at", "pk")),
    }


def _action_body(action_id: int) -> dict[str, Any]:
    action = CorrectiveAction.objects.select_related("owner", "verified_by").get(pk=action_id)
    return _action_out(action, timezone.localdate())


@router.get("/coes", response={200: CoEPage, **READ_ERRORS})
def list_coes(request: HttpRequest, filters: Query[CoEFilters]):
    """The library of Corrections of Error, the most recent problem first: every
    published and reviewed one, and the drafts of the caller's own services; searchable
    by words (``q``), ``service``, doctrine ``pattern`` (and its ``effect``) and ``status``.
    Each says how many of its actions are open and overdue."""
    service = _filter_service(filters.service)
    qs = queries.coe_library(q=filters.q, service=service.slug if service else "", pattern=filters.pattern.strip(),
                             effect=filters.effect or "", status=filters.status or "", viewer=actor(request))
    return page(_with_action_counts(qs), filters)


@router.post("/coes", response={201: CoEDetail, **WRITE_ERRORS})
def write_coe(request: HttpRequest, payload: CoEIn):
    """Start a draft Correction of Error for a service (its manager or team): a title and
    the date are enough to start; everything else may be filled in until it is published."""
    service = _named_service(payload.service, "service")
    content = payload.model_dump(exclude={"service"})
    coe = actions.write_coe(actor=actor(request), service=service, content=content)
    return Status(201, _coe_detail(request, coe.pk))


@router.get("/coes/{coe_id}", response={200: CoEDetail, 403: ErrorOut, **READ_ERRORS})
def get_coe(request: HttpRequest, coe_id: int):
    """A Correction of Error in full: its account, timeline, “5 whys”, the patterns that
    helped or hurt, its corrective actions with their status (``overdue`` flagged), the
    review it went through and the guidance drawn from it. A draft is read only by its
    service's manager and team (403 for others)."""
    return _coe_detail(request, coe_id)


@router.put("/coes/{coe_id}", response={200: CoEDetail, **WRITE_ERRORS})
def rewrite_coe(request: HttpRequest, coe_id: int, payload: CoEEditIn):
    """Rewrite a draft (with ``expected_revision``): what the body leaves out stays as it
    was. A published CoE is fixed (409): add corrective actions to it instead."""
    content = payload.model_dump(exclude_unset=True, exclude={"expected_revision"})
    coe = _coe(coe_id)
    actions.write_coe(actor=actor(request), service=coe.service, coe=coe, content=content,
                      expected_revision=payload.expected_revision)
    return _coe_detail(request, coe_id)


@router.delete("/coes/{coe_id}", response={204: None, **WRITE_ERRORS})
def discard_coe(request: HttpRequest, coe_id: int):
    """Discard a draft; a published CoE is part of what the organisation learned and is
    never discarded (409)."""
    actions.discard_coe(actor=actor(request), coe=_coe(coe_id))
    return Status(204, None)


@router.post("/coes/{coe_id}/publish", response={200: CoEDetail, **WRITE_ERRORS})
def publish_coe(request: HttpRequest, coe_id: int, payload: PublishCoEIn | None = None):
    """The service's manager publishes the CoE to the whole organisation: its account is
    fixed from now, and it waits on the agenda of the executive's next review. It needs
    the problem, impact, root cause, lessons and at least one corrective action."""
    actions.publish_coe(actor=actor(request), coe=_coe(coe_id),
                        expected_revision=payload.expected_revision if payload else None)
    return _coe_detail(request, coe_id)


@router.post("/coes/{coe_id}/actions", response={201: CorrectiveActionOut, **WRITE_ERRORS})
def add_corrective_action(request: HttpRequest, coe_id: int, payload: CorrectiveActionIn):
    """Add a corrective action, to a draft or a published CoE: what, who owns it (by
    email) and by when. Its owner is told."""
    action = actions.add_corrective_action(actor=actor(request), coe=_coe(coe_id), description=payload.description,
                                           owner=payload.owner, due_date=payload.due_date)
    return Status(201, _action_body(action.pk))


@router.post("/corrective-actions/{action_id}/update", response={200: CorrectiveActionOut, **WRITE_ERRORS})
def update_corrective_action(request: HttpRequest, action_id: int, payload: ActionUpdateIn):
    """Its owner, the service's team or its manager marks an action done, drops it (with
    a ``note`` saying why), reopens it, or moves its ``due_date``."""
    action = actions.update_corrective_action(actor=actor(request), action=_action(action_id), status=payload.status,
                                              note=payload.note, due_date=payload.due_date)
    return _action_body(action.pk)


@router.post("/corrective-actions/{action_id}/verify", response={200: CorrectiveActionOut, **WRITE_ERRORS})
def verify_corrective_action(request: HttpRequest, action_id: int, payload: ActionVerifyIn | None = None):
    """The service's manager or the executive confirms that a done action had its effect."""
    action = actions.verify_corrective_action(actor=actor(request), action=_action(action_id),
                                              note=payload.note if payload else "")
    return _action_body(action.pk)


@router.post("/coes/{coe_id}/guidance", response={201: CoEGuidanceOut, **WRITE_ERRORS})
def draft_guidance_from_coe(request: HttpRequest, coe_id: int, payload: CoEGuidanceIn):
    """The executive starts a draft of guidance from a published CoE, linked back to it:
    by default titled after it, with its lessons and the trade-offs to avoid as the body.
    Rewrite and publish it with ``PUT /guidance/{id}`` and ``POST /guidance/{id}/publish``."""
    coe = _coe(coe_id)
    title, body = queries.guidance_seed(coe)
    guidance = governance_actions.draft_guidance(
        actor=actor(request), title=payload.title.strip() or title, body=payload.body.strip() or body,
        source=Guidance.Source.COE, category=str(payload.category), coe=coe)
    guidance = Guidance.objects.select_related("created_by").get(pk=guidance.pk)
    return Status(201, {**{name: getattr(guidance, name) for name in (
        "id", "title", "body", "source", "source_detail", "category", "status", "created_by", "created_at",
        "revision")}, "coe": guidance.coe_id})


# ---------------------------------------------------------------- reviews


def _reviews():
    return CoEReview.objects.select_related("scheduled_by", "held_by").annotate(reviewed_count=Count("reviewed"))


@router.get("/coe-reviews", response={200: CoEReviewPage, **READ_ERRORS})
def list_reviews(request: HttpRequest, filters: Query[CoEReviewFilters]):
    """The executive's reviews of Corrections of Error, the latest date first, with how
    many CoEs each reviewed (filter: ``status``)."""
    qs = _reviews().order_by("-scheduled_for", "-pk")
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters)


def _review_detail(review_id: int) -> dict[str, Any]:
    review = _found(_reviews(), review_id, "review of Corrections of Error", "review_id")
    held = review.status == CoEReview.Status.HELD
    body = {name: getattr(review, name) for name in (
        "id", "title", "scheduled_for", "status", "scheduled_by", "scheduled_at", "held_at", "held_by", "reviewed_count",
        "notes")}
    body["agenda"] = [] if held else list(_with_action_counts(actions.review_agenda()))
    body["reviewed"] = (list(_with_action_counts(CorrectionOfError.objects.filter(review=review))
                             .order_by("published_at", "pk")) if held else [])
    return body


@router.post("/coe-reviews", response={201: CoEReviewDetail, **WRITE_ERRORS})
def schedule_review(request: HttpRequest, payload: CoEReviewIn):
    """The executive schedules a review; every service manager is invited. Until it is
    held, its agenda is every published CoE not yet reviewed."""
    review = actions.schedule_coe_review(actor=actor(request), scheduled_for=payload.scheduled_for, title=payload.title)
    return Status(201, _review_detail(review.pk))


@router.get("/coe-reviews/{review_id}", response={200: CoEReviewDetail, **READ_ERRORS})
def get_review(request: HttpRequest, review_id: int):
    """A review: while scheduled, its ``agenda`` (every published CoE not yet reviewed,
    the oldest first); once held, its notes and the CoEs it ``reviewed``, each with its note."""
    return _review_detail(review_id)


@router.post("/coe-reviews/{review_id}/hold", response={200: CoEReviewDetail, **WRITE_ERRORS})
def hold_review(request: HttpRequest, review_id: int, payload: HoldReviewIn):
    """The executive records that the review was held: its ``notes``, a note on each CoE
    discussed (``coe_notes``, keyed by id), and the CoEs gone through (``reviewed``, ids;
    by default the whole agenda), which are marked reviewed."""
    actions.hold_coe_review(actor=actor(request), review=_review(review_id), notes=payload.notes,
                            coe_notes=payload.coe_notes, reviewed=payload.reviewed)
    return _review_detail(review_id)


@router.get("/learning/figures", response={200: LearningFiguresOut, **READ_ERRORS})
def get_learning_figures(request: HttpRequest, query: Query[FiguresQuery]):
    """How well the organisation learns (model 11): the median days to close a
    corrective action, the share closed on time, the open actions past due (listed),
    published CoEs awaiting review, and the problems that repeat (a service's CoEs with
    similar root causes). For one ``service`` when given."""
    service = _filter_service(query.service)
    figures = queries.learning_figures(service=service)
    services = {s.pk: s for s in Service.objects.filter(pk__in={g["service"].pk for g in figures["repeated"]})}
    repeated = [{"service": services[g["service"].pk], "coes": g["coes"], "shared_words": g["shared_words"]}
                for g in figures["repeated"]]
    today = timezone.localdate()
    overdue = queries.overdue_actions(services=[service] if service else None)
    return {
        **{k: v for k, v in figures.items() if k != "repeated"},
        "repeated": repeated,
        "overdue_actions": [{"id": a.pk, "coe": a.coe, "service": a.coe.service, "description": a.description,
                             "owner": a.owner, "due_date": a.due_date, "days_overdue": (today - a.due_date).days}
                            for a in overdue],
    }


# ---------------------------------------------------------------- communities of practice


def _communities():
    current = Q(memberships__left_at__isnull=True, memberships__person__is_active=True)
    return Community.objects.select_related("lead", "formed_by", "endorsed_by").annotate(
        members=Count("memberships", filter=current))


def _community_detail(community_id: int) -> dict[str, Any]:
    """:class:`CommunityDetail` in a fixed number of queries."""
    community = _found(_communities(), community_id, "community of practice", "community_id")
    members = (CommunityMembership.objects.filter(community=community, left_at__isnull=True, person__is_active=True)
               .select_related("person").order_by("person__name", "pk"))
    roles = (OpenRole.objects.filter(status=OpenRole.Status.OPEN, role__job_family=community.profession)
             .select_related("service", "role", "posted_by").order_by("-posted_at", "-pk"))
    body = {name: getattr(community, name) for name in (
        "id", "name", "profession", "purpose", "status", "lead", "formed_by", "formed_at", "endorsed_on", "endorsed_by",
        "members", "revision")}
    body["member_list"] = [{"person": m.person, "joined_at": m.joined_at} for m in members]
    body["guidance"] = [_community_guidance_out(g) for g in community.guidance.select_related("published_by")]
    body["open_roles"] = list(roles)
    return body


def _community_guidance_out(g: CommunityGuidance) -> dict[str, Any]:
    return {"id": g.pk, "community": g.community_id, "kind": g.kind, "title": g.title, "body": g.body,
            "published_by": g.published_by, "published_at": g.published_at, "withdrawn_at": g.withdrawn_at}


@router.get("/communities", response={200: CommunityPage, **READ_ERRORS})
def list_communities(request: HttpRequest, filters: Query[CommunityFilters]):
    """Every community of practice by name, with its lead and how many members it has
    (filters: ``profession``, ``status``)."""
    qs = _communities().order_by("name", "pk")
    if filters.profession.strip():
        qs = qs.filter(profession=filters.profession.strip())
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters)


@router.post("/communities", response={201: CommunityDetail, **WRITE_ERRORS})
def form_community(request: HttpRequest, payload: CommunityIn):
    """Anyone forms a community of practice around a profession (a job family of the
    framework); they lead it and are its first member."""
    community = communities.form_community(actor=actor(request), name=payload.name, profession=payload.profession,
                                           purpose=payload.purpose)
    return Status(201, _community_detail(community.pk))


@router.get("/communities/coverage", response={200: CoverageOut, **READ_ERRORS})
def get_coverage(request: HttpRequest):
    """Each profession present in service teams, with its practitioners and services,
    against the communities gathering it: the professions without a community first,
    then those with only forming ones, then the endorsed."""
    rows = queries.coverage()
    return {"items": rows, "count": len(rows), "endorsed": sum(1 for r in rows if r["state"] == "endorsed")}


@router.get("/communities/{community_id}", response={200: CommunityDetail, **READ_ERRORS})
def get_community(request: HttpRequest, community_id: int):
    """A community: its lead and members, its guidance on practice and on evaluating
    practitioners, and the open roles in service teams of its profession."""
    return _community_detail(community_id)


@router.patch("/communities/{community_id}", response={200: CommunityDetail, **WRITE_ERRORS})
def edit_community(request: HttpRequest, community_id: int, payload: CommunityEditIn):
    """The lead changes the community's name or purpose, or hands the ``lead`` to
    another member (by id or email); what is left out stays (409 if it moved on since
    ``expected_revision``)."""
    community = _community(community_id)
    lead = find_person(payload.lead, "lead") if payload.lead is not None else None
    communities.edit_community(actor=actor(request), community=community,
                               name=community.name if payload.name is None else payload.name,
                               purpose=community.purpose if payload.purpose is None else payload.purpose,
                               lead=lead, expected_revision=payload.expected_revision)
    return _community_detail(community_id)


@router.post("/communities/{community_id}/join", response={200: CommunityDetail, **WRITE_ERRORS})
def join_community(request: HttpRequest, community_id: int):
    """The caller joins the community."""
    communities.join_community(actor=actor(request), community=_community(community_id))
    return _community_detail(community_id)


@router.post("/communities/{community_id}/leave", response={200: CommunityDetail, **WRITE_ERRORS})
def leave_community(request: HttpRequest, community_id: int):
    """The caller leaves the community; its lead hands the lead on first (409)."""
    communities.leave_community(actor=actor(request), community=_community(community_id))
    return _community_detail(community_id)


@router.post("/communities/{community_id}/endorse", response={200: CommunityDetail, **WRITE_ERRORS})
def endorse_community(request: HttpRequest, community_id: int, payload: EndorseIn | None = None):
    """The executive endorses the community, from today or the day given (``on``); it
    must first have published guidance on evaluating its practitioners (409)."""
    communities.endorse_community(actor=actor(request), community=_community(community_id),
                                  on=payload.on if payload else None)
    return _community_detail(community_id)


@router.post("/communities/{community_id}/withdraw-endorsement", response={200: CommunityDetail, **WRITE_ERRORS})
def withdraw_endorsement(request: HttpRequest, community_id: int, payload: WithdrawEndorsementIn):
    """The executive withdraws its endorsement, saying why; the lead is told."""
    communities.withdraw_endorsement(actor=actor(request), community=_community(community_id), reason=payload.reason)
    return _community_detail(community_id)


@router.post("/communities/{community_id}/guidance", response={201: CommunityGuidanceOut, **WRITE_ERRORS})
def publish_community_guidance(request: HttpRequest, community_id: int, payload: CommunityGuidanceIn):
    """The lead publishes guidance for the profession: on practice, or on how managers
    should evaluate its practitioners (``kind: evaluation``). The members are told."""
    item = communities.publish_community_guidance(actor=actor(request), community=_community(community_id),
                                                  kind=str(payload.kind), title=payload.title, body=payload.body)
    return Status(201, _community_guidance_out(CommunityGuidance.objects.select_related("published_by").get(pk=item.pk)))


@router.post("/community-guidance/{guidance_id}/withdraw", response={200: CommunityGuidanceOut, **WRITE_ERRORS})
def withdraw_community_guidance(request: HttpRequest, guidance_id: int,
                                payload: WithdrawCommunityGuidanceIn | None = None):
    """The community's lead withdraws its guidance, with an optional ``reason``."""
    guidance = _found(CommunityGuidance.objects.select_related("community"), guidance_id, "community guidance",
                      "guidance_id")
    communities.withdraw_community_guidance(actor=actor(request), guidance=guidance,
                                            reason=payload.reason if payload else "")
    return _community_guidance_out(CommunityGuidance.objects.select_related("published_by").get(pk=guidance_id))


@router.post("/communities/{community_id}/escalate", response={201: EscalatedDispute, **WRITE_ERRORS})
def escalate_dispute(request: HttpRequest, community_id: int, payload: EscalateIn):
    """The lead escalates an evaluation dispute the community could not settle to the
    executive, who mediates it; the answer is the dispute (see ``/disputes/{id}``)."""
    community = _community(community_id)
    d = communities.escalate_evaluation_dispute(actor=actor(request), community=community, subject=payload.subject,
                                                description=payload.description)
    return Status(201, {
        "id": d.pk, "kind": d.kind, "status": d.status, "subject": d.subject, "service": None, "other_service": None,
        "raised_by": d.raised_by, "raised_at": d.raised_at, "lever": d.lever or None, "resolved_at": d.resolved_at,
        "description": d.description, "resolution": d.resolution, "resolved_by": d.resolved_by, "mandate": None,
        "contract_version": None, "assessment": None, "community": community,
    })


# ---------------------------------------------------------------- open roles


@router.get("/open-roles", response={200: OpenRolePage, **READ_ERRORS})
def list_open_roles(request: HttpRequest, filters: Query[OpenRoleFilters]):
    """Places in service teams their managers want filled, the newest first; shown to
    the practitioners of the matching profession (filters: ``profession``, ``service``,
    ``status``)."""
    qs = OpenRole.objects.select_related("service", "role", "posted_by").order_by("-posted_at", "-pk")
    if filters.profession.strip():
        qs = qs.filter(role__job_family=filters.profession.strip())
    service = _filter_service(filters.service)
    if service is not None:
        qs = qs.filter(service=service)
    if filters.status:
        qs = qs.filter(status=filters.status)
    return page(qs, filters)


def _opening_body(opening_id: int) -> OpenRole:
    return OpenRole.objects.select_related("service", "role", "posted_by").get(pk=opening_id)


@router.post("/services/{slug}/open-roles", response={201: OpenRoleOut, **WRITE_ERRORS})
def post_open_role(request: HttpRequest, slug: str, payload: OpenRoleIn):
    """The service's manager posts a place in its team: a role of the framework (by id
    or name), its level and a description. The members of communities of that
    profession are told."""
    service = _service(slug)
    opening = communities.post_open_role(actor=actor(request), service=service, role=_professional_role(payload.role),
                                         level=str(payload.level), description=payload.description)
    return Status(201, _opening_body(opening.pk))


@router.post("/open-roles/{opening_id}/close", response={200: OpenRoleOut, **WRITE_ERRORS})
def close_open_role(request: HttpRequest, opening_id: int, payload: CloseOpenRoleIn):
    """The service's manager closes an open role: ``filled``, or withdrawn."""
    communities.close_open_role(actor=actor(request), opening=_opening(opening_id), filled=payload.filled)
    return _opening_body(opening_id)

