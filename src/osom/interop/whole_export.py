"""``osom export DIR``: the whole organisation written as files (see :mod:`.whole`).

Reading is done a table at a time, in id order and in batches, so memory stays flat
however large the organisation. Writing the same organisation twice gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import yaml
from django.db import connection, transaction

from .whole import FORMAT, LEFT_OUT, LEFT_OUT_APPS, MANIFEST, Column, Table, csv_writer, tables, writer
from .yamltext import record

__all__ = ["export_organisation"]

BATCH = 2000

def _keys(table: Table) -> dict[str, dict[int, str]]:
    """For each natural-keyed model a column refers to: id → key, read once."""
    wanted = {c.target for c in table.columns if c.target is not None and c.key != "pk"}
    return {model._meta.label_lower: _natural(model) for model in wanted}


_natural_cache: dict[str, dict[int, str]] = {}


def _natural(model) -> dict[int, str]:
    from .whole import NATURAL_KEYS

    label = model._meta.label_lower
    if label not in _natural_cache:
        _natural_cache[label] = dict(model._default_manager.values_list("pk", NATURAL_KEYS[label]).iterator())
    return _natural_cache[label]


def _rows(table: Table):
    """Each record as a list of values in column order, ids in order, batch by batch."""
    plain = [c for c in table.columns if not c.many]
    many = [c for c in table.columns if c.many]
    keys = _keys(table)
    manager = table.model._default_manager
    attnames = [c.attname for c in plain]
    mappers = [keys[c.target._meta.label_lower] if c.target is not None and c.key != "pk" else None for c in plain]
    last = None
    while True:
        qs = manager.order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        batch = list(qs.values_list(*attnames)[:BATCH])
        if not batch:
            return
        last = batch[-1][0]
        linked: dict[str, dict[int, list]] = {}
        for column in many:
            through = column.field.remote_field.through
            source = column.field.m2m_field_name()
            target = column.field.m2m_reverse_field_name()
            found: dict[int, list] = defaultdict(list)
            for owner, other in through.objects.filter(**{f"{source}__in": [r[0] for r in batch]}).values_list(
                    f"{source}_id", f"{target}_id"):
                found[owner].append(other)
            linked[column.name] = found
        for raw in batch:
            values = [value if names is None or value is None else names[value] for names, value in zip(mappers, raw)]
            for column in many:
                ids = linked[column.name].get(raw[0], [])
                if column.key != "pk":
                    named = _natural(column.target)
                    values.append(sorted(named[i] for i in ids))
                else:
                    values.append(sorted(ids))
            yield values


def _ordered_columns(table: Table) -> list[Column]:
    return [c for c in table.columns if not c.many] + [c for c in table.columns if c.many]


def _write_yaml(table: Table, out: io.TextIOBase) -> int:
    columns = _ordered_columns(table)
    names = [c.name for c in columns]
    writers = [(lambda v: v) if c.many else writer(c) for c in columns]
    count = 0
    out.write(f"# {table.model._meta.verbose_name_plural}: one record per item, in the order of their ids\n")
    for values in _rows(table):
        out.write(record(zip(names, [w(v) for w, v in zip(writers, values)])))
        count += 1
    if not count:
        out.write("[]\n")
    return count


def _write_csv(table: Table, out: io.TextIOBase) -> int:
    columns = _ordered_columns(table)
    writers = [csv_writer(c) for c in columns]
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow([c.name for c in columns])
    count = 0
    for values in _rows(table):
        rows.writerow([w(v) for w, v in zip(writers, values)])
        count += 1
    return count


@contextmanager
def _snapshot():
    """Every table read as of one moment, without holding up those writing meanwhile:
    on PostgreSQL a read-only repeatable-read transaction; on SQLite a deferred read
    transaction, which sees one snapshot of the write-ahead log and takes no write lock."""
    if connection.in_atomic_block:  # the caller's transaction already gives one view
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            cursor.execute("ROLLBACK")


def export_organisation(*, path: Path, progress=None) -> dict[str, int]:
    """Write every table's file under ``path`` and a manifest; returns the count per file.
    Read in one transaction, so the files agree with one another."""
    _natural_cache.clear()
    counts: dict[str, int] = {}
    every = tables()
    with _snapshot():
        for done, table in enumerate(every, start=1):
            target = path / table.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="") as out:
                counts[table.path] = (_write_csv if table.csv else _write_yaml)(table, out)
            if progress:
                progress(done, len(every), table.path)
    manifest = {
        "format": FORMAT,
        "files": counts,
        "left_out": {**{k: v for k, v in LEFT_OUT.items()}, **{f"{k}.*": v for k, v in LEFT_OUT_APPS.items()}},
    }
    with open(path / MANIFEST, "w", encoding="utf-8", newline="") as out:
        out.write("# An OSOM organisation: load it into an empty database with `osom import DIR`.\n")
        out.write(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100))
    _natural_cache.clear()
    return counts
