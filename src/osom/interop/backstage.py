"""Backstage catalogue descriptors, in and out.

Import (``osom import --from backstage PATH``) reads ``catalog-info.yaml`` and every other
YAML file under PATH, several documents to a file, following ``Location`` entities whose
targets are relative files. What each kind becomes:

- **Component** and **Resource**: a service, adopted at the stage it is really at (model
  4). A Component's ``spec.lifecycle`` gives the stage: experimental → alpha, production →
  live, deprecated → live and flagged for decommissioning (the service's flag, which asks
  the executive to consider the assessment that alone decommissions; the annotation
  ``osom/decommission-reason``, which the export writes, gives the reason). A Resource has
  no lifecycle in Backstage and is running: live. The annotation ``osom/lifecycle-stage``
  (which the export writes) overrides both with the exact stage.
- **API**: not a service, a link: each Component that consumes an API depends on each
  Component that provides it.
- **User**: a person, known by ``spec.profile.email`` (none: not brought in), created
  without a usable password: they set one when they first sign in.
- **Group**: where owners come from. A service owned by a User is managed by that person;
  owned by a Group, by the group's first member who is a person, and the Group's other
  members brought in as people join its team, as the service is adopted with the team it
  already has. A member's role and level in the professional framework come from their
  User's annotations ``osom/role`` (a role's name) and ``osom/level`` (trainee … head),
  else from the import's ``team_role`` and ``team_level`` (``--team-role``,
  ``--team-level``); the level is practitioner when neither gives one. A member with no
  role either way, or who has left the organisation, joins no team, and the report says so.
- **System** and **Domain**: groupings OSOM has no place for; the report says what they
  grouped.

Only files inside the folder being imported are read (PATH, or the folder of the file PATH
names): a Location target, a glob's match or a symbolic link that leads out of it is left
out, and the report says so. YAML anchors and aliases are refused, as are files over
``MAX_FILE_BYTES`` and catalogues of more than ``MAX_FILES`` files.

Everything is read and checked before anything is written; every problem names its file
and line. The writes go through the network's and the organisation's own actions, so each
is checked and audited, in one transaction with one more audit event for the import as a
whole: a failure anywhere writes nothing.

Export (``osom export --to backstage DIR``) writes one file per service under
``components/``, the people in ``users.yaml``, and a ``catalog-info.yaml`` whose Location
lists them all, the file to register in Backstage. A service flagged for decommissioning
is deprecated, with its reason annotated; a person in exactly one team has their role and
level there annotated. Importing an export into an empty organisation gives back the same
services, stages, flags, managers and dependencies.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower

from osom.core import actions as core_actions
from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import DomainError, InvalidInput, NotAllowed
from osom.core.models import Organisation, Person
from osom.core.policy import authorise
from osom.network import actions as network_actions
from osom.network.contract import clean_content
from osom.network.models import Dependency, ProfessionalRole, Service, TeamMembership
from osom.network.stages import LEVELS, Evolution, Lifecycle, UserType

from .report import ImportReport

__all__ = ["import_catalogue", "export_catalogue", "STAGE_ANNOTATION", "EVOLUTION_ANNOTATION", "USERS_ANNOTATION",
           "FLAG_ANNOTATION", "ROLE_ANNOTATION", "LEVEL_ANNOTATION", "DEFAULT_LEVEL", "LIFECYCLE_TO_STAGE",
           "STAGE_TO_LIFECYCLE", "FLAGGED_REASON"]

# Annotation keys: the prefix names the model, not any organisation's domain.
STAGE_ANNOTATION = "osom/lifecycle-stage"
EVOLUTION_ANNOTATION = "osom/evolution-stage"
USERS_ANNOTATION = "osom/user-type"
FLAG_ANNOTATION = "osom/decommission-reason"  # why a deprecated component is flagged
ROLE_ANNOTATION = "osom/role"  # on a User: their role in the professional framework
LEVEL_ANNOTATION = "osom/level"  # on a User: their level in that role
DEFAULT_LEVEL = "practitioner"

LIFECYCLE_TO_STAGE = {"experimental": Lifecycle.ALPHA, "production": Lifecycle.LIVE, "deprecated": Lifecycle.LIVE}
STAGE_TO_LIFECYCLE = {
    Lifecycle.DISCOVERY: "experimental", Lifecycle.ALPHA: "experimental",
    Lifecycle.BETA: "production", Lifecycle.LIVE: "production",
    Lifecycle.DECOMMISSIONED: "deprecated",
}
ADOPTABLE = (Lifecycle.DISCOVERY, Lifecycle.ALPHA, Lifecycle.BETA, Lifecycle.LIVE)

FLAGGED_REASON = ("The Backstage catalogue it came from marks it deprecated. Only an assessment decommissions a "
                  "service; this flag asks the executive to consider one.")

KINDS = ("component", "system", "api", "resource", "domain", "group", "user", "location")
SERVICE_KINDS = ("component", "resource")

# Backstage's own rule for names and namespaces: letters, digits and -_. between
# letters or digits, at most 63 characters.
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")

Progress = Callable[..., None]


# --- reading YAML with its line numbers ------------------------------------------------------

class _Map(dict):
    """A YAML mapping that remembers the line of each of its keys."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: dict = {}


class _Seq(list):
    """A YAML sequence that remembers the line of each of its items."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: list[int] = []


# What one import reads at most: a catalogue is small text, and a file or a folder far
# larger than any real one is refused rather than read into memory.
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 10_000


class _Refused(yaml.MarkedYAMLError):
    """YAML that is valid but not read: its message is said as it is."""


class _Loader(yaml.SafeLoader):
    """Safe YAML, with the lines kept: every error must say where it is.

    Anchors and aliases (``&name``, ``*name``, and the ``<<`` merges built on them) are
    refused before anything is constructed: Backstage descriptors do not need them, and a
    few nested aliases make a file of a kilobyte expand into gigabytes."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            what = f"the alias *{event.anchor}" if isinstance(event, yaml.AliasEvent) else f"the anchor &{event.anchor}"
            raise _Refused(None, None, f"YAML anchors and aliases are not read, and this is {what}: write the value "
                                       "out in full (a Backstage descriptor does not need them).", event.start_mark)
        return super().compose_node(parent, index)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map(node.start_mark.line + 1)
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(None, None, "a key must be plain text", key_node.start_mark)
        key = loader.construct_object(key_node, deep=True)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(node.start_mark.line + 1)
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


_SCALARS = (str, int, float, bool, datetime.date)  # datetime.datetime is a date


class _NotText(ValueError):
    """A value read as text that is a mapping or a list."""


def _text(value, field: str = "") -> str:
    """A scalar as text ("" for nothing). Anything else (a mapping, a list) is refused
    rather than turned into text: it is not what the field holds."""
    if value is None:
        return ""
    if not isinstance(value, _SCALARS):
        raise _NotText(_not_text_message(field, value) if field else "Text was expected, not a mapping or a list.")
    return str(value).strip()


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"{n / 1024:g} KB" if n >= 1024 else f"{n} bytes"


# The fields the import reads as text, as paths into an entity ("*": every item of a list
# or every value of a mapping). Each is checked when the entity is read, so that a value
# that is not text is an error at its own line, naming the field.
_TEXT_FIELDS = (
    ("metadata", "name"), ("metadata", "namespace"), ("metadata", "title"), ("metadata", "description"),
    ("metadata", "annotations", "*"), ("metadata", "links", "*", "url"), ("metadata", "links", "*", "title"),
    ("spec", "type"), ("spec", "lifecycle"), ("spec", "owner"), ("spec", "system"), ("spec", "domain"),
    ("spec", "target"), ("spec", "targets", "*"),
    ("spec", "profile", "email"), ("spec", "profile", "displayName"),
)


def _not_text_message(field: str, value) -> str:
    what = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else "a value of another kind"
    return f"The field {field} is text, such as a name or a sentence, not {what}."


def _not_text(node, line: int, path: tuple, done: tuple = ()):
    """(field, line, value) of each value under ``path`` that is neither a scalar nor absent."""
    if not path:
        if node is not None and not isinstance(node, _SCALARS):
            yield ".".join(done), line, node
        return
    key, rest = path[0], path[1:]
    if isinstance(node, _Map):
        keys = list(node) if key == "*" else [key] if key in node else []
        for k in keys:
            yield from _not_text(node[k], node.lines[k], rest, (*done, str(k)))
    elif isinstance(node, _Seq) and key == "*":
        for i, item in enumerate(node):
            yield from _not_text(item, node.lines[i], rest, (*done[:-1], f"{done[-1]}[{i}]"))


@dataclass
class _Entity:
    kind: str  # lower case: component, api…
    namespace: str
    name: str
    data: _Map
    file: str  # as shown in errors and the report
    line: int

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}".lower()

    @property
    def label(self) -> str:
        kind = _KIND_LABELS[self.kind]
        return f"{kind} {self.name}" if self.namespace.lower() == "default" else f"{kind} {self.namespace}/{self.name}"

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def metadata(self) -> _Map:
        return self.data.get("metadata")

    @property
    def spec(self) -> _Map:
        spec = self.data.get("spec")
        return spec if isinstance(spec, _Map) else _Map(self.line)

    def at(self, *path) -> str:
        """``file:line`` of the deepest part of ``path`` that the entity has."""
        node, line = self.data, self.line
        for key in path:
            if isinstance(node, _Map) and key in node:
                line, node = node.lines[key], node[key]
            elif isinstance(node, _Seq) and isinstance(key, int) and 0 <= key < len(node):
                line, node = node.lines[key], node[key]
            else:
                break
        return f"{self.file}:{line}"


_KIND_LABELS = {k: {"api": "API"}.get(k, k.capitalize()) for k in KINDS}


def parse_ref(value, *, default_kind: str, default_namespace: str = "default") -> str:
    """An entity reference, ``[kind:][namespace/]name``, as ``kind:namespace/name`` in
    lower case (Backstage compares them regardless of case). Raises ValueError."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("An entity reference is text, such as component:default/payments.")
    text = value.strip()
    kind, namespace = default_kind, default_namespace
    if ":" in text:
        kind, text = text.split(":", 1)
    if "/" in text:
        namespace, text = text.split("/", 1)
    if not kind or not _NAME.match(namespace) or not _NAME.match(text):
        raise ValueError(f"“{value}” is not an entity reference: write [kind:][namespace/]name.")
    return f"{kind}:{namespace}/{text}".lower()


def _ref_name(ref: str) -> str:
    return ref.split("/", 1)[1]


class _Catalogue:
    """The entities of every file read, and every problem found while reading them."""

    def __init__(self, path: Path, report: ImportReport):
        self.path = path
        self.base = path if path.is_dir() else path.parent
        # the folder being imported, resolved once: no file outside it is read, whether a
        # Location's target, a glob's match or a symbolic link leads there
        self.root = path.resolve() if path.is_dir() else path.resolve().parent
        self.report = report
        self.errors: dict[str, list[str]] = {}
        self.entities: list[_Entity] = []
        self.by_ref: dict[str, _Entity] = {}
        self.files: list[Path] = []
        self.links: dict[Path, list[tuple[Path, str]]] = {}  # a Location's file → (target, where)

    def error(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)

    def show(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.base)).as_posix()

    # reading

    def inside(self, path: Path) -> bool:
        """Whether ``path``, symbolic links followed, is in the folder being imported."""
        return path.resolve().is_relative_to(self.root)

    def read(self) -> None:
        if self.path.is_dir():
            queue = []
            for p in self.path.rglob("*"):
                if p.suffix.lower() not in (".yaml", ".yml") or any(
                        part.startswith(".") for part in p.relative_to(self.path).parts):
                    continue
                if not self.inside(p):
                    self.report.skip(self.show(p), "a symbolic link to a file outside the folder being imported, "
                                                   "so it was not read: only files inside that folder are")
                    continue
                if p.is_file():
                    queue.append(p.resolve())
                    if len(queue) > MAX_FILES:
                        break  # enough to know there are too many; said below
            queue.sort()
        else:
            queue = [self.path.resolve()]
        seen: set[Path] = set()
        while queue:
            file = queue.pop(0)
            if file in seen:
                continue
            if len(self.files) >= MAX_FILES:
                self.error(f"{self.show(file)}:1", f"This file was not read: an import reads at most {MAX_FILES:,} "
                                                   "files, and this catalogue has more. Import it in parts.")
                break
            seen.add(file)
            self.files.append(file)
            for target in self._read_file(file):
                if target not in seen:
                    queue.append(target)
        self._report_location_cycles()

    def _read_file(self, file: Path) -> list[Path]:
        shown = self.show(file)
        try:
            with file.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)  # no more than enough to know it is too large
        except OSError as exc:
            self.error(f"{shown}:1", f"This file cannot be read: {exc.strerror}.")
            return []
        if len(raw) > MAX_FILE_BYTES:
            self.error(f"{shown}:1", f"This file is larger than {_size(MAX_FILE_BYTES)}, far more than a catalogue "
                                     "descriptor needs, so it was not read.")
            return []
        try:
            text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            self.error(f"{shown}:1", "This file is not UTF-8 text.")
            return []
        targets: list[Path] = []
        loader = _Loader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                data = loader.construct_document(node)
                entity = self._entity(data, shown, node.start_mark.line + 1)
                if entity is not None and entity.kind == "location":
                    targets.extend(self._location_targets(entity, file))
        except _Refused as exc:
            self.error(f"{shown}:{exc.problem_mark.line + 1}", exc.problem)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            if exc.context_mark is not None and mark.index >= len(text.rstrip()):
                # found only at the end of the file: where the unfinished part began says more
                mark = exc.context_mark
            self.error(f"{shown}:{mark.line + 1 if mark else 1}", f"This is not valid YAML: {exc.problem or exc.context}.")
        finally:
            loader.dispose()
        return targets

    def _entity(self, data, shown: str, line: int) -> _Entity | None:
        if data is None:  # an empty document, as after a trailing ---
            return None
        where = f"{shown}:{line}"
        if not isinstance(data, _Map):
            self.error(where, "A catalogue entity is a mapping with apiVersion, kind, metadata and spec.")
            return None
        if not self._all_text(data, line, shown, ("apiVersion",), ("kind",)):
            return None
        api_version, kind = _text(data.get("apiVersion")), _text(data.get("kind"))
        if not api_version and not kind:
            # other YAML lives beside descriptors (an API's OpenAPI definition, say)
            self.report.skip(f"{where}", "not a catalogue entity: it has neither apiVersion nor kind")
            return None
        if not self._all_text(data, line, shown, *_TEXT_FIELDS):
            return None
        problems = []
        if not api_version:
            problems.append((where, "Give the entity's apiVersion, such as backstage.io/v1alpha1."))
        if not kind:
            problems.append((where, "Give the entity's kind: Component, API, Resource, System, Domain, Group, User "
                                    "or Location."))
        metadata = data.get("metadata")
        name = namespace = ""
        if not isinstance(metadata, _Map):
            problems.append((f"{shown}:{data.lines.get('metadata', line)}", "Give the entity's metadata, with its name."))
        else:
            name, namespace = _text(metadata.get("name")), _text(metadata.get("namespace")) or "default"
            if not name:
                problems.append((f"{shown}:{metadata.line}", "Give the entity's metadata.name."))
            elif not _NAME.match(name):
                problems.append((f"{shown}:{metadata.lines['name']}",
                                 f"“{name}” is not a Backstage name: letters, digits and - _ . between them, "
                                 "at most 63 characters."))
            if not _NAME.match(namespace):
                problems.append((f"{shown}:{metadata.lines['namespace']}", f"“{namespace}” is not a namespace."))
            annotations = metadata.get("annotations")
            if annotations is not None and not isinstance(annotations, _Map):
                problems.append((f"{shown}:{metadata.lines['annotations']}", "metadata.annotations is a mapping."))
        spec = data.get("spec")
        if spec is not None and not isinstance(spec, _Map):
            problems.append((f"{shown}:{data.lines['spec']}", "The entity's spec is a mapping."))
        for place, message in problems:
            self.error(place, message)
        if problems:
            return None
        label = f"{kind} {name}"
        if kind.lower() not in KINDS:
            self.report.skip(f"{label} ({where})", f"OSOM has nothing a {kind} becomes: it maps Component, Resource, "
                                                   "API, System, Domain, Group, User and Location")
            return None
        if not api_version.startswith("backstage.io/"):
            self.report.skip(f"{label} ({where})", f"its apiVersion {api_version} is not the software catalogue's "
                                                   "(backstage.io/…)")
            return None
        entity = _Entity(kind.lower(), namespace, name, data, shown, line)
        first = self.by_ref.get(entity.ref)
        if first is not None:
            self.error(where, f"{entity.label} is described twice: first at {first.place}.")
            return None
        self.by_ref[entity.ref] = entity
        self.entities.append(entity)
        return entity

    def _all_text(self, data: _Map, line: int, shown: str, *paths: tuple) -> bool:
        """Whether every field at ``paths`` that is there is a scalar; an error naming the
        field at its line for each that is not."""
        ok = True
        for path in paths:
            for name, at, value in _not_text(data, line, path):
                self.error(f"{shown}:{at}", _not_text_message(name, value))
                ok = False
        return ok

    def _outside(self, entity: _Entity, target: str, where: str, match: Path | None = None) -> None:
        what = f"{entity.label} target {target} ({where})" + (f", file {self.show(match)}" if match else "")
        self.report.skip(what, "outside the folder being imported, so it was not read: only files inside that "
                               "folder are followed")

    def _location_targets(self, entity: _Entity, file: Path) -> list[Path]:
        spec = entity.spec
        targets = []
        if spec.get("target") is not None:
            targets.append((spec.get("target"), entity.at("spec", "target")))
        listed = spec.get("targets")
        if listed is not None:
            if not isinstance(listed, _Seq):
                self.error(entity.at("spec", "targets"), "spec.targets is a list of files.")
            else:
                targets.extend((t, entity.at("spec", "targets", i)) for i, t in enumerate(listed))
        if not targets:
            self.error(entity.place, f"{entity.label} names no target: give spec.target or spec.targets.")
            return []
        found: list[Path] = []
        for target, where in targets:
            target = _text(target)
            if not target:
                self.error(where, "A Location's target is the path of a file.")
                continue
            if "://" in target:
                self.report.skip(f"{entity.label} target {target} ({where})",
                                 "only relative files are followed; Backstage itself reads addresses")
                continue
            if Path(target).is_absolute():
                self.report.skip(f"{entity.label} target {target} ({where})",
                                 "only relative files are followed, and this path is absolute")
                continue
            if any(c in target for c in "*?["):
                # where the pattern starts: it must be inside the folder, and climb no further
                # (.. after a wildcard could walk anywhere), before anything is searched
                parts = Path(target).parts
                fixed = next(i for i, part in enumerate(parts) if any(c in part for c in "*?["))
                if ".." in parts[fixed:] or not self.inside(file.parent.joinpath(*parts[:fixed])):
                    self._outside(entity, target, where)
                    continue
                try:
                    found_here = sorted(file.parent.glob(target))
                except ValueError:  # such as ** inside a name
                    self.error(where, f"{entity.label}'s target {target} is not a pattern of files.")
                    continue
                matches = []
                for p in found_here:
                    if not p.is_file():
                        continue
                    if not self.inside(p):  # a symbolic link out of the folder
                        self._outside(entity, target, where, p)
                        continue
                    matches.append(p.resolve())
                matches.sort()
                if not matches:
                    self.report.warnings.append(f"{entity.label} ({where}): no file matches {target}.")
            else:
                resolved = (file.parent / target).resolve()
                if not resolved.is_relative_to(self.root):
                    self._outside(entity, target, where)
                    continue
                if not resolved.is_file():
                    self.error(where, f"{entity.label} points at {target}, which does not exist.")
                    continue
                matches = [resolved]
            for match in matches:
                self.links.setdefault(file, []).append((match, where))
                found.append(match)
        if found:
            self.report.map(f"{entity.label} ({entity.place}) → followed {len(found)} "
                            f"file{'s' if len(found) != 1 else ''}")
        return found

    def _report_location_cycles(self) -> None:
        """Locations that lead back to a file that led to them: harmless, as each file is
        read once, but said, as the catalogue probably did not mean it."""
        state: dict[Path, int] = {}
        reported: set[frozenset] = set()

        def visit(file: Path, chain: list[Path]) -> None:
            state[file] = 1
            for target, where in self.links.get(file, []):
                if state.get(target) == 1:
                    cycle = chain[chain.index(target):] + [file, target] if target in chain else [file, target]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        self.report.skip(f"Location at {where}",
                                         "the Locations form a cycle (" + " → ".join(self.show(p) for p in cycle)
                                         + "); each file was read once")
                elif target not in state:
                    visit(target, chain + [file])
            state[file] = 2

        for file in self.files:
            if file not in state:
                visit(file, [])


# --- what the catalogue becomes ------------------------------------------------------------------

@dataclass
class _PersonPlan:
    entity: _Entity
    email: str
    name: str
    existing: Person | None


@dataclass
class _Member:
    """One person joining a service's team: a member of the Group that owns it."""

    email: str
    role: ProfessionalRole
    level: str
    group: str  # the Group's name
    from_option: bool  # the role came from --team-role, not from the User's annotation


@dataclass
class _ServicePlan:
    entity: _Entity
    content: dict
    stage: str
    flag_reason: str  # "": not flagged for decommissioning
    assumed: list[str]
    owner: str | None = None  # entity reference
    manager_email: str | None = None
    manager_how: str = ""
    providers: list[tuple[str, str]] = field(default_factory=list)  # (node, note)
    team: list[_Member] = field(default_factory=list)


@dataclass
class _Plan:
    people: list[_PersonPlan]
    services: list[_ServicePlan]
    existing: dict[str, Service]  # node → a service already in the network


def _list_of_refs(cat: _Catalogue, entity: _Entity, key: str, default_kind: str) -> list[tuple[str, str]]:
    """(reference, where) for each entry of ``spec[key]``; malformed ones are errors."""
    value = entity.spec.get(key)
    if value is None:
        return []
    if not isinstance(value, _Seq):
        cat.error(entity.at("spec", key), f"spec.{key} is a list of entity references.")
        return []
    out = []
    for i, item in enumerate(value):
        try:
            out.append((parse_ref(item, default_kind=default_kind, default_namespace=entity.namespace),
                        entity.at("spec", key, i)))
        except ValueError as exc:
            cat.error(entity.at("spec", key, i), str(exc))
    return out


def _annotation(entity: _Entity, key: str, *, as_written: bool = False) -> str:
    annotations = entity.metadata.get("annotations") or {}
    text = _text(annotations.get(key))
    return text if as_written else text.lower()


def _require(cat: _Catalogue, entity: _Entity, *keys: str) -> bool:
    ok = True
    for key in keys:
        value = entity.spec.get(key)  # there: text, or (an API's definition) a mapping
        if value is None or (isinstance(value, _SCALARS) and not _text(value)):
            where = entity.at("spec") if "spec" in entity.data else entity.place
            cat.error(where, f"{entity.label} has no spec.{key}, which Backstage requires of a {_KIND_LABELS[entity.kind]}.")
            ok = False
    return ok


def _service_plan(cat: _Catalogue, entity: _Entity) -> _ServicePlan | None:
    """What a Component or Resource becomes; None, with the reason in the report, when it
    is not brought in; errors for what is wrong."""
    required = ("type", "lifecycle", "owner") if entity.kind == "component" else ("type", "owner")
    if not _require(cat, entity, *required):
        return None
    spec, meta = entity.spec, entity.metadata
    lifecycle = _text(spec.get("lifecycle")).lower()
    exact = _annotation(entity, STAGE_ANNOTATION)
    assumed = []
    if exact:
        if exact == Lifecycle.DECOMMISSIONED:
            cat.report.skip(f"{entity.label} ({entity.place})", "it is decommissioned; only a running service is adopted")
            return None
        if exact not in ADOPTABLE:
            cat.error(entity.at("metadata", "annotations", STAGE_ANNOTATION),
                      f"“{exact}” is not a stage a running service is adopted at: use discovery, alpha, beta or live.")
            return None
        stage = exact
    elif entity.kind == "component":
        if lifecycle not in LIFECYCLE_TO_STAGE:
            cat.error(entity.at("spec", "lifecycle"),
                      f"“{lifecycle}” is not a lifecycle OSOM can map: use experimental, production or deprecated, "
                      f"or give the exact stage in the annotation {STAGE_ANNOTATION}.")
            return None
        stage = LIFECYCLE_TO_STAGE[lifecycle]
    else:
        stage = Lifecycle.LIVE
        assumed.append("live, as a resource is running")
    evolution = _annotation(entity, EVOLUTION_ANNOTATION)
    if not evolution:
        evolution = Evolution.COMMODITY if entity.kind == "resource" else Evolution.CUSTOM
        assumed.append(Evolution(evolution).label.lower())
    users = _annotation(entity, USERS_ANNOTATION)
    if not users:
        users = UserType.EXTERNAL if _text(spec.get("type")).lower() == "website" else UserType.INTERNAL
        assumed.append(UserType(users).label.lower())
    name = _text(meta.get("title")) or entity.name
    kind_words = f"a Backstage {_KIND_LABELS[entity.kind].lower()} of type “{_text(spec.get('type'))}”"
    purpose = _text(meta.get("description")) or (
        f"{name} is {kind_words}. The catalogue it came from did not describe it: its manager should say what it is.")
    links = meta.get("links")
    support = ""
    if isinstance(links, _Seq):
        support = "\n".join(f"- [{_text(link.get('title')) or _text(link.get('url'))}]({_text(link.get('url'))})"
                            for link in links if isinstance(link, _Map) and _text(link.get("url")))
    content = {
        "name": name, "user_type": users, "evolution_stage": evolution, "purpose": purpose,
        "usage": f"Recorded in the Backstage catalogue as {kind_words}.", "support": support,
        "metrics": [],
        # Backstage knows nothing of user needs; a contract needs one: a placeholder the
        # manager replaces, which the report points out
        "needs": [{"as_a": f"consumer of {name}", "i_need": f"what {name} provides",
                   "so_that": "my work can rely on it (written on import: to be replaced with the real need)"}],
        "dependencies": [],
    }
    try:
        owner = parse_ref(spec.get("owner"), default_kind="group", default_namespace=entity.namespace)
    except ValueError as exc:
        cat.error(entity.at("spec", "owner"), str(exc))
        return None
    # deprecated: running, and flagged for decommissioning; the annotation (which the
    # export writes) keeps the reason it was flagged for
    flag = (_annotation(entity, FLAG_ANNOTATION, as_written=True) or FLAGGED_REASON) if lifecycle == "deprecated" else ""
    return _ServicePlan(entity, content, stage, flag, assumed, owner=owner)


def _content_is_good(cat: _Catalogue, plan: _ServicePlan) -> bool:
    """The contract as the adoption will check it, its errors put at the entity's lines."""
    entity = plan.entity
    try:
        clean_content(plan.content)
    except InvalidInput as exc:
        for field_name, messages in exc.errors.items():
            if field_name == "evolution_stage":
                where = entity.at("metadata", "annotations", EVOLUTION_ANNOTATION)
            elif field_name == "user_type":
                where = entity.at("metadata", "annotations", USERS_ANNOTATION)
            elif field_name == "name" and entity.metadata.get("title"):
                where = entity.at("metadata", "title")
            elif field_name == "name":
                where = entity.at("metadata", "name")
            elif field_name == "purpose":
                where = entity.at("metadata", "description")
            else:
                where = entity.place
            for message in messages:
                cat.error(where, message)
        return False
    return True


def _roles_by_name() -> dict[str, ProfessionalRole]:
    """The professional framework's roles by name in lower case (the first, by id, where
    two frameworks share a name)."""
    roles: dict[str, ProfessionalRole] = {}
    for role in ProfessionalRole.objects.order_by("pk"):
        roles.setdefault(role.name.lower(), role)
    return roles


def _team_places(cat: _Catalogue, user: _Entity, roles: dict[str, ProfessionalRole]) -> tuple[ProfessionalRole | None, str]:
    """The role and level a User's annotations give (None and "" for those not given);
    an unknown one is an error at its line."""
    role = None
    named = _annotation(user, ROLE_ANNOTATION, as_written=True)
    if named:
        role = roles.get(" ".join(named.split()).lower())
        if role is None:
            cat.error(user.at("metadata", "annotations", ROLE_ANNOTATION),
                      f"“{named}” is not a role of the professional framework: use a role's name, such as "
                      "Software developer or User researcher (GET /api/v1/roles lists them).")
    level = _annotation(user, LEVEL_ANNOTATION)
    if level and level not in dict(LEVELS):
        cat.error(user.at("metadata", "annotations", LEVEL_ANNOTATION),
                  f"“{level}” is not a level: use one of {', '.join(dict(LEVELS))}.")
        level = ""
    return role, level or ""


@dataclass
class _TeamOptions:
    """What the import was told for Group members whose User does not say it."""

    role: ProfessionalRole | None = None
    level: str = ""


def _plan(cat: _Catalogue, options: _TeamOptions) -> _Plan:
    """Check everything and decide what each entity becomes; write nothing."""
    report = cat.report
    of_kind = {k: [e for e in cat.entities if e.kind == k] for k in KINDS}

    # people, by email
    people: list[_PersonPlan] = []
    email_of: dict[str, str | None] = {}  # user ref → email (None: not brought in)
    why_not: dict[str, str] = {}
    emails_seen: dict[str, _Entity] = {}
    wanted = []
    for user in of_kind["user"]:
        profile = user.spec.get("profile")
        if profile is not None and not isinstance(profile, _Map):
            cat.error(user.at("spec", "profile"), "spec.profile is a mapping, with the person's email.")
            continue
        email = _text((profile or {}).get("email")).lower()
        if not email:
            email_of[user.ref] = None
            why_not[user.ref] = f"{user.label} has no email address"
            report.skip(f"{user.label} ({user.place})", "no email address (spec.profile.email): OSOM knows people "
                                                        "by their email, so this person was not brought in")
            continue
        try:
            validate_email(email)
        except ValidationError:
            cat.error(user.at("spec", "profile", "email"), f"“{email}” is not an email address.")
            continue
        if email in emails_seen:
            cat.error(user.at("spec", "profile", "email"), f"{email} is also the email of {emails_seen[email].label} "
                                                           f"at {emails_seen[email].place}.")
            continue
        emails_seen[email] = user
        name = " ".join(_text((profile or {}).get("displayName") or user.metadata.get("title") or user.name).split())
        if len(name) > 200:
            cat.error(user.at("spec", "profile", "displayName"), "Keep the person's name to 200 characters.")
            continue
        email_of[user.ref] = email
        wanted.append((user, email, name))
    existing_people = {p.email.lower(): p for p in Person.objects.filter(email__in=[e for _, e, _ in wanted])}
    for user, email, name in wanted:
        people.append(_PersonPlan(user, email, name, existing_people.get(email)))
    # the role and level each User's annotations give, for the teams below
    roles = _roles_by_name()
    places = {user.ref: _team_places(cat, user, roles) for user in of_kind["user"]}

    # groups: their members, from both sides of the membership
    members: dict[str, list[str]] = {}
    for group in of_kind["group"]:
        _require(cat, group, "type")
        members[group.ref] = list(dict.fromkeys(ref for ref, _ in _list_of_refs(cat, group, "members", "user")))
        _list_of_refs(cat, group, "children", "group")
    for user in of_kind["user"]:
        for ref, where in _list_of_refs(cat, user, "memberOf", "group"):
            if ref not in members:
                report.warnings.append(f"{user.label} ({where}) is a member of {ref}, which is not in the catalogue.")
            elif user.ref not in members[ref]:
                members[ref].append(user.ref)

    # the services, and those already in the network
    plans: list[_ServicePlan] = []
    for entity in of_kind["component"] + of_kind["resource"]:
        plan = _service_plan(cat, entity)
        if plan is not None:
            plans.append(plan)
    names = [p.content["name"].lower() for p in plans] + [p.entity.name.lower() for p in plans]
    in_network = list(Service.objects.annotate(lname=Lower("name")).filter(lname__in=names)) + list(
        Service.objects.filter(slug__in=names))
    by_name = {s.name.lower(): s for s in in_network} | {s.slug: s for s in in_network}
    new: list[_ServicePlan] = []
    existing: dict[str, Service] = {}
    taken: dict[str, _ServicePlan] = {}
    for plan in plans:
        entity, name = plan.entity, plan.content["name"]
        found = by_name.get(name.lower()) or by_name.get(entity.name.lower())
        if found is not None:
            existing[entity.ref] = found
            report.skip(f"{entity.label} ({entity.place})", f"already in the network, as {found.name}; its contract "
                                                            "there is left as it is")
            continue
        if name.lower() in taken:
            cat.error(entity.at("metadata", "title") if entity.metadata.get("title") else entity.at("metadata", "name"),
                      f"Another entity becomes a service called “{name}”: {taken[name.lower()].entity.label} at "
                      f"{taken[name.lower()].entity.place}.")
            continue
        taken[name.lower()] = plan
        if _content_is_good(cat, plan):
            new.append(plan)
    node_of = {p.entity.ref: p for p in new}

    # services named in the catalogue but described elsewhere: found in the network by name
    def resolve(ref: str) -> str | None:
        if ref in node_of or ref in existing:
            return ref
        if ref in cat.by_ref:
            return None
        found = Service.objects.filter(slug=_ref_name(ref)).first() or Service.objects.filter(
            name__iexact=_ref_name(ref)).first()
        if found is not None:
            existing[ref] = found
            return ref
        return None

    def link(consumer: _ServicePlan, ref: str, note: str, what: str) -> None:
        if ref.split(":", 1)[0] not in SERVICE_KINDS:
            report.skip(f"{consumer.entity.label} {what} {ref}", "OSOM links services to services, and only a Component "
                                                                 "or a Resource becomes a service")
            return
        node = resolve(ref)
        if node is None:
            why = ("it was not brought in (see above)" if ref in cat.by_ref
                   else "it is neither in the catalogue nor in the network")
            report.skip(f"{consumer.entity.label} {what} {ref}", why)
            return
        if node == consumer.entity.ref or any(n == node for n, _ in consumer.providers):
            return
        consumer.providers.append((node, note))

    for plan in new:
        for ref, _ in _list_of_refs(cat, plan.entity, "dependsOn", "component"):
            link(plan, ref, "dependsOn in the Backstage catalogue", "depends on")
    for entity in of_kind["component"] + of_kind["resource"]:
        for ref, _ in _list_of_refs(cat, entity, "dependencyOf", "component"):
            consumer = node_of.get(ref)
            if consumer is None:
                report.skip(f"{entity.label} is a dependency of {ref}",
                            "that consumer is not a service this import brings in, so its contract is not changed")
            else:
                link(consumer, entity.ref, "dependencyOf in the Backstage catalogue", "depends on")

    # APIs: consumers depend on providers
    providers_of: dict[str, list[str]] = {}
    consumers_of: dict[str, list[_ServicePlan]] = {}
    for entity in of_kind["component"]:
        for ref, _ in _list_of_refs(cat, entity, "providesApis", "api"):
            providers_of.setdefault(ref, []).append(entity.ref)
        plan = node_of.get(entity.ref)
        for ref, _ in _list_of_refs(cat, entity, "consumesApis", "api"):
            if plan is not None:
                consumers_of.setdefault(ref, []).append(plan)
    apis = {e.ref: e for e in of_kind["api"]}
    for api in of_kind["api"]:
        _require(cat, api, "type", "lifecycle", "owner", "definition")
    for ref in sorted(set(apis) | set(providers_of) | set(consumers_of)):
        label = apis[ref].label if ref in apis else ref
        place = f" ({apis[ref].place})" if ref in apis else ""
        provided, consumers = providers_of.get(ref, []), consumers_of.get(ref, [])
        if not provided:
            report.skip(f"{label}{place}", "no component in the catalogue provides it, so its consumers' dependency "
                                           "on it cannot be recorded" if consumers else "nothing provides or consumes it")
            continue
        if not consumers:
            report.skip(f"{label}{place}", "nothing in the catalogue consumes it, so it links no services")
            continue
        for consumer in consumers:
            for provider in provided:
                link(consumer, provider, f"through the API {_ref_name(ref)}", f"consumes {label}, provided by")
        report.map(f"{label}{place} → " + "; ".join(
            f"{c.content['name']} consumes it from " + ", ".join(_ref_name(p) for p in provided) for c in consumers))

    # owners: the candidate managers
    person_of = {p.entity.ref: p for p in people}
    for plan in new:
        owner = plan.owner
        if owner.startswith("user:"):
            if owner in person_of:
                plan.manager_email, plan.manager_how = person_of[owner].email, f"its owner {_ref_name(owner)}"
            else:
                report.skip(f"{plan.entity.label}'s owner {owner}", why_not.get(owner, "that User is not in the "
                                                                                       "catalogue")
                            + ", so the service has no manager yet")
        elif owner.startswith("group:"):
            if owner not in members:
                report.skip(f"{plan.entity.label}'s owner {owner}", "that Group is not in the catalogue, so the service "
                                                                    "has no manager yet")
                continue
            first = next((m for m in members[owner] if m in person_of), None)
            if first is None:
                report.skip(f"{plan.entity.label}'s owner {owner}", "none of that Group's members is a person brought "
                                                                    "in with an email, so the service has no manager yet")
            else:
                plan.manager_email = person_of[first].email
                plan.manager_how = f"the first member of its owner, Group {_ref_name(owner)}, who is a person"
        else:
            report.skip(f"{plan.entity.label}'s owner {owner}", "an owner is a User or a Group, so the service has no "
                                                                "manager yet")
        if plan.manager_email:
            person = person_of[next(r for r, p in person_of.items() if p.email == plan.manager_email)]
            if person.existing is not None and not person.existing.is_active:
                report.skip(f"{plan.entity.label}'s owner {owner}", f"{person.existing} has left the organisation, so "
                                                                    "the service has no manager yet")
                plan.manager_email = None

    # Groups: where managers come from, and the teams of the services they own
    for group in of_kind["group"]:
        owned = [p for p in new if p.owner == group.ref]
        in_group = [person_of[m] for m in members.get(group.ref, []) if m in person_of]
        if owned:
            report.map(f"{group.label} ({group.place}) → owner of " + ", ".join(p.content["name"] for p in owned))
            for person in in_group:
                _join_teams(report, group, person, owned, places[person.entity.ref], options)
        elif in_group:
            report.skip(f"{group.label}'s members ({', '.join(p.name for p in in_group)})",
                        "the Group owns no service brought in; its people were brought in")
        else:
            report.skip(f"{group.label} ({group.place})", "it owns no service brought in and has no member with an email")

    # groupings OSOM has no place for
    for kind, part_key, part_kinds in (("system", "system", ("component", "resource", "api")),
                                       ("domain", "domain", ("system",))):
        for entity in of_kind[kind]:
            _require(cat, entity, "owner")
            parts = []
            for other in cat.entities:
                if other.kind in part_kinds and _text(other.spec.get(part_key)):
                    try:
                        ref = parse_ref(other.spec.get(part_key), default_kind=kind, default_namespace=other.namespace)
                    except ValueError as exc:
                        cat.error(other.at("spec", part_key), str(exc))
                        continue
                    if ref == entity.ref:
                        parts.append(other.name)
            report.skip(f"{entity.label} ({entity.place})", "a grouping: OSOM has nothing above the service"
                        + (f"; what it groups ({', '.join(parts)}) was brought in one by one" if parts else ""))
    return _Plan(people, new, existing)


def _join_teams(report: ImportReport, group: _Entity, person: _PersonPlan, owned: list[_ServicePlan],
                place: tuple[ProfessionalRole | None, str], options: _TeamOptions) -> None:
    """Put a member of ``group`` in the team of each service it owns (but one they manage),
    in the role and level their User's annotations give, else the import's options; a
    member with no role given either way, or who has left the organisation, is said so."""
    joins = [plan for plan in owned if plan.manager_email != person.email]
    if not joins:
        return
    services = ", ".join(plan.content["name"] for plan in joins)
    name = person.existing.name if person.existing is not None else person.name
    what = f"{group.label}'s member {name} ({person.entity.place})"
    if person.existing is not None and not person.existing.is_active:
        report.skip(what, f"they have left the organisation, so they join no team ({services})")
        return
    role, level = place
    from_option = role is None
    role = role or options.role
    if role is None:
        report.skip(what, f"not added to the team of {services}: their User has no annotation {ROLE_ANNOTATION} "
                          "giving their role, and no --team-role was given for such members")
        return
    for plan in joins:
        plan.team.append(_Member(person.email, role, level or options.level or DEFAULT_LEVEL, _ref_name(group.ref),
                                 from_option))


def _order(plans: list[_ServicePlan]) -> tuple[list[_ServicePlan], set[tuple[str, str]]]:
    """Providers before their consumers, so each contract names its dependencies as it is
    written; the links that close a cycle are returned apart."""
    by_ref = {p.entity.ref: p for p in plans}
    state: dict[str, int] = {}
    order: list[_ServicePlan] = []
    closing: set[tuple[str, str]] = set()
    for root in plans:
        if root.entity.ref in state:
            continue
        state[root.entity.ref] = 1
        stack = [(root, iter(root.providers))]
        while stack:
            plan, providers = stack[-1]
            for node, _ in providers:
                if node not in by_ref:
                    continue
                if state.get(node) == 1:
                    closing.add((plan.entity.ref, node))
                elif node not in state:
                    state[node] = 1
                    stack.append((by_ref[node], iter(by_ref[node].providers)))
                    break
            else:
                state[plan.entity.ref] = 2
                order.append(plan)
                stack.pop()
    return order, closing


class _At:
    """Turns a refusal by one of the actions into an error naming the file and line of
    the entity being written. A refusal of the right to act stays as it is."""

    def __init__(self, where: str):
        self.where = where

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is not None and isinstance(exc, DomainError) and not isinstance(exc, NotAllowed):
            messages = [m for ms in exc.errors.values() for m in ms] or [exc.message]
            raise InvalidInput(messages[0], field=self.where, errors={self.where: messages}) from exc
        return False


def _team_options(team_role: str | None, team_level: str | None) -> _TeamOptions:
    options = _TeamOptions()
    if team_role is not None and team_role.strip():
        options.role = _roles_by_name().get(" ".join(team_role.split()).lower())
        if options.role is None:
            raise InvalidInput(f"“{team_role.strip()}” is not a role of the professional framework: use a role's "
                               "name, such as Software developer or User researcher.", field="team_role")
    if team_level is not None and team_level.strip():
        options.level = team_level.strip().lower()
        if options.level not in dict(LEVELS):
            raise InvalidInput(f"“{team_level.strip()}” is not a level: use one of {', '.join(dict(LEVELS))}.",
                               field="team_level")
    return options


@refuses_null_characters
def import_catalogue(*, actor: Person, path: Path, dry_run: bool = False, progress: Progress | None = None,
                     team_role: str | None = None, team_level: str | None = None) -> ImportReport:
    """Bring a Backstage catalogue in: everything is checked first (errors keyed
    ``file:line``), then written in one transaction through the actions, with one audit
    event for the import; a dry run does the same and rolls it back.

    ``team_role`` and ``team_level`` place the members of a Group that owns a service in
    its team when their User's annotations do not say their role or level."""
    authority = authorise(actor, "import_catalogue")
    options = _team_options(team_role, team_level)
    path = Path(path)
    report = ImportReport("Backstage catalogue " + path.name, dry_run=dry_run)
    if not path.exists():
        raise InvalidInput(f"{path} does not exist.", field="path")
    cat = _Catalogue(path, report)
    cat.read()
    if not cat.errors and not cat.entities:
        raise InvalidInput(f"There is no Backstage entity in {path}.", field="path")
    plan = _plan(cat, options)  # even after errors in reading: every problem is reported at once
    if cat.errors:
        raise InvalidInput.collect(cat.errors)

    ordered, closing = _order(plan.services)
    total = len(plan.people) + len(ordered) + len(closing)
    done = 0

    def tick(what: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, what)

    with transaction.atomic():
        people: dict[str, Person] = {}
        for person in plan.people:
            entity = person.entity
            if person.existing is not None:
                people[person.email] = person.existing
                report.map(f"{entity.label} ({entity.place}) → {person.existing.name} <{person.email}>, already in the "
                           "organisation")
            else:
                with _At(entity.at("spec", "profile", "email")):
                    people[person.email] = core_actions.create_person(
                        actor=actor, email=person.email, name=person.name, password=None)
                report.map(f"{entity.label} ({entity.place}) → {person.name} <{person.email}>, a new person, "
                           "without a password until one is set for them")
                report.count("people")
            tick(person.email)
        services: dict[str, Service] = dict(plan.existing)
        placeholders = 0
        for service_plan in ordered:
            entity = service_plan.entity
            content = dict(service_plan.content)
            content["dependencies"] = [{"provider": services[node], "note": note}
                                       for node, note in service_plan.providers
                                       if (entity.ref, node) not in closing]
            manager = people.get(service_plan.manager_email) if service_plan.manager_email else None
            team = [(people[m.email], m.role, m.level) for m in service_plan.team]
            with _At(entity.place):
                service = network_actions.adopt_existing_service(
                    actor=actor, content=content, lifecycle_stage=service_plan.stage, manager=manager, team=team,
                    decommission_flag=service_plan.flag_reason)
            services[entity.ref] = service
            report.count("services")
            placeholders += 1
            text = f"{entity.label} ({entity.place}) → service “{service.name}”, adopted at {service_plan.stage}"
            if service_plan.flag_reason:
                text += " and flagged for decommissioning, as the catalogue marks it deprecated"
            if manager is not None:
                text += f", managed by {manager.name} ({service_plan.manager_how})"
                report.count("managers appointed")
            if service_plan.assumed:
                text += f"; assumed: {', '.join(service_plan.assumed)}"
            report.map(text)
            levels = dict(LEVELS)
            for member in service_plan.team:
                report.map(f"{people[member.email].name} joined {service.name}'s team as "
                           f"{levels[member.level].lower()} {member.role.name.lower()}, member of Group {member.group}"
                           + (" (the role given by --team-role)" if member.from_option else ""))
                report.count("team members")
            for node, note in service_plan.providers:
                if (entity.ref, node) not in closing:
                    report.map(f"{service.name} depends on {services[node].name} ({note})")
                    report.count("dependencies")
            tick(service.name)
        for consumer_ref, provider_ref in sorted(closing):
            consumer, provider = services[consumer_ref], services[provider_ref]
            notes = dict(next(p for p in ordered if p.entity.ref == consumer_ref).providers)
            with _At(cat.by_ref[consumer_ref].place):
                result = network_actions.add_dependency(actor=actor, service=consumer, provider=provider,
                                                        note=notes[provider_ref])
            report.count("dependencies")
            report.warnings.append(
                f"{consumer.name} depends on {provider.name}, which closes a cycle ({' → '.join(result.cycle)}): the "
                f"link is in draft version {result.version.number} of {consumer.name}'s contract, for its manager to "
                "submit and the executive to approve, so the cycle is looked at rather than slipped in.")
            tick(f"{consumer.name} → {provider.name}")
        if placeholders:
            report.warnings.append(
                f"Backstage knows nothing of user needs: each of the {placeholders} contract{'s' if placeholders != 1 else ''} "
                "written has one placeholder need, which its manager should replace with the real ones.")
        created = dict(report.created)
        audit.record(
            actor, "import_catalogue", Organisation.current(), authority=authority,
            summary=f"Imported the Backstage catalogue {path.name}: " + (", ".join(
                f"{n} {what}" for what, n in sorted(created.items())) or "nothing new"),
            after={"source": "backstage", "path": str(path), "files": [cat.show(f) for f in cat.files],
                   "created": created, "not_mapped": len(report.not_mapped)},
        )
        if dry_run:
            transaction.set_rollback(True)
    return report


# --- export --------------------------------------------------------------------------------------

def _backstage_name(text: str, taken: set[str], fallback: str) -> str:
    """A Backstage name from ``text``: letters, digits and -_. , at most 63, unique."""
    base = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")[:63].strip("-._") or fallback
    name, n = base, 2
    while name in taken:
        suffix = f"-{n}"
        name = base[:63 - len(suffix)].strip("-._") + suffix
        n += 1
    taken.add(name)
    return name


def _dump(documents: list[dict]) -> str:
    return yaml.safe_dump_all(documents, sort_keys=False, allow_unicode=True, explicit_start=True, width=100)


def export_catalogue(*, path: Path) -> int:
    """Write the network as Backstage descriptors into ``path``: ``components/<name>.yaml``
    for each service, ``users.yaml`` for the people, and ``catalog-info.yaml``, a Location
    listing them. Returns the number of files written."""
    path = Path(path)
    services = list(Service.objects.select_related("manager", "current_version").order_by("name"))
    people = list(Person.objects.filter(is_active=True).order_by("email"))
    user_names: dict[int, str] = {}
    taken: set[str] = set()
    for person in people:
        user_names[person.pk] = _backstage_name(person.email.split("@", 1)[0], taken, "person")
    component_names: dict[int, str] = {}
    taken = set()
    for service in services:
        component_names[service.pk] = _backstage_name(service.slug, taken, "service")
    # a person in exactly one team carries their role and level there as annotations
    places: dict[int, list[tuple[str, str]]] = {}
    for person_id, role, level in (TeamMembership.objects.filter(ended_at__isnull=True, person__is_active=True)
                                   .exclude(service__lifecycle_stage=Lifecycle.DECOMMISSIONED)
                                   .values_list("person_id", "role__name", "level")):
        places.setdefault(person_id, []).append((role, level))
    providers: dict[int, list[Service]] = {}
    current = {s.current_version_id: s.pk for s in services if s.current_version_id}
    for dep in Dependency.objects.filter(version_id__in=list(current)).select_related("provider").order_by("provider__name"):
        providers.setdefault(current[dep.version_id], []).append(dep.provider)

    (path / "components").mkdir(parents=True, exist_ok=True)
    targets = []
    unmanaged = False
    for service in services:
        version = service.current_version
        owner = f"user:default/{user_names[service.manager_id]}" if service.manager_id in user_names else None
        if owner is None:
            unmanaged = True
            owner = "group:default/unassigned"
        # a flagged service is deprecated in Backstage's words; its exact stage is annotated
        flagged = service.is_flagged_for_decommissioning
        lifecycle = "deprecated" if flagged else STAGE_TO_LIFECYCLE[service.lifecycle_stage]
        spec = {"type": "service", "lifecycle": lifecycle, "owner": owner}
        if providers.get(service.pk):
            spec["dependsOn"] = [f"component:default/{component_names[p.pk]}" for p in providers[service.pk]]
        document = {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": component_names[service.pk],
                "title": service.name,
                "description": version.purpose if version else service.summary,
                "annotations": {
                    STAGE_ANNOTATION: service.lifecycle_stage,
                    EVOLUTION_ANNOTATION: service.evolution_stage,
                    USERS_ANNOTATION: service.user_type,
                    **({FLAG_ANNOTATION: service.decommission_flag} if flagged else {}),
                },
            },
            "spec": spec,
        }
        file = f"components/{component_names[service.pk]}.yaml"
        (path / file).write_text(_dump([document]), encoding="utf-8")
        targets.append(f"./{file}")

    def user_metadata(person: Person) -> dict:
        metadata = {"name": user_names[person.pk]}
        if len(places.get(person.pk, [])) == 1:
            role, level = places[person.pk][0]
            metadata["annotations"] = {ROLE_ANNOTATION: role, LEVEL_ANNOTATION: level}
        return metadata

    documents = [{
        "apiVersion": "backstage.io/v1alpha1", "kind": "User",
        "metadata": user_metadata(p),
        "spec": {"profile": {"displayName": p.name, "email": p.email}, "memberOf": []},
    } for p in people]
    if unmanaged:
        # Backstage requires an owner; a group with nobody in it says there is no manager
        documents.append({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": "unassigned", "description": "Owner of the services that have no manager yet."},
            "spec": {"type": "team", "children": [], "members": []},
        })
    (path / "users.yaml").write_text(_dump(documents), encoding="utf-8")
    targets.append("./users.yaml")
    location = {
        "apiVersion": "backstage.io/v1alpha1", "kind": "Location",
        "metadata": {"name": _backstage_name(Organisation.current().name, set(), "organisation"),
                     "description": "Every service of the network and the people who manage them."},
        "spec": {"type": "file", "targets": targets},
    }
    (path / "catalog-info.yaml").write_text(_dump([location]), encoding="utf-8")
    return len(services) + 2
