from django.apps import AppConfig


class FitnessConfig(AppConfig):
    name = "osom.fitness"
    label = "fitness"
    verbose_name = "Fitness data"
    default_auto_field = "django.db.models.BigAutoField"
