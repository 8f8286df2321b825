"""The ``osom`` commands of the learning loop: reads print what the pages show — the
doctrine's grid and heat map as letters, the CoE library and a CoE in full, a review's
agenda, the learning figures, communities and coverage — on data made through the
actions; writes act as a named person through the same actions, checked and audited; a
refusal prints one line and exits with code 2, writing nothing."""

from __future__ import annotations

import datetime as dt

from osom.cli import main
from osom.core.models import AuditEvent
from osom.learning import actions, cli
from osom.learning.doctrine import GROUPS
from osom.learning.models import (
    CoEReview,
    Community,
    CorrectionOfError,
    CorrectiveAction,
    DoctrineRating,
    DoctrineRound,
    PatternEffect,
    Rating,
)
from osom.network.stages import Lifecycle

from .learning.test_permissions import (
    DUE,
    PROFESSION,
    TODAY,
    drafted_coe,
    endorsed,
    first_action,
    formed,
    open_round,
    posted_role,
    published_coe,
    rate,
    snapshot,
    world,
)

YESTERDAY = TODAY - dt.timedelta(days=1)


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _refused_and_nothing_written(capsys, *argv: str) -> str:
    before = snapshot()
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, ""), (code, out, err)
    assert err.startswith("osom: ") and err.count("\n") == 1
    assert snapshot() == before
    return err


def test_the_parsers_choices_are_the_models_own():
    assert cli.GROUPS == GROUPS
    assert cli.RATINGS == Rating.values and set(cli.LETTERS) == set(Rating.values)
    assert cli.ROUND_STATUSES == DoctrineRound.Status.values
    assert cli.COE_STATUSES == CorrectionOfError.Status.values
    assert cli.EFFECTS == PatternEffect.Effect.values
    assert cli.ACTION_STATUSES == CorrectiveAction.Status.values
    assert cli.REVIEW_STATUSES == CoEReview.Status.values
    assert cli.COMMUNITY_STATUSES == Community.Status.values
    assert cli.STAGES == [s for s in Lifecycle.values if s != Lifecycle.DECOMMISSIONED]


# ---------------------------------------------------------------- the doctrine


def test_doctrine_patterns_prints_the_catalogue_in_the_organisations_words(cast, capsys):
    from osom.learning.models import DoctrinePattern

    actions.edit_doctrine_meaning(actor=cast.executive, pattern=DoctrinePattern.objects.get(slug="there-is-no-core"),
                                  meaning="Nothing we run is forever.")
    code, out, _ = _run(capsys, "doctrine", "patterns", "--group", "leading", "--phase", "4")
    assert code == 0
    assert out.splitlines() == [
        "leading — IV Continuously evolving",
        "  There is no core (there-is-no-core)",
        "      Nothing we run is forever.",
        "  Exploit the landscape (exploit-the-landscape)",
        "      Use force multipliers to make the right moves at the right time.",
    ]
    code, out, _ = _run(capsys, "doctrine", "patterns")
    assert out.count("\n      ") == 40


def _three_respondents(cast):
    rnd = open_round(cast, organisation=True)
    actions.rate_doctrine(actor=cast.manager, round=rnd, ratings=[
        {"pattern": "know-your-users", "rating": "good", "evidence": "We interview residents monthly."},
        {"pattern": "manage-failure", "rating": "good"}, {"pattern": "be-transparent", "rating": "weak"}])
    rate(cast.team_member, rnd, know_your_users="good", manage_failure="partly", be_transparent="partly")
    rate(cast.outsider, rnd, know_your_users="partly", be_transparent="unknown")
    return rnd


def test_doctrine_grid_draws_groups_by_phases_a_letter_per_pattern(cast, capsys):
    rnd = _three_respondents(cast)
    code, out, _ = _run(capsys, "doctrine", "grid", str(rnd.pk))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"Self-assessment #{rnd.pk}: ") and lines[0].endswith("(open for ratings)")
    assert lines[1] == (f"  Of the organisation; opened {TODAY:%Y-%m-%d} by Ada Lovelace; 3 respondents, 8 ratings")
    grid = {line.split()[0]: line for line in lines[3:10]}
    assert lines[3].split() == ["I", "II", "III", "IV"]
    # development, phase I: know your users (good), then three patterns nobody rated
    assert grid["development"].split()[1:5] == ["G", "?", "?", "?"]
    # communication, phase II: be transparent (weak, partly and an unknown: weak)
    assert grid["communication"].split()[1:] == ["?", "?", "?", "W"]
    # operation, phase II: think small is phase I; then manage inertia, effectiveness, manage failure (partly)
    assert grid["operation"].split()[1:5] == ["?", "?", "?", "P"]
    assert set(GROUPS) == set(grid) - {"I"}
    assert "  1 good, 1 partly, 1 weak, 37 unknown" in lines
    assert "Work on next (the earliest phase first):" in lines
    # the same phase: weak before partly
    assert lines[-2:] == ["  W  II  Be transparent (be-transparent)", "  P  II  Manage failure (manage-failure)"]
    code, out, _ = _run(capsys, "doctrine", "grid", str(rnd.pk), "--patterns")
    assert "  G  Know your users (know-your-users): 2 good, 1 partly" in out.splitlines()
    assert "       Max Manager (good): We interview residents monthly." in out.splitlines()


def test_doctrine_grid_finds_the_latest_rated_round_and_shows_the_change(cast, capsys):
    first = open_round(cast)
    rate(cast.team_member, first, know_your_users="weak")
    actions.close_doctrine_round(actor=cast.manager, round=first)
    second = open_round(cast)  # the latest, but nobody rated it yet: the grid shows it all the same
    code, out, _ = _run(capsys, "doctrine", "grid", "--service", "parking-permits")
    assert code == 0 and out.startswith(f"Self-assessment #{first.pk}: ")
    rate(cast.team_member, second, know_your_users="good")
    code, out, _ = _run(capsys, "doctrine", "grid", "--service", "parking-permits")
    assert code == 0 and out.startswith(f"Self-assessment #{second.pk}: ")
    assert out.splitlines()[-2:] == [f"Changed since #{first.pk} ({TODAY:%Y-%m-%d}):",
                                     "  better  Know your users: weak → good"]
    assert _run(capsys, "doctrine", "grid") == (
        0, "The organisation has no self-assessment against the doctrine yet.\n", "")


def test_doctrine_rounds_and_heat_map(cast, capsys):
    rnd = open_round(cast)
    rate(cast.team_member, rnd, know_your_users="good", use_a_common_language="weak")
    code, out, _ = _run(capsys, "doctrine", "rounds")
    header, row = out.splitlines()
    assert header.split() == ["ID", "OPENED", "STATUS", "OF", "RESPONDENTS", "RATINGS", "TITLE"]
    assert row.split()[:7] == [str(rnd.pk), TODAY.isoformat(), "open", "Parking", "permits", "(parking-permits)", "1"]
    assert _run(capsys, "doctrine", "rounds", "--organisation")[1] == "No self-assessment matches.\n"
    code, out, _ = _run(capsys, "doctrine", "heat-map")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SERVICE", "comm", "developme", "operati", "structu", "lear", "leading", "ROUND"]
    identity = lines[1].split()
    assert identity[0] == "Identity" and identity[-1] == "none" and set("".join(identity[1:-1])) == {"?"}
    parking = lines[2].split()
    assert parking[-1] == f"#{rnd.pk}"
    assert parking[2] == "W???" and parking[3] == "G????????"
    code, out, _ = _run(capsys, "doctrine", "heat-map", "--rated")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:-1]] == ["Parking"]


def test_doctrine_open_rate_and_close_act_as_the_person_named(cast, capsys):
    code, out, _ = _run(capsys, "doctrine", "open", "--service", "parking-permits", "--title", "Spring",
                        "--as", cast.manager.email)
    rnd = DoctrineRound.objects.get()
    assert code == 0 and out.startswith(f"Opened self-assessment #{rnd.pk}: Spring.")
    code, out, _ = _run(capsys, "doctrine", "rate", str(rnd.pk), "know-your-users=good", "manage-failure=Weak",
                        "--evidence", "know-your-users=We interview residents monthly.", "--as", cast.team_member.email)
    assert (code, out) == (0, "Recorded 2 ratings in “Spring”.\n")
    rating = DoctrineRating.objects.get(pattern__slug="know-your-users")
    assert (rating.respondent, rating.rating, rating.evidence) == (cast.team_member, "good",
                                                                    "We interview residents monthly.")
    assert AuditEvent.objects.latest("id").verb == "rate_doctrine"
    err = _refused_and_nothing_written(capsys, "doctrine", "rate", str(rnd.pk), "know-your-users=weak",
                                       "--as", cast.outsider.email)
    assert err == "osom: Only the service manager of Parking permits or its team may rate this service against the doctrine.\n"
    err = _refused_and_nothing_written(capsys, "doctrine", "rate", str(rnd.pk), "know-your-users=meh",
                                       "--as", cast.team_member.email)
    assert "(ratings[0].rating)" in err
    err = _refused_and_nothing_written(capsys, "doctrine", "rate", str(rnd.pk), "know-your-users",
                                       "--as", cast.team_member.email)
    assert err == "osom: “know-your-users” is not NAME=VALUE. (ratings)\n"
    _refused_and_nothing_written(capsys, "doctrine", "close", str(rnd.pk), "--as", cast.team_member.email)
    code, out, _ = _run(capsys, "doctrine", "close", str(rnd.pk), "--as", cast.manager.email)
    assert code == 0 and DoctrineRound.objects.get().status == "closed"


# ---------------------------------------------------------------- Corrections of Error


def test_coes_lists_and_searches_the_library_drafts_only_for_their_people(cast, capsys):
    coe = published_coe(cast, actions=[
        {"description": "Alert on expiry", "owner": cast.team_member.email, "due_date": YESTERDAY.isoformat()},
        {"description": "Name an owner", "owner": cast.manager.email, "due_date": DUE.isoformat()}])
    draft = drafted_coe(cast, title="A near miss")
    code, out, _ = _run(capsys, "coes")
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["ID", "OCCURRED", "STATUS", "SERVICE", "OPEN", "OVERDUE", "TITLE"]
    assert row.split()[:7] == [str(coe.pk), coe.occurred_on.isoformat(), "published", "Parking", "permits", "2/2", "1"]
    # the same day: the later written first
    assert [line.split()[0] for line in _run(capsys, "coes", "--as", cast.team_member.email)[1].splitlines()[1:]] == [
        str(draft.pk), str(coe.pk)]
    assert _run(capsys, "coes", "certificate", "nobody")[1].splitlines()[1].startswith(str(coe.pk))
    assert _run(capsys, "coes", "--pattern", "manage-failure", "--effect", "helped")[1] == "No Correction of Error matches.\n"
    assert _run(capsys, "coes", "--service", "nowhere")[0] == 2


def test_coe_prints_a_coe_in_full_with_overdue_actions_and_its_review(cast, capsys):
    coe = published_coe(cast, actions=[
        {"description": "Alert on expiry", "owner": cast.team_member.email, "due_date": YESTERDAY.isoformat()}])
    review = actions.schedule_coe_review(actor=cast.executive, scheduled_for=TODAY)
    actions.hold_coe_review(actor=cast.executive, review=review, coe_notes={coe.pk: "Share widely."})
    code, out, _ = _run(capsys, "coe", str(coe.pk))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Correction of Error #{coe.pk}: Permit renewals failed overnight (reviewed)"
    assert lines[1] == f"  Parking permits (parking-permits); occurred {coe.occurred_on:%Y-%m-%d}; users affected: yes"
    for heading in ("The problem", "Its impact", "The root cause", "Lessons learned", "Timeline", "5 whys",
                    "Doctrine patterns", "Corrective actions"):
        assert heading in lines, heading
    assert "  hurt   Manage failure (manage-failure): No alert on expiry." in lines
    assert "    2. Nobody owned it" in lines
    action = first_action(coe)
    assert f"  #{action.pk} open OVERDUE, due {YESTERDAY:%Y-%m-%d}, Tia Team: Alert on expiry" in lines
    assert lines[-1] == f"Reviewed in #{review.pk} “{review.title}” ({TODAY:%Y-%m-%d}): Share widely."


def test_a_draft_coe_is_shown_only_to_its_services_people(cast, capsys):
    draft = drafted_coe(cast, title="A near miss")
    err = _refused_and_nothing_written(capsys, "coe", str(draft.pk))
    assert "still a draft" in err and "--as EMAIL" in err
    err = _refused_and_nothing_written(capsys, "coe", str(draft.pk), "--as", cast.other_manager.email)
    assert err.startswith("osom: This Correction of Error is still a draft. Only the service manager of Parking permits")
    code, out, _ = _run(capsys, "coe", str(draft.pk), "--as", cast.team_member.email)
    assert code == 0 and out.startswith(f"Correction of Error #{draft.pk}: A near miss (draft)")


def test_coe_action_updates_and_verifies_as_the_person_named(cast, capsys):
    w = world(cast)
    action = first_action(published_coe(w, owner=w.owner))
    _refused_and_nothing_written(capsys, "coe-action", str(action.pk), "done", "--as", cast.outsider.email)
    err = _refused_and_nothing_written(capsys, "coe-action", str(action.pk), "dropped", "--as", w.owner.email)
    assert err == "osom: Say why the action is dropped. (note)\n"
    code, out, _ = _run(capsys, "coe-action", str(action.pk), "done", "--note", "Alerts are live.", "--as", w.owner.email)
    assert (code, out) == (0, (f"Corrective action #{action.pk} of “Permit renewals failed overnight” is done, "
                               f"due {DUE:%Y-%m-%d}.\n"))
    event = AuditEvent.objects.latest("id")
    assert (event.verb, event.actor) == ("update_corrective_action", w.owner)
    _refused_and_nothing_written(capsys, "coe-action", str(action.pk), "verified", "--as", w.owner.email)
    code, out, _ = _run(capsys, "coe-action", str(action.pk), "verified", "--as", cast.manager.email)
    action.refresh_from_db()
    assert code == 0 and action.status == "verified" and action.verified_by == cast.manager


def test_coe_review_shows_the_agenda_and_holds_the_review(cast, capsys):
    reviewed = published_coe(cast, title="Reviewed before")
    earlier = actions.schedule_coe_review(actor=cast.executive, scheduled_for=YESTERDAY)
    actions.hold_coe_review(actor=cast.executive, review=earlier)
    first = published_coe(cast, title="First on the agenda")
    second = published_coe(cast, service=cast.other_service, title="Second on the agenda")
    drafted_coe(cast, title="Still a draft")
    code, out, _ = _run(capsys, "coe-review", "agenda")
    lines = out.splitlines()
    assert lines[0] == "No review is scheduled: the executive schedules one with `osom coe-review schedule DATE`."
    assert lines[1] == "Agenda: 2 published Corrections of Error not yet reviewed, the oldest first"
    assert [line.split()[0] for line in lines[3:]] == [str(first.pk), str(second.pk)]
    _refused_and_nothing_written(capsys, "coe-review", "schedule", TODAY.isoformat(), "--as", cast.manager.email)
    code, out, _ = _run(capsys, "coe-review", "schedule", TODAY.isoformat(), "--as", cast.exec_team.email)
    review = CoEReview.objects.get(status="scheduled")
    assert code == 0 and out.startswith(f"Scheduled review #{review.pk}: ")
    code, out, _ = _run(capsys, "coe-review", "show", str(review.pk))
    assert f"{first.pk}" in out and "Still a draft" not in out and "Reviewed before" not in out
    err = _refused_and_nothing_written(capsys, "coe-review", "hold", str(review.pk), "--only", str(reviewed.pk),
                                       "--as", cast.executive.email)
    assert err.endswith("(reviewed)\n")
    code, out, _ = _run(capsys, "coe-review", "hold", str(review.pk), "--notes", "Two good write-ups.",
                        "--note", f"{second.pk}=Disks need alerts.", "--only", str(second.pk), "--as", cast.executive.email)
    assert (code, out) == (0, f"Held “{review.title}”: 1 Correction of Error marked reviewed.\n")
    second.refresh_from_db()
    first.refresh_from_db()
    assert (second.status, second.review_note, first.status) == ("reviewed", "Disks need alerts.", "published")
    code, out, _ = _run(capsys, "coe-review", "show", str(review.pk))
    assert "  Two good write-ups." in out.splitlines() and "      Disks need alerts." in out.splitlines()
    code, out, _ = _run(capsys, "coe-review", "list")
    assert [line.split()[:4] for line in out.splitlines()[1:]] == [
        [str(review.pk), TODAY.isoformat(), "held", "1"], [str(earlier.pk), YESTERDAY.isoformat(), "held", "1"]]


def test_learning_prints_the_figures_overdue_actions_and_repeated_problems(cast, capsys):
    coe = published_coe(cast, actions=[
        {"description": "On time", "owner": cast.manager.email, "due_date": DUE.isoformat()},
        {"description": "Still open", "owner": cast.team_member.email, "due_date": YESTERDAY.isoformat()}])
    on_time, late = coe.actions.order_by("position")
    actions.update_corrective_action(actor=cast.manager, action=on_time, status="done")
    again = published_coe(cast, title="Renewals failed again")
    code, out, _ = _run(capsys, "learning")
    lines = out.splitlines()
    assert lines[0] == "Learning figures: the whole organisation"
    assert lines[1] == "  Corrective actions closed: 1, a median of 0 days to close; 1 of 1 (100%) by their due date"
    assert lines[2] == "  Open: 2, of which 1 past their due date; dropped: 0"
    assert lines[3] == "  Published CoEs awaiting review: 2"
    assert f"  #{late.pk} due {YESTERDAY:%Y-%m-%d} (1 day overdue), Tia Team, Parking permits: Still open [CoE #{coe.pk}]" in lines
    assert lines[-1].startswith(f"  Parking permits: #{coe.pk} Permit renewals failed overnight")
    assert f"#{again.pk} Renewals failed again" in lines[-1]
    code, out, _ = _run(capsys, "learning", "--service", "identity")
    assert code == 0 and out.splitlines()[1:] == [
        "  No corrective action closed yet.", "  Open: 0, of which 0 past their due date; dropped: 0",
        "  Published CoEs awaiting review: 0"]


# ---------------------------------------------------------------- communities


def test_communities_lists_them_with_the_coverage_of_professions(cast, capsys):
    w = world(cast)
    community = endorsed(w)
    other = formed(w, lead=cast.outsider, name="Data people", profession="Data")
    code, out, _ = _run(capsys, "communities")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PROFESSION", "STATUS", "MEMBERS", "LEAD"]
    assert lines[1].split()[:2] == [str(other.pk), "Data"] and "forming" in lines[1]
    assert f"endorsed {TODAY:%Y-%m-%d}" in lines[2] and "Lee Lead" in lines[2]
    assert "Coverage: 1 of 1 profession in service teams have an endorsed community" in lines
    assert lines[-1].split()[:6] == ["User-centred", "design", "1", "1", "endorsed", "User"]
    code, out, _ = _run(capsys, "communities", "--status", "forming")
    assert code == 0 and [line.split()[0] for line in out.splitlines()[1:2]] == [str(other.pk)]
    assert str(community.pk) not in [line.split()[0] for line in out.splitlines()[1:] if line.split()]


def test_community_shows_one_and_lets_a_person_join_and_leave(cast, capsys):
    w = world(cast)
    community = endorsed(w)
    role = posted_role(cast, role="User researcher")
    code, out, _ = _run(capsys, "community", str(community.pk))
    lines = out.splitlines()
    assert lines[0] == f"Community #{community.pk}: User research (endorsed on {TODAY:%Y-%m-%d} by Ada Lovelace)"
    assert lines[1] == f"  Profession: {PROFESSION}; led by Lee Lead"
    assert "Members (1): Lee Lead" in lines
    assert any(line.startswith(f"  #{role.pk} User researcher (senior) in Parking permits") for line in lines)
    _refused_and_nothing_written(capsys, "community", str(community.pk), "join")
    code, out, _ = _run(capsys, "community", str(community.pk), "join", "--as", w.owner.email)
    assert (code, out) == (0, "Owen Owner joined User research.\n")
    assert AuditEvent.objects.latest("id").actor == w.owner
    assert "Members (2): Lee Lead, Owen Owner" in _run(capsys, "community", str(community.pk))[1]
    err = _refused_and_nothing_written(capsys, "community", str(community.pk), "leave", "--as", w.lead.email)
    assert err == "osom: You lead this community: hand the lead to another member before leaving. (lead)\n"
    code, out, _ = _run(capsys, "community", str(community.pk), "leave", "--as", w.owner.email)
    assert (code, out) == (0, "Owen Owner left User research.\n")
