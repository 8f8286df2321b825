"""Paging the API's lists: by an opaque cursor (keyset paging), or by offset.

A cursor holds the ordering key of the last row a page returned, and the identity of
the list it came from (the query's rows, filters and order), signed with the site's
secret so that it cannot be forged or edited. The next page is every row strictly
after that key in the list's order, so a walk by cursor returns each row exactly once
in order, even when rows are added or removed before the cursor between pages; an
offset would repeat or skip them.

The keyset condition is made from the queryset's own ``order_by``: plain fields,
fields across relations, annotations and expressions, ascending or descending, with
the primary key always last as the tie-breaker. SQLite and PostgreSQL put NULLs at
opposite ends of an order, so every key that can be NULL is ordered with its NULLs
last (unless the ordering says where they go) and compared with that in mind: the
order, and so each page, is the same on both databases.

Lists computed in Python page with :func:`page_rows`, whose cursor names the last row
by a key unique in the list.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Aggregate, Case, Count, F, Func, OrderBy, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from ninja.errors import ValidationError

__all__ = ["page_queryset", "page_rows", "PAGING_FIELDS"]

PAGING_FIELDS = {"limit", "offset", "cursor"}

_SIGNER_SALT = "osom.api.cursor"
_ALIAS = "_cursor_key_{}"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _refuse(field: str, message: str) -> ValidationError:
    """A 422 naming the query parameter at fault, like any other bad parameter."""
    return ValidationError([{"loc": ("query", field), "msg": message}])


# ---------------------------------------------------------------- the cursor's text


def _pack(value: Any) -> Any:
    """A key value as JSON that reads back as the same Python value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, Decimal):
        return ["n", str(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, (tuple, list)):
        return ["l", [_pack(v) for v in value]]
    raise TypeError(f"a list cannot be paged by cursor on a {type(value).__name__} key")


def _unpack(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)):
        raise ValueError("not a key value")
    tag, text = value
    if tag == "l" and isinstance(text, list):
        return tuple(_unpack(v) for v in text)
    if not isinstance(text, str):
        raise ValueError("not a key value")
    readers = {"t": dt.datetime.fromisoformat, "d": dt.date.fromisoformat, "n": Decimal, "f": float}
    if tag not in readers:
        raise ValueError("not a key value")
    return readers[tag](text)


def _signer() -> signing.Signer:
    # "." is not in the URL-safe base64 alphabet: the token needs no escaping in a URL
    return signing.Signer(salt=_SIGNER_SALT, sep=".")


def _write(identity: str, values: Sequence[Any]) -> str:
    return _signer().sign_object({"l": identity, "k": [_pack(v) for v in values]}, compress=True)


def _read(cursor: str, identity: str, size: int) -> list[Any]:
    """The key values a cursor holds, once it is shown to be one this site gave for this
    very list; anything else is refused naming ``cursor``."""
    try:
        payload = _signer().unsign_object(cursor.strip())
    except Exception:
        # a bad signature, or garbage that fails to decode as base64, zlib or JSON: each
        # means the same to the client
        raise _refuse("cursor", "This cursor is not one this list gave: pass back next_cursor exactly as "
                                "it was answered, or leave cursor out to start from the first page") from None
    if not isinstance(payload, dict) or payload.get("l") != identity:
        raise _refuse("cursor", "This cursor belongs to another list, or to this list with other filters: "
                                "page with the filters it was given with, or leave cursor out to start again")
    keys = payload.get("k")
    try:
        if not isinstance(keys, list) or len(keys) != size:
            raise ValueError("wrong number of keys")
        return [_unpack(k) for k in keys]
    except (ValueError, TypeError, InvalidOperation):
        raise _refuse("cursor", "This cursor is not one this list gave: leave cursor out to start again") from None


def _identity(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _filters(query: Any) -> dict[str, Any]:
    return query.model_dump(exclude=PAGING_FIELDS, mode="json")


def _start(query: Any) -> None:
    """Refuses a page asked for both by cursor and by offset: they disagree on where it starts."""
    if query.cursor is not None and "offset" in query.model_fields_set:
        raise _refuse("offset", "Give either a cursor or an offset, not both: the cursor already says where "
                                "the page starts (cursor is the better way, offset is kept for older clients)")
    if query.cursor is not None and not query.cursor.strip():
        raise _refuse("cursor", "An empty cursor: leave cursor out to start from the first page")


# ---------------------------------------------------------------- the order's keys


@dataclass
class _Key:
    expression: Any
    descending: bool
    nulls: str | None  # "first", "last", or None for a key that is never NULL

    def order(self) -> OrderBy:
        return OrderBy(self.expression, descending=self.descending,
                       nulls_first=True if self.nulls == "first" else None,
                       nulls_last=True if self.nulls == "last" else None)


def _path_nullable(qs: QuerySet, name: str) -> bool:
    if name in qs.query.annotations:
        return _nullable(qs, qs.query.annotations[name])
    model, nullable = qs.model, False
    parts = name.split("__")
    for i, part in enumerate(parts):
        try:
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:
            return True
        if i < len(parts) - 1:
            if not field.is_relation:
                return True  # a lookup or transform: assume the worst
            # a row may have no related row through a nullable or many-valued relation
            nullable = nullable or field.null or not (field.many_to_one or field.one_to_one) or field.auto_created
            model = field.related_model
        else:
            nullable = nullable or bool(getattr(field, "null", True))
    return nullable


def _nullable(qs: QuerySet, expression: Any) -> bool:
    """Whether the expression can be NULL for some row (True when it cannot be told)."""
    if isinstance(expression, F):
        return _path_nullable(qs, expression.name)
    if isinstance(expression, Value):
        return expression.value is None
    if isinstance(expression, Case):
        return any(_nullable(qs, w.result) for w in expression.cases) or _nullable(qs, expression.default)
    if isinstance(expression, Coalesce):
        return all(_nullable(qs, e) for e in expression.get_source_expressions())
    if isinstance(expression, Count):
        return False
    if isinstance(expression, Aggregate):
        return True  # e.g. the Sum of no rows
    if isinstance(expression, Func) and expression.get_source_expressions():
        return any(_nullable(qs, e) for e in expression.get_source_expressions())
    return True


def _expand(qs: QuerySet, name: str, descending: bool, seen: frozenset = frozenset()) -> list[tuple[str, bool]]:
    """An ordering by a relation is, for the database, an ordering by the related model's
    own ordering (``service`` by the service's name): the keys are those fields, reached
    through the relation, each reversed when the term is, as Django orders them."""
    model = qs.model
    try:
        for part in name.split("__"):
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
            model = field.related_model if field.is_relation else model
    except FieldDoesNotExist:
        return [(name, descending)]
    if not (field.is_relation and (field.many_to_one or field.one_to_one)) or not model._meta.ordering:
        return [(name, descending)]
    if name in seen:
        raise TypeError(f"the ordering by {name} goes round in a circle")
    expanded = []
    for term in model._meta.ordering:
        if not isinstance(term, str):
            raise TypeError(f"order by the fields of {name} by name to page the list by cursor")
        related_descending = term.startswith("-")
        inner = f"{name}__{term.lstrip('-+')}"
        expanded += _expand(qs, inner, descending != related_descending, seen | {name})
    return expanded


def _keys(qs: QuerySet) -> list[_Key]:
    """The ordering of ``qs`` as keys, the primary key last whatever the order said."""
    meta = qs.model._meta
    terms = list(qs.query.order_by) or (list(meta.ordering) if qs.query.default_ordering else [])
    keys: list[_Key] = []
    pk_names = {"pk", meta.pk.name, meta.pk.attname}
    has_pk = False
    expanded_terms: list[Any] = []
    for term in terms:
        if isinstance(term, str) and term != "?":
            expanded_terms += [OrderBy(F(name), descending=descending)
                               for name, descending in _expand(qs, term.lstrip("-+"), term.startswith("-"))]
        else:
            expanded_terms.append(term)
    for term in expanded_terms:
        explicit = None
        if isinstance(term, str):
            if term == "?":
                raise TypeError("a list in random order cannot be paged")
            descending, expression = term.startswith("-"), F(term.lstrip("-+"))
        elif isinstance(term, OrderBy):
            descending, expression = term.descending, term.expression
            explicit = "first" if term.nulls_first else "last" if term.nulls_last else None
        else:
            descending, expression = False, term
        if isinstance(expression, F) and expression.name in pk_names:
            has_pk = True
        nulls = explicit or ("last" if _nullable(qs, expression) else None)
        keys.append(_Key(expression, descending, nulls))
        if has_pk:
            break  # nothing after a unique key changes the order
    if not has_pk:
        keys.append(_Key(F("pk"), False, None))
    return keys


def _beyond(key: _Key, alias: str, value: Any) -> Q | None:
    """Rows strictly after ``value`` on this one key; None when there are none."""
    if value is None:
        # NULLs are all equal here: after a NULL come the non-NULLs only when NULLs come first
        return Q(**{f"{alias}__isnull": False}) if key.nulls == "first" else None
    after = Q(**{f"{alias}__{'lt' if key.descending else 'gt'}": value})
    return after | Q(**{f"{alias}__isnull": True}) if key.nulls == "last" else after


def _after(keys: list[_Key], values: list[Any]) -> Q:
    """The lexicographic "after the last row" condition over every key."""
    condition: Q | None = None
    for i in reversed(range(len(keys))):
        alias, value = _ALIAS.format(i), values[i]
        beyond = _beyond(keys[i], alias, value)
        if condition is not None:
            same = Q(**{f"{alias}__isnull": True}) if value is None else Q(**{alias: value})
            tied = same & condition
            condition = tied if beyond is None else beyond | tied
        else:
            condition = beyond
    # nothing at all is after the last row of the whole list: an always-false condition
    return condition if condition is not None else Q(pk__in=[])


# ---------------------------------------------------------------- the pages


def page_queryset(qs: QuerySet, query: Any) -> dict[str, Any]:
    """A page of ``qs`` (``query.limit`` rows after ``query.cursor``, or from
    ``query.offset``), the number of rows it holds, and the cursor of the next page
    (None on the last). Two queries, whatever the size of the list."""
    _start(query)
    keys = _keys(qs)
    aliases = [_ALIAS.format(i) for i in range(len(keys))]
    ordered = qs.annotate(**{a: k.expression for a, k in zip(aliases, keys)}).order_by(*[k.order() for k in keys])
    try:
        sql, params = ordered.query.sql_with_params()
    except Exception:  # a query that can match nothing compiles to no SQL; its filters still say which list
        sql, params = "", ()
    # A day or time in the SQL is today's (what is overdue, what is stale): the list stays
    # the same list after midnight, its rows moved as if some were added or removed. A day
    # the client asked for is in its filters, which are part of the identity.
    # SQLite is given days and times as text, so those are known by their ISO form.
    fixed = [p for p in params if not (isinstance(p, (dt.date, dt.time)) or isinstance(p, str) and _ISO_DAY.match(p))]
    identity = _identity(qs.model._meta.label, sql, fixed, _filters(query))
    if query.cursor is not None:
        rows = list(ordered.filter(_after(keys, _read(query.cursor, identity, len(keys))))[: query.limit + 1])
    else:
        rows = list(ordered[query.offset : query.offset + query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    next_cursor = _write(identity, [getattr(rows[-1], a) for a in aliases]) if more else None
    return {"items": rows, "count": qs.count(), "next_cursor": next_cursor}


def page_rows(rows: Sequence[Any], query: Any, *, key: Callable[[Any], Any], scope: str) -> dict[str, Any]:
    """A page of a list computed in Python, in its own order. ``key`` names a row
    uniquely in the list (e.g. its slug or id); ``scope`` says which list this is (e.g.
    ``"timeline:12"``), so a cursor of one list is refused on another."""
    _start(query)
    identity = _identity(scope, _filters(query))
    start = query.offset
    if query.cursor is not None:
        (last,) = _read(query.cursor, identity, 1)
        packed = _pack(last)
        found = next((i for i, row in enumerate(rows) if _pack(key(row)) == packed), None)
        if found is None:
            raise _refuse("cursor", "The row this cursor follows is no longer in the list: leave cursor out "
                                    "to start again from the first page")
        start = found + 1
    end = start + query.limit
    on_page = list(rows[start:end])
    next_cursor = _write(identity, [key(on_page[-1])]) if on_page and end < len(rows) else None
    return {"items": on_page, "count": len(rows), "next_cursor": next_cursor}
