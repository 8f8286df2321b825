"""Communities of practice (model 8): formed and joined by anyone, led by a member,
endorsed by the executive once they can advise on evaluating their practitioners, making
open roles visible to them, escalating evaluation disputes; and the coverage of the
professions in service teams by endorsed communities."""

from __future__ import annotations

import datetime as dt

import pytest

from osom.core.errors import Conflict, InvalidInput, NotAllowed
from osom.core.models import Notification
from osom.governance import actions as governance
from osom.governance.models import Dispute
from osom.learning import communities, queries
from osom.learning.models import Community, CommunityMembership
from osom.network.actions import add_team_member

from .. import factories
from ..lifecycle.helpers import DECOMMISSION, published
from .test_permissions import (
    PROFESSION,
    TODAY,
    endorsed,
    evaluation_guidance,
    formed,
    posted_role,
    role_named,
    world,
)


@pytest.fixture
def w(cast):
    return world(cast)


def _members(community):
    return set(CommunityMembership.objects.filter(community=community, left_at__isnull=True)
               .values_list("person__email", flat=True))


def _told(text):
    return set(Notification.objects.filter(text__contains=text).values_list("person__email", flat=True))


def test_the_professions_are_the_job_families_of_the_framework(db):
    assert {"User-centred design", "Software development", "Data", "Architecture"} <= set(communities.professions())
    assert communities.professions() == sorted(communities.professions())


def test_anyone_forms_a_community_and_leads_it_as_its_first_member(w):
    community = communities.form_community(actor=w.outsider, name="  Content   design ", profession=PROFESSION,
                                           purpose="Plain English everywhere.")
    assert (community.name, community.lead, community.formed_by, community.status) == (
        "Content design", w.outsider, w.outsider, "forming")
    assert _members(community) == {w.outsider.email}


def test_a_name_is_taken_once_whatever_its_case(w):
    formed(w)
    with pytest.raises(InvalidInput) as refused:
        communities.form_community(actor=w.outsider, name="user RESEARCH", profession="Data", purpose="Another.")
    assert refused.value.field == "name"
    assert Community.objects.count() == 1


def test_people_join_and_leave_and_join_again(w):
    community = formed(w)
    communities.join_community(actor=w.team_member, community=community)
    communities.join_community(actor=w.owner, community=community)
    assert _members(community) == {w.lead.email, w.team_member.email, w.owner.email}
    with pytest.raises(Conflict):
        communities.join_community(actor=w.owner, community=community)
    left = communities.leave_community(actor=w.owner, community=community)
    assert left.left_at is not None
    assert _members(community) == {w.lead.email, w.team_member.email}
    communities.join_community(actor=w.owner, community=community)
    assert _members(community) == {w.lead.email, w.team_member.email, w.owner.email}
    assert CommunityMembership.objects.filter(community=community, person=w.owner).count() == 2, "the history stays"


def test_nobody_joins_or_leaves_in_someone_elses_name(w):
    community = formed(w)
    with pytest.raises(NotAllowed):
        communities.join_community(actor=w.lead, community=community, person=w.owner)
    communities.join_community(actor=w.owner, community=community)
    with pytest.raises(NotAllowed):
        communities.leave_community(actor=w.lead, community=community, person=w.owner)
    assert w.owner.email in _members(community)


def test_the_lead_hands_over_to_a_member_before_leaving(w):
    community = formed(w)
    with pytest.raises(Conflict) as refused:
        communities.leave_community(actor=w.lead, community=community)
    assert refused.value.field == "lead"
    with pytest.raises(InvalidInput) as not_member:
        communities.edit_community(actor=w.lead, community=community, name=community.name, purpose=community.purpose,
                                   lead=w.owner)
    assert not_member.value.field == "lead"
    communities.join_community(actor=w.owner, community=community)
    handed = communities.edit_community(actor=w.lead, community=community, name=community.name,
                                        purpose=community.purpose, lead=w.owner)
    assert handed.lead == w.owner
    assert _told("You now lead") == {w.owner.email}
    communities.leave_community(actor=w.lead, community=community)
    assert _members(community) == {w.owner.email}


def test_only_the_lead_changes_the_community(w):
    community = formed(w)
    communities.join_community(actor=w.owner, community=community)
    for person in (w.owner, w.executive, w.outsider):
        with pytest.raises(NotAllowed):
            communities.edit_community(actor=person, community=community, name="Taken over", purpose="Ours.")
    changed = communities.edit_community(actor=w.lead, community=community, name="User research guild",
                                         purpose="Researchers learn together.", expected_revision=community.revision)
    assert (changed.name, changed.purpose, changed.revision) == ("User research guild", "Researchers learn together.",
                                                                 2)
    changed = communities.edit_community(actor=w.lead, community=community, name=changed.name,
                                         purpose=changed.purpose, lead=w.owner)
    with pytest.raises(NotAllowed):
        communities.edit_community(actor=w.lead, community=community, name="Back", purpose="Mine again.")


# --- endorsement --------------------------------------------------------------------------------

def test_endorsement_needs_published_guidance_on_evaluating_practitioners(w):
    community = formed(w)
    evaluation_guidance(community, kind="practice")
    with pytest.raises(Conflict):
        communities.endorse_community(actor=w.executive, community=community)
    evaluation_guidance(community, kind="evaluation")
    communities.join_community(actor=w.owner, community=community)
    Notification.objects.all().delete()
    done = communities.endorse_community(actor=w.exec_team, community=community)
    assert (done.status, done.endorsed_on, done.endorsed_by) == ("endorsed", TODAY, w.exec_team)
    assert _told("is endorsed") == {w.lead.email, w.owner.email}


def test_an_endorsement_records_the_day_it_was_given(w):
    community = formed(w)
    evaluation_guidance(community)
    given = TODAY - dt.timedelta(days=10)
    done = communities.endorse_community(actor=w.executive, community=community, on=given.isoformat())
    done.refresh_from_db()
    assert done.endorsed_on == given


def test_withdrawing_an_endorsement_needs_a_reason_and_tells_the_lead(w):
    community = endorsed(w)
    with pytest.raises(InvalidInput):
        communities.withdraw_endorsement(actor=w.executive, community=community, reason="")
    Notification.objects.all().delete()
    withdrawn = communities.withdraw_endorsement(actor=w.executive, community=community,
                                                 reason="It has not met for a year.")
    assert (withdrawn.status, withdrawn.endorsed_on, withdrawn.endorsed_by) == ("forming", None, None)
    assert _told("withdrew its endorsement") == {w.lead.email}


def test_the_lead_publishes_and_withdraws_guidance_for_the_profession(w):
    community = formed(w)
    communities.join_community(actor=w.team_member, community=community)
    item = communities.publish_community_guidance(actor=w.lead, community=community, kind="practice",
                                                  title="Consent forms", body="Use the shared consent form.")
    assert (item.kind, item.published_by, item.withdrawn_at) == ("practice", w.lead, None)
    assert _told("published guidance") == {w.team_member.email}, "the members, not the lead who wrote it"
    with pytest.raises(NotAllowed):
        communities.withdraw_community_guidance(actor=w.team_member, guidance=item)
    assert communities.withdraw_community_guidance(actor=w.lead, guidance=item).withdrawn_at is not None


# --- disputes -------------------------------------------------------------------------------------

def test_an_escalated_dispute_goes_to_the_executive_linked_to_the_community(w):
    community = formed(w)
    dispute = communities.escalate_evaluation_dispute(
        actor=w.lead, community=community, subject="A researcher's evaluation",
        description="The manager and the researcher disagree on the level; we could not settle it.")
    dispute = Dispute.objects.get(pk=dispute.pk)
    assert (dispute.kind, dispute.status, dispute.community, dispute.raised_by) == (
        "evaluation", "open", community, w.lead)
    assert list(community.disputes.all()) == [dispute]
    assert _told("escalated a dispute") == {w.executive.email}
    resolved = governance.resolve_dispute(actor=w.executive, dispute=dispute, lever="none",
                                          resolution="The researcher is evaluated against the community's guidance.")
    assert resolved.status == "resolved"


# --- open roles -----------------------------------------------------------------------------------

def test_an_open_role_is_shown_to_the_members_of_communities_of_its_profession(w):
    design = formed(w)  # user-centred design, led by Lee
    communities.join_community(actor=w.owner, community=design)
    communities.join_community(actor=w.outsider, community=design)
    communities.leave_community(actor=w.outsider, community=design)
    other = formed(w, lead=w.other_manager, name="Developers", profession="Software development")
    communities.join_community(actor=w.exec_team, community=other)
    Notification.objects.all().delete()
    opening = posted_role(w, role="Content designer")
    assert (opening.status, opening.role.name, opening.level, opening.posted_by) == (
        "open", "Content designer", "senior", w.manager)
    assert _told("Open role in Parking permits") == {w.lead.email, w.owner.email}


def test_a_person_sees_the_open_roles_of_their_professions(w):
    formed(w, lead=w.outsider)  # the outsider practises user-centred design through a community
    design_role = posted_role(w, role="Content designer")
    dev_role = posted_role(w, w.other_service, role="Software developer")
    closed = posted_role(w, role="Interaction designer")
    communities.close_open_role(actor=w.manager, opening=closed, filled=True)
    assert queries.open_roles_for(w.outsider) == [design_role]
    assert queries.open_roles_for(w.team_member) == [design_role], "a user researcher in a service team"
    assert queries.open_roles_for(w.owner) == []
    add_team_member(actor=w.other_manager, service=w.other_service, person=w.owner,
                    role=role_named("Frontend developer"), level="junior")
    assert queries.open_roles_for(w.owner) == [dev_role]


def test_a_role_is_closed_as_filled_or_withdrawn_once(w):
    filled, withdrawn = posted_role(w), posted_role(w, role="Service designer")
    assert communities.close_open_role(actor=w.manager, opening=filled, filled=True).status == "filled"
    assert communities.close_open_role(actor=w.manager, opening=withdrawn, filled=False).status == "withdrawn"
    with pytest.raises(Conflict):
        communities.close_open_role(actor=w.manager, opening=filled, filled=False)
    with pytest.raises(NotAllowed):
        communities.close_open_role(actor=w.other_manager, opening=withdrawn, filled=True)


# --- coverage ---------------------------------------------------------------------------------------

def test_coverage_shows_each_profession_in_the_teams_against_its_communities(w):
    add_team_member(actor=w.other_manager, service=w.other_service, person=w.owner,
                    role=role_named("Software developer"), level="senior")
    add_team_member(actor=w.other_manager, service=w.other_service, person=w.outsider,
                    role=role_named("Data analyst"), level="junior")
    add_team_member(actor=w.other_manager, service=w.other_service, person=w.lead,
                    role=role_named("Content designer"), level="senior")
    endorsed(w)  # user-centred design
    formed(w, lead=w.owner, name="Developers", profession="Software development")
    formed(w, lead=w.outsider, name="Architects", profession="Architecture")  # nobody in a team is one
    rows = queries.coverage()
    assert [(r["profession"], r["state"]) for r in rows] == [
        ("Data", "none"), ("Software development", "forming"), ("User-centred design", "endorsed")]
    design = rows[2]
    assert (design["people"], design["services"]) == (2, 2)
    assert [c.name for c in design["communities"]] == ["User research"]
    assert rows[0]["communities"] == []


def test_a_profession_is_covered_once_any_of_its_communities_is_endorsed(w):
    formed(w, lead=w.outsider, name="Researchers")
    assert [r["state"] for r in queries.coverage()] == ["forming"]
    endorsed(w)
    row = queries.coverage()[0]
    assert row["state"] == "endorsed" and {c.name for c in row["communities"]} == {"Researchers", "User research"}


def test_a_decommissioned_service_no_longer_counts_for_coverage_nor_shows_its_open_roles(w):
    gone = factories.service(w.executive, "Old payments", manager=w.manager)
    add_team_member(actor=w.manager, service=gone, person=w.owner, role=role_named("Data analyst"), level="senior")
    formed(w, lead=w.outsider, name="Analysts", profession="Data")
    opening = posted_role(w, gone, role="Data engineer")
    assert "Data" in {r["profession"] for r in queries.coverage()}
    assert queries.open_roles_for(w.outsider) == [opening]
    published(w, gone, outcome="not_required", **DECOMMISSION)
    assert "Data" not in {r["profession"] for r in queries.coverage()}
    assert queries.open_roles_for(w.outsider) == []
