"""Contracts as code: each service's contract as a YAML file, kept where its team keeps code.

One file per service, ``<slug>.yaml``, holding the contract's content in the shape of
:mod:`osom.network.contract`, plus ``service: <slug>`` (which service it is) and
``version`` (the approved version it was exported from; read, never written back). The
file is described by a JSON Schema (draft 2020-12), :func:`contract_schema`, published as
``contract_schema.json`` beside this module, in ``docs/contract-schema.json`` and at
``/schema/contract.json``.

- :func:`export_catalogue` writes every running service's approved contract, always the
  same bytes for the same contract (fixed key order, block style, UTF-8), so a folder
  committed to git shows a change as a small diff.
- :func:`sync_contracts` makes contract *drafts* match a folder. Every file is checked
  first, against the schema and then the contract rules, and every problem is keyed
  ``file.yaml:LINE``; if any is wrong nothing is written. Then, in one transaction and
  through the network's own actions as the acting person, each file whose content
  differs from the approved contract opens a draft, or rewrites the open one while it is
  still a draft. A sync never submits and never approves: that stays a person's act on
  the platform.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import Prefetch
from jsonschema import Draft202012Validator

from osom.core.actions import null_character_at, refuses_null_characters
from osom.core.errors import InvalidInput, NotAllowed
from osom.network import actions as network_actions
from osom.network import queries
from osom.network.contract import DESCRIPTION_LABELS, clean_content, read_content
from osom.network.models import ContractVersion, Dependency, Need, Service
from osom.network.stages import Direction, Evolution, Lifecycle, MetricKind, UserType, VersionStatus

from .report import ImportReport

__all__ = ["contract_schema", "schema_text", "SCHEMA_FILE", "dump_contract", "load_file", "export_catalogue",
           "sync_contracts", "read_contents", "MAX_BYTES"]

SCHEMA_FILE = Path(__file__).with_name("contract_schema.json")
# A contract is a few pages of prose; a file this large is a mistake, not a contract.
MAX_BYTES = 1024 * 1024
SLUG_PATTERN = r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$"
KEY_PATTERN = r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$"

# The order keys are written in: the drafting steps' order, read top to bottom.
TOP_KEYS = ["service", "version", "name", "user_type", "evolution_stage", *DESCRIPTION_LABELS, "metrics", "needs",
            "dependencies"]
METRIC_KEYS = ["key", "name", "unit", "direction", "target", "kind", "how_measured", "is_proxy"]
NEED_KEYS = ["key", "as_a", "i_need", "so_that", "metrics"]
DEPENDENCY_KEYS = ["provider", "note"]


# ---------------------------------------------------------------- the schema


def contract_schema() -> dict:
    """The JSON Schema of a contract file. The vocabularies come from the model, so the
    published file changes when they do (a test checks it is up to date)."""

    def text(description: str, *, max_length: int | None = None, required: bool = False) -> dict:
        spec: dict = {"type": "string" if required else ["string", "null"], "description": description}
        if required:
            spec["minLength"] = 1
        if max_length:
            spec["maxLength"] = max_length
        return spec

    key = {"type": "string", "pattern": KEY_PATTERN, "maxLength": 80,
           "description": "A stable name, unique in this contract: lower-case letters, digits and hyphens. "
                          "Made from the name when left out."}
    metric = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "unit"],
        "properties": {
            "key": key,
            "name": text("What is measured.", max_length=200, required=True),
            "unit": text("The unit it is measured in: %, ms, £, count…", max_length=40, required=True),
            "direction": {"enum": list(Direction.values), "description": "Which way is better (higher when left out)."},
            "target": {"type": ["number", "null"],
                       "description": "The target, only where one applies; a metric is not a target."},
            "kind": {"enum": list(MetricKind.values), "description": "outcome (when left out), cost or consumption."},
            "how_measured": text("How the figure is measured."),
            "is_proxy": {"type": "boolean", "description": "A proxy standing in for a direct metric."},
        },
    }
    need = {
        "type": "object",
        "additionalProperties": False,
        "required": ["as_a", "i_need", "so_that"],
        "properties": {
            "key": key,
            "as_a": text("As a … (who has the need).", max_length=300, required=True),
            "i_need": text("I need … (the activity or thing).", required=True),
            "so_that": text("so that … (the outcome).", required=True),
            "metrics": {"type": "array", "items": {"type": "string", "minLength": 1}, "uniqueItems": True,
                        "description": "Keys (or names) of this contract's metrics that show the outcome is met."},
        },
    }
    dependency = {
        "type": "object",
        "additionalProperties": False,
        "required": ["provider"],
        "properties": {
            "provider": {"type": "string", "pattern": SLUG_PATTERN, "description": "The slug of the service consumed."},
            "note": text("What it is consumed for.", max_length=300),
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "OSOM service contract",
        "description": "One service's contract, as written by `osom export --to contracts` and read by "
                       "`osom import --sync`. The description fields are Markdown.",
        "type": "object",
        "additionalProperties": False,
        "required": ["service", "name", "user_type", "evolution_stage", "purpose", "needs"],
        "properties": {
            "service": {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 160,
                        "description": "The slug of the service this contract belongs to."},
            "version": {"type": "integer", "minimum": 1, "readOnly": True,
                        "description": "The approved version the file was exported from; never written back."},
            "name": text("The service's name.", max_length=150, required=True),
            "user_type": {"enum": list(UserType.values), "description": "Who its users are."},
            "evolution_stage": {"enum": list(Evolution.values), "description": "Its evolution stage as a whole."},
            **{field: text(label + ".", required=field == "purpose") for field, label in DESCRIPTION_LABELS.items()},
            "metrics": {"type": "array", "items": metric},
            "needs": {"type": "array", "items": need, "minItems": 1},
            "dependencies": {"type": "array", "items": dependency},
        },
    }


def schema_text() -> str:
    """The schema as the published file holds it."""
    return json.dumps(contract_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- writing a file


class _Dumper(yaml.SafeDumper):
    """Block style with lists indented under their key, which reads (and diffs) best."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _represent_str(dumper, value: str):
    # prose over several lines stays as the person wrote it, one line per line
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


def _represent_decimal(dumper, value: Decimal):
    if value == value.to_integral_value():
        return dumper.represent_scalar("tag:yaml.org,2002:int", str(int(value)))
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value.normalize(), "f"))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Decimal, _represent_decimal)


def _ordered(item: dict, keys: list[str]) -> dict:
    return {k: item[k] for k in keys if k in item}


def dump_contract(slug: str, version: int, content: dict) -> str:
    """A contract's YAML text: ``content`` as :func:`osom.network.contract.read_content`
    gives it (providers by slug)."""
    data = {"service": slug, "version": version, **content}
    data["metrics"] = [_ordered(m, METRIC_KEYS) for m in content["metrics"]]
    data["needs"] = [_ordered({**n, "metrics": list(n["metrics"])}, NEED_KEYS) for n in content["needs"]]
    data["dependencies"] = [_ordered(d, DEPENDENCY_KEYS) for d in content["dependencies"]]
    head = (f"# The contract of {content['name']}, exported from approved version {version}.\n"
            "# Edit it, then `osom import --sync DIR` opens a draft from it; the schema is /schema/contract.json.\n")
    return head + yaml.dump(_ordered(data, TOP_KEYS), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                            allow_unicode=True, width=4096)


def read_contents(version_ids) -> dict[int, dict]:
    """The content of many versions, by id, in the shape of
    :func:`osom.network.contract.read_content`, in five queries whatever their number."""
    versions = ContractVersion.objects.filter(pk__in=list(version_ids)).prefetch_related(
        "metrics",
        Prefetch("needs", queryset=Need.objects.prefetch_related("metrics")),
        Prefetch("dependencies", queryset=Dependency.objects.select_related("provider")),
    )
    out = {}
    for v in versions:
        out[v.pk] = {
            "name": v.name,
            "user_type": v.user_type,
            "evolution_stage": v.evolution_stage,
            **{f: getattr(v, f) for f in DESCRIPTION_LABELS},
            "metrics": [{k: getattr(m, k) for k in METRIC_KEYS} for m in v.metrics.all()],
            "needs": [{"key": n.key, "as_a": n.as_a, "i_need": n.i_need, "so_that": n.so_that,
                       "metrics": [m.key for m in n.metrics.all()]} for n in v.needs.all()],
            "dependencies": [{"provider": d.provider.slug, "note": d.note} for d in v.dependencies.all()],
        }
    return out


def export_catalogue(*, path: Path) -> int:
    """Write ``<slug>.yaml`` for every running service into the folder ``path``; returns the
    number of files written. Everyone may read the whole network, so no one is asked."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    services = list(Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
                    .filter(current_version__isnull=False).select_related("current_version").order_by("slug"))
    contents = read_contents(s.current_version_id for s in services)
    written = 0
    for service in services:
        text = dump_contract(service.slug, service.current_version.number, contents[service.current_version_id])
        (path / f"{service.slug}.yaml").write_text(text, encoding="utf-8", newline="\n")
        written += 1
    return written


# ---------------------------------------------------------------- reading a file


class _Loader(yaml.SafeLoader):
    """Reads a number with a fraction as a Decimal, digit for digit, never a float."""


def _construct_decimal(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        # .inf and .nan: left as YAML reads them; the contract rules refuse them
        return yaml.SafeLoader.construct_yaml_float(loader, node)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def _line(node) -> int:
    return node.start_mark.line + 1


def _check_nodes(node, name: str, errors: dict[str, list[str]]) -> None:
    """Refuse anchors and aliases (a small file could stand for a huge one) and a key
    given twice in one mapping (YAML would keep the last one silently: after a merge,
    that hides a change)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            _add(errors, f"{name}:{_line(current)}", "Anchors and aliases (& and *) are not allowed: write the value out.")
            return
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set = set()
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in keys:
                        _add(errors, f"{name}:{_line(key)}", f"“{key.value}” is given twice.")
                    keys.add(key.value)
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _add(errors: dict[str, list[str]], where: str, message: str) -> None:
    errors.setdefault(where, []).append(message)


def _node_at(root, path) -> yaml.Node:
    """The deepest node along ``path`` (keys and list indexes) that the file has."""
    node = root
    for step in path:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            found = node.value[step]
        else:
            found = None
        if found is None:
            break
        node = found
    return node


_FIELD_STEP = re.compile(r"([A-Za-z_]+)|\[(\d+)\]")


def _field_path(field: str) -> list:
    """``needs[2].so_that`` → ``["needs", 2, "so_that"]``."""
    return [name if name else int(index) for name, index in _FIELD_STEP.findall(field)]


def _dotted(path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def load_file(file: Path, errors: dict[str, list[str]]) -> tuple[dict | None, yaml.Node | None]:
    """Read and schema-check one contract file; problems go into ``errors`` keyed
    ``file.yaml:LINE``. Returns the data and its node tree (None, None when unreadable)."""
    name = file.name
    try:
        if file.stat().st_size > MAX_BYTES:
            _add(errors, f"{name}:1", f"The file is larger than {MAX_BYTES // 1024} KB; a contract is not that long.")
            return None, None
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        _add(errors, f"{name}:1", "The file is not UTF-8 text.")
        return None, None
    except OSError as exc:
        _add(errors, f"{name}:1", f"The file cannot be read: {exc.strerror or exc}.")
        return None, None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            _add(errors, f"{name}:1", "The file is empty.")
            return None, None
        before = len(errors)
        _check_nodes(node, name, errors)
        if len(errors) > before:
            return None, None
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        _add(errors, f"{name}:{mark.line + 1 if mark else 1}", f"This is not valid YAML: {problem}.")
        return None, None
    finally:
        loader.dispose()
    validator = Draft202012Validator(contract_schema())
    problems = sorted(validator.iter_errors(data), key=lambda e: (_line(_node_at(node, e.absolute_path)), list(map(str, e.absolute_path))))
    for problem in problems:
        where = _dotted(problem.absolute_path)
        _add(errors, f"{name}:{_line(_node_at(node, problem.absolute_path))}",
             f"{where}: {problem.message}" if where else problem.message)
    if problems:
        return None, None
    return data, node


# ---------------------------------------------------------------- comparing


def _comparable(content: dict) -> dict:
    """Content reduced to what a version stores: providers by slug, targets at the four
    places the database keeps, and the order of things a version does not keep."""
    out = {k: content[k] for k in ("name", "user_type", "evolution_stage", *DESCRIPTION_LABELS)}
    out["metrics"] = [
        {**m, "target": None if m["target"] is None else Decimal(m["target"]).quantize(Decimal("0.0001"))}
        for m in content["metrics"]
    ]
    out["needs"] = [{**n, "metrics": sorted(n["metrics"])} for n in content["needs"]]
    out["dependencies"] = sorted(
        (getattr(d["provider"], "slug", d["provider"]), d["note"]) for d in content["dependencies"]
    )
    return out


# ---------------------------------------------------------------- the sync


def _no_progress(done: int, total: int, what: str = "") -> None:
    return None


def _content_of(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("service", "version")}


@refuses_null_characters
def sync_contracts(*, actor, path: Path, dry_run: bool = False,
                   progress: Callable[..., None] | None = None) -> ImportReport:
    """Make contract drafts match the YAML files in the folder ``path`` (or one file).

    Raises InvalidInput keyed ``file.yaml:LINE`` when any file is wrong, and NotAllowed
    when the actor may not draft one of the contracts; either way nothing is written.
    With ``dry_run`` the sync is done and rolled back."""
    progress = progress or _no_progress
    path = Path(path)
    report = ImportReport(source=f"contracts {path}", dry_run=dry_run)
    errors: dict[str, list[str]] = {}
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
        if not files:
            raise InvalidInput(f"{path} holds no contract files (<service>.yaml).", field="path")
    elif path.is_file():
        files = [path]
    else:
        raise InvalidInput(f"{path} does not exist.", field="path")

    loaded = []
    for file in files:
        data, node = load_file(file, errors)
        if data is not None:
            loaded.append((file, data, node))
    slugs = {data["service"] for _, data, _ in loaded}
    services = {s.slug: s for s in Service.objects.filter(slug__in=slugs).select_related("current_version")}

    plan = []  # (file, service, cleaned content)
    claimed: dict[str, str] = {}
    for file, data, node in loaded:
        slug = data["service"]
        service_line = _line(_node_at(node, ["service"]))
        if slug in claimed:
            _add(errors, f"{file.name}:{service_line}", f"{claimed[slug]} is already the contract of “{slug}”.")
            continue
        claimed[slug] = file.name
        service = services.get(slug)
        if service is None:
            report.skip(file.name, f"there is no service “{slug}”; a sync never creates one (establish or adopt it)")
            continue
        if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
            report.skip(file.name, f"{service.name} is decommissioned; its contract no longer changes")
            continue
        null_at = null_character_at(_content_of(data))
        if null_at is not None:
            _add(errors, f"{file.name}:{_line(_node_at(node, _field_path(null_at)))}",
                 f"{null_at}: holds a null character, which no text may hold.")
            continue
        try:
            cleaned = clean_content(_content_of(data), service=service)
        except InvalidInput as exc:
            for field, messages in exc.errors.items():
                where = f"{file.name}:{_line(_node_at(node, _field_path(field)))}"
                for message in messages:
                    _add(errors, where, f"{field}: {message}")
            continue
        if file.stem != slug:
            report.warnings.append(f"{file.name} holds the contract of {slug}; name it {slug}.yaml.")
        exported = data.get("version")
        if exported is not None and service.current_version and exported != service.current_version.number:
            report.warnings.append(
                f"{file.name} was exported from version {exported}, and {service.name}'s approved contract is now "
                f"version {service.current_version.number}: check the file keeps what changed since.")
        plan.append((file, service, cleaned))
    if errors:
        count = sum(map(len, errors.values()))
        raise InvalidInput(f"{count} problem{'s' if count != 1 else ''} in the contract files; nothing was synchronised.",
                           errors=errors)

    approved = read_contents(service.current_version_id for _, service, _ in plan)
    with transaction.atomic():
        for done, (file, service, cleaned) in enumerate(plan, start=1):
            progress(done, len(plan), service.name)
            wanted = _comparable(cleaned)
            current = service.current_version
            draft = queries.open_draft(service)
            if current is not None and _comparable(approved[current.pk]) == wanted:
                # an open draft is someone's work in progress: a file that changes nothing leaves it be
                kept = f" (open {draft.get_status_display().lower()} version {draft.number} left as it is)" if draft else ""
                report.map(f"{file.name}: unchanged, equal to approved version {current.number} of {service.name}{kept}")
                continue
            note = f"Synchronised from {file.name}"
            try:
                if draft is not None and draft.status == VersionStatus.SUBMITTED:
                    report.skip(file.name, f"version {draft.number} of {service.name} is submitted for approval; "
                                           f"a sync changes only drafts (approve or return it first)")
                    continue
                if draft is not None and _comparable(read_content(draft)) == wanted:
                    report.map(f"{file.name}: unchanged, equal to open draft version {draft.number} of {service.name}")
                    continue
                if draft is None:
                    draft = network_actions.draft_contract_version(actor=actor, service=service, change_note=note)
                    verb = "opened"
                    report.count("drafts opened")
                else:
                    verb = "rewritten"
                    report.count("drafts rewritten")
                network_actions.edit_contract_draft(actor=actor, version=draft, content=cleaned, change_note=note)
            except NotAllowed as exc:
                raise NotAllowed(f"{file.name}: {exc.message.rstrip('.')}. Nothing was synchronised.",
                                 field=file.name) from exc
            report.map(f"{file.name}: draft version {draft.number} of {service.name} {verb}")
        if dry_run:
            transaction.set_rollback(True)
    return report
