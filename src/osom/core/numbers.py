"""Showing numbers as people write them."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["plain_number"]


def plain_number(value) -> str:
    """A Decimal without trailing zeros and never in exponent form: 100, 99.95, 0.5."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    text = format(value.normalize(), "f")
    return text
