"""What services report about themselves and what their money does (model 5.3, 5.4, 11)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import models
from django.utils import timezone

from osom.core.models import Person
from osom.network.models import Service

__all__ = ["Measurement", "MetricSeries", "IngestToken", "ConsumptionShare", "PeriodVolume", "Aggregation"]


class Measurement(models.Model):
    """One value of one contract metric of a service, for the period it covers.

    Measurements are keyed by the metric's key, not by a contract version: the series
    carries on when a new version of the contract is approved with the same metric."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Entered by hand"
        CSV = "csv", "CSV upload"
        INGEST = "ingest", "Pushed by the service"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="measurements")
    metric_key = models.SlugField(max_length=80)
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=4)
    measured_at = models.DateTimeField(help_text="When the value was taken")
    source = models.CharField(max_length=10, choices=Source.choices)
    record_id = models.CharField(max_length=100, blank=True, help_text="The sender's id of an ingested record")
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "metric_key", "period_end"]
        constraints = [
            models.UniqueConstraint(fields=["service", "metric_key", "period_start", "period_end"], name="one_value_per_period"),
            models.UniqueConstraint(fields=["service", "record_id"], condition=~models.Q(record_id=""),
                                    name="one_measurement_per_record_id"),
            models.CheckConstraint(condition=models.Q(period_end__gte=models.F("period_start")), name="period_in_order"),
        ]
        indexes = [
            models.Index(fields=["metric_key", "period_end"], name="measurement_metric_end"),
            models.Index(fields=["service", "metric_key", "-period_end"], name="measurement_latest"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.metric_key} {self.period_start}..{self.period_end} = {self.value}"


class MetricSeries(models.Model):
    """The state of one metric's series for one service, kept up to date by every write of
    its measurements: the latest value, when the next is due (its cadence after the end of
    the latest period), and how many there are. Lists of missed targets and stale series
    read this table instead of searching the measurements."""

    DEFAULT_CADENCE_DAYS = 31

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="metric_series")
    metric_key = models.SlugField(max_length=80)
    cadence_days = models.PositiveIntegerField(default=DEFAULT_CADENCE_DAYS,
                                               help_text="How often the service promises to report this metric")
    count = models.PositiveIntegerField(default=0)
    latest_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    latest_start = models.DateField(null=True, blank=True)
    latest_end = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, db_index=True, help_text="When the next value is due")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "metric_key"], name="one_series_per_metric")]

    def refresh(self) -> None:
        """Recompute from the measurements (called inside the writing transaction)."""
        rows = Measurement.objects.filter(service_id=self.service_id, metric_key=self.metric_key)
        latest = rows.order_by("-period_end", "-period_start").first()
        self.count = rows.count()
        self.latest_value = latest.value if latest else None
        self.latest_start = latest.period_start if latest else None
        self.latest_end = latest.period_end if latest else None
        self.due_on = latest.period_end + timedelta(days=self.cadence_days) if latest else None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class IngestToken(models.Model):
    """A token a service's own systems use to push measurements. It can do nothing else;
    only its hash is stored and the token itself is shown once."""

    PREFIX = "osomi_"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="ingest_tokens")
    label = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=14)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @classmethod
    def mint(cls, service: Service, *, created_by: Person, label: str = "") -> tuple["IngestToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        return cls(service=service, label=label, prefix=raw[: len(cls.PREFIX) + 6], digest=_digest(raw),
                   created_by=created_by), raw

    @classmethod
    def find(cls, raw: str) -> "IngestToken | None":
        """The live token with this text, or None."""
        if not raw or not raw.startswith(cls.PREFIX) or len(raw) > 200:
            return None
        return cls.objects.select_related("service").filter(digest=_digest(raw), revoked_at__isnull=True).first()


class ConsumptionShare(models.Model):
    """The share of a provider's consumption that one of its consumers used in a budget
    period (model 11, s_kj). What is not shared out internally went to external users."""

    period = models.CharField(max_length=40)
    provider = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="shares_given")
    consumer = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="shares_taken")
    share = models.DecimalField(max_digits=9, decimal_places=6)
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["period", "provider", "consumer"]
        constraints = [
            models.UniqueConstraint(fields=["period", "provider", "consumer"], name="one_share_per_pair"),
            models.CheckConstraint(condition=models.Q(share__gt=0, share__lte=1), name="share_between_0_and_1"),
        ]
        indexes = [models.Index(fields=["period", "consumer"], name="share_by_consumer")]


class PeriodVolume(models.Model):
    """How many transactions a service completed in a budget period: the divisor of its
    cost per transaction."""

    period = models.CharField(max_length=40)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="volumes")
    transactions = models.PositiveBigIntegerField()
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["period", "service"], name="one_volume_per_period")]


class Aggregation(models.Model):
    """A figure the executive defines across services, as an expression over metrics
    (see :mod:`osom.fitness.expressions`), computed for each period."""

    class Grain(models.TextChoices):
        MONTH = "month", "Month"
        QUARTER = "quarter", "Quarter"
        YEAR = "year", "Year"

    class Within(models.TextChoices):
        LATEST = "latest", "The latest value in the period"
        SUM = "sum", "The sum of the period's values"
        MEAN = "mean", "The mean of the period's values"

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=160, unique=True)
    description = models.TextField(blank=True)
    expression = models.TextField()
    unit = models.CharField(max_length=40, blank=True)
    grain = models.CharField(max_length=10, choices=Grain.choices, default=Grain.MONTH)
    within = models.CharField(max_length=10, choices=Within.choices, default=Within.LATEST,
                              help_text="How one service's measurements inside a period are combined")
    retired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
