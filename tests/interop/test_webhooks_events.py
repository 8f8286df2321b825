"""Each of the six events is written by the act that causes it, with what a receiver needs
to know, in the act's own transaction: an act that is refused, or rolls back, leaves no
delivery; an endpoint that does not subscribe to an event, or was removed, is not told."""

from __future__ import annotations

import pytest
from django.db import transaction

from osom.core.errors import NotAllowed
from osom.governance import actions as governance
from osom.interop import webhook_actions, webhooks
from osom.interop.models import WebhookDelivery
from osom.learning import actions as learning
from osom.network import actions as network

from .. import factories
from ..governance.helpers import issued_mandate, proposal
from ..learning.test_permissions import drafted_coe, published_coe
from ..lifecycle.helpers import BUDGET, DECOMMISSION, published, service_at

ALL_EVENTS = list(webhooks.EVENTS)


@pytest.fixture
def endpoint(cast):
    endpoint, _ = webhook_actions.add_webhook(actor=cast.executive, name="Catalogue", url="https://hooks.example.org/osom",
                                              events=ALL_EVENTS)
    return endpoint


def told(event: str | None = None) -> list[dict]:
    """The payloads written so far, the first first; of one event only, if named."""
    qs = WebhookDelivery.objects.order_by("pk")
    if event:
        qs = qs.filter(event=event)
    return [d.payload for d in qs]


def test_the_six_events_are_the_documented_ones():
    assert ALL_EVENTS == ["service.established", "service.stage_changed", "contract.approved", "report.published",
                          "coe.published", "mandate.issued"]


def test_establishing_a_service_tells_its_slug_name_stage_and_manager(cast, endpoint):
    service = network.establish_service(actor=cast.executive, content=factories.contract("Waste collection"),
                                        manager=cast.outsider)
    [data] = told()
    assert WebhookDelivery.objects.get().event == "service.established"
    assert data["how"] == "established"
    assert data["service"]["id"] == service.pk
    assert data["service"]["slug"] == "waste-collection" and data["service"]["name"] == "Waste collection"
    assert data["service"]["lifecycle_stage"] == "discovery"
    assert data["service"]["url"].endswith("/services/waste-collection/")
    assert data["manager"] == {"id": cast.outsider.pk, "name": "Ola Outsider", "email": "ola@example.org"}
    assert data["contract_version"] == 1
    assert data["by"]["email"] == cast.executive.email


def test_adopting_a_running_service_tells_the_stage_it_entered_at(cast, endpoint):
    network.adopt_existing_service(actor=cast.exec_team, content=factories.contract("Libraries"), lifecycle_stage="live")
    [data] = told("service.established")
    assert data["how"] == "adopted"
    assert data["service"]["slug"] == "libraries" and data["service"]["lifecycle_stage"] == "live"
    assert data["manager"] is None
    assert data["by"]["email"] == cast.exec_team.email


def test_establishing_a_service_for_proposed_needs_tells_the_proposal(cast, endpoint):
    proposed = proposal(cast)
    service = governance.establish_from_proposal(actor=cast.executive, proposal=proposed,
                                                 content=factories.contract("Visitor permits"), manager=cast.outsider)
    [data] = told("service.established")
    assert data["how"] == "proposal"
    assert data["service"]["slug"] == service.slug == "visitor-permits"
    assert data["proposal"] == {"id": proposed.pk, "title": "Visitor and carer permits"}
    assert data["manager"]["id"] == cast.outsider.pk


def test_approving_a_contract_version_tells_its_number_and_the_one_it_replaces(cast, endpoint):
    draft = network.draft_contract_version(actor=cast.manager, service=cast.service, change_note="Visitors")
    network.submit_contract_version(actor=cast.manager, version=draft)
    assert told() == [], "drafting and submitting tell nobody"
    network.approve_contract_version(actor=cast.executive, version=draft)
    [data] = told("contract.approved")
    assert data["service"]["slug"] == "parking-permits"
    assert (data["version"], data["previous_version"], data["alteration"]) == (2, 1, False)
    assert data["change_note"] == "Visitors"
    assert data["approved_by"]["email"] == cast.executive.email
    assert data["url"].endswith("/services/parking-permits/versions/2/")


def test_altering_a_contract_tells_an_approved_alteration(cast, endpoint):
    network.alter_contract(actor=cast.executive, service=cast.service,
                           content=factories.contract("Parking permits", needs=2, dependencies=["identity"]),
                           reason="Residents asked for visitor permits.", risk="The team is small.")
    [data] = told("contract.approved")
    assert (data["version"], data["previous_version"], data["alteration"]) == (2, 1, True)


def test_a_report_that_moves_a_service_on_tells_the_report_and_the_stage_change(cast, endpoint):
    service = service_at(cast, "discovery")
    WebhookDelivery.objects.all().delete()  # the service's establishment is not what is tested here
    assessment = published(cast, service, outcome="progress_to_alpha", **BUDGET)
    assert [d.event for d in WebhookDelivery.objects.order_by("pk")] == ["service.stage_changed", "report.published"]
    [moved] = told("service.stage_changed")
    assert moved["service"]["slug"] == "bin-collection" and moved["service"]["lifecycle_stage"] == "alpha"
    assert (moved["from_stage"], moved["to_stage"]) == ("discovery", "alpha")
    assert moved["assessment"]["id"] == assessment.pk
    [report] = told("report.published")
    assert report["assessment"]["id"] == assessment.pk
    assert (report["assessment"]["stage"], report["assessment"]["result"], report["assessment"]["outcome"]) == (
        "discovery", "met", "progress_to_alpha")
    assert report["assessment"]["kind"] == "transition"
    assert report["assessment"]["published_at"]
    assert report["contract_version"] == 1
    assert report["service"]["lifecycle_stage"] == "alpha"


def test_a_report_that_keeps_the_service_at_its_stage_tells_no_stage_change(cast, endpoint):
    service = service_at(cast, "discovery")
    published(cast, service, outcome="more_research")
    assert told("service.stage_changed") == []
    [report] = told("report.published")
    assert report["assessment"]["outcome"] == "more_research"


def test_decommissioning_tells_the_stage_change_to_decommissioned(cast, endpoint):
    service = service_at(cast, "discovery", "Old payments")
    published(cast, service, outcome="not_required", **DECOMMISSION)
    [moved] = told("service.stage_changed")
    assert (moved["service"]["slug"], moved["from_stage"], moved["to_stage"]) == (
        "old-payments", "discovery", "decommissioned")
    assert len(told("report.published")) == 1
    assert told("contract.approved") == [], "the decommissioned version is the report's, not an approval"


def test_publishing_a_coe_tells_its_title_and_service(cast, endpoint):
    coe = published_coe(cast)
    [data] = told("coe.published")
    assert data["coe"]["id"] == coe.pk and data["coe"]["title"] == "Permit renewals failed overnight"
    assert data["coe"]["published_at"]
    assert data["service"]["slug"] == "parking-permits"
    assert data["published_by"]["email"] == cast.manager.email


def test_issuing_a_mandate_tells_its_title_due_date_and_services(cast, endpoint):
    mandate = issued_mandate(cast)
    [data] = told("mandate.issued")
    assert data["mandate"]["id"] == mandate.pk and data["mandate"]["title"] == "Move to the shared identity service"
    assert data["mandate"]["due_date"] == mandate.due_date.isoformat()
    assert sorted(s["slug"] for s in data["services"]) == ["identity", "parking-permits"]
    assert data["issued_by"]["email"] == cast.executive.email


# ---------------------------------------------------------------- nothing for what did not happen


def test_a_refused_act_tells_nobody(cast, endpoint):
    with pytest.raises(NotAllowed):
        network.establish_service(actor=cast.manager, content=factories.contract("Waste collection"))
    coe = drafted_coe(cast)
    with pytest.raises(NotAllowed):
        learning.publish_coe(actor=cast.outsider, coe=coe)
    assert told() == []


def test_an_act_that_rolls_back_after_the_event_was_written_tells_nobody(cast, endpoint, monkeypatch):
    """The event is written before the audit event; when that fails, the whole act rolls
    back, the delivery with it."""
    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(network.audit, "record", broken)
    with pytest.raises(RuntimeError):
        network.establish_service(actor=cast.executive, content=factories.contract("Waste collection"))
    assert told() == []


def test_an_act_inside_a_transaction_that_rolls_back_tells_nobody(cast, endpoint):
    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        issued_mandate(cast)
        assert len(told("mandate.issued")) == 1
        raise Undo
    assert told() == []


def test_only_the_active_endpoints_subscribed_to_an_event_are_told(cast, endpoint):
    coes_only, _ = webhook_actions.add_webhook(actor=cast.executive, name="Learning wiki",
                                               url="https://wiki.example.org/hook", events=["coe.published"])
    removed, _ = webhook_actions.add_webhook(actor=cast.executive, name="Old", url="https://old.example.org/hook",
                                             events=ALL_EVENTS)
    webhook_actions.remove_webhook(actor=cast.executive, endpoint=removed)
    issued_mandate(cast)
    published_coe(cast)
    sent = {(d.endpoint_id, d.event) for d in WebhookDelivery.objects.all()}
    assert sent == {(endpoint.pk, "mandate.issued"), (endpoint.pk, "coe.published"), (coes_only.pk, "coe.published")}
    coe_ids = set(WebhookDelivery.objects.filter(event="coe.published").values_list("event_id", flat=True))
    assert len(coe_ids) == 1, "every endpoint is told the same event id"


def test_without_any_endpoint_an_act_writes_no_delivery(cast):
    issued_mandate(cast)
    assert WebhookDelivery.objects.count() == 0


def test_an_unknown_event_is_a_programming_error(db):
    with pytest.raises(ValueError, match="not a webhook event"):
        webhooks.emit("service.renamed", {})
