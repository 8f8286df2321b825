"""How a contract changed between two versions: a structured diff for pages and the API."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from osom.core.numbers import plain_number

from .contract import DESCRIPTION_LABELS, read_content
from .models import ContractVersion, Service
from .stages import Evolution, UserType

__all__ = ["ContractDiff", "diff_versions", "inline_diff"]

_HEADLINE = {"name": "Name", "user_type": "Users", "evolution_stage": "Evolution stage"}
_METRIC_FIELDS = {"name": "name", "unit": "unit", "direction": "direction", "target": "target", "kind": "kind",
                  "how_measured": "how it is measured", "is_proxy": "proxy"}


@dataclass
class Change:
    """One changed thing: ``what`` it is, ``before`` and ``after`` as text."""

    what: str
    before: str
    after: str
    key: str = ""

    @property
    def inline(self) -> SafeString:
        return inline_diff(self.before, self.after)


@dataclass
class ContractDiff:
    older: ContractVersion
    newer: ContractVersion
    fields: list[Change] = field(default_factory=list)
    needs_added: list[dict] = field(default_factory=list)
    needs_removed: list[dict] = field(default_factory=list)
    needs_changed: list[Change] = field(default_factory=list)
    metrics_added: list[dict] = field(default_factory=list)
    metrics_removed: list[dict] = field(default_factory=list)
    metrics_changed: list[Change] = field(default_factory=list)
    dependencies_added: list[dict] = field(default_factory=list)
    dependencies_removed: list[dict] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.fields, self.needs_added, self.needs_removed, self.needs_changed, self.metrics_added,
             self.metrics_removed, self.metrics_changed, self.dependencies_added, self.dependencies_removed)
        )

    def as_dict(self) -> dict:
        def ch(c: Change) -> dict:
            return {"what": c.what, "key": c.key, "before": c.before, "after": c.after}

        return {
            "from_version": self.older.number,
            "to_version": self.newer.number,
            "fields": [ch(c) for c in self.fields],
            "needs": {"added": self.needs_added, "removed": self.needs_removed, "changed": [ch(c) for c in self.needs_changed]},
            "metrics": {"added": self.metrics_added, "removed": self.metrics_removed, "changed": [ch(c) for c in self.metrics_changed]},
            "dependencies": {"added": self.dependencies_added, "removed": self.dependencies_removed},
        }


def inline_diff(before: str, after: str) -> SafeString:
    """Word-level diff as HTML with <del> and <ins>; every piece of text is escaped."""
    a, b = (before or "").split(" "), (after or "").split(" ")
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{escape(' '.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{escape(' '.join(b[j1:j2]))}</ins>")
    return mark_safe(" ".join(piece for piece in out if piece))  # pieces escaped above


def _need_text(n: dict) -> str:
    text = f"As a {n['as_a']}, I need {n['i_need']} so that {n['so_that']}"
    if n["metrics"]:
        text += f" [metrics: {', '.join(n['metrics'])}]"
    return text


def _metric_value(m: dict, f: str) -> str:
    value = m.get(f)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return plain_number(value) if hasattr(value, "normalize") else str(value)


def _label(field_name: str, value: str) -> str:
    if field_name == "user_type":
        return dict(UserType.choices).get(value, value)
    if field_name == "evolution_stage":
        return dict(Evolution.choices).get(value, value)
    return value


def diff_versions(older: ContractVersion, newer: ContractVersion) -> ContractDiff:
    """What changed from ``older`` to ``newer`` (either may be any version of the service)."""
    a, b = read_content(older), read_content(newer)
    diff = ContractDiff(older, newer)
    for f, label in {**_HEADLINE, **DESCRIPTION_LABELS}.items():
        if a[f] != b[f]:
            diff.fields.append(Change(label, _label(f, a[f]), _label(f, b[f]), key=f))

    a_needs, b_needs = {n["key"]: n for n in a["needs"]}, {n["key"]: n for n in b["needs"]}
    diff.needs_added = [{"key": k, "text": _need_text(n)} for k, n in b_needs.items() if k not in a_needs]
    diff.needs_removed = [{"key": k, "text": _need_text(n)} for k, n in a_needs.items() if k not in b_needs]
    for k in a_needs.keys() & b_needs.keys():
        before, after = _need_text(a_needs[k]), _need_text(b_needs[k])
        if before != after:
            diff.needs_changed.append(Change("Need", before, after, key=k))

    a_m, b_m = {m["key"]: m for m in a["metrics"]}, {m["key"]: m for m in b["metrics"]}
    def describe(m: dict) -> str:
        target = f", target {_metric_value(m, 'target')}" if m["target"] is not None else ""
        return f"{m['name']} ({m['unit']}{target})"

    diff.metrics_added = [{"key": k, "text": describe(m)} for k, m in b_m.items() if k not in a_m]
    diff.metrics_removed = [{"key": k, "text": describe(m)} for k, m in a_m.items() if k not in b_m]
    for k in a_m.keys() & b_m.keys():
        for f, label in _METRIC_FIELDS.items():
            before, after = _metric_value(a_m[k], f), _metric_value(b_m[k], f)
            if before != after:
                diff.metrics_changed.append(Change(f"{b_m[k]['name']}: {label}", before, after, key=k))

    a_d, b_d = {d["provider"]: d for d in a["dependencies"]}, {d["provider"]: d for d in b["dependencies"]}
    names = dict(Service.objects.filter(slug__in=a_d.keys() | b_d.keys()).values_list("slug", "name"))
    diff.dependencies_added = [{"provider": k, "name": names.get(k, k), "note": d["note"]} for k, d in b_d.items() if k not in a_d]
    diff.dependencies_removed = [{"provider": k, "name": names.get(k, k), "note": d["note"]} for k, d in a_d.items() if k not in b_d]
    diff.needs_changed.sort(key=lambda c: c.key)
    diff.metrics_changed.sort(key=lambda c: (c.key, c.what))
    return diff
