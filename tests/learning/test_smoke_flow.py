"""The learning loop end to end at the actions layer: a CoE from draft to reviewed, a
self-assessment round, a community endorsed."""

import datetime as dt

import pytest

from osom.learning import actions, communities, queries
from osom.learning.models import CorrectionOfError, DoctrinePattern


@pytest.fixture
def today():
    from django.utils import timezone

    return timezone.localdate()


def test_a_coe_goes_from_draft_to_reviewed(cast, today):
    coe = actions.write_coe(actor=cast.team_member, service=cast.service, content={
        "title": "Renewals failed overnight", "occurred_on": today.isoformat(), "users_affected": True,
        "problem": "Renewals failed.", "impact": "300 residents could not renew.", "root_cause": "Expired certificate.",
        "lessons": "Watch certificates.",
        "timeline": [{"at": f"{today} 02:00", "description": "Alerts fired"}],
        "why_chains": [{"question": "Why did renewals fail?", "whys": ["The certificate expired", "Nobody owned it"]}],
        "pattern_effects": [{"pattern": "manage-failure", "effect": "hurt", "note": "no alert"}],
        "actions": [{"description": "Alert on expiry", "owner": cast.team_member.email, "due_date": today + dt.timedelta(days=7)},
                    {"description": "Name an owner", "owner": cast.manager, "due_date": today + dt.timedelta(days=3)}],
    })
    assert coe.actions.count() == 2 and coe.pattern_effects.get().effect == "hurt"
    actions.publish_coe(actor=cast.manager, coe=coe)
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=today)
    assert list(actions.review_agenda()) == [coe]
    actions.hold_coe_review(actor=cast.executive, review=review, notes="Good write-up", coe_notes={coe.pk: "Share widely"})
    coe.refresh_from_db()
    assert coe.status == CorrectionOfError.Status.REVIEWED and coe.review_note == "Share widely"
    assert list(actions.review_agenda()) == []


def test_a_round_and_a_community(cast):
    rnd = actions.open_doctrine_round(actor=cast.manager, service=cast.service)
    actions.rate_doctrine(actor=cast.manager, round=rnd, ratings=[{"pattern": "know-your-users", "rating": "good"}])
    actions.rate_doctrine(actor=cast.team_member, round=rnd, ratings=[{"pattern": "know-your-users", "rating": "partly"}])
    cells = queries.round_cells(rnd)
    assert cells[DoctrinePattern.objects.get(slug="know-your-users").pk]["colour"] == "partly"
    c = communities.form_community(actor=cast.team_member, name="User research", profession="User-centred design",
                                   purpose="Research together")
    communities.publish_community_guidance(actor=cast.team_member, community=c, kind="evaluation", title="Evaluating researchers",
                                           body="Look at the evidence.")
    communities.endorse_community(actor=cast.executive, community=c)
    assert queries.coverage()[0]["state"] == "endorsed"
