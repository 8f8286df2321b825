"""The demand pages as everyone sees them, and what they cost in queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.governance import actions
from osom.governance.models import Proposal
from osom.network import actions as network_actions

from .. import factories
from .civic import build, content
from .helpers import a_deviation, a_proposal


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:500]
    return len(ctx.captured_queries)


def test_every_demand_page_renders_for_an_outsider(cast, client):
    build(cast.executive)
    proposal = a_proposal(cast.manager)
    deviation = a_deviation(cast.executive)
    client.force_login(cast.outsider)
    for url, says in [
        (reverse("governance:proposals"), "Report street problems online"),
        (reverse("governance:propose"), "Propose these needs"),
        (reverse("governance:proposal", args=[proposal.pk]), "Street problems"),
        (reverse("governance:duplicates"), "Tenancy support"),
        (reverse("governance:deviations"), deviation.title),
        (reverse("governance:deviation", args=[deviation.pk]), "Negative consequences"),
        (reverse("governance:reserved_acts"), "Replace a service"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert says in response.content.decode(), url


def test_an_outsider_sees_no_decision_forms(cast, client):
    proposal = a_proposal(cast.manager)
    deviation = a_deviation(cast.executive)
    client.force_login(cast.outsider)
    body = client.get(reverse("governance:proposal", args=[proposal.pk])).content.decode()
    assert reverse("governance:proposal_fold", args=[proposal.pk]) not in body
    assert "Awaiting the executive’s decision" in body
    body = client.get(reverse("governance:deviation", args=[deviation.pk])).content.decode()
    assert reverse("governance:deviation_retire", args=[deviation.pk]) not in body
    body = client.get(reverse("governance:reserved_acts")).content.decode()
    assert 'type="checkbox"' not in body


def test_the_executive_sees_the_three_decisions_with_establish_now_first_choice_over_the_wizard(cast, client):
    proposal = a_proposal(cast.manager)
    client.force_login(cast.executive)
    body = client.get(reverse("governance:proposal", args=[proposal.pk])).content.decode()
    for name in ("proposal_fold", "proposal_decline", "proposal_establish", "proposal_wizard"):
        assert reverse(f"governance:{name}", args=[proposal.pk]) in body
    assert body.index("Establish the service now") < body.index("Refine it in the establish wizard first")
    assert "records the decision on this proposal too" in body


def test_the_proposal_page_explains_each_suggestion(cast, client):
    build(cast.executive)
    proposal = a_proposal(cast.manager)
    client.force_login(cast.outsider)
    response = client.get(reverse("governance:proposal", args=[proposal.pk]))
    top = response.context["suggestions"][0]
    assert top["service"].name == "Street problems"
    assert "streetlight" in top["words"] and "<mark>streetlight</mark>" in str(top["best_need"])
    assert "<mark>" in str(response.context["needs"][0]["i_need"])


def test_the_duplicates_page_links_both_services_and_prefills_a_shared_proposal(cast, client):
    services = build(cast.executive)
    client.force_login(cast.outsider)
    response = client.get(reverse("governance:duplicates"))
    pair = response.context["pairs"][0]
    assert {s["service"] for s in pair["sides"]} == {"Housing repairs", "Tenancy support"}
    body = response.content.decode()
    for name in ("Housing repairs", "Tenancy support"):
        assert reverse("network:service", args=[services[name].slug]) in body
    assert len(pair["need_pks"]) == 2
    link = reverse("governance:propose") + "?" + "&amp;".join(f"need={pk}" for pk in pair["need_pks"])
    assert link in body
    # choosing a stricter threshold hides the pair
    assert client.get(reverse("governance:duplicates"), {"alike": "0.6"}).context["pairs"] == []


def test_the_deviation_register_highlights_overdue_reviews(cast, client):
    late = a_deviation(cast.executive, title="Late one", review_on=dt.date.today() - dt.timedelta(days=3))
    a_deviation(cast.executive, title="On time")
    client.force_login(cast.outsider)
    response = client.get(reverse("governance:deviations"))
    flagged = {d.title: d.overdue for d in response.context["page"].object_list}
    assert flagged == {"Late one": True, "On time": False}
    assert response.context["overdue_count"] == 1
    assert "Review overdue" in response.content.decode()
    actions.retire_deviation(actor=cast.executive, deviation=late, reason="We follow the template again.")
    response = client.get(reverse("governance:deviations"), {"status": "retired"})
    assert [d.title for d in response.context["page"].object_list] == ["Late one"]
    assert "We follow the template again." in response.content.decode()


# ---------------------------------------------------------------- queries

def test_the_proposal_list_costs_the_same_whatever_the_number_of_proposals(cast, client, settings):
    settings.PAGE_SIZE = 10
    client.force_login(cast.outsider)
    for i in range(3):
        actions.decline_proposal(actor=cast.executive, proposal=a_proposal(cast.manager, title=f"P{i}"), reason="No")
    small = _queries(client, reverse("governance:proposals"))
    for i in range(25):
        p = a_proposal(cast.outsider, title=f"Q{i}")
        if i % 3 == 0:
            actions.fold_proposal(actor=cast.executive, proposal=p, service=factories.service(cast.executive, f"S{i}"))
    assert Proposal.objects.count() == 28
    assert _queries(client, reverse("governance:proposals")) == small
    assert _queries(client, reverse("governance:proposals") + "?page=2") == small


def test_the_proposal_page_costs_the_same_whatever_the_size_of_the_network(cast, client):
    proposal = a_proposal(cast.manager)
    client.force_login(cast.executive)
    url = reverse("governance:proposal", args=[proposal.pk])
    small = _queries(client, url)
    build(cast.executive)
    for i in range(20):
        factories.service(cast.executive, f"Street lighting {i}", purpose="Repairs broken streetlights.", manager=cast.manager)
    assert _queries(client, url) == small


def test_the_duplicates_page_costs_the_same_whatever_the_number_of_pairs(cast, client):
    client.force_login(cast.outsider)
    build(cast.executive)
    small = _queries(client, reverse("governance:duplicates"))
    topics = ["graffiti vandalism", "dog fouling", "noise nuisance", "blue badge", "bulky furniture", "pest rats",
              "abandoned vehicle", "overgrown hedge", "blocked drain", "dangerous tree", "flooded underpass", "stray horse"]
    for i, topic in enumerate(topics):  # each topic a need that two services meet
        for side in ("north", "south"):
            civic_content = content(f"{topic.title()} {side}", f"Deals with {topic} in the {side}.",
                                    [("resident", f"to report {topic} near me", f"the {topic} is dealt with")])
            network_actions.establish_service(actor=cast.executive, content=civic_content)
    assert len(client.get(reverse("governance:duplicates")).context["pairs"]) >= 12
    assert _queries(client, reverse("governance:duplicates")) == small


def test_the_deviation_register_costs_the_same_whatever_the_number_of_deviations(cast, client, settings):
    settings.PAGE_SIZE = 10
    client.force_login(cast.outsider)
    urls = [reverse("governance:deviations") + f"?status={s}" for s in ("active", "retired")]
    for i in range(2):
        a_deviation(cast.executive, title=f"C{i}")
        actions.retire_deviation(actor=cast.executive, deviation=a_deviation(cast.executive, title=f"D{i}"), reason="Done")
    small = [_queries(client, url) for url in urls]
    for i in range(50):
        d = a_deviation(cast.executive, title=f"E{i}", review_on=dt.date.today() + dt.timedelta(days=i - 10))
        if i % 2:
            actions.retire_deviation(actor=cast.executive, deviation=d, reason="Done")
    assert [_queries(client, url) for url in urls] == small
    assert [_queries(client, url + "&page=2") for url in urls] == small


@pytest.mark.parametrize("name", ["proposals", "propose", "duplicates", "deviations", "reserved_acts"])
def test_signed_out_visitors_are_sent_to_sign_in(client, db, name):
    response = client.get(reverse(f"governance:{name}"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
