"""API routes for webhooks (the executive's): the endpoints events are posted to, and
each one's delivery log. Every write is one call to an action in
:mod:`osom.interop.webhook_actions`, which checks the caller's right and records the
audit event; reads are refused to anyone who may not manage webhooks, since an
endpoint's URL and its deliveries' payloads are the executive's to see."""

from __future__ import annotations

from django.db.models import Prefetch
from django.http import HttpRequest
from ninja import Query, Router, Status

from osom.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, PageQuery, page
from osom.core.api import actor
from osom.core.errors import NotAllowed, NotFound
from osom.core.policy import refusal

from . import webhook_actions as actions
from .api_schemas import (
    DeliveryFilters,
    DeliveryOut,
    DeliveryPage,
    WebhookAdded,
    WebhookEditIn,
    WebhookIn,
    WebhookOut,
    WebhookPage,
)
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

router = Router(tags=["webhooks"])

READS = {**READ_ERRORS, 403: ErrorOut}


def _may_manage(request: HttpRequest) -> None:
    if refused := refusal(actor(request), "manage_webhooks"):
        raise NotAllowed(refused)


def _endpoint(webhook_id: int) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.select_related("created_by").filter(pk=webhook_id).first()
    if found is None:
        raise NotFound(f"There is no webhook with id {webhook_id}.", field="webhook_id")
    return found


def _deliveries():
    return WebhookDelivery.objects.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number")))


@router.get("/webhooks", response={200: WebhookPage, **READS})
def list_webhooks(request: HttpRequest, query: Query[PageQuery]):
    """Every webhook, the active ones first (never their secrets)."""
    _may_manage(request)
    return page(WebhookEndpoint.objects.select_related("created_by").order_by("-active", "name", "pk"), query)


@router.post("/webhooks", response={201: WebhookAdded, **WRITE_ERRORS})
def add_webhook(request: HttpRequest, payload: WebhookIn):
    """Add a webhook. The answer holds its signing secret, shown this once."""
    endpoint, secret = actions.add_webhook(actor=actor(request), name=payload.name, url=payload.url,
                                           events=payload.events)
    endpoint = _endpoint(endpoint.pk)
    return Status(201, {**{name: getattr(endpoint, name) for name in WebhookOut.model_fields}, "secret": secret})


@router.get("/webhooks/{webhook_id}", response={200: WebhookOut, **READS})
def get_webhook(request: HttpRequest, webhook_id: int):
    """One webhook: its URL, events and state (never its secret)."""
    _may_manage(request)
    return _endpoint(webhook_id)


@router.put("/webhooks/{webhook_id}", response={200: WebhookOut, **WRITE_ERRORS})
def edit_webhook(request: HttpRequest, webhook_id: int, payload: WebhookEditIn):
    """Change a webhook's name, URL and events; give the revision read to be told of a
    change made since (409)."""
    _may_manage(request)
    endpoint = actions.edit_webhook(actor=actor(request), endpoint=_endpoint(webhook_id), name=payload.name,
                                    url=payload.url, events=payload.events, expected_revision=payload.revision)
    return _endpoint(endpoint.pk)


@router.post("/webhooks/{webhook_id}/deactivate", response={200: WebhookOut, **WRITE_ERRORS})
def deactivate_webhook(request: HttpRequest, webhook_id: int):
    """Stop sending to a webhook; it is kept with its delivery log."""
    _may_manage(request)
    actions.remove_webhook(actor=actor(request), endpoint=_endpoint(webhook_id))
    return _endpoint(webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries", response={200: DeliveryPage, **READS})
def list_deliveries(request: HttpRequest, webhook_id: int, query: Query[DeliveryFilters]):
    """The webhook's deliveries, the newest first, each with every attempt made."""
    _may_manage(request)
    qs = _deliveries().filter(endpoint=_endpoint(webhook_id)).order_by("-created_at", "-pk")
    if query.status:
        qs = qs.filter(status=query.status)
    return page(qs, query)


@router.post("/webhook-deliveries/{delivery_id}/redeliver", response={200: DeliveryOut, **WRITE_ERRORS})
def redeliver(request: HttpRequest, delivery_id: int):
    """Send a failed delivery again: pending once more, tried at the sender's next run."""
    _may_manage(request)
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"There is no webhook delivery with id {delivery_id}.", field="delivery_id")
    actions.redeliver(actor=actor(request), delivery=delivery)
    return _deliveries().get(pk=delivery_id)
