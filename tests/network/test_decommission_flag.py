"""Flagging a running service for decommissioning (model 5.2): its manager or the
executive says why it may no longer be needed; the flag decommissions nothing, it asks
the executive to consider the assessment that alone can. The executive clears it.

The acts, who may do them, what they refuse; the service page, the network list and its
filter, the API and the executive's dashboard.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.errors import InvalidInput, NotAllowed
from osom.core.models import AuditEvent, Notification, Organisation
from osom.network import actions
from osom.network.models import Service

from .. import factories
from ..api.conftest import ApiClient, token_for
from ..api.conftest import snapshot as api_snapshot
from ..lifecycle.helpers import DECOMMISSION, published, service_at
from .test_permissions import (
    EXECUTIVE_ONLY,
    MANAGER_OR_EXECUTIVE,
    ROLES,
    Row,
    assert_refusal_is_a_sentence_naming_who_may,
    check_cell,
    snapshot,
)

REASON = "Residents now apply through the council's single front door."


def flagged(c, service=None, *, by=None, reason: str = REASON) -> Service:
    return actions.flag_for_decommissioning(actor=by or c.manager, service=service or c.service, reason=reason)


def moot(c) -> Service:
    """A service flagged, then decommissioned by its assessment: its flag has done its work."""
    service = service_at(c, "discovery", "Old permits")
    flagged(c, service)
    published(c, service, outcome="not_required", **DECOMMISSION)
    service.refresh_from_db()
    return service


# ---------------------------------------------------------------- who may

def _flag(c):
    return lambda actor: actions.flag_for_decommissioning(actor=actor, service=c.service, reason=REASON)


def _clear(c):
    flagged(c)
    return lambda actor: actions.clear_decommission_flag(actor=actor, service=c.service, reason="Still needed.")


# THE table: who may flag a service and clear its flag (model 5.2: the executive holds
# services to account; a manager may say their own service is no longer needed).
MATRIX: dict[str, Row] = {
    "flag_for_decommissioning": Row("flag_for_decommissioning", "flag_for_decommissioning", _flag,
                                    MANAGER_OR_EXECUTIVE, ("executive", "service manager")),
    "clear_decommission_flag": Row("clear_decommission_flag", "clear_decommission_flag", _clear, EXECUTIVE_ONLY,
                                   ("executive",)),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_flagging_and_clearing(cast, act, role):
    event = check_cell(cast, MATRIX[act], role, snapshot)
    cast.service.refresh_from_db()
    if act == "flag_for_decommissioning":
        assert cast.service.is_flagged_for_decommissioning == (event is not None)
    else:
        assert cast.service.is_flagged_for_decommissioning == (event is None)


def test_the_executive_may_keep_clearing_a_flag_to_itself(cast):
    org = Organisation.current()
    org.reserved_acts = [*org.reserved_acts, "clear_decommission_flag"]
    org.save()
    flagged(cast)
    before = snapshot()
    with pytest.raises(NotAllowed) as refused:
        actions.clear_decommission_flag(actor=cast.exec_team, service=cast.service, reason="Still needed.")
    assert_refusal_is_a_sentence_naming_who_may(refused.value.message, Row("", "", _clear, {}, (), reserved=True),
                                                "exec_team")
    assert snapshot() == before


# ---------------------------------------------------------------- what the acts write

def test_flagging_records_the_reason_who_and_when_in_one_event_and_tells_the_manager(cast):
    service = flagged(cast, by=cast.exec_team, reason=f"  {REASON}  ")
    service.refresh_from_db()
    assert service.decommission_flag == REASON and service.decommission_flagged_by == cast.exec_team
    assert service.decommission_flagged_at is not None and service.is_flagged_for_decommissioning
    assert service.lifecycle_stage == "discovery"  # a flag decommissions nothing
    event = AuditEvent.objects.get(verb="flag_for_decommissioning")
    assert event.service == service and event.authority_person == cast.executive
    assert event.summary == "Flagged Parking permits for decommissioning" and event.reason == REASON
    assert event.after["decommission_flag"] == REASON and event.after["flagged_by"] == "bea@example.org"
    assert Notification.objects.get(person=cast.manager).text == "Parking permits is flagged for decommissioning"


def test_a_manager_flagging_their_own_service_is_not_told_of_it(cast):
    flagged(cast)
    assert not Notification.objects.filter(person=cast.manager).exists()


def test_clearing_keeps_what_the_flag_said_in_the_audit_log(cast):
    flagged(cast)
    actions.clear_decommission_flag(actor=cast.executive, service=cast.service, reason="Still needed by visitors.")
    cast.service.refresh_from_db()
    assert cast.service.decommission_flag == "" and cast.service.decommission_flagged_at is None
    assert cast.service.decommission_flagged_by is None and not cast.service.is_flagged_for_decommissioning
    event = AuditEvent.objects.get(verb="clear_decommission_flag")
    assert event.reason == "Still needed by visitors."
    assert event.before["decommission_flag"] == REASON and event.before["flagged_by"] == "max@example.org"
    # flagged again later, it is a new flag
    flagged(cast, by=cast.executive, reason="Nobody renewed a permit this year.")
    assert Service.objects.get(pk=cast.service.pk).decommission_flagged_by == cast.executive


# ---------------------------------------------------------------- bad input: nothing written

@pytest.mark.parametrize("reason", ["", "   \n ", None])
@pytest.mark.parametrize("act", ["flag", "clear"])
def test_a_missing_reason_is_refused_naming_the_field(cast, act, reason):
    if act == "clear":
        flagged(cast)
    before = snapshot()
    do = actions.flag_for_decommissioning if act == "flag" else actions.clear_decommission_flag
    with pytest.raises(InvalidInput) as refused:
        do(actor=cast.executive, service=cast.service, reason=reason)
    assert refused.value.field == "reason" and refused.value.message.startswith("Say why")
    assert snapshot() == before


def test_a_service_already_flagged_is_not_flagged_again_and_is_told_by_whom(cast):
    flagged(cast)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.flag_for_decommissioning(actor=cast.executive, service=cast.service, reason="Another reason.")
    assert refused.value.field == "service"
    assert refused.value.message.startswith("Parking permits is already flagged for decommissioning, by Max Manager on ")
    assert refused.value.message.endswith(f"“{REASON}”.")
    assert snapshot() == before


def test_a_service_not_flagged_has_no_flag_to_clear(cast):
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.clear_decommission_flag(actor=cast.executive, service=cast.service, reason="Still needed.")
    assert refused.value.field == "service" and refused.value.message == "Parking permits is not flagged for decommissioning."
    assert snapshot() == before


def test_a_decommissioned_service_is_neither_flagged_nor_cleared_and_its_old_flag_is_moot(cast):
    service = moot(cast)
    assert service.lifecycle_stage == "decommissioned" and service.decommission_flag == REASON
    assert not service.is_flagged_for_decommissioning
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.clear_decommission_flag(actor=cast.executive, service=service, reason="Tidy.")
    assert refused.value.field == "service" and "decommissioned" in refused.value.message
    gone = service_at(cast, "discovery", "Older permits")
    published(cast, gone, outcome="not_required", **DECOMMISSION)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        actions.flag_for_decommissioning(actor=cast.executive, service=gone, reason=REASON)
    assert refused.value.field == "service" and refused.value.message == "Older permits is already decommissioned."
    assert snapshot() == before


# ---------------------------------------------------------------- pages

def test_the_service_page_shows_the_flag_with_reason_who_and_when(cast, client):
    flagged(cast)
    client.force_login(cast.outsider)
    body = client.get(reverse("network:service", args=[cast.service.slug])).content.decode()
    assert '<h2 id="flag-h">Flagged for decommissioning</h2>' in body
    assert "Residents now apply through the council&#x27;s single front door." in body
    assert f'Flagged by <a href="{reverse("core:person", args=[cast.manager.pk])}">Max Manager</a> on ' in body
    assert "Clear the flag" not in body and "Flag for decommissioning</a>" not in body
    client.force_login(cast.executive)
    body = client.get(reverse("network:service", args=[cast.service.slug])).content.decode()
    assert reverse("network:decommission_flag_clear", args=[cast.service.slug]) in body
    assert "Flag for decommissioning</a>" not in body  # already flagged


def test_the_service_page_offers_the_flag_to_its_manager_and_the_executive_only(cast, client):
    url = reverse("network:service", args=[cast.service.slug])
    link = reverse("network:decommission_flag", args=[cast.service.slug])
    for person, offered in ((cast.manager, True), (cast.exec_team, True), (cast.other_manager, False),
                            (cast.team_member, False)):
        client.force_login(person)
        body = client.get(url).content.decode()
        assert (link in body) is offered, person
        assert 'id="flag-h"' not in body


def test_a_manager_flags_their_service_from_its_page(cast, client):
    client.force_login(cast.manager)
    url = reverse("network:decommission_flag", args=[cast.service.slug])
    body = client.get(url).content.decode()
    assert '<label for="id_reason">Why should it be considered for decommissioning?</label>' in body
    assert 'name="csrfmiddlewaretoken"' in body
    response = client.post(url, {"reason": REASON}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("network:service", args=[cast.service.slug])
    assert "Flagged Parking permits for decommissioning." in response.content.decode()
    assert Service.objects.get(pk=cast.service.pk).decommission_flag == REASON


def test_a_flag_without_a_reason_is_refused_on_the_page_at_the_field(cast, client):
    client.force_login(cast.manager)
    before = snapshot()
    response = client.post(reverse("network:decommission_flag", args=[cast.service.slug]), {"reason": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["Say why the service should be considered for "
                                                          "decommissioning."]}
    body = response.content.decode()
    assert 'aria-invalid="true"' in body and 'href="#id_reason"' in body
    assert snapshot() == before


def test_flagging_twice_on_the_page_says_it_is_already_flagged(cast, client):
    flagged(cast)
    client.force_login(cast.executive)
    response = client.post(reverse("network:decommission_flag", args=[cast.service.slug]), {"reason": "Again."})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()[0].startswith("Parking permits is already flagged")


@pytest.mark.parametrize("name", ["network:decommission_flag", "network:decommission_flag_clear"])
def test_who_may_not_act_gets_403_from_the_flag_pages_and_nothing_is_written(cast, client, name):
    flagged(cast, cast.other_service, by=cast.other_manager)
    client.force_login(cast.team_member if name.endswith("flag") else cast.manager)
    url = reverse(name, args=[cast.other_service.slug if name.endswith("clear") else cast.service.slug])
    before = snapshot()
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "Because."}).status_code == 403
    assert snapshot() == before


def test_the_executive_clears_the_flag_from_its_page(cast, client):
    flagged(cast)
    client.force_login(cast.executive)
    url = reverse("network:decommission_flag_clear", args=[cast.service.slug])
    body = client.get(url).content.decode()
    assert "Max Manager flagged it on" in body and "Residents now apply" in body
    response = client.post(url, {"reason": ""})
    assert response.context["form"].errors == {"reason": ["Say why the flag is cleared."]}
    response = client.post(url, {"reason": "Visitors still need permits."}, follow=True)
    assert "Parking permits is no longer flagged for decommissioning." in response.content.decode()
    assert not Service.objects.get(pk=cast.service.pk).decommission_flag


def test_a_decommissioned_service_shows_no_flag(cast, client):
    service = moot(cast)
    client.force_login(cast.executive)
    body = client.get(reverse("network:service", args=[service.slug])).content.decode()
    assert 'id="flag-h"' not in body and "tag--flagged" not in body
    assert reverse("network:decommission_flag", args=[service.slug]) not in body


def _names(client, **params) -> set[str]:
    response = client.get(reverse("network:list"), params)
    assert response.status_code == 200
    return {s.name for s in response.context["page"].object_list}


def test_the_network_list_filters_the_flagged_services_and_marks_them(cast, client):
    flagged(cast)
    moot(cast)
    client.force_login(cast.outsider)
    assert _names(client, flagged="on") == {"Parking permits"}
    assert _names(client, flagged="on", stage="live") == set()
    assert "Identity" in _names(client) and "Old permits" in _names(client)
    response = client.get(reverse("network:list"))
    body = response.content.decode()
    assert body.count('class="tag tag--flagged"') == 1  # the decommissioned one's flag is moot
    assert response.context["flagged_count"] == 1
    assert ('<a href="?flagged=on" title="Flagged for decommissioning"><span class="stat__value">1</span> flagged'
            '<span class="visually-hidden"> for decommissioning</span></a>') in body
    assert '<label for="id_flagged">Flagged for decommissioning</label>' in body
    response = client.get(reverse("network:list"), {"flagged": "on"})
    assert "1 matching service." in response.content.decode()


def _queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_flag_costs_the_network_list_no_query(cast, client):
    client.force_login(cast.outsider)
    url = reverse("network:list")
    plain = _queries(client, url)
    for i in range(6):
        flagged(cast, factories.service(cast.executive, f"Grown {i}", manager=cast.manager))
    assert _queries(client, url) == plain
    assert _queries(client, url, flagged="on") == plain


# ---------------------------------------------------------------- the API

@pytest.fixture
def api_as(cast):
    """``api_as("manager")`` calls the API as that member of the cast, with their own token."""
    return lambda role: ApiClient(token_for(cast.by_role()[role]))


def test_the_api_lists_the_flagged_services_and_says_why(cast, api_as):
    flagged(cast)
    moot(cast)
    api = api_as("outsider")
    rows = api.get("/services", flagged="true").json()
    assert [r["slug"] for r in rows["items"]] == ["parking-permits"] and rows["count"] == 1
    assert rows["items"][0]["decommission_flag"] == REASON and rows["items"][0]["decommission_flagged_at"]
    others = {r["slug"]: r for r in api.get("/services", flagged="false").json()["items"]}
    assert "parking-permits" not in others and {"identity", "old-permits"} <= set(others)
    assert others["old-permits"]["decommission_flag"] is None  # decommissioned: the flag is moot
    detail = api.get("/services/parking-permits").json()
    assert detail["decommission_flag"] == REASON and detail["decommission_flagged_by"]["email"] == "max@example.org"
    assert api.get("/services/identity").json()["decommission_flag"] is None


def test_the_api_flags_and_clears(cast, api_as):
    answer = api_as("manager").post("/services/parking-permits/decommission-flag", {"reason": REASON})
    assert answer.status_code == 200, answer.content
    assert answer.json()["decommission_flag"] == REASON and answer.json()["decommission_flagged_at"]
    answer = api_as("executive").post("/services/parking-permits/decommission-flag/clear", {"reason": "Kept."})
    assert answer.status_code == 200 and answer.json()["decommission_flag"] is None
    assert [e.verb for e in AuditEvent.objects.filter(service=cast.service).order_by("pk")][-2:] == [
        "flag_for_decommissioning", "clear_decommission_flag"]


@pytest.mark.parametrize("role,path", [
    ("other_manager", "/services/parking-permits/decommission-flag"),
    ("team_member", "/services/parking-permits/decommission-flag"),
    ("manager", "/services/parking-permits/decommission-flag/clear"),
])
def test_the_api_refuses_who_may_not_with_403_and_writes_nothing(cast, api_as, role, path):
    if path.endswith("clear"):
        flagged(cast)
    client = api_as(role)
    before = api_snapshot()
    answer = client.post(path, {"reason": "Because."})
    assert answer.status_code == 403
    body = answer.json()
    assert body["error"] == "forbidden" and body["message"].startswith("Only the ")
    assert api_snapshot() == before


def test_the_api_refuses_a_blank_or_missing_reason_naming_it(cast, api_as):
    client = api_as("executive")
    before = api_snapshot()
    answer = client.post("/services/parking-permits/decommission-flag", {"reason": " "})
    assert answer.status_code == 400 and answer.json()["field"] == "reason"
    answer = client.post("/services/parking-permits/decommission-flag", {})
    assert answer.status_code == 422 and "reason" in answer.content.decode()
    answer = client.post("/services/nowhere/decommission-flag", {"reason": REASON})
    assert answer.status_code == 404
    assert api_snapshot() == before


# ---------------------------------------------------------------- the executive's dashboard

def test_the_executives_dashboard_counts_the_flagged_services_and_links_to_them(cast, client):
    flagged(cast)
    flagged(cast, cast.other_service, by=cast.other_manager)
    client.force_login(cast.executive)
    body = client.get(reverse("governance:dashboard")).content.decode()
    assert (f'<a href="{reverse("network:list")}?flagged=on">2 services flagged for decommissioning</a>: consider '
            "scheduling their assessments.") in body
    client.force_login(cast.manager)
    assert "flagged for decommissioning" not in client.get(reverse("governance:dashboard")).content.decode()


def test_the_dashboard_query_count_does_not_grow_with_the_flagged_services(cast, client):
    client.force_login(cast.executive)
    url = reverse("governance:dashboard")
    flagged(cast)
    few = _queries(client, url)
    for i in range(5):
        flagged(cast, factories.service(cast.executive, f"Grown {i}", manager=cast.manager))
    assert _queries(client, url) == few
