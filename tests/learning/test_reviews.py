"""CoE reviews (model 7): the executive schedules a review with all managers; until it is
held its agenda is every published CoE not yet reviewed; holding it records the notes
and marks the CoEs gone through reviewed; a CoE may start guidance that links back."""

from __future__ import annotations

import datetime as dt

import pytest

from osom.core.errors import Conflict, InvalidInput
from osom.core.models import AuditEvent, Notification
from osom.governance import actions as governance
from osom.governance.models import Guidance
from osom.learning import actions
from osom.learning.models import CoEReview, CorrectionOfError

from .test_permissions import DUE, TODAY, drafted_coe, published_coe, snapshot, world


@pytest.fixture
def w(cast):
    return world(cast)


def _review(w, day=TODAY):
    return actions.schedule_coe_review(actor=w.executive, scheduled_for=day)


def _agenda():
    return [c.title for c in actions.review_agenda()]


def test_the_agenda_holds_exactly_the_published_coes_not_yet_reviewed(w):
    first = published_coe(w, title="Renewals failed")
    drafted_coe(w, title="A draft")
    second = published_coe(w, service=w.other_service, title="Sign-in outage")
    reviewed = published_coe(w, title="Already reviewed")
    actions.hold_coe_review(actor=w.executive, review=_review(w), reviewed=[reviewed])
    published_coe(w, title="Another draft, published later")
    drafted_coe(w, title="Another draft")
    assert _agenda() == [first.title, second.title, "Another draft, published later"], "oldest published first"
    assert "A draft" not in _agenda() and "Another draft" not in _agenda() and reviewed.title not in _agenda()


def test_scheduling_a_review_invites_every_manager(w):
    review = _review(w, DUE)
    assert (review.status, review.scheduled_for, review.scheduled_by) == ("scheduled", DUE, w.executive)
    assert review.title == f"Review of Corrections of Error, {DUE:%-d %B %Y}"
    told = set(Notification.objects.values_list("person__email", flat=True))
    assert told == {w.manager.email, w.other_manager.email}


def test_holding_a_review_marks_the_whole_agenda_reviewed_by_default(w):
    a, b = published_coe(w, title="A"), published_coe(w, title="B")
    review = _review(w)
    Notification.objects.all().delete()
    held = actions.hold_coe_review(actor=w.exec_team, review=review, notes="  Certificates need owners.  ",
                                   coe_notes={str(a.pk): "Share the alerting set-up.", b.pk: " "})
    assert (held.status, held.notes, held.held_by) == ("held", "Certificates need owners.", w.exec_team)
    assert held.held_at is not None
    for coe, note in ((a, "Share the alerting set-up."), (b, "")):
        coe.refresh_from_db()
        assert (coe.status, coe.review, coe.review_note) == ("reviewed", held, note)
        assert coe.reviewed_at == held.held_at
    assert _agenda() == []
    assert set(Notification.objects.values_list("person__email", flat=True)) == {w.manager.email}, "the authors"
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.verb, event.after) == ("hold_coe_review", {"reviewed": sorted([a.pk, b.pk])})


def test_the_coes_not_gone_through_stay_on_the_agenda_for_the_next_review(w):
    a, b, c = (published_coe(w, title=t) for t in ("A", "B", "C"))
    first = _review(w)
    actions.hold_coe_review(actor=w.executive, review=first, reviewed=[a.pk, str(c.pk)], coe_notes={c.pk: "Good."})
    assert _agenda() == ["B"]
    assert set(CorrectionOfError.objects.filter(review=first).values_list("title", flat=True)) == {"A", "C"}
    second = _review(w, DUE)
    actions.hold_coe_review(actor=w.executive, review=second)
    b.refresh_from_db()
    assert b.review == second and _agenda() == []


def test_a_coe_not_on_the_agenda_cannot_be_chosen(w):
    on = published_coe(w, title="On the agenda")
    draft = drafted_coe(w, title="Draft")
    done = published_coe(w, title="Reviewed")
    actions.hold_coe_review(actor=w.executive, review=_review(w), reviewed=[done])
    review = _review(w)
    for off in (draft, done):
        before = snapshot()
        with pytest.raises(InvalidInput) as refused:
            actions.hold_coe_review(actor=w.executive, review=review, reviewed=[on, off])
        assert refused.value.field == "reviewed" and "not on the agenda" in refused.value.message
        assert snapshot() == before
    assert _agenda() == [on.title]
    assert CoEReview.objects.get(pk=review.pk).status == "scheduled"


def test_a_held_review_is_not_held_again(w):
    published_coe(w)
    review = _review(w)
    actions.hold_coe_review(actor=w.executive, review=review, notes="First.")
    published_coe(w, title="Later")
    with pytest.raises(Conflict) as refused:
        actions.hold_coe_review(actor=w.executive, review=review, notes="Again.")
    assert refused.value.field == "review"
    review.refresh_from_db()
    assert review.notes == "First." and _agenda() == ["Later"]


def test_a_coe_published_after_scheduling_joins_the_agenda(w):
    review = _review(w, DUE)
    coe = published_coe(w)
    actions.hold_coe_review(actor=w.executive, review=review)
    coe.refresh_from_db()
    assert coe.review == review


def test_a_reviewed_coe_still_tracks_its_corrective_actions(w):
    coe = published_coe(w)
    actions.hold_coe_review(actor=w.executive, review=_review(w))
    action = actions.add_corrective_action(actor=w.manager, coe=coe, description="Audit every certificate",
                                           owner=w.manager, due_date=DUE)
    actions.update_corrective_action(actor=w.manager, action=action, status="done")
    assert actions.verify_corrective_action(actor=w.executive, action=action).status == "verified"


# --- guidance drawn from a CoE ------------------------------------------------------------------

def test_guidance_drafted_from_a_coe_links_back_to_it(w):
    coe = published_coe(w)
    guidance = governance.draft_guidance(actor=w.executive, title="Every certificate has an owner",
                                         body="Name an owner and alert 30 days before expiry.", source="coe",
                                         category="operations", coe=coe)
    assert guidance.coe == coe and guidance.status == "draft"
    assert list(coe.guidance.all()) == [guidance]
    assert coe.title in guidance.source_detail
    assert AuditEvent.objects.order_by("-pk").first().after["coe"] == coe.pk


def test_guidance_drafted_from_a_reviewed_coe_links_back_too(w):
    coe = published_coe(w)
    actions.hold_coe_review(actor=w.executive, review=_review(w))
    coe.refresh_from_db()
    guidance = governance.draft_guidance(actor=w.exec_team, title="Alert on expiry", body="Alert early.",
                                         source="coe", category="operations", coe=coe)
    assert guidance.coe == coe


def test_guidance_is_not_drawn_from_a_draft_coe(w):
    draft = drafted_coe(w)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        governance.draft_guidance(actor=w.executive, title="Alert on expiry", body="Alert early.", source="coe",
                                  category="operations", coe=draft)
    assert refused.value.field == "coe"
    assert snapshot() == before and not Guidance.objects.exists()


def test_the_review_date_may_be_in_the_past_for_a_meeting_recorded_afterwards(w):
    published_coe(w)
    review = _review(w, TODAY - dt.timedelta(days=2))
    assert actions.hold_coe_review(actor=w.executive, review=review).status == "held"
