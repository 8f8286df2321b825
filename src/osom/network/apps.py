from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "osom.network"
    label = "network"
    verbose_name = "Service network"
