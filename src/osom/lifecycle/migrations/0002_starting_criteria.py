from django.db import migrations
from django.utils.text import slugify


def add_criteria(apps, schema_editor):
    from osom.lifecycle.criteria import COMMON, TECHNICAL

    Criterion = apps.get_model("lifecycle", "Criterion")
    DoctrinePattern = apps.get_model("learning", "DoctrinePattern")
    position = 0
    for source, rows in (("common", COMMON), ("technical", TECHNICAL)):
        for name, meaning, stages in rows:
            position += 1
            Criterion.objects.get_or_create(
                name=name, defaults={"slug": slugify(name), "meaning": meaning, "source": source, "stages": stages, "position": position}
            )
    for pattern in DoctrinePattern.objects.order_by("position"):
        position += 1
        Criterion.objects.get_or_create(
            name=f"Doctrine: {pattern.name}",
            defaults={"slug": "doctrine-" + pattern.slug, "meaning": pattern.meaning, "source": "doctrine", "pattern": pattern,
                      # doctrine criteria are chosen by hand; none is on an agenda by default
                      "stages": [], "position": position},
        )


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial"), ("learning", "0002_doctrine_patterns")]
    operations = [migrations.RunPython(add_criteria, migrations.RunPython.noop)]
