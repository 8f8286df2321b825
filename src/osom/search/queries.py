"""Searching the index, with the same words matched and the same order on SQLite and
PostgreSQL.

A query is cut into words exactly as documents are (``search.text``); every word must
begin a word of the document's title or body (prefix match, AND). The user's text never
reaches FTS5's or tsquery's syntax: only the extracted words do, each quoted, and they
hold nothing but letters and digits.

The order is computed from columns alike on both databases, never from bm25 or
ts_rank (which score differently): documents whose title holds every word first, then
services, needs, guidance and Corrections of Error, then by title, then by id.
"""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import BooleanField, Case, Expression, F, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Collate, Concat

from .models import SearchDocument
from .text import MAX_QUERY_WORDS, words

__all__ = ["Matches", "query_words", "search", "service_ids"]


def query_words(q: str) -> list[str]:
    """The distinct words of a query, in the order typed (at most MAX_QUERY_WORDS)."""
    seen: list[str] = []
    for w in words(q or ""):
        if w not in seen:
            seen.append(w)
    return seen[:MAX_QUERY_WORDS]


def _fts5(found: list[str]) -> str:
    # each word a quoted string with the prefix operator: "abc"* AND "de"*
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in found)


def _tsquery(found: list[str]) -> str:
    # read by tsquery's input function as they are: 'abc':* & 'de':*
    return " & ".join("'" + w.replace("'", "''").replace("\\", "\\\\") + "':*" for w in found)


class Matches(Expression):
    """True for the rows holding every word as a prefix, from a full-text index of them:
    by default the search documents', else the FTS5 table ``fts`` on SQLite (whose rowid
    is the row's id) and the tsvector column ``vector`` on PostgreSQL."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, found: list[str], *, fts: str = "search_fts", vector: str = "search_vector"):
        super().__init__()
        self.found = list(found)
        self.fts, self.vector = fts, vector
        self.id = F("id")

    def get_source_expressions(self):
        return [self.id]

    def set_source_expressions(self, exprs):
        (self.id,) = exprs

    def as_sql(self, compiler, connection):
        id_sql, id_params = compiler.compile(self.id)
        if connection.vendor == "sqlite":
            return (f"{id_sql} IN (SELECT rowid FROM {self.fts} WHERE {self.fts} MATCH %s)",
                    [*id_params, _fts5(self.found)])
        if connection.vendor == "postgresql":
            table = compiler.quote_name_unless_alias(self.id.alias)
            return f"{table}.{self.vector} @@ %s::tsquery", [_tsquery(self.found)]
        raise NotSupportedError("Search needs SQLite or PostgreSQL.")


def _bytewise(field: str, connection_vendor: str):
    # the same order on both: code-point order (SQLite's BINARY is PostgreSQL's "C")
    return Collate(F(field), "C" if connection_vendor == "postgresql" else "BINARY")


def search(q: str, *, kinds: list[str] | None = None) -> QuerySet[SearchDocument]:
    """Documents matching every word of ``q``, in the order described above, with their
    service loaded. An empty query, or one with no letters or digits, finds nothing."""
    from django.db import connection

    found = query_words(q)
    if not found:
        return SearchDocument.objects.none()
    qs = SearchDocument.objects.filter(Matches(found))
    if kinds:
        qs = qs.filter(kind__in=kinds)
    in_title = Q()
    for w in found:
        in_title &= Q(padded_title__contains=" " + w)
    return (
        qs.select_related("service")
        .annotate(padded_title=Concat(Value(" "), "title_terms", output_field=TextField()))
        .annotate(title_hit=Case(When(in_title, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("title_hit", "kind_order", _bytewise("title_terms", connection.vendor), "id")
    )


def service_ids(q: str) -> QuerySet:
    """The ids of the services whose name, slug or summary hold every word of ``q``
    (as a subquery, for filtering a list of services)."""
    found = query_words(q)
    if not found:
        return SearchDocument.objects.none().values("object_id")
    return SearchDocument.objects.filter(Matches(found), kind="service").values("object_id")
