"""Capital flow of a budget period (model 5.3 and 11), read from what the actions record:
dependencies in the contracts, direct spend against the period's allocations, the shares
each provider measured, and the transactions each service completed.

The worked example of the model: hosting H spends 100, identity I 50, payments P 80,
journey J 30; I uses 20 % of H; P uses 30 % of H and 40 % of I; J uses 50 % of H, 60 % of I
and all of P. Then T_H = 100, T_I = 70, T_P = 138, T_J = 260 = the total spend; at 13,000
transactions J costs 0.02 each, of which about 0.0077 is hosting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from osom.core.models import AuditEvent
from osom.fitness import actions, queries
from osom.fitness.models import ConsumptionShare, PeriodVolume
from osom.lifecycle import actions as lifecycle
from osom.network import actions as network_actions

from .. import factories
from .test_permissions import BUDGET_PERIOD, TODAY

OTHER_PERIOD = "2025-26"


def spent(c, service, *amounts, period=BUDGET_PERIOD):
    """The executive allocates money to the service for the period; its manager records
    each amount spent against it."""
    allocation = lifecycle.allocate_budget(actor=c.executive, service=service, period=period, amount="100000.00")
    for amount in amounts:
        lifecycle.record_spend(actor=service.manager, allocation=allocation, amount=amount, spent_on=TODAY,
                               description="Running costs")
    return allocation


def share(c, provider, period=BUDGET_PERIOD, **shares):
    return actions.record_consumption_shares(actor=provider.manager, provider=provider, period=period,
                                             shares={slug.replace("_", "-"): value for slug, value in shares.items()})


def consumes(c, consumer, provider):
    """``consumer`` comes to consume ``provider`` under an approved contract."""
    result = network_actions.add_dependency(actor=consumer.manager, service=consumer, provider=provider)
    network_actions.submit_contract_version(actor=consumer.manager, version=result.version)
    network_actions.approve_contract_version(actor=c.executive, version=result.version)


@pytest.fixture
def example(cast):
    """The worked example, built through the actions by the people who would do it."""
    h = factories.service(cast.executive, "Hosting", manager=cast.other_manager, user_type="internal",
                          evolution_stage="commodity")
    i = factories.service(cast.executive, "Sign in", manager=cast.other_manager, user_type="internal",
                          dependencies=["hosting"])
    p = factories.service(cast.executive, "Payments", manager=cast.manager, user_type="internal",
                          dependencies=["hosting", "sign-in"])
    j = factories.service(cast.executive, "Renew a permit", manager=cast.manager,
                          dependencies=["hosting", "sign-in", "payments"])
    spent(cast, h, "60.00", "40.00")
    spent(cast, i, "50.00")
    spent(cast, p, "80.00")
    spent(cast, j, "30.00")
    # spending in another period, or shares of another period, must not count
    spent(cast, j, "9999.00", period=OTHER_PERIOD)
    share(cast, h, sign_in="0.2", payments="30%", renew_a_permit="0.5")
    share(cast, i, payments="0.4", renew_a_permit="60%")
    share(cast, p, renew_a_permit="1")
    share(cast, h, period=OTHER_PERIOD, sign_in="1")
    actions.record_transactions(actor=cast.manager, service=j, period=BUDGET_PERIOD,
                                transactions="13000")
    return {"H": h, "I": i, "P": p, "J": j}


def test_the_worked_example(example):
    h, i, p, j = (example[k].pk for k in "HIPJ")
    view = queries.capital_flow_for(BUDGET_PERIOD)
    assert view.error == "" and view.flow is not None
    flow = view.flow
    assert view.direct == {h: Decimal("100.00"), i: Decimal("50.00"), p: Decimal("80.00"), j: Decimal("30.00")}
    assert flow.fully_loaded == {h: Decimal("100.00"), i: Decimal("70.00"), p: Decimal("138.00"),
                                 j: Decimal("260.00")}
    assert flow.fully_loaded[j] == flow.total_direct == Decimal("260.00")
    # only the journey meets users outside the network: all the money ends up there
    assert flow.external_cost == {h: Decimal("0.00"), i: Decimal("0.00"), p: Decimal("0.00"), j: Decimal("260.00")}
    assert (flow.total_external, flow.unallocated) == (Decimal("260.00"), Decimal("0.00"))
    assert view.transactions == {j: 13000}
    assert flow.cost_per_transaction(j, view.transactions[j]) == Decimal("0.0200")
    per = flow.breakdown_per_transaction(j, view.transactions[j])
    assert per[h] == Decimal("0.0077")
    assert sum(per.values()) == Decimal("0.0200")
    # how much of each provider's own spend sits inside the journey: all of it
    assert flow.breakdown(j) == {h: Decimal("100.00"), i: Decimal("50.00"), p: Decimal("80.00"), j: Decimal("30.00")}
    assert flow.breakdown(p) == {h: Decimal("38.00"), i: Decimal("20.00"), p: Decimal("80.00")}
    assert {s.name for s in view.services.values()} == {"Hosting", "Sign in", "Payments", "Renew a permit"}
    assert view.shares[(h, j)] == Decimal("0.5") and view.shares[(i, p)] == Decimal("0.4")


def test_money_not_shared_out_internally_goes_to_external_users(cast, example):
    """Payments now keeps 25 % of its consumption for external users (a share of 0.75 to
    the journey): that part of its fully loaded cost is external cost."""
    share(cast, example["P"], renew_a_permit="0.75")
    flow = queries.capital_flow_for(BUDGET_PERIOD).flow
    p, j = example["P"].pk, example["J"].pk
    assert flow.fully_loaded[p] == Decimal("138.00")
    assert flow.external_cost[p] == Decimal("34.50")  # 25 % of 138
    assert flow.fully_loaded[j] == Decimal("225.50")  # 260 - 34.50
    assert flow.total_external == flow.total_direct == Decimal("260.00") and flow.unallocated == Decimal("0.00")


def test_the_other_period_is_costed_on_its_own(example):
    view = queries.capital_flow_for(OTHER_PERIOD)
    h, i, j = (example[k].pk for k in "HIJ")
    assert view.direct == {j: Decimal("9999.00")}
    assert view.flow.fully_loaded == {j: Decimal("9999.00"), h: Decimal("0.00"), i: Decimal("0.00")}
    assert view.transactions == {}
    assert queries.budget_periods_with_flow() == [BUDGET_PERIOD, OTHER_PERIOD]


def test_a_period_with_nothing_recorded_is_empty(cast):
    view = queries.capital_flow_for("1999-00")
    assert view.error == "" and view.direct == {} and view.flow.fully_loaded == {}
    assert view.flow.total_direct == Decimal("0.00")

def test_the_spending_of_every_allocation_of_the_period_is_the_services_direct_spend(cast, example):
    """A service funded twice in one period (a top-up, or a new stage after an assessment)
    spends against both allocations: its direct spend is all of it, counted once."""
    h, i, p, j = (example[k].pk for k in "HIPJ")
    spent(cast, example["H"], "12.34", "0.66")
    spent(cast, example["P"], "20.00")
    view = queries.capital_flow_for(BUDGET_PERIOD)
    assert view.direct == {h: Decimal("113.00"), i: Decimal("50.00"), p: Decimal("100.00"), j: Decimal("30.00")}
    assert list(view.services) == sorted([h, i, p, j])
    assert view.services[h].name == "Hosting"
    assert view.flow.total_direct == view.flow.fully_loaded[j] == Decimal("293.00")



def test_recording_shares_again_replaces_the_periods_shares_as_a_whole(cast, example):
    h, i, p, j = (example[k] for k in "HIPJ")
    events = AuditEvent.objects.count()
    rows = share(cast, h, payments="0.5")
    assert [(r.consumer, r.share) for r in rows] == [(p, Decimal("0.5"))]
    assert list(ConsumptionShare.objects.filter(period=BUDGET_PERIOD, provider=h)
                .values_list("consumer__slug", "share")) == [("payments", Decimal("0.5"))]
    # the other providers' shares and the other period's are untouched
    assert ConsumptionShare.objects.filter(period=BUDGET_PERIOD, provider=i).count() == 2
    assert ConsumptionShare.objects.filter(period=OTHER_PERIOD, provider=h).count() == 1
    event = AuditEvent.objects.order_by("-pk").first()
    assert AuditEvent.objects.count() == events + 1
    assert event.before == {"payments": "0.300000", "renew-a-permit": "0.500000", "sign-in": "0.200000"}
    assert event.after == {"payments": "0.5"}
    assert "50.00 % internal, 50.00 % external" in event.summary
    flow = queries.capital_flow_for(BUDGET_PERIOD).flow
    assert flow.external_cost[h.pk] == Decimal("50.00")
    assert flow.total_external == Decimal("260.00")
    # shares of zero are not kept, and an empty mapping clears the period
    share(cast, h, payments="0", sign_in="0%")
    assert not ConsumptionShare.objects.filter(period=BUDGET_PERIOD, provider=h).exists()
    share(cast, i)
    assert not ConsumptionShare.objects.filter(period=BUDGET_PERIOD, provider=i).exists()


def test_shares_of_exactly_one_hundred_percent_are_allowed(cast, example):
    rows = share(cast, example["H"], sign_in="33.3333%", payments="33.3333%", renew_a_permit="33.3334%")
    assert sum(r.share for r in rows) == Decimal("1")


def test_transactions_recorded_again_replace_the_count(cast, example):
    j = example["J"]
    volume = actions.record_transactions(actor=cast.team_member, service=cast.service, period=BUDGET_PERIOD,
                                         transactions=0)
    assert volume.transactions == 0
    again = actions.record_transactions(actor=cast.manager, service=j, period=BUDGET_PERIOD, transactions=26000)
    assert PeriodVolume.objects.filter(service=j, period=BUDGET_PERIOD).count() == 1
    assert again.transactions == 26000
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.before, event.after) == ({"transactions": 13000}, {"transactions": 26000})
    view = queries.capital_flow_for(BUDGET_PERIOD)
    assert view.flow.cost_per_transaction(j.pk, view.transactions[j.pk]) == Decimal("0.0100")
    # a service with no transactions has no cost per transaction
    assert view.flow.cost_per_transaction(cast.service.pk, view.transactions[cast.service.pk]) is None


def _closed_cycle(c):
    """Ledger and Reconciliation consume each other and pass all of their cost to each
    other: none of it ever reaches a user."""
    a = factories.service(c.executive, "Ledger", manager=c.manager, user_type="internal")
    b = factories.service(c.executive, "Reconciliation", manager=c.manager, user_type="internal",
                          dependencies=["ledger"])
    consumes(c, a, b)
    spent(c, a, "10.00")
    share(c, a, reconciliation="1")
    share(c, b, ledger="100%")
    return a, b


def test_a_cycle_that_money_never_leaves_is_reported_naming_its_services(cast):
    _closed_cycle(cast)
    view = queries.capital_flow_for(BUDGET_PERIOD)
    assert view.flow is None
    assert "never leaves the cycle" in view.error
    assert sorted(s.name for s in view.error_services) == ["Ledger", "Reconciliation"]


def test_the_message_of_a_cycle_names_the_services_not_their_ids(cast):
    a, b = _closed_cycle(cast)
    error = queries.capital_flow_for(BUDGET_PERIOD).error
    assert "Ledger" in error and "Reconciliation" in error
    assert f"{a.pk}, {b.pk}" not in error


def test_a_cycle_that_leaks_is_solved(cast):
    a = factories.service(cast.executive, "Ledger", manager=cast.manager, user_type="internal")
    b = factories.service(cast.executive, "Reconciliation", manager=cast.manager, dependencies=["ledger"])
    consumes(cast, a, b)
    spent(cast, a, "90.00")
    spent(cast, b, "10.00")
    share(cast, a, reconciliation="1")
    share(cast, b, ledger="0.5")
    # T_a = 90 + 0.5 T_b; T_b = 10 + T_a  =>  T_b = 200, T_a = 190
    flow = queries.capital_flow_for(BUDGET_PERIOD).flow
    assert flow.fully_loaded == {a.pk: Decimal("190.00"), b.pk: Decimal("200.00")}
    assert flow.external_cost[b.pk] == Decimal("100.00") == flow.total_direct == flow.total_external
