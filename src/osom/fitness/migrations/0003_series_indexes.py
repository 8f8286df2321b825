"""The indexes that the network's fitness reads use, built once the series are filled
(in a transaction of their own: PostgreSQL builds no index on a table whose rows the
same transaction changed while their foreign keys are yet to be checked)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fitness', '0002_series_status'),
    ]

    operations = [
        *[migrations.AddIndex(
            model_name='metricseries',
            index=models.Index(condition=models.Q(('current', True)), fields=[*fields, 'service_name', 'position', 'id'], name=name),
        ) for name, fields in (('series_page', []), ('series_status_page', ['status']), ('series_stage_page', ['stage']),
                               ('series_stage_status_page', ['stage', 'status']))],
        *[migrations.AddIndex(
            model_name='metricseries',
            index=models.Index(condition=models.Q(('current', True)), fields=fields, name=name),
        ) for name, fields in (('series_due', ['due_on']), ('series_stage_due', ['stage', 'due_on']))],
    ]
