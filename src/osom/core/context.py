"""Puts the organisation's own names (model 10) in every template as ``terms``."""

from .models import Organisation


def terminology(request):
    org = getattr(request, "_osom_org", None)
    if org is None:
        org = Organisation.current()
        request._osom_org = org
    return {"org": org, "terms": org.terms()}
