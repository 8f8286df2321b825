"""The learning loop (model 7, 8, 9): the doctrine patterns and self-assessments against
them, Corrections of Error with their corrective actions and reviews, and communities of
practice with the open roles they make visible."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from osom.network.models import ProfessionalRole, Service
from osom.network.stages import LEVELS

__all__ = [
    "DoctrinePattern", "Rating", "DoctrineRound", "DoctrineRating", "CorrectionOfError", "TimelineEvent", "WhyChain",
    "PatternEffect", "CorrectiveAction", "CoEReview", "Community", "CommunityMembership", "CommunityGuidance", "OpenRole",
]

Person = settings.AUTH_USER_MODEL


class DoctrinePattern(models.Model):
    """One of the forty patterns of the doctrine (model 9). The organisation may
    rewrite the meaning in its own words; the name and placement are the table's."""

    group = models.CharField(max_length=20)
    phase = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    meaning = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- doctrine self-assessment

class Rating(models.TextChoices):
    GOOD = "good", "Good"
    PARTLY = "partly", "Partly"
    WEAK = "weak", "Weak"
    UNKNOWN = "unknown", "Unknown"


class DoctrineRound(models.Model):
    """One self-assessment against the doctrine: of a service by its people, or of the
    whole organisation by anyone (when ``service`` is empty)."""

    class Status(models.TextChoices):
        OPEN = "open", "Open for ratings"
        CLOSED = "closed", "Closed"

    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.PROTECT, related_name="doctrine_rounds")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class DoctrineRating(models.Model):
    """One respondent's rating of one pattern in a round, with optional evidence."""

    round = models.ForeignKey(DoctrineRound, on_delete=models.CASCADE, related_name="ratings")
    pattern = models.ForeignKey(DoctrinePattern, on_delete=models.PROTECT, related_name="ratings")
    respondent = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="doctrine_ratings")
    rating = models.CharField(max_length=10, choices=Rating.choices)
    evidence = models.TextField(blank=True)
    rated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["round", "pattern__position", "respondent__name"]
        constraints = [models.UniqueConstraint(fields=["round", "pattern", "respondent"], name="one_rating_per_respondent")]


# ---------------------------------------------------------------- Correction of Error

class CorrectionOfError(models.Model):
    """A problem written up so the whole organisation learns from it (model 7).
    Draft → published → reviewed; once published its account never changes, while its
    corrective actions go on being tracked."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published, awaiting review"
        REVIEWED = "reviewed", "Reviewed"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="corrections")
    title = models.CharField(max_length=200)
    occurred_on = models.DateField()
    users_affected = models.BooleanField(default=False, help_text="Whether users felt the problem")
    problem = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    root_cause_data = models.TextField(blank=True, help_text="Data supporting the root-cause analysis")
    trade_offs_that_led = models.TextField(blank=True, help_text="The value trade-offs that led to the problem")
    trade_offs_to_avoid = models.TextField(blank=True, help_text="The trade-offs to avoid in future")
    lessons = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    author = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey("CoEReview", null=True, blank=True, on_delete=models.PROTECT, related_name="reviewed")
    review_note = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = "correction of error"
        verbose_name_plural = "corrections of error"
        # the Corrections of Error awaiting review, oldest published first, on the
        # executive's dashboard: read in that order from an index, not sorted from all
        indexes = [models.Index(fields=["service", "status"]),
                   models.Index(fields=["status", "published_at", "id"], name="coe_status_published")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class TimelineEvent(models.Model):
    coe = models.ForeignKey(CorrectionOfError, on_delete=models.CASCADE, related_name="timeline")
    position = models.PositiveIntegerField(default=0)
    at = models.DateTimeField()
    description = models.TextField()

    class Meta:
        ordering = ["coe", "position", "pk"]


class WhyChain(models.Model):
    """One "5 whys" chain: a starting question and the answers that lead toward a root cause."""

    coe = models.ForeignKey(CorrectionOfError, on_delete=models.CASCADE, related_name="why_chains")
    position = models.PositiveIntegerField(default=0)
    question = models.TextField()
    whys = models.JSONField(default=list)

    class Meta:
        ordering = ["coe", "position", "pk"]


class PatternEffect(models.Model):
    """A doctrine pattern that helped or hurt, in causing or resolving the problem."""

    class Effect(models.TextChoices):
        HELPED = "helped", "Helped"
        HURT = "hurt", "Hurt"

    coe = models.ForeignKey(CorrectionOfError, on_delete=models.CASCADE, related_name="pattern_effects")
    pattern = models.ForeignKey(DoctrinePattern, on_delete=models.PROTECT, related_name="coe_effects")
    effect = models.CharField(max_length=10, choices=Effect.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["coe", "pattern__position"]
        constraints = [models.UniqueConstraint(fields=["coe", "pattern"], name="one_effect_per_pattern")]


class CorrectiveAction(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        VERIFIED = "verified", "Verified"
        DROPPED = "dropped", "Dropped"

    coe = models.ForeignKey(CorrectionOfError, on_delete=models.CASCADE, related_name="actions")
    position = models.PositiveIntegerField(default=0)
    description = models.TextField()
    owner = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="corrective_actions")
    due_date = models.DateField()
    agreed_due_date = models.DateField(null=True, blank=True,
                                       help_text="The due date as published; closing on time is measured against it")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dropped_reason = models.TextField(blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["coe", "position", "pk"]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return self.description[:80]

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status == self.Status.OPEN and self.due_date < today


class CoEReview(models.Model):
    """A review meeting the executive holds with the managers (model 7). Until it is
    held, its agenda is every published CoE not yet reviewed."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        HELD = "held", "Held"

    title = models.CharField(max_length=200)
    scheduled_for = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    notes = models.TextField(blank=True)
    scheduled_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    scheduled_at = models.DateTimeField(default=timezone.now)
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-scheduled_for", "-pk"]

    def __str__(self) -> str:
        return self.title


# ---------------------------------------------------------------- communities of practice

class Community(models.Model):
    """A community of practice around a profession (model 8); the profession is a job
    family of the professional framework the teams use."""

    class Status(models.TextChoices):
        FORMING = "forming", "Forming"
        ENDORSED = "endorsed", "Endorsed"

    name = models.CharField(max_length=200, unique=True)
    profession = models.CharField(max_length=100, db_index=True, help_text="The job family it gathers")
    purpose = models.TextField()
    lead = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="communities_led")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FORMING, db_index=True)
    formed_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    formed_at = models.DateTimeField(default=timezone.now)
    endorsed_on = models.DateField(null=True, blank=True)
    endorsed_by = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "communities"

    def __str__(self) -> str:
        return self.name


class CommunityMembership(models.Model):
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="community_memberships")
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["community", "person__name"]
        constraints = [models.UniqueConstraint(fields=["community", "person"], condition=models.Q(left_at__isnull=True),
                                               name="one_current_membership")]


class CommunityGuidance(models.Model):
    """Guidance a community issues for its profession: on practice, or on how managers
    should evaluate its practitioners."""

    class Kind(models.TextChoices):
        PRACTICE = "practice", "Professional practice"
        EVALUATION = "evaluation", "Evaluating practitioners"

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="guidance")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["community", "-published_at", "-pk"]


class OpenRole(models.Model):
    """A place in a service's team its manager wants filled, shown to the practitioners
    of the matching profession."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        FILLED = "filled", "Filled"
        WITHDRAWN = "withdrawn", "Withdrawn"

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="open_roles")
    role = models.ForeignKey(ProfessionalRole, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=20, choices=LEVELS)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    posted_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    posted_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-posted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.role} in {self.service}"
