"""The standard measures (model 11): four metrics a customer-facing service commonly reports
besides its own, offered as ready-made templates for a contract."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StandardMeasure", "STANDARD_MEASURES", "standard_measure"]


@dataclass(frozen=True)
class StandardMeasure:
    key: str
    name: str
    unit: str
    direction: str  # "higher" or "lower" is better
    kind: str  # outcome, cost or consumption
    how_measured: str
    why: str

    def as_metric(self, currency: str = "GBP") -> dict:
        """The measure as a contract metric (the shape of ``osom.network.contract``)."""
        return {"key": self.key, "name": self.name, "unit": currency if self.unit == "money" else self.unit,
                "direction": self.direction, "target": None, "kind": self.kind,
                "how_measured": self.how_measured, "is_proxy": False}


STANDARD_MEASURES: tuple[StandardMeasure, ...] = (
    StandardMeasure(
        "cost-per-transaction", "Cost per transaction", "money", "lower", "cost",
        "The service's fully loaded cost in the period divided by the transactions completed in it.",
        "Shows what each completed transaction costs the organisation, including the services it consumes.",
    ),
    StandardMeasure(
        "user-satisfaction", "User satisfaction", "%", "higher", "outcome",
        "The share of users answering satisfied or very satisfied when they finish.",
        "Tells whether the people the service exists for are content with it.",
    ),
    StandardMeasure(
        "completion-rate", "Completion rate", "%", "higher", "outcome",
        "Transactions completed divided by transactions started, in the period.",
        "Shows where users give up before reaching what they came for.",
    ),
    StandardMeasure(
        "digital-take-up", "Digital take-up", "%", "higher", "outcome",
        "Transactions completed through the digital channel divided by all transactions completed.",
        "Shows how many users choose the digital route over phone, post or counter.",
    ),
)

_BY_KEY = {m.key: m for m in STANDARD_MEASURES}


def standard_measure(key: str) -> StandardMeasure | None:
    return _BY_KEY.get((key or "").strip())
