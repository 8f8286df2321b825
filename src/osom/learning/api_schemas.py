"""Request and response shapes of the learning loop's API: the doctrine and the
self-assessments against it, Corrections of Error with their corrective actions and the
executive's reviews, the learning figures, communities of practice and open roles
(model 7, 8, 9, 11).

The conventions are those of :mod:`osom.api.schemas`: lists answer ``{"items", "count"}``
and take ``limit`` and ``offset``; people are ``{"id", "name", "email"}`` and services
``{"slug", "name", "lifecycle_stage"}``; a request names a service by its slug and a
doctrine pattern by its slug (``know-your-users``). A CoE's content has the same shape in
a request and in an answer, so a client may read a draft, change it and send it back.
"""

from __future__ import annotations

from typing import Literal

from ninja import Field, Schema

from osom.api.schemas import (
    Day,
    Moment,
    NextCursor,
    PageQuery,
    PersonOrId,
    PersonRef,
    ProfessionalRoleOut,
    RoleOrId,
    ServiceRef,
    WholeNumber,
)
from osom.governance.api_schemas import DisputeDetail
from osom.governance.models import Guidance
from osom.network.stages import LEVELS, Lifecycle

from .doctrine import GROUPS
from .models import (
    CoEReview,
    Community,
    CommunityGuidance,
    CorrectionOfError,
    CorrectiveAction,
    DoctrineRound,
    OpenRole,
    PatternEffect,
    Rating,
)

__all__ = [
    "ActionUpdateIn", "ActionVerifyIn", "CellOut", "CloseOpenRoleIn", "CoEDetail", "CoEEditIn", "CoEFilters",
    "CoEGuidanceIn", "CoEGuidanceOut", "CoEGuidanceRef", "CoEIn", "CoEPage", "CoEReviewDetail", "CoEReviewFilters",
    "CoEReviewIn", "CoEReviewPage", "CoEReviewRef", "CoEReviewRow", "CoERow", "CommunityDetail", "CommunityEditIn",
    "CommunityFilters", "CommunityGuidanceIn", "CommunityGuidanceOut", "CommunityIn", "CommunityPage",
    "CommunityRef", "CommunityRow", "CorrectiveActionIn", "CorrectiveActionOut", "CoverageOut", "CoverageRow",
    "DoctrineChange", "EndorseIn", "EscalateIn", "EscalatedDispute", "EvidenceOut", "FiguresQuery", "HeatMapOut",
    "HeatMapQuery", "HeatMapRow", "HoldReviewIn", "LayoutPhase", "LayoutRow", "LearningFiguresOut", "MeaningIn",
    "MemberOut", "NextPattern", "OpenRoleFilters", "OpenRoleIn", "OpenRoleOut", "OpenRolePage", "OverdueAction",
    "PatternEffectIn", "PatternEffectOut", "PatternFilters", "PatternOut", "PatternPage", "PatternRef",
    "PublishCoEIn", "RatedOut", "RatingCounts", "RatingIn", "RatingsIn", "RepeatedCoE", "RepeatedProblem",
    "ReviewedCoE", "RoundDetail", "RoundFilters", "RoundIn", "RoundPage", "RoundRow", "TimelineEventIO",
    "WhyChainIO", "WithdrawCommunityGuidanceIn", "WithdrawEndorsementIn",
]


def _choices(choices) -> type:
    """The values of a model's choices as a ``Literal``: an enumeration written inline in
    the OpenAPI document (the models' choice classes share names such as ``Status``,
    which would collide as components)."""
    return Literal[tuple(choices.values)]  # type: ignore[return-value]


RatingValue = _choices(Rating)
RoundStatus = _choices(DoctrineRound.Status)
CoEStatus = _choices(CorrectionOfError.Status)
Effect = _choices(PatternEffect.Effect)
ActionStatus = _choices(CorrectiveAction.Status)
SettableActionStatus = Literal["open", "done", "dropped"]
ReviewStatus = _choices(CoEReview.Status)
CommunityStatus = _choices(Community.Status)
GuidanceKind = _choices(CommunityGuidance.Kind)
OpenRoleStatus = _choices(OpenRole.Status)
GuidanceCategory = _choices(Guidance.Category)
GuidanceStatus = _choices(Guidance.Status)
Group = Literal[tuple(GROUPS)]  # type: ignore[valid-type]
Level = Literal[tuple(value for value, _ in LEVELS)]  # type: ignore[valid-type]
CoverageState = Literal["none", "forming", "endorsed"]

_REVISION = "The revision the client last read; 409 if it has moved on"


# ---------------------------------------------------------------- the doctrine


class PatternFilters(PageQuery):
    group: Group | None = Field(None, description="Only the patterns of this group")
    phase: WholeNumber | None = Field(None, ge=1, le=4, description="Only the patterns of this phase, 1 to 4")


class PatternRef(Schema):
    slug: str
    name: str
    group: Group
    phase: WholeNumber


class PatternOut(PatternRef):
    """One of the forty patterns of the doctrine, with its meaning in the organisation's words."""

    phase_name: str = Field(description="The phase in words: “Stop self-harm”…")
    meaning: str
    position: WholeNumber = Field(description="Its place in the table, 1 to 40")
    revision: WholeNumber = Field(description="Send it back as expected_revision to rewrite the meaning")


class PatternPage(Schema):
    items: list[PatternOut] = Field(description="In the table's order")
    count: WholeNumber
    next_cursor: NextCursor


class MeaningIn(Schema):
    meaning: str = Field(description="What the pattern means to the organisation, in its own words")
    expected_revision: WholeNumber = Field(description=_REVISION)


class RoundFilters(PageQuery):
    service: str = Field("", description="Slug of a service: only its rounds")
    organisation: bool | None = Field(
        None, description="true: only the rounds of the whole organisation; false: only those of services"
    )
    status: RoundStatus | None = Field(None, description="open or closed")


class RoundIn(Schema):
    service: str | None = Field(None, description="Slug of the service assessed; null for the whole organisation")
    title: str = Field("", description="A title; made from the service and the month when empty")


class RoundRow(Schema):
    """A doctrine self-assessment, as lists show it."""

    id: WholeNumber
    title: str
    service: ServiceRef | None = Field(description="The service assessed; null for the whole organisation")
    status: RoundStatus
    opened_by: PersonRef
    opened_at: Moment
    closed_at: Moment | None
    respondents: WholeNumber = Field(description="People who rated at least one pattern")
    ratings: WholeNumber = Field(description="Ratings given, all respondents together")


class RoundPage(Schema):
    items: list[RoundRow] = Field(description="The newest first")
    count: WholeNumber
    next_cursor: NextCursor


class RatingCounts(Schema):
    good: WholeNumber
    partly: WholeNumber
    weak: WholeNumber
    unknown: WholeNumber


class EvidenceOut(Schema):
    by: str = Field(description="The respondent's name")
    rating: RatingValue
    text: str


class CellOut(Schema):
    """One pattern of a round: the colour its ratings add up to, and what is behind it."""

    colour: RatingValue = Field(
        description="The mean of the known ratings (good 2, partly 1, weak 0): above 1.5 good, above 0.5 partly, "
        "else weak; unknown when nobody rated it or every rating is unknown"
    )
    counts: RatingCounts = Field(description="How many respondents gave each rating")
    respondents: WholeNumber
    evidence: list[EvidenceOut] = Field(description="The evidence respondents gave, in the order it was given")


class LayoutPhase(Schema):
    phase: WholeNumber
    name: str
    patterns: list[str] = Field(description="Slugs of the patterns in this cell of the table, in its order")


class LayoutRow(Schema):
    group: Group
    phases: list[LayoutPhase] = Field(description="Phase I to IV")


class DoctrineChange(Schema):
    pattern: PatternRef
    before: RatingValue
    after: RatingValue
    direction: Literal["better", "worse", "known", "unknown"] = Field(
        description="better or worse; known when it was unknown before, unknown when it is unknown now"
    )


class NextPattern(Schema):
    pattern: PatternRef
    colour: RatingValue


class RoundDetail(RoundRow):
    """A round in full: each pattern's colour with the ratings behind it, the table's
    layout to draw the grid, the change since the round before and what to work on next."""

    cells: dict[str, CellOut] = Field(description="Every one of the forty patterns, by slug")
    layout: list[LayoutRow] = Field(description="The grid: a row per group, a column per phase, the patterns in each")
    colours: RatingCounts = Field(description="How many of the forty cells have each colour")
    previous: WholeNumber | None = Field(description="The id of the round before it, of the same service or of the organisation")
    change: list[DoctrineChange] = Field(description="Each pattern whose colour changed since the round before")
    work_on_next: list[NextPattern] = Field(
        description="The weak and partly patterns, the earliest phase first, weak before partly (at most ten)"
    )


class RatingIn(Schema):
    pattern: str = Field(description="The pattern's slug, e.g. know-your-users")
    rating: RatingValue
    evidence: str = Field("", description="What the rating rests on")


class RatingsIn(Schema):
    ratings: list[RatingIn] = Field(description="One or more patterns; rating one again replaces the earlier rating")


class RatedOut(RoundDetail):
    written: WholeNumber = Field(description="Ratings added or changed (0 when they were the same as before)")


class HeatMapQuery(PageQuery):
    stage: Lifecycle | None = Field(None, description="Only the services at this lifecycle stage")


class HeatMapRow(Schema):
    service: ServiceRef
    round: WholeNumber | None = Field(description="The id of its latest round with ratings; null when it has none")
    cells: list[RatingValue] = Field(description="The colour of each pattern, in the order of ``patterns``")
    colours: RatingCounts = Field(description="How many of its cells have each colour")


class HeatMapOut(Schema):
    """Running services × the forty patterns, each service coloured by its latest
    self-assessment that has ratings. ``limit`` and ``offset`` page the services."""

    patterns: list[PatternRef] = Field(description="The columns, in the table's order")
    items: list[HeatMapRow] = Field(description="The services by name")
    count: WholeNumber
    next_cursor: NextCursor


# ---------------------------------------------------------------- Corrections of Error


class CoEFilters(PageQuery):
    q: str = Field("", description="Words in the title, problem, impact, root cause or lessons")
    service: str = Field("", description="Slug of a service")
    pattern: str = Field("", description="Slug of a doctrine pattern tagged on the CoE")
    effect: Effect | None = Field(None, description="With pattern: only where it helped, or only where it hurt")
    status: CoEStatus | None = None


class TimelineEventIO(Schema):
    at: Moment = Field(description="When it happened")
    description: str


class WhyChainIO(Schema):
    """A “5 whys” chain: the question it starts from, then each answer to “why?”."""

    question: str
    whys: list[str]


class PatternEffectIn(Schema):
    pattern: str = Field(description="The pattern's slug")
    effect: Effect
    note: str = ""


class PatternEffectOut(PatternEffectIn):
    name: str = Field(description="The pattern's name")


class CorrectiveActionIn(Schema):
    description: str
    owner: str = Field(description="The owner's email address")
    due_date: Day


class _CoEContent(Schema):
    """What a CoE says (model 7): everything but the title and date may wait until it is
    published, when the problem, impact, root cause, lessons and an action are needed."""

    users_affected: bool = Field(False, description="Whether users felt the problem")
    problem: str = ""
    impact: str = Field("", description="On users and on the organisation")
    root_cause: str = ""
    root_cause_data: str = Field("", description="Data supporting the root-cause analysis")
    trade_offs_that_led: str = Field("", description="The value trade-offs that led to the problem")
    trade_offs_to_avoid: str = Field("", description="The trade-offs to avoid in future")
    lessons: str = ""
    timeline: list[TimelineEventIO] = Field(default_factory=list)
    why_chains: list[WhyChainIO] = Field(default_factory=list)
    pattern_effects: list[PatternEffectIn] = Field(default_factory=list, description="Patterns that helped or hurt")
    actions: list[CorrectiveActionIn] = Field(default_factory=list, description="Corrective actions, taken or planned")


class CoEIn(_CoEContent):
    service: str = Field(description="Slug of the service the problem happened in")
    title: str
    occurred_on: Day


class CoEEditIn(Schema):
    """A draft rewritten: what is left out stays as it was; a list sent replaces the
    list (an action kept with the same words keeps its history)."""

    title: str | None = None
    occurred_on: Day | None = None
    users_affected: bool | None = None
    problem: str | None = None
    impact: str | None = None
    root_cause: str | None = None
    root_cause_data: str | None = None
    trade_offs_that_led: str | None = None
    trade_offs_to_avoid: str | None = None
    lessons: str | None = None
    timeline: list[TimelineEventIO] | None = None
    why_chains: list[WhyChainIO] | None = None
    pattern_effects: list[PatternEffectIn] | None = None
    actions: list[CorrectiveActionIn] | None = None
    expected_revision: WholeNumber = Field(description=_REVISION)


class PublishCoEIn(Schema):
    expected_revision: WholeNumber | None = Field(None, description="The draft's revision the manager read; 409 if it has moved on")


class CoERow(Schema):
    id: WholeNumber
    title: str
    service: ServiceRef
    status: CoEStatus
    occurred_on: Day
    users_affected: bool
    author: PersonRef
    published_at: Moment | None
    reviewed_at: Moment | None
    action_count: WholeNumber = Field(description="Corrective actions")
    open_actions: WholeNumber = Field(description="Corrective actions still open")
    overdue_actions: WholeNumber = Field(description="Open corrective actions past their due date")


class CoEPage(Schema):
    items: list[CoERow] = Field(description="The most recent problem first")
    count: WholeNumber
    next_cursor: NextCursor


class CorrectiveActionOut(Schema):
    id: WholeNumber
    coe: WholeNumber = Field(description="The CoE's id")
    description: str
    owner: str = Field(description="The owner's email address, as a request gives it")
    owner_name: str
    due_date: Day
    status: ActionStatus
    overdue: bool = Field(description="Open and past its due date")
    created_at: Moment
    done_at: Moment | None
    verified_at: Moment | None
    verified_by: PersonRef | None
    dropped_reason: str
    note: str


class CoEReviewRef(Schema):
    id: WholeNumber
    title: str
    scheduled_for: Day


class CoEGuidanceRef(Schema):
    id: WholeNumber
    title: str
    status: GuidanceStatus


class CoEDetail(CoERow):
    """A CoE in full. Its content has the shape ``POST /coes`` takes: to rewrite a draft,
    send it back with ``expected_revision`` set to ``revision``."""

    problem: str
    impact: str
    root_cause: str
    root_cause_data: str
    trade_offs_that_led: str
    trade_offs_to_avoid: str
    lessons: str
    timeline: list[TimelineEventIO] = Field(description="In time order")
    why_chains: list[WhyChainIO]
    pattern_effects: list[PatternEffectOut] = Field(description="In the table's order")
    actions: list[CorrectiveActionOut] = Field(description="Its corrective actions, with their status")
    created_at: Moment
    published_by: PersonRef | None
    review: CoEReviewRef | None = Field(description="The review it went through, once reviewed")
    review_note: str = Field(description="What the review said of it")
    guidance: list[CoEGuidanceRef] = Field(description="Guidance drawn from it")
    revision: WholeNumber


class ActionUpdateIn(Schema):
    status: SettableActionStatus = Field(description="open, done or dropped; an action is verified by POST …/verify")
    note: str = Field("", description="Needed to drop it: why")
    due_date: Day | None = Field(None, description="A new due date")


class ActionVerifyIn(Schema):
    note: str = Field("", description="How the action was seen to work")


class CoEGuidanceIn(Schema):
    category: GuidanceCategory
    title: str = Field("", description="By default “Learning from …” and the CoE's title")
    body: str = Field("", description="By default the CoE's lessons and the trade-offs to avoid")


class CoEGuidanceOut(Schema):
    """A draft of guidance drawn from a CoE; rewrite and publish it with ``/guidance/{id}``."""

    id: WholeNumber
    title: str
    body: str
    source: Literal["coe"]
    source_detail: str
    category: GuidanceCategory
    status: GuidanceStatus
    coe: WholeNumber = Field(description="The CoE it draws on")
    created_by: PersonRef
    created_at: Moment
    revision: WholeNumber


# ---------------------------------------------------------------- reviews and figures


class CoEReviewFilters(PageQuery):
    status: ReviewStatus | None = None


class CoEReviewIn(Schema):
    scheduled_for: Day
    title: str = Field("", description="By default “Review of Corrections of Error” and the date")


class CoEReviewRow(Schema):
    id: WholeNumber
    title: str
    scheduled_for: Day
    status: ReviewStatus
    scheduled_by: PersonRef
    scheduled_at: Moment
    held_at: Moment | None
    held_by: PersonRef | None
    reviewed_count: WholeNumber = Field(description="CoEs it reviewed")


class CoEReviewPage(Schema):
    items: list[CoEReviewRow] = Field(description="The latest date first")
    count: WholeNumber
    next_cursor: NextCursor


class ReviewedCoE(CoERow):
    review_note: str


class CoEReviewDetail(CoEReviewRow):
    notes: str
    agenda: list[CoERow] = Field(
        description="While it is scheduled: every published CoE not yet reviewed, the oldest published first"
    )
    reviewed: list[ReviewedCoE] = Field(description="Once held: the CoEs it reviewed, with the note on each")


class HoldReviewIn(Schema):
    notes: str = Field("", description="The meeting's notes")
    coe_notes: dict[str, str] = Field(default_factory=dict, description="A note on each CoE discussed, keyed by its id")
    reviewed: list[WholeNumber] | None = Field(None, description="Ids of the CoEs gone through; by default the whole agenda")


class FiguresQuery(Schema):
    service: str = Field("", description="Slug of a service: its figures only")


class RepeatedCoE(Schema):
    id: WholeNumber
    title: str
    occurred_on: Day


class RepeatedProblem(Schema):
    service: ServiceRef
    coes: list[RepeatedCoE] = Field(description="Earliest first")
    shared_words: list[str] = Field(description="Words their root causes share")


class OverdueAction(Schema):
    id: WholeNumber
    coe: RepeatedCoE
    service: ServiceRef
    description: str
    owner: PersonRef
    due_date: Day
    days_overdue: WholeNumber


class LearningFiguresOut(Schema):
    """How well the organisation learns (model 11). Actions of draft CoEs are not counted."""

    closed: WholeNumber = Field(description="Corrective actions done or verified")
    median_days_to_close: float | None = Field(description="From when an action was added to when it was done")
    closed_on_time: WholeNumber
    share_on_time: WholeNumber | None = Field(description="Per cent of the closed actions done by their due date")
    open: WholeNumber
    open_overdue: WholeNumber
    dropped: WholeNumber
    unreviewed: WholeNumber = Field(description="Published CoEs awaiting the executive's review")
    repeated: list[RepeatedProblem] = Field(description="Problems that repeat: a service's CoEs with similar root causes")
    overdue_actions: list[OverdueAction] = Field(description="Open actions past their due date, the longest overdue first (at most 50)")


# ---------------------------------------------------------------- communities of practice


class CommunityFilters(PageQuery):
    profession: str = Field("", description="A job family of the professional framework")
    status: CommunityStatus | None = None


class CommunityIn(Schema):
    name: str
    profession: str = Field(description="The job family it gathers, e.g. User-centred design")
    purpose: str


class CommunityEditIn(Schema):
    name: str | None = Field(None, description="Unchanged when left out")
    purpose: str | None = Field(None, description="Unchanged when left out")
    lead: PersonOrId | None = Field(None, description="Hand the lead to another member")
    expected_revision: WholeNumber = Field(description=_REVISION)


class CommunityRef(Schema):
    id: WholeNumber
    name: str
    status: CommunityStatus


class CommunityRow(Schema):
    id: WholeNumber
    name: str
    profession: str
    purpose: str
    status: CommunityStatus
    lead: PersonRef
    formed_by: PersonRef
    formed_at: Moment
    endorsed_on: Day | None
    endorsed_by: PersonRef | None
    members: WholeNumber = Field(description="Current members")
    revision: WholeNumber


class CommunityPage(Schema):
    items: list[CommunityRow] = Field(description="By name")
    count: WholeNumber
    next_cursor: NextCursor


class MemberOut(Schema):
    person: PersonRef
    joined_at: Moment


class CommunityGuidanceOut(Schema):
    id: WholeNumber
    community: WholeNumber
    kind: GuidanceKind = Field(description="practice, or evaluation: how managers should evaluate its practitioners")
    title: str
    body: str
    published_by: PersonRef
    published_at: Moment
    withdrawn_at: Moment | None


class OpenRoleOut(Schema):
    id: WholeNumber
    service: ServiceRef
    role: ProfessionalRoleOut
    level: Level
    description: str
    status: OpenRoleStatus
    posted_by: PersonRef
    posted_at: Moment
    closed_at: Moment | None


class CommunityDetail(CommunityRow):
    """A community: its members, its guidance and the open roles of its profession."""

    member_list: list[MemberOut] = Field(description="Current members, by name")
    guidance: list[CommunityGuidanceOut] = Field(description="The newest first; withdrawn guidance too")
    open_roles: list[OpenRoleOut] = Field(description="Open roles in service teams of its profession, the newest first")


class EndorseIn(Schema):
    on: Day | None = Field(None, description="The day the endorsement was given; today by default")


class WithdrawEndorsementIn(Schema):
    reason: str


class CommunityGuidanceIn(Schema):
    kind: GuidanceKind
    title: str
    body: str = Field(description="The guidance, in Markdown")


class WithdrawCommunityGuidanceIn(Schema):
    reason: str = ""


class EscalateIn(Schema):
    subject: str
    description: str = Field(description="The dispute and what the community tried")


class EscalatedDispute(DisputeDetail):
    community: CommunityRef = Field(description="The community that escalated it")


class CoverageRow(Schema):
    profession: str
    people: WholeNumber = Field(description="Practitioners in service teams")
    services: WholeNumber = Field(description="Services whose teams have them")
    state: CoverageState = Field(description="endorsed: it has an endorsed community; forming: only forming ones")
    communities: list[CommunityRef]


class CoverageOut(Schema):
    """Professions present in service teams against the communities gathering them: the
    uncovered first."""

    items: list[CoverageRow]
    count: WholeNumber
    endorsed: WholeNumber = Field(description="Professions with an endorsed community")


class OpenRoleFilters(PageQuery):
    profession: str = Field("", description="A job family: only its roles")
    service: str = Field("", description="Slug of a service")
    status: OpenRoleStatus | None = Field(None, description="open, filled or withdrawn; all when absent")


class OpenRoleIn(Schema):
    role: RoleOrId
    level: Level
    description: str = ""


class OpenRolePage(Schema):
    items: list[OpenRoleOut] = Field(description="The newest first")
    count: WholeNumber
    next_cursor: NextCursor


class CloseOpenRoleIn(Schema):
    filled: bool = Field(description="true: someone took it; false: it is withdrawn")
