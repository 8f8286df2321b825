"""Puts the organisation's own names (model 10) in every template as ``terms``."""

from .models import Organisation
from .orgcache import current_organisation

__all__ = ["organisation_for", "terminology"]


def organisation_for(request) -> Organisation:
    """The organisation's settings, read once per request."""
    org = getattr(request, "_osom_org", None)
    if org is None:
        org = current_organisation()
        request._osom_org = org
    return org


def terminology(request):
    org = organisation_for(request)
    return {"org": org, "terms": org.terms()}
