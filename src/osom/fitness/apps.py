from django.apps import AppConfig


class FitnessConfig(AppConfig):
    name = "osom.fitness"
    label = "fitness"
    verbose_name = "Fitness data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import series

        # each metric's series follows its service's current contract, name and stage
        series.connect()
