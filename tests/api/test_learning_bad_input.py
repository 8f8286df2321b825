"""Bad input to every write endpoint of the learning loop: a JSON answer naming the field
and saying what is wrong in a sentence — 400 (the model's rules), 409 (a conflict or the
wrong moment), 404 (nothing there) or 422 (the request's shape) — and nothing written.
Each case is sent by someone with the right to act, so only the input is wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from osom.core.models import Person
from osom.learning import actions, communities
from osom.learning.models import DoctrinePattern

from ..learning.test_permissions import (
    DUE,
    PROFESSION,
    TODAY,
    coe_content,
    drafted_coe,
    endorsed,
    evaluation_guidance,
    first_action,
    formed,
    open_round,
    posted_role,
    published_coe,
    rate,
)
from ..lifecycle.helpers import decommissioned
from .test_learning_write_permissions import clients_for, everything

P = "parking-permits"
TOMORROW = TODAY + dt.timedelta(days=1)
PATTERN = "know-your-users"


@pytest.fixture
def as_person(cast):
    """The API as each person of the cast, the community's lead and the action's owner."""
    return clients_for(cast)


# ---------------------------------------------------------------- set-ups


def _meaning(moved: int = 0, **body):
    def setup(w):
        pattern = DoctrinePattern.objects.get(slug=PATTERN)
        return ("PATCH", f"/doctrine/patterns/{PATTERN}", {"meaning": "Name our users.",
                                                           "expected_revision": pattern.revision + moved, **body})
    return setup


def _ratings(*ratings, round=None):
    def setup(w):
        rnd = (round or open_round)(w)
        return ("POST", f"/doctrine/rounds/{rnd.pk}/ratings", {"ratings": list(ratings)})
    return setup


def _closed_round(w):
    rnd = open_round(w)
    rate(w.team_member, rnd, know_your_users="good")
    return actions.close_doctrine_round(actor=w.manager, round=rnd)


def _coe(**changes):
    return lambda w: ("POST", "/coes", {"service": P, **coe_content(w), **changes})


def _rewrite(make=drafted_coe, moved: int = 0, **body):
    def setup(w):
        coe = make(w)
        return ("PUT", f"/coes/{coe.pk}", {"expected_revision": coe.revision + moved, **body})
    return setup


def _stale_coe(w):
    coe = drafted_coe(w)
    seen = coe.revision
    actions.write_coe(actor=w.team_member, service=w.service, coe=coe, content={"lessons": "Changed meanwhile."})
    return ("PUT", f"/coes/{coe.pk}", {"lessons": "Mine.", "expected_revision": seen})


def _action_of(make, *, status: str | None = None):
    def build(w):
        action = first_action(make(w))
        if status:
            actions.update_corrective_action(actor=w.team_member, action=action, status=status)
        return action
    return build


def _verified(w):
    action = _action_of(published_coe, status="done")(w)
    return actions.verify_corrective_action(actor=w.manager, action=action)


def _left(w) -> str:
    Person.objects.filter(pk=w.outsider.pk).update(is_active=False)
    return w.outsider.email


def _scheduled(w):
    return actions.schedule_coe_review(actor=w.executive, scheduled_for=TODAY)


def _hold(body, *, agenda: bool = True):
    def setup(w):
        coe = published_coe(w) if agenda else None
        review = _scheduled(w)
        filled = {k: (v(coe) if callable(v) else v) for k, v in body.items()}
        return ("POST", f"/coe-reviews/{review.pk}/hold", filled)
    return setup


def _note_on_another(w):
    first, second = published_coe(w), published_coe(w, title="Renewals failed again")
    review = _scheduled(w)
    return ("POST", f"/coe-reviews/{review.pk}/hold", {"reviewed": [first.pk], "coe_notes": {str(second.pk): "Later."}})


def _held(w):
    published_coe(w)
    review = _scheduled(w)
    return actions.hold_coe_review(actor=w.executive, review=review)


def _community(**body):
    return lambda w: ("POST", "/communities", {"name": "Content design", "profession": PROFESSION,
                                               "purpose": "Plain English everywhere.", **body})


def _edit(moved: int = 0, **body):
    def setup(w):
        community = formed(w)
        return ("PATCH", f"/communities/{community.pk}", {"expected_revision": community.revision + moved, **body})
    return setup


def _stale_community(w):
    community = formed(w)
    seen = community.revision
    communities.edit_community(actor=w.lead, community=community, name="Researchers", purpose="Changed meanwhile.")
    return ("PATCH", f"/communities/{community.pk}", {"purpose": "Mine.", "expected_revision": seen})


def _withdrawn_guidance(w):
    guidance = evaluation_guidance(formed(w))
    return communities.withdraw_community_guidance(actor=w.lead, guidance=guidance)


def _closed_role(w):
    return communities.close_open_role(actor=w.manager, opening=posted_role(w), filled=True)


def _role(service_slug: str = P, **body):
    return lambda w: ("POST", f"/services/{service_slug}/open-roles",
                      {"role": "Content designer", "level": "senior", **body})


def _gone_role(w):
    return _role(decommissioned(w).slug)(w)


# name → (role, set-up returning (method, path, body), status, field)
CASES = {
    # the doctrine
    "a meaning left empty": ("executive", _meaning(meaning="  "), 400, "meaning"),
    "a meaning too long": ("executive", _meaning(meaning="x" * 2001), 400, "meaning"),
    "a meaning without the revision read": ("executive", lambda w: (
        "PATCH", f"/doctrine/patterns/{PATTERN}", {"meaning": "Name our users."}), 422, "expected_revision"),
    "a meaning over a stale revision": ("executive", _meaning(moved=-1), 409, "revision"),
    "the meaning of a pattern that does not exist": ("executive", lambda w: (
        "PATCH", "/doctrine/patterns/know-your-pets", {"meaning": "x", "expected_revision": 1}), 404, "slug"),
    "a round of an unknown service": ("executive", lambda w: (
        "POST", "/doctrine/rounds", {"service": "nowhere"}), 400, "service"),
    "a round naming an empty service": ("executive", lambda w: (
        "POST", "/doctrine/rounds", {"service": " "}), 400, "service"),
    "a round with a title too long": ("manager", lambda w: (
        "POST", "/doctrine/rounds", {"service": P, "title": "x" * 201}), 400, "title"),
    "a second open round of a service": ("manager", lambda w: (
        open_round(w) and ("POST", "/doctrine/rounds", {"service": P})), 409, "service"),
    "a round of a decommissioned service": ("manager", lambda w: (
        "POST", "/doctrine/rounds", {"service": decommissioned(w).slug}), 409, "service"),
    "rating nothing": ("team_member", _ratings(), 400, "ratings"),
    "rating a pattern that does not exist": ("team_member", _ratings(
        {"pattern": PATTERN, "rating": "good"}, {"pattern": "know-your-pets", "rating": "good"}), 400, "ratings[1].pattern"),
    "a rating that is not one": ("team_member", _ratings({"pattern": PATTERN, "rating": "meh"}), 422, "ratings[0].rating"),
    "rating a pattern twice at once": ("team_member", _ratings(
        {"pattern": PATTERN, "rating": "good"}, {"pattern": PATTERN, "rating": "weak"}), 400, "ratings[1].pattern"),
    "evidence too long": ("team_member", _ratings(
        {"pattern": PATTERN, "rating": "good", "evidence": "x" * 4001}), 400, "ratings[0].evidence"),
    "ratings that are not a list": ("team_member", lambda w: (
        "POST", f"/doctrine/rounds/{open_round(w).pk}/ratings", {"ratings": "all good"}), 422, "ratings"),
    "rating a closed round": ("team_member", _ratings({"pattern": PATTERN, "rating": "good"}, round=_closed_round),
                              409, "round"),
    "rating a round that does not exist": ("team_member", lambda w: (
        "POST", "/doctrine/rounds/9999/ratings", {"ratings": [{"pattern": PATTERN, "rating": "good"}]}), 404, "round_id"),
    "closing a round nobody rated": ("manager", lambda w: (
        "POST", f"/doctrine/rounds/{open_round(w).pk}/close", None), 409, "round"),
    "closing a round twice": ("manager", lambda w: (
        "POST", f"/doctrine/rounds/{_closed_round(w).pk}/close", None), 409, "round"),
    # Corrections of Error
    "a CoE without a title": ("team_member", _coe(title=" "), 400, "title"),
    "a CoE of an unknown service": ("team_member", _coe(service="nowhere"), 400, "service"),
    "a CoE of a problem yet to happen": ("team_member", _coe(occurred_on=TOMORROW.isoformat()), 400, "occurred_on"),
    "a CoE of no date": ("team_member", _coe(occurred_on="last week"), 422, "occurred_on"),
    "a CoE with no date at all": ("team_member", lambda w: (
        "POST", "/coes", {"service": P, "title": "Outage"}), 422, "occurred_on"),
    "an action owned by nobody known": ("team_member", lambda w: _coe(actions=[
        {"description": "Alert on expiry", "owner": "nobody@example.org", "due_date": DUE.isoformat()}])(w),
        400, "actions[0].owner"),
    "an action owned by someone who left": ("team_member", lambda w: _coe(actions=[
        {"description": "Alert on expiry", "owner": _left(w), "due_date": DUE.isoformat()}])(w), 400, "actions[0].owner"),
    "an action saying nothing": ("team_member", lambda w: _coe(actions=[
        {"description": " ", "owner": w.manager.email, "due_date": DUE.isoformat()}])(w), 400, "actions[0].description"),
    "an action due on no date": ("team_member", lambda w: _coe(actions=[
        {"description": "Alert", "owner": w.manager.email, "due_date": "soon"}])(w), 422, "actions[0].due_date"),
    "a pattern that does not exist": ("team_member", _coe(pattern_effects=[
        {"pattern": "know-your-pets", "effect": "hurt"}]), 400, "pattern_effects[0].pattern"),
    "a pattern that neither helped nor hurt": ("team_member", _coe(pattern_effects=[
        {"pattern": PATTERN, "effect": "confused"}]), 422, "pattern_effects[0].effect"),
    "a pattern tagged twice": ("team_member", _coe(pattern_effects=[
        {"pattern": PATTERN, "effect": "hurt"}, {"pattern": PATTERN, "effect": "helped"}]), 400, "pattern_effects[1].pattern"),
    "a why chain without answers": ("team_member", _coe(why_chains=[{"question": "Why?", "whys": []}]),
                                    400, "why_chains[0].whys"),
    "a why chain without its question": ("team_member", _coe(why_chains=[{"question": "", "whys": ["Because"]}]),
                                         400, "why_chains[0].question"),
    "a moment of the timeline saying nothing": ("team_member", _coe(timeline=[
        {"at": f"{TODAY} 01:00", "description": " "}]), 400, "timeline[0].description"),
    "a moment of the timeline at no time": ("team_member", _coe(timeline=[
        {"at": "at dawn", "description": "Alerts fired"}]), 422, "timeline[0].at"),
    "a CoE of a decommissioned service": ("manager", lambda w: _coe(service=decommissioned(w).slug)(w), 409, "service"),
    "rewriting a draft over a stale revision": ("team_member", _stale_coe, 409, "revision"),
    "rewriting without the revision read": ("team_member", lambda w: (
        "PUT", f"/coes/{drafted_coe(w).pk}", {"lessons": "Mine."}), 422, "expected_revision"),
    "rewriting a published CoE": ("team_member", _rewrite(published_coe, lessons="Again."), 409, "coe"),
    "rewriting a draft into one without a title": ("team_member", _rewrite(title=""), 400, "title"),
    "rewriting a CoE that does not exist": ("team_member", lambda w: (
        "PUT", "/coes/9999", {"expected_revision": 1}), 404, "coe_id"),
    "discarding a published CoE": ("manager", lambda w: ("DELETE", f"/coes/{published_coe(w).pk}", None), 409, "coe"),
    "discarding a CoE that does not exist": ("manager", lambda w: ("DELETE", "/coes/9999", None), 404, "coe_id"),
    "publishing without the lessons": ("manager", lambda w: (
        "POST", f"/coes/{drafted_coe(w, lessons='').pk}/publish", None), 400, "lessons"),
    "publishing without a corrective action": ("manager", lambda w: (
        "POST", f"/coes/{drafted_coe(w, actions=[]).pk}/publish", None), 400, "actions"),
    "publishing twice": ("manager", lambda w: ("POST", f"/coes/{published_coe(w).pk}/publish", None), 409, "coe"),
    "publishing over a stale revision": ("manager", lambda w: (
        "POST", f"/coes/{drafted_coe(w).pk}/publish", {"expected_revision": 99}), 409, "revision"),
    "adding an action owned by nobody known": ("team_member", lambda w: (
        "POST", f"/coes/{published_coe(w).pk}/actions",
        {"description": "Name an owner", "owner": "nobody@example.org", "due_date": DUE.isoformat()}), 400, "owner"),
    "adding an action without its due date": ("team_member", lambda w: (
        "POST", f"/coes/{published_coe(w).pk}/actions", {"description": "Name an owner", "owner": w.manager.email}),
        422, "due_date"),
    "adding an action to a CoE that does not exist": ("team_member", lambda w: (
        "POST", "/coes/9999/actions", {"description": "x", "owner": w.manager.email, "due_date": DUE.isoformat()}),
        404, "coe_id"),
    "dropping an action without saying why": ("team_member", lambda w: (
        "POST", f"/corrective-actions/{_action_of(published_coe)(w).pk}/update", {"status": "dropped"}), 400, "note"),
    "marking an action verified by an update": ("team_member", lambda w: (
        "POST", f"/corrective-actions/{_action_of(published_coe)(w).pk}/update", {"status": "verified"}),
        422, "status"),
    "moving an action to a date that is not one": ("team_member", lambda w: (
        "POST", f"/corrective-actions/{_action_of(published_coe)(w).pk}/update",
        {"status": "open", "due_date": "later"}), 422, "due_date"),
    "updating a verified action": ("manager", lambda w: (
        "POST", f"/corrective-actions/{_verified(w).pk}/update", {"status": "open"}), 409, "status"),
    "marking an open action open": ("team_member", lambda w: (
        "POST", f"/corrective-actions/{_action_of(published_coe)(w).pk}/update", {"status": "open"}), 409, "status"),
    "updating an action that does not exist": ("team_member", lambda w: (
        "POST", "/corrective-actions/9999/update", {"status": "done"}), 404, "action_id"),
    "verifying an open action": ("manager", lambda w: (
        "POST", f"/corrective-actions/{_action_of(published_coe)(w).pk}/verify", None), 409, "status"),
    "verifying an action of a draft": ("manager", lambda w: (
        "POST", f"/corrective-actions/{_action_of(drafted_coe, status='done')(w).pk}/verify", None), 409, "coe"),
    "guidance from a draft": ("executive", lambda w: (
        "POST", f"/coes/{drafted_coe(w).pk}/guidance", {"category": "operations"}), 400, "coe"),
    "guidance of an unknown category": ("executive", lambda w: (
        "POST", f"/coes/{published_coe(w).pk}/guidance", {"category": "magic"}), 422, "category"),
    "guidance from a CoE that does not exist": ("executive", lambda w: (
        "POST", "/coes/9999/guidance", {"category": "operations"}), 404, "coe_id"),
    # reviews
    "a review on no date": ("executive", lambda w: ("POST", "/coe-reviews", {"scheduled_for": "soon"}),
                            422, "scheduled_for"),
    "a review with a title too long": ("executive", lambda w: (
        "POST", "/coe-reviews", {"scheduled_for": DUE.isoformat(), "title": "x" * 201}), 400, "title"),
    "holding a review with nothing on the agenda": ("executive", _hold({}, agenda=False), 400, "reviewed"),
    "reviewing a draft": ("executive", lambda w: _hold({"reviewed": [drafted_coe(w).pk]})(w), 400, "reviewed"),
    "a note on a CoE not reviewed": ("executive", _note_on_another, 400, "coe_notes"),
    "a note keyed by no CoE": ("executive", _hold({"coe_notes": {"the first": "Share widely."}}), 400, "coe_notes"),
    "reviewed CoEs that are not ids": ("executive", _hold({"reviewed": ["the first"]}), 422, "reviewed[0]"),
    "holding a review twice": ("executive", lambda w: (
        "POST", f"/coe-reviews/{_held(w).pk}/hold", {"notes": "Again."}), 409, "review"),
    "holding a review that does not exist": ("executive", lambda w: ("POST", "/coe-reviews/9999/hold", {}),
                                             404, "review_id"),
    # communities of practice
    "a community without a name": ("outsider", _community(name=" "), 400, "name"),
    "a community under a name taken": ("outsider", lambda w: (
        formed(w) and _community(name="user research")(w)), 400, "name"),
    "a community of an unknown profession": ("outsider", _community(profession="Wizardry"), 400, "profession"),
    "a community without a purpose": ("outsider", _community(purpose=""), 400, "purpose"),
    "a community saying nothing of its purpose": ("outsider", lambda w: (
        "POST", "/communities", {"name": "Content design", "profession": PROFESSION}), 422, "purpose"),
    "handing the lead to a non-member": ("lead", lambda w: _edit(lead=w.outsider.email)(w), 400, "lead"),
    "handing the lead to nobody known": ("lead", _edit(lead="nobody@example.org"), 400, "lead"),
    "changing a community over a stale revision": ("lead", _stale_community, 409, "revision"),
    "changing a community without the revision read": ("lead", lambda w: (
        "PATCH", f"/communities/{formed(w).pk}", {"purpose": "Mine."}), 422, "expected_revision"),
    "renaming a community to nothing": ("lead", _edit(name=""), 400, "name"),
    "joining twice": ("lead", lambda w: ("POST", f"/communities/{formed(w).pk}/join", None), 409, "community"),
    "leaving a community one is not in": ("owner", lambda w: ("POST", f"/communities/{formed(w).pk}/leave", None),
                                          409, "community"),
    "the lead leaving": ("lead", lambda w: ("POST", f"/communities/{formed(w).pk}/leave", None), 409, "lead"),
    "joining a community that does not exist": ("owner", lambda w: ("POST", "/communities/9999/join", None),
                                                404, "community_id"),
    "endorsing before guidance on evaluation": ("executive", lambda w: (
        "POST", f"/communities/{formed(w).pk}/endorse", None), 409, "community"),
    "endorsing from a day to come": ("executive", lambda w: (
        "POST", f"/communities/{evaluation_guidance(formed(w)).community_id}/endorse", {"on": TOMORROW.isoformat()}),
        400, "on"),
    "endorsing twice": ("executive", lambda w: ("POST", f"/communities/{endorsed(w).pk}/endorse", None),
                        409, "community"),
    "withdrawing an endorsement without a reason": ("executive", lambda w: (
        "POST", f"/communities/{endorsed(w).pk}/withdraw-endorsement", {"reason": " "}), 400, "reason"),
    "withdrawing an endorsement never given": ("executive", lambda w: (
        "POST", f"/communities/{formed(w).pk}/withdraw-endorsement", {"reason": "Quiet."}), 409, "community"),
    "guidance of an unknown kind": ("lead", lambda w: (
        "POST", f"/communities/{formed(w).pk}/guidance", {"kind": "folklore", "title": "x", "body": "y"}), 422, "kind"),
    "guidance saying nothing": ("lead", lambda w: (
        "POST", f"/communities/{formed(w).pk}/guidance", {"kind": "practice", "title": "Consent", "body": " "}),
        400, "body"),
    "withdrawing guidance twice": ("lead", lambda w: (
        "POST", f"/community-guidance/{_withdrawn_guidance(w).pk}/withdraw", None), 409, "guidance"),
    "withdrawing guidance that does not exist": ("lead", lambda w: (
        "POST", "/community-guidance/9999/withdraw", None), 404, "guidance_id"),
    "a dispute without a subject": ("lead", lambda w: (
        "POST", f"/communities/{formed(w).pk}/escalate", {"subject": "", "description": "We tried."}), 400, "subject"),
    "a dispute without a description": ("lead", lambda w: (
        "POST", f"/communities/{formed(w).pk}/escalate", {"subject": "A level", "description": " "}),
        400, "description"),
    # open roles
    "a role not in the framework": ("manager", _role(role="Wizard"), 400, "role"),
    "a role at no level": ("manager", _role(level="grand master"), 422, "level"),
    "a role described at length": ("manager", _role(description="x" * 4001), 400, "description"),
    "a role in a decommissioned service": ("manager", _gone_role, 400, "service"),
    "a role in a service that does not exist": ("manager", _role("nowhere"), 404, "slug"),
    "closing a role twice": ("manager", lambda w: ("POST", f"/open-roles/{_closed_role(w).pk}/close", {"filled": True}),
                             409, "opening"),
    "closing a role without saying how": ("manager", lambda w: (
        "POST", f"/open-roles/{posted_role(w).pk}/close", {}), 422, "filled"),
    "closing a role that does not exist": ("manager", lambda w: ("POST", "/open-roles/9999/close", {"filled": True}),
                                           404, "opening_id"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_learning_input_is_refused_naming_the_field_and_nothing_is_written(cast, as_person, name):
    role, setup, status, field = CASES[name]
    client = as_person(role)
    method, path, body = setup(as_person.world)
    before = everything()
    response = client.call(method, path, body)
    assert response.status_code == status, response.content.decode()[:600]
    error = response.json()
    assert error["field"] == field, error
    assert error["message"].strip().endswith("."), error
    if status in (400, 422):
        assert field in {e["field"] for e in error["errors"]}
    assert everything() == before


def test_every_problem_of_a_coe_is_named_at_once(cast, as_person):
    response = as_person("team_member").post("/coes", {
        "service": P, "title": "", "occurred_on": TOMORROW.isoformat(),
        "actions": [{"description": "", "owner": "nobody@example.org", "due_date": DUE.isoformat()}]})
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {
        "title", "occurred_on", "actions[0].description", "actions[0].owner"}


def test_publishing_names_everything_still_missing(cast, as_person):
    coe = drafted_coe(as_person.world, problem="", impact="", root_cause="", lessons="", actions=[])
    response = as_person("manager").post(f"/coes/{coe.pk}/publish")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["problem", "impact", "root_cause", "lessons", "actions"]


def test_a_stale_rewrite_says_what_changed(cast, as_person):
    method, path, body = _stale_coe(as_person.world)
    response = as_person("team_member").call(method, path, body)
    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and response.json()["changes"] == ["Now at revision 2."]


@pytest.mark.parametrize("path, field", [
    ("/doctrine/rounds/9999", "round_id"), ("/coes/9999", "coe_id"), ("/coe-reviews/9999", "review_id"),
    ("/communities/9999", "community_id"), ("/coes?service=nowhere", "service"),
])
def test_an_unknown_object_is_a_404_json(cast, as_person, path, field):
    response = as_person("outsider").get(path)
    assert response.status_code == 404 and response.json()["field"] == field
    assert response.json()["message"].endswith(".")


@pytest.mark.parametrize("path, params, field", [
    ("/doctrine/patterns", {"group": "magic"}, "group"), ("/doctrine/patterns", {"phase": 5}, "phase"),
    ("/doctrine/rounds", {"status": "ajar"}, "status"), ("/doctrine/rounds", {"service": "nowhere"}, "service"),
    ("/doctrine/heat-map", {"stage": "retired"}, "stage"), ("/doctrine/heat-map", {"limit": 0}, "limit"),
    ("/coes", {"effect": "confused"}, "effect"), ("/coes", {"status": "lost"}, "status"),
    ("/coe-reviews", {"status": "maybe"}, "status"), ("/learning/figures", {"service": "nowhere"}, "service"),
    ("/communities", {"status": "dormant"}, "status"), ("/open-roles", {"status": "vacant"}, "status"),
    ("/open-roles", {"service": "nowhere"}, "service"), ("/communities", {"offset": -1}, "offset"),
])
def test_a_list_refuses_a_filter_out_of_range(cast, as_person, path, params, field):
    response = as_person("outsider").get(path, **params)
    assert response.status_code in (404, 422) and response.json()["field"] == field, response.content
