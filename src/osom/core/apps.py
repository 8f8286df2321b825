from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "osom.core"
    label = "core"
    verbose_name = "OSOM core"
