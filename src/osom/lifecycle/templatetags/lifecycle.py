"""Lifecycle panels on pages of other apps (the service page), as inclusion tags, so the
network app needs to know nothing of assessments or budgets."""

from django import template

register = template.Library()


@register.inclusion_tag("lifecycle/_service_flags.html", takes_context=True)
def lifecycle_flags(context, service):
    return {"service": service, "request": context.get("request")}


@register.inclusion_tag("lifecycle/_service_panel.html", takes_context=True)
def lifecycle_panel(context, service):
    return {"service": service, "request": context.get("request")}
