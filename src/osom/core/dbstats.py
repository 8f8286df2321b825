"""The database planner's picture of the tables after a bulk load.

PostgreSQL chooses how to run a query from statistics of each table (how many rows, how
values are spread). A table filled by a bulk load has none until the background analyser
gets to it, and until then a page can be planned as if its tables were nearly empty: the
network list of a freshly generated 10,000-service organisation took 56 ms of SQL instead
of 3 ms. The bulk loads (``osom generate``, ``osom import``) therefore end by gathering
them. SQLite plans these queries well from its indexes alone (the benchmarks at 50,000
services are measured without statistics), and its ``ANALYZE`` reads every index of the
file and adds a table of its own, so nothing is done there.
"""

from __future__ import annotations

from django.db import connection

__all__ = ["refresh_statistics"]


def refresh_statistics() -> None:
    """Gather the planner's statistics (inside the caller's transaction, if any)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
