"""The ``osom`` commands for the executive's levers: reads print what the pages show; the
one write (reminding the managers of a mandate) acts as a named person through the
actions, checked and audited; a refusal prints one line and exits with code 2."""

from __future__ import annotations

import datetime as dt

import pytest

from osom.cli import main
from osom.core.models import AuditEvent, Notification
from osom.governance import actions, cli
from osom.governance.models import Guidance, Mandate, Proposal
from osom.network import actions as network_actions

from . import factories
from .governance.helpers import (
    drafted_guidance,
    drafted_mandate,
    issued_mandate,
    proposal,
    published_guidance,
    services_dispute,
    target_of,
)
from .lifecycle.helpers import clock_at, midday_today, service_at


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_parsers_choices_are_the_models_own():
    assert cli.MANDATE_STATUSES == Mandate.Status.values
    assert cli.GUIDANCE_STATUSES == Guidance.Status.values
    assert cli.GUIDANCE_CATEGORIES == Guidance.Category.values
    assert cli.GUIDANCE_SOURCES == Guidance.Source.values
    assert cli.PROPOSAL_STATUSES == Proposal.Status.values


# ---------------------------------------------------------------- mandates


def test_mandates_list_shows_progress_the_issued_first(cast, capsys):
    draft = drafted_mandate(cast, title="Publish metrics monthly")
    issued = issued_mandate(cast)
    actions.report_mandate_progress(actor=cast.manager, target=target_of(issued, cast.service), note="Done.", done=True)
    code, out, _ = _run(capsys, "mandates", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "DUE", "DONE", "ACKNOWLEDGED", "TITLE"]
    assert lines[1].split()[:5] == [str(issued.pk), "issued", issued.due_date.isoformat(), "1/2", "1"]
    assert lines[1].endswith("Move to the shared identity service")
    assert lines[2].split()[:4] == [str(draft.pk), "draft", draft.due_date.isoformat(), "0/2"]
    code, out, _ = _run(capsys, "mandates", "list", "--status", "draft")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(draft.pk)]
    code, out, _ = _run(capsys, "mandates", "list", "--limit", "1")
    assert out.splitlines()[-1] == "… and 1 more (--limit)."


def test_mandates_list_says_when_there_is_none(cast, capsys):
    assert _run(capsys, "mandates", "list") == (0, "No mandate has been drafted yet.\n", "")


def test_an_overdue_mandate_says_so(cast, capsys):
    with clock_at(midday_today() - dt.timedelta(days=90)):
        issued_mandate(cast, due_date=dt.date.today() - dt.timedelta(days=60))
    code, out, _ = _run(capsys, "mandates", "list")
    assert code == 0 and "OVERDUE" in out.splitlines()[1]


def test_mandate_show_prints_each_service_and_a_text_burn_up(cast, capsys):
    with clock_at(midday_today() - dt.timedelta(days=2)):
        mandate = issued_mandate(cast)
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service),
                                    note="Sign-in moved to Identity.", done=True)
    code, out, _ = _run(capsys, "mandate", "show", str(mandate.pk))
    assert code == 0
    assert out.startswith(f"Mandate #{mandate.pk}: Move to the shared identity service (issued)\n")
    assert "2 services: 1 acknowledged, 1 done" in out and "Scope: 2 chosen services" in out
    assert "  > Sign people in through the shared identity service" in out
    table = out.split("\n\n")[1].splitlines()
    assert table[0].split() == ["SERVICE", "SERVICE", "MANAGER", "STATUS", "NOTE"]
    assert table[1].startswith("Identity (identity)") and "awaiting acknowledgement" in table[1]
    assert table[2].startswith("Parking permits (parking-permits)") and "Sign-in moved to Identity." in table[2]
    burn_up = out.split("Burn-up (services done, of 2):\n")[1].splitlines()
    today, issued_on = dt.date.today(), dt.date.today() - dt.timedelta(days=2)
    assert burn_up[0] == f"  {issued_on.isoformat()}  {'·' * 20}  0/2 done, 0 acknowledged"
    assert burn_up[-2] == f"  {today.isoformat()}  {'#' * 10}{'·' * 10}  1/2 done, 1 acknowledged"
    assert burn_up[-1] == "  # done  + acknowledged  · awaiting acknowledgement"


def test_mandate_show_of_a_draft_has_no_burn_up(cast, capsys):
    mandate = drafted_mandate(cast, scope_filter={"stage": "discovery"}, services=None)
    code, out, _ = _run(capsys, "mandate", "show", str(mandate.pk))
    assert code == 0 and "Scope: stage: discovery" in out and out.endswith("Not issued yet: no burn-up.\n")


def test_mandate_remind_acts_as_the_named_executive_and_is_audited(cast, capsys):
    mandate = issued_mandate(cast)
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service), note="Done.", done=True)
    told = Notification.objects.filter(person=cast.other_manager).count()
    code, out, err = _run(capsys, "mandate", "remind", str(mandate.pk), "--as", cast.exec_team.email)
    assert (code, out, err) == (0, "Reminded 1 manager of the mandate “Move to the shared identity service”.\n", "")
    assert Notification.objects.filter(person=cast.other_manager).count() == told + 1
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.actor, event.authority_person) == ("remind_mandate", cast.exec_team, cast.executive)


@pytest.mark.parametrize("who, which, says", [
    ("max@example.org", "issued", "osom: Only the Executive may send reminders of a mandate.\n"),
    ("ada@example.org", "draft", "osom: Only an issued mandate has managers to remind. (mandate)\n"),
    ("ada@example.org", "unknown", "osom: There is no mandate with id 9999. (id)\n"),
    ("nobody@example.org", "issued", "osom: There is no one with the email address 'nobody@example.org'. (email)\n"),
])
def test_mandate_remind_refusals_print_one_line_and_write_nothing(cast, capsys, who, which, says):
    pk = {"issued": lambda: issued_mandate(cast).pk, "draft": lambda: drafted_mandate(cast).pk,
          "unknown": lambda: 9999}[which]()
    events, notes = AuditEvent.objects.count(), Notification.objects.count()
    assert _run(capsys, "mandate", "remind", str(pk), "--as", who) == (2, "", says)
    assert (AuditEvent.objects.count(), Notification.objects.count()) == (events, notes)


def test_mandate_remind_needs_to_know_who_acts(cast, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["mandate", "remind", "1"])
    assert exit_.value.code == 2 and "--as" in capsys.readouterr().err


# ---------------------------------------------------------------- guidance and proposals


def test_guidance_list_shows_each_piece_and_its_uptake(cast, capsys):
    draft = drafted_guidance(cast, title="Use open standards")
    payments = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=payments, service=cast.service, decision="reject",
                            rationale="Permits are free.")
    code, out, _ = _run(capsys, "guidance", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "CATEGORY", "SOURCE", "ADOPTED", "REJECTED", "TITLE"]
    assert lines[1].split()[:6] == [str(payments.pk), "published", "technology", "practice", "0", "1"]
    assert lines[2].split()[:2] == [str(draft.pk), "draft"]
    code, out, _ = _run(capsys, "guidance", "list", "--status", "withdrawn")
    assert out == "No guidance matches.\n"


def test_guidance_list_refuses_an_unknown_category(cast, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["guidance", "list", "--category", "magic"])
    assert exit_.value.code == 2 and "invalid choice: 'magic'" in capsys.readouterr().err


def test_proposals_list_shows_what_was_decided(cast, capsys):
    open_ = proposal(cast)
    proposed = proposal(cast, title="Bike hangars")
    service = actions.establish_from_proposal(actor=cast.executive, proposal=proposed,
                                              content=factories.contract("Bike hangars"))
    code, out, _ = _run(capsys, "proposals", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "PROPOSED", "STATUS", "NEEDS", "BY", "TITLE", "SERVICE"]
    assert lines[1].split()[:4] == [str(proposed.pk), dt.date.today().isoformat(), "established", "2"]
    assert lines[1].endswith(f"Bike hangars ({service.slug})")
    assert lines[2].split()[2] == "open" and "Visitor and carer permits" in lines[2]
    code, out, _ = _run(capsys, "proposals", "list", "--status", "open")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [str(open_.pk)]


# ---------------------------------------------------------------- the matcher


def test_match_suggests_services_and_says_why(cast, capsys):
    code, out, err = _run(capsys, "match", "I need to renew my parking permits", "--as-a", "resident",
                          "--so-that", "I can park near home")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "Existing services that could meet it, best first:"
    assert lines[1].startswith("1. Parking permits (parking-permits) — ") and lines[1].endswith("% alike")
    assert lines[2].startswith("   why: ") and "parking" in lines[2] and "permits" in lines[2]
    assert lines[3].startswith("   closest need (") and "As a resident, I need Parking permits need 1" in lines[3]


def test_match_says_when_nothing_meets_the_need(cast, capsys):
    code, out, _ = _run(capsys, "match", "I need a swimming pool")
    assert code == 0 and out.startswith("No existing service looks like it meets this need.")


def test_match_without_words_is_refused(cast, capsys):
    assert _run(capsys, "match", "I need it") == (
        2, "", "osom: Say what is needed, in a few words the matcher can use. (need)\n")


def test_duplicates_pairs_needs_of_different_services(cast, capsys):
    for name, i_need in (("Bulky waste", "to book a bulky waste collection online"),
                         ("Recycling centre", "to book a bulky waste collection slot online")):
        content = factories.contract(name)
        content["needs"][0].update(as_a="householder", i_need=i_need, so_that="old furniture leaves my home")
        network_actions.establish_service(actor=cast.executive, content=content)
    code, out, _ = _run(capsys, "duplicates")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("1. ") and "% alike — shared words: " in lines[0] and "bulky" in lines[0]
    assert {lines[1].split(" (")[0].strip(), lines[2].split(" (")[0].strip()} == {"Bulky waste", "Recycling centre"}
    assert "I need to book a bulky waste collection" in lines[1]
    assert _run(capsys, "duplicates", "--threshold", "1") == (
        0, "No two services' needs look alike at this threshold (1).\n", "")
    assert _run(capsys, "duplicates", "--threshold", "7")[0] == 2


# ---------------------------------------------------------------- the executive's attention


def test_attention_lists_what_needs_acting_on_in_plain_text(cast, capsys):
    with clock_at(midday_today() - dt.timedelta(days=400)):
        service_at(cast, "live", "Payroll")
    dispute = services_dispute(cast)
    proposed = proposal(cast)
    guidance = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                            rationale="Permits are free.")
    code, out, _ = _run(capsys, "attention")
    assert code == 0
    assert out.startswith("Needs the Executive's attention: 3 items to act on.\n")
    assert "Overdue assessments (1)\n  - Payroll (payroll): due " in out and "35 days overdue; manager Max Manager" in out
    assert (f"Open disputes (1)\n  - #{dispute.pk} Identity outages at month end "
            "(Parking permits and Identity), raised ") in out
    assert f"Proposed needs (1)\n  - #{proposed.pk} Visitor and carer permits, proposed by Ola Outsider on " in out
    assert "Guidance rejected (1)\n  - Parking permits rejected “Use the shared payment platform”: Permits are free." in out
    assert "Funding requests" not in out  # empty lists are left out


def test_attention_when_nothing_needs_it(cast, capsys):
    assert _run(capsys, "attention") == (0, "Needs the Executive's attention: 0 items to act on.\n", "")
