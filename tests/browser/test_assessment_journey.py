"""An assessment in a real browser: the executive schedules the discovery assessment of a
service, publishes its agenda, records the decisions, publishes a Met report that moves
the service to alpha with its budget; the service page shows it, and its manager reads it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from osom.lifecycle.models import Assessment

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_executive_assesses_a_discovery_service_into_alpha_and_its_manager_reads_the_report(cast, new_page):
    assert cast.service.lifecycle_stage == "discovery"
    page = new_page()
    sign_in(page, cast.executive.email, PASSWORD)

    # From the service page, schedule the assessment; the criteria suiting discovery are ticked.
    page.goto(f"/services/{cast.service.slug}/")
    lifecycle = page.get_by_role("region", name="Lifecycle")
    expect(lifecycle.locator(".lc-panel__stage .tag--discovery")).to_be_visible()
    lifecycle.get_by_role("link", name="Schedule an assessment").click()
    expect(page.get_by_role("heading", level=1, name="Schedule an assessment of Parking permits")).to_be_visible()
    expect(page.get_by_label("Stage transition")).to_be_checked()
    expect(page.get_by_label("Understand users and their needs")).to_be_checked()
    page.get_by_label("Date of the assessment").fill("2030-03-14")
    page.get_by_label("Note for the agenda").fill("Bring the research you did with residents.")
    page.get_by_role("button", name="Schedule the assessment").click()
    expect(page.get_by_text("Scheduled the assessment of Parking permits")).to_be_visible()

    # Publish the agenda.
    page.get_by_role("button", name="Publish the agenda").click()
    expect(page.get_by_text("Published the agenda")).to_be_visible()
    assessment = Assessment.objects.get(service=cast.service)
    assert assessment.status == "agenda"
    names = [item.criterion.name for item in assessment.items.select_related("criterion").order_by("position")]
    assert "Understand users and their needs" in names

    # Decide each criterion, then the result and the outcome.
    for name in names:
        criterion = page.get_by_role("group", name=name, exact=True)
        criterion.get_by_label("Met", exact=True).check()
        criterion.get_by_label("What the team did well").fill(f"Strong evidence for “{name}”.")
        criterion.get_by_label("What the team needs to improve").fill("Test with more residents.")
    whole = page.get_by_role("group", name="The assessment as a whole")
    whole.get_by_label("Met", exact=True).check()
    whole.get_by_label("Outcome").select_option(label="Progress to alpha: the needs are identified")
    whole.get_by_label("Summary of the assessment").fill("The needs are clear and evidenced.")
    page.get_by_role("button", name="Save the decisions").click()
    expect(page.get_by_text("Saved the decisions.")).to_be_visible()

    # Publish the report with the alpha budget.
    publish = page.get_by_role("region", name="Publish the report")
    publish.get_by_label("Budget for alpha").fill("150000")
    publish.get_by_label("Period of the alpha budget").fill("2026-27")
    publish.get_by_role("button", name="Publish the report").click()
    expect(page.get_by_text("Published the report. Parking permits is now in alpha.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Parking permits")).to_be_visible()
    expect(page.get_by_text("Progress to alpha: the needs are identified").first).to_be_visible()
    expect(page.get_by_text("£150,000.00")).to_be_visible()

    assessment.refresh_from_db()
    cast.service.refresh_from_db()
    assert assessment.status == "published" and assessment.result == "met"
    assert cast.service.lifecycle_stage == "alpha"
    assert cast.service.allocations.get().amount == Decimal("150000.00")

    # The service page now shows alpha, with the report linked.
    page.goto(f"/services/{cast.service.slug}/")
    expect(page.locator(".page-head .tag--alpha")).to_have_text("Alpha")
    lifecycle = page.get_by_role("region", name="Lifecycle")
    report_link = lifecycle.get_by_role("link", name=re.compile(r"discovery assessment"))
    expect(report_link).to_have_attribute("href", f"/assessments/{assessment.pk}/")
    expect(lifecycle.get_by_text("Moved to alpha")).to_be_visible()

    # The manager signs in and reads the report.
    manager = new_page()
    sign_in(manager, cast.manager.email, PASSWORD)
    manager.goto(f"/services/{cast.service.slug}/")
    manager.get_by_role("region", name="Lifecycle").get_by_role("link", name=re.compile(r"discovery assessment")).click()
    expect(manager.get_by_text("Assessment report", exact=True)).to_be_visible()
    expect(manager.get_by_role("heading", name="Understand users and their needs")).to_be_visible()
    expect(manager.get_by_text("Strong evidence for “Understand users and their needs”.")).to_be_visible()
    expect(manager.get_by_role("link", name="Version 1")).to_be_visible()
    # the manager may not add an addendum
    expect(manager.get_by_role("button", name="Add the addendum")).to_have_count(0)
