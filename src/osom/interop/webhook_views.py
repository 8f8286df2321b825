"""The executive's webhook pages: the list of endpoints, adding one (its secret shown
once, in the answer to the POST that made it), changing or removing one, and an
endpoint's delivery log a page at a time, with a button to send a failed delivery again.

Every page is refused (403, with the policy's sentence) to anyone who may not manage
webhooks: the URLs and payloads are the executive's to see. Every POST calls one action
through :func:`osom.core.views.apply_action`."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from osom.core.policy import refusal
from osom.core.views import apply_action, forbidden

from . import webhook_actions as actions
from .models import EVENTS, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .webhooks import BACKOFF

__all__ = ["WebhookForm", "webhook_list", "webhook_add", "webhook_detail", "webhook_edit", "webhook_remove",
           "delivery_redeliver"]

STATUSES = [("", "Any status"), *WebhookDelivery.Status.choices]


class WebhookForm(forms.Form):
    # the action checks every field itself, naming it; the form only carries the values
    name = forms.CharField(label="Name", required=False,
                           help_text="What it is for, e.g. the system it tells: “Service catalogue”.")
    url = forms.CharField(label="URL", required=False,
                          help_text="Where the events are posted, as JSON: an https:// address (http:// on a "
                                    "private network).",
                          widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}))
    events = forms.MultipleChoiceField(label="Events", required=False, widget=forms.CheckboxSelectMultiple,
                                       choices=[(name, f"{name} — {says}") for name, says in EVENTS.items()],
                                       help_text="Choose at least one.")
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _refused(request) -> str | None:
    return refusal(request.user, "manage_webhooks")


def _posted(request):
    return request.POST if request.method == "POST" else None


def _backoff_text() -> str:
    def text(wait) -> str:
        minutes = int(wait.total_seconds() // 60)
        return f"{minutes // 60} h" if minutes >= 60 and minutes % 60 == 0 else f"{minutes} min"
    return ", ".join(text(w) for w in BACKOFF)


def webhook_list(request):
    """Every endpoint with what it subscribes to and how its deliveries stand."""
    if refused := _refused(request):
        return forbidden(request, refused)
    counts = {s: Count("deliveries", filter=Q(deliveries__status=s)) for s in WebhookDelivery.Status.values}
    endpoints = WebhookEndpoint.objects.select_related("created_by").annotate(**counts).order_by("-active", "name", "pk")
    return render(request, "interop/webhooks.html", {"nav": "webhooks", "endpoints": list(endpoints),
                                                     "events": EVENTS, "backoff": _backoff_text()})


def webhook_add(request):
    """Add an endpoint; the answer shows its secret, this once."""
    if refused := _refused(request):
        return forbidden(request, refused)
    form = WebhookForm(_posted(request))
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.add_webhook(
            actor=request.user, name=form.cleaned_data.get("name"), url=form.cleaned_data.get("url"),
            events=form.cleaned_data.get("events") or []))
        if ok:
            endpoint, secret = result
            messages.success(request, f"Added the webhook “{endpoint.name}”. Copy its secret now: it is shown only "
                                      "this once.")
            response = render(request, "interop/webhook_added.html", {"nav": "webhooks", "endpoint": endpoint,
                                                                      "secret": secret})
            response["Cache-Control"] = "no-store"  # the secret is in this page only
            return response
        if result is not None:
            return result
    return render(request, "interop/webhook_form.html", {"nav": "webhooks", "form": form, "endpoint": None})


def webhook_detail(request, pk: int):
    """One endpoint and its delivery log, the newest first, a page at a time."""
    if refused := _refused(request):
        return forbidden(request, refused)
    endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("created_by"), pk=pk)
    status = request.GET.get("status", "")
    deliveries = endpoint.deliveries.prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))).order_by("-created_at", "-pk")
    if status in WebhookDelivery.Status.values:
        deliveries = deliveries.filter(status=status)
    else:
        status = ""
    page = Paginator(deliveries, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    for delivery in page.object_list:
        delivery.payload_text = json.dumps(delivery.payload, indent=2, ensure_ascii=False, sort_keys=True)
    return render(request, "interop/webhook.html", {
        "nav": "webhooks", "endpoint": endpoint, "page": page, "status": status, "statuses": STATUSES,
        "events": EVENTS, "backoff": _backoff_text(),
    })


def webhook_edit(request, pk: int):
    if refused := _refused(request):
        return forbidden(request, refused)
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    initial = {"name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "revision": endpoint.revision}
    form = WebhookForm(_posted(request), initial=initial)
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.edit_webhook(
            actor=request.user, endpoint=endpoint, name=form.cleaned_data.get("name"),
            url=form.cleaned_data.get("url"), events=form.cleaned_data.get("events") or [],
            expected_revision=form.cleaned_data.get("revision")))
        if ok:
            messages.success(request, f"Saved the webhook “{result.name}”.")
            return redirect("interop:webhook", pk=endpoint.pk)
        if result is not None:
            return result
    return render(request, "interop/webhook_form.html", {"nav": "webhooks", "form": form, "endpoint": endpoint})


@require_POST
def webhook_remove(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    ok, result = apply_action(request, None, lambda: actions.remove_webhook(actor=request.user, endpoint=endpoint))
    if ok:
        messages.success(request, f"Removed the webhook “{endpoint.name}”: nothing more is sent to it. Its delivery "
                                  "log is kept.")
    elif result is not None:
        return result
    return redirect("interop:webhook", pk=endpoint.pk)


@require_POST
def delivery_redeliver(request, pk: int):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    ok, result = apply_action(request, None, lambda: actions.redeliver(actor=request.user, delivery=delivery))
    if ok:
        messages.success(request, f"The {delivery.event} delivery will be sent again at the sender's next run.")
    elif result is not None:
        return result
    return redirect("interop:webhook", pk=delivery.endpoint_id)
