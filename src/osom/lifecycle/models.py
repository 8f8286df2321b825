"""Assessments, the criteria they use, the reports they publish, the stage changes they
make, and the money each service is given and spends."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from osom.network.models import ContractVersion, Service
from osom.network.stages import Lifecycle

__all__ = [
    "CriterionSource", "Criterion", "AssessmentKind", "AssessmentStatus", "Result", "Assessment",
    "AssessmentCriterion", "ReportAddendum", "StageChange", "ImmutableReport",
    "BudgetAllocation", "Spend", "Reinvestment", "FundingRequest",
]

Person = settings.AUTH_USER_MODEL


class ImmutableReport(Exception):
    """Raised by the models themselves if anything tries to change a published report."""


class CriterionSource(models.TextChoices):
    COMMON = "common", "Common criterion"
    TECHNICAL = "technical", "Technical criterion"
    DOCTRINE = "doctrine", "Doctrine pattern"
    GUIDANCE = "guidance", "From guidance"
    MANDATE = "mandate", "From a mandate"
    EXECUTIVE = "executive", "Added by the executive"


class Criterion(models.Model):
    """Something a service is assessed against (model 5.2)."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    meaning = models.TextField(help_text="What it means, in Markdown")
    link = models.URLField(blank=True)
    source = models.CharField(max_length=20, choices=CriterionSource.choices)
    pattern = models.OneToOneField("learning.DoctrinePattern", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="criterion")
    stages = models.JSONField(default=list, help_text="Stages it suits by default")
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class AssessmentKind(models.TextChoices):
    TRANSITION = "transition", "Stage transition"
    PERIODIC = "periodic", "Periodic live assessment"
    REASSESSMENT = "reassessment", "Reassessment"


class AssessmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    AGENDA = "agenda", "Agenda published"
    PUBLISHED = "published", "Report published"
    CANCELLED = "cancelled", "Cancelled"


class Result(models.TextChoices):
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"


class _Guarded(models.Model):
    """Rows that never change once their assessment's report is published."""

    class Meta:
        abstract = True

    def _published(self) -> bool:
        raise NotImplementedError

    def save(self, *args, **kwargs):
        if self._published():
            raise ImmutableReport("This assessment report is published and can never change; add an addendum instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._published():
            raise ImmutableReport("A published assessment report is kept for ever.")
        return super().delete(*args, **kwargs)


class Assessment(_Guarded):
    """One assessment of a service: scheduled, its agenda published in advance, then
    conducted and its report published to everyone (model 5.2)."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="assessments")
    kind = models.CharField(max_length=20, choices=AssessmentKind.choices)
    stage = models.CharField(max_length=20, choices=Lifecycle.choices, help_text="The stage assessed")
    scheduled_for = models.DateField()
    assessors = models.ManyToManyField(Person, related_name="assessments_as_assessor")
    status = models.CharField(max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.SCHEDULED, db_index=True)
    agenda_note = models.TextField(blank=True)
    agenda_published_at = models.DateTimeField(null=True, blank=True)
    reassesses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reassessments")
    # the report
    result = models.CharField(max_length=10, choices=Result.choices, blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    summary = models.TextField(blank=True)
    contract_version = models.ForeignKey(ContractVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    manager = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decommission_condition = models.CharField(max_length=1, blank=True)
    decommission_reasons = models.TextField(blank=True)
    migration_path = models.TextField(blank=True)
    rejected_guidance = models.JSONField(default=list, blank=True)
    unmet_needs = models.JSONField(default=list, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)
    # Kept by save() from the two fields it is made of, so that the list of assessments
    # (newest first) is read from an index instead of computing a date for every row.
    listed_on = models.DateField(
        editable=False,
        help_text="The day the assessment is listed by: its report's day once published, else the day scheduled",
    )

    class Meta:
        ordering = ["-scheduled_for", "-pk"]
        indexes = [
            models.Index(fields=["service", "-scheduled_for"]),
            models.Index(fields=["listed_on", "id"], name="lifecycle_assessment_listed"),
            # the published reports, newest first, read a page at a time: the organisation's,
            # and one service's (without the second, a service's reports would be picked out
            # of everyone's through the first)
            models.Index(fields=["status", "published_at", "id"], name="lifecycle_assessment_published"),
            models.Index(fields=["service", "status", "published_at", "id"], name="lifecycle_assessment_reports"),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # made in code (keyword arguments, as create() and bulk writers do) rather than
        # read from the database (positional values): the day follows from the rest
        if not args and "listed_on" not in kwargs and self.__dict__.get("scheduled_for") is not None:
            self.listed_on = self.listed_day()

    def listed_day(self):
        """The report's day (in the organisation's time zone) once published, else the day scheduled."""
        published = self.published_at
        if published is not None:
            return timezone.localdate(published) if timezone.is_aware(published) else published.date()
        return self.scheduled_for

    @classmethod
    def relist_all(cls) -> int:
        """Work out every assessment's listed day again from the fields it is made of, in
        one statement: after a bulk load has written the days as it found them."""
        from django.db.models.functions import Coalesce, TruncDate

        return cls.objects.update(listed_on=Coalesce(TruncDate("published_at"), models.F("scheduled_for"),
                                                     output_field=models.DateField()))

    def save(self, *args, **kwargs):
        self.listed_on = self.listed_day()
        fields = kwargs.get("update_fields")
        if fields is not None and {"published_at", "scheduled_for"} & set(fields):
            kwargs["update_fields"] = {*fields, "listed_on"}
        super().save(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.service} ({self.get_stage_display().lower()}, {self.scheduled_for:%d %b %Y})"

    def _published(self) -> bool:
        # asked of the database, not of this object, which may be stale
        return self.pk is not None and Assessment.objects.filter(pk=self.pk, status=AssessmentStatus.PUBLISHED).exists()

    @property
    def is_published(self) -> bool:
        return self.status == AssessmentStatus.PUBLISHED


class AssessmentCriterion(_Guarded):
    """A criterion on an assessment's agenda, and the assessors' decision on it."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="items")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(default=0)
    decision = models.CharField(max_length=10, choices=Result.choices, blank=True)
    did_well = models.TextField(blank=True)
    to_improve = models.TextField(blank=True)

    class Meta:
        ordering = ["assessment", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["assessment", "criterion"], name="criterion_once_per_assessment")]

    def _published(self) -> bool:
        return Assessment.objects.filter(pk=self.assessment_id, status=AssessmentStatus.PUBLISHED).exists()


class ReportAddendum(models.Model):
    """A later correction or note on a published report, which itself never changes."""

    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]


class StageChange(models.Model):
    """A step in a service's timeline: entering a stage, or a new round at the same one."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=Lifecycle.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=Lifecycle.choices)
    at = models.DateTimeField(default=timezone.now)
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["service", "at", "pk"]

    @property
    def is_new_round(self) -> bool:
        return self.from_stage == self.to_stage


class BudgetAllocation(models.Model):
    """Money the executive gives a service for a period at a stage (model 5.3)."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="allocations")
    period = models.CharField(max_length=40, help_text="e.g. 2026-27")
    stage = models.CharField(max_length=20, choices=Lifecycle.choices)
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    note = models.TextField(blank=True)
    assessment = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations")
    funding_request = models.ForeignKey("FundingRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    allocated_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    allocated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "-allocated_at", "-pk"]
        indexes = [models.Index(fields=["period", "stage"])]

    def __str__(self) -> str:
        return f"{self.service} {self.period} ({self.get_stage_display().lower()}): {self.amount}"


class Spend(models.Model):
    """Money spent against an allocation."""

    allocation = models.ForeignKey(BudgetAllocation, on_delete=models.PROTECT, related_name="spends")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    spent_on = models.DateField()
    description = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-spent_on", "-pk"]


class Reinvestment(models.Model):
    """Savings against an allocation that the service re-invests (model 5.3)."""

    allocation = models.ForeignKey(BudgetAllocation, on_delete=models.PROTECT, related_name="reinvestments")
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    purpose = models.CharField(max_length=300)
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)


class FundingRequest(models.Model):
    """A manager who cannot meet the contract on the budget opens a dialogue: narrow the
    scope, or expand the budget (model 5.3)."""

    class Kind(models.TextChoices):
        EXPAND = "expand", "Expand the budget"
        NARROW = "narrow", "Narrow the scope"

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting a decision"
        GRANTED = "granted", "Granted"
        DECLINED = "declined", "Declined"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="funding_requests")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    period = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    rationale = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    decision_note = models.TextField(blank=True)
    requested_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
