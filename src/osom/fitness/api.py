"""API routes for fitness data (model 5.3, 5.4, 11): each service's metrics against their
targets and its measurements, entered by hand, uploaded as CSV or pushed by the service's
own systems with an ingest token; the standard measures; the executive's figures across
services; the network's fitness; and capital flow, costed by the reciprocal method.

Reads use ``queries``; every write is one call to an action, which checks the caller's
right, the rules and writes the audit event. ``POST /ingest`` is the one route that is not
called as a person: it takes only a service's ingest token, and an ingest token opens no
other route (personal tokens and ingest tokens are different tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Status
from ninja.security import HttpBearer

from osom.api.schemas import READ_ERRORS, WRITE_ERRORS, PageQuery, decimal_text, page, page_rows
from osom.core.api import actor
from osom.core.errors import DomainError, NotFound
from osom.core.gcpause import cycle_collection_paused
from osom.core.policy import authorise
from osom.lifecycle.api_schemas import money_text
from osom.network.models import Service

from . import actions, expressions, queries
from .api_schemas import (
    BudgetPeriodPage,
    MetricCadenceIn,
    MetricCadenceOut,
    CapitalFlowErrorOut,
    CapitalFlowOut,
    CsvIn,
    CsvQuery,
    ExpressionErrorOut,
    ExpressionIn,
    ExpressionOut,
    FigureDetail,
    FigureEditIn,
    FigureFilters,
    FigureIn,
    FigureOut,
    FigurePage,
    FigureValuesOut,
    FigureValuesQuery,
    FitnessFilters,
    FitnessPage,
    ImportOut,
    IngestIn,
    IngestTokenIn,
    IngestTokenIssued,
    IngestTokenOut,
    IngestTokenPage,
    MeasurementFilters,
    MeasurementIn,
    MeasurementOut,
    MeasurementPage,
    ServiceFitnessOut,
    ServiceFlowOut,
    SharesIn,
    SharesOut,
    StandardMeasureAdded,
    StandardMeasureIn,
    StandardMeasurePage,
    TransactionsIn,
    TransactionsOut,
)
from .capital import round_fraction
from .models import Aggregation, ConsumptionShare, IngestToken, Measurement
from .standard import STANDARD_MEASURES

__all__ = ["router", "IngestBearer"]

router = Router(tags=["fitness"])


# ---------------------------------------------------------------- finding what a request names


def _service(slug: str) -> Service:
    """The service a path names, or a 404."""
    service = Service.objects.select_related("manager").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="slug")
    return service


def _figure(slug: str) -> Aggregation:
    figure = Aggregation.objects.select_related("created_by").filter(slug=slug).first()
    if figure is None:
        raise NotFound(f"There is no figure “{slug}”; GET /figures lists them.", field="slug")
    return figure


@contextmanager
def _fields_named(**names: str) -> Iterator[None]:
    """Refusals name the fields as this API's bodies do (``metric``), where the action
    names them by its own arguments (``metric_key``)."""
    try:
        yield
    except DomainError as exc:
        def rename(name: str) -> str:
            if name in names:
                return names[name]
            if "*" in names and name.startswith("metrics[") and name.endswith(".target"):
                return names["*"]  # a standard measure's target, checked within the whole contract
            return name

        exc.field = rename(exc.field) if exc.field else exc.field
        exc.errors = {rename(name): texts for name, texts in exc.errors.items()}
        raise


# ---------------------------------------------------------------- a service's fitness


def _metric_out(view: queries.MetricView) -> dict[str, Any]:
    metric, series = view.metric, view.series
    return {
        "key": metric.key, "name": metric.name, "unit": metric.unit, "kind": metric.kind,
        "direction": metric.direction, "target": decimal_text(metric.target),
        "latest_value": decimal_text(series.latest_value) if series else None,
        "latest_start": series.latest_start if series else None, "latest_end": series.latest_end if series else None,
        "status": view.status, "stale": view.stale, "due_on": series.due_on if series else None,
        "cadence_days": view.cadence_days, "count": series.count if series else 0,
    }


@router.get("/services/{slug}/fitness", response={200: ServiceFitnessOut, **READ_ERRORS})
def get_service_fitness(request: HttpRequest, slug: str):
    """Each metric of the service's current contract with its target, its latest value and
    period, whether that meets the target, when the next value is due and whether it is
    overdue (``stale``)."""
    service = _service(slug)
    return {"service": service, "metrics": [_metric_out(v) for v in queries.service_fitness(service, points=0)]}


def _measurement_out(m: Measurement) -> dict[str, Any]:
    return {"id": m.pk, "metric": m.metric_key, "period_start": m.period_start, "period_end": m.period_end,
            "value": decimal_text(m.value), "measured_at": m.measured_at, "source": m.source,
            "record_id": m.record_id, "note": m.note, "recorded_by": m.recorded_by, "recorded_at": m.recorded_at}


@router.get("/services/{slug}/measurements", response={200: MeasurementPage, **READ_ERRORS})
def list_measurements(request: HttpRequest, slug: str, filters: Query[MeasurementFilters]):
    """The service's measurements, the latest period first (filters: ``metric``, and
    ``since`` and ``until``, days the period ends between)."""
    service = _service(slug)
    qs = (Measurement.objects.filter(service=service).select_related("recorded_by")
          .order_by("-period_end", "-period_start", "metric_key", "-pk"))
    if filters.metric.strip():
        qs = qs.filter(metric_key=filters.metric.strip())
    if filters.since:
        qs = qs.filter(period_end__gte=filters.since)
    if filters.until:
        qs = qs.filter(period_end__lte=filters.until)
    result = page(qs, filters)
    return {"items": [_measurement_out(m) for m in result["items"]], "count": result["count"], "next_cursor": result["next_cursor"]}


@router.post("/services/{slug}/measurements", response={201: MeasurementOut, **WRITE_ERRORS})
def record_measurement(request: HttpRequest, slug: str, payload: MeasurementIn):
    """Record a value of one of the service's metrics for the period it covers (the
    service's manager or team). A period already measured is refused (409) unless
    ``replace`` is true."""
    with _fields_named(metric_key="metric"):
        m = actions.record_measurement(
            actor=actor(request), service=_service(slug), metric_key=payload.metric, value=payload.value,
            period_start=payload.period_start, period_end=payload.period_end, measured_at=payload.measured_at,
            note=payload.note, replace=payload.replace)
    return Status(201, _measurement_out(Measurement.objects.select_related("recorded_by").get(pk=m.pk)))


@router.post("/services/{slug}/measurements/csv", response={200: ImportOut, **WRITE_ERRORS})
def import_measurements(request: HttpRequest, slug: str, payload: CsvIn):
    """Upload measurements as CSV text (the columns ``metric, period_start, period_end,
    value, measured_at, note``, as ``measurements.csv`` exports them). Every bad row is
    reported (400, ``errors`` keyed ``row N``) and then nothing is recorded; a row for a
    period already measured replaces its value."""
    with _fields_named(file="csv"):
        result = actions.import_measurements_csv(actor=actor(request), service=_service(slug), text=payload.csv)
    return {"created": result.created, "replaced": result.replaced}


@router.get(
    "/services/{slug}/measurements.csv",
    response=READ_ERRORS,
    openapi_extra={"responses": {"200": {
        "description": "The service's measurements as CSV, in the columns an upload reads",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }}},
)
def export_measurements(request: HttpRequest, slug: str, query: Query[CsvQuery]):
    """The service's measurements as CSV (filter: ``metric``), in the columns an upload
    reads, so an export can be corrected and uploaded again."""
    service = _service(slug)
    response = HttpResponse(queries.measurements_csv(service, query.metric.strip()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{service.slug}-measurements.csv"'
    return response


@router.put("/services/{slug}/metrics/{key}/cadence", response={200: MetricCadenceOut, **WRITE_ERRORS})
def set_cadence(request: HttpRequest, slug: str, key: str, payload: MetricCadenceIn):
    """How often the service promises to report a metric, in days (its manager); a
    metric whose next value is later than that is stale."""
    with _fields_named(metric_key="key"):
        series = actions.set_measurement_cadence(actor=actor(request), service=_service(slug), metric_key=key,
                                                 days=payload.days)
    return {"metric": series.metric_key, "cadence_days": series.cadence_days, "due_on": series.due_on,
            "stale": bool(series.due_on and series.due_on < timezone.localdate())}


# ---------------------------------------------------------------- ingest tokens and pushes


@router.get("/services/{slug}/ingest-tokens", response={200: IngestTokenPage, **READ_ERRORS})
def list_ingest_tokens(request: HttpRequest, slug: str, query: Query[PageQuery]):
    """The service's ingest tokens, the newest first (never the tokens themselves): for
    those who may revoke them, as on the page."""
    service = _service(slug)
    authorise(actor(request), "revoke_ingest_token", service=service)
    return page(IngestToken.objects.filter(service=service).select_related("created_by").order_by("-created_at", "-pk"),
                query)


@router.post("/services/{slug}/ingest-tokens", response={201: IngestTokenIssued, **WRITE_ERRORS})
def issue_ingest_token(request: HttpRequest, slug: str, payload: IngestTokenIn):
    """Issue a token for the service's own systems to push measurements to POST /ingest
    (its manager). The answer holds the token itself, shown this once."""
    token, raw = actions.issue_ingest_token(actor=actor(request), service=_service(slug), label=payload.label)
    token = IngestToken.objects.select_related("created_by").get(pk=token.pk)
    return Status(201, {**{name: getattr(token, name) for name in IngestTokenOut.model_fields}, "token": raw})


@router.post("/ingest-tokens/{token_id}/revoke", response={200: IngestTokenOut, **WRITE_ERRORS})
def revoke_ingest_token(request: HttpRequest, token_id: int):
    """Revoke an ingest token (the service's manager, or the executive): pushes with it
    are refused from now on."""
    token = IngestToken.objects.select_related("service").filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"There is no ingest token with id {token_id}.", field="token_id")
    actions.revoke_ingest_token(actor=actor(request), token=token)
    return IngestToken.objects.select_related("created_by").get(pk=token_id)


class _Unauthorised(DomainError):
    status = 401
    code = "unauthorised"


class IngestBearer(HttpBearer):
    """``Authorization: Bearer osomi_…`` with a service's ingest token, and nothing else:
    a personal API token or a signed-in session cannot push measurements. A refusal says
    why, instead of the API's general request for a personal token."""

    def __call__(self, request: HttpRequest) -> Any:
        scheme, _, token = (request.headers.get(self.header) or "").partition(" ")
        token = token.strip()
        if scheme.lower() != self.openapi_scheme or not token.startswith(IngestToken.PREFIX):
            raise _Unauthorised("POST /ingest takes a service's ingest token, sent as 'Authorization: Bearer osomi_…'; "
                                "a personal API token or a signed-in session cannot push measurements.")
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> str:
        if IngestToken.find(token) is None:
            raise _Unauthorised("This ingest token is unknown or was revoked; ask the service's manager for a new one.")
        return token


@router.post("/ingest", auth=IngestBearer(), response={**WRITE_ERRORS, 200: ImportOut})
def ingest(request: HttpRequest, payload: IngestIn):
    """A service's own systems push measurements with its ingest token (``Authorization:
    Bearer osomi_…``; no other credential is accepted). Each record names its ``id``: a
    record resent with the same id replaces the one sent before, so retries never count
    twice. Every bad record is reported (400, fields ``records[N].…``) and then none is
    stored."""
    records = [r.model_dump(exclude_none=True) for r in payload.records]
    result = actions.ingest_measurements(token=request.auth, records=records)  # type: ignore[attr-defined]
    return {"created": result.created, "replaced": result.replaced}


# ---------------------------------------------------------------- standard measures


@router.get("/standard-measures", response={200: StandardMeasurePage, **READ_ERRORS})
def list_standard_measures(request: HttpRequest, query: Query[PageQuery]):
    """The four measures a customer-facing service commonly reports besides its own
    (model 11), ready to add to a contract."""
    items = [{"key": m.key, "name": m.name, "unit": m.unit, "direction": m.direction, "kind": m.kind,
              "how_measured": m.how_measured, "why": m.why} for m in STANDARD_MEASURES]
    return page_rows(items, query, key=lambda m: m["key"], scope="standard-measures")


@router.post("/services/{slug}/standard-measures", response={201: StandardMeasureAdded, **WRITE_ERRORS})
def add_standard_measure(request: HttpRequest, slug: str, payload: StandardMeasureIn):
    """Add a standard measure, with an optional ``target``, to the service's draft contract
    (its manager or the executive; a draft is opened if none is). It is reported once
    that version is approved."""
    with _fields_named(**{"*": "target"}):
        draft = actions.add_standard_measure(actor=actor(request), service=_service(slug), measure=payload.measure,
                                             target=payload.target)
    metric = draft.metrics.get(key=payload.measure.strip())
    return Status(201, {"version": draft.number, "revision": draft.revision, "key": metric.key, "name": metric.name,
                        "unit": metric.unit, "direction": metric.direction, "kind": metric.kind,
                        "target": decimal_text(metric.target)})


# ---------------------------------------------------------------- the executive's figures


def _figure_detail(figure: Aggregation) -> dict[str, Any]:
    metrics: list[str] = []
    try:
        metrics = sorted(expressions.parse(figure.expression, fields=actions.AGGREGATION_FIELDS).metrics())
    except expressions.ExpressionError:  # stored before the language changed: shown, not computed
        pass
    return {**{name: getattr(figure, name) for name in FigureOut.model_fields}, "metrics": metrics}


@router.get("/figures", response={200: FigurePage, **READ_ERRORS})
def list_figures(request: HttpRequest, filters: Query[FigureFilters]):
    """The figures the executive defined across services, by name: those in use, or the
    retired ones (``retired=true``)."""
    qs = Aggregation.objects.select_related("created_by").filter(retired_at__isnull=not filters.retired)
    return page(qs.order_by("name", "pk"), filters)


@router.post("/figures", response={201: FigureDetail, **WRITE_ERRORS})
def define_figure(request: HttpRequest, payload: FigureIn):
    """Define a figure across services (the executive): an expression over metrics, e.g.
    ``sum(cost where users = external) / sum(transactions)``, computed for each month,
    quarter or year."""
    figure = actions.define_aggregation(actor=actor(request), name=payload.name, expression=payload.expression,
                                        description=payload.description, unit=payload.unit, grain=payload.grain,
                                        within=payload.within)
    return Status(201, _figure_detail(_figure(figure.slug)))


@router.post("/figures/check", response={**WRITE_ERRORS, 200: ExpressionOut, 400: ExpressionErrorOut})
def check_expression(request: HttpRequest, payload: ExpressionIn):
    """Try an expression without saving it: how the parser reads it and the metrics it
    names, or (400) what is wrong and at which ``position``."""
    try:
        parsed = expressions.parse(payload.expression, fields=actions.AGGREGATION_FIELDS)
    except expressions.ExpressionError as exc:
        return Status(400, {"error": "invalid", "message": exc.message, "field": "expression",
                            "errors": [{"field": "expression", "message": exc.message}], "position": exc.position})
    return {"ok": True, "expression": str(parsed), "metrics": sorted(parsed.metrics())}


@router.get("/figures/{slug}", response={200: FigureDetail, **READ_ERRORS})
def get_figure(request: HttpRequest, slug: str):
    """A figure: its expression, the metrics it reads, its grain and how a service's
    values within a period are combined."""
    return _figure_detail(_figure(slug))


@router.put("/figures/{slug}", response={200: FigureDetail, **WRITE_ERRORS})
def redefine_figure(request: HttpRequest, slug: str, payload: FigureEditIn):
    """Redefine a figure (the executive); 409 if it changed since ``expected_revision``."""
    actions.define_aggregation(actor=actor(request), aggregation=_figure(slug), name=payload.name,
                               expression=payload.expression, description=payload.description, unit=payload.unit,
                               grain=payload.grain, within=payload.within,
                               expected_revision=payload.expected_revision)
    return _figure_detail(Aggregation.objects.select_related("created_by").get(slug=slug))


@router.post("/figures/{slug}/retire", response={200: FigureDetail, **WRITE_ERRORS})
def retire_figure(request: HttpRequest, slug: str):
    """Retire a figure (the executive): it is kept, but no longer shown with those in use."""
    actions.retire_aggregation(actor=actor(request), aggregation=_figure(slug))
    return _figure_detail(_figure(slug))


@router.get("/figures/{slug}/values", response={200: FigureValuesOut, **READ_ERRORS})
def get_figure_values(request: HttpRequest, slug: str, query: Query[FigureValuesQuery]):
    """The figure for each recent period, the oldest first: a value (an exact decimal as a
    string), or null with the reason it cannot be computed."""
    figure = _figure(slug)
    try:
        values = queries.aggregation_values(figure, count=query.count)
    except expressions.ExpressionError as exc:  # stored before the language changed: shown, not computed
        values = [{"period": p, "value": None, "reason": f"the expression no longer reads: {exc.message}"}
                  for p in queries.periods_for(figure.grain, count=query.count)]
    items = [{"label": v["period"].label, "start": v["period"].start, "end": v["period"].end,
              "value": decimal_text(v["value"]), "reason": v["reason"]} for v in values]
    return {"figure": figure, "items": items, "count": len(items)}


# ---------------------------------------------------------------- the network's fitness


@router.get("/fitness", response={200: FitnessPage, **READ_ERRORS})
def network_fitness(request: HttpRequest, filters: Query[FitnessFilters]):
    """Every metric of every current contract with its latest value against its target
    (filters: ``status`` met, missed, no target, no data or stale; ``stage``; words ``q``)."""
    today = timezone.localdate()
    qs = queries.fitness_overview(status=filters.status or "", q=filters.q.strip(), stage=filters.stage or "",
                                  today=today)
    result = page(qs, filters)
    items = [{"service": s.service, "key": s.metric_key, "name": s.metric.name, "unit": s.metric.unit,
              "direction": s.metric.direction, "target": decimal_text(s.metric.target),
              "latest_value": decimal_text(s.latest_value), "latest_end": s.latest_end, "due_on": s.due_on,
              "status": s.status, "stale": bool(s.due_on and s.due_on < today), "count": s.count}
             for s in result["items"]]
    return {"items": items, "count": result["count"], "next_cursor": result["next_cursor"]}


# ---------------------------------------------------------------- capital flow


@router.get("/capital-flow", response={200: BudgetPeriodPage, **READ_ERRORS})
def list_budget_periods(request: HttpRequest, query: Query[PageQuery]):
    """The budget periods that have spending or consumption shares recorded, the latest first."""
    result = page_rows(queries.budget_periods_with_flow(), query, key=str, scope="capital-flow")
    return {**result, "items": [{"period": p} for p in result["items"]]}


def _share_text(value: Fraction | Decimal) -> str:
    return decimal_text(round_fraction(Fraction(value), 6))


def _flow(period: str) -> queries.CapitalFlowView:
    """The period's capital flow (``flow`` is None when it cannot be computed), or 404
    when nothing is recorded for it."""
    view = queries.capital_flow_for(period)
    if not view.services:
        raise NotFound(f"Nothing is recorded for the budget period “{period}”; GET /capital-flow lists them.",
                       field="period")
    return view


def _refused(view: queries.CapitalFlowView):
    """409 naming the services at fault, e.g. those of a cycle that money never leaves."""
    names = ", ".join(s.name for s in view.error_services)
    message = f"The capital flow of {view.period} cannot be computed: {view.error}."
    if names and names not in message:
        message += f" Services: {names}."
    return Status(409, {"error": "conflict", "message": message, "field": "period",
                        "errors": [{"field": "period", "message": message}], "services": view.error_services})


def _row(view: queries.CapitalFlowView, pk: int) -> dict[str, Any]:
    flow = view.flow
    count = view.transactions.get(pk)
    return {"service": view.services[pk], "direct": money_text(flow.direct[pk]),
            "fully_loaded": money_text(flow.fully_loaded[pk]), "external_share": _share_text(flow.external_share[pk]),
            "external_cost": money_text(flow.external_cost_balanced[pk]), "transactions": count,
            "cost_per_transaction": decimal_text(flow.cost_per_transaction(pk, count)) if count else None}


@router.get("/capital-flow/{path:period}/services/{slug}",
            response={200: ServiceFlowOut, 409: CapitalFlowErrorOut, **READ_ERRORS})
def get_service_flow(request: HttpRequest, period: str, slug: str):
    """One service's cost in a budget period: how much of each upstream provider's direct
    spend sits inside its fully loaded cost (adding up to it, to the penny), per
    transaction too, and who consumed it."""
    service = _service(slug)
    with cycle_collection_paused():
        return _service_flow(service, period)


def _service_flow(service: Service, period: str):
    view = _flow(period)
    if view.flow is None:
        return _refused(view)
    if service.pk not in view.services:
        raise NotFound(f"{service.name} has no spending or consumption recorded in {period}.", field="slug")
    flow, count = view.flow, view.transactions.get(service.pk)
    per = flow.breakdown_per_transaction(service.pk, count) if count else None
    providers = [{"service": view.services[k], "amount": money_text(amount),
                  "per_transaction": decimal_text(per[k]) if per else None}
                 for k, amount in flow.breakdown(service.pk).items()]
    consumers = sorted(((view.services[c], share) for (p, c), share in view.shares.items() if p == service.pk),
                       key=lambda pair: pair[0].name.casefold())
    return {**_row(view, service.pk), "period": period, "providers": providers,
            "consumers": [{"service": s, "share": _share_text(share)} for s, share in consumers]}


@router.get("/capital-flow/{path:period}", response={200: CapitalFlowOut, 409: CapitalFlowErrorOut, **READ_ERRORS})
def get_capital_flow(request: HttpRequest, period: str, query: Query[PageQuery]):
    """A budget period costed by the reciprocal method (model 11): for each service its
    direct spend, its fully loaded cost (with its shares of the providers it consumed),
    the share and cost that reached external users, and its cost per transaction. The
    external costs add up to the total direct spend; any difference is ``unallocated``.
    409 names the services of a cycle that money never leaves."""
    with cycle_collection_paused():
        return _capital_flow(period, query)


def _capital_flow(period: str, query: PageQuery):
    view = _flow(period)
    if view.flow is None:
        return _refused(view)
    ordered = view.made("by name", lambda: sorted(view.services, key=lambda pk: (view.services[pk].name.casefold(), pk)))
    flow = view.flow
    shown = page_rows(ordered, query, key=int, scope=f"capital-flow:{period}")
    return {"period": period, "items": [_row(view, pk) for pk in shown["items"]],
            "count": shown["count"], "next_cursor": shown["next_cursor"], "total_direct": money_text(flow.total_direct),
            "total_external": money_text(flow.total_external), "unallocated": money_text(flow.unallocated)}


@router.put("/services/{slug}/consumption/{path:period}", response={200: SharesOut, **WRITE_ERRORS})
def record_consumption_shares(request: HttpRequest, slug: str, period: str, payload: SharesIn):
    """Record how the service's consumption in a budget period was shared among the
    services consuming it (its manager or the executive): ``{consumer slug: share}``,
    each between 0 and 1 or a percentage; what is not shared out went to external users.
    Replaces the period's shares of this service as a whole."""
    provider = _service(slug)
    actions.record_consumption_shares(actor=actor(request), provider=provider, period=period, shares=payload.shares)
    rows = list(ConsumptionShare.objects.filter(period=period.strip(), provider=provider).select_related("consumer")
                .order_by("consumer__name", "pk"))
    internal = sum((r.share for r in rows), Decimal(0))
    return {"provider": provider, "period": period.strip(),
            "shares": [{"service": r.consumer, "share": decimal_text(r.share)} for r in rows],
            "internal": decimal_text(internal), "external": decimal_text(1 - internal)}


@router.put("/services/{slug}/transactions/{path:period}", response={200: TransactionsOut, **WRITE_ERRORS})
def record_transactions(request: HttpRequest, slug: str, period: str, payload: TransactionsIn):
    """How many transactions the service completed in a budget period (its manager or
    team): the divisor of its cost per transaction."""
    service = _service(slug)
    volume = actions.record_transactions(actor=actor(request), service=service, period=period,
                                         transactions=payload.transactions)
    return {"service": service, "period": volume.period, "transactions": volume.transactions}

