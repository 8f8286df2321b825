"""Every write to the webhooks: the executive adds, changes and removes the endpoints
other systems are told through, and sends a failed delivery again. Sending itself is
not an act of anyone's: see :mod:`osom.interop.webhooks`."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, Errors
from osom.core.models import Person
from osom.core.policy import authorise

from .models import EVENTS, WebhookDelivery, WebhookEndpoint

__all__ = ["add_webhook", "edit_webhook", "remove_webhook", "redeliver"]

SECRET_PREFIX = "whsec_"


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _name(errors: Errors, value) -> str:
    name = _text(value)
    if not name:
        errors.add("name", "Give the webhook a name, e.g. the system it tells.")
    elif len(name) > 100:
        errors.add("name", "Keep the name to 100 characters.")
    return name


def _url(errors: Errors, value) -> str:
    url = str(value or "").strip()
    if not url:
        errors.add("url", "Give the URL the events are sent to.")
        return url
    if len(url) > 500:
        errors.add("url", "Keep the URL to 500 characters.")
        return url
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — reading it checks the port is a number in range
    except ValueError:
        errors.add("url", f"“{url}” is not a URL.")
        return url
    if parts.scheme.lower() not in ("http", "https"):
        errors.add("url", "Give an http:// or https:// URL; events are posted over HTTP.")
    elif not parts.hostname or any(c.isspace() for c in url):
        errors.add("url", f"“{url}” is not a URL: give it as https://host/path.")
    return url


def _events(errors: Errors, value) -> list[str]:
    """The events chosen, in the platform's order; given as a list, or as text with the
    names separated by commas or spaces."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if value is None:
        value = []
    if not isinstance(value, (list, tuple, set)):
        errors.add("events", "Give the events as a list of names.")
        return []
    names = [_text(v) for v in value if _text(v)]
    unknown = [n for n in names if n not in EVENTS]
    if unknown:
        errors.add("events", f"“{unknown[0]}” is not an event: choose from {', '.join(EVENTS)}.")
    elif not names:
        errors.add("events", "Choose at least one event to send.")
    return [event for event in EVENTS if event in names]


def _origin(url: str) -> str:
    """What the audit log says of a URL: its scheme and host only. Everyone may read the
    audit log, and some receivers carry a credential in the path or query of their URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)


@refuses_null_characters
def add_webhook(*, actor: Person, name: str, url: str, events) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint. Returns it and its secret, which signs every delivery and is shown
    this once; the receiver keeps it to check the signatures."""
    authority = authorise(actor, "manage_webhooks")
    errors = Errors()
    name, url, chosen = _name(errors, name), _url(errors, url), _events(errors, events)
    errors.raise_if_any()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(name=name, url=url, events=chosen, secret=secret, created_by=actor)
        audit.record(actor, "add_webhook", endpoint, authority=authority,
                     summary=f"Added the webhook “{name}” to {_origin(url)}", after={"url": _origin(url), "events": chosen})
    return endpoint, secret


@refuses_null_characters
def edit_webhook(*, actor: Person, endpoint: WebhookEndpoint, name: str, url: str, events,
                 expected_revision: int | None = None) -> WebhookEndpoint:
    """Change an endpoint's name, URL or events. Deliveries already written keep going to
    the endpoint, at its URL as it is when they are sent."""
    authority = authorise(actor, "manage_webhooks")
    errors = Errors()
    name, url, chosen = _name(errors, name), _url(errors, url), _events(errors, events)
    errors.raise_if_any()
    with transaction.atomic():
        endpoint = _lock(endpoint)
        if not endpoint.active:
            raise Conflict(f"The webhook “{endpoint.name}” was removed; add a new one instead.", field="endpoint")
        if expected_revision is not None and int(expected_revision) != endpoint.revision:
            raise Conflict("This webhook was changed by someone else since you opened it. Reload it, then make your "
                           "change again.", field="revision", changes=[f"Now at revision {endpoint.revision}."])
        before = {"name": endpoint.name, "url": _origin(endpoint.url), "events": endpoint.events}
        after = {"name": name, "url": _origin(url), "events": chosen}
        endpoint.name, endpoint.url, endpoint.events = name, url, chosen
        endpoint.revision += 1
        endpoint.save()
        audit.record(actor, "edit_webhook", endpoint, authority=authority, before=before, after=after,
                     summary=f"Changed the webhook “{name}”")
    return endpoint


@refuses_null_characters
def remove_webhook(*, actor: Person, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to an endpoint. It is kept, inactive, with its delivery log; what was
    still waiting to be sent to it is not sent."""
    authority = authorise(actor, "manage_webhooks")
    with transaction.atomic():
        endpoint = _lock(endpoint)
        if not endpoint.active:
            raise Conflict(f"The webhook “{endpoint.name}” was removed already.", field="endpoint")
        endpoint.active = False
        endpoint.revision += 1
        endpoint.save(update_fields=["active", "revision"])
        audit.record(actor, "remove_webhook", endpoint, authority=authority,
                     summary=f"Removed the webhook “{endpoint.name}” ({_origin(endpoint.url)})")
    return endpoint


@refuses_null_characters
def redeliver(*, actor: Person, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a failed delivery again: it is pending once more and is tried at the next run
    of the sender. It keeps its event id, so a receiver can tell it is the same event."""
    authority = authorise(actor, "manage_webhooks")
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(no_key=True).select_related("endpoint").get(pk=delivery.pk)
        if delivery.status != WebhookDelivery.Status.FAILED:
            raise Conflict(f"This delivery is {delivery.get_status_display().lower()}; only a failed delivery is sent "
                           "again.", field="delivery")
        if not delivery.endpoint.active:
            raise Conflict(f"The webhook “{delivery.endpoint.name}” was removed; nothing is sent to it any more.",
                           field="delivery")
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "next_attempt_at"])
        audit.record(actor, "redeliver_webhook", delivery, authority=authority,
                     summary=f"Queued {delivery.event} {delivery.event_id} for “{delivery.endpoint.name}” again",
                     after={"attempts_so_far": delivery.attempts})
    return delivery
