"""Building fitness data for the page tests, through the actions, as people would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from osom.fitness import actions
from osom.lifecycle import actions as lifecycle
from osom.network import actions as network

from .. import factories

PERIOD = "2026-27"


def months_ago(n: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the month ``n`` months before this one."""
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - n
    start = dt.date(index // 12, index % 12 + 1, 1)
    following = index + 1
    return start, dt.date(following // 12, following % 12 + 1, 1) - dt.timedelta(days=1)


def measure(c, value, *, back: int = 1, key: str = "m1", service=None, actor=None):
    """A value of a metric for the month ``back`` months ago."""
    start, end = months_ago(back)
    return actions.record_measurement(actor=actor or c.manager, service=service or c.service, metric_key=key,
                                      value=value, period_start=start, period_end=end)


def spend(c, service, amount, *, manager=None, period: str = PERIOD):
    """Money allocated to a service for the period and spent."""
    allocation = lifecycle.allocate_budget(actor=c.executive, service=service, period=period, amount=amount)
    lifecycle.record_spend(actor=manager or service.manager, allocation=allocation, amount=amount,
                           spent_on=timezone.localdate() - dt.timedelta(days=3), description="Running costs")
    return allocation


def depend(c, service, provider):
    """Make ``service`` consume ``provider`` under an approved contract version."""
    result = network.add_dependency(actor=c.executive, service=service, provider=provider)
    network.submit_contract_version(actor=service.manager, version=result.version)
    network.approve_contract_version(actor=c.executive, version=result.version)
    service.refresh_from_db()
    return service


def worked_example(c):
    """The worked example of the model (section 11): hosting H spends 100, identity I 50,
    payments P 80, the journey J 30; I uses 20 % of H; P uses 30 % of H and 40 % of I;
    J uses 50 % of H, 60 % of I and all of P; J completes 13,000 transactions."""
    boss = c.other_manager
    hosting = factories.service(c.executive, "Hosting", manager=boss, user_type="internal")
    identity = factories.service(c.executive, "Identity provider", manager=boss, user_type="internal",
                                 dependencies=["hosting"])
    payments = factories.service(c.executive, "Payments", manager=boss, user_type="internal",
                                 dependencies=["hosting", "identity-provider"])
    journey = factories.service(c.executive, "Pay a fine", manager=c.manager,
                                dependencies=["hosting", "identity-provider", "payments"])
    for service, amount in ((hosting, "100"), (identity, "50"), (payments, "80"), (journey, "30")):
        spend(c, service, amount)
    actions.record_consumption_shares(actor=boss, provider=hosting, period=PERIOD,
                                      shares={"identity-provider": "20%", "payments": "30%", "pay-a-fine": "50%"})
    actions.record_consumption_shares(actor=boss, provider=identity, period=PERIOD,
                                      shares={"payments": "0.4", "pay-a-fine": "0.6"})
    actions.record_consumption_shares(actor=boss, provider=payments, period=PERIOD, shares={"pay-a-fine": "1"})
    actions.record_transactions(actor=c.manager, service=journey, period=PERIOD, transactions=13_000)
    return {"hosting": hosting, "identity": identity, "payments": payments, "journey": journey}


def money(text: str) -> Decimal:
    return Decimal(text.replace("£", "").replace(",", ""))
