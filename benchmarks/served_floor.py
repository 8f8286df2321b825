"""The floors served through the app: every URL of OSOM, plus ``/_floor/<target>/``.

The benchmark's measuring process uses this module as its URL configuration. A floor
address runs the target's one raw SQL query (``floors.py``) inside a request that goes
through everything a page of the app goes through before and after its own work: the
middleware (security, session, CSRF, the signed-in person), the person's authentication
(the session for a page, the personal API token for an API list, as the API itself
checks it) and a response. What it leaves out is exactly what a page adds: the ORM, any
other query, the template or the schema. The ratio of a page's time to this floor is
what the page itself costs over the least any page of the app can cost for those rows.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import path

from osom.core.models import ApiToken
from osom.urls import urlpatterns as osom_urlpatterns

__all__ = ["urlpatterns", "address", "configure"]

_FLOORS: dict = {}
_CONTEXT: dict = {}


def configure(floors: dict, ctx: dict) -> None:
    """What the floor view serves: the targets' (build, render) pairs and the objects
    chosen for them."""
    _FLOORS.update(floors)
    _CONTEXT.update(ctx)


def address(key: str) -> str:
    """Where a target's floor is served: an API list's under ``/api/``, as the API is, so
    that the same middleware treats it the same way."""
    return f"/api/_floor/{key}/" if key.startswith("api_") else f"/_floor/{key}/"


def floor_view(request: HttpRequest, key: str) -> HttpResponse:
    from django.db import connection

    if key.startswith("api_"):
        header = request.headers.get("Authorization", "")
        person = ApiToken.authenticate(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
    else:
        person = request.user if request.user.is_authenticated else None
    if person is None:
        return HttpResponseForbidden("sign in")
    build, render = _FLOORS[key]
    sql, params = build(_CONTEXT)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        body = render(cursor.fetchall())
    content_type = "application/json" if key.startswith("api_") else "text/plain; charset=utf-8"
    return HttpResponse(body, content_type=content_type)


urlpatterns = [path("_floor/<str:key>/", floor_view), path("api/_floor/<str:key>/", floor_view), *osom_urlpatterns]
