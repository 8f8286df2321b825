"""The whole network as pages: its Wardley map, drawn from the current contracts
(model 5.4, "the executive reads the maps across the whole network"); a service's
dependency neighbourhood; who is affected if it fails; and the cycles in the network.

Nothing here writes. Each page makes the same number of queries however large the
network: the services and the dependencies are read once and walked in memory."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode

from osom.network.models import Service
from osom.network.stages import Evolution, Lifecycle

from . import queries
from .forms import HopsForm, NetworkMapFilterForm
from .network import network_map as build_network_map
from .svg import render_svg
from .views import drawing, svg_download, text_download

__all__ = ["network_map", "network_map_text", "network_map_svg", "neighbourhood", "impact", "cycles",
           "layered_layout"]

# How many direct consumers the impact page names before pointing at the full list.
DIRECT_SHOWN = 60
STAGE_COLOURS = {"genesis": "#8b2c6f", "custom": "#9a4a00", "product": "#1d5f8c", "commodity": "#3f5f2b"}


# ---------------------------------------------------------------- the network map

def _network_title(selection, filters: dict) -> str:
    parts = []
    if selection.around:
        parts.append(f"what {selection.around['name']} depends on")
    if filters.get("stage"):
        parts.append(f"{Lifecycle(filters['stage']).label.lower()} services")
    if filters.get("evolution"):
        parts.append(f"{Evolution(filters['evolution']).label.lower()} services")
    if filters.get("q"):
        parts.append(f"names containing “{filters['q']}”")
    return "Service network" + (": " + ", ".join(parts) if parts else "")


def _network_size(count: int) -> tuple[int, int]:
    """A drawing big enough for ``count`` services to keep their names apart."""
    return min(3200, 900 + 9 * count), min(2400, 620 + 6 * count)


def _selection(request, *, cap: int | None = None):
    form = NetworkMapFilterForm(request.GET or None)
    filters = form.filters()
    selection = queries.network_selection(**filters, cap=queries.DRAWING_CAP if cap is None else cap)
    title = _network_title(selection, filters)
    return form, filters, selection, build_network_map(selection.nodes, selection.edges, title=title), title


def network_map(request):
    """The Wardley map of the running network, generated from the contracts: services
    that meet external users at the top, what they consume below; evolution from each
    contract's stage. Limited to what one service depends on, or by filters."""
    form, filters, selection, wardley_map, title = _selection(request)
    width, height = _network_size(len(selection.nodes))
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "maps/network.html", {
        "nav": "maps", "form": form, "filters": filters, "selection": selection, "title": title,
        "svg": drawing(wardley_map, width=width, height=height) if selection.nodes else "",
        "width": width, "query": f"?{query}" if query else "", "cap": queries.DRAWING_CAP,
        "filtered": any(filters.values()),
    }, status=404 if selection.not_found else 200)


def network_map_text(request):
    """The network map as map text (``.owm``), with the page's filters; every matching
    service, not only as many as a drawing can hold."""
    _form, _filters, selection, wardley_map, _title = _selection(request, cap=10**9)
    return text_download(wardley_map.to_text(), "network-map.owm")


def network_map_svg(request):
    """The network map drawn as an ``.svg`` file, with the page's filters and cap."""
    _form, _filters, selection, wardley_map, _title = _selection(request)
    width, height = _network_size(len(selection.nodes))
    return svg_download(render_svg(wardley_map, width=width, height=height), "network-map.svg")


# ---------------------------------------------------------------- a service's neighbourhood

@dataclass
class Box:
    node: queries.GraphNode
    x: float
    y: float
    label: str
    colour: str


@dataclass
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    aside: bool = False  # between services linked to the centre only both ways: drawn lighter


@dataclass
class Layout:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]
    box_width: int
    box_height: int
    layers: list[tuple[str, float]]  # each layer's label and the y of its first row


def _layer_label(layer: int) -> str:
    if layer < 0:
        return f"consumers ↑{-layer}"
    if layer > 0:
        return f"providers ↓{layer}"
    return "its level"


def _short(name: str, limit: int = 24) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def layered_layout(nodes: list[queries.GraphNode], edges: list[tuple[int, int]], *, per_row: int = 6,
                   box_width: int = 176, box_height: int = 46, gap_x: int = 18, gap_y: int = 56,
                   margin: int = 24, gutter: int = 92) -> Layout:
    """Boxes in rows by layer (consumers above, providers below), at most ``per_row`` to
    a row so a hub's hundred consumers wrap instead of running off the page; within a
    layer, each box goes near the boxes it is linked to in the layers already placed."""
    by_layer: dict[int, list[queries.GraphNode]] = {}
    for node in nodes:
        by_layer.setdefault(node.layer, []).append(node)
    linked: dict[int, set[int]] = {}
    for c, p in edges:
        linked.setdefault(c, set()).add(p)
        linked.setdefault(p, set()).add(c)
    widest = min(per_row, max((len(v) for v in by_layer.values()), default=1))
    width = gutter + margin * 2 + widest * box_width + (widest - 1) * gap_x
    x_of: dict[int, float] = {}
    boxes: list[Box] = []
    layers: list[tuple[str, float]] = []
    y = margin
    # the centre's layer first outwards would place consumers against providers; top to
    # bottom keeps it simple and every layer sees the one above it already placed
    for layer in sorted(by_layer):
        members = by_layer[layer]

        def pull(node, members=members):
            near = [x_of[i] for i in linked.get(node.service.pk, ()) if i in x_of]
            return (sum(near) / len(near) if near else float("inf"), node.service.name.casefold())

        members = sorted(members, key=pull)
        centre = next((n for n in members if n.relation == "centre"), None)
        if centre is not None:  # the service the page is about sits in the middle of its row
            members.remove(centre)
            members.insert(min(len(members), per_row - 1) // 2, centre)
        layers.append((_layer_label(layer), y))
        for start in range(0, len(members), per_row):
            row = members[start:start + per_row]
            row_width = len(row) * box_width + (len(row) - 1) * gap_x
            left = gutter + margin + (width - gutter - 2 * margin - row_width) / 2
            for i, node in enumerate(row):
                x = left + i * (box_width + gap_x)
                x_of[node.service.pk] = x + box_width / 2
                boxes.append(Box(node, x, y, _short(node.service.name),
                                 STAGE_COLOURS.get(node.service.evolution_stage, "#4a5560")))
            y += box_height + gap_y
    where = {b.node.service.pk: b for b in boxes}
    arrows = []
    for c, p in edges:
        a, b = where.get(c), where.get(p)
        if a is None or b is None or a is b:
            continue
        aside = "related" in (a.node.relation, b.node.relation)
        if b.y > a.y:  # provider below: bottom of the consumer to the top of the provider
            arrows.append(Arrow(a.x + box_width / 2, a.y + box_height, b.x + box_width / 2, b.y, aside))
        elif b.y < a.y:
            arrows.append(Arrow(a.x + box_width / 2, a.y, b.x + box_width / 2, b.y + box_height, aside))
        elif b.x > a.x:
            arrows.append(Arrow(a.x + box_width, a.y + box_height / 2, b.x, b.y + box_height / 2, aside))
        else:
            arrows.append(Arrow(a.x, a.y + box_height / 2, b.x + box_width, b.y + box_height / 2, aside))
    arrows.sort(key=lambda arrow: not arrow.aside)  # the centre's own links drawn last, on top
    height = int(y - gap_y + margin) if boxes else margin * 2
    return Layout(int(width), height, boxes, arrows, box_width, box_height, layers)


def neighbourhood(request, slug: str):
    """The services within a few dependencies of one service, drawn in layers (what
    consumes it above, what it consumes below) and listed."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    form = HopsForm(request.GET or None)
    hops = form.chosen()
    view = queries.neighbourhood_view(service, hops)
    return render(request, "maps/neighbourhood.html", {
        "nav": "network", "service": service, "form": form, "hops": hops, "view": view,
        "layout": layered_layout(view.nodes, view.edges),
    })


# ---------------------------------------------------------------- impact

def impact(request, slug: str):
    """If this service fails, who is affected: its direct consumers, then every service
    that depends on it through others, with the chain that links each to it."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    view = queries.impact_view(service)
    page = Paginator(view.order, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    direct_ids = view.direct_ids
    shown_direct = direct_ids[:DIRECT_SHOWN]
    # the rows of the page and the direct consumers named above it, in one query
    rows = {r.service.pk: r for r in view.rows(list(dict.fromkeys([*shown_direct, *page.object_list])))}
    return render(request, "maps/impact.html", {
        "nav": "network", "service": service, "view": view, "page": page,
        "rows": [rows[i] for i in page.object_list if i in rows],
        "direct": [rows[i].service for i in shown_direct if i in rows],
        "direct_total": len(direct_ids), "direct_more": max(0, len(direct_ids) - DIRECT_SHOWN),
    })


# ---------------------------------------------------------------- cycles

def cycles(request):
    """The dependency cycles of the running network, each as a chain of links."""
    view = queries.cycles_view()
    page = Paginator(view.cycles, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "maps/cycles.html", {"nav": "maps", "view": view, "page": page})
