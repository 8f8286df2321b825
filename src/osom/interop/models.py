"""Webhooks: other systems told what happened in the organisation.

An endpoint subscribes to some of the platform's events. Each event is written as one
pending delivery per subscribed, active endpoint, in the same transaction as the act
that caused it (an outbox): an act that rolls back leaves no delivery behind, and one
that commits always has its deliveries, whatever happens to the process afterwards.
A worker (``osom webhooks deliver``) then posts them, and records every attempt."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from osom.core.models import Person

__all__ = ["EVENTS", "WebhookEndpoint", "WebhookDelivery", "WebhookAttempt"]

# The events an endpoint may subscribe to, with what each means.
EVENTS = {
    "service.established": "A service is established, adopted, or set up for a proposal",
    "service.stage_changed": "A service moves to another lifecycle stage",
    "contract.approved": "A contract version is approved, or a contract altered",
    "report.published": "An assessment report is published",
    "coe.published": "A Correction of Error is published",
    "mandate.issued": "The executive issues a mandate",
}


class WebhookEndpoint(models.Model):
    """A URL that is sent the events it subscribes to, signed with its secret.

    The secret is kept as given, not hashed: every delivery is signed with it, so it must
    be readable. It is shown once, when the endpoint is added."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="The event names it subscribes to")
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-active", "name", "pk"]

    def __str__(self) -> str:
        # the name only: this is what the audit log, open to everyone, calls it
        return self.name

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to recognise it by, never enough to use it."""
        return self.secret[:10] + "…"


class WebhookDelivery(models.Model):
    """One event to send to one endpoint, and where its sending stands."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event = models.CharField(max_length=40)
    event_id = models.UUIDField(default=uuid.uuid4, help_text="The event's id; the same for every endpoint told of it")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="one_delivery_per_event_and_endpoint")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One try at sending a delivery: when, what the receiver answered, how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["delivery", "number"]
