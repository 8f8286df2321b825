"""The list of published reports reads its page of rows through an index, newest first,
rather than sorting every published report of the organisation to show fifty; a service's
own reports are read through an index of the service's, not picked out of everyone's."""

from __future__ import annotations

import pytest
from django.db import connection

from osom.lifecycle.models import Assessment, AssessmentStatus
from osom.lifecycle.queries import published_reports


SQLITE_ONLY = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL's planner picks by the table's size and statistics, so on a "
    "test's few rows its plan says nothing about a large organisation")


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


@SQLITE_ONLY
def test_the_newest_reports_are_read_through_the_index_without_a_sort(db):
    sql, params = published_reports().query.sql_with_params()
    plan = _plan(f"{sql} LIMIT 50", params)
    assert "lifecycle_assessment_published" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@SQLITE_ONLY
def test_a_services_reports_are_read_through_the_services_own_index(db):
    sql, params = (Assessment.objects.filter(service_id=1, status=AssessmentStatus.PUBLISHED)
                   .order_by("-published_at", "-pk").values("pk").query.sql_with_params())
    plan = _plan(sql, params)
    assert "lifecycle_assessment_reports" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
