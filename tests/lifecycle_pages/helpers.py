"""Building assessments and budgets for the page tests, through the actions (design habit 8)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from osom.lifecycle import actions
from osom.lifecycle.models import Criterion


def criteria(n: int = 2) -> list[Criterion]:
    return list(Criterion.objects.filter(active=True, source="common").order_by("position")[:n])


def scheduled(cast, service=None, *, assessors=None, kind=None, n_criteria: int = 2, days: int = 7):
    service = service or cast.service
    kind = kind or ("periodic" if service.lifecycle_stage == "live" else "transition")
    return actions.schedule_assessment(
        actor=cast.executive, service=service, kind=kind,
        scheduled_for=timezone.localdate() + dt.timedelta(days=days),
        assessors=assessors or [cast.executive], criteria=criteria(n_criteria), agenda_note="Bring your research.",
    )


def with_agenda(cast, service=None, **kwargs):
    assessment = scheduled(cast, service, **kwargs)
    return actions.publish_assessment_agenda(actor=cast.executive, assessment=assessment)


def decided(cast, service=None, *, result="met", outcome=None, **kwargs):
    assessment = with_agenda(cast, service, **kwargs)
    outcome = outcome or {"discovery": "progress_to_alpha", "alpha": "progress_to_beta", "beta": "progress_to_live",
                          "live": "remain_live"}[assessment.stage]
    decisions = {
        item.criterion_id: {"decision": result, "did_well": f"Good work on {item.criterion.name}.",
                            "to_improve": "Keep going."}
        for item in assessment.items.select_related("criterion")
    }
    return actions.record_assessment_decisions(actor=cast.executive, assessment=assessment, decisions=decisions,
                                               result=result, outcome=outcome, summary="A **clear** case.")


def published(cast, service=None, **kwargs):
    """A published report; a progressing outcome allocates 120000.00 for 2026-27."""
    assessment = decided(cast, service, **kwargs)
    return actions.publish_assessment_report(actor=cast.executive, assessment=assessment,
                                             budget_amount="120000.00", budget_period="2026-27")
