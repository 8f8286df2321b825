"""The learning figures the executive watches (model 11), on hand-made data: the median
time to close a corrective action, the share closed on time, the open actions past due,
and the problems that repeat (the same service, a similar root cause).

Time is controlled by pinning the clock the actions read (``clock_at``): every action is
done "at" a known moment, so the times it records — when an action was added, when it
was done — are known in advance and nothing is written to the tables by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from osom.learning import actions, queries
from osom.learning.models import CorrectiveAction

from ..lifecycle.helpers import clock_at, midday_today
from .test_permissions import (
    coe_content,
    drafted_coe,
    first_action,
    published_coe,
    world,
)

NOON = midday_today()
START = NOON - dt.timedelta(days=20)  # the problems happen, and are written up, twenty days ago
TODAY = NOON.date()


def at(days: float = 0, hours: float = 0):
    """The clock pinned ``days`` and ``hours`` after START."""
    return clock_at(START + dt.timedelta(days=days, hours=hours))


def day(days: int) -> dt.date:
    return (START + dt.timedelta(days=days)).date()


def _action(description, owner, due):
    return {"description": description, "owner": owner.email, "due_date": due.isoformat()}


@pytest.fixture
def w(cast):
    return world(cast)


@pytest.fixture
def actions_at_known_times(w):
    """Parking permits' CoE, written and published at START, with these actions:

    =====  ===========  ===========  ============  =========================
    name   added        due          closed        so
    =====  ===========  ===========  ============  =========================
    quick  START        START + 5d   + 2d 6h       2.25 days, on time
    late   START        START + 5d   + 10d         10 days, late
    check  START + 1d   START + 8d   + 4d 3h       4.125 days (from its add),
                                                   on time, then verified
    exact  START        START + 6d   + 6d          6 days, on the due date:
                                                   on time
    stuck  START        yesterday    open          overdue
    later  START        in 14 days   open          not yet due
    gone   START        START + 3d   dropped       not counted as closed
    =====  ===========  ===========  ============  =========================

    A draft CoE's action, done in a day, is not counted at all.
    """
    m = w.manager
    with at(0):
        coe = actions.write_coe(actor=m, service=w.service, content=coe_content(w, occurred_on=day(-1), actions=[
            _action("quick", m, day(5)), _action("late", m, day(5)), _action("exact", m, day(6)),
            _action("stuck", m, TODAY - dt.timedelta(days=1)), _action("later", m, TODAY + dt.timedelta(days=14)),
            _action("gone", m, day(3))]))
        actions.publish_coe(actor=m, coe=coe)
        draft = drafted_coe(w, title="A draft", occurred_on=day(-1), actions=[_action("draft action", m, day(2))])
    by = {a.description: a for a in CorrectiveAction.objects.all()}
    with at(1):
        by["check"] = actions.add_corrective_action(actor=m, coe=coe, description="check", owner=m, due_date=day(8))
        actions.update_corrective_action(actor=m, action=first_action(draft), status="done")
    with at(2, 6):
        actions.update_corrective_action(actor=m, action=by["quick"], status="done")
    with at(3):
        actions.update_corrective_action(actor=m, action=by["gone"], status="dropped", note="Not needed any more.")
    with at(5, 3):
        actions.update_corrective_action(actor=m, action=by["check"], status="done")
    with at(6):
        actions.update_corrective_action(actor=m, action=by["exact"], status="done")
    with at(7):
        actions.verify_corrective_action(actor=m, action=by["check"])
    with at(10):
        actions.update_corrective_action(actor=m, action=by["late"], status="done")
    return {a.description: a for a in CorrectiveAction.objects.all()}


def test_the_clock_was_pinned_as_the_table_says(actions_at_known_times):
    by = actions_at_known_times
    assert by["quick"].created_at == START and by["check"].created_at == START + dt.timedelta(days=1)
    assert by["quick"].done_at == START + dt.timedelta(days=2, hours=6)
    assert by["check"].status == "verified" and by["check"].done_at == START + dt.timedelta(days=5, hours=3)
    assert by["gone"].status == "dropped" and by["gone"].done_at is None


def test_the_figures_on_known_actions(actions_at_known_times):
    figures = queries.learning_figures(today=TODAY)
    # days to close: 2.25, 4.125, 6, 10 → the median is (4.125 + 6) / 2 = 5.0625
    assert figures["closed"] == 4
    assert figures["median_days_to_close"] == 5.1
    # on time: quick, check and exact (done on its due date); late is not
    assert figures["closed_on_time"] == 3
    assert figures["share_on_time"] == 75
    assert figures["open"] == 2
    assert figures["open_overdue"] == 1
    assert figures["dropped"] == 1
    assert figures["unreviewed"] == 1, "the published CoE; not the draft"


def test_an_action_is_overdue_only_from_the_day_after_its_due_date(actions_at_known_times):
    assert queries.learning_figures(today=TODAY - dt.timedelta(days=1))["open_overdue"] == 0
    assert queries.learning_figures(today=TODAY)["open_overdue"] == 1
    assert queries.learning_figures(today=TODAY + dt.timedelta(days=15))["open_overdue"] == 2


def test_the_figures_of_one_service_count_its_actions_only(w, actions_at_known_times):
    m = w.other_manager
    with at(0):
        coe = published_coe(w, service=w.other_service, occurred_on=day(-1),
                            actions=[_action("one", m, day(1)), _action("two", m, day(1))])
    one, two = coe.actions.order_by("position")
    with at(1):
        actions.update_corrective_action(actor=m, action=one, status="done")
    with at(2):
        actions.update_corrective_action(actor=m, action=two, status="done")
    theirs = queries.learning_figures(today=TODAY, service=w.other_service)
    assert (theirs["closed"], theirs["median_days_to_close"], theirs["closed_on_time"], theirs["share_on_time"]) == (
        2, 1.5, 1, 50)
    assert (theirs["open"], theirs["open_overdue"], theirs["unreviewed"]) == (0, 0, 1)
    everyone = queries.learning_figures(today=TODAY)
    assert everyone["closed"] == 6 and everyone["median_days_to_close"] == 3.2  # 1, 2, 2.25, 4.125, 6, 10: 3.1875


def test_no_closed_actions_give_no_median_and_no_share(w):
    with at(0):
        published_coe(w, occurred_on=day(-1))
    figures = queries.learning_figures(today=TODAY)
    assert (figures["closed"], figures["median_days_to_close"], figures["share_on_time"]) == (0, None, None)
    assert figures["open"] == 1 and figures["open_overdue"] == 0


# --- problems that repeat -----------------------------------------------------------------------

EXPIRED = "The payment certificate expired and nobody was told."
EXPIRED_AGAIN = "Payment certificates expired again; nobody was told in time."
INDEX = "A database index was missing after the migration."


def _coe(w, title, root_cause, *, service=None, days_ago=10, publish=True):
    make = published_coe if publish else drafted_coe
    return make(w, **({"service": service} if service and publish else {}), title=title, root_cause=root_cause,
                occurred_on=TODAY - dt.timedelta(days=days_ago))


def test_two_coes_of_a_service_with_similar_root_causes_repeat_a_problem(w):
    first = _coe(w, "Renewals failed in March", EXPIRED, days_ago=40)
    again = _coe(w, "Renewals failed in April", EXPIRED_AGAIN, days_ago=10)
    _coe(w, "Slow search", INDEX, days_ago=20)  # the same service, another cause
    _coe(w, "Sign-in failed", EXPIRED, service=w.other_service)  # the same cause, another service
    drafted_coe(w, title="Renewals failed in May", root_cause=EXPIRED)  # a draft counts for nothing
    groups = queries.repeated_problems()
    assert len(groups) == 1
    group = groups[0]
    assert group["service"] == w.service
    assert [c.title for c in group["coes"]] == [first.title, again.title], "earliest first"
    assert {"payment", "nobody", "told"} <= set(group["shared_words"])
    assert len([w for w in group["shared_words"] if w.startswith("certificat")]) == 1, "plural and singular match"
    assert queries.learning_figures(today=TODAY)["repeated"] == groups
    assert queries.learning_figures(today=TODAY, service=w.other_service)["repeated"] == []


def test_dissimilar_root_causes_do_not_repeat(w):
    _coe(w, "Renewals failed", EXPIRED)
    _coe(w, "Slow search", INDEX)
    _coe(w, "Sign-in failed", EXPIRED_AGAIN, service=w.other_service)
    assert queries.repeated_problems() == []


def test_a_reviewed_coe_still_counts_and_each_service_has_its_own_groups(w):
    _coe(w, "Renewals failed in March", EXPIRED, days_ago=40)
    actions.hold_coe_review(actor=w.executive, review=actions.schedule_coe_review(actor=w.executive,
                                                                                  scheduled_for=TODAY))
    _coe(w, "Renewals failed in April", EXPIRED_AGAIN)
    _coe(w, "Renewals failed in May", "Nobody was told the payment certificate had expired.", days_ago=5)
    _coe(w, "Search slow", INDEX, service=w.other_service, days_ago=30)
    _coe(w, "Search slow again", "The database index went missing after a migration.", service=w.other_service)
    groups = queries.repeated_problems()
    assert [(g["service"].name, len(g["coes"])) for g in groups] == [("Parking permits", 3), ("Identity", 2)]
    assert queries.repeated_problems([w.other_service.pk])[0]["service"] == w.other_service


def test_similarity_is_the_share_of_significant_words_two_root_causes_share():
    assert queries.similarity(EXPIRED, EXPIRED) == 1.0
    assert queries.similarity(EXPIRED, INDEX) == 0.0
    assert queries.similarity("", EXPIRED) == 0.0
    assert queries.similarity("The certificates expired", "A certificate expiring") == 1.0
    assert queries.similarity(EXPIRED, EXPIRED_AGAIN) >= queries.SIMILAR
