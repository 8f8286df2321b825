"""People, the organisation's own settings, API tokens and the audit log."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

__all__ = ["Role", "Person", "Organisation", "ApiToken", "AuditEvent", "Notification", "SignInFailure"]


class Role(models.TextChoices):
    """Organisation-wide roles. Managing a service or being in its team comes from
    appointments and memberships, not from this field."""

    EXECUTIVE = "executive", "Executive"
    EXECUTIVE_TEAM = "executive_team", "Executive team member"
    MEMBER = "member", "Member of the organisation"


class PersonManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        email = self.normalize_email(email).lower()
        person = self.model(email=email, **extra)
        if password:
            person.set_password(password)
        else:
            person.set_unusable_password()
        person.save(using=self._db)
        return person

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("role", Role.EXECUTIVE)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class Person(AbstractBaseUser, PermissionsMixin):
    """Anyone in the organisation. Everyone signed in may read the whole network."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    areas_of_interest = models.CharField(
        max_length=300, blank=True, help_text="For executive team members: finance, security, risk…"
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    joined_at = models.DateTimeField(default=timezone.now)

    objects = PersonManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_executive(self) -> bool:
        return self.role == Role.EXECUTIVE

    @property
    def is_executive_team(self) -> bool:
        return self.role == Role.EXECUTIVE_TEAM

    @property
    def acts_for_executive(self) -> bool:
        return self.role in (Role.EXECUTIVE, Role.EXECUTIVE_TEAM)

    def interests(self) -> list[str]:
        return [a.strip() for a in self.areas_of_interest.split(",") if a.strip()]


DEFAULT_RESERVED_ACTS = ["replace_manager", "decommission_service"]


class Organisation(models.Model):
    """The organisation's own settings: its names for the model's roles (model 10) and
    the acts the executive keeps to itself. There is exactly one row."""

    name = models.CharField(max_length=200, default="Our organisation")
    model_name = models.CharField(max_length=80, default="OSOM")
    executive_name = models.CharField(max_length=80, default="Executive")
    executive_team_name = models.CharField(max_length=80, default="Executive team")
    service_manager_name = models.CharField(max_length=80, default="Service manager")
    reserved_acts = models.JSONField(default=list)
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code of the organisation's money")
    live_cadence_days = models.PositiveIntegerField(
        default=365, help_text="How often a live service is assessed, unless set for the service"
    )
    revision = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Organisation":
        org = cls.objects.order_by("pk").first()
        if org is None:
            org, _ = cls.objects.get_or_create(pk=1, defaults={"reserved_acts": list(DEFAULT_RESERVED_ACTS)})
        return org

    def terms(self) -> dict[str, str]:
        return {
            "model": self.model_name,
            "executive": self.executive_name,
            "executive_team": self.executive_team_name,
            "service_manager": self.service_manager_name,
            "organisation": self.name,
        }


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the token itself is shown once."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="api_tokens")
    label = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    PREFIX = "osom_"

    @classmethod
    def mint(cls, person: Person, *, label: str = "", days: int | None = 90) -> tuple["ApiToken", str]:
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls(
            person=person,
            label=label,
            prefix=raw[: len(cls.PREFIX) + 6],
            digest=_hash_token(raw),
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> Person | None:
        try:
            token = cls.objects.select_related("person").get(digest=_hash_token(raw))
        except cls.DoesNotExist:
            return None
        now = timezone.now()
        if token.revoked_at or (token.expires_at and token.expires_at <= now) or not token.person.is_active:
            return None
        # when it was last used, to the minute: a housekeeping fact, not an act of anyone's
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.person

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.person})"


class AuditQuerySet(models.QuerySet):
    """Audit events are never changed or removed, in bulk either."""

    def update(self, **kwargs):
        raise RuntimeError("Audit events are never changed once written.")

    def delete(self):
        raise RuntimeError("Audit events are never deleted.")


class AuditEvent(models.Model):
    """One event for every write (design habit 5). Written by the action itself, in the
    same transaction, never by signals. Each event carries the hash of the one before,
    so any change to the log shows (``osom audit verify``)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(Person, null=True, on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=250)
    authority = models.CharField(
        max_length=40, help_text="In whose right the actor acted: executive, service_manager, team_member, self"
    )
    authority_person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    verb = models.CharField(max_length=60, db_index=True)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60)
    object_label = models.CharField(max_length=300)
    service = models.ForeignKey(
        "network.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    summary = models.TextField()
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["service", "-at"]),
            models.Index(fields=["actor", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.verb} {self.object_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Audit events are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are never deleted.")


class Notification(models.Model):
    """Something a person should know about: shown in the app, and sent by email."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=400)
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["person", "read_at"])]

    def __str__(self) -> str:
        return self.text


class SignInFailure(models.Model):
    """A failed attempt to sign in, kept for a short while to throttle guessing."""

    email = models.CharField(max_length=254, db_index=True)
    address = models.CharField(max_length=45, blank=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
