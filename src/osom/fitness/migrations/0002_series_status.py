"""Each metric's series carries its status and what the network's fitness reads need, and
every metric of a current contract has a series (with no values yet if none was reported).
The columns are filled for what the database already holds, in a few statements over the
whole table rather than one per service."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

BATCH = 2000
MET, MISSED, NO_TARGET, NO_DATA = "met", "missed", "no target", "no data"


def _status(value, target, direction):
    # as osom.fitness.models.status_of, kept here as it was when this migration was written
    if value is None:
        return NO_DATA
    if target is None:
        return NO_TARGET
    if direction == "lower":
        return MET if value <= target else MISSED
    return MET if value >= target else MISSED


def fill(apps, schema_editor):
    MetricSeries = apps.get_model("fitness", "MetricSeries")
    Metric = apps.get_model("network", "Metric")
    Service = apps.get_model("network", "Service")
    have = set(MetricSeries.objects.values_list("service_id", "metric_key"))
    wanted = (Metric.objects.filter(version__service__current_version=F("version"))
              .values_list("version__service_id", "key").order_by("version__service_id", "position", "pk"))
    MetricSeries.objects.bulk_create([MetricSeries(service_id=s, metric_key=k) for s, k in wanted.iterator(chunk_size=BATCH)
                                      if (s, k) not in have], batch_size=BATCH)
    service = Service.objects.filter(pk=OuterRef("service_id"))
    version = Service.objects.filter(pk=OuterRef(OuterRef("service_id"))).values("current_version_id")[:1]
    MetricSeries.objects.update(
        metric_id=Subquery(Metric.objects.filter(version_id=Subquery(version), key=OuterRef("metric_key")).values("pk")[:1]),
        service_name=Subquery(service.values("name")[:1]),
        stage=Subquery(service.values("lifecycle_stage")[:1]),
    )
    metric = Metric.objects.filter(pk=OuterRef("metric_id"))
    MetricSeries.objects.update(
        target=Subquery(metric.values("target")[:1]),
        direction=Coalesce(Subquery(metric.values("direction")[:1]), Value("")),
        position=Coalesce(Subquery(metric.values("position")[:1]), Value(0)),
        current=Case(When(Q(metric__isnull=False) & ~Q(stage="decommissioned"), then=Value(True)), default=Value(False)),
    )
    moves = {}
    rows = MetricSeries.objects.values_list("pk", "latest_value", "target", "direction", "status").order_by("pk")
    for pk, value, target, direction, stored in rows.iterator(chunk_size=BATCH):
        status = _status(value, target, direction)
        if status != stored:
            moves.setdefault(status, []).append(pk)
    for status, pks in moves.items():
        for start in range(0, len(pks), BATCH):
            MetricSeries.objects.filter(pk__in=pks[start:start + BATCH]).update(status=status)


class Migration(migrations.Migration):

    dependencies = [
        ('fitness', '0001_fitness'),
        ('network', '0004_review_fixes'),
    ]

    operations = [
        migrations.AddField(
            model_name='metricseries',
            name='current',
            field=models.BooleanField(default=False, help_text='A metric of the current contract of a running service'),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='direction',
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='metric',
            field=models.OneToOneField(blank=True, help_text="The metric of the service's current contract; empty when it has none",
                                       null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='fitness_series',
                                       to='network.metric'),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='position',
            field=models.PositiveIntegerField(default=0, help_text="The metric's place in the contract"),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='service_name',
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='stage',
            field=models.CharField(blank=True, help_text="The service's lifecycle stage", max_length=20),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='status',
            field=models.CharField(choices=[('met', 'Met'), ('missed', 'Missed'), ('no target', 'No target'), ('no data', 'No data')],
                                   default='no data', help_text='The latest value against the current target', max_length=10),
        ),
        migrations.AddField(
            model_name='metricseries',
            name='target',
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=18, null=True),
        ),
        migrations.AlterField(
            model_name='metricseries',
            name='due_on',
            field=models.DateField(blank=True, help_text='When the next value is due', null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
