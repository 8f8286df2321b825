"""Each metric's series carries its status and what the network's fitness reads need
(``osom.fitness.series``): kept right by every write, whatever changed — a value, a
correction, a removed value, a new contract version with another target, a metric added or
dropped, a service renamed or decommissioned. The stored columns are compared with the
same worked out afresh from the contracts, the services and the measurements."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.fitness import actions, queries, series
from osom.fitness.models import MET, MISSED, NO_DATA, NO_TARGET, Measurement, MetricSeries, status_of
from osom.network import actions as network_actions
from osom.network.models import Metric, Service
from osom.search.text import terms

from .. import factories
from ..lifecycle.helpers import DECOMMISSION, published, service_at
from .test_permissions import MONTH_BEFORE, TODAY, issued, measured, record

COPIED = ("metric_id", "current", "service_name", "stage", "position", "target", "direction", "status", "terms")


def fresh() -> dict:
    """Each metric of each current contract, worked out afresh: its metric, whether it
    counts, its service's name and stage, its place, target, direction and status, and
    the words it is found by."""
    out = {}
    for service in Service.objects.exclude(current_version=None):
        for metric in Metric.objects.filter(version_id=service.current_version_id):
            latest = (Measurement.objects.filter(service=service, metric_key=metric.key)
                      .order_by("-period_end", "-period_start").first())
            out[(service.pk, metric.key)] = (
                metric.pk, service.lifecycle_stage != "decommissioned", service.name, service.lifecycle_stage,
                metric.position, metric.target, metric.direction,
                status_of(latest.value if latest else None, metric.target, metric.direction),
                terms(service.name, metric.name, metric.key))
    return out


def stored() -> dict:
    return {(s.service_id, s.metric_key): tuple(getattr(s, name) for name in COPIED)
            for s in MetricSeries.objects.filter(metric__isnull=False)}


def assert_right() -> None:
    assert stored() == fresh()
    # a series whose metric is no longer in the contract does not count
    assert not MetricSeries.objects.filter(metric__isnull=True, current=True).exists()


def _contract(name: str, *metrics: tuple[str, str, str | None]) -> dict:
    """A contract whose metrics are (key, direction, target), each measuring a need."""
    content = factories.contract(name, needs=len(metrics))
    content["metrics"] = [{"key": key, "name": f"{name} {key}", "unit": "count", "direction": direction,
                           "target": target} for key, direction, target in metrics]
    content["needs"] = [{**need, "metrics": [key]} for need, (key, _, _) in zip(content["needs"], metrics)]
    return content


def _alter(c, service, content: dict) -> None:
    network_actions.alter_contract(actor=c.executive, service=service, content=content, reason="Agreed at review",
                                   risk="Low")


@pytest.fixture
def varied(cast):
    """A network where every way a status changes has happened once."""
    made = {}
    # met, then missed: the contract's new version raises the target; the service is renamed with it
    measured(cast, "97")
    raised = factories.contract("Parking permits online", dependencies=["identity"])
    raised["metrics"][0]["target"] = "99"
    _alter(cast, cast.service, raised)
    # missed, then met: the value is corrected
    measured(cast, "80", service=cast.other_service, actor=cast.other_manager)
    measured(cast, "96", service=cast.other_service, actor=cast.other_manager, replace=True)
    # lower is better: one met, one missed; then a third metric dropped from the contract
    water = network_actions.adopt_existing_service(
        actor=cast.executive, lifecycle_stage="live", manager=cast.manager,
        content=_contract("Water meters", ("leaks", "lower", "5"), ("complaints", "lower", "2"), ("waits", "lower", "9")))
    made["water"] = water
    measured(cast, "4", service=water, key="leaks")
    measured(cast, "3", service=water, key="complaints")
    measured(cast, "8", service=water, key="waits")
    _alter(cast, water, _contract("Water meters", ("leaks", "lower", "5"), ("complaints", "lower", "2")))
    # no target, and no data
    made["libraries"] = network_actions.adopt_existing_service(
        actor=cast.executive, lifecycle_stage="beta", manager=cast.other_manager,
        content=_contract("Libraries", ("loans", "higher", None)))
    measured(cast, "50", service=made["libraries"], key="loans", actor=cast.other_manager)
    made["bins"] = factories.service(cast.executive, "Bin collection", manager=cast.other_manager)
    # a metric added by a new version: its series starts with no data
    draft = actions.add_standard_measure(actor=cast.other_manager, service=made["bins"], measure="completion-rate")
    network_actions.submit_contract_version(actor=cast.other_manager, version=draft)
    network_actions.approve_contract_version(actor=cast.executive, version=draft)
    # a value removed: the record pushed for one metric is resent for another
    lights = factories.service(cast.executive, "Street lights", manager=cast.manager, needs=2)
    made["lights"] = lights
    _, token = issued(cast, lights)
    measured(cast, "90", service=lights, key="m2", period=MONTH_BEFORE)
    actions.ingest_measurements(token=token, records=[record("r1", 97, metric="m1")])
    actions.ingest_measurements(token=token, records=[record("r1", 91, metric="m2")])
    # a decommissioned service: its missed target no longer counts
    old = service_at(cast, "discovery", "Old payments")
    measured(cast, "10", service=old)
    published(cast, old, outcome="not_required", **DECOMMISSION)
    made["old"] = Service.objects.get(pk=old.pk)
    return made


def _series(service, key="m1") -> MetricSeries:
    return MetricSeries.objects.get(service=service, metric_key=key)


def test_the_stored_status_is_the_one_worked_out_afresh_whatever_changed(cast, varied):
    assert_right()
    assert (_series(cast.service).status, _series(cast.service).service_name) == (MISSED, "Parking permits online")
    assert _series(cast.other_service).status == MET
    water = varied["water"]
    assert [_series(water, key).status for key in ("leaks", "complaints")] == [MET, MISSED]
    assert (_series(water, "waits").current, _series(water, "waits").metric_id) == (False, None)
    assert _series(varied["libraries"], "loans").status == NO_TARGET
    assert [(s.metric_key, s.status, s.count) for s in MetricSeries.objects.filter(service=varied["bins"])
            .order_by("position")] == [("m1", NO_DATA, 0), ("completion-rate", NO_DATA, 0)]
    lights = varied["lights"]
    assert [(s.count, s.status) for s in (_series(lights, "m1"), _series(lights, "m2"))] == [(0, NO_DATA), (2, MISSED)]
    old = _series(varied["old"])
    assert (old.current, old.stage, old.status) == (False, "decommissioned", MISSED)
    # the reads show what is stored: every status, the decommissioned service's left out
    rows = list(queries.fitness_overview(today=TODAY))
    assert Counter(s.status for s in rows) == Counter(v[COPIED.index("status")] for v in fresh().values() if v[1])
    assert {MET, MISSED, NO_TARGET, NO_DATA} <= {s.status for s in rows}
    assert varied["old"].pk not in {s.service_id for s in rows}
    assert queries.network_fitness_counts(today=TODAY)["missed"] == 3  # permits, complaints, lights' m2


def test_the_overview_keeps_its_order_by_service_then_the_contracts_order(cast, varied):
    rows = [(s.service_name, s.position) for s in queries.fitness_overview(today=TODAY)]
    assert rows == sorted(rows) and len(rows) == len(set(rows))
    assert [s.metric_key for s in queries.fitness_overview(q="water", today=TODAY)] == ["leaks", "complaints"]
    assert [s.service_name for s in queries.fitness_overview(stage="decommissioned", today=TODAY)] == ["Old payments"]


def _break() -> None:
    """What a bulk load leaves: series without their copies, and no series at all for the
    metrics not yet reported."""
    MetricSeries.objects.filter(count=0).delete()
    MetricSeries.objects.update(metric=None, current=False, service_name="", stage="", position=0, target=None,
                                direction="", status=MET, terms="")


def _found(q: str, **filters) -> list[tuple[str, str]]:
    return [(s.service_name, s.metric_key) for s in queries.fitness_overview(q=q, today=TODAY, **filters)]


def test_the_overview_finds_series_by_the_words_they_begin_in_names_and_keys(cast, varied):
    # each word begins a word of the service's name, the metric's name or its key
    assert _found("water leaks") == [("Water meters", "leaks")]
    assert _found("WATER compl") == [("Water meters", "complaints")]
    assert ("Bin collection", "completion-rate") in _found("completion")
    assert _found("rate completion bin") == [("Bin collection", "completion-rate")]
    # a word inside another word is not a match, as in search
    assert _found("aters") == []
    # the words of the renamed service, and only those, after the contract renamed it
    assert {name for name, _ in _found("online")} == {"Parking permits online"}
    # a decommissioned service's series are found only at its stage
    assert _found("old payments") == []
    assert _found("old payments", stage="decommissioned") == [("Old payments", "m1")]
    # the query's syntax is never the index's: quotes, operators and stars are not words
    assert _found('water" OR leaks*') == []
    assert _found('"water" leaks*') == [("Water meters", "leaks")]
    assert _found("--- ") == []
    # counts by status read the same filter
    assert queries.fitness_counts(q="water", today=TODAY) == {MET: 1, MISSED: 1, "stale": 0}


def test_a_renamed_service_and_a_renamed_metric_are_found_by_their_new_words(cast, varied):
    water = varied["water"]
    renamed = _contract("Crèche places", ("leaks", "lower", "5"), ("complaints", "lower", "2"))
    renamed["metrics"][0]["name"] = "Burst pipes reported"
    _alter(cast, water, renamed)
    assert _found("water") == []
    assert _found("creche burst") == [("Crèche places", "leaks")]
    assert _found("crèche pipes leaks") == [("Crèche places", "leaks")]
    assert_right()


def test_a_bulk_sync_puts_right_what_writes_without_saves_left_out(varied):
    expected = stored()
    _break()
    assert stored() != expected
    made = series.sync_all()
    assert made == 3  # bins' two metrics and lights' m1
    assert stored() == expected
    assert_right()


def test_the_migration_fills_the_columns_of_a_database_that_had_series_before(varied):
    expected = stored()
    _break()
    # the series' copies, then their words, as the migrations that added them fill them
    for name in ("0002_series_status", "0004_series_terms"):
        importlib.import_module(f"osom.fitness.migrations.{name}").fill(apps, None)
    assert stored() == expected
    assert_right()


def _touches_series(run) -> bool:
    with CaptureQueriesContext(connection) as ctx:
        run()
    return any("fitness_metricseries" in q["sql"] for q in ctx.captured_queries)


def test_a_save_that_leaves_the_contract_the_stage_and_the_name_alone_leaves_the_series_alone(cast):
    assert not _touches_series(lambda: network_actions.appoint_manager(
        actor=cast.executive, service=cast.service, person=cast.other_manager, reason="Moved to another team"))
    service = Service.objects.get(pk=cast.service.pk)
    service.summary = "Another first sentence."
    assert not _touches_series(service.save)
    # a stage set by hand and saved is seen, and the series follow it
    service.lifecycle_stage = "decommissioned"
    assert _touches_series(service.save)
    assert (_series(cast.service).current, _series(cast.service).stage) == (False, "decommissioned")
    # the name saved alone is seen too
    service.name = "Parking permits (old)"
    assert _touches_series(lambda: service.save(update_fields=["name"]))
    assert _series(cast.service).service_name == "Parking permits (old)"
