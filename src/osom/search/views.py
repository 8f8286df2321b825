"""The search page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse

from .models import Kind, SearchDocument
from .queries import query_words, search

__all__ = ["search_page", "address", "PER_PAGE"]

PER_PAGE = 25
MAX_QUERY = 200

_ROUTES = {
    Kind.SERVICE: "network:service",
    Kind.NEED: "network:service",
    Kind.GUIDANCE: "governance:guidance",
    Kind.COE: "learning:coe",
}


def address(document: SearchDocument) -> str:
    """The page a result links to (a need's is its service's page)."""
    key = document.key if document.kind in (Kind.SERVICE, Kind.NEED) else int(document.key)
    return reverse(_ROUTES[document.kind], args=[key])


def search_page(request):
    """Services, needs, guidance and Corrections of Error matching the words typed, 25 a page."""
    q = (request.GET.get("q") or "").replace("\x00", "").strip()[:MAX_QUERY]
    page = Paginator(search(q), PER_PAGE).get_page(request.GET.get("page"))
    results = [{"doc": d, "url": address(d), "kind": d.get_kind_display()} for d in page.object_list]
    context = {"nav": "search", "q": q, "searched": bool(q), "has_words": bool(query_words(q)),
               "page": page, "results": results}
    return render(request, "search/page.html", context)
