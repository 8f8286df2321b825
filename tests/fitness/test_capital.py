"""Capital flow by the reciprocal method (model 11): the worked example, random networks
checked against a plain exact solver of the whole linear system, and the errors."""

import random
from decimal import ROUND_HALF_EVEN, Decimal as D, localcontext
from fractions import Fraction as F

import networkx as nx
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from osom.fitness.capital import CapitalFlowError, compute_capital_flow, round_fraction, round_to_total

EXAMPLE_DIRECT = {"H": D(100), "I": D(50), "P": D(80), "J": D(30)}
EXAMPLE_SHARES = {("H", "I"): D("0.2"), ("H", "P"): D("0.3"), ("I", "P"): D("0.4"),
                  ("H", "J"): D("0.5"), ("I", "J"): D("0.6"), ("P", "J"): D("1")}


# --- a plain reference: the whole system (I - S^T) T = d solved at once ------------------

def reference_inverse(services, shares):
    """M = (I - S^T)^-1 by Gauss-Jordan on the matrix augmented with the identity."""
    n = len(services)
    at = {s: i for i, s in enumerate(services)}
    rows = [[F(int(r == c)) for c in range(n)] + [F(int(r == c)) for c in range(n)] for r in range(n)]
    for (k, j), s in shares.items():
        rows[at[j]][at[k]] -= F(s)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        assert rows[pivot][col] != 0, "the reference system is singular"
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [x / lead for x in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [x - factor * y for x, y in zip(rows[r], rows[col])]
    return {(services[r], services[c]): rows[r][n + c] for r in range(n) for c in range(n)}


def reference_totals(direct, shares):
    services = list(direct)
    m = reference_inverse(services, shares)
    return m, {j: sum((m[j, k] * F(direct[k]) for k in services), F(0)) for j in services}


def half_even(value: F, places=2) -> D:
    with localcontext() as ctx:
        ctx.prec = 80
        return (D(value.numerator) / D(value.denominator)).quantize(D(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def sealed_components(direct, shares):
    """Strongly connected components that pass all their cost round inside themselves."""
    graph = nx.DiGraph()
    graph.add_nodes_from(direct)
    graph.add_edges_from(shares)
    sealed = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1 and not graph.has_edge(*[next(iter(component))] * 2):
            continue
        if all(sum((F(s) for (k, j), s in shares.items() if k == member and j in component), F(0)) == 1
               for member in component):
            sealed.append(component)
    return sealed


# --- the worked example of the model ----------------------------------------------------

def test_worked_example_fully_loaded_costs():
    flow = compute_capital_flow(EXAMPLE_DIRECT, EXAMPLE_SHARES)
    assert flow.fully_loaded == {"H": D("100.00"), "I": D("70.00"), "P": D("138.00"), "J": D("260.00")}
    assert flow.fully_loaded_exact == {"H": 100, "I": 70, "P": 138, "J": 260}
    assert flow.total_direct == D("260.00") == flow.fully_loaded["J"]
    assert flow.external_share == {"H": 0, "I": 0, "P": 0, "J": 1}
    assert flow.external_cost == flow.external_cost_balanced == {"H": D("0.00"), "I": D("0.00"), "P": D("0.00"), "J": D("260.00")}
    assert flow.total_external == D("260.00") and flow.unallocated == D("0.00") and flow.unallocated_exact == 0


def test_worked_example_breakdown_shows_where_each_providers_spend_ends():
    flow = compute_capital_flow(EXAMPLE_DIRECT, EXAMPLE_SHARES)
    # nothing leaves H, I or P for outside users, so every pound they spend ends inside J
    assert flow.breakdown_exact("J") == {"J": 30, "P": 80, "I": 50, "H": 100}
    # P holds 30 % of H directly and 40 % of I's 20 % of H: 30 + 8
    assert flow.breakdown_exact("P") == {"P": 80, "I": 20, "H": 38}
    assert flow.breakdown("I") == {"I": D("50.00"), "H": D("20.00")}
    assert flow.breakdown("H") == {"H": D("100.00")}


def test_worked_example_cost_per_transaction():
    flow = compute_capital_flow(EXAMPLE_DIRECT, EXAMPLE_SHARES)
    assert flow.cost_per_transaction("J", 13000) == D("0.0200")
    assert flow.cost_per_transaction("J", D("13000"), places=2) == D("0.02")
    per = flow.breakdown_per_transaction("J", 13000)
    assert per["H"] == D("0.0077")  # exactly 100 / 13000 = 1/130
    assert flow.breakdown_exact("J")["H"] / 13000 == F(1, 130)
    assert per == {"J": D("0.0023"), "P": D("0.0062"), "I": D("0.0038"), "H": D("0.0077")}
    assert sum(per.values()) == flow.cost_per_transaction("J", 13000)
    assert flow.cost_per_transaction("J", 0) is None
    assert flow.breakdown_per_transaction("J", 0) is None
    with pytest.raises(ValueError):
        flow.cost_per_transaction("J", -1)


# --- cycles -------------------------------------------------------------------------------

def test_leaking_cycle_matches_the_reference_solver():
    # A and B serve each other; B leaks half to outside users and C sits downstream of A.
    direct = {"A": D("10.00"), "B": D("20.00"), "C": D("5.55"), "X": D("7.00")}
    shares = {("A", "B"): D(1) / 2, ("B", "A"): F(1, 3), ("A", "C"): D("0.25"), ("X", "A"): F(2, 3), ("X", "C"): F(1, 3)}
    flow = compute_capital_flow(direct, shares)
    m, totals = reference_totals(direct, shares)
    assert flow.fully_loaded_exact == totals
    # by hand: T_A = 10 + 14/3 + T_B/3, T_B = 20 + T_A/2
    assert totals["A"] == F(10) + F(14, 3) + totals["B"] / 3 and totals["B"] == 20 + totals["A"] / 2
    for j in direct:
        assert flow.breakdown_exact(j) == {k: m[j, k] * F(direct[k]) for k in flow.breakdown_exact(j)}
    assert flow.total_external_exact == flow.total_direct_exact == F("42.55")


def test_service_that_consumes_part_of_itself():
    flow = compute_capital_flow({"A": D("30.00")}, {("A", "A"): D("0.25")})
    assert flow.fully_loaded_exact["A"] == 40  # 30 + 40/4
    assert flow.external_cost["A"] == D("30.00")
    # the flow from A to itself is one flow, however it is asked for
    assert list(flow.flows()) == list(flow.flows(touching="A")) == [("A", "A", 1000)]


def test_sealed_cycle_is_an_error_naming_its_services():
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({"A": D(1), "B": D(2)}, {("A", "B"): D(1), ("B", "A"): D(1)})
    assert set(error.value.services) == {"A", "B"}
    assert "A" in str(error.value) and "B" in str(error.value)


def test_sealed_cycle_fed_from_outside_names_only_the_cycle():
    shares = {("H", "A"): D("0.5"), ("A", "B"): D("0.5"), ("A", "C"): D("0.5"), ("B", "A"): D(1), ("C", "A"): D(1)}
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({"H": D(100), "A": D(5)}, shares)
    assert set(error.value.services) == {"A", "B", "C"}


def test_cycle_leaking_only_to_a_consumer_outside_it_is_fine():
    shares = {("A", "B"): D(1), ("B", "A"): D("0.5"), ("B", "C"): D("0.5")}
    flow = compute_capital_flow({"A": D(10), "B": D(20), "C": D(0)}, shares)
    assert flow.fully_loaded_exact == {"A": 40, "B": 60, "C": 30}
    assert flow.external_cost_exact == {"A": 0, "B": 0, "C": 30}


def test_service_passing_all_of_itself_to_itself_is_a_sealed_cycle():
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({"A": D(1)}, {("A", "A"): D(1)})
    assert error.value.services == ["A"]


# --- bad input ----------------------------------------------------------------------------

def test_shares_over_one_name_the_provider_and_the_sum():
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({"A": D(1)}, {("A", "B"): D("0.7"), ("A", "C"): D("0.5")})
    assert error.value.services == ["A"]
    assert "1.2" in str(error.value) and "A" in str(error.value)
    with pytest.raises(CapitalFlowError, match="4/3"):
        compute_capital_flow({}, {("A", "B"): F(2, 3), ("A", "C"): F(2, 3)})


@pytest.mark.parametrize("share", [D("1.01"), D("-0.1"), F(3, 2)])
def test_a_share_outside_zero_to_one_is_an_error(share):
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({}, {("A", "B"): share})
    assert error.value.services == ["A", "B"]


def test_negative_or_missing_spend_is_an_error_and_floats_are_refused():
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({"A": D("-0.01")}, {})
    assert error.value.services == ["A"]
    with pytest.raises(CapitalFlowError, match="not a number"):
        compute_capital_flow({"A": D("NaN")}, {})
    with pytest.raises(TypeError, match="Decimal"):
        compute_capital_flow({"A": 1.5}, {})
    with pytest.raises(TypeError):
        compute_capital_flow({"A": D(1)}, {("A", "B"): 0.5})


def test_messages_use_the_given_names_and_services_keep_the_keys():
    names = {1: "Ledger", 2: "Reconciliation"}
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow({1: D(1), 2: D(2)}, {(1, 2): D(1), (2, 1): D(1)}, name=names.__getitem__)
    assert "Ledger, Reconciliation" in str(error.value) and error.value.services == [1, 2]
    with pytest.raises(CapitalFlowError, match="shares of Ledger add up to 1.5"):
        compute_capital_flow({}, {(1, 2): D("0.75"), (1, 3): D("0.75")}, name=lambda key: names.get(key, "?"))
    with pytest.raises(CapitalFlowError, match="the direct spend of Ledger is negative"):
        compute_capital_flow({1: D(-1)}, {}, name=names.__getitem__)
    with pytest.raises(TypeError, match="the share of Ledger used by Reconciliation"):
        compute_capital_flow({}, {(1, 2): 0.5}, name=names.__getitem__)


def test_services_only_in_shares_spend_nothing_and_zero_shares_are_ignored():
    flow = compute_capital_flow({"A": D(10)}, {("A", "B"): D("0.4"), ("A", "C"): D(0)})
    assert flow.services == ["A", "B", "C"]
    assert flow.direct == {"A": D("10.00"), "B": D("0.00"), "C": D("0.00")}
    assert flow.fully_loaded_exact == {"A": 10, "B": 4, "C": 0}
    assert flow.external_share == {"A": F(3, 5), "B": 1, "C": 1}


def test_empty_network():
    flow = compute_capital_flow({}, {})
    assert flow.total_direct == flow.total_external == flow.unallocated == D("0.00")


# --- rounding -----------------------------------------------------------------------------

def test_rounding_is_half_even_and_tables_add_up():
    assert round_fraction(F(1, 200)) == D("0.00") and round_fraction(F(3, 200)) == D("0.02")
    assert round_fraction(F(-3, 200)) == D("-0.02") and round_fraction(F(2, 3), 4) == D("0.6667")
    assert round_to_total({"a": F(1, 3), "b": F(1, 3), "c": F(1, 3)}) == {"a": D("0.34"), "b": D("0.33"), "c": D("0.33")}
    assert round_to_total({"a": F(1, 3), "b": F(2, 3)}) == {"a": D("0.33"), "b": D("0.67")}


def test_external_costs_split_three_ways_add_up_to_the_penny():
    shares = {("P", c): F(1, 3) for c in "ABC"}
    flow = compute_capital_flow({"P": D(100), "A": D(0), "B": D(0), "C": D(0)}, shares)
    assert flow.external_cost == {"P": D("0.00"), "A": D("33.33"), "B": D("33.33"), "C": D("33.33")}
    assert flow.external_cost_balanced == {"P": D("0.00"), "A": D("33.34"), "B": D("33.33"), "C": D("33.33")}
    assert sum(flow.external_cost_balanced.values()) == flow.total_direct == D("100.00")


# --- random networks ----------------------------------------------------------------------

@st.composite
def networks(draw):
    """Up to 7 services with spends to the penny; each provider splits its consumption among
    some others in hundredths or in fractions like thirds, keeping a part (maybe none) for
    outside users. With `acyclic`, providers only serve later services."""
    size = draw(st.integers(1, 7))
    names = [f"s{i}" for i in range(size)]
    acyclic = draw(st.booleans())
    direct = {name: D(draw(st.integers(0, 10**7))).scaleb(-2) for name in names}
    shares = {}
    for k, provider in enumerate(names):
        others = [name for i, name in enumerate(names) if i != k and (i > k or not acyclic)]
        users = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
        if not users:
            continue
        keeps_some = draw(st.booleans())
        if draw(st.booleans()):  # hundredths
            cuts = sorted(draw(st.lists(st.integers(1, 99), unique=True, min_size=len(users), max_size=len(users))))
            ends = cuts if keeps_some else [*cuts[:-1], 100]
            parts = [D(b - a).scaleb(-2) for a, b in zip([0, *ends], ends)]
        else:  # thirds, sevenths and the like
            weights = draw(st.lists(st.integers(1, 9), min_size=len(users), max_size=len(users)))
            whole = sum(weights) + (draw(st.integers(1, 9)) if keeps_some else 0)
            parts = [F(w, whole) for w in weights]
        shares.update({(provider, user): part for user, part in zip(users, parts)})
    return direct, shares


RANDOM = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@RANDOM
@given(networks())
def test_random_networks_keep_the_invariants(network):
    direct, shares = network
    assume(not sealed_components(direct, shares))
    flow = compute_capital_flow(direct, shares)
    m, totals = reference_totals(direct, shares)
    assert flow.fully_loaded_exact == totals
    assert flow.total_external_exact == flow.total_direct_exact == sum(F(d) for d in direct.values())
    assert sum(flow.external_cost_exact.values()) == flow.total_direct_exact
    assert flow.unallocated_exact == 0 and flow.unallocated == D("0.00")
    assert flow.total_direct == sum(direct.values())
    assert sum(flow.external_cost_balanced.values()) == flow.total_external == flow.total_direct
    for j in direct:
        assert flow.fully_loaded_exact[j] >= F(direct[j])
        assert flow.fully_loaded[j] == half_even(totals[j])
        assert abs(F(flow.external_cost_balanced[j]) - flow.external_cost_exact[j]) < F(1, 100)
        breakdown = flow.breakdown_exact(j)
        assert sum(breakdown.values()) == flow.fully_loaded_exact[j]
        assert breakdown[j] >= F(direct[j])
        assert breakdown == {k: m[j, k] * F(direct[k]) for k in breakdown}
        # whatever the walk upstream left out holds none of j's cost
        assert all(m[j, k] == 0 for k in direct if k not in breakdown)
        assert sum(flow.breakdown(j).values()) == flow.fully_loaded[j]


@RANDOM
@given(networks(), st.sampled_from([2, 4]))
def test_every_flow_in_units_is_what_the_provider_passes_on(network, places):
    direct, shares = network
    assume(not sealed_components(direct, shares))
    flow = compute_capital_flow(direct, shares)
    expected = {(k, j): round_fraction(F(s) * flow.fully_loaded_exact[k], places) for (k, j), s in shares.items() if s}
    flows = {(k, j): D(units).scaleb(-places) for k, j, units in flow.flows(places)}
    assert flows == expected
    if places == 2:
        assert all(flows[k, j] == flow.passed_on(k, s) for (k, j), s in shares.items() if s)
    for service in direct:
        touching = {(k, j): D(units).scaleb(-places) for k, j, units in flow.flows(places, touching=service)}
        assert touching == {pair: amount for pair, amount in expected.items() if service in pair}
        assert len(list(flow.flows(places, touching=service))) == len(touching)  # a pair once, a self-share too


@RANDOM
@given(networks(), st.integers(2, 4), st.data())
def test_a_sealed_cycle_anywhere_is_reported(network, ring_size, data):
    direct, shares = network
    assume(not sealed_components(direct, shares))
    ring = [f"r{i}" for i in range(ring_size)]
    for i, member in enumerate(ring):
        direct[member] = D(data.draw(st.integers(0, 1000)))
        shares[member, ring[(i + 1) % ring_size]] = D(1)
    if data.draw(st.booleans()):  # the ring may also be fed by a provider with room to spare
        feeder = data.draw(st.sampled_from(sorted(direct)))
        room = 1 - sum((F(s) for (k, _), s in shares.items() if k == feeder), F(0))
        if room > 0 and feeder not in ring:
            shares[feeder, ring[0]] = room
    with pytest.raises(CapitalFlowError) as error:
        compute_capital_flow(direct, shares)
    assert set(error.value.services) == set(ring)


def test_smoke_two_thousand_services_with_a_few_cycles():
    rnd = random.Random(20240611)
    size = 2000
    direct = {i: D(rnd.randrange(0, 10**8)).scaleb(-2) for i in range(size)}
    edges = {(rnd.randrange(j), j) for j in range(1, size) for _ in range(3)}
    for start in rnd.sample(range(size - 3), 10):  # small rings, each closed by one backward edge
        edges |= {(start, start + 1), (start + 1, start + 2), (start + 2, start)}
    by_provider = {}
    for k, j in sorted(edges):
        by_provider.setdefault(k, []).append(j)
    shares = {}
    for k, users in by_provider.items():
        cuts = sorted(rnd.sample(range(1, 10**6), len(users)))  # the last piece leaks out
        shares.update({(k, j): D(b - a).scaleb(-6) for j, a, b in zip(users, [0, *cuts], cuts)})
    flow = compute_capital_flow(direct, shares)
    assert flow.unallocated_exact == 0
    assert flow.total_external_exact == sum(F(d) for d in direct.values())
    assert sum(flow.external_cost_balanced.values()) == flow.total_direct
    assert all(flow.fully_loaded_exact[j] >= F(direct[j]) for j in direct)
    last = flow.breakdown_exact(size - 1)
    assert sum(last.values()) == flow.fully_loaded_exact[size - 1]


def test_decimal_denominators_are_remembered_up_to_a_bound_and_split_exactly_beyond_it():
    from osom.fitness import capital

    for a in range(1500):  # 1/2**a = 5**a / 10**a, however many have been seen
        n, e, q = capital._split(1, 2**a)
        assert (q, e, n) == (1, a, 5**a)
    assert len(capital._DECIMAL_DENOMINATORS) <= 1000
    assert capital._split(1, 3) == (1, 0, 3) and capital._split(7, 40) == (175, 3, 1)
