"""The fitness and capital-flow reads run a fixed number of queries however many services,
measurements, shares or figures there are (design habit 6): each read is measured on a
small and a ten times larger network, and must make exactly the queries named below."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.paginator import Paginator

from osom.fitness import actions, queries
from osom.lifecycle import actions as lifecycle

from .. import factories
from .test_figures import costed, report
from .test_permissions import BUDGET_PERIOD, TODAY, csv_text, month

SIZES = [2, 20]


def _services(cast, n, *, manager=None, **kwargs):
    """``n`` services besides the cast's own, each consuming Identity."""
    return [factories.service(cast.executive, f"Service {i:02}", manager=manager or cast.other_manager,
                              dependencies=["identity"], **kwargs) for i in range(n)]


def _history(cast, service, months: int, *, keys=("m1",), base: int = 90):
    """``months`` monthly values of each metric, uploaded by the service's manager."""
    rows = [(key, *month(back), str(base + back % 10), "") for key in keys for back in range(1, months + 1)]
    actions.import_measurements_csv(actor=service.manager, service=service, text=csv_text(*rows))


@pytest.mark.parametrize("n", SIZES)
def test_a_services_fitness_makes_three_queries(cast, n, django_assert_num_queries):
    service = factories.service(cast.executive, "Libraries", manager=cast.manager, needs=3)
    _history(cast, service, n, keys=("m1", "m2", "m3"))
    _services(cast, n)
    # 1. the metrics of the current contract; 2. their series; 3. the recent measurements
    with django_assert_num_queries(3):
        views = queries.service_fitness(service, today=TODAY)
        shown = [(v.metric.key, v.status, v.stale, len(v.points), v.cadence_days) for v in views]
    assert [key for key, *_ in shown] == ["m1", "m2", "m3"]
    assert all(points == n for *_, points, _ in shown)


@pytest.mark.parametrize("n", SIZES)
def test_a_page_of_the_fitness_overview_makes_two_queries(cast, n, django_assert_num_queries):
    for i, service in enumerate(_services(cast, n)):
        if i % 2:
            _history(cast, service, 2)
    for status in ("", "missed", "stale"):
        # 1. how many rows match (for the pages); 2. the page's series, with each one's metric, service and manager
        with django_assert_num_queries(2):
            # (a hundred days on, so that the series reported have all become late)
            page = Paginator(queries.fitness_overview(status=status, today=TODAY + dt.timedelta(days=100)), 10).page(1)
            rows = [(s.service.name, s.service.manager.name, s.metric.name, s.latest_value, s.status, s.due_on)
                    for s in page.object_list]
        assert len(rows) == min(10, page.paginator.count) and rows
    assert Paginator(queries.fitness_overview(today=TODAY), 10).count == n + 2


@pytest.mark.parametrize("n", SIZES)
def test_a_managers_fitness_items_make_one_query(cast, n, django_assert_num_queries):
    for service in _services(cast, n, manager=cast.manager):
        _history(cast, service, 1, base=50)  # missed: the target is 95
    # 1. the manager's metrics that missed their target or are late, with their services
    with django_assert_num_queries(1):
        items = queries.person_fitness_items(cast.manager, today=TODAY)
        names = [s.service.name for s in items["missed"]]
    assert len(names) == n


@pytest.mark.parametrize("n", SIZES)
def test_the_network_fitness_counts_make_two_queries(cast, n, django_assert_num_queries):
    for service in _services(cast, n):
        _history(cast, service, 1, base=50)
    # 1. the missed targets; 2. the late series
    with django_assert_num_queries(2):
        counts = queries.network_fitness_counts(today=TODAY + dt.timedelta(days=400))
    assert counts == {"missed": n, "stale": n}


@pytest.mark.parametrize("n", SIZES)
def test_the_capital_flow_of_a_period_makes_four_queries_and_a_fifth_for_services_with_no_spending(cast, n, django_assert_num_queries):
    consumers = _services(cast, n, manager=cast.manager)
    allocation = lifecycle.allocate_budget(actor=cast.executive, service=cast.other_service, period=BUDGET_PERIOD,
                                           amount="100000.00")
    lifecycle.record_spend(actor=cast.other_manager, allocation=allocation, amount="1000.00", spent_on=TODAY,
                           description="Hosting")
    for service in consumers:
        spend = lifecycle.allocate_budget(actor=cast.executive, service=service, period=BUDGET_PERIOD,
                                          amount="5000.00")
        lifecycle.record_spend(actor=cast.manager, allocation=spend, amount="10.00", spent_on=TODAY,
                               description="Team")
        actions.record_transactions(actor=cast.manager, service=service, period=BUDGET_PERIOD, transactions=100)
    actions.record_consumption_shares(actor=cast.other_manager, provider=cast.other_service, period=BUDGET_PERIOD,
                                      shares={s.slug: f"{100 // (n + 1)}%" for s in consumers})
    # 0. the write mark; 1. the direct spend by service, with the services; 2. the shares;
    # 3. the transactions
    with django_assert_num_queries(4):
        view = queries.capital_flow_for(BUDGET_PERIOD)
        table = [(view.services[pk].name, view.flow.fully_loaded[pk],
                  view.flow.cost_per_transaction(pk, view.transactions.get(pk, 0))) for pk in view.services]
    assert len(table) == n + 1 and view.error == ""
    # asked for again with nothing written since: the write mark alone, and the same flow
    with django_assert_num_queries(1):
        assert queries.capital_flow_for(BUDGET_PERIOD) is view
    # services that only consume in the period, with no spending of their own: a fourth query names them
    idle = [factories.service(cast.executive, f"Idle {i:02}", manager=cast.manager, dependencies=["identity"])
            for i in range(n)]
    actions.record_consumption_shares(actor=cast.other_manager, provider=cast.other_service, period=BUDGET_PERIOD,
                                      shares={s.slug: "1%" for s in consumers + idle})
    with django_assert_num_queries(5):
        view = queries.capital_flow_for(BUDGET_PERIOD)
        names = {view.services[pk].name for pk in view.services}
    assert {s.name for s in idle} <= names and len(names) == 2 * n + 1 and view.error == ""
    assert list(view.services) == sorted(view.services)


@pytest.mark.parametrize("n", SIZES)
def test_a_figure_makes_one_query_per_metric_it_names(cast, n, django_assert_num_queries):
    for i in range(n):
        service = costed(cast, f"Costed {i:02}", user_type=("external", "internal")[i % 2])
        report(cast, service, *[(metric, dt.date(2025, m, 1), dt.date(2025, m, 28), str(10 * m + i))
                                for metric in ("cost", "transactions") for m in range(1, 6)])
    figure = actions.define_aggregation(
        actor=cast.executive, name="Cost per external transaction",
        expression="sum(cost where users = external) / sum(transactions where users = external) + count(cost)")
    # 1. the measurements of cost in the periods shown; 2. those of transactions
    with django_assert_num_queries(2):
        rows = queries.aggregation_values(figure, today=dt.date(2025, 6, 15))
    assert len(rows) == 12 and rows[-2]["value"] is not None
