"""Capital flow is worked out with the cycle collector paused, on its pages and in the API."""

from __future__ import annotations

import gc

import pytest
from django.urls import reverse

from osom.fitness import queries

from ..fitness_pages.helpers import PERIOD, worked_example


@pytest.mark.parametrize("where", ["page", "service page", "api", "service api"])
def test_capital_flow_is_worked_out_with_the_collector_paused(cast, client, api_as, monkeypatch, collector_on, where):
    worked_example(cast)
    seen = []
    original = queries.capital_flow_for

    def spy(period):
        seen.append(gc.isenabled())
        return original(period)

    monkeypatch.setattr(queries, "capital_flow_for", spy)
    client.force_login(cast.outsider)
    if where == "page":
        response = client.get(reverse("fitness:capital"))
    elif where == "service page":
        response = client.get(reverse("fitness:capital_service", args=[PERIOD, "pay-a-fine"]))
    elif where == "api":
        response = api_as("outsider").get(f"/capital-flow/{PERIOD}")
    else:
        response = api_as("outsider").get(f"/capital-flow/{PERIOD}/services/pay-a-fine")
    assert response.status_code == 200
    assert seen == [False]
    assert gc.isenabled()
