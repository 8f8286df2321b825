from django.db import migrations
from django.utils.text import slugify


def add_patterns(apps, schema_editor):
    from osom.learning.doctrine import PATTERNS

    DoctrinePattern = apps.get_model("learning", "DoctrinePattern")
    for position, (group, phase, name, meaning) in enumerate(PATTERNS, start=1):
        DoctrinePattern.objects.update_or_create(
            name=name, defaults={"group": group, "phase": phase, "meaning": meaning, "slug": slugify(name), "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("learning", "0001_initial")]
    operations = [migrations.RunPython(add_patterns, migrations.RunPython.noop)]
