"""The founding journey in a real browser: establish, appoint, find, draft, approve, diff."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from osom.network.models import Service

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_executive_establishes_a_service_and_its_manager_changes_the_contract(cast, new_page):
    # The executive establishes a service through the seven steps, appointing its manager.
    exec_page = new_page()
    sign_in(exec_page, cast.executive.email, PASSWORD)
    exec_page.get_by_role("link", name="Establish a service").click()

    exec_page.get_by_label("Name of the service").fill("Book a bulky waste collection")
    exec_page.get_by_role("button", name="Continue").click()

    exec_page.get_by_label("External users", exact=True).check()
    exec_page.get_by_label("As a").fill("resident with a broken sofa")
    exec_page.get_by_label("I need").fill("to have large items collected from my home")
    exec_page.get_by_label("So that").fill("I can get rid of them safely without a car")
    exec_page.get_by_role("button", name="Continue").click()

    exec_page.get_by_label("Metric", exact=True).fill("Collections completed on the booked day")
    exec_page.get_by_label("Unit", exact=True).fill("%")
    exec_page.get_by_label(re.compile(r"^Target")).fill("95")
    exec_page.get_by_label(re.compile(r"1\. As resident")).check()
    exec_page.get_by_role("button", name="Continue").click()

    exec_page.get_by_label("What the service is").fill("Residents book a collection of bulky household waste.")
    exec_page.get_by_role("button", name="Continue").click()

    exec_page.get_by_role("button", name="Add another dependency").click()
    exec_page.get_by_label("Service consumed").fill("Identity")
    exec_page.get_by_role("button", name="Continue").click()

    exec_page.get_by_label(re.compile(r"Custom-built —")).check()
    exec_page.get_by_role("button", name="Continue").click()

    exec_page.get_by_label(re.compile("who is accountable")).select_option(label=f"{cast.manager.name} ({cast.manager.email})")
    exec_page.get_by_role("button", name="Continue").click()

    expect(exec_page.get_by_role("heading", name="Review the contract before it is published")).to_be_visible()
    exec_page.get_by_role("button", name="Establish the service").click()
    expect(exec_page.get_by_role("heading", level=1, name="Book a bulky waste collection")).to_be_visible()
    expect(exec_page.locator(".tag--discovery").first).to_be_visible()

    service = Service.objects.get(name="Book a bulky waste collection")
    assert service.manager_id == cast.manager.pk
    assert service.current_version.dependencies.get().provider == cast.other_service

    # The executive finds it in the network list.
    exec_page.get_by_role("link", name="Service network").first.click()
    exec_page.get_by_label("Search", exact=True).fill("bulky")
    expect(exec_page.locator("#network-results").get_by_role("link", name="Book a bulky waste collection")).to_be_visible()
    expect(exec_page.locator("#network-results").get_by_role("link", name="Parking permits")).to_have_count(0)

    # Its manager signs in and drafts a new version.
    manager_page = new_page()
    sign_in(manager_page, cast.manager.email, PASSWORD)
    manager_page.goto(f"/services/{service.slug}/")
    manager_page.get_by_role("button", name="Draft a new version").click()
    manager_page.get_by_label("What the service is").fill(
        "Residents book a collection of bulky household waste, and pay for it online."
    )
    manager_page.get_by_label("What changed and why").fill("Payment moved online.")
    manager_page.get_by_role("button", name="Save the draft").click()
    expect(manager_page.get_by_text("Saved draft version 2.")).to_be_visible()
    manager_page.get_by_role("button", name="Submit for approval").click()
    expect(manager_page.get_by_text("Awaiting approval")).to_be_visible()

    # The executive approves it.
    exec_page.goto(f"/services/{service.slug}/versions/2/")
    exec_page.get_by_role("button", name="Approve version 2").click()
    expect(exec_page.get_by_text("it is now the current contract")).to_be_visible()

    # The diff shows the change.
    exec_page.get_by_role("link", name="See what changed since version 1").click()
    expect(exec_page.locator(".diff ins", has_text="and pay for it online.")).to_be_visible()
    service.refresh_from_db()
    assert service.current_version.number == 2
