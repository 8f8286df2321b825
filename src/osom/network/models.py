"""The service network: services, their versioned contracts, and who runs them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .stages import LEVELS, Direction, Evolution, Lifecycle, MetricKind, UserType, VersionStatus

__all__ = [
    "Service",
    "ContractVersion",
    "Need",
    "Metric",
    "Dependency",
    "Appointment",
    "ProfessionalRole",
    "TeamMembership",
    "ImmutableVersion",
]


class ImmutableVersion(Exception):
    """Raised by the models themselves if anything tries to change an approved version."""


class Service(models.Model):
    """An OSOM service: a discrete capability that meets the needs of some users.

    The contract's content lives in versions; the service row keeps what the network
    list filters on, copied from the current approved version when it is approved, and
    the lifecycle stage, which only assessments move.
    """

    name = models.CharField(max_length=150, unique=True)
    slug = models.SlugField(max_length=160, unique=True)
    lifecycle_stage = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.DISCOVERY, db_index=True)
    evolution_stage = models.CharField(max_length=20, choices=Evolution.choices, db_index=True)
    user_type = models.CharField(max_length=20, choices=UserType.choices, db_index=True)
    summary = models.CharField(max_length=300, blank=True, help_text="First sentence of what the service is")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="managed_services"
    )
    current_version = models.ForeignKey(
        "ContractVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    established_at = models.DateTimeField(default=timezone.now)
    adopted = models.BooleanField(default=False, help_text="Adopted into the model at its real stage")
    assessment_cadence_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days between periodic live assessments; empty: the organisation's default"
    )
    stage_since = models.DateTimeField(default=timezone.now, help_text="When it entered its lifecycle stage")
    next_assessment_due = models.DateField(null=True, blank=True, db_index=True,
                                           help_text="When a live service is next due for its periodic assessment")
    revision = models.PositiveIntegerField(default=1)
    # A running service flagged for the executive to consider decommissioning: only an
    # assessment decommissions, so the flag asks for one and says why. Blank: not flagged.
    decommission_flag = models.TextField(
        blank=True, help_text="Why it should be considered for decommissioning; empty when it is not flagged")
    decommission_flagged_at = models.DateTimeField(null=True, blank=True)
    decommission_flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        # the few services flagged for decommissioning, counted on the executive's
        # dashboard and listed by name, read without visiting every service
        indexes = [models.Index(fields=["lifecycle_stage", "name"], condition=~models.Q(decommission_flag=""),
                                name="service_flagged"),
                   # the live services whose assessment is due or overdue, soonest first, on
                   # the executive's dashboard; partial, so that it serves those reads only
                   # (SQLite, which keeps no statistics here, took a whole index of stage and
                   # due date for every read of one stage, and counted the network list's
                   # stages by it, row by row)
                   models.Index(fields=["lifecycle_stage", "next_assessment_due"], name="service_live_due",
                                condition=models.Q(lifecycle_stage="live", next_assessment_due__isnull=False))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_flagged_for_decommissioning(self) -> bool:
        """Flagged, and not yet decommissioned: once it is, the flag has done its work."""
        return bool(self.decommission_flag) and self.lifecycle_stage != Lifecycle.DECOMMISSIONED


class ContractVersion(models.Model):
    """One version of a service contract (model 3). Once approved it never changes."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    name = models.CharField(max_length=150)
    lifecycle_stage = models.CharField(max_length=20, choices=Lifecycle.choices)
    evolution_stage = models.CharField(max_length=20, choices=Evolution.choices)
    user_type = models.CharField(max_length=20, choices=UserType.choices)
    # the description (model 3.3), each part Markdown
    purpose = models.TextField("What the service is", blank=True)
    benefit = models.TextField("Business benefit", blank=True)
    usage = models.TextField("How it is used", blank=True)
    onboarding = models.TextField("How consumers on-board and off-board", blank=True)
    expectations = models.TextField("What success and failure a consumer can expect", blank=True)
    support = models.TextField("How to get help", blank=True)
    migration_path = models.TextField("How users would migrate away", blank=True)
    decommission_reasons = models.TextField("Reasons for decommissioning", blank=True)
    # the version's own record
    change_note = models.TextField("What changed and why", blank=True)
    is_alteration = models.BooleanField(default=False)
    alteration_reason = models.TextField(blank=True)
    alteration_risk = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The approved version a draft was copied from")
    revision = models.PositiveIntegerField(default=1)

    DESCRIPTION_FIELDS = ("purpose", "benefit", "usage", "onboarding", "expectations", "support", "migration_path")

    class Meta:
        ordering = ["service", "-number"]
        constraints = [models.UniqueConstraint(fields=["service", "number"], name="one_number_per_version")]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def is_approved(self) -> bool:
        return self.status == VersionStatus.APPROVED

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def _stored_as_approved(self) -> bool:
        # asked of the database, not of this object, which may be stale
        return self.pk is not None and ContractVersion.objects.filter(pk=self.pk, status=VersionStatus.APPROVED).exists()

    def save(self, *args, **kwargs):
        if self._stored_as_approved():
            raise ImmutableVersion(f"{self} is approved and can never change.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._stored_as_approved():
            raise ImmutableVersion(f"{self} is approved and can never be deleted.")
        return super().delete(*args, **kwargs)


class _PartOfVersion(models.Model):
    """Rows that belong to one contract version and share its immutability."""

    class Meta:
        abstract = True

    def _guard(self):
        status = ContractVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        if status == VersionStatus.APPROVED:
            raise ImmutableVersion("This contract version is approved and can never change.")

    def save(self, *args, **kwargs):
        self._guard()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._guard()
        return super().delete(*args, **kwargs)


class Metric(_PartOfVersion):
    """A service metric (model 3.5). ``key`` stays the same across versions, so
    measurements and diffs can follow a metric from one version to the next."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="metrics")
    key = models.SlugField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=40)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.HIGHER)
    target = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    kind = models.CharField(max_length=20, choices=MetricKind.choices, default=MetricKind.OUTCOME)
    how_measured = models.TextField(blank=True)
    is_proxy = models.BooleanField(default=False, help_text="A proxy metric agreed with the executive")

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="one_metric_key_per_version")]

    def __str__(self) -> str:
        return self.name


class Need(_PartOfVersion):
    """A user need: As a … I need … so that …, with the metrics that show it is met."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="needs")
    key = models.SlugField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    as_a = models.CharField("As a", max_length=300)
    i_need = models.TextField("I need")
    so_that = models.TextField("So that")
    metrics = models.ManyToManyField(Metric, blank=True, related_name="needs")

    class Meta:
        ordering = ["version", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["version", "key"], name="one_need_key_per_version")]

    def __str__(self) -> str:
        return f"As a {self.as_a}, I need {self.i_need}"


class Dependency(_PartOfVersion):
    """This version's service consumes ``provider`` (model 3.6)."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="dependencies")
    provider = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="consumer_links")
    note = models.CharField(max_length=300, blank=True, help_text="What it is consumed for")

    class Meta:
        ordering = ["version", "provider__name"]
        constraints = [models.UniqueConstraint(fields=["version", "provider"], name="one_link_per_provider")]

    def __str__(self) -> str:
        return f"{self.version.service} consumes {self.provider}"


class Appointment(models.Model):
    """Who managed which service when. The open one is the current manager."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    appointed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["service", "-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.person} manages {self.service}"


class ProfessionalRole(models.Model):
    """A role from a professional framework (job family and role, e.g. the DDaT framework)."""

    framework = models.CharField(max_length=60, default="DDaT")
    job_family = models.CharField(max_length=100)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["job_family", "name"]
        constraints = [models.UniqueConstraint(fields=["framework", "name"], name="one_role_name_per_framework")]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    """A person in a service's team, appointed by its manager."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="team")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    role = models.ForeignKey(ProfessionalRole, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=20, choices=LEVELS)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["service", "person__name"]

    def __str__(self) -> str:
        return f"{self.person} ({self.role}) in {self.service}"
