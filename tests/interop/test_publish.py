"""The network published as a static website and as Markdown files: self-contained,
safe, in the organisation's words, only what is published, the same bytes every time."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.db import connection
from django.test import TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from osom.cli import main
from osom.core.actions import edit_terminology
from osom.core.errors import InvalidInput
from osom.governance.actions import decide_guidance, draft_guidance, publish_guidance
from osom.interop.publish import MARKER, publish_site, snapshot
from osom.interop.publish_markdown import prose, publish_markdown
from osom.learning.actions import publish_coe, write_coe
from osom.lifecycle import actions as lifecycle
from osom.lifecycle.models import Assessment, AssessmentStatus
from osom.maps.actions import save_service_map
from osom.network.actions import approve_contract_version, draft_contract_version, edit_contract_draft, submit_contract_version
from osom.network.demo import load_demo

from .. import factories
from ..lifecycle.helpers import decisions_for, on_agenda, published

DAY = dt.date(2026, 11, 27)
HOSTILE_SUMMARY = "<script>alert(1)</script> Hostile permits lets residents park."
HOSTILE_IMG = "<img src=x onerror=alert(2)>"


# ---------------------------------------------------------------- reading what was written

class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src"):
                self.links.append((tag, name, value or ""))


def _html_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.html"))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text("utf-8"))
    return parser


def _broken_links(root: Path) -> list[str]:
    """Every href and src that does not lead to a file inside ``root``. Links people wrote
    to the outside (http, https, mailto) are allowed on ``<a>`` only: nothing is loaded."""
    problems = []
    root = root.resolve()
    for page in _html_files(root):
        for tag, name, value in _parse(page).links:
            if re.match(r"(https?:|mailto:)", value, re.IGNORECASE):
                if tag != "a" or name != "href":
                    problems.append(f"{page.relative_to(root)}: <{tag} {name}={value}> loads from outside")
                continue
            if value.startswith("/") or "//" in value or not value.split("#")[0]:
                problems.append(f"{page.relative_to(root)}: {value!r} is not a relative link to a file")
                continue
            target = (page.parent / value.split("#")[0]).resolve()
            if not target.is_file() or root not in target.parents:
                problems.append(f"{page.relative_to(root)}: {value!r} leads nowhere inside the folder")
    return problems


def _reachable(root: Path) -> set[Path]:
    """Every page reached by following links from index.html."""
    seen, todo = set(), [root / "index.html"]
    while todo:
        page = todo.pop().resolve()
        if page in seen or not page.is_file():
            continue
        seen.add(page)
        if page.suffix == ".html":
            for _tag, _name, value in _parse(page).links:
                if not re.match(r"(https?:|mailto:)", value):
                    todo.append(page.parent / value.split("#")[0])
    return seen


def _all_text(root: Path) -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(root.rglob("*")) if p.is_file())


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _broken_markdown_links(root: Path) -> list[str]:
    problems = []
    for page in sorted(root.rglob("*.md")):
        for target in _MD_LINK.findall(page.read_text("utf-8")):
            if re.match(r"(https?:|mailto:)", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.is_file() or root.resolve() not in file.parents:
                problems.append(f"{page.relative_to(root)}: {target} leads nowhere")
            elif anchor and f'id="{anchor}"' not in file.read_text("utf-8"):
                problems.append(f"{page.relative_to(root)}: {target} names no place in {path or 'itself'}")
    return problems


# ---------------------------------------------------------------- a small organisation

@pytest.fixture
def org(cast):
    """The cast's network with hostile text, a map, guidance, Corrections of Error and a
    report published, and a draft of each kind that must never be published."""
    hostile = factories.service(cast.executive, "Hostile permits", manager=cast.manager, purpose=HOSTILE_SUMMARY)
    # a draft and a submitted contract version: never published
    draft = draft_contract_version(actor=cast.manager, service=cast.service, change_note="DRAFTNOTE")
    edit_contract_draft(actor=cast.manager, version=draft,
                        content=factories.contract("Parking permits", dependencies=["identity"],
                                                   purpose="DRAFTPURPOSE of the permits."))
    submitted = draft_contract_version(actor=cast.other_manager, service=cast.other_service)
    edit_contract_draft(actor=cast.other_manager, version=submitted,
                        content=factories.contract("Identity", user_type="internal", evolution_stage="product",
                                                   purpose="SUBMITTEDPURPOSE of identity."))
    submit_contract_version(actor=cast.other_manager, version=submitted)
    # an earlier approved version of the hostile service: both versions are published
    v2 = draft_contract_version(actor=cast.manager, service=hostile, change_note="Second thoughts.")
    edit_contract_draft(actor=cast.manager, version=v2,
                        content=factories.contract("Hostile permits", dependencies=["identity"], purpose=HOSTILE_SUMMARY,
                                                   needs=2))
    submit_contract_version(actor=cast.manager, version=v2)
    approve_contract_version(actor=cast.executive, version=v2)

    coe_content = {"title": "Permits <b>lost</b>", "occurred_on": str(timezone.localdate() - dt.timedelta(days=3)),
                   "problem": f"The queue stalled. {HOSTILE_IMG} [a link into the app](/services/identity/) and "
                              "[the supplier's notice](https://status.example.com/incident)",
                   "impact": "Residents waited.", "root_cause": "A full disk.", "lessons": "Watch the disk.",
                   "actions": [{"description": "Alert <i>before</i> the disk fills.", "owner": cast.manager.email,
                                "due_date": str(timezone.localdate() + dt.timedelta(days=30))}]}
    coe = write_coe(actor=cast.manager, service=cast.service, content=coe_content)
    publish_coe(actor=cast.manager, coe=coe)
    write_coe(actor=cast.manager, service=cast.service,
              content={"title": "DRAFTCOE never published", "occurred_on": str(timezone.localdate())})

    guidance = draft_guidance(actor=cast.executive, title="Use the shared identity service",
                              body="Sign people in with **Identity**.", source="practice", category="architecture")
    publish_guidance(actor=cast.executive, guidance=guidance)
    decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                    rationale="Our users <em>sign</em> in elsewhere.")
    draft_guidance(actor=cast.executive, title="DRAFTGUIDANCE on hosting", body="Not yet.", source="practice",
                   category="technology")

    save_service_map(actor=cast.manager, service=cast.service,
                     text="title Parking <script>\ncomponent Resident [0.9, 0.4]\ncomponent Permit [0.5, 0.6]\nResident->Permit\n")

    report = published(cast, cast.other_service, outcome="more_research")
    # an assessment whose decisions are recorded but whose report is not published
    pending = on_agenda(cast, cast.service)
    lifecycle.record_assessment_decisions(actor=cast.executive, assessment=pending, decisions=decisions_for(pending),
                                          result="met", outcome="more_research", summary="UNPUBLISHEDREPORT summary")
    return {"hostile": hostile, "coe": coe, "guidance": guidance, "report": report}


def test_every_link_and_image_of_the_site_resolves_inside_the_folder(cast, org, tmp_path):
    site = tmp_path / "site"
    publish_site(site, published_on=DAY)
    assert _broken_links(site) == []
    pages = _html_files(site)
    # every page is reached from the index
    assert {p.resolve() for p in pages} <= _reachable(site)
    assert (site / "style.css").is_file() and (site / "network.svg").is_file()
    assert (site / "services" / "parking-permits" / "map.svg").is_file()


def test_the_site_has_no_script_and_loads_nothing_from_outside(cast, org, tmp_path):
    site = tmp_path / "site"
    publish_site(site, published_on=DAY)
    for page in _html_files(site):
        parsed = _parse(page)
        assert "script" not in parsed.tags, page
        assert "iframe" not in parsed.tags and "object" not in parsed.tags, page
        for tag, name, value in parsed.links:
            assert not (tag != "a" and re.match(r"https?:", value)), (page, tag, value)
    for svg in site.rglob("*.svg"):
        assert "<script" not in svg.read_text("utf-8")


def test_hostile_text_is_escaped_or_sanitised(cast, org, tmp_path):
    site = tmp_path / "site"
    publish_site(site, published_on=DAY)
    index = (site / "index.html").read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Hostile permits" in index
    coe_page = (site / "services" / "parking-permits" / f"coe-{org['coe'].pk}.html").read_text("utf-8")
    assert "img" not in _parse(site / "services" / "parking-permits" / f"coe-{org['coe'].pk}.html").tags
    assert "<img src=x" not in coe_page and "&lt;img src=x onerror=alert(2)&gt;" in coe_page
    assert "Permits &lt;b&gt;lost&lt;/b&gt;" in coe_page
    # a link people wrote to the outside stays; one into the app, which is not here, loses its address
    assert 'href="https://status.example.com/incident"' in coe_page
    assert "a link into the app" in coe_page and 'href="/services/identity/"' not in coe_page
    everything = _all_text(site)
    assert "<script>" not in everything and "<script " not in everything


def test_drafts_submitted_versions_and_unpublished_reports_are_never_published(cast, org, tmp_path):
    site = tmp_path / "site"
    publish_site(site, published_on=DAY)
    text = _all_text(site)
    for secret in ("DRAFTNOTE", "DRAFTPURPOSE", "SUBMITTEDPURPOSE", "DRAFTCOE", "DRAFTGUIDANCE", "UNPUBLISHEDREPORT"):
        assert secret not in text, secret
    pending = Assessment.objects.get(service=cast.service, status=AssessmentStatus.AGENDA)
    assert not list(site.rglob(f"report-{pending.pk}.html"))
    # what is published is there: the report, both approved versions, the CoE, the guidance
    assert (site / "services" / "identity" / f"report-{org['report'].pk}.html").is_file()
    assert (site / "services" / "hostile-permits" / "version-1.html").is_file()
    assert (site / "services" / "hostile-permits" / "version-2.html").is_file()
    assert not (site / "services" / "parking-permits" / "version-2.html").exists()
    assert (site / "guidance" / f"{org['guidance'].pk}.html").is_file()
    assert "Use the shared identity service" in (site / "guidance" / "index.html").read_text("utf-8")


def test_the_pages_use_the_organisations_own_words(cast, org, tmp_path):
    edit_terminology(actor=cast.executive, values={"executive_name": "Board of Stewards",
                                                   "service_manager_name": "Service owner", "model_name": "Our Way"})
    site = tmp_path / "site"
    publish_site(site, published_on=DAY)
    service_page = (site / "services" / "parking-permits.html").read_text("utf-8")
    assert "Service owner" in service_page and "Service manager" not in service_page
    assert "Our Way" in service_page
    guidance_index = (site / "guidance" / "index.html").read_text("utf-8")
    assert "From the Board of Stewards" in guidance_index
    assert "Executive" not in guidance_index
    report = (site / "services" / "identity" / f"report-{org['report'].pk}.html").read_text("utf-8")
    assert "Service owner" in report and "Service manager" not in report
    markdown = tmp_path / "md"
    publish_markdown(markdown, published_on=DAY)
    assert "Service owner" in (markdown / "README.md").read_text("utf-8")
    assert "Board of Stewards" in (markdown / "README.md").read_text("utf-8")


def test_publishing_twice_gives_the_same_bytes(cast, org, tmp_path):
    publish_site(tmp_path / "a", published_on=DAY)
    publish_site(tmp_path / "b", published_on=DAY)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    publish_markdown(tmp_path / "c", published_on=DAY)
    publish_markdown(tmp_path / "d", published_on=DAY)
    assert _tree(tmp_path / "c") == _tree(tmp_path / "d")
    # the date passed in is the one date that is not the data's own
    publish_site(tmp_path / "e", published_on=DAY + dt.timedelta(days=1))
    changed = {name for name, data in _tree(tmp_path / "e").items() if _tree(tmp_path / "a").get(name) != data}
    assert changed and all(name.endswith(".html") for name in changed)
    assert "28 November 2026" in (tmp_path / "e" / "index.html").read_text("utf-8")


def test_markdown_files_link_to_each_other_and_to_their_maps(cast, org, tmp_path):
    out = tmp_path / "md"
    result = publish_markdown(out, published_on=DAY)
    assert result.files == len([p for p in out.rglob("*") if p.is_file()])
    assert (out / "README.md").is_file()
    assert (out / "services" / "parking-permits.md").is_file() and (out / "services" / "parking-permits.svg").is_file()
    assert _broken_markdown_links(out) == []
    readme = (out / "README.md").read_text("utf-8")
    assert "](services/hostile-permits.md)" in readme
    service = (out / "services" / "parking-permits.md").read_text("utf-8")
    assert "](parking-permits.svg)" in service and "Permits &lt;b&gt;lost&lt;/b&gt;" in service
    # raw HTML people wrote shows as text, never as markup
    assert "<img src=x" not in service and "&lt;img src=x onerror=alert(2)&gt;" in service
    assert "<script>" not in _all_text(out)
    assert "[the supplier's notice](https://status.example.com/incident)" in service
    assert "a link into the app" in service and "/services/identity/" not in service
    hostile = (out / "services" / "hostile-permits.md").read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "### Version 1" in hostile  # the earlier approved version
    for secret in ("DRAFTNOTE", "DRAFTPURPOSE", "SUBMITTEDPURPOSE", "DRAFTCOE", "DRAFTGUIDANCE", "UNPUBLISHEDREPORT"):
        assert secret not in _all_text(out), secret


def test_publishing_again_replaces_the_site_and_keeps_a_git_folder(cast, org, tmp_path):
    out = tmp_path / "repo"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    publish_markdown(out, published_on=DAY)
    (out / "services" / "stale.md").write_text("left over")
    publish_markdown(out, published_on=DAY)
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (out / "services" / "stale.md").exists()
    assert (out / MARKER).is_file()
    # nothing is left beside it: the new folder was swapped in, the old one removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


@pytest.mark.parametrize("failing", ["old", "fresh"])
def test_a_failed_swap_puts_the_repository_and_the_earlier_publication_back(cast, org, tmp_path, monkeypatch, failing):
    out = tmp_path / "repo"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    publish_markdown(out, published_on=DAY)
    before = _tree(out)
    rename = Path.rename

    def busy(self, target):
        target = Path(target)
        # the earlier publication moved aside, or the new one moved in: the mount point is busy
        if (failing == "old" and target.name == "site" and target.parent.name.startswith(".repo.old-")) or \
                (failing == "fresh" and target == out and Path(self).name.startswith(".repo.new-")):
            raise OSError(16, "Device or resource busy")
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", busy)
    with pytest.raises(OSError):
        publish_markdown(out, published_on=DAY + dt.timedelta(days=1))
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo"]


def test_it_refuses_to_replace_a_folder_that_holds_something_else(cast, org, tmp_path):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work")
    with pytest.raises(InvalidInput) as refused:
        publish_site(out, published_on=DAY)
    assert refused.value.field == "path"
    assert (out / "thesis.txt").read_text() == "years of work"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]


def test_a_failed_build_leaves_the_earlier_publication_as_it_was(cast, org, tmp_path, monkeypatch):
    out = tmp_path / "site"
    publish_site(out, published_on=DAY)
    before = _tree(out)
    from osom.interop import publish as module

    def broken(self):
        (self.root / "index.html").write_text("half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(module._Site, "build", broken)
    with pytest.raises(RuntimeError):
        publish_site(out, published_on=DAY + dt.timedelta(days=1))
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_the_number_of_queries_does_not_grow_with_the_services(cast, org, tmp_path):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            snapshot()
        return len(queries)

    small = count()
    for n in range(4):
        service = factories.service(cast.executive, f"More service {n}", manager=cast.other_manager,
                                    dependencies=["identity", "parking-permits"], needs=2)
        save_service_map(actor=cast.other_manager, service=service, text=f"component Thing {n} [0.5, 0.5]\n")
        coe = write_coe(actor=cast.other_manager, service=service,
                        content={"title": f"Outage {n}", "occurred_on": str(timezone.localdate()), "problem": "Down.",
                                 "impact": "Slow.", "root_cause": "Bug.", "lessons": "Test.",
                                 "actions": [{"description": "Fix.", "owner": cast.other_manager.email,
                                              "due_date": str(timezone.localdate() + dt.timedelta(days=9))}]})
        publish_coe(actor=cast.other_manager, coe=coe)
        published(cast, service, outcome="more_research")
    assert count() == small
    # and writing the pages reads nothing more from the database
    snap = snapshot()
    with CaptureQueriesContext(connection) as queries:
        publish_site(tmp_path / "site", published_on=DAY, snap=snap)
        publish_markdown(tmp_path / "md", published_on=DAY, snap=snap)
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_the_command_publishes_the_site_and_the_markdown(cast, org, tmp_path, capsys):
    assert main(["publish", str(tmp_path / "site"), "--date", "2026-11-27"]) == 0
    out = capsys.readouterr().out
    assert "Published 3 services as a static website" in out
    assert "27 November 2026" in (tmp_path / "site" / "index.html").read_text("utf-8")
    assert main(["publish", "--markdown", str(tmp_path / "md"), "--date", "2026-11-27"]) == 0
    assert "as Markdown files" in capsys.readouterr().out
    assert (tmp_path / "md" / "README.md").is_file()


def test_the_command_refuses_a_bad_date_or_a_folder_of_something_else_in_one_line(cast, tmp_path, capsys):
    assert main(["publish", str(tmp_path / "site"), "--date", "27/11/2026"]) == 2
    err = capsys.readouterr().err
    assert "YYYY-MM-DD" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    assert main(["publish", str(tmp_path / "mine")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "mine"
    # a folder that cannot be written (here, inside a file) is one line too, not a traceback
    (tmp_path / "a-file").write_text("not a folder")
    assert main(["publish", str(tmp_path / "a-file" / "site")]) == 2
    err = capsys.readouterr().err
    assert "cannot write to" in err and len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- the demo organisation

class TestPublishingTheDemo(TestCase):
    """The demo, loaded once for the class, published whole."""

    @classmethod
    def setUpTestData(cls):
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            load_demo()

    def setUp(self):
        import tempfile

        self.tmp = Path(tempfile.mkdtemp(prefix="osom-publish-test-"))

    def tearDown(self):
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_the_demo_publishes_with_every_link_resolving(self):
        result = publish_site(self.tmp / "site", published_on=DAY)
        site = self.tmp / "site"
        assert result.services >= 25
        assert _broken_links(site) == []
        assert {p.resolve() for p in _html_files(site)} <= _reachable(site)
        reports = Assessment.objects.filter(status=AssessmentStatus.PUBLISHED)
        assert reports.exists()
        for report in reports.select_related("service"):
            assert (site / "services" / report.service.slug / f"report-{report.pk}.html").is_file()
        for other in Assessment.objects.exclude(status=AssessmentStatus.PUBLISHED):
            assert not list(site.rglob(f"report-{other.pk}.html"))
        for page in _html_files(site):
            assert "script" not in _parse(page).tags

    def test_the_demo_as_markdown_links_resolve(self):
        publish_markdown(self.tmp / "md", published_on=DAY)
        assert _broken_markdown_links(self.tmp / "md") == []


# ---------------------------------------------------------------- Markdown made inert

class _Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(name, value or "") for name, value in attrs]


def _rendered(text: str) -> tuple[str, _Markup]:
    """People's text through :func:`prose`, then rendered by a renderer that lets raw HTML
    through, as the least careful reader of the files would."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).render(prose(text))
    markup = _Markup()
    markup.feed(html)
    return html, markup


def _assert_inert(html: str, markup: _Markup) -> None:
    assert "<script" not in html and "<img" not in html
    assert not set(markup.tags) - {"p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "blockquote", "hr",
                                   "h1", "h2", "h3", "h4", "h5", "h6", "br"}, markup.tags
    assert not [name for name, _ in markup.attrs if name.startswith("on")]
    assert not [value for name, value in markup.attrs if name in ("href", "src") and "javascript:" in value.lower()]
    assert not [name for name, _ in markup.attrs if name == "src"]


@pytest.mark.parametrize("text", [
    "``<img src=x onerror=alert(1)>`",  # two backticks never closed: no code span
    "```x`y\n<script>alert(1)</script>\n```",  # a backtick in the info string: no fence
    "~~~\n<script>alert(1)</script>",  # a fence never closed
    "    <script>alert(1)</script>",  # indented code
    "- item\n\n      <img src=x onerror=alert(1)>",
    "`code` <img src=x onerror=alert(1)> `more`",
    "<div>\n<script>alert(1)</script>\n</div>",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
])
def test_raw_html_in_prose_is_text_whatever_a_renderer_takes_for_code(text):
    html, markup = _rendered(text)
    _assert_inert(html, markup)
    assert "script" not in markup.tags and "img" not in markup.tags


@pytest.mark.parametrize("text", [
    "![a][r]\n\n[r]: https://tracker.example.com/p.png",
    "![a][]\n\n[a]: https://tracker.example.com/p.png",
    "![a]\n\n[a]: https://tracker.example.com/p.png \"title\"",
    "![a](https://tracker.example.com/p.png)",
    "![a ![b](https://x.example.com/b.png)](https://tracker.example.com/p.png)",
    "[a][r]\n\n[r]: javascript:alert(1)",
    "[r]\n\n[r]: <javascript:alert(1)>",
    "[a][r]\n\n> [r]: javascript:alert(1)",
    "[a][r]\n\n- [r]:\n  javascript:alert(1)",
    "[x](javascript:alert(1))",
    "[x]( JaVaScRiPt:alert(1) )",
    "[x](\njavascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](&#106;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "<javascript:alert(1)>",
    "``[x](javascript:alert(1))`",
])
def test_images_and_links_that_do_not_lead_out_are_dropped(text):
    html, markup = _rendered(text)
    _assert_inert(html, markup)
    assert "img" not in markup.tags
    assert all(value.startswith(("https://", "http://", "mailto:", "#")) for name, value in markup.attrs if name == "href")


def test_the_payloads_leave_nothing_live_in_the_html():
    for text in ("``<img src=x onerror=alert(1)>`", "```x`y\n<script>alert(1)</script>\n```",
                 "![a][r]\n\n[r]: https://tracker.example.com/p.png", "[a][r]\n\n[r]: javascript:alert(1)"):
        html, markup = _rendered(text)
        assert "<script" not in html and "<img" not in html, html
        assert "onerror" not in [name for name, _ in markup.attrs]
        assert "javascript:" not in html, html
    assert "tracker.example.com" not in _rendered("![a][r]\n\n[r]: https://tracker.example.com/p.png")[0]


def test_ordinary_markdown_still_reads_right():
    text = ("Some *emphasis* and **strength**, [the notice](https://status.example.com/i?a=1&b=2 \"Notice\"), "
            "[the top](#top) and [mail](mailto:team@example.com).\n\n- one\n- two\n\n1. first\n2. second\n\n"
            "> quoted *words*\n\nSee [the guide][g] and [g].\n\n[g]: https://example.com/guide\n\nAT&T, 3 < 4 > 2.")
    html, markup = _rendered(text)
    _assert_inert(html, markup)
    assert "<em>emphasis</em>" in html and "<strong>strength</strong>" in html
    assert '<a href="https://status.example.com/i?a=1&amp;b=2" title="Notice">the notice</a>' in html
    assert '<a href="#top">the top</a>' in html and '<a href="mailto:team@example.com">mail</a>' in html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html and "<ol>\n<li>first</li>" in html
    assert "<blockquote>\n<p>quoted <em>words</em></p>\n</blockquote>" in html
    assert html.count('<a href="https://example.com/guide">') == 2
    assert "AT&amp;T, 3 &lt; 4 &gt; 2." in html  # shown as typed
    # a link into the app, which the repository does not hold, keeps its words only
    html, _ = _rendered("[a link into the app](/services/identity/)")
    assert html == "<p>a link into the app</p>\n"
    # an entity someone typed shows as typed, never as the character it names
    html, _ = _rendered("&lt;b&gt;")
    assert "&amp;lt;b&amp;gt;" in html
