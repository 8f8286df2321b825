"""What services report about themselves and what their money does (model 5.3, 5.4, 11)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import models
from django.utils import timezone

from osom.core.models import Person
from osom.network.models import Metric, Service

__all__ = ["MET", "MISSED", "NO_TARGET", "NO_DATA", "status_of", "Measurement", "MetricSeries", "IngestToken",
           "ConsumptionShare", "PeriodVolume", "Aggregation"]


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


MET, MISSED, NO_TARGET, NO_DATA = "met", "missed", "no target", "no data"


def status_of(value: Decimal | None, target: Decimal | None, direction: str) -> str:
    """Met, missed, no target or no data: the latest value read against the contract."""
    if value is None:
        return NO_DATA
    if target is None:
        return NO_TARGET
    if direction == "lower":
        return MET if value <= target else MISSED
    return MET if value >= target else MISSED


class MetricSeries(models.Model):
    """The state of one metric's series for one service, kept up to date by every write of
    its measurements: the latest value, when the next is due (its cadence after the end of
    the latest period), and how many there are.

    Every metric of a service's current contract has its series, with no values yet if none
    was reported, and the series carries what the network's fitness reads need: the
    metric of the current contract with its target and direction, whether it counts (its
    service is not decommissioned), the service's name and stage, and the status of the
    latest value against the target. :mod:`osom.fitness.series` keeps these in step with
    the contract and the service; :meth:`refresh` with the measurements. Counts by status
    and a page of the network's metrics then read an index instead of every metric."""

    DEFAULT_CADENCE_DAYS = 31
    STATUSES = [(MET, "Met"), (MISSED, "Missed"), (NO_TARGET, "No target"), (NO_DATA, "No data")]

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="metric_series")
    metric_key = models.SlugField(max_length=80)
    cadence_days = models.PositiveIntegerField(default=DEFAULT_CADENCE_DAYS,
                                               help_text="How often the service promises to report this metric")
    count = models.PositiveIntegerField(default=0)
    latest_value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    latest_start = models.DateField(null=True, blank=True)
    latest_end = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True, help_text="When the next value is due")
    # Copied from the current contract and the service (osom.fitness.series). A series
    # points at a metric of an approved version, which is never deleted: nothing is done on
    # delete, and the database refuses to delete a metric a series points at.
    metric = models.OneToOneField(Metric, null=True, blank=True, on_delete=models.DO_NOTHING,
                                  related_name="fitness_series",
                                  help_text="The metric of the service's current contract; empty when it has none")
    current = models.BooleanField(default=False, help_text="A metric of the current contract of a running service")
    service_name = models.CharField(max_length=150, blank=True)
    stage = models.CharField(max_length=20, blank=True, help_text="The service's lifecycle stage")
    position = models.PositiveIntegerField(default=0, help_text="The metric's place in the contract")
    target = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    direction = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=NO_DATA,
                              help_text="The latest value against the current target")
    # The words a series is found by on the network's fitness page: the service's name,
    # the metric's name and its key, folded as the search index folds them
    # (osom.search.text). The database indexes them for words (the migration that adds
    # this column: an FTS5 table on SQLite, a tsvector with a GIN index on PostgreSQL).
    terms = models.TextField(blank=True, default="", help_text="The folded words of the service's name, the metric's name and key")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["service", "metric_key"], name="one_series_per_metric")]
        # A page of the network's metrics in the order shown, all of them or those of one
        # status, one stage or both, and the counts by status and of late series, each read
        # from an index of the series that count. The indexes are partial (``current``):
        # SQLite uses one for a query asking for ``current``, which it does not read as an
        # equality otherwise.
        indexes = [
            models.Index(fields=[*fields, "service_name", "position", "id"], condition=models.Q(current=True), name=name)
            for name, fields in (("series_page", []), ("series_status_page", ["status"]),
                                 ("series_stage_page", ["stage"]), ("series_stage_status_page", ["stage", "status"]))
        ] + [models.Index(fields=fields, condition=models.Q(current=True), name=name)
             for name, fields in (("series_due", ["due_on"]), ("series_stage_due", ["stage", "due_on"]))]

    def refresh(self) -> None:
        """Recompute from the measurements (called inside the writing transaction)."""
        rows = Measurement.objects.filter(service_id=self.service_id, metric_key=self.metric_key)
        latest = rows.order_by("-period_end", "-period_start").first()
        self.count = rows.count()
        self.latest_value = latest.value if latest else None
        self.latest_start = latest.period_start if latest else None
        self.latest_end = latest.period_end if latest else None
        self.due_on = latest.period_end + timedelta(days=self.cadence_days) if latest else None
        self.status = status_of(self.latest_value, self.target, self.direction)


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
