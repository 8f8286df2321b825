"""Writing audit events. Called by actions, inside their transaction."""

from __future__ import annotations

from django.db import models

from .models import AuditEvent, Person, Role
from .policy import Authority

__all__ = ["record"]


def _executive() -> Person | None:
    return Person.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("pk").first()


def record(
    actor: Person | None,
    verb: str,
    obj: models.Model,
    *,
    authority: Authority | None,
    summary: str,
    service=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Write one audit event for an act that has just been done."""
    authority_person = None
    right = authority.right if authority else "system"
    if authority and authority.on_behalf_of_executive:
        authority_person = _executive()
    label = f"{actor.name} <{actor.email}>" if actor else "system"
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=label,
        authority=right,
        authority_person=authority_person,
        verb=verb,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_label=str(obj)[:300],
        service=service,
        summary=summary,
        before=before,
        after=after,
        reason=reason,
    )
