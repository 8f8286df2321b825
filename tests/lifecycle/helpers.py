"""Building lifecycle data through the actions, as the people of the cast would, and
the snapshot that "nothing written" is checked against (design habit 8)."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from unittest import mock

from django.utils import timezone

from osom.lifecycle import actions
from osom.lifecycle.models import (
    Assessment,
    AssessmentCriterion,
    BudgetAllocation,
    Criterion,
    FundingRequest,
    Reinvestment,
    ReportAddendum,
    Spend,
    StageChange,
)

from .. import factories
from ..network.test_permissions import EVERY_TABLE as NETWORK_TABLES

__all__ = [
    "EVERY_TABLE", "snapshot", "SOON", "BUDGET", "DECOMMISSION", "service_at", "kind_for", "scheduled", "on_agenda",
    "decisions_for", "decided", "published", "decommissioned", "allocated", "clock_at", "midday_today",
]

LIFECYCLE_TABLES = [
    Criterion, Assessment, Assessment.assessors.through, AssessmentCriterion, ReportAddendum, StageChange,
    BudgetAllocation, Spend, Reinvestment, FundingRequest,
]
EVERY_TABLE = [*NETWORK_TABLES, *LIFECYCLE_TABLES]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a lifecycle action may touch, the network's included."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


SOON = timezone.localdate() + dt.timedelta(days=14)

# What a report needs when its outcome moves the service on (the next stage's money) …
BUDGET = {"budget_amount": "25000.00", "budget_period": "2026-27"}
# … and when it decommissions it (model 5.2: the condition, the reasons, the way out).
DECOMMISSION = {
    "decommission_condition": "b",
    "decommission_reasons": "Residents now apply through the council's single front door.",
    "migration_path": "Consumers call the front door's permit API instead.",
}


def service_at(c, stage: str, name: str = "Bin collection", **kwargs):
    """A service managed by the cast's manager, at ``stage``: established in discovery,
    adopted at any later stage."""
    if stage == "discovery":
        return factories.service(c.executive, name, manager=c.manager, **kwargs)
    return factories.service(c.executive, name, manager=c.manager, stage=stage, **kwargs)


def kind_for(stage: str) -> str:
    return "periodic" if stage == "live" else "transition"


def scheduled(c, service, *, assessors=None, criteria=None, kind: str | None = None, actor=None) -> Assessment:
    return actions.schedule_assessment(
        actor=actor or c.executive, service=service, kind=kind or kind_for(service.lifecycle_stage),
        scheduled_for=SOON, assessors=assessors or [c.executive], criteria=criteria)


def on_agenda(c, service, **kwargs) -> Assessment:
    assessment = scheduled(c, service, **kwargs)
    return actions.publish_assessment_agenda(actor=c.executive, assessment=assessment)


def decisions_for(assessment: Assessment, result: str = "met", *, not_met: int = 1, leave_open: int = 0) -> dict:
    """A decision on every criterion of the agenda (but the last ``leave_open``): all Met,
    or, for a Not Met result, the first ``not_met`` of them Not Met."""
    items = list(assessment.items.select_related("criterion").order_by("position", "pk"))
    if leave_open:
        items = items[:-leave_open]
    return {
        item.criterion.slug: {
            "decision": "not_met" if result == "not_met" and n < not_met else "met",
            "did_well": "Talked to residents every week.",
            "to_improve": "Test with people who use assistive technology.",
        }
        for n, item in enumerate(items)
    }


def decided(c, service, *, outcome: str, result: str = "met", assessors=None, **kwargs) -> Assessment:
    assessment = on_agenda(c, service, assessors=assessors, **kwargs)
    return actions.record_assessment_decisions(
        actor=c.executive, assessment=assessment, decisions=decisions_for(assessment, result), result=result,
        outcome=outcome, summary="The team knows its users.")


def published(c, service, *, outcome: str, result: str = "met", assessors=None, **report) -> Assessment:
    assessment = decided(c, service, outcome=outcome, result=result, assessors=assessors)
    return actions.publish_assessment_report(actor=c.executive, assessment=assessment, **report)


def decommissioned(c, name: str = "Old payments"):
    """A service decommissioned the only way there is: a discovery report saying it is not required."""
    service = service_at(c, "discovery", name)
    published(c, service, outcome="not_required", **DECOMMISSION)
    service.refresh_from_db()
    return service


def allocated(c, service=None, amount: str = "1000.00", period: str = "2026-27") -> BudgetAllocation:
    return actions.allocate_budget(actor=c.executive, service=service or c.service, period=period, amount=amount)


@contextmanager
def clock_at(moment: dt.datetime):
    """Pin the time the actions read (``timezone.now``), so dates worked out from it are
    known in advance."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def midday_today() -> dt.datetime:
    """Noon UTC: the same calendar day in UTC and in the organisation's time zone."""
    return dt.datetime.combine(timezone.now().date(), dt.time(12), tzinfo=dt.timezone.utc)
