"""``osom import DIR``: a whole organisation, written by ``osom export DIR``, loaded into an
empty database.

Everything is read and checked before anything is written: every file present and
readable, every value of its column's type, every reference naming a record that the
folder holds, nothing twice where it must be unique. Each problem is reported with its
file and line; if there is any, nothing is written. The load itself is one transaction
and one audit event, so an import that fails or is stopped half-way leaves nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import InvalidInput
from osom.core.models import Organisation, Person
from osom.core.policy import Authority

from .report import ImportReport
from .yamltext import fast_load
from .whole import FORMAT, MANIFEST, BadValue, Column, Table, reader, tables

__all__ = ["import_organisation", "read_organisation"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_REPORTED = 200
INSERT_BATCH = 5000


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
    lines: list[int] = field(default_factory=list)
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
    try:
        text = target.read_bytes().decode("utf-8")  # as written: no line endings translated
    except UnicodeDecodeError as exc:
        problems.add(table.path, f"this file is not UTF-8 text (byte {exc.start})")
        return loaded
    except OSError as exc:
        problems.add(table.path, f"cannot be read: {exc.strerror}")
        return loaded
    plain = [c for c in table.columns if not c.many]
    many = [c for c in table.columns if c.many]
    readers = {c.name: reader(c, from_csv=table.csv) for c in plain}
    loaded.pairs = [(c.name, readers[c.name]) for c in plain]
    for column in many:
        loaded.links[column.name] = []
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
        pk = loaded.at["id"]
        ids[label] = {r[pk] for r in loaded.records}
        key = loaded.table.natural_key
        if key:
            naturals[label] = {r[loaded.at[key]]: r[pk] for r in loaded.records}
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
            seen: dict[tuple, int] = {}
            places = [loaded.at[a] for a in group]
            for index, record in enumerate(loaded.records):
                value = tuple(record[p] for p in places)
                if any(v is None for v in value):
                    continue
                if isinstance(value[0], str) and len(group) == 1 and group[0] == "email":
                    value = (value[0].lower(),)
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
        # passwords are never exported: each is set anew (osom manage changepassword EMAIL)
        from django.contrib.auth.hashers import make_password

        fields.append(table.model._meta.get_field("password"))
        fills.append(lambda: make_password(None))
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    sql = f"INSERT INTO {quote(table.model._meta.db_table)} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
    simple = all(p is None for p in preps) and not fills
    pk = loaded.at["id"]
    with connection.cursor() as cursor:
        for start in range(0, len(loaded.records), INSERT_BATCH):
            batch = loaded.records[start:start + INSERT_BATCH]
            if simple:
                params = batch
            else:
                params = [[v if p is None else p(v) for p, v in zip(preps, record)] + [make() for make in fills]
                          for record in batch]
            cursor.executemany(sql, params)
        for column in (c for c in table.columns if c.many):
            through = column.field.remote_field.through
            source = column.field.m2m_column_name()
            target = column.field.m2m_reverse_name()
            resolve = naturals.get(column.target._meta.label_lower) if column.key != "pk" else None
            rows = []
            for record, values in zip(loaded.records, loaded.links[column.name]):
                for value in sorted(set(values), key=str):
                    rows.append([record[pk], resolve[value] if resolve is not None else value])
            if rows:
                cursor.executemany(
                    f"INSERT INTO {quote(through._meta.db_table)} ({quote(source)}, {quote(target)}) VALUES (%s, %s)",
                    rows)


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
    everything, naturals = read_organisation(path, progress)
    for label, loaded in everything.items():
        if loaded.records:
            report.count(loaded.table.path.rsplit("/", 1)[-1].rsplit(".", 1)[0].replace("-", " "), len(loaded.records))
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
    with transaction.atomic():
        for loaded in reversed(every):  # what creating the database put in
            loaded.table.model._base_manager.all()._raw_delete(connection.alias)
        for done, loaded in enumerate(every, start=1):
            _insert(loaded, naturals)
            if progress:
                progress(done, len(every), f"writing {loaded.table.path}")
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
    """What is kept beside the records and made from them: the search index."""
    try:
        from osom.search.index import rebuild
    except ImportError:
        return
    rebuild()

