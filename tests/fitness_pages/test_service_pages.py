"""A service's fitness data on its pages: the panel on the service's page, its fitness page
and a metric's page, and the ways values arrive — by hand, by CSV upload, pushed with an
ingest token — with how often each is due and the standard measures it may add."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from osom.core.models import AuditEvent
from osom.fitness import actions
from osom.fitness.models import IngestToken, Measurement, MetricSeries

from .helpers import measure, months_ago


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _card(body: str, key: str) -> str:
    """The panel's card of one metric."""
    match = re.search(rf'<li class="fx-card[^"]*" id="fitness-{key}">.*?</li>', body, re.DOTALL)
    assert match, key
    return match.group(0)


def _upload(client, slug: str, text: str):
    return client.post(reverse("fitness:upload", args=[slug]),
                       {"file": SimpleUploadedFile("values.csv", text.encode(), content_type="text/csv")})


# ---------------------------------------------------------------- the panel on the service's page

def test_the_service_page_shows_each_metric_with_its_latest_value_status_and_chart(cast, client):
    measure(cast, "93", back=3)
    measure(cast, "97.5", back=1)
    client.force_login(cast.outsider)
    body = _get(client, reverse("network:service", args=[cast.service.slug]))
    card = _card(body, "m1")
    start, end = months_ago(1)
    assert "97.5%" in card and f"for {end:%b %Y}" in card
    assert '<span class="tag tag--met">Met</span>' in card
    assert "Target at least 95%" in card
    assert "Stale" not in card
    # an accessible chart: an image named by its title, described in words, the target dashed
    assert re.search(r'<svg class="fx-chart fx-chart--small"[^>]*role="img"[^>]*aria-labelledby="([^" ]+) ([^"]+)"', card)
    assert "<title id=" in card and "Parking permits outcome 1 of Parking permits" in card
    assert "the latest is 97.5%" in card and "Target: 95%, higher is better." in card
    assert 'class="fx-chart__target"' in card and 'stroke-dasharray="6 4"' in card
    assert reverse("fitness:service", args=[cast.service.slug]) in body
    # an outsider may read but not record
    assert reverse("fitness:record", args=[cast.service.slug]) not in card


def test_the_panel_says_missed_stale_and_no_data(cast, client):
    measure(cast, "90", back=4)  # below the target of 95, and months old: stale
    client.force_login(cast.team_member)
    card = _card(_get(client, reverse("network:service", args=[cast.service.slug])), "m1")
    assert '<span class="tag tag--missed">Missed</span>' in card
    assert "tag--stale" in card and "Stale" in card
    series = MetricSeries.objects.get(service=cast.service, metric_key="m1")
    assert f"was due by {series.due_on.day} {series.due_on:%b %Y}" in card
    # the other service has no value yet
    other = _card(_get(client, reverse("network:service", args=[cast.other_service.slug])), "m1")
    assert '<span class="tag tag--no-data">No data</span>' in other and "No value recorded yet." in other
    assert "No values yet" in other  # the empty chart says so


def test_the_panel_offers_the_team_the_ways_to_record(cast, client):
    client.force_login(cast.team_member)
    body = _get(client, reverse("network:service", args=[cast.service.slug]))
    assert reverse("fitness:record", args=[cast.service.slug]) in body
    assert reverse("fitness:upload", args=[cast.service.slug]) in body


def test_chart_labels_are_exact_decimals(cast, client):
    for back, value in ((3, "0.1"), (2, "0.2"), (1, "0.3")):
        measure(cast, value, back=back)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:service", args=[cast.service.slug]))
    ticks = re.findall(r'class="fx-chart__tick"[^>]*>([^<]+)</text>', body)
    assert "0.30000000000000004%" not in body and "e-" not in "".join(ticks)
    assert {"0%", "50%", "100%"} <= set(ticks)  # the target, 95, widens the scale to round steps of 50


# ---------------------------------------------------------------- the fitness page and a metric's page

def test_the_fitness_page_shows_every_metric_with_its_cadence_and_due_date(cast, client):
    measure(cast, "96", back=2)
    measure(cast, "98", back=1)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:service", args=[cast.service.slug]))
    series = MetricSeries.objects.get(service=cast.service, metric_key="m1")
    assert '<section class="fx-metric fx-metric--met" id="metric-m1"' in body
    assert 'class="fx-chart fx-chart--large"' in body
    assert "every 31 days" in body and f"{series.due_on.day} {series.due_on:%b %Y}" in body
    assert body.count("<td class=\"num\">98%</td>") == 1 and body.count("<td class=\"num\">96%</td>") == 1
    assert reverse("fitness:export", args=[cast.service.slug]) in body
    assert reverse("fitness:record", args=[cast.service.slug]) not in body  # an outsider may not record
    assert reverse("fitness:cadence", args=[cast.service.slug, "m1"]) not in body


def test_the_manager_sees_every_way_to_add_values(cast, client):
    client.force_login(cast.manager)
    body = _get(client, reverse("fitness:service", args=[cast.service.slug]))
    for name in ("record", "upload", "add_standard", "tokens"):
        assert reverse(f"fitness:{name}", args=[cast.service.slug]) in body, name
    assert reverse("fitness:cadence", args=[cast.service.slug, "m1"]) in body


def test_a_metrics_page_lists_every_value_a_page_at_a_time(cast, client, settings):
    settings.PAGE_SIZE = 2
    for back, value in ((4, "91"), (3, "92"), (2, "93"), (1, "94")):
        measure(cast, value, back=back)
    client.force_login(cast.outsider)
    url = reverse("fitness:metric", args=[cast.service.slug, "m1"])
    body = _get(client, url)
    assert "4 values, newest first; page 1 of 2." in body
    cell = '<td class="num">{}%</td>'.format
    assert cell(94) in body and cell(93) in body and cell(92) not in body and cell(91) not in body
    body = _get(client, url + "?page=2")
    assert cell(92) in body and cell(91) in body and cell(94) not in body and "Max Manager" in body
    assert client.get(reverse("fitness:metric", args=[cast.service.slug, "nope"])).status_code == 404


def test_the_export_is_a_csv_an_upload_reads(cast, client):
    measure(cast, "97.25", back=1)
    client.force_login(cast.outsider)
    response = client.get(reverse("fitness:export", args=[cast.service.slug]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="parking-permits-measurements.csv"' in response["Content-Disposition"]
    lines = response.content.decode().splitlines()
    start, end = months_ago(1)
    assert lines[0].startswith("metric,period_start,period_end,value,measured_at,note")
    assert lines[1].startswith(f"m1,{start},{end},97.25,")


# ---------------------------------------------------------------- recording by hand

def _record_data(value="97.5", back=1, **more):
    start, end = months_ago(back)
    return {"metric_key": "m1", "value": value, "period_start": start.isoformat(), "period_end": end.isoformat(), **more}


def test_the_team_records_a_measurement_and_sees_its_status(cast, client):
    client.force_login(cast.team_member)
    response = client.post(reverse("fitness:record", args=[cast.service.slug]), _record_data("97.5"))
    assert response.status_code == 302 and response["Location"].endswith("#metric-m1")
    m = Measurement.objects.get(service=cast.service)
    assert m.value == Decimal("97.5") and m.source == "manual" and m.recorded_by == cast.team_member
    body = _get(client, response["Location"])
    start, end = months_ago(1)
    assert f"Recorded 97.5% for Parking permits outcome 1, {end:%b %Y}: target met." in body
    assert '<span class="tag tag--met">Met</span>' in body


def test_a_bad_value_comes_back_on_its_field_and_nothing_is_written(cast, client):
    client.force_login(cast.manager)
    before = AuditEvent.objects.count()
    response = client.post(reverse("fitness:record", args=[cast.service.slug]), _record_data("lots"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_value_error"' in body and "“lots” is not a number." in body
    assert 'class="error-summary"' in body
    assert Measurement.objects.count() == 0 and AuditEvent.objects.count() == before


def test_a_period_in_the_future_is_refused_on_its_field(cast, client):
    client.force_login(cast.manager)
    response = client.post(reverse("fitness:record", args=[cast.service.slug]),
                           {"metric_key": "m1", "value": "1", "period_start": "2999-01-01", "period_end": ""})
    body = response.content.decode()
    assert response.status_code == 200 and 'id="id_period_start_error"' in body
    assert "cannot cover a period that has not begun" in body
    assert not Measurement.objects.exists()


def test_a_value_for_a_period_already_measured_asks_to_replace_it(cast, client):
    measure(cast, "90", back=1)
    client.force_login(cast.manager)
    url = reverse("fitness:record", args=[cast.service.slug])
    response = client.post(url, _record_data("96"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "already has the value 90" in body and "That period already has a value." in body
    assert 'name="replace"' in body
    assert Measurement.objects.get().value == 90
    # without a conflict, the box is not offered
    assert 'name="replace"' not in _get(client, url)
    response = client.post(url, _record_data("96", replace="on"))
    assert response.status_code == 302
    assert Measurement.objects.get().value == 96
    assert AuditEvent.objects.filter(verb="record_measurement").count() == 2


# ---------------------------------------------------------------- uploading a CSV file

GOOD = "metric,period_start,period_end,value,note\nm1,{a},{b},96.5,First\nm1,{c},{d},97,\n"


def _good_csv(first_back=2, second_back=1):
    (a, b), (c, d) = months_ago(first_back), months_ago(second_back)
    return GOOD.format(a=a, b=b, c=c, d=d)


def test_an_upload_with_bad_rows_lists_each_with_its_number_and_imports_nothing(cast, client):
    (a, b) = months_ago(1)
    text = (f"metric,period_start,period_end,value\n"
            f"m1,{a},{b},96\n"  # row 2 is good
            f"m9,{a},{b},96\n"  # row 3: not a metric of the contract
            f"m1,{a},{b},ninety\n"  # row 4: not a number (and the same period as row 2 is not reached)
            f"m1,someday,{b},95\n")  # row 5: not a date
    client.force_login(cast.team_member)
    before = AuditEvent.objects.count()
    response = _upload(client, cast.service.slug, text)
    assert response.status_code == 200
    body = response.content.decode()
    assert "3 rows have problems, listed below; nothing was imported." in body
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', body)
    numbers = [int(n) for n, _ in rows]
    assert numbers == sorted(numbers) and set(numbers) == {3, 4, 5}
    assert any(n == "3" and "“m9” is not a metric" in t for n, t in rows)
    assert any(n == "4" and "is not a number" in t for n, t in rows)
    assert any(n == "5" and "is not a date" in t for n, t in rows)
    assert 'id="id_file_error"' in body
    assert not Measurement.objects.exists() and AuditEvent.objects.count() == before


def test_a_good_upload_says_how_many_were_new_and_replaced(cast, client):
    measure(cast, "90", back=1)
    client.force_login(cast.manager)
    response = _upload(client, cast.service.slug, _good_csv())
    assert response.status_code == 302
    body = _get(client, response["Location"])
    assert "Uploaded 2 measurements for Parking permits: 1 new, 1 replaced." in body
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [96.5, 97]


def test_an_upload_without_a_file_or_with_a_bad_header_is_refused_on_the_file(cast, client):
    client.force_login(cast.manager)
    response = client.post(reverse("fitness:upload", args=[cast.service.slug]), {})
    assert response.status_code == 200 and "Choose the CSV file to upload." in response.content.decode()
    response = _upload(client, cast.service.slug, "what,ever\n1,2\n")
    body = response.content.decode()
    assert "Row 1: it lacks the columns metric, period_start, value" in body and 'id="id_file_error"' in body
    assert not Measurement.objects.exists()


# ---------------------------------------------------------------- cadence and standard measures

def test_the_manager_sets_a_cadence_and_the_series_goes_stale_by_it(cast, client):
    measure(cast, "97", back=2)
    client.force_login(cast.manager)
    url = reverse("fitness:cadence", args=[cast.service.slug, "m1"])
    assert 'value="31"' in _get(client, url)
    response = client.post(url, {"days": "0"})
    assert response.status_code == 200 and "from 1 to 400" in response.content.decode()
    assert 'id="id_days_error"' in response.content.decode()
    assert MetricSeries.objects.get(service=cast.service, metric_key="m1").cadence_days == 31
    response = client.post(url, {"days": "1"})
    assert response.status_code == 302
    series = MetricSeries.objects.get(service=cast.service, metric_key="m1")
    # due the day after the end of the month two months ago: always past
    assert series.cadence_days == 1 and series.due_on == months_ago(1)[0]
    body = _get(client, reverse("fitness:service", args=[cast.service.slug]))
    assert "now reports Parking permits outcome 1 every 1 days" in body and "tag--stale" in body


def test_a_standard_measure_goes_to_the_draft_contract(cast, client):
    client.force_login(cast.manager)
    url = reverse("fitness:add_standard", args=[cast.service.slug])
    body = _get(client, url)
    for name in ("Cost per transaction", "User satisfaction", "Completion rate", "Digital take-up"):
        assert name in body
    response = client.post(url, {"measure": "", "target": ""})
    assert response.status_code == 200 and 'id="id_measure_error"' in response.content.decode()
    response = client.post(url, {"measure": "user-satisfaction", "target": "plenty"})
    assert response.status_code == 200
    assert 'id="id_target_error"' in response.content.decode()
    assert not AuditEvent.objects.filter(verb="add_standard_measure").exists()
    response = client.post(url, {"measure": "user-satisfaction", "target": "85"})
    assert response.status_code == 302 and "/versions/2/" in response["Location"]
    assert "Added the measure to draft version 2" in _get(client, response["Location"])
    # now in the draft, it is no longer offered
    assert 'value="user-satisfaction"' not in _get(client, url)


# ---------------------------------------------------------------- ingest tokens

def test_a_new_token_is_shown_once_with_an_example_push(cast, client):
    client.force_login(cast.manager)
    url = reverse("fitness:tokens", args=[cast.service.slug])
    response = client.post(url, {"label": "Permits back office"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    raw = re.search(r'<code class="fx-token" tabindex="0">(osomi_[^<]+)</code>', body).group(1)
    token = IngestToken.objects.get()
    assert raw.startswith(token.prefix) and token.label == "Permits back office"
    assert f"Authorization: Bearer {raw}" in body and "/api/v1/ingest" in body
    assert '{"records": [{"id": ' in body.replace("&quot;", '"')
    for key in ("metric", "value", "timestamp", "period_start", "period_end"):
        assert f'"{key}": ' in body.replace("&quot;", '"'), key
    # the token works, and is never shown again
    actions.ingest_measurements(token=raw, records=[{
        "id": "r1", "metric": "m1", "value": "99", "timestamp": "2026-01-31T10:00:00Z",
        "period_start": months_ago(1)[0].isoformat(), "period_end": months_ago(1)[1].isoformat()}])
    body = _get(client, url)
    assert raw not in body and f"{token.prefix}…" in body and "Permits back office" in body
    assert "never" not in body.split(token.prefix)[1][:400]  # last used is shown


def test_a_long_label_comes_back_on_its_field(cast, client):
    client.force_login(cast.manager)
    response = client.post(reverse("fitness:tokens", args=[cast.service.slug]), {"label": "x" * 101})
    assert response.status_code == 200 and 'id="id_label_error"' in response.content.decode()
    assert not IngestToken.objects.exists()


def test_the_executive_revokes_a_token(cast, client):
    token, _ = actions.issue_ingest_token(actor=cast.manager, service=cast.service, label="Old")
    client.force_login(cast.executive)
    body = _get(client, reverse("fitness:tokens", args=[cast.service.slug]))
    assert "Issue a token" not in body  # the executive may revoke, not issue
    response = client.post(reverse("fitness:token_revoke", args=[cast.service.slug, token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in _get(client, reverse("fitness:tokens", args=[cast.service.slug]))
