"""The network's pages: what they show, who may act on them, and what they cost."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.core.actions import edit_terminology
from osom.core.models import AuditEvent
from osom.network import actions
from osom.network.models import Appointment, ContractVersion, Need, Service

from .. import factories


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(executive, count: int, *, consuming: Service | None = None) -> None:
    start = Service.objects.count()
    for i in range(count):
        factories.service(executive, f"Grown service {start + i:04d}",
                          dependencies=[consuming.slug] if consuming else [])


def test_network_list_shows_every_service_with_its_manager_and_links(cast, client):
    client.force_login(cast.outsider)
    response = client.get(reverse("network:list"))
    body = response.content.decode()
    assert "Parking permits" in body and "Identity" in body
    assert cast.manager.name in body
    # Identity is consumed by Parking permits: the list counts it.
    identity = next(s for s in response.context["page"].object_list if s.name == "Identity")
    assert identity.consumed_by_count == 1 and identity.consumes_count == 0


def test_network_list_filters_by_stage_evolution_users_manager_and_search(cast, client):
    factories.service(cast.executive, "Street lighting repairs", stage="live", evolution_stage="commodity", user_type="both")
    client.force_login(cast.outsider)

    def names(**params):
        response = client.get(reverse("network:list"), params)
        return {s.name for s in response.context["page"].object_list}

    assert names(stage="live") == {"Street lighting repairs"}
    assert names(evolution="product") == {"Identity"}
    assert names(users="internal") == {"Identity", "Street lighting repairs"}
    assert names(manager=str(cast.manager.pk)) == {"Parking permits"}
    assert names(manager="none") == {"Street lighting repairs"}
    assert names(q="parking") == {"Parking permits"}


def test_with_more_managers_than_a_list_can_hold_the_manager_is_named_by_email(cast, client, monkeypatch):
    from osom.network import views

    monkeypatch.setattr(views, "MANAGER_CHOICES", 1)  # the cast has two managers
    client.force_login(cast.outsider)
    response = client.get(reverse("network:list"), {"manager": cast.manager.email.upper()})
    body = response.content.decode()
    assert 'name="manager"' in body and "<select name=\"manager\"" not in body
    assert {s.name for s in response.context["page"].object_list} == {"Parking permits"}
    listed = client.get(reverse("network:list"), {"manager": "none"}).context["page"].object_list
    assert all(s.manager_id is None for s in listed)
    monkeypatch.setattr(views, "MANAGER_CHOICES", 300)
    body = client.get(reverse("network:list")).content.decode()
    assert 'select name="manager"' in body and f'value="{cast.manager.pk}"' in body
    # a manager of two services is one choice; as many managers as the list holds are all listed, by name
    factories.service(cast.executive, "Parking fines", manager=cast.manager)
    monkeypatch.setattr(views, "MANAGER_CHOICES", 2)
    form = client.get(reverse("network:list")).context["form"]
    people = [label for value, label in form.fields["manager"].choices if value not in ("", "none")]
    assert people == sorted([cast.manager.name, cast.other_manager.name])


def test_network_list_answers_htmx_with_the_results_fragment(cast, client):
    client.force_login(cast.outsider)
    response = client.get(reverse("network:list"), {"q": "ident"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="network-results")
    body = response.content.decode()
    assert "<html" not in body and "Identity" in body


def test_network_list_query_count_does_not_grow_with_the_number_of_services(cast, client):
    client.force_login(cast.outsider)
    _grow(cast.executive, 8)
    small = _queries(client, reverse("network:list"))
    _grow(cast.executive, 190)
    assert Service.objects.count() >= 200
    assert _queries(client, reverse("network:list")) == small


def test_service_page_query_count_does_not_grow_with_its_consumers(cast, client):
    client.force_login(cast.outsider)
    hub = cast.other_service
    _grow(cast.executive, 9, consuming=hub)
    url = reverse("network:service", args=[hub.slug])
    small = _queries(client, url)
    _grow(cast.executive, 190, consuming=hub)
    response = client.get(url)
    # the page names the first consumers and counts them all (the rest are on their own page)
    assert response.context["consumers_total"] == 200 and len(response.context["consumers"]) == 20
    assert _queries(client, url) == small


def test_service_page_shows_contract_needs_links_manager_and_versions(cast, client):
    client.force_login(cast.outsider)
    body = client.get(reverse("network:service", args=[cast.service.slug])).content.decode()
    assert "Parking permits need 1" in body  # a need
    assert "Parking permits outcome 1" in body  # its metric
    assert "Identity" in body  # what it consumes
    assert cast.manager.name in body and cast.team_member.name in body
    assert "Version 1" in body


def test_terminology_is_used_on_the_network_pages(cast, client):
    edit_terminology(actor=cast.executive, values={"service_manager_name": "Product owner", "executive_name": "Board"})
    client.force_login(cast.executive)
    for url in (reverse("network:list"), reverse("network:service", args=[cast.service.slug])):
        body = client.get(url).content.decode()
        assert "Product owner" in body
        assert "Service manager" not in body


def test_an_outsider_cannot_open_the_wizard_or_alter_a_contract(cast, client):
    client.force_login(cast.outsider)
    for url in (reverse("network:establish_step", args=["name"]), reverse("network:alter", args=[cast.service.slug])):
        response = client.get(url)
        assert response.status_code == 403
        assert "Only the Executive" in response.content.decode()


def test_a_manager_cannot_approve_their_own_version(cast, client):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service)
    actions.submit_contract_version(actor=cast.manager, version=draft)
    client.force_login(cast.manager)
    events = AuditEvent.objects.count()
    response = client.post(reverse("network:approve", args=[cast.service.slug, draft.number]))
    assert response.status_code == 403
    assert "Only the Executive may approve" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "submitted" and AuditEvent.objects.count() == events


def test_editing_a_draft_with_bad_input_names_the_field_and_writes_nothing(cast, client):
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service)
    client.force_login(cast.manager)
    url = reverse("network:edit_draft", args=[cast.service.slug, draft.number])
    form = client.get(url).context["form"]
    data = {
        "name": "Parking permits", "user_type": "external", "evolution_stage": "custom", "purpose": "Permits.",
        "revision": form.initial["revision"], "change_note": "",
        "needs-TOTAL_FORMS": "1", "needs-INITIAL_FORMS": "1",
        "needs-0-as_a": "driver", "needs-0-i_need": "a permit", "needs-0-so_that": "", "needs-0-metrics": "No such metric",
        "metrics-TOTAL_FORMS": "1", "metrics-INITIAL_FORMS": "1",
        "metrics-0-name": "Permits issued", "metrics-0-unit": "", "metrics-0-direction": "higher", "metrics-0-kind": "outcome",
        "deps-TOTAL_FORMS": "0", "deps-INITIAL_FORMS": "0",
    }
    needs_before, events_before = Need.objects.count(), AuditEvent.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert response.context["needs"].forms[0].errors["so_that"]
    assert response.context["metrics"].forms[0].errors["unit"]
    assert Need.objects.count() == needs_before and AuditEvent.objects.count() == events_before

    # Once the form itself is valid, the action's own rules name the field: an unknown metric.
    data["needs-0-so_that"] = "I can park near home"
    data["metrics-0-unit"] = "count"
    response = client.post(url, data)
    assert "is not one of this contract&#x27;s metrics" in response.content.decode()
    assert response.context["needs"].forms[0].errors["metrics"]
    assert Need.objects.count() == needs_before and AuditEvent.objects.count() == events_before


def test_replacing_a_manager_without_a_reason_is_refused_on_the_page(cast, client):
    client.force_login(cast.executive)
    url = reverse("network:appoint", args=[cast.service.slug])
    before = Appointment.objects.count()
    response = client.post(url, {"person": cast.outsider.pk, "reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["Say why the manager is being replaced."]
    assert Appointment.objects.count() == before
    response = client.post(url, {"person": cast.outsider.pk, "reason": "Moved to the parking team"})
    assert response.status_code == 302
    cast.service.refresh_from_db()
    assert cast.service.manager == cast.outsider


def test_the_wizard_reports_an_unknown_dependency_at_review_and_writes_nothing(cast, client):
    client.force_login(cast.executive)
    step = lambda name: reverse("network:establish_step", args=[name])  # noqa: E731
    client.get(step("name") + "?restart=1")
    client.post(step("name"), {"name": "Garden waste", "adopt": "new"})
    client.post(step("needs"), {"user_type": "external", "needs-TOTAL_FORMS": "1", "needs-INITIAL_FORMS": "0",
                                "needs-0-as_a": "gardener", "needs-0-i_need": "green waste collected", "needs-0-so_that": "my garden stays tidy"})
    client.post(step("metrics"), {"metrics-TOTAL_FORMS": "1", "metrics-INITIAL_FORMS": "0", "metrics-0-name": "Collections made",
                                  "metrics-0-unit": "count", "metrics-0-direction": "higher", "metrics-0-kind": "outcome", "metrics-0-needs": ["0"]})
    client.post(step("description"), {"purpose": "Fortnightly garden waste collection."})
    client.post(step("dependencies"), {"deps-TOTAL_FORMS": "1", "deps-INITIAL_FORMS": "0", "deps-0-provider": "Nowhere service"})
    client.post(step("evolution"), {"evolution_stage": "commodity"})
    client.post(step("manager"), {"manager": ""})
    services, versions = Service.objects.count(), ContractVersion.objects.count()
    response = client.post(step("review"))
    assert response.status_code == 200
    assert "There is no service “Nowhere service”" in response.content.decode()
    assert Service.objects.count() == services and ContractVersion.objects.count() == versions

    client.post(step("dependencies"), {"deps-TOTAL_FORMS": "1", "deps-INITIAL_FORMS": "0", "deps-0-provider": "Identity"})
    response = client.post(step("review"))
    assert response.status_code == 302
    garden = Service.objects.get(name="Garden waste")
    assert garden.lifecycle_stage == "discovery"
    need = garden.current_version.needs.get()
    assert [m.name for m in need.metrics.all()] == ["Collections made"]


def test_the_diff_page_shows_what_changed(cast, client):
    content = factories.contract("Parking permits", needs=2, purpose="Permits for residents and visitors.")
    actions.alter_contract(actor=cast.executive, service=cast.service, content=content, reason="Visitors", risk="Low")
    client.force_login(cast.outsider)
    response = client.get(reverse("network:compare", args=[cast.service.slug]), {"from": 1, "to": 2})
    body = response.content.decode()
    assert "<del>Parking permits does one thing well. It serves its users.</del>" in body
    assert "<ins>Permits for residents and visitors.</ins>" in body
    diff = response.context["diff"]
    assert [n["key"] for n in diff.needs_added] == ["parking-permits-need-2"] and not diff.needs_removed
    assert [c.key for c in diff.fields] == ["purpose"]


def test_service_page_reads_its_contracts_metrics_and_providers_once(cast, client):
    """The contract's metrics and dependencies, read for the contract, serve the fitness
    panel and the callouts about decommissioned providers too: neither reads them again
    while every provider is still running."""
    client.force_login(cast.outsider)
    url = reverse("network:service", args=[cast.service.slug])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200 and cast.service.current_version.metrics.exists()
    metric_reads = [q["sql"] for q in ctx.captured_queries
                    if 'FROM "network_metric"' in q["sql"] and "network_need_metrics" not in q["sql"]]
    # the callouts' own query picks the dependencies whose provider is decommissioned
    flag_reads = [q["sql"] for q in ctx.captured_queries
                  if q["sql"].startswith('SELECT "network_dependency"') and "decommissioned" in q["sql"]]
    assert len(metric_reads) == 1, metric_reads
    assert flag_reads == []
    metric = cast.service.current_version.metrics.first()
    assert metric.name in response.content.decode()


def test_the_network_list_counts_from_current_contracts_only(cast):
    from osom.network.queries import network_list

    def counts():
        return {s.name: (s.consumes_count, s.consumed_by_count, s.needs_count) for s in network_list()}

    bins = factories.service(cast.executive, "Bin collections", needs=2)
    assert counts() == {"Parking permits": (1, 0, 1), "Identity": (0, 1, 1), "Bin collections": (0, 0, 2)}
    # a dependency in a draft, added or taken away, counts only once its version is approved
    actions.add_dependency(actor=cast.executive, service=bins, provider=cast.other_service)
    draft = actions.remove_dependency(actor=cast.manager, service=cast.service, provider=cast.other_service)
    assert counts()["Identity"] == (0, 1, 1)
    actions.submit_contract_version(actor=cast.manager, version=draft)
    actions.approve_contract_version(actor=cast.executive, version=draft)
    assert counts() == {"Parking permits": (0, 0, 1), "Identity": (0, 0, 1), "Bin collections": (0, 0, 2)}
