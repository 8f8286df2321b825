"""Fitness data on other apps' pages, as template tags, so the network and governance apps
need to know nothing of measurements: ``{% fitness_panel service %}`` on a service's page
and ``{% fitness_dashboard %}`` on the dashboard; and filters for the fitness pages' numbers."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils import timezone

from osom.core.models import Role
from osom.core.numbers import plain_number
from osom.core.orgcache import current_organisation
from osom.core.policy import can

from .. import queries
from ..charts import format_period, format_value, money_text
from ..views import metric_cards

register = template.Library()

# The filters carry the prefix fx_ so that loading this library beside another app's
# (as the service's page does) never replaces one of that app's filters.
__all__ = ["fitness_panel", "fitness_dashboard", "fx_value", "fx_period", "fx_money", "fx_percent", "fx_count"]


@register.inclusion_tag("fitness/_service_panel.html", takes_context=True)
def fitness_panel(context, service, contract=None):
    """Each metric of the service's current contract: its latest value and period, whether
    the target is met, whether the series is stale, and a small chart. Three queries for the
    metrics, their series and their recent values (plus one to know whether the viewer is in
    the service's team), whatever the size of the network; the metrics are not read again
    when the page gives the current ``contract`` it has read with them."""
    request = context.get("request")
    user = getattr(request, "user", None)
    org = current_organisation()
    views = queries.service_fitness(service, points=12, contract=contract)
    return {
        "service": service,
        "request": request,
        "terms": context.get("terms") or org.terms(),
        "cards": metric_cards(service, views, currency=org.currency, size="small"),
        "may_record": service.lifecycle_stage != "decommissioned" and can(user, "record_measurement", service=service),
        "has_contract": service.current_version_id is not None,
    }


@register.inclusion_tag("fitness/_dashboard.html", takes_context=True)
def fitness_dashboard(context):
    """Missed targets and stale series: counted across the network for the executive and
    its team, listed for a manager's own services. Nothing for a person with none."""
    request = context.get("request")
    user = getattr(request, "user", None)
    out = {"request": request, "terms": context.get("terms"), "network": None, "mine": None}
    if user is None or not getattr(user, "is_authenticated", False):
        return out
    today = timezone.localdate()
    if user.role in (Role.EXECUTIVE, Role.EXECUTIVE_TEAM):
        counts = queries.network_fitness_counts(today=today)
        if counts["missed"] or counts["stale"]:
            out["network"] = counts
    # the page may know already that the person manages no running service
    manages = context.get("manages_services")
    items = queries.person_fitness_items(user, today=today) if manages is not False else {"missed": [], "stale": []}
    if items["missed"] or items["stale"]:
        out["mine"] = items
        out["mine_count"] = len(items["missed"]) + len(items["stale"])
    out["today"] = today
    return out


@register.filter
def fx_value(value, unit=""):
    """A measured value with its unit: 98.5%, £0.02, 120 seconds."""
    return format_value(value, unit or "", current_organisation().currency)


@register.filter
def fx_period(start, end=None):
    """A measured period in few words (``{{ m.period_start|fx_period:m.period_end }}``)."""
    return format_period(start, end or start)


@register.filter
def fx_money(value, places=2):
    """Money in the organisation's currency, with at least ``places`` decimals."""
    return money_text(value, current_organisation().currency, int(places))


@register.filter
def fx_percent(value, places=1):
    """A share between 0 and 1 as a percentage: 0.3 → 30%."""
    if value is None or value == "":
        return ""
    number = (Decimal(value) * 100).quantize(Decimal(1).scaleb(-int(places)))
    return f"{plain_number(number)}%"


@register.filter
def fx_count(value):
    """A whole number with its thousands marked: 13,000."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}"
