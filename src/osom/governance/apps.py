from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "osom.governance"
    label = "governance"
    verbose_name = "The executive's levers"
