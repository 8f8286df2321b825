"""Accessibility in a real browser. axe-core (from the project's own node_modules, see
``axe.py``) checks every main page as the executive, and the pages and forms that differ
for a service manager as one, over the demo organisation (made through the actions): no
page may have a serious or critical violation. Forms must tie their hints and errors to
their fields and, sent with mistakes, take the focus to a summary of them. A few forms
are filled and submitted with the keyboard alone, and every control reached shows where
the focus is."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from osom.core.models import Person, Role
from osom.fitness.models import Aggregation, ConsumptionShare
from osom.governance.models import Deviation, Dispute, Guidance, Mandate, Proposal
from osom.learning import actions as learning
from osom.learning.models import CoEReview, Community, CorrectionOfError, DoctrineRound
from osom.lifecycle.models import Assessment, AssessmentStatus
from osom.maps.models import MapVersion
from osom.network import actions as network
from osom.network.demo import DEMO_PASSWORD, load_demo
from osom.network.models import ContractVersion, Service

from ..conftest import PASSWORD
from .axe import describe, require_axe, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login" not in url)


class Checker:
    """Loads pages in one signed-in browser page and runs axe on each."""

    def __init__(self, page, who: str):
        self.page, self.who = page, who
        self.problems: list[str] = []
        self.checked: list[str] = []

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        if response is None or response.status != 200:
            self.problems.append(f"{self.who} {path}: answered {response.status if response else None}")
            return
        self.check(path)

    def check(self, where: str) -> None:
        self.checked.append(where)
        self.problems += describe(f"{self.who} {where}", serious_violations(self.page))

    def assert_clean(self) -> None:
        assert self.checked, "no page was checked"
        assert not self.problems, (
            f"serious or critical accessibility problems on {len(self.checked)} pages checked:\n" + "\n".join(self.problems))


def test_the_checks_find_serious_problems_and_focus_that_cannot_be_seen(browser):
    require_axe()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.route("http://checks.invalid/", lambda route: route.fulfill(content_type="text/html; charset=utf-8", body=(
            "<!doctype html><html lang='en'><title>t</title><style>button:focus{outline:none}</style>"
            "<main><h1>Checks</h1><img src='data:image/gif;base64,R0lGODlhAQABAAAAACw='>"
            "<input type='text'><p style='color:#bbb;background:#fff'>Pale words</p>"
            "<button>Go</button></main>")))
        page.goto("http://checks.invalid/")
        found = {v["id"] for v in serious_violations(page)}
        assert {"image-alt", "label", "color-contrast"} <= found, found
        keys = Keyboard(page)
        keys.to("button")
        assert "http://checks.invalid/: button Go" in keys.unseen
    finally:
        context.close()


def _first(queryset, what: str):
    found = queryset.first()
    assert found is not None, f"the demo organisation has no {what}"
    return found


@dataclass
class Demo:
    executive: Person
    manager: Person  # manages ``service``
    service: Service
    draft: ContractVersion  # the manager's open draft of ``service``
    coe: CorrectionOfError  # published, of ``service``
    own_coe: CorrectionOfError  # the manager's draft
    own_round: DoctrineRound  # open, of ``service``


def _demo() -> Demo:
    """The demo organisation, and what the pages below need from it."""
    load_demo()
    executive = Person.objects.get(role=Role.EXECUTIVE)
    coe = _first(CorrectionOfError.objects.filter(status=CorrectionOfError.Status.PUBLISHED)
                 .exclude(service__manager=None).select_related("service__manager"), "published Correction of Error")
    service = coe.service
    manager = service.manager
    # Things of the manager's own, so that their forms and pages have something to show.
    draft = network.draft_contract_version(actor=manager, service=service, change_note="Tidy the needs.")
    own_coe = learning.write_coe(actor=manager, service=service, content={
        "title": "Payments were taken twice", "occurred_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat()})
    own_round = learning.open_doctrine_round(actor=manager, service=service)
    return Demo(executive, manager, service, draft, coe, own_coe, own_round)


def _main_pages(service: Service, draft: ContractVersion) -> list[str]:
    """The pages everyone may open, with the demo's objects in them."""
    versioned = (Service.objects.filter(versions__number__gte=2, versions__status="approved").distinct().first()
                 or service)
    mandate = _first(Mandate.objects.filter(status="issued"), "issued mandate")
    reported = _first(Assessment.objects.filter(status=AssessmentStatus.PUBLISHED), "published report")
    coming = _first(Assessment.objects.filter(status=AssessmentStatus.AGENDA), "assessment with its agenda")
    closed_round = _first(DoctrineRound.objects.filter(status=DoctrineRound.Status.CLOSED), "closed doctrine round")
    reviewed = _first(CorrectionOfError.objects.filter(status=CorrectionOfError.Status.REVIEWED), "reviewed CoE")
    figure = _first(Aggregation.objects.filter(retired_at=None), "executive figure")
    mapped = _first(MapVersion.objects.select_related("service"), "service map").service
    period = _first(ConsumptionShare.objects.select_related("provider"), "consumption share").period
    flowing = _first(ConsumptionShare.objects.filter(period=period).select_related("consumer"), "consumer").consumer
    return [
        "/", f"/services/{service.slug}/", f"/services/{versioned.slug}/compare/",
        f"/services/{versioned.slug}/versions/1/", f"/services/{service.slug}/versions/{draft.number}/",
        "/assessments/", "/assessments/due/", "/assessments/criteria/",
        f"/assessments/{coming.pk}/", f"/assessments/{reported.pk}/", f"/assessments/{reported.pk}/report/",
        "/budgets/", f"/services/{service.slug}/budget/", "/dashboard/", "/notifications/",
        "/mandates/", f"/mandates/{mandate.pk}/",
        "/guidance/", f"/guidance/{_first(Guidance.objects.filter(status='published'), 'published guidance').pk}/",
        "/disputes/", f"/disputes/{_first(Dispute.objects.all(), 'dispute').pk}/",
        "/proposals/", f"/proposals/{_first(Proposal.objects.filter(status='open'), 'open proposal').pk}/",
        "/proposals/new/", "/duplicates/",
        "/deviations/", f"/deviations/{_first(Deviation.objects.all(), 'deviation').pk}/",
        "/audit/", "/people/", "/organisation/",
        "/doctrine/", "/doctrine/rounds/", f"/doctrine/rounds/{closed_round.pk}/", "/doctrine/heat-map/",
        "/coes/", f"/coes/{reviewed.pk}/", "/coe-reviews/", f"/coe-reviews/{_first(CoEReview.objects.all(), 'review').pk}/",
        "/learning/figures/", "/communities/", f"/communities/{_first(Community.objects.all(), 'community').pk}/",
        "/communities/coverage/", "/open-roles/", "/disputes/new/evaluation/",
        "/fitness/", "/fitness/standard-measures/", "/fitness/figures/", f"/fitness/figures/{figure.slug}/",
        "/fitness/capital-flow/", f"/fitness/capital-flow/{period}/{flowing.slug}/", f"/services/{service.slug}/fitness/",
        "/network/map/", "/network/cycles/", f"/services/{mapped.slug}/map/", f"/services/{service.slug}/impact/",
        f"/services/{service.slug}/neighbourhood/",
    ]


def _searched(checker: Checker) -> None:
    """The network list filtered as it is typed: its results are swapped in by htmx."""
    page = checker.page
    page.goto("/")
    with page.expect_response(lambda r: "q=" in r.url):
        page.get_by_label("Search", exact=True).fill("council")
    expect(page.locator("#network-results")).to_contain_text("Council", ignore_case=True)
    checker.check("/ searched")


def test_every_main_page_has_no_serious_accessibility_problem_for_the_executive(new_page):
    require_axe()
    demo = _demo()
    executive, service, draft = demo.executive, demo.service, demo.draft

    anonymous = Checker(new_page(), "signed out")
    anonymous.visit("/accounts/login/")
    anonymous.page.get_by_role("button", name="Sign in").click()  # nothing filled in: the errors shown
    anonymous.check("/accounts/login/ with errors")

    page = new_page()
    _sign_in(page, executive.email, DEMO_PASSWORD)
    checker = Checker(page, "executive")
    for path in _main_pages(service, draft):
        checker.visit(path)
    for path in (f"/people/{executive.pk}/", f"/coes/{demo.coe.pk}/", "/services/new/", "/services/new/needs/",
                 f"/services/{service.slug}/assessments/new/", "/mandates/new/", "/guidance/new/", "/deviations/new/",
                 "/organisation/reserved-acts/", "/doctrine/rounds/new/", "/coe-reviews/new/", "/communities/new/",
                 "/fitness/figures/new/"):
        checker.visit(path)
    # Forms sent empty: the fields in error, and their messages.
    page.goto("/mandates/new/")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".field-error").first).to_be_visible()
    checker.check("/mandates/new/ with errors")
    page.goto("/services/new/")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".field-error").first).to_be_visible()
    checker.check("/services/new/ with errors")
    _searched(checker)
    anonymous.assert_clean()
    checker.assert_clean()


def test_a_service_managers_pages_and_forms_have_no_serious_accessibility_problem(new_page):
    """The pages that differ for a manager (their services, their dashboard, the forms
    they fill) — the rest are the executive's pages above with fewer buttons."""
    require_axe()
    demo = _demo()
    manager, service, draft, coe, own_coe, own_round = (
        demo.manager, demo.service, demo.draft, demo.coe, demo.own_coe, demo.own_round)
    page = new_page()
    _sign_in(page, manager.email, DEMO_PASSWORD)
    checker = Checker(page, "manager")
    mandate = _first(Mandate.objects.filter(targets__service__manager=manager).distinct(), "mandate to the manager")
    guidance = _first(Guidance.objects.filter(status="published"), "published guidance")
    for path in ("/", "/dashboard/", "/notifications/", f"/people/{manager.pk}/", f"/services/{service.slug}/",
                 f"/services/{service.slug}/budget/", f"/services/{service.slug}/versions/{draft.number}/",
                 f"/services/{service.slug}/versions/{draft.number}/edit/", f"/services/{service.slug}/team/",
                 f"/services/{service.slug}/dependencies/", f"/services/{service.slug}/disputes/new/",
                 f"/mandates/{mandate.pk}/", f"/guidance/{guidance.pk}/", "/proposals/new/", "/disputes/new/evaluation/",
                 f"/coes/{coe.pk}/", f"/services/{service.slug}/coes/new/", f"/coes/{own_coe.pk}/",
                 f"/coes/{own_coe.pk}/edit/", f"/doctrine/rounds/{own_round.pk}/", f"/doctrine/rounds/{own_round.pk}/rate/",
                 "/communities/", "/open-roles/", f"/services/{service.slug}/open-roles/new/",
                 f"/services/{service.slug}/fitness/", f"/services/{service.slug}/fitness/record/",
                 f"/services/{service.slug}/fitness/upload/", f"/services/{service.slug}/fitness/tokens/",
                 f"/services/{service.slug}/capital-flow/shares/", f"/services/{service.slug}/capital-flow/transactions/",
                 f"/services/{service.slug}/map/", f"/services/{service.slug}/map/edit/"):
        checker.visit(path)
    page.goto(f"/services/{service.slug}/coes/new/")
    page.get_by_role("button", name="Save the draft").click()
    expect(page.locator(".field-error").first).to_be_visible()
    checker.check(f"/services/{service.slug}/coes/new/ with errors")
    _searched(checker)
    checker.assert_clean()


# ---------------------------------------------------------------- forms and their messages

# Every id that an ARIA reference or a label points to, which the page does not have.
_DANGLING = """
() => {
  const out = [];
  for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby], [aria-controls], label[for]')) {
    for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'for']) {
      for (const id of (el.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) out.push(`${el.tagName.toLowerCase()}#${el.id} ${attr}="${id}"`);
      }
    }
  }
  return out;
}
"""


def _forms(cast) -> list[tuple[object, str, str]]:
    """(who, form, its submit button) for forms of each app, executive's and manager's."""
    slug = cast.service.slug
    return [
        (cast.executive, "/mandates/new/", "Save the draft"), (cast.executive, "/guidance/new/", "Save the draft"),
        (cast.executive, "/deviations/new/", "Record the deviation"), (cast.executive, "/services/new/", "Continue"),
        (cast.executive, "/coe-reviews/new/", "Schedule the review"),
        (cast.team_member, "/communities/new/", "Form the community"),
        (cast.manager, f"/services/{slug}/disputes/new/", "Raise the dispute"),
        (cast.manager, f"/services/{slug}/coes/new/", "Save the draft"),
    ]


def _send_empty(new_page, cast, check) -> list[str]:
    """Open each form, check it, send it empty, check it again; the problems found."""
    problems, pages = [], {}
    for person, path, button in _forms(cast):
        if person.pk not in pages:
            pages[person.pk] = new_page()
            _sign_in(pages[person.pk], person.email, PASSWORD)
        page = pages[person.pk]
        page.goto(path)
        problems += [f"{path}: {p}" for p in check(page, sent=False)]
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator(".field-error, .error-summary").first).to_be_visible()
        page.wait_for_load_state("load")  # the page's own scripts have run
        problems += [f"{path} sent empty: {p}" for p in check(page, sent=True)]
    return problems


def test_every_form_field_is_described_by_its_hint_and_its_error_messages(cast, new_page):
    problems = _send_empty(new_page, cast, lambda page, sent: page.evaluate(_DANGLING))
    assert not problems, "references to ids the page does not have:\n" + "\n".join(problems)


def test_a_form_sent_with_mistakes_takes_the_focus_to_a_summary_of_them(cast, new_page):
    def focus(page, sent):
        if not sent:
            return []
        inside = page.evaluate("() => !!document.activeElement.closest('.error-summary')")
        return [] if inside else ["the focus is not on a summary of the errors"]

    problems = _send_empty(new_page, cast, focus)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- the keyboard alone

# Where the focus is, and whether it can be seen: an outline or a ring drawn around the
# focused control (or, for a control styled inside its label, around the label).
_FOCUS = """
(selector) => {
  const el = document.activeElement;
  const shows = (node) => {
    if (!node || node === document.body) return false;
    const s = getComputedStyle(node);
    return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || (s.boxShadow && s.boxShadow !== 'none');
  };
  const name = el.id ? '#' + el.id : (el.getAttribute('name') || el.textContent.trim().slice(0, 40));
  // A date field's calendar button lives inside the browser's own control, out of the
  // page's reach; the browser draws its focus ring.
  const picker = el.tagName === 'INPUT' && /^(date|datetime-local|time|month|week)$/.test(el.type) && !el.matches(':focus');
  return {hit: el.matches(selector), visible: picker || shows(el) || shows(el.parentElement),
          what: el.tagName.toLowerCase() + ' ' + name};
}
"""


class Keyboard:
    """Moves through a page with Tab and Shift+Tab only, noting any stop whose focus
    cannot be seen."""

    def __init__(self, page):
        self.page = page
        self.unseen: list[str] = []
        self.stops = 0

    def to(self, selector: str, *, back: bool = False, limit: int = 120) -> None:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            self.stops += 1
            where = self.page.evaluate(_FOCUS, selector)
            if not where["visible"]:
                self.unseen.append(f"{self.page.url}: {where['what']}")
            if where["hit"]:
                return
        raise AssertionError(f"{'Shift+Tab' if back else 'Tab'} never reached {selector} on {self.page.url}")

    def type(self, selector: str, text: str, *, replace: bool = False) -> None:
        self.to(selector)
        if replace:
            self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.type(text)

    def assert_focus_seen(self) -> None:
        assert self.stops, "the keyboard never moved"
        assert not self.unseen, "focus cannot be seen on:\n" + "\n".join(self.unseen)


def _keyboard_page(new_page, person) -> tuple:
    page = new_page()
    _sign_in(page, person.email, PASSWORD)
    return page, Keyboard(page)


def _type_date(keys: Keyboard, selector: str, day: dt.date) -> None:
    """A date field, typed the way the browser's own date control takes it."""
    keys.to(selector)
    order = keys.page.evaluate("() => new Intl.DateTimeFormat().formatToParts(new Date(2001, 1, 3))"
                               ".filter(p => p.type !== 'literal').map(p => p.type)")
    parts = {"day": f"{day.day:02d}", "month": f"{day.month:02d}", "year": f"{day.year}"}
    for part in order:
        keys.page.keyboard.type(parts[part])
    assert keys.page.locator(selector).input_value() == day.isoformat()


def test_a_manager_drafts_a_contract_version_with_the_keyboard_alone(cast, new_page):
    page, keys = _keyboard_page(new_page, cast.manager)
    page.goto(f"/services/{cast.service.slug}/")
    keys.to("form[action$='/draft/'] button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Edit draft version 2")
    keys.type("#id_purpose", "Residents apply for a parking permit online and get it at once.", replace=True)
    keys.to("button[type=submit]:not([name])")  # past every row of the contract, to the save button
    keys.to("#id_change_note", back=True)
    page.keyboard.type("Permits are issued at once.")
    keys.to("button[type=submit]:not([name])")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Saved draft version 2.")).to_be_visible()
    version = cast.service.versions.get(number=2)
    assert version.purpose == "Residents apply for a parking permit online and get it at once."
    assert version.change_note == "Permits are issued at once."
    keys.assert_focus_seen()


def test_a_team_member_writes_a_correction_of_error_with_the_keyboard_alone(cast, new_page):
    page, keys = _keyboard_page(new_page, cast.team_member)
    page.goto(f"/services/{cast.service.slug}/coes/new/")
    keys.type("#id_title", "Renewal letters went to old addresses")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    _type_date(keys, "#id_occurred_on", yesterday)
    keys.to("#id_users_affected")
    page.keyboard.press("Space")
    keys.type("#id_problem", "Letters used addresses from before people moved.")
    keys.type("#id_impact", "About 40 residents missed their renewal.")
    page.keyboard.press("Shift+Tab")  # back to the problem, and on again
    keys.to("#id_impact")
    page.keyboard.press("Enter")  # a new line in the text, not a submission
    page.keyboard.type("Some paid a fine.")
    keys.to("#id_title", back=True)
    page.keyboard.press("Enter")  # Enter in a one-line field saves the draft
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renewal letters went to old addresses")
    coe = CorrectionOfError.objects.get()
    assert coe.status == CorrectionOfError.Status.DRAFT and coe.users_affected and coe.occurred_on == yesterday
    assert coe.impact.replace("\r\n", "\n") == "About 40 residents missed their renewal.\nSome paid a fine."
    keys.assert_focus_seen()


def test_the_executive_drafts_a_mandate_with_the_keyboard_alone(cast, new_page):
    page, keys = _keyboard_page(new_page, cast.executive)
    page.goto("/mandates/new/")
    keys.type("#id_title", "Publish performance data monthly")
    keys.type("#id_instruction", "Publish each **metric** of the contract every month.")
    due = timezone.localdate() + dt.timedelta(days=45)
    _type_date(keys, "#id_due_date", due)
    keys.to("input[name=scope]:checked")
    assert page.locator("input[name=scope]:checked").input_value() == "list"
    keys.to("#id_services")
    page.keyboard.type(cast.service.name[:4])  # the list's own type-ahead chooses it
    assert page.locator("#id_services").evaluate("s => Array.from(s.selectedOptions).map(o => o.text)") == [cast.service.name]
    keys.to("button[type=submit]")
    page.keyboard.press("Space")
    expect(page.get_by_text("Drafted the mandate")).to_be_visible()
    mandate = Mandate.objects.get()
    assert mandate.title == "Publish performance data monthly" and mandate.due_date == due
    assert [t.service for t in mandate.targets.all()] == [cast.service]
    assert re.search(r"\*\*metric\*\*", mandate.instruction)
    keys.assert_focus_seen()
