"""The doctrine (model 9): the forty patterns, the organisation's words for them, and
self-assessment rounds — how several people's ratings make one colour per cell, the
grid and the heat map, the change between rounds and what to work on next."""

from __future__ import annotations

from collections import Counter

import pytest

from osom.core.errors import Conflict, InvalidInput, NotAllowed
from osom.core.models import AuditEvent
from osom.learning import actions, queries
from osom.learning.doctrine import GROUPS, PATTERNS, PHASES
from osom.learning.models import DoctrinePattern, DoctrineRating, DoctrineRound

from .. import factories
from .test_permissions import open_round, rate

# --- the forty patterns -------------------------------------------------------------------


def test_the_forty_patterns_are_there_in_six_groups_and_four_phases(db):
    patterns = list(DoctrinePattern.objects.all())
    assert len(patterns) == 40
    assert Counter(p.phase for p in patterns) == {1: 9, 2: 15, 3: 11, 4: 5}
    assert [g for g in GROUPS] == ["communication", "development", "operation", "structure", "learning", "leading"]
    assert Counter(p.group for p in patterns) == {"communication": 4, "development": 9, "operation": 7,
                                                  "structure": 7, "learning": 4, "leading": 9}
    assert set(PHASES) == {1, 2, 3, 4}


def test_the_database_holds_the_table_as_written_in_one_place(db):
    rows = list(DoctrinePattern.objects.order_by("position").values_list("group", "phase", "name", "meaning"))
    assert rows == [tuple(p) for p in PATTERNS]
    assert len({p.slug for p in DoctrinePattern.objects.all()}) == 40
    assert DoctrinePattern.objects.get(slug="know-your-users").name == "Know your users"


def test_the_executive_rewrites_a_meaning_and_only_the_meaning(cast):
    pattern = DoctrinePattern.objects.get(slug="manage-failure")
    before = (pattern.name, pattern.group, pattern.phase, pattern.position, pattern.meaning)
    changed = actions.edit_doctrine_meaning(actor=cast.exec_team, pattern=pattern, expected_revision=pattern.revision,
                                            meaning="  Every service knows how it fails and practises failing.  ")
    changed.refresh_from_db()
    assert changed.meaning == "Every service knows how it fails and practises failing."
    assert (changed.name, changed.group, changed.phase, changed.position) == before[:4]
    assert changed.revision == pattern.revision + 1
    event = AuditEvent.objects.order_by("-pk").first()
    assert event.verb == "edit_doctrine_meaning"
    assert event.before == {"meaning": before[4]} and event.after == {"meaning": changed.meaning}


def test_a_meaning_rewritten_meanwhile_is_not_overwritten(cast):
    pattern = DoctrinePattern.objects.get(slug="manage-failure")
    seen = pattern.revision
    actions.edit_doctrine_meaning(actor=cast.executive, pattern=pattern, meaning="Design for failure.",
                                  expected_revision=seen)
    with pytest.raises(Conflict) as refused:
        actions.edit_doctrine_meaning(actor=cast.exec_team, pattern=pattern, meaning="Test failure.",
                                      expected_revision=seen)
    assert refused.value.field == "revision"
    assert DoctrinePattern.objects.get(pk=pattern.pk).meaning == "Design for failure."


def test_a_blank_meaning_is_refused(cast):
    pattern = DoctrinePattern.objects.get(slug="manage-failure")
    with pytest.raises(InvalidInput) as refused:
        actions.edit_doctrine_meaning(actor=cast.executive, pattern=pattern, meaning=" \n ")
    assert refused.value.field == "meaning"
    assert DoctrinePattern.objects.get(pk=pattern.pk).meaning == pattern.meaning


def test_the_same_meaning_again_records_nothing(cast):
    pattern = DoctrinePattern.objects.get(slug="manage-failure")
    events = AuditEvent.objects.count()
    actions.edit_doctrine_meaning(actor=cast.executive, pattern=pattern, meaning=pattern.meaning)
    assert AuditEvent.objects.count() == events
    assert DoctrinePattern.objects.get(pk=pattern.pk).revision == pattern.revision


# --- a cell's colour from its ratings -------------------------------------------------------

# (ratings by up to three respondents, colour): good = 2, partly = 1, weak = 0, unknown
# ignored; a mean above 1.5 is good, above 0.5 partly, else weak — on a boundary, the
# more cautious colour.
AGGREGATION = {
    "all good": (["good", "good", "good"], "good"),
    "good and partly: 1.5, the cautious colour": (["good", "partly"], "partly"),
    "partly and weak: 0.5, the cautious colour": (["partly", "weak"], "weak"),
    "good and weak: 1": (["good", "weak"], "partly"),
    "good, good and partly: 1.67": (["good", "good", "partly"], "good"),
    "good, partly and weak: 1": (["good", "partly", "weak"], "partly"),
    "partly, weak and weak: 0.33": (["partly", "weak", "weak"], "weak"),
    "unknown ignored": (["good", "unknown"], "good"),
    "unknown ignored in a tie": (["good", "unknown", "partly"], "partly"),
    "only unknown": (["unknown", "unknown"], "unknown"),
    "nothing": ([], "unknown"),
    "weak alone": (["weak"], "weak"),
    "partly alone": (["partly"], "partly"),
}


@pytest.mark.parametrize("ratings,colour", [pytest.param(*case, id=name) for name, case in AGGREGATION.items()])
def test_a_cells_colour_aggregates_its_ratings(ratings, colour):
    assert queries.cell_colour(ratings) == colour
    assert queries.cell_colour(reversed(ratings)) == colour, "the order of the ratings does not matter"


def test_a_rounds_cells_aggregate_what_its_respondents_rated(cast):
    """The same table, through the actions: each case is one pattern of an organisation
    round, rated by up to three people."""
    rnd = open_round(cast, organisation=True)
    slugs = [p.slug for p in DoctrinePattern.objects.all()[: len(AGGREGATION)]]
    respondents = [cast.outsider, cast.team_member, cast.other_manager]
    for n, person in enumerate(respondents):
        given = [{"pattern": slug, "rating": ratings[n], "evidence": f"Seen by {person.name}"}
                 for slug, (ratings, _) in zip(slugs, AGGREGATION.values()) if n < len(ratings)]
        actions.rate_doctrine(actor=person, round=rnd, ratings=given)
    cells = queries.round_cells(rnd)
    by_slug = {p.slug: p.pk for p in DoctrinePattern.objects.all()}
    for slug, (name, (ratings, colour)) in zip(slugs, AGGREGATION.items()):
        cell = cells.get(by_slug[slug], {"colour": "unknown", "respondents": 0})
        assert cell["colour"] == colour, name
        assert cell["respondents"] == len(ratings), name
        if ratings:
            assert cell["counts"] == {r: ratings.count(r) for r in ("good", "partly", "weak", "unknown")}, name
            assert [e["by"] for e in cell["evidence"]] == [p.name for p in respondents[: len(ratings)]], name


def test_the_grid_lays_the_forty_cells_out_by_group_and_phase(cast):
    rnd = open_round(cast)
    rate(cast.manager, rnd, know_your_users="good", manage_failure="weak")
    grid = queries.round_grid(rnd)
    assert [row["group"] for row in grid] == GROUPS
    assert all([column["phase"] for column in row["phases"]] == [1, 2, 3, 4] for row in grid)
    cells = {cell["pattern"].slug: cell for row in grid for column in row["phases"] for cell in column["cells"]}
    assert len(cells) == 40
    assert cells["know-your-users"]["colour"] == "good" and cells["manage-failure"]["colour"] == "weak"
    assert {c["colour"] for s, c in cells.items() if s not in ("know-your-users", "manage-failure")} == {"unknown"}
    development = next(row for row in grid if row["group"] == "development")
    assert [c["pattern"].slug for c in development["phases"][0]["cells"]] == [
        "know-your-users", "focus-on-user-needs", "remove-bias-and-duplication", "use-appropriate-methods"]
    assert development["phases"][3]["cells"] == [], "development has no pattern in phase IV"


# --- rating ----------------------------------------------------------------------------------

def test_rating_again_replaces_the_respondents_earlier_rating(cast):
    rnd = open_round(cast)
    kyu = DoctrinePattern.objects.get(slug="know-your-users")
    assert rate(cast.team_member, rnd, know_your_users="weak", manage_failure="partly") == 2
    rate(cast.manager, rnd, know_your_users="good")
    assert queries.round_cells(rnd)[kyu.pk]["colour"] == "partly"
    assert actions.rate_doctrine(actor=cast.team_member, round=rnd, ratings=[
        {"pattern": "know-your-users", "rating": "good", "evidence": "We met 30 residents."}]) == 1
    mine = DoctrineRating.objects.filter(round=rnd, respondent=cast.team_member)
    assert sorted(mine.values_list("pattern__slug", "rating", "evidence")) == [
        ("know-your-users", "good", "We met 30 residents."), ("manage-failure", "partly", "")]
    assert queries.round_cells(rnd)[kyu.pk]["colour"] == "good"
    assert queries.round_cells(rnd)[kyu.pk]["respondents"] == 2


def test_rating_the_same_again_writes_and_records_nothing(cast):
    rnd = open_round(cast)
    rate(cast.team_member, rnd, know_your_users="weak")
    events = AuditEvent.objects.count()
    assert rate(cast.team_member, rnd, know_your_users="weak") == 0
    assert AuditEvent.objects.count() == events


def test_a_closed_round_takes_no_ratings(cast):
    rnd = open_round(cast)
    rate(cast.team_member, rnd, know_your_users="weak")
    closed = actions.close_doctrine_round(actor=cast.manager, round=rnd)
    assert closed.status == "closed" and closed.closed_at is not None
    with pytest.raises(Conflict):
        rate(cast.manager, rnd, know_your_users="good")
    assert DoctrineRating.objects.filter(round=rnd).count() == 1


def test_one_round_is_open_at_a_time_for_each_service_and_for_the_organisation(cast):
    first = open_round(cast)
    open_round(cast, cast.other_service)  # another service may have its own
    organisation = open_round(cast, organisation=True)  # and the organisation its own
    with pytest.raises(Conflict):
        actions.open_doctrine_round(actor=cast.executive, service=cast.service)
    with pytest.raises(Conflict):
        actions.open_doctrine_round(actor=cast.exec_team, service=None)
    rate(cast.team_member, first, know_your_users="good")
    actions.close_doctrine_round(actor=cast.manager, round=first)
    second = open_round(cast)  # once closed, the next one opens
    assert second.pk != first.pk and second.service == cast.service and organisation.service is None
    assert DoctrineRound.objects.filter(status="open").count() == 3


def test_only_the_executive_opens_a_round_of_the_organisation(cast):
    for person in (cast.manager, cast.team_member, cast.outsider):
        with pytest.raises(NotAllowed):
            actions.open_doctrine_round(actor=person, service=None)
    assert not DoctrineRound.objects.exists()
    rnd = actions.open_doctrine_round(actor=cast.executive, service=None)
    assert rnd.service is None and "organisation" in rnd.title.lower()


def test_everyone_is_asked_to_rate_the_organisation_and_a_services_people_their_service(cast):
    from osom.core.models import Notification

    open_round(cast)
    told = set(Notification.objects.values_list("person__email", flat=True))
    assert told == {cast.manager.email, cast.team_member.email}
    Notification.objects.all().delete()
    open_round(cast, organisation=True)
    assert Notification.objects.count() == 6


def test_a_team_member_rates_their_own_service_only(cast):
    mine, theirs = open_round(cast), open_round(cast, cast.other_service)
    rate(cast.team_member, mine, know_your_users="good")
    with pytest.raises(NotAllowed):
        rate(cast.team_member, theirs, know_your_users="good")
    with pytest.raises(NotAllowed):
        rate(cast.executive, mine, know_your_users="good")


# --- over time --------------------------------------------------------------------------------

def _closed_round(cast, service, **ratings):
    rnd = open_round(cast, service)
    rate(service.manager, rnd, **ratings)
    return actions.close_doctrine_round(actor=service.manager, round=rnd)


def test_the_change_between_two_rounds_says_better_or_worse(cast):
    first = _closed_round(cast, cast.service, know_your_users="weak", manage_failure="good", be_transparent="partly",
                          use_a_common_language="good")
    _closed_round(cast, cast.other_service, know_your_users="good")  # another service's round is not compared
    second = _closed_round(cast, cast.service, know_your_users="good", manage_failure="weak", be_transparent="partly",
                           focus_on_user_needs="partly")
    assert queries.previous_round(second) == first
    assert queries.previous_round(first) is None
    assert queries.round_change(first) == []
    changes = {c["pattern"].slug: (c["before"], c["after"], c["direction"]) for c in queries.round_change(second)}
    assert changes == {
        "know-your-users": ("weak", "good", "better"),
        "manage-failure": ("good", "weak", "worse"),
        "focus-on-user-needs": ("unknown", "partly", "known"),
        "use-a-common-language": ("good", "unknown", "unknown"),
    }
    # the table's order
    assert [c["pattern"].slug for c in queries.round_change(second)] == [
        "use-a-common-language", "know-your-users", "focus-on-user-needs", "manage-failure"]


def test_work_on_next_lists_weak_then_partly_by_phase(cast):
    rnd = open_round(cast)
    rate(cast.manager, rnd, optimise_flow="weak", manage_failure="weak", know_your_users="partly",
         use_appropriate_methods="weak", challenge_assumptions="weak", be_transparent="partly",
         use_a_common_language="good", focus_on_user_needs="unknown", listen_to_your_ecosystems="partly")
    todo = queries.work_on_next(rnd)
    assert [(t["pattern"].slug, t["colour"]) for t in todo] == [
        ("challenge-assumptions", "weak"),  # phase I, weak, in the table's order
        ("use-appropriate-methods", "weak"),
        ("know-your-users", "partly"),  # phase I, partly
        ("manage-failure", "weak"),  # phase II
        ("be-transparent", "partly"),
        ("optimise-flow", "weak"),  # phase III
        ("listen-to-your-ecosystems", "partly"),  # phase IV
    ]
    assert [t["pattern"].slug for t in queries.work_on_next(rnd, limit=2)] == [
        "challenge-assumptions", "use-appropriate-methods"]


def test_the_heat_map_colours_each_service_by_its_latest_rated_round(cast):
    quiet = factories.service(cast.executive, "Waste collection", manager=cast.other_manager)
    _closed_round(cast, cast.service, know_your_users="weak")
    _closed_round(cast, cast.service, know_your_users="good", manage_failure="partly")
    _closed_round(cast, cast.other_service, know_your_users="partly")
    open_round(cast, cast.other_service)  # opened, not yet rated: the last rated round still shows
    heat = queries.heat_map([cast.service, cast.other_service, quiet])
    assert len(heat["patterns"]) == 40
    column = {p.slug: i for i, p in enumerate(heat["patterns"])}
    rows = {row["service"].name: row["cells"] for row in heat["rows"]}
    assert list(rows) == ["Parking permits", "Identity", "Waste collection"], "the services in the order given"
    assert rows["Parking permits"][column["know-your-users"]] == "good"
    assert rows["Parking permits"][column["manage-failure"]] == "partly"
    assert rows["Identity"][column["know-your-users"]] == "partly"
    assert set(rows["Waste collection"]) == {"unknown"}
    assert Counter(rows["Parking permits"]) == {"unknown": 38, "good": 1, "partly": 1}
