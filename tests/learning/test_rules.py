"""Corrections of Error (model 7, 11): draft → published → reviewed, what publishing asks
for, the account fixed once published, corrective actions from open to verified or
dropped, overdue actions flagged, and the library people search."""

from __future__ import annotations

import datetime as dt

import pytest

from osom.core.errors import Conflict, InvalidInput, NotAllowed
from osom.core.models import AuditEvent, Notification
from osom.learning import actions, queries
from osom.learning.actions import coe_content as content_of
from osom.learning.models import CorrectionOfError, CorrectiveAction, PatternEffect

from .. import factories
from .test_permissions import (
    AGO,
    DUE,
    TODAY,
    coe_content,
    drafted_coe,
    first_action,
    published_coe,
    world,
)

YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture
def w(cast):
    return world(cast)


# --- drafts -----------------------------------------------------------------------------------

def test_a_draft_needs_only_a_title_and_a_date(w):
    coe = actions.write_coe(actor=w.team_member, service=w.service,
                            content={"title": "Slow permit pages", "occurred_on": AGO.isoformat()})
    assert coe.status == "draft" and coe.author == w.team_member and coe.service == w.service
    assert (coe.problem, coe.lessons, coe.users_affected) == ("", "", False)
    assert not coe.actions.exists() and not coe.timeline.exists()
    assert AuditEvent.objects.filter(verb="write_coe").count() == 1


def test_a_draft_holds_every_part_of_the_account_and_gives_it_back(w):
    given = coe_content(w)
    coe = actions.write_coe(actor=w.manager, service=w.service, content=given)
    back = content_of(coe)
    for field in ("title", "occurred_on", "users_affected", "problem", "impact", "root_cause", "root_cause_data",
                  "trade_offs_that_led", "trade_offs_to_avoid", "lessons", "why_chains", "actions"):
        assert back[field] == given[field], field
    assert [e["description"] for e in back["timeline"]] == ["First TLS error", "Certificate renewed"]
    assert {(e["pattern"], e["effect"]) for e in back["pattern_effects"]} == {("manage-failure", "hurt"),
                                                                              ("be-transparent", "helped")}


def test_the_timeline_is_kept_in_time_order(w):
    coe = drafted_coe(w, timeline=[{"at": f"{AGO} 06:10", "description": "Renewed"},
                                   {"at": f"{AGO} 01:02", "description": "First error"}])
    assert list(coe.timeline.values_list("description", flat=True)) == ["First error", "Renewed"]


def test_answers_to_why_may_come_as_lines_of_text_and_yes_no_as_words(w):
    coe = drafted_coe(w, users_affected="false",
                      why_chains=[{"question": "Why?", "whys": "It expired\n\nNobody owned it\n"}])
    assert coe.users_affected is False
    assert coe.why_chains.get().whys == ["It expired", "Nobody owned it"]
    assert drafted_coe(w, users_affected="yes").users_affected is True


def test_a_problem_in_the_future_is_refused(w):
    with pytest.raises(InvalidInput) as refused:
        drafted_coe(w, occurred_on=(TODAY + dt.timedelta(days=1)).isoformat())
    assert refused.value.field == "occurred_on"
    assert not CorrectionOfError.objects.exists()
    assert drafted_coe(w, occurred_on=TODAY.isoformat()).occurred_on == TODAY, "today is not the future"


def test_unknown_owners_and_patterns_are_named_at_their_place(w):
    with pytest.raises(InvalidInput) as refused:
        drafted_coe(w, pattern_effects=[{"pattern": "move-slowly", "effect": "hurt"},
                                        {"pattern": "manage-failure", "effect": "caused"}],
                    actions=[{"description": "Alert", "owner": w.manager.email, "due_date": DUE},
                             {"description": "Own it", "owner": "ghost@example.org", "due_date": DUE}])
    errors = refused.value.errors
    assert set(errors) == {"pattern_effects[0].pattern", "pattern_effects[1].effect", "actions[1].owner"}
    assert "move-slowly" in errors["pattern_effects[0].pattern"][0]
    assert "ghost@example.org" in errors["actions[1].owner"][0]
    assert not CorrectionOfError.objects.exists()


def test_rewriting_a_draft_replaces_its_account(w):
    coe = drafted_coe(w)
    actions.write_coe(actor=w.team_member, service=w.service, coe=coe, expected_revision=coe.revision, content=coe_content(
        w, title="Renewals failed for five hours", pattern_effects=[{"pattern": "know-your-users", "effect": "helped"}],
        timeline=[]))
    coe.refresh_from_db()
    assert coe.title == "Renewals failed for five hours" and coe.revision == 2
    assert list(PatternEffect.objects.filter(coe=coe).values_list("pattern__slug", "effect")) == [
        ("know-your-users", "helped")]
    assert not coe.timeline.exists()


def test_what_a_rewrite_leaves_out_stays_as_it_was(w):
    coe = drafted_coe(w)
    actions.add_corrective_action(actor=w.manager, coe=coe, description="Name an owner", owner=w.manager, due_date=DUE)
    actions.write_coe(actor=w.manager, service=w.service, coe=coe, content={"lessons": "Own every certificate."})
    coe.refresh_from_db()
    assert coe.lessons == "Own every certificate."
    assert coe.title == "Permit renewals failed overnight" and coe.problem.startswith("Renewals failed")
    assert coe.actions.count() == 2 and coe.timeline.count() == 2 and coe.pattern_effects.count() == 2


def test_an_action_a_rewrite_keeps_keeps_its_history(w):
    coe = drafted_coe(w)
    action = first_action(coe)
    actions.update_corrective_action(actor=w.team_member, action=action, status="done")
    action.refresh_from_db()
    actions.write_coe(actor=w.manager, service=w.service, coe=coe, content=coe_content(
        w, actions=[*coe_content(w)["actions"], {"description": "Name an owner", "owner": w.manager.email,
                                                 "due_date": DUE.isoformat()}]))
    kept = CorrectiveAction.objects.get(pk=action.pk)
    assert (kept.status, kept.created_at, kept.done_at) == ("done", action.created_at, action.done_at)
    assert list(coe.actions.values_list("description", "status")) == [
        ("Alert 30 days before any certificate expires", "done"), ("Name an owner", "open")]


def test_discarding_a_draft_removes_it_and_its_parts(w):
    coe = drafted_coe(w)
    actions.discard_coe(actor=w.team_member, coe=coe)
    assert not CorrectionOfError.objects.exists() and not CorrectiveAction.objects.exists()
    assert AuditEvent.objects.filter(verb="discard_coe").count() == 1


# --- publishing -------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["problem", "impact", "root_cause", "lessons", "actions"])
def test_publishing_refuses_a_coe_missing_what_model_7_asks_for(w, field):
    coe = drafted_coe(w, **{field: [] if field == "actions" else ""})
    with pytest.raises(InvalidInput) as refused:
        actions.publish_coe(actor=w.manager, coe=coe)
    assert refused.value.field == field and set(refused.value.errors) == {field}
    coe.refresh_from_db()
    assert coe.status == "draft" and coe.published_at is None


def test_publishing_fixes_the_account_and_tells_the_executive_and_the_owners(w):
    coe = drafted_coe(w, owner=w.owner)
    published = actions.publish_coe(actor=w.manager, coe=coe)
    assert published.status == "published" and published.published_by == w.manager
    assert published.published_at is not None
    told = set(Notification.objects.filter(text__contains=coe.title).values_list("person__email", flat=True))
    assert told == {w.executive.email, w.owner.email}
    with pytest.raises(Conflict) as rewrite:
        actions.write_coe(actor=w.manager, service=w.service, coe=coe, content={"lessons": "Changed."})
    assert rewrite.value.field == "coe"
    with pytest.raises(Conflict):
        actions.discard_coe(actor=w.manager, coe=coe)
    coe.refresh_from_db()
    assert coe.lessons == "Every certificate needs an owner and an alert." and coe.status == "published"


def test_a_team_member_writes_but_only_the_manager_publishes(w):
    coe = drafted_coe(w, actor=w.team_member)
    with pytest.raises(NotAllowed):
        actions.publish_coe(actor=w.team_member, coe=coe)
    with pytest.raises(NotAllowed):
        actions.publish_coe(actor=w.executive, coe=coe)
    assert actions.publish_coe(actor=w.manager, coe=coe).status == "published"


def test_actions_are_still_added_to_a_published_coe_and_their_owner_told(w):
    coe = published_coe(w)
    Notification.objects.all().delete()
    action = actions.add_corrective_action(actor=w.team_member, coe=coe, description="Name a certificate owner",
                                           owner=w.owner.email, due_date=DUE.isoformat())
    assert (action.position, action.owner, action.due_date, action.status) == (1, w.owner, DUE, "open")
    assert list(Notification.objects.values_list("person__email", flat=True)) == [w.owner.email]


# --- corrective actions -----------------------------------------------------------------------

def test_an_action_is_done_reopened_and_done_again(w):
    action = first_action(published_coe(w, owner=w.owner))
    done = actions.update_corrective_action(actor=w.owner, action=action, status="done", note="Alerts are live.")
    assert done.status == "done" and done.done_at is not None and done.note == "Alerts are live."
    reopened = actions.update_corrective_action(actor=w.manager, action=action, status="open", note="Alert misfired.")
    assert reopened.status == "open" and reopened.done_at is None
    assert actions.update_corrective_action(actor=w.team_member, action=action, status="done").status == "done"


def test_dropping_an_action_needs_a_reason_and_keeps_it(w):
    action = first_action(published_coe(w))
    with pytest.raises(InvalidInput) as refused:
        actions.update_corrective_action(actor=w.manager, action=action, status="dropped")
    assert refused.value.field == "note"
    dropped = actions.update_corrective_action(actor=w.manager, action=action, status="dropped",
                                               note="The payment provider now renews certificates itself.")
    assert dropped.status == "dropped" and dropped.dropped_reason.startswith("The payment provider")
    assert AuditEvent.objects.order_by("-pk").first().reason == dropped.dropped_reason
    reopened = actions.update_corrective_action(actor=w.manager, action=action, status="open")
    assert reopened.status == "open" and reopened.dropped_reason == ""


def test_moving_the_due_date_keeps_when_an_action_was_done(w):
    action = first_action(published_coe(w))
    done = actions.update_corrective_action(actor=w.team_member, action=action, status="done")
    later = DUE + dt.timedelta(days=30)
    moved = actions.update_corrective_action(actor=w.manager, action=action, status="done", due_date=later,
                                             note="Replanned with the supplier.")
    assert (moved.status, moved.due_date, moved.done_at) == ("done", later, done.done_at)


def test_only_a_done_action_is_verified_by_the_manager_or_the_executive_and_then_for_good(w):
    action = first_action(published_coe(w, owner=w.owner))
    with pytest.raises(Conflict):
        actions.verify_corrective_action(actor=w.manager, action=action)
    actions.update_corrective_action(actor=w.owner, action=action, status="done")
    for person in (w.owner, w.team_member, w.other_manager):
        with pytest.raises(NotAllowed):
            actions.verify_corrective_action(actor=person, action=action)
    verified = actions.verify_corrective_action(actor=w.exec_team, action=action, note="Tested with an expired cert.")
    assert (verified.status, verified.verified_by) == ("verified", w.exec_team)
    assert verified.verified_at is not None and verified.done_at is not None
    with pytest.raises(Conflict):
        actions.verify_corrective_action(actor=w.manager, action=action)
    for status in ("open", "done", "dropped"):
        with pytest.raises(Conflict):
            actions.update_corrective_action(actor=w.manager, action=action, status=status, note="Reason.")
    assert CorrectiveAction.objects.get(pk=action.pk).status == "verified"


def test_the_manager_verifies_too(w):
    action = first_action(published_coe(w))
    actions.update_corrective_action(actor=w.team_member, action=action, status="done")
    assert actions.verify_corrective_action(actor=w.manager, action=action).verified_by == w.manager


def test_an_open_action_past_its_due_date_is_flagged_overdue(w):
    coe = published_coe(w)
    late = actions.add_corrective_action(actor=w.manager, coe=coe, description="Rotate keys", owner=w.owner,
                                         due_date=YESTERDAY)
    on_time = first_action(coe)
    due_today = actions.add_corrective_action(actor=w.manager, coe=coe, description="Check logs", owner=w.owner,
                                              due_date=TODAY)
    assert late.is_overdue() and not on_time.is_overdue() and not due_today.is_overdue()
    assert list(queries.overdue_actions()) == [late]
    assert list(queries.overdue_actions(person=w.owner)) == [late]
    assert list(queries.overdue_actions(services=[w.other_service])) == []
    done = actions.update_corrective_action(actor=w.owner, action=late, status="done")
    assert not done.is_overdue() and list(queries.overdue_actions()) == []


def test_an_overdue_action_of_a_draft_is_not_flagged_to_anyone(w):
    coe = drafted_coe(w)
    actions.add_corrective_action(actor=w.manager, coe=coe, description="Rotate keys", owner=w.owner,
                                  due_date=YESTERDAY)
    assert list(queries.overdue_actions()) == []


# --- the library --------------------------------------------------------------------------------

def test_the_library_searches_by_service_pattern_and_text(w):
    renewals = published_coe(w)
    outage = published_coe(w, service=w.other_service, title="Sign-in outage",
                           root_cause="A database failover took forty minutes.",
                           pattern_effects=[{"pattern": "manage-failure", "effect": "helped"}])
    quiet = published_coe(w, title="Slow search", root_cause="An index was missing.", pattern_effects=[])

    def titles(**kwargs):
        return [c.title for c in queries.coe_library(**kwargs)]

    assert set(titles()) == {renewals.title, outage.title, quiet.title}
    assert set(titles(service=w.service.slug)) == {renewals.title, quiet.title}
    assert set(titles(pattern="manage-failure")) == {renewals.title, outage.title}
    assert titles(pattern="manage-failure", effect="hurt") == [renewals.title]
    assert titles(pattern="manage-failure", effect="helped") == [outage.title]
    assert titles(q="FAILOVER forty") == [outage.title], "every word, in any case"
    assert titles(q="nobody told") == [renewals.title]
    assert titles(q="nobody told", service=w.other_service.slug) == []


def test_drafts_show_in_the_library_only_to_their_services_people(w):
    published_coe(w, title="Published one")
    drafted_coe(w, title="Draft one")
    every = {"Published one", "Draft one"}
    assert {c.title for c in queries.coe_library(viewer=w.manager)} == every
    assert {c.title for c in queries.coe_library(viewer=w.team_member)} == every
    for person in (w.executive, w.other_manager, w.outsider, None):
        assert [c.title for c in queries.coe_library(viewer=person)] == ["Published one"]


def test_a_coe_of_a_decommissioned_service_stays_in_the_library(w):
    from ..lifecycle.helpers import DECOMMISSION, published

    coe = published_coe(w)
    service = factories.service(w.executive, "Old payments", manager=w.manager)
    published_coe(w, service=service, title="Payments lost")
    published(w, service, outcome="not_required", **DECOMMISSION)
    assert {c.title for c in queries.coe_library()} == {coe.title, "Payments lost"}


def test_rights_follow_the_service_as_it_is_now_not_an_old_copy(w):
    from osom.network.actions import appoint_manager

    coe = drafted_coe(w)  # holds the service as it was: managed by Max
    appoint_manager(actor=w.executive, service=w.service, person=w.other_manager, reason="Max moves to payments.")
    with pytest.raises(NotAllowed):
        actions.publish_coe(actor=w.manager, coe=coe)
    with pytest.raises(NotAllowed):
        actions.add_corrective_action(actor=w.manager, coe=coe, description="Audit", owner=w.manager, due_date=DUE)
    assert actions.publish_coe(actor=w.other_manager, coe=coe).status == "published"


def test_the_manager_who_publishes_is_not_told_of_their_own_publication(w):
    coe = drafted_coe(w, owner=w.manager)
    actions.publish_coe(actor=w.manager, coe=coe)
    assert set(Notification.objects.filter(text__contains=coe.title).values_list("person__email", flat=True)) == {
        w.executive.email}
