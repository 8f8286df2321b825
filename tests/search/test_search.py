"""Search: the words found, the order, and what the index holds as things change.

Every ordered list here is exact, and the suite runs on SQLite or PostgreSQL: run on both,
these tests show the two databases find the same things in the same order."""

from __future__ import annotations

import pytest

from osom.governance import actions as governance
from osom.learning import actions as learning
from osom.network import actions as network
from osom.search.index import rebuild
from osom.search.models import SearchDocument
from osom.search.queries import search
from osom.search.text import fold, words
from tests import factories

CAFE = ("service", "Café finder")
CAFE_NEED = ("need", "As a resident, I need Café finder need 1")
RESUME = ("service", "Résumé checker")
RESUME_NEED = ("need", "As a resident, I need Résumé checker need 1")
FINES = ("service", "Parking fines")
FINES_NEED = ("need", "As a resident, I need Parking fines need 1")
PERMITS = ("service", "Parking permits")
PERMITS_NEED = ("need", "As a resident, I need Parking permits need 1")
IDENTITY = ("service", "Identity")
IDENTITY_NEED = ("need", "As a resident, I need Identity need 1")
PLATFORM = ("guidance", "Use the shared payment platform")
RENEWALS = ("coe", "Permit renewals failed overnight")

EXPECTED = {
    # title matches first (services, then needs), then the guidance that mentions parking
    "park": [FINES, PERMITS, FINES_NEED, PERMITS_NEED, PLATFORM],
    "PARKING permit": [PERMITS, PERMITS_NEED],
    # accents and capitals do not matter, in the text or in the query
    "cafe": [CAFE, CAFE_NEED],
    "CAFÉ": [CAFE, CAFE_NEED],
    "Resume": [RESUME, RESUME_NEED],
    "vitae": [RESUME],  # "vitæ" in the summary
    "vit": [RESUME],
    "pay": [PLATFORM, RENEWALS],  # the guidance by its title, the CoE by "payment certificate" in its text
    "fine": [FINES, FINES_NEED, RENEWALS],
    "renewals overnight": [RENEWALS],
    "need 1": [CAFE_NEED, IDENTITY_NEED, FINES_NEED, PERMITS_NEED, RESUME_NEED],
    "a": [CAFE, RESUME, RENEWALS],
    "x y z": [],
    # hostile FTS5 and tsquery syntax is only ever words, or nothing
    '"': [],
    "*": [],
    "!": [],
    "'": [],
    "\\": [],
    "&|!()": [],
    "—…": [],
    "NEAR(": [CAFE],
    'near("cafe" open)': [CAFE],
    "a:*": [CAFE, RESUME, RENEWALS],
    "café*": [CAFE, CAFE_NEED],
    "'park' & !fine": [FINES, FINES_NEED],
    "park OR fine": [],  # every word must match: nothing holds "or"
    "": [],
    "   ": [],
}


def found(q: str) -> list[tuple[str, str]]:
    return [(d.kind, d.title) for d in search(q)]


@pytest.mark.parametrize("q", list(EXPECTED))
def test_it_finds_the_same_things_in_the_same_order_on_either_database(corpus, q):
    assert found(q) == EXPECTED[q]


def test_words_are_folded_to_lower_case_without_accents():
    assert fold("Ålesund CAFÉ Øresund Straße") == "alesund cafe oresund strasse"
    assert words('"a:*" NEAR( x_y 2024-05 naïve') == ["a", "near", "x", "y", "2024", "05", "naive"]
    assert words("!&|()*") == []


def test_a_draft_coe_and_draft_or_withdrawn_guidance_are_not_found(corpus):
    assert found("doubled") == []  # the draft CoE's title
    assert found("vouchers") == []  # draft guidance
    assert found("paper forms") == []  # withdrawn guidance
    assert not SearchDocument.objects.filter(kind="coe", object_id=corpus.draft_coe.pk).exists()


def test_publishing_a_coe_or_guidance_puts_it_in_the_index_and_withdrawing_takes_it_out(corpus):
    c = corpus.cast
    learning.publish_coe(actor=c.manager, coe=corpus.draft_coe)
    assert found("doubled") == [("coe", "Café payments doubled")]
    governance.publish_guidance(actor=c.executive, guidance=corpus.draft_guidance)
    assert found("vouchers") == [("guidance", "Parking café vouchers")]
    governance.withdraw_guidance(actor=c.executive, guidance=corpus.guidance, reason="Replaced.")
    assert found("platform") == []


def test_discarding_a_draft_coe_leaves_nothing_behind(corpus):
    learning.discard_coe(actor=corpus.cast.team_member, coe=corpus.draft_coe)
    assert found("doubled") == []


def test_only_the_current_contracts_needs_are_found(corpus):
    c = corpus.cast
    content = factories.contract("Café finder", purpose="Finds a café near you, open late.")
    content["needs"][0]["i_need"] = "a quiet table with wifi"
    draft = network.draft_contract_version(actor=c.manager, service=corpus.cafe)
    draft = network.edit_contract_draft(actor=c.manager, version=draft, content=content)
    assert found("wifi") == []  # a draft is not public
    network.submit_contract_version(actor=c.manager, version=draft)
    assert found("wifi") == []
    network.approve_contract_version(actor=c.executive, version=draft)
    assert found("wifi") == [("need", "As a resident, I need a quiet table with wifi")]
    assert found("finder need") == []  # the old version's need is gone


def test_rebuilding_the_index_gives_the_same_results(corpus):
    before = {q: found(q) for q in EXPECTED}
    count = SearchDocument.objects.count()
    SearchDocument.objects.all().delete()
    assert found("park") == []
    assert rebuild() == count
    assert {q: found(q) for q in EXPECTED} == before


def test_the_network_lists_filter_uses_the_index(corpus):
    from osom.network.queries import network_list

    assert [s.name for s in network_list(q="cafe")] == ["Café finder"]
    assert [s.name for s in network_list(q="park")] == ["Parking fines", "Parking permits"]
    assert [s.name for s in network_list(q="parking-fines")] == ["Parking fines"]  # by its slug
    assert [s.name for s in network_list(q="penalty notices")] == ["Parking fines"]  # by its summary
    assert list(network_list(q="%")) == []
