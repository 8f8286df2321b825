from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "osom.interop"
    label = "interop"
    verbose_name = "Imports, exports and webhooks"
    default_auto_field = "django.db.models.BigAutoField"
