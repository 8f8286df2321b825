"""API routes for Wardley maps and the dependency graph (model 5.4): each service's map,
kept as the text its people wrote, with its versions and drawn as SVG; drawing any map
text without saving it; the network map generated from the contracts; and the graph of
the current contracts seen from one service (its neighbourhood, who is affected if it
fails) or as a whole (its cycles).

Reads use ``queries`` and make a fixed number of queries whatever the size of the
network; the one write, saving a map, is a call to ``save_service_map``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from osom.api.schemas import READ_ERRORS, WRITE_ERRORS, PageQuery, page, page_rows
from osom.core.api import actor
from osom.core.errors import InvalidInput, NotFound
from osom.network.models import Service
from osom.network.stages import Evolution, Lifecycle

from . import queries
from .actions import MAX_MAP_CHARACTERS, save_service_map
from .api_schemas import (
    CyclePage,
    HopsQuery,
    ImpactOut,
    MapIn,
    MapSvgQuery,
    MapVersionPage,
    NeighbourhoodOut,
    NetworkMapQuery,
    RenderIn,
    RenderOut,
    ServiceMapOut,
)
from .models import MapVersion
from .network import network_map as build_network_map
from .svg import render_svg
from .text import parse
from .views import SVG_POLICY

__all__ = ["router"]

router = Router(tags=["maps"])

_SVG = {"image/svg+xml": {"schema": {"type": "string"}}}


# ---------------------------------------------------------------- finding what a request names


def _service(slug: str, field: str = "slug") -> Service:
    """The service a path names, or a 404."""
    service = Service.objects.filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field=field)
    return service


def _version(service: Service, number: int) -> MapVersion:
    version = MapVersion.objects.select_related("saved_by").filter(service=service, number=number).first()
    if version is None:
        raise NotFound(f"{service.name}'s map has no version {number}.", field="number")
    return version


def _warnings(text: str) -> list[dict[str, Any]]:
    return [{"line": w.line, "message": w.message} for w in parse(text).warnings]


def _map_out(service: Service, version: MapVersion | None) -> dict[str, Any]:
    if version is None:
        return {"service": service, "number": 0, "text": "", "note": "", "saved_by": None, "saved_at": None,
                "warnings": []}
    return {"service": service, "number": version.number, "text": version.text, "note": version.note,
            "saved_by": version.saved_by, "saved_at": version.saved_at, "warnings": _warnings(version.text)}


def _svg(svg: str, filename: str) -> HttpResponse:
    """An SVG answered so that nothing in it can run, even opened on its own."""
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Content-Security-Policy"] = SVG_POLICY
    return response


# ---------------------------------------------------------------- a service's map


@router.get("/services/{slug}/map", response={200: ServiceMapOut, **READ_ERRORS})
def get_service_map(request: HttpRequest, slug: str):
    """The service's current map: its version number, the text as written and the lines
    the parser did not understand. Version 0, with empty text, when it has no map yet."""
    service = _service(slug)
    return _map_out(service, queries.current_map(service))


@router.get("/services/{slug}/map/versions", response={200: MapVersionPage, **READ_ERRORS})
def list_map_versions(request: HttpRequest, slug: str, query: Query[PageQuery]):
    """Every saved version of the service's map, the newest first, with who saved it, why
    and how many lines were not understood."""
    return page(queries.map_versions(_service(slug)), query)


@router.get("/services/{slug}/map/versions/{number}", response={200: ServiceMapOut, **READ_ERRORS})
def get_map_version(request: HttpRequest, slug: str, number: int):
    """One version of the service's map, as it was saved."""
    service = _service(slug)
    return _map_out(service, _version(service, number))


@router.put("/services/{slug}/map", response={200: ServiceMapOut, **WRITE_ERRORS})
def save_map(request: HttpRequest, slug: str, payload: MapIn):
    """Save map text as the service's new current version (its manager or team). Lines
    the parser does not understand are kept and reported in ``warnings``, never refused.
    Send the version the editor started from as ``expected_number``: if someone saved
    since, the save is refused (409) instead of replacing their map."""
    service = _service(slug)
    version = save_service_map(actor=actor(request), service=service, text=payload.text, note=payload.note,
                               expected_number=payload.expected_number)
    return _map_out(service, MapVersion.objects.select_related("saved_by").get(pk=version.pk))


@router.get("/services/{slug}/map.svg", response=READ_ERRORS,
            openapi_extra={"responses": {"200": {"description": "The map drawn as an SVG document", "content": _SVG}}})
def get_map_svg(request: HttpRequest, slug: str, query: Query[MapSvgQuery]):
    """The service's current map (or version ``number``) drawn as SVG; 404 when it has no map."""
    service = _service(slug)
    if query.number is not None:
        version = _version(service, query.number)
    else:
        version = queries.current_map(service)
        if version is None:
            raise NotFound(f"{service.name} has no map yet.", field="slug")
    return _svg(render_svg(parse(version.text)), f"{service.slug}-map-v{version.number}.svg")


@router.post("/maps/render", response={200: RenderOut, **WRITE_ERRORS})
def render_map(request: HttpRequest, payload: RenderIn):
    """Draw map text as SVG without saving anything (anyone signed in), with the lines
    the parser did not understand: a preview for an editor."""
    if len(payload.text) > MAX_MAP_CHARACTERS:
        raise InvalidInput(f"A map is at most {MAX_MAP_CHARACTERS:,} characters.", field="text")
    wardley_map = parse(payload.text)
    return {"svg": render_svg(wardley_map),
            "warnings": [{"line": w.line, "message": w.message} for w in wardley_map.warnings]}


# ---------------------------------------------------------------- the network map


def _network_title(selection: queries.NetworkSelection, query: NetworkMapQuery) -> str:
    parts = []
    if selection.around:
        parts.append(f"what {selection.around['name']} depends on")
    if query.stage:
        parts.append(f"{Lifecycle(query.stage).label.lower()} services")
    if query.evolution:
        parts.append(f"{Evolution(query.evolution).label.lower()} services")
    if query.q.strip():
        parts.append(f"names containing “{query.q.strip()}”")
    return "Service network" + (": " + ", ".join(parts) if parts else "")


@router.get("/network/map", response=READ_ERRORS, openapi_extra={"responses": {"200": {
    "description": "The network map as map text (format=text) or drawn as SVG (format=svg)",
    "content": {"text/plain": {"schema": {"type": "string"}}, **_SVG},
}}})
def get_network_map(request: HttpRequest, query: Query[NetworkMapQuery]):
    """A Wardley map of the running network, generated from the contracts: each service a
    component at its contract's evolution stage, those meeting external users at the top
    and what they consume below; the links are the contracts' dependencies. Limited to
    what one service depends on (``around``) or by ``stage``, ``evolution`` and words
    ``q``. As map text (``format=text``: every matching service) or SVG (``format=svg``:
    at most 300 services, those meeting external users first)."""
    drawing = query.format == "svg"
    selection = queries.network_selection(
        around=query.around.strip(), stage=query.stage or "", evolution=query.evolution or "", q=query.q.strip(),
        cap=queries.DRAWING_CAP if drawing else 10**9)
    if selection.not_found:
        raise NotFound(f"There is no running service “{query.around.strip()}”.", field="around")
    wardley_map = build_network_map(selection.nodes, selection.edges, title=_network_title(selection, query))
    if drawing:
        count = len(selection.nodes)
        return _svg(render_svg(wardley_map, width=min(3200, 900 + 9 * count), height=min(2400, 620 + 6 * count)),
                    "network-map.svg")
    response = HttpResponse(wardley_map.to_text(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="network-map.owm"'
    return response


# ---------------------------------------------------------------- the dependency graph


@router.get("/services/{slug}/neighbourhood", response={200: NeighbourhoodOut, **READ_ERRORS})
def get_neighbourhood(request: HttpRequest, slug: str, query: Query[HopsQuery]):
    """The running services within ``hops`` dependencies of this one, either way, each
    with its distance and whether it is on the consumers' or the providers' side, and
    the dependencies among them."""
    view = queries.neighbourhood_view(_service(slug), query.hops)
    slugs = {n.service.pk: n.service.slug for n in view.nodes}
    return {"centre": view.centre, "hops": view.hops, "truncated": view.truncated,
            "nodes": [{"service": n.service, "distance": n.distance, "relation": n.relation} for n in view.nodes],
            "edges": [{"consumer": slugs[c], "provider": slugs[p]} for c, p in view.edges if c in slugs and p in slugs]}


@router.get("/services/{slug}/impact", response={200: ImpactOut, **READ_ERRORS})
def get_impact(request: HttpRequest, slug: str, query: Query[PageQuery]):
    """Who is affected if this service fails: its direct consumers, and every running
    service that depends on it through others, the nearest first, each with how many
    hops away it is and one chain down to this service."""
    service = _service(slug)
    view = queries.impact_view(service)
    shown = page_rows(view.order, query, key=int, scope=f"impact:{service.pk}")
    rows = view.rows(shown["items"])
    return {"failed": view.failed, "direct": [r.service for r in view.rows(view.direct_ids)],
            "items": [{"service": r.service, "hops": r.hops, "chain": r.chain} for r in rows], "count": view.total,
            "next_cursor": shown["next_cursor"],
            "deepest": view.deepest, "external_reached": view.external_reached}


@router.get("/network/cycles", response={200: CyclePage, **READ_ERRORS})
def list_cycles(request: HttpRequest, query: Query[PageQuery]):
    """The dependency cycles among running services, the largest first: each one chain
    through every service of a part of the network that depends on itself."""
    view = queries.cycles_view()
    shown = page_rows(view.cycles, query, key=lambda cycle: [s.slug for s in cycle], scope="cycles")
    return {"items": [{"services": cycle} for cycle in shown["items"]],
            "count": shown["count"], "next_cursor": shown["next_cursor"], "services_in_cycles": view.services_in_cycles}
