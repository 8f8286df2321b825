from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "osom.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle, assessments and budgets"
