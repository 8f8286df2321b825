"""Writing audit events, and checking that the log is as it was written.

Events form a hash chain: each holds the SHA-256 of its own content and of the event
before it. Changing, removing or inserting an event breaks the chain from that point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone as dt_timezone

from django.db import connection, models
from django.utils import timezone

from .models import AuditEvent, Person, Role
from .orgcache import written
from .policy import Authority

__all__ = ["record", "verify_chain", "ChainReport"]

# PostgreSQL: one advisory lock serialises appends to the chain (SQLite's writers are
# serialised already); held until the writing transaction ends.
_CHAIN_LOCK = 0x05D0_A0D1


def _executive() -> Person | None:
    return Person.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("pk").first()


def _canonical(value):
    """JSON as it reads back from the database, so write-time and check-time agree."""
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def event_digest(prev_hash: str, fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + "\n" + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict:
    return {
        "at": event.at.astimezone(dt_timezone.utc).isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "authority": event.authority,
        "authority_person": event.authority_person_id,
        "verb": event.verb,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "service": event.service_id,
        "summary": event.summary,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
    }


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
    """Write one audit event for an act that has just been done, chained to the last."""
    authority_person = None
    right = authority.right if authority else "system"
    if authority and authority.on_behalf_of_executive:
        authority_person = _executive()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    prev_hash = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""
    event = AuditEvent(
        at=timezone.now(),
        actor=actor,
        actor_label=f"{actor.name} <{actor.email}>" if actor else "system",
        authority=right,
        authority_person=authority_person,
        verb=verb,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_label=str(obj)[:300],
        service=service,
        summary=summary,
        before=_canonical(before),
        after=_canonical(after),
        reason=reason,
        prev_hash=prev_hash,
    )
    event.hash = event_digest(prev_hash, _fields(event))
    event.save()
    written()  # what the request had read of teams may have changed
    return event


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None  # id of the first event that does not fit
    problem: str = ""

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def verify_chain() -> ChainReport:
    """Walk the log oldest first and recompute every link."""
    prev = ""
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        count += 1
        if event.prev_hash != prev:
            return ChainReport(count, event.pk, f"event {event.pk} does not follow the event before it: "
                                                "an event was removed or inserted")
        if event_digest(prev, _fields(event)) != event.hash:
            return ChainReport(count, event.pk, f"event {event.pk} ({event.verb}) was changed after it was written")
        prev = event.hash
    return ChainReport(count)
