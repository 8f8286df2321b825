"""The day each assessment is listed by, stored and indexed: the report's day once
published, else the day scheduled. Existing rows are filled in the database, in the
organisation's time zone, exactly as the list computed it before."""

from django.db import migrations, models
from django.db.models import DateField, F
from django.db.models.functions import Coalesce, TruncDate


def fill_days(apps, schema_editor):
    Assessment = apps.get_model("lifecycle", "Assessment")
    Assessment.objects.using(schema_editor.connection.alias).update(
        listed_on=Coalesce(TruncDate("published_at"), F("scheduled_for"), output_field=DateField()))


class Migration(migrations.Migration):

    dependencies = [
        ("lifecycle", "0002_starting_criteria"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="listed_on",
            field=models.DateField(null=True, editable=False),
        ),
        migrations.RunPython(fill_days, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="assessment",
            name="listed_on",
            field=models.DateField(
                editable=False,
                help_text="The day the assessment is listed by: its report's day once published, else the day scheduled",
            ),
        ),
        migrations.AddIndex(
            model_name="assessment",
            index=models.Index(fields=["listed_on", "id"], name="lifecycle_assessment_listed"),
        ),
    ]
