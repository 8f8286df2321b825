"""The policy table itself: what pages ask (``can``) and what actions enforce
(``authorise``) never disagree, and the acts the executive keeps to itself are the
organisation's own choice (model section 2, design habit 2)."""

from __future__ import annotations

import pytest

from osom.core import actions as core_actions
from osom.core.errors import NotAllowed
from osom.core.models import AuditEvent, Organisation, Person
from osom.core.policy import ACTS, ASSESSOR, authorise, can, refusal
from osom.network import actions

from ..fitness.test_permissions import MATRIX as FITNESS_MATRIX
from ..governance.test_permissions import MATRIX as GOVERNANCE_MATRIX
from ..interop.test_backstage import MATRIX as BACKSTAGE_MATRIX
from ..interop.test_spreadsheets import MATRIX as SPREADSHEET_MATRIX
from ..interop.test_webhooks_permissions import MATRIX as WEBHOOKS_MATRIX
from ..lifecycle.helpers import scheduled
from ..learning.test_permissions import MATRIX as LEARNING_MATRIX
from ..lifecycle.test_permissions import MATRIX as LIFECYCLE_MATRIX
from ..maps_actions.test_save_map import MATRIX as MAPS_MATRIX
from ..network.test_decommission_flag import MATRIX as FLAG_MATRIX
from ..network.test_permissions import MATRIX as NETWORK_MATRIX
from .test_actions import MATRIX as ORGANISATION_MATRIX

ROLES = ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"]
SUBJECTS = ["nobody", "themselves", "someone else"]


def test_every_act_of_the_policy_has_its_permission_matrix():
    verbs = {row.verb for row in NETWORK_MATRIX.values()} | {row.verb for row in ORGANISATION_MATRIX.values()}
    verbs |= {row.verb for row in FLAG_MATRIX.values()}
    verbs |= {row.verb for row in LIFECYCLE_MATRIX.values()}
    # lifecycle rows also name the acts they check besides their verb (manage_criteria,
    # decommission_service)
    verbs |= {act for row in LIFECYCLE_MATRIX.values() for act in row.policy_acts}
    verbs |= {v for row in GOVERNANCE_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    verbs |= {v for row in LEARNING_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    verbs |= {v for row in FITNESS_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    verbs |= {v for row in MAPS_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    verbs |= {v for row in BACKSTAGE_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    verbs |= {v for row in SPREADSHEET_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    verbs |= {v for row in WEBHOOKS_MATRIX.values() for v in (row.verb, *row.policy_acts)}
    assert set(ACTS) <= verbs, sorted(set(ACTS) - verbs)


def _assessments(cast, actor) -> dict:
    """For an act with the assessor's right: no assessment, one ``actor`` assesses, and
    one they do not (each of a different service: a service has one open assessment)."""
    someone_else = cast.outsider if actor != cast.outsider else cast.team_member
    # nobody assesses a service they run: the assessor's own assessment is of the other one
    theirs, not_theirs = ((cast.other_service, cast.service) if actor in (cast.manager, cast.team_member)
                          else (cast.service, cast.other_service))
    return {
        "no assessment": None,
        "theirs": scheduled(cast, theirs, assessors=[actor]),
        "not theirs": scheduled(cast, not_theirs, assessors=[someone_else]),
    }


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("role", ROLES)
def test_can_agrees_with_authorise(cast, act, role):
    actor = cast.by_role()[role]
    objects = _assessments(cast, actor) if ASSESSOR in ACTS[act].rights else {"no assessment": None}
    for obj_is, obj in objects.items():
        for on in (None, cast.service, cast.other_service):
            for subject_is in SUBJECTS:
                subject = {"nobody": None, "themselves": actor, "someone else": cast.outsider if role != "outsider"
                           else cast.team_member}[subject_is]
                where = (on, subject_is, obj_is)
                try:
                    authorise(actor, act, service=on, subject=subject, obj=obj)
                    allowed = True
                except NotAllowed as refused:
                    allowed = False
                    assert refusal(actor, act, service=on, subject=subject, obj=obj) == refused.message, where
                assert can(actor, act, service=on, subject=subject, obj=obj) is allowed, where
                if allowed:
                    assert refusal(actor, act, service=on, subject=subject, obj=obj) is None, where
                if obj_is == "theirs":
                    assert allowed, f"an assessor may {act} on their own assessment {where}"


@pytest.mark.parametrize("act", sorted(ACTS))
def test_nobody_signed_in_may_do_anything(db, act):
    assert can(None, act) is False
    with pytest.raises(NotAllowed, match="sign in"):
        authorise(None, act)


@pytest.mark.parametrize("act", sorted(ACTS))
def test_someone_who_left_may_do_nothing(cast, act):
    Person.objects.filter(pk=cast.manager.pk).update(is_active=False)
    cast.manager.refresh_from_db()
    assert can(cast.manager, act, service=cast.service, subject=cast.manager) is False
    with pytest.raises(NotAllowed):
        authorise(cast.manager, act, service=cast.service, subject=cast.manager)


def test_by_default_the_executive_keeps_replacing_a_manager_to_itself(cast):
    assert "replace_manager" in Organisation.current().reserved_acts
    assert can(cast.executive, "replace_manager", service=cast.service)
    assert not can(cast.exec_team, "replace_manager", service=cast.service)
    with pytest.raises(NotAllowed, match="keeps the right"):
        actions.appoint_manager(actor=cast.exec_team, service=cast.service, person=cast.outsider, reason="Rotation.")


def test_once_the_executive_no_longer_reserves_it_its_team_may_replace_a_manager(cast):
    # no action changes reserved_acts yet: set it directly
    org = Organisation.current()
    Organisation.objects.filter(pk=org.pk).update(
        reserved_acts=[a for a in org.reserved_acts if a != "replace_manager"])
    before = AuditEvent.objects.count()
    appointment = actions.appoint_manager(actor=cast.exec_team, service=cast.service, person=cast.outsider,
                                          reason="Max moves to the payments service.")
    cast.service.refresh_from_db()
    assert cast.service.manager == cast.outsider == appointment.person
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.verb, event.actor, event.authority, event.authority_person) == (
        "replace_manager", cast.exec_team, "executive", cast.executive)
    assert event.reason == "Max moves to the payments service."


def test_an_act_the_executive_reserves_is_refused_to_its_team_with_a_sentence(cast):
    org = Organisation.current()
    Organisation.objects.filter(pk=org.pk).update(reserved_acts=[*org.reserved_acts, "create_person"])
    before = (Person.objects.count(), AuditEvent.objects.count())
    with pytest.raises(NotAllowed) as refused:
        core_actions.create_person(actor=cast.exec_team, email="new@example.org", name="New Person")
    message = refused.value.message
    assert message.startswith("The Executive keeps the right to") and message.endswith(".")
    assert "Executive team members may not do it" in message
    assert (Person.objects.count(), AuditEvent.objects.count()) == before
    # the executive itself still may
    core_actions.create_person(actor=cast.executive, email="new@example.org", name="New Person")


def test_reserving_an_act_does_not_touch_the_managers_own_right(cast):
    """Only what the executive team does in the executive's name is reserved; a manager
    drafting their own contract is not affected."""
    org = Organisation.current()
    Organisation.objects.filter(pk=org.pk).update(reserved_acts=[*org.reserved_acts, "draft_contract_version"])
    assert can(cast.manager, "draft_contract_version", service=cast.service)
    assert can(cast.executive, "draft_contract_version", service=cast.service)
    assert not can(cast.exec_team, "draft_contract_version", service=cast.service)


def test_the_refusals_use_the_organisations_own_names(cast):
    core_actions.edit_terminology(actor=cast.executive, values={"executive_name": "Board",
                                                                "executive_team_name": "Board office",
                                                                "service_manager_name": "Product owner"})
    assert refusal(cast.outsider, "approve_contract_version", service=cast.service) == (
        "Only the Board may approve a contract version.")
    assert "product owner of Parking permits" in refusal(cast.outsider, "submit_contract_version", service=cast.service)
    assert refusal(cast.exec_team, "replace_manager", service=cast.service).startswith("The Board keeps the right")


def test_within_a_request_the_team_is_read_once_and_again_after_a_write(cast, django_assert_num_queries):
    """A page asks several acts of the team's right of one service (recording its
    transactions, saving its map): whether the viewer is in the team is read once per
    request, and read again once the request has written anything."""
    from django.http import HttpResponse
    from django.test import RequestFactory

    from osom.core.orgcache import OrganisationPerRequest
    from osom.network.models import ProfessionalRole

    seen = {}

    def page(request):
        first = can(cast.outsider, "record_transactions", service=cast.service)  # reads the organisation and the team
        with django_assert_num_queries(0):
            seen["before"] = (first, can(cast.outsider, "save_service_map", service=cast.service))
        actions.add_team_member(actor=cast.manager, service=cast.service, person=cast.outsider,
                                role=ProfessionalRole.objects.get(name="User researcher"), level="senior")
        with django_assert_num_queries(1):
            seen["after"] = (can(cast.outsider, "record_transactions", service=cast.service),
                             can(cast.outsider, "save_service_map", service=cast.service))
        return HttpResponse("")

    OrganisationPerRequest(page)(RequestFactory().get("/"))
    assert seen == {"before": (False, False), "after": (True, True)}
    # outside a request every check reads afresh
    with django_assert_num_queries(2):
        assert can(cast.outsider, "save_service_map", service=cast.service)
