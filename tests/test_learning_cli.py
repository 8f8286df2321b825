"""The ``osom`` commands of the learning loop: reads print what the pages show — the
doctrine's grid and heat map as letters, the CoE library and a CoE in full, a review's
agenda, the learning figures, communities and coverage — on data made through the
actions; writes act as a named person through the same actions, checked and audited; a
refusal prints one line and exits with code 2, writing nothing."""

from __future__ import annotations

import datetime as dt
import io

from osom.cli import main
from osom.core.models import AuditEvent
from osom.governance.models import Dispute, Guidance
from osom.learning import actions, cli, communities
from osom.learning.doctrine import GROUPS
from osom.learning.models import (
    CoEReview,
    Community,
    CommunityGuidance,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRating,
    DoctrineRound,
    OpenRole,
    PatternEffect,
    Rating,
)
from osom.network.stages import LEVELS, Lifecycle

from .learning.test_permissions import (
    DUE,
    PROFESSION,
    TODAY,
    drafted_coe,
    endorsed,
    evaluation_guidance,
    first_action,
    formed,
    open_round,
    posted_role,
    published_coe,
    rate,
    snapshot,
    world,
)
from .learning.test_permissions import coe_content as full_coe

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


def _done_once(capsys, verb: str, actor, *argv: str) -> str:
    """Run a write that succeeds: exit 0, nothing on standard error, and exactly one
    audit event, with the verb and the person named by ``--as``."""
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    code, out, err = _run(capsys, *argv)
    assert (code, err) == (0, ""), (code, out, err)
    assert [(e.verb, e.actor) for e in AuditEvent.objects.filter(id__gt=last)] == [(verb, actor)]
    return out


def _refused_with_a_sentence(capsys, *argv: str) -> str:
    """A person without the right: a whole sentence saying who may, and nothing written."""
    err = _refused_and_nothing_written(capsys, *argv)
    assert err.startswith("osom: Only ") and err.endswith(".\n"), err
    return err


def _bad(capsys, field: str, *argv: str) -> str:
    """Bad input: refused naming the field, and nothing written."""
    err = _refused_and_nothing_written(capsys, *argv)
    assert err.endswith(f" ({field})\n"), err
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
    assert cli.GUIDANCE_KINDS == CommunityGuidance.Kind.values
    assert cli.OPEN_ROLE_STATUSES == OpenRole.Status.values
    assert cli.LEVELS == [level for level, _ in LEVELS]
    assert cli.GUIDANCE_CATEGORIES == Guidance.Category.values


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


# ---------------------------------------------------------------- the writes added to each command


def test_doctrine_meaning_rewords_a_pattern_as_the_executive(cast, capsys, tmp_path, monkeypatch):
    argv = ("doctrine", "meaning", "know-your-users")
    out = _done_once(capsys, "edit_doctrine_meaning", cast.executive, *argv,
                     "--meaning", "Name every group of people who use the service.", "--as", cast.executive.email)
    assert out.splitlines() == ["“Know your users” (know-your-users) now means, at revision 2:",
                                "  Name every group of people who use the service."]
    text = tmp_path / "meaning.md"
    text.write_text("Meet the people who use it, every month.\n", encoding="utf-8")
    _done_once(capsys, "edit_doctrine_meaning", cast.executive, *argv, "--meaning-file", str(text), "--revision", "2",
               "--as", cast.executive.email)
    pattern = DoctrinePattern.objects.get(slug="know-your-users")
    assert (pattern.meaning, pattern.revision) == ("Meet the people who use it, every month.", 3)
    monkeypatch.setattr("sys.stdin", io.StringIO("Read from standard input.\n"))
    _done_once(capsys, "edit_doctrine_meaning", cast.executive, *argv, "--meaning-file", "-", "--as", cast.executive.email)
    assert DoctrinePattern.objects.get(slug="know-your-users").meaning == "Read from standard input."
    err = _refused_with_a_sentence(capsys, *argv, "--meaning", "Ours.", "--as", cast.manager.email)
    assert "rewrite the meaning of a doctrine pattern" in err
    _bad(capsys, "meaning", *argv, "--meaning", " ", "--as", cast.executive.email)
    _bad(capsys, "meaning", *argv, "--meaning-file", str(tmp_path / "missing.md"), "--as", cast.executive.email)
    _bad(capsys, "revision", *argv, "--meaning", "Ours.", "--revision", "3", "--as", cast.executive.email)
    err = _bad(capsys, "pattern", "doctrine", "meaning", "know-your-usres", "--meaning", "Ours.", "--as", cast.executive.email)
    assert err == "osom: There is no doctrine pattern “know-your-usres”: `osom doctrine patterns` lists them. (pattern)\n"


def _yaml_file(path, content: dict):
    import yaml

    path.write_text(yaml.safe_dump(content, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return str(path)


def test_coe_write_and_export_round_trip(cast, capsys, tmp_path):
    import json

    import yaml

    content = full_coe(cast)
    source = _yaml_file(tmp_path / "coe.yaml", content)
    out = _done_once(capsys, "write_coe", cast.team_member, "coe", "write", "--service", "parking-permits",
                     "--file", source, "--as", cast.team_member.email)
    coe = CorrectionOfError.objects.get()
    assert out == (f"Started draft Correction of Error #{coe.pk} for Parking permits: “Permit renewals failed overnight”. "
                   f"Publish it with `osom coe publish {coe.pk} --as EMAIL`.\n")
    assert (coe.status, coe.author, coe.service, coe.occurred_on.isoformat()) == (
        "draft", cast.team_member, cast.service, content["occurred_on"])
    written = actions.coe_content(coe)
    assert list(written) == cli.COE_KEYS
    for part in ("title", "problem", "lessons", "why_chains", "actions"):
        assert written[part] == content[part], part
    assert sorted(written["pattern_effects"], key=str) == sorted(content["pattern_effects"], key=str)
    assert [e["description"] for e in written["timeline"]] == ["First TLS error", "Certificate renewed"]

    # a draft is exported only for its service's people
    _refused_and_nothing_written(capsys, "coe", "export", str(coe.pk))
    code, out, err = _run(capsys, "coe", "export", str(coe.pk), "--as", cast.manager.email)
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        f"# Correction of Error #{coe.pk} of Parking permits (parking-permits), draft, revision 1.",
        f"# Edit it, then write it back: osom coe write --coe {coe.pk} --revision 1 --file FILE --as EMAIL"]
    exported = yaml.safe_load(out)
    assert exported == written

    # the manager edits the export and writes it back
    edited_text = out.replace("Every certificate needs an owner and an alert.", "Every certificate has an owner.")
    assert edited_text != out
    edited = tmp_path / "edited.yaml"
    edited.write_text(edited_text, encoding="utf-8")
    out = _done_once(capsys, "write_coe", cast.manager, "coe", "write", "--coe", str(coe.pk), "--revision", "1",
                     "--file", str(edited), "--as", cast.manager.email)
    assert out == f"Rewrote draft Correction of Error #{coe.pk}: “Permit renewals failed overnight”, now at revision 2.\n"
    coe.refresh_from_db()
    assert coe.lessons == "Every certificate has an owner."
    assert actions.coe_content(coe) == {**written, "lessons": "Every certificate has an owner."}
    # written again against the revision it was read at: someone changed it since
    _bad(capsys, "revision", "coe", "write", "--coe", str(coe.pk), "--revision", "1", "--file", str(edited),
         "--as", cast.manager.email)

    # JSON too, from a .json file
    as_json = tmp_path / "coe.json"
    as_json.write_text(json.dumps(full_coe(cast, title="Written in JSON")), encoding="utf-8")
    _done_once(capsys, "write_coe", cast.manager, "coe", "write", "--service", "parking-permits", "--file", str(as_json),
               "--as", cast.manager.email)
    assert CorrectionOfError.objects.get(title="Written in JSON").actions.count() == 1

    # a published one exports too, and starts a new draft elsewhere
    published = published_coe(cast, title="Published already")
    code, out, _ = _run(capsys, "coe", "export", str(published.pk))
    assert code == 0 and yaml.safe_load(out) == actions.coe_content(published)
    _done_once(capsys, "write_coe", cast.other_manager, "coe", "write", "--service", "identity",
               "--file", _yaml_file(tmp_path / "copy.yaml", yaml.safe_load(out)), "--as", cast.other_manager.email)
    assert CorrectionOfError.objects.get(service=cast.other_service).title == "Published already"


def test_coe_write_is_refused_to_others_and_names_what_is_wrong(cast, capsys, tmp_path):
    source = _yaml_file(tmp_path / "coe.yaml", full_coe(cast))
    write = ("coe", "write", "--service", "parking-permits")
    err = _refused_with_a_sentence(capsys, *write, "--file", source, "--as", cast.other_manager.email)
    assert err == ("osom: Only the service manager of Parking permits or its team may write a Correction of Error "
                   "for this service.\n")
    as_manager = ("--as", cast.manager.email)
    _bad(capsys, "service", "coe", "write", "--file", source, *as_manager)
    _bad(capsys, "service", "coe", "write", "--service", "nowhere", "--file", source, *as_manager)
    _bad(capsys, "revision", *write, "--revision", "1", "--file", source, *as_manager)
    _bad(capsys, "file", *write, "--file", str(tmp_path / "missing.yaml"), *as_manager)
    (tmp_path / "broken.yaml").write_text("title: [never closed\n", encoding="utf-8")
    _bad(capsys, "file", *write, "--file", str(tmp_path / "broken.yaml"), *as_manager)
    (tmp_path / "list.yaml").write_text("- title: A list, not a CoE\n", encoding="utf-8")
    _bad(capsys, "file", *write, "--file", str(tmp_path / "list.yaml"), *as_manager)
    typo = _yaml_file(tmp_path / "typo.yaml", {**full_coe(cast), "root_casue": "A typing slip"})
    err = _bad(capsys, "root_casue", *write, "--file", typo, *as_manager)
    assert err.startswith("osom: “root_casue” is not a part of a Correction of Error; the parts are title, ")
    late = _yaml_file(tmp_path / "late.yaml", full_coe(cast, actions=[
        {"description": "Alert on expiry", "owner": cast.team_member.email, "due_date": "soon"}]))
    _bad(capsys, "actions[0].due_date", *write, "--file", late, *as_manager)
    nobody = _yaml_file(tmp_path / "nobody.yaml", full_coe(cast, actions=[
        {"description": "Alert on expiry", "owner": "nobody@example.org", "due_date": DUE.isoformat()}]))
    _bad(capsys, "actions[0].owner", *write, "--file", nobody, *as_manager)
    other = drafted_coe(cast, service=cast.other_service, actor=cast.other_manager)
    _bad(capsys, "service", *write, "--coe", str(other.pk), "--file", source, *as_manager)
    published = published_coe(cast)
    _bad(capsys, "coe", "coe", "write", "--coe", str(published.pk), "--file", source, *as_manager)


def test_coe_publish_and_discard(cast, capsys):
    coe = drafted_coe(cast)
    unfinished = drafted_coe(cast, title="Half written", lessons="")
    err = _refused_with_a_sentence(capsys, "coe", "publish", str(coe.pk), "--as", cast.team_member.email)
    assert err == "osom: Only the service manager of Parking permits may publish this service's Correction of Error.\n"
    _bad(capsys, "lessons", "coe", "publish", str(unfinished.pk), "--as", cast.manager.email)
    _bad(capsys, "revision", "coe", "publish", str(coe.pk), "--revision", "7", "--as", cast.manager.email)
    out = _done_once(capsys, "publish_coe", cast.manager, "coe", "publish", str(coe.pk), "--revision", "1",
                     "--as", cast.manager.email)
    assert out == (f"Published Correction of Error #{coe.pk}: “Permit renewals failed overnight”. "
                   "It is on the agenda of the executive's next review.\n")
    coe.refresh_from_db()
    assert (coe.status, coe.published_by) == ("published", cast.manager)

    _bad(capsys, "coe", "coe", "discard", str(coe.pk), "--as", cast.manager.email)  # published: never discarded
    _bad(capsys, "id", "coe", "discard", "9999", "--as", cast.manager.email)
    _refused_with_a_sentence(capsys, "coe", "discard", str(unfinished.pk), "--as", cast.other_manager.email)
    out = _done_once(capsys, "discard_coe", cast.team_member, "coe", "discard", str(unfinished.pk),
                     "--as", cast.team_member.email)
    assert out == f"Discarded the draft Correction of Error #{unfinished.pk}: “Half written”.\n"
    assert not CorrectionOfError.objects.filter(pk=unfinished.pk).exists()


def test_coe_add_action_and_verify_action(cast, capsys):
    w = world(cast)
    coe = published_coe(w)
    add = ("coe", "add-action", str(coe.pk), "--description", "Name an owner for every certificate")
    _refused_with_a_sentence(capsys, *add, "--owner", w.owner.email, "--due", DUE.isoformat(), "--as", cast.outsider.email)
    as_team = ("--as", cast.team_member.email)
    err = _bad(capsys, "owner", *add, "--owner", "nobody@example.org", "--due", DUE.isoformat(), *as_team)
    assert err == "osom: Nobody in the organisation has the email address “nobody@example.org”. (owner)\n"
    _bad(capsys, "due_date", *add, "--owner", w.owner.email, "--due", "soon", *as_team)
    _bad(capsys, "description", "coe", "add-action", str(coe.pk), "--owner", w.owner.email, "--due", DUE.isoformat(),
         *as_team)
    out = _done_once(capsys, "add_corrective_action", cast.team_member, *add, "--owner", w.owner.email,
                     "--due", DUE.isoformat(), *as_team)
    action = coe.actions.get(description="Name an owner for every certificate")
    assert (action.owner, action.due_date, action.status) == (w.owner, DUE, "open")
    assert out == (f"Added corrective action #{action.pk} to “Permit renewals failed overnight”: owned by Owen Owner, "
                   f"due {DUE:%Y-%m-%d}.\n")

    verify = ("coe", "verify-action", str(action.pk))
    _bad(capsys, "status", *verify, "--as", cast.manager.email)  # not done yet
    actions.update_corrective_action(actor=w.owner, action=action, status="done")
    err = _refused_with_a_sentence(capsys, *verify, "--as", w.owner.email)
    assert err == "osom: Only the service manager of Parking permits or the Executive may verify a corrective action.\n"
    _bad(capsys, "action", "coe", "verify-action", "9999", "--as", cast.manager.email)
    out = _done_once(capsys, "verify_corrective_action", cast.executive, *verify, "--note", "No expiry missed since.",
                     "--as", cast.executive.email)
    assert out == f"Corrective action #{action.pk} of “Permit renewals failed overnight” is verified, due {DUE:%Y-%m-%d}.\n"
    action.refresh_from_db()
    assert (action.status, action.verified_by, action.note) == ("verified", cast.executive, "No expiry missed since.")


def test_coe_guidance_starts_a_draft_from_the_coes_lessons(cast, capsys, tmp_path):
    coe = published_coe(cast)
    draft = drafted_coe(cast, title="Not yet published")
    start = ("coe", "guidance", str(coe.pk), "--category", "operations")
    err = _refused_with_a_sentence(capsys, *start, "--as", cast.manager.email)
    assert "draft guidance" in err
    _bad(capsys, "coe", "coe", "guidance", str(draft.pk), "--category", "operations", "--as", cast.executive.email)
    out = _done_once(capsys, "draft_guidance", cast.executive, *start, "--as", cast.executive.email)
    guidance = Guidance.objects.get()
    assert (guidance.coe, guidance.source, guidance.category, guidance.status) == (coe, "coe", "operations", "draft")
    assert guidance.title == "Learning from “Permit renewals failed overnight”"
    assert "Every certificate needs an owner and an alert." in guidance.body  # the lessons
    assert "Certificates without an owner." in guidance.body  # the trade-offs to avoid
    assert out.startswith(f"Drafted guidance #{guidance.pk}: “{guidance.title}” (operations), drawn from Correction "
                          f"of Error #{coe.pk}.\n")
    body = tmp_path / "body.md"
    body.write_text("Give every certificate an owner.\n", encoding="utf-8")
    _done_once(capsys, "draft_guidance", cast.executive, *start, "--title", "Own your certificates", "--body-file",
               str(body), "--as", cast.executive.email)
    mine = Guidance.objects.get(title="Own your certificates")
    assert (mine.body, mine.coe) == ("Give every certificate an owner.", coe)
    _bad(capsys, "title", *start, "--title", "x" * 201, "--as", cast.executive.email)


def test_community_form_and_edit(cast, capsys):
    w = world(cast)
    form = ("community", "form", "--name", "User research", "--profession", PROFESSION)
    out = _done_once(capsys, "form_community", w.lead, *form, "--purpose", "Researchers learn from each other.",
                     "--as", w.lead.email)
    community = Community.objects.get()
    assert (community.name, community.profession, community.lead, community.status) == (
        "User research", PROFESSION, w.lead, "forming")
    assert out.startswith(f"Formed community #{community.pk}: User research, for {PROFESSION}, led by Lee Lead.")
    # anyone may form one (nobody is refused the right); what is refused is bad input
    as_outsider = ("--as", cast.outsider.email)
    _bad(capsys, "name", *form, "--purpose", "Again.", *as_outsider)
    _bad(capsys, "profession", "community", "form", "--name", "Stars", "--profession", "Astrology", "--purpose", "Stars.",
         *as_outsider)
    _bad(capsys, "purpose", "community", "form", "--name", "Writers", "--profession", PROFESSION, *as_outsider)
    _bad(capsys, "email", "community", "form", "--name", "Writers", "--profession", PROFESSION, "--purpose", "Words.",
         "--as", "nobody@example.org")

    pk = str(community.pk)
    communities.join_community(actor=w.owner, community=community)
    _refused_with_a_sentence(capsys, "community", "edit", pk, "--name", "Research", *as_outsider)
    as_lead = ("--as", w.lead.email)
    err = _bad(capsys, "lead", "community", "edit", pk, "--lead", cast.outsider.email, *as_lead)
    assert err == "osom: Ola Outsider is not a member; the lead is chosen among the members. (lead)\n"
    _bad(capsys, "lead", "community", "edit", pk, "--lead", "nobody@example.org", *as_lead)
    _bad(capsys, "name", "community", "edit", pk, "--name", " ", *as_lead)
    _bad(capsys, "revision", "community", "edit", pk, "--name", "Research", "--revision", "5", *as_lead)
    err = _refused_and_nothing_written(capsys, "community", "edit", pk, *as_lead)
    assert err == "osom: Say what to change: --name, --purpose or --lead.\n"
    out = _done_once(capsys, "edit_community", w.lead, "community", "edit", pk, "--name", "User research community",
                     "--lead", w.owner.email, *as_lead)
    assert out == f"Changed community #{pk}: User research community, led by Owen Owner; now at revision 2.\n"
    community.refresh_from_db()
    assert (community.name, community.lead, community.purpose) == (
        "User research community", w.owner, "Researchers learn from each other.")


def test_community_endorse_and_withdraw_endorsement(cast, capsys):
    w = world(cast)
    community = formed(w)
    endorse = ("community", "endorse", str(community.pk))
    as_exec = ("--as", cast.executive.email)
    err = _bad(capsys, "community", *endorse, *as_exec)  # no guidance on evaluating practitioners yet
    assert "has not yet published guidance on evaluating its practitioners" in err
    evaluation_guidance(community)
    err = _refused_with_a_sentence(capsys, *endorse, "--as", cast.manager.email)
    assert "endorse a community of practice" in err
    _bad(capsys, "on", *endorse, "--on", "tomorrow", *as_exec)
    _bad(capsys, "on", *endorse, "--on", (TODAY + dt.timedelta(days=1)).isoformat(), *as_exec)
    out = _done_once(capsys, "endorse_community", cast.executive, *endorse, "--on", YESTERDAY.isoformat(), *as_exec)
    assert out == f"Endorsed User research on {YESTERDAY:%Y-%m-%d}. Its members are told.\n"
    community.refresh_from_db()
    assert (community.status, community.endorsed_on, community.endorsed_by) == ("endorsed", YESTERDAY, cast.executive)

    withdraw = ("community", "withdraw-endorsement", str(community.pk))
    _refused_with_a_sentence(capsys, *withdraw, "--reason", "Out of date.", "--as", w.lead.email)
    _bad(capsys, "reason", *withdraw, *as_exec)
    _done_once(capsys, "withdraw_endorsement", cast.executive, *withdraw, "--reason",
               "Its evaluation guidance is out of date.", *as_exec)
    community.refresh_from_db()
    assert (community.status, community.endorsed_on) == ("forming", None)
    _bad(capsys, "community", *withdraw, "--reason", "Again.", *as_exec)


def test_community_publish_and_withdraw_guidance(cast, capsys, tmp_path):
    w = world(cast)
    community = formed(w)
    publish = ("community", "publish-guidance", str(community.pk), "--kind", "evaluation")
    as_lead = ("--as", w.lead.email)
    err = _refused_with_a_sentence(capsys, *publish, "--title", "Evaluating researchers", "--body", "Look.",
                                   "--as", cast.outsider.email)
    assert "publish guidance for this community's profession" in err
    _bad(capsys, "body", *publish, "--title", "Evaluating researchers", *as_lead)
    _bad(capsys, "title", *publish, "--body", "Look at the plans.", *as_lead)
    _bad(capsys, "body", *publish, "--title", "Evaluating researchers", "--body-file", str(tmp_path / "none.md"), *as_lead)
    body = tmp_path / "guidance.md"
    body.write_text("Look at the research plans.\n\nAnd at what the team changed because of them.\n", encoding="utf-8")
    out = _done_once(capsys, "publish_community_guidance", w.lead, *publish, "--title", "Evaluating researchers",
                     "--body-file", str(body), *as_lead)
    item = CommunityGuidance.objects.get()
    assert (item.kind, item.title, item.body, item.published_by) == (
        "evaluation", "Evaluating researchers",
        "Look at the research plans.\n\nAnd at what the team changed because of them.", w.lead)
    assert out == f"User research published guidance #{item.pk} on evaluating practitioners: “Evaluating researchers”.\n"

    withdraw = ("community", "withdraw-guidance", str(item.pk))
    _refused_with_a_sentence(capsys, *withdraw, "--as", cast.outsider.email)
    _bad(capsys, "guidance", "community", "withdraw-guidance", "9999", *as_lead)
    out = _done_once(capsys, "withdraw_community_guidance", w.lead, *withdraw, "--reason", "Superseded.", *as_lead)
    assert out == f"User research withdrew its guidance #{item.pk}: “Evaluating researchers”.\n"
    item.refresh_from_db()
    assert item.withdrawn_at is not None
    _bad(capsys, "guidance", *withdraw, *as_lead)  # withdrawn already


def test_community_escalate_an_evaluation_dispute(cast, capsys):
    w = world(cast)
    community = formed(w)
    communities.join_community(actor=w.owner, community=community)
    escalate = ("community", "escalate", str(community.pk))
    as_lead = ("--as", w.lead.email)
    _refused_with_a_sentence(capsys, *escalate, "--subject", "A rating disputed", "--description", "They disagree.",
                             "--as", w.owner.email)  # a member, not the lead
    _bad(capsys, "subject", *escalate, "--description", "They disagree.", *as_lead)
    _bad(capsys, "description", *escalate, "--subject", "A rating disputed", *as_lead)
    out = _done_once(capsys, "escalate_evaluation_dispute", w.lead, *escalate, "--subject", "A researcher's rating disputed",
                     "--description", "The manager and the community read the guidance differently.", *as_lead)
    dispute = Dispute.objects.get()
    assert (dispute.kind, dispute.community, dispute.raised_by, dispute.subject) == (
        "evaluation", community, w.lead, "A researcher's rating disputed")
    assert out == (f"User research escalated dispute #{dispute.pk} to the executive, who mediates it: "
                   "A researcher's rating disputed\n")


def test_open_roles_list_post_and_close(cast, capsys):
    assert _run(capsys, "open-roles", "list") == (0, "No manager has posted an open role yet.\n", "")
    post = ("open-roles", "post", "--service", "parking-permits", "--level", "senior")
    as_manager = ("--as", cast.manager.email)
    err = _bad(capsys, "role", *post, "--role", "User reseacher", *as_manager)
    assert err == "osom: “User reseacher” is not a role of the professional framework; did you mean “User researcher”? (role)\n"
    _bad(capsys, "role", *post, *as_manager)
    _bad(capsys, "service", "open-roles", "post", "--service", "nowhere", "--role", "User researcher", "--level", "senior",
         *as_manager)
    err = _refused_with_a_sentence(capsys, *post, "--role", "User researcher", "--as", cast.team_member.email)
    assert "post an open role in this service's team" in err
    out = _done_once(capsys, "post_open_role", cast.manager, *post, "--role", "user researcher",
                     "--description", "Run the spring research round.", *as_manager)
    opening = OpenRole.objects.get()
    assert (opening.role.name, opening.level, opening.service, opening.status, opening.description) == (
        "User researcher", "senior", cast.service, "open", "Run the spring research round.")
    assert out == (f"Posted open role #{opening.pk}: User researcher (senior) in Parking permits. "
                   f"The members of communities of {PROFESSION} are told.\n")
    data = posted_role(cast, service=cast.other_service, role="Data analyst")

    code, out, _ = _run(capsys, "open-roles", "list")
    header, *rows = out.splitlines()
    assert header.split() == ["ID", "POSTED", "STATUS", "SERVICE", "ROLE", "LEVEL", "PROFESSION", "DESCRIPTION"]
    assert [row.split()[0] for row in rows] == [str(data.pk), str(opening.pk)]  # the newest first
    code, out, _ = _run(capsys, "open-roles", "list", "--profession", PROFESSION)
    assert code == 0
    assert [row.split()[0] for row in out.splitlines()[1:]] == [str(opening.pk)]

    close = ("open-roles", "close", str(opening.pk), "filled")
    _refused_with_a_sentence(capsys, *close, "--as", cast.other_manager.email)
    out = _done_once(capsys, "close_open_role", cast.manager, *close, *as_manager)
    assert out == f"Open role #{opening.pk}, User researcher in Parking permits, is filled.\n"
    _bad(capsys, "opening", "open-roles", "close", str(opening.pk), "withdrawn", *as_manager)  # closed already
    _bad(capsys, "id", "open-roles", "close", "9999", "filled", *as_manager)
    out = _run(capsys, "open-roles", "list", "--status", "filled")[1]
    assert [row.split()[:3] for row in out.splitlines()[1:]] == [[str(opening.pk), TODAY.isoformat(), "filled"]]
    assert _run(capsys, "open-roles", "list", "--service", "identity", "--status", "filled")[1] == "No open role matches.\n"


def test_coe_and_community_take_their_subcommands_and_their_shorter_forms(cast, capsys):
    coe = published_coe(cast)
    w = world(cast)
    community = formed(w)
    shown = _run(capsys, "coe", "show", str(coe.pk))
    assert shown[0] == 0 and shown == _run(capsys, "coe", str(coe.pk))
    shown = _run(capsys, "community", "show", str(community.pk))
    assert shown[0] == 0 and shown == _run(capsys, "community", str(community.pk))
    _done_once(capsys, "join_community", w.owner, "community", "join", str(community.pk), "--as", w.owner.email)
    _done_once(capsys, "leave_community", w.owner, "community", str(community.pk), "leave", "--as", w.owner.email)


def test_every_learning_command_and_action_is_in_the_guide():
    import argparse
    import re
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="osom")
    sub = parser.add_subparsers()
    cli.register(sub)
    guide = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    checked = []
    for name, command in sub.choices.items():
        assert f"osom {name}" in guide, name
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                for act in action.choices:
                    assert re.search(rf"osom {re.escape(name)} [\w|\[\]-]*\b{re.escape(act)}\b", guide), (name, act)
                    checked.append(f"{name} {act}")
    assert {"doctrine meaning", "coe write", "coe export", "community escalate", "open-roles close"} <= set(checked)
