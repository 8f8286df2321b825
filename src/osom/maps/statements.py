"""A Wardley map, its statements, and how each is written as map text.

Every statement is a dataclass whose ``line`` (where it was read, 0 when built in code) is
left out of comparisons, so a map read back from its own text compares equal to it.
``format_statement`` writes the one canonical form of a statement; the parser in
:mod:`osom.maps.text` reads every form people write, including that one, and keeps the
lines it read so that ``WardleyMap.to_text`` can give them back unchanged.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields, is_dataclass

__all__ = [
    "KINDS", "DECORATORS", "BOX_KINDS", "KEYWORDS",
    "Component", "Link", "Flow", "Evolve", "PipelineComponent", "Pipeline", "Note", "Annotation", "Box",
    "Accelerator", "Method", "UrlDef", "MapWarning", "Warning",
    "format_number", "format_statement", "format_setting", "clean_name", "clean_text", "statement_key",
    "Entry", "WardleyMap", "STATEMENT_LISTS", "SETTINGS", "split_comments",
]

KINDS = ("component", "anchor", "market", "ecosystem", "submap")
# The order decorators are written in, whatever order they were read in.
DECORATORS = ("build", "buy", "outsource", "market", "ecosystem")
BOX_KINDS = ("pioneers", "settlers", "townplanners")
# Every word that starts a statement. Keywords are lower case, as the language writes them:
# a component called "Build pipeline" can then begin a link line without being read as `build`.
KEYWORDS = frozenset({
    "title", "component", "anchor", "market", "ecosystem", "submap", "build", "buy", "outsource", "evolve",
    "pipeline", "note", "annotation", "annotations", "url", "pioneers", "settlers", "townplanners",
    "accelerator", "deaccelerator", "evolution", "style", "size",
})


@dataclass(slots=True)
class MapWarning:
    """Something in the text that was not understood, or not drawn as written."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


Warning = MapWarning  # the short name; it shadows the built-in Warning only where imported by that name


@dataclass(slots=True)
class Component:
    """A component, anchor, market, ecosystem or submap at ``[visibility, evolution]``."""

    name: str
    visibility: float
    evolution: float
    kind: str = "component"
    label: tuple[float, float] | None = None  # text offset in pixels
    inertia: bool = False
    decorators: set[str] = field(default_factory=set)
    url: str | None = None  # a submap's url(ref): the name of a `url` line, or an address
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Link:
    source: str
    target: str
    label: str | None = None
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Flow:
    """A flow of value between two components: ``>`` towards the target, ``<`` back, ``<>`` both."""

    source: str
    target: str
    direction: str = ">"
    value: str | None = None
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Evolve:
    """Where a component is heading: ``evolve Ledger 0.85``, optionally renamed on the way."""

    name: str
    evolution: float
    new_name: str | None = None
    label: tuple[float, float] | None = None
    decorators: set[str] = field(default_factory=set)
    inline: bool = field(default=False, compare=False)  # written at the end of its component's line
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class PipelineComponent:
    """A component inside a pipeline block: only its evolution; its visibility is the parent's."""

    name: str
    evolution: float
    label: tuple[float, float] | None = None
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Pipeline:
    """A pipeline under ``parent``: a span along evolution, or a block of child components."""

    parent: str
    span: tuple[float, float] | None = None
    children: list[PipelineComponent] = field(default_factory=list)
    block: bool = field(default=False, compare=False)  # written with { }, even if empty
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Note:
    text: str
    visibility: float
    evolution: float
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Annotation:
    """A numbered remark at one or more points, listed in the map's legend."""

    number: int
    points: list[tuple[float, float]]
    text: str = ""
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Box:
    """A pioneers, settlers or town planners box given by two corners ``(visibility, evolution)``."""

    kind: str
    first: tuple[float, float]
    second: tuple[float, float]
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Accelerator:
    name: str
    visibility: float
    evolution: float
    kind: str = "accelerator"  # or "deaccelerator"
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class Method:
    """An older map's own line such as ``buy Ledger``: a decorator for a component declared elsewhere."""

    decorator: str
    name: str
    line: int = field(default=0, compare=False)


@dataclass(slots=True)
class UrlDef:
    """``url taxMap [https://…]``: an address a submap refers to by name."""

    name: str
    url: str
    line: int = field(default=0, compare=False)


def _freeze(value):
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(str(v) for v in value)))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if is_dataclass(value):
        return statement_key(value)
    return value


def statement_key(statement) -> tuple:
    """What a statement says, as a value: two statements with equal keys are written alike."""
    return (type(statement).__name__,) + tuple(_freeze(getattr(statement, f.name)) for f in fields(statement) if f.compare)


# --- writing ---------------------------------------------------------------------------

def format_number(x) -> str:
    """The shortest text that reads back as the same number (whole numbers without ``.0``)."""
    x = float(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _pair(pair) -> str:
    return f"[{format_number(pair[0])}, {format_number(pair[1])}]"


def _decorators(decorators) -> str:
    known = [d for d in DECORATORS if d in decorators]
    return f" ({', '.join(known)})" if known else ""


def _label(label) -> str:
    return f" label {_pair(label)}" if label is not None else ""


def _component(c: Component) -> str:
    kind = c.kind if c.kind in KINDS else "component"
    return (f"{kind} {c.name} {_pair((c.visibility, c.evolution))}{_label(c.label)}" + (" inertia" if c.inertia else "")
            + _decorators(c.decorators) + (f" url({c.url})" if c.url else ""))


def _evolve(e: Evolve) -> str:
    name = f"{e.name}->{e.new_name}" if e.new_name else e.name
    return f"evolve {name} {format_number(e.evolution)}{_label(e.label)}{_decorators(e.decorators)}"


def _pipeline(p: Pipeline) -> list[str]:
    head = f"pipeline {p.parent}" + (f" {_pair(p.span)}" if p.span is not None else "")
    if not (p.children or p.block):
        return [head]
    lines = [head, "{"]
    lines += [f"  component {c.name} [{format_number(c.evolution)}]{_label(c.label)}" for c in p.children]
    return lines + ["}"]


def _annotation(a: Annotation) -> str:
    if len(a.points) == 1:
        where = _pair(a.points[0])
    else:
        where = "[" + ", ".join(_pair(p) for p in a.points) + "]"
    return f"annotation {a.number} {where}" + (f" {a.text}" if a.text else "")


def format_statement(statement) -> list[str]:
    """The lines that write ``statement`` (one, except for a pipeline block)."""
    if isinstance(statement, Component):
        return [_component(statement)]
    if isinstance(statement, Link):
        return [f"{statement.source}->{statement.target}" + (f"; {statement.label}" if statement.label else "")]
    if isinstance(statement, Flow):
        value = f"'{statement.value}'" if statement.value is not None else ""
        return [f"{statement.source}+{value}{statement.direction}{statement.target}"]
    if isinstance(statement, Evolve):
        return [_evolve(statement)]
    if isinstance(statement, Pipeline):
        return _pipeline(statement)
    if isinstance(statement, Note):
        return [f"note {statement.text} {_pair((statement.visibility, statement.evolution))}"]
    if isinstance(statement, Annotation):
        return [_annotation(statement)]
    if isinstance(statement, Box):
        corners = ", ".join(format_number(x) for x in (*statement.first, *statement.second))
        return [f"{statement.kind} [{corners}]"]
    if isinstance(statement, Accelerator):
        return [f"{statement.kind} {statement.name} {_pair((statement.visibility, statement.evolution))}"]
    if isinstance(statement, Method):
        return [f"{statement.decorator} {statement.name}"]
    if isinstance(statement, UrlDef):
        return [f"url {statement.name} [{statement.url}]"]
    raise TypeError(f"not a map statement: {statement!r}")


def format_setting(attribute: str, value) -> str:
    """The line for one of the map's single settings (title, style, size, evolution, legend)."""
    written = {"title": lambda: f"title {value}", "style": lambda: f"style {value}", "size": lambda: f"size {_pair(value)}",
               "evolution_labels": lambda: "evolution " + "->".join(value), "legend": lambda: f"annotations {_pair(value)}"}
    return written[attribute]()


# --- making free text safe to write ----------------------------------------------------------

_SPACE = re.compile(r"\s+")
_COMMENT_MARK = re.compile(r"/(?=[/*])|(?<=\*)/")
_FLOW_MARK = re.compile(r"\+(?=[<>'])")
_LEADING_WORD = re.compile(r"[a-z]+(?=[\s\[({]|$)")


def clean_text(text) -> str:
    """``text`` on one line with nothing the map language would read as a comment."""
    text = _SPACE.sub(" ", str(text).replace("\ufeff", "")).strip()
    # a slash that would open or close a comment becomes a division slash, which looks the same
    return _COMMENT_MARK.sub("\u2215", text)


def clean_name(name) -> str:
    """A component name that reads back as itself wherever a name is written: in a
    declaration, a link, a flow, an evolve or a pipeline block. Arrows become ``→``,
    brackets and braces become parentheses, ``;`` a comma, a ``+`` before ``<``, ``>``
    or a quote a full-width plus, a trailing ``-`` or ``<`` and a leading ``>`` their
    look-alikes, and a leading keyword gets a capital letter."""
    text = clean_text(name)
    text = text.replace("->", "\u2192").replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")
    text = text.replace(";", ",")
    text = _FLOW_MARK.sub("\uff0b", text)
    # ends that would turn an arrow into one the language does not know (-->, <->, ->>)
    if text.endswith(("-", "<")):
        text = text[:-1] + {"-": "\u2010", "<": "\u2039"}[text[-1]]
    if text.startswith(">"):
        text = "\u203a" + text[1:]
    word = _LEADING_WORD.match(text)
    if word and word.group() in KEYWORDS:
        text = text[0].upper() + text[1:]
    return text


# --- comments -------------------------------------------------------------------------

# `//` opens a comment at the start of a line or after a space, so addresses (https://) survive
_COMMENT = re.compile(r"/\*|(?<!\S)//")


def split_comments(lines: list[str]) -> tuple[list[tuple[str, str, str]], int]:
    """Each line without its comments, trimmed; with the comment text before its code (the
    end of a comment opened on an earlier line) and after it (to the end of the line). And
    the line a comment that is never closed opens on, or 0."""
    result = []
    in_comment = 0  # the line a /* comment opened on, while it is open
    for index, raw in enumerate(lines):
        text = raw[:-1] if raw.endswith("\r") else raw
        skip = 1 if index == 0 and text.startswith("\ufeff") else 0
        parts = []
        pos = skip
        lead = trail = ""
        started_inside = bool(in_comment)
        while pos < len(text):
            if in_comment:
                end = text.find("*/", pos)
                if end < 0:
                    break
                in_comment = 0
                pos = end + 2
                if started_inside and not lead:
                    lead = text[:pos]
                parts.append(" ")
                continue
            mark = _COMMENT.search(text, pos)
            if mark is None:
                parts.append(text[pos:])
                break
            parts.append(text[pos:mark.start()])
            if mark.group() == "//":
                trail = text[mark.start():]
                break
            in_comment = index + 1
            trail = text[mark.start():]  # until it closes on this line
            pos = mark.end()
        if not in_comment and trail.startswith("/*") and "*/" in trail[2:]:
            trail = ""  # a comment closed on the same line is not what ends it
        result.append(("".join(parts).strip(), lead, trail))
    return result, in_comment


# --- the map -----------------------------------------------------------------------

# The lists of statements, in the order a map built in code is written.
STATEMENT_LISTS = ("components", "pipelines", "evolves", "links", "flows", "methods", "notes", "annotations",
                   "boxes", "accelerators", "urls")
# The map's single settings; a later line replaces an earlier one.
SETTINGS = ("title", "style", "size", "evolution_labels", "legend")


@dataclass(slots=True)
class Entry:
    """Lines of the text as read (one, or a whole pipeline block) and what they said: the
    statements made on them, or the setting. ``said`` is what they said once the whole text
    was read; while the map still says that, the lines are written back as they were."""

    lines: list[str]
    items: list = field(default_factory=list)
    setting: str | None = None
    said: object = None
    # comment text around the code, kept when the statement is rewritten: the end of a
    # comment opened on an earlier line, and what follows the code to the end of the line
    lead: str = ""
    trail: str = ""
    unclosed: bool = False  # a comment that runs to the end of the text opens here
    own: frozenset = frozenset()  # the decorators a component's line gives it (more come from `buy X` lines)


@dataclass
class WardleyMap:
    """A map: its statements list by list, and its single settings. ``entries`` are the lines
    it was read from, kept so that :meth:`to_text` can give them back; a map built in code
    has none and is written in canonical form."""

    title: str | None = None
    components: list[Component] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    evolves: list[Evolve] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    legend: tuple[float, float] | None = None  # where the annotations are listed
    boxes: list[Box] = field(default_factory=list)
    accelerators: list[Accelerator] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)
    evolution_labels: tuple[str, str, str, str] | None = None
    style: str | None = None
    size: tuple[float, float] | None = None
    urls: list[UrlDef] = field(default_factory=list)
    warnings: list[MapWarning] = field(default_factory=list, compare=False)
    entries: list[Entry] = field(default_factory=list, compare=False, repr=False)

    def component(self, name: str) -> Component | None:
        """The first component (of any kind) declared with this name."""
        for c in self.components:
            if c.name == name:
                return c
        return None

    def url_for(self, ref: str | None) -> str | None:
        """The address a submap's ``url(ref)`` stands for: a ``url`` line's, or ``ref`` itself."""
        if not ref:
            return None
        for u in self.urls:
            if u.name == ref:
                return u.url
        return ref

    def statements(self):
        """Every statement of the map, list by list."""
        for name in STATEMENT_LISTS:
            yield from getattr(self, name)

    def to_text(self) -> str:
        """The map as text: exactly the text read, where nothing changed since. A statement
        changed in code is rewritten where it stood; one added goes after the statement before
        it in its list. A line such as ``buy Ledger`` is left out once Ledger no longer has that
        decorator: the component says how it is sourced."""
        firsts: dict[str, Component] = {}
        for c in self.components:
            firsts.setdefault(c.name, c)
        live = {id(s): s for s in self.statements()
                if not (isinstance(s, Method) and s.name in firsts and s.decorator not in firsts[s.name].decorators)}
        entry_of = {id(s): i for i, entry in enumerate(self.entries) for s in entry.items}
        before: dict[int, list[str]] = {}
        after: dict[int, list[str]] = {}
        moved: set[int] = set()  # read from one entry, now written elsewhere
        added: list[str] = []
        for name in STATEMENT_LISTS:
            placed, front, seen = -1, [], set()
            for s in getattr(self, name):
                if id(s) not in live:
                    continue
                at = entry_of.get(id(s)) if id(s) not in seen else None
                seen.add(id(s))
                if at is not None and at >= placed:
                    before.setdefault(at, []).extend(front)
                    placed, front = at, []
                    continue
                if at is not None:
                    moved.add(id(s))
                (front if placed < 0 else after.setdefault(placed, [])).extend(format_statement(s))
            added.extend(front)
        have_entries = {e.setting for e in self.entries if e.setting}
        head = [format_setting("title", self.title)] if self.title is not None and "title" not in have_entries else []
        added = [format_setting(a, getattr(self, a)) for a in SETTINGS[1:]
                 if getattr(self, a) is not None and a not in have_entries] + added
        if not self.entries:
            return "\n".join(head + added) + "\n"
        unclosed = next((i for i, e in enumerate(self.entries) if e.unclosed), None)
        if unclosed is not None:
            # after it the text is comment: what is added goes in before the comment opens
            after.setdefault(unclosed, []).extend(added)
            added = []
        # what `buy X` lines still written give the first component of each name
        from_methods: dict[str, set[str]] = {}
        for method in self.methods:
            if id(method) in live:
                from_methods.setdefault(method.name, set()).add(method.decorator)
        settings_written: set[str] = set()
        out: list[str] = []
        for i, entry in enumerate(self.entries):
            lines = self._entry_lines(entry, live, moved, settings_written)
            c = entry.items[0] if entry.items else None
            if lines is entry.lines and isinstance(c, Component) and c.decorators != (
                    entry.own | (from_methods.get(c.name, set()) if firsts.get(c.name) is c else set())):
                # its line no longer says how it is sourced: a `buy` line for it has gone
                lines = _with_comments([line for s in entry.items for line in format_statement(s)], entry)
            out.extend(_spliced(lines, entry, before.get(i, []), after.get(i, [])))
        # added lines go before the blank lines that end the text, so a final newline stays final
        end = len(out)
        while end > 0 and out[end - 1] == "":
            end -= 1
        return "\n".join(head + out[:end] + added + out[end:])

    def _entry_lines(self, entry: Entry, live: dict, moved: set[int], settings_written: set[str]) -> list[str]:
        """The lines an entry is written as: as read while it says the same, else rewritten."""
        if entry.setting:
            value = getattr(self, entry.setting)
            if value == entry.said:
                settings_written.add(entry.setting)
                return entry.lines
            lines = [format_setting(entry.setting, value)] if entry.setting not in settings_written and value is not None else []
            settings_written.add(entry.setting)
            return _with_comments(lines, entry)
        kept = [s for s in entry.items if id(s) in live and id(s) not in moved]
        if len(kept) == len(entry.items) and all(statement_key(s) == said for s, said in zip(entry.items, entry.said or ())):
            return entry.lines
        return _with_comments([line for s in kept for line in format_statement(s)], entry)


def _with_comments(lines: list[str], entry: Entry) -> list[str]:
    """Rewritten lines that keep the comments around the code they replace, so a comment
    that closes or opens on the old line still does."""
    if not lines:
        return [f"{entry.lead} {entry.trail}".strip()] if entry.lead or entry.trail else []
    lines = list(lines)
    if entry.lead:
        lines[0] = f"{entry.lead} {lines[0]}"
    if entry.trail:
        lines[-1] = f"{lines[-1]} {entry.trail}"
    return lines


def _spliced(lines: list[str], entry: Entry, first: list[str], last: list[str]) -> list[str]:
    """An entry's lines with new lines before and after them, outside its comments: after the
    end of a comment its first line closes, before a comment its last line opens."""
    lines = list(lines)
    if first:
        if entry.lead and lines and lines[0].startswith(entry.lead):
            rest = lines[0][len(entry.lead):].strip()
            lines = [entry.lead, *first, *([rest] if rest else []), *lines[1:]]
        else:
            lines = [*first, *lines]
    if last:
        cut = lines[-1].rfind(entry.trail) if lines and entry.trail.startswith("/*") else -1
        if cut > 0 and lines[-1][:cut].strip():
            lines[-1:] = [lines[-1][:cut].rstrip(), *last, lines[-1][cut:]]
        elif cut >= 0:
            lines[-1:-1] = last
        else:
            lines.extend(last)
    return lines
