"""Services and their needs in and out of spreadsheets, as CSV files.

Two files, UTF-8 text with a header row:

- ``services.csv``: one row per service: name, slug, lifecycle stage, evolution stage,
  user type, manager email, purpose (what the service is), depends on (slugs separated
  by ``;``), adopted, contract version;
- ``needs.csv``: one row per user need: service slug, as a, i need, so that, metric keys
  (separated by ``;``).

A cell that a spreadsheet would run as a formula (one starting ``=``, ``+``, ``-`` or
``@``) is written with a leading apostrophe, and read back without it, so a file from
here never runs anything when opened, and a value survives the trip out and in.

An import reads a folder holding ``services.csv`` (and optionally ``needs.csv``), or a
single services file. Every row is checked before anything is written, and every bad
row is named by its file and row number (the header is row 1, as a spreadsheet shows
it). Then, in one transaction and through the network's own actions, each new service
is adopted at its stage with its needs, manager and dependencies; a service already in
the network is left as it is: its approved contract is never overwritten from a file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models.functions import Lower
from django.utils.text import slugify

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Errors, InvalidInput
from osom.core.models import Organisation, Person
from osom.core.policy import authorise
from osom.network import actions as network_actions
from osom.network.contract import DESCRIPTION_LABELS, clean_content
from osom.network.models import Dependency, Need, Service
from osom.network.stages import Evolution, Lifecycle, UserType

from .report import ImportReport

__all__ = ["import_catalogue", "export_catalogue", "SERVICES_FILE", "NEEDS_FILE", "SERVICE_HEADER", "NEED_HEADER",
           "neutralise", "restore"]

SERVICES_FILE = "services.csv"
NEEDS_FILE = "needs.csv"
SERVICE_HEADER = ["name", "slug", "lifecycle stage", "evolution stage", "user type", "manager email", "purpose",
                  "depends on", "adopted", "contract version"]
NEED_HEADER = ["service slug", "as a", "i need", "so that", "metric keys"]
# Larger than any catalogue a person keeps in a spreadsheet; a bigger file is a mistake.
MAX_BYTES = 10 * 1024 * 1024

# Each field with the headers that name it (compared after _normal_header).
SERVICE_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "service name", "service"),
    "slug": ("slug", "service slug"),
    "lifecycle_stage": ("lifecycle stage", "lifecycle", "stage", "phase"),
    "evolution_stage": ("evolution stage", "evolution"),
    "user_type": ("user type", "users", "user types"),
    "manager_email": ("manager email", "manager", "service manager", "service manager email", "manager e mail"),
    "purpose": ("purpose", "summary", "description", "summary/purpose", DESCRIPTION_LABELS["purpose"]),
    "benefit": ("benefit", "business benefit"),
    "usage": ("usage", DESCRIPTION_LABELS["usage"]),
    "onboarding": ("onboarding", DESCRIPTION_LABELS["onboarding"]),
    "expectations": ("expectations", DESCRIPTION_LABELS["expectations"]),
    "support": ("support", DESCRIPTION_LABELS["support"]),
    "migration_path": ("migration path", DESCRIPTION_LABELS["migration_path"]),
    "depends_on": ("depends on", "dependencies", "consumes"),
    "adopted": ("adopted",),
    "contract_version": ("contract version", "version"),
    # one need may be written on the service's own row, for a single file
    "as_a": ("as a",),
    "i_need": ("i need",),
    "so_that": ("so that",),
}
NEED_FIELDS: dict[str, tuple[str, ...]] = {
    "service": ("service slug", "service", "slug", "service name"),
    "as_a": ("as a",),
    "i_need": ("i need", "need"),
    "so_that": ("so that",),
    "metrics": ("metric keys", "metrics", "metric"),
}
# Written by an export for the reader; an import adopts every new service, at version 1.
READ_ONLY_FIELDS = {"adopted", "contract_version"}
_FIELD_WORDS = {"name": "name", "lifecycle_stage": "lifecycle stage", "evolution_stage": "evolution stage",
                "user_type": "user type", "as_a": "as a", "i_need": "i need", "so_that": "so that",
                **{f: f.replace("_", " ") for f in DESCRIPTION_LABELS}}

_FORMULA = re.compile(r"^'*[=+\-@\t\r]")
_QUOTED_FORMULA = re.compile(r"^'+[=+\-@\t\r]")


def neutralise(value) -> str:
    """A cell's text made safe to open in a spreadsheet: one that would start a formula
    gets a leading apostrophe (as does one already starting with apostrophes before such a
    character, so that :func:`restore` gives back exactly what was written)."""
    text = "" if value is None else str(value)
    return "'" + text if _FORMULA.match(text) else text


def restore(text: str) -> str:
    """The value :func:`neutralise` was given."""
    return text[1:] if _QUOTED_FORMULA.match(text) else text


def _normal_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower()).strip(" :?*")


def _aliases(fields: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_normal_header(alias): name for name, aliases in fields.items() for alias in aliases}


# ---------------------------------------------------------------- export


def _write_csv(target: Path, header: list[str], rows: list[list]) -> None:
    """Write the file beside its target and move it into place: a reader never sees half."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows([[neutralise(cell) for cell in row] for row in rows])
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def catalogue_rows() -> tuple[list[list], list[list]]:
    """The rows of ``services.csv`` and ``needs.csv``, from each service's current approved
    contract, in four queries whatever the number of services."""
    services = list(Service.objects.select_related("manager", "current_version").order_by("name", "pk"))
    current = Service.objects.exclude(current_version=None).values("current_version_id")
    depends: dict[int, list[str]] = {}
    for version_id, slug in (Dependency.objects.filter(version_id__in=current)
                             .order_by("version_id", "pk").values_list("version_id", "provider__slug")):
        depends.setdefault(version_id, []).append(slug)
    through = Need.metrics.through
    metric_keys: dict[int, list[str]] = {}
    for need_id, key in (through.objects.filter(need__version_id__in=current)
                         .order_by("need_id", "metric__position", "metric_id").values_list("need_id", "metric__key")):
        metric_keys.setdefault(need_id, []).append(key)
    needs: dict[int, list[Need]] = {}
    for need in Need.objects.filter(version_id__in=current).order_by("version_id", "position", "pk"):
        needs.setdefault(need.version_id, []).append(need)

    service_rows, need_rows = [], []
    for s in services:
        version = s.current_version
        service_rows.append([
            s.name, s.slug, s.lifecycle_stage, s.evolution_stage, s.user_type, s.manager.email if s.manager else "",
            version.purpose if version else s.summary, ";".join(depends.get(s.current_version_id, [])),
            "yes" if s.adopted else "no", version.number if version else "",
        ])
        for need in needs.get(s.current_version_id, []):
            need_rows.append([s.slug, need.as_a, need.i_need, need.so_that, ";".join(metric_keys.get(need.pk, []))])
    return service_rows, need_rows


def export_catalogue(*, path: Path) -> int:
    """Write ``services.csv`` and ``needs.csv`` into the folder ``path``; returns the number
    of files written (2). Everyone may read the whole network, so no one is asked."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    service_rows, need_rows = catalogue_rows()
    _write_csv(path / SERVICES_FILE, SERVICE_HEADER, service_rows)
    _write_csv(path / NEEDS_FILE, NEED_HEADER, need_rows)
    return 2


# ---------------------------------------------------------------- reading a file


@dataclass
class Sheet:
    """A CSV file read: which column gives which field, and its rows by row number."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)  # field → the header the file gave it
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def label(self, name: str) -> str:
        return self.headers.get(name) or _FIELD_WORDS.get(name, name.replace("_", " "))


def _read_sheet(file: Path, fields: dict[str, tuple[str, ...]], errors: Errors, report: ImportReport) -> Sheet | None:
    sheet = Sheet(file.name)
    try:
        if file.stat().st_size > MAX_BYTES:
            errors.add(sheet.name, f"{sheet.name} is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.")
            return None
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        errors.add(sheet.name, f"{sheet.name} is not UTF-8 text: save it from the spreadsheet as “CSV UTF-8”.")
        return None
    except OSError as exc:
        errors.add(sheet.name, f"{sheet.name} cannot be read: {exc.strerror or exc}.")
        return None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        errors.add(sheet.name, f"{sheet.name} is not a CSV file a spreadsheet writes: {exc}.")
        return None
    if not records or not any(cell.strip() for cell in records[0]):
        errors.add(sheet.name, f"{sheet.name} is empty: its first row must name the columns.")
        return None

    aliases = _aliases(fields)
    columns: dict[int, str] = {}
    for i, header in enumerate(records[0]):
        if not header.strip():
            continue
        name = aliases.get(_normal_header(header))
        if name is None:
            report.skip(f"{sheet.name} column “{header.strip()}”", "not a column this import knows")
        elif name in sheet.headers:
            errors.add(sheet.name, f"The columns “{sheet.headers[name]}” and “{header.strip()}” both give the "
                                   f"{_FIELD_WORDS.get(name, name.replace('_', ' '))}; keep one.")
        else:
            sheet.headers[name] = header.strip()
            columns[i] = name

    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank rows a spreadsheet leaves behind
        where = f"{sheet.name}:{number}"
        values = {name: "" for name in sheet.headers}
        for i, cell in enumerate(record):
            value = restore(cell.strip())
            if i not in columns:
                if value and i >= len(records[0]):
                    errors.add(where, f"The row has a value in column {i + 1}, which has no header.")
                continue
            if "\x00" in value:
                errors.add(where, f"{sheet.label(columns[i])}: null characters are not allowed.")
                value = value.replace("\x00", "")
            values[columns[i]] = value
        sheet.rows.append((number, values))
    return sheet


# ---------------------------------------------------------------- planning an import


@dataclass(eq=False)  # each row is itself: compared and hashed by identity
class Entry:
    """A service row of the file: a new service to adopt, or one already in the network."""

    row: int
    name: str
    refs: set[str]  # lower-cased name and slugs the other rows may name it by
    existing: Service | None = None
    decommissioned: bool = False
    stage: str = ""
    manager: Person | None = None
    sheet_slug: str = ""
    content: dict = field(default_factory=dict)
    needs: list[tuple[str, int]] = field(default_factory=list)  # where each need came from: file, row
    depends_on: list[str] = field(default_factory=list)
    providers: list[Service] = field(default_factory=list)  # already in the network
    internal: list[Entry] = field(default_factory=list)  # new services of this file


def _choice(value: str, choices) -> str:
    """A vocabulary value from its value or label, whatever the case; else as written."""
    lowered = value.strip().lower()
    for v, label in choices.choices:
        if lowered in (v, label.lower()):
            return v
    return value.strip()


def _split(value: str) -> list[str]:
    out: list[str] = []
    for part in re.split(r"[;\n]", value):
        part = part.strip()
        if part and part.lower() not in (p.lower() for p in out):
            out.append(part)
    return out


def _locate(files: Path, errors: Errors) -> tuple[Path | None, Path | None]:
    if files.is_dir():
        found = {p.name.lower(): p for p in files.iterdir() if p.is_file()}
        services = found.get(SERVICES_FILE)
        if services is None:
            errors.add("path", f"{files} holds no {SERVICES_FILE}.")
        return services, found.get(NEEDS_FILE)
    if files.is_file():
        return files, None
    errors.add("path", f"{files} is neither a folder nor a file.")
    return None, None


def _plan(services: Sheet, needs: Sheet | None, errors: Errors, report: ImportReport) -> list[Entry]:
    """Check every row; return the services of the file in row order."""
    if "name" not in services.headers:
        errors.add(services.name, f"No column of {services.name} gives the service's name (“name” or “service name”).")
        return []
    existing = list(Service.objects.only("pk", "name", "slug", "lifecycle_stage"))
    in_network: dict[str, Service] = {}
    for s in existing:
        in_network[s.slug.lower()] = s
        in_network.setdefault(s.name.lower(), s)
    emails = {v["manager_email"].lower() for _, v in services.rows if v.get("manager_email")}
    people = {p.email.lower(): p for p in Person.objects.annotate(lower_email=Lower("email")).filter(lower_email__in=emails)}

    entries: list[Entry] = []
    by_ref: dict[str, Entry] = {}
    for row, v in services.rows:
        where = f"{services.name}:{row}"
        name, slug = v.get("name", ""), v.get("slug", "")
        if not name:
            errors.add(where, f"{services.label('name')}: give the service a name.")
            continue
        refs = {name.lower()} | ({slug.lower()} if slug else set())
        if slugify(name) not in in_network:  # the slug it will most likely get, for the other rows to name it by
            refs.add(slugify(name))
        clash = next((by_ref[r] for r in sorted(refs) if r in by_ref), None)
        if clash is not None:
            errors.add(where, f"{services.label('name')}: “{name}” is the same service as row {clash.row}; "
                              f"list each service once.")
            continue
        entry = Entry(row=row, name=name, refs=refs, sheet_slug=slug)
        entries.append(entry)
        for r in refs:
            by_ref[r] = entry
        match = in_network.get(slug.lower()) if slug else None
        entry.existing = match or in_network.get(name.lower())
        if entry.existing is not None:
            entry.refs.add(entry.existing.slug.lower())
            by_ref[entry.existing.slug.lower()] = entry
            report.skip(f"{where} {name}", f"already in the network as {entry.existing.slug}; its approved contract "
                                           f"is not changed by an import")
            continue

        stage = _choice(v.get("lifecycle_stage", ""), Lifecycle)
        if stage == Lifecycle.DECOMMISSIONED:
            entry.decommissioned = True
            report.skip(f"{where} {name}", "decommissioned: only a running service is adopted")
            continue
        if stage not in network_actions.ADOPTABLE_STAGES:
            said = v.get("lifecycle_stage", "")
            errors.add(where, f"{services.label('lifecycle_stage')}: "
                              + (f"“{said}” is not a stage a running service can be adopted at: "
                                 if said else "say which stage the service is at: ")
                              + "discovery, alpha, beta or live.")
        entry.stage = stage

        email = v.get("manager_email", "")
        if email:
            person = people.get(email.lower())
            if person is None:
                errors.add(where, f"{services.label('manager_email')}: nobody has the email address {email}. An "
                                  f"import adds no people: add them first, or leave the cell empty.")
            elif not person.is_active:
                errors.add(where, f"{services.label('manager_email')}: {person} has left the organisation and "
                                  f"cannot manage a service.")
            entry.manager = person
        entry.depends_on = _split(v.get("depends_on", ""))
        entry.content = {
            "name": name,
            "user_type": _choice(v.get("user_type", ""), UserType),
            "evolution_stage": _choice(v.get("evolution_stage", ""), Evolution),
            **{f: v.get(f, "") for f in DESCRIPTION_LABELS},
            "metrics": [],
            "needs": [],
            "dependencies": [],
        }
        if any(v.get(f) for f in ("as_a", "i_need", "so_that")):
            entry.content["needs"].append({"as_a": v.get("as_a", ""), "i_need": v.get("i_need", ""),
                                           "so_that": v.get("so_that", "")})
            entry.needs.append((services.name, row))

    if needs is not None:
        _plan_needs(needs, by_ref, in_network, errors, report)

    new = [e for e in entries if e.existing is None and not e.decommissioned]
    for entry in new:
        _check_content(entry, services, needs, errors)
        _resolve_dependencies(entry, services, by_ref, in_network, errors, report)
    return entries


def _plan_needs(needs: Sheet, by_ref: dict[str, Entry], in_network: dict[str, Service], errors: Errors,
                report: ImportReport) -> None:
    missing = [f for f in ("service", "as_a", "i_need", "so_that") if f not in needs.headers]
    if missing:
        words = ", ".join(f"“{NEED_FIELDS[f][0]}”" for f in missing)
        errors.add(needs.name, f"{needs.name} has no column {words}.")
        return
    with_metrics: list[int] = []
    left_out: dict[str, list[int]] = {}  # service name → rows of its needs not imported, said once per service
    for row, v in needs.rows:
        where = f"{needs.name}:{row}"
        ref = v["service"]
        entry = by_ref.get(ref.lower()) if ref else None
        if entry is None:
            if not ref:
                errors.add(where, f"{needs.label('service')}: name the service the need is of.")
            elif ref.lower() in in_network:
                left_out.setdefault(in_network[ref.lower()].name, []).append(row)
            else:
                errors.add(where, f"{needs.label('service')}: there is no service “{ref}” in the services file.")
            continue
        if entry.existing is not None or entry.decommissioned:
            left_out.setdefault(entry.name, []).append(row)
            continue
        entry.content["needs"].append({"as_a": v["as_a"], "i_need": v["i_need"], "so_that": v["so_that"]})
        entry.needs.append((needs.name, row))
        if v.get("metrics"):
            with_metrics.append(row)
    for name, rows in left_out.items():
        report.skip(f"{needs.name} {'rows' if len(rows) > 1 else 'row'} {_rows(rows)}",
                    f"needs of {name}, which is not imported")
    if with_metrics:
        report.skip(f"{needs.name} {needs.label('metrics')} ({'rows' if len(with_metrics) > 1 else 'row'} "
                    f"{_rows(with_metrics)})",
                    "a spreadsheet names metrics but not their units or how they are measured: the needs are "
                    "imported without them; add the metrics to each contract on its page")


def _rows(numbers: list[int]) -> str:
    """Row numbers as a spreadsheet reader scans them: ``2–14, 17, 20–22``."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _check_content(entry: Entry, services: Sheet, needs: Sheet | None, errors: Errors) -> None:
    """The contract as the network's own rules judge it, its errors put back on their rows."""
    if not entry.content["needs"]:
        errors.add(f"{services.name}:{entry.row}",
                   f"{entry.name} has no user need: a contract needs at least one (a row of {NEEDS_FILE}, or the "
                   f"“as a”, “i need” and “so that” columns).")
    try:
        clean_content(entry.content, require_needs=False)
    except InvalidInput as exc:
        sheets = {services.name: services, **({needs.name: needs} if needs else {})}
        for place, messages in exc.errors.items():
            found = re.match(r"needs\[(\d+)\]\.?(\w*)", place)
            if found:
                file, row = entry.needs[int(found.group(1))]
                label = sheets[file].label(found.group(2)) if found.group(2) else "need"
            else:
                file, row, label = services.name, entry.row, services.label(place)
            for message in messages:
                errors.add(f"{file}:{row}", f"{label}: {message}")


def _resolve_dependencies(entry: Entry, services: Sheet, by_ref: dict[str, Entry], in_network: dict[str, Service],
                          errors: Errors, report: ImportReport) -> None:
    where, label = f"{services.name}:{entry.row}", services.label("depends_on")
    for ref in entry.depends_on:
        target = by_ref.get(ref.lower())
        provider = target.existing if target is not None else in_network.get(ref.lower())
        gone = (provider is not None and provider.lifecycle_stage == Lifecycle.DECOMMISSIONED) or (
            target is not None and target.decommissioned)
        if target is entry:
            errors.add(where, f"{label}: {entry.name} cannot depend on itself.")
        elif gone:
            # a consumer may keep such a link while it migrates away, but a new contract
            # may not make one (model 5.2): an export of a running network holds some
            report.skip(f"{where} {label} “{ref}”", f"decommissioned: nothing new may depend on it, so {entry.name} "
                                                    f"is adopted without this link")
        elif provider is not None:
            if provider not in entry.providers:
                entry.providers.append(provider)
        elif target is not None:
            if target not in entry.internal:
                entry.internal.append(target)
        else:
            errors.add(where, f"{label}: there is no service “{ref}” in the network or in the services file.")


# ---------------------------------------------------------------- the import


def _order(new: list[Entry]) -> tuple[list[Entry], list[tuple[Entry, Entry]]]:
    """The new services in an order where each one's providers come first, so its first
    contract names them all. Where the file's services depend on each other in a cycle,
    one link of it cannot be in a first contract: it is returned, to be added afterwards."""
    order: list[Entry] = []
    placed: set[Entry] = set()
    deferred: list[tuple[Entry, Entry]] = []
    pending = list(new)
    while pending:
        ready = [e for e in pending if all(p in placed for p in e.internal)]
        if not ready:
            consumer, provider = _link_closing_a_cycle(pending[0], placed)
            consumer.internal.remove(provider)
            deferred.append((consumer, provider))
            continue
        for e in ready:
            order.append(e)
            placed.add(e)
        pending = [e for e in pending if e not in placed]
    return order, deferred


def _link_closing_a_cycle(start: Entry, placed: set[Entry]) -> tuple[Entry, Entry]:
    """Follow providers not yet placed from ``start`` until one comes round again: the
    last link followed closes a cycle. Every service still waiting has such a provider,
    so the walk ends."""
    path: list[Entry] = []
    seen: set[Entry] = set()
    node = start
    while node not in seen:
        seen.add(node)
        path.append(node)
        node = next(p for p in node.internal if p not in placed)
    return path[-1], node


def _refuse_if_any(errors: Errors) -> None:
    """All the problems at once, each keyed by where it is (``services.csv:4``), under one
    sentence that says nothing was imported."""
    if errors:
        problems = sum(map(len, errors.by_field.values()))
        raise InvalidInput(f"Nothing was imported: the spreadsheet has {problems} problem{'s' if problems != 1 else ''} "
                           f"to correct first.", errors=errors.by_field)


def _no_progress(done: int, total: int, what: str = "") -> None:
    return None


@refuses_null_characters
def import_catalogue(*, actor: Person, path: Path, dry_run: bool = False,
                     progress: Callable[..., None] | None = None) -> ImportReport:
    """Import the services (and needs) of a spreadsheet at ``path``: a folder holding
    ``services.csv`` and optionally ``needs.csv``, or a single services file.

    All or nothing: every row is checked first, and any bad row raises InvalidInput whose
    errors are keyed ``file:row``. With ``dry_run`` the import is done and rolled back, and
    the report says what it would have done."""
    authority = authorise(actor, "import_catalogue")
    progress = progress or _no_progress
    path = Path(path)
    report = ImportReport(source=f"spreadsheet {path}", dry_run=dry_run)
    errors = Errors()
    services_file, needs_file = _locate(path, errors)
    _refuse_if_any(errors)
    services = _read_sheet(services_file, SERVICE_FIELDS, errors, report)
    needs = _read_sheet(needs_file, NEED_FIELDS, errors, report) if needs_file else None
    if services is not None:
        for name in sorted(READ_ONLY_FIELDS & set(services.headers)):
            report.skip(f"{services.name} column “{services.headers[name]}”",
                        "written by an export for reading: every new service is adopted, at contract version 1")
    _refuse_if_any(errors)
    entries = _plan(services, needs, errors, report)
    _refuse_if_any(errors)

    new = [e for e in entries if e.existing is None and not e.decommissioned]
    order, deferred = _order(new)
    total = len(order) + len(deferred)
    with transaction.atomic():
        made: dict[Entry, Service] = {}
        mapped: dict[int, str] = {}  # by row: services are adopted providers first, and reported in the file's order
        for done, entry in enumerate(order, start=1):
            content = {**entry.content, "dependencies": [{"provider": p} for p in entry.providers]
                       + [{"provider": made[p]} for p in entry.internal]}
            service = network_actions.adopt_existing_service(actor=actor, content=content,
                                                             lifecycle_stage=entry.stage, manager=entry.manager)
            made[entry] = service
            progress(done, total, service.name)
            links = len(content["dependencies"])
            mapped[entry.row] = (f"{services.name}:{entry.row} {service.name} → adopted at {entry.stage} as {service.slug}"
                       f" ({len(content['needs'])} need{'s' if len(content['needs']) != 1 else ''}"
                       + (f", manager {entry.manager.email}" if entry.manager else "")
                       + (f", depends on {', '.join(d['provider'].slug for d in content['dependencies'])}" if links else "")
                       + ")")
            report.count("services")
            report.count("needs", len(content["needs"]))
            if links:
                report.count("dependencies", links)
            if entry.manager is None:
                report.warnings.append(f"{service.name} has no manager: appoint one on its page (a manager email "
                                       f"must name someone already in the organisation; an import adds no people).")
            if entry.sheet_slug and entry.sheet_slug.lower() != service.slug:
                report.warnings.append(f"{service.name} is at {service.slug}, not {entry.sheet_slug}: a slug is made "
                                       f"from the name.")
        report.mapped.extend(mapped[row] for row in sorted(mapped))
        # the links a first contract could not hold: into a draft of the consumer's contract
        for done, (entry, target) in enumerate(deferred, start=len(order) + 1):
            result = network_actions.add_dependency(actor=actor, service=made[entry], provider=made[target])
            progress(done, total, made[entry].name)
            report.count("dependencies")
            report.warnings.append(
                f"{made[entry].name} depends on {made[target].name}, which closes a cycle"
                + (f" ({' → '.join(result.cycle)})" if result.cycle else "")
                + f": that link is in draft version {result.version.number} of {made[entry].name}'s contract, for "
                  f"its manager to submit for approval.")
        created = [made[e].slug for e in order]
        audit.record(
            actor, "import_catalogue", Organisation.current(), authority=authority,
            summary=f"Imported {len(created)} service{'s' if len(created) != 1 else ''} from a spreadsheet",
            after={"format": "csv", "files": [services.name] + ([needs.name] if needs else []),
                   "services": created, "not_mapped": len(report.not_mapped)},
        )
        if dry_run:
            transaction.set_rollback(True)
    return report
