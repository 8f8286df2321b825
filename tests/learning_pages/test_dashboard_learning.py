"""The learning loop on the dashboards: for the executive, the Corrections of Error
waiting for review and the corrective actions past due; for a manager, the actions past
due of their services (or their own), their services' drafts and the self-assessments
they have not rated; for anyone else, their own corrective actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.governance.queries import executive_attention, manager_obligations
from osom.learning import actions

from .. import factories
from .test_coe_pages import LATE, TODAY, content, drafted, published, reviewed


def _section(body: str, heading_id: str) -> str:
    start = body.index(f'id="{heading_id}"')
    return body[start:body.index("</section>", start)]


def test_the_executive_sees_coes_to_review_and_overdue_actions(cast, client):
    done = reviewed(cast, title="Already reviewed", due=LATE)
    waiting = published(cast, due=LATE)
    drafted(cast, title="Still a draft", due=LATE)
    attention = executive_attention()
    assert attention["unreviewed_coes"] == [waiting]  # the reviewed one and the draft are not waiting
    assert sorted(a.coe.title for a in attention["overdue_actions"]) == [done.title, waiting.title]  # not the draft's
    client.force_login(cast.executive)
    body = client.get(reverse("governance:dashboard")).content.decode()
    review = _section(body, "sec-unreviewed_coes")
    assert reverse("learning:coe", args=[waiting.pk]) in review and "Already reviewed" not in review
    assert reverse("learning:reviews") in review
    overdue = _section(body, "sec-overdue_actions")
    assert overdue.count('class="tag tag--overdue"') == 2 and "Alert on certificate expiry" in overdue
    assert "Still a draft" not in overdue
    assert '<span class="gv-count">1</span>' in review and '<span class="gv-count">2</span>' in overdue


def test_the_coes_to_review_leave_the_dashboard_once_reviewed(cast, client):
    coe = published(cast)
    client.force_login(cast.exec_team)
    assert reverse("learning:coe", args=[coe.pk]) in _section(client.get(reverse("governance:dashboard")).content.decode(),
                                                               "sec-unreviewed_coes")
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    actions.hold_coe_review(actor=cast.executive, review=review)
    section = _section(client.get(reverse("governance:dashboard")).content.decode(), "sec-unreviewed_coes")
    assert reverse("learning:coe", args=[coe.pk]) not in section and "Nothing at the moment." in section


def test_a_manager_sees_overdue_actions_drafts_and_rounds_to_rate(cast, client):
    mine = published(cast, due=LATE)
    draft = drafted(cast, title="Half-written")
    # an action the manager owns in another service's CoE counts too; other services' others do not
    theirs = actions.write_coe(actor=cast.other_manager, service=cast.other_service, content=content(
        cast, title="Sign-in outage", actions=[
            {"description": "Owned by Max", "owner": cast.manager.email, "due_date": LATE.isoformat()},
            {"description": "Owned by Olu", "owner": cast.other_manager.email, "due_date": LATE.isoformat()}]))
    actions.publish_coe(actor=cast.other_manager, coe=theirs)
    rnd = actions.open_doctrine_round(actor=cast.executive, service=cast.service, title="Spring self-assessment")
    obligations = manager_obligations(cast.manager)
    assert {a.description for a in obligations["overdue_actions"]} == {"Alert on certificate expiry", "Owned by Max"}
    assert obligations["coe_drafts"] == [draft] and obligations["open_rounds"] == [rnd]
    client.force_login(cast.manager)
    body = client.get(reverse("governance:dashboard")).content.decode()
    overdue = _section(body, "ob-overdue")
    assert "Owned by Max" in overdue and "Owned by Olu" not in overdue
    assert f"{reverse('learning:coe', args=[mine.pk])}#action-" in overdue
    assert reverse("learning:coe", args=[draft.pk]) in _section(body, "ob-coes")
    assert reverse("learning:coe_new", args=[cast.service.slug]) in _section(body, "ob-coes")
    assert reverse("learning:round", args=[rnd.pk]) in _section(body, "ob-rounds")
    # once rated, the round leaves the manager's list
    actions.rate_doctrine(actor=cast.manager, round=rnd, ratings=[{"pattern": "know-your-users", "rating": "good"}])
    assert manager_obligations(cast.manager)["open_rounds"] == []
    body = client.get(reverse("governance:dashboard")).content.decode()
    assert reverse("learning:round", args=[rnd.pk]) not in _section(body, "ob-rounds")
    # the other manager sees none of it
    other = manager_obligations(cast.other_manager)
    assert {a.description for a in other["overdue_actions"]} == {"Owned by Max", "Owned by Olu"}
    assert other["coe_drafts"] == [] and other["open_rounds"] == []


def test_someone_who_manages_nothing_sees_their_own_corrective_actions(cast, client):
    coe = published(cast, due=LATE)
    client.force_login(cast.team_member)
    body = client.get(reverse("governance:dashboard")).content.decode()
    section = _section(body, "actions-h")
    assert "Alert on certificate expiry" in section and "Overdue" in section
    assert f"{reverse('learning:coe', args=[coe.pk])}#action-{coe.actions.get(owner=cast.team_member).pk}" in section
    assert "Name an owner for every certificate" not in section  # the manager's
    client.force_login(cast.outsider)
    assert "None open." in _section(client.get(reverse("governance:dashboard")).content.decode(), "actions-h")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("viewer", ["executive", "manager", "team_member"])
def test_the_dashboard_costs_the_same_queries_however_much_learning_there_is(cast, client, viewer):
    def add(n: int, start: int):
        for i in range(start, start + n):
            service = factories.service(cast.executive, f"Grown service {i:03d}", manager=cast.manager)
            coe = actions.write_coe(actor=cast.manager, service=service, content=content(
                cast, title=f"Problem {i}", due=LATE))
            actions.publish_coe(actor=cast.manager, coe=coe)
            actions.write_coe(actor=cast.manager, service=service, content=content(cast, title=f"Draft {i}"))
            actions.open_doctrine_round(actor=cast.manager, service=service)

    client.force_login(cast.by_role()[viewer])
    add(1, 0)
    few = _queries(client, reverse("governance:dashboard"))
    add(6, 1)
    assert _queries(client, reverse("governance:dashboard")) == few


def test_overdue_means_open_and_past_its_due_date(cast):
    coe = published(cast, due=LATE)
    late = coe.actions.get(owner=cast.team_member)
    assert [a.pk for a in executive_attention()["overdue_actions"]] == [late.pk]
    actions.update_corrective_action(actor=cast.team_member, action=late, status="done")
    assert executive_attention()["overdue_actions"] == []
    actions.update_corrective_action(actor=cast.team_member, action=late, status="open",
                                     due_date=(TODAY + dt.timedelta(days=1)).isoformat(), note="The fix did not hold.")
    assert executive_attention()["overdue_actions"] == []


def test_a_manager_sees_the_done_actions_of_their_published_coes_to_verify(cast, client):
    mine = published(cast, due=LATE)
    done = mine.actions.get(description="Alert on certificate expiry")
    actions.update_corrective_action(actor=cast.team_member, action=done, status="done")
    # done in a draft, done in another service's CoE, or still open: none is the manager's to verify
    draft = drafted(cast, title="Half-written")
    actions.update_corrective_action(actor=cast.team_member, action=draft.actions.get(owner=cast.team_member),
                                     status="done")
    theirs = actions.write_coe(actor=cast.other_manager, service=cast.other_service, content=content(
        cast, title="Sign-in outage", actions=[
            {"description": "Done elsewhere", "owner": cast.other_manager.email, "due_date": LATE.isoformat()}]))
    actions.publish_coe(actor=cast.other_manager, coe=theirs)
    actions.update_corrective_action(actor=cast.other_manager, action=theirs.actions.get(), status="done")
    assert manager_obligations(cast.manager)["to_verify"] == [done]
    assert [a.description for a in manager_obligations(cast.other_manager)["to_verify"]] == ["Done elsewhere"]
    client.force_login(cast.manager)
    section = _section(client.get(reverse("governance:dashboard")).content.decode(), "ob-verify")
    assert f"{reverse('learning:coe', args=[mine.pk])}#action-{done.pk}" in section
    assert '<span class="gv-count">1</span>' in section and "Done elsewhere" not in section
    # once verified, it leaves the list
    actions.verify_corrective_action(actor=cast.manager, action=done)
    assert manager_obligations(cast.manager)["to_verify"] == []
    section = _section(client.get(reverse("governance:dashboard")).content.decode(), "ob-verify")
    assert f"#action-{done.pk}" not in section and '<span class="gv-count">0</span>' in section
