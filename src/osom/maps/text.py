"""Reading Wardley map text: the line language of OnlineWardleyMaps as people write it.

``parse`` never raises. What it does not understand is kept in the text and named in
``WardleyMap.warnings`` with its line; ``WardleyMap.to_text`` gives back exactly the text
that was read. The statements and the map are in :mod:`osom.maps.statements`.

Every expression here runs in time linear in the line's length (a name is found with
``str.find``, never with a pattern that backtracks), so no text, however odd, stalls it.
"""

from __future__ import annotations

import math
import re

from .statements import (
    DECORATORS, KEYWORDS, KINDS, Accelerator, Annotation, Box, Component, Entry, Evolve, Flow, Link,
    MapWarning, Method, Note, Pipeline, PipelineComponent, UrlDef, WardleyMap, Warning, clean_name, clean_text,
    split_comments, statement_key,
)

__all__ = [
    "parse", "name_warnings", "WardleyMap", "KEYWORDS",
    "Component", "Link", "Flow", "Evolve", "Pipeline", "PipelineComponent", "Note", "Annotation", "Box",
    "Accelerator", "Method", "UrlDef", "MapWarning", "Warning", "clean_name", "clean_text",
]

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(_NUM)
_KEYWORD = re.compile(r"[a-z]+(?=[\s\[({]|$)")
_COORDS = re.compile(rf"\[\s*({_NUM})\s*,\s*({_NUM})\s*\]")
_FLOW_ARROW = re.compile(r"\+(?:'([^']*)')?(<>|>|<)")
# a number standing alone: where an evolve's name ends
_LONE_NUMBER = re.compile(rf"(?<=\s){_NUM}(?=\s|$)")
_OPTION = re.compile(rf"""
    (?P<label>label\s*\[(?P<offset>[^\[\]]*)\])
  | (?P<inertia>inertia)(?!\w)
  | (?P<evolve>evolve\s+(?P<to>{_NUM}))(?!\S)
  | (?P<url>url\s*\((?P<ref>[^()]*)\))
  | (?P<decorators>\((?P<words>[^()]*)\))
  | (?P<other>\w*\([^()]*\)|\S+)
""", re.X)
_SPACES = re.compile(r"\s*")
_ANNOTATION_NUMBER = re.compile(r"(\d+)\s*")
_POINT = re.compile(rf"\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*(,?)")

# the map's list for each kind of statement
_LIST_OF = {Link: "links", Flow: "flows", Component: "components", Evolve: "evolves", Pipeline: "pipelines",
            Note: "notes", Annotation: "annotations", Box: "boxes", Accelerator: "accelerators",
            Method: "methods", UrlDef: "urls"}
_FAR = (-0.25, 1.25)  # positions a little outside 0..1 are common; beyond these, say so
_NAME_ONLY = {"build", "buy", "outsource", "style"}


class _NotUnderstood(Exception):
    pass


def _quote(text: str, limit: int = 60) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{text}”"


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotUnderstood(f"{_quote(text)} is too large a number")
    return value


def _numbers(inside: str) -> list[float] | None:
    """The comma-separated numbers between brackets, or None if any is not a number."""
    parts = [part.strip() for part in inside.split(",")]
    if not all(_NUMBER.fullmatch(part) and math.isfinite(float(part)) for part in parts):
        return None
    return [float(part) for part in parts]


class _Reader:
    def __init__(self, text: str, wmap: WardleyMap):
        self.map = wmap
        self.lines = text.split("\n")
        self.warnings: list[MapWarning] = []
        self.block: tuple[Pipeline, Entry, int] | None = None  # an open pipeline block and where its { is
        self.pending: tuple[Pipeline, int] | None = None  # a pipeline that a { on a later line may open
        self.n = 0
        self.block_tail: list[tuple[str, str]] = []  # blank and comment lines since the block's last code

    def warn(self, message: str, line: int | None = None) -> None:
        self.warnings.append(MapWarning(self.n if line is None else line, message))

    # --- the whole text ----------------------------------------------------------------

    def read(self) -> WardleyMap:
        lines, unclosed = split_comments(self.lines)
        if unclosed:
            self.warn("a comment opened with /* is never closed with */: everything after it is read as comment",
                      unclosed)
        entries = self.map.entries
        for index, (raw, (code, lead, trail)) in enumerate(zip(self.lines, lines)):
            self.n = index + 1
            if self.block is not None and self._in_block(raw, code, trail):
                continue
            if not code:
                entries.append(Entry([raw], trail=trail))
            elif self.pending is not None and code == "{":
                self._open_block(raw, trail)
            else:
                self.pending = None
                entry = Entry([raw], lead=lead, trail=trail)
                entries.append(entry)
                try:
                    self._statement(code, entry)
                except _NotUnderstood as problem:
                    entry.items.clear()
                    entry.setting = None
                    self.warn(f"{problem} (the line is kept as written)")
        if self.block is not None:
            pipeline, _, brace = self.block
            self.warn(f"the pipeline block of {_quote(pipeline.parent)} opened here is never closed with }}", brace)
            self._release()
        if unclosed:  # statements added in code go before the comment that runs to the end
            for entry in entries:
                unclosed -= len(entry.lines)
                if unclosed <= 0:
                    entry.unclosed = True
                    break
        firsts: dict[str, Component] = {}
        for c in self.map.components:
            firsts.setdefault(c.name, c)
        for method in self.map.methods:  # `buy Ledger` gives Ledger the decorator, wherever it is declared
            if method.name in firsts:
                firsts[method.name].decorators.add(method.decorator)
        self.warnings.extend(name_warnings(self.map))
        for entry in entries:
            if entry.setting:
                entry.said = getattr(self.map, entry.setting)
            elif entry.items:
                entry.said = [statement_key(s) for s in entry.items]
        self.map.warnings = sorted(self.warnings, key=lambda w: w.line)
        return self.map

    # --- pipeline blocks ----------------------------------------------------------------

    def _open_block(self, raw: str, trail: str) -> None:
        pipeline, at = self.pending
        entries = self.map.entries
        header = entries[at]
        for later in entries[at + 1:]:  # blank and comment lines between the header and its {
            header.lines.extend(later.lines)
        del entries[at + 1:]
        header.lines.append(raw)
        header.trail = trail
        pipeline.block = True
        self.block = (pipeline, header, self.n)
        self.pending = None

    def _in_block(self, raw: str, code: str, trail: str) -> bool:
        """Take the line into the open pipeline block; False if it ends the block unclosed."""
        pipeline, entry, _ = self.block
        if not code:
            self.block_tail.append((raw, trail))
            return True
        if code == "}":
            self.block = None
        elif code == "{":
            self.warn(f"a second {{ inside the pipeline block of {_quote(pipeline.parent)} is ignored")
        elif not self._child(code, pipeline):
            self.warn(f"the pipeline block of {_quote(pipeline.parent)} (line {pipeline.line}) has no closing }} "
                      "before this line: it is closed here")
            self.block = None
            self._release()
            return False
        entry.lines.extend(line for line, _ in self.block_tail)
        self.block_tail.clear()
        entry.lines.append(raw)
        entry.trail = trail
        return True

    def _release(self) -> None:
        """A block closed without its }: the blank and comment lines after its last component
        are not part of it."""
        self.map.entries.extend(Entry([raw], trail=trail) for raw, trail in self.block_tail)
        self.block_tail.clear()

    def _child(self, code: str, pipeline: Pipeline) -> bool:
        """Read a component inside a pipeline block; False if the line is not one."""
        word = _KEYWORD.match(code)
        if word is None or word.group() != "component":
            return False
        rest = code[word.end():]
        opening, closing = rest.find("["), rest.find("]")
        name = rest[:opening].strip() if opening >= 0 else rest.strip()
        values = _numbers(rest[opening + 1:closing]) if 0 <= opening < closing else None
        if values is not None and len(values) == 2:
            return False  # a component with its own visibility: the block was left open by mistake
        if not name or values is None or len(values) != 1:
            self.warn(f"component {_quote(name)} in the pipeline block of {_quote(pipeline.parent)} needs its evolution "
                      "as one number, as in component SaaS ledger [0.66]; it is not drawn")
            return True
        options = self._options(rest[closing + 1:], f"component {_quote(name)}", allowed={"label"})
        self._far("evolution", values[0])
        pipeline.children.append(PipelineComponent(name, values[0], label=options["label"], line=self.n))
        return True

    # --- one statement --------------------------------------------------------------------

    def _statement(self, code: str, entry: Entry) -> None:
        word = _KEYWORD.match(code)
        keyword = word.group() if word and word.group() in KEYWORDS else None
        if keyword is None:
            if code in ("{", "}"):
                raise _NotUnderstood(f"a {code} that belongs to no pipeline block"
                                     + (" (write it on the line after pipeline NAME)" if code == "{" else ""))
            arrow = self._arrow(code)
            if arrow is None:
                hint = ""
                first = code.split(None, 1)[0].lower() if code.split(None, 1) else ""
                if first in KEYWORDS:
                    hint = f": keywords are written in lower case, as in {first}"
                raise _NotUnderstood(f"not understood: {_quote(code)}{hint}")
            self._add(entry, arrow)
            return
        rest = code[word.end():].strip()
        bare = keyword in _NAME_ONLY or (keyword in ("market", "ecosystem", "pipeline") and "[" not in rest)
        if bare:
            # "build pipeline->runner" links a component named "build pipeline"
            arrow = self._try_arrow(code)
            if arrow is not None:
                self._add(entry, arrow)
                return
        try:
            getattr(self, "_" + keyword)(keyword, rest, entry)
        except _NotUnderstood:
            # labels are separated by arrows: a mistaken evolution line is no link
            arrow = self._try_arrow(code) if keyword != "evolution" else None
            if arrow is None:
                raise
            self._add(entry, arrow)

    def _add(self, entry: Entry, statement) -> None:
        getattr(self.map, _LIST_OF[type(statement)]).append(statement)
        entry.items.append(statement)

    def _set(self, entry: Entry, setting: str, value, what: str) -> None:
        if getattr(self.map, setting) is not None:
            self.warn(f"a second {what} line: this later one is used")
        setattr(self.map, setting, value)
        entry.setting = setting

    def _far(self, what: str, value: float) -> None:
        if not _FAR[0] <= value <= _FAR[1]:
            self.warn(f"{what} {value:g} is far outside 0..1; it is drawn at the edge of the map")

    def _options(self, text: str, what: str, *, allowed: set[str]) -> dict:
        """What follows a statement's position: label, inertia, decorators, evolve, url."""
        found = {"label": None, "inertia": False, "decorators": set(), "evolve": None, "url": None}
        unknown = []
        pos = _SPACES.match(text).end()
        while pos < len(text):
            m = _OPTION.match(text, pos)
            kind = next((k for k in ("label", "inertia", "evolve", "url", "decorators") if m.group(k) is not None), "other")
            piece = m.group()
            if kind not in allowed:
                unknown.append(piece)
            elif kind == "label":
                offset = _numbers(m.group("offset"))
                if offset is None or len(offset) != 2:
                    unknown.append(piece)
                else:
                    found["label"] = (offset[0], offset[1])
            elif kind == "inertia":
                found["inertia"] = True
            elif kind == "evolve":
                found["evolve"] = _float(m.group("to"))
            elif kind == "url":
                found["url"] = m.group("ref").strip() or None
            else:
                words = [w.strip().lower() for w in m.group("words").split(",")]
                found["decorators"].update(w for w in words if w in DECORATORS)
                others = [w for w in words if w not in DECORATORS]
                if others:
                    unknown.append(piece if len(others) == len(words) else f"({', '.join(others)})")
            pos = _SPACES.match(text, m.end()).end()
        if unknown:
            self.warn(f"did not understand {_quote(' '.join(unknown))} after {what}; "
                      "the rest of the line is drawn, and it is kept as written")
        return found

    def _placed_name(self, keyword: str, rest: str) -> tuple[str, float, float, str]:
        """``NAME [visibility, evolution] …``: the name, the position and what follows."""
        opening = rest.find("[")
        if opening < 0:
            raise _NotUnderstood(f"{keyword} {_quote(rest)} has no position [visibility, evolution]")
        name = rest[:opening].strip()
        closing = rest.find("]", opening)
        if not name:
            raise _NotUnderstood(f"{keyword} has no name before its position")
        if closing < 0:
            raise _NotUnderstood(f"the position of {keyword} {_quote(name)} is not closed with ]")
        inside = rest[opening + 1:closing]
        values = _numbers(inside)
        if values is None or len(values) != 2:
            raise _NotUnderstood(f"{keyword} {_quote(name)}: the position must be two numbers [visibility, evolution], "
                                 f"not [{inside.strip()}]")
        self._far("visibility", values[0])
        self._far("evolution", values[1])
        return name, values[0], values[1], rest[closing + 1:]

    # --- statements, one method per keyword ------------------------------------------------

    def _component(self, keyword: str, rest: str, entry: Entry) -> None:
        name, visibility, evolution, after = self._placed_name(keyword, rest)
        allowed = {"label", "inertia", "decorators", "evolve", "url"}
        options = self._options(after, f"{keyword} {_quote(name)}", allowed=allowed)
        kind = keyword if keyword in KINDS else "component"
        self._add(entry, Component(name, visibility, evolution, kind=kind, label=options["label"],
                                   inertia=options["inertia"], decorators=options["decorators"],
                                   url=options["url"], line=self.n))
        entry.own = frozenset(options["decorators"])
        if options["evolve"] is not None:
            self._far("evolution", options["evolve"])
            self._add(entry, Evolve(name, options["evolve"], inline=True, line=self.n))

    _anchor = _submap = _component

    def _market(self, keyword: str, rest: str, entry: Entry) -> None:
        if "[" in rest:
            self._component(keyword, rest, entry)
        else:
            self._build(keyword, rest, entry)

    _ecosystem = _market

    def _build(self, keyword: str, rest: str, entry: Entry) -> None:
        if not rest or "[" in rest or "]" in rest:
            raise _NotUnderstood(f"{keyword} takes the name of a component declared elsewhere, as in {keyword} Ledger")
        self._add(entry, Method(keyword, rest, line=self.n))

    _buy = _outsource = _build

    def _evolve(self, keyword: str, rest: str, entry: Entry) -> None:
        opening = rest.find("[")
        # the name ends at the last number standing alone before any label
        numbers = list(_LONE_NUMBER.finditer(rest if opening < 0 else rest[:opening]))
        name, arrow, new_name = rest[:numbers[-1].start()].partition("->") if numbers else ("", "", "")
        name, new_name = name.strip(), new_name.strip() if arrow else None
        if not name or new_name == "":
            raise _NotUnderstood("evolve needs a name and where it evolves to, as in evolve Ledger 0.85")
        last = numbers[-1]
        value = _float(last.group())
        self._far("evolution", value)
        options = self._options(rest[last.end():], f"evolve {_quote(name)}", allowed={"label", "decorators"})
        self._add(entry, Evolve(name, value, new_name=new_name, label=options["label"],
                                decorators=options["decorators"], line=self.n))

    def _pipeline(self, keyword: str, rest: str, entry: Entry) -> None:
        brace = rest.endswith("{")
        if brace:
            rest = rest[:-1].rstrip()
        span = None
        opening = rest.find("[")
        if opening >= 0:
            name = rest[:opening].strip()
            closing = rest.find("]", opening)
            values = _numbers(rest[opening + 1:closing]) if closing > opening else None
            if not name or values is None or len(values) != 2:
                raise _NotUnderstood(f"pipeline {_quote(rest)}: write pipeline NAME [from, to] with two evolution numbers, "
                                     "or pipeline NAME followed by a { … } block")
            span = (values[0], values[1])
            if rest[closing + 1:].strip():
                self.warn(f"did not understand {_quote(rest[closing + 1:].strip())} after pipeline {_quote(name)}; "
                          "it is kept as written")
        else:
            name = rest
        if not name:
            raise _NotUnderstood("pipeline needs the name of the component it belongs to")
        pipeline = Pipeline(name, span=span, line=self.n)
        self._add(entry, pipeline)
        if brace:
            pipeline.block = True
            self.block = (pipeline, entry, self.n)
        else:
            self.pending = (pipeline, len(self.map.entries) - 1)

    def _note(self, keyword: str, rest: str, entry: Entry) -> None:
        last = None
        for last in _COORDS.finditer(rest):
            pass
        if last is None:
            raise _NotUnderstood(f"note {_quote(rest)} has no position [visibility, evolution] after its text")
        text = rest[:last.start()].strip()
        if not text:
            raise _NotUnderstood("note has no text before its position")
        visibility, evolution = _float(last.group(1)), _float(last.group(2))
        if rest[last.end():].strip():
            self.warn(f"did not understand {_quote(rest[last.end():].strip())} after note {_quote(text)}; "
                      "it is kept as written")
        self._add(entry, Note(text, visibility, evolution, line=self.n))

    def _annotation(self, keyword: str, rest: str, entry: Entry) -> None:
        number = _ANNOTATION_NUMBER.match(rest)
        if number is None:
            raise _NotUnderstood("annotation needs a number first, as in annotation 1 [0.4, 0.5] Why this moves")
        pos, points = number.end(), []
        many = rest.startswith("[", pos) and rest[pos + 1:].lstrip().startswith("[")  # [[v, e], [v, e]]
        pos += many
        while (point := (_POINT if many else _COORDS).match(rest, pos)) is not None:
            points.append((_float(point.group(1)), _float(point.group(2))))
            pos = point.end()
            if not (many and point.group(3)):
                break
        if many:
            pos = _SPACES.match(rest, pos).end() + 1
            if not rest.startswith("]", pos - 1):
                points = []
        if not points:
            raise _NotUnderstood(f"annotation {number.group(1)} has no points: write [visibility, evolution] "
                                 "or [[v, e], [v, e]] after its number")
        self._add(entry, Annotation(int(number.group(1)), points, rest[pos:].strip(), line=self.n))

    def _annotations(self, keyword: str, rest: str, entry: Entry) -> None:
        point = _COORDS.fullmatch(rest)
        if point is None:
            raise _NotUnderstood("annotations places the list of annotations: write annotations [visibility, evolution]")
        self._set(entry, "legend", (_float(point.group(1)), _float(point.group(2))), "annotations")

    def _pioneers(self, keyword: str, rest: str, entry: Entry) -> None:
        values = _numbers(rest[1:-1]) if rest.startswith("[") and rest.endswith("]") else None
        if values is None or len(values) != 4:
            raise _NotUnderstood(f"{keyword} is a box given by two corners: {keyword} [visibility, evolution, "
                                 "visibility, evolution]")
        self._add(entry, Box(keyword, (values[0], values[1]), (values[2], values[3]), line=self.n))

    _settlers = _townplanners = _pioneers

    def _accelerator(self, keyword: str, rest: str, entry: Entry) -> None:
        name, visibility, evolution, after = self._placed_name(keyword, rest)
        if after.strip():
            self.warn(f"did not understand {_quote(after.strip())} after {keyword} {_quote(name)}; it is kept as written")
        self._add(entry, Accelerator(name, visibility, evolution, kind=keyword, line=self.n))

    _deaccelerator = _accelerator

    def _url(self, keyword: str, rest: str, entry: Entry) -> None:
        opening, closing = rest.find("["), rest.rfind("]")
        name = rest[:opening].strip() if opening >= 0 else ""
        address = rest[opening + 1:closing].strip() if 0 <= opening < closing else ""
        if not name or not address or rest[closing + 1:].strip():
            raise _NotUnderstood("url names an address for submaps: write url NAME [https://…]")
        self._add(entry, UrlDef(name, address, line=self.n))

    def _evolution(self, keyword: str, rest: str, entry: Entry) -> None:
        labels = rest.split("->")
        if len(labels) != 4:
            raise _NotUnderstood(f"evolution needs exactly four labels separated by ->, not {len(labels)}")
        self._set(entry, "evolution_labels", tuple(label.strip() for label in labels), "evolution")

    def _title(self, keyword: str, rest: str, entry: Entry) -> None:
        if not rest:
            raise _NotUnderstood("title has no text")
        self._set(entry, "title", rest, "title")

    def _style(self, keyword: str, rest: str, entry: Entry) -> None:
        if not rest or len(rest.split()) != 1:
            raise _NotUnderstood("style takes one word, as in style wardley")
        self._set(entry, "style", rest, "style")

    def _size(self, keyword: str, rest: str, entry: Entry) -> None:
        values = _numbers(rest[1:-1]) if rest.startswith("[") and rest.endswith("]") else None
        if values is None or len(values) != 2 or min(values) <= 0:
            raise _NotUnderstood("size takes a width and a height in pixels: size [1024, 768]")
        self._set(entry, "size", (values[0], values[1]), "size")

    # --- links and flows ------------------------------------------------------------------

    def _try_arrow(self, code: str):
        try:
            return self._arrow(code)
        except _NotUnderstood:
            return None

    def _arrow(self, code: str):
        """A link ``A->B; label`` or a flow ``A+'value'>B``, whichever arrow comes first; None
        if the line has neither."""
        link_at = code.find("->")
        flow = _FLOW_ARROW.search(code)
        if flow is not None and (link_at < 0 or flow.start() < link_at):
            source, target = code[:flow.start()].strip(), code[flow.end():].strip()
            if not source or not target:
                raise _NotUnderstood(f"the flow {_quote(code)} needs a component on each side")
            return Flow(source, target, direction=flow.group(2), value=flow.group(1), line=self.n)
        if link_at < 0:
            return None
        source = code[:link_at].strip()
        target, semicolon, label = code[link_at + 2:].partition(";")
        target = target.strip()
        if not source or not target:
            raise _NotUnderstood(f"the link {_quote(code)} needs a component on each side of ->")
        if source.endswith(("-", "<")) or target.startswith(">"):
            raise _NotUnderstood(f"the arrow in {_quote(code)} is not one this language knows "
                                 "(a link is A->B, a flow A+>B, A+<B or A+<>B)")
        if any(bracket in source or bracket in target for bracket in "[]"):
            raise _NotUnderstood(f"not understood: {_quote(code)}: a name in a link cannot contain [ or ]")
        return Link(source, target, label=label.strip() or None, line=self.n)


def name_warnings(wmap: WardleyMap) -> list[MapWarning]:
    """Names used but never declared, and components declared twice."""
    found = []
    declared: dict[str, int] = {}
    for c in wmap.components:
        if c.name in declared:
            found.append(MapWarning(c.line, f"“{c.name}” is declared again (first on line {declared[c.name]}); "
                                            "both are drawn, and links go to the first"))
        declared.setdefault(c.name, c.line)
    for p in wmap.pipelines:
        for child in p.children:
            declared.setdefault(child.name, child.line)
    reachable = set(declared) | {e.new_name for e in wmap.evolves if e.new_name}
    for link in [*wmap.links, *wmap.flows]:
        found.extend(MapWarning(link.line, f"“{name}” is linked here but never declared; it is drawn next to what "
                                           "it is linked to")
                     for name in dict.fromkeys((link.source, link.target)) if name not in reachable)
    named = [(e, "evolve", e.name) for e in wmap.evolves] + [(p, "pipeline", p.parent) for p in wmap.pipelines]
    named += [(m, m.decorator, m.name) for m in wmap.methods]
    found.extend(MapWarning(s.line, f"{word} “{name}”: no component of that name is declared")
                 for s, word, name in named if name not in declared)
    defined = {u.name for u in wmap.urls}
    found.extend(MapWarning(c.line, f"{c.kind} “{c.name}” refers to url({c.url}), which no url line names")
                 for c in wmap.components if c.url and c.url not in defined and not ("/" in c.url or "." in c.url))
    return found


def parse(text) -> WardleyMap:
    """Read map text. Never raises: lines not understood are kept and warned about."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    elif text is None:
        text = ""
    elif not isinstance(text, str):
        text = str(text)
    try:
        return _Reader(text, WardleyMap()).read()
    except Exception:  # a last resort: the text is still kept whole, and the reader told
        return WardleyMap(warnings=[MapWarning(0, "The map could not be read; its text is kept as written.")],
                          entries=[Entry(text.split("\n"))])
