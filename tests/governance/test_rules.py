"""The rules of the executive's levers, as the guide states them (model 5.5–5.8, 10, and
"mandates as campaigns" in 11): data built through the actions, by the cast."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from osom.core.errors import NotAllowed
from osom.core.models import AuditEvent, Notification, Organisation
from osom.core.policy import can
from osom.governance import actions
from osom.governance.models import Dispute, GuidanceDecision, Mandate, MandateTarget, Proposal
from osom.governance.queries import burn_up, executive_attention, manager_obligations, rejected_guidance_for
from osom.lifecycle import actions as lifecycle_actions
from osom.network import actions as network_actions
from osom.network.models import ContractVersion, Dependency, Metric, Need, Service

from .. import factories
from ..lifecycle.helpers import clock_at, decommissioned, midday_today, published, scheduled, service_at
from .helpers import (
    NEEDS, drafted_mandate, issued_mandate, proposal, published_guidance, services_dispute, snapshot, target_of,
)

DAY = dt.timedelta(days=1)


def _targets(mandate) -> set[str]:
    return set(MandateTarget.objects.filter(mandate=mandate).values_list("service__name", flat=True))


def _told(since_pk: int) -> list[tuple[str, str]]:
    """Who was notified of what since the notification ``since_pk``."""
    return sorted(Notification.objects.filter(pk__gt=since_pk).values_list("person__email", "text"))


def _last_notification() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- mandates as campaigns (model 5.5 and 11) --------------------------------------------

def test_a_saved_filter_chooses_the_services_when_the_mandate_is_issued_not_before_nor_after(cast):
    """"All live services that consume Identity": resolved once, on the day of issue."""
    libraries = service_at(cast, "live", "Libraries", dependencies=["identity"])
    service_at(cast, "live", "Parks")  # live, but does not consume Identity
    service_at(cast, "beta", "Bins", dependencies=["identity"])  # consumes Identity, but not live
    # consumed Identity once; its current contract, altered since, no longer does
    theatres = factories.service(cast.executive, "Theatres", stage="live", dependencies=["identity"])
    network_actions.alter_contract(actor=cast.executive, service=theatres, content=factories.contract("Theatres"),
                                   reason="Theatres sells tickets without accounts now.", risk="None known.")
    assert cast.service.lifecycle_stage == "discovery"  # consumes Identity, but in discovery

    mandate = drafted_mandate(cast, scope_filter={"stage": "live", "consumes": "identity"})
    assert _targets(mandate) == set(), "a filter is not resolved while the mandate is a draft"
    assert mandate.scope_description == "stage: live, consumes: identity"

    since = _last_notification()
    mandate = actions.issue_mandate(actor=cast.executive, mandate=mandate)
    assert _targets(mandate) == {"Libraries"}
    assert [email for email, _ in _told(since)] == [cast.manager.email], "the manager of Libraries is told"

    # a service that starts matching after the issue is not added
    service_at(cast, "live", "Museums", dependencies=["identity"])
    assert _targets(mandate) == {"Libraries"}
    assert libraries.pk in set(MandateTarget.objects.filter(mandate=mandate).values_list("service", flat=True))


def test_the_burn_up_counts_the_acknowledgements_and_completions_recorded(cast):
    """Issued ten days ago; A acknowledged on day 5, B done on day 8, A done today, C silent."""
    bins = service_at(cast, "discovery", "Bin collection")
    start = midday_today() - 10 * DAY
    with clock_at(start):
        mandate = issued_mandate(cast, services=[cast.service, cast.other_service, bins])
    parking, identity = target_of(mandate, cast.service), target_of(mandate, cast.other_service)
    with clock_at(start + 5 * DAY):
        actions.acknowledge_mandate(actor=cast.manager, target=parking, note="Planned.")
    with clock_at(start + 8 * DAY):
        actions.report_mandate_progress(actor=cast.other_manager, target=identity, note="Done.", done=True)
    with clock_at(start + 10 * DAY):
        actions.report_mandate_progress(actor=cast.manager, target=parking, note="Half way.")
        actions.report_mandate_progress(actor=cast.manager, target=parking, note="All pages moved.", done=True)

    points = burn_up(mandate)

    def day(n: int) -> str:
        return (start + n * DAY).date().isoformat()

    by_day = {p["date"]: (p["done"], p["acknowledged"], p["total"]) for p in points}
    assert points[0]["date"] == day(0)
    assert {d: by_day[d] for d in (day(0), day(5), day(8), day(10))} == {
        day(0): (0, 0, 3), day(5): (0, 1, 3), day(8): (1, 2, 3), day(10): (2, 2, 3)}
    assert [p["date"] for p in points] == sorted(p["date"] for p in points)
    done = MandateTarget.objects.filter(mandate=mandate, status="done").count()
    assert points[-1]["done"] == done == 2
    acknowledged = MandateTarget.objects.filter(mandate=mandate, acknowledged_at__isnull=False).count()
    assert points[-1]["acknowledged"] == acknowledged == 2


def test_a_mandate_not_yet_issued_has_no_burn_up(cast):
    assert burn_up(drafted_mandate(cast)) == []


def test_the_burn_up_counts_a_completion_on_the_organisations_own_day(cast):
    """Days are the organisation's (Europe/London), not UTC's."""
    with clock_at(dt.datetime(2025, 6, 20, 12, tzinfo=dt.timezone.utc)):
        mandate = issued_mandate(cast, services=[cast.service, cast.other_service], due_date=dt.date(2025, 8, 1))
    with clock_at(dt.datetime(2025, 7, 1, 23, 30, tzinfo=dt.timezone.utc)):  # 00:30 on 2 July in London
        target = actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service),
                                                 note="Done.", done=True)
    assert timezone.localdate(target.done_at) == dt.date(2025, 7, 2)
    by_day = {p["date"]: p["done"] for p in burn_up(mandate)}
    assert by_day.get("2025-07-02") == 1 and "2025-07-01" not in by_day, by_day


def test_reminders_go_only_to_the_managers_of_services_not_done(cast, mailoutbox, django_capture_on_commit_callbacks):
    bins = factories.service(cast.executive, "Bin collection", manager=cast.outsider)
    mandate = issued_mandate(cast, services=[cast.service, cast.other_service, bins])
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service), note="All moved.",
                                    done=True)
    actions.acknowledge_mandate(actor=cast.outsider, target=target_of(mandate, bins))
    since = _last_notification()

    with django_capture_on_commit_callbacks(execute=True):
        told = actions.remind_mandate(actor=cast.exec_team, mandate=mandate)

    assert told == 2
    reminded = {cast.other_manager.email, cast.outsider.email}
    assert {email for email, _ in _told(since)} == reminded, "the manager whose service is done is left alone"
    assert all(text.startswith(f"Reminder: {mandate.title}") for _, text in _told(since))
    assert sorted(address for mail in mailoutbox for address in mail.to) == sorted(reminded)
    assert all(mandate.title in mail.subject for mail in mailoutbox)
    mandate.refresh_from_db()
    assert mandate.last_reminded_at is not None


def _contracts() -> dict:
    return {m._meta.label: list(m.objects.order_by("pk").values())
            for m in (ContractVersion, Need, Need.metrics.through, Metric, Dependency)} | {
        "current": list(Service.objects.order_by("pk").values_list("pk", "current_version_id", "revision"))}


def test_a_mandate_has_no_way_to_change_a_contract(cast):
    """It may change how a manager meets a contract, never the contract (model 5.5)."""
    assert not [f for model in (Mandate, MandateTarget) for f in model._meta.get_fields()
                if getattr(f, "related_model", None) is ContractVersion], "a mandate holds no contract version"
    before = _contracts()
    mandate = issued_mandate(cast)
    actions.acknowledge_mandate(actor=cast.manager, target=target_of(mandate, cast.service))
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service),
                                    note="Sign-in moved.", done=True)
    actions.report_mandate_progress(actor=cast.other_manager, target=target_of(mandate, cast.other_service),
                                    note="Half the apps moved.")
    actions.remind_mandate(actor=cast.executive, mandate=mandate)
    actions.close_mandate(actor=cast.executive, mandate=mandate, note="Good enough.")
    assert _contracts() == before


def test_a_closed_mandate_takes_no_more_progress_and_says_how_many_were_done(cast):
    mandate = issued_mandate(cast)
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service), note="Done.",
                                    done=True)
    actions.close_mandate(actor=cast.executive, mandate=mandate, note="Identity retires its old log-in anyway.")
    event = AuditEvent.objects.filter(verb="close_mandate").get()
    assert "1 of 2 services done" in event.summary
    assert event.reason == "Identity retires its old log-in anyway."


# --- guidance (model 5.6) ------------------------------------------------------------------

def test_a_later_decision_on_guidance_replaces_the_earlier_one(cast):
    guidance = published_guidance(cast)
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                            rationale="Permits are free; nothing to pay.")
    assert [r["title"] for r in rejected_guidance_for(cast.service)] == [guidance.title]
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="adopt")

    decisions = GuidanceDecision.objects.filter(guidance=guidance, service=cast.service)
    assert [(d.decision, d.rationale) for d in decisions] == [("adopt", "")], "one decision per service"
    assert rejected_guidance_for(cast.service) == []
    event = AuditEvent.objects.filter(verb="decide_guidance").order_by("-pk").first()
    assert event.before == {"decision": "reject", "rationale": "Permits are free; nothing to pay."}
    assert event.after == {"decision": "adopt", "rationale": ""}


def test_rejected_guidance_is_listed_and_kept_on_the_published_assessment_report(cast):
    payments = published_guidance(cast)
    encryption = published_guidance(cast, title="Encrypt data at rest")
    withdrawn = published_guidance(cast, title="Host on the old data centre")
    actions.decide_guidance(actor=cast.manager, guidance=payments, service=cast.service, decision="reject",
                            rationale="Permits are free; nothing to pay.")
    actions.decide_guidance(actor=cast.manager, guidance=encryption, service=cast.service, decision="adopt")
    actions.decide_guidance(actor=cast.manager, guidance=withdrawn, service=cast.service, decision="reject",
                            rationale="We are in the cloud.")
    actions.decide_guidance(actor=cast.other_manager, guidance=encryption, service=cast.other_service,
                            decision="reject", rationale="Identity encrypts at the field level instead.")
    actions.withdraw_guidance(actor=cast.executive, guidance=withdrawn, reason="The data centre closed.")

    listed = rejected_guidance_for(cast.service)
    assert [(r["guidance_id"], r["title"], r["rationale"], r["decided_by"]) for r in listed] == [
        (payments.pk, payments.title, "Permits are free; nothing to pay.", cast.manager.name)]

    # the discovery assessment: scheduled, agenda published, decisions recorded, published
    report = published(cast, cast.service, outcome="more_research")
    report.refresh_from_db()
    assert report.status == "published"
    assert report.rejected_guidance == listed

    # the report keeps what the service accounted for on the day, whatever it decides later
    actions.decide_guidance(actor=cast.manager, guidance=payments, service=cast.service, decision="adopt")
    report.refresh_from_db()
    assert rejected_guidance_for(cast.service) == []
    assert report.rejected_guidance == listed


def test_publishing_guidance_asks_every_manager_of_a_running_service_to_decide(cast):
    since = _last_notification()
    guidance = published_guidance(cast)
    assert {email for email, _ in _told(since)} == {cast.manager.email, cast.other_manager.email}
    assert manager_obligations(cast.manager)["guidance_to_decide"] == [(guidance, cast.service)]


def test_a_manager_who_also_has_a_decommissioned_service_is_still_asked_to_decide(cast):
    old = decommissioned(cast)  # managed by the cast's manager, who still runs Parking permits
    assert old.manager == cast.manager and old.lifecycle_stage == "decommissioned"
    since = _last_notification()
    published_guidance(cast)
    assert cast.manager.email in {email for email, _ in _told(since)}


# --- mediation (model 5.7) ---------------------------------------------------------------

def test_a_resolution_links_the_lever_the_executive_used(cast):
    by_mandate, by_alteration, by_assessment, by_agreement = (services_dispute(cast) for _ in range(4))
    mandate = issued_mandate(cast, services=[cast.other_service])
    alteration = network_actions.alter_contract(
        actor=cast.executive, service=cast.other_service,
        content=factories.contract("Identity", user_type="internal", evolution_stage="product", needs=2),
        reason="Identity must be available at month end.", risk="More on-call.")
    report = published(cast, cast.other_service, outcome="more_research")

    since = _last_notification()
    actions.resolve_dispute(actor=cast.executive, dispute=by_mandate, resolution="Identity moves its window.",
                            lever="mandate", mandate=mandate, contract_version=alteration)
    actions.resolve_dispute(actor=cast.exec_team, dispute=by_alteration, resolution="Availability is now in the "
                            "contract.", lever="alteration", contract_version=alteration)
    actions.resolve_dispute(actor=cast.executive, dispute=by_assessment, resolution="The assessment looked at it.",
                            lever="assessment", assessment=report)
    actions.resolve_dispute(actor=cast.executive, dispute=by_agreement, resolution="They agreed.", lever="none")

    links = {d.pk: (d.status, d.lever, d.mandate, d.contract_version, d.assessment)
             for d in Dispute.objects.all()}
    assert links == {
        by_mandate.pk: ("resolved", "mandate", mandate, None, None),  # only the lever chosen is linked
        by_alteration.pk: ("resolved", "alteration", None, alteration, None),
        by_assessment.pk: ("resolved", "assessment", None, None, report),
        by_agreement.pk: ("resolved", "none", None, None, None),
    }
    assert all(d.resolved_by in (cast.executive, cast.exec_team) and d.resolved_at for d in Dispute.objects.all())
    # the one who raised it and the other side's manager are told, each time
    assert {email for email, _ in _told(since)} == {cast.manager.email, cast.other_manager.email}
    assert len(_told(since)) == 8


def test_an_evaluation_dispute_names_no_service_and_tells_the_executive(cast):
    since = _last_notification()
    dispute = actions.raise_dispute(actor=cast.team_member, kind="evaluation", subject="My evaluation",
                                    description="It ignored my community's guidance.")
    assert (dispute.kind, dispute.service, dispute.other_service) == ("evaluation", None, None)
    assert [email for email, _ in _told(since)] == [cast.executive.email]


# --- demand management (model 5.8) -------------------------------------------------------

def test_folding_a_proposal_opens_a_draft_with_the_needs_added_and_the_existing_ones_kept(cast):
    current = cast.service.current_version
    existing = list(current.needs.order_by("position").values_list("as_a", "i_need", "so_that"))
    proposed = proposal(cast)

    draft = actions.fold_proposal(actor=cast.executive, proposal=proposed, service=cast.service,
                                  note="Parking permits already issues permits.")

    assert draft.status == "draft" and draft.service == cast.service and draft.number == current.number + 1
    needs = list(draft.needs.order_by("position").values_list("as_a", "i_need", "so_that"))
    assert needs == existing + [(n["as_a"], n["i_need"], n["so_that"]) for n in NEEDS]
    assert list(draft.dependencies.values_list("provider__slug", flat=True)) == ["identity"]
    cast.service.refresh_from_db()
    assert cast.service.current_version == current, "the contract changes only once the draft is approved"
    proposed.refresh_from_db()
    assert (proposed.status, proposed.service, proposed.draft_version, proposed.decided_by) == (
        "folded", cast.service, draft, cast.executive)
    # the manager refines and submits it as any draft of theirs
    network_actions.submit_contract_version(actor=cast.manager, version=draft)


def test_establishing_from_a_proposal_makes_a_discovery_service_that_meets_its_needs(cast):
    proposed = proposal(cast)
    content = {**actions.proposal_content(proposed), "user_type": "external", "benefit": "Fewer fines contested."}

    service = actions.establish_from_proposal(actor=cast.exec_team, proposal=proposed, content=content,
                                              manager=cast.outsider)

    assert (service.lifecycle_stage, service.adopted, service.manager) == ("discovery", False, cast.outsider)
    assert service.name == proposed.title
    assert list(service.current_version.needs.order_by("position").values_list("as_a", "i_need", "so_that")) == [
        (n["as_a"], n["i_need"], n["so_that"]) for n in NEEDS]
    proposed.refresh_from_db()
    assert (proposed.status, proposed.service) == ("established", service)
    event = AuditEvent.objects.filter(verb="establish_from_proposal").get()
    assert (event.actor, event.authority, event.authority_person, event.service) == (
        cast.exec_team, "executive", cast.executive, service)


def test_declining_a_proposal_tells_who_proposed_it_why(cast):
    proposed = proposal(cast)
    since = _last_notification()
    actions.decline_proposal(actor=cast.executive, proposal=proposed, reason="Not a priority this year.")
    proposed.refresh_from_db()
    assert (proposed.status, proposed.decision_note) == ("declined", "Not a priority this year.")
    assert [email for email, _ in _told(since)] == [cast.outsider.email]


# --- delegation (model 2) ------------------------------------------------------------------

def test_an_act_of_the_executive_team_is_recorded_on_the_executives_authority(cast):
    mandate = actions.issue_mandate(actor=cast.exec_team, mandate=drafted_mandate(cast, actor=cast.exec_team))
    events = AuditEvent.objects.filter(verb__in=["draft_mandate", "issue_mandate"], object_id=str(mandate.pk))
    assert [(e.verb, e.actor, e.authority, e.authority_person) for e in events.order_by("pk")] == [
        ("draft_mandate", cast.exec_team, "executive", cast.executive),
        ("issue_mandate", cast.exec_team, "executive", cast.executive),
    ]


def test_the_acts_the_executive_reserves_are_the_ones_its_team_may_not_do(cast):
    mandate = drafted_mandate(cast)
    assert can(cast.exec_team, "issue_mandate")

    actions.set_reserved_acts(actor=cast.executive, acts=["issue_mandate", "replace_manager"])
    assert Organisation.current().reserved_acts == ["issue_mandate", "replace_manager"]
    assert not can(cast.exec_team, "issue_mandate") and can(cast.exec_team, "draft_mandate")
    with pytest.raises(NotAllowed, match="keeps the right to issue a mandate"):
        actions.issue_mandate(actor=cast.exec_team, mandate=mandate)
    assert Mandate.objects.get(pk=mandate.pk).status == "draft"
    actions.set_reserved_acts(actor=cast.executive, acts=[])
    assert can(cast.exec_team, "replace_manager", service=cast.service), "nothing reserved but what is always"
    actions.issue_mandate(actor=cast.exec_team, mandate=mandate)
    assert Mandate.objects.get(pk=mandate.pk).status == "issued"
    with pytest.raises(NotAllowed, match="keeps the right"):
        actions.set_reserved_acts(actor=cast.exec_team, acts=[])

    events = AuditEvent.objects.filter(verb="set_reserved_acts").order_by("pk")
    assert [(e.before, e.after) for e in events] == [
        ({"reserved": ["replace_manager", "decommission_service"]}, {"reserved": ["issue_mandate", "replace_manager"]}),
        ({"reserved": ["issue_mandate", "replace_manager"]}, {"reserved": []}),
    ]


def test_establishing_from_a_proposal_needs_the_right_to_establish_a_service_too(cast):
    """Deciding a proposal is not enough: a new service is established, and the
    executive may keep that to itself while its team still decides proposals."""
    actions.set_reserved_acts(actor=cast.executive, acts=["establish_service"])
    proposed = proposal(cast)
    before = snapshot()
    with pytest.raises(NotAllowed, match="keeps the right to establish a service"):
        actions.establish_from_proposal(actor=cast.exec_team, proposal=proposed,
                                        content=factories.contract("Visitor permits"))
    assert snapshot() == before
    actions.decline_proposal(actor=cast.exec_team, proposal=proposed, reason="Not this year.")
    assert proposal(cast, title="Carer permits").status == "open"
    actions.establish_from_proposal(actor=cast.executive, proposal=Proposal.objects.get(title="Carer permits"),
                                    content=factories.contract("Carer permits"))


# --- what the executive and the managers see ---------------------------------------------------

def _overdue_live_service(c):
    """Libraries, live, assessed 30 days ago on a 7-day cadence: due 23 days ago."""
    libraries = service_at(c, "live", "Libraries")
    lifecycle_actions.set_assessment_cadence(actor=c.executive, days=7, service=libraries)
    with clock_at(midday_today() - 30 * DAY):
        published(c, libraries, outcome="remain_live")
    libraries.refresh_from_db()
    assert libraries.next_assessment_due < timezone.localdate()
    return libraries


def test_the_executives_attention_list_holds_what_needs_acting_on(cast):
    libraries = _overdue_live_service(cast)
    funding = lifecycle_actions.request_funding(actor=cast.manager, service=cast.service, kind="expand",
                                                period="2026-27", amount="5000.00", rationale="Demand doubled.")
    dispute = services_dispute(cast)
    behind = issued_mandate(cast, title="Move to shared identity")
    actions.report_mandate_progress(actor=cast.manager, target=target_of(behind, cast.service), note="Done.",
                                    done=True)
    finished = issued_mandate(cast, services=[cast.service], title="Publish metrics monthly")
    actions.report_mandate_progress(actor=cast.manager, target=target_of(finished, cast.service), note="Done.",
                                    done=True)
    # time moves on: both mandates' due dates pass (no action moves a due date into the past)
    Mandate.objects.filter(pk__in=[behind.pk, finished.pk]).update(due_date=timezone.localdate() - DAY)
    proposed = proposal(cast)
    guidance = published_guidance(cast)
    rejection = actions.decide_guidance(actor=cast.other_manager, guidance=guidance, service=cast.other_service,
                                        decision="reject", rationale="Identity takes no payments.")

    attention = executive_attention()

    assert attention["overdue"] == [libraries]
    assert attention["funding_requests"] == [funding]
    assert attention["disputes"] == [dispute]
    assert [(m, m.done, m.total) for m in attention["mandates_behind"]] == [(behind, 1, 2)], \
        "a mandate past due with every service done is not behind"
    assert attention["proposals"] == [proposed]
    assert attention["rejections"] == [rejection]

    # once acted on, each leaves the list
    actions.resolve_dispute(actor=cast.executive, dispute=dispute, resolution="Agreed.", lever="none")
    actions.decline_proposal(actor=cast.executive, proposal=proposed, reason="Not this year.")
    actions.close_mandate(actor=cast.executive, mandate=behind)
    attention = executive_attention()
    assert (attention["disputes"], attention["proposals"], attention["mandates_behind"]) == ([], [], [])


def test_a_managers_obligations_hold_what_is_asked_of_their_services(cast):
    mandate = issued_mandate(cast)
    dispute = actions.raise_dispute(actor=cast.other_manager, service=cast.other_service, other_service=cast.service,
                                    subject="Permit checks flood Identity", description="Two calls per page.")
    guidance = published_guidance(cast)
    agenda = scheduled(cast, cast.service)

    mine = manager_obligations(cast.manager)
    assert mine["services"] == [cast.service]
    assert mine["mandates"] == [target_of(mandate, cast.service)]
    assert mine["disputes"] == [dispute], "a dispute raised against the service is the manager's too"
    assert mine["guidance_to_decide"] == [(guidance, cast.service)]
    assert mine["agendas"] == [agenda]
    theirs = manager_obligations(cast.other_manager)
    assert theirs["mandates"] == [target_of(mandate, cast.other_service)]
    assert theirs["agendas"] == []

    # done and decided, they are obligations no more
    actions.report_mandate_progress(actor=cast.manager, target=target_of(mandate, cast.service), note="Done.",
                                    done=True)
    actions.decide_guidance(actor=cast.manager, guidance=guidance, service=cast.service, decision="reject",
                            rationale="We take no payments.")
    mine = manager_obligations(cast.manager)
    assert (mine["mandates"], mine["guidance_to_decide"]) == ([], [])
    assert [r.guidance for r in executive_attention()["rejections"]] == [guidance]


def test_someone_who_manages_no_running_service_is_asked_nothing_in_one_query(cast):
    issued_mandate(cast)
    published_guidance(cast)
    with CaptureQueriesContext(connection) as captured:
        nothing = manager_obligations(cast.executive)
    assert len(captured.captured_queries) == 1
    assert nothing == {key: [] for key in manager_obligations(cast.manager)}
    assert manager_obligations(cast.manager)["guidance_to_decide"], "the manager's are there to compare with"
