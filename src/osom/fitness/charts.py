"""Charts drawn on the server as SVG: a line chart of a metric's values (or a figure's)
against its target, and a picture of the money flowing through the network.

Pure functions of their arguments: no database, no request. Values are Decimals and stay
Decimals: axis labels are exact multiples of a round step (0.2 · 3 is 0.6, never
0.6000000000000001), and even pixel positions are computed in Decimal, so a chart never
shows a number that was not in the data or on its scale. Every chart is an image to
assistive technology (``role="img"``) named by its ``<title>`` and described in words by
its ``<desc>``; pages also give the numbers as a table.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Callable, NamedTuple

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from osom.core.numbers import plain_number
from osom.lifecycle.queries import CURRENCY_SYMBOLS

__all__ = [
    "Point", "line_chart", "format_value", "format_period", "money_text", "nice_ticks",
    "FlowNode", "FlowBand", "FlowPicture", "RankedFlows", "flow_diagram",
]

_TENTH = Decimal("0.1")


# --- words for numbers ----------------------------------------------------------------

def money_text(value: Decimal | None, currency: str = "GBP", places: int = 2) -> str:
    """An amount of money with the organisation's currency: £1,234.50, £0.0077, −£3.00.
    ``places`` is the least number of decimals shown; more are kept when the amount has them."""
    if value is None:
        return ""
    value = Decimal(value)
    symbol = CURRENCY_SYMBOLS.get((currency or "").upper())
    text = f"{symbol}{_amount(value, places)}" if symbol else f"{(currency or '').upper()} {_amount(value, places)}".strip()
    return f"−{text}" if value < 0 else text


def _amount(value: Decimal, places: int) -> str:
    """The digits of an amount, grouped by thousands, with at least ``places`` decimals."""
    value = abs(value)
    shown = value.quantize(Decimal(1).scaleb(-places)) if _decimals(value) <= places else value.normalize()
    return f"{shown:,.{max(places, _decimals(shown))}f}"


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_value(value: Decimal | None, unit: str = "", currency: str = "") -> str:
    """A measured value with its unit as people write it: 98.5%, £0.02, 1,200 seconds."""
    if value is None:
        return ""
    unit = (unit or "").strip()
    head, _, rest = unit.partition(" ")
    if head.upper() in CURRENCY_SYMBOLS:  # GBP, or GBP per month
        return f"{money_text(value, head, places=2)} {rest}".strip()
    for symbol in sorted(CURRENCY_SYMBOLS.values(), key=len, reverse=True):
        if unit.startswith(symbol):  # £, or £ per month
            sign = "−" if value < 0 else ""
            return f"{sign}{symbol}{_amount(Decimal(value), 2)} {unit[len(symbol):].strip()}".strip()
    number = plain_number(value)
    whole, _, fraction = number.lstrip("-").partition(".")
    if len(whole) > 4:
        whole = f"{int(whole):,}"
    number = ("−" if value < 0 else "") + whole + (f".{fraction}" if fraction else "")
    if not unit:
        return number
    if unit == "%":
        return f"{number}%"
    return f"{number} {unit}"


def format_period(start: dt.date | None, end: dt.date | None) -> str:
    """A measured period in few words: “Mar 2026” for a whole month, “12 Mar 2026” for a
    day, “1 Jan – 31 Mar 2026” otherwise."""
    if start is None or end is None:
        return ""
    if start == end:
        return f"{end.day} {end:%b %Y}"
    if start.day == 1 and start.year == end.year and start.month == end.month \
            and (end + dt.timedelta(days=1)).month != end.month:
        return f"{end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def nice_ticks(low: Decimal, high: Decimal, count: int = 4) -> list[Decimal]:
    """Round, evenly spaced values covering [low, high]: multiples of 1, 2 or 5 × 10ⁿ."""
    low, high = Decimal(low), Decimal(high)
    if high < low:
        low, high = high, low
    if high == low:
        pad = abs(high) / 10 if high else Decimal(1)
        low, high = low - pad, high + pad
    raw = (high - low) / max(count, 1)
    base = Decimal(1).scaleb(raw.adjusted())
    step = next(base * m for m in (1, 2, 5, 10) if base * m >= raw)
    first = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    last = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    ticks = []
    tick = first
    while tick <= last:
        ticks.append(tick.normalize() if tick else Decimal(0))
        tick += step
    return ticks


def _px(value: Decimal) -> str:
    """A coordinate for the SVG, to a tenth of a pixel."""
    text = format(Decimal(value).quantize(_TENTH, rounding=ROUND_HALF_EVEN), "f")
    return text[:-2] if text.endswith(".0") else text


def _short_date(day: dt.date, span_days: int) -> str:
    return f"{day:%b %Y}" if span_days > 62 else f"{day.day} {day:%b}"


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


# --- the line chart -----------------------------------------------------------------------

@dataclass(frozen=True)
class Point:
    """One value on a line chart: placed at ``day`` (the end of the period it covers);
    ``label`` names the period; a None value is a gap, with ``note`` saying why."""

    day: dt.date
    value: Decimal | None
    label: str = ""
    note: str = ""


_SIZES = {
    # width, height, left, right, top, bottom, y ticks
    "small": (300, 102, 40, 10, 16, 22, 2),
    "large": (680, 250, 58, 16, 24, 30, 4),
}


def line_chart(points: list[Point], *, chart_id: str, title: str, unit: str = "", currency: str = "",
               target: Decimal | None = None, direction: str = "", size: str = "small") -> SafeString:
    """An SVG line chart of ``points`` (oldest first), the target as a dashed line, the
    dates on the x axis and round values on the y axis."""
    width, height, left, right, top, bottom, y_count = _SIZES[size]
    plot_w, plot_h = Decimal(width - left - right), Decimal(height - top - bottom)
    known = [p for p in points if p.value is not None]
    words = _describe(points, known, unit=unit, currency=currency, target=target, direction=direction)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [f'<svg class="fx-chart fx-chart--{size}" id="{escape(chart_id)}" role="img" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{escape(title_id)}">{escape(title)}</title>',
           f'<desc id="{escape(desc_id)}">{escape(words)}</desc>']
    if not points:
        out.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="fx-chart__empty"/>')
        out.append(f'<text x="{left + int(plot_w) // 2}" y="{top + int(plot_h) // 2 + 4}" text-anchor="middle" '
                   f'class="fx-chart__note">No values yet</text></svg>')
        return mark_safe("".join(out))

    values = [p.value for p in known] + ([Decimal(target)] if target is not None else [])
    ticks = nice_ticks(min(values), max(values), y_count) if values else [Decimal(0), Decimal(1)]
    lo, hi = ticks[0], ticks[-1]

    def y_of(value: Decimal) -> Decimal:
        return Decimal(top) + (hi - value) / (hi - lo) * plot_h

    first_day, last_day = points[0].day, points[-1].day
    span = (last_day - first_day).days

    def x_of(day: dt.date) -> Decimal:
        if span == 0:
            return Decimal(left) + plot_w / 2
        return Decimal(left) + Decimal((day - first_day).days) / span * plot_w

    # the frame and the y axis: gridlines at round values
    for tick in ticks:
        y = _px(y_of(tick))
        out.append(f'<line class="fx-chart__grid" x1="{left}" x2="{left + int(plot_w)}" y1="{y}" y2="{y}"/>')
        out.append(f'<text class="fx-chart__tick" x="{left - 5}" y="{y}" dy="0.32em" text-anchor="end">'
                   f'{escape(_tick_label(tick, unit))}</text>')
    if _axis_unit(unit):
        out.append(f'<text class="fx-chart__unit" x="{left - 5}" y="{top - 9}" text-anchor="start">{escape(_axis_unit(unit))}</text>')
    # the x axis: the dates of the last point and of earlier ones far enough apart that
    # their labels never touch, the first one when there is room for it
    base = top + int(plot_h)
    chosen = _spaced([x_of(p.day) for p in points], Decimal(_LABEL_GAP[size]))
    for n, index in enumerate(chosen):
        point = points[index]
        anchor = "start" if n == 0 and len(chosen) > 1 else ("end" if n == len(chosen) - 1 and len(chosen) > 1 else "middle")
        out.append(f'<text class="fx-chart__tick" x="{_px(x_of(point.day))}" y="{base + 15}" text-anchor="{anchor}">'
                   f'{escape(_short_date(point.day, span))}</text>')
    out.append(f'<line class="fx-chart__axis" x1="{left}" x2="{left + int(plot_w)}" y1="{base}" y2="{base}"/>')
    # the target: a dashed line, named in words at its end
    if target is not None:
        y = _px(y_of(Decimal(target)))
        out.append(f'<line class="fx-chart__target" x1="{left}" x2="{left + int(plot_w)}" y1="{y}" y2="{y}" '
                   f'stroke-dasharray="6 4"><title>Target {escape(format_value(Decimal(target), unit, currency))}</title></line>')
    # the values: a line through each run of known values; a gap where a value is missing
    runs: list[list[Point]] = [[]]
    for point in points:
        if point.value is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    for run in runs:
        if len(run) > 1:
            coords = " ".join(f"{_px(x_of(p.day))},{_px(y_of(p.value))}" for p in run)
            out.append(f'<polyline class="fx-chart__line" points="{coords}" fill="none"/>')
    radius = "2.5" if size == "small" else "3.5"
    for point in points:
        name = point.label or _long_date(point.day)
        if point.value is None:
            out.append(f'<text class="fx-chart__gap" x="{_px(x_of(point.day))}" y="{base - 4}" text-anchor="middle">×'
                       f'<title>{escape(name)}: no value{escape(": " + point.note if point.note else "")}</title></text>')
            continue
        out.append(f'<circle class="fx-chart__dot" cx="{_px(x_of(point.day))}" cy="{_px(y_of(point.value))}" r="{radius}">'
                   f'<title>{escape(name)}: {escape(format_value(point.value, unit, currency))}</title></circle>')
    out.append("</svg>")
    return mark_safe("".join(out))


def _money_sign(unit: str) -> str:
    """The currency sign a unit starts with (“£ per month” → “£”, “GBP” → “£”), or “”."""
    head = (unit or "").strip().split(" ")[0]
    if head.upper() in CURRENCY_SYMBOLS:
        return CURRENCY_SYMBOLS[head.upper()]
    return next((sign for sign in sorted(CURRENCY_SYMBOLS.values(), key=len, reverse=True) if head.startswith(sign)), "")


def _tick_label(value: Decimal, unit: str) -> str:
    """A value on the y axis: with its sign for a percentage or money; any other unit is
    written once, above the axis, rather than on every tick."""
    number = format_value(value)
    if unit == "%":
        return f"{number}%"
    sign = _money_sign(unit)
    if sign:
        return f"−{sign}{number[1:]}" if number.startswith("−") else f"{sign}{number}"
    return number


def _axis_unit(unit: str) -> str:
    """What the y axis says its numbers are in: nothing for % or plain money."""
    unit = (unit or "").strip()
    if unit == "%":
        return ""
    return unit.partition(" ")[2] if _money_sign(unit) else unit


# The least distance, in pixels, between the dates under a chart's x axis.
_LABEL_GAP = {"small": 120, "large": 90}


def _spaced(xs: list[Decimal], gap: Decimal) -> list[int]:
    """Indexes of points to label, oldest first: the newest always, then going back each
    point at least ``gap`` from the one labelled after it; the oldest replaces the last
    one kept when it alone would be too close."""
    if not xs:
        return []
    chosen = [len(xs) - 1]
    for i in range(len(xs) - 2, -1, -1):
        if xs[chosen[-1]] - xs[i] >= gap:
            chosen.append(i)
    if chosen[-1] != 0 and len(chosen) > 1 and xs[chosen[-2]] - xs[0] >= gap:
        chosen[-1] = 0
    return sorted(chosen)


def _describe(points: list[Point], known: list[Point], *, unit: str, currency: str, target, direction: str) -> str:
    if not points:
        return "No values have been recorded yet."
    if not known:
        return f"No values from {_long_date(points[0].day)} to {_long_date(points[-1].day)}."
    low, high = min(p.value for p in known), max(p.value for p in known)
    latest = known[-1]
    parts = [f"{len(known)} value{'s' if len(known) != 1 else ''}"]
    if len(points) > 1:
        parts.append(f" from {_long_date(points[0].day)} to {_long_date(points[-1].day)}")
    if len(known) > 1:
        parts.append(f", between {format_value(low, unit, currency)} and {format_value(high, unit, currency)}")
    parts.append(f"; the latest is {format_value(latest.value, unit, currency)}"
                 f" ({latest.label or _long_date(latest.day)}).")
    missing = len(points) - len(known)
    if missing:
        parts.append(f" {missing} period{'s have' if missing != 1 else ' has'} no value.")
    if target is not None:
        better = {"higher": ", higher is better", "lower": ", lower is better"}.get(direction, "")
        parts.append(f" Target: {format_value(Decimal(target), unit, currency)}{better}.")
    return "".join(parts)


# --- the flow of money ----------------------------------------------------------------------

# Tuples: a network's picture is chosen from tens of thousands of each.
class FlowNode(NamedTuple):
    """A service in the picture: its fully loaded cost, and what of it goes to external users."""

    key: object
    name: str
    total: Decimal
    external: Decimal = Decimal(0)
    direct: Decimal = Decimal(0)


class FlowBand(NamedTuple):
    """Money a provider passes on to a consumer (s_kj · T_k)."""

    source: object
    target: object
    amount: Decimal
    share: Decimal = Decimal(0)


@dataclass
class FlowPicture:
    svg: SafeString
    drawn_bands: int = 0
    hidden_bands: int = 0
    hidden_amount: Decimal = Decimal(0)
    hidden_services: int = 0
    layers: int = 0
    nodes: list = field(default_factory=list)


EXTERNAL = "__external__"
# Colours for the providers' bands, distinguishable and dark enough for their labels.
_PALETTE = ["#0b4f6c", "#9a4a00", "#1e6b34", "#8b2c6f", "#1d5f8c", "#a4161a", "#5b3f99", "#00707a", "#3f5f2b", "#6b4f1d"]


@dataclass
class RankedFlows:
    """Flows of money as plain ``(source, target, units)`` items in any order, ``units`` the
    amount in 10**-places of money, ranked the largest first, then by the names of provider
    and consumer (``name``), then by their keys. A network can have more than a hundred
    thousand flows and a page shows a few hundred of the largest: ``first`` picks them
    without ranking the rest, and only the few drawn are made into bands, by ``band``."""

    items: list[tuple]
    band: Callable[[tuple], FlowBand]
    name: Callable[[object], str]
    places: int = 2

    def key(self, item: tuple) -> tuple:
        name = self.name
        return -item[2], name(item[0]), name(item[1]), item[0], item[1]

    def ranked(self) -> list[tuple]:
        """All the flows in their order."""
        return sorted(self.items, key=self.key)

    def first(self, count: int) -> list[tuple]:
        """The ``count`` first flows in their order, as ``ranked()[:count]``."""
        return _first(self.items, count, self.key)


def _first(items: list, count: int, key: Callable) -> list:
    """``sorted(items, key=key)[:count]``, where each item's amount is its third element
    and the first element of its ``key`` is minus that: only the items as large as the
    ``count``-th largest amount are ranked."""
    if count <= 0:
        return []
    if count >= len(items):
        return sorted(items, key=key)
    least = sorted([item[2] for item in items], reverse=True)[count - 1]
    return sorted([item for item in items if item[2] >= least], key=key)[:count]


def _choose_bands(entries: list[tuple], key: Callable, max_bands: int, max_services: int) -> tuple[list, set]:
    """The flows to draw, of ``(source, target, amount, item)`` entries, each with a
    positive amount between two different services: walking them largest first, each
    while fewer than ``max_bands`` are drawn and its services fit among ``max_services``.
    Returns the entries drawn and the services they show. Only the largest are ranked
    first; the rest are ranked only while there is still room, and once the services are
    all chosen, only the flows between them."""
    drawn: list = []
    shown: set = set()

    def walk(ranked: Iterable[tuple]) -> None:
        for entry in ranked:
            if len(drawn) >= max_bands:
                return
            new = {entry[0], entry[1]} - shown
            if len(shown) + len(new) <= max_services:
                drawn.append(entry)
                shown.update(new)

    head = _first(entries, max(4 * max_bands, 2 * max_services), key)
    walk(head)
    if len(drawn) < max_bands and len(head) < len(entries):
        walked = set(map(id, head))
        if len(shown) >= max_services:  # no more services: only flows between those shown can be drawn
            rest = [e for e in entries if e[0] in shown and e[1] in shown and id(e) not in walked]
        else:
            rest = [e for e in entries if id(e) not in walked]
        walk(sorted(rest, key=key))
    return drawn, shown


def flow_diagram(nodes: list[FlowNode], bands: Iterable[FlowBand] | RankedFlows, *, chart_id: str, title: str,
                 money: Callable[[Decimal], str], max_services: int = 40, max_bands: int = 80,
                 external_label: str = "External users",
                 direct: Callable[[object], Decimal] | None = None) -> FlowPicture:
    """A Sankey-like picture: services in columns by how deep they sit in the chain of
    providers (the ones consuming no other service on the left), each a bar as tall as its
    fully loaded cost; a band from provider to consumer as wide as the money passed on, and
    from each service to the external users on the right as wide as its external cost.

    Beyond ``max_bands`` flows or ``max_services`` services only the largest flows are
    drawn (and each drawn service's band to the external users); the picture says how many
    flows, and how much money, it leaves out. ``direct``, when given, tells a drawn
    service's own spending in place of its node's ``direct``: a large network's nodes need
    not work it out for every service."""
    by_key = {n.key: n for n in nodes if n.total > 0 or n.external > 0}
    if isinstance(bands, RankedFlows):
        # an entry begins as its item does, and is ranked as it is; only flows of money
        # between two services in the picture can be drawn
        entries = [(s, t, units, item) for item in bands.items
                   if (units := item[2]) > 0 and (s := item[0]) != (t := item[1]) and s in by_key and t in by_key]
        key, make, places = bands.key, bands.band, bands.places
    else:
        def key(entry: tuple) -> tuple:
            return -entry[2], str(by_key[entry[0]].name), str(by_key[entry[1]].name)

        entries, places = [(b.source, b.target, b.amount, b) for b in bands if b.amount > 0 and
                           b.source != b.target and b.source in by_key and b.target in by_key], 0

        def make(band: FlowBand) -> FlowBand:
            return band

    linked = {e[0] for e in entries} | {e[1] for e in entries}
    chosen, shown_keys = _choose_bands(entries, key, max_bands, max_services)
    drawn = [make(e[3]) for e in chosen]
    hidden_bands = len(entries) - len(chosen)
    hidden_total = sum(e[2] for e in entries) - sum(e[2] for e in chosen)
    hidden_amount = Decimal(hidden_total).scaleb(-places)
    # services that pass nothing on and take nothing (all their money goes straight to
    # external users) appear while there is room, largest first; one whose flows were all
    # left out does not, or it would seem to stand alone
    room = max_services - len(shown_keys)
    if room > 0:
        alone = (n for n in by_key.values() if n.key not in linked)
        shown_keys.update(n.key for n in heapq.nsmallest(room, alone, key=lambda n: (-n.total, n.name)))
    shown = [by_key[k] for k in by_key if k in shown_keys]
    if direct is not None:
        shown = [n._replace(direct=direct(n.key)) for n in shown]
    picture = FlowPicture(svg=mark_safe(""), drawn_bands=len(drawn), hidden_bands=hidden_bands,
                          hidden_amount=hidden_amount, hidden_services=len(by_key) - len(shown))
    if not shown:
        picture.svg = mark_safe(
            f'<svg class="fx-flow" role="img" viewBox="0 0 600 60" width="600" height="60" aria-labelledby="{chart_id}-title">'
            f'<title id="{chart_id}-title">{escape(title)}: no money recorded</title>'
            f'<text x="300" y="34" text-anchor="middle" class="fx-chart__note">No spending recorded for this period</text></svg>')
        return picture

    depth = _depths([n.key for n in shown], drawn)
    columns = max(depth.values()) + 1
    picture.layers = columns
    layers: list[list[FlowNode]] = [[] for _ in range(columns)]
    for node in shown:
        layers[depth[node.key]].append(node)
    _order(layers, drawn)
    external_total = sum((n.external for n in shown), Decimal(0))

    # vertical scale: the fullest column (the external users' one included) gets MONEY_H pixels
    money_h, gap, bar_w, margin, label_w = Decimal(520), Decimal(18), Decimal(14), Decimal(12), Decimal(170)
    # the columns share the width of a page (about 1,150 pixels); past six they scroll
    col_w = max(Decimal(165), (Decimal(1150) - label_w - margin - bar_w) / columns)
    fullest = max([sum((n.total for n in layer), Decimal(0)) for layer in layers] + [external_total])
    scale = money_h / fullest if fullest else Decimal(0)
    minimum = Decimal("1.5")

    def thick(amount: Decimal) -> Decimal:
        return max(amount * scale, minimum)

    heights = [sum((thick(n.total) for n in layer), Decimal(0)) + gap * (len(layer) - 1) for layer in layers]
    tallest = max(heights + [thick(external_total)])
    top = Decimal(34)
    place: dict = {}
    for c, layer in enumerate(layers):
        y = top + (tallest - heights[c]) / 2
        for node in layer:
            place[node.key] = (margin + col_w * c, y, thick(node.total))
            y += thick(node.total) + gap
    ext_x = margin + col_w * columns
    ext_h = thick(external_total)
    place[EXTERNAL] = (ext_x, top + (tallest - ext_h) / 2, ext_h)
    width = ext_x + bar_w + label_w
    height = top + tallest + Decimal(20)
    colour = {node.key: _PALETTE[i % len(_PALETTE)] for i, node in enumerate(sorted(shown, key=lambda n: str(n.name)))}

    # where each band leaves its provider and enters its consumer: stacked from the top, in
    # the order of the other end's height, so that bands cross as little as they can
    out_at = {k: place[k][1] for k in place}
    in_at = {k: place[k][1] for k in place}
    outgoing = defaultdict(list)
    incoming = defaultdict(list)
    for band in drawn:
        outgoing[band.source].append(band)
        incoming[band.target].append(band)
    ribbons = []
    for node in shown:
        for band in sorted(outgoing[node.key], key=lambda b: place[b.target][1]):
            ribbons.append((band, band.source, band.target))
    ext_bands = [FlowBand(n.key, EXTERNAL, n.external) for n in sorted(shown, key=lambda n: place[n.key][1]) if n.external > 0]
    segments = {}
    for band, source, target in ribbons:
        t = thick(band.amount)
        segments[id(band)] = [out_at[source], t]
        out_at[source] += t
    for node in shown:  # the band to external users leaves from the bottom of each bar
        ext = next((b for b in ext_bands if b.source == node.key), None)
        if ext is not None:
            t = thick(ext.amount)
            segments[id(ext)] = [place[node.key][1] + place[node.key][2] - t, t]
    for key in list(in_at):
        for band in sorted(incoming[key], key=lambda b: place[b.source][1]):
            segments[id(band)].append(in_at[key])
            in_at[key] += thick(band.amount)
    for band in ext_bands:
        segments[id(band)].append(in_at[EXTERNAL])
        in_at[EXTERNAL] += thick(band.amount)

    names = {n.key: n.name for n in shown}
    names[EXTERNAL] = external_label
    desc = _describe_flow(shown, drawn, picture, external_total, money, external_label)
    out = [f'<svg class="fx-flow" id="{escape(chart_id)}" role="img" viewBox="0 0 {_px(width)} {_px(height)}" '
           f'width="{_px(width)}" height="{_px(height)}" aria-labelledby="{chart_id}-title {chart_id}-desc" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{chart_id}-title">{escape(title)}</title>', f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']
    for c in range(columns):
        heading = "Layer 1 (base)" if c == 0 else f"Layer {c + 1}"
        out.append(f'<text class="fx-flow__column" x="{_px(margin + col_w * c)}" y="18">{heading}</text>')
    out.append(f'<text class="fx-flow__column" x="{_px(ext_x)}" y="18">Leaves the network</text>')
    # the bands to external users first, so that the flows between services lie on top
    for band in ext_bands + [b for b, _, _ in ribbons]:
        y0, t, y1 = segments[id(band)]
        x0 = place[band.source][0] + bar_w
        x1 = place[band.target][0]
        backwards = x1 <= x0
        mid = (x0 + x1) / 2 if not backwards else x0 + col_w / 2
        mid_back = mid if not backwards else x1 - col_w / 2
        path = (f"M{_px(x0)},{_px(y0)} C{_px(mid)},{_px(y0)} {_px(mid_back)},{_px(y1)} {_px(x1)},{_px(y1)} "
                f"L{_px(x1)},{_px(y1 + t)} C{_px(mid_back)},{_px(y1 + t)} {_px(mid)},{_px(y0 + t)} {_px(x0)},{_px(y0 + t)} Z")
        kind = "fx-flow__band--external" if band.target == EXTERNAL else ("fx-flow__band--back" if backwards else "")
        share = f" ({plain_number((band.share * 100).quantize(Decimal('0.01')))}% of {names[band.source]})" if band.share else ""
        label = f"{names[band.source]} → {names[band.target]}: {money(band.amount)}{share}"
        fill = "#6b7580" if band.target == EXTERNAL else colour[band.source]
        out.append(f'<path class="fx-flow__band {kind}" d="{path}" fill="{fill}"><title>{escape(label)}</title></path>')
    for node in shown:
        x, y, h = place[node.key]
        direct = node.direct * scale if node.direct else Decimal(0)
        out.append(f'<rect class="fx-flow__bar" x="{_px(x)}" y="{_px(y)}" width="{_px(bar_w)}" height="{_px(h)}" '
                   f'fill="{colour[node.key]}"><title>{escape(node.name)}: fully loaded {escape(money(node.total))}, '
                   f'of which direct spend {escape(money(node.direct))}</title></rect>')
        if direct > minimum and incoming[node.key]:
            # the part of the bar that is the service's own spending, below what it receives
            out.append(f'<rect class="fx-flow__direct" x="{_px(x)}" y="{_px(y + h - direct)}" width="{_px(bar_w)}" '
                       f'height="{_px(direct)}"/>')
        out.append(_label(x + bar_w + 5, y + h / 2, node.name, money(node.total), "start"))
    x, y, h = place[EXTERNAL]
    out.append(f'<rect class="fx-flow__bar fx-flow__bar--external" x="{_px(x)}" y="{_px(y)}" width="{_px(bar_w)}" '
               f'height="{_px(h)}"><title>{escape(external_label)}: {escape(money(external_total))}</title></rect>')
    out.append(_label(x + bar_w + 5, y + h / 2, external_label, money(external_total), "start"))
    out.append("</svg>")
    picture.svg = mark_safe("".join(out))
    picture.nodes = shown
    return picture


def _label(x: Decimal, y: Decimal, name: str, amount: str, anchor: str) -> str:
    short = name if len(name) <= 26 else name[:25] + "…"
    return (f'<text class="fx-flow__label" x="{_px(x)}" y="{_px(y)}" text-anchor="{anchor}">'
            f'<tspan x="{_px(x)}" dy="-0.15em">{escape(short)}</tspan>'
            f'<tspan class="fx-flow__amount" x="{_px(x)}" dy="1.1em">{escape(amount)}</tspan></text>')


def _depths(keys: list, bands: list[FlowBand]) -> dict:
    """Each service's column: the length of the longest chain of providers under it,
    counting only the bands drawn. A band that closes a cycle is left out of the count
    (found by a depth-first walk), so a cycle does not push its members ever rightward."""
    providers = defaultdict(list)
    for band in bands:
        providers[band.target].append(band.source)
    state: dict = {}
    depth: dict = {}
    for root in keys:
        if root in state:
            continue
        stack = [(root, iter(sorted(providers[root], key=str)))]
        state[root] = "open"
        while stack:
            node, walk = stack[-1]
            for provider in walk:
                if provider not in state:
                    state[provider] = "open"
                    stack.append((provider, iter(sorted(providers[provider], key=str))))
                    break
            else:
                stack.pop()
                state[node] = "done"
                depth[node] = max((depth[p] + 1 for p in providers[node] if state.get(p) == "done" and p in depth),
                                  default=0)
    return depth


def _order(layers: list[list[FlowNode]], bands: list[FlowBand]) -> None:
    """Order each column to keep bands short: first by size, then by the barycentre
    heuristic, sweeping right by the mean height of each service's providers and back left
    by that of its consumers, a few times."""
    for layer in layers:
        layer.sort(key=lambda n: (-n.total, n.name))
    providers, consumers = defaultdict(list), defaultdict(list)
    for band in bands:
        providers[band.target].append(band.source)
        consumers[band.source].append(band.target)

    def sweep(order: list[list[FlowNode]], neighbours) -> None:
        for layer in order:
            position = {n.key: Decimal(i) / max(len(other), 1) for other in layers for i, n in enumerate(other)}

            def centre(node: FlowNode, position=position) -> Decimal:
                near = [position[k] for k in neighbours[node.key] if k in position]
                return sum(near, Decimal(0)) / len(near) if near else position[node.key]
            layer.sort(key=lambda n: (centre(n), -n.total, n.name))

    for _ in range(3):
        sweep(layers[1:], providers)
        sweep(list(reversed(layers[:-1])), consumers)


def _describe_flow(shown, drawn, picture: FlowPicture, external_total: Decimal, money, external_label: str) -> str:
    largest = sorted(shown, key=lambda n: -n.total)[:3]
    text = (f"{len(shown)} services in {picture.layers} column{'s' if picture.layers != 1 else ''}; "
            f"{len(drawn)} flows between them drawn. {money(external_total)} reaches {external_label.lower()}. "
            f"Largest fully loaded costs: " + ", ".join(f"{n.name} {money(n.total)}" for n in largest) + ".")
    if picture.hidden_bands:
        text += f" {picture.hidden_bands} smaller flows, {money(picture.hidden_amount)} in all, are not drawn."
    return text
