"""A service's fitness data (model 5.4, 11): each metric of its contract with a chart of its
values against the target, and, for the service's people, the ways values arrive — entered
by hand, uploaded as CSV, pushed by the service's own systems with an ingest token — how
often each metric is due, and the standard measures it may add to its contract.

Every POST calls one action through :func:`osom.core.views.apply_action`: a role that may
not act gets the 403 page with the policy's sentence (checked before any form is shown),
bad input comes back on the fields it names, and nothing is written."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from osom.core.context import organisation_for
from osom.core.errors import InvalidInput
from osom.core.numbers import as_id
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Metric, Service
from osom.network.queries import open_draft

from . import actions, queries
from .capital_views import latest_period
from .charts import Point, format_period, format_value, line_chart
from .forms import CadenceForm, MeasurementForm, StandardMeasureForm, TokenForm, UploadForm
from .models import IngestToken, Measurement, MetricSeries
from .standard import STANDARD_MEASURES

__all__ = [
    "STATUS_LABELS", "metric_cards", "service_fitness", "metric_page", "record_measurement", "upload_measurements",
    "export_measurements", "set_cadence", "add_standard_measure", "ingest_tokens", "revoke_token",
]

STATUS_LABELS = {queries.MET: "Met", queries.MISSED: "Missed", queries.NO_TARGET: "No target",
                 queries.NO_DATA: "No data"}
RECENT = 5


def _posted(request):
    return request.POST if request.method == "POST" else None


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("manager"), slug=slug)


def _currency(request) -> str:
    return organisation_for(request).currency


def _fitness_url(service: Service, key: str = "") -> str:
    url = reverse("fitness:service", args=[service.slug])
    return f"{url}#metric-{key}" if key else url


def target_text(metric: Metric, currency: str = "") -> str:
    """“at least 99.9%”, “at most £0.50”, or “” without a target."""
    if metric.target is None:
        return ""
    word = "at most" if metric.direction == "lower" else "at least"
    return f"{word} {format_value(metric.target, metric.unit, currency)}"


def _points(measurements: list[Measurement]) -> list[Point]:
    return [Point(m.period_end, m.value, format_period(m.period_start, m.period_end)) for m in measurements]


def metric_cards(service: Service, views: list[queries.MetricView], *, currency: str, size: str) -> list[dict]:
    """What a page shows of each metric: its latest value and period, its status and whether
    it is stale, and a chart of its recent values against its target."""
    cards = []
    for view in views:
        metric, series = view.metric, view.series
        status = view.status
        latest = series.latest_value if series else None
        cards.append({
            "metric": metric,
            "series": series,
            "status": status,
            "status_class": status.replace(" ", "-"),
            "status_label": STATUS_LABELS[status],
            "stale": view.stale,
            "latest": format_value(latest, metric.unit, currency),
            "period": format_period(series.latest_start, series.latest_end) if series else "",
            "due_on": series.due_on if series else None,
            "cadence": view.cadence_days,
            "count": series.count if series else 0,
            "target": target_text(metric, currency),
            "recent": list(reversed(view.points))[:RECENT],
            "chart": line_chart(_points(view.points), chart_id=f"fx-{size}-{service.slug}-{metric.key}",
                                title=f"{metric.name} of {service.name}", unit=metric.unit, currency=currency,
                                target=metric.target, direction=metric.direction, size=size),
        })
    return cards


def _may(user, service: Service) -> dict[str, bool]:
    running = service.lifecycle_stage != "decommissioned"
    return {
        "record": running and can(user, "record_measurement", service=service),
        "upload": running and can(user, "import_measurements", service=service),
        "cadence": can(user, "set_measurement_cadence", service=service),
        "standard": running and can(user, "add_standard_measure", service=service),
        "tokens": can(user, "issue_ingest_token", service=service) or can(user, "revoke_ingest_token", service=service),
        "shares": can(user, "record_consumption_shares", service=service),
        "transactions": can(user, "record_transactions", service=service),
    }


# ---------------------------------------------------------------- reading

def service_fitness(request, slug: str):
    """Every metric of the service's current contract: a chart of its values against the
    target, its latest values, how often it is reported and when the next is due."""
    service = _service(slug)
    org = organisation_for(request)
    views = queries.service_fitness(service, points=24)
    return render(request, "fitness/service.html", {
        "nav": "network", "service": service, "may": _may(request.user, service),
        "cards": metric_cards(service, views, currency=org.currency, size="large"),
        "period": latest_period(),
    })


def metric_page(request, slug: str, key: str):
    """One metric of a service: its chart and every value recorded, newest first, a page at a time."""
    service = _service(slug)
    metric = Metric.objects.filter(version_id=service.current_version_id, key=key).first()
    if metric is None:
        raise Http404("No such metric in the service's current contract.")
    org = organisation_for(request)
    view = next(v for v in queries.service_fitness(service, points=60) if v.metric.key == key)
    card = metric_cards(service, [view], currency=org.currency, size="large")[0]
    values = (Measurement.objects.filter(service=service, metric_key=key).select_related("recorded_by")
              .order_by("-period_end", "-period_start", "-pk"))
    page = Paginator(values, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "fitness/metric.html", {
        "nav": "network", "service": service, "card": card, "metric": metric, "page": page,
        "may": _may(request.user, service),
    })


def export_measurements(request, slug: str):
    """The service's measurements as CSV, in the columns an upload reads."""
    service = _service(slug)
    key = request.GET.get("metric", "")[:80]
    response = HttpResponse(queries.measurements_csv(service, key), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{service.slug}-measurements.csv"'
    return response


# ---------------------------------------------------------------- measurements

def record_measurement(request, slug: str):
    """A value of one of the service's metrics, entered by hand. A value for a period
    already measured is refused unless the person asks to replace it."""
    service = _service(slug)
    if refused := refusal(request.user, "record_measurement", service=service):
        return forbidden(request, refused)
    metrics = list(Metric.objects.filter(version_id=service.current_version_id).order_by("position", "pk"))
    form = MeasurementForm(_posted(request), metrics=metrics, initial={"metric_key": request.GET.get("metric", "")})
    conflict = False
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.record_measurement(
            actor=request.user, service=service, **form.action_kwargs()))
        if ok:
            metric = next(m for m in metrics if m.key == result.metric_key)
            status = queries.status_of(result.value, metric.target, metric.direction)
            verdict = {queries.MET: "target met", queries.MISSED: "target missed"}.get(status, "no target to meet")
            messages.success(request, f"Recorded {format_value(result.value, metric.unit, _currency(request))} "
                                      f"for {metric.name}, {format_period(result.period_start, result.period_end)}: "
                                      f"{verdict}.")
            return redirect(_fitness_url(service, metric.key))
        if result is not None:
            return result
        conflict = hasattr(form, "conflict_changes")
    return render(request, "fitness/record.html", {
        "nav": "network", "service": service, "form": form, "metrics": metrics,
        "show_replace": conflict or bool(form.data.get("replace")), "conflict": conflict,
    })


def upload_measurements(request, slug: str):
    """Measurements uploaded as CSV. Every bad row is listed with its row number and
    nothing is imported unless every row is good."""
    service = _service(slug)
    if refused := refusal(request.user, "import_measurements", service=service):
        return forbidden(request, refused)
    form = UploadForm(_posted(request), request.FILES if request.method == "POST" else None)
    row_errors: list[tuple[int, str]] = []
    if request.method == "POST":
        def call():
            upload = form.cleaned_data.get("file")
            if upload is None:
                raise InvalidInput("Choose the CSV file to upload.", field="file")
            if upload.size > 5_000_000:
                raise InvalidInput("The file is larger than 5 MB; split it into several uploads.", field="file")
            try:
                return actions.import_measurements_csv(actor=request.user, service=service, text=upload.read())
            except InvalidInput as exc:
                rows = {k: v for k, v in exc.errors.items() if k.startswith("row ")}
                if not rows:
                    raise
                for key, texts in rows.items():
                    number = as_id(key[4:]) or 0
                    row_errors.extend((number, text) for text in texts)
                row_errors.sort(key=lambda item: item[0])
                count = len(rows)
                raise InvalidInput(f"{count} row{'s have' if count != 1 else ' has'} problems, listed below; nothing "
                                   f"was imported. Correct {'them' if count != 1 else 'it'} and upload the file again.",
                                   field="file")
        ok, result = apply_action(request, form, call)
        if ok:
            messages.success(request, f"Uploaded {result.total} measurement{'s' if result.total != 1 else ''} for "
                                      f"{service.name}: {result.created} new, {result.replaced} replaced.")
            return redirect(_fitness_url(service))
        if result is not None:
            return result
    metrics = list(Metric.objects.filter(version_id=service.current_version_id).order_by("position", "pk"))
    return render(request, "fitness/upload.html", {
        "nav": "network", "service": service, "form": form, "row_errors": row_errors, "metrics": metrics,
        "columns": actions.CSV_COLUMNS,
    })


def set_cadence(request, slug: str, key: str):
    """How often the service promises to report a metric; later than that it is stale."""
    service = _service(slug)
    if refused := refusal(request.user, "set_measurement_cadence", service=service):
        return forbidden(request, refused)
    metric = Metric.objects.filter(version_id=service.current_version_id, key=key).first()
    if metric is None:
        raise Http404("No such metric in the service's current contract.")
    series = MetricSeries.objects.filter(service=service, metric_key=key).first()
    days = series.cadence_days if series else MetricSeries.DEFAULT_CADENCE_DAYS
    form = CadenceForm(_posted(request), initial={"days": days})
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.set_measurement_cadence(
            actor=request.user, service=service, metric_key=key, days=form.cleaned_data.get("days", "")))
        if ok:
            due = f" The next value is due by {result.due_on.day} {result.due_on:%b %Y}." if result.due_on else ""
            messages.success(request, f"{service.name} now reports {metric.name} every {result.cadence_days} "
                                      f"days.{due}")
            return redirect(_fitness_url(service, key))
        if result is not None:
            return result
    return render(request, "fitness/cadence.html", {
        "nav": "network", "service": service, "metric": metric, "form": form, "series": series,
    })


def add_standard_measure(request, slug: str):
    """Add one of the four standard measures to the service's draft contract."""
    service = _service(slug)
    if refused := refusal(request.user, "add_standard_measure", service=service):
        return forbidden(request, refused)
    draft = open_draft(service)
    taken = set(Metric.objects.filter(version_id__in=[v for v in (service.current_version_id, draft and draft.pk) if v])
                .values_list("key", flat=True))
    form = StandardMeasureForm(_posted(request), taken=taken)
    if request.method == "POST":
        def call():
            try:
                return actions.add_standard_measure(actor=request.user, service=service,
                                                    measure=form.cleaned_data.get("measure", ""),
                                                    target=form.cleaned_data.get("target", ""))
            except InvalidInput as exc:
                # the contract names the new metric's target by its place in the list
                exc.errors = {("target" if key.endswith(".target") else key): texts for key, texts in exc.errors.items()}
                raise
        ok, result = apply_action(request, form, call)
        if ok:
            messages.success(request, f"Added the measure to draft version {result.number} of {service.name}'s "
                                      f"contract. It is reported once that version is approved.")
            return redirect("network:version", slug=service.slug, number=result.number)
        if result is not None:
            return result
    return render(request, "fitness/standard_form.html", {
        "nav": "network", "service": service, "form": form, "draft": draft,
        "measures": [m for m in STANDARD_MEASURES if m.key not in taken],
        "taken": [m for m in STANDARD_MEASURES if m.key in taken],
        "currency": _currency(request),
    })


# ---------------------------------------------------------------- ingest tokens

def _token_context(request, service: Service, form: TokenForm) -> dict:
    return {
        "nav": "network", "service": service, "form": form,
        "tokens": list(IngestToken.objects.filter(service=service).select_related("created_by")),
        "may_issue": service.lifecycle_stage != "decommissioned"
        and can(request.user, "issue_ingest_token", service=service),
        "may_revoke": can(request.user, "revoke_ingest_token", service=service),
        "endpoint": request.build_absolute_uri("/api/v1/ingest"),
        "metrics": list(Metric.objects.filter(version_id=service.current_version_id).order_by("position", "pk")[:1]),
    }


def ingest_tokens(request, slug: str):
    """The service's ingest tokens: who issued each and when it was last used; a new one
    is shown once, in the response to the POST that issued it, with an example push."""
    service = _service(slug)
    if not can(request.user, "revoke_ingest_token", service=service):
        return forbidden(request, refusal(request.user, "issue_ingest_token", service=service))
    form = TokenForm(_posted(request))
    if request.method == "POST":
        if refused := refusal(request.user, "issue_ingest_token", service=service):
            return forbidden(request, refused)
        ok, result = apply_action(request, form, lambda: actions.issue_ingest_token(
            actor=request.user, service=service, label=form.cleaned_data.get("label", "")))
        if ok:
            token, raw = result
            context = _token_context(request, service, TokenForm())
            context.update({"issued": token, "raw": raw})
            messages.success(request, format_html("Issued the ingest token {}…{}. Copy it now: it is shown only this once.",
                                                  token.prefix, f" “{token.label}”" if token.label else ""))
            response = render(request, "fitness/tokens.html", context)
            response["Cache-Control"] = "no-store"  # the token is in this page only
            return response
        if result is not None:
            return result
    return render(request, "fitness/tokens.html", _token_context(request, service, form))


@require_POST
def revoke_token(request, slug: str, token_id: int):
    service = _service(slug)
    token = get_object_or_404(IngestToken.objects.select_related("service"), pk=token_id, service=service)
    ok, result = apply_action(request, None, lambda: actions.revoke_ingest_token(actor=request.user, token=token))
    if ok:
        messages.success(request, f"Revoked the ingest token {token.prefix}…; pushes with it are now refused.")
    elif result is not None:
        return result
    return redirect("fitness:tokens", slug=service.slug)
