"""Showing numbers as people write them."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["plain_number", "as_id"]


def plain_number(value) -> str:
    """A Decimal without trailing zeros and never in exponent form: 100, 99.95, 0.5."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    text = format(value.normalize(), "f")
    return text


def as_id(value) -> int | None:
    """A database id from text, or None: plain ASCII digits only (not '²'), and small
    enough for every database's 64-bit integers."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < 2**63 else None
