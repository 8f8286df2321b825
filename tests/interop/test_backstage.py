"""Bringing a Backstage catalogue in, and writing the network back out as one.

The descriptors under ``backstage_examples/`` are a council's catalogue: every kind the
import maps, files of several documents, a Location that follows relative files (and one
address it does not follow), and two files whose Locations point at each other. Problems
are written here, in small files whose lines are known, so that each error's file and
line can be asserted exactly.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from osom.cli import main
from osom.core import actions as core_actions
from osom.core.actions import create_person
from osom.core.errors import InvalidInput, NotAllowed
from osom.core.models import AuditEvent, Organisation, Person
from osom.core.policy import ACTS
from osom.interop import backstage
from osom.network import actions as network_actions
from osom.network.models import Appointment, ContractVersion, Dependency, ProfessionalRole, Service, TeamMembership

from .. import factories
from ..lifecycle.helpers import decommissioned
from ..lifecycle.test_permissions import Row
from ..network import test_permissions as network
from ..network.test_permissions import assert_refusal_is_a_sentence_naming_who_may

EXAMPLES = Path(__file__).parent / "backstage_examples"
COUNCIL = EXAMPLES / "council"
LOOPING = EXAMPLES / "looping"


def imported(actor, path=COUNCIL, *, dry_run=False, progress=None):
    return backstage.import_catalogue(actor=actor, path=path, dry_run=dry_run, progress=progress)


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in
            (Service, ContractVersion, Dependency, Appointment, TeamMembership, Person, AuditEvent)}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def current_providers(service: Service) -> set[str]:
    return set(Dependency.objects.filter(version=service.current_version).values_list("provider__name", flat=True))


def not_mapped(report) -> dict[str, str]:
    return dict(report.not_mapped)


# --- the council's catalogue ---------------------------------------------------------------------

def test_the_council_catalogue_becomes_services_people_and_dependencies(cast):
    progress = []
    people_added_before = AuditEvent.objects.filter(verb="create_person").count()
    report = imported(cast.executive, progress=lambda done, total, what="": progress.append((done, total)))

    assert dict(report.created) == {"services": 5, "people": 6, "dependencies": 4, "managers appointed": 5,
                                    "team members": 3}
    services = {s.name: s for s in Service.objects.filter(adopted=True).exclude(pk__in=[cast.service.pk,
                                                                                        cast.other_service.pk])}
    assert {name: s.lifecycle_stage for name, s in services.items()} == {
        "Permit portal": "live",  # production
        "Permit rules engine": "alpha",  # experimental
        "Permits database": "live",  # a Resource is running
        "Payment gateway": "live",
        "Cheque processing": "live",  # deprecated: live, flagged
    }
    assert {name: s.manager.email for name, s in services.items()} == {
        "Permit portal": "rosa.quint@example.org",  # first member of the owning Group
        "Permit rules engine": "dev.osei@example.org",  # the owning User, email in lower case
        "Permits database": "kai.larsen@example.org",  # Group with no members listed: memberOf counts
        "Payment gateway": "kai.larsen@example.org",
        "Cheque processing": "kai.larsen@example.org",
    }
    assert services["Permits database"].evolution_stage == "commodity"
    assert services["Permit portal"].user_type == "external"  # a website
    assert services["Payment gateway"].user_type == "internal"
    # dependsOn, through an API, and to a service already in the network
    assert current_providers(services["Permit portal"]) == {"Permits database", "Identity", "Payment gateway"}
    assert current_providers(services["Permit rules engine"]) == {"Permits database"}
    assert current_providers(services["Payment gateway"]) == set()
    # every contract is approved, written at the real stage; the deprecated one is flagged
    cheques = services["Cheque processing"]
    assert cheques.current_version.status == "approved"
    assert cheques.is_flagged_for_decommissioning and cheques.decommission_flag == backstage.FLAGGED_REASON
    assert cheques.decommission_flagged_by == cast.executive and cheques.decommission_flagged_at is not None
    assert [s.name for s in services.values() if s.decommission_flag] == ["Cheque processing"]
    assert services["Permit portal"].current_version.purpose.startswith("The website where residents apply")
    assert "Service status" in services["Permit portal"].current_version.support
    # people come in without a usable password; the executive already there is not created twice
    rosa = Person.objects.get(email="rosa.quint@example.org")
    assert rosa.name == "Rosa Quint" and not rosa.has_usable_password() and rosa.role == "member"
    assert Person.objects.get(email="ines.marr@example.org").name == "Inès Marr"
    assert Person.objects.filter(email="ada@example.org").count() == 1
    assert not Person.objects.filter(name__startswith="Sam").exists()
    # the members of a Group that owns a service, but its manager, are in its team, in the
    # role and level their User's annotations give; a member whose User gives no role is not
    teams = set(TeamMembership.objects.filter(service__in=services.values()).values_list(
        "service__name", "person__email", "role__name", "level", "added_by__email"))
    assert teams == {
        ("Permit portal", "dev.osei@example.org", "Software developer", "senior", "ada@example.org"),
        ("Payment gateway", "lena.fischer@example.org", "Infrastructure engineer", "lead", "ada@example.org"),
        ("Permits database", "lena.fischer@example.org", "Infrastructure engineer", "lead", "ada@example.org"),
    }
    assert not TeamMembership.objects.filter(person__email="omar.haddad@example.org").exists()
    # every write through the actions, audited; one more event for the import itself
    assert AuditEvent.objects.filter(verb="adopt_existing_service").count() == 5
    assert not AuditEvent.objects.filter(verb="add_team_member").exclude(service=cast.service).exists()
    adopted = AuditEvent.objects.get(verb="adopt_existing_service", service=services["Payment gateway"])
    assert adopted.after["team"] == [{"person": "lena.fischer@example.org", "role": "Infrastructure engineer",
                                      "level": "lead"}]
    assert AuditEvent.objects.get(verb="adopt_existing_service", service=cheques).after["decommission_flag"] == (
        backstage.FLAGGED_REASON)
    assert AuditEvent.objects.filter(verb="create_person").count() == people_added_before + 6
    event = AuditEvent.objects.get(verb="import_catalogue")
    assert event.actor == cast.executive and event.authority == "executive"
    assert event.after["created"] == {"services": 5, "people": 6, "dependencies": 4, "managers appointed": 5,
                                      "team members": 3}
    assert "org/people.yaml" in event.after["files"]
    assert progress[-1] == (12, 12)  # seven people (one already there) and five services


def test_the_report_says_what_was_mapped_and_what_was_not_and_why(cast):
    report = imported(cast.executive)
    mapped = "\n".join(report.mapped)
    assert "Location harbour-council-catalogue (catalog-info.yaml:2) → followed 4 files" in mapped
    assert ("Component cheque-processing (systems/payments.yaml:34) → service “Cheque processing”, adopted at live "
            "and flagged for decommissioning") in mapped
    assert ("Component permit-portal (systems/permits.yaml:10) → service “Permit portal”, adopted at live, managed by "
            "Rosa Quint (the first member of its owner, Group permits-team, who is a person)") in mapped
    assert "API payments-api (systems/payments.yaml:21) → Permit portal consumes it from payment-gateway" in mapped
    assert "Permit portal depends on Payment gateway (through the API payments-api)" in mapped
    assert "Permit portal depends on Identity (dependsOn in the Backstage catalogue)" in mapped
    assert "User ada.lovelace (org/people.yaml:81) → Ada Lovelace <ada@example.org>, already in the organisation" in mapped
    assert "Group permits-team (org/people.yaml:2) → owner of Permit portal" in mapped
    assert "Dev Osei joined Permit portal's team as senior software developer, member of Group permits-team" in mapped
    assert ("Lena Fischer joined Payment gateway's team as lead infrastructure engineer, member of Group "
            "platform-team") in mapped
    assert ("Lena Fischer joined Permits database's team as lead infrastructure engineer, member of Group "
            "platform-team") in mapped
    assert "Rosa Quint joined" not in mapped  # she manages it

    skipped = not_mapped(report)
    assert skipped["User sam.contractor (org/people.yaml:92)"].startswith("no email address (spec.profile.email)")
    assert skipped["Component identity (systems/payments.yaml:53)"].startswith("already in the network, as Identity")
    assert skipped["API permit-status-api (systems/permits.yaml:45)"] == (
        "nothing in the catalogue consumes it, so it links no services")
    assert skipped["Template new-council-service (systems/payments.yaml:46)"].startswith("OSOM has nothing a Template")
    assert skipped["systems/payments-openapi.yaml:1"] == "not a catalogue entity: it has neither apiVersion nor kind"
    assert "only relative files are followed" in next(
        why for what, why in report.not_mapped if what.startswith("Location harbour-council-catalogue target https://"))
    assert skipped["System parking (systems/permits.yaml:1)"] == (
        "a grouping: OSOM has nothing above the service; what it groups (permit-portal, permit-rules, "
        "permit-status-api, permits-db) was brought in one by one")
    assert "(parking)" in skipped["Domain resident-services (catalog-info.yaml:14)"]
    assert skipped["Group platform-team's member Omar Haddad (org/people.yaml:115)"] == (
        "not added to the team of Payment gateway, Permits database: their User has no annotation osom/role giving "
        "their role, and no --team-role was given for such members")
    assert skipped["Group design-guild's members (Inès Marr)"] == (
        "the Group owns no service brought in; its people were brought in")
    assert any("placeholder need" in w for w in report.warnings)

    lines = report.lines()
    assert lines[0] == "Import from Backstage catalogue council"
    assert lines[1] == "Created: 4 dependencies, 5 managers appointed, 6 people, 5 services, 3 team members"


def test_a_catalogue_read_from_its_location_file_is_the_same_as_read_from_its_folder(cast):
    report = imported(cast.executive, COUNCIL / "catalog-info.yaml", dry_run=True)
    assert dict(report.created) == {"services": 5, "people": 6, "dependencies": 4, "managers appointed": 5,
                                    "team members": 3}


def test_locations_that_point_at_each_other_are_read_once_and_the_cycle_is_reported(cast):
    report = imported(cast.executive, LOOPING / "catalog-info.yaml")
    assert dict(report.created) == {"services": 2, "people": 1, "dependencies": 1, "managers appointed": 2}
    assert not_mapped(report)["Location at lamps.yaml:18"] == (
        "the Locations form a cycle (catalog-info.yaml → lamps.yaml → catalog-info.yaml); each file was read once")
    assert current_providers(Service.objects.get(name="Street light fault reporting")) == {"Lamp inventory"}


def test_dependencies_that_form_a_cycle_put_the_closing_link_in_a_draft(cast, tmp_path):
    write(tmp_path, "ring.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: rates, title: Council tax rates}
        spec: {type: service, lifecycle: production, owner: user:ada, dependsOn: [component:valuations]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: valuations, title: Property valuations}
        spec: {type: service, lifecycle: production, owner: user:ada, dependsOn: [component:rates]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: ada}
        spec: {profile: {email: ada@example.org}}
        """)
    report = imported(cast.executive, tmp_path)
    rates, valuations = Service.objects.get(name="Council tax rates"), Service.objects.get(name="Property valuations")
    # one link is in an approved contract, the other waits in a draft for its manager
    assert current_providers(rates) == {"Property valuations"}
    assert current_providers(valuations) == set()
    draft = valuations.versions.get(status="draft")
    assert set(draft.dependencies.values_list("provider__name", flat=True)) == {"Council tax rates"}
    assert report.created["dependencies"] == 2
    assert any("closes a cycle" in w and "draft version 2" in w for w in report.warnings)


def test_owners_that_cannot_manage_are_said_so(cast, tmp_path):
    write(tmp_path, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: libraries}
        spec: {type: service, lifecycle: production, owner: group:nobody-here}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: museums}
        spec: {type: service, lifecycle: production, owner: user:pat}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: archives}
        spec: {type: service, lifecycle: production, owner: empty-team}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: empty-team}
        spec: {type: team, children: [], members: [pat]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: pat}
        spec: {profile: {displayName: Pat}}
        """)
    report = imported(cast.executive, tmp_path)
    assert Service.objects.filter(name__in=["libraries", "museums", "archives"], manager__isnull=True).count() == 3
    skipped = not_mapped(report)
    assert "that Group is not in the catalogue" in skipped["Component libraries's owner group:default/nobody-here"]
    assert skipped["Component museums's owner user:default/pat"] == (
        "User pat has no email address, so the service has no manager yet")
    assert "none of that Group's members is a person" in skipped["Component archives's owner group:default/empty-team"]


# --- teams: the members of a Group that owns a service ---------------------------------------------

def team_of(name: str) -> set[tuple[str, str, str]]:
    return set(TeamMembership.objects.filter(service__name=name, ended_at__isnull=True).values_list(
        "person__email", "role__name", "level"))


def test_the_team_options_place_members_whose_user_gives_no_role(cast):
    report = backstage.import_catalogue(actor=cast.executive, path=COUNCIL, team_role="software DEVELOPER",
                                        team_level="Junior")
    assert report.created["team members"] == 5
    # Omar's User says nothing: the options; Lena's says both; Dev's says both, so the level option is not his
    assert team_of("Payment gateway") == {("lena.fischer@example.org", "Infrastructure engineer", "lead"),
                                          ("omar.haddad@example.org", "Software developer", "junior")}
    assert team_of("Permits database") == team_of("Payment gateway")
    assert team_of("Permit portal") == {("dev.osei@example.org", "Software developer", "senior")}
    mapped = "\n".join(report.mapped)
    assert ("Omar Haddad joined Payment gateway's team as junior software developer, member of Group platform-team "
            "(the role given by --team-role)") in mapped
    assert not any(what.startswith("Group platform-team's member") for what, _ in report.not_mapped)


def test_a_member_whose_user_gives_a_role_but_no_level_is_a_practitioner(cast, tmp_path):
    write(tmp_path, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: libraries, title: Library loans}
        spec: {type: service, lifecycle: production, owner: group:books}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: books}
        spec: {type: team, children: [], members: [pat, lee]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: pat}
        spec: {profile: {email: pat@example.org}}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: lee
          annotations: {osom/role: Content designer}
        spec: {profile: {email: lee@example.org}}
        """)
    report = imported(cast.executive, tmp_path)
    assert Service.objects.get(name="Library loans").manager.email == "pat@example.org"
    assert team_of("Library loans") == {("lee@example.org", "Content designer", "practitioner")}
    assert "lee joined Library loans's team as practitioner content designer, member of Group books" in report.mapped


def test_a_member_who_has_left_the_organisation_joins_no_team(cast, tmp_path):
    gone = create_person(actor=cast.executive, email="jo.gone@example.org", name="Jo Gone")
    Person.objects.filter(pk=gone.pk).update(is_active=False)
    write(tmp_path, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: museums, title: Museum tickets}
        spec: {type: service, lifecycle: production, owner: group:culture}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: culture}
        spec: {type: team, children: [], members: [kim, jo]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata: {name: kim}
        spec: {profile: {email: kim@example.org}}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: jo
          annotations: {osom/role: Service designer, osom/level: senior}
        spec: {profile: {email: jo.gone@example.org}}
        """)
    report = imported(cast.executive, tmp_path)
    assert team_of("Museum tickets") == set()
    assert not_mapped(report)["Group culture's member Jo Gone (catalog-info.yaml:16)"] == (
        "they have left the organisation, so they join no team (Museum tickets)")
    assert "team members" not in report.created


def test_an_unknown_role_or_level_in_an_annotation_is_an_error_at_its_line(cast, tmp_path):
    write(tmp_path, "people.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: pat
          annotations:
            osom/role: Wizard
            osom/level: grand master
        spec: {profile: {email: pat@example.org}}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: libraries}
        spec: {type: service, lifecycle: production, owner: user:pat}
        """)
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert refused.value.errors == {
        "people.yaml:6": ["“Wizard” is not a role of the professional framework: use a role's name, such as Software "
                          "developer or User researcher (GET /api/v1/roles lists them)."],
        "people.yaml:7": ["“grand master” is not a level: use one of trainee, associate, junior, practitioner, senior, "
                          "lead, principal, head."],
    }
    assert counts() == before


@pytest.mark.parametrize("options,field", [({"team_role": "Wizard"}, "team_role"),
                                           ({"team_level": "grand master"}, "team_level")])
def test_an_unknown_team_role_or_level_option_is_refused_naming_it(cast, options, field):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        backstage.import_catalogue(actor=cast.executive, path=COUNCIL, **options)
    assert refused.value.field == field and "is not a" in refused.value.message
    assert counts() == before


def test_adopting_with_a_team_and_a_flag_writes_both_in_the_one_event(cast):
    role = ProfessionalRole.objects.get(name="Content designer")
    service = network_actions.adopt_existing_service(
        actor=cast.exec_team, content=factories.contract("Libraries"), lifecycle_stage="live", manager=cast.manager,
        team=[(cast.outsider, role, "senior"), (cast.team_member, role, "junior")],
        decommission_flag="  The county runs it now.  ")
    assert team_of("Libraries") == {("ola@example.org", "Content designer", "senior"),
                                    ("tia@example.org", "Content designer", "junior")}
    assert set(service.team.values_list("added_by", flat=True)) == {cast.exec_team.pk}
    assert service.decommission_flag == "The county runs it now." and service.decommission_flagged_by == cast.exec_team
    event = AuditEvent.objects.get(service=service)  # the only one
    assert event.verb == "adopt_existing_service" and event.authority_person == cast.executive
    assert event.after["team"] == [{"person": "ola@example.org", "role": "Content designer", "level": "senior"},
                                   {"person": "tia@example.org", "role": "Content designer", "level": "junior"}]
    assert event.after["decommission_flag"] == "The county runs it now."
    assert "with a team of 2, flagged for decommissioning" in event.summary


def test_adopting_with_a_bad_team_names_the_team_and_writes_nothing(cast):
    role = ProfessionalRole.objects.get(name="Content designer")
    gone = create_person(actor=cast.executive, email="jo.gone@example.org", name="Jo Gone")
    Person.objects.filter(pk=gone.pk).update(is_active=False)
    gone.refresh_from_db()
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        network_actions.adopt_existing_service(
            actor=cast.executive, content=factories.contract("Libraries"), lifecycle_stage="live",
            manager=cast.manager, team=[
                (gone, role, "senior"), (cast.outsider, None, "senior"), (cast.team_member, role, "wizard"),
                (cast.outsider, role, "junior"), (cast.manager, role, "lead")])
    assert refused.value.field == "team"
    assert refused.value.errors == {"team": [
        "Jo Gone has left the organisation and cannot join the team.",
        "Give Ola Outsider's role from the professional framework.",
        "“wizard” is not a level, for Tia Team: use one of trainee, associate, junior, practitioner, senior, lead, "
        "principal, head.",
        "Ola Outsider is named twice in the team.",
        "Max Manager is appointed to manage the service, so is not also in its team.",
    ]}
    assert counts() == before


# --- nothing half done ---------------------------------------------------------------------------

def test_an_import_that_fails_half_way_writes_nothing(cast, monkeypatch):
    before = counts()
    adopt = network_actions.adopt_existing_service
    calls = []

    def failing_on_the_last(**kwargs):
        calls.append(kwargs["content"]["name"])
        if len(calls) == 5:
            raise RuntimeError("the disk filled up")
        return adopt(**kwargs)

    monkeypatch.setattr(network_actions, "adopt_existing_service", failing_on_the_last)
    with pytest.raises(RuntimeError):
        imported(cast.executive)
    assert len(calls) == 5
    assert counts() == before


def test_a_rule_an_action_enforces_half_way_is_reported_at_the_entity_and_writes_nothing(cast, monkeypatch):
    before = counts()
    create = core_actions.create_person

    def refusing_kai(**kwargs):
        if kwargs["email"] == "kai.larsen@example.org":
            raise InvalidInput("That address is reserved for the mail server.", field="email")
        return create(**kwargs)

    monkeypatch.setattr(core_actions, "create_person", refusing_kai)
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive)
    # the email of kai.larsen's entry, which the action refused
    assert refused.value.errors == {"org/people.yaml:68": ["That address is reserved for the mail server."]}
    assert counts() == before


def test_a_refusal_by_one_of_the_actions_half_way_writes_nothing(cast):
    before = counts()
    cast_org = Organisation.current()
    cast_org.reserved_acts = [*cast_org.reserved_acts, "adopt_existing_service"]
    cast_org.save()
    with pytest.raises(NotAllowed) as refused:
        imported(cast.exec_team)
    assert "keeps the right to adopt an existing service" in refused.value.message
    assert counts() == before


def test_a_dry_run_writes_nothing_and_says_what_it_would_create(cast):
    before = counts()
    report = imported(cast.executive, dry_run=True)
    assert counts() == before
    assert report.dry_run and dict(report.created) == {"services": 5, "people": 6, "dependencies": 4,
                                                       "managers appointed": 5, "team members": 3}
    assert report.lines()[:2] == ["Import from Backstage catalogue council (dry run: nothing was written)",
                                  "Would create: 4 dependencies, 5 managers appointed, 6 people, 5 services, "
                                  "3 team members"]


# --- bad input: every error names its file and line ---------------------------------------------

def bad_catalogue(folder: Path) -> Path:
    write(folder, "broken.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: street-cleaning
          tags: [unclosed
        """)
    write(folder, "components.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: bins
        spec:
          type: service
          owner: user:lee
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: recycling
        spec:
          type: service
          lifecycle: sunset
          owner: user:lee
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: recycling
        spec: {type: service, lifecycle: production, owner: lee}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: bulky-waste
          annotations:
            osom/lifecycle-stage: nearly-live
        spec:
          type: service
          lifecycle: production
          owner: user:lee
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: garden-waste
        spec:
          type: service
          lifecycle: production
          owner: user:lee
          dependsOn:
            - component:default/too/many
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: food-waste, title: Food waste collection}
        spec: {type: service, lifecycle: production, owner: user:lee}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: kitchen-caddies
          title: Food waste collection
        spec: {type: service, lifecycle: production, owner: user:lee}
        """)
    write(folder, "people.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: User
        metadata:
          name: lee
        spec:
          profile:
            email: not-an-address
        """)
    write(folder, "places.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata:
          name: elsewhere
        spec:
          targets:
            - ./missing.yaml
        ---
        kind: Component
        metadata:
          name: no-api-version
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Resource
        metadata:
          name: Not A Name
        spec: {type: database, owner: lee}
        """)
    return folder


def test_every_problem_is_reported_at_once_with_its_file_and_line_and_nothing_is_written(cast, tmp_path):
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, bad_catalogue(tmp_path))
    errors = refused.value.errors
    assert sorted(errors) == sorted([
        "broken.yaml:5",  # the unclosed list: the line where YAML gave up
        "components.yaml:5",  # no spec.lifecycle
        "components.yaml:15",  # a lifecycle OSOM cannot map
        "components.yaml:18",  # recycling described twice
        "components.yaml:29",  # a stage that does not exist
        "components.yaml:44",  # a malformed reference
        "components.yaml:55",  # two entities become the service “Food waste collection”
        "people.yaml:7",  # not an email address
        "places.yaml:7",  # a Location target that is not there
        "places.yaml:9",  # no apiVersion
        "places.yaml:16",  # not a Backstage name
    ]), errors
    assert "not valid YAML" in errors["broken.yaml:5"][0]
    assert "spec.lifecycle" in errors["components.yaml:5"][0]
    assert "“sunset” is not a lifecycle" in errors["components.yaml:15"][0]
    assert "first at components.yaml:9" in errors["components.yaml:18"][0]
    assert "“nearly-live” is not a stage" in errors["components.yaml:29"][0]
    assert "is not an entity reference" in errors["components.yaml:44"][0]
    assert errors["components.yaml:55"] == ["Another entity becomes a service called “Food waste collection”: "
                                            "Component food-waste at components.yaml:46."]
    assert "is not an email address" in errors["people.yaml:7"][0]
    assert "./missing.yaml, which does not exist" in errors["places.yaml:7"][0]
    assert "apiVersion" in errors["places.yaml:9"][0]
    assert "is not a Backstage name" in errors["places.yaml:16"][0]
    for messages in errors.values():
        for message in messages:
            assert message[:1].isupper() or message[:1] in "“.", message
            assert message.rstrip().endswith("."), message
    assert counts() == before


def test_a_name_the_network_already_checks_is_refused_at_its_line(cast, tmp_path):
    write(tmp_path, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: waste
          title: %s
        spec: {type: service, lifecycle: production, owner: user:ada}
        """ % ("W" * 151))
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert list(refused.value.errors) == ["catalog-info.yaml:5"]  # the title, which names the service
    assert "keep it to 150" in refused.value.errors["catalog-info.yaml:5"][0]


def test_a_folder_without_entities_is_refused(cast, tmp_path):
    write(tmp_path, "notes.yaml", "owner: nobody\n")
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert refused.value.field == "path" and "no Backstage entity" in refused.value.message


def test_entity_references_take_the_defaults_backstage_gives_them():
    assert backstage.parse_ref("payments", default_kind="component") == "component:default/payments"
    assert backstage.parse_ref("Group:Ops/Platform-Team", default_kind="user") == "group:ops/platform-team"
    assert backstage.parse_ref("team-a", default_kind="group", default_namespace="city") == "group:city/team-a"
    for bad in ("", "component:", "a/b/c", None, ["x"]):
        with pytest.raises(ValueError):
            backstage.parse_ref(bad, default_kind="component")


# --- who may import ------------------------------------------------------------------------------

def _import(c):
    return lambda actor: imported(actor, LOOPING / "catalog-info.yaml")


# THE table: who may bring a catalogue in (model 5.2: establishing and adopting services is the
# executive's; so is adding people to the organisation).
MATRIX: dict[str, Row] = {
    "import_catalogue": Row("import_catalogue", "import_catalogue", _import, network.EXECUTIVE_ONLY, ("executive",)),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in network.ROLES]


def test_the_matrix_covers_the_import_act_of_the_policy():
    assert "import_catalogue" in ACTS
    assert {row.verb for row in MATRIX.values()} == {"import_catalogue"}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_importing(cast, act, role):
    row = MATRIX[act]
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = network.snapshot()
    before_ids = {e["id"] for e in before["core.AuditEvent"]}
    if role in row.allowed:
        report = do(actor)
        assert report.created["services"] == 2
        events = AuditEvent.objects.exclude(pk__in=before_ids)
        the_import = events.get(verb="import_catalogue")
        assert the_import.actor == actor and the_import.authority == row.allowed[role]
        if role == "exec_team":
            assert the_import.authority_person == cast.executive
        # each write is audited as itself, by the same person
        assert sorted(events.exclude(pk=the_import.pk).values_list("verb", flat=True)) == [
            "adopt_existing_service", "adopt_existing_service", "create_person"]
        assert set(events.values_list("actor", flat=True)) == {actor.pk}
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
        assert network.snapshot() == before, "a refused import writes nothing, not even an audit event"


# --- the command line ----------------------------------------------------------------------------

def test_the_command_prints_the_report_and_exits_0(cast, capsys):
    code = main(["import", "--from", "backstage", str(COUNCIL), "--as", cast.executive.email])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Created: 4 dependencies, 5 managers appointed, 6 people, 5 services, 3 team members" in out
    assert "User sam.contractor (org/people.yaml:92): no email address" in out
    assert Service.objects.filter(name="Permit portal").exists()


def test_the_command_dry_run_writes_nothing(cast, capsys):
    before = counts()
    assert main(["import", "--from", "backstage", str(LOOPING), "--as", cast.executive.email, "--dry-run"]) == 0
    assert "dry run: nothing was written" in capsys.readouterr().out
    assert counts() == before


def test_the_command_exits_2_on_bad_input_naming_each_file_and_line(cast, capsys, tmp_path):
    before = counts()
    code = main(["import", "--from", "backstage", str(bad_catalogue(tmp_path)), "--as", cast.executive.email])
    err = capsys.readouterr().err
    assert code == 2
    assert "people.yaml:7: “not-an-address” is not an email address." in err
    assert "places.yaml:7:" in err and "components.yaml:15:" in err
    assert counts() == before


def test_the_command_refuses_who_may_not_import(cast, capsys):
    assert main(["import", "--from", "backstage", str(COUNCIL), "--as", cast.manager.email]) == 2
    assert "Only the Executive" in capsys.readouterr().err


def test_the_command_takes_the_team_options(cast, capsys):
    code = main(["import", "--from", "backstage", str(COUNCIL), "--as", cast.executive.email,
                 "--team-role", "Software developer", "--team-level", "associate"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "5 team members" in out
    assert ("Omar Haddad joined Permits database's team as associate software developer, member of Group "
            "platform-team (the role given by --team-role)") in out


def test_the_command_exits_2_on_an_unknown_team_role_or_a_team_option_for_another_format(cast, capsys):
    before = counts()
    assert main(["import", "--from", "backstage", str(COUNCIL), "--as", cast.executive.email,
                 "--team-role", "Wizard"]) == 2
    assert "“Wizard” is not a role of the professional framework" in capsys.readouterr().err
    assert main(["import", "--from", "csv", str(COUNCIL), "--as", cast.executive.email, "--team-level", "lead"]) == 2
    assert "--team-role and --team-level are for --from backstage" in capsys.readouterr().err
    assert counts() == before


# --- export, and back again ----------------------------------------------------------------------

def test_export_writes_a_component_per_service_users_and_a_location(cast, tmp_path):
    gone = decommissioned(cast)
    written = backstage.export_catalogue(path=tmp_path)
    assert written == Service.objects.count() + 2
    location = yaml.safe_load((tmp_path / "catalog-info.yaml").read_text())
    assert location["kind"] == "Location"
    assert "./users.yaml" in location["spec"]["targets"] and "./components/parking-permits.yaml" in location["spec"]["targets"]
    permits = yaml.safe_load((tmp_path / "components/parking-permits.yaml").read_text())
    assert permits["metadata"]["title"] == "Parking permits"
    assert permits["metadata"]["annotations"] == {"osom/lifecycle-stage": "discovery", "osom/evolution-stage": "custom",
                                                  "osom/user-type": "external"}
    assert permits["spec"] == {"type": "service", "lifecycle": "experimental", "owner": "user:default/max",
                               "dependsOn": ["component:default/identity"]}
    old = yaml.safe_load((tmp_path / f"components/{gone.slug}.yaml").read_text())
    assert old["spec"]["lifecycle"] == "deprecated"
    assert old["metadata"]["annotations"]["osom/lifecycle-stage"] == "decommissioned"
    users = list(yaml.safe_load_all((tmp_path / "users.yaml").read_text()))
    assert {u["spec"]["profile"]["email"] for u in users if u["kind"] == "User"} == set(
        Person.objects.filter(is_active=True).values_list("email", flat=True))
    # a decommissioned service is not adopted back: only running services are
    report = imported(cast.executive, tmp_path, dry_run=True)
    assert "it is decommissioned" in not_mapped(report)[f"Component {gone.slug} (components/{gone.slug}.yaml:2)"]


def test_a_flagged_service_is_exported_deprecated_with_its_reason_and_exact_stage(cast, tmp_path):
    network_actions.flag_for_decommissioning(actor=cast.manager, service=cast.service, reason="Permits went digital.")
    backstage.export_catalogue(path=tmp_path)
    permits = yaml.safe_load((tmp_path / "components/parking-permits.yaml").read_text())
    assert permits["spec"]["lifecycle"] == "deprecated"
    assert permits["metadata"]["annotations"] == {
        "osom/lifecycle-stage": "discovery", "osom/evolution-stage": "custom", "osom/user-type": "external",
        "osom/decommission-reason": "Permits went digital."}
    identity = yaml.safe_load((tmp_path / "components/identity.yaml").read_text())
    assert identity["spec"]["lifecycle"] == "experimental" and "osom/decommission-reason" not in (
        identity["metadata"]["annotations"])


def test_a_person_in_exactly_one_team_is_exported_with_their_role_and_level(cast, tmp_path):
    role = ProfessionalRole.objects.get(name="Content designer")
    network_actions.add_team_member(actor=cast.other_manager, service=cast.other_service, person=cast.outsider,
                                    role=role, level="junior")
    network_actions.add_team_member(actor=cast.manager, service=cast.service, person=cast.outsider, role=role,
                                    level="lead")
    backstage.export_catalogue(path=tmp_path)
    users = {u["spec"]["profile"]["email"]: u["metadata"] for u in
             yaml.safe_load_all((tmp_path / "users.yaml").read_text()) if u["kind"] == "User"}
    assert users["tia@example.org"]["annotations"] == {"osom/role": "User researcher", "osom/level": "senior"}
    assert "annotations" not in users["ola@example.org"]  # in two teams: which role would it be?
    assert "annotations" not in users["max@example.org"]  # a manager, in no team
    # the annotations written are ones an import reads without error
    report = imported(cast.executive, tmp_path, dry_run=True)
    assert "User tia (users.yaml:" in "\n".join(report.mapped)


def test_export_reads_the_same_number_of_queries_whatever_the_size(cast, tmp_path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            backstage.export_catalogue(path=tmp_path)
        return len(seen)

    small = queries()
    for i in range(4):
        factories.service(cast.executive, f"Extra {i}", manager=cast.manager, dependencies=["identity"])
    assert queries() == small


def test_the_cli_exports(cast, capsys, tmp_path):
    assert main(["export", "--to", "backstage", str(tmp_path / "out")]) == 0
    assert "Wrote 4 files" in capsys.readouterr().out
    assert (tmp_path / "out/components/identity.yaml").is_file()


def test_importing_an_export_into_an_empty_organisation_gives_back_the_same_network(db, tmp_path):
    executive = create_person(actor=None, email="chief@example.org", name="Chief Executive", role="executive",
                              password="a-long-test-password")
    Organisation.current()

    def network_now() -> dict:
        return {s.name: (s.lifecycle_stage, s.evolution_stage, s.user_type, s.manager.email if s.manager else None,
                         current_providers(s), s.decommission_flag) for s in Service.objects.select_related("manager")}

    with transaction.atomic():
        # a network built and exported, then taken away again: the organisation is empty once more
        mo = create_person(actor=executive, email="mo.ade@example.org", name="Mo Ade")
        jo = create_person(actor=executive, email="jo.bell@example.org", name="Jo Bell")
        factories.service(executive, "Hosting", manager=jo, stage="live", user_type="internal",
                          evolution_stage="commodity")
        factories.service(executive, "Identity", manager=jo, stage="beta", user_type="internal",
                          dependencies=["hosting"])
        factories.service(executive, "Housing repairs", manager=mo, stage="alpha", dependencies=["identity", "hosting"])
        factories.service(executive, "Noise complaints", stage="discovery", user_type="both",
                          evolution_stage="genesis", dependencies=["identity"])
        chiefs = factories.service(executive, "Chief's own service", manager=executive, stage="live")
        network_actions.flag_for_decommissioning(actor=executive, service=chiefs, reason="Nobody has used it in a year.")
        repairs = Service.objects.get(name="Housing repairs")
        network_actions.flag_for_decommissioning(actor=mo, service=repairs, reason="The housing association does it.")
        expected = network_now()
        backstage.export_catalogue(path=tmp_path)
        transaction.set_rollback(True)
    assert Service.objects.count() == 0 and Person.objects.count() == 1

    report = imported(executive, tmp_path)
    assert network_now() == expected
    assert expected["Noise complaints"][3] is None  # no manager, and none invented
    # the flags come back, with their reasons, at the exact stage the annotation keeps
    assert expected["Chief's own service"][5] == "Nobody has used it in a year."
    assert expected["Housing repairs"][0] == "alpha" and expected["Housing repairs"][5]
    assert Service.objects.get(name="Housing repairs").decommission_flagged_by == executive
    assert report.created["services"] == 5 and report.created["people"] == 2
    assert "User chief (users.yaml:" in "\n".join(report.mapped)


# --- nothing outside the folder, and nothing that outgrows its file --------------------------------

def component(name: str, title: str) -> str:
    return f"""
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {{name: {name}, title: {title}}}
        spec: {{type: service, lifecycle: production, owner: group:nobody-here}}
        """


def outside_and_inside(tmp_path: Path) -> tuple[Path, Path]:
    """A catalogue folder, and beside it a folder with a descriptor the catalogue must not reach."""
    outside = tmp_path / "outside"
    write(outside, "x.yaml", component("secret", "Secret service"))
    folder = tmp_path / "catalogue"
    write(folder, "components/bins.yaml", component("bins", "Bin collection"))
    return folder, outside


def test_the_file_outside_the_folder_would_be_imported_if_it_were_the_folder(cast, tmp_path):
    _, outside = outside_and_inside(tmp_path)
    report = imported(cast.executive, outside, dry_run=True)
    assert report.created["services"] == 1  # so the tests below are refusing something real


def test_a_location_target_outside_the_folder_is_not_read(cast, tmp_path):
    folder, _ = outside_and_inside(tmp_path)
    write(folder, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: everything}
        spec:
          targets:
            - ./components/bins.yaml
            - ../outside/x.yaml
            - components/../../outside/x.yaml
        """)
    report = imported(cast.executive, folder)
    assert Service.objects.filter(name="Bin collection").exists()
    assert not Service.objects.filter(name="Secret service").exists()
    skipped = not_mapped(report)
    for target, line in (("../outside/x.yaml", 7), ("components/../../outside/x.yaml", 8)):
        assert skipped[f"Location everything target {target} (catalog-info.yaml:{line})"].startswith(
            "outside the folder being imported, so it was not read")
    assert AuditEvent.objects.get(verb="import_catalogue").after["files"] == ["catalog-info.yaml",
                                                                              "components/bins.yaml"]
    # read from the Location file itself, the folder being imported is the file's folder
    assert not imported(cast.executive, folder / "catalog-info.yaml", dry_run=True).created.get("services")


def test_a_location_glob_reaching_outside_the_folder_is_not_followed(cast, tmp_path):
    folder, outside = outside_and_inside(tmp_path)
    write(folder, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: everything}
        spec:
          targets:
            - ../../**/*.yaml
            - ../outside/*.yaml
            - ./*/../../outside/*.yaml
            - ./links/*.yaml
        """)
    (folder / "links").mkdir()
    (folder / "links" / "sneaky.yaml").symlink_to(outside / "x.yaml")  # a match that leads out
    report = imported(cast.executive, folder)
    assert not Service.objects.filter(name="Secret service").exists()
    assert Service.objects.filter(name="Bin collection").exists()  # read from the folder itself
    skipped = not_mapped(report)
    why = "outside the folder being imported, so it was not read: only files inside that folder are followed"
    assert skipped["Location everything target ../../**/*.yaml (catalog-info.yaml:6)"] == why
    assert skipped["Location everything target ../outside/*.yaml (catalog-info.yaml:7)"] == why
    assert skipped["Location everything target ./*/../../outside/*.yaml (catalog-info.yaml:8)"] == why
    assert skipped["Location everything target ./links/*.yaml (catalog-info.yaml:9), file links/sneaky.yaml"] == why
    assert "x.yaml" not in " ".join(AuditEvent.objects.get(verb="import_catalogue").after["files"])


def test_a_symbolic_link_inside_the_folder_to_a_file_outside_it_is_not_read(cast, tmp_path):
    folder, outside = outside_and_inside(tmp_path)
    (folder / "linked.yaml").symlink_to(outside / "x.yaml")
    (folder / "linked-folder").symlink_to(outside, target_is_directory=True)
    (folder / "components" / "again.yaml").symlink_to(folder / "components" / "bins.yaml")  # inside: harmless
    report = imported(cast.executive, folder)
    assert not Service.objects.filter(name="Secret service").exists()
    assert Service.objects.filter(name="Bin collection").count() == 1
    assert not_mapped(report)["linked.yaml"].startswith("a symbolic link to a file outside the folder being imported")
    assert AuditEvent.objects.get(verb="import_catalogue").after["files"] == ["components/bins.yaml"]


def laughs(levels: int = 9) -> str:
    """The billion laughs: nine lines of aliases that, expanded, are 10⁹ strings."""
    lines = ["apiVersion: backstage.io/v1alpha1", "kind: Component", "metadata:", "  name: laughs",
             '  l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    lines.append(f"  description: *l{levels}")
    lines.append("spec: {type: service, lifecycle: production, owner: group:nobody-here}")
    return "\n".join(lines) + "\n"


def test_yaml_anchors_and_aliases_are_refused_before_anything_is_built(cast, tmp_path):
    write(tmp_path, "bins.yaml", component("bins", "Bin collection"))
    (tmp_path / "laughs.yaml").write_text(laughs(), encoding="utf-8")
    assert (tmp_path / "laughs.yaml").stat().st_size < 1500
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    errors = refused.value.errors
    assert list(errors) == ["laughs.yaml:5"]  # the first anchor, &l0
    assert errors["laughs.yaml:5"][0].startswith("YAML anchors and aliases are not read, and this is the anchor &l0")
    assert counts() == before


@pytest.mark.parametrize("text,where,what", [
    ("base: &base {type: service}\n", "refs.yaml:1", "the anchor &base"),
    ("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec:\n  <<: *base\n",
     "refs.yaml:5", "the alias *base"),
])
def test_any_anchor_or_alias_is_refused_at_its_line(cast, tmp_path, text, where, what):
    (tmp_path / "refs.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert list(refused.value.errors) == [where]
    assert what in refused.value.errors[where][0]


def test_a_mapping_or_a_list_where_text_is_expected_is_an_error_naming_the_field(cast, tmp_path):
    write(tmp_path, "catalog-info.yaml", """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: bins
          title: {nested: [a, b, c]}
          annotations:
            osom/lifecycle-stage: [live, beta]
        spec:
          type: service
          lifecycle: production
          owner: [user:ada, user:lee]
        ---
        apiVersion: {version: 1}
        kind: Component
        metadata: {name: cans}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: elsewhere}
        spec:
          targets:
            - ./catalog-info.yaml
            - {path: ../outside/x.yaml}
        """)
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert refused.value.errors == {
        "catalog-info.yaml:5": ["The field metadata.title is text, such as a name or a sentence, not a mapping."],
        "catalog-info.yaml:7": ["The field metadata.annotations.osom/lifecycle-stage is text, such as a name or a "
                                "sentence, not a list."],
        "catalog-info.yaml:11": ["The field spec.owner is text, such as a name or a sentence, not a list."],
        "catalog-info.yaml:13": ["The field apiVersion is text, such as a name or a sentence, not a mapping."],
        "catalog-info.yaml:23": ["The field spec.targets[1] is text, such as a name or a sentence, not a mapping."],
    }
    assert counts() == before


def test_text_is_read_only_from_a_scalar():
    assert backstage._text(None) == "" and backstage._text(" x ") == "x" and backstage._text(3) == "3"
    with pytest.raises(ValueError, match="The field spec.owner is text"):
        backstage._text(["a"] * 3, "spec.owner")


def test_a_file_larger_than_the_limit_is_refused_unread(cast, tmp_path):
    write(tmp_path, "bins.yaml", component("bins", "Bin collection"))
    padding = "# " + "x" * 98 + "\n"
    (tmp_path / "huge.yaml").write_text(component("huge", "Huge") + padding * (backstage.MAX_FILE_BYTES // 100 + 1),
                                        encoding="utf-8")
    assert backstage.MAX_FILE_BYTES == 1024 * 1024
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert refused.value.errors == {"huge.yaml:1": ["This file is larger than 1 MB, far more than a catalogue "
                                                    "descriptor needs, so it was not read."]}
    assert counts() == before


def test_more_files_than_the_limit_are_refused(cast, tmp_path, monkeypatch):
    monkeypatch.setattr(backstage, "MAX_FILES", 2)
    for name in ("a", "b", "c", "d"):
        write(tmp_path, f"{name}.yaml", component(name, name.upper()))
    with pytest.raises(InvalidInput) as refused:
        imported(cast.executive, tmp_path)
    assert list(refused.value.errors) == ["c.yaml:1"]
    assert "an import reads at most 2 files" in refused.value.errors["c.yaml:1"][0]
    assert not Service.objects.filter(name__in=["A", "B", "C", "D"]).exists()
