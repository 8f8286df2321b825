"""Webhooks: writing events into the outbox, and sending them.

- :func:`emit` is called by an action inside its own transaction. It writes one pending
  delivery per active endpoint subscribed to the event, so a delivery exists exactly when
  the act committed: never lost, never sent for an act that rolled back.
- :func:`deliver_due` posts the deliveries that are due (run by ``osom webhooks deliver``,
  once or in a loop). A 2xx answer delivers; anything else — another status, a network
  error, a timeout — is tried again later, after :data:`BACKOFF`, and the delivery fails
  once the last wait is used up. Every attempt is kept.
- :func:`verify_signature` is what a receiver does to check that a request came from the
  platform: ``X-OSOM-Signature: sha256=<hex>`` is the HMAC-SHA256, keyed with the
  endpoint's secret, of ``"{X-OSOM-Timestamp}.{body}"``.

Deliveries are not attempted from within the request that caused them: a thread started
at commit dies with its worker process and is invisible to operators, whereas a pending
row waits for the worker however long the receiver is down.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from .models import EVENTS, WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "EVENTS", "BACKOFF", "USER_AGENT", "emit", "deliver_due", "attempt", "due", "sign", "verify_signature", "envelope", "body_of",
    "service_established", "stage_changed", "contract_approved", "report_published", "coe_published", "mandate_issued",
]

# The waits after the 1st, 2nd, … failed attempt; the attempt after the last wait that
# fails again fails the delivery (six attempts in all, over about fifteen hours).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=12))
USER_AGENT = "OSOM-Webhooks/1"
# Only the start of an answer is read: its body is kept only to explain a refusal.
MAX_RESPONSE_BYTES = 4096
ERROR_LENGTH = 500


# ---------------------------------------------------------------- the outbox


def _json(value: Any) -> Any:
    """``value`` as it will read back from a JSON column (dates as ISO text, decimals as text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def emit(event: str, payload: dict | None) -> list[WebhookDelivery]:
    """Write one pending delivery of ``event`` per active endpoint subscribed to it. Call it
    inside the acting transaction, after the act's own checks: it writes with the act, or
    not at all. The deliveries share one event id. A payload of None emits nothing, for an
    act that causes the event only sometimes (a report that keeps the service at its stage)."""
    if event not in EVENTS:
        raise ValueError(f"{event!r} is not a webhook event")
    if payload is None:
        return []
    endpoints = [pk for pk, events in WebhookEndpoint.objects.filter(active=True).values_list("pk", "events")
                 if event in (events or [])]
    if not endpoints:
        return []
    now = timezone.now()
    data = _json(payload)
    first = WebhookDelivery(endpoint_id=endpoints[0], event=event, payload=data, created_at=now, next_attempt_at=now)
    rows = [first] + [WebhookDelivery(endpoint_id=pk, event=event, event_id=first.event_id, payload=data, created_at=now,
                                      next_attempt_at=now) for pk in endpoints[1:]]
    return WebhookDelivery.objects.bulk_create(rows)


# ---------------------------------------------------------------- signing


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


def sign(secret: str, timestamp: str | int, body: str | bytes) -> str:
    """The value of ``X-OSOM-Signature`` for this body sent at this time."""
    digest = hmac.new(_bytes(secret), _bytes(str(timestamp)) + b"." + _bytes(body), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str | int, body: str | bytes, header: str, *,
                     tolerance: int | None = None, now: float | None = None) -> bool:
    """True when ``header`` (``X-OSOM-Signature``) signs ``body`` as sent at ``timestamp``
    (``X-OSOM-Timestamp``) with ``secret``. Check the raw body, before parsing it. With
    ``tolerance`` (seconds), a timestamp further than that from now is refused too, so a
    recorded request cannot be replayed later."""
    if not secret or not header or timestamp in (None, ""):
        return False
    if tolerance is not None:
        try:
            sent = int(str(timestamp))
        except ValueError:
            return False
        if abs((time.time() if now is None else now) - sent) > tolerance:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body), str(header).strip())


def envelope(delivery: WebhookDelivery) -> dict:
    """What is posted: the event's name and id, when it happened, and its data."""
    return {"id": str(delivery.event_id), "event": delivery.event,
            "created_at": delivery.created_at.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z"),
            "data": delivery.payload}


def body_of(delivery: WebhookDelivery) -> str:
    return json.dumps(envelope(delivery), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------- sending


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: the delivery is signed for the URL the
    executive registered, and following it could send the event to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirects())


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Send one request: the status code (None when there was no answer) and, for a
    failure, what went wrong."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener().open(request, timeout=timeout) as response:
            response.read(MAX_RESPONSE_BYTES)
            return response.status, ""
    except urllib.error.HTTPError as exc:  # an answer, but not a 2xx (a 3xx lands here too)
        try:
            text = exc.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        except Exception:  # the answer broke off: its status is what matters
            text = ""
        if 300 <= exc.code < 400:
            where = exc.headers.get("Location", "") if exc.headers else ""
            return exc.code, f"Redirected to {where or 'another address'}; redirects are not followed."
        return exc.code, f"HTTP {exc.code}: {' '.join(text.split())}"[:ERROR_LENGTH] if text.strip() else f"HTTP {exc.code}"
    except TimeoutError:
        return None, f"No answer within {timeout:g} seconds."
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return None, f"No answer within {timeout:g} seconds."
        return None, f"Could not connect: {reason}"[:ERROR_LENGTH]
    except (OSError, ValueError, http.client.HTTPException) as exc:  # a connection reset, a malformed answer
        return None, f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH] if str(exc) else type(exc).__name__


def _claim(delivery: WebhookDelivery, now: datetime, timeout: float) -> bool:
    """Take the delivery for this worker: its next attempt is moved past the time this one
    may take, so another worker running at the same time skips it."""
    lease = now + timedelta(seconds=timeout + 60)
    return WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING,
                                          next_attempt_at=delivery.next_attempt_at).update(next_attempt_at=lease) == 1


def attempt(delivery: WebhookDelivery, *, now: datetime | None = None, timeout: float = 5) -> WebhookAttempt:
    """Send one delivery once, record the attempt and what follows from it."""
    now = now or timezone.now()
    endpoint = delivery.endpoint
    body = body_of(delivery).encode("utf-8")
    stamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-OSOM-Event": delivery.event,
        "X-OSOM-Delivery": str(delivery.event_id),
        "X-OSOM-Timestamp": stamp,
        "X-OSOM-Signature": sign(endpoint.secret, stamp, body),
    }
    started = time.monotonic()
    code, error = _post(endpoint.url, body, headers, timeout)
    duration = int((time.monotonic() - started) * 1000)
    ok = code is not None and 200 <= code < 300
    with transaction.atomic():
        delivery.attempts += 1
        delivery.last_status_code = code
        delivery.last_error = "" if ok else (error or f"HTTP {code}")[:ERROR_LENGTH]
        if ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.next_attempt_at = None
        elif delivery.attempts <= len(BACKOFF):
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
        else:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.next_attempt_at = None
        delivery.save(update_fields=["attempts", "last_status_code", "last_error", "status", "delivered_at",
                                     "next_attempt_at"])
        return WebhookAttempt.objects.create(delivery=delivery, number=delivery.attempts, at=now, status_code=code,
                                             error=delivery.last_error, duration_ms=duration)


def due(now: datetime | None = None):
    """The pending deliveries whose time has come, the longest waiting first."""
    now = now or timezone.now()
    # an endpoint removed after the event: what still waited for it is not sent
    return (WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, endpoint__active=True)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("endpoint").order_by("next_attempt_at", "pk"))


def deliver_due(now: datetime | None = None, *, limit: int = 100, timeout: float = 5) -> dict[str, int]:
    """Attempt every delivery that is due, at most ``limit`` of them, each waiting at most
    ``timeout`` seconds for an answer. ``now``, when given, fixes the time that decides what
    is due, and that the attempts are recorded at and the next ones computed from. Returns how many were delivered, will be retried,
    and failed for good."""
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    for delivery in list(due(now)[:limit]):
        # without a fixed time, each attempt is recorded when it is made, not when the run began
        moment = now or timezone.now()
        if not _claim(delivery, moment, timeout):
            continue
        attempt(delivery, now=moment, timeout=timeout)
        if delivery.status == WebhookDelivery.Status.DELIVERED:
            counts["delivered"] += 1
        elif delivery.status == WebhookDelivery.Status.FAILED:
            counts["failed"] += 1
        else:
            counts["retrying"] += 1
    return counts


# ---------------------------------------------------------------- what each event says


def _url(name: str, *args) -> str:
    path = reverse(name, args=args)
    return settings.OSOM_BASE_URL.rstrip("/") + path if settings.OSOM_BASE_URL else path


def _person(person) -> dict | None:
    return {"id": person.pk, "name": person.name, "email": person.email} if person is not None else None


def _service(service) -> dict:
    return {"id": service.pk, "slug": service.slug, "name": service.name, "lifecycle_stage": service.lifecycle_stage,
            "url": _url("network:service", service.slug)}


def service_established(service, *, how: str, actor, proposal=None) -> dict:
    """``how``: established, adopted, or proposal (established to meet proposed needs)."""
    version = service.current_version
    data = {"service": {**_service(service), "evolution_stage": service.evolution_stage, "user_type": service.user_type},
            "how": how, "manager": _person(service.manager), "contract_version": version.number if version else None,
            "by": _person(actor)}
    if proposal is not None:
        data["proposal"] = {"id": proposal.pk, "title": proposal.title}
    return data


def stage_changed(service, *, from_stage: str, actor, assessment=None) -> dict | None:
    """The service's move from ``from_stage`` to the stage it is at now; None (nothing to
    tell) when it stays where it was."""
    if service.lifecycle_stage == from_stage:
        return None
    return {"service": _service(service), "from_stage": from_stage, "to_stage": service.lifecycle_stage,
            "by": _person(actor),
            "assessment": {"id": assessment.pk, "url": _url("lifecycle:assessment", assessment.pk)} if assessment else None}


def contract_approved(version, *, previous, actor) -> dict:
    service = version.service
    return {"service": _service(service), "version": version.number,
            "previous_version": previous.number if previous is not None else None,
            "alteration": bool(version.is_alteration), "change_note": version.change_note,
            "approved_by": _person(actor), "url": _url("network:version", service.slug, version.number)}


def report_published(assessment, *, service, actor) -> dict:
    return {"service": _service(service),
            "assessment": {"id": assessment.pk, "kind": assessment.kind, "stage": assessment.stage,
                           "result": assessment.result, "outcome": assessment.outcome,
                           "published_at": assessment.published_at,
                           "url": _url("lifecycle:assessment", assessment.pk)},
            "contract_version": assessment.contract_version.number if assessment.contract_version_id else None,
            "published_by": _person(actor)}


def coe_published(coe, *, actor) -> dict:
    return {"service": _service(coe.service),
            "coe": {"id": coe.pk, "title": coe.title, "published_at": coe.published_at,
                    "url": _url("learning:coe", coe.pk)},
            "published_by": _person(actor)}


def mandate_issued(mandate, *, actor, services) -> dict:
    return {"mandate": {"id": mandate.pk, "title": mandate.title, "due_date": mandate.due_date,
                        "issued_at": mandate.issued_at, "url": _url("governance:mandate", mandate.pk)},
            "services": [{"slug": s.slug, "name": s.name} for s in services], "issued_by": _person(actor)}
