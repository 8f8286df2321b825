"""The network's fitness at a glance and the executive's own figures (model 5.4): every
metric of every current contract with its status, filterable; the standard measures; and
the aggregations the executive defines across services, with a live check of the
expression as it is typed and the figure's values over time."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from osom.core.context import organisation_for
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Metric
from osom.network.stages import Evolution, Lifecycle, UserType

from . import actions, expressions, queries
from .charts import Point, format_period, format_value, line_chart
from .forms import AggregationForm, OverviewFilterForm
from .models import Aggregation
from .standard import STANDARD_MEASURES
from .views import STATUS_LABELS, target_text

__all__ = ["overview", "standard_measures", "figures", "figure_new", "figure_edit", "figure_page", "figure_retire",
           "check_expression", "EXAMPLES"]

KEYS_SHOWN = 80  # metric keys listed beside the figure form; the network's fitness page has them all
STATUS_ORDER = [queries.MISSED, "stale", queries.NO_DATA, queries.NO_TARGET, queries.MET]

# Worked examples for the reference beside the form: what to write, and what it computes.
EXAMPLES = [
    ("avg(availability where stage = live)", "The mean availability live services report."),
    ("min(availability where evolution in (product, commodity))",
     "The worst availability among product and commodity services."),
    ("median(completion where users = external)", "The middle completion rate of the services external users reach."),
    ("sum(monthly-cost) * 12", "What the services reporting a monthly cost cost in a year."),
    ("count(user-satisfaction where stage != live)", "How many services not yet live report user satisfaction."),
]


def _page(request, qs):
    return Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get("page"))


class _Counted:
    """Rows whose number is known already (the counts by status say it), so that the pager
    does not count them again."""

    def __init__(self, qs, count: int):
        self.qs, self.number = qs, count

    def count(self) -> int:
        return self.number

    def __getitem__(self, key):
        return self.qs[key]


# ---------------------------------------------------------------- the network's fitness

def overview(request):
    """Every metric of every current contract with its latest value and status: counts per
    status at the top (each a filter), then the metrics a page at a time. A fixed number of
    queries whatever the size of the network, each reading an index of the series (a
    search for words excepted); htmx asks for the results alone."""
    form = OverviewFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    q, stage, status = filters.get("q", ""), filters.get("stage", ""), filters.get("status", "")
    counts = queries.fitness_counts(q=q, stage=stage, today=today)
    total = sum(counts.get(k, 0) for k in STATUS_LABELS)  # every metric has one of these statuses
    rows = queries.fitness_overview(q=q, stage=stage, status=status, today=today)
    page = _page(request, _Counted(rows, counts.get(status, 0) if status else total))
    currency = organisation_for(request).currency
    items = []
    for series in page.object_list:
        metric = series.metric
        items.append({
            "metric": metric, "service": series.service, "status": series.status,
            "status_class": series.status.replace(" ", "-"), "status_label": STATUS_LABELS[series.status],
            "stale": bool(series.due_on and series.due_on < today), "due_on": series.due_on,
            "latest": format_value(series.latest_value, metric.unit, currency), "latest_end": series.latest_end,
            "target": target_text(metric, currency),
        })
    tiles = [{"key": key, "label": STATUS_LABELS.get(key, "Stale"), "count": counts.get(key, 0),
              "class": key.replace(" ", "-")} for key in STATUS_ORDER]
    context = {"nav": "fitness", "sub": "overview", "form": form, "page": page, "items": items, "tiles": tiles,
               "status": status, "filtered": bool(q or stage or status), "total": total}
    if request.htmx and request.htmx.target == "fx-results":
        return render(request, "fitness/_overview_results.html", context)
    return render(request, "fitness/overview.html", context)


def standard_measures(request):
    """The four standard measures (model 11): what each is, how it is measured and why it
    matters, and how many services report it now."""
    keys = [m.key for m in STANDARD_MEASURES]
    reported = dict(Metric.objects.filter(version__service__current_version=F("version"), key__in=keys)
                    .exclude(version__service__lifecycle_stage=Lifecycle.DECOMMISSIONED)
                    .order_by().values("key").annotate(n=Count("pk")).values_list("key", "n"))
    return render(request, "fitness/standard_measures.html", {
        "nav": "fitness", "sub": "standard", "measures": [{"measure": m, "services": reported.get(m.key, 0)}
                                                          for m in STANDARD_MEASURES],
        "currency": organisation_for(request).currency,
    })


# ---------------------------------------------------------------- the executive's figures

def figures(request):
    """The figures the executive has defined, in use first; the retired ones after."""
    qs = Aggregation.objects.select_related("created_by").order_by(F("retired_at").asc(nulls_first=True), "name")
    return render(request, "fitness/figures.html", {
        "nav": "fitness", "sub": "figures", "page": _page(request, qs),
        "may_define": can(request.user, "define_aggregation"),
    })


def _reference() -> dict:
    """What the language offers, for the reference beside the form."""
    keys = sorted(set(Metric.objects.filter(version__service__current_version=F("version")).values_list("key", flat=True)))
    return {
        "functions": [
            ("sum", "the total of the services' values"), ("avg", "their mean"), ("min", "the smallest"),
            ("max", "the largest"), ("median", "the middle value"), ("count", "how many services reported"),
        ],
        "fields": [
            ("stage", ", ".join(Lifecycle.values)), ("evolution", ", ".join(Evolution.values)),
            ("users", ", ".join(UserType.values)), ("service", "a service's address, e.g. parking-permits"),
        ],
        "examples": EXAMPLES,
        "metric_keys": keys[:KEYS_SHOWN],
        "more_keys": max(0, len(keys) - KEYS_SHOWN),
    }


def _figure_form_page(request, aggregation: Aggregation | None):
    if refused := refusal(request.user, "define_aggregation"):
        return forbidden(request, refused)
    initial = {}
    if aggregation is not None:
        initial = {k: getattr(aggregation, k) for k in ("name", "expression", "unit", "grain", "within", "description",
                                                        "revision")}
    form = AggregationForm(request.POST if request.method == "POST" else None, initial=initial)
    check = None
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.define_aggregation(
            actor=request.user, aggregation=aggregation, expected_revision=form.cleaned_data.get("revision"),
            **{k: form.cleaned_data.get(k) or "" for k in ("name", "expression", "unit", "grain", "within",
                                                          "description")}))
        if ok:
            messages.success(request, f"Saved the figure “{result.name}”.")
            return redirect("fitness:figure", slug=result.slug)
        if result is not None:
            return result
        check = expression_check(form.data.get("expression", ""))
    elif aggregation is not None:
        check = expression_check(aggregation.expression)
    return render(request, "fitness/figure_form.html", {
        "nav": "fitness", "sub": "figures", "form": form, "aggregation": aggregation, "reference": _reference(),
        "check": check,
    })


def figure_new(request):
    return _figure_form_page(request, None)


def figure_edit(request, slug: str):
    return _figure_form_page(request, get_object_or_404(Aggregation, slug=slug))


def figure_page(request, slug: str):
    """A figure's values over time, as a chart and a table; a period without a value says why."""
    aggregation = get_object_or_404(Aggregation.objects.select_related("created_by"), slug=slug)
    error = ""
    try:
        values = queries.aggregation_values(aggregation)
    except expressions.ExpressionError as exc:  # the language changed under a stored figure
        values, error = [], exc.message
    currency = organisation_for(request).currency
    points = [Point(row["period"].end, row["value"], row["period"].label, row["reason"]) for row in values]
    monthly = aggregation.grain == Aggregation.Grain.MONTH
    rows = [{"period": row["period"], "value": format_value(_shown(row["value"]), aggregation.unit, currency),
             "reason": row["reason"],
             # a month reads best as “Nov 2026”; a quarter or a year says which days it spans
             "name": format_period(row["period"].start, row["period"].end) if monthly else row["period"].label,
             "span": "" if monthly else format_period(row["period"].start, row["period"].end)}
            for row in reversed(values)]
    chart = line_chart([Point(p.day, _shown(p.value), p.label, p.note) for p in points], chart_id=f"fx-figure-{slug}",
                       title=aggregation.name, unit=aggregation.unit, currency=currency, size="large") if values else ""
    return render(request, "fitness/figure.html", {
        "nav": "fitness", "sub": "figures", "aggregation": aggregation, "rows": rows, "chart": chart, "error": error,
        "may_define": can(request.user, "define_aggregation") and not aggregation.retired_at,
        "may_retire": can(request.user, "retire_aggregation") and not aggregation.retired_at,
        "metrics": sorted(_metrics_of(aggregation.expression)),
    })


def _shown(value):
    """A figure's value as shown: four decimal places at most (a mean can have 28)."""
    if value is None:
        return None
    return value.quantize(Decimal("0.0001")) if value.as_tuple().exponent < -4 else value


def _metrics_of(source: str) -> set[str]:
    try:
        return expressions.parse(source, fields=actions.AGGREGATION_FIELDS).metrics()
    except expressions.ExpressionError:
        return set()


@require_POST
def figure_retire(request, slug: str):
    aggregation = get_object_or_404(Aggregation, slug=slug)
    ok, result = apply_action(request, None, lambda: actions.retire_aggregation(actor=request.user,
                                                                                aggregation=aggregation))
    if ok:
        messages.success(request, f"Retired the figure “{result.name}”. It stays on record, no longer in use.")
    elif result is not None:
        return result
    return redirect("fitness:figure", slug=slug)


def expression_check(source: str) -> dict:
    """What the live check says of an expression: the mistake with its line and column and a
    marker under it, or the metrics it uses (and any no current contract reports)."""
    source = source or ""
    if not source.strip():
        return {"ok": False, "empty": True, "message": "Write an expression, e.g. sum(cost) / sum(transactions)."}
    try:
        parsed = expressions.parse(source, fields=actions.AGGREGATION_FIELDS)
    except expressions.ExpressionError as exc:
        position = max(0, min(exc.position, len(source)))
        before = source[:position]
        line_no = before.count("\n") + 1
        line_start = before.rfind("\n") + 1
        line_end = source.find("\n", position)
        line = source[line_start: line_end if line_end >= 0 else len(source)]
        column = position - line_start + 1
        where = f"line {line_no}, column {column}" if "\n" in source else f"column {column}"
        return {"ok": False, "message": exc.message, "where": where, "line": line[:300], "column": column,
                "marker": " " * (column - 1) + "^"}
    metrics = sorted(parsed.metrics())
    known = set(Metric.objects.filter(version__service__current_version=F("version"), key__in=metrics)
                .values_list("key", flat=True))
    return {"ok": True, "metrics": metrics, "unknown": [m for m in metrics if m not in known], "normalised": str(parsed)}


def check_expression(request):
    """The live check of an expression (htmx): a fragment saying what is wrong, where, or
    which metrics the expression uses."""
    source = (request.GET.get("expression") or request.POST.get("expression") or "")[:expressions.MAX_LENGTH + 1]
    return render(request, "fitness/_expression_check.html", {"check": expression_check(source)})

