"""The organisation's settings, read at most once per request.

Policy checks and templates both need the organisation's names and reserved acts; a
page may check a dozen rights. Inside a request the first read is kept for the rest of
it; outside a request (actions called from the command line or tests) every read is
fresh."""

from __future__ import annotations

from contextvars import ContextVar

from .models import Organisation

__all__ = ["current_organisation", "OrganisationPerRequest"]

_cached: ContextVar[dict | None] = ContextVar("osom_organisation", default=None)


def current_organisation() -> Organisation:
    holder = _cached.get()
    if holder is None:
        return Organisation.current()
    if "org" not in holder:
        holder["org"] = Organisation.current()
    return holder["org"]


class OrganisationPerRequest:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _cached.set({})
        try:
            return self.get_response(request)
        finally:
            _cached.reset(token)
