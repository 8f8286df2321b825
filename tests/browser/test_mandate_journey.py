"""A mandate and a piece of guidance in a real browser: the executive issues a mandate to
two services; one manager acknowledges and completes it; the burn-up shows 1 of 2 done.
The executive publishes guidance; the manager rejects it for their service with a
rationale; the service page shows the rejection, and so does the service's next
assessment, where the service accounts for it (model 5.5, 5.6)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from osom.governance.models import Guidance, Mandate, MandateTarget
from osom.lifecycle import actions as lifecycle_actions

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GUIDANCE = "Take payments through the shared platform"


def test_a_mandate_burns_up_as_managers_complete_it_and_rejected_guidance_reaches_the_assessment(cast, new_page):
    due = (dt.date.today() + dt.timedelta(days=60)).isoformat()

    # The executive drafts a mandate for two services and issues it.
    exec_page = new_page()
    sign_in(exec_page, cast.executive.email, PASSWORD)
    exec_page.get_by_role("navigation", name="Main").get_by_role("link", name="Mandates").click()
    exec_page.get_by_role("link", name="Draft a mandate").click()
    expect(exec_page.get_by_text("cannot change a contract")).to_be_visible()
    exec_page.get_by_label("Title").fill("Move to the shared sign-in")
    exec_page.get_by_label("What must change").fill("Sign people in through **Identity**; retire your own log-in pages.")
    exec_page.get_by_label("Due date").fill(due)
    expect(exec_page.get_by_label("The services I choose from a list")).to_be_checked()
    exec_page.get_by_label("Services", exact=True).select_option(label=[cast.service.name, cast.other_service.name])
    exec_page.get_by_role("button", name="Save the draft").click()
    expect(exec_page.get_by_text("Drafted the mandate")).to_be_visible()
    exec_page.get_by_role("button", name="Issue the mandate").click()
    expect(exec_page.get_by_text("Issued the mandate to 2 services")).to_be_visible()
    mandate = Mandate.objects.get(title="Move to the shared sign-in")
    assert mandate.status == "issued" and mandate.targets.count() == 2

    # Its manager finds it on the dashboard, acknowledges it, then completes it.
    manager_page = new_page()
    sign_in(manager_page, cast.manager.email, PASSWORD)
    manager_page.get_by_role("link", name="Dashboard").click()
    manager_page.get_by_role("link", name="Move to the shared sign-in").click()
    manager_page.get_by_role("button", name=f"Acknowledge for {cast.service.name}").click()
    expect(manager_page.get_by_text(f"{cast.service.name} has acknowledged the mandate.")).to_be_visible()
    manager_page.get_by_label("Progress so far").fill("Residents now sign in through Identity.")
    manager_page.get_by_label("The service has done what the mandate asks").check()
    manager_page.get_by_role("button", name=f"Report progress for {cast.service.name}").click()
    expect(manager_page.get_by_text(f"{cast.service.name} has done what the mandate asks.")).to_be_visible()
    assert MandateTarget.objects.get(mandate=mandate, service=cast.service).status == "done"

    # The executive sees the burn-up: 1 of 2 done, in words, in the chart and in its table.
    exec_page.reload()
    burn_up = exec_page.get_by_role("region", name="Progress over time")
    expect(burn_up.locator(".gv-figures")).to_contain_text("1 of 2 services done")
    expect(burn_up.get_by_role("img", name=re.compile("Burn-up of the mandate"))).to_be_visible()
    last_row = burn_up.locator("#burnup-data tbody tr").last
    expect(last_row.locator("td")).to_have_text(["1", "1", "2"])
    expect(exec_page.locator(f"#target-{mandate.targets.get(service=cast.service).pk}")).to_contain_text("Done")

    # The executive publishes guidance; the manager rejects it for the service, with reasons.
    exec_page.get_by_role("navigation", name="Main").get_by_role("link", name="Guidance").click()
    exec_page.get_by_role("link", name="Draft guidance").click()
    exec_page.get_by_label("Title").fill(GUIDANCE)
    exec_page.get_by_label("The guidance", exact=True).fill("Use the organisation's payment platform for every payment.")
    exec_page.get_by_label("Category").select_option(label="Technology choice")
    exec_page.get_by_label("Where it comes from").select_option(label="Good practice outside the organisation")
    exec_page.get_by_role("button", name="Save the draft").click()
    exec_page.get_by_role("button", name="Publish the guidance").click()
    expect(exec_page.get_by_text("Published the guidance.")).to_be_visible()

    manager_page.get_by_role("link", name=re.compile("^Notifications")).click()
    manager_page.get_by_role("link", name=re.compile(f"New guidance: {GUIDANCE}")).click()
    decide = manager_page.locator(f"#decide-{cast.service.slug}")
    decide.get_by_label("Reject it: it does not fit this service").check()
    decide.get_by_label("Why").fill("Permits are paid by direct debit, which the platform does not take.")
    decide.get_by_role("button", name=re.compile("Record the decision")).click()
    expect(manager_page.get_by_text(f"{cast.service.name} rejects this guidance.")).to_be_visible()

    # The service page shows the rejection, with its rationale.
    manager_page.goto(f"/services/{cast.service.slug}/")
    rejected = manager_page.get_by_role("region", name=re.compile("Guidance rejected"))
    expect(rejected.get_by_role("link", name=GUIDANCE)).to_be_visible()
    expect(rejected).to_contain_text("direct debit")

    # The next assessment of the service: its agenda should show what it accounts for.
    guidance = Guidance.objects.get(title=GUIDANCE)
    assert guidance.decisions.get(service=cast.service).decision == "reject"
    assessment = lifecycle_actions.schedule_assessment(
        actor=cast.executive, service=cast.service, kind="transition",
        scheduled_for=dt.date.today() + dt.timedelta(days=14), assessors=[cast.executive])
    lifecycle_actions.publish_assessment_agenda(actor=cast.executive, assessment=assessment)
    response = manager_page.goto(f"/assessments/{assessment.pk}/")
    assert response is not None and response.status == 200
    expect(manager_page.get_by_role("link", name=GUIDANCE)).to_be_visible()
    expect(manager_page.get_by_text("direct debit")).to_be_visible()
