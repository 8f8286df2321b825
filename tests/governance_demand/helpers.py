"""Posting the demand pages' forms as a browser would."""

from __future__ import annotations

from osom.governance import actions


def proposal_data(title: str, needs: list[tuple[str, str, str]], context: str = "", **extra) -> dict:
    data = {"title": title, "context": context, "needs-TOTAL_FORMS": str(len(needs)), "needs-INITIAL_FORMS": "0",
            "needs-MIN_NUM_FORMS": "0", "needs-MAX_NUM_FORMS": "1000", **extra}
    for i, (as_a, i_need, so_that) in enumerate(needs):
        data.update({f"needs-{i}-as_a": as_a, f"needs-{i}-i_need": i_need, f"needs-{i}-so_that": so_that})
    return data


STREETLIGHT = ("resident", "to report a broken streetlight on my road", "my road is safe to walk at night")
GRITTING = ("driver", "to know which roads are gritted in icy weather", "I can plan a safe route")


def a_proposal(person, title: str = "Report street problems online", needs=(STREETLIGHT, GRITTING)):
    return actions.propose_needs(actor=person, title=title, context="Residents phone us about these today.",
                                 needs=[{"as_a": a, "i_need": i, "so_that": s} for a, i, s in needs])


def a_deviation(executive, title: str = "Finance approves large budgets", review_on="2099-01-31"):
    return actions.record_deviation(
        actor=executive, title=title, compromised="The executive alone allocates budgets.",
        positive="Finance checks large commitments.", negative="Slower funding for services.",
        governance="Finance answers within five working days; overdue answers go to the executive.", review_on=review_on)
