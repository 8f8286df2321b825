"""Drawing a Wardley map as SVG.

The drawing is self-contained (no fonts, images or scripts from elsewhere; a submap's
address becomes a link only if it is http(s) or relative), every piece of the map's text is
escaped, and the same map always gives the same bytes. A component at
``[visibility, evolution]`` is drawn at ``x = left + evolution * plot width`` and
``y = top + (1 - visibility) * plot height``, with the plot area given by :func:`plot_area`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import deque

from .statements import Component, WardleyMap

__all__ = ["render_svg", "plot_area", "DEFAULT_STAGE_LABELS"]

DEFAULT_STAGE_LABELS = ("Genesis", "Custom-Built", "Product (+rental)", "Commodity (+utility)")
_LEFT, _TOP, _RIGHT, _BOTTOM = 48, 48, 24, 56
_STEP = 36  # pixels between components placed by the renderer rather than the text
_PIPE_DROP = 24  # a pipeline's box hangs this far below its component
_FONT = 'font-family="sans-serif"'
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_METHOD_FILL = {"build": ("#ffffff", "#222222"), "buy": ("#cfcfcf", "#777777"), "outsource": ("#6f6f6f", "#333333")}
_BOX_STYLE = {"pioneers": ("Pioneers", "#d6e9ff"), "settlers": ("Settlers", "#e3f5d8"),
              "townplanners": ("Town planners", "#fbe8cf")}


def plot_area(width: float = 900, height: float = 620) -> tuple[float, float, float, float]:
    """The plot inside the drawing: ``(left, top, plot width, plot height)`` in pixels."""
    return _LEFT, _TOP, max(width - _LEFT - _RIGHT, 1), max(height - _TOP - _BOTTOM, 1)


def _esc(text) -> str:
    text = _INVALID_XML.sub("\ufffd", str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


def _n(x: float) -> str:
    return f"{x:.1f}"


def _finite(x, default: float = 0.5) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def _safe_href(address) -> str | None:
    """The address if a browser following it stays on http(s): an http(s) address or a
    relative one; never javascript:, data: or anything else."""
    if not address:
        return None
    address = str(address).strip()
    if not address or any(ord(ch) < 0x21 or ch in "\\<>\"'`" for ch in address):
        return None
    scheme = _SCHEME.match(address)
    if scheme:
        return address if scheme.group(1).lower() in ("http", "https") else None
    before_path = re.split(r"[/?#]", address, maxsplit=1)[0]
    return None if ":" in before_path else address


class _Canvas:
    def __init__(self, wmap: WardleyMap, width: float, height: float, stages, ids: str):
        self.map = wmap
        self.ids = ids  # prefix of the ids in this drawing, so two drawings on one page do not clash
        self.width, self.height = width, height
        self.left, self.top, self.w, self.h = plot_area(width, height)
        self.stages = stages
        self.pos: dict[str, tuple[float, float]] = {}
        self.missing: list[str] = []
        self.out: list[str] = []

    def point(self, visibility, evolution) -> tuple[float, float]:
        # a little outside 0..1 is drawn as written; further out stops at the margin
        v = min(max(_finite(visibility), -0.06), 1.06)
        e = min(max(_finite(evolution), -0.06), 1.04)
        return self.left + e * self.w, self.top + (1 - v) * self.h

    def clamp(self, x: float, y: float) -> tuple[float, float]:
        return (min(max(x, self.left - 0.06 * self.w), self.left + 1.04 * self.w),
                min(max(y, self.top - 0.06 * self.h), self.top + 1.06 * self.h))

    # --- where everything goes -----------------------------------------------------------

    def layout(self) -> None:
        m = self.map
        for c in m.components:
            self.pos.setdefault(c.name, self.point(c.visibility, c.evolution))
        self._children()
        for e in m.evolves:
            if e.new_name and e.name in self.pos:
                self.pos.setdefault(e.new_name, (self.point(0, e.evolution)[0], self.pos[e.name][1]))
        self._place_missing()
        self._children()

    def _children(self) -> None:
        for p in self.map.pipelines:
            if p.parent in self.pos:
                y = self.pos[p.parent][1] + _PIPE_DROP
                for child in p.children:
                    self.pos.setdefault(child.name, (self.point(0, child.evolution)[0], y))

    def _place_missing(self) -> None:
        """Names used but never declared: below what uses them, above what they use, in a
        column on the left when nothing declared is linked to them."""
        m = self.map
        pairs = [(x.source, x.target) for x in [*m.links, *m.flows]]
        pairs += [(p.parent, p.parent) for p in m.pipelines]
        neighbours: dict[str, list[tuple[str, int]]] = {}
        for source, target in pairs:
            for name in (source, target):
                if name not in self.pos:
                    neighbours.setdefault(name, [])
            if source not in self.pos and source != target:
                neighbours[source].append((target, -1))  # what it uses sits below it
            if target not in self.pos and source != target:
                neighbours[target].append((source, 1))
        self.missing = list(neighbours)
        if not neighbours:
            return
        used_from: dict[str, int] = {}
        queue = deque(name for name in self.pos)
        frontier_of = {}
        for name, links in neighbours.items():
            for other, _ in links:
                frontier_of.setdefault(other, []).append(name)
        while queue:
            known = queue.popleft()
            for name in frontier_of.get(known, ()):
                if name in self.pos:
                    continue
                direction = next(d for other, d in neighbours[name] if other == known)
                k = used_from.get(known, 0)
                used_from[known] = k + 1
                x, y = self.pos[known]
                self.pos[name] = self.clamp(x + _STEP * k, y + direction * 0.1 * self.h)
                queue.append(name)
        row = 0
        for name in neighbours:
            if name not in self.pos:
                column, place = divmod(row, max(int(self.h // 24), 1))
                self.pos[name] = (self.left + 12 + column * 120, self.top + 12 + place * 24)
                row += 1

    # --- drawing -------------------------------------------------------------------------

    def add(self, text: str) -> None:
        self.out.append(text)

    def text(self, x, y, content, *, css: str, size: int = 11, extra: str = "", fill: str = "",
             anchor: str = "", bold: bool = False) -> str:
        if fill:
            extra += f' fill="{fill}"'
        if anchor:
            extra += f' text-anchor="{anchor}"'
        if bold:
            extra += ' font-weight="bold"'
        return f'<text class="{css}" x="{_n(x)}" y="{_n(y)}" font-size="{size}" {_FONT}{extra}>{_esc(content)}</text>'

    def axes(self, labels) -> None:
        left, top, w, h = self.left, self.top, self.w, self.h
        bottom = top + h
        for stage in self.stages:
            x = left + stage * w
            self.add(f'<line class="stage" x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom)}" '
                     'stroke="#b8b8b8" stroke-dasharray="4 4"/>')
        self.add(f'<line class="axis" x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(left)}" y2="{_n(top - 8)}" '
                 f'stroke="#222" stroke-width="1.5" marker-end="url(#{self.ids}-head)"/>')
        self.add(f'<line class="axis" x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(left + w + 8)}" y2="{_n(bottom)}" '
                 f'stroke="#222" stroke-width="1.5" marker-end="url(#{self.ids}-head)"/>')
        starts = (0.0, *self.stages)
        for start, label in zip(starts, labels):
            self.add(self.text(left + start * w + 4, bottom + 18, label, css="stage-label", size=12))
        self.add(self.text(left + w, bottom + 38, "Evolution", css="axis-label", size=12, anchor="end"))
        mid = top + h / 2
        self.add(self.text(left - 30, mid, "Value chain", css="axis-label", size=12,
                           extra=f' text-anchor="middle" transform="rotate(-90 {_n(left - 30)} {_n(mid)})"'))
        self.add(self.text(left - 14, top + 4, "Visible", css="axis-label", size=10,
                           extra=f' text-anchor="end" transform="rotate(-90 {_n(left - 14)} {_n(top + 4)})"'))
        self.add(self.text(left - 14, bottom, "Invisible", css="axis-label", size=10,
                           extra=f' transform="rotate(-90 {_n(left - 14)} {_n(bottom)})"'))

    def boxes(self) -> None:
        for box in self.map.boxes:
            (x1, y1), (x2, y2) = self.point(*box.first), self.point(*box.second)
            name, colour = _BOX_STYLE.get(box.kind, (box.kind, "#eeeeee"))
            x, y = min(x1, x2), min(y1, y2)
            self.add(f'<g class="box {_esc(box.kind)}"><rect x="{_n(x)}" y="{_n(y)}" width="{_n(abs(x2 - x1))}" '
                     f'height="{_n(abs(y2 - y1))}" fill="{colour}" fill-opacity="0.55" stroke="#8a8a8a" '
                     f'stroke-dasharray="6 3"/>{self.text(x + 4, y + 14, name, css="box-label", size=12)}</g>')

    def pipelines(self) -> None:
        for p in self.map.pipelines:
            if p.parent not in self.pos:
                continue
            px, py = self.pos[p.parent]
            xs = [self.point(0, c.evolution)[0] for c in p.children]
            if p.span is not None:
                xs += [self.point(0, p.span[0])[0], self.point(0, p.span[1])[0]]
            if not xs:
                xs = [px - 20, px + 20]
            x1, x2 = min(xs) - 12, max(xs) + 12
            y = py + _PIPE_DROP - 12
            parts = [f'<g class="pipeline" data-parent="{_esc(p.parent)}">',
                     f'<line x1="{_n(px)}" y1="{_n(py)}" x2="{_n(px)}" y2="{_n(y)}" stroke="#555"/>',
                     f'<rect x="{_n(x1)}" y="{_n(y)}" width="{_n(x2 - x1)}" height="24" fill="#ffffff" '
                     'fill-opacity="0.6" stroke="#333"/>']
            for child in p.children:
                cx = self.point(0, child.evolution)[0]
                dx, dy = child.label if child.label is not None else (8, 22)
                parts.append(f'<g class="component pipeline-component" data-name="{_esc(child.name)}">'
                             f'<circle cx="{_n(cx)}" cy="{_n(y + 12)}" r="5" fill="#ffffff" stroke="#000"/>'
                             f'{self.text(cx + dx, y + 12 + dy, child.name, css="name", size=10)}</g>')
            parts.append("</g>")
            self.add("".join(parts))

    def links(self) -> None:
        for link in self.map.links:
            (x1, y1), (x2, y2) = self.pos[link.source], self.pos[link.target]
            line = (f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="#555" stroke-width="1"/>')
            label = self.text((x1 + x2) / 2 + 4, (y1 + y2) / 2 - 4, link.label, css="link-label", size=10) if link.label else ""
            self.add(f'<g class="link">{line}{label}</g>')
        for flow in self.map.flows:
            (x1, y1), (x2, y2) = self.pos[flow.source], self.pos[flow.target]
            ends = ""
            if flow.direction in (">", "<>"):
                ends += f' marker-end="url(#{self.ids}-flow)"'
            if flow.direction in ("<", "<>"):
                ends += f' marker-start="url(#{self.ids}-flow-back)"'
            value = self.text((x1 + x2) / 2 + 6, (y1 + y2) / 2 + 12, flow.value, css="flow-value", size=10,
                              fill="#1f5fa8") if flow.value else ""
            self.add(f'<g class="flow"><line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="#1f5fa8" '
                     f'stroke-width="2" stroke-dasharray="6 4"{ends}/>{value}</g>')

    def evolves(self) -> None:
        for e in self.map.evolves:
            if e.name not in self.pos:
                continue
            x1, y = self.pos[e.name]
            x2 = self.point(0, e.evolution)[0]
            step = 9 if x2 >= x1 else -9
            dx, dy = e.label if e.label is not None else (10, -10)
            shown = e.new_name or e.name
            self.add(f'<g class="evolve" data-name="{_esc(e.name)}">'
                     f'<line x1="{_n(x1 + step)}" y1="{_n(y)}" x2="{_n(x2 - step)}" y2="{_n(y)}" stroke="#d0312d" '
                     f'stroke-width="1.5" stroke-dasharray="5 4" marker-end="url(#{self.ids}-evolve)"/>'
                     f'{self.marks(x2, y, e.decorators)}'
                     f'<circle cx="{_n(x2)}" cy="{_n(y)}" r="6" fill="#ffffff" stroke="#d0312d" stroke-width="1.5"/>'
                     f'{self.text(x2 + dx, y + dy, shown, css="name", fill="#d0312d")}</g>')

    def marks(self, x: float, y: float, decorators) -> str:
        """Rings behind a component: how it is sourced, and whether it is a market or ecosystem."""
        parts = []
        if "ecosystem" in decorators:
            parts.append(f'<circle class="mark-ecosystem" cx="{_n(x)}" cy="{_n(y)}" r="18" fill="none" stroke="#555" '
                         'stroke-dasharray="2 2"/>')
        for method in ("build", "buy", "outsource"):
            if method in decorators:
                fill, stroke = _METHOD_FILL[method]
                parts.append(f'<circle class="mark-{method}" cx="{_n(x)}" cy="{_n(y)}" r="13" fill="{fill}" '
                             f'stroke="{stroke}"/>')
                break  # one way of sourcing is drawn; two at once would hide each other
        if "market" in decorators:
            parts.append(self.market_dots(x, y, css="mark-market", radius=15))
        return "".join(parts)

    def market_dots(self, x: float, y: float, *, css: str, radius: float) -> str:
        dots = "".join(f'<circle cx="{_n(x + radius * math.cos(a))}" cy="{_n(y + radius * math.sin(a))}" r="2.5" '
                       'fill="#333"/>' for a in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6))
        return f'<g class="{css}">{dots}</g>'

    def component(self, c: Component) -> None:
        x, y = self.point(c.visibility, c.evolution)
        dx, dy = c.label if c.label is not None else (10, -8)
        kinds = c.kind if c.kind in ("anchor", "market", "ecosystem", "submap") else "component"
        head = f'<g class="component {kinds}" data-name="{_esc(c.name)}">'
        if c.kind == "anchor":
            body = self.text(x + (c.label[0] if c.label else 0), y + (c.label[1] if c.label else 4), c.name,
                             css="name anchor-name", size=13, bold=True, anchor="middle")
            self.add(head + body + "</g>")
            return
        body = self.marks(x, y, c.decorators)
        radius = 9 if c.kind in ("market", "ecosystem") else 6
        if c.kind == "ecosystem":
            body += f'<circle cx="{_n(x)}" cy="{_n(y)}" r="13" fill="#ffffff" stroke="#000" stroke-dasharray="3 2"/>'
        body += f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{radius}" fill="#ffffff" stroke="#000" stroke-width="1.5"/>'
        if c.kind in ("market", "ecosystem"):
            body += self.market_dots(x, y, css="market-dots", radius=4.5)
        if c.kind == "submap":
            body += f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" fill="#000"/>'
        if c.inertia:
            body += f'<rect class="inertia" x="{_n(x + 20)}" y="{_n(y - 11)}" width="5" height="22" fill="#000"/>'
        body += self.text(x + dx, y + dy, c.name, css="name")
        href = _safe_href(self.map.url_for(c.url)) if c.kind == "submap" else None
        if href:
            body = f'<a href="{_esc(href)}">{body}</a>'
        self.add(head + body + "</g>")

    def missing_names(self) -> None:
        for name in self.missing:
            x, y = self.pos[name]
            self.add(f'<g class="component undeclared" data-name="{_esc(name)}"><circle cx="{_n(x)}" cy="{_n(y)}" r="6" '
                     f'fill="#ffffff" stroke="#888" stroke-dasharray="2 2"/>'
                     f'{self.text(x + 10, y - 8, name, css="name", fill="#666")}</g>')

    def accelerators(self) -> None:
        for a in self.map.accelerators:
            x, y = self.point(a.visibility, a.evolution)
            s = 1 if a.kind == "accelerator" else -1
            shape = [(-25, -8), (10, -8), (10, -15), (25, 0), (10, 15), (10, 8), (-25, 8)]
            points = " ".join(f"{_n(x + s * px)},{_n(y + py)}" for px, py in shape)
            self.add(f'<g class="{_esc(a.kind)}" data-name="{_esc(a.name)}"><polygon points="{points}" fill="#ffffff" '
                     f'stroke="#000"/>{self.text(x, y + 30, a.name, css="name", anchor="middle")}</g>')

    def notes(self) -> None:
        for note in self.map.notes:
            x, y = self.point(note.visibility, note.evolution)
            self.add(self.text(x, y, note.text, css="note", size=12, bold=True))

    def annotations(self) -> None:
        items = sorted(self.map.annotations, key=lambda a: (a.number, a.line))
        for a in items:
            points = [self.point(v, e) for v, e in a.points]
            parts = [f'<g class="annotation" data-number="{a.number}">']
            if len(points) > 1:
                path = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
                parts.append(f'<polyline points="{path}" fill="none" stroke="#777" stroke-dasharray="3 3"/>')
            for x, y in points:
                parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="9" fill="#ffffff" stroke="#333"/>')
                parts.append(self.text(x, y + 4, a.number, css="annotation-number", size=10,
                                       anchor="middle"))
            self.add("".join(parts) + "</g>")
        if not items:
            return
        v, e = self.map.legend if self.map.legend is not None else (0.2, 0.72)
        x, y = self.point(v, e)
        longest = max(len(f"{a.number}. {a.text}") for a in items)
        width, height = min(max(120, 6.5 * longest + 16), self.w), 24 + 16 * len(items)
        # kept inside the drawing, wherever the text puts it
        x, y = max(min(x, self.width - width - 4), 4), max(min(y, self.height - height - 4), 4)
        rows = "".join(self.text(x + 8, y + 36 + 16 * i, f"{a.number}. {a.text}", css="annotation-text")
                       for i, a in enumerate(items))
        self.add(f'<g class="annotations-legend"><rect x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}" '
                 f'fill="#ffffff" stroke="#333"/>{self.text(x + 8, y + 16, "Annotations", css="legend-title", bold=True)}'
                 f'{rows}</g>')


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _description(wmap: WardleyMap, stages, labels) -> str:
    def stage(e: float) -> str:
        band = sum(1 for s in stages if _finite(e) >= s)
        return labels[band] or DEFAULT_STAGE_LABELS[band]

    components = sorted(wmap.components, key=lambda c: (-_finite(c.visibility), c.name))
    shown = [f"{c.name} ({stage(c.evolution).lower()})" for c in components[:60]]
    more = f", and {len(components) - 60} more" if len(components) > 60 else ""
    parts = [f"A Wardley map of {_count(len(wmap.components), 'component')} and {_count(len(wmap.links), 'link')}."]
    if shown:
        parts.append("From the most visible to the least: " + ", ".join(shown) + more + ".")
    if wmap.evolves:
        parts.append(f"{len(wmap.evolves)} expected to evolve.")
    return " ".join(parts)


def render_svg(m: WardleyMap, *, width: float = 900, height: float = 620,
               stages: tuple[float, float, float] = (0.175, 0.40, 0.70)) -> str:
    """The map drawn as a standalone SVG document."""
    stages = tuple(sorted(min(max(_finite(s), 0.0), 1.0) for s in stages))
    if len(stages) != 3:
        raise ValueError("stages are the three places along evolution where one stage gives way to the next")
    width, height = max(_finite(width, 900), 240), max(_finite(height, 620), 200)
    labels = m.evolution_labels if m.evolution_labels and len(m.evolution_labels) == 4 else DEFAULT_STAGE_LABELS
    digest = hashlib.sha256(f"{width}|{height}|{stages}|".encode() + m.to_text().encode("utf-8", "surrogatepass"))
    ids = "wm" + digest.hexdigest()[:10]
    canvas = _Canvas(m, width, height, stages, ids)
    canvas.layout()
    title = f"Wardley map: {m.title}" if m.title else "Wardley map"
    size = f'width="{width:g}" height="{height:g}" viewBox="0 0 {width:g} {height:g}"'
    canvas.add(f'<svg xmlns="http://www.w3.org/2000/svg" {size} role="img" aria-labelledby="{ids}-title {ids}-desc">')
    canvas.add(f'<title id="{ids}-title">{_esc(title)}</title>')
    canvas.add(f'<desc id="{ids}-desc">{_esc(_description(m, stages, labels))}</desc>')
    canvas.add(f'<defs><marker id="{ids}-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
               f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>'
               f'<marker id="{ids}-evolve" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
               f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#d0312d"/></marker>'
               f'<marker id="{ids}-flow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
               f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#1f5fa8"/></marker>'
               f'<marker id="{ids}-flow-back" viewBox="0 0 10 10" refX="1" refY="5" markerWidth="6" markerHeight="6" '
               f'orient="auto"><path d="M10,0 L0,5 L10,10 z" fill="#1f5fa8"/></marker></defs>')
    canvas.add(f'<rect class="background" x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>')
    canvas.boxes()
    canvas.axes(labels)
    if m.title:
        canvas.add(canvas.text(_LEFT, 28, m.title, css="title", size=18, bold=True))
    canvas.pipelines()
    canvas.links()
    canvas.evolves()
    for c in m.components:
        canvas.component(c)
    canvas.missing_names()
    canvas.accelerators()
    canvas.notes()
    canvas.annotations()
    canvas.add("</svg>")
    return "\n".join(canvas.out) + "\n"

