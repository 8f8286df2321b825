"""``osom`` commands for assessments and budgets. Nothing of Django is imported at the
top: the parser is built before Django is set up."""

from __future__ import annotations


def register(sub) -> None:
    """Add this app's subcommands to the ``osom`` parser."""
