"""A small council's network with realistic needs, built through the actions, for the
matcher's labelled tests and for the demand pages."""

from __future__ import annotations

from osom.network import actions
from osom.network.models import Service

# name → (what it is, [(as a, I need, so that), ...])
CIVIC = {
    "Bin collections": (
        "Collects household waste and recycling from every home in the borough.",
        [("resident", "to know which day my bins are collected", "I put them out on time"),
         ("resident", "to report a missed bin collection", "my rubbish and recycling are taken away")],
    ),
    "Parking permits": (
        "Issues residents' and visitors' parking permits for controlled parking zones.",
        [("resident", "to apply for a residents' parking permit for my car", "I can park near my home"),
         ("resident", "to buy visitor parking vouchers", "my guests can park in my street")],
    ),
    "Council tax": (
        "Bills and collects council tax and grants discounts and exemptions.",
        [("householder", "to pay my council tax by direct debit", "I do not fall into arrears"),
         ("householder who lives alone", "to claim a single person discount", "I pay less tax")],
    ),
    "Library loans": (
        "Lends books, e-books and audiobooks to library members.",
        [("library member", "to borrow and renew books online", "I keep reading without visiting the branch"),
         ("library member", "to reserve a book that is out on loan", "I get it as soon as it is returned")],
    ),
    "Street problems": (
        "Takes reports of problems in the street — potholes, broken streetlights, fly-tipping — and sends them to be fixed.",
        [("road user", "to report a pothole or a broken streetlight", "the street is mended and safe"),
         ("resident", "to follow the progress of a street problem I reported", "I know when it has been fixed")],
    ),
    "School admissions": (
        "Allocates places at the borough's primary and secondary schools.",
        [("parent", "to apply for a school place for my child", "they start school in September"),
         ("parent", "to appeal against the school place we were offered", "my child goes to a suitable school")],
    ),
    "Planning applications": (
        "Decides applications for planning permission and publishes them for comment.",
        [("homeowner", "to submit a planning application for an extension", "I build within the law"),
         ("neighbour", "to comment on a planning application near my home", "my views are considered")],
    ),
    "Housing repairs": (
        "Repairs the council's homes for its tenants.",
        [("council tenant", "to report a repair in my home, such as a leaking roof or a broken boiler",
          "it is fixed quickly and my home stays warm and dry")],
    ),
}

# The plant: another service states Housing repairs' need in its own words.
PLANTED = ("Tenancy support", (
    "Supports council tenants through their tenancy: sign-up, rent accounts and moving home.",
    [("tenant in a council flat", "to tell someone my boiler has broken down or water is leaking into the flat",
      "it gets repaired fast and the flat stays warm"),
     ("new tenant", "to sign my tenancy agreement online", "I can move in on the agreed date")],
))


def content(name: str, purpose: str, needs) -> dict:
    return {
        "name": name, "user_type": "external", "evolution_stage": "custom", "purpose": purpose,
        "metrics": [], "dependencies": [],
        "needs": [{"as_a": a, "i_need": i, "so_that": s, "metrics": []} for a, i, s in needs],
    }


def build(executive, *, planted: bool = True) -> dict:
    """Establish the civic services (and the plant); returns them by name. A service of
    the same name that exists already (the test cast's Parking permits) is kept."""
    out = {}
    items = list(CIVIC.items()) + ([PLANTED] if planted else [])
    for name, (purpose, needs) in items:
        out[name] = (Service.objects.filter(name=name).first()
                     or actions.establish_service(actor=executive, content=content(name, purpose, needs)))
    return out
