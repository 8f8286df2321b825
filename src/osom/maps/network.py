"""The map of the whole service network, drawn from the contracts rather than written.

Each service is a component. Its evolution comes from its contract's evolution stage: the
middle of that stage's band along the axis, services sharing a place spread across it. Its
visibility comes from its place in the value chain: services that meet external users at
the top, the services they consume below them, and so on down; a service sits one level
below the lowest of its consumers (the longest path from a top service). Services that
depend on each other in a cycle share a level. Services that no top service reaches are
placed by their own chain, starting one level below the top.

Runs in time linear in the number of services and dependencies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .statements import Component, Link, MapWarning, WardleyMap, clean_name, clean_text

_NAME_ROOM = 0.09  # of the evolution axis: room for one service's name beside the next
_ROW_STEP = 0.035  # of the visibility axis: at most this between rows of one place

__all__ = ["network_map", "network_names", "STAGE_BANDS", "USERS"]

# Where each evolution stage lies along the axis (the lines OnlineWardleyMaps draws).
STAGE_BANDS = {"genesis": (0.0, 0.175), "custom": (0.175, 0.40), "product": (0.40, 0.70), "commodity": (0.70, 1.0)}
_STAGE_ALIASES = {"custom-built": "custom", "custom_built": "custom", "custom built": "custom",
                  "product (+rental)": "product", "rental": "product", "commodity (+utility)": "commodity",
                  "utility": "commodity"}
USERS = "Users"  # the anchor above the services that meet external users
_TOP, _BOTTOM = 0.88, 0.05  # visibility of the first and the last level
_INNER = 0.15  # the share of a band left empty on each side, so stages stay apart


def _get(node, attribute: str, default=None):
    if type(node) is dict or isinstance(node, Mapping):
        return node.get(attribute, default)
    return getattr(node, attribute, default)


def _stage(value) -> str | None:
    text = str(value or "").strip().lower()
    text = _STAGE_ALIASES.get(text, text)
    return text if text in STAGE_BANDS else None


def network_names(nodes: Iterable) -> dict:
    """Each node's key → the name its component has on the map: the service's name made
    safe for map text (see :func:`clean_name`), with `` (2)``, `` (3)``… after a name
    already taken. ``Users`` is kept for the anchor."""
    names: dict = {}
    taken = {USERS}
    for node in nodes:
        key = _get(node, "key")
        if key in names:
            continue
        base = clean_name(_get(node, "name") or "") or clean_name(str(key)) or "Service"
        name, n = base, 2
        while name in taken:
            name = f"{base} ({n})"
            n += 1
        taken.add(name)
        names[key] = name
    return names


def _components(successors: list[list[int]]) -> tuple[list[int], int]:
    """Strongly connected components (Tarjan's, without recursion): each node's component
    number, and how many there are. A component is numbered after every component it reaches."""
    count = len(successors)
    index = [0] * count  # the order a node was first reached, from 1; 0 while not yet reached
    low = [0] * count
    comp = [-1] * count  # a node reached but not yet in a component is on the stack
    next_edge = [0] * count
    stack: list[int] = []
    path: list[int] = []
    counter = 1
    found = 0
    for root in range(count):
        if index[root]:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        path.append(root)
        while path:
            v = path[-1]
            edges = successors[v]
            i = next_edge[v]
            while i < len(edges):
                w = edges[i]
                i += 1
                if not index[w]:
                    next_edge[v] = i
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    path.append(w)
                    break
                if comp[w] < 0 and index[w] < low[v]:
                    low[v] = index[w]
            else:
                next_edge[v] = i
                path.pop()
                if path and low[v] < low[path[-1]]:
                    low[path[-1]] = low[v]
                if low[v] == index[v]:
                    while True:
                        w = stack.pop()
                        comp[w] = found
                        if w == v:
                            break
                    found += 1
    return comp, found


def _depths(edges_out: list[list[int]], top: list[bool]) -> list[int]:
    """Each node's level: 0 for the top, then one below the lowest consumer."""
    comp, count = _components(edges_out)
    comp_top = [False] * count
    for node, is_top in enumerate(top):
        if is_top:
            comp_top[comp[node]] = True
    successors: list[set[int]] = [set() for _ in range(count)]
    for node, providers in enumerate(edges_out):
        for provider in providers:
            if comp[provider] != comp[node]:
                successors[comp[node]].add(comp[provider])
    reached = comp_top[:]
    depth = [0] * count
    # Tarjan numbers a component after every component it reaches: counting down visits
    # each consumer before its providers.
    for c in range(count - 1, -1, -1):
        for s in successors[c]:
            if reached[c]:
                if not reached[s]:
                    reached[s] = True
                    depth[s] = depth[c] + 1
                elif depth[c] + 1 > depth[s]:
                    depth[s] = depth[c] + 1
            elif not reached[s] and depth[c] + 1 > depth[s]:
                depth[s] = depth[c] + 1
    shift = 1 if any(comp_top) else 0
    return [depth[comp[n]] + (0 if reached[comp[n]] else shift) for n in range(len(edges_out))]


def network_map(nodes: Iterable, edges: Iterable[tuple], *, title: str = "Service network") -> WardleyMap:
    """A map of the service network. ``nodes`` are mappings or objects with ``key``,
    ``name``, ``evolution_stage`` (genesis, custom, product or commodity) and ``external``
    (the service meets external users); ``edges`` are ``(consumer_key, provider_key)``."""
    nodes = list(nodes)
    names = network_names(nodes)
    keys = list(names)
    position = {key: i for i, key in enumerate(keys)}
    node_of = {}
    for node in nodes:
        node_of.setdefault(_get(node, "key"), node)
    warnings: list[MapWarning] = []
    unknown: dict = {}
    edges_out: list[list[int]] = [[] for _ in keys]
    seen: set[int] = set()
    where, size = position.get, len(keys)
    for consumer, provider in edges:
        a, b = where(consumer), where(provider)
        if a is None or b is None:
            missing = consumer if a is None else provider
            unknown[missing] = unknown.get(missing, 0) + 1
        elif a != b and (pair := a * size + b) not in seen:
            seen.add(pair)
            edges_out[a].append(b)
    for missing, count in list(unknown.items())[:20]:
        warnings.append(MapWarning(0, f"{count} dependencies name {missing!r}, which is not a service on the map; "
                                      "they are left out"))
    if len(unknown) > 20:
        warnings.append(MapWarning(0, f"dependencies name {len(unknown) - 20} more services that are not on the map"))
    top = [bool(_get(node_of[key], "external", False)) for key in keys]
    depth = _depths(edges_out, top)
    levels = max(depth, default=0)
    gap = (_TOP - _BOTTOM) / levels if levels else 0.0

    cells: dict[tuple[int, str], list[int]] = {}
    for i, key in enumerate(keys):
        stage = _stage(_get(node_of[key], "evolution_stage"))
        if stage is None:
            warnings.append(MapWarning(0, f"{names[key]} has no known evolution stage "
                                          f"({_get(node_of[key], 'evolution_stage')!r}); placed with the custom-built"))
            stage = "custom"
        cells.setdefault((depth[i], stage), []).append(i)

    # services sharing a place are spread in the order of their names
    name_of = [names[key] for key in keys]
    order = [0] * len(keys)
    for rank, i in enumerate(sorted(range(len(keys)), key=lambda i: (name_of[i].casefold(), name_of[i]))):
        order[i] = rank
    visibility = [0.0] * len(keys)
    evolution = [0.0] * len(keys)
    for (level, stage), members in cells.items():
        members.sort(key=order.__getitem__)
        start, end = STAGE_BANDS[stage]
        lo, hi = start + _INNER * (end - start), end - _INNER * (end - start)
        # a crowded place becomes a small grid: as many to a row as the band has room for
        # names, the rows stepping down inside the level's share of the height
        per_row = max(1, min(len(members), int((hi - lo) / _NAME_ROOM)))
        rows = -(-len(members) // per_row)
        step = min(_ROW_STEP, (gap if levels else _TOP - _BOTTOM) * 0.8 / rows) if rows > 1 else 0.0
        for rank, i in enumerate(members):
            row, column = divmod(rank, per_row)
            in_row = min(per_row, len(members) - row * per_row)
            shift = 0.5 if row % 2 and in_row == per_row and per_row > 1 else 0.0  # alternate rows stagger
            if per_row == 1 and len(members) > 1:
                # a narrow band: one to a row, zig-zagging across it so the rows stay apart
                lanes = min(len(members), 5)
                evolution[i] = round(lo + (row % lanes + 0.5) * (hi - lo) / lanes, 4)
            else:
                evolution[i] = round(lo + (column + 0.5 + shift * 0.5) * (hi - lo) / in_row, 4)
            visibility[i] = round(_TOP - level * gap - row * step, 4)

    wmap = WardleyMap(title=clean_text(title) or None)
    if any(top):
        wmap.components.append(Component(USERS, 0.97, 0.5, kind="anchor"))
    wmap.components.extend(Component(name_of[i], visibility[i], evolution[i]) for i in range(len(keys)))
    wmap.links.extend(Link(USERS, name_of[i]) for i in range(len(keys)) if top[i])
    wmap.links.extend(Link(name_of[a], name_of[b]) for a, providers in enumerate(edges_out) for b in providers)
    wmap.warnings = warnings
    return wmap
