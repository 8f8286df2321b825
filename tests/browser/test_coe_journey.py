"""A Correction of Error in a real browser: a manager writes one up from the service's
page (timeline, a "5 whys" chain, a doctrine pattern that hurt, two corrective actions,
one row added without script) and publishes it; the executive schedules a review, finds
it on the agenda and records the review; the CoE then shows as reviewed (model 7)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from osom.learning.models import CoEReview, CorrectionOfError

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Permit renewals failed overnight"


def test_a_manager_publishes_a_coe_and_the_executive_reviews_it(cast, new_page):
    today = dt.date.today()
    happened = today - dt.timedelta(days=2)
    due = (today + dt.timedelta(days=30)).isoformat()

    # The manager starts from the service's page.
    manager = new_page()
    sign_in(manager, cast.manager.email, PASSWORD)
    manager.goto(f"/services/{cast.service.slug}/")
    learning = manager.get_by_role("region", name="Learning")
    learning.get_by_role("link", name="Write up a problem").click()
    expect(manager.get_by_role("heading", name=f"Write up a problem of {cast.service.name}")).to_be_visible()

    manager.get_by_label("Title").fill(TITLE)
    manager.get_by_label("When it happened").fill(happened.isoformat())
    manager.get_by_label("Users felt the problem").check()
    manager.get_by_label("The problem", exact=True).fill("Renewals failed between 02:00 and 08:00.")
    manager.get_by_label("Its impact").fill("300 residents could not renew their permits.")
    manager.get_by_label("The root cause", exact=True).fill("The signing certificate expired unnoticed.")
    manager.get_by_label("Lessons learned").fill("Every certificate has an owner and an alert.")

    manager.locator("#id_timeline-0-at").fill(f"{happened.isoformat()}T02:00")
    manager.locator("#id_timeline-0-description").fill("Renewals start failing")
    manager.locator("#id_whys-0-question").fill("Why did renewals fail?")
    manager.locator("#id_whys-0-why_1").fill("The certificate expired")
    manager.locator("#id_whys-0-why_2").fill("Nobody owned it")
    pattern = manager.locator("#patterns-0")
    pattern.get_by_label("Doctrine pattern").select_option(label="Manage failure (phase II)")
    pattern.get_by_label("Hurt").check()
    pattern.get_by_label("How").fill("No alert on expiry")

    first = manager.locator("#actions-0")
    first.get_by_label("Corrective action").fill("Alert 30 days before a certificate expires")
    first.get_by_label("Owner").select_option(value=cast.team_member.email)
    first.get_by_label("Due date").fill(due)
    # a third row, added by the server: what was typed stays
    manager.get_by_role("button", name="Add more actions").click()
    expect(manager.locator("#id_actions-2-description")).to_be_visible()
    expect(manager.locator("#id_actions-0-description")).to_have_value("Alert 30 days before a certificate expires")
    expect(manager.locator("#patterns-0").get_by_label("Hurt")).to_be_checked()
    second = manager.locator("#actions-1")
    second.get_by_label("Corrective action").fill("Name an owner for every certificate")
    second.get_by_label("Owner").select_option(value=cast.manager.email)
    second.get_by_label("Due date").fill(due)
    manager.get_by_role("button", name="Save the draft").last.click()
    expect(manager.get_by_text(f"Started the Correction of Error “{TITLE}”")).to_be_visible()

    # Its page reads back every part; the manager publishes it.
    expect(manager.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    chain = manager.locator(".coe-chain")
    expect(chain.locator("li")).to_have_count(2)
    expect(chain.locator("li").last).to_contain_text("Nobody owned it")
    hurt = manager.get_by_role("link", name=re.compile("Hurt Manage failure"))
    expect(hurt).to_be_visible()
    expect(manager.locator(".coe-action")).to_have_count(2)
    manager.get_by_role("button", name="Publish it").click()
    expect(manager.get_by_text("Published the Correction of Error.")).to_be_visible()
    coe = CorrectionOfError.objects.get(title=TITLE)
    assert coe.status == "published" and coe.actions.count() == 2
    assert [(e.pattern.slug, e.effect) for e in coe.pattern_effects.all()] == [("manage-failure", "hurt")]
    assert coe.why_chains.get().whys == ["The certificate expired", "Nobody owned it"]

    # The executive schedules a review and finds the CoE on its agenda.
    executive = new_page()
    sign_in(executive, cast.executive.email, PASSWORD)
    executive.get_by_role("navigation", name="Main").get_by_role("link", name="Corrections of Error").click()
    executive.get_by_role("navigation", name="Corrections of Error").get_by_role("link", name="Reviews").click()
    expect(executive.get_by_text("1 published Correction of Error awaits review")).to_be_visible()
    executive.get_by_role("link", name="Schedule a review").click()
    executive.get_by_label("Date of the review").fill(today.isoformat())
    executive.get_by_role("button", name="Schedule the review").click()
    expect(executive.get_by_text("Scheduled “Review of Corrections of Error")).to_be_visible()
    agenda = executive.get_by_role("region", name=re.compile("Agenda"))
    expect(agenda.get_by_role("link", name=TITLE)).to_be_visible()
    expect(agenda).to_contain_text("1 pattern hurt")

    # It is held: notes, a note on the CoE, the CoE ticked as gone through.
    executive.get_by_label("Notes of the review").fill("Certificates need owners in every service.")
    expect(executive.get_by_role("checkbox", name=re.compile(TITLE))).to_be_checked()
    executive.get_by_label(f"Note on “{TITLE}”").fill("Share the alert set-up with every team.")
    executive.get_by_role("button", name="Record the review").click()
    expect(executive.get_by_text("1 Correction of Error marked reviewed")).to_be_visible()
    review = CoEReview.objects.get()
    assert review.status == "held"

    # The CoE shows as reviewed, with the review and its note.
    executive.get_by_role("link", name=TITLE).click()
    expect(executive.locator(".page-head__tags")).to_contain_text("Reviewed")
    expect(executive.locator("#review")).to_contain_text(review.title)
    expect(executive.locator("#review")).to_contain_text("Share the alert set-up with every team.")
    manager.reload()
    expect(manager.locator(".page-head__tags")).to_contain_text("Reviewed")
    coe.refresh_from_db()
    assert coe.status == "reviewed" and coe.review == review
