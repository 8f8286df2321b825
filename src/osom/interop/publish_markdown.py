"""The network published as Markdown files, for a git repository: a README.md index, one
file per service with its contract, reports, Corrections of Error and guidance decisions,
one file per piece of guidance, and the maps as SVG files beside them. Links are relative,
so they work on any git host and in a checkout.

The same rules as the website hold (see :mod:`osom.interop.publish`): only what is
published, read in one pass, written into a new folder and swapped in, the same bytes for
the same database. People's prose is Markdown already and is kept as written, except that
it is made inert (see :func:`prose`): raw HTML shows as text, never as markup, whatever
renderer reads the files, and no image or link into the app is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .publish import COE_HEADINGS, MARKER, MARKER_TEXT, PublishResult, Snapshot, _day, replace_folder, snapshot

__all__ = ["publish_markdown", "write_markdown"]

# Links and images are found in the whole text, code included: what a renderer takes for
# code is not decided here, so nothing may depend on it.
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\](?:\([^()\n]*\)|\[[^\[\]\n]*\])")
_INWARD_LINK = re.compile(r"\[([^\[\]\n]*)\]\((?![ \t]*\n?[ \t]*(?:https?://|mailto:|#))(?:[^()\n]|\([^()\n]*\))*\)", re.IGNORECASE)
_OUTWARD = re.compile(r"(?:https?://|mailto:|#)[^\s()<>\[\]]*\Z", re.IGNORECASE)
# a link reference definition on a line of its own: "[label]: address" with an optional title
_DEFINITION = re.compile(r"^ {0,3}\[([^\[\]\n]+)\]:[ \t]*<?([^\s<>]+)>?(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*$",
                         re.MULTILINE)
_FULL_REFERENCE = re.compile(r"\[([^\[\]\n]*)\]\[([^\[\]\n]*)\]")
_SHORTCUT_REFERENCE = re.compile(r"\[([^\[\]\n]+)\](?![(\[])")
# a link's destination starts right after "](" and any white space (one line break at most)
_LINK_OPENING = re.compile(r"\]\((?![ \t]*\n?[ \t]*(?:https?://|mailto:|#))", re.IGNORECASE)
_QUOTE_MARKERS = re.compile(r"(?:[ \t]*>)+")


def _escape_html(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities: with no ``<`` left, no renderer can find a tag,
    and with no ``&`` left an entity someone typed shows as they typed it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def _references(text: str) -> str:
    """Link reference definitions on lines of their own taken out, and the references to
    those that lead out (see :data:`_OUTWARD`) written as inline links instead."""
    addresses: dict[str, str] = {}

    def define(m: re.Match) -> str:
        addresses.setdefault(_label(m.group(1)), m.group(2) if _OUTWARD.match(m.group(2)) else "")
        return ""

    text = _DEFINITION.sub(define, text)
    if not addresses:
        return text

    def use(m: re.Match, label: str) -> str:
        label = _label(label)
        if label not in addresses:
            return m.group(0)
        return f"[{m.group(1)}]({addresses[label]})" if addresses[label] else m.group(1)

    text = _FULL_REFERENCE.sub(lambda m: use(m, m.group(2) or m.group(1)), text)
    return _SHORTCUT_REFERENCE.sub(lambda m: use(m, m.group(1)), text)


def prose(text) -> str:
    """People's Markdown made inert, as the app shows it, whatever renderer reads it (a git
    host, an editor's preview, markdown-it with raw HTML allowed):

    - ``&``, ``<`` and ``>`` are written as entities everywhere, code included, so raw HTML
      shows as text (in code, as its entities: a small price for not guessing what a
      renderer takes for code); only the ``>`` that start a quoted line stay;
    - no image: the app shows none, and a git host would load it from wherever it is; an
      image keeps its words, and any ``![`` left is written so that it opens nothing;
    - no link reference definition (``[r]: address``): one on a line of its own is taken
      out (a renderer does not show it), and a reference to it becomes an ordinary link when
      the address leads out, or stays as its words when not; any other ``]:`` is written as
      ``]\\:``, which shows the same, so that no reference can find an address;
    - a link keeps its address only when it leads out (http, https, mailto) or to a place on
      the page; a link into the app, which the repository does not hold, keeps its words
      and loses its address, and any other ``](`` is written so that it opens no link.
    """
    text = str(text or "").strip().replace("\r\n", "\n").replace("\r", "\n")
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = text.replace("![", "!\\[")
    text = _references(text)
    text = _INWARD_LINK.sub(lambda m: m.group(1), text)
    text = _LINK_OPENING.sub("]\\\\(", text)
    text = text.replace("]:", "]\\:")
    out = []
    for line in text.split("\n"):
        quote = _QUOTE_MARKERS.match(line)
        keep = quote.end() if quote else 0
        out.append(line[:keep] + _escape_html(line[keep:]))
    return "\n".join(out)


def plain(text) -> str:
    """A one-line text (a name, a title) written so that Markdown shows it as it is."""
    text = " ".join(str(text or "").split())
    text = _escape_html(text)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text)


def _service_file(s) -> str:
    return f"services/{s.file}.md"


def _guidance_file(g) -> str:
    return f"guidance/{g.pk}.md"


def _section(lines: list[str], heading: str, text: str) -> None:
    if text and str(text).strip():
        lines += [heading, "", prose(text), ""]


class _Writer:
    def __init__(self, root: Path, snap: Snapshot, published_on: dt.date):
        self.root, self.snap, self.published_on, self.files = root, snap, published_on, 0
        self.services_by_pk = {s.pk: s for s in snap.services}

    def write(self, path: str, content: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode("utf-8"))
        self.files += 1

    def footer(self) -> list[str]:
        return ["---", "", f"Published on {_day(self.published_on)} from the {plain(self.snap.terms['model'])} "
                f"platform of {plain(self.snap.organisation)}.", ""]

    def build(self) -> None:
        from osom.maps.network import network_map
        from osom.maps.svg import render_svg
        from osom.maps.text import parse

        snap = self.snap
        self.write(MARKER, MARKER_TEXT)
        sel = snap.network
        self.write("network.svg", render_svg(network_map(sel.nodes, sel.edges, title=f"{snap.organisation}: service network")))
        for s in snap.services:
            if s.map_text is not None:
                self.write(f"services/{s.file}.svg", render_svg(parse(s.map_text)))
            self.write(_service_file(s), self.service(s))
        for g in snap.guidance:
            self.write(_guidance_file(g), self.guidance(g))
        self.write("doctrine.md", self.doctrine())
        self.write("README.md", self.readme())

    def readme(self) -> str:
        snap, terms = self.snap, self.snap.terms
        lines = [f"# {plain(snap.organisation)}", "",
                 f"The service network of {plain(snap.organisation)}, run on the {plain(terms['model'])}.", "",
                 "- [Network map](network.svg)", "- [Doctrine](doctrine.md)", ""]
        lines += ["## Services", "", f"| Service | Stage | Evolution | {plain(terms['service_manager'])} | What it is |",
                  "|---|---|---|---|---|"]
        for s in snap.services:
            manager = plain(s.manager.name) if s.manager else "none appointed"
            lines.append(f"| [{plain(s.name)}]({_service_file(s)}) | {s.get_lifecycle_stage_display()} | "
                         f"{s.get_evolution_stage_display()} | {manager} | {plain(s.summary)} |")
        lines.append("")
        lines += [f"## Guidance from the {plain(terms['executive'])}", ""]
        lines += [f"- [{plain(g.title)}]({_guidance_file(g)}) ({g.get_category_display()})" for g in snap.guidance] or ["None published."]
        lines.append("")
        if snap.community_guidance:
            lines += ["## Guidance from communities of practice", ""]
            for g in snap.community_guidance:
                lines += [f"### {plain(g.title)}", "", f"{plain(g.community.name)}, {g.get_kind_display().lower()}, "
                          f"published {_day(g.published_at)}.", "", prose(g.body), ""]
        lines += ["## Assessment reports", ""]
        lines += [f"- {_day(r.published_at)}: [{plain(r.service.name)}]({_service_file(r.service)}#report-{r.pk}), "
                  f"{r.get_stage_display()}, {r.get_result_display()}" for r in snap.reports] or ["None published."]
        lines.append("")
        lines += ["## Corrections of error", ""]
        lines += [f"- {_day(c.occurred_on)}: [{plain(c.title)}]({_service_file(c.service)}#coe-{c.pk}) "
                  f"({plain(c.service.name)})" for c in snap.coes] or ["None published."]
        lines.append("")
        return "\n".join(lines + self.footer())

    def contract(self, lines: list[str], v, level: str = "##") -> None:
        lines += [f"- **Lifecycle stage:** {v.get_lifecycle_stage_display()}",
                  f"- **Evolution stage:** {v.get_evolution_stage_display()}",
                  f"- **Users:** {v.get_user_type_display()}",
                  f"- **Version:** {v.number}, approved {_day(v.approved_at)}", ""]
        for name in v.DESCRIPTION_FIELDS:
            _section(lines, f"{level}# {v._meta.get_field(name).verbose_name}", getattr(v, name))
        _section(lines, f"{level}# Reasons for decommissioning", v.decommission_reasons)
        needs = list(v.needs.all())
        lines += [f"{level}# User needs", ""]
        for need in needs:
            measured = "; ".join(plain(m.name) for m in need.metrics.all())
            lines.append(f"- As a **{plain(need.as_a)}**, I need **{plain(need.i_need)}**, so that **{plain(need.so_that)}**."
                         + (f" Measured by: {measured}." if measured else ""))
        if not needs:
            lines.append("No needs recorded.")
        lines.append("")
        metrics = list(v.metrics.all())
        if metrics:
            from osom.core.numbers import plain_number

            lines += [f"{level}# Service metrics", "", "| Metric | Kind | Unit | Direction | Target |", "|---|---|---|---|---|"]
            for m in metrics:
                target = plain_number(m.target) if m.target is not None else "—"
                lines.append(f"| {plain(m.name)} | {m.get_kind_display()} | {plain(m.unit)} | {m.get_direction_display()} | {target} |")
            lines.append("")
        deps = list(v.dependencies.all())
        lines += [f"{level}# Dependencies", ""]
        for d in deps:
            provider = self.services_by_pk[d.provider_id]
            # one service file links to another beside it
            lines.append(f"- [{plain(provider.name)}]({provider.file}.md)" + (f": {plain(d.note)}" if d.note else ""))
        if not deps:
            lines.append("It consumes no other service.")
        lines.append("")

    def service(self, s) -> str:
        terms = self.snap.terms
        lines = [f"# {plain(s.name)}", "", plain(s.summary), "",
                 f"- **{plain(terms['service_manager'])}:** {plain(s.manager.name) if s.manager else 'none appointed'}",
                 f"- **Lifecycle stage:** {s.get_lifecycle_stage_display()}", "", "[All services](../README.md)", ""]
        lines += ['<a id="contract"></a>', "", "## Contract", ""]
        if s.current is not None:
            self.contract(lines, s.current)
        else:
            lines += ["No version of the contract is approved yet.", ""]
        if s.consumers:
            lines += ["### Consumed by", ""]
            lines += [f"- [{plain(c.name)}]({c.file}.md)" for c in sorted(s.consumers, key=lambda c: (c.name, c.pk))]
            lines.append("")
        if s.map_text is not None:
            lines += ["## Wardley map", "", f"![Wardley map of {plain(s.name)}]({s.file}.svg)", ""]
        earlier = [v for v in s.approved if v.pk != s.current_version_id]
        if earlier:
            lines += ["## Earlier contract versions", ""]
            for v in earlier:
                lines += [f'<a id="version-{v.number}"></a>', "", f"### Version {v.number}", ""]
                _section(lines, "**What changed and why**", v.change_note)
                self.contract(lines, v, level="###")
        lines += ["## Assessment reports", ""]
        for r in s.reports:
            self.report(lines, r)
        if not s.reports:
            lines += ["No report published yet.", ""]
        lines += ["## Corrections of error", ""]
        for c in s.coes:
            self.coe(lines, c)
        if not s.coes:
            lines += ["None published.", ""]
        lines += ["## Guidance", ""]
        for d in s.decisions:
            lines.append(f"- [{plain(d.guidance.title)}](../{_guidance_file(d.guidance)}): {d.get_decision_display().lower()}"
                         + (f". {prose(d.rationale)}" if d.rationale.strip() else ""))
        if not s.decisions:
            lines.append("It has recorded no decision on published guidance.")
        lines.append("")
        return "\n".join(lines + self.footer())

    def report(self, lines: list[str], r) -> None:
        from osom.lifecycle.outcomes import DECOMMISSION_CONDITIONS
        from osom.lifecycle.queries import format_money

        terms = self.snap.terms
        v = r.pinned_version
        if v is None:
            version = "—"
        elif v.pk == r.service.current_version_id:
            version = f"[version {v.number}](#contract)"
        else:
            version = f"[version {v.number}](#version-{v.number})"
        lines += [f'<a id="report-{r.pk}"></a>', "", f"### {_day(r.published_at)}: {r.get_stage_display()}, {r.get_result_display()}", "",
                  f"- **Result:** {r.get_result_display()}",
                  f"- **Stage assessed:** {r.get_stage_display()} ({r.get_kind_display().lower()})",
                  f"- **{plain(terms['service_manager'])}:** {plain(r.manager.name) if r.manager else 'none appointed'}",
                  f"- **Contract version assessed:** {version}",
                  f"- **Assessors:** {', '.join(plain(p.name) for p in r.assessors.all())}",
                  f"- **Outcome:** {plain(r.outcome_text)}", ""]
        _section(lines, "**Summary**", r.summary)
        rejected = r.rejected_guidance or []
        if rejected:
            lines += ["**Guidance the service rejected**", ""]
            lines += [f"- **{plain(g.get('title', ''))}**: {prose(g.get('rationale', ''))}" for g in rejected]
            lines.append("")
        for item in r.items.all():
            c = item.criterion
            name = f"[{plain(c.name)}]({c.link})" if c.link.startswith(("http://", "https://")) else plain(c.name)
            lines += [f"#### {name}: {item.get_decision_display() or 'not decided'}", ""]
            _section(lines, "**What the team did well**", item.did_well)
            _section(lines, "**What the team needs to improve**", item.to_improve)
        if r.decommission_reasons:
            lines += ["**Why the service is decommissioned**", "",
                      f"Condition ({r.decommission_condition}): {DECOMMISSION_CONDITIONS.get(r.decommission_condition, '')}", "",
                      prose(r.decommission_reasons), ""]
            _section(lines, "**How consumers migrate away**", r.migration_path)
        allocations = sorted(r.allocations.all(), key=lambda a: (a.period, a.pk))
        if allocations:
            lines += ["**Budget allocated**", ""]
            lines += [f"- {format_money(a.amount, self.snap.currency)} for {a.get_stage_display().lower()}, {plain(a.period)}"
                      for a in allocations]
            lines.append("")
        for a in r.addenda.all():
            lines += [f"**Addendum, {_day(a.created_at)}, {plain(a.author.name)}:** {prose(a.text)}", ""]

    def coe(self, lines: list[str], c) -> None:
        from osom.learning.actions import COE_TEXT_FIELDS

        lines += [f'<a id="coe-{c.pk}"></a>', "", f"### {plain(c.title)}", "",
                  f"- **It happened on:** {_day(c.occurred_on)}",
                  f"- **Users felt it:** {'yes' if c.users_affected else 'no'}",
                  f"- **Status:** {c.get_status_display()}", f"- **Published:** {_day(c.published_at)}", ""]
        for f in COE_TEXT_FIELDS:
            _section(lines, f"**{COE_HEADINGS.get(f, f)}**", getattr(c, f))
        timeline = list(c.timeline.all())
        if timeline:
            lines += ["**Timeline**", ""]
            lines += [f"- {_day(e.at)}: {prose(e.description)}" for e in timeline]
            lines.append("")
        for chain in c.why_chains.all():
            lines += [f"**Five whys: {plain(chain.question)}**", ""]
            lines += [f"{i}. {plain(why)}" for i, why in enumerate(chain.whys, start=1)]
            lines.append("")
        effects = sorted(c.pattern_effects.all(), key=lambda e: (e.pattern.position, e.pattern.pk))
        if effects:
            lines += ["**Doctrine patterns that helped or hurt**", ""]
            lines += [f"- {plain(e.pattern.name)}: {e.get_effect_display().lower()}" + (f". {plain(e.note)}" if e.note else "")
                      for e in effects]
            lines.append("")
        actions = list(c.actions.all())
        if actions:
            lines += ["**Corrective actions**", "", "| Action | Owner | Due | Status |", "|---|---|---|---|"]
            lines += [f"| {plain(a.description)} | {plain(a.owner.name)} | {_day(a.agreed_due_date or a.due_date)} | "
                      f"{a.get_status_display()} |" for a in actions]
            lines.append("")
        _section(lines, "**What the review said**", c.review_note)

    def guidance(self, g) -> str:
        terms = self.snap.terms
        source = g.get_source_display() + (f": {plain(g.source_detail)}" if g.source_detail else "")
        if g.published_coe is not None:
            source += f" ([the correction of error](../{_service_file(g.published_coe.service)}#coe-{g.published_coe.pk}))"
        lines = [f"# {plain(g.title)}", "", f"- **Published by the {plain(terms['executive'])}:** {_day(g.published_at)}",
                 f"- **Category:** {g.get_category_display()}", f"- **Source:** {source}", "", "[All services](../README.md)", "",
                 prose(g.body), "", "## What services decided", ""]
        for d in g.service_decisions:
            lines.append(f"- [{plain(d.service.name)}](../{_service_file(d.service)}): {d.get_decision_display().lower()}"
                         + (f". {prose(d.rationale)}" if d.rationale.strip() else ""))
        if not g.service_decisions:
            lines.append("No service has recorded a decision.")
        lines.append("")
        return "\n".join(lines + self.footer())

    def doctrine(self) -> str:
        from osom.learning.doctrine import PHASES

        snap = self.snap
        lines = ["# Doctrine", "", "[All services](README.md)", ""]
        if snap.doctrine_round is not None:
            lines += [f"How the organisation rates itself in “{plain(snap.doctrine_round.title)}”: "
                      "good, partly, weak or unknown.", ""]
            lines += ["| Group | " + " | ".join(f"Phase {n}: {name}" for n, name in sorted(PHASES.items())) + " |",
                      "|---" * (len(PHASES) + 1) + "|"]
            for row in snap.doctrine_grid:
                cells = ["<br>".join(f"{plain(c['pattern'].name)} ({c['colour']})" for c in column["cells"])
                         for column in row["phases"]]
                lines.append(f"| {row['group'].capitalize()} | " + " | ".join(cells) + " |")
            lines.append("")
        else:
            lines += ["The organisation has not rated itself yet.", ""]
        lines += ["## Services and the patterns", ""]
        heat = snap.heat_map
        for row in heat.get("rows", []):
            s = row["service"]
            counts: dict[str, int] = {}
            for colour in row["cells"]:
                counts[colour] = counts.get(colour, 0) + 1
            summary = ", ".join(f"{counts[c]} {c}" for c in ("good", "partly", "weak", "unknown") if counts.get(c))
            lines.append(f"- [{plain(s.name)}]({_service_file(s)}): {summary}")
        lines.append("")
        return "\n".join(lines + self.footer())


def write_markdown(folder: Path, snap: Snapshot, published_on: dt.date) -> int:
    """Write the Markdown publication into ``folder``; the number of files written."""
    writer = _Writer(folder, snap, published_on)
    writer.build()
    return writer.files


def publish_markdown(path: Path, *, published_on: dt.date | None = None, snap: Snapshot | None = None) -> PublishResult:
    """Write the network as Markdown files into ``path`` (replacing an earlier publication
    there, and keeping a git repository's ``.git``)."""
    from django.utils import timezone

    published_on = published_on or timezone.localdate()
    snap = snap or snapshot()
    files = replace_folder(Path(path), lambda folder: write_markdown(folder, snap, published_on))
    return PublishResult(path=Path(path), files=files, services=len(snap.services))
