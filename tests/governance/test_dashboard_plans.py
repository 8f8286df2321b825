"""The executive's dashboard reads what needs attention through indexes made for it, in
the order listed, rather than sorting every service or Correction of Error of the
organisation to show twenty; and those indexes are partial, so that the network list's
reads of one stage or of every stage keep the indexes they had (SQLite keeps no
statistics here and would otherwise take a wider index for any read of a stage)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, Q

from osom.governance.queries import DUE_SOON_DAYS
from osom.learning.models import CorrectionOfError
from osom.network.models import Service
from osom.network.queries import flagged_for_decommissioning, network_list
from osom.network.stages import Lifecycle

SQLITE_ONLY = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL's planner picks by the table's size and statistics, so on a "
    "test's few rows its plan says nothing about a large organisation")

TODAY = dt.date(2026, 11, 27)


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return " | ".join(str(row[-1]) for row in cursor.fetchall())


def _live():
    return Service.objects.filter(lifecycle_stage=Lifecycle.LIVE, next_assessment_due__isnull=False)


@SQLITE_ONLY
@pytest.mark.parametrize("due", [
    Q(next_assessment_due__lt=TODAY),
    Q(next_assessment_due__gte=TODAY, next_assessment_due__lte=TODAY + dt.timedelta(days=DUE_SOON_DAYS)),
])
def test_the_assessments_due_are_read_soonest_first_through_their_index(db, due):
    plan = _plan(_live().filter(due).select_related("manager").order_by("next_assessment_due")[:20])
    assert "service_live_due" in plan and "TEMP B-TREE" not in plan, plan


@SQLITE_ONLY
def test_the_flagged_services_and_the_coes_awaiting_review_are_read_through_their_indexes(db):
    # counted on the dashboard
    assert "service_flagged" in _plan(flagged_for_decommissioning().order_by().values("pk"))
    plan = _plan(CorrectionOfError.objects.filter(status=CorrectionOfError.Status.PUBLISHED)
                 .select_related("service").order_by("published_at", "pk")[:20])
    assert "coe_status_published" in plan and "TEMP B-TREE" not in plan, plan


@SQLITE_ONLY
def test_the_network_lists_reads_of_stages_leave_the_dashboards_indexes_alone(db):
    counts = Service.objects.values("lifecycle_stage").annotate(
        n=Count("pk"), flagged=Count("pk", filter=~Q(decommission_flag=""))).order_by()
    for qs in (counts, network_list(stage=Lifecycle.LIVE, evolution="commodity")[:50],
               network_list(stage=Lifecycle.LIVE)[:50]):
        plan = _plan(qs)
        assert "service_live_due" not in plan and "service_flagged" not in plan, plan
