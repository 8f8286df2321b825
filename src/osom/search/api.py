"""``GET /search``: the search page's results for programs."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from osom.api.schemas import READ_ERRORS, NextCursor, PageQuery, ServiceRef, WholeNumber, page

from .models import Kind, SearchDocument
from .queries import search
from .views import address

__all__ = ["router"]

router = Router(tags=["search"])

# written inline in the schema, as the other lists' choices are: a component named Kind would collide
KindName = Literal[tuple(Kind.values)]  # type: ignore[valid-type]


class SearchFilters(PageQuery):
    q: str = Field("", max_length=200, description=(
        "Words to find. Every word must begin a word of the title or text; capitals and accents do not "
        "matter; only letters and digits count. No words: no results"))
    kind: list[KindName] = Field(default_factory=list, description="Only these kinds (repeat the parameter for several)")


class SearchHit(Schema):
    kind: KindName
    id: WholeNumber = Field(description="The id of the service, need, guidance or Correction of Error")
    title: str
    excerpt: str
    service: ServiceRef | None = Field(description="The service it belongs to; null for guidance")
    url: str = Field(description="Its page in the web app")
    title_match: bool = Field(description="Whether every word is in the title (these come first)")


class SearchPage(Schema):
    items: list[SearchHit]
    count: WholeNumber
    next_cursor: NextCursor


def _hit(document: SearchDocument) -> dict[str, Any]:
    return {"kind": document.kind, "id": document.object_id, "title": document.title, "excerpt": document.excerpt,
            "service": document.service, "url": address(document), "title_match": document.title_hit == 0}


@router.get("/search", response={200: SearchPage, **READ_ERRORS})
def search_everything(request: HttpRequest, filters: Query[SearchFilters]):
    """Services, the needs of their current contracts, published guidance and published
    Corrections of Error holding every word of ``q``: title matches first, then
    services, needs, guidance and Corrections of Error, then by title."""
    result = page(search(filters.q, kinds=list(filters.kind) or None), filters)
    return {**result, "items": [_hit(d) for d in result["items"]]}
