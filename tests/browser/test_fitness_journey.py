"""Fitness data in a real browser: a service manager records a measurement by hand and sees
whether it meets the target; uploads a CSV file with mistakes, reads each bad row's number
and message, then uploads a good one; the executive writes a figure across services, is
told of a mistake in the expression as it types, corrects it, saves, and sees the figure's
chart; a provider's manager sees the share left for external users as it types."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from osom.fitness.models import Aggregation, ConsumptionShare, Measurement

from ..conftest import PASSWORD
from ..fitness_pages.helpers import months_ago
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _csv(rows: list[str]) -> dict:
    text = "metric,period_start,period_end,value,note\n" + "\n".join(rows) + "\n"
    return {"name": "values.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_a_manager_records_a_value_then_uploads_a_file(cast, new_page):
    page = new_page()
    sign_in(page, cast.manager.email, PASSWORD)
    page.goto(f"/services/{cast.service.slug}/")
    panel = page.locator("section.fx-section")
    expect(panel.get_by_text("No value recorded yet.")).to_be_visible()

    # By hand: a value for last month, above the target of 95 %.
    panel.get_by_role("link", name="Record a measurement").click()
    expect(page.get_by_role("heading", name="Record a measurement")).to_be_visible()
    start, end = months_ago(1)
    page.get_by_label("Metric").select_option("m1")
    page.get_by_label("Value").fill("97.5")
    page.get_by_label("Period start").fill(start.isoformat())
    page.get_by_label("Period end").fill(end.isoformat())
    page.get_by_role("button", name="Record the measurement").click()
    expect(page.get_by_text(f"Recorded 97.5% for Parking permits outcome 1, {end:%b %Y}: target met.")).to_be_visible()
    section = page.locator("#metric-m1")
    expect(section.locator(".tag--met")).to_have_text("Met")
    expect(section.locator(".fx-card__value")).to_have_text("97.5%")
    expect(section.locator("svg[role=img]")).to_be_visible()

    # A file with mistakes: each bad row is listed with its number; nothing is imported.
    page.get_by_role("link", name="Upload a CSV file").first.click()
    (a, b), (c, d) = months_ago(3), months_ago(2)
    page.get_by_label("CSV file").set_input_files(_csv([f"m1,{a},{b},96,", f"m7,{c},{d},95,", f"m1,{c},{d},high,"]))
    page.get_by_role("button", name="Upload the file").click()
    expect(page.get_by_role("alert")).to_contain_text("2 rows have problems")
    problems = page.get_by_role("table", name="Each problem found in the file, by row number")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("3")
    expect(problems.get_by_role("row").nth(1)).to_contain_text("“m7” is not a metric of Parking permits")
    expect(problems.get_by_role("row").nth(2)).to_contain_text("4")
    expect(problems.get_by_role("row").nth(2)).to_contain_text("“high” is not a number.")
    assert Measurement.objects.count() == 1

    # The corrected file goes in whole.
    page.get_by_label("CSV file").set_input_files(_csv([f"m1,{a},{b},96,", f"m1,{c},{d},94,Short-staffed"]))
    page.get_by_role("button", name="Upload the file").click()
    expect(page.get_by_text("Uploaded 2 measurements for Parking permits: 2 new, 0 replaced.")).to_be_visible()
    assert Measurement.objects.count() == 3
    recent = page.locator("#metric-m1 table")
    expect(recent.get_by_role("row")).to_have_count(4)
    expect(recent).to_contain_text("Short-staffed")


def test_the_executive_corrects_an_expression_as_it_types_and_sees_the_figure(cast, new_page):
    from osom.fitness import actions

    start, end = months_ago(1)
    actions.record_measurement(actor=cast.manager, service=cast.service, metric_key="m1", value="96",
                               period_start=start, period_end=end)
    actions.record_measurement(actor=cast.other_manager, service=cast.other_service, metric_key="m1", value="90",
                               period_start=start, period_end=end)
    page = new_page()
    sign_in(page, cast.executive.email, PASSWORD)
    page.goto("/fitness/figures/")
    page.get_by_role("link", name="Define a figure").click()
    page.get_by_label("Name").fill("Mean outcome")
    box = page.get_by_label("Expression")
    box.press_sequentially("avg(m1 + 2")
    check = page.locator("#expression-check")
    expect(check).to_contain_text("Error at column 8:")
    expect(check).to_contain_text("do arithmetic outside the function")
    box.fill("")
    box.press_sequentially("avg(m1) + 2")
    expect(check).to_contain_text("OK: uses the metric m1")
    page.get_by_label("Unit").fill("%")
    page.get_by_role("button", name="Save the figure").click()
    expect(page.get_by_text("Saved the figure “Mean outcome”.")).to_be_visible()
    expect(page.get_by_role("heading", name="Mean outcome", level=1)).to_be_visible()
    chart = page.locator("svg.fx-chart--large[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.fx-chart__dot")).to_have_count(1)
    expect(page.get_by_role("row", name=f"{end:%b %Y} 95%")).to_be_visible()  # (96 + 90) / 2 + 2
    assert Aggregation.objects.get().expression == "avg(m1) + 2"


def test_the_external_remainder_follows_the_shares_as_they_are_typed(cast, new_page):
    page = new_page()
    sign_in(page, cast.other_manager.email, PASSWORD)
    page.goto(f"/services/{cast.other_service.slug}/capital-flow/shares/?period=2026-27")
    remainder = page.locator("#fx-external")
    expect(remainder).to_have_text("100%")
    page.get_by_label("Parking permits").fill("37.5")
    expect(remainder).to_have_text("62.5%")
    page.get_by_label("Parking permits").fill("120")
    expect(remainder).to_contain_text("more than 100%")
    page.get_by_label("Parking permits").fill("37.5")
    page.get_by_role("button", name="Save the shares").click()
    expect(page.get_by_text("37.5% to other services, 62.5% to external users")).to_be_visible()
    assert str(ConsumptionShare.objects.get().share.normalize()) == "0.375"
