"""Rules that keep the learning loop honest: edits of a draft never silently lose an
action, drafts stay with their service's people, a late action is not made punctual by
moving its date, an endorsement keeps the guidance it rests on, and a round still being
rated does not replace a finished one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from osom.core.errors import Conflict, InvalidInput, NotAllowed
from osom.core.models import AuditEvent
from osom.learning import actions, communities, queries
from osom.learning.actions import coe_content
from osom.learning.models import CorrectiveAction, DoctrinePattern

from .test_permissions import DUE, drafted_coe, first_action, published_coe, world


@pytest.fixture
def w(cast):
    return world(cast)


def test_adding_an_action_to_a_draft_makes_an_edit_begun_before_it_stale(w):
    coe = drafted_coe(w, actor=w.manager)
    content, revision = coe_content(coe), coe.revision
    actions.add_corrective_action(actor=w.team_member, coe=coe, description="Rotate the keys", owner=w.manager, due_date=DUE)
    with pytest.raises(Conflict):
        actions.write_coe(actor=w.manager, service=w.service, coe=coe, content=content, expected_revision=revision)
    assert coe.actions.filter(description="Rotate the keys").exists()


def test_an_owner_outside_the_team_waits_for_publication(w):
    coe = drafted_coe(w, actor=w.manager, owner=w.owner)
    action = coe.actions.get(owner=w.owner)
    with pytest.raises(NotAllowed):
        actions.update_corrective_action(actor=w.owner, action=action, status="done")
    assert CorrectiveAction.objects.get(pk=action.pk).status == "open"
    actions.publish_coe(actor=w.manager, coe=coe)
    assert actions.update_corrective_action(actor=w.owner, action=action, status="done").status == "done"


def test_the_audit_log_does_not_repeat_what_a_draft_says(w):
    coe = drafted_coe(w, actor=w.manager, title="Secret draft title")
    texts = [f"{e.summary} {e.after}" for e in AuditEvent.objects.filter(verb__in=["write_coe", "add_corrective_action"])]
    assert texts and not any("Secret draft title" in t for t in texts)
    actions.publish_coe(actor=w.manager, coe=coe)
    assert "Secret draft title" in AuditEvent.objects.get(verb="publish_coe").summary


def test_moving_a_due_date_needs_a_reason_and_on_time_counts_from_the_date_agreed(w):
    coe = published_coe(w)
    action = first_action(coe)
    assert CorrectiveAction.objects.get(pk=action.pk).agreed_due_date == action.due_date
    with pytest.raises(InvalidInput) as refused:
        actions.update_corrective_action(actor=w.manager, action=action, status="open", due_date=action.due_date + dt.timedelta(days=60))
    assert refused.value.field == "note"
    # the action is done 20 days after its agreed date; moving the date first does not make it on time
    actions.update_corrective_action(actor=w.manager, action=action, status="open", note="Waiting for the supplier",
                                     due_date=action.due_date + dt.timedelta(days=60))
    done = actions.update_corrective_action(actor=w.manager, action=action, status="done")
    CorrectiveAction.objects.filter(pk=done.pk).update(  # the clock of the test: done 20 days late
        done_at=timezone.make_aware(dt.datetime.combine(action.due_date + dt.timedelta(days=20), dt.time(12))))
    figures = queries.learning_figures(service=w.service)
    assert figures["closed"] == 1 and figures["closed_on_time"] == 0 and figures["share_on_time"] == 0


def test_the_last_evaluation_guidance_of_an_endorsed_community_stays(w):
    community = communities.form_community(actor=w.lead, name="Researchers", profession="User-centred design",
                                           purpose="Research together")
    guidance = communities.publish_community_guidance(actor=w.lead, community=community, kind="evaluation",
                                                      title="Evaluating researchers", body="Look at the evidence.")
    communities.endorse_community(actor=w.executive, community=community)
    with pytest.raises(Conflict):
        communities.withdraw_community_guidance(actor=w.lead, guidance=guidance)
    newer = communities.publish_community_guidance(actor=w.lead, community=community, kind="evaluation",
                                                   title="Evaluating researchers, second edition", body="Evidence first.")
    communities.withdraw_community_guidance(actor=w.lead, guidance=guidance)
    with pytest.raises(Conflict):
        communities.withdraw_community_guidance(actor=w.lead, guidance=newer)


def test_a_round_under_way_does_not_replace_a_finished_one(w):
    finished = actions.open_doctrine_round(actor=w.manager, service=w.service)
    actions.rate_doctrine(actor=w.manager, round=finished, ratings=[{"pattern": p.slug, "rating": "good"}
                                                                   for p in DoctrinePattern.objects.all()])
    actions.close_doctrine_round(actor=w.manager, round=finished)
    under_way = actions.open_doctrine_round(actor=w.manager, service=w.service)
    actions.rate_doctrine(actor=w.manager, round=under_way, ratings=[{"pattern": "know-your-users", "rating": "weak"}])
    row = next(r for r in queries.heat_map([w.service])["rows"])
    assert row["round_id"] == finished.pk and set(row["cells"]) == {"good"}
    assert queries.standing_round(w.service) == finished
