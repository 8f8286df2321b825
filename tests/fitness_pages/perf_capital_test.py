"""Capital flow and the network's fitness at scale: the per-service table works out only
the rows of its page, a flow's money is computed without Fractions yet rounds exactly as
they would, the periods are read distinct, and the fitness statuses come from the series
joined once (the same statuses as reading each metric on its own)."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from osom.fitness import queries
from osom.fitness.capital import compute_capital_flow, round_fraction
from osom.network.models import Metric

from .. import factories
from .helpers import PERIOD, measure, spend, worked_example


def _rows(body: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="[^"]*">([^<]+)</a></th>', body)


def test_the_services_are_listed_a_page_at_a_time_largest_fully_loaded_cost_first(cast, client, settings):
    settings.PAGE_SIZE = 2
    worked_example(cast)  # fully loaded: Pay a fine 260, Payments 138, Hosting 100, Identity provider 70
    client.force_login(cast.outsider)
    first = client.get(reverse("fitness:capital"))
    second = client.get(reverse("fitness:capital"), {"period": PERIOD, "page": 2})
    assert _rows(first.content.decode()) == ["Pay a fine", "Payments"]
    assert _rows(second.content.decode()) == ["Hosting", "Identity provider"]
    page = first.context["page"]
    assert page.paginator.count == 4 and page.paginator.num_pages == 2
    assert page.object_list[0]["total"] == Decimal("260.00") and page.object_list[0]["per_transaction"] == Decimal("0.0200")
    assert first.context["with_transactions"] == 1
    # the totals are the whole network's, on every page
    assert "Total direct spend <strong>£260.00</strong>" in second.content.decode()


def test_the_flows_table_lists_every_flow_largest_first_with_its_money(cast, client):
    worked_example(cast)
    client.force_login(cast.outsider)
    bands = client.get(reverse("fitness:capital")).context["bands"]
    assert [(b["provider"].name, b["consumer"].name, b["amount"]) for b in bands] == [
        ("Payments", "Pay a fine", Decimal("138.00")),
        ("Hosting", "Pay a fine", Decimal("50.00")),
        ("Identity provider", "Pay a fine", Decimal("42.00")),
        ("Hosting", "Payments", Decimal("30.00")),
        ("Identity provider", "Payments", Decimal("28.00")),
        ("Hosting", "Identity provider", Decimal("20.00")),
    ]


def test_a_services_page_lists_only_the_flows_it_takes_and_gives(cast, client):
    w = worked_example(cast)
    client.force_login(cast.outsider)
    response = client.get(reverse("fitness:capital_service", args=[PERIOD, w["payments"].slug]))
    takes = [(b["provider"].name, b["amount"]) for b in response.context["takes"]]
    gives = [(b["consumer"].name, b["amount"]) for b in response.context["gives"]]
    assert takes == [("Hosting", Decimal("30.00")), ("Identity provider", Decimal("28.00"))]
    assert gives == [("Pay a fine", Decimal("138.00"))]


def test_money_passed_on_rounds_exactly_as_fractions_would():
    # thirds, a cycle (so the totals are no longer decimals) and halves of a penny
    direct = {"a": Decimal("100"), "b": Decimal("0.01"), "c": Decimal("33.335"), "d": Decimal("0")}
    shares = {("a", "b"): Fraction(1, 3), ("a", "c"): Decimal("0.125"), ("b", "c"): Decimal("0.5"),
              ("c", "b"): Decimal("0.3"), ("c", "d"): Decimal("0.7"), ("b", "d"): Fraction(2, 7)}
    flow = compute_capital_flow(direct, shares)
    for (provider, _consumer), share in shares.items():
        expected = round_fraction(Fraction(share) * flow.fully_loaded_exact[provider])
        assert flow.passed_on(provider, share) == expected, (provider, share)
    assert flow.passed_on("a", Fraction(1, 3)) == Decimal("33.33")


def test_the_capital_flow_of_a_period_names_its_services_without_reading_them_whole(cast):
    w = worked_example(cast)
    view = queries.capital_flow_for(PERIOD)
    hosting = view.services[w["hosting"].pk]
    assert (hosting.pk, hosting.name, hosting.slug, hosting.lifecycle_stage) == (
        w["hosting"].pk, "Hosting", "hosting", w["hosting"].lifecycle_stage)
    assert str(hosting) == "Hosting" and hosting.id == hosting.pk


def test_the_periods_are_each_listed_once_however_many_allocations_they_have(cast):
    a = factories.service(cast.executive, "Alpha", manager=cast.manager)
    for service in (a, cast.service, cast.other_service):
        spend(cast, service, "10")
        spend(cast, service, "5", period="2025-26")
    with CaptureQueriesContext(connection) as ctx:
        assert queries.budget_periods_with_flow() == [PERIOD, "2025-26"]
    assert all("DISTINCT" in q["sql"] and '"name"' not in q["sql"] for q in ctx.captured_queries)


def test_the_fitness_statuses_read_through_the_join_are_those_of_each_metric(cast):
    third = factories.service(cast.executive, "Third service", manager=cast.manager)
    measure(cast, "97", service=cast.service)  # target 95, higher is better: met
    measure(cast, "50", service=cast.other_service, actor=cast.other_manager)  # missed
    measure(cast, "99", service=third, back=4)  # met, but a monthly series three months late: stale
    rows = {m.service.name: m for m in queries.fitness_overview()}
    assert {name: m.status for name, m in rows.items()} == {
        "Identity": queries.MISSED, "Parking permits": queries.MET, "Third service": queries.MET}
    for m in rows.values():
        metric = Metric.objects.get(pk=m.metric_id)
        assert m.status == queries.status_of(m.latest_value, metric.target, metric.direction)
    assert rows["Parking permits"].latest_value == Decimal("97") and rows["Parking permits"].count == 1
    assert [m.service.name for m in queries.fitness_overview(status="stale")] == ["Third service"]
    assert queries.network_fitness_counts() == {"missed": 1, "stale": 1}
    # a service that has reported nothing has no data
    fourth = factories.service(cast.executive, "Fourth service", manager=cast.manager)
    assert [m.status for m in queries.fitness_overview(q="Fourth")] == [queries.NO_DATA]
    assert fourth.pk


def test_the_fitness_rows_carry_the_service_but_not_its_contract_text(cast, django_assert_num_queries):
    measure(cast, "97", service=cast.service)
    with django_assert_num_queries(1):
        rows = list(queries.fitness_overview())
        names = [(m.service.name, m.service.manager and m.service.manager.name, m.metric.name) for m in rows]
    assert ("Parking permits", cast.manager.name, "Parking permits outcome 1") in names
    assert "how_measured" in rows[0].metric.get_deferred_fields()
