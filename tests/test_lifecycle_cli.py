"""The ``osom`` commands for assessments and budgets: reads print what the pages show;
the one write acts as a named person through the actions, checked and audited."""

from __future__ import annotations

import datetime as dt

import pytest

from osom.cli import main
from osom.core.models import AuditEvent
from osom.lifecycle import actions
from osom.lifecycle.models import BudgetAllocation

from .lifecycle.helpers import (
    BUDGET,
    allocated,
    clock_at,
    midday_today,
    on_agenda,
    published,
    scheduled,
    service_at,
)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- assessments


def test_assessments_due_lists_live_services_the_overdue_first(cast, capsys):
    with clock_at(midday_today() - dt.timedelta(days=400)):
        late = service_at(cast, "live", "Payroll")
    fresh = service_at(cast, "live", "Libraries")
    booked = scheduled(cast, fresh)
    code, out, _ = _run(capsys, "assessments", "due")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["DUE", "SERVICE", "MANAGER", "CADENCE", "ASSESSMENT"]
    assert "Payroll (payroll)" in lines[1] and "OVERDUE 35d" in lines[1] and "not booked" in lines[1]
    assert "Libraries (libraries)" in lines[2] and f"(#{booked.pk})" in lines[2] and "every 365d" in lines[2]
    code, out, _ = _run(capsys, "assessments", "due", "--overdue")
    assert late.slug in out and fresh.slug not in out


def test_assessments_due_says_when_nothing_is_due(cast, capsys):
    assert _run(capsys, "assessments", "due") == (0, "No live service has a periodic assessment due.\n", "")


def test_assessments_list_shows_reports_and_what_is_to_come(cast, capsys):
    report = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    coming = on_agenda(cast, cast.other_service)
    code, out, _ = _run(capsys, "assessments", "list")
    assert code == 0
    rows = out.splitlines()[1:]
    assert rows[0].split()[0] == str(coming.pk) and "agenda published" in rows[0]
    assert rows[1].split()[0] == str(report.pk) and "Met" in rows[1] and "Progress to alpha" in rows[1]
    code, out, _ = _run(capsys, "assessments", "list", "--service", "identity")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(coming.pk)]


def test_assessments_list_of_an_unknown_service_is_refused(cast, capsys):
    code, _, err = _run(capsys, "assessments", "list", "--service", "nowhere")
    assert code == 2 and err == "osom: There is no service “nowhere”. (slug)\n"


# ---------------------------------------------------------------- a report


def test_report_prints_a_published_report_in_brief_and_as_markdown(cast, capsys):
    report = published(cast, cast.service, outcome="progress_to_alpha", **BUDGET)
    code, out, _ = _run(capsys, "report", str(report.pk))
    assert code == 0
    assert out.startswith(f"Assessment report #{report.pk}: Parking permits, ")
    assert "Met — Progress to alpha" in out and "[    Met] Understand users and their needs" in out
    assert "Allocated £25,000.00 for alpha, 2026-27" in out
    code, out, _ = _run(capsys, "report", str(report.pk), "--markdown")
    assert code == 0 and out.startswith("# Assessment report: Parking permits\n")
    assert "- **Result:** Met" in out and "## Criteria" in out


@pytest.mark.parametrize("which, says", [("open", "has no published report yet (agenda published)"),
                                         ("unknown", "There is no assessment with id 9999")])
def test_report_of_an_assessment_not_published_is_refused(cast, capsys, which, says):
    pk = on_agenda(cast, cast.service).pk if which == "open" else 9999
    code, out, err = _run(capsys, "report", str(pk))
    assert code == 2 and says in err and out == ""


# ---------------------------------------------------------------- budgets


def test_budget_show_prints_balances_and_requests(cast, capsys):
    allocation = allocated(cast, amount="120000.00")
    actions.record_spend(actor=cast.manager, allocation=allocation, amount="1000.10", spent_on=dt.date.today(),
                         description="Research")
    actions.request_funding(actor=cast.manager, service=cast.service, kind="narrow", period="2027-28",
                            rationale="Drop paper.")
    code, out, _ = _run(capsys, "budget", "show", "parking-permits")
    assert code == 0
    assert "Allocated £120,000.00; spent £1,000.10; re-invested £0.00; remaining £118,999.90" in out
    assert f"#{allocation.pk}" in out and "2026-27" in out
    assert "narrow the scope for 2027-28 — awaiting a decision" in out


def test_budget_show_of_a_service_without_money(cast, capsys):
    code, out, _ = _run(capsys, "budget", "show", "identity")
    assert code == 0 and "No money has been allocated yet." in out


def test_budget_allocate_acts_as_the_named_executive_and_is_audited(cast, capsys):
    code, out, _ = _run(capsys, "budget", "allocate", "parking-permits", "1200.50", "--period", "2026-27",
                        "--stage", "alpha", "--note", "For the alpha", "--as", cast.exec_team.email)
    assert code == 0, out
    allocation = BudgetAllocation.objects.get()
    assert (str(allocation.amount), allocation.stage, allocation.note) == ("1200.50", "alpha", "For the alpha")
    assert out == f"Allocated £1,200.50 to Parking permits for 2026-27 (alpha): allocation #{allocation.pk}.\n"
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.actor, event.authority_person) == ("allocate_budget", cast.exec_team, cast.executive)


@pytest.mark.parametrize("argv, says", [
    (["parking-permits", "100", "--period", "2026-27", "--as", "max@example.org"],
     "osom: Only the Executive may allocate a budget.\n"),
    (["parking-permits", "lots", "--period", "2026-27", "--as", "ada@example.org"],
     "osom: “lots” is not an amount of money. (amount)\n"),
    (["parking-permits", "100", "--period", " ", "--as", "ada@example.org"],
     "osom: Say which period the money is for, e.g. 2026-27. (period)\n"),
    (["nowhere", "100", "--period", "2026-27", "--as", "ada@example.org"],
     "osom: There is no service “nowhere”. (slug)\n"),
    (["parking-permits", "100", "--period", "2026-27", "--as", "nobody@example.org"],
     "osom: There is no one with the email address 'nobody@example.org'. (email)\n"),
])
def test_budget_allocate_refusals_print_one_line_and_write_nothing(cast, capsys, argv, says):
    events = AuditEvent.objects.count()
    code, out, err = _run(capsys, "budget", "allocate", *argv)
    assert (code, out, err) == (2, "", says)
    assert not BudgetAllocation.objects.exists() and AuditEvent.objects.count() == events


def test_budget_allocate_needs_to_know_who_acts(cast, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["budget", "allocate", "parking-permits", "100", "--period", "2026-27"])
    assert exit_.value.code == 2 and "--as" in capsys.readouterr().err
