from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "osom.learning"
    label = "learning"
    verbose_name = "Learning"
