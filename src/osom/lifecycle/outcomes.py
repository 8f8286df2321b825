"""What an assessment may decide, per stage assessed (model 5.2): the one table of it.

Each outcome says where the service goes, whether it needs a *Met* result, whether it
opens a new round at the same stage, whether it decommissions the service, and the
stage whose budget is allocated in the same act."""

from __future__ import annotations

from dataclasses import dataclass

from osom.network.stages import Lifecycle

__all__ = ["Outcome", "OUTCOMES", "outcome_for", "outcome_choices", "DECOMMISSION_CONDITIONS"]


@dataclass(frozen=True)
class Outcome:
    key: str
    label: str
    moves_to: str | None  # None: the service stays at the stage assessed
    requires_met: bool = False
    new_round: bool = False
    budget_for: str | None = None

    @property
    def decommissions(self) -> bool:
        return self.moves_to == Lifecycle.DECOMMISSIONED


D, A, B, L, X = Lifecycle.DISCOVERY, Lifecycle.ALPHA, Lifecycle.BETA, Lifecycle.LIVE, Lifecycle.DECOMMISSIONED

OUTCOMES: dict[str, tuple[Outcome, ...]] = {
    D: (
        Outcome("not_required", "Not required: the needs do not warrant a service", X),
        Outcome("more_research", "More research needed: another round of discovery", None, new_round=True),
        Outcome("progress_to_alpha", "Progress to alpha: the needs are identified", A, requires_met=True, budget_for=A),
    ),
    A: (
        Outcome("no_suitable_way", "No suitable way to meet the needs", X),
        Outcome("continue_alpha", "Continue alpha: several ways, the best not yet known", None, new_round=True),
        Outcome("progress_to_beta", "Progress to beta: the best way is found", B, requires_met=True, budget_for=B),
    ),
    B: (
        Outcome("continue_beta", "Continue beta: not yet ready to run as live", None, new_round=True),
        Outcome("progress_to_live", "Progress to live: ready to run as live", L, requires_met=True, budget_for=L),
    ),
    L: (
        Outcome("remain_live", "Remain live: assessed again at the next due date", None),
        Outcome("decommission", "Decommission: the service is no longer the right answer", X),
    ),
}

# Model 5.2: when a service may be decommissioned.
DECOMMISSION_CONDITIONS = {
    "a": "New needs have appeared that the service cannot meet, and another service now meets its users' needs better.",
    "b": "The needs no longer exist.",
}


def outcome_for(stage: str, key: str) -> Outcome | None:
    return next((o for o in OUTCOMES.get(stage, ()) if o.key == key), None)


def outcome_choices(stage: str) -> list[tuple[str, str]]:
    return [(o.key, o.label) for o in OUTCOMES.get(stage, ())]
