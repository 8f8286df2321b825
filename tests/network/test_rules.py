"""The model's rules for contracts and dependencies (model section 3)."""

import pytest

from osom.core.errors import Conflict, InvalidInput
from osom.network import actions, queries
from osom.network.models import ContractVersion, ImmutableVersion, Need

from .. import factories


def test_an_approved_version_never_changes(cast):
    version = cast.service.current_version
    version.purpose = "Something else entirely."
    with pytest.raises(ImmutableVersion):
        version.save()
    need = Need.objects.filter(version=version).first()
    need.i_need = "changed"
    with pytest.raises(ImmutableVersion):
        need.save()
    with pytest.raises(ImmutableVersion):
        need.delete()
    assert ContractVersion.objects.get(pk=version.pk).purpose.startswith("Parking permits does")


def test_editing_an_approved_version_through_the_action_is_refused(cast):
    with pytest.raises(Conflict, match="only a draft can be edited"):
        actions.edit_contract_draft(actor=cast.manager, version=cast.service.current_version,
                                    content=factories.contract("Parking permits", needs=2))


def test_an_alteration_without_a_reason_is_refused(cast):
    before = ContractVersion.objects.count()
    with pytest.raises(InvalidInput) as refused:
        actions.alter_contract(actor=cast.executive, service=cast.service,
                               content=factories.contract("Parking permits", needs=2), reason="  ", risk="Some risk")
    assert refused.value.field == "reason"
    assert ContractVersion.objects.count() == before


def test_an_alteration_with_reason_and_risk_makes_a_new_approved_version(cast):
    version = actions.alter_contract(actor=cast.executive, service=cast.service,
                                     content=factories.contract("Parking permits", needs=2),
                                     reason="Residents asked for visitor permits", risk="Team capacity")
    cast.service.refresh_from_db()
    assert version.is_approved and version.is_alteration and version.number == 2
    assert cast.service.current_version == version
    assert version.alteration_risk == "Team capacity"


def test_a_service_cannot_depend_on_itself(cast):
    with pytest.raises(InvalidInput, match="cannot depend on itself") as refused:
        actions.add_dependency(actor=cast.manager, service=cast.service, provider=cast.service)
    assert refused.value.field == "provider"


def test_a_cycle_is_allowed_but_reported_by_name(cast):
    # Parking permits consumes Identity already; Identity consuming Parking permits closes a cycle.
    result = actions.add_dependency(actor=cast.other_manager, service=cast.other_service, provider=cast.service)
    assert result.cycle == ["Identity", "Parking permits", "Identity"]
    actions.submit_contract_version(actor=cast.other_manager, version=result.version)
    actions.approve_contract_version(actor=cast.executive, version=result.version)
    assert queries.cycle_through(cast.service) == ["Parking permits", "Identity", "Parking permits"]


def test_a_draft_goes_through_submission_and_approval(cast):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service)
    content = factories.contract("Parking permits", needs=3)
    actions.edit_contract_draft(actor=cast.manager, version=draft, content=content, expected_revision=draft.revision)
    draft.refresh_from_db()
    actions.submit_contract_version(actor=cast.manager, version=draft)
    actions.approve_contract_version(actor=cast.executive, version=draft)
    cast.service.refresh_from_db()
    assert cast.service.current_version.number == 2
    assert cast.service.current_version.needs.count() == 3


def test_a_stale_edit_is_detected_not_overwritten(cast):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service)
    seen = draft.revision
    actions.edit_contract_draft(actor=cast.manager, version=draft, content=factories.contract("Parking permits", needs=2),
                                expected_revision=seen)
    with pytest.raises(Conflict, match="changed by someone else"):
        actions.edit_contract_draft(actor=cast.executive, version=draft,
                                    content=factories.contract("Parking permits", needs=4), expected_revision=seen)
    assert draft.needs.count() == 2


def test_a_draft_older_than_the_current_contract_cannot_be_approved(cast):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service)
    actions.submit_contract_version(actor=cast.manager, version=draft)
    # meanwhile the executive alters the contract: approving the old draft would undo that
    altered = actions.alter_contract(actor=cast.executive, service=cast.service, reason="Visitors", risk="Low",
                                     content=factories.contract("Parking permits", needs=2))
    with pytest.raises(Conflict, match="drafted from version 1"):
        actions.approve_contract_version(actor=cast.executive, version=draft)
    cast.service.refresh_from_db()
    assert cast.service.current_version == altered


def test_appointing_decides_on_the_service_as_it_is_now(cast):
    # someone read the service before its manager was appointed; the act still sees the manager in post
    stale = type(cast.service).objects.get(pk=cast.service.pk)
    stale.manager_id = None
    with pytest.raises(InvalidInput, match="Say why the manager is being replaced"):
        actions.appoint_manager(actor=cast.executive, service=stale, person=cast.outsider)
    from osom.core.errors import NotAllowed

    with pytest.raises(NotAllowed, match="keeps the right"):
        actions.appoint_manager(actor=cast.exec_team, service=stale, person=cast.outsider, reason="Rotation")
    cast.service.refresh_from_db()
    assert cast.service.manager == cast.manager
