"""Reads for the executive's and the managers' dashboards, and what other apps show of
governance (the guidance a service rejected, at its assessment). Each is a fixed number
of queries, whatever the size of the network."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone

from osom.core.models import Person
from osom.network.models import Service
from osom.network.stages import Lifecycle

from .models import Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget, Proposal

__all__ = ["rejected_guidance_for", "burn_up", "executive_attention", "manager_obligations", "DUE_SOON_DAYS"]

DUE_SOON_DAYS = 30


def rejected_guidance_for(service: Service) -> list[dict]:
    """The published guidance a service rejected, with its rationale: what it accounts
    for at its next assessment (model 5.6)."""
    rows = (GuidanceDecision.objects.filter(service=service, decision=GuidanceDecision.Decision.REJECT,
                                            guidance__status=Guidance.Status.PUBLISHED)
            .select_related("guidance", "decided_by").order_by("guidance__title"))
    return [{"guidance_id": r.guidance_id, "title": r.guidance.title, "rationale": r.rationale,
             "decided_by": r.decided_by.name, "decided_at": timezone.localdate(r.decided_at).isoformat()} for r in rows]


def burn_up(mandate: Mandate) -> list[dict]:
    """Services done over time, one point per day on which something was completed,
    from the issue date: ``[{"date", "done", "acknowledged", "total"}]``."""
    mandate = Mandate.objects.get(pk=mandate.pk)  # as it is now
    targets = list(mandate.targets.values_list("acknowledged_at", "done_at"))
    total = len(targets)
    if mandate.issued_at is None:
        return []
    day_of = timezone.localdate
    issued = day_of(mandate.issued_at)
    days = sorted({issued} | {day_of(d) for a, d in targets if d} | {day_of(a) for a, d in targets if a}
                  | {day_of(mandate.closed_at) if mandate.closed_at else min(timezone.localdate(), max(mandate.due_date, issued))})
    points = []
    for day in days:
        end = timezone.make_aware(dt.datetime.combine(day, dt.time.max))
        points.append({"date": day.isoformat(), "total": total,
                       "done": sum(1 for _, d in targets if d and d <= end),
                       "acknowledged": sum(1 for a, _ in targets if a and a <= end)})
    return points


def executive_attention(limit: int = 20) -> dict:
    """What needs the executive's attention now, each item a thing to act on."""
    today = timezone.localdate()
    from osom.learning.models import CorrectionOfError
    from osom.learning.queries import overdue_actions
    from osom.lifecycle.models import Assessment, AssessmentStatus, FundingRequest

    live = Service.objects.filter(lifecycle_stage=Lifecycle.LIVE, next_assessment_due__isnull=False)
    return {
        "overdue": list(live.filter(next_assessment_due__lt=today).select_related("manager").order_by("next_assessment_due")[:limit]),
        "due_soon": list(live.filter(next_assessment_due__gte=today,
                                     next_assessment_due__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
                         .select_related("manager").order_by("next_assessment_due")[:limit]),
        "assessments_to_report": list(Assessment.objects.filter(status=AssessmentStatus.AGENDA, scheduled_for__lte=today)
                                      .select_related("service").order_by("scheduled_for")[:limit]),
        "funding_requests": list(FundingRequest.objects.filter(status=FundingRequest.Status.OPEN)
                                 .select_related("service", "requested_by").order_by("requested_at")[:limit]),
        "disputes": list(Dispute.objects.filter(status=Dispute.Status.OPEN).select_related("service", "other_service")
                         .order_by("raised_at")[:limit]),
        "mandates_behind": list(Mandate.objects.filter(status=Mandate.Status.ISSUED, due_date__lt=today)
                                .annotate(total=Count("targets"),
                                          done=Count("targets", filter=Q(targets__status=MandateTarget.Status.DONE)))
                                .filter(done__lt=F("total")).order_by("due_date")[:limit]),
        "proposals": list(Proposal.objects.filter(status=Proposal.Status.OPEN).select_related("proposed_by")
                          .order_by("proposed_at")[:limit]),
        "rejections": list(GuidanceDecision.objects.filter(decision=GuidanceDecision.Decision.REJECT,
                                                           guidance__status=Guidance.Status.PUBLISHED)
                           .select_related("guidance", "service").order_by("-decided_at")[:limit]),
        # the learning loop: CoEs waiting for the next review, and corrective actions past due
        "unreviewed_coes": list(CorrectionOfError.objects.filter(status=CorrectionOfError.Status.PUBLISHED)
                                .select_related("service").order_by("published_at", "pk")[:limit]),
        "overdue_actions": list(overdue_actions(limit=limit)),
    }


# What a manager's dashboard lists: their running services, then what is asked of them
OBLIGATIONS = ("services", "agendas", "mandates", "guidance_to_decide", "disputes", "overdue_actions", "to_verify",
               "coe_drafts", "open_rounds")


def _of_services(rows, by_id: dict, through: str = "") -> list:
    """The rows, each given its service (or its ``through`` object's) from those already
    read, not joined to it again: every join is one more for PostgreSQL to plan, which
    took longer than the reading."""
    rows = list(rows)
    for row in rows:
        holder = getattr(row, through) if through else row
        holder.service = by_id[holder.service_id]
    return rows


def _to_verify(ids: list[int], by_id: dict, limit: int) -> list:
    """The done actions of the published CoEs of these services, oldest done first."""
    from osom.learning.models import CorrectionOfError, CorrectiveAction

    # the CoEs as ids the actions' own column is checked against: named through the join,
    # SQLite read every action done in the network
    coes = CorrectionOfError.objects.filter(service__in=ids).exclude(status=CorrectionOfError.Status.DRAFT)
    return _of_services(CorrectiveAction.objects.filter(coe__in=coes.values("pk"), status=CorrectiveAction.Status.DONE)
                        .select_related("coe", "owner").order_by("done_at", "pk")[:limit], by_id, through="coe")


def manager_obligations(person: Person, limit: int = 50) -> dict:
    """What is asked of the services a person manages."""
    from osom.learning.models import CorrectionOfError, DoctrineRound
    from osom.learning.queries import overdue_actions
    from osom.lifecycle.models import Assessment, AssessmentStatus

    service_list = list(Service.objects.filter(manager=person).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
                        .order_by("name"))
    if not service_list:
        # nothing is asked of someone who manages no running service (the dashboard and
        # the API show these only to those who do): one query, not ten
        return {key: [] for key in OBLIGATIONS}
    # the services named by the ids just read, not by a subquery: one join fewer in each
    # query below, which on PostgreSQL spent more time planning than running
    ids = [s.pk for s in service_list]
    by_id = {s.pk: s for s in service_list}
    decided = GuidanceDecision.objects.filter(service__in=ids).values_list("guidance_id", "service_id")
    published = list(Guidance.objects.filter(status=Guidance.Status.PUBLISHED).order_by("-published_at")[:limit])
    decided_pairs = set(decided)
    return {
        "services": service_list,
        "agendas": _of_services(Assessment.objects.filter(
            service__in=ids, status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA]
        ).order_by("scheduled_for")[:limit], by_id),
        "mandates": _of_services(MandateTarget.objects.filter(service__in=ids, mandate__status=Mandate.Status.ISSUED)
                                 .exclude(status=MandateTarget.Status.DONE).select_related("mandate")
                                 .order_by("mandate__due_date")[:limit], by_id),
        "guidance_to_decide": [(g, s) for g in published for s in service_list if (g.pk, s.pk) not in decided_pairs][:limit],
        "disputes": list(Dispute.objects.filter(Q(service__in=ids) | Q(other_service__in=ids),
                                                status=Dispute.Status.OPEN).select_related("service", "other_service")[:limit]),
        # the learning loop: actions past due (of their services, or their own), drafts to
        # finish and publish, and self-assessments still waiting for their ratings
        "overdue_actions": list(overdue_actions(person=person, services=ids, limit=limit)),
        "to_verify": _to_verify(ids, by_id, limit),
        "coe_drafts": _of_services(CorrectionOfError.objects.filter(service__in=ids, status=CorrectionOfError.Status.DRAFT)
                                   .order_by("created_at", "pk")[:limit], by_id),
        "open_rounds": _of_services(DoctrineRound.objects.filter(service__in=ids, status=DoctrineRound.Status.OPEN)
                                    .exclude(ratings__respondent=person).distinct()
                                    .order_by("opened_at", "pk")[:limit], by_id),
    }
