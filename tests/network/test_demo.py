"""The demo organisation: rich enough to explore, loaded through the actions, safe to repeat."""

from __future__ import annotations

import re

import networkx as nx
import pytest
import yaml
from django.db.models import Count, F, Q
from django.urls import reverse

from osom.core.actions import create_person
from osom.core.errors import InvalidInput
from osom.core.models import AuditEvent, Organisation, Person, Role
from osom.network import queries
from osom.network.demo import DATA_FILE, DEMO_PASSWORD, DemoDataError, dependency_order, load_demo, read_demo_data
from osom.network.models import Appointment, ContractVersion, Dependency, Metric, Need, Service, TeamMembership
from osom.network.stages import Evolution, Lifecycle, MetricKind, UserType, VersionStatus


@pytest.fixture
def demo(db):
    return load_demo()


def _current(model):
    return model.objects.filter(version__service__current_version=F("version"))


def _counts() -> dict[str, int]:
    return {
        "people": Person.objects.count(),
        "services": Service.objects.count(),
        "versions": ContractVersion.objects.count(),
        "needs": Need.objects.count(),
        "metrics": Metric.objects.count(),
        "dependencies": Dependency.objects.count(),
        "appointments": Appointment.objects.count(),
        "memberships": TeamMembership.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_the_demo_is_a_rich_network(demo):
    services = Service.objects.all()
    assert services.count() >= 25
    stages = set(services.values_list("lifecycle_stage", flat=True))
    assert stages == {Lifecycle.DISCOVERY, Lifecycle.ALPHA, Lifecycle.BETA, Lifecycle.LIVE}
    assert services.filter(lifecycle_stage=Lifecycle.LIVE).count() > services.count() / 2  # most are live
    assert set(services.values_list("evolution_stage", flat=True)) == set(Evolution.values)
    assert set(services.values_list("user_type", flat=True)) == set(UserType.values)
    # discovery services were established; the others adopted at their real stage
    assert not services.filter(lifecycle_stage=Lifecycle.DISCOVERY, adopted=True).exists()
    assert not services.exclude(lifecycle_stage=Lifecycle.DISCOVERY).filter(adopted=False).exists()
    assert not services.filter(manager__isnull=True).exists()

    needs = _current(Need)
    assert needs.count() >= 60
    assert not needs.annotate(n=Count("metrics")).filter(n=0).exists(), "every need has a metric"
    metric_kinds = set(_current(Metric).values_list("kind", flat=True))
    assert metric_kinds == set(MetricKind.values)
    assert _current(Metric).filter(kind=MetricKind.COST, version__service__user_type=UserType.INTERNAL).exists()
    assert _current(Metric).filter(kind=MetricKind.CONSUMPTION, version__service__user_type=UserType.INTERNAL).exists()

    edges = queries.current_edges()
    assert len(edges) >= 40
    graph = nx.DiGraph(edges)
    assert nx.is_directed_acyclic_graph(graph)
    hubs = [pk for pk, consumers in graph.in_degree() if consumers >= 6]
    assert len(hubs) >= 3, "a few shared services are consumed by many"


def test_the_demo_has_people_in_every_role(demo):
    assert Person.objects.filter(role=Role.EXECUTIVE).count() == 1
    team = Person.objects.filter(role=Role.EXECUTIVE_TEAM)
    assert team.count() >= 2 and all(p.interests() for p in team)
    managers = Person.objects.filter(managed_services__isnull=False).distinct()
    assert managers.count() >= 8
    assert managers.annotate(n=Count("managed_services")).filter(n__gt=1).exists(), "someone manages several"
    members = Person.objects.filter(memberships__isnull=False).distinct()
    assert members.count() >= 5
    ordinary = Person.objects.filter(role=Role.MEMBER, managed_services__isnull=True, memberships__isnull=True)
    assert ordinary.count() >= 2
    assert Organisation.current().name == "Northbridge City Council"


def test_the_demo_has_a_history_worth_exploring(demo):
    by_service = ContractVersion.objects.values("service").annotate(n=Count("id"))
    assert sum(1 for row in by_service if row["n"] >= 2) >= 3
    assert any(row["n"] >= 3 for row in by_service)
    revisions = ContractVersion.objects.filter(number__gt=1, is_alteration=False, status=VersionStatus.APPROVED)
    assert revisions.exists() and all(v.change_note for v in revisions)
    # approved on the executive's authority by a member of its team, too
    assert revisions.filter(approved_by__role=Role.EXECUTIVE_TEAM).exists()
    alteration = ContractVersion.objects.get(is_alteration=True)
    assert alteration.alteration_reason and alteration.alteration_risk and alteration.is_approved
    assert ContractVersion.objects.filter(status=VersionStatus.SUBMITTED).count() == 1
    assert ContractVersion.objects.filter(status=VersionStatus.DRAFT).count() == 1
    ended = Appointment.objects.filter(ended_at__isnull=False)
    assert ended.count() == 1
    replacement = Appointment.objects.get(service=ended.get().service, ended_at__isnull=True)
    assert replacement.reason and replacement.person != ended.get().person


def test_the_summary_and_sign_ins_come_from_the_database(demo):
    numbers = [int(n) for n in re.findall(r"\d+", demo.summary)]
    assert demo.summary.startswith("Demo organisation ready: ")
    assert numbers == [
        Service.objects.count(), _current(Need).count(), _current(Dependency).count(), Person.objects.count(),
    ]
    assert demo.created
    assert len(demo.sign_ins) == 5
    for line, role in zip(demo.sign_ins, ["executive", "executive team", "service manager", "team member", "member"]):
        assert line.startswith(role)
        email = line[len(role):].split()[0]
        assert Person.objects.filter(email=email).exists(), line
    assert "ada.okafor@northbridge.example (Ada Okafor, Chief Executive)" in demo.sign_ins[0]


def test_loading_twice_changes_nothing(demo):
    before = _counts()
    again = load_demo()
    assert _counts() == before
    assert again.summary == demo.summary and again.sign_ins == demo.sign_ins
    assert not again.created


def test_every_write_was_made_through_an_audited_action(demo):
    verbs = dict(AuditEvent.objects.values_list("verb").annotate(n=Count("id")))
    assert AuditEvent.objects.count() > Service.objects.count()
    assert verbs["create_person"] == Person.objects.count()
    assert verbs.get("establish_service", 0) + verbs["adopt_existing_service"] == Service.objects.count()
    assert verbs["add_team_member"] == TeamMembership.objects.count()
    assert verbs["replace_manager"] == Appointment.objects.filter(ended_at__isnull=False).count()
    later = ContractVersion.objects.filter(number__gt=1)
    assert verbs["alter_contract"] == later.filter(is_alteration=True).count()
    assert verbs["draft_contract_version"] == later.filter(is_alteration=False).count()
    assert verbs["approve_contract_version"] == later.filter(is_alteration=False, status=VersionStatus.APPROVED).count()
    assert verbs["submit_contract_version"] == later.filter(is_alteration=False).exclude(status=VersionStatus.DRAFT).count()
    assert verbs["edit_terminology"] == 1
    assert not AuditEvent.objects.filter(Q(actor__isnull=True) | Q(actor_label="system")).exists()
    # the executive team acted in the executive's name
    assert AuditEvent.objects.filter(actor__role=Role.EXECUTIVE_TEAM, authority_person__role=Role.EXECUTIVE).exists()


def test_a_demo_person_can_sign_in(demo, client):
    assert client.login(email="hannah.osei@northbridge.example", password=DEMO_PASSWORD)
    assert client.get(reverse("network:list")).status_code == 200


def test_every_demo_service_page_renders(demo, client):
    client.force_login(Person.objects.get(email="sam.whitaker@northbridge.example"))
    body = client.get(reverse("network:list"), {"per_page": 100}).content.decode()
    assert "Northbridge City Council" in body
    for service in Service.objects.all():
        response = client.get(reverse("network:service", args=[service.slug]))
        assert response.status_code == 200, service.name
    for version in ContractVersion.objects.filter(number__gt=1).select_related("service"):
        response = client.get(reverse("network:version", args=[version.service.slug, version.number]))
        assert response.status_code == 200, str(version)


def test_the_demo_is_never_mixed_into_another_organisation(db):
    create_person(actor=None, email="boss@elsewhere.example", name="Someone Else", role="executive")
    with pytest.raises(InvalidInput):
        load_demo()
    assert Person.objects.count() == 1 and not Service.objects.exists()


def test_a_failure_leaves_nothing_half_loaded(db, tmp_path):
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    last = list(data["services"])[-1]
    data["services"][last]["needs"][0]["so_that"] = ""  # breaks the last service written
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_demo(path=broken)
    assert not Person.objects.exists() and not Service.objects.exists() and not AuditEvent.objects.exists()


def test_services_are_created_providers_first():
    services = read_demo_data()["services"]
    order = dependency_order(services)
    assert sorted(order) == sorted(services)
    position = {name: i for i, name in enumerate(order)}
    for name, spec in services.items():
        for dep in spec.get("dependencies") or []:
            assert position[dep["service"]] < position[name]
    with pytest.raises(DemoDataError):
        dependency_order({"A": {"dependencies": [{"service": "B"}]}, "B": {"dependencies": [{"service": "A"}]}})
    with pytest.raises(DemoDataError):
        dependency_order({"A": {"dependencies": [{"service": "Nowhere"}]}})
