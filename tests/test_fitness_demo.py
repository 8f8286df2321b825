"""The demo organisation's fitness data, capital flow and maps: a year of measurements from
every source, standard measures in approved contracts, the executive's figures, a budget
period's capital flow with a cycle that leaks, and the managers' Wardley maps.

The tests that only read the demo share one load (a Django ``TestCase`` loads it once in
``setUpTestData``); those that load it differently, or break it, load their own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.db.models import Count, Sum
from django.test import TestCase, override_settings
from django.utils import timezone

from osom.core.errors import InvalidInput
from osom.core.models import AuditEvent, Person
from osom.fitness import queries
from osom.fitness.demo_fitness import (
    FITNESS_FILE,
    MAPS_DIR,
    Series,
    load_fitness_demo,
    read_fitness_data,
    series_periods,
    series_values,
    working_day,
)
from osom.fitness.models import Aggregation, ConsumptionShare, IngestToken, Measurement, MetricSeries, PeriodVolume
from osom.lifecycle.actions import allocation_balance
from osom.lifecycle.models import BudgetAllocation, Spend
from osom.maps.models import MapVersion
from osom.maps.text import parse
from osom.network.demo import DemoDataError, financial_year, load_demo
from osom.network.graph import load_graph
from osom.network.models import Metric, Service, TeamMembership
from osom.network.stages import Lifecycle, VersionStatus

FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STANDARD = {"Report a missed bin collection", "Pay or challenge a parking fine", "Report a street problem"}


def _broken(tmp_path, change) -> Path:
    """A copy of the demo's fitness data with ``change`` applied to it."""
    data = yaml.safe_load(FITNESS_FILE.read_text(encoding="utf-8"))
    change(data)
    broken = tmp_path / "broken-fitness.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return broken


def _counts() -> dict[str, int]:
    return {
        "measurements": Measurement.objects.count(), "series": MetricSeries.objects.count(),
        "tokens": IngestToken.objects.count(), "shares": ConsumptionShare.objects.count(),
        "volumes": PeriodVolume.objects.count(), "figures": Aggregation.objects.count(),
        "maps": MapVersion.objects.count(), "spends": Spend.objects.count(), "audit": AuditEvent.objects.count(),
    }


def _of_the_team(person: Person, service: Service) -> bool:
    return person == service.manager or TeamMembership.objects.filter(
        service=service, person=person, ended_at__isnull=True).exists()


class TestTheFitnessDemoAsLoaded(TestCase):
    """Everything that reads the fitness data as ``osom demo`` leaves it, from one load."""

    @classmethod
    def setUpTestData(cls):
        with override_settings(PASSWORD_HASHERS=FAST_HASHING):
            cls.demo = load_demo()
        cls.today = timezone.localdate()
        cls.period = financial_year(cls.today)[0]
        cls.data = read_fitness_data()

    # ------------------------------------------------------------ measurements

    def test_every_measured_metric_is_in_its_services_current_contract(self):
        measured = Measurement.objects.values_list("service", "metric_key").distinct()
        assert len(measured) > 100
        services = Service.objects.in_bulk([s for s, _ in measured])
        for service_id, key in measured:
            service = services[service_id]
            assert service.lifecycle_stage != Lifecycle.DECOMMISSIONED, service.name
            assert Metric.objects.filter(version_id=service.current_version_id, key=key).exists(), (service.name, key)
            assert service.current_version.status == VersionStatus.APPROVED

    def test_every_running_service_reports_every_metric_of_its_contract(self):
        reported = self.data["measurements"]
        running = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
        for service in running:
            keys = set(Metric.objects.filter(version_id=service.current_version_id).values_list("key", flat=True))
            if service.name == "Warm spaces finder":  # established on the day of loading: no data yet
                assert keys and not Measurement.objects.filter(service=service).exists()
                continue
            assert set(reported.get(service.name, {}).get("series", {})) == keys, service.name
            for key, series in reported[service.name]["series"].items():
                count = Measurement.objects.filter(service=service, metric_key=key).count()
                assert count == series.periods - series.stopped, (service.name, key)

    def test_a_year_of_values_weekly_for_digital_services(self):
        last_month_end = self.today.replace(day=1) - dt.timedelta(days=1)
        monthly = Measurement.objects.filter(service__name="Cloud hosting", metric_key="availability").order_by("period_start")
        assert [m.period_end for m in monthly][-1] == last_month_end
        assert len(monthly) == 12 and all(m.period_start.day == 1 for m in monthly)
        assert (monthly.last().period_end - monthly.first().period_start).days in range(330, 367)
        weekly = list(Measurement.objects.filter(service__name="Payments", metric_key="success").order_by("period_start"))
        assert len(weekly) == 52
        assert all(m.period_start.weekday() == 0 and (m.period_end - m.period_start).days == 6 for m in weekly)
        assert all(b.period_start - a.period_start == dt.timedelta(weeks=1) for a, b in zip(weekly, weekly[1:]))
        assert self.today - dt.timedelta(days=7) <= weekly[-1].period_end < self.today
        cadences = dict(MetricSeries.objects.filter(cadence_days__lt=MetricSeries.DEFAULT_CADENCE_DAYS)
                        .values_list("metric_key", "cadence_days").order_by())
        assert cadences == {"success": 7, "availability": 7, "first-time": 7, "completion": 7}
        quarterly = MetricSeries.objects.get(service__name="Resident sign-in", metric_key="takeovers")
        assert quarterly.cadence_days == 92 and quarterly.count == 4 and quarterly.latest_value == 0

    def test_targets_are_met_and_missed_and_two_series_are_stale(self):
        overview = queries.fitness_overview().exclude(service__lifecycle_stage=Lifecycle.DECOMMISSIONED)
        statuses = Counter(m.status for m in overview)
        assert statuses[queries.MET] > statuses[queries.MISSED] >= 10
        assert statuses[queries.NO_TARGET] >= 20
        assert statuses[queries.NO_DATA] == 2  # Warm spaces finder's two metrics
        stale = {(m.service.name, m.metric_key) for m in queries.fitness_overview(status="stale")}
        assert stale == {("Data warehouse", "purpose-recorded"), ("Maps and location", "current-layers")}
        assert queries.network_fitness_counts()["stale"] == 2
        # the January outage shows in the billing service's series, with its note
        lag = Measurement.objects.filter(service__name="Council tax billing", metric_key="balance-lag",
                                         period_start__month=1).get()
        assert lag.value == 1860 and "31 hours" in lag.note
        # a manager sees their own services' missed targets and stale series
        items = queries.person_fitness_items(Person.objects.get(email="femi.adeyemi@northbridge.example"))
        assert {m.metric_key for m in items["stale"]} == {"purpose-recorded", "current-layers"}

    def test_values_stay_within_their_units(self):
        percent = Metric.objects.filter(version__service__current_version__isnull=False, unit="%")
        keys = set(percent.values_list("version__service", "key"))
        for m in Measurement.objects.all():
            assert m.value >= 0, str(m)
            if (m.service_id, m.metric_key) in keys:
                assert m.value <= 100, str(m)

    def test_every_source_of_measurements_is_used(self):
        sources = Counter(Measurement.objects.values_list("source", flat=True))
        assert set(sources) == set(Measurement.Source.values)
        pushed = Measurement.objects.filter(source=Measurement.Source.INGEST)
        assert set(pushed.values_list("service__name", flat=True)) == {"Payments"}
        assert not pushed.filter(record_id="").exists() and not pushed.filter(recorded_by__isnull=False).exists()
        token = IngestToken.objects.get()
        assert token.service.name == "Payments" and token.revoked_at is None and token.last_used_at
        assert token.created_by == token.service.manager and token.label
        # the last push was sent twice: the second replaced its records and added none
        last = AuditEvent.objects.filter(verb="ingest_measurements").order_by("-id")[0]
        assert last.after["created"] == 0 and last.after["replaced"] > 0
        manual = Measurement.objects.filter(source=Measurement.Source.MANUAL)
        assert manual.values("service").distinct().count() >= 4
        for m in Measurement.objects.exclude(source=Measurement.Source.INGEST).select_related("service", "recorded_by"):
            assert _of_the_team(m.recorded_by, m.service), str(m)

    def test_values_were_reported_when_they_would_have_been(self):
        joined = working_day(self.today + dt.timedelta(days=self.data["platform_started"]))
        recorded = Measurement.objects.exclude(service__name__in=STANDARD).values_list("recorded_at", flat=True)
        first = min(timezone.localdate(t) for t in recorded)
        assert first == min(joined, self.today)
        for m in Measurement.objects.all():
            assert m.period_end < timezone.localdate(m.recorded_at) <= self.today, str(m)
            assert m.period_end < timezone.localdate(m.measured_at) <= timezone.localdate(m.recorded_at), str(m)
        # once on the platform, a service reports each month on the working day due
        latest = Measurement.objects.get(service__name="Cloud hosting", metric_key="availability",
                                         period_end=self.today.replace(day=1) - dt.timedelta(days=1))
        due = working_day(latest.period_end + dt.timedelta(days=4))
        assert timezone.localdate(latest.recorded_at) == min(max(due, joined), self.today)
        uploads = AuditEvent.objects.filter(verb="import_measurements", service__name="Cloud hosting")
        assert uploads.count() >= 3 and len({timezone.localdate(e.at) for e in uploads}) == uploads.count()

    def test_a_value_was_corrected_by_hand(self):
        corrected = Measurement.objects.get(service__name="Contact centre", metric_key="resolved",
                                            period_end=self.today.replace(day=1) - dt.timedelta(days=1))
        assert corrected.value == Decimal("75.6") and corrected.source == Measurement.Source.MANUAL
        assert "Recounted" in corrected.note
        event = AuditEvent.objects.get(verb="record_measurement", service__name="Contact centre")
        assert event.before["value"] and event.before["value"] != event.after["value"]

    # ------------------------------------------------------------ standard measures

    def test_standard_measures_are_in_the_approved_current_contracts(self):
        for name in STANDARD:
            service = Service.objects.get(name=name)
            version = service.current_version
            assert version.status == VersionStatus.APPROVED and version.change_note, name
            measures = {m.key: m for m in version.metrics.all()}
            added = set(self.data["standard_measures"][name]["measures"])
            assert added <= set(measures), name
            assert "user-satisfaction" in added and measures["user-satisfaction"].target is not None
            for key in added:
                values = Measurement.objects.filter(service=service, metric_key=key)
                assert values.count() == 12, (name, key)
                # uploaded at once, once the measure was in the approved contract
                assert {timezone.localdate(m.recorded_at) for m in values} == {self.today}
                assert all(m.recorded_at >= version.approved_at for m in values)
        verbs = Counter(AuditEvent.objects.filter(verb="add_standard_measure").values_list("service__name", flat=True))
        assert verbs == {name: 3 for name in STANDARD}
        # no draft was left open by them
        assert not Service.objects.filter(name__in=STANDARD, versions__status=VersionStatus.DRAFT).exists()

    # ------------------------------------------------------------ capital flow

    def test_the_capital_flow_of_the_demo_period_balances(self):
        view = queries.capital_flow_for(self.period)
        assert not view.error and view.flow is not None
        flow = view.flow
        assert flow.unallocated == 0 and flow.unallocated_exact == 0
        spent = Spend.objects.filter(allocation__period=self.period).aggregate(s=Sum("amount"))["s"]
        assert flow.total_direct == spent == flow.total_external
        assert sum(flow.external_cost_balanced.values()) == flow.total_direct
        names = {s.name: pk for pk, s in view.services.items()}
        # money flows from the platforms up to the journeys: hosting sits inside paying council tax
        pay = names["Pay council tax"]
        inside = flow.breakdown(pay)
        assert inside[names["Cloud hosting"]] > 0 and inside[names["Payments"]] > 0
        assert sum(inside.values()) == flow.fully_loaded[pay] > flow.direct[pay]
        for pk, count in view.transactions.items():
            assert count > 0 and flow.cost_per_transaction(pk, count) > 0, view.services[pk].name
        assert len(view.transactions) >= 8
        # every provider's shares leave something for users outside the network
        given = ConsumptionShare.objects.filter(period=self.period).values("provider").annotate(s=Sum("share"))
        assert given and all(row["s"] < 1 for row in given)

    def test_the_capital_flow_has_a_cycle_that_leaks(self):
        hosting, logging = Service.objects.get(name="Cloud hosting"), Service.objects.get(name="Logging and monitoring")
        shares = ConsumptionShare.objects.filter(period=self.period)
        assert shares.filter(provider=hosting, consumer=logging).exists()
        assert shares.filter(provider=logging, consumer=hosting).exists()
        assert any({hosting.pk, logging.pk} <= set(cycle) for cycle in load_graph().cycles())
        flow = queries.capital_flow_for(self.period).flow
        assert flow.external_share[hosting.pk] > 0 and flow.external_share[logging.pk] > 0
        # each carries some of the other's cost
        assert flow.breakdown_exact(hosting.pk)[logging.pk] > 0 and flow.breakdown_exact(logging.pk)[hosting.pk] > 0

    def test_running_costs_are_spent_within_the_budgets(self):
        costs = Spend.objects.filter(description__startswith="Team pay and running costs")
        months = {(d.year, d.month) for d in (self.today.replace(day=1) - dt.timedelta(days=n) for n in range(400))
                  if financial_year(d)[0] == self.period and d < self.today.replace(day=1)}
        if not months:
            pytest.skip("no month of the budget period has ended")
        assert costs.values("allocation__service").distinct().count() == len(self.data["capital"]["running_costs"]["services"])
        for spend in costs.select_related("allocation__service", "recorded_by"):
            assert spend.recorded_by == spend.allocation.service.manager
            assert spend.spent_on.weekday() < 5 and "{" not in spend.description
        monthly = self.data["capital"]["running_costs"]["services"]["Contact centre"]["monthly"]
        total = costs.filter(allocation__service__name="Contact centre").aggregate(s=Sum("amount"))["s"]
        assert total == Decimal(monthly) * len(months)
        for allocation in BudgetAllocation.objects.all():
            assert allocation_balance(allocation)["remaining"] >= 0, str(allocation)

    # ------------------------------------------------------------ figures

    def test_the_executives_figures_compute(self):
        figures = Aggregation.objects.filter(retired_at__isnull=True)
        assert figures.count() == len(self.data["figures"])
        assert set(figures.values_list("created_by__email", flat=True)) == {"ada.okafor@northbridge.example"}
        for figure in figures:
            values = queries.aggregation_values(figure)
            known = [v["value"] for v in values if v["value"] is not None]
            assert len(known) >= 4, figure.name
            if figure.grain == Aggregation.Grain.MONTH:  # last month is reported; this month not yet
                assert values[-2]["value"] is not None and values[-1]["value"] is None and values[-1]["reason"]
        satisfaction = queries.aggregation_values(figures.get(name__startswith="Satisfaction"))[-2]["value"]
        assert 60 < satisfaction < 90
        revised = figures.get(name="Digital take-up")
        assert revised.revision == 2 and "beta, live" in revised.expression

    # ------------------------------------------------------------ maps

    def test_every_demo_map_parses_without_warnings(self):
        versions = MapVersion.objects.select_related("service", "saved_by")
        assert versions.values("service").distinct().count() == len(self.data["maps"]) >= 4
        files = {p.name for p in MAPS_DIR.glob("*.owm")}
        assert files == {v["file"] for versions_ in self.data["maps"].values() for v in versions_}
        for version in versions:
            parsed = parse(version.text)
            assert parsed.warnings == [] and version.warnings == 0, (version.service.name, parsed.warnings)
            assert parsed.to_text() == version.text
            assert parsed.title == version.service.name and parsed.components and parsed.links
            assert _of_the_team(version.saved_by, version.service) and version.note
            assert timezone.localdate(version.saved_at) < self.today
        pay = list(versions.filter(service__name="Pay council tax").order_by("number"))
        assert [v.number for v in pay] == [1, 2] and pay[0].saved_at < pay[1].saved_at
        assert pay[0].text != pay[1].text

    def test_the_maps_use_the_language_widely(self):
        maps = [parse(v.text) for v in MapVersion.objects.all()]
        kinds = {c.kind for m in maps for c in m.components}
        assert {"anchor", "component", "market", "ecosystem", "submap"} <= kinds
        assert any(c.inertia for m in maps for c in m.components)
        assert {"build", "buy", "outsource", "market"} <= {d for m in maps for c in m.components for d in c.decorators}
        assert any(link.label for m in maps for link in m.links)
        for statements in ("evolves", "pipelines", "notes", "annotations", "flows", "boxes", "accelerators", "methods"):
            assert any(getattr(m, statements) for m in maps), statements
        assert any(e.new_name for m in maps for e in m.evolves), "an evolve that renames"
        assert any(m.evolution_labels for m in maps) and any(m.legend for m in maps)

    # ------------------------------------------------------------ the whole

    def test_every_write_was_made_through_an_audited_action(self):
        verbs = dict(AuditEvent.objects.values_list("verb").annotate(n=Count("id")).order_by())
        assert verbs["save_service_map"] == MapVersion.objects.count()
        assert verbs["define_aggregation"] == sum(a.revision for a in Aggregation.objects.all())
        assert verbs["record_consumption_shares"] == ConsumptionShare.objects.values("period", "provider").distinct().count()
        assert verbs["record_transactions"] == PeriodVolume.objects.count()
        assert verbs["issue_ingest_token"] == IngestToken.objects.count()
        assert verbs["set_measurement_cadence"] == MetricSeries.objects.exclude(
            cadence_days=MetricSeries.DEFAULT_CADENCE_DAYS).count()
        assert verbs["record_measurement"] == Measurement.objects.filter(source=Measurement.Source.MANUAL).count()
        uploads = AuditEvent.objects.filter(verb="import_measurements")
        # (a value uploaded and later corrected by hand is now a manual one)
        corrected = len(self.data["corrections"])
        assert sum(e.after["created"] for e in uploads) == Measurement.objects.filter(
            source=Measurement.Source.CSV).count() + corrected
        assert not uploads.filter(after__replaced__gt=0).exists()
        pushes = AuditEvent.objects.filter(verb="ingest_measurements")
        assert sum(e.after["created"] for e in pushes) == Measurement.objects.filter(source=Measurement.Source.INGEST).count()
        # only the service's own systems act without a person
        assert set(AuditEvent.objects.filter(actor__isnull=True).values_list("verb", flat=True)) == {"ingest_measurements"}

    def test_loading_twice_changes_nothing(self):
        before = _counts()
        assert not load_demo().created
        assert not load_fitness_demo()
        assert _counts() == before


# ---------------------------------------------------------------- the series, without a database


def test_a_series_goes_from_its_first_value_to_its_latest_and_wobbles_the_same_each_time():
    periods = series_periods("month", 12, dt.date(2026, 11, 27))
    series = Series(Decimal("90"), Decimal("96"), Decimal("1.5"), 1)
    values = series_values("A service/a-metric", series, periods)
    assert values == series_values("A service/a-metric", series, periods)
    assert values != series_values("Another/a-metric", series, periods)
    assert values[0] == 90 and values[-1] == 96 and all(v.as_tuple().exponent == -1 for v in values)
    for i, value in enumerate(values):
        line = Decimal(90) + Decimal(6) * i / 11
        assert abs(value - line) <= Decimal("1.55"), (i, value)
    # a value given for a month, by name or by how far back, is kept as it is
    marked = Series(Decimal("90"), Decimal("96"), Decimal("1.5"), 1, at={"January": Decimal("70"), 1: Decimal("99")})
    moved = series_values("A service/a-metric", marked, periods)
    assert moved[2] == 70 and moved[10] == 99 and periods[2].start == dt.date(2026, 1, 1)
    assert [v for i, v in enumerate(moved) if i not in (2, 10)] == [v for i, v in enumerate(values) if i not in (2, 10)]
    # a percentage stays within 0 and 100, and nothing goes below 0
    full = series_values("x/y", Series(Decimal("99"), Decimal("100"), Decimal("5"), 0), periods, percent=True)
    assert all(0 <= v <= 100 for v in full)
    assert all(v >= 0 for v in series_values("x/z", Series(Decimal("1"), Decimal("0"), Decimal("5"), 0), periods))


def test_periods_end_before_the_day_and_are_reported_on_working_days():
    today = dt.date(2026, 11, 27)  # a Friday
    months = series_periods("month", 12, today)
    assert (months[0].start, months[-1].end) == (dt.date(2025, 11, 1), dt.date(2026, 10, 31))
    assert all(p.reported.weekday() < 5 and p.reported > p.end for p in months)
    assert months[-1].reported == dt.date(2026, 11, 4)
    assert months[3].reported == dt.date(2026, 3, 4) and months[4].reported == dt.date(2026, 4, 6)  # not a Saturday
    weeks = series_periods("week", 52, today)
    assert weeks[-1].end == dt.date(2026, 11, 22) and weeks[-1].reported == dt.date(2026, 11, 23)
    assert all(w.start.weekday() == 0 and w.end.weekday() == 6 for w in weeks)
    assert series_periods("week", 1, dt.date(2026, 11, 23))[0].end == dt.date(2026, 11, 22)  # a Monday
    quarters = series_periods("quarter", 4, today)
    assert [q.start for q in quarters] == [dt.date(2025, 10, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1),
                                           dt.date(2026, 7, 1)]
    assert quarters[-1].end == dt.date(2026, 9, 30) and quarters[-1].reported == dt.date(2026, 10, 12)
    assert [working_day(dt.date(2026, 11, d)) for d in (27, 28, 29, 30)] == [dt.date(2026, 11, 27)] + [
        dt.date(2026, 11, 30)] * 3


def test_the_fitness_data_is_checked_before_anything_is_written(tmp_path):
    data = read_fitness_data()
    assert "Payments" in data["measurements"] and isinstance(data["measurements"]["Payments"]["series"]["success"], Series)

    def misspell(data):
        data["measurements"]["Payments"]["series"]["success"]["wobbel"] = 1

    def short_list(data):
        data["measurements"]["Telephony"]["series"]["connected"] = [99.7, 99.8]

    def daily(data):
        data["measurements"]["Payments"]["series"]["success"]["every"] = "day"

    def month_of_a_week(data):
        data["measurements"]["Payments"]["series"]["success"]["at"] = {"March": 90}

    def all_stopped(data):
        data["measurements"]["Maps and location"]["series"]["current-layers"]["stopped"] = 12

    def unknown_measure(data):
        data["standard_measures"]["Report a street problem"]["measures"]["happiness"] = 80

    def missing_map(data):
        data["maps"]["Cloud hosting"][0]["file"] = "nowhere.owm"

    def maps_out_of_order(data):
        data["maps"]["Pay council tax"].reverse()

    def correct_nothing(data):
        data["corrections"][0]["metric"] = "smiles"

    for change, message in ((misspell, "wobbel"), (short_list, r"\[first value, latest value, wobble\]"),
                            (daily, "every is one of"), (month_of_a_week, "only for a monthly series"),
                            (all_stopped, "nothing left to report"), (unknown_measure, "happiness"),
                            (missing_map, "nowhere.owm"), (maps_out_of_order, "in order"),
                            (correct_nothing, "smiles")):
        with pytest.raises(DemoDataError, match=message):
            read_fitness_data(_broken(tmp_path, change))


# ---------------------------------------------------------------- loads of their own


def test_a_failure_in_the_fitness_data_leaves_nothing_half_loaded(db, tmp_path):
    def share_too_much(data):
        data["capital"]["shares"]["Telephony"]["Contact centre"] = "101%"

    with mock.patch("osom.fitness.demo_fitness.FITNESS_FILE", _broken(tmp_path, share_too_much)):
        with pytest.raises(InvalidInput):
            load_demo()
    assert not (Person.objects.exists() or Service.objects.exists() or Measurement.objects.exists()
                or AuditEvent.objects.exists())


def test_loaded_as_a_budget_period_begins(db):
    """On the second day of a financial year no month of it has ended: nothing is spent
    or transacted in it yet, and its capital flow still computes (to nothing)."""
    moment = dt.datetime(2027, 4, 2, 12, tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        load_demo()
        view = queries.capital_flow_for("2027-28")
    assert not Spend.objects.filter(description__startswith="Team pay").exists()
    assert not PeriodVolume.objects.exists()
    assert set(ConsumptionShare.objects.values_list("period", flat=True)) == {"2027-28"}
    assert not view.error and view.flow.unallocated == 0
    last = Measurement.objects.filter(service__name="Cloud hosting", metric_key="availability").latest("period_end")
    assert last.period_end == dt.date(2027, 3, 31)
    assert max(timezone.localdate(m.recorded_at) for m in Measurement.objects.all()) == moment.date()
