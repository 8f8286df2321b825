"""Measurements pushed by a service's own systems with its ingest token (model 11): flat
records with an id, a timestamp and the period they cover. Resending a record with the
same id replaces it, so retries never count twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from osom.core.errors import Conflict
from osom.core.models import AuditEvent
from osom.fitness import actions
from osom.fitness.models import Measurement, MetricSeries

from ..lifecycle.helpers import DECOMMISSION, published, service_at
from .test_permissions import LAST_MONTH, MONTH_BEFORE, issued, measured, month, record, snapshot


def stored(service) -> list[tuple[str, dt.date, Decimal]]:
    return list(Measurement.objects.filter(service=service).order_by("period_start")
                .values_list("record_id", "period_start", "value"))


def test_a_push_stores_each_record_with_its_id_time_and_period(cast):
    _, raw = issued(cast)
    result = actions.ingest_measurements(token=raw, records=[
        record(" r-1 ", 96, period=MONTH_BEFORE, note=" Nightly export "),
        record("r-2", "97.5"),
    ])
    assert (result.created, result.replaced, result.total) == (2, 0, 2)
    first = Measurement.objects.get(record_id="r-1")
    assert (first.value, first.period_start, first.period_end, first.note, first.source) == (
        Decimal("96"), *MONTH_BEFORE, "Nightly export", "ingest")
    assert first.measured_at == dt.datetime.combine(MONTH_BEFORE[1], dt.time(17), tzinfo=dt.timezone.utc)
    series = MetricSeries.objects.get(service=cast.service, metric_key="m1")
    assert (series.count, series.latest_value, series.latest_end) == (2, Decimal("97.5"), LAST_MONTH[1])


def test_the_same_record_sent_twice_counts_once(cast):
    _, raw = issued(cast)
    actions.ingest_measurements(token=raw, records=[record("r-1", 96)])
    events = AuditEvent.objects.count()
    again = actions.ingest_measurements(token=raw, records=[record("r-1", 96)])
    assert (again.created, again.replaced) == (0, 1)
    assert stored(cast.service) == [("r-1", LAST_MONTH[0], Decimal("96"))]
    assert MetricSeries.objects.get(service=cast.service, metric_key="m1").count == 1
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == events + 1
    assert event.after["created"] == 0 and event.after["replaced"] == 1 and "0 new, 1 replaced" in event.summary


def test_a_resent_record_with_a_corrected_value_replaces_the_value(cast):
    _, raw = issued(cast)
    actions.ingest_measurements(token=raw, records=[record("r-1", 96)])
    actions.ingest_measurements(token=raw, records=[record("r-1", 95.5)])
    assert stored(cast.service) == [("r-1", LAST_MONTH[0], Decimal("95.5"))]


def test_a_resent_id_with_a_new_period_moves_the_value(cast):
    _, raw = issued(cast)
    actions.ingest_measurements(token=raw, records=[record("r-1", 96, period=MONTH_BEFORE)])
    result = actions.ingest_measurements(token=raw, records=[record("r-1", 96, period=LAST_MONTH)])
    assert (result.created, result.replaced) == (0, 1)
    assert stored(cast.service) == [("r-1", LAST_MONTH[0], Decimal("96"))]
    series = MetricSeries.objects.get(service=cast.service, metric_key="m1")
    assert (series.count, series.latest_start) == (1, LAST_MONTH[0])


def test_a_record_moved_onto_a_measured_period_takes_its_place(cast):
    _, raw = issued(cast)
    measured(cast, "80", period=LAST_MONTH)
    actions.ingest_measurements(token=raw, records=[record("r-1", 96, period=MONTH_BEFORE)])
    actions.ingest_measurements(token=raw, records=[record("r-1", 97, period=LAST_MONTH)])
    assert stored(cast.service) == [("r-1", LAST_MONTH[0], Decimal("97"))]
    assert MetricSeries.objects.get(service=cast.service, metric_key="m1").count == 1


def test_a_pushed_record_for_a_period_entered_by_hand_replaces_it(cast):
    _, raw = issued(cast)
    measured(cast, "80", period=LAST_MONTH)
    result = actions.ingest_measurements(token=raw, records=[record("r-9", 97)])
    assert (result.created, result.replaced) == (0, 1)
    only = Measurement.objects.get(service=cast.service)
    assert (only.record_id, only.value, only.source, only.recorded_by) == ("r-9", Decimal("97"), "ingest", None)


def test_numbers_may_be_sent_as_json_numbers_or_text(cast):
    _, raw = issued(cast)
    actions.ingest_measurements(token=raw, records=[
        record("a", 96, period=month(1)), record("b", 0.25, period=month(2)), record("c", "1,200.5", period=month(3))])
    assert [v for _, _, v in stored(cast.service)] == [Decimal("1200.5"), Decimal("0.25"), Decimal("96")]


def test_one_push_may_carry_several_metrics(cast):
    from .. import factories

    libraries = factories.service(cast.executive, "Libraries", manager=cast.manager, needs=2)
    _, raw = issued(cast, libraries)
    actions.ingest_measurements(token=raw, records=[record("x-1", 5, metric="m1"), record("x-2", 6, metric="m2")])
    assert MetricSeries.objects.filter(service=libraries).count() == 2


def test_a_push_for_a_decommissioned_service_is_refused_and_writes_nothing(cast):
    old = service_at(cast, "discovery", "Old payments")
    _, raw = issued(cast, old)
    published(cast, old, outcome="not_required", **DECOMMISSION)
    before = snapshot()
    with pytest.raises(Conflict, match="decommissioned"):
        actions.ingest_measurements(token=raw, records=[record("r-1", 96)])
    assert snapshot() == before
