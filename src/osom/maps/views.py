"""A service's Wardley map as pages (model 5.4): the current map with its warnings and
earlier versions, each version, the map as text or SVG to download, and the editor with
a live preview.

The text people wrote is the map: pages parse it and draw it each time they show it,
and the one write, saving a new version, goes through ``save_service_map``. A role that
may not save gets the 403 page with the policy's sentence; a bad text or note comes back
on its field with nothing written; a save over someone else's newer version is refused
with their version shown beside the text being written."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Service
from osom.network.stages import Lifecycle

from . import queries
from .actions import MAX_MAP_CHARACTERS, save_service_map
from .forms import MapForm, PreviewForm
from .models import MapVersion
from .svg import render_svg
from .text import parse

__all__ = ["map_page", "map_version", "map_text", "map_svg", "map_edit", "map_preview",
           "drawing", "svg_download", "SVG_POLICY"]

# An SVG holds text people wrote: served as a file, it may run nothing and load nothing.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

# The editor's preview and the service page's thumbnail are drawn on a smaller canvas than
# a map's own page, so that its names stay readable once scaled down to their column.
PREVIEW_SIZE = (760, 540)

_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def drawing(wardley_map, *, width: int = 900, height: int = 620) -> str:
    """The map as SVG to put inside a page: scalable (it keeps a viewBox, and the page's
    CSS sets its size) and marked safe, since the renderer escapes every text it draws."""
    svg = render_svg(wardley_map, width=width, height=height)
    opening = _SVG_OPEN.search(svg)
    if opening and "viewBox" not in opening.group(0):
        tag = opening.group(0)
        svg = svg.replace(tag, tag[:-1].rstrip("/") + f' viewBox="0 0 {width} {height}">', 1)
    return mark_safe(svg[svg.index("<svg"):] if "<svg" in svg else svg)  # no XML declaration inside HTML


def svg_download(svg: str, filename: str) -> HttpResponse:
    """An SVG file to download, served so that nothing in it can run."""
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Content-Security-Policy"] = SVG_POLICY
    return response


def text_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _service(slug: str) -> Service:
    return get_object_or_404(Service.objects.select_related("manager"), slug=slug)


def _version(service: Service, number: int | None) -> MapVersion:
    qs = MapVersion.objects.filter(service=service).select_related("saved_by")
    version = qs.filter(number=number).first() if number is not None else qs.order_by("-number").first()
    if version is None:
        raise Http404("This service has no map version with that number." if number is not None
                      else "This service has no map yet.")
    return version


def _running(service: Service) -> bool:
    return service.lifecycle_stage != Lifecycle.DECOMMISSIONED


# ---------------------------------------------------------------- reading

def map_page(request, slug: str):
    """The service's current map, large, with what was not understood in it and the list
    of its earlier versions."""
    service = _service(slug)
    current = queries.current_map(service)
    parsed = parse(current.text) if current else None
    page = Paginator(queries.map_versions(service), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "maps/map.html", {
        "nav": "network", "service": service, "version": current, "is_current": True,
        "svg": drawing(parsed) if parsed else "", "warnings": parsed.warnings if parsed else [],
        "components": len(parsed.components) if parsed else 0, "page": page,
        "may_save": can(request.user, "save_service_map", service=service) and _running(service),
    })


def map_version(request, slug: str, number: int):
    """One saved version of the map, drawn, with its text as it was written."""
    service = _service(slug)
    version = _version(service, number)
    parsed = parse(version.text)
    latest = queries.latest_number(service)
    warned = {w.line for w in parsed.warnings}
    lines = version.text.split("\n")
    if lines and lines[-1] == "":  # the newline that ends the last line starts no line of its own
        lines.pop()
    return render(request, "maps/version.html", {
        "nav": "network", "service": service, "version": version, "is_current": version.number == latest,
        "latest": latest, "svg": drawing(parsed), "warnings": parsed.warnings,
        "lines": [(n, line, n in warned) for n, line in enumerate(lines, start=1)],
    })


def map_text(request, slug: str, number: int | None = None):
    """The map text, as a ``.owm`` file: the current version, or version ``number``."""
    service = _service(slug)
    version = _version(service, number)
    return text_download(version.text, f"{service.slug}-map-v{version.number}.owm")


def map_svg(request, slug: str, number: int | None = None):
    """The map drawn as an ``.svg`` file: the current version, or version ``number``."""
    service = _service(slug)
    version = _version(service, number)
    return svg_download(render_svg(parse(version.text)), f"{service.slug}-map-v{version.number}.svg")


# ---------------------------------------------------------------- writing

def preview(text: str) -> dict:
    """What the editor shows of a text: the drawing and each line not understood."""
    if len(text) > MAX_MAP_CHARACTERS:
        return {"too_long": True, "limit": MAX_MAP_CHARACTERS}
    parsed = parse(text)
    svg = drawing(parsed, width=PREVIEW_SIZE[0], height=PREVIEW_SIZE[1]) if text.strip() else ""
    return {"svg": svg, "warnings": parsed.warnings,
            "components": len(parsed.components), "empty": not text.strip()}


def _editor(request, service: Service, form: MapForm, *, text: str, base: int, conflict: MapVersion | None = None,
            status: int = 200):
    return render(request, "maps/edit.html", {
        "nav": "network", "service": service, "form": form, "base": base, "conflict": conflict,
        "preview": preview(text), "first": base == 0,
    }, status=status)


def map_edit(request, slug: str):
    """Write the service's map: the text (the current version's, or for a first map a
    start drawn from the contract), a live preview, and saving as a new version."""
    service = _service(slug)
    if refused := refusal(request.user, "save_service_map", service=service):
        return forbidden(request, refused)
    if not _running(service):
        messages.warning(request, f"{service.name} is decommissioned; its map is kept as it was.")
        return redirect("maps:map", slug=service.slug)
    if request.method != "POST":
        current = queries.current_map(service)
        text = current.text if current else queries.map_skeleton(service)
        base = current.number if current else 0
        form = MapForm(initial={"text": text, "number": base})
        return _editor(request, service, form, text=text, base=base)

    form = MapForm(request.POST)
    text = request.POST.get("text", "")
    base = form.cleaned_data["number"] if form.is_valid() and form.cleaned_data["number"] is not None else 0
    if "preview" in request.POST:  # the button for a browser without script: show, save nothing
        return _editor(request, service, form, text=text, base=base)
    ok, result = apply_action(request, form, lambda: save_service_map(
        actor=request.user, service=service, text=form.cleaned_data["text"], note=form.cleaned_data["note"],
        expected_number=form.cleaned_data["number"]))
    if ok:
        messages.success(request, f"Saved version {result.number} of the map of {service.name}."
                         + (f" {result.warnings} line{'s were' if result.warnings != 1 else ' was'} not understood;"
                            " they are kept and listed below." if result.warnings else ""))
        return redirect("maps:map", slug=service.slug)
    if result is not None:
        return result
    conflict = None
    if getattr(form, "conflict_changes", None):
        # someone saved since: show their version beside this text, and let the next save
        # build on it, now that the person has seen it
        conflict = queries.current_map(service)
        base = conflict.number if conflict else base
        if conflict is not None:
            form.errors["text"] = form.error_class([
                f"{conflict.saved_by.name} saved version {conflict.number} while you were writing. Nothing of yours "
                f"was saved: merge their change, shown above, into your text, then save again."])
    return _editor(request, service, form, text=text, base=base, conflict=conflict, status=409 if conflict else 400)


@require_POST
def map_preview(request, slug: str):
    """The live preview of the text being written (an htmx fragment): nothing is saved."""
    service = _service(slug)
    if refused := refusal(request.user, "save_service_map", service=service):
        return forbidden(request, refused)
    form = PreviewForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else ""
    return render(request, "maps/_preview.html", {"preview": preview(text), "service": service})
