"""Building test data through the actions layer, as a person would."""

from __future__ import annotations

from osom.network import actions


def contract(name: str, *, user_type: str = "external", evolution_stage: str = "custom", needs: int = 1,
             dependencies: list | None = None, purpose: str | None = None) -> dict:
    """A valid contract with ``needs`` needs, each measured by its own metric."""
    metrics = [
        {"key": f"m{i}", "name": f"{name} outcome {i}", "unit": "%", "direction": "higher", "target": "95"}
        for i in range(1, needs + 1)
    ]
    return {
        "name": name,
        "user_type": user_type,
        "evolution_stage": evolution_stage,
        "purpose": purpose or f"{name} does one thing well. It serves its users.",
        "benefit": "Saves money.",
        "usage": "Through its API.",
        "onboarding": "Ask the team.",
        "expectations": "Works during office hours.",
        "support": "Raise a ticket.",
        "migration_path": "",
        "metrics": metrics,
        "needs": [
            {"as_a": "resident", "i_need": f"{name} need {i}", "so_that": "I get on with my day", "metrics": [f"m{i}"]}
            for i in range(1, needs + 1)
        ],
        "dependencies": [{"provider": d} for d in (dependencies or [])],
    }


def service(actor, name: str, *, manager=None, stage: str | None = None, **kwargs):
    """Establish (or, with ``stage``, adopt) a service through the actions."""
    content = contract(name, **kwargs)
    if stage:
        return actions.adopt_existing_service(actor=actor, content=content, lifecycle_stage=stage, manager=manager)
    return actions.establish_service(actor=actor, content=content, manager=manager)
