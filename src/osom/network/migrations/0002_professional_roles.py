from django.db import migrations


def add_roles(apps, schema_editor):
    from osom.network.frameworks import DDAT_ROLES

    ProfessionalRole = apps.get_model("network", "ProfessionalRole")
    for family, names in DDAT_ROLES.items():
        for name in names:
            ProfessionalRole.objects.get_or_create(framework="DDaT", name=name, defaults={"job_family": family})


def add_organisation(apps, schema_editor):
    Organisation = apps.get_model("core", "Organisation")
    if not Organisation.objects.exists():
        Organisation.objects.create(pk=1, reserved_acts=["replace_manager", "decommission_service"])


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial"), ("core", "0002_initial")]

    operations = [
        migrations.RunPython(add_roles, migrations.RunPython.noop),
        migrations.RunPython(add_organisation, migrations.RunPython.noop),
    ]
