"""Capital flow on its pages: the worked example of the model (section 11) as the pages
show it — fully loaded costs, the invariant, cost per transaction, the picture of the money
and a service's breakdown by provider — a cycle money never leaves, and the two forms that
record the inputs: a provider's consumption shares and a service's transactions."""

from __future__ import annotations

import re
from decimal import Decimal

from django.urls import reverse

from osom.core.models import AuditEvent
from osom.fitness import actions
from osom.fitness.models import ConsumptionShare, PeriodVolume
from osom.network.models import Service

from .. import factories
from .helpers import PERIOD, depend, spend, worked_example


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _service_row(body: str, name: str) -> list[str]:
    match = re.search(rf'<th scope="row"><a href="[^"]*">{name}</a></th>(.*?)</tr>', body, re.DOTALL)
    assert match, name
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.DOTALL)]


def test_the_capital_flow_page_shows_the_worked_example(cast, client):
    worked_example(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:capital"))
    assert "Capital flow in 2026-27" in body
    # direct, fully loaded, external share, external cost, transactions, per transaction
    assert _service_row(body, "Hosting") == ["£100.00", "£100.00", "0%", "£0.00", "—", "—"]
    assert _service_row(body, "Identity provider") == ["£50.00", "£70.00", "0%", "£0.00", "—", "—"]
    assert _service_row(body, "Payments") == ["£80.00", "£138.00", "0%", "£0.00", "—", "—"]
    assert _service_row(body, "Pay a fine") == ["£30.00", "£260.00", "100%", "£260.00", "13,000", "£0.0200"]
    # the invariant, plainly
    assert "Total direct spend <strong>£260.00</strong>" in body
    assert "Reaches external users <strong>£260.00</strong>" in body
    assert "Unallocated <strong>£0.00</strong>" in body and "the two totals agree exactly" in body


def test_the_picture_draws_a_band_for_each_flow_as_wide_as_its_money(cast, client):
    worked_example(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:capital"))
    svg = body[body.index('<svg class="fx-flow"'):body.index("</svg>", body.index('<svg class="fx-flow"'))]
    assert 'role="img"' in svg and "<title id=\"fx-flow-title\">How the money of 2026-27 flows through the network</title>" in svg
    bands = re.findall(r'<path class="fx-flow__band[^"]*" d="([^"]+)"[^>]*><title>([^<]+)</title>', svg)
    labels = [label for _, label in bands]
    assert "Hosting → Pay a fine: £50.00 (50% of Hosting)" in labels
    assert "Identity provider → Payments: £28.00 (40% of Identity provider)" in labels
    assert "Payments → Pay a fine: £138.00 (100% of Payments)" in labels
    assert "Pay a fine → External users: £260.00" in labels
    assert len(bands) == 7  # six flows between services, one to external users

    def thickness(label):
        path = next(d for d, text in bands if text == label)
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path)]
        return numbers[9] - numbers[7]  # where it ends: its bottom edge minus its top
    # the widths are proportional to the money: 138 is 2.76 times 50 (to the tenth of a pixel)
    ratio = thickness("Payments → Pay a fine: £138.00 (100% of Payments)") / thickness(
        "Hosting → Pay a fine: £50.00 (50% of Hosting)")
    assert abs(ratio - 2.76) < 0.02
    # columns by depth: hosting at the base, the journey three layers up
    assert "Layer 1 (base)" in svg and "Layer 4" in svg and "Layer 5" not in svg


def test_a_services_page_breaks_its_cost_down_by_provider_and_transaction(cast, client):
    w = worked_example(cast)
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:capital_service", args=[PERIOD, w["journey"].slug]))
    assert "Of £0.02 per transaction, £0.0077 is Hosting." in body
    rows = re.findall(r'<th scope="row">(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</th>\s*<td class="num">([^<]+)</td>', body)
    breakdown = dict(rows)
    assert breakdown["Hosting"] == "£100.00" and breakdown["Payments"] == "£80.00"
    assert breakdown["Identity provider"] == "£50.00" and breakdown["Pay a fine itself"] == "£30.00"
    assert re.search(r'<th scope="row">Fully loaded</th><td class="num"><strong>£260.00</strong></td>', body)
    per = dict(re.findall(r'<th scope="row">(?:<a href="[^"]*">)?([^<]+)(?:</a>)?</th>.*?<td class="num">(£0\.\d{4})</td>',
                          body, re.DOTALL))
    assert per["Hosting"] == "£0.0077" and per["Pay a fine itself"] == "£0.0023"
    # who it takes from, with the money each passes on
    assert re.search(r">Payments</a></td><td class=\"num\">100%</td><td class=\"num\">£138.00</td>", body)


def test_a_cycle_money_never_leaves_is_an_error_naming_its_services(cast, client):
    loop_a = factories.service(cast.executive, "Loop A", manager=cast.other_manager, user_type="internal")
    loop_b = factories.service(cast.executive, "Loop B", manager=cast.other_manager, user_type="internal",
                               dependencies=["loop-a"])
    depend(cast, loop_a, loop_b)
    spend(cast, loop_a, "10")
    spend(cast, loop_b, "10")
    actions.record_consumption_shares(actor=cast.other_manager, provider=loop_a, period=PERIOD, shares={"loop-b": "1"})
    actions.record_consumption_shares(actor=cast.other_manager, provider=loop_b, period=PERIOD, shares={"loop-a": "1"})
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:capital"))
    assert 'class="callout callout--bad" role="alert"' in body
    assert "cannot be worked out" in body and "The money never leaves the cycle" in body
    assert f'{reverse("fitness:capital_service", args=[PERIOD, "loop-a"])}">Loop A</a>' in body
    assert f'{reverse("fitness:capital_service", args=[PERIOD, "loop-b"])}">Loop B</a>' in body
    assert '<svg class="fx-flow"' not in body


def test_the_period_chooser_defaults_to_the_latest(cast, client):
    spend(cast, cast.service, "10", period="2025-26")
    spend(cast, cast.service, "20", period="2026-27")
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:capital"))
    assert "Capital flow in 2026-27" in body and 'name="period"' in body
    body = _get(client, reverse("fitness:capital") + "?period=2025-26")
    assert "Capital flow in 2025-26" in body and "Total direct spend <strong>£10.00</strong>" in body


def test_no_money_yet_is_said_plainly(cast, client):
    client.force_login(cast.outsider)
    body = _get(client, reverse("fitness:capital"))
    assert "no money to follow" in body


def test_a_period_written_with_a_slash_has_its_own_page(cast, client):
    spend(cast, cast.service, "20", period="2026/27")
    client.force_login(cast.outsider)
    url = reverse("fitness:capital_service", args=["2026/27", cast.service.slug])
    assert url.endswith("/2026/27/parking-permits/")
    assert "Parking permits's capital flow in 2026/27" in _get(client, url).replace("&#x27;", "'")


# ---------------------------------------------------------------- the forms

def test_the_provider_records_shares_and_the_external_remainder_is_shown(cast, client):
    spend(cast, cast.other_service, "50")
    client.force_login(cast.other_manager)
    url = reverse("fitness:shares", args=[cast.other_service.slug]) + f"?period={PERIOD}"
    body = _get(client, url)
    assert 'name="share_parking-permits"' in body and 'id="fx-external"' in body and ">100%</output>" in body
    response = client.post(url, {"period": PERIOD, "share_parking-permits": "40"})
    assert response.status_code == 302
    assert response["Location"] == reverse("fitness:capital_service", args=[PERIOD, cast.other_service.slug])
    assert ConsumptionShare.objects.get().share == Decimal("0.4")
    body = _get(client, response["Location"])
    assert "40% to other services, 60% to external users" in body
    # the form comes back with the shares on record, and the remainder
    body = _get(client, url)
    assert 'value="40"' in body and ">60%</output>" in body


def test_shares_over_a_hundred_percent_come_back_on_the_field_and_nothing_is_written(cast, client):
    client.force_login(cast.other_manager)
    url = reverse("fitness:shares", args=[cast.other_service.slug])
    before = AuditEvent.objects.count()
    response = client.post(url, {"period": PERIOD, "share_parking-permits": "150"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_share_parking-permits_error"' in body and "A share is between 0 and 1" in body
    assert "more than 100% given out" in body
    response = client.post(url, {"period": "", "share_parking-permits": "abc"})
    body = response.content.decode()
    assert 'id="id_period_error"' in body and "is not a share" in body
    assert not ConsumptionShare.objects.exists() and AuditEvent.objects.count() == before


def test_a_service_records_its_transactions(cast, client):
    client.force_login(cast.team_member)
    url = reverse("fitness:transactions", args=[cast.service.slug])
    response = client.post(url, {"period": PERIOD, "transactions": "many"})
    assert response.status_code == 200 and 'id="id_transactions_error"' in response.content.decode()
    assert not PeriodVolume.objects.exists()
    response = client.post(url, {"period": PERIOD, "transactions": "13000"})
    assert response.status_code == 302
    body = _get(client, response["Location"])
    assert "Recorded 13,000 transactions for Parking permits in 2026-27." in body
    assert PeriodVolume.objects.get().transactions == 13_000
    assert 'value="13000"' in _get(client, url + f"?period={PERIOD}")


def test_the_flow_is_worked_out_once_and_again_after_any_write(cast, client, settings):
    """Every page of a period, its services' pages and the API share one working out of the
    flow, kept until the next write; what is written next, by anyone, is on the next page."""
    from osom.fitness import queries

    settings.PAGE_SIZE = 2
    worked_example(cast)
    client.force_login(cast.outsider)
    kept = queries.capital_flow_for
    before = kept.computed
    first = _get(client, reverse("fitness:capital"))
    second = _get(client, reverse("fitness:capital") + f"?period={PERIOD}&page=2")
    _get(client, reverse("fitness:capital_service", args=[PERIOD, "payments"]))
    assert client.get(f"/api/v1/capital-flow/{PERIOD}").status_code == 200
    assert kept.computed == before + 1
    assert _service_row(first, "Payments") == ["£80.00", "£138.00", "0%", "£0.00", "—", "—"]
    assert "Total direct spend <strong>£260.00</strong>" in second
    # the manager of Payments records its transactions: the next page shows them
    actions.record_transactions(actor=cast.other_manager, service=Service.objects.get(slug="payments"),
                                period=PERIOD, transactions=1_000)
    after = _get(client, reverse("fitness:capital"))
    assert kept.computed == before + 2
    assert _service_row(after, "Payments") == ["£80.00", "£138.00", "0%", "£0.00", "1,000", "£0.1380"]
    # a write anywhere else is a write too: the flow is worked out again, and is the same
    factories.service(cast.executive, "Unrelated")
    again = _get(client, reverse("fitness:capital"))
    assert kept.computed == before + 3 and again.count("<td") == after.count("<td")
    assert _service_row(again, "Payments") == _service_row(after, "Payments")


def test_a_flow_given_up_is_freed_at_once_not_left_for_the_cycle_collector(cast, client):
    """A kept flow is given up at the next write. Nothing in it may refer back to it (a
    table of the flow reading the flow, the page's picture reading the view): it must be
    freed as soon as it is given up, by reference counting alone, or each flow given up
    would wait in memory for the cycle collector's rare full passes (a gigabyte at 50,000
    services after a few writes)."""
    import gc
    import weakref

    from osom.core.kept import forget_all
    from osom.fitness import queries

    worked_example(cast)
    client.force_login(cast.outsider)
    for url in (reverse("fitness:capital"), reverse("fitness:capital_service", args=[PERIOD, "payments"]),
                f"/api/v1/capital-flow/{PERIOD}"):
        assert client.get(url).status_code == 200
    # the requests' own leftovers (the templates' contexts, which hold the view) are
    # collected soon after any request; here at once
    gc.collect()
    view = queries.capital_flow_for(PERIOD)
    flow = view.flow
    # every table and figure of the flow read once, as the pages and the API read them
    for pk in view.services:
        flow.direct[pk], flow.external_cost[pk], flow.fully_loaded_exact[pk], flow.external_share[pk]
        flow.external_cost_exact[pk], flow.external_cost_balanced[pk], flow.breakdown(pk)
    assert view._made  # the page's order and picture are kept with it
    gone = weakref.ref(view), weakref.ref(flow)
    del view, flow
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        forget_all()
        assert [ref() is None for ref in gone] == [True, True]
    finally:
        if was_enabled:
            gc.enable()
