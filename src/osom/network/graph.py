"""The dependency graph of the current contracts (model 3, 5.4): a service's
neighbourhood, who is affected when a service fails, and the cycles in the network.

The graph is read in one query (every current dependency) and held as plain adjacency
lists, which at tens of thousands of services is faster than building a networkx graph
for a single walk."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from django.db import connection

from .models import Dependency, Service
from .queries import current_edges
from .stages import Lifecycle

__all__ = ["Graph", "load_graph", "Neighbourhood", "Impact", "impact_of"]


@dataclass
class Neighbourhood:
    """Services within ``hops`` of a centre: ``distance`` from the centre, by id, with
    the edges among them (consumer, provider)."""

    centre: int
    hops: int
    distance: dict[int, int]
    edges: list[tuple[int, int]]
    truncated: bool = False


@dataclass
class Impact:
    """Who is affected if a service fails: every service that consumes it, directly or
    through others, with the length of the shortest chain and one such chain."""

    failed: int
    direct: list[int]
    affected: dict[int, int]  # service id -> hops from the failed service
    via: dict[int, int] = field(default_factory=dict)  # service id -> the provider it reaches the failure through

    def chain(self, service_id: int) -> list[int]:
        """The consumer-first chain from ``service_id`` down to the failed service."""
        path = [service_id]
        while path[-1] != self.failed and path[-1] in self.via:
            path.append(self.via[path[-1]])
        return path


class Graph:
    def __init__(self, edges: list[tuple[int, int]]):
        self.provides_to: dict[int, list[int]] = defaultdict(list)  # provider -> consumers
        self.consumes: dict[int, list[int]] = defaultdict(list)  # consumer -> providers
        for consumer, provider in edges:
            self.consumes[consumer].append(provider)
            self.provides_to[provider].append(consumer)
        self.edges = edges

    def neighbourhood(self, centre: int, hops: int, *, limit: int = 400) -> Neighbourhood:
        """Services up to ``hops`` dependencies away in either direction, nearest first;
        at most ``limit`` of them (a hub's neighbourhood can be most of the network)."""
        distance = {centre: 0}
        queue = deque([centre])
        truncated = False
        while queue:
            node = queue.popleft()
            if distance[node] >= hops:
                continue
            for nxt in self.consumes.get(node, []) + self.provides_to.get(node, []):
                if nxt not in distance:
                    if len(distance) >= limit:
                        truncated = True
                        break
                    distance[nxt] = distance[node] + 1
                    queue.append(nxt)
        inside = set(distance)
        edges = [(c, p) for c in inside for p in self.consumes.get(c, []) if p in inside]
        return Neighbourhood(centre, hops, distance, sorted(edges), truncated)

    def impact(self, failed: int) -> Impact:
        """Breadth-first up the consumers of ``failed``: everything that depends on it."""
        affected: dict[int, int] = {}
        via: dict[int, int] = {}
        queue = deque([failed])
        seen = {failed}
        while queue:
            node = queue.popleft()
            for consumer in self.provides_to.get(node, []):
                if consumer not in seen:
                    seen.add(consumer)
                    affected[consumer] = affected.get(node, 0) + 1
                    via[consumer] = node
                    queue.append(consumer)
        direct = sorted(c for c, d in affected.items() if d == 1)
        return Impact(failed, direct, affected, via)

    def cycles(self, *, limit: int = 200) -> list[list[int]]:
        """The strongly connected parts of the network with more than one service (or a
        service that consumes itself), each as one cycle through its members: the
        dependencies that make the network not a hierarchy. Tarjan's algorithm,
        iterative so a long chain cannot exhaust the stack."""
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set[int] = set()
        stack: list[int] = []
        components: list[list[int]] = []
        counter = 0
        nodes = set(self.consumes) | set(self.provides_to)
        for root in sorted(nodes):
            if root in index:
                continue
            work = [(root, iter(self.consumes.get(root, [])))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children = work[-1]
                advanced = False
                for child in children:
                    if child not in index:
                        index[child] = low[child] = counter
                        counter += 1
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(self.consumes.get(child, []))))
                        advanced = True
                        break
                    if child in on_stack:
                        low[node] = min(low[node], index[child])
                if advanced:
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    members = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == node:
                            break
                    if len(members) > 1 or node in self.consumes.get(node, []):
                        components.append(self._cycle_in(set(members)))
        components.sort(key=lambda c: (-len(c), c))
        return components[:limit]

    def _cycle_in(self, members: set[int]) -> list[int]:
        """One cycle through the smallest member of a strongly connected part, found by a
        breadth-first search back to it; it starts and ends with that member."""
        start = min(members)
        parent: dict[int, int] = {}
        queue = deque([start])
        seen = {start}
        while queue:
            node = queue.popleft()
            for nxt in self.consumes.get(node, []):
                if nxt not in members:
                    continue
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return list(reversed(path)) + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    parent[nxt] = node
                    queue.append(nxt)
        return [start, start]


def load_graph() -> Graph:
    """The graph of today's approved contracts, in one query."""
    return Graph(current_edges())


# Each row is a dependency (consumer, provider) met on the way up, so the walk's edges come
# with it: no second pass over the dependencies. The first row is the failed service itself.
_UPWARDS = (
    "WITH RECURSIVE up(id, provider) AS ("
    "SELECT id, id FROM {service} WHERE id = %s "
    "UNION SELECT s.id, up.id FROM up JOIN {dependency} d ON d.provider_id = up.id "
    "JOIN {service} s ON s.current_version_id = d.version_id WHERE s.lifecycle_stage <> %s) "
    "SELECT up.id, up.provider, s.name, s.lifecycle_stage, s.user_type FROM up "
    "JOIN {service} s ON s.id = up.id WHERE up.id <> up.provider "
    "ORDER BY up.provider, up.id"
)


def impact_of(failed: int) -> tuple[Impact, dict[int, tuple[str, str, str]]]:
    """Who is affected if the service ``failed`` fails, among the running services: one
    recursive query finds every running service that consumes it, directly or through
    others, with the current dependencies that lead there; the hops and one shortest chain
    each are then walked over those dependencies only, as :meth:`Graph.impact` walks them
    (consumers in the order of their ids). Also returns each affected service's name,
    lifecycle stage and kind of users, read by the same query."""
    sql = _UPWARDS.format(service=Service._meta.db_table, dependency=Dependency._meta.db_table)
    gone = Lifecycle.DECOMMISSIONED.value
    with connection.cursor() as cursor:
        cursor.execute(sql, [failed, gone])
        rows = cursor.fetchall()
    found = {c: (name, stage, users) for c, _p, name, stage, users in rows}
    return Graph([(c, p) for c, p, *_rest in rows]).impact(failed), found


def names_of(ids) -> dict[int, Service]:
    """The services with these ids, in one query (name, slug, stages and manager)."""
    return Service.objects.select_related("manager").in_bulk(list(ids))
