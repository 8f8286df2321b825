"""Map texts and a small network for the map pages' tests, built through the actions."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.maps.actions import save_service_map
from osom.network.actions import alter_contract

from .. import factories

# The cast's service, its user and the service it consumes.
MAP = """title Parking permits
anchor Resident [0.95, 0.5]
component Parking permits [0.7, 0.35]
component Identity [0.4, 0.62] (buy)
Resident->Parking permits
Parking permits->Identity
"""
# The same map with a kerb sensor that was given one number instead of two, on line 7.
BAD_LINE = 7
WITH_A_BAD_LINE = MAP + "component Kerb sensors [0.5]\n"


def saved(c, text: str = MAP, *, note: str = "First map", actor=None):
    return save_service_map(actor=actor or c.manager, service=c.service, text=text, note=note)


def queries_of(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content.decode()[:800]
    return len(ctx.captured_queries)


def small_network(c) -> dict:
    """Beside the cast's Parking permits (external, custom) → Identity (internal, product):
    Pay a fine (external, live) → Payments (internal, product) → Hosting (internal,
    commodity), and Pay a fine → Identity."""
    hosting = factories.service(c.executive, "Hosting", user_type="internal", evolution_stage="commodity", stage="live")
    payments = factories.service(c.executive, "Payments", user_type="internal", evolution_stage="product",
                                 dependencies=[hosting.slug], stage="live")
    fine = factories.service(c.executive, "Pay a fine", user_type="external", evolution_stage="custom",
                             dependencies=[payments.slug, c.other_service.slug], stage="live")
    return {"hosting": hosting, "payments": payments, "fine": fine}


def make_depend(c, consumer, *providers) -> None:
    """The executive alters ``consumer``'s contract so it consumes ``providers`` (a way to
    close a cycle, which establishing a service cannot)."""
    content = factories.contract(consumer.name, user_type=consumer.user_type, evolution_stage=consumer.evolution_stage,
                                 dependencies=[p.slug for p in providers])
    alter_contract(actor=c.executive, service=consumer, content=content, reason="It now consumes more.",
                   risk="Little.")
    consumer.refresh_from_db()
