"""Writing the organisation's records as YAML quickly, and reading them back, without a
general YAML library.

The records are flat: names to scalars, lists of scalars, and JSON values. Each value is
written in the plainest style that reads back exactly: plain words where no YAML rule
can change their meaning, a literal block for ordinary multi-line text, and otherwise
a double-quoted string (JSON's escapes are also YAML's). Anything unusual, such as a
carriage return, a line break YAML knows but JSON does not, or a character YAML will not
read raw, ends up escaped inside double quotes, so what is read is what was written.
"""

from __future__ import annotations

import json
import re
from operator import methodcaller

__all__ = ["scalar", "flow", "record", "fast_load", "columns", "value", "Unusual"]

# Plain only when nothing in it can be read as another type, a comment, a key or an anchor.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_.,@/()'+-]*(?: [A-Za-z0-9_.,@/()'+-]+)*\Z")
_SPECIAL_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}
# What a YAML reader refuses raw, or reads as a line break: escaped in double quotes.
_ESCAPE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# Fit for a literal block: no carriage return or other line break, nothing refused raw.
_BLOCK_UNSAFE = re.compile("[\r\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _quoted(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)


def _block_fits(text: str) -> bool:
    if _BLOCK_UNSAFE.search(text) or text.endswith("\n\n") or text.startswith((" ", "\n", "\t")):
        return False
    for line in text.split("\n"):
        if line != line.rstrip() or line.startswith((" ", "\t")):
            return False
    return True


def scalar(value, indent: str = "  ") -> str:
    """One value as it follows ``name: `` (a literal block carries on over more lines)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        if "\n" in value:
            if _block_fits(value):
                body = value[:-1] if value.endswith("\n") else value
                head = "|" if value.endswith("\n") else "|-"
                inner = indent + "  "
                return head + "".join(f"\n{inner}{line}" if line else "\n" for line in body.split("\n"))
            return _quoted(value)
        if _PLAIN.match(value) and value.lower() not in _SPECIAL_WORDS and ": " not in value and " #" not in value:
            return value
        return _quoted(value)
    return flow(value)


def _float(value: float) -> str:
    """A number with a fraction as YAML 1.1 reads it back: always a point, a signed exponent."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("JSON holds no infinite or missing numbers")
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    return text


def flow(value) -> str:
    """A JSON value in YAML's flow style: JSON, with YAML's escapes where they differ and
    numbers written so YAML 1.1 reads them as numbers."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_quoted(str(k))}: {flow(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, float):
        return _float(value)
    return json.dumps(value)


def record(pairs) -> str:
    """One item of a top-level list: ``- name: value`` then ``  name: value`` lines."""
    out = []
    for n, (name, value) in enumerate(pairs):
        lead = "- " if n == 0 else "  "
        if isinstance(value, list) and value and all(not isinstance(v, (list, dict)) for v in value):
            out.append(f"{lead}{name}:\n" + "".join(
                f"  - {_quoted(v) if isinstance(v, str) and chr(10) in v else scalar(v)}\n" for v in value))
        else:
            out.append(f"{lead}{name}: {scalar(value)}\n")
    return "".join(out)


# ---- reading back what :func:`record` writes -------------------------------------------

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_LINE = re.compile(r"(- |  )([A-Za-z_][A-Za-z0-9_]*):(?: (.*))?\Z")


class Unusual(ValueError):
    """The text strays from what :func:`record` writes: a general YAML reader takes over."""


def _read_scalar(text: str):
    if text == "null" or text == "~":
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if _INT.match(text):
        return int(text)
    first = text[:1]
    if first in "\"[{":
        try:
            return json.loads(text)
        except ValueError:
            raise Unusual from None
    if _PLAIN.match(text) and text.lower() not in _SPECIAL_WORDS and ": " not in text and " #" not in text:
        return text
    raise Unusual


def _block(head: str, body: list[str]) -> str:
    """The text of a literal block (``|`` or ``|-``) from the lines below it, each empty or
    indented by four spaces."""
    for line in body:
        if line and (not line.strip() or line[4] in " \t"):
            # more indented than the writer indents: YAML would take its own measure
            raise Unusual
    body = [line[4:] for line in body]
    while body and body[-1] == "":
        body.pop()
    if not body:
        raise Unusual
    return "\n".join(body) + ("\n" if head == "|" else "")


def fast_load(text: str):
    """The list of records in ``text`` and the line each starts on, read as YAML would
    read them, or None when the text is not in the layout :func:`record` writes."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    items: list[dict] = []
    starts: list[int] = []
    n = 0
    total = len(lines)
    try:
        while n < total:
            line = lines[n]
            if not line or line.startswith("#"):
                if items and line == "":
                    raise Unusual
                n += 1
                continue
            if line == "[]" and not items:
                n += 1
                if any(rest.strip() and not rest.startswith("#") for rest in lines[n:]):
                    raise Unusual
                return [], []
            found = _LINE.match(line)
            if found is None:
                raise Unusual
            lead, name, rest = found.groups()
            if lead == "- ":
                items.append({})
                starts.append(n + 1)
            elif not items or name in items[-1]:
                raise Unusual
            n += 1
            if rest is None or rest == "":
                values = []
                while n < total and lines[n].startswith("  - "):
                    values.append(_read_scalar(lines[n][4:]))
                    n += 1
                items[-1][name] = values if values else None
            elif rest in ("|", "|-"):
                body = []
                while n < total and (lines[n] == "" or lines[n].startswith("    ")):
                    body.append(lines[n])
                    n += 1
                items[-1][name] = _block(rest, body)
            else:
                items[-1][name] = _read_scalar(rest)
    except Unusual:
        return None
    return items, starts


# ---- reading a file's records column by column ----------------------------------------

# What follows a name and its colon: a literal block, its lines indented by four spaces or
# empty (tried first: its first line would do as a value on one line); the rest of the line
# after a space; or a list, one item a line.
_FIELD = r"((?: \|-?(?:\n(?:    [^\n]*)?)+)|(?: [^\n]*)|(?:\n  - [^\n]*)+)"


def _records_pattern(names: tuple[str, ...]) -> re.Pattern:
    """One record: ``- first: …`` then ``  name: …`` for each other name, in order."""
    return re.compile("- " + "".join(f"  {re.escape(name)}:{_FIELD}\n" for name in names)[2:])


_PATTERNS: dict[tuple[str, ...], re.Pattern] = {}


def columns(text: str, names: list[str]):
    """The records of ``text`` column by column, when each is laid out as :func:`record`
    writes it with exactly ``names`` in this order: (for each name, every record's text for
    its value, to be read with :func:`value`), and the line each record starts on. None
    otherwise, and :func:`fast_load` then reads the text record by record.

    The records are found by one pattern over the whole text, and each value is read once
    however often it is written, which is what makes this quick: a file of records with
    the same few values in a column (statuses, dates, who did it) is most of the text."""
    if not names or not text.endswith("\n"):
        return None
    if text.startswith("- "):
        start = 0
    else:
        start = text.find("\n- ") + 1
        if start == 0 or any(line and not line.startswith("#") for line in text[:start - 1].split("\n")):
            return None
    key = tuple(names)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        pattern = _PATTERNS[key] = _records_pattern(key)
    found = pattern.findall(text, start)
    if not found:
        return None
    if len(names) == 1:
        found = [(v,) for v in found]
    by_column = [list(c) for c in zip(*found)]
    # the records found cover the text from the first to the end, with nothing between them
    # (a comment, a blank line, a value over several lines): else they are not the records
    fixed = sum(len(name) + 4 for name in names)
    if len(found) * fixed + sum(sum(map(len, c)) for c in by_column) != len(text) - start:
        return None
    first = text.count("\n", 0, start) + 1
    height = len(names)
    if text.count("\n", start) == height * len(found):  # one line a value: no lists or blocks
        return by_column, range(first, first + height * len(found), height)
    extra = [more for more in (list(map(_item_lines, c)) for c in by_column) if any(more)]
    starts, line = [], first
    for more in zip(*extra):
        starts.append(line)
        line += height + sum(more)
    return by_column, starts


_item_lines = methodcaller("count", "\n")  # the lines of a list or block, below its name


def value(text: str):
    """One value's text as :func:`columns` gives it, read as YAML reads it; raises
    :class:`Unusual` where a general YAML reader must read the file."""
    if text.startswith(" "):
        head, _, below = text[1:].partition("\n")
        if below or head in ("|", "|-"):
            if head not in ("|", "|-"):
                raise Unusual
            return _block(head, below.split("\n"))
        if not head:
            raise Unusual  # a name with nothing after it: YAML's null, or a list below
        return _read_scalar(head)
    return [_read_scalar(item) for item in text.split("\n  - ")[1:]]
