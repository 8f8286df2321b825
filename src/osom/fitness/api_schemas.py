"""Request and response shapes of the fitness data API: each service's metrics against
their targets, its measurements (by hand, by CSV, or pushed with an ingest token), the
standard measures, the executive's figures across services, the network's fitness, and
capital flow (model 5.3, 5.4, 11).

The conventions are those of :mod:`osom.api.schemas`: lists answer ``{"items", "count"}``
and take ``limit`` and ``offset``; services are ``{"slug", "name", "lifecycle_stage"}``.
Measured values, targets and shares are exact decimals answered as strings (``"99.95"``)
and accepted as strings or numbers; money is answered as a string with two places
(``"120000.00"``), never as a float.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BeforeValidator, ConfigDict, WithJsonSchema

from osom.api.schemas import Day, ErrorOut, Moment, NextCursor, PageQuery, PersonRef, ServiceRef, WholeNumber
from osom.network.stages import Direction, Lifecycle, MetricKind

from .models import Aggregation, Measurement

__all__ = [
    "DecimalIn", "Money",
    # a service's fitness and measurements
    "MetricFitnessOut", "ServiceFitnessOut", "MeasurementFilters", "MeasurementOut", "MeasurementPage",
    "MeasurementIn", "CsvIn", "ImportOut", "CsvQuery", "MetricCadenceIn", "MetricCadenceOut",
    # ingest tokens and pushes
    "IngestTokenIn", "IngestTokenOut", "IngestTokenIssued", "IngestTokenPage", "IngestRecordIn", "IngestIn",
    # standard measures
    "StandardMeasureOut", "StandardMeasurePage", "StandardMeasureIn", "StandardMeasureAdded",
    # figures
    "FigureFilters", "FigureOut", "FigurePage", "FigureDetail", "FigureIn", "FigureEditIn", "FigureValuesQuery",
    "FigureValueOut", "FigureValuesOut", "ExpressionIn", "ExpressionOut", "ExpressionErrorOut",
    # the network's fitness
    "FitnessFilters", "FitnessRow", "FitnessPage",
    # capital flow
    "BudgetPeriodOut", "BudgetPeriodPage", "CapitalFlowRow", "CapitalFlowOut", "CapitalFlowErrorOut",
    "ProviderCostOut", "ConsumerShareOut", "ServiceFlowOut", "SharesIn", "SharesOut", "TransactionsIn",
    "TransactionsOut",
]


def _number_as_text(value: Any) -> Any:
    # JSON numbers are read from their shortest text, which is what the client wrote;
    # true and false are not numbers and are left for the check below to refuse
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


DecimalIn = Annotated[
    str,
    BeforeValidator(_number_as_text),
    WithJsonSchema({"anyOf": [{"type": "string", "examples": ["99.95"]}, {"type": "number"}],
                    "description": "An exact decimal, as a string (\"99.95\") or a number"}),
]
"""A measured value, target or share in a request; the actions check it is a number."""

ShareIn = Annotated[
    str,
    BeforeValidator(_number_as_text),
    WithJsonSchema({"anyOf": [{"type": "string", "examples": ["0.3", "30%"]}, {"type": "number"}],
                    "description": "A share between 0 and 1 (\"0.3\"), or a percentage (\"30%\")"}),
]

DecimalOut = Annotated[
    str,
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "examples": ["99.95"],
                    "description": "An exact decimal as a string"}),
]

Money = Annotated[
    str,
    WithJsonSchema({"type": "string", "pattern": r"^-?\d+\.\d{2}$", "examples": ["120000.00"],
                    "description": "An exact amount of money with two decimal places"}),
]

FitnessStatus = Literal["met", "missed", "no target", "no data"]
StatusFilter = Literal["met", "missed", "no target", "no data", "stale"]
Source = Literal[tuple(Measurement.Source.values)]  # type: ignore[valid-type]
Grain = Literal[tuple(Aggregation.Grain.values)]  # type: ignore[valid-type]
Within = Literal[tuple(Aggregation.Within.values)]  # type: ignore[valid-type]

_REVISION = "The revision the client last read; 409 if it has moved on"


# ---------------------------------------------------------------- a service's fitness


class MetricFitnessOut(Schema):
    """One metric of the service's current contract, read against its target."""

    key: str
    name: str
    unit: str
    kind: MetricKind
    direction: Direction
    target: DecimalOut | None = Field(description="Null when the metric has no target")
    latest_value: DecimalOut | None = Field(description="The value of the latest period measured; null with no data")
    latest_start: Day | None = Field(description="The first day of the latest period measured")
    latest_end: Day | None = Field(description="The last day of the latest period measured")
    status: FitnessStatus = Field(description="The latest value against the target: met, missed, no target or no data")
    stale: bool = Field(description="True when the next value was due before today and has not come")
    due_on: Day | None = Field(description="When the next value is due: the cadence after the latest period's end")
    cadence_days: WholeNumber = Field(description="How often the service promises to report this metric, in days")
    count: WholeNumber = Field(description="How many values have been recorded")


class ServiceFitnessOut(Schema):
    service: ServiceRef
    metrics: list[MetricFitnessOut] = Field(description="In the contract's order; empty before a contract is approved")


class MeasurementFilters(PageQuery):
    metric: str = Field("", description="Only this metric's values, by key")
    since: Day | None = Field(None, description="Only periods ending on or after this day")
    until: Day | None = Field(None, description="Only periods ending on or before this day")


class MeasurementOut(Schema):
    id: WholeNumber
    metric: str = Field(description="The metric's key")
    period_start: Day
    period_end: Day
    value: DecimalOut
    measured_at: Moment = Field(description="When the value was taken")
    source: Source = Field(description="manual, csv or ingest")
    record_id: str = Field(description="The sender's id of a pushed record; empty otherwise")
    note: str
    recorded_by: PersonRef | None = Field(description="Null for a value the service's systems pushed")
    recorded_at: Moment


class MeasurementPage(Schema):
    items: list[MeasurementOut] = Field(description="The latest period first")
    count: WholeNumber
    next_cursor: NextCursor


class MeasurementIn(Schema):
    metric: str = Field(description="The key of a metric of the service's current contract")
    value: DecimalIn
    period_start: Day = Field(description="The first day of the period the value covers")
    period_end: Day | None = Field(None, description="Its last day; the same day as period_start when left out")
    measured_at: Moment | None = Field(None, description="When the value was taken; now when left out")
    note: str = ""
    replace: bool = Field(False, description="Overwrite a value already recorded for the same period (409 otherwise)")


class CsvIn(Schema):
    csv: str = Field(description="CSV text with a header: metric, period_start, value, and optionally period_end, "
                                 "measured_at, note")


class ImportOut(Schema):
    created: WholeNumber = Field(description="Values recorded for periods not measured before")
    replaced: WholeNumber = Field(description="Values that replaced earlier ones (same period, or same record id)")


class CsvQuery(Schema):
    metric: str = Field("", description="Only this metric's values, by key")


class MetricCadenceIn(Schema):
    days: WholeNumber = Field(description="Days between reports, 1 to 400")


class MetricCadenceOut(Schema):
    metric: str
    cadence_days: WholeNumber
    due_on: Day | None = Field(description="When the next value is due; null before the first")
    stale: bool


# ---------------------------------------------------------------- ingest tokens


class IngestTokenIn(Schema):
    label: str = Field("", description="What the token is for, e.g. the system that pushes with it")


class IngestTokenOut(Schema):
    id: WholeNumber
    label: str
    prefix: str = Field(description="The token's first characters, to recognise it")
    created_by: PersonRef
    created_at: Moment
    revoked_at: Moment | None
    last_used_at: Moment | None


class IngestTokenIssued(IngestTokenOut):
    token: str = Field(description="The token itself, shown this once: send it as 'Authorization: Bearer osomi_…' "
                                   "to POST /ingest")


class IngestTokenPage(Schema):
    items: list[IngestTokenOut] = Field(description="The newest first")
    count: WholeNumber
    next_cursor: NextCursor


class IngestRecordIn(Schema):
    """One measurement pushed by the service's own systems."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The sender's id of the record: resending the same id replaces it")
    metric: str = Field(description="The key of a metric of the service's current contract")
    value: DecimalIn
    timestamp: Moment = Field(description="When the value was taken (ISO 8601)")
    period_start: Day
    period_end: Day | None = Field(None, description="The same day as period_start when left out")
    note: str = ""


class IngestIn(Schema):
    records: list[IngestRecordIn] = Field(description="One to 5,000 records; none is stored unless all are good")


# ---------------------------------------------------------------- standard measures


class StandardMeasureOut(Schema):
    key: str
    name: str
    unit: str = Field(description="%, or money: the organisation's currency")
    direction: Direction
    kind: MetricKind
    how_measured: str
    why: str


class StandardMeasurePage(Schema):
    items: list[StandardMeasureOut]
    count: WholeNumber
    next_cursor: NextCursor


class StandardMeasureIn(Schema):
    measure: str = Field(description="The key of a standard measure (GET /standard-measures)")
    target: DecimalIn | None = Field(None, description="A target, where one applies")


class StandardMeasureAdded(Schema):
    """Where the measure went: the service's open draft (opened if there was none). It is
    reported once that version is approved."""

    version: WholeNumber = Field(description="The number of the draft it was added to")
    revision: WholeNumber = Field(description="The draft's revision after the change")
    key: str
    name: str
    unit: str
    direction: Direction
    kind: MetricKind
    target: DecimalOut | None


# ---------------------------------------------------------------- the executive's figures


class FigureFilters(PageQuery):
    retired: bool = Field(False, description="true: the retired figures instead of those in use")


class FigureOut(Schema):
    slug: str
    name: str
    description: str
    expression: str = Field(description="As written back by the parser, e.g. sum(cost where users = external)")
    unit: str
    grain: Grain = Field(description="The periods it is computed for: month, quarter or year")
    within: Within = Field(description="How one service's values inside a period are combined")
    retired_at: Moment | None
    created_by: PersonRef
    created_at: Moment
    revision: WholeNumber = Field(description="Send it back as expected_revision to redefine the figure")


class FigurePage(Schema):
    items: list[FigureOut] = Field(description="By name")
    count: WholeNumber
    next_cursor: NextCursor


class FigureDetail(FigureOut):
    metrics: list[str] = Field(description="The metric keys the expression reads")


class FigureIn(Schema):
    name: str
    expression: str = Field(description="e.g. sum(cost where users = external) / sum(transactions); "
                                        "POST /figures/check tries one")
    description: str = ""
    unit: str = ""
    grain: Grain = "month"
    within: Within = "latest"


class FigureEditIn(FigureIn):
    expected_revision: WholeNumber = Field(description=_REVISION)


class FigureValuesQuery(Schema):
    count: WholeNumber | None = Field(None, ge=1, le=60,
                                      description="How many periods, up to today's (default: 12 months, 8 quarters "
                                                  "or 5 years)")


class FigureValueOut(Schema):
    label: str = Field(description="2026-10, 2026 Q4 or 2026")
    start: Day
    end: Day
    value: DecimalOut | None = Field(description="Null when it cannot be computed for the period")
    reason: str = Field(description="Why there is no value (no data, a division by zero…); empty otherwise")


class FigureValuesOut(Schema):
    figure: FigureOut
    items: list[FigureValueOut] = Field(description="The oldest period first")
    count: WholeNumber


class ExpressionIn(Schema):
    expression: str


class ExpressionOut(Schema):
    ok: bool = Field(description="Always true: an expression that does not parse answers 400")
    expression: str = Field(description="The expression as the parser writes it back")
    metrics: list[str] = Field(description="The metric keys it reads")


class ExpressionErrorOut(ErrorOut):
    position: WholeNumber | None = Field(None, description="Where in the expression the problem is (0 is the first "
                                                           "character)")


# ---------------------------------------------------------------- the network's fitness


class FitnessFilters(PageQuery):
    status: StatusFilter | None = Field(None, description="met, missed, no target, no data, or stale")
    stage: Lifecycle | None = Field(None, description="Only the services at this lifecycle stage")
    q: str = Field("", description="Words, each the start of a word of the service's name or the metric's "
                                   "name or key (case and accents aside)")


class FitnessRow(Schema):
    service: ServiceRef
    key: str
    name: str
    unit: str
    direction: Direction
    target: DecimalOut | None
    latest_value: DecimalOut | None
    latest_end: Day | None
    due_on: Day | None
    status: FitnessStatus
    stale: bool
    count: WholeNumber = Field(description="How many values have been recorded")


class FitnessPage(Schema):
    items: list[FitnessRow] = Field(description="By service, then in the contract's order")
    count: WholeNumber
    next_cursor: NextCursor


# ---------------------------------------------------------------- capital flow


class BudgetPeriodOut(Schema):
    period: str = Field(description="A budget period, e.g. 2026-27")


class BudgetPeriodPage(Schema):
    items: list[BudgetPeriodOut] = Field(description="The latest first")
    count: WholeNumber
    next_cursor: NextCursor


class CapitalFlowRow(Schema):
    service: ServiceRef
    direct: Money = Field(description="What the service spent itself in the period")
    fully_loaded: Money = Field(description="Its direct spend plus its shares of the providers it consumed")
    external_share: DecimalOut = Field(description="The share of its consumption that went to external users (0 to 1)")
    external_cost: Money = Field(description="The part of its fully loaded cost that reached external users")
    transactions: WholeNumber | None = Field(description="Transactions it completed in the period; null if not recorded")
    cost_per_transaction: DecimalOut | None = Field(description="Fully loaded cost ÷ transactions, to 4 places")


class CapitalFlowOut(Schema):
    """A budget period costed by the reciprocal method (model 11). The external costs of
    all services add up to the total direct spend; a difference is shown as unallocated."""

    period: str
    items: list[CapitalFlowRow] = Field(description="By service name; limit and offset page them")
    count: WholeNumber
    next_cursor: NextCursor
    total_direct: Money
    total_external: Money
    unallocated: Money = Field(description="total_direct − total_external: zero when every penny is accounted for")


class CapitalFlowErrorOut(ErrorOut):
    services: list[ServiceRef] = Field(default_factory=list, description="The services at fault, e.g. those of a "
                                                                         "cycle that money never leaves")


class ProviderCostOut(Schema):
    service: ServiceRef = Field(description="A provider upstream, or the service itself")
    amount: Money = Field(description="How much of that provider's direct spend sits inside this service's cost")
    per_transaction: DecimalOut | None = Field(description="The same per transaction, to 4 places")


class ConsumerShareOut(Schema):
    service: ServiceRef
    share: DecimalOut = Field(description="The share of this service's consumption it used")


class ServiceFlowOut(CapitalFlowRow):
    period: str
    providers: list[ProviderCostOut] = Field(description="Where its fully loaded cost comes from, adding up to it")
    consumers: list[ConsumerShareOut] = Field(description="Who used this service in the period, and how much")


class SharesIn(Schema):
    shares: dict[str, ShareIn] = Field(description="Consumer slug → share; replaces the provider's shares for the "
                                                   "period. What is not shared out went to external users")


class SharesOut(Schema):
    provider: ServiceRef
    period: str
    shares: list[ConsumerShareOut]
    internal: DecimalOut = Field(description="The shares added up")
    external: DecimalOut = Field(description="1 − internal: what went to external users")


class TransactionsIn(Schema):
    transactions: WholeNumber = Field(description="Transactions completed in the period, 0 or more")


class TransactionsOut(Schema):
    service: ServiceRef
    period: str
    transactions: WholeNumber

