"""Wardley maps in a real browser: a manager pastes a map of their service into the
editor, sees it drawn as they go with the line it did not understand, saves it, and
finds it on the service's page; the network map draws the demo organisation's services
from their contracts (model 5.4)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from osom.core.models import Person, Role
from osom.maps.models import MapVersion
from osom.network.demo import DEMO_PASSWORD, load_demo
from osom.network.models import Service

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASTED = """title Parking permits
anchor Resident [0.95, 0.5]
component Parking permits [0.72, 0.33]
component Identity [0.42, 0.6] (buy)
component Kerb sensors [0.5]
Resident->Parking permits
Parking permits->Identity
evolve Identity 0.8
"""


def test_a_manager_pastes_a_map_sees_the_preview_and_its_warning_saves_it_and_finds_it_on_the_service_page(cast, new_page):
    page = new_page()
    sign_in(page, cast.manager.email, PASSWORD)
    page.goto(f"/services/{cast.service.slug}/")
    panel = page.get_by_role("region", name="Wardley map")
    expect(panel).to_contain_text("No map drawn yet.")
    panel.get_by_role("link", name="Draw this service's map").click()
    expect(page.get_by_role("heading", name="Draw the map of Parking permits", level=1)).to_be_visible()

    # the editor starts from the contract; the manager pastes their own map over it
    text = page.get_by_label("Map text")
    expect(text).to_have_value(re.compile(r"anchor Resident \[[\d.]+, [\d.]+\]"))
    text.fill(PASTED)
    preview = page.locator("#map-preview")
    expect(preview).to_contain_text("Line 5:")
    expect(preview).to_contain_text("Kerb sensors")
    expect(preview).to_contain_text("1 line was not understood.")
    expect(preview.locator("svg")).to_contain_text("Identity")
    expect(preview.locator("svg")).to_contain_text("Resident")

    page.get_by_label("What changed").fill("First map, pasted")
    page.get_by_role("button", name="Save the map").click()
    expect(page.get_by_text("Saved version 1 of the map of Parking permits.")).to_be_visible()
    expect(page.get_by_role("heading", name="Wardley map of Parking permits", level=1)).to_be_visible()
    expect(page.locator(".map-warnings")).to_contain_text("Line 5:")
    assert MapVersion.objects.get().text == PASTED

    page.goto(f"/services/{cast.service.slug}/")
    panel = page.get_by_role("region", name="Wardley map")
    expect(panel).to_contain_text("Version 1, saved")
    expect(panel).to_contain_text("1 line not understood")
    expect(panel.locator("svg")).to_contain_text("Parking permits")
    expect(panel.get_by_role("link", name="Change the map")).to_be_visible()
    panel.get_by_role("link", name="The map of Parking permits and its versions").click()
    expect(page.get_by_role("heading", name="Wardley map of Parking permits", level=1)).to_be_visible()


def test_the_network_map_draws_the_demo_organisations_services(new_page):
    load_demo()
    executive = Person.objects.get(role=Role.EXECUTIVE)
    page = new_page()
    sign_in(page, executive.email, DEMO_PASSWORD)
    page.goto("/network/map/")
    expect(page.get_by_role("heading", name="Network map", level=1)).to_be_visible()
    drawing = page.locator("figure.map-figure svg")
    expect(drawing).to_be_visible()
    drawn = drawing.text_content()
    running = list(Service.objects.exclude(lifecycle_stage="decommissioned").values_list("name", flat=True))
    assert len(running) > 10
    missing = [name for name in running if name not in drawn]
    assert missing == []
    expect(page.get_by_role("status")).to_contain_text(f"{len(running)} services shown")

    # what one journey depends on, from a filter the page keeps in its export links
    journey = Service.objects.filter(user_type="external").exclude(lifecycle_stage="decommissioned").order_by("name").first()
    page.goto(f"/network/map/?around={journey.slug}")
    expect(page.get_by_text(f"Showing {journey.name} and every service it depends on")).to_be_visible()
    expect(page.get_by_role("link", name="Download as map text (.owm)")).to_have_attribute(
        "href", f"/network/map.owm?around={journey.slug}")
