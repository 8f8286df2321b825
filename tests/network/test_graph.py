"""The dependency graph of the current contracts (model 3 and 5.4): a service's
neighbourhood, who is affected when a service fails, and the cycles of the network.

The graphs are built through the network actions, as the executive and the managers would
build them; the last tests use a plain Graph, for what the actions cannot make (a service
consuming itself) and for a network far larger than a test would build."""

from __future__ import annotations

import pytest

from osom.network import actions
from osom.network.graph import Graph, load_graph, names_of

from .. import factories


def consumes(c, consumer, provider):
    """``consumer`` comes to consume ``provider`` under an approved contract."""
    result = actions.add_dependency(actor=c.executive, service=consumer, provider=provider)
    actions.approve_contract_version(actor=c.executive, version=actions.submit_contract_version(
        actor=consumer.manager, version=result.version))


@pytest.fixture
def chain(cast):
    """Hosting ← Sign in ← Payments ← Renew a permit, and Reports consuming Hosting
    directly; Renew a permit also consumes Sign in (a shorter way down)."""
    m = cast.other_manager
    hosting = factories.service(cast.executive, "Hosting", manager=m)
    sign_in = factories.service(cast.executive, "Sign in", manager=m, dependencies=["hosting"])
    payments = factories.service(cast.executive, "Payments", manager=m, dependencies=["sign-in"])
    renew = factories.service(cast.executive, "Renew a permit", manager=m, dependencies=["payments", "sign-in"])
    reports = factories.service(cast.executive, "Reports", manager=m, dependencies=["hosting"])
    return {"hosting": hosting, "sign_in": sign_in, "payments": payments, "renew": renew, "reports": reports}


def ids(chain, *names) -> set[int]:
    return {chain[n].pk for n in names}


def by_name(chain) -> dict[int, str]:
    return {s.pk: name for name, s in chain.items()}


def test_the_graph_holds_the_current_contracts_dependencies(cast, chain):
    graph = load_graph()
    s = chain
    assert sorted(graph.consumes[s["renew"].pk]) == sorted([s["payments"].pk, s["sign_in"].pk])
    assert sorted(graph.provides_to[s["hosting"].pk]) == sorted([s["sign_in"].pk, s["reports"].pk])
    assert (cast.service.pk, cast.other_service.pk) in graph.edges, "the cast's own dependency"
    assert len(graph.edges) == 6


def test_a_dependency_only_drafted_is_not_in_the_graph(cast, chain):
    actions.add_dependency(actor=cast.executive, service=chain["hosting"], provider=chain["reports"])
    graph = load_graph()
    assert chain["reports"].pk not in graph.consumes.get(chain["hosting"].pk, [])
    assert graph.cycles() == []


def test_a_neighbourhood_goes_both_ways_up_to_n_hops(chain):
    graph = load_graph()
    s = chain
    one = graph.neighbourhood(s["sign_in"].pk, 1)
    assert one.distance == {s["sign_in"].pk: 0, s["hosting"].pk: 1, s["payments"].pk: 1, s["renew"].pk: 1}
    assert one.edges == sorted([(s["sign_in"].pk, s["hosting"].pk), (s["payments"].pk, s["sign_in"].pk),
                                (s["renew"].pk, s["sign_in"].pk), (s["renew"].pk, s["payments"].pk)])
    assert one.truncated is False and (one.centre, one.hops) == (s["sign_in"].pk, 1)
    two = graph.neighbourhood(s["sign_in"].pk, 2)
    assert two.distance[s["reports"].pk] == 2, "through Hosting, against the direction of its dependency"
    assert set(two.distance) == ids(s, "sign_in", "hosting", "payments", "renew", "reports")
    assert graph.neighbourhood(s["sign_in"].pk, 0).distance == {s["sign_in"].pk: 0}


def test_a_neighbourhood_leaves_out_the_rest_of_the_network(cast, chain):
    neighbourhood = load_graph().neighbourhood(chain["hosting"].pk, 10)
    assert cast.service.pk not in neighbourhood.distance and cast.other_service.pk not in neighbourhood.distance
    assert len(neighbourhood.distance) == 5


def test_a_neighbourhood_is_cut_at_its_limit_nearest_first(chain):
    s = chain
    cut = load_graph().neighbourhood(s["hosting"].pk, 5, limit=3)
    assert cut.truncated is True
    assert set(cut.distance) == ids(s, "hosting", "sign_in", "reports")
    assert all(c in cut.distance and p in cut.distance for c, p in cut.edges)
    whole = load_graph().neighbourhood(s["hosting"].pk, 5, limit=5)
    assert whole.truncated is False and len(whole.distance) == 5


def test_the_impact_of_a_failure_reaches_every_consumer_by_its_shortest_chain(chain):
    s = chain
    impact = load_graph().impact(s["hosting"].pk)
    assert impact.failed == s["hosting"].pk
    assert impact.direct == sorted([s["sign_in"].pk, s["reports"].pk])
    names = by_name(s)
    assert {names[i]: hops for i, hops in impact.affected.items()} == {
        "sign_in": 1, "reports": 1, "payments": 2, "renew": 2}
    assert [names[i] for i in impact.chain(s["renew"].pk)] == ["renew", "sign_in", "hosting"]
    assert [names[i] for i in impact.chain(s["payments"].pk)] == ["payments", "sign_in", "hosting"]
    assert impact.chain(s["hosting"].pk) == [s["hosting"].pk]


def test_a_service_nobody_consumes_affects_nobody(chain):
    impact = load_graph().impact(chain["renew"].pk)
    assert (impact.direct, impact.affected) == ([], {})


def test_no_cycles_in_a_hierarchy(chain):
    assert load_graph().cycles() == []


def test_two_separate_cycles_are_each_reported_once(cast, chain):
    s = chain
    consumes(cast, s["hosting"], s["renew"])  # Hosting ← Sign in ← Payments ← Renew ← Hosting, and Sign in
    ledger = factories.service(cast.executive, "Ledger", manager=cast.manager)
    recon = factories.service(cast.executive, "Reconciliation", manager=cast.manager, dependencies=["ledger"])
    consumes(cast, ledger, recon)
    cycles = load_graph().cycles()
    assert len(cycles) == 2
    big, small = cycles
    # each cycle starts and ends with its smallest member and follows the dependencies
    assert big[0] == big[-1] == min(big) and small[0] == small[-1] == min(small)
    assert set(small) == {ledger.pk, recon.pk} and len(small) == 3
    assert set(big) <= ids(s, "hosting", "sign_in", "payments", "renew") and s["hosting"].pk in big
    graph = load_graph()
    for cycle in cycles:
        for consumer, provider in zip(cycle, cycle[1:]):
            assert provider in graph.consumes[consumer], (consumer, provider)
    # the shortest way round: Hosting → Renew → Sign in → Hosting
    names = by_name(s)
    assert [names[i] for i in big] in (["hosting", "renew", "sign_in", "hosting"],
                                       ["sign_in", "hosting", "renew", "sign_in"])
    assert sorted(s.name for s in names_of(small).values()) == ["Ledger", "Reconciliation"]


def test_names_of_gives_the_services_with_their_managers(cast, chain, django_assert_num_queries):
    wanted = [chain["hosting"].pk, cast.service.pk]
    with django_assert_num_queries(1):
        found = names_of(wanted)
        managers = {s.name: s.manager.name for s in found.values()}
    assert managers == {"Hosting": "Olu Other", "Parking permits": "Max Manager"}


# --- a plain graph ---------------------------------------------------------------------------

def test_a_service_that_consumes_itself_is_a_cycle():
    graph = Graph([(1, 1), (2, 1)])
    assert graph.cycles() == [[1, 1]]
    assert graph.impact(1).affected == {2: 1}, "the failed service is not affected by itself"


def test_the_number_of_cycles_reported_is_limited():
    edges = [pair for n in range(0, 20, 2) for pair in ((n, n + 1), (n + 1, n))]
    assert len(Graph(edges).cycles()) == 10
    assert len(Graph(edges).cycles(limit=3)) == 3


def test_a_chain_of_twenty_thousand_services_needs_no_recursion():
    n = 20_000
    chain = Graph([(i + 1, i) for i in range(n - 1)])  # each service consumes the one before it
    assert chain.cycles() == []
    impact = chain.impact(0)
    assert len(impact.affected) == n - 1 and impact.affected[n - 1] == n - 1
    assert impact.chain(n - 1) == list(range(n - 1, -1, -1))
    near = chain.neighbourhood(n // 2, 3)
    assert sorted(near.distance) == list(range(n // 2 - 3, n // 2 + 4))
    assert len(chain.neighbourhood(0, n, limit=n).distance) == n
    closed = Graph([*chain.edges, (0, n - 1)])  # the first consumes the last: one long cycle
    (cycle,) = closed.cycles()
    assert len(cycle) == n + 1 and cycle[0] == cycle[-1] == 0
