"""Reading the learning loop over the API: each answer's shape and values, on data made
through the actions — the doctrine's forty patterns, a round's grid coloured by the
aggregate of its ratings (unknown and ties included), the change since the round before
and what to work on next, the heat map, the CoE library and a CoE in full, a review's
agenda, the learning figures, communities and coverage — and lists whose cost in queries
does not grow with their length."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.core.actions import create_person
from osom.learning import actions, communities
from osom.network.actions import add_team_member

from .. import factories
from ..learning.test_permissions import (
    AGO,
    DUE,
    PROFESSION,
    TODAY,
    coe_content,
    drafted_coe,
    endorsed,
    formed,
    open_round,
    posted_role,
    published_coe,
    rate,
    role_named,
)
from ..lifecycle.helpers import clock_at, decommissioned, midday_today
from .test_learning_write_permissions import clients_for

YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def as_person(cast):
    """The API as each person of the cast, the community's lead and the action's owner."""
    return clients_for(cast)


def _queries(client, path: str, **params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


# ---------------------------------------------------------------- the doctrine


def test_the_forty_patterns_in_the_tables_order_with_the_organisations_meaning(cast, as_person):
    actions.edit_doctrine_meaning(actor=cast.executive, pattern=_pattern("know-your-users"),
                                  meaning="Name every group of residents who use the service.")
    body = as_person("outsider").get("/doctrine/patterns").json()
    assert body["count"] == 40 and [p["position"] for p in body["items"]] == list(range(1, 41))
    by_phase = {n: sum(1 for p in body["items"] if p["phase"] == n) for n in (1, 2, 3, 4)}
    assert by_phase == {1: 9, 2: 15, 3: 11, 4: 5}
    know = next(p for p in body["items"] if p["slug"] == "know-your-users")
    assert know == {"slug": "know-your-users", "name": "Know your users", "group": "development", "phase": 1,
                    "phase_name": "Stop self-harm", "meaning": "Name every group of residents who use the service.",
                    "position": 5, "revision": 2}
    leading = as_person("outsider").get("/doctrine/patterns", group="leading", phase=4).json()
    assert [p["name"] for p in leading["items"]] == ["There is no core", "Exploit the landscape"]


def _pattern(slug):
    from osom.learning.models import DoctrinePattern

    return DoctrinePattern.objects.get(slug=slug)


def test_a_rounds_grid_is_coloured_by_the_aggregate_of_three_respondents(cast, as_person):
    rnd = open_round(cast, organisation=True)
    actions.rate_doctrine(actor=cast.manager, round=rnd, ratings=[
        {"pattern": "know-your-users", "rating": "good", "evidence": "We interview residents monthly."},
        {"pattern": "manage-failure", "rating": "good"},
        {"pattern": "be-transparent", "rating": "weak"},
        {"pattern": "use-a-common-language", "rating": "unknown"}])
    rate(cast.team_member, rnd, know_your_users="good", manage_failure="partly", be_transparent="partly")
    rate(cast.outsider, rnd, know_your_users="partly", be_transparent="unknown")
    body = as_person("other_manager").get(f"/doctrine/rounds/{rnd.pk}").json()
    cells = body["cells"]
    assert len(cells) == 40 and body["service"] is None and body["respondents"] == 3 and body["ratings"] == 9
    # good, good, partly: a mean of 1.67 is good
    assert cells["know-your-users"]["colour"] == "good"
    assert cells["know-your-users"]["counts"] == {"good": 2, "partly": 1, "weak": 0, "unknown": 0}
    assert cells["know-your-users"]["evidence"] == [
        {"by": "Max Manager", "rating": "good", "text": "We interview residents monthly."}]
    # good and partly: exactly 1.5, the more cautious colour
    assert cells["manage-failure"]["colour"] == "partly"
    # weak and partly with an unknown that counts for nothing: exactly 0.5 is weak
    assert cells["be-transparent"]["colour"] == "weak" and cells["be-transparent"]["respondents"] == 3
    # only unknown, or not rated at all: unknown
    assert cells["use-a-common-language"]["colour"] == "unknown"
    assert cells["use-a-common-language"]["counts"]["unknown"] == 1
    assert cells["think-big"] == {"colour": "unknown", "counts": {"good": 0, "partly": 0, "weak": 0, "unknown": 0},
                                  "respondents": 0, "evidence": []}
    assert body["colours"] == {"good": 1, "partly": 1, "weak": 1, "unknown": 37}
    # the layout draws the table: six groups by four phases, each cell its patterns in order
    assert [row["group"] for row in body["layout"]] == ["communication", "development", "operation", "structure",
                                                        "learning", "leading"]
    communication = body["layout"][0]["phases"]
    assert [c["phase"] for c in communication] == [1, 2, 3, 4]
    assert communication[0]["patterns"] == ["use-a-common-language", "challenge-assumptions",
                                            "focus-on-high-situational-awareness"]
    assert sorted(s for row in body["layout"] for c in row["phases"] for s in c["patterns"]) == sorted(cells)


def test_the_change_since_the_round_before_and_what_to_work_on_next(cast, as_person):
    first = open_round(cast)
    rate(cast.team_member, first, know_your_users="weak", manage_failure="good", challenge_assumptions="partly")
    actions.close_doctrine_round(actor=cast.manager, round=first)
    second = open_round(cast)
    rate(cast.team_member, second, know_your_users="good", manage_failure="weak", be_transparent="partly",
         remove_bias_and_duplication="partly", challenge_assumptions="weak", use_appropriate_tools="weak")
    body = as_person("outsider").get(f"/doctrine/rounds/{second.pk}").json()
    assert body["previous"] == first.pk and body["status"] == "open"
    change = {c["pattern"]["slug"]: (c["before"], c["after"], c["direction"]) for c in body["change"]}
    assert change == {
        "know-your-users": ("weak", "good", "better"),
        "manage-failure": ("good", "weak", "worse"),
        "challenge-assumptions": ("partly", "weak", "worse"),
        "be-transparent": ("unknown", "partly", "known"),
        "remove-bias-and-duplication": ("unknown", "partly", "known"),
        "use-appropriate-tools": ("unknown", "weak", "known"),
    }
    # stop self-harm first (phase I), weak before partly, then the table's order
    assert [(n["pattern"]["slug"], n["colour"]) for n in body["work_on_next"]] == [
        ("challenge-assumptions", "weak"), ("remove-bias-and-duplication", "partly"),
        ("use-appropriate-tools", "weak"), ("manage-failure", "weak"), ("be-transparent", "partly")]
    first_body = as_person("outsider").get(f"/doctrine/rounds/{first.pk}").json()
    assert first_body["previous"] is None and first_body["change"] == [] and first_body["closed_at"]


def test_the_rounds_list_filters_and_counts_respondents(cast, as_person):
    service_round = open_round(cast)
    rate(cast.team_member, service_round, know_your_users="good", manage_failure="weak")
    rate(cast.manager, service_round, know_your_users="partly")
    organisation_round = open_round(cast, organisation=True)
    client = as_person("outsider")
    rows = client.get("/doctrine/rounds").json()
    assert [r["id"] for r in rows["items"]] == [organisation_round.pk, service_round.pk]
    assert (rows["items"][1]["respondents"], rows["items"][1]["ratings"]) == (2, 3)
    assert rows["items"][1]["service"] == {"slug": "parking-permits", "name": "Parking permits",
                                           "lifecycle_stage": "discovery"}
    assert [r["id"] for r in client.get("/doctrine/rounds", organisation=True).json()["items"]] == [organisation_round.pk]
    assert [r["id"] for r in client.get("/doctrine/rounds", service="parking-permits").json()["items"]] == [
        service_round.pk]
    assert client.get("/doctrine/rounds", status="closed").json()["count"] == 0


def test_the_heat_map_colours_each_service_by_its_latest_finished_round(cast, as_person):
    older = open_round(cast)
    rate(cast.team_member, older, know_your_users="weak")
    actions.close_doctrine_round(actor=cast.manager, round=older)
    latest = open_round(cast)
    rate(cast.team_member, latest, know_your_users="good", manage_failure="partly")
    actions.close_doctrine_round(actor=cast.manager, round=latest)
    rate(cast.team_member, open_round(cast), know_your_users="weak")  # still being rated: does not stand yet
    open_round(cast, cast.other_service)  # opened, never rated: the service stays unknown
    decommissioned(cast)  # no longer running: not on the map
    body = as_person("outsider").get("/doctrine/heat-map").json()
    slugs = [p["slug"] for p in body["patterns"]]
    assert len(slugs) == 40 and body["count"] == 2
    identity, parking = body["items"]
    assert (identity["service"]["slug"], identity["round"]) == ("identity", None)
    assert set(identity["cells"]) == {"unknown"} and identity["colours"]["unknown"] == 40
    assert (parking["service"]["slug"], parking["round"]) == ("parking-permits", latest.pk)
    assert parking["cells"][slugs.index("know-your-users")] == "good"
    assert parking["cells"][slugs.index("manage-failure")] == "partly"
    assert parking["colours"] == {"good": 1, "partly": 1, "weak": 0, "unknown": 38}
    paged = as_person("outsider").get("/doctrine/heat-map", limit=1, offset=1).json()
    assert [r["service"]["slug"] for r in paged["items"]] == ["parking-permits"] and paged["count"] == 2


def test_the_heat_map_costs_the_same_whatever_the_number_of_services(cast, as_person):
    client = as_person("outsider")
    rate(cast.team_member, open_round(cast), know_your_users="good")
    few, _ = _queries(client, "/doctrine/heat-map")
    for n in range(4):
        service = factories.service(cast.executive, f"Service {n}", manager=cast.other_manager)
        rnd = open_round(cast, service)
        rate(cast.other_manager, rnd, manage_failure="weak", be_transparent="good")
    many, body = _queries(client, "/doctrine/heat-map")
    assert body["count"] == 6 and many == few


def test_a_round_costs_the_same_whatever_the_number_of_ratings(cast, as_person):
    rnd = open_round(cast, organisation=True)
    client = as_person("outsider")
    rate(cast.outsider, rnd, know_your_users="good")
    few, _ = _queries(client, f"/doctrine/rounds/{rnd.pk}")
    for n in range(5):
        person = create_person(actor=cast.executive, email=f"r{n}@example.org", name=f"Respondent {n}")
        rate(person, rnd, know_your_users="weak", manage_failure="partly", be_transparent="good")
    many, body = _queries(client, f"/doctrine/rounds/{rnd.pk}")
    assert body["respondents"] == 6 and many == few


# ---------------------------------------------------------------- Corrections of Error


def test_a_coe_reads_back_as_the_content_it_was_written_with(cast, as_person):
    content = coe_content(cast)
    coe = actions.write_coe(actor=cast.team_member, service=cast.service, content=content)
    body = as_person("manager").get(f"/coes/{coe.pk}").json()
    assert (body["status"], body["author"]["email"], body["revision"]) == ("draft", cast.team_member.email, 1)
    for field in ("title", "occurred_on", "users_affected", "problem", "impact", "root_cause", "root_cause_data",
                  "trade_offs_that_led", "trade_offs_to_avoid", "lessons", "why_chains"):
        assert body[field] == content[field], field
    assert [e["description"] for e in body["timeline"]] == ["First TLS error", "Certificate renewed"]
    assert body["pattern_effects"] == [
        {"pattern": "be-transparent", "effect": "helped", "note": "Status page kept up to date.", "name": "Be transparent"},
        {"pattern": "manage-failure", "effect": "hurt", "note": "No alert on expiry.", "name": "Manage failure"}]
    [action] = body["actions"]
    assert (action["owner"], action["owner_name"], action["status"], action["overdue"]) == (
        cast.team_member.email, "Tia Team", "open", False)
    # sent back as it was read, nothing changes but the revision
    rewritten = as_person("manager").put(f"/coes/{coe.pk}", {**body, "expected_revision": body["revision"]}).json()
    assert rewritten["revision"] == 2
    assert {k: v for k, v in rewritten.items() if k != "revision"} == {k: v for k, v in body.items() if k != "revision"}


def test_a_published_coe_shows_its_actions_review_and_guidance(cast, as_person):
    coe = published_coe(cast, actions=[
        {"description": "Alert on expiry", "owner": cast.team_member.email, "due_date": YESTERDAY.isoformat()},
        {"description": "Name an owner", "owner": cast.manager.email, "due_date": DUE.isoformat()}])
    actions.update_corrective_action(actor=cast.manager, action=coe.actions.order_by("position")[1], status="done",
                                     note="Named.")
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    actions.hold_coe_review(actor=cast.executive, review=review, coe_notes={coe.pk: "Share widely."})
    body = as_person("outsider").get(f"/coes/{coe.pk}").json()
    assert (body["status"], body["published_by"]["email"], body["review_note"]) == ("reviewed", cast.manager.email,
                                                                                   "Share widely.")
    assert body["review"] == {"id": review.pk, "title": review.title, "scheduled_for": TODAY.isoformat()}
    assert [(a["description"], a["status"], a["overdue"]) for a in body["actions"]] == [
        ("Alert on expiry", "open", True), ("Name an owner", "done", False)]
    assert (body["action_count"], body["open_actions"], body["overdue_actions"]) == (2, 1, 1)
    assert body["actions"][1]["note"] == "Named." and body["actions"][1]["done_at"]
    response = as_person("executive").post(f"/coes/{coe.pk}/guidance", {"category": "security"})
    guidance = response.json()
    assert guidance["title"] == "Learning from “Permit renewals failed overnight”"
    assert guidance["body"].startswith("**Lessons learned**\n\nEvery certificate needs an owner and an alert.")
    assert (guidance["status"], guidance["category"], guidance["coe"]) == ("draft", "security", coe.pk)
    body = as_person("outsider").get(f"/coes/{coe.pk}").json()
    assert body["guidance"] == [{"id": guidance["id"], "title": guidance["title"], "status": "draft"}]


def test_the_library_searches_by_words_service_pattern_and_status(cast, as_person):
    renewals = published_coe(cast)
    outage = published_coe(cast, service=cast.other_service, title="Sign-in outage", root_cause="A full disk.",
                           problem="Nobody could sign in.", lessons="Alert before disks fill.", pattern_effects=[
                               {"pattern": "manage-failure", "effect": "helped", "note": "The runbook worked."}])
    draft = drafted_coe(cast, title="A near miss")
    client = as_person("outsider")

    def ids(**params):
        return [c["id"] for c in client.get("/coes", **params).json()["items"]]

    assert ids() == [outage.pk, renewals.pk]  # the same day: the later written first
    assert draft.pk not in ids()
    assert ids(q="certificate") == [renewals.pk]
    assert ids(q="sign disk") == [outage.pk]
    assert ids(service="identity") == [outage.pk]
    assert set(ids(pattern="manage-failure")) == {renewals.pk, outage.pk}
    assert ids(pattern="manage-failure", effect="hurt") == [renewals.pk]
    assert ids(status="reviewed") == []
    row = client.get("/coes", service="parking-permits").json()["items"][0]
    assert row["service"]["slug"] == "parking-permits" and row["author"]["email"] == cast.manager.email
    assert (row["action_count"], row["open_actions"], row["overdue_actions"]) == (1, 1, 0)
    # the service's own people see their drafts too
    assert {c["id"] for c in as_person("team_member").get("/coes").json()["items"]} == {
        renewals.pk, outage.pk, draft.pk}


def test_the_library_costs_the_same_whatever_the_number_of_coes(cast, as_person):
    client = as_person("outsider")
    published_coe(cast)
    few, _ = _queries(client, "/coes")
    for n in range(5):
        published_coe(cast, title=f"Problem {n}")
    many, body = _queries(client, "/coes")
    assert body["count"] == 6 and many == few
    coe = published_coe(cast, title="Many parts")
    one, _ = _queries(client, f"/coes/{coe.pk}")
    for n in range(4):
        actions.add_corrective_action(actor=cast.manager, coe=coe, description=f"Step {n}", owner=cast.manager.email,
                                      due_date=DUE)
    more, body = _queries(client, f"/coes/{coe.pk}")
    assert len(body["actions"]) == 5 and more == one


def test_a_reviews_agenda_holds_exactly_the_published_unreviewed_coes(cast, as_person):
    reviewed = published_coe(cast, title="Reviewed before")
    earlier = actions.schedule_coe_review(actor=cast.executive, scheduled_for=AGO)
    actions.hold_coe_review(actor=cast.executive, review=earlier, notes="First one.")
    first = published_coe(cast, title="First on the agenda")
    second = published_coe(cast, service=cast.other_service, title="Second on the agenda")
    drafted_coe(cast, title="Still a draft")
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    client = as_person("outsider")
    body = client.get(f"/coe-reviews/{review.pk}").json()
    assert body["status"] == "scheduled" and body["reviewed"] == [] and body["reviewed_count"] == 0
    assert [c["id"] for c in body["agenda"]] == [first.pk, second.pk]
    actions.hold_coe_review(actor=cast.executive, review=review, notes="Two good write-ups.", reviewed=[second.pk],
                            coe_notes={second.pk: "Disks need alerts."})
    body = client.get(f"/coe-reviews/{review.pk}").json()
    assert (body["status"], body["notes"], body["held_by"]["email"]) == ("held", "Two good write-ups.",
                                                                         cast.executive.email)
    assert body["agenda"] == []
    assert [(c["id"], c["status"], c["review_note"]) for c in body["reviewed"]] == [
        (second.pk, "reviewed", "Disks need alerts.")]
    # what was left out waits for the next review
    later = actions.schedule_coe_review(actor=cast.executive, scheduled_for=DUE)
    assert [c["id"] for c in client.get(f"/coe-reviews/{later.pk}").json()["agenda"]] == [first.pk]
    listed = client.get("/coe-reviews").json()
    assert [(r["id"], r["reviewed_count"]) for r in listed["items"]] == [(later.pk, 0), (review.pk, 1), (earlier.pk, 1)]
    assert reviewed.pk in [c["id"] for c in client.get(f"/coe-reviews/{earlier.pk}").json()["reviewed"]]


def test_the_learning_figures_on_hand_made_data(cast, as_person):
    start = midday_today() - dt.timedelta(days=10)
    occurred = (TODAY - dt.timedelta(days=20)).isoformat()
    with clock_at(start):
        coe = published_coe(cast, occurred_on=occurred, root_cause="The payment certificate expired unnoticed.",
                            actions=[
                                {"description": "On time", "owner": cast.manager.email, "due_date": DUE.isoformat()},
                                {"description": "Late", "owner": cast.manager.email, "due_date": AGO.isoformat()},
                                {"description": "Still open", "owner": cast.team_member.email,
                                 "due_date": AGO.isoformat()},
                                {"description": "Dropped", "owner": cast.manager.email, "due_date": DUE.isoformat()}])
    on_time, late, still_open, dropped = coe.actions.order_by("position")
    with clock_at(start + dt.timedelta(days=6)):
        actions.update_corrective_action(actor=cast.manager, action=on_time, status="done")
    with clock_at(start + dt.timedelta(days=10)):
        actions.update_corrective_action(actor=cast.manager, action=late, status="done")
    actions.update_corrective_action(actor=cast.manager, action=dropped, status="dropped", note="Not needed.")
    published_coe(cast, occurred_on=occurred, title="Renewals failed again",
                  root_cause="The payment certificates expired, unnoticed again.")
    drafted_coe(cast, title="A draft's actions are not counted", actions=[
        {"description": "Draft", "owner": cast.manager.email, "due_date": AGO.isoformat()}])
    body = as_person("outsider").get("/learning/figures").json()
    # closed after 6 and after 10 days: a median of 8
    assert body["closed"] == 2 and body["median_days_to_close"] == 8.0
    assert (body["closed_on_time"], body["share_on_time"]) == (1, 50)
    assert (body["open"], body["open_overdue"], body["dropped"], body["unreviewed"]) == (2, 1, 1, 2)
    [overdue] = body["overdue_actions"]
    assert (overdue["id"], overdue["days_overdue"], overdue["owner"]["email"]) == (still_open.pk, 3, cast.team_member.email)
    assert overdue["coe"]["id"] == coe.pk and overdue["service"]["slug"] == "parking-permits"
    [repeated] = body["repeated"]
    assert repeated["service"]["slug"] == "parking-permits" and len(repeated["coes"]) == 2
    assert repeated["shared_words"] == ["certificat", "expir", "payment", "unnotic"]
    other = as_person("outsider").get("/learning/figures", service="identity").json()
    assert (other["closed"], other["median_days_to_close"], other["share_on_time"], other["repeated"]) == (
        0, None, None, [])


# ---------------------------------------------------------------- communities and open roles


def test_a_community_shows_its_members_guidance_and_the_open_roles_of_its_profession(cast, as_person):
    w = as_person.world
    community = endorsed(w)
    communities.join_community(actor=w.owner, community=community)
    communities.join_community(actor=w.outsider, community=community)
    communities.leave_community(actor=w.outsider, community=community)
    researcher = posted_role(w, role="User researcher")
    communities.post_open_role(actor=cast.other_manager, service=cast.other_service, role=role_named("Data engineer"),
                               level="senior")
    body = as_person("outsider").get(f"/communities/{community.pk}").json()
    assert (body["name"], body["profession"], body["status"], body["endorsed_on"]) == (
        "User research", PROFESSION, "endorsed", TODAY.isoformat())
    assert body["lead"]["email"] == w.lead.email and body["members"] == 2
    assert [m["person"]["name"] for m in body["member_list"]] == ["Lee Lead", "Owen Owner"]
    assert [(g["kind"], g["title"], g["withdrawn_at"]) for g in body["guidance"]] == [
        ("evaluation", "Evaluating user researchers", None)]
    assert [(r["id"], r["role"]["name"], r["level"]) for r in body["open_roles"]] == [
        (researcher.pk, "User researcher", "senior")]
    listed = as_person("outsider").get("/communities").json()
    assert [(c["name"], c["members"], c["status"]) for c in listed["items"]] == [("User research", 2, "endorsed")]


def test_coverage_sets_the_professions_in_teams_against_the_communities(cast, as_person):
    add_team_member(actor=cast.other_manager, service=cast.other_service, person=cast.outsider,
                    role=role_named("Data engineer"), level="practitioner")
    add_team_member(actor=cast.other_manager, service=cast.other_service, person=cast.team_member,
                    role=role_named("Content designer"), level="senior")
    w = as_person.world
    community = formed(w)
    body = as_person("outsider").get("/communities/coverage").json()
    data = role_named("Data engineer").job_family
    assert [(r["profession"], r["state"], r["people"], r["services"]) for r in body["items"]] == [
        (data, "none", 1, 1), (PROFESSION, "forming", 1, 2)]
    assert body["items"][1]["communities"] == [{"id": community.pk, "name": "User research", "status": "forming"}]
    assert (body["count"], body["endorsed"]) == (2, 0)
    communities.publish_community_guidance(actor=w.lead, community=community, kind="evaluation",
                                           title="Evaluating", body="Look at the evidence.")
    communities.endorse_community(actor=cast.executive, community=community)
    body = as_person("outsider").get("/communities/coverage").json()
    assert body["items"][-1]["state"] == "endorsed" and body["endorsed"] == 1


def test_open_roles_filter_by_profession_service_and_status(cast, as_person):
    content = posted_role(cast)
    data = communities.post_open_role(actor=cast.other_manager, service=cast.other_service,
                                      role=role_named("Data engineer"), level="lead")
    communities.close_open_role(actor=cast.other_manager, opening=data, filled=True)
    client = as_person("outsider")

    def ids(**params):
        return [r["id"] for r in client.get("/open-roles", **params).json()["items"]]

    assert ids() == [data.pk, content.pk]
    assert ids(profession=PROFESSION) == [content.pk]
    assert ids(service="identity") == [data.pk]
    assert ids(status="open") == [content.pk]
    row = client.get("/open-roles", status="filled").json()["items"][0]
    assert (row["status"], row["level"], row["service"]["slug"], row["posted_by"]["email"]) == (
        "filled", "lead", "identity", cast.other_manager.email)
    assert row["closed_at"]


@pytest.mark.parametrize("path", ["/communities", "/open-roles", "/coe-reviews", "/doctrine/rounds"])
def test_lists_cost_the_same_whatever_their_length(cast, as_person, path):
    client = as_person("outsider")
    w = as_person.world

    def add(n: int) -> None:
        for i in range(n):
            person = create_person(actor=cast.executive, email=f"p{path.count('/')}{i}{n}@example.org",
                                   name=f"Person {i} {n}")
            if path == "/communities":
                community = formed(w, lead=person, name=f"Community {i} {n}")
                communities.join_community(actor=w.owner, community=community)
            elif path == "/open-roles":
                posted_role(cast)
            elif path == "/coe-reviews":
                actions.schedule_coe_review(actor=cast.executive, scheduled_for=DUE)
            else:
                service = factories.service(cast.executive, f"Service {i} {n}", manager=cast.manager)
                rate(cast.manager, open_round(cast, service), know_your_users="good")

    add(1)
    few, _ = _queries(client, path)
    add(4)
    many, body = _queries(client, path)
    assert body["count"] == 5 and many == few
