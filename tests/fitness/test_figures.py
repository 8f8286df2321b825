"""The executive's figures across services (model 5.4): defined as expressions over
metrics, computed for each period from measurements made through the actions.

A fixed "today" in the past is used so the periods are known in advance (measurements may
not cover a period that has not begun, and 2025 has)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from osom.core.models import AuditEvent
from osom.fitness import actions, queries
from osom.fitness.models import Aggregation
from osom.network import actions as network_actions

from .test_permissions import csv_text

TODAY = dt.date(2025, 6, 15)
COST_PER_EXTERNAL = "sum(cost where users = external) / sum(transactions where users = external)"


def costed_contract(name: str, *, user_type: str) -> dict:
    """A contract whose service reports its cost and its transactions."""
    return {
        "name": name, "user_type": user_type, "evolution_stage": "custom",
        "purpose": f"{name} does one thing well.", "benefit": "Saves money.", "usage": "Through its API.",
        "onboarding": "Ask the team.", "expectations": "Works during office hours.", "support": "Raise a ticket.",
        "migration_path": "",
        "metrics": [
            {"key": "cost", "name": "Cost", "unit": "GBP", "direction": "lower", "target": None, "kind": "cost"},
            {"key": "transactions", "name": "Completed transactions", "unit": "count", "direction": "higher",
             "target": None},
        ],
        "needs": [{"as_a": "resident", "i_need": f"to use {name}", "so_that": "I get on with my day",
                   "metrics": ["transactions"]}],
        "dependencies": [],
    }


def costed(c, name: str, *, user_type: str = "external", stage: str | None = None):
    content = costed_contract(name, user_type=user_type)
    if stage:
        return network_actions.adopt_existing_service(actor=c.executive, content=content, lifecycle_stage=stage,
                                                      manager=c.manager)
    return network_actions.establish_service(actor=c.executive, content=content, manager=c.manager)


def report(c, service, *rows):
    """``(metric, start, end, value)`` rows uploaded by the service's manager."""
    actions.import_measurements_csv(actor=c.manager, service=service, text=csv_text(
        *[(metric, start, end, value, "") for metric, start, end, value in rows]))


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def services(cast):
    """Two external services and an internal one, reporting monthly from March to May 2025."""
    permits = costed(cast, "Permits")
    badges = costed(cast, "Blue badges", stage="live")
    payroll = costed(cast, "Payroll", user_type="internal")
    report(cast, permits,
           ("cost", d("2025-03-01"), d("2025-03-31"), "100"), ("transactions", d("2025-03-01"), d("2025-03-31"), "0"),
           ("cost", d("2025-04-01"), d("2025-04-30"), "1000"), ("transactions", d("2025-04-01"), d("2025-04-30"), "400"),
           ("cost", d("2025-05-01"), d("2025-05-31"), "1200"), ("transactions", d("2025-05-01"), d("2025-05-31"), "300"))
    report(cast, badges,
           ("cost", d("2025-04-01"), d("2025-04-30"), "500"), ("transactions", d("2025-04-01"), d("2025-04-30"), "100"),
           ("cost", d("2025-05-01"), d("2025-05-31"), "800"), ("transactions", d("2025-05-01"), d("2025-05-31"), "300"))
    # the internal service's figures must never reach a figure about external users
    report(cast, payroll,
           ("cost", d("2025-04-01"), d("2025-04-30"), "99999"), ("transactions", d("2025-04-01"), d("2025-04-30"), "1"),
           ("cost", d("2025-05-01"), d("2025-05-31"), "99999"), ("transactions", d("2025-05-01"), d("2025-05-31"), "1"))
    return {"permits": permits, "badges": badges, "payroll": payroll}


def computed(c, expression: str, *, count: int = 4, **kwargs) -> list[tuple[str, Decimal | None, str]]:
    figure = actions.define_aggregation(actor=c.executive, name=f"Figure {Aggregation.objects.count() + 1}",
                                        expression=expression, **kwargs)
    return [(row["period"].label, row["value"], row["reason"])
            for row in queries.aggregation_values(figure, today=TODAY, count=count)]


def test_cost_per_external_transaction_month_by_month(cast, services):
    rows = computed(cast, COST_PER_EXTERNAL)
    assert [label for label, _, _ in rows] == ["2025-03", "2025-04", "2025-05", "2025-06"]
    march, april, may, june = rows
    # March: Permits completed no transactions
    assert march[1] is None and march[2] == "division by zero: sum(transactions where users = external) is 0"
    # April: (1000 + 500) / (400 + 100)
    assert april == ("2025-04", Decimal("3"), "")
    # May: (1200 + 800) / (300 + 300), exactly, to 28 significant digits
    assert may == ("2025-05", Decimal("3.333333333333333333333333333"), "")
    # June: nobody has reported yet
    assert june[1] is None and june[2].startswith("division by zero")


def test_a_figure_of_internal_services_only(cast, services):
    rows = computed(cast, "sum(cost where users = internal) - sum(cost where users != internal)")
    assert [value for _, value, _ in rows] == [Decimal("-100"), Decimal("98499"), Decimal("97999"), Decimal("0")]


def test_filters_by_stage_and_by_service(cast, services):
    live = computed(cast, "sum(cost where stage = live)")
    assert [value for _, value, _ in live] == [Decimal("0"), Decimal("500"), Decimal("800"), Decimal("0")]
    two = computed(cast, "sum(transactions where service in (permits, payroll))")
    assert [value for _, value, _ in two] == [Decimal("0"), Decimal("401"), Decimal("301"), Decimal("0")]


def test_functions_over_the_services_of_a_period(cast, services):
    rows = computed(cast, "count(cost) * 1000000 + max(cost where users = external) * 1000 + min(transactions)",
                    count=2)
    # May: three services; the largest external cost 1200; the fewest transactions 1
    assert rows[0][1:] == (Decimal("3000000") + Decimal("1200000") + Decimal("1"), "")
    assert rows[1][1] is None and rows[1][2] == "no service reported cost where users = external"
    assert [v for _, v, _ in computed(cast, "median(cost where users = external)", count=2)] == [
        Decimal("1000"), None]
    assert [v for _, v, _ in computed(cast, "avg(transactions where users = external)", count=3)] == [
        Decimal("250"), Decimal("300"), None]


@pytest.fixture
def weekly(cast):
    """Permits reports its cost each week or so in May; Blue badges once, for a period
    that began in April and ended in May (a value belongs to the period it ends in)."""
    permits = costed(cast, "Permits")
    badges = costed(cast, "Blue badges")
    report(cast, permits,
           ("cost", d("2025-05-01"), d("2025-05-07"), "10"),
           ("cost", d("2025-05-15"), d("2025-05-31"), "26"),  # uploaded before the week it follows
           ("cost", d("2025-05-08"), d("2025-05-14"), "30"),
           ("cost", d("2025-04-01"), d("2025-04-30"), "7"))
    report(cast, badges, ("cost", d("2025-04-20"), d("2025-05-05"), "4"))
    return permits, badges


@pytest.mark.parametrize("within,april,may", [
    ("latest", Decimal("7"), Decimal("30")),  # the value of the latest period: 26 + 4
    ("sum", Decimal("7"), Decimal("70")),  # 10 + 30 + 26 + 4
    ("mean", Decimal("7"), Decimal("26")),  # (10 + 30 + 26) / 3 + 4
])
def test_within_says_how_one_services_values_in_a_period_combine(cast, weekly, within, april, may):
    rows = computed(cast, "sum(cost)", count=3, within=within)
    assert [(label, value) for label, value, _ in rows] == [("2025-04", april), ("2025-05", may), ("2025-06", Decimal("0"))]


def test_quarters_and_years(cast, weekly):
    quarters = computed(cast, "sum(cost)", count=2, grain="quarter", within="sum")
    assert [(label, value) for label, value, _ in quarters] == [("2025 Q1", Decimal("0")), ("2025 Q2", Decimal("77"))]
    years = computed(cast, "sum(cost)", count=2, grain="year", within="latest")
    # within a year each service's latest value: Permits' of 15-31 May, Blue badges' of 20 April-5 May
    assert [(label, value) for label, value, _ in years] == [("2024", Decimal("0")), ("2025", Decimal("30"))]


def test_the_periods_of_each_grain():
    months = queries.periods_for("month", count=3, today=d("2025-01-20"))
    assert [(p.label, p.start, p.end) for p in months] == [
        ("2024-11", d("2024-11-01"), d("2024-11-30")), ("2024-12", d("2024-12-01"), d("2024-12-31")),
        ("2025-01", d("2025-01-01"), d("2025-01-31"))]
    quarters = queries.periods_for("quarter", count=2, today=d("2025-02-28"))
    assert [(p.label, p.start, p.end) for p in quarters] == [
        ("2024 Q4", d("2024-10-01"), d("2024-12-31")), ("2025 Q1", d("2025-01-01"), d("2025-03-31"))]
    assert [p.label for p in queries.periods_for("year", today=d("2025-02-28"))] == [
        "2021", "2022", "2023", "2024", "2025"]
    assert len(queries.periods_for("month", today=d("2025-02-28"))) == 12
    assert len(queries.periods_for("quarter", today=d("2025-02-28"))) == 8


def test_a_figure_is_stored_in_its_normal_spelling_and_redefined_with_its_revision(cast):
    figure = actions.define_aggregation(actor=cast.exec_team, name="  Cost per external transaction ",
                                        expression="SUM( Cost  WHERE Users = External )/sum(transactions)",
                                        unit="GBP", grain="quarter", within="sum", description="For the board.")
    figure.refresh_from_db()
    assert (figure.name, figure.slug, figure.expression, figure.unit, figure.grain, figure.within, figure.revision) == (
        "Cost per external transaction", "cost-per-external-transaction",
        "sum(cost where users = external) / sum(transactions)", "GBP", "quarter", "sum", 1)
    assert figure.created_by == cast.exec_team
    redefined = actions.define_aggregation(actor=cast.executive, aggregation=figure, expected_revision=1,
                                           name="Cost per external transaction", expression=COST_PER_EXTERNAL)
    assert (redefined.pk, redefined.revision, redefined.expression, redefined.grain) == (
        figure.pk, 2, COST_PER_EXTERNAL, "month")
    event = AuditEvent.objects.filter(verb="define_aggregation").order_by("-pk").first()
    assert event.before["expression"] == "sum(cost where users = external) / sum(transactions)"
    assert event.after["expression"] == COST_PER_EXTERNAL


def test_two_figures_whose_names_make_the_same_slug_get_different_slugs(cast):
    first = actions.define_aggregation(actor=cast.executive, name="Cost: per user", expression="sum(cost)")
    second = actions.define_aggregation(actor=cast.executive, name="Cost per user", expression="sum(cost)")
    assert (first.slug, second.slug) == ("cost-per-user", "cost-per-user-2")


def test_a_retired_figure_keeps_its_definition(cast):
    figure = actions.define_aggregation(actor=cast.executive, name="Outcome", expression="sum(m1)")
    retired = actions.retire_aggregation(actor=cast.exec_team, aggregation=figure)
    retired.refresh_from_db()
    assert retired.retired_at is not None and retired.revision == 2 and retired.expression == "sum(m1)"
    event = AuditEvent.objects.order_by("-pk").first()
    assert (event.verb, event.actor, event.authority_person) == ("retire_aggregation", cast.exec_team, cast.executive)
