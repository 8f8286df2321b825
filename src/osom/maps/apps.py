from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "osom.maps"
    label = "maps"
    verbose_name = "Wardley maps"
    default_auto_field = "django.db.models.BigAutoField"
