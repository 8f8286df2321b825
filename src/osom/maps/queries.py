"""Reads for the map pages: a service's map versions, the services and links the network
map is drawn from, and the dependency graph seen from one service (its neighbourhood,
who is affected if it fails) or as a whole (its cycles).

Every read makes a fixed number of queries whatever the size of the network. The map
around one service and the impact of a service read only their part of the network, by
recursive queries; the whole map, a neighbourhood and the cycles read the services in one
query and the current dependencies in another (:func:`osom.network.queries.current_edges`)
and walk them in memory."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Max

from osom.network.graph import Graph, Impact, impact_of, names_of
from osom.network.models import ContractVersion, Dependency, Service
from osom.network.queries import current_edges
from osom.network.stages import Evolution, Lifecycle, UserType

from .models import MapVersion
from .statements import Component, Link, clean_name, clean_text, format_statement

__all__ = [
    "DRAWING_CAP",
    "current_map",
    "map_versions",
    "latest_number",
    "NetworkSelection",
    "network_selection",
    "NeighbourhoodView",
    "neighbourhood_view",
    "ImpactView",
    "impact_view",
    "CycleView",
    "cycles_view",
    "map_skeleton",
]

# Beyond this many services a drawing stops being readable (and costs seconds to lay
# out and send): the page says how many matched and suggests a filter.
DRAWING_CAP = 300
EXTERNAL = (UserType.EXTERNAL, UserType.BOTH)


# ---------------------------------------------------------------- a service's map

def current_map(service: Service) -> MapVersion | None:
    """The service's highest-numbered map version, with who saved it; one query."""
    return (MapVersion.objects.filter(service=service).select_related("saved_by").order_by("-number").first())


def map_versions(service: Service):
    """Every version of the service's map, newest first, with who saved each (to paginate)."""
    return MapVersion.objects.filter(service=service).select_related("saved_by").order_by("-number")


def latest_number(service: Service) -> int:
    """The number of the service's current map version, 0 when it has none."""
    return MapVersion.objects.filter(service=service).aggregate(n=Max("number"))["n"] or 0


# ---------------------------------------------------------------- the network map

@dataclass
class NetworkSelection:
    """The services (as the nodes :func:`osom.maps.network.network_map` takes) and the
    dependencies among them that a network map draws.

    ``matched`` services passed the filters; ``nodes`` holds at most the cap of them
    (``capped`` says when some were left out); ``running`` counts every service not
    decommissioned. ``around`` is the service whose providers were kept, if any."""

    nodes: list[dict]
    edges: list[tuple[int, int]]
    matched: int
    running: int
    capped: bool = False
    around: dict | None = None
    not_found: bool = False


_BELOW = (
    "WITH RECURSIVE below(id) AS ("
    "SELECT id FROM {service} WHERE id = %s "
    "UNION SELECT d.provider_id FROM below JOIN {service} s ON s.id = below.id "
    "JOIN {dependency} d ON d.version_id = s.current_version_id "
    "JOIN {service} p ON p.id = d.provider_id WHERE p.lifecycle_stage <> %s) "
)


def _tables() -> dict[str, str]:
    return {"service": Service._meta.db_table, "dependency": Dependency._meta.db_table}


def _below(centre: int) -> tuple[list[tuple], list[tuple[int, int]]]:
    """``centre`` and every running service it depends on, directly or through others,
    by name (the columns a network selection keeps), and the current dependencies among
    them: two recursive queries that read only that part of the network."""
    head = _BELOW.format(**_tables())
    gone = Lifecycle.DECOMMISSIONED.value
    with connection.cursor() as cursor:
        cursor.execute(head + "SELECT s.id, s.name, s.slug, s.lifecycle_stage, s.evolution_stage, s.user_type "
                       "FROM {service} s WHERE s.id IN (SELECT id FROM below) ORDER BY s.name".format(**_tables()),
                       [centre, gone])
        rows = [tuple(row) for row in cursor.fetchall()]
        cursor.execute(head + "SELECT DISTINCT s.id, d.provider_id FROM below JOIN {service} s ON s.id = below.id "
                       "JOIN {dependency} d ON d.version_id = s.current_version_id "
                       "JOIN {service} p ON p.id = d.provider_id "
                       "WHERE p.lifecycle_stage <> %s AND p.id <> s.id".format(**_tables()),
                       [centre, gone, gone])
        edges = [(c, p) for c, p in cursor.fetchall()]
    return rows, edges


def network_selection(*, around: str = "", stage: str = "", evolution: str = "", q: str = "",
                      cap: int = DRAWING_CAP) -> NetworkSelection:
    """The part of the running network a map shows: every service not decommissioned,
    limited to ``around`` (a slug) and what it depends on transitively, and to a lifecycle
    ``stage``, an ``evolution`` stage and names containing ``q``; the dependencies among
    the services kept. Two queries (the services, the current dependencies); around a
    service four, which read only the part of the network below it (:func:`_below`)."""
    running_services = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
    if around:
        centre = running_services.filter(slug=around).values_list("pk", "name", "slug").first()
        selection = NetworkSelection(nodes=[], edges=[], matched=0, running=running_services.count())
        if centre is None:
            selection.not_found = True
            return selection
        selection.around = {"pk": centre[0], "name": centre[1], "slug": centre[2]}
        kept, edges = _below(centre[0])
    else:
        rows = list(running_services.order_by("name")
                    .values_list("pk", "name", "slug", "lifecycle_stage", "evolution_stage", "user_type"))
        live = {row[0] for row in rows}
        edges = [(c, p) for c, p in current_edges() if c in live and p in live and c != p]
        selection = NetworkSelection(nodes=[], edges=[], matched=0, running=len(rows))
        kept = rows
    if stage:
        kept = [row for row in kept if row[3] == stage]
    if evolution:
        kept = [row for row in kept if row[4] == evolution]
    if q:
        needle = q.casefold()
        kept = [row for row in kept if needle in row[1].casefold()]
    selection.matched = len(kept)
    if len(kept) > cap:
        # the services that meet external users first: they head the value chain
        kept = sorted(kept, key=lambda row: (row[5] not in EXTERNAL, row[1].casefold()))[:cap]
        selection.capped = True
    ids = {row[0] for row in kept}
    selection.nodes = [{"key": pk, "name": name, "slug": slug, "evolution_stage": evo, "external": users in EXTERNAL}
                       for pk, name, slug, _stage, evo, users in kept]
    selection.edges = sorted({(c, p) for c, p in edges if c in ids and p in ids})
    return selection


# ---------------------------------------------------------------- the dependency graph

def _decommissioned_ids() -> set[int]:
    return set(Service.objects.filter(lifecycle_stage=Lifecycle.DECOMMISSIONED).values_list("pk", flat=True))


def _running_graph(gone: set[int], keep: int | None = None) -> Graph:
    """The graph of the current contracts without the decommissioned services (they no
    longer operate, so nothing flows through them), ``keep`` excepted."""
    gone = gone - {keep}
    return Graph([(c, p) for c, p in current_edges() if c not in gone and p not in gone])


@dataclass
class GraphNode:
    service: Service
    distance: int  # dependencies away from the centre, either way
    layer: int  # signed: negative above (its consumers' side), positive below (its providers' side)
    relation: str  # "centre", "consumer", "provider" or "related" (reached both ways)


@dataclass
class NeighbourhoodView:
    centre: Service
    hops: int
    nodes: list[GraphNode]
    edges: list[tuple[int, int]]
    truncated: bool

    def _nearest_first(self, relation: str) -> list[GraphNode]:
        return sorted((n for n in self.nodes if n.relation == relation),
                      key=lambda n: (n.distance, n.service.name.casefold()))

    @property
    def consumers(self) -> list[GraphNode]:
        return self._nearest_first("consumer")

    @property
    def providers(self) -> list[GraphNode]:
        return self._nearest_first("provider")

    @property
    def related(self) -> list[GraphNode]:
        return self._nearest_first("related")


def _signed_layers(centre: int, members: set[int], edges: list[tuple[int, int]]) -> tuple[dict[int, int], dict[int, str]]:
    """Each member's layer: one down for each step to a provider, one up for each step to
    a consumer, along a shortest path from the centre. A member reached only upwards is a
    consumer (direct or through others), only downwards a provider; a service reached
    through both (another consumer of one of its providers, say) is related."""
    down: dict[int, list[int]] = {}
    up: dict[int, list[int]] = {}
    for c, p in edges:
        down.setdefault(c, []).append(p)
        up.setdefault(p, []).append(c)
    layer = {centre: 0}
    relation = {centre: "centre"}
    queue = deque([centre])
    while queue:
        node = queue.popleft()
        steps = [(p, 1, "provider") for p in sorted(down.get(node, ()))] + \
                [(c, -1, "consumer") for c in sorted(up.get(node, ()))]
        for nxt, step, way in steps:
            if nxt in layer or nxt not in members:
                continue
            layer[nxt] = layer[node] + step
            came = relation[node]
            relation[nxt] = way if came in ("centre", way) else "related"
            queue.append(nxt)
    return layer, relation


def neighbourhood_view(service: Service, hops: int) -> NeighbourhoodView:
    """The services within ``hops`` dependencies of ``service``, either way, with their
    layers for drawing and the dependencies among them. Three queries (the decommissioned
    services, the current dependencies, the services reached)."""
    graph = _running_graph(_decommissioned_ids(), keep=service.pk)
    near = graph.neighbourhood(service.pk, hops)
    layer, relation = _signed_layers(service.pk, set(near.distance), near.edges)
    found = names_of(near.distance)
    found[service.pk] = service
    nodes = [GraphNode(found[i], near.distance[i], layer.get(i, 0), relation.get(i, "related"))
             for i in near.distance if i in found]
    nodes.sort(key=lambda n: (n.layer, n.distance, n.service.name.casefold()))
    return NeighbourhoodView(service, hops, nodes, near.edges, near.truncated)


@dataclass
class AffectedRow:
    service: Service
    hops: int
    chain: list[Service]  # from this service down to the one that failed


@dataclass
class ImpactView:
    """If ``failed`` fails: every running service affected (``affected``: id -> hops,
    1 for its direct consumers), how many per lifecycle stage, and how many of them meet
    external users. ``order`` lists the affected ids nearest first, then by name; the
    services themselves are read only for the rows a page shows (:meth:`rows`)."""

    failed: Service
    affected: dict[int, int]
    order: list[int]
    by_stage: list[tuple[str, str, int]]
    external_reached: int
    failed_meets_external: bool
    _impact: Impact = field(repr=False, default=None)

    @property
    def total(self) -> int:
        return len(self.affected)

    @property
    def direct_ids(self) -> list[int]:
        return [i for i in self.order if self.affected[i] == 1]

    @property
    def deepest(self) -> int:
        return max(self.affected.values(), default=0)

    def rows(self, ids) -> list[AffectedRow]:
        """The affected services ``ids`` with one chain each, in one query."""
        ids = [i for i in ids if i in self.affected]
        chains = {i: self._impact.chain(i) for i in ids}
        wanted = set(ids).union(*chains.values()) - {self.failed.pk}
        found = names_of(wanted) if wanted else {}
        found[self.failed.pk] = self.failed
        return [AffectedRow(found[i], self.affected[i], [found[j] for j in chains[i] if j in found])
                for i in ids if i in found]


def impact_view(service: Service) -> ImpactView:
    """Who is affected if ``service`` fails: up its consumers among the running services
    (:func:`osom.network.graph.impact_of`). One recursive query, which reads only the
    affected part of the network."""
    impact, found = impact_of(service.pk)
    affected = {i: h for i, h in impact.affected.items() if i != service.pk}
    counts: dict[str, int] = {}
    external = 0
    for i in affected:
        _name, stage, users = found[i]
        counts[stage] = counts.get(stage, 0) + 1
        external += users in EXTERNAL
    by_stage = [(value, label, counts.get(value, 0)) for value, label in Lifecycle.choices
                if value != Lifecycle.DECOMMISSIONED]
    order = sorted(affected, key=lambda i: (affected[i], found[i][0].casefold()))
    return ImpactView(service, affected, order, by_stage, external, service.user_type in EXTERNAL, impact)


@dataclass
class CycleView:
    cycles: list[list[Service]]  # each starts and ends with the same service
    services_in_cycles: int


def cycles_view(*, limit: int = 200) -> CycleView:
    """The dependency cycles among running services, each as one chain through all of a
    strongly connected part. Three queries."""
    graph = _running_graph(_decommissioned_ids())
    cycles = graph.cycles(limit=limit)
    found = names_of({i for cycle in cycles for i in cycle})
    chains = [[found[i] for i in cycle if i in found] for cycle in cycles]
    return CycleView(chains, len({i for cycle in cycles for i in cycle}))


# The evolution stages in the order of the axis, for filters and legends.
EVOLUTION_ORDER = [value for value, _label in Evolution.choices]


# ---------------------------------------------------------------- a first map

# Where a component of each evolution stage starts on a first map: the band of its stage
# on the evolution axis (the stage lines of OnlineWardleyMaps, 0.175, 0.40 and 0.70).
STAGE_BANDS = {"genesis": (0.0, 0.175), "custom": (0.175, 0.40), "product": (0.40, 0.70), "commodity": (0.70, 1.0)}


def _spread(band: tuple[float, float], count: int) -> list[float]:
    low, high = band
    return [round(low + (high - low) * (i + 1) / (count + 1), 2) for i in range(count)]


def map_skeleton(service: Service) -> str:
    """A first map for a service drawn from its contract: its users as anchors at the top,
    the service below them at its evolution stage, and the services it consumes below
    that, each at its own stage, linked as the contract says. Its needs are written as
    comments, so the manager can see what the map has to serve. Two queries."""
    version = (ContractVersion.objects.filter(pk=service.current_version_id).first() if service.current_version_id
               else service.versions.order_by("-number").first())
    needs, providers = [], []
    if version is not None:
        version = (ContractVersion.objects.prefetch_related("needs", "dependencies__provider").get(pk=version.pk))
        needs = list(version.needs.all())
        providers = sorted((d.provider for d in version.dependencies.all()), key=lambda p: p.name.casefold())
    name = clean_name(service.name)
    taken = {name}
    users: list[str] = []
    for need in needs:
        user = clean_name(need.as_a[:1].upper() + need.as_a[1:])
        if user and user not in taken:
            users.append(user)
            taken.add(user)
    lines = [f"title {clean_text(service.name)}",
             "// A first map, drawn from the contract.",
             "// [visibility, evolution]: visibility 1 = seen by users,",
             "// 0 = hidden; evolution 0 = genesis, 1 = commodity.",
             "// Move each component to where it is, and add",
             "// the components the service is built from.",
             ""]
    if needs:
        lines.append("// Its users' needs:")
        for need in needs:
            said = clean_text(f"{need.as_a[:1].upper()}{need.as_a[1:]}: {need.i_need}")
            lines.append("// " + (said if len(said) <= 56 else said[:55].rstrip() + "…"))
        lines.append("")
    components = []
    for i, (user, evolution) in enumerate(zip(users, _spread((0.1, 0.9), len(users)))):
        # every other user a little lower, so that long names side by side stay apart
        components.append(Component(user, round(0.95 - 0.06 * (i % 2), 2), evolution, kind="anchor"))
    band = STAGE_BANDS.get(service.evolution_stage, STAGE_BANDS["custom"])
    components.append(Component(name, 0.75, round((band[0] + band[1]) / 2, 2)))
    provider_names = []
    for stage, stage_band in STAGE_BANDS.items():
        group = [p for p in providers if p.evolution_stage == stage]
        for i, (provider, evolution) in enumerate(zip(group, _spread(stage_band, len(group)))):
            provider_name = clean_name(provider.name)
            if provider_name in taken:
                continue
            taken.add(provider_name)
            provider_names.append(provider_name)
            components.append(Component(provider_name, round(0.45 - 0.1 * (i % 2), 2), evolution))
    links = [Link(user, name) for user in users] + [Link(name, p) for p in provider_names]
    for statement in components:
        lines += format_statement(statement)
    lines.append("")
    for statement in links:
        lines += format_statement(statement)
    return "\n".join(lines) + "\n"
