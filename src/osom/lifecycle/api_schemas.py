"""Request and response shapes of the lifecycle's API: criteria, assessments and their
reports, what is due, stage timelines and budgets.

The conventions are those of :mod:`osom.api.schemas`: lists answer ``{"items", "count"}``,
people are ``{"id", "name", "email"}`` and services ``{"slug", "name", "lifecycle_stage"}``.
Money is an exact decimal, always answered as a string with two places (``"120000.00"``)
and accepted as a string (or a whole number): never a float, so no penny is lost.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, WithJsonSchema

from osom.api.schemas import Day, Moment, NextCursor, PageQuery, PersonOrId, PersonRef, ServiceRef, WholeNumber
from osom.network.stages import Lifecycle

from .models import AssessmentKind, AssessmentStatus, CriterionSource, Result

__all__ = [
    "money_text", "MoneyIn", "AssessedStage",
    # criteria
    "CriterionFilters", "CriterionOut", "CriterionPage", "CriterionIn", "CriterionEditIn",
    # assessments
    "AssessmentFilters", "AssessmentRow", "AssessmentPage", "AssessmentDetail", "ScheduleIn", "AssessmentEditIn",
    "CancelIn", "DecisionIn", "DecisionsIn", "PublishIn", "AddendumIn", "AddendumOut",
    # due and cadence
    "DueFilters", "DueRow", "DuePage", "CadenceIn", "ServiceCadenceIn", "CadenceOut",
    # timeline
    "TimelineEntry", "TimelinePage",
    # budgets
    "BudgetQuery", "AllocationOut", "SpendOut", "SpendPage", "ReinvestmentOut", "FundingRequestOut", "MoneyTotals",
    "ServiceBudgetOut", "BudgetRow", "BudgetRowPage", "BudgetOverviewOut", "AllocateIn", "SpendIn", "ReinvestIn",
    "FundingRequestIn", "FundingDecisionIn",
]

_CENT = Decimal("0.01")


def money_text(value: Decimal | int | str | None) -> str | None:
    """An amount of money as the API answers it: an exact decimal string with two places."""
    if value is None:
        return None
    return str(Decimal(value).quantize(_CENT))


def _whole_number_as_text(value: Any) -> Any:
    # a whole number loses nothing; a float may already have lost a penny, so it is refused
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


MoneyIn = Annotated[
    str,
    BeforeValidator(_whole_number_as_text),
    WithJsonSchema({"anyOf": [{"type": "string", "examples": ["120000.00"]}, {"type": "integer"}],
                    "description": "An amount of money, exact to the penny, as a string (\"120000.00\"); never a float"}),
]
"""Money in a request: a decimal string (or a whole number), checked by the actions."""

Money = Annotated[
    str,
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["120000.00"],
                    "description": "An exact amount of money with two decimal places"}),
]
"""Money in an answer: ``"120000.00"``."""

AssessedStage = Literal["discovery", "alpha", "beta", "live"]
"""A stage at which services are assessed and funded."""

FundingKind = Literal["expand", "narrow"]
FundingStatus = Literal["open", "granted", "declined"]

DecisionText = Annotated[
    str,
    WithJsonSchema({"type": "string", "enum": ["met", "not_met", ""],
                    "description": "met or not_met; empty to clear it"}),
]


# ---------------------------------------------------------------- criteria


class CriterionFilters(PageQuery):
    source: CriterionSource | None = Field(None, description="Where the criteria come from")
    stage: AssessedStage | None = Field(None, description="Criteria that suit this stage by default")
    active: bool | None = Field(None, description="true: in use; false: retired; both when absent")


class CriterionOut(Schema):
    """Something a service is assessed against (model 5.2)."""

    slug: str
    name: str
    meaning: str = Field(description="What it means, in Markdown")
    link: str = Field(description="A page that explains it further, if any")
    source: CriterionSource
    stages: list[AssessedStage] = Field(description="The stages it suits by default")
    active: bool = Field(description="False once retired: it stays on the reports that used it")
    position: WholeNumber
    revision: WholeNumber = Field(description="Send it back as expected_revision to change the criterion")


class CriterionPage(Schema):
    items: list[CriterionOut]
    count: WholeNumber
    next_cursor: NextCursor


class CriterionIn(Schema):
    name: str
    meaning: str = Field(description="What it means, in Markdown")
    link: str = Field("", description="http:// or https:// address of a page that explains it")
    stages: list[AssessedStage] = Field(default_factory=list, description="The stages it suits by default")
    source: CriterionSource = Field(
        CriterionSource.EXECUTIVE, description="A new criterion comes from the executive, from guidance or a mandate"
    )


class CriterionEditIn(Schema):
    name: str
    meaning: str
    link: str = ""
    stages: list[AssessedStage] = Field(default_factory=list)
    active: bool = Field(True, description="False retires it: it cannot go on a new agenda")
    expected_revision: WholeNumber = Field(description="The revision the client last read; 409 if it has moved on")


# ---------------------------------------------------------------- assessments


class AssessmentFilters(PageQuery):
    service: str = Field("", description="Slug of the service assessed")
    status: AssessmentStatus | None = Field(
        None, description="Without it: scheduled, agenda and published (cancelled ones only when asked for)"
    )
    result: Result | None = None
    stage: AssessedStage | None = Field(None, description="The stage assessed")
    kind: AssessmentKind | None = None
    date_from: Day | None = Field(None, description="On or after this day (the report's day, else the day scheduled)")
    date_to: Day | None = Field(None, description="On or before this day")


class ReportRef(Schema):
    """A published report, in brief."""

    id: WholeNumber
    kind: AssessmentKind
    stage: Lifecycle
    result: Result | None
    outcome: str | None
    outcome_label: str
    published_at: Moment | None


class AssessmentRow(Schema):
    """An assessment as lists show it."""

    id: WholeNumber
    service: ServiceRef
    kind: AssessmentKind
    stage: Lifecycle = Field(description="The stage assessed")
    status: AssessmentStatus
    scheduled_for: Day
    day: Day = Field(description="The day of the report once published, else the day scheduled")
    published_at: Moment | None
    result: Result | None
    outcome: str | None = Field(description="Key of the outcome in the outcome table of the stage assessed")
    outcome_label: str
    manager: PersonRef | None = Field(description="The service manager: pinned by the report once it is published")
    assessors: list[PersonRef]


class AssessmentPage(Schema):
    items: list[AssessmentRow]
    count: WholeNumber
    next_cursor: NextCursor


class CriterionBrief(Schema):
    slug: str
    name: str
    link: str = Field(description="The criterion's own page, if it has one")
    url: str = Field(description="Where OSOM publishes what it means")


class AgendaItemOut(Schema):
    criterion: CriterionBrief
    position: WholeNumber
    decision: Result | None
    did_well: str
    to_improve: str


class AddendumOut(Schema):
    id: WholeNumber
    text: str
    author: PersonRef
    created_at: Moment


class AllocationBrief(Schema):
    id: WholeNumber
    period: str
    stage: Lifecycle
    amount: Money


class OutcomeChoice(Schema):
    key: str
    label: str
    moves_to: Lifecycle | None = Field(description="Where the service goes; null when it stays at its stage")
    requires_met: bool


class AssessmentDetail(AssessmentRow):
    """An assessment in full: its agenda, then the decisions on it and, once published,
    the report, which never changes again (addenda aside)."""

    revision: WholeNumber = Field(description="Send it back as expected_revision with a change")
    agenda_note: str
    agenda_published_at: Moment | None
    reassesses: WholeNumber | None = Field(description="The report with a Not Met result this reassessment follows")
    created_by: PersonRef
    created_at: Moment
    items: list[AgendaItemOut] = Field(description="The criteria on the agenda, in order, with their decisions")
    summary: str
    outcomes: list[OutcomeChoice] = Field(description="The outcomes an assessment at this stage may decide")
    contract_version: WholeNumber | None = Field(description="Number of the approved contract version the report judged")
    published_by: PersonRef | None
    decommission_condition: Literal["a", "b"] | None
    decommission_reasons: str
    migration_path: str
    rejected_guidance: list[dict[str, Any]] = Field(description="The guidance the service had rejected, on the day")
    allocations: list[AllocationBrief] = Field(description="Money the report allocated for the next stage")
    addenda: list[AddendumOut]
    cancel_reason: str = Field(description="Why it was cancelled, when it was")
    previous_reports: list[ReportRef] = Field(description="The service's other published reports, newest first")


class ScheduleIn(Schema):
    kind: AssessmentKind | None = Field(
        None, description="periodic for a live service, transition otherwise, when absent"
    )
    scheduled_for: Day
    assessors: list[PersonOrId] = Field(description="The executive, members of its team, or a panel")
    criteria: list[str] | None = Field(
        None, description="Slugs of the criteria on the agenda; the active criteria suiting the stage when absent"
    )
    agenda_note: str = ""
    reassesses: WholeNumber | None = Field(None, description="Id of the Not Met report this reassesses")


class AssessmentEditIn(Schema):
    """Only what is given changes."""

    scheduled_for: Day | None = None
    assessors: list[PersonOrId] | None = None
    criteria: list[str] | None = Field(None, description="Slugs, in the agenda's order")
    agenda_note: str | None = None
    expected_revision: WholeNumber = Field(description="The revision the client last read; 409 if it has moved on")


class CancelIn(Schema):
    reason: str = Field(description="Why the assessment is cancelled")


class DecisionIn(Schema):
    """What is given changes; what is left out stays as recorded."""

    decision: DecisionText | None = None
    did_well: str | None = Field(None, description="What the team did well")
    to_improve: str | None = Field(None, description="What it needs to improve")


class DecisionsIn(Schema):
    decisions: dict[str, DecisionIn] = Field(default_factory=dict, description="Keyed by the criterion's slug")
    result: DecisionText | None = Field(None, description="The overall result, met or not_met")
    outcome: str | None = Field(None, description="A key of the outcome table for the stage assessed")
    summary: str | None = None
    expected_revision: WholeNumber = Field(description="The revision the client last read; 409 if it has moved on")


class PublishIn(Schema):
    budget_amount: MoneyIn | None = Field(None, description="For an outcome that progresses: the next stage's budget")
    budget_period: str = Field("", description="The period that budget is for, e.g. 2026-27")
    decommission_condition: str = Field("", description="For an outcome that decommissions: a or b (model 5.2)")
    decommission_reasons: str = ""
    migration_path: str = Field("", description="How consumers migrate away; needed when others consume it")
    expected_revision: WholeNumber = Field(description="The revision the executive read; 409 if it has moved on")


class AddendumIn(Schema):
    text: str


# ---------------------------------------------------------------- due and cadence


class DueFilters(PageQuery):
    overdue: bool | None = Field(None, description="true: only the overdue; false: only those not yet due")


class DueRow(Schema):
    service: ServiceRef
    manager: PersonRef | None
    next_assessment_due: Day
    overdue: bool
    days_overdue: WholeNumber = Field(description="Days past the due date; 0 when not overdue")
    cadence_days: WholeNumber = Field(description="The interval between its live assessments")
    own_cadence: bool = Field(description="True when set for this service, not the organisation's default")
    booked_for: Day | None = Field(description="The day of an assessment already scheduled, if any")
    booked_id: WholeNumber | None


class DuePage(Schema):
    items: list[DueRow]
    count: WholeNumber
    next_cursor: NextCursor


class CadenceIn(Schema):
    days: WholeNumber = Field(description="Days between the periodic assessments of a live service, 7 to 3650")


class ServiceCadenceIn(Schema):
    days: WholeNumber | None = Field(description="7 to 3650 days; null returns the service to the organisation's default")


class CadenceOut(Schema):
    default_days: WholeNumber = Field(description="The organisation's default interval")
    service: ServiceRef | None = None
    days: WholeNumber | None = Field(None, description="The service's own interval, if it has one")
    effective_days: WholeNumber
    next_assessment_due: Day | None = Field(None, description="For a live service, its next periodic assessment")


# ---------------------------------------------------------------- timeline


class TimelineEntry(Schema):
    at: Moment
    from_stage: Lifecycle | None = Field(description="Null for the entry the service was established or adopted at")
    to_stage: Lifecycle
    new_round: bool = Field(description="A new round at the same stage, not a move")
    label: str
    note: str
    report: ReportRef | None = Field(description="The published report that made the change")


class TimelinePage(Schema):
    items: list[TimelineEntry] = Field(description="Oldest first")
    count: WholeNumber
    next_cursor: NextCursor


# ---------------------------------------------------------------- budgets


class BudgetQuery(PageQuery):
    """limit and offset page the spends (of a service) or the periods (of the network)."""


class AllocationOut(Schema):
    id: WholeNumber
    service: str = Field(description="Slug of the service")
    period: str
    stage: Lifecycle
    amount: Money
    spent: Money
    reinvested: Money
    remaining: Money
    note: str
    assessment: WholeNumber | None = Field(description="The report that allocated it, if one did")
    funding_request: WholeNumber | None = Field(description="The funding request it grants, if any")
    allocated_by: PersonRef
    allocated_at: Moment


class SpendOut(Schema):
    id: WholeNumber
    allocation: WholeNumber
    period: str
    amount: Money
    spent_on: Day
    description: str
    recorded_by: PersonRef
    recorded_at: Moment


class SpendPage(Schema):
    items: list[SpendOut]
    count: WholeNumber
    next_cursor: NextCursor


class ReinvestmentOut(Schema):
    id: WholeNumber
    allocation: WholeNumber
    period: str
    amount: Money
    purpose: str
    recorded_by: PersonRef
    recorded_at: Moment


class FundingRequestOut(Schema):
    id: WholeNumber
    service: str = Field(description="Slug of the service")
    kind: FundingKind
    period: str
    amount: Money | None
    rationale: str
    status: FundingStatus
    decision_note: str
    requested_by: PersonRef
    requested_at: Moment
    decided_by: PersonRef | None
    decided_at: Moment | None
    allocation: WholeNumber | None = Field(description="The allocation a granted expansion made")


class MoneyTotals(Schema):
    allocated: Money
    spent: Money
    reinvested: Money
    remaining: Money


class ServiceBudgetOut(Schema):
    """A service's money (model 5.3): what it was given, spent, re-invested and asked for."""

    service: ServiceRef
    currency: str = Field(description="ISO 4217 code of the organisation's money")
    totals: MoneyTotals
    allocations: list[AllocationOut] = Field(description="Newest first, each with its balance")
    spends: SpendPage = Field(description="Newest first, paged by limit and offset")
    reinvestments: list[ReinvestmentOut]
    funding_requests: list[FundingRequestOut]


class BudgetRow(MoneyTotals):
    key: str = Field(description="The stage or the period")
    percent_spent: WholeNumber | None = Field(description="Spent as a percentage of allocated; null when nothing is allocated")


class BudgetRowPage(Schema):
    items: list[BudgetRow]
    count: WholeNumber
    next_cursor: NextCursor


class BudgetOverviewOut(Schema):
    """The network's money, allocated against spent."""

    currency: str
    totals: MoneyTotals
    by_stage: list[BudgetRow] = Field(description="Every stage money was allocated for, in lifecycle order")
    by_period: BudgetRowPage = Field(description="Periods, newest first, paged by limit and offset")
    open_funding_requests: WholeNumber = Field(description="Funding requests awaiting the executive")


class AllocateIn(Schema):
    period: str = Field(description="e.g. 2026-27")
    amount: MoneyIn
    stage: AssessedStage | None = Field(None, description="The service's current stage when absent")
    note: str = ""


class SpendIn(Schema):
    amount: MoneyIn
    spent_on: Day | None = Field(None, description="Today when absent")
    description: str = Field(description="What the money was spent on")


class ReinvestIn(Schema):
    amount: MoneyIn
    purpose: str = Field(description="What the savings are re-invested in")


class FundingRequestIn(Schema):
    kind: FundingKind = Field(description="expand the budget, or narrow the scope")
    period: str
    rationale: str = Field(description="Why the contract cannot be met on the budget")
    amount: MoneyIn | None = Field(None, description="Needed to expand the budget")


class FundingDecisionIn(Schema):
    grant: bool
    note: str = Field(description="Why: the manager and everyone else see the reasoning")
    amount: MoneyIn | None = Field(None, description="Granting an expansion: the amount asked, unless another is given")
