"""Puts the organisation's own names (model 10) in every template as ``terms``."""

from .models import Organisation

__all__ = ["organisation_for", "terminology"]


def organisation_for(request) -> Organisation:
    """The organisation's settings, read once per request."""
    org = getattr(request, "_osom_org", None)
    if org is None:
        org = Organisation.current()
        request._osom_org = org
    return org


def terminology(request):
    org = organisation_for(request)
    return {"org": org, "terms": org.terms()}
