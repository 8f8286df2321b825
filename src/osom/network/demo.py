"""The demo organisation: Northbridge City Council, loaded by ``osom demo``.

The data lives in ``demo_organisation.yaml`` beside this module (the people and the
services as they entered OSOM), in ``osom/lifecycle/demo_lifecycle.yaml`` (what
happened to them since: assessments and their reports, budgets and spending) and in
``osom/governance/demo_governance.yaml`` (the executive's other levers: guidance,
mandates, disputes, proposals of new needs, deviations from the template).
Everything is created through the actions, as the people of the organisation would
create it, in one transaction: a failure leaves nothing half-loaded, and every write is
audited. Dates in the lifecycle and the governance are relative to the day of loading,
so the demo looks current whenever it is loaded.

The learning loop is in ``osom/learning/demo_learning.yaml``: Corrections of Error and
the executive's reviews of them, doctrine self-assessments, communities of practice and
open roles. It tells a story over months, so each of its steps is done as of the day it
says (see :func:`_as_of`): the times the actions record, and the learning figures worked
out from them, read as they would have.

The order: people, services and their history (with the governance's contract
revisions), then the Corrections of Error and their reviews (a piece of guidance draws
on one of them), then guidance and the services' decisions on it, then the lifecycle (so
a report published for a service that rejected guidance keeps the rejection, as the
model wants), then the rest of the governance, which needs the network as the
lifecycle leaves it (a mandate's saved filter must not choose a service the lifecycle
decommissions), then the rest of the learning loop.

Loading is safe to repeat: when the demo's executive is already in the database,
nothing is written and the same summary is returned, counted from the database.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import itertools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone

import osom.governance
import osom.learning
import osom.lifecycle
from osom.core.actions import TERM_FIELDS, create_person, edit_terminology
from osom.core.errors import InvalidInput
from osom.core.models import Person, Role
from osom.governance import actions as governance
from osom.governance.models import (
    Deviation,
    Dispute,
    Guidance,
    GuidanceDecision,
    Mandate,
    MandateTarget,
    Proposal,
)
from osom.learning import actions as learning
from osom.learning import communities
from osom.learning.actions import COE_TEXT_FIELDS
from osom.learning.models import (
    CoEReview,
    Community,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRound,
    OpenRole,
    Rating,
)
from osom.lifecycle import actions as lifecycle
from osom.lifecycle.models import (
    Assessment,
    AssessmentStatus,
    BudgetAllocation,
    Criterion,
)

from . import actions
from .contract import DESCRIPTION_LABELS, read_content
from .models import Dependency, Need, ProfessionalRole, Service
from .stages import Lifecycle, VersionStatus

__all__ = [
    "DATA_FILE",
    "DEMO_PASSWORD",
    "GOVERNANCE_FILE",
    "LEARNING_FILE",
    "LIFECYCLE_FILE",
    "DemoDataError",
    "DemoResult",
    "dependency_order",
    "financial_year",
    "load_demo",
    "read_demo_data",
    "read_governance_data",
    "read_learning_data",
    "read_lifecycle_data",
]

DEMO_PASSWORD = "osom-demo-2026"
DATA_FILE = Path(__file__).with_name("demo_organisation.yaml")
LIFECYCLE_FILE = Path(osom.lifecycle.__file__).with_name("demo_lifecycle.yaml")
GOVERNANCE_FILE = Path(osom.governance.__file__).with_name("demo_governance.yaml")
LEARNING_FILE = Path(osom.learning.__file__).with_name("demo_learning.yaml")

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
    "flag_for_decommissioning": {"action", "reason", "by"},
}

_LIFECYCLE_SECTIONS = {"cadence", "budgets", "reports", "spends", "reinvestments", "funding_requests", "upcoming"}
_CADENCE_FIELDS = {"set_by", "default_days", "services"}
_AGENDA_FIELDS = {"service", "kind", "held", "scheduled_by", "assessors", "agenda_note", "criteria"}
_REPORT_FIELDS = _AGENDA_FIELDS | {
    "decided_by", "result", "outcome", "summary", "published_by", "budget", "decommission", "reassessment", "addenda",
}
_UPCOMING_FIELDS = _AGENDA_FIELDS | {"agenda_published"}
_DECISION_FIELDS = {"decision", "did_well", "to_improve"}
_DECOMMISSION_FIELDS = {"condition", "reasons", "migration_path"}
_SPEND_FIELDS = {"service", "stage", "by", "amount", "day", "what"}
_REINVESTMENT_FIELDS = {"service", "by", "amount", "purpose"}
_FUNDING_FIELDS = {"service", "by", "kind", "amount", "rationale", "decision"}
_FUNDING_DECISION_FIELDS = {"by", "grant", "note", "amount"}

_GOVERNANCE_SECTIONS = {"revisions", "guidance", "reserved_acts", "disputes", "mandates", "proposals", "deviations"}
_GUIDANCE_FIELDS = {"title", "category", "source", "source_detail", "body", "drafted_by", "published_by",
                    "adopted_by", "rejected_by", "withdrawn"}
_MANDATE_FIELDS = {"title", "instruction", "due", "services", "scope_filter", "drafted_by", "issued_by", "progress"}
_PROGRESS_FIELDS = {"service", "status", "note"}
_DISPUTE_FIELDS = {"kind", "raised_by", "service", "with", "subject", "description", "resolved"}
_RESOLUTION_FIELDS = {"by", "lever", "mandate", "resolution"}
_PROPOSAL_FIELDS = {"title", "context", "proposed_by", "needs", "fold", "decline", "establish"}
_PROPOSED_NEED_FIELDS = {"as_a", "i_need", "so_that"}
_DEVIATION_FIELDS = {"title", "compromised", "positive", "negative", "governance", "review_in", "recorded_by", "retired"}

# the learning loop: loaded in two parts, the first before the guidance (see the module's docstring)
_LEARNING_BEFORE_GUIDANCE = ("coes", "reviews")
_LEARNING_AFTER_GOVERNANCE = ("meanings", "rounds", "communities", "open_roles")
_LEARNING_SECTIONS = {*_LEARNING_BEFORE_GUIDANCE, *_LEARNING_AFTER_GOVERNANCE}
_WHO_WHEN = {"by", "day"}
_COE_FIELDS = {"service", "title", "occurred", "users_affected", "written", "published", "guidance", *COE_TEXT_FIELDS,
               "timeline", "why_chains", "patterns", "actions"}
_ACTION_FIELDS = {"description", "owner", "due", "added", "done", "verified", "dropped"}
_REVIEW_FIELDS = {"title", "scheduled", "meets", "held"}
_ROUND_FIELDS = {"service", "title", "opened", "closed", "respondents", "ratings", "evidence"}
_COMMUNITY_FIELDS = {"name", "profession", "purpose", "formed", "members", "guidance", "endorsed"}
_OPEN_ROLE_FIELDS = {"service", "role", "level", "description", "posted", "closed"}
# "01-14" in the learning data: the last 14 January at least this many days before loading,
# so that what followed it (its write-up, review and actions) fits before the day of loading
ANCHOR_MARGIN_DAYS = 90
_ANCHORED_DAY = re.compile(r"(\d\d)-(\d\d)(?:\s*([+-])\s*(\d+))?")
_TIMELINE_AT = re.compile(r"(?:\+(\d+)\s+)?(\d\d?):(\d\d)")


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


def _check_fields(where: str, spec, allowed: set[str], required: set[str] = frozenset()) -> None:
    if not isinstance(spec, dict):
        raise DemoDataError(f"{where}: expected a mapping.")
    unknown = set(spec) - allowed
    if unknown:
        raise DemoDataError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}.")
    missing = required - set(spec)
    if missing:
        raise DemoDataError(f"{where}: missing field(s) {', '.join(sorted(missing))}.")


def read_lifecycle_data(path: Path | str | None = None) -> dict:
    """The demo's lifecycle (``demo_lifecycle.yaml``), its shape checked; the actions
    check the rest as it is loaded."""
    with open(path or LIFECYCLE_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    _check_fields("lifecycle", data, _LIFECYCLE_SECTIONS)
    if data.get("cadence"):
        _check_fields("cadence", data["cadence"], _CADENCE_FIELDS)
    for name, spec in (data.get("budgets") or {}).items():
        if isinstance(spec, dict):
            _check_fields(f"budgets, {name}", spec, {"amount", "note"}, {"amount"})
    for n, spec in enumerate(data.get("reports") or [], start=1):
        where = f"report {n} ({spec.get('service')})" if isinstance(spec, dict) else f"report {n}"
        _check_fields(where, spec, _REPORT_FIELDS, {"service", "kind", "held", "assessors", "criteria", "result", "outcome"})
        if not isinstance(spec["criteria"], dict):
            raise DemoDataError(f"{where}: criteria are keyed by slug, each with a decision.")
        for slug, decision in spec["criteria"].items():
            _check_fields(f"{where}, {slug}", decision, _DECISION_FIELDS, {"decision"})
        if spec.get("decommission"):
            _check_fields(f"{where}, decommission", spec["decommission"], _DECOMMISSION_FIELDS, {"condition", "reasons"})
        if spec.get("reassessment"):
            _check_fields(f"{where}, reassessment", spec["reassessment"], {"agenda_published_by"})
        for addendum in spec.get("addenda") or []:
            _check_fields(f"{where}, addendum", addendum, {"by", "text"}, {"text"})
    for n, spec in enumerate(data.get("upcoming") or [], start=1):
        _check_fields(f"upcoming assessment {n}", spec, _UPCOMING_FIELDS, {"service", "kind", "held", "assessors"})
        if "criteria" in spec and not isinstance(spec["criteria"], list):
            raise DemoDataError(f"upcoming assessment {n}: criteria are a list of slugs.")
    for n, spec in enumerate(data.get("spends") or [], start=1):
        _check_fields(f"spend {n}", spec, _SPEND_FIELDS, {"service", "by", "amount", "day", "what"})
    for n, spec in enumerate(data.get("reinvestments") or [], start=1):
        _check_fields(f"reinvestment {n}", spec, _REINVESTMENT_FIELDS, _REINVESTMENT_FIELDS)
    for n, spec in enumerate(data.get("funding_requests") or [], start=1):
        _check_fields(f"funding request {n}", spec, _FUNDING_FIELDS, {"service", "by", "kind", "rationale"})
        if spec.get("decision"):
            _check_fields(f"funding request {n}, decision", spec["decision"], _FUNDING_DECISION_FIELDS,
                          {"by", "grant", "note"})
    return data


def read_governance_data(path: Path | str | None = None) -> dict:
    """The demo's governance (``demo_governance.yaml``), its shape checked; the actions
    check the rest as it is loaded."""
    with open(path or GOVERNANCE_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    _check_fields("governance", data, _GOVERNANCE_SECTIONS)
    for name, steps in (data.get("revisions") or {}).items():
        for step in steps or []:
            allowed = _HISTORY_FIELDS.get(step.get("action") if isinstance(step, dict) else None)
            if allowed is None:
                raise DemoDataError(f"revisions, {name}: the action must be one of {', '.join(_HISTORY_FIELDS)}.")
            _check_fields(f"revisions, {name}", step, allowed, {"action"})
            if set(step.get("changes") or {}) - _CHANGE_FIELDS:
                raise DemoDataError(f"revisions, {name}: unknown change(s) "
                                    f"{', '.join(sorted(set(step['changes']) - _CHANGE_FIELDS))}.")
    for n, spec in enumerate(data.get("guidance") or [], start=1):
        where = f"guidance {n}"
        _check_fields(where, spec, _GUIDANCE_FIELDS, {"title", "category", "source", "body", "drafted_by"})
        if (spec.get("adopted_by") or spec.get("rejected_by") or spec.get("withdrawn")) and not spec.get("published_by"):
            raise DemoDataError(f"{where}: only published guidance is decided on or withdrawn.")
        if not isinstance(spec.get("rejected_by") or {}, dict):
            raise DemoDataError(f"{where}: rejected_by maps each service to its rationale.")
        if spec.get("withdrawn"):
            _check_fields(f"{where}, withdrawn", spec["withdrawn"], {"by", "reason"}, {"by", "reason"})
    if data.get("reserved_acts"):
        _check_fields("reserved_acts", data["reserved_acts"], {"set_by", "acts"}, {"acts"})
    mandate_titles = set()
    for n, spec in enumerate(data.get("mandates") or [], start=1):
        where = f"mandate {n}"
        _check_fields(where, spec, _MANDATE_FIELDS, {"title", "instruction", "due", "drafted_by"})
        mandate_titles.add(spec["title"])
        if spec.get("progress") and not spec.get("issued_by"):
            raise DemoDataError(f"{where}: only an issued mandate has progress.")
        for step in spec.get("progress") or []:
            _check_fields(f"{where}, progress", step, _PROGRESS_FIELDS, {"service", "status"})
            if step["status"] not in (MandateTarget.Status.ACKNOWLEDGED, MandateTarget.Status.DONE):
                raise DemoDataError(f"{where}, {step['service']}: status is acknowledged or done.")
    for n, spec in enumerate(data.get("disputes") or [], start=1):
        where = f"dispute {n}"
        _check_fields(where, spec, _DISPUTE_FIELDS, {"subject", "description"})
        if spec.get("kind", Dispute.Kind.SERVICES) == Dispute.Kind.SERVICES and not spec.get("service"):
            raise DemoDataError(f"{where}: a dispute between services names the service that raises it.")
        if spec.get("resolved"):
            _check_fields(f"{where}, resolved", spec["resolved"], _RESOLUTION_FIELDS, {"by", "lever", "resolution"})
            mandate = spec["resolved"].get("mandate")
            if mandate and mandate not in mandate_titles:
                raise DemoDataError(f"{where}: “{mandate}” is not one of the demo's mandates.")
    for n, spec in enumerate(data.get("proposals") or [], start=1):
        where = f"proposal {n}"
        _check_fields(where, spec, _PROPOSAL_FIELDS, {"title", "proposed_by", "needs"})
        for need in spec["needs"]:
            _check_fields(f"{where}, need", need, _PROPOSED_NEED_FIELDS)
        decisions = [k for k in ("fold", "decline", "establish") if spec.get(k)]
        if len(decisions) > 1:
            raise DemoDataError(f"{where}: decide it once: fold, decline or establish.")
        if spec.get("fold"):
            _check_fields(f"{where}, fold", spec["fold"], {"into", "by", "note"}, {"into"})
        if spec.get("decline"):
            _check_fields(f"{where}, decline", spec["decline"], {"by", "reason"}, {"reason"})
        if spec.get("establish"):
            establish = spec["establish"]
            _check_fields(f"{where}, establish", establish, {"by", "manager", "budget", "service"}, {"service"})
            unknown = set(establish["service"]) - (_SERVICE_FIELDS | {"name"})
            if unknown:
                raise DemoDataError(f"{where}, establish: unknown field(s) {', '.join(sorted(unknown))}.")
            if establish.get("budget"):
                _check_fields(f"{where}, budget", establish["budget"], {"amount", "allocated_by", "note"}, {"amount"})
    for n, spec in enumerate(data.get("deviations") or [], start=1):
        where = f"deviation {n}"
        _check_fields(where, spec, _DEVIATION_FIELDS, _DEVIATION_FIELDS - {"retired", "recorded_by"})
        if spec.get("retired"):
            _check_fields(f"{where}, retired", spec["retired"], {"by", "reason"}, {"reason"})
    return data


def _check_list(where: str, value) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise DemoDataError(f"{where}: expected a list.")
    return value


def _check_coe(where: str, spec) -> None:
    _check_fields(where, spec, _COE_FIELDS, {"service", "title", "occurred", "written"})
    _check_fields(f"{where}, written", spec["written"], _WHO_WHEN, _WHO_WHEN)
    if spec.get("published"):
        _check_fields(f"{where}, published", spec["published"], _WHO_WHEN, _WHO_WHEN)
    for event in _check_list(f"{where}, timeline", spec.get("timeline")):
        _check_fields(f"{where}, timeline", event, {"at", "what"}, {"at", "what"})
        if not _TIMELINE_AT.fullmatch(str(event["at"]).strip()):
            raise DemoDataError(f"{where}, timeline: “{event['at']}” is not a time: use HH:MM, or +1 HH:MM for the next day.")
    for chain in _check_list(f"{where}, why_chains", spec.get("why_chains")):
        _check_fields(f"{where}, why chain", chain, {"question", "whys"}, {"question", "whys"})
    patterns = spec.get("patterns") or {}
    if not isinstance(patterns, dict):
        raise DemoDataError(f"{where}: patterns map each pattern's short name to its effect.")
    for slug, effect in patterns.items():
        _check_fields(f"{where}, {slug}", effect, {"effect", "note"}, {"effect"})
    for n, action in enumerate(_check_list(f"{where}, actions", spec.get("actions")), start=1):
        at = f"{where}, action {n}"
        _check_fields(at, action, _ACTION_FIELDS, {"description", "owner", "due"})
        if action.get("added"):
            _check_fields(f"{at}, added", action["added"], _WHO_WHEN, _WHO_WHEN)
        if action.get("done"):
            _check_fields(f"{at}, done", action["done"], {"by", "day", "note"}, {"day"})
        if action.get("verified"):
            _check_fields(f"{at}, verified", action["verified"], {"by", "day", "note"}, _WHO_WHEN)
            if not action.get("done"):
                raise DemoDataError(f"{at}: only an action done is verified.")
        if action.get("dropped"):
            _check_fields(f"{at}, dropped", action["dropped"], {"by", "day", "reason"}, {"day", "reason"})
            if action.get("done"):
                raise DemoDataError(f"{at}: an action is done or dropped, not both.")
    if not spec.get("published") and spec.get("guidance"):
        raise DemoDataError(f"{where}: guidance draws only on a published Correction of Error.")


_DAY_FIELDS = {"day", "occurred", "due", "meets", "posted"}


def _check_days(where: str, value) -> None:
    """Every day in the learning data is a number of days from loading, or "MM-DD[+N]"."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in _DAY_FIELDS:
                if not (isinstance(item, int) and not isinstance(item, bool)) and not (
                        isinstance(item, str) and _ANCHORED_DAY.fullmatch(item.strip())):
                    raise DemoDataError(f"{where}: “{item}” is not a day: give a number of days from the day of "
                                        "loading, or a day of the year such as \"01-14\", or \"01-14+28\" for 28 "
                                        "days after it.")
            else:
                _check_days(where, item)
    elif isinstance(value, list):
        for item in value:
            _check_days(where, item)


def read_learning_data(path: Path | str | None = None) -> dict:
    """The demo's learning loop (``demo_learning.yaml``), its shape checked; the actions
    check the rest as it is loaded."""
    with open(path or LEARNING_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    _check_fields("learning", data, _LEARNING_SECTIONS)
    for section in _LEARNING_SECTIONS:
        _check_days(section, data.get(section))
    titles = set()
    for n, spec in enumerate(_check_list("coes", data.get("coes")), start=1):
        where = f"CoE {n}" + (f" (“{spec['title']}”)" if isinstance(spec, dict) and spec.get("title") else "")
        _check_coe(where, spec)
        if spec["title"] in titles:
            raise DemoDataError(f"{where}: two Corrections of Error have this title; reviews name them by title.")
        titles.add(spec["title"])
    for n, spec in enumerate(_check_list("reviews", data.get("reviews")), start=1):
        where = f"review {n}"
        _check_fields(where, spec, _REVIEW_FIELDS, {"scheduled", "meets"})
        _check_fields(f"{where}, scheduled", spec["scheduled"], _WHO_WHEN, _WHO_WHEN)
        if spec.get("held"):
            _check_fields(f"{where}, held", spec["held"], {"by", "notes", "coes"}, {"coes"})
            unknown = set(spec["held"]["coes"] or {}) - titles
            if unknown:
                raise DemoDataError(f"{where}: no Correction of Error is called “{min(unknown)}”.")
    for n, spec in enumerate(_check_list("meanings", data.get("meanings")), start=1):
        _check_fields(f"meaning {n}", spec, {"pattern", "by", "day", "meaning"}, {"pattern", "by", "day", "meaning"})
    for n, spec in enumerate(_check_list("rounds", data.get("rounds")), start=1):
        where = f"round {n}" + (f" ({spec['service']})" if isinstance(spec, dict) and spec.get("service") else "")
        _check_fields(where, spec, _ROUND_FIELDS, {"opened", "respondents", "ratings"})
        _check_fields(f"{where}, opened", spec["opened"], _WHO_WHEN, _WHO_WHEN)
        if spec.get("closed"):
            _check_fields(f"{where}, closed", spec["closed"], _WHO_WHEN, _WHO_WHEN)
        people = []
        for respondent in _check_list(f"{where}, respondents", spec["respondents"]):
            _check_fields(f"{where}, respondent", respondent, {"person", "day"}, {"person", "day"})
            people.append(respondent["person"])
        if not isinstance(spec["ratings"], dict):
            raise DemoDataError(f"{where}: ratings map each pattern's short name to its ratings.")
        for slug, ratings in spec["ratings"].items():
            if not isinstance(ratings, list) or len(ratings) != len(people):
                raise DemoDataError(f"{where}, {slug}: give one rating per respondent ({len(people)}), ~ for none.")
            wrong = [r for r in ratings if r is not None and r not in Rating.values]
            if wrong:
                raise DemoDataError(f"{where}, {slug}: “{wrong[0]}” is not good, partly, weak, unknown or ~.")
        for item in _check_list(f"{where}, evidence", spec.get("evidence")):
            _check_fields(f"{where}, evidence", item, {"person", "pattern", "text"}, {"person", "pattern", "text"})
            if item["person"] not in people:
                raise DemoDataError(f"{where}, evidence: {item['person']} is not one of the respondents.")
            if (spec["ratings"].get(item["pattern"]) or [None] * len(people))[people.index(item["person"])] is None:
                raise DemoDataError(f"{where}, evidence: {item['person']} gives evidence for “{item['pattern']}” "
                                    "without rating it.")
    for n, spec in enumerate(_check_list("communities", data.get("communities")), start=1):
        where = f"community {n}"
        _check_fields(where, spec, _COMMUNITY_FIELDS, {"name", "profession", "purpose", "formed"})
        _check_fields(f"{where}, formed", spec["formed"], _WHO_WHEN, _WHO_WHEN)
        for member in _check_list(f"{where}, members", spec.get("members")):
            _check_fields(f"{where}, member", member, {"person", "day"}, {"person", "day"})
        for item in _check_list(f"{where}, guidance", spec.get("guidance")):
            _check_fields(f"{where}, guidance", item, {"kind", "title", "day", "body"}, {"kind", "title", "day", "body"})
        if spec.get("endorsed"):
            _check_fields(f"{where}, endorsed", spec["endorsed"], _WHO_WHEN, _WHO_WHEN)
    for n, spec in enumerate(_check_list("open_roles", data.get("open_roles")), start=1):
        _check_fields(f"open role {n}", spec, _OPEN_ROLE_FIELDS, {"service", "role", "level", "posted"})
        if spec.get("closed"):
            _check_fields(f"open role {n}, closed", spec["closed"], {"day", "filled"}, {"day", "filled"})
    return data


def _check_guidance_links(learning_data: dict, gov: dict) -> None:
    """Each CoE that names guidance drawn from it names a piece of the governance's guidance
    whose source is a Correction of Error, and no guidance draws on two."""
    sources = {g["title"]: g.get("source") for g in gov.get("guidance") or []}
    drawn: set[str] = set()
    for spec in learning_data.get("coes") or []:
        title = spec.get("guidance")
        if not title:
            continue
        if title not in sources:
            raise DemoDataError(f"CoE “{spec['title']}”: there is no guidance called “{title}” in the governance.")
        if sources[title] != Guidance.Source.COE:
            raise DemoDataError(f"CoE “{spec['title']}”: the guidance “{title}” does not give a Correction of Error "
                                "as its source.")
        if title in drawn:
            raise DemoDataError(f"The guidance “{title}” is drawn from two Corrections of Error; it links to one.")
        drawn.add(title)


# ---------------------------------------------------------------- the demo's clock

_REAL_DATETIME = dt.datetime


class _AnyDatetime(type):
    """The clock's datetime class still recognises every real datetime as one of its own."""

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, _REAL_DATETIME)


@contextmanager
def _as_of(moment: dt.datetime) -> Iterator[None]:
    """Do what is inside as if it were ``moment`` (aware), the clock running on from it.

    The learning loop's story runs over months: a CoE is written one day and reviewed
    weeks later, an action is done before or after its due date. Its steps are done
    through the actions as of their day, so that what the actions record (and the
    audit log, and the learning figures worked out from it) reads as it happened.
    ``timezone.now()`` is what the actions call, and the model fields that default to
    the time take it from the ``datetime`` class it uses: both read the clock. The
    demo's loading is one command doing one thing at a time, so nothing else runs
    while the clock is set; it is put back however the step ends.
    """
    started = time.monotonic()

    def now() -> dt.datetime:
        return (moment + dt.timedelta(seconds=time.monotonic() - started)).astimezone(dt.UTC)

    class Clock(_REAL_DATETIME, metaclass=_AnyDatetime):
        @classmethod
        def now(cls, tz=None):
            return now().astimezone(tz) if tz is not None else now().astimezone().replace(tzinfo=None)

    saved = timezone.now, timezone.datetime
    timezone.now, timezone.datetime = now, Clock
    try:
        yield
    finally:
        timezone.now, timezone.datetime = saved


def financial_year(day: dt.date) -> tuple[str, dt.date]:
    """The UK financial year ``day`` falls in, as the council names it ("2026-27" from
    1 April 2026 to 31 March 2027), and the day it began."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}", dt.date(first, 4, 1)


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
    def __init__(self, data: dict, say: Callable[[str], None], life: dict | None = None, gov: dict | None = None,
                 learning_data: dict | None = None):
        self.data = data
        self.life = life or {}
        self.gov = gov or {}
        self.learning = learning_data or {}
        self.say = say
        self.people: dict[str, Person] = {}
        self.roles = {r.name: r for r in ProfessionalRole.objects.all()}
        self.started = timezone.now()
        self.today = timezone.localdate()
        self.period, self.period_start = financial_year(self.today)
        # what the learning loop's steps make, for its later steps to act on
        self.coes: dict[str, CorrectionOfError] = {}
        self.coe_actions: dict[tuple[str, int], CorrectiveAction] = {}
        self.coe_for_guidance: dict[str, CorrectionOfError] = {}
        self.reviews: dict[int, CoEReview] = {}
        self.rounds: dict[int, DoctrineRound] = {}
        self.communities: dict[str, Community] = {}
        self.openings: dict[int, OpenRole] = {}

    def person(self, email: str) -> Person:
        try:
            return self.people[email.lower()]
        except KeyError:
            raise DemoDataError(f"“{email}” is not one of the demo's people.") from None

    def service(self, name: str) -> Service:
        try:
            return Service.objects.select_related("manager").get(name=name)
        except Service.DoesNotExist:
            raise DemoDataError(f"“{name}” is not one of the demo's services.") from None

    def actor(self, email: str | None) -> Person:
        """The person named, or the executive when nobody is."""
        return self.person(email) if email else self.executive

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
        revisions = self.gov.get("revisions") or {}
        if revisions:
            self.say(f"Revising {_count(revisions, 'more contract')}…")
        for name, steps in revisions.items():
            for step in steps or []:
                self.history_step(name, step)
        self.learn(_LEARNING_BEFORE_GUIDANCE)
        self.publish_guidance()
        self.run_lifecycle()
        self.run_governance()
        self.learn(_LEARNING_AFTER_GOVERNANCE)
        # last: the services' measurements, capital flow and maps, on the network as all the rest leaves it
        # (imported here because that module builds on this one's clock)
        from osom.fitness.demo_fitness import load_fitness_demo
        load_fitness_demo(say=self.say)

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
        elif kind == "flag_for_decommissioning":
            actor = self.person(step["by"]) if step.get("by") else service.manager
            actions.flag_for_decommissioning(actor=actor, service=service, reason=step["reason"])
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

    # ------------------------------------------------------------ the lifecycle

    def run_lifecycle(self) -> None:
        life = self.life
        if life.get("cadence"):
            self.say("Setting how often live services are assessed…")
            self.set_cadence(life["cadence"])
        budgets = {k: v for k, v in (life.get("budgets") or {}).items() if k != "allocated_by"}
        if budgets:
            self.say(f"Allocating budgets for {self.period} to {len(budgets)} services…")
            by = self.actor((life.get("budgets") or {}).get("allocated_by"))
            for name, spec in budgets.items():
                spec = spec if isinstance(spec, dict) else {"amount": spec}
                lifecycle.allocate_budget(actor=by, service=self.service(name), period=self.period,
                                          amount=spec["amount"], note=spec.get("note", ""))
        reports = life.get("reports") or []
        if reports:
            self.say(f"Holding {len(reports)} assessments and publishing their reports…")
            for spec in reports:
                self.assess(spec)
        spends, reinvestments = life.get("spends") or [], life.get("reinvestments") or []
        requests = life.get("funding_requests") or []
        if spends or reinvestments or requests:
            self.say(f"Recording {_count(spends, 'spend')}, {_count(reinvestments, 're-investment')} of savings "
                     f"and {_count(requests, 'request')} for more money or less scope…")
        for spec in spends:
            self.spend(spec)
        for spec in reinvestments:
            lifecycle.reinvest_savings(actor=self.person(spec["by"]), allocation=self.allocation(spec["service"]),
                                       amount=spec["amount"], purpose=spec["purpose"])
        for spec in requests:
            self.funding_request(spec)
        upcoming = life.get("upcoming") or []
        if upcoming:
            self.say(f"Scheduling {len(upcoming)} assessments to come…")
            for spec in upcoming:
                assessment = self.schedule(spec, spec.get("criteria"))
                if spec.get("agenda_published"):
                    lifecycle.publish_assessment_agenda(actor=self.actor(spec.get("scheduled_by")), assessment=assessment)

    def set_cadence(self, spec: dict) -> None:
        by = self.actor(spec.get("set_by"))
        if spec.get("default_days"):
            lifecycle.set_assessment_cadence(actor=by, days=spec["default_days"])
        for name, days in (spec.get("services") or {}).items():
            lifecycle.set_assessment_cadence(actor=by, days=days, service=self.service(name))

    def day(self, offset) -> dt.date:
        if not isinstance(offset, int):
            raise DemoDataError(f"“{offset}” is not a number of days from the day of loading.")
        return self.today + dt.timedelta(days=offset)

    def criteria(self, slugs, where: str) -> list[Criterion] | None:
        if slugs is None:
            return None  # the criteria that suit the stage
        found = Criterion.objects.in_bulk(list(slugs), field_name="slug")
        missing = [s for s in slugs if s not in found]
        if missing:
            raise DemoDataError(f"{where}: no criterion has the slug “{missing[0]}”.")
        return [found[s] for s in slugs]

    def schedule(self, spec: dict, criteria) -> Assessment:
        service = self.service(spec["service"])
        return lifecycle.schedule_assessment(
            actor=self.actor(spec.get("scheduled_by")), service=service, kind=spec["kind"],
            scheduled_for=self.day(spec["held"]), assessors=[self.person(e) for e in spec["assessors"]],
            criteria=self.criteria(criteria, f"{service.name}, assessment"), agenda_note=spec.get("agenda_note", ""),
        )

    def assess(self, spec: dict) -> None:
        """An assessment from start to end: scheduled, its agenda published, the
        decisions recorded and the report published, with what follows from it."""
        scheduler = self.actor(spec.get("scheduled_by"))
        assessment = self.schedule(spec, list(spec["criteria"]))
        assessment = lifecycle.publish_assessment_agenda(actor=scheduler, assessment=assessment)
        assessment = lifecycle.record_assessment_decisions(
            actor=self.actor(spec.get("decided_by")), assessment=assessment, decisions=spec["criteria"],
            result=spec["result"], outcome=spec["outcome"], summary=spec.get("summary", ""),
        )
        ending = spec.get("decommission") or {}
        assessment = lifecycle.publish_assessment_report(
            actor=self.actor(spec.get("published_by")), assessment=assessment,
            budget_amount=spec.get("budget"), budget_period=self.period if spec.get("budget") else "",
            decommission_condition=ending.get("condition", ""), decommission_reasons=ending.get("reasons", ""),
            migration_path=ending.get("migration_path", ""),
        )
        if spec.get("reassessment"):
            reassessment = assessment.reassessments.filter(status=AssessmentStatus.SCHEDULED).first()
            if reassessment is None:
                raise DemoDataError(f"{spec['service']}: the report scheduled no reassessment (only Not Met does).")
            lifecycle.publish_assessment_agenda(actor=self.actor(spec["reassessment"].get("agenda_published_by")),
                                                assessment=reassessment)
        for addendum in spec.get("addenda") or []:
            lifecycle.add_report_addendum(actor=self.actor(addendum.get("by")), assessment=assessment,
                                          text=addendum["text"])

    def allocation(self, name: str, stage: str | None = None) -> BudgetAllocation:
        """The service's latest allocation for the period, at ``stage`` (default: the
        stage it is at now)."""
        service = self.service(name)
        stage = stage or service.lifecycle_stage
        allocation = (BudgetAllocation.objects.filter(service=service, period=self.period, stage=stage)
                      .order_by("-allocated_at", "-pk").first())
        if allocation is None:
            raise DemoDataError(f"{name} has no budget for {self.period} at {stage} to spend from.")
        return allocation

    def spend(self, spec: dict) -> None:
        # money spent in this financial year, on or before the day of loading
        day = min(max(self.day(spec["day"]), self.period_start), self.today)
        last_month = (day.replace(day=1) - dt.timedelta(days=1)).strftime("%B")
        lifecycle.record_spend(
            actor=self.person(spec["by"]), allocation=self.allocation(spec["service"], spec.get("stage")),
            amount=spec["amount"], spent_on=day, description=spec["what"].replace("{last_month}", last_month),
        )

    def funding_request(self, spec: dict) -> None:
        request = lifecycle.request_funding(
            actor=self.person(spec["by"]), service=self.service(spec["service"]), kind=spec["kind"],
            period=self.period, rationale=spec["rationale"], amount=spec.get("amount"),
        )
        decision = spec.get("decision")
        if decision:
            lifecycle.decide_funding_request(actor=self.actor(decision.get("by")), request=request,
                                             grant=bool(decision["grant"]), note=decision["note"],
                                             amount=decision.get("amount"))


    # ------------------------------------------------------------ the governance

    def publish_guidance(self) -> None:
        """Guidance, and each service's decision on it, before the lifecycle's reports:
        a report keeps the guidance its service had rejected on the day."""
        items = self.gov.get("guidance") or []
        if not items:
            return
        self.say(f"Writing {_count(items, 'piece')} of guidance, and the services' decisions on it…")
        for spec in items:
            guidance = governance.draft_guidance(
                actor=self.actor(spec.get("drafted_by")), title=spec["title"], body=spec["body"], source=spec["source"],
                category=spec["category"], source_detail=spec.get("source_detail", ""),
                coe=self.coe_for_guidance.get(spec["title"]))
            if not spec.get("published_by"):
                continue
            guidance = governance.publish_guidance(actor=self.person(spec["published_by"]), guidance=guidance)
            decisions = [(name, GuidanceDecision.Decision.ADOPT, "") for name in spec.get("adopted_by") or []]
            decisions += [(name, GuidanceDecision.Decision.REJECT, why)
                          for name, why in (spec.get("rejected_by") or {}).items()]
            for name, decision, rationale in decisions:
                service = self.service(name)
                governance.decide_guidance(actor=service.manager, guidance=guidance, service=service,
                                           decision=decision, rationale=rationale)
            if spec.get("withdrawn"):
                governance.withdraw_guidance(actor=self.person(spec["withdrawn"]["by"]), guidance=guidance,
                                             reason=spec["withdrawn"]["reason"])

    def run_governance(self) -> None:
        """The executive's other levers, on the network as the lifecycle left it."""
        gov = self.gov
        if gov.get("reserved_acts"):
            spec = gov["reserved_acts"]
            self.say("Choosing the acts the executive keeps to itself…")
            governance.set_reserved_acts(actor=self.actor(spec.get("set_by")), acts=list(spec["acts"]))
        # disputes are raised first: one of them is resolved by a mandate issued after it
        if gov.get("disputes"):
            self.say(f"Raising {_count(gov['disputes'], 'dispute')} between services and about an evaluation…")
        disputes = [(spec, self.raise_dispute(spec)) for spec in gov.get("disputes") or []]
        mandates = gov.get("mandates") or []
        if mandates:
            self.say(f"Drafting {_count(mandates, 'mandate')}, issuing them and recording the services' progress…")
        issued = {spec["title"]: self.mandate(spec) for spec in mandates}
        resolved = [(spec, dispute) for spec, dispute in disputes if spec.get("resolved")]
        if resolved:
            self.say(f"Mediating {_count(resolved, 'dispute')}…")
        for spec, dispute in resolved:
            how = spec["resolved"]
            governance.resolve_dispute(actor=self.actor(how.get("by")), dispute=dispute, resolution=how["resolution"],
                                       lever=how["lever"], mandate=issued[how["mandate"]] if how.get("mandate") else None)
        proposals = gov.get("proposals") or []
        if proposals:
            self.say(f"Proposing needs in {_count(proposals, 'proposal')} and deciding what to do with them…")
        for spec in proposals:
            self.proposal(spec)
        deviations = gov.get("deviations") or []
        if deviations:
            self.say(f"Recording {_count(deviations, 'deviation')} from the template…")
        for spec in deviations:
            deviation = governance.record_deviation(
                actor=self.actor(spec.get("recorded_by")), title=spec["title"], compromised=spec["compromised"],
                positive=spec["positive"], negative=spec["negative"], governance=spec["governance"],
                review_on=self.day(spec["review_in"]))
            if spec.get("retired"):
                governance.retire_deviation(actor=self.actor(spec["retired"].get("by")), deviation=deviation,
                                            reason=spec["retired"]["reason"])

    def raise_dispute(self, spec: dict) -> Dispute:
        kind = spec.get("kind", Dispute.Kind.SERVICES)
        service = self.service(spec["service"]) if spec.get("service") else None
        other = self.service(spec["with"]) if spec.get("with") else None
        if spec.get("raised_by"):
            actor = self.person(spec["raised_by"])
        elif service is not None:
            actor = service.manager
        else:
            raise DemoDataError(f"dispute “{spec['subject']}”: say who raised it.")
        return governance.raise_dispute(actor=actor, subject=spec["subject"], description=spec["description"],
                                        service=service, other_service=other, kind=kind)

    def mandate(self, spec: dict) -> Mandate:
        services = [self.service(name) for name in spec.get("services") or []]
        mandate = governance.draft_mandate(
            actor=self.person(spec["drafted_by"]), title=spec["title"], instruction=spec["instruction"],
            due_date=self.day(spec["due"]), services=services, scope_filter=spec.get("scope_filter"))
        if not spec.get("issued_by"):
            return mandate
        mandate = governance.issue_mandate(actor=self.person(spec["issued_by"]), mandate=mandate)
        for step in spec.get("progress") or []:
            target = mandate.targets.select_related("service").filter(service__name=step["service"]).first()
            if target is None:
                raise DemoDataError(f"{spec['title']}: the mandate does not apply to {step['service']}.")
            manager = target.service.manager
            if step["status"] == MandateTarget.Status.DONE:
                governance.report_mandate_progress(actor=manager, target=target, note=step.get("note", ""), done=True)
            elif step.get("note"):
                governance.report_mandate_progress(actor=manager, target=target, note=step["note"])
            else:
                governance.acknowledge_mandate(actor=manager, target=target)
        return mandate

    def proposal(self, spec: dict) -> None:
        proposal = governance.propose_needs(actor=self.person(spec["proposed_by"]), title=spec["title"],
                                            needs=spec["needs"], context=spec.get("context", ""))
        if spec.get("fold"):
            fold = spec["fold"]
            governance.fold_proposal(actor=self.actor(fold.get("by")), proposal=proposal,
                                     service=self.service(fold["into"]), note=fold.get("note", ""))
        elif spec.get("decline"):
            governance.decline_proposal(actor=self.actor(spec["decline"].get("by")), proposal=proposal,
                                        reason=spec["decline"]["reason"])
        elif spec.get("establish"):
            establish = spec["establish"]
            contract = dict(establish["service"])
            content = _first_content(contract.pop("name", spec["title"]), contract)
            service = governance.establish_from_proposal(
                actor=self.actor(establish.get("by")), proposal=proposal, content=content,
                manager=self.person(establish["manager"]) if establish.get("manager") else None)
            budget = establish.get("budget")
            if budget:
                # establishing is publishing a contract, appointing a manager and funding it (model 5.2)
                lifecycle.allocate_budget(actor=self.actor(budget.get("allocated_by")), service=service,
                                          period=self.period, amount=budget["amount"], note=budget.get("note", ""))

    # ------------------------------------------------------------ the learning loop

    def when(self, spec) -> dt.date:
        """The day a step of the learning loop happened: days from the day of loading, or
        "MM-DD" (the last such day at least ANCHOR_MARGIN_DAYS before it), "+N" or "-N" days."""
        if isinstance(spec, int) and not isinstance(spec, bool):
            return self.day(spec)
        found = _ANCHORED_DAY.fullmatch(str(spec).strip())
        if found is None:
            raise DemoDataError(f"“{spec}” is not a day: give a number of days from the day of loading, "
                                "or a day of the year such as \"01-14\", or \"01-14+28\" for 28 days after it.")
        latest = self.today - dt.timedelta(days=ANCHOR_MARGIN_DAYS)
        month, day = int(found[1]), int(found[2])
        try:
            anchor = dt.date(latest.year, month, day)
            if anchor > latest:
                anchor = dt.date(latest.year - 1, month, day)
        except ValueError:
            raise DemoDataError(f"“{spec}” is not a day of the year (month-day).") from None
        shift = int(found[4] or 0)
        return anchor + dt.timedelta(days=-shift if found[3] == "-" else shift)

    def learn(self, sections: tuple[str, ...]) -> None:
        """Plan the steps of some sections of the learning loop, then do them in the order
        of their days (the file's order within a day), each as of its day, in office hours."""
        steps: list[tuple[dt.date, int, Callable[[], object]]] = []

        def on(day, step: Callable[[], object]) -> None:
            steps.append((self.when(day), len(steps), step))

        for section in sections:
            if self.learning.get(section):
                getattr(self, f"plan_{section}")(on)
        if not steps:
            return
        steps.sort(key=lambda s: (s[0], s[1]))
        for day, same_day in itertools.groupby(steps, key=lambda s: s[0]):
            for n, (_, _, step) in enumerate(same_day):
                at = timezone.make_aware(dt.datetime.combine(day, dt.time(9))) + dt.timedelta(minutes=20 * min(n, 30))
                with _as_of(min(at, self.started)):
                    step()

    def plan_coes(self, on) -> None:
        coes = self.learning["coes"]
        published = [c for c in coes if c.get("published")]
        self.say(f"Writing {_count(coes, 'Correction')} of Error ({len(published)} published) and their "
                 f"{sum(len(c.get('actions') or []) for c in coes)} corrective actions…")
        for spec in coes:
            on(spec["written"]["day"], functools.partial(self.write_coe, spec))
            actions_ = list(enumerate(spec.get("actions") or []))
            for n, action in actions_:
                if action.get("added"):
                    on(action["added"]["day"], functools.partial(self.add_corrective_action, spec, n, action))
            if spec.get("published"):
                on(spec["published"]["day"], functools.partial(self.publish_coe, spec))
            for n, action in actions_:
                for change in ("done", "verified", "dropped"):
                    if action.get(change):
                        on(action[change]["day"], functools.partial(self.change_corrective_action, spec, n, action, change))

    @staticmethod
    def _made(made: dict, key, what: str):
        """What an earlier step made, for a later one to act on; a step dated before the
        one that makes what it acts on is a mistake in the data."""
        try:
            return made[key]
        except KeyError:
            raise DemoDataError(f"{what}: a step is dated before the one it follows.") from None

    def _coe(self, title: str) -> CorrectionOfError:
        return self._made(self.coes, title, f"Correction of Error “{title}”")

    def write_coe(self, spec: dict) -> None:
        occurred = self.when(spec["occurred"])
        timeline = []
        for event in spec.get("timeline") or []:
            found = _TIMELINE_AT.fullmatch(str(event["at"]).strip())
            day = occurred + dt.timedelta(days=int(found[1] or 0))
            timeline.append({"at": f"{day.isoformat()} {int(found[2]):02d}:{found[3]}", "description": event["what"]})
        written = [(n, a) for n, a in enumerate(spec.get("actions") or []) if not a.get("added")]
        content = {
            "title": spec["title"], "occurred_on": occurred.isoformat(), "users_affected": bool(spec.get("users_affected")),
            **{name: spec.get(name, "") for name in COE_TEXT_FIELDS},
            "timeline": timeline,
            "why_chains": [{"question": c["question"], "whys": c["whys"]} for c in spec.get("why_chains") or []],
            "pattern_effects": [{"pattern": slug, "effect": e["effect"], "note": e.get("note", "")}
                                for slug, e in (spec.get("patterns") or {}).items()],
            "actions": [{"description": a["description"], "owner": self.person(a["owner"]),
                         "due_date": self.when(a["due"]).isoformat()} for _, a in written],
        }
        coe = learning.write_coe(actor=self.person(spec["written"]["by"]), service=self.service(spec["service"]),
                                 content=content)
        self.coes[spec["title"]] = coe
        for (n, _), action in zip(written, coe.actions.order_by("position", "pk"), strict=True):
            self.coe_actions[(spec["title"], n)] = action

    def add_corrective_action(self, spec: dict, n: int, action: dict) -> None:
        self.coe_actions[(spec["title"], n)] = learning.add_corrective_action(
            actor=self.person(action["added"]["by"]), coe=self._coe(spec["title"]), description=action["description"],
            owner=self.person(action["owner"]), due_date=self.when(action["due"]))

    def publish_coe(self, spec: dict) -> None:
        coe = learning.publish_coe(actor=self.person(spec["published"]["by"]), coe=self._coe(spec["title"]))
        self.coes[spec["title"]] = coe
        if spec.get("guidance"):
            self.coe_for_guidance[spec["guidance"]] = coe

    def change_corrective_action(self, spec: dict, n: int, action: dict, change: str) -> None:
        found = self._made(self.coe_actions, (spec["title"], n), f"“{spec['title']}”, action {n + 1}")
        how = action[change]
        if change == "verified":
            learning.verify_corrective_action(actor=self.person(how["by"]), action=found, note=how.get("note", ""))
            return
        status = CorrectiveAction.Status.DONE if change == "done" else CorrectiveAction.Status.DROPPED
        # until the CoE is published, its service's manager records what its owners report
        found.coe.refresh_from_db(fields=["status"])
        by = how.get("by") or (action["owner"] if found.coe.status != CorrectionOfError.Status.DRAFT else None)
        actor = self.person(by) if by else found.coe.service.manager
        learning.update_corrective_action(actor=actor, action=found, status=status,
                                          note=how.get("reason") or how.get("note", ""))

    def plan_reviews(self, on) -> None:
        reviews = self.learning["reviews"]
        held = [r for r in reviews if r.get("held")]
        self.say(f"Scheduling {_count(reviews, 'review')} of Corrections of Error, and holding {len(held)}…")
        for n, spec in enumerate(reviews):
            on(spec["scheduled"]["day"], functools.partial(self.schedule_review, n, spec))
            if spec.get("held"):
                on(spec["meets"], functools.partial(self.hold_review, n, spec))

    def schedule_review(self, n: int, spec: dict) -> None:
        self.reviews[n] = learning.schedule_coe_review(actor=self.person(spec["scheduled"]["by"]),
                                                       scheduled_for=self.when(spec["meets"]), title=spec.get("title", ""))

    def hold_review(self, n: int, spec: dict) -> None:
        held = spec["held"]
        gone_through = [self._coe(title) for title in held["coes"]]
        learning.hold_coe_review(
            actor=self.actor(held.get("by")), review=self._made(self.reviews, n, f"review {n + 1}"),
            notes=held.get("notes", ""),
            coe_notes={coe.pk: note or "" for coe, note in zip(gone_through, held["coes"].values(), strict=True)},
            reviewed=[coe.pk for coe in gone_through])

    def plan_meanings(self, on) -> None:
        self.say(f"Putting {_count(self.learning['meanings'], 'doctrine pattern')} in the council's own words…")
        for spec in self.learning["meanings"]:
            on(spec["day"], functools.partial(self.edit_meaning, spec))

    def edit_meaning(self, spec: dict) -> None:
        pattern = DoctrinePattern.objects.filter(slug=spec["pattern"]).first()
        if pattern is None:
            raise DemoDataError(f"“{spec['pattern']}” is not the short name of a doctrine pattern.")
        learning.edit_doctrine_meaning(actor=self.person(spec["by"]), pattern=pattern, meaning=spec["meaning"])

    def plan_rounds(self, on) -> None:
        rounds = self.learning["rounds"]
        self.say(f"Rating the doctrine in {_count(rounds, 'self-assessment')}, "
                 f"by {sum(len(r['respondents']) for r in rounds)} respondents in all…")
        for n, spec in enumerate(rounds):
            on(spec["opened"]["day"], functools.partial(self.open_round, n, spec))
            for i, respondent in enumerate(spec["respondents"]):
                on(respondent["day"], functools.partial(self.rate_round, n, spec, i))
            if spec.get("closed"):
                on(spec["closed"]["day"], functools.partial(self.close_round, n, spec))

    def open_round(self, n: int, spec: dict) -> None:
        service = self.service(spec["service"]) if spec.get("service") else None
        title = spec.get("title", "").replace("{month}", f"{self.when(spec['opened']['day']):%B %Y}")
        self.rounds[n] = learning.open_doctrine_round(actor=self.person(spec["opened"]["by"]), service=service,
                                                      title=title)

    def rate_round(self, n: int, spec: dict, i: int) -> None:
        respondent = spec["respondents"][i]["person"]
        evidence = {e["pattern"]: e["text"] for e in spec.get("evidence") or [] if e["person"] == respondent}
        ratings = [{"pattern": slug, "rating": given[i], "evidence": evidence.get(slug, "")}
                   for slug, given in spec["ratings"].items() if given[i] is not None]
        learning.rate_doctrine(actor=self.person(respondent), round=self._made(self.rounds, n, f"round {n + 1}"),
                               ratings=ratings)

    def close_round(self, n: int, spec: dict) -> None:
        learning.close_doctrine_round(actor=self.person(spec["closed"]["by"]),
                                      round=self._made(self.rounds, n, f"round {n + 1}"))

    def plan_communities(self, on) -> None:
        found = self.learning["communities"]
        self.say(f"Forming {len(found)} {'community' if len(found) == 1 else 'communities'} of practice, "
                 "with their members and guidance…")
        for spec in found:
            on(spec["formed"]["day"], functools.partial(self.form_community, spec))
            for member in spec.get("members") or []:
                on(member["day"], functools.partial(self.join_community, spec, member["person"]))
            for item in spec.get("guidance") or []:
                on(item["day"], functools.partial(self.community_guidance, spec, item))
            if spec.get("endorsed"):
                on(spec["endorsed"]["day"], functools.partial(self.endorse_community, spec))

    def form_community(self, spec: dict) -> None:
        self.communities[spec["name"]] = communities.form_community(
            actor=self.person(spec["formed"]["by"]), name=spec["name"], profession=spec["profession"],
            purpose=spec["purpose"])

    def _community(self, spec: dict) -> Community:
        return self._made(self.communities, spec["name"], f"community “{spec['name']}”")

    def join_community(self, spec: dict, email: str) -> None:
        communities.join_community(actor=self.person(email), community=self._community(spec))

    def community_guidance(self, spec: dict, item: dict) -> None:
        community = self._community(spec)
        communities.publish_community_guidance(actor=community.lead, community=community, kind=item["kind"],
                                               title=item["title"], body=item["body"])

    def endorse_community(self, spec: dict) -> None:
        self.communities[spec["name"]] = communities.endorse_community(
            actor=self.person(spec["endorsed"]["by"]), community=self._community(spec))

    def plan_open_roles(self, on) -> None:
        openings = self.learning["open_roles"]
        self.say(f"Posting {_count(openings, 'open role')} in service teams…")
        for n, spec in enumerate(openings):
            on(spec["posted"], functools.partial(self.post_open_role, n, spec))
            if spec.get("closed"):
                on(spec["closed"]["day"], functools.partial(self.close_open_role, n, spec))

    def post_open_role(self, n: int, spec: dict) -> None:
        service = self.service(spec["service"])
        role = self.roles.get(spec["role"])
        if role is None:
            raise DemoDataError(f"open role in {service.name}: “{spec['role']}” is not a role of the professional framework.")
        self.openings[n] = communities.post_open_role(actor=service.manager, service=service, role=role,
                                                      level=spec["level"], description=spec.get("description", ""))

    def close_open_role(self, n: int, spec: dict) -> None:
        opening = self._made(self.openings, n, f"open role {n + 1} ({spec['service']})")
        communities.close_open_role(actor=self.service(spec["service"]).manager, opening=opening,
                                    filled=bool(spec["closed"]["filled"]))


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _summary() -> str:
    services = Service.objects.count()
    decommissioned = Service.objects.filter(lifecycle_stage=Lifecycle.DECOMMISSIONED).count()
    needs = Need.objects.filter(version__service__current_version=F("version")).count()
    dependencies = Dependency.objects.filter(version__service__current_version=F("version")).count()
    people = Person.objects.count()
    reports = Assessment.objects.filter(status=AssessmentStatus.PUBLISHED).count()
    to_come = Assessment.objects.filter(status__in=[AssessmentStatus.SCHEDULED, AssessmentStatus.AGENDA]).count()
    budgets = BudgetAllocation.objects.count()
    mandates = Mandate.objects.exclude(status=Mandate.Status.DRAFT).count()
    guidance = Guidance.objects.filter(status=Guidance.Status.PUBLISHED).count()
    disputes = Dispute.objects.filter(status=Dispute.Status.OPEN).count()
    proposals = Proposal.objects.filter(status=Proposal.Status.OPEN).count()
    deviations = Deviation.objects.filter(status=Deviation.Status.ACTIVE).count()
    return (
        f"Demo organisation ready: {services} services ({decommissioned} decommissioned), {needs} needs, "
        f"{dependencies} dependencies, {people} people; "
        f"{reports} assessment reports, {to_come} assessments to come, {budgets} budget allocations; "
        f"{_count(range(mandates), 'mandate')} issued, {_count(range(guidance), 'piece')} of guidance published, "
        f"{_count(range(disputes), 'open dispute')}, {_count(range(proposals), 'proposal')} awaiting a decision, "
        f"{_count(range(deviations), 'deviation')} from the template in force."
        + (" It learns, too: Corrections of Error and their reviews, doctrine self-assessments, communities of "
           "practice and open roles." if CorrectionOfError.objects.exists() else "")
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


def load_demo(verbose: bool = False, *, path: Path | str | None = None,
              lifecycle_path: Path | str | None = None, governance_path: Path | str | None = None,
              learning_path: Path | str | None = None) -> DemoResult:
    """Load the demo organisation into an empty database, or do nothing if it is there.

    Raises InvalidInput if the database already holds a different organisation: the demo
    is never mixed into real data.
    """
    say = print if verbose else (lambda _message: None)
    data = read_demo_data(path)
    life = read_lifecycle_data(lifecycle_path)
    gov = read_governance_data(governance_path)
    learning_data = read_learning_data(learning_path)
    _check_guidance_links(learning_data, gov)
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
    # The demo's people are fictional: the agendas its assessments publish, and the
    # notifications of mandates, guidance, disputes and proposals, are not emailed (with
    # the console backend they would fill the terminal); they stay in the app.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
        _Loader(data, say, life, gov, learning_data).run()
    return DemoResult(_summary(), _sign_ins(data), created=True)
