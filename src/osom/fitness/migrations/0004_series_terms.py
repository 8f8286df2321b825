"""Each series' words, for finding the network's metrics by words: the service's name,
the metric's name and its key, folded as the search index folds them."""

from django.db import migrations, models

BATCH = 500


def fill(apps, schema_editor):
    from osom.search.text import terms

    MetricSeries = apps.get_model("fitness", "MetricSeries")
    rows = MetricSeries.objects.values_list("pk", "service_name", "metric__name", "metric_key").order_by("pk")
    batch = []
    for pk, name, metric_name, key in rows.iterator(chunk_size=2000):
        batch.append(MetricSeries(pk=pk, terms=terms(name, metric_name or "", key)))
        if len(batch) >= BATCH:
            MetricSeries.objects.bulk_update(batch, ["terms"])
            batch = []
    MetricSeries.objects.bulk_update(batch, ["terms"])


class Migration(migrations.Migration):

    dependencies = [
        ("fitness", "0003_series_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="metricseries",
            name="terms",
            field=models.TextField(blank=True, default="",
                                   help_text="The folded words of the service's name, the metric's name and key"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
