"""Hostile text in a real browser: script and markup injections, template and SQL syntax,
null bytes, right-to-left overrides and very long strings, written into every text and
Markdown field people can fill — some through the pages' forms, some through the API with
a personal token, the rest through the actions — then every page that shows them is
loaded. No payload may run (a trap catches ``window.__xss`` and dialogs), no element,
event handler, scripted link or htmx attribute may come from a payload, and the words
of each payload must be there for the reader, as text.

The payloads are in ``hostile_corpus.py``."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import urllib.error
import urllib.request

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from osom.core.actions import edit_terminology, issue_api_token
from osom.fitness import actions as fitness
from osom.governance import actions as governance
from osom.interop.spreadsheets import import_catalogue as import_spreadsheet
from osom.governance.models import Deviation, Dispute, Guidance, Mandate, Proposal
from osom.learning import actions as learning
from osom.learning import communities
from osom.learning.models import CorrectionOfError, DoctrinePattern
from osom.lifecycle import actions as lifecycle
from osom.lifecycle.models import Assessment, Criterion
from osom.maps.actions import save_service_map
from osom.network.models import ProfessionalRole, Service

from ..conftest import PASSWORD
from .conftest import sign_in
from .hostile_corpus import (
    HUGE_KEY,
    INJECTION_PROBE,
    NUL,
    PAYLOADS,
    huge,
    keys_in,
    line,
    prose,
    short,
    visible_form,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before the page's own scripts: a payload that runs leaves a mark.
TRAP = """
(() => {
  const hits = [];
  Object.defineProperty(window, '__xss', {configurable: false, get() { return hits.length; },
                                          set(value) { hits.push(String(value)); }});
  Object.defineProperty(window, '__xssHits', {configurable: false, value: hits});
})();
"""

PROSE = prose()


def _day(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


class Watcher:
    """A signed-in browser page that records what payloads do, and checks pages."""

    def __init__(self, page, who: str):
        self.page = page
        self.who = who
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.problems: list[str] = []
        self.checked = 0
        page.add_init_script(TRAP)
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def visit(self, path: str, *, texts=(), keys=()) -> None:
        response = self.page.goto(path)
        status = response.status if response else None
        if status != 200:
            self.problems.append(f"{self.who} {path}: answered {status}")
            return
        self.check(path, texts=texts, keys=keys)

    def check(self, where: str, *, texts=(), keys=()) -> None:
        """Check the page as it is now (after a visit, a form post or an htmx swap)."""
        self.checked += 1
        label = f"{self.who} {where}"
        hits = self.page.evaluate("() => Array.from(window.__xssHits || [])")
        if hits:
            self.problems.append(f"{label}: payload script ran, window.__xss set to {hits}")
        if self.dialogs:
            self.problems.append(f"{label}: a dialog opened: {self.dialogs}")
            self.dialogs.clear()
        if self.errors:
            self.problems.append(f"{label}: script errors: {self.errors}")
            self.errors.clear()
        for found in self.page.evaluate(INJECTION_PROBE):
            self.problems.append(f"{label}: {found}")
        shown = visible_form(self.page.locator("body").inner_text())
        for key in sorted(keys):
            if key not in shown:
                self.problems.append(f"{label}: the text of payload {key} is not shown")
        for text in texts:
            if visible_form(text) not in shown:
                self.problems.append(f"{label}: not shown as text: {text[:80]!r}")

    def assert_clean(self) -> None:
        assert self.checked, "no page was checked"
        assert not self.problems, f"{len(self.problems)} problems on {self.checked} pages:\n" + "\n".join(self.problems)


def _literal(text: str) -> list[str]:
    """The text a plain-text field must show verbatim, when its payload is shown so."""
    payload = next((p for p in PAYLOADS if p.text == text), None)
    return [text] if payload is None or payload.literal else []


def _watch(new_page, person, who: str) -> Watcher:
    page = new_page()
    sign_in(page, person.email, PASSWORD)
    return Watcher(page, who)


# ---------------------------------------------------------------- the checks themselves


def _served(page, html_text: str) -> None:
    """Load ``html_text`` as a page of its own (so the trap is installed before it runs)."""
    page.route("http://checks.invalid/", lambda route: route.fulfill(body=html_text, content_type="text/html; charset=utf-8"))
    page.goto("http://checks.invalid/")


def test_the_checks_catch_a_page_that_runs_or_injects_payloads_and_pass_one_that_escapes_them(browser):
    import html

    context = browser.new_context()
    try:
        unsafe = Watcher(context.new_page(), "unsafe")
        _served(unsafe.page, "<!doctype html><title>t</title><body>" + "".join(f"<p>{p.text}</p>" for p in PAYLOADS))
        unsafe.check("unsafe", keys={p.key for p in PAYLOADS})
        found = "\n".join(unsafe.problems)
        for expected in ("payload script ran", "a dialog opened", "event handler onerror", "event handler onload",
                         "scripted URL in href", "scripted URL in src", "htmx attribute hx-on::load",
                         "injected <iframe>", "injected <object>", "injected <script>", "injected style",
                         "injected <meta>", "injected <form>", "injected <input>", "injected <svg>", "injected <base>"):
            assert expected in found, f"the checks missed: {expected}\n{found}"

        escaped = Watcher(context.new_page(), "escaped")
        _served(escaped.page, "<!doctype html><title>t</title><body>"
                + "".join(f"<p>{html.escape(p.text)}</p>" for p in PAYLOADS))
        escaped.check("escaped", keys={p.key for p in PAYLOADS}, texts=[p.text for p in PAYLOADS if p.literal])
        assert escaped.problems == []

        stripped = Watcher(context.new_page(), "stripped")
        _served(stripped.page, "<!doctype html><title>t</title><body><p>nothing</p>")
        stripped.check("stripped", keys={"xq01"}, texts=[PAYLOADS[0].text])
        assert len(stripped.problems) == 2
    finally:
        context.close()


# ---------------------------------------------------------------- through the forms


def test_hostile_text_typed_into_the_pages_forms_is_shown_only_as_text(cast, new_page):
    ex = _watch(new_page, cast.executive, "executive")
    mgr = _watch(new_page, cast.manager, "manager")
    page = ex.page

    # A mandate for Parking permits, drafted and issued through its form.
    mandate_title = line(0)
    page.goto("/mandates/new/")
    page.get_by_label("Title").fill(mandate_title)
    page.get_by_label("What must change").fill(PROSE)
    page.get_by_label("Due date").fill(_day(30).isoformat())
    page.get_by_label("Services", exact=True).select_option(label=[cast.service.name])
    page.get_by_role("button", name="Save the draft").click()
    expect(page.get_by_text("Drafted the mandate")).to_be_visible()
    mandate = Mandate.objects.get()
    ex.check("mandate draft", texts=_literal(mandate_title), keys=keys_in(PROSE))
    ex.visit(f"/mandates/{mandate.pk}/edit/")
    page.goto(f"/mandates/{mandate.pk}/")
    page.get_by_role("button", name="Issue the mandate").click()
    expect(page.get_by_text("Issued the mandate")).to_be_visible()

    # Guidance, drafted and published through its form.
    guidance_title, source_detail = line(1), line(2)
    page.goto("/guidance/new/")
    page.get_by_label("Title").fill(guidance_title)
    page.get_by_label("The guidance", exact=True).fill(PROSE)
    page.get_by_label("Category").select_option(label="Technology choice")
    page.get_by_label("Where it comes from").select_option(label="Good practice outside the organisation")
    page.get_by_label("The law, the practice or the CoE it comes from").fill(source_detail)
    page.get_by_role("button", name="Save the draft").click()
    guidance = Guidance.objects.get()
    ex.check("guidance draft", texts=_literal(guidance_title) + _literal(source_detail), keys=keys_in(PROSE))
    ex.visit(f"/guidance/{guidance.pk}/edit/")
    page.goto(f"/guidance/{guidance.pk}/")
    page.get_by_role("button", name="Publish the guidance").click()
    expect(page.get_by_text("Published the guidance.")).to_be_visible()

    # A deviation from the template, recorded through its form.
    deviation_title = line(3)
    page.goto("/deviations/new/")
    page.get_by_label("The deviation").fill(deviation_title)
    for label in ("What part of the template is compromised", "Positive consequences", "Negative consequences",
                  "The governance that balances the negative consequences"):
        page.get_by_label(label, exact=True).fill(PROSE)
    page.get_by_label("Review it on").fill(_day(90).isoformat())
    page.get_by_role("button", name="Record the deviation").click()
    deviation = Deviation.objects.get()
    ex.check("deviation recorded", texts=_literal(deviation_title), keys=keys_in(PROSE))

    # A new service through the wizard, every step typed in; the metric step lists the
    # hostile need, and its "Add another metric" copies a row template on the page.
    service_name = line(4)
    need = {"as_a": line(5), "i_need": line(6), "so_that": line(7)}
    metric_name, unit = line(8), short(0, 40)
    page.goto("/services/new/")
    page.get_by_label("Name of the service").fill(service_name)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("External users", exact=True).check()
    page.get_by_label("As a").fill(need["as_a"])
    page.get_by_label("I need").fill(need["i_need"])
    page.get_by_label("So that").fill(need["so_that"])
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Metric", exact=True).fill(metric_name)
    page.get_by_label("Unit", exact=True).fill(unit)
    page.locator("#id_metrics-0-needs_0").check()
    page.get_by_role("button", name="Add another metric").click()
    ex.check("wizard metrics step, row added", texts=[])
    page.locator("#id_metrics-1-name").fill("Second metric")
    page.locator("#id_metrics-1-unit").fill("%")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("What the service is").fill(PROSE)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # no dependencies
    page.get_by_label(re.compile(r"Custom-built —")).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("who is accountable")).select_option(label=f"{cast.manager.name} ({cast.manager.email})")
    page.get_by_role("button", name="Continue").click()
    ex.check("wizard review", texts=[t for v in (service_name, *need.values(), metric_name) for t in _literal(v)],
             keys=keys_in(PROSE))
    page.get_by_role("button", name="Establish the service").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(service_name.strip())
    established = Service.objects.get(name=" ".join(service_name.split()))

    # The manager drafts a version of Parking permits through the contract form.
    m = mgr.page
    m.goto(f"/services/{cast.service.slug}/")
    m.get_by_role("button", name="Draft a new version").click()
    m.locator("#id_purpose").fill(PROSE)
    m.locator("#id_benefit").fill(PROSE)
    draft_need = {"as_a": line(9), "i_need": line(10), "so_that": line(11)}
    for field, value in draft_need.items():
        m.locator(f"#id_needs-0-{field}").fill(value)
    m.locator("#id_metrics-0-name").fill(line(12))
    m.locator("#id_needs-0-metrics").fill("m1")  # by its key: the name changes
    m.locator("#id_metrics-0-unit").fill(short(1, 40))
    m.locator("#id_metrics-0-how_measured").fill(PROSE)
    m.get_by_label("What changed and why").fill(line(13))
    m.get_by_role("button", name="Save the draft").click()
    expect(m.get_by_text("Saved draft version 2.")).to_be_visible()
    mgr.check("draft saved", texts=[t for v in draft_need.values() for t in _literal(v)] + _literal(line(12)),
              keys=keys_in(PROSE))

    # The manager reports progress on the mandate, rejects the guidance, raises a dispute.
    m.goto(f"/mandates/{mandate.pk}/")
    m.get_by_role("button", name=f"Acknowledge for {cast.service.name}").click()
    m.get_by_label("Progress so far").fill(PROSE)
    m.get_by_role("button", name=f"Report progress for {cast.service.name}").click()
    mgr.check("progress reported", keys=keys_in(PROSE))
    m.goto(f"/guidance/{guidance.pk}/")
    decide = m.locator(f"#decide-{cast.service.slug}")
    decide.get_by_label("Reject it: it does not fit this service").check()
    decide.get_by_label("Why").fill(PROSE)
    decide.get_by_role("button", name=re.compile("Record the decision")).click()
    expect(m.get_by_text(f"{cast.service.name} rejects this guidance.")).to_be_visible()
    subject = line(14)
    m.goto(f"/services/{cast.service.slug}/disputes/new/")
    m.get_by_label("The other service").select_option(label=cast.other_service.name)
    m.get_by_label("Subject").fill(subject)
    m.get_by_label("What the dispute is about").fill(PROSE)
    m.get_by_role("button", name="Raise the dispute").click()
    dispute = Dispute.objects.get()
    mgr.check("dispute raised", texts=_literal(subject), keys=keys_in(PROSE))

    # The manager proposes needs: the form asks the matcher as it is typed (htmx), and its
    # suggestions name services whose needs look alike, hostile ones among them.
    proposal_title = line(15)
    m.goto("/proposals/new/")
    m.get_by_label("What is it about?").fill(proposal_title)
    m.get_by_label("Context").fill(PROSE)
    m.get_by_label("As a").fill(need["as_a"])
    m.get_by_label("so that").fill(need["so_that"])
    with m.expect_response(lambda r: r.request.method == "POST" and "/proposals/new/" in r.url):
        m.get_by_label("I need").fill(need["i_need"])
        m.get_by_label("I need").blur()
    m.wait_for_timeout(200)  # let htmx settle the swapped suggestions
    mgr.check("proposal suggestions", texts=_literal(service_name))
    m.get_by_role("button", name="Propose these needs").click()
    proposal = Proposal.objects.get()
    mgr.check("proposal made", texts=_literal(proposal_title), keys=keys_in(PROSE))

    # The executive renames the model's roles through the organisation page: the names
    # appear on every page.
    executive_name, manager_name = short(2, 80), short(3, 80)
    page.goto("/organisation/")
    page.get_by_label("Name of the executive", exact=True).fill(executive_name)
    page.get_by_label("Name of a service manager").fill(manager_name)
    page.get_by_role("button", name="Save the names").click()
    ex.check("names saved", texts=_literal(executive_name) + _literal(manager_name))

    # Every page showing them, as the executive and as the manager.
    everything = keys_in(PROSE)
    for watcher in (ex, mgr):
        watcher.visit("/", texts=_literal(service_name))
        watcher.visit(f"/services/{cast.service.slug}/")
        watcher.visit(f"/services/{cast.service.slug}/versions/2/", keys=everything,
                      texts=[t for v in draft_need.values() for t in _literal(v)])
        watcher.visit(f"/services/{cast.service.slug}/compare/?from=1&to=2", keys=everything)
        watcher.visit(f"/services/{established.slug}/", texts=_literal(service_name), keys=everything)
        watcher.visit(f"/mandates/{mandate.pk}/", texts=_literal(mandate_title), keys=everything)
        watcher.visit("/mandates/", texts=_literal(mandate_title))
        watcher.visit(f"/guidance/{guidance.pk}/", texts=_literal(guidance_title), keys=everything)
        watcher.visit("/guidance/", texts=_literal(guidance_title))
        watcher.visit(f"/deviations/{deviation.pk}/", texts=_literal(deviation_title), keys=everything)
        watcher.visit("/deviations/", texts=_literal(deviation_title), keys=everything)
        watcher.visit(f"/disputes/{dispute.pk}/", texts=_literal(subject), keys=everything)
        watcher.visit("/disputes/", texts=_literal(subject))
        watcher.visit(f"/proposals/{proposal.pk}/", texts=_literal(proposal_title), keys=everything)
        watcher.visit("/proposals/", texts=_literal(proposal_title))
        watcher.visit("/dashboard/")
        watcher.visit("/notifications/")
        watcher.visit("/organisation/", texts=_literal(executive_name))
    mgr.visit(f"/services/{cast.service.slug}/versions/2/edit/")
    ex.visit("/audit/")
    ex.visit("/duplicates/")
    ex.assert_clean()
    mgr.assert_clean()


# ---------------------------------------------------------------- through the API


class Api:
    """JSON over HTTP to the live server, with a person's own API token."""

    def __init__(self, base: str, person):
        _, self.token = issue_api_token(actor=person, person=person, label="hostile text")
        self.base = base

    def send(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            f"{self.base}/api/v1{path}", method=method, data=json.dumps(body or {}).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def call(self, method: str, path: str, body=None) -> dict:
        status, answer = self.send(method, path, body)
        assert 200 <= status < 300, f"{method} {path} answered {status}: {answer[:500]!r}"
        return json.loads(answer or b"{}")

    def post(self, path: str, body=None) -> dict:
        return self.call("POST", path, body)

    def put(self, path: str, body) -> dict:
        return self.call("PUT", path, body)


def test_hostile_text_sent_through_the_api_is_shown_only_as_text(cast, new_page, live_server):
    api_ex, api_mgr, api_out = (Api(live_server.url, p) for p in (cast.executive, cast.manager, cast.outsider))

    person_name = short(4, 200)
    person = api_ex.post("/people", {"email": "hostile@example.org", "name": person_name, "password": PASSWORD})
    name = line(16)
    content = {
        "name": name, "user_type": "external", "evolution_stage": "custom",
        **{field: PROSE for field in ("purpose", "benefit", "usage", "onboarding", "expectations", "support")},
        "metrics": [{"key": "m1", "name": line(17), "unit": short(5, 40), "how_measured": PROSE}],
        "needs": [{"key": "n1", "as_a": line(18), "i_need": PROSE, "so_that": line(19), "metrics": ["m1"]}],
        "dependencies": [{"provider": cast.other_service.slug, "note": line(20)}],
        "manager": person["id"],
    }
    slug = api_ex.post("/services", content)["slug"]

    mandate_title = line(21)
    mandate = api_ex.post("/mandates", {"title": mandate_title, "instruction": huge(), "due_date": _day(30).isoformat(),
                                        "services": [slug, cast.service.slug]})
    api_ex.post(f"/mandates/{mandate['id']}/issue")
    api_mgr.post(f"/mandates/{mandate['id']}/targets/{cast.service.slug}/acknowledge", {"note": PROSE})

    guidance_title = line(22)
    guidance = api_ex.post("/guidance", {"title": guidance_title, "body": PROSE, "source": "law", "category": "security",
                                         "source_detail": line(23)})
    api_ex.post(f"/guidance/{guidance['id']}/publish")
    api_mgr.put(f"/guidance/{guidance['id']}/decisions/{cast.service.slug}", {"decision": "reject", "rationale": PROSE})

    subject = line(24)
    dispute = api_mgr.post("/disputes", {"service": cast.service.slug, "other_service": cast.other_service.slug,
                                         "subject": subject, "description": PROSE})
    proposal_title = line(25)
    proposal = api_out.post("/proposals", {"title": proposal_title, "context": PROSE, "needs": [
        {"as_a": line(26), "i_need": PROSE, "so_that": line(27)}]})
    deviation_title = line(28)
    deviation = api_ex.post("/deviations", {"title": deviation_title, "compromised": PROSE, "positive": PROSE,
                                            "negative": PROSE, "governance": PROSE, "review_on": _day(60).isoformat()})

    # An assessment of the hostile service, from agenda to published report and addendum.
    criteria = [c.slug for c in Criterion.objects.filter(active=True).order_by("position")[:2]]
    assessment = api_ex.post(f"/services/{slug}/assessments", {
        "kind": "transition", "scheduled_for": _day(7).isoformat(), "assessors": [cast.executive.pk],
        "criteria": criteria, "agenda_note": PROSE})
    aid = assessment["id"]
    api_ex.post(f"/assessments/{aid}/agenda")
    revision = Assessment.objects.get(pk=aid).revision
    api_ex.put(f"/assessments/{aid}/decisions", {
        "result": "met", "outcome": "not_required", "summary": PROSE, "expected_revision": revision,
        "decisions": {c: {"decision": "met", "did_well": PROSE, "to_improve": PROSE} for c in criteria}})
    revision = Assessment.objects.get(pk=aid).revision
    api_ex.post(f"/assessments/{aid}/publish", {"decommission_condition": "b", "decommission_reasons": PROSE,
                                                "migration_path": PROSE, "expected_revision": revision})
    api_ex.post(f"/assessments/{aid}/addenda", {"text": PROSE})
    api_mgr.post(f"/services/{cast.service.slug}/funding-requests", {"kind": "narrow", "period": "2026-27",
                                                                     "rationale": PROSE})

    everything = keys_in(PROSE)
    ex = _watch(new_page, cast.executive, "executive")
    mgr = _watch(new_page, cast.manager, "manager")
    ex.visit("/", texts=_literal(name))
    ex.visit(f"/services/{slug}/", texts=_literal(name) + _literal(person_name), keys=everything)
    ex.visit(f"/services/{slug}/versions/1/", keys=everything,
             texts=[t for v in (line(17), line(18), line(19)) for t in _literal(v)])
    ex.visit("/people/", texts=_literal(person_name))
    ex.visit(f"/people/{person['id']}/", texts=_literal(person_name))
    for watcher in (ex, mgr):
        watcher.visit(f"/mandates/{mandate['id']}/", texts=_literal(mandate_title), keys={HUGE_KEY} | everything)
        watcher.visit(f"/guidance/{guidance['id']}/", texts=_literal(guidance_title), keys=everything)
        watcher.visit(f"/disputes/{dispute['id']}/", texts=_literal(subject), keys=everything)
        watcher.visit(f"/proposals/{proposal['id']}/", texts=_literal(proposal_title), keys=everything)
        watcher.visit(f"/deviations/{deviation['id']}/", texts=_literal(deviation_title), keys=everything)
        watcher.visit(f"/assessments/{aid}/", keys=everything)
        watcher.visit(f"/assessments/{aid}/report/", texts=_literal(name), keys=everything)
        watcher.visit(f"/services/{cast.service.slug}/", keys=everything)
        watcher.visit(f"/services/{cast.service.slug}/budget/", keys=everything)
        watcher.visit("/dashboard/")
        watcher.visit("/notifications/")
    # The report as a Markdown file carries the payloads as they are: a browser must never
    # take it for a page.
    download = ex.page.request.get(f"/assessments/{aid}/report.md")
    assert download.ok and "xq01" in download.text()
    assert download.headers["content-type"].split(";")[0] in ("text/markdown", "text/plain")
    assert download.headers.get("x-content-type-options") == "nosniff"
    ex.visit("/assessments/")
    ex.visit("/budgets/")
    ex.visit("/audit/")
    ex.visit("/duplicates/")
    # The network list filtered as it is typed (an htmx swap of its results).
    ex.page.goto("/")
    with ex.page.expect_response(lambda r: "q=" in r.url):
        ex.page.get_by_label("Search", exact=True).fill("xq")
    ex.page.wait_for_timeout(200)
    ex.check("network list searched")
    ex.assert_clean()
    mgr.assert_clean()


def test_a_null_character_sent_through_the_api_is_refused_with_the_field_named(cast, live_server):
    api_ex = Api(live_server.url, cast.executive)
    sends = {
        "title": ("/mandates", {"title": NUL.text, "instruction": "Plain.", "due_date": _day(30).isoformat(),
                                "services": [cast.service.slug]}),
        "body": ("/guidance", {"title": "Plain", "body": NUL.text, "source": "law", "category": "security"}),
        "purpose": ("/services", {"name": "Plain service", "user_type": "external", "evolution_stage": "custom",
                                  "purpose": NUL.text, "metrics": [], "needs": [
                                      {"as_a": "resident", "i_need": "a thing", "so_that": "I can go on"}]}),
    }
    answers = {field: api_ex.send("POST", path, body) for field, (path, body) in sends.items()}
    for field, (status, answer) in answers.items():
        assert status == 400, f"{field}: answered {status}: {answer[:300]!r}"
        # refused as a form refuses it, naming the field the client filled
        assert json.loads(answer) == {"error": "invalid", "message": "Null characters are not allowed.", "field": field,
                                      "errors": [{"field": field, "message": "Null characters are not allowed."}]}
    assert not Mandate.objects.exists() and not Guidance.objects.exists()
    assert not Service.objects.filter(name="Plain service").exists()


def test_a_reinvestment_purpose_too_long_for_its_column_is_refused_with_the_field_named(cast):
    from osom.core.errors import InvalidInput
    from osom.lifecycle.models import Reinvestment

    allocation = lifecycle.allocate_budget(actor=cast.executive, service=cast.service, period="2026-27", amount="100.00")
    with pytest.raises(InvalidInput) as refused:
        lifecycle.reinvest_savings(actor=cast.manager, allocation=allocation, amount="5.00", purpose="savings " * 50)
    assert refused.value.field == "purpose"
    assert "300 characters" in refused.value.message
    assert not Reinvestment.objects.exists()


# ---------------------------------------------------------------- through the actions


def test_hostile_text_written_through_the_actions_is_shown_only_as_text(cast, new_page):
    ex_, mgr_ = cast.executive, cast.manager
    edit_terminology(actor=ex_, values={"name": short(6, 200), "model_name": short(7, 80)})
    criterion = lifecycle.add_criterion(actor=ex_, name=short(8, 200), meaning=PROSE,
                                        stages=["discovery", "alpha", "beta", "live"])
    allocation = lifecycle.allocate_budget(actor=ex_, service=cast.service, period="2026-27", amount="1000.00",
                                           note=PROSE)
    spend_text = short(9, 300)
    lifecycle.record_spend(actor=mgr_, allocation=allocation, amount="10.00", spent_on=_day(0), description=spend_text)
    lifecycle.reinvest_savings(actor=mgr_, allocation=allocation, amount="5.00", purpose=line(49))
    request = lifecycle.request_funding(actor=mgr_, service=cast.service, kind="expand", period="2026-27",
                                        rationale=PROSE, amount="50.00")
    lifecycle.decide_funding_request(actor=ex_, request=request, grant=False, note=PROSE)

    cancelled = lifecycle.schedule_assessment(actor=ex_, service=cast.other_service, kind="transition",
                                              scheduled_for=_day(5), assessors=[ex_], agenda_note=PROSE)
    lifecycle.cancel_assessment(actor=ex_, assessment=cancelled, reason=PROSE)

    mandate = governance.issue_mandate(actor=ex_, mandate=governance.draft_mandate(
        actor=ex_, title=line(29), instruction=PROSE, due_date=_day(40), services=[cast.service]))
    target = mandate.targets.get()
    governance.acknowledge_mandate(actor=mgr_, target=target, note=PROSE)
    governance.report_mandate_progress(actor=mgr_, target=target, note=PROSE, done=True)
    governance.close_mandate(actor=ex_, mandate=mandate, note=PROSE)
    guidance = governance.publish_guidance(actor=ex_, guidance=governance.draft_guidance(
        actor=ex_, title=line(30), body=PROSE, source="practice", category="technology", source_detail=line(31)))
    governance.decide_guidance(actor=mgr_, guidance=guidance, service=cast.service, decision="reject", rationale=PROSE)
    governance.withdraw_guidance(actor=ex_, guidance=guidance, reason=PROSE)
    dispute = governance.raise_dispute(actor=mgr_, service=cast.service, other_service=cast.other_service,
                                       subject=line(32), description=PROSE)
    governance.resolve_dispute(actor=ex_, dispute=dispute, resolution=PROSE, lever="mandate", mandate=mandate)
    evaluation = governance.raise_dispute(actor=cast.team_member, kind="evaluation", subject=line(33), description=PROSE)
    governance.withdraw_dispute(actor=cast.team_member, dispute=evaluation, note=PROSE)
    proposal = governance.propose_needs(actor=cast.outsider, title=line(34), context=PROSE,
                                        needs=[{"as_a": line(35), "i_need": PROSE, "so_that": line(36)}])
    governance.decline_proposal(actor=ex_, proposal=proposal, reason=PROSE)
    deviation = governance.record_deviation(actor=ex_, title=line(37), compromised=PROSE, positive=PROSE,
                                            negative=PROSE, governance=PROSE, review_on=_day(30))
    governance.retire_deviation(actor=ex_, deviation=deviation, reason=PROSE)

    everything = keys_in(PROSE)
    ex = _watch(new_page, ex_, "executive")
    mgr = _watch(new_page, mgr_, "manager")
    ex.visit("/organisation/", texts=_literal(short(6, 200)))
    ex.visit(f"/assessments/criteria/?source={criterion.source}", texts=_literal(short(8, 200)), keys=everything)
    ex.visit(f"/assessments/criteria/{criterion.slug}/", texts=_literal(short(8, 200)), keys=everything)
    ex.visit(f"/assessments/{cancelled.pk}/", keys=everything)
    for watcher in (ex, mgr):
        watcher.visit(f"/services/{cast.service.slug}/budget/", texts=_literal(spend_text) + _literal(line(49)),
                      keys=everything)
        watcher.visit(f"/mandates/{mandate.pk}/", texts=_literal(line(29)), keys=everything)
        watcher.visit(f"/guidance/{guidance.pk}/", texts=_literal(line(30)), keys=everything)
        watcher.visit(f"/disputes/{dispute.pk}/", texts=_literal(line(32)), keys=everything)
        watcher.visit(f"/proposals/{proposal.pk}/", texts=_literal(line(34)), keys=everything)
        watcher.visit(f"/deviations/{deviation.pk}/", texts=_literal(line(37)), keys=everything)
        watcher.visit(f"/services/{cast.service.slug}/")
        watcher.visit("/dashboard/")
    ex.visit("/budgets/")
    ex.visit("/audit/")
    member = _watch(new_page, cast.team_member, "team member")
    member.visit(f"/disputes/{evaluation.pk}/", texts=_literal(line(33)), keys=everything)
    ex.assert_clean()
    mgr.assert_clean()
    member.assert_clean()


def test_hostile_text_in_the_learning_loop_is_shown_only_as_text(cast, new_page):
    ex_, mgr_, member_ = cast.executive, cast.manager, cast.team_member
    patterns = list(DoctrinePattern.objects.order_by("pk")[:3])
    learning.edit_doctrine_meaning(actor=ex_, pattern=patterns[0], meaning=prose(limit=2000))
    rnd = learning.open_doctrine_round(actor=mgr_, service=cast.service, title=line(38))
    learning.rate_doctrine(actor=mgr_, round=rnd, ratings=[
        {"pattern": p.slug, "rating": "weak", "evidence": PROSE} for p in patterns])
    learning.rate_doctrine(actor=member_, round=rnd, ratings=[
        {"pattern": patterns[0].slug, "rating": "good", "evidence": PROSE}])
    coe_title = line(39)
    coe = learning.write_coe(actor=member_, service=cast.service, content={
        "title": coe_title, "occurred_on": _day(-3).isoformat(), "users_affected": True,
        "problem": PROSE, "impact": PROSE, "root_cause": PROSE, "lessons": PROSE,
        "timeline": [{"at": f"{_day(-3)} 02:00", "description": line(40)}],
        "why_chains": [{"question": line(41), "whys": [line(42), line(43)]}],
        "pattern_effects": [{"pattern": patterns[1].slug, "effect": "hurt", "note": line(44)}],
        "actions": [{"description": PROSE, "owner": member_.email, "due_date": _day(7)}],
    })
    learning.publish_coe(actor=mgr_, coe=coe)
    action = coe.actions.get()
    learning.update_corrective_action(actor=member_, action=action, status="done", note=PROSE)
    review = learning.schedule_coe_review(actor=ex_, scheduled_for=_day(0), title=line(45))
    learning.hold_coe_review(actor=ex_, review=review, notes=PROSE, coe_notes={coe.pk: PROSE})
    role = ProfessionalRole.objects.get(name="User researcher")
    community_name = line(46)
    community = communities.form_community(actor=member_, name=community_name, profession=role.job_family, purpose=PROSE)
    guidance_title = line(47)
    communities.publish_community_guidance(actor=member_, community=community, kind="evaluation",
                                           title=guidance_title, body=PROSE)
    communities.endorse_community(actor=ex_, community=community)
    communities.escalate_evaluation_dispute(actor=member_, community=community, subject=line(48), description=PROSE)
    communities.post_open_role(actor=mgr_, service=cast.service, role=role, level="senior", description=PROSE)
    assert CorrectionOfError.objects.get(pk=coe.pk).status == CorrectionOfError.Status.REVIEWED

    everything = keys_in(PROSE)
    ex = _watch(new_page, ex_, "executive")
    mgr = _watch(new_page, mgr_, "manager")
    member = _watch(new_page, member_, "team member")
    for watcher in (ex, mgr, member):
        watcher.visit(f"/coes/{coe.pk}/", texts=[t for v in (coe_title, line(40), line(41), line(42)) for t in _literal(v)],
                      keys=everything)
        watcher.visit("/coes/", texts=_literal(coe_title))
        watcher.visit(f"/doctrine/rounds/{rnd.pk}/", keys=everything)
        watcher.visit(f"/communities/{community.pk}/", texts=_literal(community_name) + _literal(guidance_title),
                      keys=everything)
        watcher.visit("/communities/", texts=_literal(community_name))
        watcher.visit("/open-roles/")
    ex.visit("/doctrine/")
    ex.visit(f"/doctrine/patterns/{patterns[0].slug}/edit/")
    member.visit(f"/communities/{community.pk}/edit/")
    ex.visit("/doctrine/rounds/")
    ex.visit("/doctrine/heat-map/")
    ex.visit(f"/coe-reviews/{review.pk}/", keys=everything)
    ex.visit("/coe-reviews/")
    ex.visit("/learning/figures/")
    ex.visit("/communities/coverage/")
    ex.visit("/dashboard/")
    ex.assert_clean()
    mgr.assert_clean()
    member.assert_clean()


def test_hostile_text_in_fitness_data_and_maps_is_shown_only_as_text(cast, new_page):
    """Measurement notes, ingest token labels, the executive's figures, and map text —
    whose names are drawn inside an inline SVG — are shown as text, never run."""
    ex_, mgr_ = cast.executive, cast.manager
    first = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    note = short(50, 300)
    fitness.record_measurement(actor=mgr_, service=cast.service, metric_key="m1", value="91", period_start=first,
                               period_end=first + dt.timedelta(days=27), note=note)
    fitness.issue_ingest_token(actor=mgr_, service=cast.service, label=short(51, 100))
    figure_name = short(52, 150)
    figure = fitness.define_aggregation(actor=ex_, name=figure_name, expression="avg(m1)", description=PROSE,
                                        unit=short(53, 40))
    map_lines = [f"title {line(54)}", "anchor Residents [0.95, 0.5]"]
    map_lines += [f"component {short(i, 80)} [0.{i % 8 + 1}, 0.{i % 7 + 2}]" for i in range(55, 61)]
    map_lines += [f"note {line(61)} [0.2, 0.2]", f"annotation 1 [0.4, 0.5] {line(62)}", f"Residents->{short(55, 80)}",
                  f"not understood {line(63)}"]
    save_service_map(actor=mgr_, service=cast.service, text="\n".join(map_lines), note=short(64, 300))

    ex = _watch(new_page, ex_, "executive")
    mgr = _watch(new_page, mgr_, "manager")
    slug = cast.service.slug
    for watcher in (ex, mgr):
        watcher.visit(f"/services/{slug}/")
        watcher.visit(f"/services/{slug}/fitness/")
        watcher.visit(f"/services/{slug}/fitness/metrics/m1/")
        watcher.visit(f"/services/{slug}/map/")
        watcher.visit("/fitness/")
        watcher.visit("/fitness/figures/", texts=_literal(figure_name))
        watcher.visit(f"/fitness/figures/{figure.slug}/", texts=_literal(figure_name), keys=keys_in(PROSE))
        watcher.visit("/network/map/")
    mgr.visit(f"/services/{slug}/fitness/tokens/")
    mgr.visit(f"/services/{slug}/map/edit/")
    ex.visit(f"/fitness/figures/{figure.slug}/edit/")
    ex.visit("/dashboard/")
    ex.assert_clean()
    mgr.assert_clean()


def test_hostile_text_brought_in_by_an_import_is_shown_only_as_text(cast, new_page, tmp_path):
    """A spreadsheet of services whose names, descriptions and needs are payloads: the
    import takes them as they are, and every page that shows them shows text."""
    names = [short(70 + i, 150) for i in range(4)]
    need = (line(74), line(75), line(76))
    with open(tmp_path / "services.csv", "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "lifecycle stage", "evolution stage", "user type", "manager email", "purpose",
                         "as a", "i need", "so that"])
        for name in names:
            writer.writerow([name, "live", "product", "external", cast.manager.email, PROSE, *need])
    report = import_spreadsheet(actor=cast.executive, path=tmp_path)
    assert report.created["services"] == len(names), report.lines()
    imported = list(Service.objects.filter(adopted=True, name__in=[" ".join(n.split()) for n in names]))
    assert len(imported) == len(names)

    ex = _watch(new_page, cast.executive, "executive")
    mgr = _watch(new_page, cast.manager, "manager")
    for service in imported:
        ex.visit(f"/services/{service.slug}/", texts=_literal(service.name), keys=keys_in(PROSE))
    for watcher in (ex, mgr):
        watcher.visit("/", texts=[t for s in imported for t in _literal(s.name)])
        watcher.visit("/network/map/")
        watcher.visit("/audit/")
    mgr.visit("/dashboard/")
    ex.assert_clean()
    mgr.assert_clean()
