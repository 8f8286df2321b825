"""Two real processes act on the same object at the same time — the same act, or two
acts that exclude each other (approve or return a version, publish or cancel an
assessment): exactly one succeeds, the other is refused with a sentence saying why,
and the database holds one act's worth of rows and one audit event for it, with the
audit chain intact (``osom audit verify``).

Each scenario runs twice, each time on an object of its own:

- ``together``: a barrier releases both processes into the act at the same moment;
  which one wins, and how far each gets before the other, is up to the machine.
- ``interleaved``: the first process stops inside its act — its checks passed, its
  locks held, its writes not committed — while the second does its act; the first
  goes on once the second waits for a lock (PostgreSQL) or begins its transaction
  (SQLite, where it then waits at BEGIN IMMEDIATE for the first to commit). This is
  the worst case, and the same on every run.

The processes run ``procs.py`` against a database of this module's own (an SQLite file
in WAL mode, or a new PostgreSQL database), made with ``osom migrate`` and the actions.

What makes them hold: each act decides on the rows it changes as they are now, locked
(``select_for_update``), not on the copy its caller read; and on PostgreSQL its row
locks are FOR NO KEY UPDATE, so that another act inserting a row that refers to a locked
one does not wait for it. With FOR UPDATE, publishing a report (the service locked, then
waiting for the assessment) and cancelling it (the assessment locked, then its audit
event, which names the service, waiting for the service) deadlock; approving and
returning a contract version likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from . import procs


@dataclass(frozen=True)
class Race:
    """What the loser is told (by which process lost: 0, 1) and what the database then
    holds (by which process won: 0, 1). The loser is refused as it would be had it come
    second by a minute: a Conflict, unless the act refuses a repeat as invalid input."""

    told: tuple[str, str]
    after: tuple[dict, dict]
    code: str = "conflict"

    @classmethod
    def same_act(cls, told: str, after: dict, code: str = "conflict") -> Race:
        return cls((told, told), (after, after), code)


PUBLISHED = {"status": "published", "stage": "alpha", "stage_changes": 1, "allocations": 1, "versions": 1,
             "decommissioned_versions": 0, "open_assessments": 0, "events": 1}

RACES = {
    "approve_version": Race.same_act(
        "is already approved", {"status": "approved", "current_version": 2, "approved_versions": 2, "events": 1,
                                "notified": 1}),
    # process 0 returns the submitted version to its manager, process 1 approves it
    "approve_or_return": Race(
        ("is not awaiting approval", "is still a draft"),
        ({"status": "draft", "current_version": 1, "events": 1},
         {"status": "approved", "current_version": 2, "events": 1})),
    "add_team_member": Race.same_act("is already in", {"memberships": 1, "events": 1}, code="invalid"),
    # the token's owner and the executive revoke it at once
    "revoke_token": Race.same_act("already revoked", {"revoked": True, "events": 1}, code="invalid"),
    "draft_version": Race.same_act("already has an open draft", {"open_drafts": 1, "events": 1}),
    # the report moves the service from discovery to alpha and allocates alpha's budget
    "publish_report": Race.same_act("its report is published", PUBLISHED),
    # the report decommissions the service, keeping the reasons in a new contract version
    "decommission": Race.same_act(
        "its report is published", {"status": "published", "stage": "decommissioned", "stage_changes": 1,
                                    "allocations": 0, "versions": 2, "decommissioned_versions": 1,
                                    "open_assessments": 0, "events": 1}),
    # process 0 cancels the assessment, process 1 publishes its report
    "report_or_cancel": Race(
        ("its report is published", "it was cancelled"),
        ({**PUBLISHED, "status": "cancelled", "stage": "discovery", "stage_changes": 0, "allocations": 0}, PUBLISHED)),
    "schedule_assessment": Race.same_act("already has an assessment", {"open_assessments": 1, "events": 1}),
    "issue_mandate": Race.same_act("is issued already", {"status": "issued", "targets": 2, "notified": 2, "events": 1}),
    "publish_coe": Race.same_act("is published already", {"status": "published", "notified": 1, "events": 1}),
}
MODES = ("together", "interleaved")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    reason = procs.skip_reason(request.param)
    if reason:
        pytest.skip(reason)
    keys = [f"{name}@{mode}" for name in RACES for mode in MODES]
    db = procs.prepare(request.param, tmp_path_factory.mktemp(f"races-{request.param}"), "races", keys)
    yield db
    db.drop()


def _explain(result: dict) -> str:
    lines = []
    for outcome in result["outcomes"]:
        detail = outcome.get("message") or outcome.get("error") or ""
        lines.append(f"process {outcome['who']}: {outcome['outcome']} {detail}".rstrip())
        if outcome.get("trace"):
            lines.append(outcome["trace"][-3000:])
    lines.append(f"afterwards: {result['facts']}")
    return "\n".join(lines)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(RACES))
def test_of_two_processes_doing_the_same_act_one_succeeds_and_the_other_is_told_why(database, name, mode):
    race = RACES[name]

    result = procs.run(database, "race", f"{name}@{mode}", mode)

    outcomes = result["outcomes"]
    if mode == "interleaved":  # the second acted while the first was inside its act, not after it
        waited = "second waiting for a lock" if database.backend == "postgresql" else "second beginning its transaction"
        assert outcomes[0].get("saw") == waited, _explain(result)
    assert sorted(o["outcome"] for o in outcomes) == ["done", "refused"], _explain(result)
    winner = 0 if outcomes[0]["outcome"] == "done" else 1
    loser = outcomes[1 - winner]
    assert loser["code"] == race.code, _explain(result)
    assert race.told[1 - winner] in loser["message"], _explain(result)
    # one act's worth of rows, one audit event for it, and nothing of the refused act
    assert result["facts"] == race.after[winner], _explain(result)
    assert result["chain"]["intact"], result["chain"]["problem"]
    assert result["chain"]["command"] == 0 and "intact" in result["chain"]["said"]

