"""Every outcome at every stage assessed, with each result (model 4 and 5.2).

The table below is the model's, written by hand from the guide's words; it is not read
from ``osom.lifecycle.outcomes``. The only thing taken from the code is the list of
outcome keys it knows, so that each of them is tried at every stage, and a key the
model does not name fails the first test.

For each (stage, outcome, result) a service at that stage is assessed through the
actions — scheduled, its agenda published, every criterion decided — and its report
published; then what the model says happens is checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from osom.core.errors import InvalidInput
from osom.core.models import AuditEvent
from osom.lifecycle import actions
from osom.lifecycle.models import Assessment, BudgetAllocation, StageChange
from osom.lifecycle.outcomes import OUTCOMES

from .helpers import BUDGET, DECOMMISSION, clock_at, decisions_for, midday_today, on_agenda, service_at, snapshot

STAGES = ["discovery", "alpha", "beta", "live"]
DECOMMISSIONED = "decommissioned"
DEFAULT_CADENCE_DAYS = 365  # the organisation's default interval between live assessments


@dataclass(frozen=True)
class Expect:
    """What the model says an outcome does to the service assessed."""

    moves_to: str | None = None  # None: it stays at the stage assessed
    new_round: bool = False  # another round at the same stage
    progress: bool = False  # moving forward: needs a Met report, and the next stage's budget comes with it

    @property
    def decommissions(self) -> bool:
        return self.moves_to == DECOMMISSIONED


# Model 5.2, outcomes per stage assessed.
MODEL: dict[str, dict[str, Expect]] = {
    "discovery": {
        "not_required": Expect(DECOMMISSIONED),
        "more_research": Expect(new_round=True),
        "progress_to_alpha": Expect("alpha", progress=True),
    },
    "alpha": {
        "no_suitable_way": Expect(DECOMMISSIONED),
        "continue_alpha": Expect(new_round=True),
        "progress_to_beta": Expect("beta", progress=True),
    },
    "beta": {
        "continue_beta": Expect(new_round=True),
        "progress_to_live": Expect("live", progress=True),
    },
    "live": {
        "remain_live": Expect(),
        "decommission": Expect(DECOMMISSIONED),
    },
}

EVERY_KEY = sorted({o.key for outcomes in OUTCOMES.values() for o in outcomes} | {k for m in MODEL.values() for k in m})

CASES = [
    pytest.param(stage, key, result, id=f"{stage}-{key}-{result}")
    for stage in STAGES for key in EVERY_KEY for result in ("met", "not_met")
]


def test_the_code_offers_exactly_the_outcomes_the_model_names_at_each_stage():
    offered = {stage: {o.key for o in OUTCOMES.get(stage, ())} for stage in STAGES}
    assert offered == {stage: set(MODEL[stage]) for stage in STAGES}
    assert set(OUTCOMES) == set(STAGES), "only discovery, alpha, beta and live are assessed"


@pytest.mark.parametrize("stage,key,result", CASES)
def test_each_outcome_at_each_stage_does_what_the_model_says(cast, stage, key, result):
    service = service_at(cast, stage)
    expect = MODEL[stage].get(key)
    assessment = on_agenda(cast, service)
    decisions = decisions_for(assessment, result)
    not_met = {slug for slug, d in decisions.items() if d["decision"] == "not_met"}
    assert (result == "not_met") == bool(not_met)

    def record():
        return actions.record_assessment_decisions(actor=cast.executive, assessment=assessment, decisions=decisions,
                                                   result=result, outcome=key)

    if expect is None:
        # an outcome of another stage is refused when the assessors record it
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            record()
        assert refused.value.field == "outcome", refused.value.errors
        assert snapshot() == before
        return

    assessment = record()
    report = {**(BUDGET if expect.progress else {}), **(DECOMMISSION if expect.decommissions else {})}
    judged = service.current_version
    service.refresh_from_db()
    due_before = service.next_assessment_due

    if expect.progress and result == "not_met":
        # moving forward needs Met: refused at publication, and nothing changes
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            actions.publish_assessment_report(actor=cast.executive, assessment=assessment, **report)
        assert refused.value.field == "outcome", refused.value.errors
        assert snapshot() == before
        service.refresh_from_db()
        assert service.lifecycle_stage == stage
        return

    changes_before = set(StageChange.objects.filter(service=service).values_list("pk", flat=True))
    events_before = set(AuditEvent.objects.values_list("pk", flat=True))
    with clock_at(midday_today()):
        report_row = actions.publish_assessment_report(actor=cast.executive, assessment=assessment, **report)
    report_row.refresh_from_db()
    service.refresh_from_db()

    # the report: published, pinning the contract version it judged and the manager
    assert report_row.status == "published" and report_row.published_by == cast.executive
    assert (report_row.result, report_row.outcome) == (result, key)
    assert report_row.contract_version == judged
    assert report_row.manager == cast.manager
    publish_day = timezone.localdate(report_row.published_at)

    # the stage: where the model says the service goes
    assert service.lifecycle_stage == (expect.moves_to or stage)
    changes = list(StageChange.objects.filter(service=service).exclude(pk__in=changes_before))
    if expect.moves_to:
        assert [(c.from_stage, c.to_stage, c.assessment) for c in changes] == [(stage, expect.moves_to, report_row)]
    elif expect.new_round:
        assert [(c.from_stage, c.to_stage, c.assessment) for c in changes] == [(stage, stage, report_row)]
        assert changes[0].is_new_round
    else:
        assert changes == []

    # the money: moving forward allocates the next stage's budget in the same act
    allocations = list(BudgetAllocation.objects.filter(service=service))
    if expect.progress:
        assert [(a.stage, a.amount, a.period, a.assessment) for a in allocations] == [
            (expect.moves_to, Decimal("25000.00"), "2026-27", report_row)]
    else:
        assert allocations == []

    # Not Met: a reassessment of the criteria not met (unless the service is gone)
    reassessments = list(Assessment.objects.filter(reassesses=report_row))
    if result == "not_met" and not expect.decommissions:
        assert len(reassessments) == 1
        again = reassessments[0]
        assert again.kind == "reassessment" and again.service == service
        assert again.stage == service.lifecycle_stage and again.status == "scheduled"
        assert {item.criterion.slug for item in again.items.select_related("criterion")} == not_met
    else:
        assert reassessments == []
    assert Assessment.objects.filter(service=service).exclude(pk=report_row.pk).count() == len(reassessments)

    # live services are next due a cadence after their last report; no other service is due
    if service.lifecycle_stage == "live":
        assert service.next_assessment_due == publish_day + dt.timedelta(days=DEFAULT_CADENCE_DAYS)
    elif expect.decommissions:
        assert service.next_assessment_due is None
    else:
        assert service.next_assessment_due == due_before is None

    # decommissioning: the reasons and the way out kept in a new approved contract version
    if expect.decommissions:
        version = service.current_version
        assert version.number == judged.number + 1
        assert version.status == "approved" and version.lifecycle_stage == DECOMMISSIONED
        assert "The needs no longer exist" in version.decommission_reasons  # condition (b) of model 5.2
        assert DECOMMISSION["decommission_reasons"] in version.decommission_reasons
        assert version.migration_path == DECOMMISSION["migration_path"]
        assert (report_row.decommission_condition, report_row.migration_path) == ("b", DECOMMISSION["migration_path"])
    else:
        assert service.current_version == judged

    # one act, one audit event
    events = list(AuditEvent.objects.exclude(pk__in=events_before))
    assert [(e.verb, e.actor, e.authority) for e in events] == [
        ("publish_assessment_report", cast.executive, "executive")]
