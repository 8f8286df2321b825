"""The organisation's settings, and who is in a service's team, read at most once per
request.

Policy checks and templates both need the organisation's names and reserved acts; a
page may check a dozen rights, several of them by asking whether the viewer is in the
service's team. Inside a request the first read is kept for the rest of it (what was read
of teams only until the request writes something); outside a request (actions called
from the command line or tests) every read is fresh."""

from __future__ import annotations

from contextvars import ContextVar

from .models import Organisation

__all__ = ["current_organisation", "in_team", "written", "OrganisationPerRequest"]

_cached: ContextVar[dict | None] = ContextVar("osom_organisation", default=None)


def current_organisation() -> Organisation:
    holder = _cached.get()
    if holder is None:
        return Organisation.current()
    if "org" not in holder:
        holder["org"] = Organisation.current()
    return holder["org"]


def in_team(service, person) -> bool:
    """Whether ``person`` is in ``service``'s team now."""
    holder = _cached.get()
    if holder is None:
        return _in_team(service, person)
    teams = holder.setdefault("teams", {})
    key = (service.pk, person.pk)
    if key not in teams:
        teams[key] = _in_team(service, person)
    return teams[key]


def _in_team(service, person) -> bool:
    return service.team.filter(person=person, ended_at__isnull=True).exists()


def written() -> None:
    """Something was written in this request (an action recorded its audit event): who is
    in which team is read afresh from now on."""
    holder = _cached.get()
    if holder is not None:
        holder.pop("teams", None)


class OrganisationPerRequest:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _cached.set({})
        try:
            return self.get_response(request)
        finally:
            _cached.reset(token)
