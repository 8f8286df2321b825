"""The demo organisation's learning loop: Corrections of Error in every state, reviews,
doctrine self-assessments, communities of practice and open roles, loaded through the
actions and dated as the story tells it.

The tests that only read the demo share one load (a Django ``TestCase`` loads it once in
``setUpTestData``); those that load it differently, or break it, load their own.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.db.models import Count, F
from django.test import TestCase, override_settings
from django.utils import timezone

from osom.core.errors import InvalidInput
from osom.core.models import AuditEvent, Person
from osom.governance.models import Guidance
from osom.learning import queries
from osom.learning.actions import REQUIRED_TO_PUBLISH, review_agenda
from osom.learning.models import (
    CoEReview,
    Community,
    CommunityGuidance,
    CommunityMembership,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRating,
    DoctrineRound,
    OpenRole,
    PatternEffect,
    Rating,
)
from osom.network.demo import (
    LEARNING_FILE,
    DemoDataError,
    _as_of,
    load_demo,
    read_demo_data,
    read_learning_data,
)
from osom.network.models import Service, TeamMembership

FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]
Status = CorrectionOfError.Status
Action = CorrectiveAction.Status


def _broken(tmp_path, change) -> Path:
    """A copy of the demo's learning data with ``change`` applied to it."""
    data = yaml.safe_load(LEARNING_FILE.read_text(encoding="utf-8"))
    change(data)
    broken = tmp_path / "broken-learning.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return broken


class TestTheLearningLoopAsLoaded(TestCase):
    """Everything that reads the learning loop as ``osom demo`` leaves it, from one load."""

    @classmethod
    def setUpTestData(cls):
        with override_settings(PASSWORD_HASHERS=FAST_HASHING):
            cls.demo = load_demo()
        cls.today = timezone.localdate()

    # ------------------------------------------------------------ Corrections of Error

    def test_the_demo_has_corrections_of_error_in_every_state(self):
        coes = CorrectionOfError.objects.select_related("service", "author")
        assert Counter(coes.values_list("status", flat=True)) == {Status.REVIEWED: 3, Status.PUBLISHED: 2, Status.DRAFT: 1}
        for coe in coes.exclude(status=Status.DRAFT):
            for name in REQUIRED_TO_PUBLISH:
                assert getattr(coe, name).strip(), f"{coe.title}: {name}"
            assert coe.root_cause_data and coe.trade_offs_that_led and coe.trade_offs_to_avoid, coe.title
            assert coe.timeline.exists() and coe.why_chains.exists() and coe.actions.exists(), coe.title
            assert coe.published_by == coe.service.manager, coe.title
            # written by someone of the service: its manager or a member of its team
            assert coe.author == coe.service.manager or TeamMembership.objects.filter(
                service=coe.service, person=coe.author, ended_at__isnull=True).exists(), coe.title
        draft = coes.get(status=Status.DRAFT)
        assert draft.author.memberships.filter(service=draft.service).exists(), "a team member started it"
        assert not draft.root_cause and not draft.actions.exists(), "a draft is still being written"
        # drafts are kept from the library for people outside the service
        assert draft not in queries.coe_library(viewer=Person.objects.get(email="sam.whitaker@northbridge.example"))
        assert draft in queries.coe_library(viewer=draft.service.manager)

    def test_the_payment_outage_is_written_up_in_full(self):
        coe = CorrectionOfError.objects.get(title="Council tax payments shown as failed on instalment day")
        assert coe.service.name == "Pay council tax" and coe.users_affected and coe.status == Status.PUBLISHED
        timeline = list(coe.timeline.all())
        assert len(timeline) >= 6
        assert [e.at for e in timeline] == sorted(e.at for e in timeline)
        assert timezone.localdate(timeline[0].at) == coe.occurred_on
        chains = list(coe.why_chains.all())
        assert len(chains) == 2 and all(len(c.whys) >= 4 for c in chains)
        effects = {e.pattern.slug: e.effect for e in coe.pattern_effects.select_related("pattern")}
        assert effects["manage-failure"] == PatternEffect.Effect.HURT
        assert effects["be-transparent"] == PatternEffect.Effect.HELPED
        assert set(coe.actions.values_list("status", flat=True)) == set(Action.values)
        dropped = coe.actions.get(status=Action.DROPPED)
        assert dropped.dropped_reason and AuditEvent.objects.get(verb="update_corrective_action", object_id=str(dropped.pk),
                                                                 after__status=Action.DROPPED).reason
        # one action was added after the CoE was written, as actions go on being planned
        added = coe.actions.filter(created_at__gt=coe.created_at)
        assert added.count() == 1 and added.get().owner == Service.objects.get(name="Payments").manager
        # the library finds it by service, by pattern and by text
        assert coe in queries.coe_library(service="pay-council-tax")
        assert coe in queries.coe_library(pattern="manage-failure", effect="hurt")
        assert coe in queries.coe_library(q="signing key")

    def test_corrective_actions_are_in_every_status_with_some_overdue(self):
        actions = CorrectiveAction.objects.exclude(coe__status=Status.DRAFT)
        assert set(actions.values_list("status", flat=True)) == set(Action.values)
        overdue = list(queries.overdue_actions())
        assert len(overdue) == 2
        assert all(a.status == Action.OPEN and a.due_date < self.today for a in overdue)
        assert len({a.coe.service_id for a in overdue}) == 2, "overdue in two services"
        assert actions.filter(status=Action.OPEN, due_date__gte=self.today).exists(), "some open ones are not due yet"
        for action in actions.filter(status=Action.DROPPED):
            assert action.dropped_reason and action.done_at is None
        for action in actions.filter(status=Action.VERIFIED):
            assert action.verified_by and action.done_at <= action.verified_at
        for action in actions.filter(status__in=[Action.DONE, Action.VERIFIED]):
            assert action.created_at <= action.done_at <= timezone.now()

    def test_the_learning_figures_tell_the_story(self):
        figures = queries.learning_figures()
        closed = CorrectiveAction.objects.filter(status__in=[Action.DONE, Action.VERIFIED]).exclude(coe__status=Status.DRAFT)
        days = [(a.done_at - a.created_at).total_seconds() / 86400 for a in closed]
        assert figures["closed"] == len(days) >= 8
        # actions were done days or weeks after they were recorded, not the moment the demo loaded
        assert figures["median_days_to_close"] == round(statistics.median(days), 1) >= 3
        late = [a for a in closed if timezone.localdate(a.done_at) > a.due_date]
        assert late and figures["closed_on_time"] == len(days) - len(late)
        assert 50 < figures["share_on_time"] < 100
        assert figures["open_overdue"] == 2 and figures["unreviewed"] == 2
        # the problem that repeats: the payment key changed twice, with the same root cause
        (repeated,) = figures["repeated"]
        assert repeated["service"].name == "Pay council tax"
        assert [c.title for c in repeated["coes"]] == [
            "Payments taken but shown as failed, after Payments changed its signing key",
            "Council tax payments shown as failed on instalment day",
        ]
        assert {"key", "sign", "alert"} <= set(repeated["shared_words"])

    def test_the_story_is_dated_in_order(self):
        now = timezone.now()
        for coe in CorrectionOfError.objects.all():
            assert coe.occurred_on <= timezone.localdate(coe.created_at), coe.title
            if coe.status != Status.DRAFT:
                assert coe.created_at < coe.published_at < now, coe.title
            if coe.status == Status.REVIEWED:
                assert coe.published_at < coe.reviewed_at == coe.review.held_at, coe.title
        held = CoEReview.objects.get(status=CoEReview.Status.HELD)
        assert timezone.localdate(held.held_at) == held.scheduled_for and held.scheduled_at < held.held_at
        # the billing outage the governance's guidance speaks of happened in January
        billing = CorrectionOfError.objects.get(service__name="Council tax billing")
        assert (billing.occurred_on.month, billing.occurred_on.day) == (1, 14)
        assert (self.today - billing.occurred_on).days >= 90
        for rnd in DoctrineRound.objects.exclude(closed_at=None):
            assert rnd.opened_at < rnd.closed_at < now, rnd.title
            assert all(rnd.opened_at < r.rated_at < rnd.closed_at for r in rnd.ratings.all()), rnd.title
        first, second = DoctrineRound.objects.filter(service__name="Pay council tax").order_by("opened_at")
        assert first.closed_at < second.opened_at
        # what the actions recorded, the audit log recorded at the same moment (the clock runs on)
        for coe in CorrectionOfError.objects.exclude(status=Status.DRAFT):
            event = AuditEvent.objects.get(verb="publish_coe", object_id=str(coe.pk))
            assert abs(event.at - coe.published_at) < dt.timedelta(seconds=1), coe.title
        assert not AuditEvent.objects.filter(at__gt=now).exists()

    # ------------------------------------------------------------ reviews and guidance

    def test_a_review_was_held_and_another_is_scheduled(self):
        held = CoEReview.objects.get(status=CoEReview.Status.HELD)
        reviewed = CorrectionOfError.objects.filter(status=Status.REVIEWED)
        assert set(held.reviewed.all()) == set(reviewed) and reviewed.count() == 3
        assert held.notes and held.held_by.role == "executive"
        assert all(coe.review_note for coe in reviewed)
        coming = CoEReview.objects.get(status=CoEReview.Status.SCHEDULED)
        assert coming.scheduled_for > self.today and coming.held_at is None
        # its agenda: exactly the published CoEs not yet reviewed
        assert set(review_agenda()) == set(CorrectionOfError.objects.filter(status=Status.PUBLISHED))
        assert review_agenda().count() == 2

    def test_guidance_is_drawn_from_a_reviewed_correction_of_error(self):
        guidance = Guidance.objects.get(coe__isnull=False)
        assert guidance.source == Guidance.Source.COE and guidance.status == Guidance.Status.PUBLISHED
        assert guidance.coe.status == Status.REVIEWED and guidance.coe.service.name == "Council tax billing"
        assert guidance.title == "Test a full restore of your service's data every quarter"
        assert guidance.created_at > guidance.coe.reviewed_at
        drafted = AuditEvent.objects.get(verb="draft_guidance", object_id=str(guidance.pk))
        assert drafted.after["coe"] == guidance.coe_id
        assert guidance.decisions.exists(), "services decided on it"

    # ------------------------------------------------------------ the doctrine

    def test_two_rounds_of_one_service_show_what_changed(self):
        first, second = DoctrineRound.objects.filter(service__name="Pay council tax").order_by("opened_at")
        assert first.status == second.status == DoctrineRound.Status.CLOSED
        service = second.service
        team = set(TeamMembership.objects.filter(service=service, ended_at__isnull=True).values_list("person", flat=True))
        for rnd in (first, second):
            respondents = set(rnd.ratings.values_list("respondent", flat=True))
            assert respondents == team | {service.manager_id}, "the manager and every team member rated it"
            colours = Counter(c["colour"] for c in queries.round_cells(rnd).values())
            assert colours[Rating.GOOD] and colours[Rating.PARTLY] and colours[Rating.WEAK], rnd.title
        assert queries.previous_round(second) == first
        change = {c["pattern"].slug: c["direction"] for c in queries.round_change(second)}
        assert list(change.values()).count("better") >= 5
        assert [slug for slug, direction in change.items() if direction == "worse"] == ["manage-failure"]
        assert queries.work_on_next(second)[0]["pattern"].phase == 1, "what to work on next starts at phase I"
        assert DoctrineRating.objects.filter(round=second, pattern__slug="manage-failure").exclude(evidence="").exists()

    def test_ratings_are_aggregated_with_ties_going_to_the_cautious_colour(self):
        first = DoctrineRound.objects.filter(service__name="Pay council tax").order_by("opened_at").first()
        cells = queries.round_cells(first)
        by_slug = {p.slug: p.pk for p in DoctrinePattern.objects.all()}
        # good + partly + unknown: a mean of exactly 1.5 is partly; partly + weak + unknown, exactly 0.5, is weak
        assert cells[by_slug["use-standards-where-appropriate"]]["colour"] == Rating.PARTLY
        assert cells[by_slug["remove-bias-and-duplication"]]["colour"] == Rating.WEAK
        assert cells[by_slug["there-is-no-core"]]["colour"] == Rating.UNKNOWN

    def test_the_whole_council_is_rating_itself_too(self):
        council = DoctrineRound.objects.get(service__isnull=True)
        assert council.status == DoctrineRound.Status.OPEN
        assert council.title.startswith("Northbridge City Council: doctrine self-assessment, ")
        respondents = Person.objects.filter(doctrine_ratings__round=council).distinct()
        assert respondents.count() >= 7
        assert respondents.filter(role="executive").exists() and respondents.filter(
            managed_services__isnull=True, memberships__isnull=True, role="member").exists(), "anyone may rate it"
        rated = council.ratings.values("respondent").annotate(n=Count("pk"))
        assert min(r["n"] for r in rated) < 40 == max(r["n"] for r in rated), "some rate every pattern, some a few"

    def test_the_heat_map_shows_several_services(self):
        rows = [r for r in queries.heat_map(Service.objects.all())["rows"] if r["round_id"]]
        assert len(rows) >= 4
        assert all(len(r["cells"]) == 40 for r in rows)
        assert len({tuple(r["cells"]) for r in rows}) == len(rows), "each service has its own picture"

    def test_the_council_put_some_patterns_in_its_own_words(self):
        changed = DoctrinePattern.objects.filter(revision__gt=1)
        assert changed.count() == 2
        assert "Correction of Error" in changed.get(slug="use-a-systematic-mechanism-of-learning").meaning

    # ------------------------------------------------------------ communities and open roles

    def test_the_demo_has_communities_endorsed_and_forming(self):
        found = Community.objects.annotate(members=Count("memberships", distinct=True))
        assert found.count() >= 3
        for community in found:
            assert community.members >= 2, community.name
            assert CommunityMembership.objects.filter(community=community, person=community.lead, left_at=None).exists()
            assert TeamMembership.objects.filter(role__job_family=community.profession).exists(), community.name
            assert community.guidance.exists(), community.name
        endorsed = found.get(status=Community.Status.ENDORSED)
        assert endorsed.endorsed_by.role == "executive" and endorsed.endorsed_on < self.today
        assert endorsed.guidance.filter(kind=CommunityGuidance.Kind.EVALUATION, withdrawn_at=None,
                                        published_at__date__lt=endorsed.endorsed_on).exists()
        forming = found.filter(status=Community.Status.FORMING)
        assert forming.count() >= 2
        assert forming.filter(guidance__kind=CommunityGuidance.Kind.EVALUATION).exists(), "one is ready to be endorsed"
        assert forming.exclude(guidance__kind=CommunityGuidance.Kind.EVALUATION).exists(), "one is not yet"
        states = {row["profession"]: row["state"] for row in queries.coverage()}
        assert set(states.values()) == {"endorsed", "forming", "none"}

    def test_open_roles_are_shown_to_their_profession(self):
        roles = OpenRole.objects.select_related("service", "role")
        assert roles.filter(status=OpenRole.Status.OPEN).count() >= 3
        filled = roles.get(status=OpenRole.Status.FILLED)
        assert filled.closed_at > filled.posted_at
        assert all(r.posted_by == r.service.manager for r in roles)
        researcher = Person.objects.get(email="meilin.tan@northbridge.example")
        shown = queries.open_roles_for(researcher)
        assert [r.role.name for r in shown] == ["Interaction designer"]

    # ------------------------------------------------------------ through the actions

    def test_every_learning_write_was_made_through_an_audited_action(self):
        verbs = dict(AuditEvent.objects.values_list("verb").annotate(n=Count("id")))
        coes = CorrectionOfError.objects.all()
        assert verbs["write_coe"] == coes.count()
        assert verbs["publish_coe"] == coes.exclude(status=Status.DRAFT).count()
        actions = CorrectiveAction.objects.all()
        added_later = actions.filter(created_at__gt=F("coe__created_at")).count()
        assert verbs["add_corrective_action"] == added_later == 1
        assert verbs["update_corrective_action"] == actions.exclude(status=Action.OPEN).count()
        assert verbs["verify_corrective_action"] == actions.filter(status=Action.VERIFIED).count()
        assert verbs["schedule_coe_review"] == CoEReview.objects.count()
        assert verbs["hold_coe_review"] == CoEReview.objects.filter(status=CoEReview.Status.HELD).count()
        assert verbs["edit_doctrine_meaning"] == DoctrinePattern.objects.filter(revision__gt=1).count()
        assert verbs["open_doctrine_round"] == DoctrineRound.objects.count()
        assert verbs["close_doctrine_round"] == DoctrineRound.objects.filter(status=DoctrineRound.Status.CLOSED).count()
        assert verbs["rate_doctrine"] == DoctrineRating.objects.values("round", "respondent").distinct().count()
        assert verbs["form_community"] == Community.objects.count()
        assert verbs["join_community"] == CommunityMembership.objects.count() - Community.objects.count()
        assert verbs["publish_community_guidance"] == CommunityGuidance.objects.count()
        assert verbs["endorse_community"] == Community.objects.filter(status=Community.Status.ENDORSED).count()
        assert verbs["post_open_role"] == OpenRole.objects.count()
        assert verbs["close_open_role"] == OpenRole.objects.exclude(status=OpenRole.Status.OPEN).count()

    def test_the_summary_mentions_the_learning_loop(self):
        assert "Corrections of Error" in self.demo.summary and "communities of practice" in self.demo.summary

    def test_loading_twice_changes_nothing(self):
        before = (CorrectionOfError.objects.count(), CorrectiveAction.objects.count(), DoctrineRating.objects.count(),
                  Community.objects.count(), AuditEvent.objects.count())
        assert not load_demo().created
        assert before == (CorrectionOfError.objects.count(), CorrectiveAction.objects.count(),
                          DoctrineRating.objects.count(), Community.objects.count(), AuditEvent.objects.count())


# ---------------------------------------------------------------- the clock, and loads of their own


def test_the_clock_sets_the_time_and_puts_it_back():
    real = timezone.now
    moment = dt.datetime(2026, 1, 16, 9, 0, tzinfo=dt.UTC)
    with _as_of(moment):
        assert abs(timezone.now() - moment) < dt.timedelta(seconds=5)
        assert timezone.localdate() == dt.date(2026, 1, 16)
        # model fields that default to the time read the clock too
        assert abs(DoctrineRound(title="x").opened_at - moment) < dt.timedelta(seconds=5)
        assert isinstance(dt.datetime(2020, 1, 1), timezone.datetime)
    assert timezone.now is real and timezone.datetime is dt.datetime
    with pytest.raises(RuntimeError), _as_of(moment):
        raise RuntimeError("a step failed")
    assert timezone.now is real and timezone.datetime is dt.datetime
    assert abs(timezone.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_the_story_follows_the_day_it_is_loaded(db):
    """Loaded on 1 February 2027, the January outage is that of 2026: the last 14 January
    at least 90 days earlier, so that its write-up, review and actions fit before the day."""
    moment = dt.datetime(2027, 2, 1, 12, tzinfo=dt.UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        load_demo()
    billing = CorrectionOfError.objects.get(service__name="Council tax billing")
    assert billing.occurred_on == dt.date(2026, 1, 14)
    assert CoEReview.objects.get(status=CoEReview.Status.HELD).scheduled_for == dt.date(2026, 2, 11)
    latest = CorrectionOfError.objects.get(title="Council tax payments shown as failed on instalment day")
    assert latest.occurred_on == dt.date(2027, 1, 20)
    assert latest.published_at.date() == dt.date(2027, 1, 23)
    assert all(a.at <= moment for a in AuditEvent.objects.filter(verb__in=["publish_coe", "rate_doctrine"]))
    assert CoEReview.objects.get(status=CoEReview.Status.SCHEDULED).scheduled_for == dt.date(2027, 2, 10)


def test_a_failure_in_the_learning_leaves_nothing_half_loaded(db, tmp_path):
    def break_the_last_step(data):
        data["open_roles"][-1]["closed"]["day"] = -80  # closed before it is posted

    with pytest.raises(DemoDataError):
        load_demo(learning_path=_broken(tmp_path, break_the_last_step))
    assert not (Person.objects.exists() or Service.objects.exists() or CorrectionOfError.objects.exists()
                or AuditEvent.objects.exists())
    assert timezone.now is not None and abs(timezone.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)


def test_an_action_refusing_a_step_leaves_nothing_half_loaded(db, tmp_path):
    def refuse(data):
        data["open_roles"][0]["level"] = "chief"

    with pytest.raises(InvalidInput, match="level"):
        load_demo(learning_path=_broken(tmp_path, refuse))
    assert not Person.objects.exists() and not CorrectionOfError.objects.exists()


def test_the_learning_data_is_checked_before_anything_is_written(db, tmp_path):
    data = read_learning_data()
    people = {p["email"] for p in read_demo_data()["people"]}
    for rnd in data["rounds"]:
        assert {r["person"] for r in rnd["respondents"]} <= people
        assert set(rnd["ratings"]) <= set(DoctrinePattern.objects.values_list("slug", flat=True))

    def misspell(data):
        data["coes"][0]["root_cuase"] = "typo"

    def rate_short(data):
        data["rounds"][0]["ratings"]["be-transparent"] = ["good"]

    def review_an_unknown_coe(data):
        data["reviews"][0]["held"]["coes"]["Nothing of the sort"] = "note"

    def draw_on_unknown_guidance(data):
        next(c for c in data["coes"] if c.get("guidance"))["guidance"] = "Guidance nobody wrote"

    def verify_before_done(data):
        action = data["coes"][0]["actions"][0]
        action.pop("done")

    def give_a_bad_day(data):
        data["coes"][0]["occurred"] = "last Christmas"

    for change, message in ((misspell, "root_cuase"), (rate_short, "one rating per respondent"),
                            (review_an_unknown_coe, "Nothing of the sort"), (draw_on_unknown_guidance, "nobody wrote"),
                            (verify_before_done, "only an action done is verified"), (give_a_bad_day, "last Christmas")):
        with pytest.raises(DemoDataError, match=message):
            load_demo(learning_path=_broken(tmp_path, change))
        assert not Person.objects.exists(), change.__name__
