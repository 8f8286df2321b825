"""Request and response shapes of governance's API: mandates with their burn-up,
guidance and each service's decision on it, disputes and their mediation, proposals of
needs and the matcher, deviations from the template, the acts the executive keeps to
itself, the dashboards and a person's notifications (model 5.5–5.8, 10).

The conventions are those of :mod:`osom.api.schemas`: lists answer ``{"items", "count"}``
and take ``limit`` and ``offset``; people are ``{"id", "name", "email"}`` and services
``{"slug", "name", "lifecycle_stage"}``; a request names a service by its slug.
"""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from osom.api.schemas import Day, Moment, NextCursor, PageQuery, PersonRef, RowId, ServiceRef, WholeNumber
from osom.lifecycle.api_schemas import Money
from osom.lifecycle.models import AssessmentKind, AssessmentStatus
from osom.network.stages import Evolution, Lifecycle, UserType

from .models import Deviation, Dispute, Guidance, GuidanceDecision, Mandate, MandateTarget, Proposal

__all__ = [
    # mandates
    "MandateFilters", "ScopeFilterIn", "MandateIn", "MandateEditIn", "CloseIn", "AcknowledgeIn", "ProgressIn",
    "MandateRow", "MandatePage", "TargetOut", "BurnUpPoint", "MandateDetail", "RemindedOut",
    # guidance
    "GuidanceFilters", "GuidanceIn", "GuidanceEditIn", "WithdrawGuidanceIn", "GuidanceRow", "GuidancePage",
    "GuidanceDetailQuery", "ServiceDecisionOut", "ServiceDecisionPage", "GuidanceDetail", "DecideIn", "DecisionOut",
    "RejectionOut", "RejectionPage",
    # disputes
    "DisputeFilters", "DisputeIn", "VersionRefIn", "ResolveIn", "DisputeWithdrawIn", "MandateRef", "VersionRef",
    "DisputeRow", "DisputePage", "DisputeDetail",
    # demand
    "ProposalFilters", "ProposedNeedIn", "ProposalIn", "ProposalRow", "ProposalPage", "ProposedNeedOut",
    "SuggestionOut", "SuggestionPage", "ProposalDetail", "FoldIn", "DeclineIn", "MatchNeedIn", "MatchIn",
    "DuplicateFilters", "NeedSide", "DuplicatePairOut", "DuplicatePage",
    # deviations
    "DeviationFilters", "DeviationIn", "DeviationEditIn", "RetireIn", "DeviationOut", "DeviationPage",
    # delegation
    "ReservableActOut", "ReservedActsOut", "ReservedActsIn",
    # dashboards and notifications
    "AttentionQuery", "DueItem", "AssessmentItem", "FundingItem", "DisputeItem", "MandateItem", "ProposalItem",
    "RejectionItem", "ExecutiveAttentionOut", "TargetItem", "GuidanceRef", "GuidanceToDecideItem",
    "ManagerObligationsOut", "NotificationFilters", "NotificationOut", "NotificationPage", "ReadIn", "ReadOut",
]


def _choices(choices) -> type:
    """The values of a model's choices as a ``Literal``: an enumeration written inline in
    the OpenAPI document (the models' choice classes share names such as ``Status``,
    which would collide as components)."""
    return Literal[tuple(choices.values)]  # type: ignore[return-value]


MandateStatus = _choices(Mandate.Status)
TargetStatus = _choices(MandateTarget.Status)
GuidanceStatus = _choices(Guidance.Status)
GuidanceSource = _choices(Guidance.Source)
GuidanceCategory = _choices(Guidance.Category)
Decision = _choices(GuidanceDecision.Decision)
DisputeKind = _choices(Dispute.Kind)
DisputeStatus = _choices(Dispute.Status)
Lever = _choices(Dispute.Lever)
ProposalStatus = _choices(Proposal.Status)
DeviationStatus = _choices(Deviation.Status)


# ---------------------------------------------------------------- mandates


class MandateFilters(PageQuery):
    status: MandateStatus | None = Field(None, description="draft, issued or closed; all of them when absent")


class ScopeFilterIn(Schema):
    """A saved filter that chooses the services when the mandate is issued, as the
    network list filters them: "live services on commodity hosting"."""

    model_config = ConfigDict(extra="forbid")

    stage: Lifecycle | None = Field(None, description="Lifecycle stage")
    evolution: Evolution | None = Field(None, description="Evolution stage")
    users: UserType | None = Field(None, description="external or internal also match services serving both")
    q: str = Field("", description="Words in the name, summary or slug")
    consumes: str = Field("", description="Slug of a service they consume")

    def values(self) -> dict[str, str]:
        """The filters given, as the action takes them."""
        return {k: str(v) for k, v in self.model_dump(mode="json").items() if v}


class MandateIn(Schema):
    title: str
    instruction: str = Field(description="What must change, in Markdown")
    due_date: Day = Field(description="By when")
    services: list[str] = Field(
        default_factory=list, description="Slugs of the services it applies to; or give scope_filter instead"
    )
    scope_filter: ScopeFilterIn | None = Field(
        None, description="Or a filter choosing the services, resolved when the mandate is issued"
    )


class MandateEditIn(MandateIn):
    expected_revision: WholeNumber = Field(description="The draft's revision the client last read; 409 if it has moved on")


class CloseIn(Schema):
    note: str = Field("", description="Why it is closed, e.g. with services not done")


class AcknowledgeIn(Schema):
    note: str = Field("", description="Optional: how and when the service plans to do it")


class ProgressIn(Schema):
    note: str = Field(description="What has been done so far")
    done: bool = Field(False, description="True when the service has done what the mandate asks")


class MandateRow(Schema):
    """A mandate as lists show it, with its progress."""

    id: WholeNumber
    title: str
    status: MandateStatus
    due_date: Day
    scope_description: str = Field(description="The services it applies to, in words")
    created_by: PersonRef
    created_at: Moment
    issued_at: Moment | None
    closed_at: Moment | None
    last_reminded_at: Moment | None
    revision: WholeNumber = Field(description="Send it back as expected_revision to rewrite a draft")
    total: WholeNumber = Field(description="Services it applies to")
    acknowledged: WholeNumber = Field(description="Services that acknowledged it (those done included)")
    done: WholeNumber = Field(description="Services that have done what it asks")
    overdue: bool = Field(description="Issued, past its due date, and some services not done")


class MandatePage(Schema):
    items: list[MandateRow]
    count: WholeNumber
    next_cursor: NextCursor


class TargetOut(Schema):
    """One service a mandate applies to, and its manager's progress on it."""

    mandate: WholeNumber = Field(description="The mandate's id")
    service: ServiceRef
    manager: PersonRef | None = Field(description="The service's manager now")
    status: TargetStatus
    progress_note: str
    acknowledged_at: Moment | None
    done_at: Moment | None
    updated_at: Moment


class BurnUpPoint(Schema):
    date: Day
    done: WholeNumber = Field(description="Services done by the end of that day")
    acknowledged: WholeNumber = Field(description="Services that had acknowledged it by then")
    total: WholeNumber


class MandateDetail(MandateRow):
    """A mandate in full: what must change, by when, for which services, each service's
    progress, and the burn-up of services done over time."""

    instruction: str
    scope_filter: dict[str, str] = Field(description="The saved filter that chose the services, if any")
    targets: list[TargetOut] = Field(description="Each service, by name")
    burn_up: list[BurnUpPoint] = Field(description="From the day it was issued; empty for a draft")


class RemindedOut(Schema):
    reminded: WholeNumber = Field(description="How many managers of services not yet done were reminded")
    last_reminded_at: Moment


# ---------------------------------------------------------------- guidance


class GuidanceFilters(PageQuery):
    status: GuidanceStatus | None = None
    category: GuidanceCategory | None = None
    source: GuidanceSource | None = None


class GuidanceIn(Schema):
    title: str
    body: str = Field(description="The guidance itself, in Markdown")
    source: GuidanceSource = Field(description="Where it comes from: law, practice, coe or community")
    category: GuidanceCategory
    source_detail: str = Field("", description="The law, the practice or the CoE it comes from")


class GuidanceEditIn(GuidanceIn):
    expected_revision: WholeNumber = Field(description="The draft's revision the client last read; 409 if it has moved on")


class WithdrawGuidanceIn(Schema):
    reason: str = Field(description="Why the guidance is withdrawn")


class GuidanceRow(Schema):
    id: WholeNumber
    title: str
    source: GuidanceSource
    source_detail: str
    category: GuidanceCategory
    status: GuidanceStatus
    created_by: PersonRef
    created_at: Moment
    published_at: Moment | None
    withdrawn_at: Moment | None
    revision: WholeNumber = Field(description="Send it back as expected_revision to rewrite a draft")
    adopted: WholeNumber = Field(description="Services that adopted it")
    rejected: WholeNumber = Field(description="Services that rejected it")


class GuidancePage(Schema):
    items: list[GuidanceRow]
    count: WholeNumber
    next_cursor: NextCursor


class GuidanceDetailQuery(PageQuery):
    """limit and offset page the services' decisions."""

    decision: Literal["adopt", "reject", "none"] | None = Field(
        None, description="Only the services that adopted it, rejected it, or have not decided (none)"
    )


class ServiceDecisionOut(Schema):
    """A running service and its decision on the guidance, if it made one."""

    service: ServiceRef
    manager: PersonRef | None
    decision: Decision | None = Field(description="Null while the service has not decided")
    rationale: str
    decided_by: PersonRef | None
    decided_at: Moment | None


class ServiceDecisionPage(Schema):
    items: list[ServiceDecisionOut] = Field(description="Running services by name")
    count: WholeNumber
    next_cursor: NextCursor


class GuidanceDetail(GuidanceRow):
    """A piece of guidance, where it comes from, and every running service's decision."""

    body: str
    undecided: WholeNumber = Field(description="Running services that have not decided")
    decisions: ServiceDecisionPage = Field(description="Every running service with its decision, paged")


class DecideIn(Schema):
    decision: Decision = Field(description="adopt, or reject with a rationale")
    rationale: str = Field("", description="Needed to reject: the service accounts for it at its next assessment")


class DecisionOut(Schema):
    guidance: WholeNumber = Field(description="The guidance's id")
    service: ServiceRef
    decision: Decision
    rationale: str
    decided_by: PersonRef
    decided_at: Moment


class RejectionOut(Schema):
    """Published guidance the service rejected: what it accounts for at its next assessment."""

    guidance_id: WholeNumber
    title: str
    rationale: str
    decided_by: str = Field(description="Name of who decided")
    decided_at: Day


class RejectionPage(Schema):
    items: list[RejectionOut]
    count: WholeNumber
    next_cursor: NextCursor


# ---------------------------------------------------------------- disputes


class DisputeFilters(PageQuery):
    status: DisputeStatus | None = None
    kind: DisputeKind | None = None


class DisputeIn(Schema):
    kind: DisputeKind = Field(
        "services",
        description="services: raised by a manager for their service; evaluation: anyone's, about how they were evaluated",
    )
    service: str | None = Field(None, description="For a dispute between services: the slug of the raiser's service")
    other_service: str | None = Field(None, description="For a dispute between services: the slug of the other one")
    subject: str
    description: str


class VersionRefIn(Schema):
    service: str = Field(description="Slug of the service")
    number: WholeNumber


class ResolveIn(Schema):
    resolution: str = Field(description="How the dispute was resolved")
    lever: Lever = Field(description="The lever the executive used")
    mandate: WholeNumber | None = Field(None, description="With lever mandate: the mandate's id")
    contract_version: VersionRefIn | None = Field(None, description="With lever alteration: the altered version")
    assessment: WholeNumber | None = Field(None, description="With lever assessment: the assessment's id")


class DisputeWithdrawIn(Schema):
    note: str = Field("", description="Why it is withdrawn")


class MandateRef(Schema):
    id: WholeNumber
    title: str


class VersionRef(Schema):
    service: str = Field(description="Slug of the service")
    number: WholeNumber


class DisputeRow(Schema):
    id: WholeNumber
    kind: DisputeKind
    status: DisputeStatus
    subject: str
    service: ServiceRef | None = Field(description="The raiser's service; null for an evaluation dispute")
    other_service: ServiceRef | None
    raised_by: PersonRef
    raised_at: Moment
    lever: Lever | None = Field(description="The lever that resolved it")
    resolved_at: Moment | None = Field(description="When it was resolved or withdrawn")


class DisputePage(Schema):
    items: list[DisputeRow]
    count: WholeNumber
    next_cursor: NextCursor


class DisputeDetail(DisputeRow):
    description: str
    resolution: str = Field(description="How it was resolved, or why it was withdrawn")
    resolved_by: PersonRef | None
    mandate: MandateRef | None
    contract_version: VersionRef | None
    assessment: WholeNumber | None = Field(description="The assessment's id")


# ---------------------------------------------------------------- demand management


class ProposalFilters(PageQuery):
    status: ProposalStatus | None = None


class ProposedNeedIn(Schema):
    """As a <as_a> I need <i_need> so that <so_that>."""

    as_a: str
    i_need: str
    so_that: str


class ProposalIn(Schema):
    title: str
    context: str = Field("", description="Where the needs come from")
    needs: list[ProposedNeedIn]


class ProposalRow(Schema):
    id: WholeNumber
    title: str
    status: ProposalStatus
    proposed_by: PersonRef
    proposed_at: Moment
    needs_count: WholeNumber
    service: ServiceRef | None = Field(description="The service it was folded into, or the one established for it")
    decided_by: PersonRef | None
    decided_at: Moment | None


class ProposalPage(Schema):
    items: list[ProposalRow]
    count: WholeNumber
    next_cursor: NextCursor


class ProposedNeedOut(Schema):
    as_a: str
    i_need: str
    so_that: str


class SuggestionOut(Schema):
    """An existing service that could meet the needs, and why."""

    service: ServiceRef
    score: float = Field(description="How alike, 0 to 1 (cosine similarity)")
    words: list[str] = Field(description="The shared words that weigh most")
    best_need: str = Field(description="The service's need closest to those proposed")
    need_score: float


class SuggestionPage(Schema):
    items: list[SuggestionOut] = Field(description="Best first")
    count: WholeNumber


class ProposalDetail(ProposalRow):
    context: str
    decision_note: str = Field(description="Why it was declined, or the note of the fold")
    needs: list[ProposedNeedOut]
    draft_version: WholeNumber | None = Field(description="When folded: the number of the contract draft opened with the needs")
    suggestions: list[SuggestionOut] = Field(
        description="While open: the existing services that could meet the needs, best first"
    )


class FoldIn(Schema):
    service: str = Field(description="Slug of the service the needs are folded into")
    note: str = ""


class DeclineIn(Schema):
    reason: str = Field(description="Why the organisation will not meet these needs")


class MatchNeedIn(Schema):
    as_a: str = ""
    i_need: str = ""
    so_that: str = ""


class MatchIn(Schema):
    needs: list[MatchNeedIn] = Field(description="The needs to match; parts may be left empty")
    limit: WholeNumber = Field(5, ge=1, le=20, description="How many services to suggest at most")


class DuplicateFilters(PageQuery):
    threshold: float = Field(0.3, ge=0.05, le=1.0, description="How alike two needs must read, 0.05 to 1")


class NeedSide(Schema):
    service: str = Field(description="The service's name")
    slug: str
    need: str = Field(description="As a …, I need … so that …")


class DuplicatePairOut(Schema):
    """Two needs of different services that look like the same need: a candidate for a
    shared service (model 5.2)."""

    score: float
    words: list[str] = Field(description="The shared words that weigh most")
    first: NeedSide
    second: NeedSide


class DuplicatePage(Schema):
    items: list[DuplicatePairOut] = Field(description="The most alike first")
    count: WholeNumber
    next_cursor: NextCursor


# ---------------------------------------------------------------- deviations


class DeviationFilters(PageQuery):
    status: DeviationStatus | None = Field(None, description="active or retired; both when absent")


class DeviationIn(Schema):
    title: str
    compromised: str = Field(description="What part of the template is compromised")
    positive: str = Field(description="Its positive consequences")
    negative: str = Field(description="Its negative consequences")
    governance: str = Field(description="The governance that balances the negative consequences")
    review_on: Day


class DeviationEditIn(DeviationIn):
    expected_revision: WholeNumber = Field(description="The revision the client last read; 409 if it has moved on")


class RetireIn(Schema):
    reason: str = Field(description="Why the deviation no longer applies")


class DeviationOut(Schema):
    """A compromise of the template, accepted as such (model 10)."""

    id: WholeNumber
    title: str
    compromised: str
    positive: str
    negative: str
    governance: str
    review_on: Day
    status: DeviationStatus
    recorded_by: PersonRef
    recorded_at: Moment
    revision: WholeNumber
    overdue: bool = Field(description="In force and past its review date")
    retired_reason: str = Field(description="Why it was retired, once it is")
    retired_at: Moment | None


class DeviationPage(Schema):
    items: list[DeviationOut]
    count: WholeNumber
    next_cursor: NextCursor


# ---------------------------------------------------------------- delegation


class ReservableActOut(Schema):
    act: str
    says: str = Field(description="The act in the policy's words: “decommission a service”")
    kept: bool = Field(description="The executive keeps it to itself: its team may not do it in its name")
    always: bool = Field(description="Kept whatever the executive chooses")


class ReservedActsOut(Schema):
    acts: list[ReservableActOut] = Field(description="Every act the executive's team may otherwise do in its name")
    reserved: list[str] = Field(description="The acts the executive chose to keep")
    revision: WholeNumber = Field(description="The organisation's revision")


class ReservedActsIn(Schema):
    acts: list[str] = Field(description="The acts the executive keeps to itself; the others its team may do")


# ---------------------------------------------------------------- dashboards


class AttentionQuery(Schema):
    limit: WholeNumber = Field(20, ge=1, le=100, description="At most this many items in each list")


class DueItem(Schema):
    service: ServiceRef
    manager: PersonRef | None
    next_assessment_due: Day
    days: WholeNumber = Field(description="Days overdue (positive) or until it is due (negative or zero)")


class AssessmentItem(Schema):
    id: WholeNumber
    service: ServiceRef
    kind: AssessmentKind
    stage: Lifecycle = Field(description="The stage assessed")
    status: AssessmentStatus
    scheduled_for: Day


class FundingItem(Schema):
    id: WholeNumber
    service: ServiceRef
    kind: Literal["expand", "narrow"]
    period: str
    amount: Money | None
    requested_by: PersonRef
    requested_at: Moment


class DisputeItem(Schema):
    id: WholeNumber
    kind: DisputeKind
    subject: str
    service: ServiceRef | None
    other_service: ServiceRef | None
    raised_at: Moment


class MandateItem(Schema):
    id: WholeNumber
    title: str
    due_date: Day
    total: WholeNumber
    done: WholeNumber


class ProposalItem(Schema):
    id: WholeNumber
    title: str
    proposed_by: PersonRef
    proposed_at: Moment


class GuidanceRef(Schema):
    id: WholeNumber
    title: str
    category: GuidanceCategory


class RejectionItem(Schema):
    guidance: GuidanceRef
    service: ServiceRef
    rationale: str
    decided_at: Moment


class ExecutiveAttentionOut(Schema):
    """What needs the executive's attention now, each item a thing to act on, in the
    order to act on it; each list holds at most ``limit`` items."""

    overdue: list[DueItem] = Field(description="Live services past the date of their periodic assessment")
    assessments_to_report: list[AssessmentItem] = Field(description="Held (or due today), not yet reported")
    funding_requests: list[FundingItem] = Field(description="Managers asking for their budget or scope to change")
    disputes: list[DisputeItem] = Field(description="Open disputes, the oldest first")
    mandates_behind: list[MandateItem] = Field(description="Issued mandates past their due date, some services not done")
    proposals: list[ProposalItem] = Field(description="Proposed needs awaiting a decision")
    due_soon: list[DueItem] = Field(description="Live services whose periodic assessment is due soon")
    rejections: list[RejectionItem] = Field(description="The latest rejections of published guidance")
    to_act_on: WholeNumber = Field(description="Items to act on: every list but due_soon and rejections")
    limit: WholeNumber


class TargetItem(Schema):
    mandate: MandateRef
    due_date: Day
    service: ServiceRef
    status: TargetStatus
    progress_note: str


class GuidanceToDecideItem(Schema):
    guidance: GuidanceRef
    service: ServiceRef


class ManagerObligationsOut(Schema):
    """What is asked of the services the caller manages."""

    services: list[ServiceRef] = Field(description="The services the caller manages, not decommissioned")
    agendas: list[AssessmentItem] = Field(description="Their assessments to come")
    mandates: list[TargetItem] = Field(description="Issued mandates they have not yet done")
    guidance_to_decide: list[GuidanceToDecideItem] = Field(description="Published guidance they have not decided on")
    disputes: list[DisputeItem] = Field(description="Open disputes they are in")
    to_act_on: WholeNumber


# ---------------------------------------------------------------- notifications


class NotificationFilters(PageQuery):
    unread: bool | None = Field(None, description="true: only the unread; false: only the read")


class NotificationOut(Schema):
    id: WholeNumber
    text: str
    link: str = Field(description="The page it concerns, as a path")
    url: str = Field(description="The page it concerns, as a full address")
    created_at: Moment
    read_at: Moment | None
    read: bool


class NotificationPage(Schema):
    items: list[NotificationOut] = Field(description="Unread first, then newest first")
    count: WholeNumber
    next_cursor: NextCursor
    unread: WholeNumber = Field(description="All the caller's unread notifications")


class ReadIn(Schema):
    ids: list[RowId] | None = Field(None, description="The notifications to mark as read; all of them when absent")


class ReadOut(Schema):
    marked: WholeNumber = Field(description="How many were marked as read")
    unread: WholeNumber = Field(description="How many are still unread")
