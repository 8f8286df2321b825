"""``osom generate``: a large organisation built in bulk must hold what the actions
would have written, keep every invariant the app relies on, and read as real."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Count, F, Max, Sum
from django.test import Client
from django.urls import reverse

from osom.bench.generate import generate_organisation
from osom.cli import main
from osom.core import actions as core
from osom.core.audit import verify_chain
from osom.core.errors import Conflict, InvalidInput
from osom.core.models import AuditEvent, Person, Role
from osom.fitness.models import MET, MISSED, NO_DATA, NO_TARGET, ConsumptionShare, Measurement, MetricSeries, status_of
from osom.fitness.queries import capital_flow_for
from osom.learning.models import CorrectionOfError, CorrectiveAction, DoctrineRating
from osom.lifecycle.models import Assessment, AssessmentStatus, Spend
from osom.maps.models import MapVersion
from osom.network.models import Appointment, ContractVersion, Dependency, Metric, Need, Service, TeamMembership
from osom.network.stages import Evolution, Lifecycle, VersionStatus

TODAY = dt.date(2026, 11, 27)
N = 60


def _generate(seed: int = 7, services: int = N, years: int = 1):
    return generate_organisation(services=services, seed=seed, years=years, today=TODAY)


@pytest.fixture
def organisation(db):
    return _generate()


def _consumers_per_provider() -> Counter:
    rows = Dependency.objects.filter(version__service__current_version=F("version")).values_list(
        "provider_id", flat=True)
    return Counter(rows)


def test_counts_and_proportions(organisation):
    services = Service.objects.all()
    assert services.count() == N
    stages = Counter(services.values_list("lifecycle_stage", flat=True))
    assert set(stages) == set(Lifecycle.values), stages
    assert stages[Lifecycle.LIVE] > N * 0.45 and stages[Lifecycle.LIVE] == max(stages.values())
    assert stages[Lifecycle.DECOMMISSIONED] < N * 0.2
    evolutions = Counter(services.values_list("evolution_stage", flat=True))
    assert len(evolutions) >= 3 and evolutions[Evolution.GENESIS] < N * 0.15
    # a decommissioned service keeps its reasons and the consumers' migration path
    for service in services.filter(lifecycle_stage=Lifecycle.DECOMMISSIONED).select_related("current_version"):
        assert service.current_version.decommission_reasons.startswith("Condition (")
        assert service.current_version.migration_path
    assert organisation.counts["Measurement"] == Measurement.objects.count() > 0
    assert Person.objects.filter(role=Role.EXECUTIVE).count() == 1
    assert Person.objects.filter(role=Role.EXECUTIVE_TEAM).count() >= 3
    assert TeamMembership.objects.count() >= N * 2
    assert MapVersion.objects.exists()
    assert DoctrineRating.objects.exists()


def test_hubs_consumed_by_many(organisation):
    consumers = _consumers_per_provider()
    top = consumers.most_common(3)
    # a power law: the biggest hub has many consumers, the typical provider few
    assert top[0][1] >= N // 6, top
    typical = sorted(consumers.values())[len(consumers) // 2]
    assert typical <= 3 < top[0][1]


def test_every_service_has_its_approved_current_version(organisation):
    for service in Service.objects.select_related("current_version"):
        version = service.current_version
        assert version is not None and version.service_id == service.pk
        assert version.status == VersionStatus.APPROVED
        numbers = list(service.versions.order_by("number").values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1)) and version.number == numbers[-1]
        assert version.name == service.name and version.evolution_stage == service.evolution_stage
        assert service.manager_id is not None
        open_appointments = Appointment.objects.filter(service=service, ended_at__isnull=True)
        assert list(open_appointments.values_list("person_id", flat=True)) == [service.manager_id]
    assert len(set(Service.objects.values_list("slug", flat=True))) == N
    assert not ContractVersion.objects.exclude(status=VersionStatus.APPROVED).exists()


def test_contract_rows_belong_to_versions_and_point_to_existing_services(organisation):
    ids = set(Service.objects.values_list("pk", flat=True))
    assert set(Dependency.objects.values_list("provider_id", flat=True)) <= ids
    assert not Dependency.objects.filter(provider_id=F("version__service_id")).exists()
    for version in ContractVersion.objects.annotate(n=Count("needs", distinct=True), m=Count("metrics", distinct=True)):
        assert version.n >= 1 and version.m >= 2, version
    # each need's metrics are of its own version
    through = Need.metrics.through.objects.select_related("need", "metric")
    assert all(row.need.version_id == row.metric.version_id for row in through)
    # a live service is due for its next periodic assessment
    assert not Service.objects.filter(lifecycle_stage=Lifecycle.LIVE, next_assessment_due__isnull=True).exists()


def test_some_small_cycles_and_mostly_acyclic(organisation):
    edges = defaultdict(set)
    for consumer, provider in Dependency.objects.filter(
            version__service__current_version=F("version")).values_list("version__service_id", "provider_id"):
        edges[consumer].add(provider)
    mutual = {(a, b) for a in edges for b in edges[a] if a in edges.get(b, ())}
    assert 0 < len(mutual) // 2 <= 20
    all_edges = sum(len(v) for v in edges.values())
    assert len(mutual) < all_edges * 0.2


def test_measurement_series_match_measurements(organisation):
    series = {(s.service_id, s.metric_key): s for s in MetricSeries.objects.all()}
    grouped = Measurement.objects.values("service_id", "metric_key").annotate(n=Count("pk"), last=Max("period_end"))
    assert len(grouped) == len([s for s in series.values() if s.count]) > 0
    for row in grouped:
        s = series[(row["service_id"], row["metric_key"])]
        assert s.count == row["n"] and s.latest_end == row["last"]
        latest = Measurement.objects.get(service_id=s.service_id, metric_key=s.metric_key, period_end=s.latest_end)
        assert s.latest_value == latest.value and s.latest_start == latest.period_start
        assert s.due_on == s.latest_end + dt.timedelta(days=s.cadence_days)
    # measurements are of metrics the service's contract has
    keys = defaultdict(set)
    for service_id, key in Metric.objects.filter(version__service__current_version=F("version")).values_list(
            "version__service_id", "key"):
        keys[service_id].add(key)
    assert all(key in keys[service_id] for service_id, key in series)
    assert MetricSeries.objects.filter(cadence_days=7, count__gte=40).exists()  # a year of weekly values


def test_every_metric_of_a_current_contract_has_its_series_with_its_status(organisation):
    metrics = Metric.objects.filter(version__service__current_version=F("version")).select_related("version__service")
    series = {(s.service_id, s.metric_key): s for s in MetricSeries.objects.all()}
    assert len(series) == metrics.count()
    statuses = Counter()
    for metric in metrics:
        service = metric.version.service
        s = series[(service.pk, metric.key)]
        running = service.lifecycle_stage != Lifecycle.DECOMMISSIONED
        assert (s.metric_id, s.current, s.service_name, s.stage, s.position, s.target, s.direction) == (
            metric.pk, running, service.name, service.lifecycle_stage, metric.position, metric.target, metric.direction)
        assert s.status == status_of(s.latest_value, metric.target, metric.direction)
        statuses[s.status] += 1
    # every status occurs: met and missed targets, metrics without one, metrics not yet reported
    assert set(statuses) == {MET, MISSED, NO_TARGET, NO_DATA}, statuses


def test_assessments_reports_and_learning(organisation):
    assert Assessment.objects.exists()
    assert not Assessment.objects.exclude(status=AssessmentStatus.PUBLISHED).exists()
    for report in Assessment.objects.all()[:50]:
        assert report.contract_version.service_id == report.service_id and report.items.count() >= 1
        assert report.assessors.count() == 2
    statuses = Counter(CorrectionOfError.objects.values_list("status", flat=True))
    assert statuses[CorrectionOfError.Status.REVIEWED] and statuses[CorrectionOfError.Status.PUBLISHED]
    assert CorrectiveAction.objects.filter(status__in=["done", "verified"]).exists()
    assert not CorrectionOfError.objects.filter(status="reviewed", review__isnull=True).exists()


def test_money_and_capital_flow(organisation):
    assert Spend.objects.aggregate(t=Sum("amount"))["t"] > 0
    totals = ConsumptionShare.objects.values("provider_id").annotate(t=Sum("share"))
    assert totals and all(Decimal(0) < row["t"] <= 1 for row in totals)
    # shares follow the current contracts' dependencies
    for share in ConsumptionShare.objects.select_related("consumer"):
        assert Dependency.objects.filter(version=share.consumer.current_version, provider_id=share.provider_id).exists()
    period = ConsumptionShare.objects.values_list("period", flat=True).first()
    view = capital_flow_for(period)
    assert view.error == "" and view.flow is not None
    # every penny of direct spend ends up with external users (model 11)
    direct = sum(view.direct.values())
    assert abs(sum(view.flow.external_cost.values()) - direct) <= Decimal("0.01") * len(view.direct)


def test_one_audit_event_and_an_intact_chain(organisation):
    events = list(AuditEvent.objects.all())
    assert len(events) == 1
    assert events[0].actor is None and events[0].actor_label == "system"
    assert events[0].summary == f"Generated an organisation of {N} services"
    assert verify_chain().intact


def test_pages_and_api_work_on_it(organisation):
    executive = Person.objects.get(role=Role.EXECUTIVE)
    client = Client()
    client.force_login(executive)
    assert client.get(reverse("network:list")).status_code == 200
    assert client.get(reverse("maps:network")).status_code == 200
    hub = Service.objects.get(pk=_consumers_per_provider().most_common(1)[0][0])
    assert client.get(reverse("network:service", args=[hub.slug])).status_code == 200
    _, token = core.issue_api_token(actor=executive, person=executive)
    api = Client()
    api.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    body = api.get("/api/v1/services", {"limit": 10}).json()
    assert body["count"] == N


def test_deterministic_for_a_seed(db):
    def snapshot():
        return (
            list(Service.objects.order_by("pk").values_list("name", "slug", "lifecycle_stage", "evolution_stage")),
            sorted(Dependency.objects.values_list("version__service__slug", "provider__slug")),
            Measurement.objects.aggregate(t=Sum("value"), n=Count("pk")),
            list(ConsumptionShare.objects.order_by("provider_id", "consumer_id").values_list("share", flat=True)),
        )

    with transaction.atomic():
        _generate(seed=11, services=40)
        first = snapshot()
        transaction.set_rollback(True)
    assert not Service.objects.exists()
    with transaction.atomic():
        _generate(seed=11, services=40)
        assert snapshot() == first
        transaction.set_rollback(True)
    _generate(seed=12, services=40)
    assert snapshot()[0] != first[0]


def test_refuses_a_database_with_services(cast):
    people = Person.objects.count()
    with pytest.raises(Conflict) as refusal:
        _generate()
    assert "already holds 2 services" in refusal.value.message and refusal.value.field == "services"
    assert Person.objects.count() == people and Service.objects.count() == 2


@pytest.mark.parametrize("kwargs, field", [({"services": 0}, "services"), ({"services": "ten"}, "services"),
                                          ({"services": 5, "years": 0}, "years")])
def test_refuses_bad_numbers(db, kwargs, field):
    with pytest.raises(InvalidInput) as refusal:
        generate_organisation(**kwargs)
    assert refusal.value.field == field
    assert not Person.objects.exists()


def test_the_command_line(db, capsys):
    assert main(["generate", "--services", "30", "--years", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Generated an organisation of 30 services" in out and "Measurement" in out
    assert Service.objects.count() == 30
    # a second run refuses, in one line, with exit code 2
    assert main(["generate", "--services", "30", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("osom: The database already holds 30 services") and err.count("\n") == 1
    assert Service.objects.count() == 30


def test_the_command_line_refuses_a_bad_count(db, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["generate", "--services", "0"])
    assert stop.value.code == 2
    assert "--services" in capsys.readouterr().err
    assert not Service.objects.exists()



def test_progress_is_drawn_only_for_a_terminal(db, capsys, monkeypatch):
    with transaction.atomic():
        generate_organisation(services=12, years=1, today=TODAY, progress=True)
        transaction.set_rollback(True)
    assert capsys.readouterr().err == ""  # captured output is no terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    generate_organisation(services=12, years=1, today=TODAY, progress=True)
    err = capsys.readouterr().err
    assert "measurements" in err and "12/12" in err.replace(",", "")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans from table statistics; SQLite "
                    "plans from its indexes and is left to PRAGMA optimize")
def test_the_planners_statistics_are_gathered_after_the_load(organisation):
    """A table filled in bulk has no statistics until they are gathered; without them
    PostgreSQL plans pages of a large network as if its tables were empty."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Service._meta.db_table])
        (estimated,) = cursor.fetchone()
    assert estimated == Service.objects.count()
