"""Reads of fitness data shared by pages, the API, the command line and exports: each
metric's status against its target, stale series, the executive's figures over time, and
capital flow. Query counts do not grow with the number of services."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable, TypeVar

from django.db.models import CharField, Count, F, Q, Sum, Window
from django.db.models.functions import Cast, RowNumber
from django.utils import timezone

from osom.core.kept import KeptUntilWritten
from osom.network.models import Metric, Service
from osom.network.stages import Lifecycle
from osom.search.queries import Matches, query_words

from . import expressions
from .models import (
    MET, MISSED, NO_DATA, NO_TARGET, Aggregation, ConsumptionShare, Measurement, MetricSeries, PeriodVolume, status_of,
)

__all__ = [
    "MET", "MISSED", "NO_TARGET", "NO_DATA", "status_of", "service_fitness", "MetricView", "fitness_overview",
    "fitness_counts", "person_fitness_items", "network_fitness_counts", "measurements_csv", "periods_for", "aggregation_values",
    "budget_periods_with_flow", "capital_flow_for", "CapitalFlowView", "FlowService",
]


@dataclass
class MetricView:
    metric: Metric
    series: MetricSeries | None
    status: str
    stale: bool
    points: list[Measurement] = field(default_factory=list)

    @property
    def cadence_days(self) -> int:
        return self.series.cadence_days if self.series else MetricSeries.DEFAULT_CADENCE_DAYS


def service_fitness(service: Service, *, today: dt.date | None = None, points: int = 24,
                    contract=None) -> list[MetricView]:
    """Each metric of the service's current contract with its latest value, status,
    staleness and the last ``points`` measurements for a chart. Three queries, or two when
    the page has read the current ``contract`` with its metrics already."""
    if service.current_version_id is None:
        return []
    today = today or timezone.localdate()
    if contract is not None and contract.pk == service.current_version_id:
        metrics = sorted(contract.metrics.all(), key=lambda m: (m.position, m.pk))
    else:
        metrics = list(Metric.objects.filter(version_id=service.current_version_id).order_by("position", "pk"))  # 1
    series = {s.metric_key: s for s in MetricSeries.objects.filter(service=service)}  # 2
    history: dict[str, list[Measurement]] = defaultdict(list)
    keys = [m.key for m in metrics]
    # 3: the latest ``points`` measurements of every metric at once, numbered per metric by
    # a window function so that a metric reported daily cannot crowd out the others
    recent = (Measurement.objects.filter(service=service, metric_key__in=keys)
              .annotate(rank=Window(RowNumber(), partition_by=[F("metric_key")],
                                    order_by=[F("period_end").desc(), F("period_start").desc()]))
              .filter(rank__lte=points).order_by("metric_key", "-period_end"))
    for m in recent:
        history[m.metric_key].append(m)
    views = []
    for metric in metrics:
        s = series.get(metric.key)
        value = s.latest_value if s else None
        stale = bool(s and s.due_on and s.due_on < today)
        views.append(MetricView(metric, s, status_of(value, metric.target, metric.direction), stale,
                                list(reversed(history.get(metric.key, [])))))
    return views


def fitness_overview(*, status: str = "", q: str = "", stage: str = "", today: dt.date | None = None,
                     services=None):
    """Every metric of every current contract, as its series (with the metric, the
    service and its manager), with its latest value and status, for the network's fitness
    page; filterable by status (met, missed, no target, no data, stale), by words (each
    must begin a word of the service's name or the metric's name or key, as in search,
    read from the series' full-text index), and by lifecycle stage. A decommissioned
    service's metrics are left out unless that stage is asked for: it reports nothing any
    more, its last values are history.

    The status and what the order needs are kept on each series (:mod:`osom.fitness.series`),
    so a count reads an index and a page reads its own rows: one query for the rows
    (plus a count), whatever the size of the network."""
    today = today or timezone.localdate()
    if stage == Lifecycle.DECOMMISSIONED:
        qs = MetricSeries.objects.filter(metric__isnull=False, stage=stage)
    else:
        qs = MetricSeries.objects.filter(current=True)
        if stage:
            qs = qs.filter(stage=stage)
    qs = qs.select_related("metric", "service", "service__manager").defer("metric__how_measured")
    if services is not None:
        qs = qs.filter(service__in=services)
    if q:
        found = query_words(q)
        qs = qs.filter(Matches(found, fts="series_fts", vector="terms_vector")) if found else qs.none()
    if status == "stale":
        qs = qs.filter(due_on__lt=today)
    elif status in (MET, MISSED, NO_TARGET, NO_DATA):
        qs = qs.filter(status=status)
    return qs.order_by("service_name", "position", "pk")


def fitness_counts(*, q: str = "", stage: str = "", today: dt.date | None = None) -> dict[str, int]:
    """How many metrics of the network's fitness page have each status, and how many are
    stale (``"stale"``), with the same filters: two queries, each counted from an index of
    the series."""
    today = today or timezone.localdate()
    base = fitness_overview(q=q, stage=stage, today=today)
    counts = {row["status"]: row["n"] for row in base.order_by().values("status").annotate(n=Count("pk"))}
    counts["stale"] = base.filter(due_on__lt=today).count()
    return counts


def person_fitness_items(person, *, today: dt.date | None = None) -> dict:
    """What a manager's dashboard shows: their services' missed targets and stale series
    (one query, whatever the number of services)."""
    today = today or timezone.localdate()
    rows = list(fitness_overview().filter(service__manager=person).filter(Q(status=MISSED) | Q(due_on__lt=today))[:50])
    missed = [m for m in rows if m.status == MISSED]
    stale = [m for m in rows if m.due_on and m.due_on < today]
    return {"missed": missed, "stale": stale}


def network_fitness_counts(*, today: dt.date | None = None) -> dict:
    """Counts of missed targets and stale series across the network, for the executive:
    two counts over indexes of the series."""
    today = today or timezone.localdate()
    current = MetricSeries.objects.filter(current=True)
    return {
        "missed": current.filter(status=MISSED).count(),
        "stale": current.filter(due_on__lt=today).count(),
    }


def measurements_csv(service: Service, metric_key: str = "") -> str:
    """The service's measurements as CSV, in the columns an upload reads, so an export can
    be corrected and uploaded again."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["metric", "period_start", "period_end", "value", "measured_at", "note", "source", "record_id"])

    def cell(text: str) -> str:
        # a spreadsheet must not read text the service or its systems wrote as a formula
        return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

    qs = Measurement.objects.filter(service=service).order_by("metric_key", "period_start", "period_end")
    if metric_key:
        qs = qs.filter(metric_key=metric_key)
    for m in qs.iterator(chunk_size=2000):
        writer.writerow([m.metric_key, m.period_start.isoformat(), m.period_end.isoformat(), format(m.value.normalize(), "f"),
                         m.measured_at.isoformat(), cell(m.note), m.source, cell(m.record_id)])
    return out.getvalue()


# --- the executive's figures -------------------------------------------------------

@dataclass(frozen=True)
class Period:
    label: str
    start: dt.date
    end: dt.date


def _month_start(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def periods_for(grain: str, *, count: int | None = None, today: dt.date | None = None) -> list[Period]:
    """The last ``count`` whole-or-current periods of a grain, oldest first."""
    today = today or timezone.localdate()
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    count = count or {"month": 12, "quarter": 8, "year": 5}[grain]
    if grain == "year":
        anchor = dt.date(today.year, 1, 1)
    elif grain == "quarter":
        anchor = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    else:
        anchor = dt.date(today.year, today.month, 1)
    periods = []
    for i in range(count - 1, -1, -1):
        start = _month_start(anchor, i * months)
        end = _month_start(start, -months) - dt.timedelta(days=1)
        if grain == "year":
            label = str(start.year)
        elif grain == "quarter":
            label = f"{start.year} Q{(start.month - 1) // 3 + 1}"
        else:
            label = start.strftime("%Y-%m")
        periods.append(Period(label, start, end))
    return periods


def _attributes(service_row: dict) -> dict[str, str]:
    return {"stage": service_row["service__lifecycle_stage"], "evolution": service_row["service__evolution_stage"],
            "users": service_row["service__user_type"], "service": service_row["service__slug"]}


def aggregation_values(aggregation: Aggregation, *, today: dt.date | None = None, count: int | None = None) -> list[dict]:
    """The figure for each recent period: ``{"period", "value", "reason"}``. One query per
    distinct metric the expression names. A service's value for a period combines its
    measurements whose period ends in it (the latest, their sum or their mean); services
    are filtered by their stages today."""
    from .actions import AGGREGATION_FIELDS

    expression = expressions.parse(aggregation.expression, fields=AGGREGATION_FIELDS)
    periods = periods_for(aggregation.grain, count=count, today=today)
    first, last = periods[0].start, periods[-1].end
    starts = [p.start for p in periods]
    # metric -> period index -> service id -> (attributes, values in order of period end)
    data: dict[str, list[dict[int, tuple[dict, list[Decimal]]]]] = {}
    for metric in sorted(expression.metrics()):
        per_period: list[dict[int, tuple[dict, list[Decimal]]]] = [dict() for _ in periods]
        rows = (Measurement.objects.filter(metric_key=metric, period_end__gte=first, period_end__lte=last)
                .order_by("period_end", "pk")
                .values("service_id", "value", "period_end", "service__lifecycle_stage", "service__evolution_stage",
                        "service__user_type", "service__slug"))
        for row in rows.iterator(chunk_size=5000):
            index = _period_index(starts, row["period_end"])
            bucket = per_period[index].get(row["service_id"])
            if bucket is None:
                bucket = per_period[index][row["service_id"]] = (_attributes(row), [])
            bucket[1].append(row["value"])
        data[metric] = per_period

    def combine(values: list[Decimal]) -> Decimal:
        if aggregation.within == Aggregation.Within.SUM:
            return sum(values, Decimal(0))
        if aggregation.within == Aggregation.Within.MEAN:
            return sum(values, Decimal(0)) / len(values)
        return values[-1]

    out = []
    for i, period in enumerate(periods):
        def values(call, i=i):
            return [combine(vals) for attrs, vals in data[call.metric][i].values()
                    if expressions.matches(call.conditions, attrs)]
        result = expression.evaluate(values)
        out.append({"period": period, "value": result.value, "reason": result.reason})
    return out


def _period_index(starts: list[dt.date], day: dt.date) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= day:
            lo = mid
        else:
            hi = mid - 1
    return lo


# --- capital flow ------------------------------------------------------------------

def budget_periods_with_flow() -> list[str]:
    """Budget periods that have spending or consumption shares, latest first."""
    from osom.lifecycle.models import BudgetAllocation

    # without the models' default ordering, which would make the rows distinct by more than the period
    periods = set(BudgetAllocation.objects.order_by().values_list("period", flat=True).distinct())
    periods |= set(ConsumptionShare.objects.order_by().values_list("period", flat=True).distinct())
    return sorted(periods, reverse=True)


@dataclass(frozen=True, slots=True)
class FlowService:
    """A service as capital flow shows it (its name, address and stage): a period can hold
    tens of thousands of services, and plain rows read far faster than model instances."""

    pk: int
    name: str
    slug: str
    lifecycle_stage: str

    @property
    def id(self) -> int:
        return self.pk

    def __str__(self) -> str:
        return self.name


T = TypeVar("T")


@dataclass
class CapitalFlowView:
    period: str
    flow: object | None  # capital.CapitalFlow, or None when the period could not be computed
    error: str = ""
    error_services: list[FlowService] = field(default_factory=list)
    services: dict[int, FlowService] = field(default_factory=dict)
    direct: dict[int, Decimal] = field(default_factory=dict)
    shares: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    transactions: dict[int, int] = field(default_factory=dict)
    _made: dict = field(default_factory=dict, repr=False, compare=False)

    def made(self, key, make: Callable[[], T]) -> T:
        """What ``make()`` makes of this flow (the services in a page's order, the picture),
        made once: the view is kept and shared by the requests that follow until the next
        write (``capital_flow_for``), and must not be changed by them."""
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


def _capital_flow_of(period: str) -> CapitalFlowView:
    """Capital flow of one budget period by the reciprocal method (model 11): direct spend
    from the spending recorded against the period's allocations, shares as measured by
    providers. Three queries whatever the size of the network, and a fourth when a service
    shares or consumes in the period with no spending of its own (and, through
    ``capital_flow_for``, one more for the write mark)."""
    from osom.lifecycle.models import Spend

    from .capital import CapitalFlowError, compute_capital_flow

    # each service's direct spend with what the pages show of it (its name, address and
    # stage), in one pass over the period's spending. The spending is added up for each
    # allocation, and the allocations of a service (a top-up, a new stage) here: grouped by
    # the service's words instead, the database sorted every row by them (twice the time)
    direct, services = {}, {}
    for pk, name, slug, stage, total in (Spend.objects.filter(allocation__period=period).order_by()
                                         .values("allocation_id").annotate(total=Sum("amount"))
                                         .values_list("allocation__service_id", "allocation__service__name",
                                                      "allocation__service__slug", "allocation__service__lifecycle_stage",
                                                      "total")):
        if pk in direct:
            direct[pk] += total
        else:
            direct[pk] = total
            services[pk] = FlowService(pk, name, slug, stage)
    # in no particular order: sorting a period's hundred thousand shares would cost more
    # than reading them, and the flow is the same in any order. Each share is read as its
    # text, which Decimal reads exactly, rather than through the field's conversion, which
    # on SQLite rounds each one again (a third of the time of reading them)
    shares = {(p, c): Decimal(s) for p, c, s in ConsumptionShare.objects.filter(period=period).order_by()
              .values_list("provider_id", "consumer_id", Cast("share", CharField()))}
    transactions = dict(PeriodVolume.objects.filter(period=period).order_by().values_list("service_id", "transactions"))
    ids = set(direct) | {p for p, _ in shares} | {c for _, c in shares}
    # services that only share or consume in the period, with no spending of their own
    # (few, if any): chosen by the database, not by sending it every id
    if ids - services.keys():
        period_shares = ConsumptionShare.objects.filter(period=period).order_by()
        involved = Q(pk__in=period_shares.values("provider_id")) | Q(pk__in=period_shares.values("consumer_id"))
        services.update((row[0], FlowService(*row)) for row in Service.objects.filter(involved).exclude(
            pk__in=Spend.objects.filter(allocation__period=period).order_by().values("allocation__service_id"))
            .values_list("pk", "name", "slug", "lifecycle_stage") if row[0] in ids)
    services = dict(sorted(services.items()))
    view = CapitalFlowView(period, None, services=services, direct=direct, shares=shares, transactions=transactions)
    try:
        view.flow = compute_capital_flow({i: direct.get(i, Decimal(0)) for i in ids}, shares,
                                         name=lambda i: services[i].name if i in services else str(i))
    except CapitalFlowError as exc:
        view.error = exc.message[:1].upper() + exc.message[1:].rstrip(".") + "."
        view.error_services = [services[i] for i in getattr(exc, "services", []) if i in services]
    return view


# A period's flow takes seconds and much memory to work out at tens of thousands of
# services, and the same for every page of it, every service's share and every API call:
# it is kept, one period at a time, until anything is written (``osom.core.kept``). One
# more query each time: the write mark.
capital_flow_for: KeptUntilWritten[CapitalFlowView] = KeptUntilWritten(_capital_flow_of, size=1)
capital_flow_for.__doc__ = _capital_flow_of.__doc__
