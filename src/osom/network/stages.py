"""The model's fixed vocabularies (model sections 3 and 4), in one place."""

from django.db import models

__all__ = ["Lifecycle", "Evolution", "UserType", "Direction", "MetricKind", "VersionStatus", "LEVELS"]


class Lifecycle(models.TextChoices):
    DISCOVERY = "discovery", "Discovery"
    ALPHA = "alpha", "Alpha"
    BETA = "beta", "Beta"
    LIVE = "live", "Live"
    DECOMMISSIONED = "decommissioned", "Decommissioned"


class Evolution(models.TextChoices):
    GENESIS = "genesis", "Genesis"
    CUSTOM = "custom", "Custom-built"
    PRODUCT = "product", "Product"
    COMMODITY = "commodity", "Commodity"


class UserType(models.TextChoices):
    EXTERNAL = "external", "External users"
    INTERNAL = "internal", "Internal users"
    BOTH = "both", "External and internal users"


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class MetricKind(models.TextChoices):
    OUTCOME = "outcome", "Outcome"
    COST = "cost", "Cost"
    CONSUMPTION = "consumption", "Consumption"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for approval"
    APPROVED = "approved", "Approved"


# Levels of a professional framework (the common ladder of the UK DDaT framework).
LEVELS = [
    ("trainee", "Trainee"),
    ("associate", "Associate"),
    ("junior", "Junior"),
    ("practitioner", "Practitioner"),
    ("senior", "Senior"),
    ("lead", "Lead"),
    ("principal", "Principal"),
    ("head", "Head of profession"),
]
