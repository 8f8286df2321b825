"""Request and response shapes of the webhooks API. The conventions are those of
:mod:`osom.api.schemas`: lists answer ``{"items", "count"}`` and take ``limit`` and
``offset``; people are ``{"id", "name", "email"}``. An endpoint's secret is answered
once, when it is added, and never again."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from ninja import Field, Schema

from osom.api.schemas import Moment, NextCursor, PageQuery, PersonRef, WholeNumber

from .models import EVENTS

__all__ = ["WebhookIn", "WebhookEditIn", "WebhookOut", "WebhookAdded", "WebhookPage", "DeliveryFilters",
           "AttemptOut", "DeliveryOut", "DeliveryPage"]

EVENT_HELP = "Event names, at least one of: " + ", ".join(EVENTS)


class WebhookIn(Schema):
    name: str = Field(description="What the webhook is for, e.g. the system it tells")
    url: str = Field(description="Where events are posted: an http:// or https:// URL")
    events: list[str] = Field(description=EVENT_HELP)


class WebhookEditIn(WebhookIn):
    revision: WholeNumber | None = Field(None, description="The revision read; a change made since is a conflict (409)")


class WebhookOut(Schema):
    id: WholeNumber
    name: str
    url: str
    events: list[str]
    active: bool = Field(description="False once removed: nothing is sent to it any more")
    secret_hint: str = Field(description="The secret's first characters, to recognise it")
    created_by: PersonRef
    created_at: Moment
    revision: WholeNumber


class WebhookAdded(WebhookOut):
    secret: str = Field(description="The signing secret, shown this once: the receiver keeps it to check "
                                    "X-OSOM-Signature")


class WebhookPage(Schema):
    items: list[WebhookOut]
    count: WholeNumber
    next_cursor: NextCursor


class DeliveryFilters(PageQuery):
    status: Literal["pending", "delivered", "failed"] | None = Field(None, description="Only deliveries in this state")


class AttemptOut(Schema):
    number: WholeNumber
    at: Moment
    status_code: WholeNumber | None = Field(description="The receiver's answer; null when none came")
    error: str
    duration_ms: WholeNumber


class DeliveryOut(Schema):
    id: WholeNumber
    endpoint_id: WholeNumber
    event: str
    event_id: UUID = Field(description="Sent as X-OSOM-Delivery; the same for every endpoint told of the event")
    payload: dict
    created_at: Moment
    status: Literal["pending", "delivered", "failed"]
    attempts: WholeNumber
    next_attempt_at: Moment | None
    last_status_code: WholeNumber | None
    last_error: str
    delivered_at: Moment | None
    attempt_log: list[AttemptOut] = Field(description="Every attempt, the first first")


class DeliveryPage(Schema):
    items: list[DeliveryOut] = Field(description="The newest first")
    count: WholeNumber
    next_cursor: NextCursor
