"""One of everything the web app and the API can name, made through the actions by the
cast, so every route of both resolves to a real object."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.utils import timezone

from osom.core.actions import issue_api_token
from osom.core.models import ApiToken
from osom.fitness import actions as fitness
from osom.governance import actions as governance
from osom.learning import actions as learning
from osom.learning import communities
from osom.learning.models import DoctrinePattern
from osom.lifecycle import actions as lifecycle
from osom.interop.models import WebhookDelivery
from osom.interop.webhook_actions import add_webhook
from osom.lifecycle.models import Criterion
from osom.maps.actions import save_service_map
from osom.network import actions as network
from osom.network.models import ProfessionalRole, TeamMembership

from .. import factories


@dataclass
class World:
    """What the routes take as arguments; each attribute is a model object."""

    cast: object
    draft: object  # a contract draft of Parking permits (version 2)
    retired: object  # a service decommissioned by its discovery report
    membership: object
    criterion: object
    assessment: object  # scheduled, agenda not yet published
    reported: object  # an assessment with its report published
    allocation: object
    funding_request: object
    mandate: object  # issued, targets Parking permits and Identity
    target: object  # Parking permits' target of that mandate
    draft_mandate: object
    guidance: object  # published
    draft_guidance: object
    dispute: object  # raised by the manager
    proposal: object
    deviation: object
    token: object  # the manager's own API token
    pattern: object
    round: object  # the manager's self-assessment of Parking permits
    coe: object  # a draft Correction of Error
    corrective_action: object
    review: object
    community: object  # led by the team member
    community_guidance: object
    open_role: object
    figure: object  # an executive figure across services
    ingest_token: object  # Parking permits' ingest token
    map_version: object  # version 1 of Parking permits' map
    webhook: object  # an endpoint told when a service is established
    delivery: object  # a delivery to it, waiting to be sent
    flagged_service: object  # a service its manager flagged for decommissioning


def _day(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def build_world(c) -> World:
    ex, mgr = c.executive, c.manager
    draft = network.draft_contract_version(actor=mgr, service=c.service, change_note="More needs.")
    retired = factories.service(ex, "Old payments", manager=mgr)
    criteria = list(Criterion.objects.filter(active=True).order_by("position")[:2])
    assess = lifecycle.schedule_assessment(actor=ex, service=retired, kind="transition", scheduled_for=_day(7),
                                           assessors=[ex], criteria=criteria)
    lifecycle.publish_assessment_agenda(actor=ex, assessment=assess)
    lifecycle.record_assessment_decisions(
        actor=ex, assessment=assess, result="met", outcome="not_required", summary="Nobody needs it.",
        decisions={i.criterion.slug: {"decision": "met", "did_well": "Clear.", "to_improve": "Nothing."}
                   for i in assess.items.select_related("criterion")})
    reported = lifecycle.publish_assessment_report(
        actor=ex, assessment=assess, decommission_condition="b",
        decommission_reasons="Residents use the single front door now.", migration_path="Use the front door.")
    retired.refresh_from_db()
    assessment = lifecycle.schedule_assessment(actor=ex, service=c.service, kind="transition", scheduled_for=_day(14),
                                               assessors=[ex], criteria=criteria)
    allocation = lifecycle.allocate_budget(actor=ex, service=c.service, period="2026-27", amount="1000.00")
    funding_request = lifecycle.request_funding(actor=mgr, service=c.service, kind="expand", period="2026-27",
                                                rationale="More research.", amount="500.00")
    draft_mandate = governance.draft_mandate(actor=ex, title="Publish metrics monthly", instruction="Every month.",
                                             due_date=_day(60), services=[c.service])
    mandate = governance.issue_mandate(actor=ex, mandate=governance.draft_mandate(
        actor=ex, title="Use the shared identity service", instruction="Sign people in through Identity.",
        due_date=_day(60), services=[c.service, c.other_service]))
    target = mandate.targets.get(service=c.service)
    draft_guidance = governance.draft_guidance(actor=ex, title="Prefer open standards", body="Use them.",
                                               source="practice", category="technology")
    guidance = governance.publish_guidance(actor=ex, guidance=governance.draft_guidance(
        actor=ex, title="Use the shared payment platform", body="Take payments through it.", source="practice",
        category="technology"))
    dispute = governance.raise_dispute(actor=mgr, service=c.service, other_service=c.other_service,
                                       subject="Identity outages", description="Sign-in fails at month end.")
    proposal = governance.propose_needs(actor=c.outsider, title="Visitor permits", context="Asked at the desk.", needs=[
        {"as_a": "visitor", "i_need": "a day permit", "so_that": "I can park without a fine"}])
    deviation = governance.record_deviation(
        actor=ex, title="One manager for two services", compromised="One manager each.", positive="Scarce skills shared.",
        negative="Conflicts judged by one person.", governance="Disputes go to the executive.", review_on=_day(180))
    token, _ = issue_api_token(actor=mgr, person=mgr, label="scripts")
    pattern = DoctrinePattern.objects.order_by("pk").first()
    rnd = learning.open_doctrine_round(actor=mgr, service=c.service)
    coe = learning.write_coe(actor=c.team_member, service=c.service, content={
        "title": "Renewals failed overnight", "occurred_on": _day(-2).isoformat(), "users_affected": True,
        "problem": "Renewals failed.", "impact": "300 residents could not renew.", "root_cause": "An expired certificate.",
        "lessons": "Watch certificates.", "timeline": [], "why_chains": [], "pattern_effects": [],
        "actions": [{"description": "Alert on expiry", "owner": c.team_member.email, "due_date": _day(7)}],
    })
    corrective_action = coe.actions.get()
    review = learning.schedule_coe_review(actor=ex, scheduled_for=_day(10))
    role = ProfessionalRole.objects.get(name="User researcher")
    community = communities.form_community(actor=c.team_member, name="User research", profession=role.job_family,
                                           purpose="Research together.")
    community_guidance = communities.publish_community_guidance(
        actor=c.team_member, community=community, kind="evaluation", title="Evaluating researchers",
        body="Look at the evidence.")
    open_role = communities.post_open_role(actor=mgr, service=c.service, role=role, level="senior")
    figure = fitness.define_aggregation(actor=ex, name="Mean first outcome", expression="avg(m1)")
    ingest_token, _ = fitness.issue_ingest_token(actor=mgr, service=c.service, label="nightly job")
    webhook, _ = add_webhook(actor=ex, name="Catalogue sync", url="https://hooks.example.org/osom",
                             events=["service.established"])
    factories.service(ex, "Street lighting", manager=c.other_manager)
    delivery = WebhookDelivery.objects.get(endpoint=webhook)
    map_version = save_service_map(actor=mgr, service=c.service, text="title Parking permits\ncomponent Permit [0.7, 0.4]\n")
    flagged_service = network.flag_for_decommissioning(
        actor=mgr, service=factories.service(ex, "Public toilets", manager=mgr),
        reason="The council hands its toilets to the parish.")
    return World(
        cast=c, draft=draft, retired=retired, membership=TeamMembership.objects.get(service=c.service, person=c.team_member),
        criterion=criteria[0], assessment=assessment, reported=reported, allocation=allocation,
        funding_request=funding_request, mandate=mandate, target=target, draft_mandate=draft_mandate, guidance=guidance,
        draft_guidance=draft_guidance, dispute=dispute, proposal=proposal, deviation=deviation,
        token=ApiToken.objects.get(pk=token.pk), pattern=pattern, round=rnd, coe=coe,
        corrective_action=corrective_action, review=review, community=community, community_guidance=community_guidance,
        open_role=open_role, figure=figure, ingest_token=ingest_token, map_version=map_version,
        webhook=webhook, delivery=delivery, flagged_service=flagged_service,
    )


@pytest.fixture
def world(cast) -> World:
    return build_world(cast)


# ---------------------------------------------------------------- what a route names

ACTOR = object()  # in a sample's ``subject``: the person making the request


@dataclass
class Sample:
    """The objects a route names: its URL arguments by name (both the pages' and the
    API's names), and what the policy looks at to decide who may act on them."""

    values: dict
    service: object = None
    subject: object = None
    obj: object = None


def _service(w: World) -> Sample:
    return Sample({"slug": w.cast.service.slug}, service=w.cast.service)


def _version(w: World) -> Sample:
    return Sample({"slug": w.cast.service.slug, "number": w.draft.number}, service=w.cast.service)


def _assessment(a) -> Sample:
    return Sample({"pk": a.pk, "assessment_id": a.pk}, service=a.service, obj=a)


def _coe(w: World) -> Sample:
    return Sample({"pk": w.coe.pk, "coe_id": w.coe.pk}, service=w.coe.service)


SAMPLES = {
    "service": _service,
    "version": _version,
    "wizard_step": lambda w: Sample({"step": "name"}),
    "membership": lambda w: Sample({"slug": w.cast.service.slug, "membership_id": w.membership.pk}, service=w.cast.service),
    "dependency": lambda w: Sample({"slug": w.cast.service.slug, "provider_slug": w.cast.other_service.slug},
                                   service=w.cast.service),
    "person": lambda w: Sample({"pk": w.cast.manager.pk, "person_id": w.cast.manager.pk}, subject=w.cast.manager),
    "token": lambda w: Sample({"pk": w.cast.manager.pk, "token_id": w.token.pk}, subject=w.cast.manager),
    "criterion": lambda w: Sample({"slug": w.criterion.slug}),
    "assessment": lambda w: _assessment(w.assessment),
    "report": lambda w: _assessment(w.reported),
    "allocation": lambda w: Sample({"slug": w.cast.service.slug, "allocation_id": w.allocation.pk}, service=w.cast.service),
    "funding_request": lambda w: Sample({"slug": w.cast.service.slug, "request_id": w.funding_request.pk},
                                        service=w.cast.service),
    "mandate": lambda w: Sample({"pk": w.mandate.pk, "mandate_id": w.mandate.pk}),
    "draft_mandate": lambda w: Sample({"pk": w.draft_mandate.pk, "mandate_id": w.draft_mandate.pk}),
    "target": lambda w: Sample({"pk": w.mandate.pk, "target_pk": w.target.pk, "mandate_id": w.mandate.pk,
                                "service_slug": w.target.service.slug}, service=w.target.service),
    "guidance": lambda w: Sample({"pk": w.guidance.pk, "guidance_id": w.guidance.pk}),
    "draft_guidance": lambda w: Sample({"pk": w.draft_guidance.pk, "guidance_id": w.draft_guidance.pk}),
    "guidance_decision": lambda w: Sample({"pk": w.guidance.pk, "guidance_id": w.guidance.pk, "slug": w.cast.service.slug,
                                           "service_slug": w.cast.service.slug}, service=w.cast.service),
    "dispute": lambda w: Sample({"pk": w.dispute.pk, "dispute_id": w.dispute.pk}, subject=w.dispute.raised_by),
    "proposal": lambda w: Sample({"pk": w.proposal.pk, "proposal_id": w.proposal.pk}),
    "deviation": lambda w: Sample({"pk": w.deviation.pk, "deviation_id": w.deviation.pk}),
    "pattern": lambda w: Sample({"slug": w.pattern.slug}),
    "round": lambda w: Sample({"pk": w.round.pk, "round_id": w.round.pk}, service=w.round.service),
    "coe": _coe,
    "corrective_action": lambda w: Sample({"pk": w.corrective_action.pk, "action_id": w.corrective_action.pk},
                                          service=w.coe.service, subject=w.corrective_action.owner),
    "review": lambda w: Sample({"pk": w.review.pk, "review_id": w.review.pk}),
    "community": lambda w: Sample({"pk": w.community.pk, "community_id": w.community.pk}, obj=w.community),
    "joining": lambda w: Sample({"pk": w.community.pk, "community_id": w.community.pk}, subject=ACTOR),
    "community_guidance": lambda w: Sample({"pk": w.community_guidance.pk, "guidance_id": w.community_guidance.pk},
                                           obj=w.community),
    "open_role": lambda w: Sample({"pk": w.open_role.pk, "opening_id": w.open_role.pk}, service=w.open_role.service),
    "self": lambda w: Sample({}, subject=ACTOR),
    "figure": lambda w: Sample({"slug": w.figure.slug}),
    "webhook": lambda w: Sample({"pk": w.webhook.pk, "webhook_id": w.webhook.pk}),
    "delivery": lambda w: Sample({"pk": w.delivery.pk, "delivery_id": w.delivery.pk}),
    "ingest_token": lambda w: Sample({"slug": w.cast.service.slug, "token_id": w.ingest_token.pk}, service=w.cast.service),
    "metric": lambda w: Sample({"slug": w.cast.service.slug, "key": "m1"}, service=w.cast.service),
    "budget_period": lambda w: Sample({"slug": w.cast.service.slug, "period": "2026-27"}, service=w.cast.service),
    "map_version": lambda w: Sample({"slug": w.cast.service.slug, "number": w.map_version.number}, service=w.cast.service),
    "flagged_service": lambda w: Sample({"slug": w.flagged_service.slug}, service=w.flagged_service),
}

# The sample an API path's parameters name, where the path alone does not say it.
API_PATH_SAMPLES = {
    "/api/v1/services/{slug}/versions/{number}": "version",
    "/api/v1/services/{slug}/dependencies/{provider_slug}": "dependency",
    "/api/v1/services/{slug}/team/{membership_id}": "membership",
    "/api/v1/criteria/{slug}": "criterion",
    "/api/v1/assessments/{assessment_id}/report.md": "report",
    "/api/v1/assessments/{assessment_id}/addenda": "report",
    "/api/v1/mandates/{mandate_id}/issue": "draft_mandate",
    "/api/v1/guidance/{guidance_id}/publish": "draft_guidance",
    "/api/v1/guidance/{guidance_id}/decisions/{service_slug}": "guidance_decision",
    "/api/v1/doctrine/patterns/{slug}": "pattern",
    "/api/v1/community-guidance/{guidance_id}/withdraw": "community_guidance",
    "/api/v1/capital-flow/{period}/services/{slug}": "budget_period",
    "/api/v1/figures/{slug}": "figure",
    "/api/v1/figures/{slug}/retire": "figure",
    "/api/v1/figures/{slug}/values": "figure",
    "/api/v1/ingest-tokens/{token_id}/revoke": "ingest_token",
    "/api/v1/services/{slug}/metrics/{key}/cadence": "metric",
    "/api/v1/services/{slug}/map/versions/{number}": "map_version",
    "/api/v1/services/{slug}/decommission-flag/clear": "flagged_service",
}
# Otherwise, the sample each parameter name stands for.
API_PARAMETER_SAMPLES = {
    "slug": "service", "number": "version", "person_id": "person", "token_id": "token", "assessment_id": "assessment",
    "allocation_id": "allocation", "request_id": "funding_request", "mandate_id": "mandate", "service_slug": "target",
    "guidance_id": "guidance", "dispute_id": "dispute", "proposal_id": "proposal", "deviation_id": "deviation",
    "round_id": "round", "coe_id": "coe", "action_id": "corrective_action", "review_id": "review",
    "community_id": "community", "opening_id": "open_role", "membership_id": "membership",
    "provider_slug": "dependency", "period": "budget_period", "webhook_id": "webhook", "delivery_id": "delivery",
}


def api_path_sample(method: str, path: str) -> str | None:
    """The name of the sample an API operation's path names, or None when it names none."""
    if path in API_PATH_SAMPLES:
        return API_PATH_SAMPLES[path]
    if method == "PUT" and path == "/api/v1/mandates/{mandate_id}":
        return "draft_mandate"  # only a draft is rewritten
    if method == "PUT" and path == "/api/v1/guidance/{guidance_id}":
        return "draft_guidance"
    names = re.findall(r"\{(\w+)\}", path)
    return API_PARAMETER_SAMPLES.get(names[-1]) if names else None


def api_path_values(world: World, method: str, path: str) -> dict:
    """The path parameters of an API operation, filled with objects that exist; a
    parameter no sample knows is left out (and so generated)."""
    name = api_path_sample(method, path)
    if name is None:
        return {}
    values = SAMPLES[name](world).values
    return {p: values[p] for p in re.findall(r"\{(\w+)\}", path) if p in values}
