"""Who may reach what: every route of the web app and every operation of the API, called
as each person of the cast (and as nobody), compared with one table.

``PAGES`` and ``OPERATIONS`` below say, for every route, who may use it: anyone at all
(``PUBLIC``), anyone signed in (``SIGNED_IN``), or the people an act of the policy
(``osom.core.policy.ACTS``) allows, worked out by ``policy.can`` for the objects the
route names. The walk then checks each answer:

* refused, signed in: 403 for a page's POST and for the API; a page's GET may also
  answer 405 or send the person elsewhere, but never shows the page;
* refused, not signed in: a redirect to sign in for a page, 401 for the API;
* allowed: never 401 or 403 (the request bodies are empty or minimal, so an allowed
  request may well be refused for its input: what is checked is who gets past the door);
* never a server error, and a refused request writes nothing (no audit event).

Each request runs in a savepoint rolled back after it, so every person meets the same
objects whatever the others did. A route missing from the tables, or a table entry for a
route that no longer exists, fails the walk: the tables stay complete.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from osom.api.root import api
from osom.core import policy
from osom.core.models import AuditEvent
from osom.governance.actions import RESERVABLE, set_reserved_acts

from ..api.conftest import token_for
from .conftest import ACTOR, SAMPLES, Sample, World, api_path_sample

PUBLIC = "public"
SIGNED_IN = "read: signed-in"
# Measurements pushed by a service's own systems: an ingest token is the only way in, so
# every person (signed in or not, with a personal token or not) is refused with 401.
INGEST_ONLY = "ingest token only"

# the cast, nobody, and the executive team once the executive keeps every act it can to itself
ROLES = ["anonymous", "outsider", "team_member", "manager", "other_manager", "exec_team", "executive",
         "exec_team_all_reserved"]


@dataclass(frozen=True)
class Route:
    """Who may GET and who may POST; ``post=None``: the route takes no POST, which is
    then judged as its GET is and must write nothing. ``on`` names the sample of
    ``conftest.SAMPLES`` that fills the URL and that the policy looks at."""

    get: str | tuple[str, ...]
    post: str | tuple[str, ...] | None = None
    on: str | None = None


def read(on: str | None = None) -> Route:
    """A page everyone signed in reads; it takes no POST."""
    return Route(SIGNED_IN, None, on)


def act(name: str | tuple[str, ...], on: str | None = None) -> Route:
    """A page (or a button's endpoint) for one act: its form and its POST."""
    return Route(name, name, on)


def read_and(name: str, on: str | None = None) -> Route:
    """A page everyone signed in reads, whose POST does one act."""
    return Route(SIGNED_IN, name, on)


# ---------------------------------------------------------------- the web app's routes

PAGES: dict[str, Route] = {
    "login": Route(PUBLIC, PUBLIC),
    "logout": Route(PUBLIC, PUBLIC),
    "healthz": Route(PUBLIC, PUBLIC),
    "api:api-root": Route(PUBLIC),
    "api:openapi-json": Route(PUBLIC),
    "api:openapi-view": Route(PUBLIC),
    # the organisation
    "core:people": read_and("create_person"),
    "core:person": read("person"),
    "core:token_issue": act("issue_api_token", "person"),
    "core:token_revoke": act("revoke_api_token", "token"),
    "core:audit": read(),
    "core:organisation": read_and("edit_terminology"),
    # the network
    "network:list": read(),
    "network:establish": act("establish_service"),
    "network:establish_step": act("establish_service", "wizard_step"),
    "network:lookup": read(),
    "network:service": read("service"),
    "network:consumers": read("service"),
    "network:compare": read("service"),
    "network:open_draft": act("draft_contract_version", "service"),
    "network:alter": act("alter_contract", "service"),
    "network:appoint": act("replace_manager", "service"),
    "network:team_add": act("add_team_member", "service"),
    "network:team_remove": act("remove_team_member", "membership"),
    "network:dependency_add": act("add_dependency", "service"),
    "network:dependency_remove": act("remove_dependency", "dependency"),
    "network:decommission_flag": act("flag_for_decommissioning", "service"),
    "network:decommission_flag_clear": act("clear_decommission_flag", "flagged_service"),
    "network:version": read("version"),
    "network:edit_draft": act("edit_contract_draft", "version"),
    "network:submit": act("submit_contract_version", "version"),
    "network:approve": act("approve_contract_version", "version"),
    "network:return": act("return_contract_version", "version"),
    "network:discard": act("discard_contract_draft", "version"),
    # assessments and budgets
    "lifecycle:reports": read(),
    "lifecycle:due": read_and("set_assessment_cadence"),
    "lifecycle:criteria": read(),
    "lifecycle:criterion_add": act("manage_criteria"),
    "lifecycle:criterion": read("criterion"),
    "lifecycle:criterion_edit": act("manage_criteria", "criterion"),
    "lifecycle:assessment": read("assessment"),
    "lifecycle:assessment_edit": act("edit_assessment", "assessment"),
    "lifecycle:publish_agenda": act("publish_assessment_agenda", "assessment"),
    "lifecycle:cancel": act("cancel_assessment", "assessment"),
    "lifecycle:decisions": act("record_assessment_decisions", "assessment"),
    "lifecycle:publish_report": act("publish_assessment_report", "assessment"),
    "lifecycle:report": read("report"),
    "lifecycle:report_md": read("report"),
    "lifecycle:addendum": act("add_report_addendum", "report"),
    "lifecycle:schedule": act("schedule_assessment", "service"),
    "lifecycle:budget": read("service"),
    "lifecycle:allocate": act("allocate_budget", "service"),
    "lifecycle:spend": act("record_spend", "service"),
    "lifecycle:reinvest": act("reinvest_savings", "service"),
    "lifecycle:request_funding": act("request_funding", "service"),
    "lifecycle:decide_request": act("decide_funding_request", "funding_request"),
    "lifecycle:cadence": act("set_assessment_cadence", "service"),
    "lifecycle:budgets": read(),
    # the executive's levers
    "governance:proposals": read(),
    "governance:propose": act("propose_needs"),
    "governance:proposal": read("proposal"),
    "governance:proposal_fold": act("decide_proposal", "proposal"),
    "governance:proposal_decline": act("decide_proposal", "proposal"),
    "governance:proposal_establish": act(("decide_proposal", "establish_service"), "proposal"),
    "governance:proposal_wizard": act(("decide_proposal", "establish_service"), "proposal"),
    "governance:duplicates": read(),
    "governance:deviations": read(),
    "governance:deviation_new": act("record_deviation"),
    "governance:deviation": read_and("record_deviation", "deviation"),
    "governance:deviation_retire": act("record_deviation", "deviation"),
    "governance:reserved_acts": read_and("set_reserved_acts"),
    "governance:dashboard": read(),
    "governance:notifications": read_and("read_notifications", "self"),
    "governance:mandates": read(),
    "governance:mandate_new": act("draft_mandate"),
    "governance:mandate": read("mandate"),
    "governance:mandate_edit": act("draft_mandate", "draft_mandate"),
    "governance:mandate_issue": act("issue_mandate", "draft_mandate"),
    "governance:mandate_remind": act("remind_mandate", "mandate"),
    "governance:mandate_close": act("close_mandate", "mandate"),
    "governance:target_acknowledge": act("acknowledge_mandate", "target"),
    "governance:target_progress": act("report_mandate_progress", "target"),
    "governance:guidance_list": read(),
    "governance:guidance_new": act("draft_guidance"),
    "governance:guidance": read("guidance"),
    "governance:guidance_edit": act("draft_guidance", "draft_guidance"),
    "governance:guidance_publish": act("publish_guidance", "draft_guidance"),
    "governance:guidance_withdraw": act("withdraw_guidance", "guidance"),
    "governance:guidance_decide": act("decide_guidance", "guidance_decision"),
    "governance:disputes": read(),
    "governance:dispute_raise_evaluation": act("raise_evaluation_dispute"),
    "governance:dispute_raise": act("raise_dispute", "service"),
    "governance:dispute": read("dispute"),
    "governance:dispute_resolve": act("resolve_dispute", "dispute"),
    "governance:dispute_withdraw": act("withdraw_dispute", "dispute"),
    # the learning loop
    "learning:doctrine": read(),
    "learning:pattern_edit": act("edit_doctrine_meaning", "pattern"),
    "learning:rounds": read(),
    "learning:round_new": act("open_doctrine_round"),  # of the whole organisation
    "learning:service_round_new": act("open_doctrine_round", "service"),
    "learning:round": read("round"),
    "learning:round_rate": act("rate_doctrine", "round"),
    "learning:round_close": act("close_doctrine_round", "round"),
    "learning:heat_map": read(),
    "learning:coes": read(),
    "learning:coe_new": act("write_coe", "service"),
    "learning:coe": Route("write_coe", None, "coe"),  # a draft is read by those who may write it
    "learning:coe_edit": act("write_coe", "coe"),
    "learning:coe_publish": act("publish_coe", "coe"),
    "learning:coe_discard": act("discard_coe", "coe"),
    "learning:coe_guidance": act("draft_guidance", "coe"),
    "learning:action_add": act("add_corrective_action", "coe"),
    "learning:action_update": act("update_corrective_action", "corrective_action"),
    "learning:action_verify": act("verify_corrective_action", "corrective_action"),
    "learning:reviews": read(),
    "learning:review_new": act("schedule_coe_review"),
    "learning:review": read("review"),
    "learning:review_hold": act("hold_coe_review", "review"),
    "learning:figures": read(),
    "learning:communities": read(),
    "learning:community_new": act("form_community"),
    "learning:coverage": read(),
    "learning:community": read("community"),
    "learning:community_edit": act("edit_community", "community"),
    "learning:community_join": act("join_community", "joining"),
    "learning:community_leave": act("leave_community", "joining"),
    "learning:community_endorse": act("endorse_community", "community"),
    "learning:community_unendorse": act("withdraw_endorsement", "community"),
    "learning:community_guidance_new": act("publish_community_guidance", "community"),
    "learning:community_guidance_withdraw": act("withdraw_community_guidance", "community_guidance"),
    "learning:community_escalate": act("escalate_evaluation_dispute", "community"),
    "learning:open_roles": read(),
    "learning:open_role_new": act("post_open_role", "service"),
    "learning:open_role_close": act("close_open_role", "open_role"),
    # fitness data and capital flow
    "fitness:overview": read(),
    "fitness:standard_measures": read(),
    "fitness:figures": read(),
    "fitness:check_expression": read(),
    "fitness:capital": read(),
    "fitness:figure_new": act("define_aggregation"),
    "fitness:figure": read("figure"),
    "fitness:figure_edit": act("define_aggregation", "figure"),
    "fitness:figure_retire": act("retire_aggregation", "figure"),
    "fitness:capital_service": read("budget_period"),
    "fitness:shares": act("record_consumption_shares", "service"),
    "fitness:transactions": act("record_transactions", "service"),
    "fitness:service": read("service"),
    "fitness:export": read("service"),
    "fitness:record": act("record_measurement", "service"),
    "fitness:upload": act("import_measurements", "service"),
    "fitness:add_standard": act("add_standard_measure", "service"),
    # the tokens page: seen by those who may revoke (manager, executive); only the manager issues
    "fitness:tokens": Route("revoke_ingest_token", "issue_ingest_token", "service"),
    "fitness:token_revoke": act("revoke_ingest_token", "ingest_token"),
    "fitness:metric": read("metric"),
    "fitness:cadence": act("set_measurement_cadence", "metric"),
    # webhooks: the executive's alone, reads included
    "search:page": read(),
    "interop:webhooks": act("manage_webhooks"),
    "interop:webhook_add": act("manage_webhooks"),
    "interop:webhook": act("manage_webhooks", "webhook"),
    "interop:webhook_edit": act("manage_webhooks", "webhook"),
    "interop:webhook_remove": act("manage_webhooks", "webhook"),
    "interop:delivery_redeliver": act("manage_webhooks", "delivery"),
    "interop:contract_schema": read(),
    # maps and the dependency graph
    "maps:map": read("service"),
    "maps:text": read("service"),
    "maps:svg": read("service"),
    "maps:neighbourhood": read("service"),
    "maps:impact": read("service"),
    "maps:version": read("map_version"),
    "maps:version_text": read("map_version"),
    "maps:version_svg": read("map_version"),
    "maps:network": read(),
    "maps:network_text": read(),
    "maps:network_svg": read(),
    "maps:cycles": read(),
    "maps:edit": act("save_service_map", "service"),
    "maps:preview": act("save_service_map", "service"),
}


# ---------------------------------------------------------------- the API's operations

# "METHOD /path" (below /api/v1) → who may call it; the objects it names come from its
# path (``conftest.api_path_sample``), or from the sample named second.
OPERATIONS: dict[str, str | tuple[str, ...] | tuple[str | tuple[str, ...], str]] = {
    # services and contracts
    "GET /services": SIGNED_IN,
    "POST /services": "establish_service",
    "POST /services/adopt": "adopt_existing_service",
    "GET /services/{slug}": SIGNED_IN,
    "GET /services/{slug}/versions": SIGNED_IN,
    "GET /services/{slug}/versions/{number}": SIGNED_IN,
    "PUT /services/{slug}/versions/{number}": "edit_contract_draft",
    "DELETE /services/{slug}/versions/{number}": "discard_contract_draft",
    "GET /services/{slug}/diff": SIGNED_IN,
    "POST /services/{slug}/manager": "replace_manager",
    "POST /services/{slug}/drafts": "draft_contract_version",
    "POST /services/{slug}/versions/{number}/submit": "submit_contract_version",
    "POST /services/{slug}/versions/{number}/approve": "approve_contract_version",
    "POST /services/{slug}/versions/{number}/return": "return_contract_version",
    "POST /services/{slug}/alterations": "alter_contract",
    "POST /services/{slug}/dependencies": "add_dependency",
    "DELETE /services/{slug}/dependencies/{provider_slug}": "remove_dependency",
    "POST /services/{slug}/team": "add_team_member",
    "DELETE /services/{slug}/team/{membership_id}": "remove_team_member",
    "POST /services/{slug}/decommission-flag": "flag_for_decommissioning",
    "POST /services/{slug}/decommission-flag/clear": "clear_decommission_flag",
    # the organisation
    "GET /people": SIGNED_IN,
    "POST /people": "create_person",
    "GET /people/{person_id}": SIGNED_IN,
    "GET /audit": SIGNED_IN,
    "GET /organisation": SIGNED_IN,
    "PUT /organisation": "edit_terminology",
    "GET /roles": SIGNED_IN,
    "GET /tokens": SIGNED_IN,  # one's own
    "POST /tokens": ("issue_api_token", "self"),
    "DELETE /tokens/{token_id}": "revoke_api_token",
    # assessments and budgets
    "GET /criteria": SIGNED_IN,
    "POST /criteria": "manage_criteria",
    "PUT /criteria/{slug}": "manage_criteria",
    "GET /assessments": SIGNED_IN,
    "GET /assessments/due": SIGNED_IN,
    "GET /assessments/{assessment_id}": SIGNED_IN,
    "PUT /assessments/{assessment_id}": "edit_assessment",
    "GET /assessments/{assessment_id}/report.md": SIGNED_IN,
    "POST /services/{slug}/assessments": "schedule_assessment",
    "POST /assessments/{assessment_id}/agenda": "publish_assessment_agenda",
    "POST /assessments/{assessment_id}/cancel": "cancel_assessment",
    "PUT /assessments/{assessment_id}/decisions": "record_assessment_decisions",
    "POST /assessments/{assessment_id}/publish": "publish_assessment_report",
    "POST /assessments/{assessment_id}/addenda": "add_report_addendum",
    "PUT /organisation/cadence": "set_assessment_cadence",
    "PUT /services/{slug}/cadence": "set_assessment_cadence",
    "GET /services/{slug}/timeline": SIGNED_IN,
    "GET /services/{slug}/budget": SIGNED_IN,
    "GET /budgets": SIGNED_IN,
    "POST /services/{slug}/allocations": "allocate_budget",
    "POST /allocations/{allocation_id}/spends": "record_spend",
    "POST /allocations/{allocation_id}/reinvestments": "reinvest_savings",
    "POST /services/{slug}/funding-requests": "request_funding",
    "POST /funding-requests/{request_id}/decision": "decide_funding_request",
    # the executive's levers
    "GET /mandates": SIGNED_IN,
    "POST /mandates": "draft_mandate",
    "GET /mandates/{mandate_id}": SIGNED_IN,
    "PUT /mandates/{mandate_id}": "draft_mandate",
    "POST /mandates/{mandate_id}/issue": "issue_mandate",
    "POST /mandates/{mandate_id}/close": "close_mandate",
    "POST /mandates/{mandate_id}/remind": "remind_mandate",
    "POST /mandates/{mandate_id}/targets/{service_slug}/acknowledge": "acknowledge_mandate",
    "POST /mandates/{mandate_id}/targets/{service_slug}/progress": "report_mandate_progress",
    "GET /guidance": SIGNED_IN,
    "POST /guidance": "draft_guidance",
    "GET /guidance/{guidance_id}": SIGNED_IN,
    "PUT /guidance/{guidance_id}": "draft_guidance",
    "POST /guidance/{guidance_id}/publish": "publish_guidance",
    "POST /guidance/{guidance_id}/withdraw": "withdraw_guidance",
    "PUT /guidance/{guidance_id}/decisions/{service_slug}": "decide_guidance",
    "GET /services/{slug}/guidance-rejections": SIGNED_IN,
    "GET /disputes": SIGNED_IN,
    "POST /disputes": ("raise_dispute", "service"),
    "GET /disputes/{dispute_id}": SIGNED_IN,
    "POST /disputes/{dispute_id}/resolve": "resolve_dispute",
    "POST /disputes/{dispute_id}/withdraw": "withdraw_dispute",
    "GET /proposals": SIGNED_IN,
    "POST /proposals": "propose_needs",
    "GET /proposals/{proposal_id}": SIGNED_IN,
    "POST /proposals/{proposal_id}/fold": "decide_proposal",
    "POST /proposals/{proposal_id}/decline": "decide_proposal",
    "POST /proposals/{proposal_id}/establish": ("decide_proposal", "establish_service"),
    "POST /matching/suggestions": SIGNED_IN,
    "GET /matching/duplicates": SIGNED_IN,
    "GET /deviations": SIGNED_IN,
    "POST /deviations": "record_deviation",
    "PUT /deviations/{deviation_id}": "record_deviation",
    "POST /deviations/{deviation_id}/retire": "record_deviation",
    "GET /organisation/reserved-acts": SIGNED_IN,
    "PUT /organisation/reserved-acts": "set_reserved_acts",
    "GET /dashboard/executive": SIGNED_IN,
    "GET /dashboard/me": SIGNED_IN,
    "GET /notifications": SIGNED_IN,
    "POST /notifications/read": ("read_notifications", "self"),
    # the learning loop
    "GET /doctrine/patterns": SIGNED_IN,
    "PATCH /doctrine/patterns/{slug}": "edit_doctrine_meaning",
    "GET /doctrine/rounds": SIGNED_IN,
    "POST /doctrine/rounds": ("open_doctrine_round", "service"),
    "GET /doctrine/rounds/{round_id}": SIGNED_IN,
    "POST /doctrine/rounds/{round_id}/ratings": "rate_doctrine",
    "POST /doctrine/rounds/{round_id}/close": "close_doctrine_round",
    "GET /doctrine/heat-map": SIGNED_IN,
    "GET /coes": SIGNED_IN,
    "POST /coes": ("write_coe", "service"),
    "GET /coes/{coe_id}": "write_coe",  # a draft is read by those who may write it
    "PUT /coes/{coe_id}": "write_coe",
    "DELETE /coes/{coe_id}": "discard_coe",
    "POST /coes/{coe_id}/publish": "publish_coe",
    "POST /coes/{coe_id}/actions": "add_corrective_action",
    "POST /corrective-actions/{action_id}/update": "update_corrective_action",
    "POST /corrective-actions/{action_id}/verify": "verify_corrective_action",
    "POST /coes/{coe_id}/guidance": "draft_guidance",
    "GET /coe-reviews": SIGNED_IN,
    "POST /coe-reviews": "schedule_coe_review",
    "GET /coe-reviews/{review_id}": SIGNED_IN,
    "POST /coe-reviews/{review_id}/hold": "hold_coe_review",
    "GET /learning/figures": SIGNED_IN,
    "GET /communities": SIGNED_IN,
    "POST /communities": "form_community",
    "GET /communities/coverage": SIGNED_IN,
    "GET /communities/{community_id}": SIGNED_IN,
    "PATCH /communities/{community_id}": "edit_community",
    "POST /communities/{community_id}/join": ("join_community", "joining"),
    "POST /communities/{community_id}/leave": ("leave_community", "joining"),
    "POST /communities/{community_id}/endorse": "endorse_community",
    "POST /communities/{community_id}/withdraw-endorsement": "withdraw_endorsement",
    "POST /communities/{community_id}/guidance": "publish_community_guidance",
    "POST /community-guidance/{guidance_id}/withdraw": "withdraw_community_guidance",
    "POST /communities/{community_id}/escalate": "escalate_evaluation_dispute",
    "GET /open-roles": SIGNED_IN,
    "POST /services/{slug}/open-roles": "post_open_role",
    "POST /open-roles/{opening_id}/close": "close_open_role",
    # fitness data and capital flow
    "GET /services/{slug}/fitness": SIGNED_IN,
    "GET /services/{slug}/measurements": SIGNED_IN,
    "POST /services/{slug}/measurements": "record_measurement",
    "POST /services/{slug}/measurements/csv": "import_measurements",
    "GET /services/{slug}/measurements.csv": SIGNED_IN,
    "PUT /services/{slug}/metrics/{key}/cadence": "set_measurement_cadence",
    "GET /services/{slug}/ingest-tokens": "revoke_ingest_token",
    "POST /services/{slug}/ingest-tokens": "issue_ingest_token",
    "POST /ingest-tokens/{token_id}/revoke": "revoke_ingest_token",
    "POST /ingest": INGEST_ONLY,
    "GET /standard-measures": SIGNED_IN,
    "POST /services/{slug}/standard-measures": "add_standard_measure",
    "GET /figures": SIGNED_IN,
    "POST /figures": "define_aggregation",
    "POST /figures/check": SIGNED_IN,
    "GET /figures/{slug}": SIGNED_IN,
    "PUT /figures/{slug}": "define_aggregation",
    "POST /figures/{slug}/retire": "retire_aggregation",
    "GET /figures/{slug}/values": SIGNED_IN,
    "GET /fitness": SIGNED_IN,
    "GET /capital-flow": SIGNED_IN,
    "GET /capital-flow/{period}": SIGNED_IN,
    "GET /capital-flow/{period}/services/{slug}": SIGNED_IN,
    "PUT /services/{slug}/consumption/{period}": "record_consumption_shares",
    "PUT /services/{slug}/transactions/{period}": "record_transactions",
    # webhooks
    "GET /webhooks": "manage_webhooks",
    "POST /webhooks": "manage_webhooks",
    "GET /webhooks/{webhook_id}": "manage_webhooks",
    "PUT /webhooks/{webhook_id}": "manage_webhooks",
    "POST /webhooks/{webhook_id}/deactivate": "manage_webhooks",
    "GET /webhooks/{webhook_id}/deliveries": "manage_webhooks",
    "POST /webhook-deliveries/{delivery_id}/redeliver": "manage_webhooks",
    # maps and the dependency graph
    "GET /services/{slug}/map": SIGNED_IN,
    "GET /services/{slug}/map/versions": SIGNED_IN,
    "GET /services/{slug}/map/versions/{number}": SIGNED_IN,
    "PUT /services/{slug}/map": "save_service_map",
    "GET /services/{slug}/map.svg": SIGNED_IN,
    "POST /maps/render": SIGNED_IN,
    "GET /network/map": SIGNED_IN,
    "GET /services/{slug}/neighbourhood": SIGNED_IN,
    "GET /services/{slug}/impact": SIGNED_IN,
    # search
    "GET /search": SIGNED_IN,
    "GET /network/cycles": SIGNED_IN,
}

API = "/api/v1"


# ---------------------------------------------------------------- who is allowed

def allowed(rule: str | tuple[str, ...], person, sample: Sample | None) -> bool:
    """Whether the table lets ``person`` (None: nobody signed in) through ``rule``."""
    if rule == PUBLIC:
        return True
    if person is None:
        return False
    if rule == SIGNED_IN:
        return True
    sample = sample or Sample({})
    subject = person if sample.subject is ACTOR else sample.subject
    acts = rule if isinstance(rule, tuple) else (rule,)
    unknown = [a for a in acts if a not in policy.ACTS]
    assert not unknown, f"the table names acts the policy does not have: {unknown}"
    return all(policy.can(person, a, service=sample.service, subject=subject, obj=sample.obj) for a in acts)


# ---------------------------------------------------------------- the routes there are

def _named_patterns(patterns, prefix: str = "", namespace: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
            yield from _named_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield name, prefix + str(p.pattern)


@functools.cache
def _spec() -> dict:
    """The API's OpenAPI document (made once: it takes seconds to build)."""
    return api.get_openapi_schema()


def _spec_paths() -> set[str]:
    return set(_spec()["paths"])


def page_routes() -> dict[str, str]:
    """Every named URL of the web app → its pattern; the API's operations are walked
    from its OpenAPI document instead."""
    operations = {re.sub(r"\{(\w+)\}", r"<\1>", p) for p in _spec_paths()}
    routes = {}
    for name, pattern in _named_patterns(get_resolver().url_patterns):
        # a path parameter that may hold a slash (a budget period) is <path:name> in the URL
        if "/" + re.sub(r"<path:(\w+)>", r"<\1>", pattern) in operations:
            continue
        assert name, f"the URL {pattern!r} has no name: give it one and an entry in PAGES"
        routes[name] = pattern
    return routes


def spec_operations() -> dict[str, dict]:
    spec = _spec()
    return {f"{m.upper()} {p.removeprefix(API)}": op for p, item in spec["paths"].items() for m, op in item.items()}


def test_every_page_route_has_an_entry_and_every_entry_a_route(db):
    routes = set(page_routes())
    assert routes - set(PAGES) == set(), "routes without an entry in PAGES (say who may use them)"
    assert set(PAGES) - routes == set(), "entries in PAGES for routes that no longer exist"


def test_every_api_operation_has_an_entry_and_every_entry_an_operation(db):
    operations = set(spec_operations())
    assert operations - set(OPERATIONS) == set(), "operations without an entry in OPERATIONS (say who may call them)"
    assert set(OPERATIONS) - operations == set(), "entries in OPERATIONS for operations that no longer exist"


def test_the_tables_name_only_acts_of_the_policy():
    named = set()
    for route in PAGES.values():
        for rule in (route.get, route.post):
            named.update(rule if isinstance(rule, tuple) else (rule,))
    for entry in OPERATIONS.values():
        rule = entry[0] if isinstance(entry, tuple) and entry[-1] in SAMPLES else entry
        named.update(rule if isinstance(rule, tuple) else (rule,))
    assert named - {PUBLIC, SIGNED_IN, INGEST_ONLY, None} - set(policy.ACTS) == set()


# ---------------------------------------------------------------- calling, in a savepoint

@dataclass
class Answer:
    status: int
    location: str
    written: int  # audit events the request recorded
    error: str = ""


def call(client: Client, method: str, url: str, **kwargs: Any) -> Answer:
    """One request, undone afterwards; the client keeps its own session (a sign-out
    undone too)."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)
    try:
        with transaction.atomic():
            before = AuditEvent.objects.count()
            try:
                response = client.generic(method, url, **kwargs)
            except Exception as exc:  # noqa: BLE001 - a server error is an answer to report
                answer = Answer(500, "", 0, f"{type(exc).__name__}: {exc}")
            else:
                answer = Answer(response.status_code, response.get("Location", ""), AuditEvent.objects.count() - before)
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return answer


def _sign_in_url() -> str:
    return reverse("login")


def judge(answer: Answer, *, may: bool, signed_in: bool, page: bool, method: str, public: bool = False) -> str | None:
    """What is wrong with ``answer``, or None."""
    if answer.status >= 500:
        return f"server error {answer.error}".strip()
    to_sign_in = 300 <= answer.status < 400 and answer.location.startswith(_sign_in_url())
    if may:
        # a public route may send anyone to sign in (signing out does)
        if answer.status in (401, 403) or (signed_in and to_sign_in and not public):
            return f"allowed, but answered {answer.status} {answer.location}".strip()
        return None
    if answer.written:
        return f"refused, yet wrote {answer.written} audit event(s) (answered {answer.status})"
    if not signed_in:
        if page and to_sign_in:
            return None
        if not page and answer.status == 401:
            return None
        return f"not signed in: expected {'a redirect to sign in' if page else 401}, answered {answer.status}"
    if answer.status == 403:
        return None
    if page and method == "GET" and (answer.status == 405 or (300 <= answer.status < 400 and not to_sign_in)):
        return None  # the route shows nothing on GET
    return f"refused: expected 403, answered {answer.status} {answer.location}".strip()


# ---------------------------------------------------------------- the walks

def _person(world: World, role: str):
    """Who makes the walk's requests (None: nobody signed in), with the organisation set
    up for them."""
    if role == "anonymous":
        return None
    if role == "exec_team_all_reserved":
        set_reserved_acts(actor=world.cast.executive, acts=RESERVABLE)
        return world.cast.exec_team
    return world.cast.by_role()[role]


def _report(problems: list[str]) -> str:
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_lets_through_exactly_whom_the_table_says(world, role):
    person = _person(world, role)
    client = Client()
    if person is not None:
        client.force_login(person)
    problems = []
    for name, pattern in sorted(page_routes().items()):
        route = PAGES.get(name)
        if route is None:
            continue  # reported by the completeness test
        sample = SAMPLES[route.on](world) if route.on else None
        arguments = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
        missing = [a for a in arguments if sample is None or a not in sample.values]
        if missing:
            problems.append(f"{name}: the sample {route.on!r} gives no {missing}")
            continue
        url = reverse(name, kwargs={a: sample.values[a] for a in arguments}) if arguments else reverse(name)
        for method, rule in (("GET", route.get), ("POST", route.post if route.post is not None else route.get)):
            may = allowed(rule, person, sample)
            answer = call(client, method, url)
            # a POST to a route that takes none is judged as its GET is
            as_if = "GET" if route.post is None else method
            wrong = judge(answer, may=may, signed_in=person is not None, page=True, method=as_if, public=rule == PUBLIC)
            if route.post is None and method == "POST" and answer.written:
                wrong = f"takes no POST, yet wrote {answer.written} audit event(s)"
            if wrong:
                problems.append(f"{method} {url} ({name}, {'may' if may else 'may not'}): {wrong}")
    assert not problems, _report(problems)


# ---------------------------------------------------------------- minimal API bodies

def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def minimal_body(schema: dict, spec: dict, hints: dict[str, Any], name: str = "") -> Any:
    """The smallest value ``schema`` accepts: required properties only, the first of
    any choice; a property named in ``hints`` takes the hint (a real service, a person),
    and is sent even when it is optional."""
    if name in hints:
        return hints[name]
    schema = _resolve(schema, spec)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [_resolve(o, spec) for o in schema[key]]
            chosen = next((o for o in options if o.get("type") != "null"), options[0])
            return minimal_body(chosen, spec, hints, name)
    if "allOf" in schema:
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, spec))
        return minimal_body(merged, spec, hints, name)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        keys = [key for key in props if key in schema.get("required", []) or key in hints]
        return {key: minimal_body(props[key], spec, hints, key) for key in keys}
    if kind == "array":
        return [minimal_body(schema.get("items", {}), spec, hints, name) for _ in range(schema.get("minItems", 0))]
    if kind == "integer" or kind == "number":
        return max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return (timezone.localdate() + dt.timedelta(days=30)).isoformat()
        if fmt == "date-time":
            return (timezone.now() + dt.timedelta(days=30)).isoformat()
        if fmt == "email":
            return "someone@example.org"
        return "Words." + "x" * max(0, schema.get("minLength", 0) - 6)
    return None


def body_hints(world: World) -> dict[str, Any]:
    """Real objects for the body properties that name one, so a minimal body reaches the
    authorisation rather than stopping at "there is no such service"."""
    c = world.cast
    return {
        "service": c.service.slug, "other_service": c.other_service.slug, "provider": c.other_service.slug,
        "person": c.team_member.email, "manager": c.manager.email, "owner": c.team_member.email,
    }


def api_sample(world: World, key: str, entry) -> tuple[str | tuple[str, ...], Sample | None]:
    method, path = key.split(" ", 1)
    if isinstance(entry, tuple) and entry[-1] in SAMPLES:
        rule, name = entry
    else:
        rule, name = entry, api_path_sample(method, API + path)
    return rule, (SAMPLES[name](world) if name else None)


@pytest.mark.parametrize("role", ROLES)
def test_every_api_operation_lets_through_exactly_whom_the_table_says(world, role):
    person = _person(world, role)
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(person)}"} if person else {}
    spec = _spec()
    hints = body_hints(world)
    problems = []
    for key, operation in sorted(spec_operations().items()):
        if key not in OPERATIONS:
            continue  # reported by the completeness test
        method, path = key.split(" ", 1)
        rule, sample = api_sample(world, key, OPERATIONS[key])
        arguments = re.findall(r"\{(\w+)\}", path)
        missing = [a for a in arguments if sample is None or a not in sample.values]
        if missing:
            problems.append(f"{key}: no sample gives {missing}")
            continue
        url = API + re.sub(r"\{(\w+)\}", "{}", path).format(*(sample.values[a] for a in arguments))
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        data = minimal_body(body, spec, hints) if body else None
        kwargs: dict[str, Any] = dict(headers)
        if data is not None:
            kwargs.update(data=json.dumps(data), content_type="application/json")
        answer = call(client, method, url, **kwargs)
        if rule == INGEST_ONLY:
            if answer.status != 401 or answer.written:
                problems.append(f"{key} (ingest token only): answered {answer.status}, wrote {answer.written} event(s)")
            continue
        may = allowed(rule, person, sample)
        if wrong := judge(answer, may=may, signed_in=person is not None, page=False, method=method):
            problems.append(f"{key} ({'may' if may else 'may not'}): {wrong}")
    assert not problems, _report(problems)
