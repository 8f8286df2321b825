"""The floor of each benchmark target: the same rows the page (or the API list) shows,
fetched by one raw SQL query and rendered as plainly as possible.

A page can hardly be quicker than the one query that fetches what it shows; the ratio of
the page's time to its floor says how much the framework, the ORM, extra queries and the
templates add on top. The SQL is written for both SQLite and PostgreSQL: ``%s``
parameters, ``UPPER(..) LIKE UPPER(..)`` for case-insensitive search, ``CAST(.. AS TEXT)``
where a UNION mixes types, ``WITH RECURSIVE`` for the walks through the network."""

from __future__ import annotations

import json

__all__ = ["FLOORS", "render_rows", "render_json"]

# consumer → provider along the current approved contracts
EDGES = """edge(consumer, provider) AS (
    SELECT c.id, d.provider_id FROM network_dependency d
    JOIN network_service c ON c.current_version_id = d.version_id)"""

def _counted(rows: tuple[str, list], *counts: tuple[str, list]) -> tuple[str, list]:
    """The rows and the counts the page shows beside them (how many rows the whole list
    has, how many of each kind), still in one query: each count is a query of one row,
    joined to every row of the page, which the database works out once."""
    sql = f"SELECT r.*, {', '.join(f'c{i}.*' for i in range(len(counts)))} FROM ({rows[0]}) r" + "".join(
        f" CROSS JOIN ({count}) c{i}" for i, (count, _params) in enumerate(counts))
    return sql, [*rows[1], *(p for _count, params in counts for p in params)]


# the count of services at each stage (and of those flagged) that heads the network list
STAGE_COUNTS = ("SELECT " + ", ".join(
    f"SUM(CASE WHEN lifecycle_stage = '{stage}' THEN 1 ELSE 0 END) AS {stage}"
    for stage in ("discovery", "alpha", "beta", "live", "decommissioned"))
    + ", SUM(CASE WHEN decommission_flag <> '' THEN 1 ELSE 0 END) AS flagged FROM network_service", [])


NETWORK_ROWS = """
SELECT s.name, s.slug, s.summary, s.lifecycle_stage, s.evolution_stage, s.user_type, p.name,
       (SELECT COUNT(*) FROM network_need n WHERE n.version_id = s.current_version_id),
       (SELECT COUNT(*) FROM network_dependency d WHERE d.version_id = s.current_version_id),
       (SELECT COUNT(*) FROM network_dependency d JOIN network_service c ON c.current_version_id = d.version_id
         WHERE d.provider_id = s.id)
FROM network_service s LEFT JOIN core_person p ON p.id = s.manager_id
{where}
ORDER BY s.name LIMIT %s"""


def _network(where: str, params: list, ctx) -> tuple[str, list]:
    # the page of services, how many the list holds, and the counts by stage
    return _counted((NETWORK_ROWS.format(where=where), [*params, ctx["page_size"]]),
                    (f"SELECT COUNT(*) AS listed FROM network_service s {where}", params), STAGE_COUNTS)


def network_list(ctx):
    return _network("", [], ctx)


def network_filtered(ctx):
    return _network("WHERE s.lifecycle_stage = %s AND s.evolution_stage = %s", ["live", "commodity"], ctx)


def search(ctx):
    like = f"%{ctx['word']}%"
    where = ("WHERE UPPER(s.name) LIKE UPPER(%s) OR UPPER(s.summary) LIKE UPPER(%s) "
             "OR UPPER(s.slug) LIKE UPPER(%s)")
    return _network(where, [like, like, like], ctx)


def service_page(ctx):
    # the contract, its needs and metrics, what it consumes, who consumes it, its team
    sql = """
SELECT 'service', s.name, s.lifecycle_stage, v.purpose FROM network_service s
  JOIN network_contractversion v ON v.id = s.current_version_id WHERE s.id = %s
UNION ALL SELECT 'need', n.as_a, n.i_need, n.so_that FROM network_need n WHERE n.version_id = %s
UNION ALL SELECT 'metric', m.name, m.unit, m.direction FROM network_metric m WHERE m.version_id = %s
UNION ALL SELECT 'provider', p.name, p.slug, p.lifecycle_stage FROM network_dependency d
  JOIN network_service p ON p.id = d.provider_id WHERE d.version_id = %s
UNION ALL SELECT 'consumer', c.name, c.slug, c.lifecycle_stage FROM network_dependency d
  JOIN network_service c ON c.current_version_id = d.version_id WHERE d.provider_id = %s
UNION ALL SELECT 'team', pe.name, pe.email, '' FROM network_teammembership t
  JOIN core_person pe ON pe.id = t.person_id WHERE t.service_id = %s AND t.ended_at IS NULL"""
    hub, version = ctx["hub_id"], ctx["hub_version_id"]
    return sql, [hub, version, version, version, hub, hub]


def reports(ctx):
    sql = """
SELECT a.id, s.name, s.slug, a.kind, a.stage, a.result, a.outcome, a.published_at
FROM lifecycle_assessment a JOIN network_service s ON s.id = a.service_id
WHERE a.status = 'published' ORDER BY a.published_at DESC, a.id DESC LIMIT %s"""
    return _counted((sql, [ctx["page_size"]]),
                    ("SELECT COUNT(*) AS published FROM lifecycle_assessment WHERE status = 'published'", []))


def executive_dashboard(ctx):
    # the sections that hold rows in a generated organisation, 20 each as the page shows
    sql = """
SELECT * FROM (SELECT 'overdue', s.name, s.slug, CAST(s.next_assessment_due AS TEXT), p.name
  FROM network_service s LEFT JOIN core_person p ON p.id = s.manager_id
  WHERE s.lifecycle_stage = 'live' AND s.next_assessment_due < %s ORDER BY s.next_assessment_due LIMIT 20) o
UNION ALL SELECT * FROM (SELECT 'due_soon', s.name, s.slug, CAST(s.next_assessment_due AS TEXT), p.name
  FROM network_service s LEFT JOIN core_person p ON p.id = s.manager_id
  WHERE s.lifecycle_stage = 'live' AND s.next_assessment_due >= %s ORDER BY s.next_assessment_due LIMIT 20) d
UNION ALL SELECT * FROM (SELECT 'to_report', s.name, s.slug, CAST(a.scheduled_for AS TEXT), ''
  FROM lifecycle_assessment a JOIN network_service s ON s.id = a.service_id
  WHERE a.status = 'agenda' AND a.scheduled_for <= %s ORDER BY a.scheduled_for LIMIT 20) r
UNION ALL SELECT * FROM (SELECT 'coe', s.name, s.slug, c.title, CAST(c.published_at AS TEXT)
  FROM learning_correctionoferror c JOIN network_service s ON s.id = c.service_id
  WHERE c.status = 'published' ORDER BY c.published_at, c.id LIMIT 20) e
UNION ALL SELECT * FROM (SELECT 'action', s.name, s.slug, ca.description, CAST(ca.due_date AS TEXT)
  FROM learning_correctiveaction ca JOIN learning_correctionoferror c ON c.id = ca.coe_id
  JOIN network_service s ON s.id = c.service_id
  WHERE ca.status = 'open' AND ca.due_date < %s AND c.status <> 'draft' ORDER BY ca.due_date, ca.id LIMIT 20) x"""
    today = ctx["today"]
    # beside them, the services flagged for decommissioning and the network's missed
    # targets and late series, which the page counts
    return _counted((sql, [today, today, today, today]), FLAGGED, (FITNESS_ALERTS, [today]))


# (written as the partial index of flagged services is, so that SQLite reads it)
FLAGGED = ("SELECT COUNT(*) AS flagged FROM network_service "
           "WHERE NOT (decommission_flag = '') AND NOT (lifecycle_stage = 'decommissioned')", [])
FITNESS_ALERTS = """SELECT (SELECT COUNT(*) FROM fitness_metricseries WHERE current AND status = 'missed') AS missed,
       (SELECT COUNT(*) FROM fitness_metricseries WHERE current AND due_on < %s) AS late"""


def manager_dashboard(ctx):
    sql = """
SELECT * FROM (SELECT 'service', s.name, s.slug, s.lifecycle_stage FROM network_service s
  WHERE s.manager_id = %s AND s.lifecycle_stage <> 'decommissioned' ORDER BY s.name) sv
UNION ALL SELECT * FROM (SELECT 'agenda', s.name, s.slug, CAST(a.scheduled_for AS TEXT)
  FROM lifecycle_assessment a JOIN network_service s ON s.id = a.service_id
  WHERE s.manager_id = %s AND s.lifecycle_stage <> 'decommissioned' AND a.status IN ('scheduled', 'agenda')
  ORDER BY a.scheduled_for LIMIT 50) ag
UNION ALL SELECT * FROM (SELECT 'action', s.name, ca.description, CAST(ca.due_date AS TEXT)
  FROM learning_correctiveaction ca JOIN learning_correctionoferror c ON c.id = ca.coe_id
  JOIN network_service s ON s.id = c.service_id
  WHERE s.manager_id = %s AND ca.status = 'open' AND ca.due_date < %s AND c.status <> 'draft'
  ORDER BY ca.due_date LIMIT 50) ac
UNION ALL SELECT * FROM (SELECT 'fitness', s.name, ms.metric_key, ms.status
  FROM fitness_metricseries ms JOIN network_service s ON s.id = ms.service_id
  WHERE ms.current AND s.manager_id = %s AND (ms.status = 'missed' OR ms.due_on < %s)
  ORDER BY s.name, ms.metric_key LIMIT 50) fx"""
    m, today = ctx["manager_id"], ctx["today"]
    # the manager's own missed targets and late series are on the page too
    return sql, [m, m, m, today, m, today]


RUNNING = ("SELECT COUNT(*) AS running FROM network_service WHERE lifecycle_stage <> 'decommissioned'", [])


def network_map(ctx):
    # every running service the centre depends on, however indirectly
    sql = f"""
WITH RECURSIVE {EDGES},
reach(id) AS (SELECT id FROM network_service WHERE id = %s UNION SELECT e.provider FROM edge e JOIN reach r ON e.consumer = r.id)
SELECT s.id, s.name, s.slug, s.evolution_stage, s.user_type FROM network_service s JOIN reach r ON r.id = s.id
WHERE s.lifecycle_stage <> 'decommissioned' ORDER BY s.name"""
    # and how many services run, which the map says beside it
    return _counted((sql, [ctx["around_id"]]), RUNNING)


def impact(ctx):
    # every running service that depends on the hub, however indirectly, a page of them
    sql = f"""
WITH RECURSIVE {EDGES},
up(id) AS (SELECT id FROM network_service WHERE id = %s UNION SELECT e.consumer FROM edge e JOIN up u ON e.provider = u.id)
SELECT s.name, s.slug, s.lifecycle_stage, s.user_type FROM network_service s JOIN up u ON u.id = s.id
WHERE s.id <> %s AND s.lifecycle_stage <> 'decommissioned' ORDER BY s.name LIMIT %s"""
    return sql, [ctx["hub_id"], ctx["hub_id"], ctx["page_size"]]


def capital_flow(ctx):
    # the direct spend of each service in the period, the largest first, a page of them
    sql = """
SELECT s.name, s.slug, SUM(sp.amount) AS total FROM lifecycle_spend sp
JOIN lifecycle_budgetallocation a ON a.id = sp.allocation_id JOIN network_service s ON s.id = a.service_id
WHERE a.period = %s GROUP BY s.id, s.name, s.slug ORDER BY total DESC, s.name LIMIT %s"""
    return sql, [ctx["period"], ctx["page_size"]]


def heat_map(ctx):
    # a page of running services and the ratings of each one's latest closed round
    sql = """
WITH page AS (SELECT id, name, slug, lifecycle_stage FROM network_service
              WHERE lifecycle_stage <> 'decommissioned' ORDER BY name, id LIMIT %s),
latest AS (SELECT r.service_id, MAX(r.id) AS round_id FROM learning_doctrineround r
           JOIN page ON page.id = r.service_id WHERE r.status = 'closed' GROUP BY r.service_id)
SELECT page.name, page.slug, g.pattern_id, g.rating, COUNT(g.id) FROM page
LEFT JOIN latest l ON l.service_id = page.id LEFT JOIN learning_doctrinerating g ON g.round_id = l.round_id
GROUP BY page.id, page.name, page.slug, g.pattern_id, g.rating ORDER BY page.name, page.id, g.pattern_id"""
    return _counted((sql, [ctx["page_size"]]), RUNNING)


FITNESS_ROWS = """
SELECT s.name, s.slug, s.lifecycle_stage, m.key, m.name, m.unit, m.direction, m.target,
       ms.latest_value, ms.latest_end, ms.due_on
FROM network_metric m JOIN network_service s ON s.current_version_id = m.version_id
LEFT JOIN fitness_metricseries ms ON ms.service_id = s.id AND ms.metric_key = m.key
{where} ORDER BY s.name, m.position LIMIT %s"""


# what the network's fitness page counts: its metrics by status, and those overdue
FITNESS_COUNTS = ("SELECT " + ", ".join(f"SUM(CASE WHEN status = '{status}' THEN 1 ELSE 0 END) AS {column}"
                                        for status, column in (("met", "met"), ("missed", "missed"),
                                                               ("no target", "no_target"), ("no data", "no_data")))
                  + ", SUM(CASE WHEN due_on < %s THEN 1 ELSE 0 END) AS stale FROM fitness_metricseries WHERE current")


def fitness(ctx):
    return _counted((FITNESS_ROWS.format(where="WHERE s.lifecycle_stage <> 'decommissioned'"), [ctx["page_size"]]),
                    (FITNESS_COUNTS, [ctx["today"]]))


def fitness_words(ctx):
    # the series' words are indexed by FTS5 on SQLite and a tsvector on PostgreSQL, so the
    # page's rows and counts are read with its own filter, as Django writes it for this database
    from osom.fitness.queries import fitness_overview

    found = fitness_overview(q=ctx["word"], today=ctx["today"])
    sql, params = (found.values_list("service_name", "service__slug", "stage", "metric_key", "metric__name",
                                     "metric__unit", "metric__direction", "target", "latest_value", "latest_end",
                                     "due_on")[:ctx["page_size"]].query.sql_with_params())
    count_sql, count_params = found.order_by().values("status", "due_on").query.sql_with_params()
    counts = FITNESS_COUNTS.replace("FROM fitness_metricseries WHERE current", f"FROM ({count_sql}) f")
    return _counted((sql, list(params)), (counts, [ctx["today"], *count_params]))


def api_services(ctx):
    # each service with its manager and the counts the API gives of it (needs, providers,
    # consumers), and how many services there are
    sql = """
SELECT s.slug, s.name, s.summary, s.lifecycle_stage, s.evolution_stage, s.user_type, s.adopted,
       p.id, p.name, p.email,
       (SELECT COUNT(*) FROM network_need n WHERE n.version_id = s.current_version_id),
       (SELECT COUNT(*) FROM network_dependency d WHERE d.version_id = s.current_version_id),
       (SELECT COUNT(*) FROM network_dependency d JOIN network_service c ON c.current_version_id = d.version_id
         WHERE d.provider_id = s.id)
FROM network_service s LEFT JOIN core_person p ON p.id = s.manager_id ORDER BY s.name LIMIT %s"""
    return _counted((sql, [ctx["api_limit"]["api_services"]]), ("SELECT COUNT(*) AS listed FROM network_service", []))


def api_assessments(ctx):
    sql = """
SELECT a.id, s.slug, s.name, s.lifecycle_stage, a.kind, a.stage, a.status, a.scheduled_for, a.published_at,
       a.result, a.outcome
FROM lifecycle_assessment a JOIN network_service s ON s.id = a.service_id
ORDER BY a.scheduled_for DESC, a.id DESC LIMIT %s"""
    return _counted((sql, [ctx["api_limit"]["api_assessments"]]),
                    ("SELECT COUNT(*) AS listed FROM lifecycle_assessment WHERE status <> 'cancelled'", []))


def api_fitness(ctx):
    return _counted((FITNESS_ROWS.format(where=""), [ctx["api_limit"]["api_fitness"]]),
                    ("SELECT COUNT(*) AS listed FROM fitness_metricseries WHERE current", []))


def _search_rows(word: str, limit: int):
    # the index is FTS5 on SQLite and a tsvector on PostgreSQL, so the one query that
    # fetches the page's rows is the search's own, as Django writes it for this database
    from osom.search.queries import search

    found = search(word)
    sql, params = found.values_list("kind", "title", "excerpt", "key", "service__name")[:limit].query.sql_with_params()
    count_sql, count_params = found.order_by().values("pk").query.sql_with_params()
    return _counted((sql, list(params)), (f"SELECT COUNT(*) AS listed FROM ({count_sql}) f", list(count_params)))


def search_page(ctx):
    from osom.search.views import PER_PAGE

    return _search_rows(ctx["word"], PER_PAGE)


def api_search(ctx):
    return _search_rows(ctx["word"], ctx["api_limit"]["api_search"])


def render_rows(rows) -> str:
    """A page at its plainest: one line of text per row."""
    return "\n".join(f"<tr><td>{'</td><td>'.join(str(v) for v in row)}</td></tr>" for row in rows)


def render_json(rows) -> str:
    """An API list at its plainest: the rows as JSON."""
    return json.dumps({"items": [list(row) for row in rows]}, default=str)


# target key → (how to build the query, how to render its rows)
FLOORS = {
    "network_list": (network_list, render_rows),
    "network_filtered": (network_filtered, render_rows),
    "search": (search, render_rows),
    "service_page": (service_page, render_rows),
    "reports": (reports, render_rows),
    "executive_dashboard": (executive_dashboard, render_rows),
    "manager_dashboard": (manager_dashboard, render_rows),
    "network_map": (network_map, render_rows),
    "impact": (impact, render_rows),
    "capital_flow": (capital_flow, render_rows),
    "capital_flow_kept": (capital_flow, render_rows),
    "heat_map": (heat_map, render_rows),
    "fitness": (fitness, render_rows),
    "fitness_words": (fitness_words, render_rows),
    "api_services": (api_services, render_json),
    "api_assessments": (api_assessments, render_json),
    "api_fitness": (api_fitness, render_json),
    "search_page": (search_page, render_rows),
    "api_search": (api_search, render_json),
}
