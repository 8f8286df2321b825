"""Proposing needs, and the executive's three decisions on them, from the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.governance.models import Proposal, ProposedNeed
from osom.network.contract import read_content
from osom.network.models import Service

from .helpers import GRITTING, STREETLIGHT, a_proposal, proposal_data

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]


# ---------------------------------------------------------------- proposing

@pytest.mark.parametrize("role", ROLES)
def test_anyone_may_propose_needs_and_it_writes_one_audit_event(cast, client, role):
    person = cast.by_role()[role]
    client.force_login(person)
    before = AuditEvent.objects.count()
    response = client.post(reverse("governance:propose"), proposal_data("Street problems online", [STREETLIGHT, GRITTING]))
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("governance:proposal", args=[proposal.pk])
    assert proposal.proposed_by == person and proposal.status == Proposal.Status.OPEN
    assert [(n.as_a, n.i_need, n.so_that) for n in proposal.needs.all()] == [STREETLIGHT, GRITTING]
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert event.verb == "propose_needs" and event.actor == person


def test_blank_rows_are_ignored_and_removed_rows_are_not_proposed(cast, client):
    client.force_login(cast.outsider)
    data = proposal_data("Street problems online", [STREETLIGHT, ("", "", ""), GRITTING])
    data["needs-2-DELETE"] = "on"
    client.post(reverse("governance:propose"), data)
    assert [n.i_need for n in ProposedNeed.objects.all()] == [STREETLIGHT[1]]


def test_an_empty_title_is_refused_on_its_field_and_nothing_is_written(cast, client):
    client.force_login(cast.outsider)
    before = AuditEvent.objects.count()
    response = client.post(reverse("governance:propose"), proposal_data("   ", [STREETLIGHT]))
    assert response.status_code == 200
    assert response.context["form"].errors["title"] == ["Give it a title."]
    assert not Proposal.objects.exists() and AuditEvent.objects.count() == before


def test_a_need_without_so_that_is_refused_on_its_row_and_nothing_is_written(cast, client):
    client.force_login(cast.outsider)
    before = AuditEvent.objects.count()
    no_outcome = ("driver", "to know which roads are gritted", "")
    response = client.post(reverse("governance:propose"), proposal_data("Street problems online", [STREETLIGHT, no_outcome]))
    assert response.status_code == 200
    rows = response.context["needs"].forms
    assert rows[0].errors == {}
    assert rows[1].errors["so_that"] == ["Say the outcome they want (so that …)."]
    body = response.content.decode()
    assert "There is a problem" in body and "Need 2: Say the outcome they want" in body
    assert not Proposal.objects.exists() and AuditEvent.objects.count() == before


def test_proposing_no_need_at_all_says_so(cast, client):
    client.force_login(cast.outsider)
    response = client.post(reverse("governance:propose"), proposal_data("Street problems online", [("", "", "")]))
    assert "Propose at least one need." in response.context["form"].non_field_errors()
    assert not Proposal.objects.exists()


def test_checking_for_existing_services_suggests_them_with_the_matched_words_and_writes_nothing(cast, client):
    client.force_login(cast.outsider)
    before = AuditEvent.objects.count()
    data = proposal_data("", [("resident", "a parking permits need", "I can park near home")])
    response = client.post(reverse("governance:propose"), data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="suggestions")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Parking permits" in body and "<mark>" in body and "% match" in body
    # without JavaScript, the same check re-renders the whole page
    response = client.post(reverse("governance:propose"), {**data, "check": "1"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert response.context["suggestions"][0]["service"].name == "Parking permits"
    assert not Proposal.objects.exists() and AuditEvent.objects.count() == before


# ---------------------------------------------------------------- deciding

def _fold(c, p):
    return reverse("governance:proposal_fold", args=[p.pk]), {"service": c.service.pk, "note": "It fits its scope."}


def _decline(c, p):
    return reverse("governance:proposal_decline", args=[p.pk]), {"reason": "Not something the council does."}


def _establish(c, p):
    return reverse("governance:proposal_establish", args=[p.pk]), {
        "name": "Street problems", "user_type": "external", "evolution_stage": "custom",
        "purpose": "Takes reports of problems in the street.", "manager": c.manager.pk}


DECISIONS = {"fold": _fold, "decline": _decline, "establish": _establish}
ALLOWED = {"executive", "exec_team"}  # the team acts in the executive's name unless it keeps the act


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("decision", list(DECISIONS))
def test_only_the_executive_decides_a_proposal(cast, client, decision, role):
    proposal = a_proposal(cast.outsider)
    url, data = DECISIONS[decision](cast, proposal)
    person = cast.by_role()[role]
    client.force_login(person)
    before = AuditEvent.objects.count()
    response = client.post(url, data)
    proposal.refresh_from_db()
    if role in ALLOWED:
        assert response.status_code == 302, response.content.decode()[:800]
        assert proposal.status != Proposal.Status.OPEN and proposal.decided_by == person
        assert AuditEvent.objects.count() == before + 1
    else:
        assert response.status_code == 403
        assert "Only the Executive may" in response.content.decode()
        assert proposal.status == Proposal.Status.OPEN
        assert AuditEvent.objects.count() == before


def test_the_executive_team_is_refused_a_decision_the_executive_keeps(cast, client):
    from osom.governance.actions import set_reserved_acts

    set_reserved_acts(actor=cast.executive, acts=["decide_proposal"])
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.exec_team)
    response = client.post(*_decline(cast, proposal))
    assert response.status_code == 403 and "keeps the right to decide what to do with proposed needs" in response.content.decode()


def test_folding_opens_a_draft_of_the_chosen_service_with_the_proposed_needs(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    response = client.post(*_fold(cast, proposal))
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.FOLDED and proposal.service == cast.service
    draft = proposal.draft_version
    assert draft.service == cast.service and draft.status == "draft"
    needs = [(n["as_a"], n["i_need"], n["so_that"]) for n in read_content(draft)["needs"]]
    assert STREETLIGHT in needs and GRITTING in needs
    page = client.get(response["Location"]).content.decode()
    assert reverse("network:version", args=[cast.service.slug, draft.number]) in page
    assert "Folded into an existing service" in page and "It fits its scope." in page and cast.executive.name in page


def test_the_fold_form_defaults_to_the_best_suggestion(cast, client):
    proposal = a_proposal(cast.outsider, needs=[("resident", "a parking permits need 1", "I get on with my day")])
    client.force_login(cast.executive)
    response = client.get(reverse("governance:proposal", args=[proposal.pk]))
    assert response.context["suggestions"][0]["service"] == cast.service
    assert response.context["fold_form"].initial["service"] == cast.service.pk


def test_folding_into_a_service_with_an_open_draft_is_refused_on_the_service_field(cast, client):
    from osom.network.actions import draft_contract_version

    draft_contract_version(actor=cast.manager, service=cast.service)
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    before = AuditEvent.objects.count()
    response = client.post(*_fold(cast, proposal))
    assert response.status_code == 200
    assert "already has an open draft" in response.context["fold_form"].errors["service"][0]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN and AuditEvent.objects.count() == before


def test_declining_needs_a_reason(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    response = client.post(reverse("governance:proposal_decline", args=[proposal.pk]), {"reason": " "})
    assert response.context["decline_form"].errors["reason"] == ["Say why the organisation will not meet these needs."]
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_declining_shows_the_reason_who_and_when(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    response = client.post(*_decline(cast, proposal), follow=True)
    body = response.content.decode()
    assert "Declined" in body and "Not something the council does." in body and cast.executive.name in body


def test_establishing_makes_a_discovery_service_with_the_proposals_needs(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    response = client.post(*_establish(cast, proposal))
    service = Service.objects.get(name="Street problems")
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ESTABLISHED and proposal.service == service
    assert service.lifecycle_stage == "discovery" and service.manager == cast.manager
    content = read_content(service.current_version)
    assert [(n["as_a"], n["i_need"], n["so_that"]) for n in content["needs"]] == [STREETLIGHT, GRITTING]
    assert all(n["metrics"] == [] for n in content["needs"])
    page = client.get(response["Location"]).content.decode()
    assert "A new service was established" in page and reverse("network:service", args=[service.slug]) in page


def test_establishing_with_a_taken_name_is_refused_on_the_name_field(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    url, data = _establish(cast, proposal)
    before = AuditEvent.objects.count()
    response = client.post(url, {**data, "name": "Identity", "purpose": ""})
    form = response.context["establish_form"]
    assert form.errors["name"] == ["Another service is already called “Identity”."]
    assert form.errors["purpose"] == ["Say what the service is."]
    assert response.context["open_form"] == "establish"
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN and AuditEvent.objects.count() == before
    assert not Service.objects.filter(name="Street problems").exists()


def test_a_decided_proposal_cannot_be_decided_again(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    client.post(*_decline(cast, proposal))
    before = AuditEvent.objects.count()
    response = client.post(*_fold(cast, proposal), follow=True)
    assert "This proposal was decided already: declined." in response.content.decode()
    assert AuditEvent.objects.count() == before
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.DECLINED


def test_refining_in_the_wizard_fills_its_state_from_the_proposal(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    response = client.post(reverse("governance:proposal_wizard", args=[proposal.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("network:establish_step", args=["name"])
    state = client.session["osom_establish"]
    assert state["proposal_id"] == proposal.pk and state["name"] == proposal.title
    assert [(n["as_a"], n["i_need"], n["so_that"]) for n in state["needs"]] == [STREETLIGHT, GRITTING]
    assert state["metrics"] == [] and state["dependencies"] == []
    page = client.get(reverse("network:establish_step", args=["needs"])).content.decode()
    assert STREETLIGHT[1] in page  # the wizard reads the needs from the state
    # starting the wizard decides nothing yet: the proposal stays open
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OPEN


def test_establishing_at_the_end_of_the_wizard_records_the_proposal_decision(cast, client):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.executive)
    client.post(reverse("governance:proposal_wizard", args=[proposal.pk]))
    step = lambda name: reverse("network:establish_step", args=[name])  # noqa: E731
    client.post(step("name"), {"name": "Street lighting faults", "adopt": "new"})
    client.post(step("needs"), {"user_type": "external", "needs-TOTAL_FORMS": "1", "needs-INITIAL_FORMS": "1",
                                "needs-0-as_a": STREETLIGHT[0], "needs-0-i_need": STREETLIGHT[1], "needs-0-so_that": STREETLIGHT[2]})
    client.post(step("metrics"), {"metrics-TOTAL_FORMS": "0", "metrics-INITIAL_FORMS": "0"})
    client.post(step("description"), {"purpose": "Residents report street lights that are out."})
    client.post(step("dependencies"), {"deps-TOTAL_FORMS": "0", "deps-INITIAL_FORMS": "0"})
    client.post(step("evolution"), {"evolution_stage": "custom"})
    client.post(step("manager"), {"manager": cast.manager.pk})
    response = client.post(step("review"))
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ESTABLISHED
    assert proposal.service.name == "Street lighting faults" and proposal.service.manager == cast.manager
    assert AuditEvent.objects.filter(verb="establish_from_proposal", actor=cast.executive).count() == 1
    assert not AuditEvent.objects.filter(verb="establish_service", service=proposal.service).exists()


@pytest.mark.parametrize("role", ["manager", "outsider"])
def test_refining_in_the_wizard_is_refused_to_those_who_may_not_establish(cast, client, role):
    proposal = a_proposal(cast.outsider)
    client.force_login(cast.by_role()[role])
    response = client.post(reverse("governance:proposal_wizard", args=[proposal.pk]))
    assert response.status_code == 403 and "osom_establish" not in client.session


def test_duplicates_prefill_a_proposal_with_both_needs(cast, client):
    from osom.network.models import Need

    needs = list(Need.objects.filter(version__service__in=[cast.service, cast.other_service]).order_by("pk"))
    client.force_login(cast.outsider)
    response = client.get(reverse("governance:propose"), {"need": [n.pk for n in needs]})
    formset = response.context["needs"]
    assert [f.initial["i_need"] for f in formset.forms] == [n.i_need for n in needs]
    form = response.context["form"]
    assert form.initial["title"].startswith("A shared service") and "Identity" in form.initial["context"]
    assert response.context["prefilled"]
