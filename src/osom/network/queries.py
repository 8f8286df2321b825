"""Reads shared by pages, the API and exports. Query counts stay constant in the
number of services: lists paginate and aggregate in SQL."""

from __future__ import annotations

from collections import defaultdict, deque

from django.db import connection
from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, Subquery, Window

from osom.core.numbers import as_id
from .models import Appointment, ContractVersion, Dependency, Metric, Need, Service, TeamMembership
from .stages import Lifecycle, VersionStatus

__all__ = [
    "open_draft",
    "flagged_for_decommissioning",
    "network_list",
    "current_edges",
    "cycle_through",
    "service_detail",
    "consumers_of",
    "consumer_rows",
    "CONSUMERS_SHOWN",
    "version_detail",
]

# How many consumers a service's page names; the rest are on its consumers page.
CONSUMERS_SHOWN = 20


def open_draft(service: Service) -> ContractVersion | None:
    """The service's draft or submitted version, if one is open."""
    return (
        service.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.SUBMITTED])
        .order_by("-number")
        .first()
    )


def flagged_for_decommissioning(qs=None):
    """Services flagged for decommissioning and not yet decommissioned (a decommissioned
    service's flag has done its work)."""
    qs = Service.objects.all() if qs is None else qs
    return qs.exclude(decommission_flag="").exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)


class _Rows(Func):
    """``COUNT(*)`` as a plain function: counted over every row the query keeps, with no
    ``GROUP BY`` (an aggregate would group the rows, and then need ``LIMIT 1`` and a
    ``COALESCE`` for the services with none)."""

    function = "COUNT"
    template = "%(function)s(*)"
    arity = 0
    output_field = IntegerField()


def _count_subquery(qs):
    """How many rows a correlated queryset finds, as one scalar subquery: always a number."""
    return Subquery(qs.order_by().annotate(c=_Rows()).values("c"))


def network_list(*, q: str = "", stage: str = "", evolution: str = "", manager: str = "", users: str = "",
                 flagged: bool | None = None):
    """Services with their manager and the counts the list shows, filtered; ``flagged``
    True keeps only the services flagged for decommissioning, False only the others.

    One query for the rows (plus one for the count when paginated): consumes and
    consumed-by are counted by correlated subqueries on the current versions.
    """
    qs = Service.objects.select_related("manager")
    if q:
        # every word begins a word of the name, slug or summary, from the search index
        from osom.search.queries import service_ids

        qs = qs.filter(pk__in=service_ids(q))
    if stage:
        qs = qs.filter(lifecycle_stage=stage)
    if evolution:
        qs = qs.filter(evolution_stage=evolution)
    if users:
        if users in ("external", "internal"):
            qs = qs.filter(user_type__in=[users, "both"])
        else:
            qs = qs.filter(user_type=users)
    if flagged:
        qs = flagged_for_decommissioning(qs)
    elif flagged is not None:
        qs = qs.filter(Q(decommission_flag="") | Q(lifecycle_stage=Lifecycle.DECOMMISSIONED))
    if manager == "none":
        qs = qs.filter(manager__isnull=True)
    elif manager:
        qs = qs.filter(manager_id=as_id(manager)) if as_id(manager) else qs.filter(manager__email__iexact=manager.strip())
    # a consumer is a service whose current version names this one: looked up by its
    # current version, not reached through the version's row and back
    consumed_by = Dependency.objects.filter(Exists(Service.objects.filter(current_version=OuterRef("version"))),
                                            provider=OuterRef("pk"))
    qs = qs.annotate(
        consumes_count=_count_subquery(Dependency.objects.filter(version=OuterRef("current_version_id"))),
        consumed_by_count=_count_subquery(consumed_by),
        needs_count=_count_subquery(Need.objects.filter(version=OuterRef("current_version_id"))),
    )
    return qs.order_by("name")


def current_edges() -> list[tuple[int, int]]:
    """Every (consumer, provider) pair of the current approved contracts, in one query."""
    return list(
        Dependency.objects.filter(version__service__current_version=F("version")).values_list(
            "version__service_id", "provider_id"
        )
    )


def _tables() -> dict[str, str]:
    return {"service": Service._meta.db_table, "dependency": Dependency._meta.db_table}


def _edges_below(starts: set[int], stop: int) -> list[tuple[int, int]]:
    """The current dependencies (consumer, provider) among the services reachable from
    ``starts`` by following providers, without walking on from ``stop``; one recursive
    query, so only that part of the network is read."""
    if not starts:
        return []
    marks = ", ".join(["%s"] * len(starts))
    sql = (
        "WITH RECURSIVE below(id) AS (SELECT id FROM {service} WHERE id IN ({marks}) UNION "
        "SELECT d.provider_id FROM below JOIN {service} s ON s.id = below.id "
        "JOIN {dependency} d ON d.version_id = s.current_version_id WHERE below.id <> %s) "
        "SELECT s.id, d.provider_id FROM below JOIN {service} s ON s.id = below.id "
        "JOIN {dependency} d ON d.version_id = s.current_version_id WHERE below.id <> %s"
    ).format(marks=marks, **_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sorted(starts), stop, stop])
        return [(c, p) for c, p in cursor.fetchall()]


def cycle_through(service: Service, *, extra_edges: list[tuple[int, int]] = (), draft: ContractVersion | None = None) -> list[str]:
    """Names of a shortest dependency cycle through ``service``, or [] if there is none.

    The graph is today's approved contracts, with ``extra_edges`` added (a draft's new
    dependencies), so a cycle is reported when it is drafted, not only once approved.
    Only the part of the network below the service is read (:func:`_edges_below`), with
    the whole network read instead when ``extra_edges`` link other services.
    """
    start = service.pk
    graph: dict[int, set[int]] = defaultdict(set)
    if any(a != start for a, _b in extra_edges):
        edges = current_edges()
    else:
        if draft is not None:
            own = set(draft.dependencies.values_list("provider_id", flat=True))
        else:
            own = set(Dependency.objects.filter(version__service=service, version=F("version__service__current_version"))
                      .values_list("provider_id", flat=True))
        own |= {b for _a, b in extra_edges}
        edges = [(start, p) for p in own] + [(c, p) for c, p in _edges_below(own - {start}, start) if c != start]
    for a, b in edges:
        graph[a].add(b)
    if draft is not None:
        graph[service.pk] = set(draft.dependencies.values_list("provider_id", flat=True))
    for a, b in extra_edges:
        graph[a].add(b)
    parent: dict[int, int] = {}
    queue = deque([start])
    seen = {start}
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                ids = list(reversed(path)) + [start]
                names = dict(Service.objects.filter(pk__in=set(ids)).values_list("pk", "name"))
                return [names[i] for i in ids]
            if nxt not in seen:
                seen.add(nxt)
                parent[nxt] = node
                queue.append(nxt)
    return []


def _version_prefetches():
    return [
        Prefetch("metrics", queryset=Metric.objects.order_by("position", "pk")),
        Prefetch("needs", queryset=Need.objects.order_by("position", "pk").prefetch_related("metrics")),
        Prefetch("dependencies", queryset=Dependency.objects.select_related("provider", "provider__manager").order_by("provider__name")),
    ]


def version_detail(service: Service, number: int) -> ContractVersion:
    return (
        ContractVersion.objects.select_related("created_by", "approved_by", "service")
        .prefetch_related(*_version_prefetches())
        .get(service=service, number=number)
    )


def consumers_of(service: Service):
    """Services whose current approved contract consumes ``service``."""
    return (
        Dependency.objects.filter(provider=service, version__service__current_version=F("version"))
        .select_related("version__service", "version__service__manager")
        .order_by("version__service__name")
    )


def consumer_rows(service: Service):
    """The consumers of ``service`` on their current contracts as plain rows (slug, name,
    lifecycle stage, what they consume it for), by name: for pages that list them."""
    return (
        Dependency.objects.filter(provider=service, version__service__current_version=F("version"))
        .order_by("version__service__name", "pk")
        .values("note", slug=F("version__service__slug"), name=F("version__service__name"),
                lifecycle_stage=F("version__service__lifecycle_stage"))
    )


def _consumers(service: Service, limit: int | None) -> dict:
    if limit is None:
        return {"consumers": list(consumers_of(service))}
    # the count of them all rides on the rows (a window is counted before the limit)
    rows = list(consumer_rows(service).annotate(total=Window(Count("pk")))[:limit])
    return {"consumers": rows, "consumers_total": rows[0]["total"] if rows else 0}


def service_detail(slug: str, *, consumers: int | None = None) -> dict:
    """Everything the service page shows, in a fixed number of queries.

    With ``consumers=N`` only the first N consumers are read, as rows
    (:func:`consumer_rows`), with ``consumers_total`` counting them all; without it
    every consumer is read as a dependency with its consumer (the API lists them all)."""
    service = Service.objects.select_related("manager", "decommission_flagged_by").get(slug=slug)
    current = None
    if service.current_version_id:
        current = (
            ContractVersion.objects.select_related("created_by", "approved_by")
            .prefetch_related(*_version_prefetches())
            .get(pk=service.current_version_id)
        )
    versions = list(
        service.versions.select_related("created_by", "approved_by").order_by("-number")
    )
    appointments = list(Appointment.objects.filter(service=service).select_related("person", "appointed_by").order_by("-started_at", "-pk"))
    team = list(
        TeamMembership.objects.filter(service=service, ended_at__isnull=True)
        .select_related("person", "role")
        .order_by("person__name")
    )
    return {
        "service": service,
        "current": current,
        "versions": versions,
        "open_draft": next((v for v in versions if v.status != VersionStatus.APPROVED), None),
        **_consumers(service, consumers),
        "appointments": appointments,
        "team": team,
    }
