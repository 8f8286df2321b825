"""A service's Wardley map on its page, as an inclusion tag, so the network app needs to
know nothing of maps: a thumbnail of the current map, its version and date, how many of
its lines were not understood, and the ways into the map and the dependency graph."""

from __future__ import annotations

from django import template

from osom.core.orgcache import current_organisation
from osom.core.policy import can

from ..queries import current_map
from ..text import parse
from ..views import PREVIEW_SIZE, drawing

register = template.Library()

__all__ = ["map_panel"]


@register.inclusion_tag("maps/_panel.html", takes_context=True)
def map_panel(context, service):
    """Two queries at most: the current map version (with who saved it) and, for a person
    who is not the service's manager, whether they are in its team."""
    request = context.get("request")
    user = getattr(request, "user", None)
    version = current_map(service)
    running = service.lifecycle_stage != "decommissioned"
    return {
        "service": service,
        "request": request,
        "terms": context.get("terms") or current_organisation().terms(),
        "version": version,
        "svg": drawing(parse(version.text), width=PREVIEW_SIZE[0], height=PREVIEW_SIZE[1]) if version else "",
        "may_save": running and can(user, "save_service_map", service=service),
    }
