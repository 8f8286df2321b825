"""Lifecycle panels on pages of other apps (the service page), as inclusion tags, so the
network app needs to know nothing of assessments or budgets; and the few filters the
lifecycle's own pages share (money in the organisation's currency, outcome labels)."""

from django import template

from osom.core.orgcache import current_organisation

from .. import queries

register = template.Library()


def _base(context, service) -> dict:
    return {
        "service": service,
        "request": context.get("request"),
        "terms": context.get("terms") or current_organisation().terms(),
        "org": context.get("org") or current_organisation(),
    }


@register.inclusion_tag("lifecycle/_service_flags.html", takes_context=True)
def lifecycle_flags(context, service, contract=None):
    """Callouts for each decommissioned service the current contract still consumes,
    with that provider's migration path (one query; none when the page gives the current
    ``contract`` read with its providers, and they are all still running)."""
    return {**_base(context, service), "gone": queries.decommissioned_providers(service, contract)}


@register.inclusion_tag("lifecycle/_service_panel.html", takes_context=True)
def lifecycle_panel(context, service):
    """The service's lifecycle: stage, what is due, the open assessment, its reports,
    its timeline and its money (a fixed number of queries)."""
    return {**_base(context, service), **queries.service_lifecycle(service)}


@register.filter
def money(value, currency=None):
    """``{{ amount|money:org.currency }}`` → £1,234.50. Without a currency, the
    organisation's (read once per request)."""
    if value is None or value == "":
        return ""
    return queries.format_money(value, currency or current_organisation().currency)


@register.filter
def outcome_text(assessment):
    """The outcome of an assessment in the outcome table's words."""
    return getattr(assessment, "outcome_text", None) or queries.outcome_label(assessment)


@register.filter
def outcome_short(assessment):
    """The outcome's headline, before its colon: "Progress to alpha"."""
    return outcome_text(assessment).split(":")[0]


@register.filter
def stage_label(value):
    from osom.network.stages import Lifecycle

    return dict(Lifecycle.choices).get(value, value)


@register.simple_tag(takes_context=True)
def page_url(context, param, number):
    """The current query string with one page parameter (``page``, ``spends``…) set:
    each list of a page keeps its own place."""
    params = context["request"].GET.copy()
    params[param] = number
    return f"?{params.urlencode()}"
