"""The matcher on a small labelled set: a council's services with realistic needs, one
need planted twice in different words."""

from __future__ import annotations

import pytest

from osom.core.actions import create_person
from osom.governance.demand_views import DUPLICATE_THRESHOLD
from osom.governance.matching import find_duplicate_needs, suggest_services

from .civic import build


@pytest.fixture
def civic(db):
    executive = create_person(actor=None, email="exec@example.org", name="Exec Utive", role="executive",
                              password="a-long-test-password")
    return build(executive)


def _need(as_a: str, i_need: str, so_that: str) -> dict:
    return {"as_a": as_a, "i_need": i_need, "so_that": so_that}


def test_the_duplication_finder_puts_the_planted_pair_first(civic):
    # at the threshold the duplicates page uses by default
    pairs = find_duplicate_needs(threshold=DUPLICATE_THRESHOLD)
    assert pairs, "the planted duplicate was not found"
    assert {pairs[0].first["service"], pairs[0].second["service"]} == {"Housing repairs", "Tenancy support"}
    assert {"boiler", "leak", "broken"} <= set(pairs[0].words)


def test_the_duplication_finder_pairs_nothing_else_in_this_network(civic):
    names = [{p.first["service"], p.second["service"]} for p in find_duplicate_needs(threshold=DUPLICATE_THRESHOLD)]
    assert names == [{"Housing repairs", "Tenancy support"}], names


def test_without_the_plant_the_finder_finds_no_duplicates(db):
    executive = create_person(actor=None, email="exec@example.org", name="Exec Utive", role="executive",
                              password="a-long-test-password")
    build(executive, planted=False)
    assert find_duplicate_needs(threshold=DUPLICATE_THRESHOLD) == []


def test_the_default_threshold_finds_the_planted_pair(civic):
    pairs = find_duplicate_needs()
    assert pairs and {pairs[0].first["service"], pairs[0].second["service"]} == {"Housing repairs", "Tenancy support"}


LABELLED = [
    (_need("resident", "to report a broken streetlight", "my road is safe at night"), "Street problems"),
    (_need("library member", "to renew my library books", "I can keep them for longer"), "Library loans"),
    (_need("parent", "to find a school place for my daughter", "she can start in reception"), "School admissions"),
    (_need("householder", "to set up a direct debit for council tax", "I pay it monthly"), "Council tax"),
    (_need("resident", "to know when my recycling bin is collected", "I do not miss it"), "Bin collections"),
    (_need("visitor", "a permit to park outside my mother's house", "I can visit her"), "Parking permits"),
    (_need("homeowner", "to apply for permission to build a loft extension", "the work is legal"), "Planning applications"),
    (_need("tenant", "to report a leaking roof", "my home stays dry"), "Housing repairs"),
]


@pytest.mark.parametrize("need,expected", LABELLED, ids=[e for _, e in LABELLED])
def test_suggest_services_ranks_the_expected_service_first(civic, need, expected):
    matches = suggest_services([need])
    assert matches, f"nothing suggested for {need['i_need']!r}"
    assert matches[0].service.name == expected, [(m.service.name, m.score) for m in matches]
    assert matches[0].words, "a match says which words made it"


def test_suggest_services_does_not_put_an_unrelated_service_first(civic):
    streetlight = [m.service.name for m in suggest_services([LABELLED[0][0]])]
    assert streetlight[0] != "Housing repairs"  # "report" and "broken" alone do not make a home repair
    books = [m.service.name for m in suggest_services([LABELLED[1][0]])]
    assert books[0] != "Parking permits"  # "renew" alone does not make a permit


def test_suggest_services_offers_nothing_for_a_need_nobody_meets(civic):
    matches = suggest_services([_need("dog owner", "to adopt a rescued greyhound", "it has a quiet retirement")])
    assert matches == [] or matches[0].score < 0.15


def test_a_need_that_five_services_meet_alike_is_found(db):
    executive = create_person(actor=None, email="exec@example.org", name="Exec Utive", role="executive",
                              password="a-long-test-password")
    build(executive, planted=False)
    from osom.network import actions

    from .civic import content

    need = ("resident", "to pay for a replacement wheelie bin by card", "my new bin arrives")
    for k in range(5):
        actions.establish_service(actor=executive, content=content(f"Area {k} office", "An area office.", [need]))
    pairs = find_duplicate_needs(threshold=DUPLICATE_THRESHOLD)
    assert len(pairs) == 10  # every two of the five
