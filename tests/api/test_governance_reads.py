"""Reading governance through the API: mandates with their progress and burn-up,
guidance and every service's decision, disputes and the levers that resolved them,
proposals and the matcher, deviations, the acts the executive keeps, the dashboards and
a person's notifications — with their filters and pages, and as many queries for many
rows as for few."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from osom.core.models import Notification
from osom.governance import actions
from osom.governance.models import Dispute
from osom.network import actions as network_actions

from .. import factories
from ..governance.helpers import (
    DUE,
    deviation,
    drafted_guidance,
    drafted_mandate,
    evaluation_dispute,
    issued_mandate,
    proposal,
    published_guidance,
    services_dispute,
    target_of,
)
from ..lifecycle.helpers import clock_at, midday_today, published, service_at
from .conftest import ApiClient, token_for

P = "parking-permits"


@pytest.fixture
def reader(cast, api_as) -> ApiClient:
    return api_as("outsider")


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def _count(client: ApiClient, path: str, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return len(queries)


def _overdue_mandate(c, **kwargs):
    """A mandate issued three months ago and due a month later: past its date now."""
    with clock_at(midday_today() - dt.timedelta(days=90)):
        return issued_mandate(c, due_date=timezone.localdate() + dt.timedelta(days=30), **kwargs)


# ---------------------------------------------------------------- mandates


def test_the_mandate_list_shows_progress_the_issued_first(cast, reader):
    draft = drafted_mandate(cast, title="Publish metrics monthly")
    issued = issued_mandate(cast)
    actions.acknowledge_mandate(actor=cast.manager, target=target_of(issued, cast.service))
    closed = actions.close_mandate(actor=cast.executive, mandate=issued_mandate(cast, title="Retire log-in pages"))
    assert _ids(reader.get("/mandates")) == [issued.pk, draft.pk, closed.pk]
    row = reader.get("/mandates").json()["items"][0]
    assert (row["status"], row["total"], row["acknowledged"], row["done"], row["overdue"]) == ("issued", 2, 1, 0, False)
    assert row["created_by"]["email"] == cast.executive.email and row["scope_description"] == "2 chosen services"
    assert _ids(reader.get("/mandates", status="draft")) == [draft.pk]
    page = reader.get("/mandates", limit=1, offset=2).json()
    assert page["count"] == 3 and [r["id"] for r in page["items"]] == [closed.pk]


def test_a_mandate_past_its_date_with_services_not_done_is_overdue(cast, reader):
    late = _overdue_mandate(cast)
    on_time = issued_mandate(cast, title="Publish metrics monthly")
    rows = reader.get("/mandates").json()["items"]
    assert [(r["id"], r["overdue"]) for r in rows] == [(late.pk, True), (on_time.pk, False)]
    for target in late.targets.select_related("service__manager"):
        actions.report_mandate_progress(actor=target.service.manager, target=target, note="Done.", done=True)
    assert reader.get(f"/mandates/{late.pk}").json()["overdue"] is False  # late, but every service is done


def test_a_mandate_shows_each_services_progress_and_its_burn_up(cast, reader):
    with clock_at(midday_today() - dt.timedelta(days=3)):
        mandate = issued_mandate(cast)
    with clock_at(midday_today() - dt.timedelta(days=1)):
        actions.acknowledge_mandate(actor=cast.other_manager, target=target_of(mandate, cast.other_service))
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service),
                                    note="Sign-in moved.", done=True)
    body = reader.get(f"/mandates/{mandate.pk}").json()
    assert body["instruction"].startswith("Sign people in") and body["scope_filter"] == {}
    assert [(t["service"]["slug"], t["status"], t["manager"]["email"]) for t in body["targets"]] == [
        ("identity", "acknowledged", cast.other_manager.email), (P, "done", cast.manager.email)]
    assert body["targets"][1]["progress_note"] == "Sign-in moved." and body["targets"][1]["done_at"]
    assert (body["total"], body["acknowledged"], body["done"]) == (2, 2, 1)
    today = timezone.localdate()
    assert [(p["date"], p["acknowledged"], p["done"]) for p in body["burn_up"]] == [
        ((today - dt.timedelta(days=3)).isoformat(), 0, 0), ((today - dt.timedelta(days=1)).isoformat(), 1, 0),
        (today.isoformat(), 2, 1)]
    assert {p["total"] for p in body["burn_up"]} == {2}


def test_a_draft_chosen_by_a_filter_has_no_targets_until_issued(cast, api_as):
    client = api_as("executive")
    draft = client.post("/mandates", {"title": "Serve residents better", "instruction": "Test with residents.",
                                      "due_date": DUE.isoformat(), "scope_filter": {"users": "external"}}).json()
    assert draft["scope_filter"] == {"users": "external"} and draft["targets"] == [] and draft["burn_up"] == []
    issued = client.post(f"/mandates/{draft['id']}/issue").json()
    assert [t["service"]["slug"] for t in issued["targets"]] == [P] and issued["burn_up"][0]["total"] == 1


def _many_mandates(c, n: int) -> None:
    for i in range(n):
        mandate = drafted_mandate(c, title=f"Mandate {i:03}")
        if i % 2:
            actions.issue_mandate(actor=c.executive, mandate=mandate)
            actions.acknowledge_mandate(actor=c.manager, target=target_of(mandate, c.service))


def test_the_mandate_list_makes_as_many_queries_for_60_mandates_as_for_6(cast):
    client = ApiClient(token_for(cast.executive))
    _many_mandates(cast, 6)
    small = _count(client, "/mandates", limit=500)
    _many_mandates(cast, 54)
    assert client.get("/mandates", limit=500).json()["count"] == 60
    assert _count(client, "/mandates", limit=500) == small
    # the token and its person; the page with each creator and its progress counted in
    # the database; the count
    assert small == 3


def test_a_mandate_reads_in_as_many_queries_for_many_services_as_for_two(cast):
    client = ApiClient(token_for(cast.executive))
    few = issued_mandate(cast)
    small = _count(client, f"/mandates/{few.pk}")
    services = [factories.service(cast.executive, f"Service {i:02}", manager=cast.other_manager) for i in range(12)]
    many = issued_mandate(cast, services=[cast.service, *services])
    actions.acknowledge_mandate(actor=cast.manager, target=target_of(many, cast.service))
    assert _count(client, f"/mandates/{many.pk}") == small


# ---------------------------------------------------------------- guidance


def test_the_guidance_list_counts_adoptions_and_rejections_and_filters(cast, reader):
    draft = drafted_guidance(cast, title="Use open standards")
    payments = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=payments, service=cast.service, decision="reject",
                            rationale="Permits are free.")
    actions.decide_guidance(actor=cast.other_manager, guidance=payments, service=cast.other_service, decision="adopt")
    security = actions.publish_guidance(actor=cast.executive, guidance=actions.draft_guidance(
        actor=cast.executive, title="Encrypt data at rest", body="Always.", source="law", category="security"))
    assert _ids(reader.get("/guidance")) == [security.pk, payments.pk, draft.pk]
    row = reader.get("/guidance", category="technology", status="published").json()["items"]
    assert [(r["id"], r["adopted"], r["rejected"], r["source"]) for r in row] == [(payments.pk, 1, 1, "practice")]
    assert _ids(reader.get("/guidance", source="law")) == [security.pk]
    assert _ids(reader.get("/guidance", status="draft")) == [draft.pk]


def test_guidance_shows_every_running_services_decision(cast, reader):
    guidance = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                            rationale="Permits are free.")
    libraries = factories.service(cast.executive, "Libraries")
    body = reader.get(f"/guidance/{guidance.pk}").json()
    assert body["body"].startswith("Take payments") and (body["adopted"], body["rejected"], body["undecided"]) == (0, 1, 2)
    decisions = body["decisions"]
    assert decisions["count"] == 3
    assert [(d["service"]["slug"], d["decision"]) for d in decisions["items"]] == [
        ("identity", None), ("libraries", None), (P, "reject")]
    assert decisions["items"][0]["manager"]["email"] == cast.other_manager.email
    assert decisions["items"][1]["manager"] is None and decisions["items"][2]["rationale"] == "Permits are free."
    assert decisions["items"][2]["decided_by"]["email"] == cast.manager.email
    undecided = reader.get(f"/guidance/{guidance.pk}", decision="none").json()["decisions"]
    assert [d["service"]["slug"] for d in undecided["items"]] == ["identity", libraries.slug]
    rejected = reader.get(f"/guidance/{guidance.pk}", decision="reject", limit=1).json()["decisions"]
    assert rejected["count"] == 1 and rejected["items"][0]["service"]["slug"] == P
    page = reader.get(f"/guidance/{guidance.pk}", limit=1, offset=1).json()["decisions"]
    assert page["count"] == 3 and [d["service"]["slug"] for d in page["items"]] == [libraries.slug]


def test_a_later_decision_replaces_the_earlier_one(cast, api_as):
    guidance = published_guidance(cast)
    client = api_as("manager")
    first = client.put(f"/guidance/{guidance.pk}/decisions/{P}", {"decision": "reject", "rationale": "No payments."})
    assert first.status_code == 200 and first.json()["decision"] == "reject"
    second = client.put(f"/guidance/{guidance.pk}/decisions/{P}", {"decision": "adopt"}).json()
    assert (second["decision"], second["rationale"], second["guidance"]) == ("adopt", "", guidance.pk)
    assert api_as("outsider").get(f"/services/{P}/guidance-rejections").json() == {"items": [], "count": 0, "next_cursor": None}


def test_a_service_lists_the_guidance_it_rejected(cast, reader):
    guidance = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                            rationale="Permits are free.")
    withdrawn = published_guidance(cast, title="Use the old platform")
    actions.decide_guidance(actor=cast.manager, guidance=withdrawn, service=cast.service, decision="reject",
                            rationale="Old.")
    actions.withdraw_guidance(actor=cast.executive, guidance=withdrawn, reason="Retired.")
    body = reader.get(f"/services/{P}/guidance-rejections").json()
    assert body["count"] == 1
    assert body["items"][0] == {"guidance_id": guidance.pk, "title": guidance.title, "rationale": "Permits are free.",
                                "decided_by": cast.manager.name, "decided_at": timezone.localdate().isoformat()}


def _many_guidance(c, n: int) -> None:
    for i in range(n):
        guidance = drafted_guidance(c, title=f"Guidance {i:03}")
        if i % 2:
            actions.publish_guidance(actor=c.executive, guidance=guidance)
            actions.decide_guidance(actor=c.manager, guidance=guidance, service=c.service, decision="adopt")


def test_the_guidance_list_makes_as_many_queries_for_50_as_for_5(cast):
    client = ApiClient(token_for(cast.executive))
    _many_guidance(cast, 5)
    small = _count(client, "/guidance", limit=500)
    _many_guidance(cast, 45)
    assert client.get("/guidance", limit=500).json()["count"] == 50
    assert _count(client, "/guidance", limit=500) == small
    # the token and its person; the page with each author and the decisions counted; the count
    assert small == 3


def test_guidance_reads_in_as_many_queries_however_many_services_decided(cast):
    client = ApiClient(token_for(cast.executive))
    guidance = published_guidance(cast)
    small = _count(client, f"/guidance/{guidance.pk}")
    for i in range(10):
        service = factories.service(cast.executive, f"Service {i:02}", manager=cast.other_manager)
        actions.decide_guidance(actor=cast.other_manager, guidance=guidance, service=service, decision="adopt")
    assert _count(client, f"/guidance/{guidance.pk}") == small


# ---------------------------------------------------------------- disputes


def test_the_dispute_list_filters_by_status_and_kind(cast, reader):
    between = services_dispute(cast)
    evaluation = evaluation_dispute(cast)
    resolved = actions.resolve_dispute(actor=cast.executive, dispute=services_dispute(cast), resolution="Agreed.",
                                       lever="none")
    assert _ids(reader.get("/disputes")) == [resolved.pk, evaluation.pk, between.pk]
    assert _ids(reader.get("/disputes", kind="evaluation")) == [evaluation.pk]
    assert _ids(reader.get("/disputes", status="open", kind="services")) == [between.pk]
    row = reader.get("/disputes", status="resolved").json()["items"][0]
    assert (row["lever"], row["service"]["slug"], row["other_service"]["slug"]) == ("none", P, "identity")
    evaluation_row = reader.get("/disputes", kind="evaluation").json()["items"][0]
    assert evaluation_row["service"] is None and evaluation_row["lever"] is None
    assert evaluation_row["raised_by"]["email"] == cast.team_member.email


def test_a_resolved_dispute_links_the_lever_used(cast, reader):
    by_mandate = actions.resolve_dispute(actor=cast.executive, dispute=services_dispute(cast), resolution="A mandate.",
                                         lever="mandate", mandate=issued_mandate(cast))
    body = reader.get(f"/disputes/{by_mandate.pk}").json()
    assert body["mandate"]["id"] == by_mandate.mandate_id and body["contract_version"] is None
    assert body["resolved_by"]["email"] == cast.executive.email and body["resolution"] == "A mandate."
    altered = network_actions.alter_contract(actor=cast.executive, service=cast.other_service,
                                             content=factories.contract("Identity", user_type="internal",
                                                                        evolution_stage="product", needs=2),
                                             reason="Outages", risk="Low")
    by_alteration = actions.resolve_dispute(actor=cast.executive, dispute=services_dispute(cast), resolution="Altered.",
                                            lever="alteration", contract_version=altered)
    body = reader.get(f"/disputes/{by_alteration.pk}").json()
    assert body["contract_version"] == {"service": "identity", "number": altered.number} and body["mandate"] is None
    report = published(cast, cast.service, outcome="more_research")
    client = ApiClient(token_for(cast.executive))
    dispute = services_dispute(cast)
    answer = client.post(f"/disputes/{dispute.pk}/resolve", {"resolution": "Assessed.", "lever": "assessment",
                                                             "assessment": report.pk}).json()
    assert (answer["status"], answer["lever"], answer["assessment"]) == ("resolved", "assessment", report.pk)


def test_a_withdrawn_dispute_keeps_why(cast, api_as):
    dispute = evaluation_dispute(cast)
    body = api_as("team_member").post(f"/disputes/{dispute.pk}/withdraw", {"note": "We talked it through."}).json()
    assert (body["status"], body["resolution"], body["lever"]) == ("withdrawn", "We talked it through.", None)


def _many_disputes(c, n: int) -> None:
    for i in range(n):
        dispute = services_dispute(c) if i % 2 else evaluation_dispute(c)
        if i % 3 == 0:
            actions.resolve_dispute(actor=c.executive, dispute=dispute, resolution="Agreed.", lever="none")


def test_the_dispute_list_makes_as_many_queries_for_50_as_for_5(cast):
    client = ApiClient(token_for(cast.executive))
    _many_disputes(cast, 5)
    small = _count(client, "/disputes", limit=500)
    _many_disputes(cast, 45)
    assert client.get("/disputes", limit=500).json()["count"] == 50
    assert _count(client, "/disputes", limit=500) == small
    # the token and its person; the page with both services and the raiser; the count
    assert small == 3


# ---------------------------------------------------------------- demand management


def test_a_proposal_suggests_the_services_that_could_meet_it_while_open(cast, reader, api_as):
    proposed = proposal(cast, needs=[{"as_a": "resident", "i_need": "a parking permit for my street",
                                      "so_that": "I can park near home"}])
    body = reader.get(f"/proposals/{proposed.pk}").json()
    assert (body["status"], body["needs_count"], body["context"]) == ("open", 1, "Residents keep asking at the front desk.")
    assert body["needs"] == [{"as_a": "resident", "i_need": "a parking permit for my street",
                              "so_that": "I can park near home"}]
    best = body["suggestions"][0]
    assert best["service"]["slug"] == P and 0 < best["score"] <= 1
    assert "parking" in best["words"] and "permit" in best["words"]
    assert best["best_need"].startswith("As a resident, I need Parking permits need 1")
    folded = api_as("executive").post(f"/proposals/{proposed.pk}/fold", {"service": P, "note": "It issues permits."})
    body = folded.json()
    assert (body["status"], body["service"]["slug"], body["draft_version"]) == ("folded", P, 2)
    assert body["decision_note"] == "It issues permits." and body["decided_by"]["email"] == cast.executive.email
    assert body["suggestions"] == []


def test_the_proposal_list_shows_what_was_decided(cast, reader):
    first = proposal(cast)
    declined = actions.decline_proposal(actor=cast.executive, proposal=proposal(cast, title="Bike hangars"),
                                        reason="Not this year.")
    assert _ids(reader.get("/proposals")) == [declined.pk, first.pk]
    row = reader.get("/proposals", status="declined").json()["items"][0]
    assert (row["id"], row["needs_count"], row["service"], row["decided_by"]["email"]) == (
        declined.pk, 2, None, cast.executive.email)


def test_establishing_for_a_proposal_names_the_new_service(cast, api_as):
    proposed = proposal(cast)
    body = api_as("exec_team").post(f"/proposals/{proposed.pk}/establish", {
        **factories.contract("Visitor permits"), "manager": cast.outsider.pk}).json()
    assert body["status"] == "established"
    assert body["service"] == {"slug": "visitor-permits", "name": "Visitor permits", "lifecycle_stage": "discovery"}
    service = api_as("outsider").get("/services/visitor-permits").json()
    assert service["manager"]["email"] == cast.outsider.email


def _many_proposals(c, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        proposed = proposal(c, title=f"Proposal {i:03}")
        if i % 3 == 0:
            actions.decline_proposal(actor=c.executive, proposal=proposed, reason="Not now.")
        elif i % 3 == 1 and i < 12:
            actions.establish_from_proposal(actor=c.executive, proposal=proposed,
                                            content=factories.contract(f"New service {i:03}"))


def test_the_proposal_list_makes_as_many_queries_for_50_as_for_5(cast):
    client = ApiClient(token_for(cast.executive))
    _many_proposals(cast, 5)
    small = _count(client, "/proposals", limit=500)
    _many_proposals(cast, 45, start=5)
    assert client.get("/proposals", limit=500).json()["count"] == 50
    assert _count(client, "/proposals", limit=500) == small
    # the token and its person; the page with proposer, decider and service and its needs
    # counted; the count
    assert small == 3


def test_the_matcher_ranks_services_and_says_why(cast, reader):
    body = reader.post("/matching/suggestions", {"needs": [
        {"as_a": "resident", "i_need": "to renew my parking permits online"}], "limit": 1}).json()
    assert body["count"] == 1 and body["items"][0]["service"]["slug"] == P
    assert "parking" in body["items"][0]["words"]
    assert reader.post("/matching/suggestions", {"needs": [{"i_need": "a swimming pool"}]}).json() == {
        "items": [], "count": 0}


def test_the_duplication_finder_pairs_needs_of_different_services(cast, reader):
    def need(content, i_need):
        content["needs"][0].update(as_a="householder", i_need=i_need, so_that="old furniture leaves my home")
        return content

    network_actions.establish_service(actor=cast.executive, content=need(
        factories.contract("Bulky waste"), "to book a bulky waste collection online"))
    network_actions.establish_service(actor=cast.executive, content=need(
        factories.contract("Recycling centre"), "to book a bulky waste collection slot online"))
    body = reader.get("/matching/duplicates").json()
    assert body["count"] >= 1
    first = body["items"][0]
    assert {first["first"]["slug"], first["second"]["slug"]} == {"bulky-waste", "recycling-centre"}
    assert {"bulky", "waste", "collection"} <= set(first["words"])
    assert first["first"]["need"].startswith("As a householder, I need to book a bulky waste collection")
    assert reader.get("/matching/duplicates", threshold=1).json() == {"items": [], "count": 0, "next_cursor": None}
    assert reader.get("/matching/duplicates", limit=1, offset=body["count"]).json()["items"] == []


# ---------------------------------------------------------------- deviations and delegation


def test_the_deviation_register_keeps_why_one_was_retired(cast, reader):
    active = deviation(cast)
    retired = actions.retire_deviation(actor=cast.exec_team, deviation=deviation(cast), reason="The services merged.")
    body = reader.get("/deviations").json()
    assert [d["id"] for d in body["items"]] == [active.pk, retired.pk]
    first, second = body["items"]
    assert (first["status"], first["overdue"], first["retired_reason"], first["retired_at"]) == ("active", False, "", None)
    assert (second["status"], second["retired_reason"]) == ("retired", "The services merged.")
    assert second["retired_at"] and second["recorded_by"]["email"] == cast.executive.email
    assert _ids(reader.get("/deviations", status="active")) == [active.pk]


def test_the_reserved_acts_say_which_the_executive_keeps(cast, reader, api_as):
    body = reader.get("/organisation/reserved-acts").json()
    acts = {a["act"]: a for a in body["acts"]}
    assert body["reserved"] == ["replace_manager", "decommission_service"]
    assert acts["replace_manager"] == {"act": "replace_manager", "says": "replace a service's manager", "kept": True,
                                       "always": False}
    assert acts["issue_mandate"]["kept"] is False
    assert acts["set_reserved_acts"]["kept"] is True and acts["set_reserved_acts"]["always"] is True
    assert "submit_contract_version" not in acts  # a manager's act, not the executive's
    changed = api_as("executive").put("/organisation/reserved-acts", {"acts": ["issue_mandate"]}).json()
    assert changed["reserved"] == ["issue_mandate"] and changed["revision"] == body["revision"] + 1
    assert {a["act"] for a in changed["acts"] if a["kept"]} == {"issue_mandate", "set_reserved_acts"}


# ---------------------------------------------------------------- dashboards and notifications


def test_the_executives_dashboard_lists_what_to_act_on(cast, api_as):
    with clock_at(midday_today() - dt.timedelta(days=400)):
        payroll = service_at(cast, "live", "Payroll")
    late = _overdue_mandate(cast)
    dispute = services_dispute(cast)
    proposed = proposal(cast)
    guidance = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                            rationale="Permits are free.")
    body = api_as("exec_team").get("/dashboard/executive").json()
    assert [(i["service"]["slug"], i["days"]) for i in body["overdue"]] == [(payroll.slug, 35)]
    assert [(m["id"], m["done"], m["total"]) for m in body["mandates_behind"]] == [(late.pk, 0, 2)]
    assert [d["id"] for d in body["disputes"]] == [dispute.pk]
    assert [p["id"] for p in body["proposals"]] == [proposed.pk]
    assert [(r["guidance"]["id"], r["service"]["slug"]) for r in body["rejections"]] == [(guidance.pk, P)]
    assert body["to_act_on"] == 4 and body["limit"] == 20
    assert api_as("outsider").get("/dashboard/executive", limit=1).json()["limit"] == 1  # transparent to all


def test_a_managers_dashboard_holds_what_is_asked_of_their_services(cast, api_as):
    mandate = issued_mandate(cast)
    dispute = actions.raise_dispute(actor=cast.other_manager, service=cast.other_service, other_service=cast.service,
                                    subject="Permit checks flood Identity", description="Two calls per page.")
    guidance = published_guidance(cast)
    body = api_as("manager").get("/dashboard/me").json()
    assert [s["slug"] for s in body["services"]] == [P]
    assert [(t["mandate"]["id"], t["service"]["slug"], t["status"]) for t in body["mandates"]] == [
        (mandate.pk, P, "pending")]
    assert body["mandates"][0]["due_date"] == DUE.isoformat()
    assert [(g["guidance"]["id"], g["service"]["slug"]) for g in body["guidance_to_decide"]] == [(guidance.pk, P)]
    assert [d["id"] for d in body["disputes"]] == [dispute.pk] and body["to_act_on"] == 3
    nobody = api_as("outsider").get("/dashboard/me").json()
    assert nobody == {"services": [], "agendas": [], "mandates": [], "guidance_to_decide": [], "disputes": [],
                      "to_act_on": 0}


def test_notifications_are_the_callers_own_unread_first(cast, api_as):
    client = api_as("manager")
    issued_mandate(cast, title="First")  # the manager is told
    older = Notification.objects.filter(person=cast.manager).latest("pk")
    actions.raise_dispute(actor=cast.other_manager, service=cast.other_service, other_service=cast.service,
                          subject="Permit checks flood Identity", description="Two calls per page.")
    published_guidance(cast)
    newest = Notification.objects.filter(person=cast.manager).latest("pk")
    marked = client.post("/notifications/read", {"ids": [newest.pk]}).json()
    assert marked == {"marked": 1, "unread": 2}
    body = client.get("/notifications").json()
    assert body["count"] == 3 and body["unread"] == 2
    assert [n["read"] for n in body["items"]] == [False, False, True]
    assert body["items"][-1]["id"] == newest.pk and body["items"][1]["id"] == older.pk
    assert body["items"][0]["url"] == f"http://testserver{body['items'][0]['link']}"
    assert [n["id"] for n in client.get("/notifications", unread=False).json()["items"]] == [newest.pk]
    assert client.post("/notifications/read").json() == {"marked": 2, "unread": 0}
    assert api_as("outsider").get("/notifications").json() == {"items": [], "count": 0, "next_cursor": None, "unread": 0}


def test_the_dashboards_and_notifications_cost_the_same_however_much_there_is(cast):
    client = ApiClient(token_for(cast.executive))
    manager = ApiClient(token_for(cast.manager))
    services_dispute(cast)
    counts = [_count(client, "/dashboard/executive"), _count(manager, "/dashboard/me"),
              _count(client, "/notifications")]
    for _ in range(5):
        services_dispute(cast)
        proposal(cast)
        issued_mandate(cast)
        published_guidance(cast)
    assert [_count(client, "/dashboard/executive"), _count(manager, "/dashboard/me"),
            _count(client, "/notifications")] == counts
    assert Dispute.objects.filter(status="open").count() == 6
