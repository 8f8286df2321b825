"""The search page, the header's search box and GET /api/v1/search."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories



def _queries(call) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        result = call()
    return len(ctx.captured_queries), result


def _more_parking_services(cast, n: int) -> None:
    for i in range(n):
        factories.service(cast.executive, f"Parking zone {i}", manager=cast.manager)


def test_the_page_lists_results_labelled_by_kind_and_linked_to_their_pages(client, corpus):
    client.force_login(corpus.cast.outsider)
    body = client.get("/search/", {"q": "park"}).content.decode()
    assert "5 results for “park”" in body
    assert 'value="park"' in body  # the query is echoed in the form
    assert '<label for="search-q">' in body
    assert f'href="/services/{corpus.fines.slug}/"' in body
    assert f'href="/guidance/{corpus.guidance.pk}/"' in body
    assert "User need" in body and "Guidance" in body
    assert body.index("Parking fines") < body.index("Use the shared payment platform")


def test_a_coe_result_links_to_the_coe(client, corpus):
    client.force_login(corpus.cast.outsider)
    body = client.get("/search/", {"q": "renewals"}).content.decode()
    assert f'href="/coes/{corpus.coe.pk}/"' in body
    assert "Correction of Error" in body


def test_the_page_says_when_nothing_matches(client, corpus):
    client.force_login(corpus.cast.outsider)
    body = client.get("/search/", {"q": "zebra"}).content.decode()
    assert "No results for “zebra”" in body
    body = client.get("/search/", {"q": '"*:'}).content.decode()
    assert "No results for" in body and "Type a word made of letters or digits" in body


def test_the_page_without_a_query_only_offers_the_form(client, corpus):
    client.force_login(corpus.cast.outsider)
    body = client.get("/search/").content.decode()
    assert "Type one or more words to search." in body
    assert "No results" not in body and 'class="search-result"' not in body


def test_the_header_holds_a_search_box_on_every_page(client, corpus):
    client.force_login(corpus.cast.outsider)
    body = client.get("/").content.decode()
    assert 'action="/search/"' in body
    assert '<label for="site-search-q" class="visually-hidden">' in body


def test_the_page_pages_by_25(client, corpus):
    _more_parking_services(corpus.cast, 22)  # 5 + 22 services and 22 needs: 49 results
    client.force_login(corpus.cast.outsider)
    first = client.get("/search/", {"q": "park"}).content.decode()
    assert "49 results for “park”, page 1 of 2" in first
    assert first.count('class="search-result"') == 25
    second = client.get("/search/", {"q": "park", "page": 2}).content.decode()
    assert second.count('class="search-result"') == 24


def test_the_page_makes_as_many_queries_whatever_the_number_of_results(client, corpus):
    client.force_login(corpus.cast.outsider)
    client.get("/search/", {"q": "park"})  # the session and organisation are read once warm
    few, response = _queries(lambda: client.get("/search/", {"q": "park"}))
    assert response.status_code == 200
    _more_parking_services(corpus.cast, 12)
    many, response = _queries(lambda: client.get("/search/", {"q": "park"}))
    assert "29 results" in response.content.decode()
    assert many == few


def test_the_api_answers_a_page_of_hits_with_the_count(api_as, corpus):
    api = api_as("outsider")
    response = api.get("/search", q="park", limit=2, offset=1)
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 5
    assert [(h["kind"], h["title"]) for h in data["items"]] == [
        ("service", "Parking permits"), ("need", "As a resident, I need Parking fines need 1")]
    permits = data["items"][0]
    assert permits["url"] == f"/services/{corpus.cast.service.slug}/"
    assert permits["service"]["slug"] == corpus.cast.service.slug
    assert permits["title_match"] is True


def test_the_api_filters_by_kind_and_refuses_a_kind_it_does_not_know(api_as, corpus):
    api = api_as("outsider")
    data = api.get("/search", q="park", kind=["guidance", "need"]).json()
    assert [(h["kind"], h["title_match"]) for h in data["items"]] == [("need", True), ("need", True), ("guidance", False)]
    assert data["items"][2]["service"] is None
    assert api.get("/search", q="park", kind="person").status_code == 422


def test_the_api_takes_hostile_text_as_words(api_as, corpus):
    api = api_as("outsider")
    for q in ['"', "*", "NEAR(", "a:*", "!", "'", "\\", ""]:
        response = api.get("/search", q=q)
        assert response.status_code == 200, q
    assert api.get("/search", q='"').json() == {"items": [], "count": 0, "next_cursor": None}
    assert api.get("/search", q="a\x00b").status_code == 400


def test_the_api_needs_a_signed_in_caller(corpus):
    from tests.api.conftest import ApiClient

    assert ApiClient(None).get("/search", q="park").status_code == 401


def test_the_api_makes_as_many_queries_whatever_the_number_of_results(api_as, corpus):
    api = api_as("outsider")
    few, response = _queries(lambda: api.get("/search", q="park"))
    assert response.json()["count"] == 5
    _more_parking_services(corpus.cast, 12)
    many, response = _queries(lambda: api.get("/search", q="park"))
    assert response.json()["count"] == 29
    assert many == few
