"""The list of published reports reads its page of rows through an index, newest first,
rather than sorting every published report of the organisation to show fifty."""

from __future__ import annotations

import pytest
from django.db import connection

from osom.lifecycle.queries import published_reports


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's planner picks by the table's size and "
                    "statistics, so on a test's few rows its plan says nothing about a large organisation")
def test_the_newest_reports_are_read_through_the_index_without_a_sort(db):
    sql, params = published_reports().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql} LIMIT 50", params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "lifecycle_assessment_published" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
