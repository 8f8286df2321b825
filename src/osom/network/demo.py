"""The demo organisation: Northbridge City Council, loaded by ``osom demo``.

The data lives in ``demo_organisation.yaml`` beside this module. Everything is created
through the actions, as the people of the organisation would create it, in one
transaction: a failure leaves nothing half-loaded, and every write is audited.

Loading is safe to repeat: when the demo's executive is already in the database,
nothing is written and the same summary is returned, counted from the database.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import F

from osom.core.actions import TERM_FIELDS, create_person, edit_terminology
from osom.core.errors import InvalidInput
from osom.core.models import Person, Role

from . import actions
from .contract import DESCRIPTION_LABELS, read_content
from .models import Dependency, Need, ProfessionalRole, Service
from .stages import Lifecycle, VersionStatus

__all__ = ["DATA_FILE", "DEMO_PASSWORD", "DemoDataError", "DemoResult", "dependency_order", "load_demo", "read_demo_data"]

DEMO_PASSWORD = "osom-demo-2026"
DATA_FILE = Path(__file__).with_name("demo_organisation.yaml")

SIGN_IN_ROLES = ("executive", "executive team", "service manager", "team member", "member")

_SERVICE_FIELDS = {
    "stage", "evolution", "users", "manager", "established_by", *DESCRIPTION_LABELS,
    "metrics", "needs", "dependencies", "team", "history",
}
_METRIC_FIELDS = {"name", "unit", "direction", "target", "kind", "how_measured", "is_proxy"}
_NEED_FIELDS = {"key", "as_a", "i_need", "so_that", "metrics"}
_CHANGE_FIELDS = {
    "name", "users", "evolution", *DESCRIPTION_LABELS,
    "add_metrics", "change_metrics", "remove_metrics",
    "add_needs", "change_needs", "remove_needs",
    "add_dependencies", "remove_dependencies",
}
_HISTORY_FIELDS = {
    "revise": {"action", "change_note", "changes", "status", "approved_by"},
    "alter": {"action", "by", "reason", "risk", "changes"},
    "replace_manager": {"action", "manager", "reason", "by"},
}


class DemoDataError(ValueError):
    """The demo's YAML does not describe a loadable organisation (a bug in the data)."""


@dataclass
class DemoResult:
    summary: str
    sign_ins: list[str] = field(default_factory=list)
    created: bool = False  # False when the demo was already loaded and nothing was written


# ---------------------------------------------------------------- reading the data


def read_demo_data(path: Path | str | None = None) -> dict:
    with open(path or DATA_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict) or not data.get("people"):
        raise DemoDataError("The demo data needs `people` and a mapping of `services`.")
    for name, spec in data["services"].items():
        unknown = set(spec) - _SERVICE_FIELDS
        if unknown:
            raise DemoDataError(f"{name}: unknown field(s) {', '.join(sorted(unknown))}.")
        for key, metric in (spec.get("metrics") or {}).items():
            if set(metric) - _METRIC_FIELDS:
                raise DemoDataError(f"{name}: metric {key} has unknown field(s) {', '.join(sorted(set(metric) - _METRIC_FIELDS))}.")
        for need in spec.get("needs") or []:
            if set(need) - _NEED_FIELDS:
                raise DemoDataError(f"{name}: need {need.get('i_need')!r} has unknown field(s).")
        for step in spec.get("history") or []:
            allowed = _HISTORY_FIELDS.get(step.get("action"))
            if allowed is None:
                raise DemoDataError(f"{name}: history action must be one of {', '.join(_HISTORY_FIELDS)}.")
            if set(step) - allowed:
                raise DemoDataError(f"{name}: history {step['action']} has unknown field(s) {', '.join(sorted(set(step) - allowed))}.")
            if set(step.get("changes") or {}) - _CHANGE_FIELDS:
                raise DemoDataError(f"{name}: unknown change(s) {', '.join(sorted(set(step['changes']) - _CHANGE_FIELDS))}.")
    return data


def dependency_order(services: dict[str, dict]) -> list[str]:
    """Service names with every provider before its consumers (first versions only),
    keeping the file's order where the dependencies allow it."""
    deps: dict[str, list[str]] = {}
    for name, spec in services.items():
        providers = [d["service"] for d in spec.get("dependencies") or []]
        for p in providers:
            if p not in services:
                raise DemoDataError(f"{name} depends on “{p}”, which is not a service in the demo.")
        deps[name] = providers
    placed: list[str] = []
    done: set[str] = set()
    remaining = list(services)
    while remaining:
        ready = next((n for n in remaining if all(p in done for p in deps[n])), None)
        if ready is None:
            raise DemoDataError("The demo's dependencies form a cycle among: " + ", ".join(remaining))
        placed.append(ready)
        done.add(ready)
        remaining.remove(ready)
    return placed


# ---------------------------------------------------------------- contracts


def _metric(key: str, spec: dict) -> dict:
    return {"key": key, **{f: spec[f] for f in _METRIC_FIELDS if f in spec}}


def _need(spec: dict) -> dict:
    return {f: spec[f] for f in _NEED_FIELDS if f in spec}


def _dependency(spec: dict) -> dict:
    return {"provider": spec["service"], "note": spec.get("note", "")}


def _first_content(name: str, spec: dict) -> dict:
    return {
        "name": name,
        "user_type": spec["users"],
        "evolution_stage": spec["evolution"],
        **{f: spec.get(f, "") for f in DESCRIPTION_LABELS},
        "metrics": [_metric(k, m) for k, m in (spec.get("metrics") or {}).items()],
        "needs": [_need(n) for n in spec.get("needs") or []],
        "dependencies": [_dependency(d) for d in spec.get("dependencies") or []],
    }


def _patched(content: dict, changes: dict, where: str) -> dict:
    """The content of a version with ``changes`` applied, in the shape clean_content takes."""
    out = copy.deepcopy(content)
    for src, dst in (("name", "name"), ("users", "user_type"), ("evolution", "evolution_stage")):
        if src in changes:
            out[dst] = changes[src]
    for f in DESCRIPTION_LABELS:
        if f in changes:
            out[f] = changes[f]

    metrics = {m["key"]: m for m in out["metrics"]}
    removed_metrics = set(changes.get("remove_metrics") or [])
    for key in removed_metrics:
        if metrics.pop(key, None) is None:
            raise DemoDataError(f"{where}: there is no metric “{key}” to remove.")
    for key, values in (changes.get("change_metrics") or {}).items():
        if key not in metrics:
            raise DemoDataError(f"{where}: there is no metric “{key}” to change.")
        metrics[key].update(values)
    for key, spec in (changes.get("add_metrics") or {}).items():
        if key in metrics:
            raise DemoDataError(f"{where}: metric “{key}” already exists.")
        metrics[key] = _metric(key, spec)
    out["metrics"] = list(metrics.values())

    needs = {n["key"]: n for n in out["needs"]}
    for key in changes.get("remove_needs") or []:
        if needs.pop(key, None) is None:
            raise DemoDataError(f"{where}: there is no need “{key}” to remove.")
    for key, values in (changes.get("change_needs") or {}).items():
        if key not in needs:
            raise DemoDataError(f"{where}: there is no need “{key}” to change.")
        needs[key].update(values)
    out["needs"] = list(needs.values()) + [_need(n) for n in changes.get("add_needs") or []]
    for need in out["needs"]:
        need["metrics"] = [k for k in need.get("metrics", []) if k not in removed_metrics]

    removed = set()
    for provider_name in changes.get("remove_dependencies") or []:
        removed.add(Service.objects.get(name=provider_name).slug)
    out["dependencies"] = [d for d in out["dependencies"] if d["provider"] not in removed] + [
        _dependency(d) for d in changes.get("add_dependencies") or []
    ]
    return out


# ---------------------------------------------------------------- loading


class _Loader:
    def __init__(self, data: dict, say: Callable[[str], None]):
        self.data = data
        self.say = say
        self.people: dict[str, Person] = {}
        self.roles = {r.name: r for r in ProfessionalRole.objects.all()}

    def person(self, email: str) -> Person:
        try:
            return self.people[email.lower()]
        except KeyError:
            raise DemoDataError(f"“{email}” is not one of the demo's people.") from None

    def service(self, name: str) -> Service:
        return Service.objects.select_related("manager").get(name=name)

    @property
    def executive(self) -> Person:
        return next(p for p in self.people.values() if p.role == Role.EXECUTIVE)

    def run(self) -> None:
        self.add_people()
        self.name_the_organisation()
        order = dependency_order(self.data["services"])
        self.say(f"Setting up {len(order)} services, providers before their consumers…")
        for name in order:
            self.set_up_service(name, self.data["services"][name])
        with_history = [(n, s["history"]) for n, s in self.data["services"].items() if s.get("history")]
        self.say(f"Writing the later history of {len(with_history)} services…")
        for name, steps in with_history:
            for step in steps:
                self.history_step(name, step)

    def add_people(self) -> None:
        people = self.data["people"]
        self.say(f"Adding {len(people)} people…")
        # the executive first: in an empty organisation, the first person must be it
        ordered = sorted(people, key=lambda p: p.get("role") != Role.EXECUTIVE)
        for spec in ordered:
            first = not self.people
            person = create_person(
                actor=None if first else self.executive,
                email=spec["email"],
                name=spec["name"],
                role=spec.get("role", Role.MEMBER),
                areas_of_interest=spec.get("areas_of_interest", ""),
                password=DEMO_PASSWORD,
            )
            self.people[person.email] = person

    def name_the_organisation(self) -> None:
        values = {k: v for k, v in (self.data.get("organisation") or {}).items() if k in TERM_FIELDS}
        if values:
            edit_terminology(actor=self.executive, values=values)

    def set_up_service(self, name: str, spec: dict) -> None:
        content = _first_content(name, spec)
        actor = self.person(spec["established_by"]) if spec.get("established_by") else self.executive
        manager = self.person(spec["manager"]) if spec.get("manager") else None
        if spec["stage"] == Lifecycle.DISCOVERY:
            service = actions.establish_service(actor=actor, content=content, manager=manager)
        else:
            service = actions.adopt_existing_service(
                actor=actor, content=content, lifecycle_stage=spec["stage"], manager=manager
            )
        for member in spec.get("team") or []:
            role = self.roles.get(member["role"])
            if role is None:
                raise DemoDataError(f"{name}: “{member['role']}” is not a role of the professional framework.")
            actions.add_team_member(
                actor=manager, service=service, person=self.person(member["person"]), role=role, level=member["level"]
            )

    def history_step(self, name: str, step: dict) -> None:
        service = self.service(name)
        kind = step["action"]
        where = f"{name}, {kind}"
        if kind == "replace_manager":
            actor = self.person(step["by"]) if step.get("by") else self.executive
            actions.appoint_manager(actor=actor, service=service, person=self.person(step["manager"]), reason=step["reason"])
        elif kind == "alter":
            actor = self.person(step["by"]) if step.get("by") else self.executive
            content = _patched(read_content(service.current_version), step.get("changes") or {}, where)
            actions.alter_contract(actor=actor, service=service, content=content, reason=step["reason"], risk=step["risk"])
        elif kind == "revise":
            status = step.get("status", VersionStatus.APPROVED)
            if status not in VersionStatus.values:
                raise DemoDataError(f"{where}: status must be one of {', '.join(VersionStatus.values)}.")
            manager = service.manager
            draft = actions.draft_contract_version(actor=manager, service=service, change_note=step.get("change_note", ""))
            content = _patched(read_content(draft), step.get("changes") or {}, where)
            draft = actions.edit_contract_draft(actor=manager, version=draft, content=content)
            if status != VersionStatus.DRAFT:
                draft = actions.submit_contract_version(actor=manager, version=draft)
            if status == VersionStatus.APPROVED:
                approver = self.person(step["approved_by"]) if step.get("approved_by") else self.executive
                actions.approve_contract_version(actor=approver, version=draft)


def _summary() -> str:
    services = Service.objects.count()
    needs = Need.objects.filter(version__service__current_version=F("version")).count()
    dependencies = Dependency.objects.filter(version__service__current_version=F("version")).count()
    people = Person.objects.count()
    return (
        f"Demo organisation ready: {services} services, {needs} needs, "
        f"{dependencies} dependencies, {people} people."
    )


def _sign_ins(data: dict) -> list[str]:
    titles = {p["email"].lower(): p.get("title", "") for p in data["people"]}
    chosen = data.get("sign_ins") or {}
    width = max(len(r) for r in SIGN_IN_ROLES) + 2
    lines = []
    for role in SIGN_IN_ROLES:
        email = (chosen.get(role) or "").lower()
        person = Person.objects.filter(email=email).first() if email else None
        if person is None:
            continue
        about = ", ".join(x for x in (person.name, titles.get(email)) if x)
        lines.append(f"{role:<{width}}{person.email} ({about})")
    return lines


def load_demo(verbose: bool = False, *, path: Path | str | None = None) -> DemoResult:
    """Load the demo organisation into an empty database, or do nothing if it is there.

    Raises InvalidInput if the database already holds a different organisation: the demo
    is never mixed into real data.
    """
    say = print if verbose else (lambda _message: None)
    data = read_demo_data(path)
    executive = next((p for p in data["people"] if p.get("role") == Role.EXECUTIVE), None)
    if executive is None:
        raise DemoDataError("The demo's people need one executive.")
    if Person.objects.filter(email__iexact=executive["email"]).exists():
        say("The demo organisation is already loaded; nothing to do.")
        return DemoResult(_summary(), _sign_ins(data), created=False)
    if Person.objects.exists():
        raise InvalidInput(
            "This database already holds another organisation; the demo loads only into an empty database "
            "(set OSOM_DATA_DIR or OSOM_DATABASE_URL to use a fresh one).",
            field="database",
        )
    with transaction.atomic():
        _Loader(data, say).run()
    return DemoResult(_summary(), _sign_ins(data), created=True)
