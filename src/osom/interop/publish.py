"""The network published as a static website: a folder of HTML pages that works offline,
from the file system, with nothing loaded from anywhere else.

Everyone in the organisation may read the whole network (model 2): the publication is that
read, frozen on a date, for people who cannot or need not sign in. It holds only what is
published in the app: approved contract versions, published assessment reports, published
and reviewed Corrections of Error, published guidance. Drafts never leave the database.

The database is read in one pass whose number of queries does not grow with the number of
services (:func:`snapshot`); the pages are written into a new folder beside the target and
swapped in at the end, so a reader never sees half a site. The same database and date
always give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import html
import posixpath
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Snapshot", "snapshot", "publish_site", "replace_folder", "prose", "file_name", "MARKER", "COE_HEADINGS",
           "PublishResult"]

# A publication leaves this file behind, so that publishing again may replace the folder
# while a folder of anything else is never deleted by mistake.
MARKER = ".osom-publication"
MARKER_TEXT = "This folder is written by `osom publish`; publishing again replaces everything in it.\n"

_STAGE_ORDER = ["discovery", "alpha", "beta", "live", "decommissioned"]
_OUTBOUND = re.compile(r"^(https?:|mailto:|#)", re.IGNORECASE)
_HREF = re.compile(r'\shref="([^"]*)"')
_SAFE_NAME = re.compile(r"[^a-z0-9-]+")

# The parts of a Correction of Error (model 7), headed as a reader expects them
COE_HEADINGS = {
    "problem": "The problem", "impact": "Its impact", "root_cause": "Root cause",
    "root_cause_data": "Data supporting the root cause", "trade_offs_that_led": "The trade-offs that led to it",
    "trade_offs_to_avoid": "Trade-offs to avoid in future", "lessons": "Lessons learned",
}


@dataclass
class PublishResult:
    path: Path
    files: int
    services: int


@dataclass
class Snapshot:
    """Everything a publication shows, read from the database once."""

    organisation: str
    terms: dict
    currency: str
    services: list = field(default_factory=list)  # each with .approved, .current, .reports, .coes, .decisions, .map_text, .consumers
    reports: list = field(default_factory=list)
    coes: list = field(default_factory=list)
    guidance: list = field(default_factory=list)
    community_guidance: list = field(default_factory=list)
    network: object = None  # osom.maps.queries.NetworkSelection
    doctrine_grid: list = field(default_factory=list)
    doctrine_round: object = None
    heat_map: dict = field(default_factory=dict)
    patterns: list = field(default_factory=list)


def file_name(slug: str) -> str:
    """A service's slug made safe as a file name (slugs are already, this makes sure)."""
    return _SAFE_NAME.sub("-", str(slug).lower()).strip("-") or "service"


def snapshot() -> Snapshot:
    """Read what is published, in a fixed number of queries whatever the size of the network."""
    from django.db.models import F, OuterRef, Prefetch, Subquery

    from osom.core.models import Organisation, Person
    from osom.governance.models import Guidance, GuidanceDecision
    from osom.learning.models import CommunityGuidance, CorrectionOfError, DoctrinePattern
    from osom.learning.queries import heat_map, round_grid, standing_round
    from osom.lifecycle.models import Assessment, AssessmentCriterion, AssessmentStatus, ReportAddendum
    from osom.lifecycle.queries import outcome_label
    from osom.maps.models import MapVersion
    from osom.maps.queries import network_selection
    from osom.network.models import ContractVersion, Service
    from osom.network.queries import _version_prefetches
    from osom.network.stages import Lifecycle, VersionStatus

    org = Organisation.current()
    snap = Snapshot(organisation=org.name, terms=org.terms(), currency=org.currency)

    services = list(Service.objects.select_related("manager").order_by("name", "pk"))
    by_pk = {s.pk: s for s in services}
    for s in services:
        s.file = file_name(s.slug)
        s.approved, s.reports, s.coes, s.decisions, s.consumers = [], [], [], [], []
        s.current, s.map_text = None, None

    # approved versions only: drafts and submitted versions are never published
    versions = list(
        ContractVersion.objects.filter(status=VersionStatus.APPROVED)
        .select_related("created_by", "approved_by")
        .prefetch_related(*_version_prefetches())
        .order_by("service_id", "-number")
    )
    versions_by_pk = {v.pk: v for v in versions}
    for v in versions:
        service = by_pk[v.service_id]
        v.service = service
        service.approved.append(v)
        if v.pk == service.current_version_id:
            service.current = v
    for s in services:
        if s.current is not None:
            for dep in s.current.dependencies.all():
                provider = by_pk.get(dep.provider_id)
                if provider is not None and provider is not s:
                    provider.consumers.append(s)

    reports = list(
        Assessment.objects.filter(status=AssessmentStatus.PUBLISHED)
        .select_related("manager", "published_by")
        .prefetch_related(
            Prefetch("items", queryset=AssessmentCriterion.objects.select_related("criterion").order_by("position", "pk")),
            Prefetch("assessors", queryset=Person.objects.order_by("name", "pk")),
            Prefetch("addenda", queryset=ReportAddendum.objects.select_related("author").order_by("created_at", "pk")),
            "allocations",
        )
        .order_by("-published_at", "-pk")
    )
    for r in reports:
        r.service = by_pk[r.service_id]
        r.outcome_text = outcome_label(r)
        r.pinned_version = versions_by_pk.get(r.contract_version_id)
        r.service.reports.append(r)
    snap.reports = reports

    coes = list(
        CorrectionOfError.objects.exclude(status=CorrectionOfError.Status.DRAFT)
        .select_related("author", "published_by")
        .prefetch_related("timeline", "why_chains", "pattern_effects__pattern", "actions__owner")
        .order_by("-occurred_on", "-pk")
    )
    coe_pks = set()
    for c in coes:
        c.service = by_pk[c.service_id]
        c.service.coes.append(c)
        coe_pks.add(c.pk)
    snap.coes = coes

    guidance = list(Guidance.objects.filter(status=Guidance.Status.PUBLISHED).order_by("-published_at", "-pk"))
    guidance_by_pk = {g.pk: g for g in guidance}
    coe_by_pk = {c.pk: c for c in coes}
    for g in guidance:
        # a link back to the CoE it draws on, only if that CoE is itself published
        g.published_coe = coe_by_pk.get(g.coe_id)
        g.service_decisions = []
    for d in (GuidanceDecision.objects.filter(guidance__status=Guidance.Status.PUBLISHED)
              .select_related("decided_by").order_by("pk")):
        d.guidance = guidance_by_pk[d.guidance_id]
        d.service = by_pk[d.service_id]
        d.service.decisions.append(d)
        d.guidance.service_decisions.append(d)
    for s in services:
        s.decisions.sort(key=lambda d: (d.guidance.title.casefold(), d.guidance.pk))
    for g in guidance:
        g.service_decisions.sort(key=lambda d: (d.service.name.casefold(), d.service.pk))
    snap.guidance = guidance
    snap.community_guidance = list(
        CommunityGuidance.objects.filter(withdrawn_at__isnull=True).select_related("community")
        .order_by("community__name", "-published_at", "-pk")
    )

    latest = MapVersion.objects.filter(service=OuterRef("service")).order_by("-number").values("number")[:1]
    for service_id, text in (MapVersion.objects.annotate(latest=Subquery(latest)).filter(number=F("latest"))
                             .values_list("service_id", "text")):
        by_pk[service_id].map_text = text

    snap.services = services
    snap.network = network_selection()
    snap.doctrine_round = standing_round(None)
    snap.doctrine_grid = round_grid(snap.doctrine_round) if snap.doctrine_round else []
    running = [s for s in services if s.lifecycle_stage != Lifecycle.DECOMMISSIONED]
    snap.heat_map = heat_map(running)
    snap.patterns = list(DoctrinePattern.objects.order_by("position", "pk"))
    return snap


# ---------------------------------------------------------------- writing the site

def _outbound_only(fragment: str) -> str:
    """Keep the links people wrote that lead out of the site (http, https, mailto) or to a
    place on the page; drop the address of any other, since it would point into the app,
    which the published folder does not contain. The link's text stays."""
    def keep(match: re.Match) -> str:
        return match.group(0) if _OUTBOUND.match(html.unescape(match.group(1)).strip()) else ""
    return _HREF.sub(keep, fragment)


def prose(text) -> str:
    """People's Markdown as safe HTML for a published page."""
    from django.utils.safestring import mark_safe

    from osom.core.markdown import render_markdown

    return mark_safe(_outbound_only(render_markdown(text or "")))


def _day(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.day} {value:%B %Y}"


class _Site:
    """Writes the pages; each page knows its own path so that every link is relative."""

    def __init__(self, root: Path, snap: Snapshot, published_on: dt.date):
        self.root = root
        self.snap = snap
        self.published_on = published_on
        self.files = 0
        self.services_by_pk = {s.pk: s for s in snap.services}

    # paths inside the site
    @staticmethod
    def service_page(s) -> str:
        return f"services/{s.file}.html"

    @staticmethod
    def version_page(v) -> str:
        return f"services/{v.service.file}/version-{v.number}.html"

    @staticmethod
    def report_page(r) -> str:
        return f"services/{r.service.file}/report-{r.pk}.html"

    @staticmethod
    def coe_page(c) -> str:
        return f"services/{c.service.file}/coe-{c.pk}.html"

    @staticmethod
    def map_file(s) -> str:
        return f"services/{s.file}/map.svg"

    @staticmethod
    def guidance_page(g) -> str:
        return f"guidance/{g.pk}.html"

    @staticmethod
    def community_guidance_page(g) -> str:
        return f"guidance/community-{g.pk}.html"

    def write(self, path: str, content: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8"))
        self.files += 1

    def page(self, path: str, template: str, title: str, **context) -> None:
        from django.template.loader import render_to_string

        here = posixpath.dirname(path) or "."

        def to(target: str) -> str:
            return posixpath.relpath(target, here)

        context = {
            **context,
            "title": title,
            "terms": self.snap.terms,
            "organisation": self.snap.organisation,
            "published_on": _day(self.published_on),
            "home": to("index.html"),
            "stylesheet": to("style.css"),
            "nav": [(to(p), label) for p, label in self.NAV],
            "to": to,
        }
        self.write(path, render_to_string(template, context))

    NAV = [("index.html", "Services"), ("network.html", "Network map"), ("reports.html", "Assessment reports"),
           ("corrections.html", "Corrections of error"), ("guidance/index.html", "Guidance"),
           ("doctrine.html", "Doctrine")]

    def links(self, here: str, items, page, label) -> list[dict]:
        base = posixpath.dirname(here) or "."
        return [{"href": posixpath.relpath(page(item), base), "label": label(item), "item": item} for item in items]

    def build(self) -> None:
        from importlib.resources import files

        snap = self.snap
        self.write("style.css", files("osom.interop").joinpath("templates/publish/style.css").read_text("utf-8"))
        self.write(MARKER, MARKER_TEXT)
        self.index()
        for s in snap.services:
            self.service(s)
        self.network()
        self.reports_index()
        self.coes_index()
        self.guidance_index()
        self.doctrine()

    def _service_row(self, here: str, s) -> dict:
        base = posixpath.dirname(here) or "."
        return {"service": s, "href": posixpath.relpath(self.service_page(s), base)}

    def index(self) -> None:
        by_stage = defaultdict(list)
        for s in self.snap.services:
            by_stage[s.lifecycle_stage].append(self._service_row("index.html", s))
        groups = [{"stage": stage, "label": stage.capitalize(), "rows": by_stage[stage]}
                  for stage in _STAGE_ORDER if by_stage.get(stage)]
        self.page("index.html", "publish/index.html", self.snap.organisation, groups=groups,
                  counts={"services": len(self.snap.services), "reports": len(self.snap.reports),
                          "coes": len(self.snap.coes), "guidance": len(self.snap.guidance)})

    def _contract(self, here: str, v) -> dict:
        """A contract version's content, with its links made relative to ``here``."""
        base = posixpath.dirname(here) or "."
        description = [(v._meta.get_field(name).verbose_name, prose(getattr(v, name)))
                       for name in v.DESCRIPTION_FIELDS if getattr(v, name).strip()]
        if v.decommission_reasons.strip():
            description.append(("Reasons for decommissioning", prose(v.decommission_reasons)))
        deps = []
        for d in v.dependencies.all():
            provider = self.services_by_pk.get(d.provider_id)
            deps.append({"name": provider.name if provider else "", "note": d.note,
                         "href": posixpath.relpath(self.service_page(provider), base) if provider else ""})
        return {"version": v, "description": description, "needs": list(v.needs.all()),
                "metrics": list(v.metrics.all()), "dependencies": deps}

    def service(self, s) -> None:
        here = self.service_page(s)
        if s.map_text is not None:
            from osom.maps.svg import render_svg
            from osom.maps.text import parse

            self.write(self.map_file(s), render_svg(parse(s.map_text)))
        for v in s.approved:
            self.version(s, v)
        for r in s.reports:
            self.report(r)
        for c in s.coes:
            self.coe(c)
        self.page(
            here, "publish/service.html", s.name, service=s,
            contract=self._contract(here, s.current) if s.current else None,
            versions=self.links(here, s.approved, self.version_page, lambda v: f"Version {v.number}"),
            reports=self.links(here, s.reports, self.report_page, lambda r: _day(r.published_at)),
            coes=self.links(here, s.coes, self.coe_page, lambda c: c.title),
            consumers=[self._service_row(here, c) for c in sorted(s.consumers, key=lambda c: (c.name, c.pk))],
            decisions=[{"decision": d, "href": posixpath.relpath(self.guidance_page(d.guidance), posixpath.dirname(here)),
                        "rationale": prose(d.rationale)} for d in s.decisions],
            map_src=posixpath.relpath(self.map_file(s), posixpath.dirname(here)) if s.map_text is not None else "",
        )

    def version(self, s, v) -> None:
        here = self.version_page(v)
        self.page(here, "publish/version.html", f"{s.name}, contract version {v.number}", service=s,
                  service_href=posixpath.relpath(self.service_page(s), posixpath.dirname(here)),
                  contract=self._contract(here, v), is_current=v.pk == s.current_version_id,
                  change_note=prose(v.change_note), alteration_reason=prose(v.alteration_reason),
                  alteration_risk=prose(v.alteration_risk), approved_on=_day(v.approved_at))

    def report(self, r) -> None:
        here = self.report_page(r)
        base = posixpath.dirname(here)
        s = r.service
        items = [{"item": i, "criterion": i.criterion, "did_well": prose(i.did_well), "to_improve": prose(i.to_improve)}
                 for i in r.items.all()]
        others = [o for o in s.reports if o.pk != r.pk]
        from osom.lifecycle.outcomes import DECOMMISSION_CONDITIONS
        from osom.lifecycle.queries import format_money

        self.page(
            here, "publish/report.html", f"Assessment report: {s.name}", service=s, report=r,
            service_href=posixpath.relpath(self.service_page(s), base),
            date=_day(r.published_at), summary=prose(r.summary), items=items,
            version_href=posixpath.relpath(self.version_page(r.pinned_version), base) if r.pinned_version else "",
            contract=self._contract(here, r.pinned_version) if r.pinned_version else None,
            rejected=[{"title": g.get("title", ""), "rationale": prose(g.get("rationale", ""))}
                      for g in (r.rejected_guidance or [])],
            condition=DECOMMISSION_CONDITIONS.get(r.decommission_condition, ""),
            decommission_reasons=prose(r.decommission_reasons), migration_path=prose(r.migration_path),
            allocations=[{"amount": format_money(a.amount, self.snap.currency), "stage": a.get_stage_display().lower(),
                          "period": a.period} for a in sorted(r.allocations.all(), key=lambda a: (a.period, a.pk))],
            addenda=[{"day": _day(a.created_at), "author": a.author.name, "text": prose(a.text)} for a in r.addenda.all()],
            previous=[{"href": posixpath.relpath(self.report_page(o), base), "label": _day(o.published_at), "report": o}
                      for o in others],
        )

    def coe(self, c) -> None:
        here = self.coe_page(c)
        from osom.learning.actions import COE_TEXT_FIELDS

        sections = [(COE_HEADINGS.get(f, f), prose(getattr(c, f))) for f in COE_TEXT_FIELDS if getattr(c, f).strip()]
        self.page(
            here, "publish/coe.html", c.title, coe=c, service=c.service,
            service_href=posixpath.relpath(self.service_page(c.service), posixpath.dirname(here)),
            occurred=_day(c.occurred_on), published=_day(c.published_at), reviewed=_day(c.reviewed_at),
            sections=sections, review_note=prose(c.review_note),
            timeline=[{"day": _day(e.at), "text": prose(e.description)} for e in c.timeline.all()],
            why_chains=list(c.why_chains.all()),
            effects=sorted(c.pattern_effects.all(), key=lambda e: (e.pattern.position, e.pattern.pk)),
            actions=[{"action": a, "text": prose(a.description), "due": _day(a.agreed_due_date or a.due_date)}
                     for a in c.actions.all()],
        )

    def network(self) -> None:
        from osom.maps.network import network_map
        from osom.maps.svg import render_svg

        sel = self.snap.network
        self.write("network.svg", render_svg(network_map(sel.nodes, sel.edges, title=f"{self.snap.organisation}: service network")))
        self.page("network.html", "publish/network.html", "The service network", selection=sel,
                  services=[self._service_row("network.html", s) for s in self.snap.services])

    def reports_index(self) -> None:
        rows = [{"href": self.report_page(r), "report": r, "day": _day(r.published_at),
                 "service_href": self.service_page(r.service)} for r in self.snap.reports]
        self.page("reports.html", "publish/reports.html", "Assessment reports", rows=rows)

    def coes_index(self) -> None:
        rows = [{"href": self.coe_page(c), "coe": c, "day": _day(c.occurred_on),
                 "service_href": self.service_page(c.service)} for c in self.snap.coes]
        self.page("corrections.html", "publish/corrections.html", "Corrections of error", rows=rows)

    def guidance_index(self) -> None:
        here = "guidance/index.html"
        for g in self.snap.guidance:
            page = self.guidance_page(g)
            base = posixpath.dirname(page)
            self.page(page, "publish/guidance.html", g.title, guidance=g, body=prose(g.body), published=_day(g.published_at),
                      coe_href=posixpath.relpath(self.coe_page(g.published_coe), base) if g.published_coe else "",
                      decisions=[{"decision": d, "rationale": prose(d.rationale),
                                  "href": posixpath.relpath(self.service_page(d.service), base)} for d in g.service_decisions])
        for g in self.snap.community_guidance:
            self.page(self.community_guidance_page(g), "publish/community_guidance.html", g.title, guidance=g,
                      body=prose(g.body), published=_day(g.published_at))
        self.page(here, "publish/guidance_index.html", "Guidance",
                  guidance=self.links(here, self.snap.guidance, self.guidance_page, lambda g: g.title),
                  community=self.links(here, self.snap.community_guidance, self.community_guidance_page, lambda g: g.title))

    def doctrine(self) -> None:
        heat = self.snap.heat_map
        rows = [{"service": row["service"], "href": self.service_page(row["service"]),
                 "cells": list(zip(heat.get("patterns", []), row["cells"]))} for row in heat.get("rows", [])]
        from osom.learning.doctrine import PHASES

        self.page("doctrine.html", "publish/doctrine.html", "Doctrine", grid=self.snap.doctrine_grid,
                  round=self.snap.doctrine_round, phases=sorted(PHASES.items()), patterns=self.snap.patterns,
                  rows=rows)


# ---------------------------------------------------------------- swapping the folder in

def _replaceable(path: Path) -> bool:
    """Whether publishing may replace what is at ``path``: nothing, an empty folder, a
    folder holding only a git repository's own files, or an earlier publication."""
    if not path.exists():
        return True
    if not path.is_dir():
        return False
    names = {p.name for p in path.iterdir()}
    return not (names - {".git"}) or MARKER in names


def replace_folder(path: Path, build) -> int:
    """Build a folder with ``build(folder) -> files`` beside ``path`` and swap it in, so a
    reader sees the old site or the new one, never half of one. A git repository's own
    ``.git`` is carried over, so that a publication can be committed."""
    from osom.core.errors import InvalidInput

    path = Path(path).absolute()
    if not _replaceable(path):
        raise InvalidInput(f"{path} is not empty and holds no earlier publication: choose a new or empty folder, "
                           "so that nothing else in it is replaced.", field="path")
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{path.name}.new-", dir=path.parent))
    try:
        files = build(fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    fresh.chmod(0o755)
    git, old, git_moved = path / ".git", None, False
    try:
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
            if git.exists():
                git.rename(fresh / ".git")
                git_moved = True
            path.rename(old / "site")
        fresh.rename(path)
    except BaseException:
        _put_back(path, fresh, old, git_moved)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return files


def _put_back(path: Path, fresh: Path, old: Path | None, git_moved: bool) -> None:
    """After a failed swap, the earlier publication and its ``.git`` back where they were.
    Should that fail too, nothing that holds them is removed: the user's repository is
    never deleted, only left beside ``path``."""
    try:
        if old is not None and (old / "site").exists() and not path.exists():
            (old / "site").rename(path)
        if git_moved:
            (fresh / ".git").rename(path / ".git")
    except OSError:
        return
    shutil.rmtree(fresh, ignore_errors=True)
    if old is not None:
        try:
            old.rmdir()  # empty now; never removed with what it holds
        except OSError:
            pass


def publish_site(path: Path, *, published_on: dt.date | None = None, snap: Snapshot | None = None) -> PublishResult:
    """Write the network as a static website into ``path`` (replacing an earlier
    publication there). ``published_on`` is the only date that is not the data's own."""
    from django.utils import timezone

    published_on = published_on or timezone.localdate()
    snap = snap or snapshot()

    def build(folder: Path) -> int:
        site = _Site(folder, snap, published_on)
        site.build()
        return site.files

    files = replace_folder(Path(path), build)
    return PublishResult(path=Path(path), files=files, services=len(snap.services))
