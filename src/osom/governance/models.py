"""The executive's levers besides contracts and assessments (model 5.5–5.8, 10):
mandates, guidance and each service's decision on it, disputes and their mediation,
proposals of new needs, and deviations from the template."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from osom.network.models import ContractVersion, Service

__all__ = [
    "Mandate", "MandateTarget", "Guidance", "GuidanceDecision", "Dispute", "Proposal", "ProposedNeed",
    "Deviation",
]

Person = settings.AUTH_USER_MODEL


class Mandate(models.Model):
    """The executive's instruction to the managers of some services to change how they
    work (model 5.5). It cannot change a contract: it has no way to."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ISSUED = "issued", "Issued"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    instruction = models.TextField(help_text="What must change, in Markdown")
    due_date = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    scope_filter = models.JSONField(default=dict, blank=True, help_text="The saved filter that chose the services, if any")
    scope_description = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    issued_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class MandateTarget(models.Model):
    """One service a mandate applies to, and its manager's progress on it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting acknowledgement"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        DONE = "done", "Done"

    mandate = models.ForeignKey(Mandate, on_delete=models.CASCADE, related_name="targets")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="mandate_targets")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress_note = models.TextField(blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["mandate", "service__name"]
        constraints = [models.UniqueConstraint(fields=["mandate", "service"], name="one_target_per_service")]

    def __str__(self) -> str:
        return f"{self.mandate} — {self.service}"


class Guidance(models.Model):
    """Advice the executive publishes (model 5.6). Advisory: a manager may reject it
    where it does not fit, and accounts for each rejection at assessments."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Source(models.TextChoices):
        LAW = "law", "Law or regulation"
        PRACTICE = "practice", "Good practice outside the organisation"
        COE = "coe", "Lessons of a Correction of Error"
        COMMUNITY = "community", "A community of practice"

    class Category(models.TextChoices):
        TECHNOLOGY = "technology", "Technology choice"
        ARCHITECTURE = "architecture", "Architecture"
        SECURITY = "security", "Security"
        PROCUREMENT = "procurement", "Procurement"
        DATA = "data", "Data"
        DESIGN = "design", "Service design"
        OPERATIONS = "operations", "Operations"
        PEOPLE = "people", "People and teams"

    title = models.CharField(max_length=200)
    body = models.TextField()
    source = models.CharField(max_length=20, choices=Source.choices)
    source_detail = models.CharField(max_length=300, blank=True, help_text="The law, the practice, or the CoE it came from")
    coe = models.ForeignKey("learning.CorrectionOfError", null=True, blank=True, on_delete=models.PROTECT,
                            related_name="guidance", help_text="The Correction of Error whose lessons it draws on")
    category = models.CharField(max_length=20, choices=Category.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-published_at", "-created_at", "-pk"]
        verbose_name_plural = "guidance"

    def __str__(self) -> str:
        return self.title


class GuidanceDecision(models.Model):
    """A service's decision on a piece of guidance: adopt it, or reject it with reasons."""

    class Decision(models.TextChoices):
        ADOPT = "adopt", "Adopted"
        REJECT = "reject", "Rejected"

    guidance = models.ForeignKey(Guidance, on_delete=models.PROTECT, related_name="decisions")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="guidance_decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["guidance", "service"], name="one_decision_per_service")]


class Dispute(models.Model):
    """A dispute the executive mediates (model 5.7): between two services, or about how a
    practitioner was evaluated, escalated through their community of practice."""

    class Kind(models.TextChoices):
        SERVICES = "services", "Between services"
        EVALUATION = "evaluation", "About an evaluation"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Lever(models.TextChoices):
        MANDATE = "mandate", "A mandate"
        ALTERATION = "alteration", "A contract alteration"
        ASSESSMENT = "assessment", "An assessment"
        NONE = "none", "No lever: resolved by agreement"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.SERVICES)
    raised_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes_raised")
    other_service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="disputes_received")
    subject = models.CharField(max_length=200)
    description = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolution = models.TextField(blank=True)
    lever = models.CharField(max_length=12, choices=Lever.choices, blank=True)
    mandate = models.ForeignKey(Mandate, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contract_version = models.ForeignKey(ContractVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey("lifecycle.Assessment", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("learning.Community", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="disputes", help_text="The community of practice that escalated it")
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return self.subject


class Proposal(models.Model):
    """Needs someone proposes that the network may not meet (model 5.8)."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting a decision"
        FOLDED = "folded", "Folded into an existing service"
        DECLINED = "declined", "Declined"
        ESTABLISHED = "established", "A new service was established"

    title = models.CharField(max_length=200)
    context = models.TextField(blank=True)
    proposed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    decision_note = models.TextField(blank=True)
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="proposals",
                                help_text="The service it was folded into, or the one established for it")
    # a folded draft its manager discards leaves the proposal's decision standing
    draft_version = models.ForeignKey(ContractVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class ProposedNeed(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="needs")
    position = models.PositiveIntegerField(default=0)
    as_a = models.CharField(max_length=300)
    i_need = models.TextField()
    so_that = models.TextField()

    class Meta:
        ordering = ["proposal", "position", "pk"]


class Deviation(models.Model):
    """A compromise of the template, accepted as such (model 10)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "In force"
        RETIRED = "retired", "Retired"

    title = models.CharField(max_length=200)
    compromised = models.TextField(help_text="What part of the template is compromised")
    positive = models.TextField(help_text="Positive consequences")
    negative = models.TextField(help_text="Negative consequences")
    governance = models.TextField(help_text="The governance that balances the negative consequences")
    review_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    recorded_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["review_on", "pk"]

    def __str__(self) -> str:
        return self.title
