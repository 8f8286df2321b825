"""The network's fitness, the standard measures, the executive's figures (with the live
check of an expression) and what the dashboard says of missed targets and stale series."""

from __future__ import annotations

import re

from django.urls import reverse

from osom.core.models import AuditEvent
from osom.fitness import actions
from osom.fitness.models import Aggregation
from osom.fitness.queries import periods_for

from .. import factories
from .helpers import measure


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _tiles(body: str) -> dict[str, int]:
    return {label: int(count) for count, label in
            re.findall(r'<span class="fx-tile__count">(\d+)</span> <span class="fx-tile__label">([^<]+)</span>', body)}


def _rows(body: str) -> list[str]:
    tbody = body[body.index("<tbody>"):body.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", tbody, re.DOTALL)


def _world(c):
    """Parking permits meets its target; Identity misses it, months ago (stale); a third
    service has no value; a fourth, in alpha, no target."""
    measure(c, "97", back=1)
    measure(c, "80", back=4, service=c.other_service, actor=c.other_manager)
    factories.service(c.executive, "Street lighting", manager=c.other_manager)
    content = factories.contract("Bin day finder")
    content["metrics"][0]["target"] = None
    from osom.network.actions import adopt_existing_service

    finder = adopt_existing_service(actor=c.executive, content=content, lifecycle_stage="alpha", manager=c.other_manager)
    measure(c, "12", back=1, service=finder, actor=c.other_manager)
    return finder


# ---------------------------------------------------------------- the network's fitness

def test_the_overview_counts_each_status_and_lists_every_metric(cast, client):
    _world(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:overview"))
    assert _tiles(body) == {"Missed": 1, "Stale": 1, "No data": 1, "No target": 1, "Met": 1}
    rows = _rows(body)
    assert len(rows) == 4
    by_service = {re.search(r'fitness/">([^<]+)</a>', r).group(1): r for r in rows}
    assert "tag--met" in by_service["Parking permits"] and "97%" in by_service["Parking permits"]
    assert "tag--missed" in by_service["Identity"] and "tag--stale" in by_service["Identity"]
    assert "tag--no-data" in by_service["Street lighting"]
    assert "tag--no-target" in by_service["Bin day finder"] and ">12<" not in by_service["Bin day finder"]


def test_the_overview_filters_by_status_stage_and_text(cast, client):
    _world(cast)
    client.force_login(cast.outsider)
    url = reverse("fitness:overview")
    assert [("Identity" in r) for r in _rows(_get(client, url + "?status=missed"))] == [True]
    assert [("Identity" in r) for r in _rows(_get(client, url + "?status=stale"))] == [True]
    assert ["Street lighting" in r for r in _rows(_get(client, url + "?status=no+data"))] == [True]
    assert ["Bin day finder" in r for r in _rows(_get(client, url + "?stage=alpha"))] == [True]
    body = _get(client, url + "?q=lighting")
    assert len(_rows(body)) == 1 and "1 matching metric" in body
    # the counts follow the text and stage filters, so they add up to what is listed
    assert sum(v for k, v in _tiles(body).items() if k != "Stale") == 1
    body = _get(client, url + "?status=met&q=nothing-like-it")
    assert "No metric matches." in body


def test_the_overview_answers_htmx_with_its_results_alone(cast, client):
    _world(cast)
    client.force_login(cast.outsider)
    response = client.get(reverse("fitness:overview") + "?status=met", HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="fx-results")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and 'class="fx-tiles"' in body
    assert len(_rows(body)) == 1


def test_the_overview_paginates(cast, client, settings):
    settings.PAGE_SIZE = 2
    _world(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:overview"))
    assert len(_rows(body)) == 2 and "page 1 of 2" in body
    assert len(_rows(_get(client, reverse("fitness:overview") + "?page=2"))) == 2


def test_the_standard_measures_page_explains_the_four(cast, client):
    client.force_login(cast.outsider)
    actions.add_standard_measure(actor=cast.manager, service=cast.service, measure="user-satisfaction")
    body = _get(client, reverse("fitness:standard_measures"))
    for name, words in (("Cost per transaction", "fully loaded cost"), ("User satisfaction", "satisfied or very satisfied"),
                        ("Completion rate", "completed divided by transactions started"),
                        ("Digital take-up", "through the digital channel")):
        assert f">{name}</h2>" in body and words in body
    # added to a draft, not yet reported by any current contract
    assert body.count("no service yet") == 4


# ---------------------------------------------------------------- the executive's figures

def test_the_live_check_points_at_the_mistake_with_its_column(cast, client):
    client.force_login(cast.executive)
    body = _get(client, reverse("fitness:check_expression") + "?expression=sum(m1)+%2B+avgg(m1)")
    assert "fx-check--bad" in body and "Error at column 11:" in body
    assert "Unknown function &#x27;avgg&#x27;" in body
    marker = re.search(r'<span class="fx-check__marker">( *)\^</span>', body).group(1)
    assert len(marker) == 10  # the caret sits under the 11th character
    body = _get(client, reverse("fitness:check_expression") + "?expression=avg(m1)+%2F+max(nothing)")
    assert "fx-check--ok" in body and "<code>m1</code>, <code>nothing</code>" in body
    assert "No current contract reports <code>nothing</code> yet" in body
    body = _get(client, reverse("fitness:check_expression") + "?expression=sum(m1)%0A%2B+(")
    assert "Error at line 2, column 4:" in body


def test_the_figure_form_carries_the_live_check_and_the_reference(cast, client):
    client.force_login(cast.executive)
    body = _get(client, reverse("fitness:figure_new"))
    assert f'hx-get="{reverse("fitness:check_expression")}"' in body and 'hx-target="#expression-check"' in body
    for word in ("sum(…)", "avg(…)", "median(…)", "count(…)", "evolution", "not in (a, b)", "<code>m1</code>"):
        assert word in body, word


def test_a_bad_expression_comes_back_on_its_field_and_nothing_is_written(cast, client):
    client.force_login(cast.executive)
    before = AuditEvent.objects.count()
    response = client.post(reverse("fitness:figure_new"), {"name": "", "expression": "sum(m1", "grain": "month",
                                                           "within": "latest"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_expression_error"' in body and "Expected &#x27;where&#x27; or &#x27;)&#x27; at column 7" in body
    assert 'id="id_name_error"' in body and "Name the figure." in body
    assert "fx-check--bad" in body  # the check is shown again beside the field
    assert not Aggregation.objects.exists() and AuditEvent.objects.count() == before


def test_the_executive_defines_a_figure_and_sees_its_values_over_time(cast, client):
    measure(cast, "96", back=1)
    measure(cast, "80", back=1, service=cast.other_service, actor=cast.other_manager)
    client.force_login(cast.exec_team)
    response = client.post(reverse("fitness:figure_new"), {
        "name": "Mean outcome", "expression": "AVG( m1 )", "unit": "%", "grain": "month", "within": "latest",
        "description": "How well the services do, on the whole."})
    assert response.status_code == 302
    figure = Aggregation.objects.get()
    assert figure.expression == "avg(m1)"
    body = _get(client, response["Location"])
    assert "Saved the figure “Mean outcome”." in body
    assert re.search(r'<svg class="fx-chart fx-chart--large"[^>]*role="img"', body)
    last = periods_for("month")[-2]  # last month, when both services reported
    assert re.search(rf"<th scope=\"row\">{last.start:%b %Y}</th>\s*<td class=\"num\">88%</td>", body)
    # this month nobody has reported: no value, and why
    assert "No service reported m1" in body
    assert reverse("fitness:figure_edit", args=[figure.slug]) in body


def test_editing_a_figure_someone_changed_meanwhile_is_refused(cast, client):
    figure = actions.define_aggregation(actor=cast.executive, name="Mean outcome", expression="avg(m1)")
    actions.define_aggregation(actor=cast.exec_team, aggregation=figure, name="Mean outcome", expression="max(m1)",
                               expected_revision=1)
    client.force_login(cast.executive)
    response = client.post(reverse("fitness:figure_edit", args=[figure.slug]), {
        "name": "Mean outcome", "expression": "min(m1)", "grain": "month", "within": "latest", "revision": "1"})
    body = response.content.decode()
    assert response.status_code == 200 and "changed by someone else" in body and "Now: max(m1)" in body
    figure.refresh_from_db()
    assert figure.expression == "max(m1)"


def test_the_executive_retires_a_figure_and_it_can_no_longer_be_changed(cast, client):
    figure = actions.define_aggregation(actor=cast.executive, name="Mean outcome", expression="avg(m1)")
    client.force_login(cast.executive)
    response = client.post(reverse("fitness:figure_retire", args=[figure.slug]))
    assert response.status_code == 302
    body = _get(client, response["Location"])
    assert "Retired the figure “Mean outcome”" in body
    assert reverse("fitness:figure_retire", args=[figure.slug]) not in body
    listing = _get(client, reverse("fitness:figures"))
    assert "tag--retired" in listing


def test_only_the_executive_is_offered_to_define_figures(cast, client):
    actions.define_aggregation(actor=cast.executive, name="Mean outcome", expression="avg(m1)")
    client.force_login(cast.manager)
    body = _get(client, reverse("fitness:figures"))
    assert "Mean outcome" in body and reverse("fitness:figure_new") not in body
    body = _get(client, reverse("fitness:figure", args=["mean-outcome"]))
    assert reverse("fitness:figure_edit", args=["mean-outcome"]) not in body


# ---------------------------------------------------------------- the dashboard

def _dashboard(client, person) -> str:
    client.force_login(person)
    body = _get(client, reverse("governance:dashboard"))
    start = body.find('id="fitness-dash-h"')
    return body[start:body.find("</section>\n</section>", start)] if start >= 0 else ""


def test_the_executive_sees_counts_linking_to_the_filtered_overview(cast, client):
    _world(cast)
    for person in (cast.executive, cast.exec_team):
        section = _dashboard(client, person)
        assert '?status=missed"><strong>1</strong> missed target' in section
        assert '?status=stale"><strong>1</strong> stale series' in section


def test_a_manager_sees_their_own_missed_and_stale_metrics(cast, client):
    _world(cast)
    section = _dashboard(client, cast.other_manager)
    assert "Identity" in section and "tag--missed" in section and "tag--stale" in section
    assert "80%, target at least 95%" in section
    assert "Parking permits" not in section


def test_an_executive_sees_the_metrics_of_a_service_they_manage_and_is_not_asked_for_them_otherwise(cast, client):
    """The dashboard knows from what is asked of a person's services whether they manage
    any running service: only then does it look for their missed and stale metrics."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from osom.network.actions import appoint_manager

    _world(cast)
    with CaptureQueriesContext(connection) as captured:
        section = _dashboard(client, cast.executive)
    assert "Your services' metrics" not in section and "missed target" in section
    series_read = [q["sql"] for q in captured.captured_queries if 'FROM "fitness_metricseries"' in q["sql"]]
    assert series_read and not [sql for sql in series_read if "manager_id" in sql]
    appoint_manager(actor=cast.executive, service=cast.other_service, person=cast.executive, reason="Cover")
    section = _dashboard(client, cast.executive)
    assert "Your services' metrics" in section and "Identity" in section and "tag--missed" in section
    assert "missed target" in section  # the network's counts as before


def test_nothing_is_shown_to_a_person_with_nothing_to_see(cast, client):
    measure(cast, "97", back=1)  # met and fresh
    assert _dashboard(client, cast.manager) == ""
    assert _dashboard(client, cast.outsider) == ""
    assert _dashboard(client, cast.executive) == ""  # nothing missed, nothing stale (no value is not stale)
