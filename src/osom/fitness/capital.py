"""Capital flow by the reciprocal method (model 5.3 and 11).

Service j spends d_j directly; provider k passes the share s_kj of its fully loaded cost to
consumer j and the rest (its external share) to users outside the network, so the fully
loaded costs are T = (I - S^T)^-1 d, i.e. T_j = d_j + sum_k s_kj * T_k. All of it is exact:
money rounded while it flows round the network would break the invariant (the external costs
add up to the total direct spend) by pennies, so it becomes a Decimal only to be shown.
Components of the consumption graph are taken in topological order; only a cycle needs a
small linear system. Input that cannot be costed raises CapitalFlowError naming the services.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from itertools import count
from math import lcm
from typing import Generic, TypeVar

__all__ = ["CapitalFlow", "CapitalFlowError", "compute_capital_flow", "round_fraction", "round_to_total"]

K = TypeVar("K", bound=Hashable)
Number = Decimal | Fraction | int
# Inside, an exact value is (n, e, q), meaning n / (10**e * q). Amounts and shares are
# decimals, so q stays 1 unless a share is a fraction like 1/3 or a cycle was solved, and a
# sum only aligns powers of ten: Fractions, which reduce by a gcd of big numbers after every
# step, are ten times slower on a large network.
Exact = tuple[int, int, int]
ZERO: Exact = (0, 0, 1)
ONE: Exact = (1, 0, 1)


class _Powers(dict):  # 10**e, each computed once
    def __missing__(self, exponent: int) -> int:
        self[exponent] = value = 10**exponent
        return value


_TEN = _Powers()


class CapitalFlowError(ValueError):
    """The network cannot be costed; `services` are the keys of the services at fault."""

    def __init__(self, message: str, services=()):
        super().__init__(message)
        self.message, self.services = message, list(services)


_FIVES = {5**i: i for i in range(40)}  # a decimal's denominator without its 2s is one of these


def _split(num: int, den: int) -> Exact:
    """num/den as (n, e, q), the factors 2 and 5 of den moved into the power of ten."""
    known = _DECIMAL_DENOMINATORS.get(den)
    if known is not None:
        return num * known[0], known[1], 1
    times, e, q = _split_denominator(den)
    if q == 1 and len(_DECIMAL_DENOMINATORS) < 1000:  # a decimal's, 2**a * 5**b: amounts and shares use a few
        _DECIMAL_DENOMINATORS[den] = times, e
    return num * times, e, q


_DECIMAL_DENOMINATORS: dict[int, tuple[int, int]] = {}  # 2**a * 5**b -> what _split_denominator gives


def _split_denominator(den: int) -> tuple[int, int, int]:
    """(t, e, q) such that 1/den = t / (10**e * q), with q free of the factors 2 and 5."""
    twos = (den & -den).bit_length() - 1
    den >>= twos
    fives = _FIVES.get(den, 0)
    den = 1 if fives or den == 1 else den
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    e = max(twos, fives)
    return (1 << (e - twos)) * 5 ** (e - fives), e, den


_PLAIN = {Decimal, Fraction, int}


def _read(value: Number, what: str, *services, name: Callable = str) -> Exact:
    """An input as an exact value; `what`, formatted with the services' names, names it in an error."""
    if value.__class__ not in _PLAIN and (isinstance(value, bool) or not isinstance(value, (Decimal, Fraction, int))):
        # floats are refused: they are not the decimal amounts that were recorded
        raise TypeError(f"{what.format(*map(name, services))} must be a Decimal, Fraction or int, not {type(value).__name__}")
    try:
        return _split(*value.as_integer_ratio())
    except (ValueError, OverflowError):  # NaN and infinity have no ratio
        raise CapitalFlowError(f"{what.format(*map(name, services))} is not a number: {value}", services) from None


def _add(terms: Iterable[Exact]) -> Exact:
    n, e, q = ZERO
    for tn, te, tq in terms:
        if tq != q:
            common = lcm(q, tq)
            n, tn, q = n * (common // q), tn * (common // tq), common
        if te > e:
            n, e = n * _TEN[te - e], te
        elif te < e:
            tn *= _TEN[e - te]
        n += tn
    return n, e, q


def _mul(a: Exact, b: Exact) -> Exact:
    return a[0] * b[0], a[1] + b[1], a[2] * b[2]


def _fraction(value: Exact) -> Fraction:
    return Fraction(value[0], _TEN[value[1]] * value[2])


def _units(value: Exact, places: int) -> int:
    """`value` in units of 10**-places, rounded half to even."""
    den = _TEN[value[1]] * value[2]
    q, r = divmod(value[0] * _TEN[places], den)
    if 2 * r > den or (2 * r == den and q % 2):
        q += 1
    return q


def _decimal(units: int, places: int) -> Decimal:
    return Decimal(f"{units}e-{places}")  # from a string: exact, whatever the context precision


def _show(value: Exact) -> str:
    """A ratio for a message: exactly as a decimal when it has one, else as a fraction."""
    if value[2] != 1:
        return str(_fraction(value))
    text = str(_decimal(_units(value, value[1]), value[1]))
    return text.rstrip("0").rstrip(".") if "." in text else text


def round_fraction(value: Fraction, places: int = 2) -> Decimal:
    """Round half to even to `places` decimal places, exactly."""
    return _decimal(_units(_split(value.numerator, value.denominator), places), places)


def round_to_total(exact: Mapping[K, Fraction], places: int = 2) -> dict[K, Decimal]:
    """Round values (not negative) so that they add up to their own total rounded: each is
    rounded down, then the units still missing go to the largest remainders, the earlier
    keys first on ties. A table of them then adds up to the penny."""
    return _balance({key: _split(v.numerator, v.denominator) for key, v in exact.items()}, places)


def _balance(exact: Mapping[K, Exact], places: int) -> dict[K, Decimal]:
    keys = list(exact)
    floors, remainders, dens = [], [], []
    for n, e, q in exact.values():
        dens.append(_TEN[e] * q)
        floor, remainder = divmod(n * _TEN[places], dens[-1])
        floors.append(floor)
        remainders.append(remainder)
    missing = _units(_add(exact.values()), places) - sum(floors)
    if missing > 0:
        # rank by the first 64 bits of each remainder; only a tie at the cut needs exact Fractions
        rough = [(r << 64) // d for r, d in zip(remainders, dens)]
        ranked = sorted(range(len(keys)), key=lambda i: (-rough[i], i))
        cut = rough[ranked[missing - 1]]
        chosen = [i for i in ranked if rough[i] > cut]
        tied = sorted((i for i in ranked if rough[i] == cut), key=lambda i: (-Fraction(remainders[i], dens[i]), i))
        for i in chosen + tied[:missing - len(chosen)]:
            floors[i] += 1
    return {key: _decimal(floor, places) for key, floor in zip(keys, floors)}


def _solve(matrix: list[list[Fraction]], rhs: list[Fraction]) -> list[Fraction]:
    """Gauss-Jordan elimination on Fractions; the caller has checked that the matrix is regular."""
    rows = [row + [b] for row, b in zip(matrix, rhs)]
    for col in range(len(rows)):
        pivot = next(r for r in range(col, len(rows)) if rows[r][col])
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [x / rows[col][col] for x in rows[col]]
        for r, row in enumerate(rows):
            if r != col and row[col]:
                rows[r] = [x - row[col] * y for x, y in zip(row, rows[col])]
    return [row[-1] for row in rows]


def _components(providers: list[list[tuple[int, Exact]]]) -> list[list[int]]:
    """Strongly connected components (Tarjan, iterative), walking from consumers to their
    providers, so every component comes after all the components it consumes from."""
    size = len(providers)
    index, low, at, on_stack = [-1] * size, [0] * size, [0] * size, [False] * size
    stack: list[int] = []
    found: list[list[int]] = []
    numbers = count()
    for root in range(size):
        enter, path, walks = (root if index[root] < 0 else None), [], []
        while enter is not None or path:
            if enter is not None:  # first sight: number the node, then walk on to its providers
                index[enter] = low[enter] = next(numbers)
                at[enter], on_stack[enter] = len(stack), True
                stack.append(enter)
                path.append(enter)
                walks.append(iter(providers[enter]))
            node, enter = path[-1], None
            for k, _ in walks[-1]:
                if index[k] < 0:
                    enter = k
                    break
                if on_stack[k] and index[k] < low[node]:
                    low[node] = index[k]
            if enter is None:  # all its providers seen: node is done
                path.pop()
                walks.pop()
                if path and low[node] < low[path[-1]]:
                    low[path[-1]] = low[node]
                if low[node] == index[node]:  # it roots a component: the stack above it
                    found.append(stack[at[node]:])
                    del stack[at[node]:]
                    for member in found[-1]:
                        on_stack[member] = False
    return found


def _flow(order: Iterable[int], components: list[list[int]], cyclic: list[bool], seed: Callable[[int], Exact],
          incoming: list[list[tuple[int, Exact]]], values: dict[int, Exact]) -> None:
    """values[j] = seed(j) + sum of s * values[k] over incoming[j], component by component in
    `order`; an incoming k with no value yet (and not in j's component) counts as 0."""
    for position in order:
        members = components[position]
        if not cyclic[position]:
            j = members[0]
            n, e, q = seed(j)
            for k, (sn, se, sq) in incoming[j]:  # _add inlined: this runs once for every share
                if (value := values.get(k)) is not None:
                    tn, te, tq = sn * value[0], se + value[1], sq * value[2]
                    if tq != q:
                        common = lcm(q, tq)
                        n, tn, q = n * (common // q), tn * (common // tq), common
                    if te > e:
                        n, e = n * _TEN[te - e], te
                    elif te < e:
                        tn *= _TEN[e - te]
                    n += tn
            values[j] = n, e, q
            continue
        # A cycle that leaks has a regular block (I - S_C): v_C = seed + known inflow + S_C v_C.
        pos = {node: n for n, node in enumerate(members)}
        matrix = [[Fraction(r == c) for c in range(len(members))] for r in range(len(members))]
        rhs = []
        for j in members:
            terms = [seed(j)]
            for k, s in incoming[j]:
                if k in pos:
                    matrix[pos[j]][pos[k]] -= _fraction(s)
                elif k in values:
                    terms.append(_mul(s, values[k]))
            rhs.append(_fraction(_add(terms)))
        for j, value in zip(members, _solve(matrix, rhs)):
            values[j] = _split(value.numerator, value.denominator)


V = TypeVar("V")


class _Table(Mapping[K, V]):
    """A read-only table with an entry for every service, each worked out from the
    service's position when it is first read and then kept."""

    def __init__(self, index: dict[K, int], make: Callable[[int], V]):
        self._index, self._make, self._done = index, make, {}

    def __getitem__(self, key: K) -> V:
        try:
            return self._done[key]
        except KeyError:
            value = self._done[key] = self._make(self._index[key])  # an unknown key raises KeyError
            return value

    def __iter__(self):
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class CapitalFlow(Generic[K]):
    """Fully loaded and external costs of every service, in the order of `services`. The
    Decimal figures are rounded half to even to the penny; the exact ones are Fractions."""

    def __init__(self, keys: list[K], spend: list[Exact], providers, consumers, components, cyclic, totals, external):
        self.services = keys
        self._index = {key: i for i, key in enumerate(keys)}
        self._spend, self._providers, self._consumers = spend, providers, consumers
        self._components, self._cyclic = components, cyclic
        self._component = [0] * len(keys)  # index -> position of its component in topological order
        for position, members in enumerate(components):
            for member in members:
                self._component[member] = position
        self._totals, self._external = totals, external
        self._external_cost = [_mul(s, t) for s, t in zip(external, totals)]
        self.fully_loaded: dict[K, Decimal] = {key: _decimal(_units(t, 2), 2) for key, t in zip(keys, totals)}
        total_direct, total_external = _add(spend), _add(self._external_cost)
        unallocated = _add([total_direct, (-total_external[0], total_external[1], total_external[2])])
        self.total_direct_exact = _fraction(total_direct)
        self.total_external_exact = _fraction(total_external)
        self.unallocated_exact = _fraction(unallocated)  # 0 for every network that computes
        self.total_direct = _decimal(_units(total_direct, 2), 2)
        self.total_external = _decimal(_units(total_external, 2), 2)
        self.unallocated = _decimal(_units(unallocated, 2), 2)

    # The other tables work each entry out when it is first read: a page shows a few rows
    # of a network that can have tens of thousands of services. Each reads the lists it
    # needs, never the flow itself: a table kept on the flow that referred back to it
    # would make the flow a reference cycle, freed only by the cycle collector's rare full
    # passes once a kept flow is given up (and the page pauses the collector).
    @cached_property
    def direct(self) -> Mapping[K, Decimal]:
        spend = self._spend
        return _Table(self._index, lambda i: _decimal(_units(spend[i], 2), 2))

    @cached_property
    def external_cost(self) -> Mapping[K, Decimal]:
        """external_share * fully loaded cost, each rounded on its own."""
        cost = self._external_cost
        return _Table(self._index, lambda i: _decimal(_units(cost[i], 2), 2))

    @cached_property
    def external_cost_balanced(self) -> dict[K, Decimal]:
        """The external costs rounded so that they add up to `total_external` to the penny."""
        return _balance(dict(zip(self.services, self._external_cost)), 2)

    @cached_property
    def fully_loaded_exact(self) -> Mapping[K, Fraction]:
        totals = self._totals
        return _Table(self._index, lambda i: _fraction(totals[i]))

    @cached_property
    def external_share(self) -> Mapping[K, Fraction]:
        """The share of each service's fully loaded cost that goes to users outside the network."""
        external = self._external
        return _Table(self._index, lambda i: _fraction(external[i]))

    @cached_property
    def external_cost_exact(self) -> Mapping[K, Fraction]:
        cost = self._external_cost
        return _Table(self._index, lambda i: _fraction(cost[i]))

    def _breakdown(self, service: K) -> dict[K, Exact]:
        target = self._index[service]
        upstream = {target}
        queue = [target]
        while queue:
            for k, _ in self._providers[queue.pop()]:
                if k not in upstream:
                    upstream.add(k)
                    queue.append(k)
        # Row j of M = (I - S^T)^-1: y_k = [k is j] + sum over consumers i of k of s_ki * y_i,
        # so consumers come before their providers; whole components are upstream or not.
        order = sorted({self._component[node] for node in upstream}, reverse=True)
        carried: dict[int, Exact] = {}
        _flow(order, self._components, self._cyclic, lambda k: ONE if k == target else ZERO, self._consumers, carried)
        return {self.services[k]: _mul(carried[k], self._spend[k]) for p in order for k in self._components[p]}

    def breakdown_exact(self, service: K) -> dict[K, Fraction]:
        """How much of each upstream provider's own direct spend (M_jk * d_k) sits inside the
        fully loaded cost of `service`, the service itself included; it adds up to T_j. Only
        the providers upstream of the service are visited, the service and its nearest first."""
        return {key: _fraction(v) for key, v in self._breakdown(service).items()}

    def breakdown(self, service: K) -> dict[K, Decimal]:
        """`breakdown_exact` rounded so that it adds up to `fully_loaded[service]` to the penny."""
        return _balance(self._breakdown(service), 2)

    def passed_on(self, provider: K, share: Number) -> Decimal:
        """What a provider passes on to a consumer that used ``share`` of its consumption:
        the share of its exact fully loaded cost, rounded half to even to the penny (as
        ``round_fraction(share * fully_loaded_exact[provider])``, without making Fractions)."""
        return _decimal(_units(_mul(_read(share, "a share"), self._totals[self._index[provider]]), 2), 2)

    def flows(self, places: int = 2, *, touching: K | None = None) -> Iterator[tuple[K, K, int]]:
        """Every flow of money from a provider to a consumer, as (provider, consumer, what
        it passes on in units of 10**-places, rounded as ``passed_on`` rounds it), only those
        to or from ``touching`` when given. Integers: a network has over a hundred thousand
        flows, and a page ranks them all to show the largest."""
        keys, totals, scale, ten = self.services, self._totals, _TEN[places], _TEN
        if touching is None:
            by_provider = enumerate(self._consumers)
        else:
            at = self._index[touching]
            by_provider = [(at, self._consumers[at])] + [(k, [(at, s)]) for k, s in self._providers[at] if k != at]
        for k, consumers in by_provider:
            if not consumers:
                continue
            tn, te, tq = totals[k]
            tn *= scale
            provider = keys[k]
            for j, (sn, se, sq) in consumers:
                den = ten[se + te] * sq * tq
                q, r = divmod(sn * tn, den)  # _units(_mul(share, total), places), inlined
                if 2 * r > den or (2 * r == den and q % 2):
                    q += 1
                yield provider, keys[j], q

    def cost_per_transaction(self, service: K, transactions: int | Decimal, places: int = 4) -> Decimal | None:
        """Fully loaded cost divided by the transactions; None when there were none."""
        per = _per(transactions)
        return None if per is None else _decimal(_units(_mul(self._totals[self._index[service]], per), places), places)

    def breakdown_per_transaction(self, service: K, transactions: int | Decimal, places: int = 4) -> dict[K, Decimal] | None:
        """The breakdown per transaction, adding up to `cost_per_transaction`; None when there were none."""
        per = _per(transactions)
        if per is None:
            return None
        return _balance({key: _mul(v, per) for key, v in self._breakdown(service).items()}, places)


def _per(transactions: int | Decimal) -> Exact | None:
    """1 / transactions, or None for no transactions."""
    num, den = _fraction(_read(transactions, "transactions")).as_integer_ratio()
    if num < 0:
        raise ValueError(f"transactions cannot be negative: {transactions}")
    return (den, 0, num) if num else None


def compute_capital_flow(direct: Mapping[K, Number], shares: Mapping[tuple[K, K], Number], *,
                         name: Callable[[K], str] = str) -> CapitalFlow[K]:
    """Fully loaded costs by the reciprocal method. `direct[j]` >= 0 is service j's direct
    spend; `shares[(k, j)]` in (0, 1] the share of provider k's consumption that consumer j
    used (a share of 0 is ignored). A service named only in `shares` spends 0. `name` turns a
    key into the words of an error message (keys that are ids can be named properly)."""
    keys = list(direct)
    index = {key: i for i, key in enumerate(keys)}
    spend = [_read(value, "the direct spend of {}", key, name=name) for key, value in direct.items()]
    for key, value, amount in zip(keys, direct.values(), spend):
        if amount[0] < 0:
            raise CapitalFlowError(f"the direct spend of {name(key)} is negative: {value}", [key])
    providers: list[list[tuple[int, Exact]]] = [[] for _ in keys]
    consumers: list[list[tuple[int, Exact]]] = [[] for _ in keys]
    self_served = set()
    for (provider, consumer), value in shares.items():  # over a hundred thousand on a large network
        try:  # a Decimal as the database gives it, read here without the checks of _read
            share = _split(*value.as_integer_ratio()) if value.__class__ is Decimal else None
        except (ValueError, OverflowError):  # NaN or infinity: _read says so
            share = None
        if share is None:
            share = _read(value, "the share of {} used by {}", provider, consumer, name=name)
        if share[0] < 0 or share[0] > _TEN[share[1]] * share[2]:
            raise CapitalFlowError(f"the share of {name(provider)} used by {name(consumer)} must be between 0 and 1, not {value}",
                                   [provider, consumer])
        k, j = index.get(provider), index.get(consumer)
        if k is None or j is None:
            for key in (provider, consumer):
                if key not in index:  # named only in shares: a service with no direct spend
                    index[key] = len(keys)
                    keys.append(key)
                    spend.append(ZERO)
                    providers.append([])
                    consumers.append([])
            k, j = index[provider], index[consumer]
        if share[0]:
            providers[j].append((k, share))
            consumers[k].append((j, share))
            if k == j:
                self_served.add(k)
    external = []
    for k, key in enumerate(keys):
        n, e, q = _add(s for _, s in consumers[k])
        if n > _TEN[e] * q:
            raise CapitalFlowError(f"the shares of {name(key)} add up to {_show((n, e, q))}, more than 1", [key])
        external.append((_TEN[e] * q - n, e, q))

    components = _components(providers)
    cyclic = [len(c) > 1 or c[0] in self_served for c in components]
    for members in (c for c, is_cyclic in zip(components, cyclic) if is_cyclic):
        inside = set(members)
        if all(_fraction(_add([s for j, s in consumers[k] if j in inside])) == 1 for k in members):
            names = [keys[k] for k in sorted(members)]
            raise CapitalFlowError("the money never leaves the cycle of " + ", ".join(map(name, names))
                                   + ": none of it reaches an external user or a consumer outside the cycle", names)
    totals: dict[int, Exact] = {}
    _flow(range(len(components)), components, cyclic, spend.__getitem__, providers, totals)
    return CapitalFlow(keys, spend, providers, consumers, components, cyclic, [totals[i] for i in range(len(keys))], external)
