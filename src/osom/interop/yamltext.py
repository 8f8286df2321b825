"""Writing the organisation's records as YAML quickly, without a general YAML library.

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

__all__ = ["scalar", "flow", "record"]

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


class _Unusual(Exception):
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
            raise _Unusual from None
    if _PLAIN.match(text) and text.lower() not in _SPECIAL_WORDS and ": " not in text and " #" not in text:
        return text
    raise _Unusual


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
                    raise _Unusual
                n += 1
                continue
            if line == "[]" and not items:
                n += 1
                if any(rest.strip() and not rest.startswith("#") for rest in lines[n:]):
                    raise _Unusual
                return [], []
            found = _LINE.match(line)
            if found is None:
                raise _Unusual
            lead, name, rest = found.groups()
            if lead == "- ":
                items.append({})
                starts.append(n + 1)
            elif not items or name in items[-1]:
                raise _Unusual
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
                    if lines[n] and (not lines[n].strip() or lines[n][4] in " \t"):
                        # more indented than the writer indents: YAML would take its own measure
                        raise _Unusual
                    body.append(lines[n][4:])
                    n += 1
                while body and body[-1] == "":
                    body.pop()
                if not body:
                    raise _Unusual
                items[-1][name] = "\n".join(body) + ("\n" if rest == "|" else "")
            else:
                items[-1][name] = _read_scalar(rest)
    except _Unusual:
        return None
    return items, starts
