"""Keeping each metric's series in step with the service's current contract and stage.

A series (:class:`~osom.fitness.models.MetricSeries`) exists for every metric of every
service's current contract, from the moment the contract version becomes current, and
carries the metric's target and direction, the service's name and stage, whether it counts
(a metric of the current contract of a service not decommissioned), the status of its
latest value against the target, and the words it is found by (the service's name, the
metric's name and key, folded as :mod:`osom.search.text` folds them). The network's fitness page, its API list and the
dashboards read these columns through indexes, so their cost does not grow with the
network.

What changes them:

- a contract version becoming current, and a service's stage or name changing: a
  service's save, seen by the receiver :func:`connect` installs (the app calls it);
- a new value, a corrected one, a removed one or a new cadence:
  :meth:`MetricSeries.refresh <osom.fitness.models.MetricSeries.refresh>`, called by
  the fitness actions;
- a bulk load that writes rows without saving models (``osom generate``) calls
  :func:`sync_all` at its end.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.signals import post_init, post_save

from osom.network.models import Metric, Service
from osom.network.stages import Lifecycle
from osom.search.text import terms

from .models import MetricSeries, status_of

__all__ = ["sync_service", "sync_all", "attach", "connect", "series_terms", "CONTRACT_FIELDS"]

# What the series copies from the contract and the service, and what follows from them
CONTRACT_FIELDS = ["metric", "current", "service_name", "stage", "position", "target", "direction", "status", "terms"]
# A service's fields the series copy (by their attribute names)
_WATCHED = {"current_version": "current_version_id", "lifecycle_stage": "lifecycle_stage", "name": "name"}
_UNKNOWN = object()
BATCH = 2000


def series_terms(service_name: str, metric_name: str, metric_key: str) -> str:
    """The words a series is found by: its service's name, its metric's name and key."""
    return terms(service_name, metric_name, metric_key)


def _copy(series: MetricSeries, metric: Metric | None, name: str, stage: str) -> bool:
    """Set the series' copy of its contract metric and service; True if anything changed."""
    values = {
        "metric_id": metric.pk if metric else None,
        "current": metric is not None and stage != Lifecycle.DECOMMISSIONED,
        "service_name": name,
        "stage": stage,
        "position": metric.position if metric else 0,
        "target": metric.target if metric else None,
        "direction": metric.direction if metric else "",
        "terms": series_terms(name, metric.name if metric else "", series.metric_key),
    }
    values["status"] = status_of(series.latest_value, values["target"], values["direction"])
    changed = False
    for attname, value in values.items():
        if getattr(series, attname) != value:
            setattr(series, attname, value)
            changed = True
    return changed


def sync_service(service: Service | int) -> None:
    """Bring the series of one service in line with its current contract, name and stage,
    as they are stored: a series for each metric of the current contract (created empty
    when there is none yet), the others no longer counted. Called inside the writing
    transaction; the series are locked so that a value recorded at the same moment does
    not get a status worked out from the old target."""
    pk = getattr(service, "pk", service)
    row = Service.objects.filter(pk=pk).values("name", "lifecycle_stage", "current_version_id").first()
    if row is None:
        return
    metrics = {}
    if row["current_version_id"]:
        metrics = {m.key: m for m in Metric.objects.filter(version_id=row["current_version_id"])
                   .only("pk", "key", "name", "position", "target", "direction")}
    with transaction.atomic(savepoint=False):
        existing = {s.metric_key: s for s in MetricSeries.objects.select_for_update(no_key=True).filter(service_id=pk)}
        changed = [s for key, s in existing.items()
                   if _copy(s, metrics.get(key), row["name"], row["lifecycle_stage"])]
        new = []
        for key, metric in metrics.items():
            if key not in existing:
                series = MetricSeries(service_id=pk, metric_key=key)
                _copy(series, metric, row["name"], row["lifecycle_stage"])
                new.append(series)
        if changed:
            MetricSeries.objects.bulk_update(changed, CONTRACT_FIELDS)
        if new:
            MetricSeries.objects.bulk_create(new)


def attach(series: MetricSeries, service: Service) -> None:
    """Fill a series that a write is creating (it has no row yet) from the service's
    current contract, before it is refreshed and saved."""
    metric = None
    if service.current_version_id:
        metric = Metric.objects.filter(version_id=service.current_version_id, key=series.metric_key).first()
    _copy(series, metric, service.name, service.lifecycle_stage)


def sync_all() -> int:
    """Bring every series in line with the current contracts, in a few statements over
    the whole table (for bulk loads); returns how many series were created."""
    with transaction.atomic(savepoint=False):
        have = set(MetricSeries.objects.values_list("service_id", "metric_key"))
        wanted = (Metric.objects.filter(version__service__current_version=F("version"))
                  .values_list("version__service_id", "key").order_by("version__service_id", "position", "pk"))
        missing = [MetricSeries(service_id=s, metric_key=k) for s, k in wanted.iterator(chunk_size=BATCH)
                   if (s, k) not in have]
        MetricSeries.objects.bulk_create(missing, batch_size=BATCH)
        service = Service.objects.filter(pk=OuterRef("service_id"))
        version = Service.objects.filter(pk=OuterRef(OuterRef("service_id"))).values("current_version_id")[:1]
        MetricSeries.objects.update(
            metric_id=Subquery(Metric.objects.filter(version_id=Subquery(version), key=OuterRef("metric_key"))
                               .values("pk")[:1]),
            service_name=Subquery(service.values("name")[:1]),
            stage=Subquery(service.values("lifecycle_stage")[:1]),
        )
        metric = Metric.objects.filter(pk=OuterRef("metric_id"))
        MetricSeries.objects.update(
            target=Subquery(metric.values("target")[:1]),
            direction=Coalesce(Subquery(metric.values("direction")[:1]), Value("")),
            position=Coalesce(Subquery(metric.values("position")[:1]), Value(0)),
            current=Case(When(Q(metric__isnull=False) & ~Q(stage=Lifecycle.DECOMMISSIONED), then=Value(True)),
                         default=Value(False)),
        )
        _statuses(MetricSeries)
        _terms(MetricSeries)
    return len(missing)


def _statuses(model) -> None:
    """Each series' status worked out in Python, exactly as a write works it out, and
    written by status for the rows whose status differs."""
    moves: dict[str, list[int]] = {}
    rows = model.objects.values_list("pk", "latest_value", "target", "direction", "status").order_by("pk")
    for pk, value, target, direction, stored in rows.iterator(chunk_size=BATCH):
        status = status_of(value, target, direction)
        if status != stored:
            moves.setdefault(status, []).append(pk)
    for status, pks in moves.items():
        for start in range(0, len(pks), BATCH):
            model.objects.filter(pk__in=pks[start:start + BATCH]).update(status=status)


def _terms(model) -> None:
    """Each series' words worked out in Python, as a write works them out, and written for
    the rows whose words differ."""
    moved = []
    rows = (model.objects.values_list("pk", "service_name", "metric__name", "metric_key", "terms").order_by("pk"))
    for pk, name, metric_name, key, stored in rows.iterator(chunk_size=BATCH):
        words = series_terms(name, metric_name or "", key)
        if words != stored:
            moved.append(model(pk=pk, terms=words))
    model.objects.bulk_update(moved, ["terms"], batch_size=BATCH // 4)


# ---------------------------------------------------------------- the receivers


def _remember(sender, instance, **kwargs) -> None:
    # what the database holds of the watched fields, to tell at the next save whether they
    # changed; a field not loaded is unknown, and counts as changed if it is saved
    instance._fitness_saved = {a: instance.__dict__.get(a, _UNKNOWN) for a in _WATCHED.values()}


def _on_service_saved(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    saved = list(_WATCHED.values()) if update_fields is None else \
        [a for name, a in _WATCHED.items() if name in update_fields or a in update_fields]
    if not saved:
        return
    before = getattr(instance, "_fitness_saved", None) or {}
    changed = any(before.get(a, _UNKNOWN) != instance.__dict__.get(a, _UNKNOWN) for a in saved)
    for a in saved:
        before[a] = instance.__dict__.get(a, _UNKNOWN)
    instance._fitness_saved = before
    if created and instance.current_version_id is None:
        return  # a service just written has no contract yet, and so no series
    if created or changed:
        sync_service(instance.pk)


def connect() -> None:
    """Keep the series in step with every save of a service (called once, by the app)."""
    post_init.connect(_remember, sender=Service, dispatch_uid="fitness_series_remember")
    post_save.connect(_on_service_saved, sender=Service, dispatch_uid="fitness_series_sync")
