"""A doctrine self-assessment in a real browser: the manager of a service opens a round;
three of its people — the manager and two team members — rate patterns on the rate page,
each in their own session; the round's grid then shows each cell in the colour its
ratings make (model 9): good + good + partly is good, good + partly is partly,
weak + unknown is weak, unknown alone is unknown, and a pattern nobody rated is unknown.
A respondent coming back finds their ratings filled in; the manager closes the round."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from osom.core.actions import create_person
from osom.learning.models import DoctrineRating, DoctrineRound
from osom.network.actions import add_team_member
from osom.network.models import ProfessionalRole

from ..conftest import PASSWORD
from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# what each respondent says: pattern (as the page names it) → rating
MANAGER = {"Know your users": "Good", "Focus on user needs": "Good", "Manage failure": "Weak",
           "Think small teams": "Weak"}
TEAM_MEMBER = {"Know your users": "Good", "Focus on user needs": "Partly", "Be transparent": "Unknown",
               "Think small teams": "Partly"}
ANOTHER = {"Know your users": "Partly", "Manage failure": "Unknown", "Think small teams": "Good"}

EXPECTED = {
    "know-your-users": "good",  # good + good + partly: mean 1.67
    "focus-on-user-needs": "partly",  # good + partly: mean 1.5, on the boundary, so the cautious colour
    "manage-failure": "weak",  # weak + unknown: unknown counts for nothing
    "be-transparent": "unknown",  # unknown alone
    "think-small-teams": "partly",  # weak + partly + good: mean 1
    "move-fast": "unknown",  # nobody rated it
}


def _rate(page, round_pk: int, answers: dict[str, str], evidence: dict[str, str] | None = None) -> None:
    page.goto(f"/doctrine/rounds/{round_pk}/")
    page.get_by_role("link", name="Rate the patterns").click()
    expect(page.get_by_role("heading", name="Rate Parking permits against the doctrine")).to_be_visible()
    for pattern, rating in answers.items():
        page.get_by_role("group", name=pattern, exact=True).get_by_label(rating, exact=True).check()
    for pattern, text in (evidence or {}).items():
        page.get_by_role("group", name=pattern, exact=True).get_by_label("Evidence").fill(text)
    page.get_by_role("button", name="Save my ratings").click()
    expect(page.get_by_text(f"Saved {len(answers)} ratings. Thank you.")).to_be_visible()


def test_three_respondents_rate_and_the_grid_shows_the_colours_their_ratings_make(cast, new_page):
    another = create_person(actor=cast.executive, email="kai@example.org", name="Kai Coder", password=PASSWORD)
    add_team_member(actor=cast.manager, service=cast.service, person=another,
                    role=ProfessionalRole.objects.get(name="Software developer"), level="practitioner")

    # The manager opens a self-assessment of the service from the self-assessments page.
    manager_page = new_page()
    sign_in(manager_page, cast.manager.email, PASSWORD)
    manager_page.goto("/doctrine/rounds/")
    manager_page.get_by_role("link", name=f"Open one for {cast.service.name}").click()
    manager_page.get_by_label("Title").fill("Parking permits, spring")
    manager_page.get_by_role("button", name="Open the self-assessment").click()
    expect(manager_page.get_by_text("Opened “Parking permits, spring”")).to_be_visible()
    rnd = DoctrineRound.objects.get(title="Parking permits, spring")

    # Three people rate, each in their own session.
    _rate(manager_page, rnd.pk, MANAGER)
    team_page = new_page()
    sign_in(team_page, cast.team_member.email, PASSWORD)
    _rate(team_page, rnd.pk, TEAM_MEMBER, evidence={"Know your users": "We met 40 residents in March."})
    another_page = new_page()
    sign_in(another_page, another.email, PASSWORD)
    _rate(another_page, rnd.pk, ANOTHER)
    assert DoctrineRating.objects.filter(round=rnd).values("respondent").distinct().count() == 3

    # The grid, as anyone sees it: each cell's colour, and the colour said in words.
    manager_page.goto(f"/doctrine/rounds/{rnd.pk}/")
    expect(manager_page.get_by_text("3 respondents")).to_be_visible()
    grid = manager_page.get_by_role("table", name="The forty doctrine patterns by group and phase")
    expect(grid.locator("li[data-colour]")).to_have_count(40)
    for slug, colour in EXPECTED.items():
        cell = grid.locator(f"li[data-pattern='{slug}']")
        expect(cell).to_have_attribute("data-colour", colour)
        expect(cell.locator(".lg-cell__verdict")).to_have_text(re.compile(rf"^\W*{colour.capitalize()}$"))
    expect(grid.locator("li[data-pattern='know-your-users']")).to_contain_text("2 good, 1 partly")
    # the colours really differ on the screen, not only in the markup
    fills = {slug: grid.locator(f"li[data-pattern='{slug}']").evaluate("e => getComputedStyle(e).backgroundColor")
             for slug in ("know-your-users", "focus-on-user-needs", "manage-failure")}
    assert len(set(fills.values())) == 3, fills
    expect(manager_page.locator("#evidence-know-your-users")).to_contain_text("We met 40 residents in March.")
    todo = manager_page.get_by_role("region", name="What to work on next")
    expect(todo.locator("li").first).to_contain_text("Focus on user needs")  # phase I comes first

    # Coming back, the team member finds their ratings filled in.
    team_page.goto(f"/doctrine/rounds/{rnd.pk}/rate/")
    group = team_page.get_by_role("group", name="Focus on user needs", exact=True)
    expect(group.get_by_label("Partly", exact=True)).to_be_checked()
    expect(team_page.get_by_role("group", name="Know your users", exact=True).get_by_label("Evidence")).to_have_value(
        "We met 40 residents in March.")

    # The manager closes the round: it takes no more ratings.
    manager_page.get_by_role("button", name="Close the self-assessment").click()
    expect(manager_page.get_by_text("Closed the self-assessment.")).to_be_visible()
    expect(manager_page.get_by_role("link", name="Rate the patterns")).to_have_count(0)
    rnd.refresh_from_db()
    assert rnd.status == "closed"
