"""``osom import DIR``: a whole organisation, written by ``osom export DIR``, loaded into an
empty database.

Everything is read and checked before anything is written: every file present and
readable, every value of its column's type, every reference naming a record that the
folder holds, nothing twice where it must be unique. Each problem is reported with its
file and line; if there is any, nothing is written. The load itself is one transaction
and one audit event, so an import that fails or is stopped half-way leaves nothing.

What keeps a large import quick (docs/benchmarks.md, "Moving a whole organisation"): a
file laid out as the export writes it is read column by column, each distinct value of a
column read once (any other file is read record by record, which is what names a
problem's line); the tables' secondary indexes, and on PostgreSQL their foreign keys, are
dropped for the load and made again from the database's own definitions, in the same
transaction; and the rows go to PostgreSQL by COPY.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from pathlib import Path

import yaml
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, UNUSABLE_PASSWORD_SUFFIX_LENGTH
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import InvalidInput
from osom.core.gcpause import cycle_collection_paused
from osom.core.models import Organisation, Person
from osom.core.policy import Authority

from .report import ImportReport
from . import yamltext
from .yamltext import fast_load
from .whole import FORMAT, LEFT_OUT_FIELDS, MANIFEST, BadValue, Column, Table, reader, tables

__all__ = ["import_organisation", "read_organisation"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_REPORTED = 200
INSERT_BATCH = 5000
READ_CHUNK = 50_000  # CSV rows read at a time


@dataclass
class Problems:
    found: list[str] = field(default_factory=list)
    total: int = 0

    def add(self, where: str, text: str) -> None:
        self.total += 1
        if len(self.found) < MAX_REPORTED:
            self.found.append(f"{where}: {text}")

    def raise_if_any(self) -> None:
        if not self.total:
            return
        more = self.total - len(self.found)
        lines = self.found + ([f"… and {more} more"] if more else [])
        noun = "problem" if self.total == 1 else "problems"
        raise InvalidInput(f"The organisation was not imported: {self.total} {noun} found, and nothing was written.",
                           field="path", errors={"path": lines})


@dataclass
class Loaded:
    """One table's records, read and checked: each a tuple of values in the order of the
    table's plain columns (``at`` gives an attname's place), and the line it starts on."""

    table: Table
    at: dict[str, int] = field(default_factory=dict)
    records: list[tuple] = field(default_factory=list)
    lines: list[int] | range = field(default_factory=list)
    links: dict[str, list[list]] = field(default_factory=dict)  # many-column name → per-record targets
    names: set[str] = field(default_factory=set)  # every column's name
    pairs: list | None = None  # (name, reader) of each plain column
    text_lines: list[str] | None = None  # the file's lines, read again only to name a problem's line
    root: Path | None = None
    damaged: bool = False  # a problem was found in the file: references into it are not checked


# ---- reading -------------------------------------------------------------------------


_ITEM = re.compile(r"^- ")
_KEY = re.compile(r"^(?:- |  )([A-Za-z_][A-Za-z0-9_]*):")


def _yaml_items(text: str, where: str, problems: Problems):
    """The records of a YAML file and the line each starts on."""
    quick = fast_load(text)
    if quick is not None:
        return quick[0], quick[1], text.split("\n")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problems.add(f"{where}{line}", f"this is not YAML that can be read ({getattr(exc, 'problem', None) or exc})")
        return [], [], []
    if data is None:
        data = []
    if not isinstance(data, list):
        problems.add(f"{where}:1", "give a list of records, each starting with “- ”")
        return [], [], []
    lines = text.split("\n")
    starts = [n + 1 for n, line in enumerate(lines) if _ITEM.match(line)]
    if len(starts) != len(data):
        # written by hand in another layout: find each item through the parser's marks
        node = yaml.compose(text, Loader=_Loader)
        starts = [item.start_mark.line + 1 for item in node.value] if isinstance(node, yaml.SequenceNode) else [1] * len(data)
    return data, starts, lines


def _key_line(lines: list[str], start: int, end: int, key: str) -> int:
    for n in range(start - 1, min(end, len(lines))):
        found = _KEY.match(lines[n])
        if found and found.group(1) == key:
            return n + 1
    return start


def _read_table(root: Path, table: Table, problems: Problems) -> Loaded:
    loaded = Loaded(table, at={c.attname: n for n, c in enumerate(c for c in table.columns if not c.many)}, root=root,
                    names={c.name for c in table.columns})
    target = root / table.path
    if not target.is_file():
        problems.add(table.path, "this file is missing (an export always writes it, even when it holds nothing)")
        return loaded
    plain = [c for c in table.columns if not c.many]
    many = [c for c in table.columns if c.many]
    readers = {c.name: reader(c, from_csv=table.csv) for c in plain}
    if table.csv and _read_csv_by_columns(loaded, target, plain, readers):
        return loaded
    try:
        text = target.read_bytes().decode("utf-8")  # as written: no line endings translated
    except UnicodeDecodeError as exc:
        problems.add(table.path, f"this file is not UTF-8 text (byte {exc.start})")
        return loaded
    except OSError as exc:
        problems.add(table.path, f"cannot be read: {exc.strerror}")
        return loaded
    loaded.pairs = [(c.name, readers[c.name]) for c in plain]
    for column in many:
        loaded.links[column.name] = []
    if not table.csv and _read_yaml_by_columns(loaded, text, plain, many, readers):
        return loaded
    if table.csv:
        rows = csv.reader(io.StringIO(text, newline=""))
        try:
            header = next(rows, None)
        except csv.Error as exc:
            problems.add(f"{table.path}:1", f"this is not CSV that can be read ({exc})")
            return loaded
        if header is None:
            problems.add(f"{table.path}:1", "the header row is missing")
            return loaded
        known = {c.name for c in table.columns}
        unknown = [name for name in header if name not in known]
        for name in unknown:
            problems.add(f"{table.path}:1", f"“{name}” is not a column of {table.model._meta.verbose_name_plural}")
        if len(set(header)) != len(header):
            problems.add(f"{table.path}:1", "a column is named twice")
        if unknown or len(set(header)) != len(header):
            return loaded
        in_order = header == [c.name for c in plain] and not many
        readers_in_order = [readers[name] for name in header] if in_order else []
        try:
            line = 2
            for row in rows:
                if in_order and len(row) == len(header):
                    # the usual row, its columns in the table's order: read in one pass
                    try:
                        loaded.records.append(tuple([read(value) for read, value in zip(readers_in_order, row)]))
                    except BadValue:
                        pass
                    else:
                        loaded.lines.append(line)
                        line = rows.line_num + 1
                        continue
                if len(row) != len(header):
                    problems.add(f"{table.path}:{line}", f"give {len(header)} values, one for each column")
                else:
                    _read_record(loaded, table, dict(zip(header, row)), line, plain, many, readers, problems, None)
                line = rows.line_num + 1
        except csv.Error as exc:
            problems.add(f"{table.path}:{rows.line_num}", f"this is not CSV that can be read ({exc})")
        return loaded
    data, starts, lines = _yaml_items(text, table.path, problems)
    for index, raw in enumerate(data):
        line = starts[index]
        end = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
        if not isinstance(raw, dict):
            problems.add(f"{table.path}:{line}", "give a record: a mapping of names to values")
            continue
        _read_record(loaded, table, raw, line, plain, many, readers, problems, (lines, line, end))
    return loaded


def _after(first, then):
    return lambda value: then(first(value))


class _ColumnReader:
    """``read`` applied to a column's values, a list of them at a time. While the values
    repeat, each distinct one is read once and the records share what was read (only
    where it is never changed: ``shared``); where most are new, each is read."""

    def __init__(self, read, shared: bool = True):
        self.read = read
        self.known: dict | None = {} if shared else None

    def __call__(self, raws) -> list:
        if self.known is None:
            return list(map(self.read, raws))
        fresh = set(raws).difference(self.known)
        if len(fresh) * 2 > len(raws):
            self.known = None  # mostly new values: reading each is quicker
            return list(map(self.read, raws))
        read = self.read
        self.known.update({raw: read(raw) for raw in fresh})
        return list(map(self.known.__getitem__, raws))


def _column_readers(plain: list[Column], readers, first=None) -> list[_ColumnReader]:
    return [_ColumnReader(readers[c.name] if first is None else _after(first, readers[c.name]),
                          shared=not isinstance(c.field, models.JSONField)) for c in plain]


# The usual file, as the export writes it, is read column by column: each distinct text in a
# column read once, and the records made from the columns. Either function gives True when
# every record was read so, and False, with nothing kept, at anything unusual or wrong: the
# file is then read record by record, which names each problem with its line.


def _read_csv_by_columns(loaded: Loaded, target: Path, plain: list[Column], readers) -> bool:
    if any(c.many for c in loaded.table.columns):
        return False
    columns = _column_readers(plain, readers)
    records: list[tuple] = []
    try:
        # read as it streams from the file (the record-by-record reading reads the text
        # whole): only the values are kept, a chunk of rows at a time
        with open(target, encoding="utf-8", newline="") as file:
            rows = csv.reader(file)
            if next(rows, None) != [c.name for c in plain]:
                return False
            while chunk := list(islice(rows, READ_CHUNK)):
                if set(map(len, chunk)) != {len(plain)}:
                    return False
                records += zip(*[read(raws) for read, raws in zip(columns, zip(*chunk))])
            if rows.line_num != len(records) + 1:
                return False  # a value over several lines: the lines are counted record by record
    except (BadValue, csv.Error, UnicodeDecodeError, OSError):
        return False
    loaded.records, loaded.lines = records, range(2, len(records) + 2)
    return True


def _read_yaml_by_columns(loaded: Loaded, text: str, plain: list[Column], many: list[Column], readers) -> bool:
    found = yamltext.columns(text, [c.name for c in plain] + [c.name for c in many])
    if found is None:
        return False
    raw_columns, starts = found
    try:
        values = [read(raws) for read, raws in zip(_column_readers(plain, readers, yamltext.value),
                                                   raw_columns)]
        targets = [list(map(yamltext.value, raws)) for raws in raw_columns[len(plain):]]
    except (BadValue, yamltext.Unusual):
        return False
    for lists in targets:
        if not all(isinstance(v, list) and all(isinstance(x, (int, str)) and not isinstance(x, bool) for x in v)
                   for v in lists):
            return False
    loaded.records, loaded.lines = list(zip(*values)), starts
    for column, lists in zip(many, targets):
        loaded.links[column.name] = lists
    return True


def _read_record(loaded: Loaded, table: Table, raw: dict, line: int, plain: list[Column], many: list[Column],
                 readers, problems: Problems, span) -> None:
    def where(key: str) -> str:
        at = _key_line(span[0], span[1], span[2], key) if span else line
        return f"{table.path}:{at}"

    names = loaded.names
    if raw.keys() == names and loaded.pairs is not None:
        # the usual record, every field present and right: read in one pass
        try:
            values = tuple([read(raw[name]) for name, read in loaded.pairs])
        except BadValue:
            pass
        else:
            if not many:
                loaded.records.append(values)
                loaded.lines.append(line)
                return
    values = []
    ok = True
    if raw.keys() != names:
        for key in raw:
            if key not in names:
                problems.add(where(str(key)), f"“{key}” is not a field of a {table.model._meta.verbose_name}")
                ok = False
    for column in plain:
        name = column.name
        if name in raw:
            try:
                values.append(readers[name](raw[name]))
            except BadValue as exc:
                problems.add(where(name), f"{name}: {exc}")
                ok = False
        elif column.field.primary_key:
            problems.add(f"{table.path}:{line}", "id: every record keeps its id")
            ok = False
        elif column.field.has_default():
            values.append(column.field.get_default())
        elif column.field.null:
            values.append(None)
        elif column.field.blank and isinstance(column.field, (models.CharField, models.TextField)):
            values.append("")
        else:
            problems.add(f"{table.path}:{line}", f"{name}: a value is needed")
            ok = False
    targets = []
    for column in many:
        value = raw.get(column.name, [])
        if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, (int, str)) for v in value):
            problems.add(where(column.name), f"{column.name}: give a list of {column.target._meta.verbose_name_plural}")
            ok = False
            value = []
        targets.append(value)
    if not ok:
        return
    loaded.records.append(tuple(values))
    loaded.lines.append(line)
    for column, value in zip(many, targets):
        loaded.links[column.name].append(value)


def _where(loaded: Loaded, index: int, key: str) -> str:
    start = loaded.lines[index]
    if loaded.table.csv or loaded.root is None:
        return f"{loaded.table.path}:{start}"
    if loaded.text_lines is None:
        loaded.text_lines = (loaded.root / loaded.table.path).read_bytes().decode("utf-8").split("\n")
    end = loaded.lines[index + 1] - 1 if index + 1 < len(loaded.lines) else len(loaded.text_lines)
    line = _key_line(loaded.text_lines, start, end, key)
    return f"{loaded.table.path}:{line}"


def _check(everything: dict[str, Loaded], problems: Problems) -> dict[str, dict]:
    """References resolve and unique values are unique; returns, per natural-keyed
    table, its key → id."""
    ids: dict[str, set] = {}
    naturals: dict[str, dict] = {}
    for label, loaded in everything.items():
        pk = itemgetter(loaded.at["id"])
        ids[label] = set(map(pk, loaded.records))
        key = loaded.table.natural_key
        if key:
            naturals[label] = dict(zip(map(itemgetter(loaded.at[key]), loaded.records), map(pk, loaded.records)))
    for label, loaded in everything.items():
        table = loaded.table
        # one value where the model wants one
        groups: list[tuple[str, ...]] = [("id",)]
        groups += [(f.attname,) for f in table.model._meta.concrete_fields if f.unique and not f.primary_key]
        for together in table.model._meta.unique_together:
            groups.append(tuple(table.model._meta.get_field(n).attname for n in together))
        for constraint in table.model._meta.constraints:
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields and constraint.condition is None:
                groups.append(tuple(table.model._meta.get_field(n).attname for n in constraint.fields))
        for group in groups:
            places = [loaded.at[a] for a in group]
            values = list(map(itemgetter(*places), loaded.records))
            if group == ("email",):
                values = [v.lower() if isinstance(v, str) else v for v in values]
            if len(set(values)) == len(values):
                continue  # all different: the usual case, found at once
            seen: dict[tuple, int] = {}
            for index, value in enumerate(values):
                value = value if len(places) > 1 else (value,)
                if any(v is None for v in value):
                    continue
                if value in seen:
                    names = ", ".join(a.removesuffix("_id") for a in group)
                    problems.add(_where(loaded, index, group[0].removesuffix("_id")),
                                 f"{names}: the same as the record on line {loaded.lines[seen[value]]}")
                else:
                    seen[value] = index
        # every reference names a record the folder holds
        for column in table.columns:
            if column.target is None:
                continue
            target = column.target._meta.label_lower
            if target not in everything or everything[target].damaged:
                continue
            known = naturals[target] if column.key != "pk" else ids[target]
            noun = column.target._meta.verbose_name
            if column.many:
                for index, values in enumerate(loaded.links[column.name]):
                    for value in values:
                        if value not in known:
                            problems.add(_where(loaded, index, column.name),
                                         f"{column.name}: there is no {noun} {value!r} in {everything[target].table.path}")
                continue
            place = loaded.at[column.attname]
            named = set(map(itemgetter(place), loaded.records))
            named.discard(None)
            if all(map(known.__contains__, named)):
                continue  # every one known: the usual case, found at once
            for index, record in enumerate(loaded.records):
                value = record[place]
                if value is not None and value not in known:
                    problems.add(_where(loaded, index, column.name),
                                 f"{column.name}: there is no {noun} {value!r} in {everything[target].table.path}")
    return naturals


def read_organisation(root: Path, progress=None) -> tuple[dict[str, Loaded], dict[str, dict]]:
    """Read and check every file under ``root``; raise InvalidInput naming each problem."""
    problems = Problems()
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise InvalidInput(f"{root} holds no {MANIFEST}: it is not an organisation written by `osom export DIR`.",
                           field="path")
    try:
        manifest = yaml.load(manifest_path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    except (yaml.YAMLError, UnicodeDecodeError):
        raise InvalidInput(f"{MANIFEST} cannot be read as YAML.", field="path") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise InvalidInput(f"{MANIFEST}: this reads format {FORMAT} of the organisation's files, not {found!r}.",
                           field="path")
    everything: dict[str, Loaded] = {}
    every = tables()
    for done, table in enumerate(every, start=1):
        before = problems.total
        everything[table.label] = _read_table(root, table, problems)
        everything[table.label].damaged = problems.total > before
        if progress:
            progress(done, len(every), f"reading {table.path}")
    naturals = _check(everything, problems)
    problems.raise_if_any()
    return everything, naturals


# ---- writing -------------------------------------------------------------------------


_AS_IS = (models.AutoField, models.IntegerField, models.CharField, models.TextField, models.BooleanField)


def _preparer(column: Column, naturals: dict[str, dict]):
    """How one column's value goes to the database, chosen once per table."""
    if column.target is not None:
        if column.key == "pk":
            return None
        names = naturals[column.target._meta.label_lower]
        return lambda value: None if value is None else names[value]
    if isinstance(column.field, _AS_IS + (models.DecimalField,)):
        return None  # decimals were made exact to their places when read
    sqlite = connection.vendor == "sqlite"
    if isinstance(column.field, models.DateTimeField):
        # read as UTC; SQLite keeps UTC as text without its offset, as Django writes it
        return (lambda value: None if value is None else str(value.replace(tzinfo=None))) if sqlite else None
    if isinstance(column.field, models.DateField):
        return (lambda value: None if value is None else value.isoformat()) if sqlite else None
    prep = column.field.get_db_prep_save
    return lambda value: prep(value, connection)


def _insert(loaded: Loaded, naturals: dict[str, dict], progress=None) -> None:
    table = loaded.table
    plain = [c for c in table.columns if not c.many]
    preps = [_preparer(c, naturals) for c in plain]
    fields = [c.field for c in plain]
    fills = []
    if table.label == "core.person":
        # passwords are never exported: each is set anew (osom manage changepassword EMAIL);
        # until then it is unusable, written as Django writes one (a mark, then random text)
        fields.append(table.model._meta.get_field("password"))
        fills.append(_unusable_password)
    for name in sorted(LEFT_OUT_FIELDS.get(table.label, ())):
        # what is worked out again after loading starts as its default
        left_out = table.model._meta.get_field(name)
        if left_out.concrete and not left_out.many_to_many and left_out.has_default():
            fields.append(left_out)
            fills.append(left_out.get_default)
    records = loaded.records
    if all(p is None for p in preps) and not fills:
        rows = records
    else:
        # column by column, each distinct value prepared once (values equal as Python
        # compares them are written alike: names, dates, times all in UTC); the others as they are
        columns = []
        for place, (column, prep) in enumerate(zip(plain, preps)):
            values = map(itemgetter(place), records)
            if prep is not None:
                values = _ColumnReader(prep, shared=not isinstance(column.field, models.JSONField))(list(values))
            columns.append(values)
        for make in fills:
            columns.append([make() for _ in records])
        rows = zip(*columns)
    pk = loaded.at["id"]
    with connection.cursor() as cursor:
        _write_rows(cursor, table.model._meta.db_table, [f.column for f in fields], rows)
        for column in (c for c in table.columns if c.many):
            through = column.field.remote_field.through
            resolve = naturals.get(column.target._meta.label_lower) if column.key != "pk" else None
            links = ([record[pk], resolve[value] if resolve is not None else value]
                     for record, values in zip(loaded.records, loaded.links[column.name])
                     for value in sorted(set(values), key=str))
            _write_rows(cursor, through._meta.db_table,
                        [column.field.m2m_column_name(), column.field.m2m_reverse_name()], links)


def _unusable_password() -> str:
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(UNUSABLE_PASSWORD_SUFFIX_LENGTH // 2)


def _write_rows(cursor, db_table: str, columns: list[str], rows) -> None:
    """Append ``rows`` (each a sequence of values in the order of ``columns``) to a table:
    by COPY on PostgreSQL, which parses and writes rows in bulk, and by a prepared INSERT
    run over batches elsewhere."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    if connection.vendor == "postgresql":
        # the driver's own cursor, outside Django's wrapper: its errors made Django's here
        with connection.wrap_database_errors, cursor.copy(f"COPY {quote(db_table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {quote(db_table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    rows = iter(rows)
    while batch := list(islice(rows, INSERT_BATCH)):
        cursor.executemany(sql, batch)


# ---- what is held back while the load writes ------------------------------------------


def _held_back(db_tables: list[str]) -> list[tuple[str, str]]:
    """What the load takes off these tables while it writes and puts back afterwards, read
    from the database's own catalogue: each as (the statement removing it, the statement
    making it again), to be removed in this order and made again in the reverse one.

    On both databases, the indexes that no constraint stands on (primary keys and unique
    fields keep theirs). On PostgreSQL, also the tables' foreign keys: a key added to a
    full table is checked by one query, where one in place is checked row by row (on
    SQLite, checking them is held back instead; see :func:`_foreign_keys_checked_at_the_end`)."""
    if not db_tables:
        return []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({', '.join(['%s'] * len(db_tables))}) ORDER BY tbl_name, name", db_tables)
            return [(f"DROP INDEX {quote(name)}", sql) for name, sql in cursor.fetchall()]
        if connection.vendor != "postgresql":
            return []
        cursor.execute(
            "SELECT k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class t ON t.oid = k.conrelid "
            "WHERE k.contype = 'f' AND t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace "
            "ORDER BY t.relname, k.conname", [db_tables])
        keys = [(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}",
                 f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
                for table, name, definition in cursor.fetchall()]
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class t ON t.oid = i.indrelid "
            "WHERE t.relname = ANY(%s) AND t.relnamespace = current_schema()::regnamespace "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY t.relname, 1", [db_tables])
        return keys + [(f"DROP INDEX {name}", definition) for name, definition in cursor.fetchall()]


def _settle_checks() -> None:
    """On PostgreSQL, the checks of foreign keys still to be made for rows written or
    deleted earlier in the transaction (a test's), made now: it changes no table that has
    some pending."""
    if connection.vendor == "postgresql":
        connection.check_constraints()


@contextmanager
def _foreign_keys_checked_at_the_end():
    """On SQLite, the foreign keys not checked row by row while the load writes: the load
    checks them all before it commits (see :func:`_load`), so what is committed is checked
    the same. Checked row by row, and with the tables' indexes dropped for the load, each
    contract version written would look through every service for one naming it, as
    long as the services name versions not yet written. SQLite turns the checks off only
    outside a transaction; inside one (a test's), they stay on, and the load is slower."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.constraint_checks_disabled():
        yield


@refuses_null_characters
def import_organisation(*, actor: Person | None = None, path: Path, dry_run: bool = False,
                        progress=None) -> ImportReport:
    """Load a whole organisation into an empty database: no person and no service yet
    (what the database's creation puts in, such as the doctrine's patterns, is replaced
    by the folder's). Being empty, the database has nobody to ask: the load is done in
    the installation's own right, like the first person of a new organisation."""
    path = Path(path)
    report = ImportReport(source=str(path), dry_run=dry_run)
    if Person.objects.exists() or Person.objects.model._meta.apps.get_model("network", "Service").objects.exists():
        people = Person.objects.count()
        raise InvalidInput(f"An organisation loads only into an empty database, and this one already holds "
                           f"{people} {'person' if people == 1 else 'people'} and its services. "
                           "Create a new database (OSOM_DATA_DIR or OSOM_DATABASE_URL) and import into it.",
                           field="database")
    # millions of records, none in a reference cycle: the collector would only walk them
    # again and again (two fifths of the time spent reading and checking)
    with cycle_collection_paused():
        everything, naturals = read_organisation(path, progress)
        for label, loaded in everything.items():
            if loaded.records:
                report.count(loaded.table.path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " "),
                             len(loaded.records))
        if dry_run:
            return report
        every = list(everything.values())
        try:
            _load(every, naturals, path, progress)
        except DatabaseError as exc:
            # a rule only the database checks (a constraint across columns): nothing was written
            raise InvalidInput(f"The database refused the records, and nothing was written: {exc}".strip(),
                               field="path") from None
    return report


def _load(every: list[Loaded], naturals: dict[str, dict], path: Path, progress) -> None:
    filled = []
    for loaded in every:
        if loaded.records:
            filled.append(loaded.table.model._meta.db_table)
            filled += [c.field.remote_field.through._meta.db_table for c in loaded.table.columns
                       if c.many and any(loaded.links[c.name])]
    with _foreign_keys_checked_at_the_end(), transaction.atomic():
        # Rows go in faster into tables without their secondary indexes, and an index made
        # once over all the rows is smaller and made faster than one grown row by row. They
        # are dropped and made again inside the transaction, from the database's own
        # definitions: an import that fails leaves them as they were, and one that succeeds
        # leaves exactly the same ones.
        held_back = _held_back(filled)
        _settle_checks()
        with connection.cursor() as cursor:
            for remove, _ in held_back:
                cursor.execute(remove)
        for loaded in reversed(every):  # what creating the database put in
            loaded.table.model._base_manager.all()._raw_delete(connection.alias)
        _settle_checks()
        for done, loaded in enumerate(every, start=1):
            _insert(loaded, naturals)
            if progress:
                progress(done, len(every), f"writing {loaded.table.path}")
        with connection.cursor() as cursor:
            for done, (_, make) in enumerate(reversed(held_back), start=1):
                cursor.execute(make)
                if progress:
                    progress(done, len(held_back), "making the indexes again")
        # every reference was checked when read; the database checks them too before
        # anything is committed (on SQLite its checks were held back during the load)
        connection.check_constraints()
        if connection.vendor == "postgresql":
            statements = connection.ops.sequence_reset_sql(no_style(), [t.table.model for t in every])
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        _rebuild_derived()
        organisation = Organisation.current()
        totals = Counter({loaded.table.label: len(loaded.records) for loaded in every})
        audit.record(
            None, "import_organisation", organisation, authority=Authority("system"),
            summary=f"Loaded the organisation from {path.name}: {totals['core.person']} people, "
                    f"{totals['network.service']} services, {sum(totals.values())} records in all",
            after={"files": {loaded.table.path: len(loaded.records) for loaded in every if loaded.records}},
        )


def _rebuild_derived() -> None:
    """What is kept beside the records and made from them: each metric series' copy of its
    contract metric and status (an export made before the series carried them brings
    none), the day each assessment is listed by (the file's days are not trusted), the
    search index, and the database planner's statistics."""
    from osom.core.dbstats import refresh_statistics
    from osom.fitness.series import sync_all
    from osom.lifecycle.models import Assessment
    from osom.search.index import rebuild

    sync_all()
    Assessment.relist_all()
    rebuild()
    refresh_statistics()

