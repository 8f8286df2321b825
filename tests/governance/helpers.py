"""Building governance data through the actions, as the people of the cast would, and
the snapshot that "nothing written" is checked against (design habit 8)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from osom.core.models import Notification
from osom.governance import actions
from osom.governance.models import (
    Deviation,
    Dispute,
    Guidance,
    GuidanceDecision,
    Mandate,
    MandateTarget,
    Proposal,
    ProposedNeed,
)

from ..lifecycle.helpers import EVERY_TABLE as LIFECYCLE_TABLES

__all__ = [
    "EVERY_TABLE", "snapshot", "DUE", "NEEDS", "drafted_mandate", "issued_mandate", "target_of", "drafted_guidance",
    "published_guidance", "services_dispute", "evaluation_dispute", "proposal", "deviation",
]

GOVERNANCE_TABLES = [
    Mandate, MandateTarget, Guidance, GuidanceDecision, Dispute, Proposal, ProposedNeed, Deviation, Notification,
]
# the network's and the lifecycle's tables too: a governance act may reach into both
# (folding a proposal opens a contract draft; establishing from one makes a service)
EVERY_TABLE = [*LIFECYCLE_TABLES, *GOVERNANCE_TABLES]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a governance action may touch, notifications included."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


DUE = timezone.localdate() + dt.timedelta(days=60)

NEEDS = [
    {"as_a": "visitor to a resident", "i_need": "a day permit for parking", "so_that": "I can visit without a fine"},
    {"as_a": "carer", "i_need": "a carer's permit", "so_that": "I can park near the people I care for"},
]


def drafted_mandate(c, *, services=None, scope_filter=None, actor=None, due_date=DUE,
                    title="Move to the shared identity service") -> Mandate:
    """A draft mandate for the cast's two services, unless told otherwise."""
    if services is None and scope_filter is None:
        services = [c.service, c.other_service]
    return actions.draft_mandate(
        actor=actor or c.executive, title=title, due_date=due_date, services=services, scope_filter=scope_filter,
        instruction="Sign people in through the shared identity service; retire your own log-in pages.")


def issued_mandate(c, **kwargs) -> Mandate:
    return actions.issue_mandate(actor=c.executive, mandate=drafted_mandate(c, **kwargs))


def target_of(mandate: Mandate, service) -> MandateTarget:
    return MandateTarget.objects.get(mandate=mandate, service=service)


def drafted_guidance(c, *, title="Use the shared payment platform") -> Guidance:
    return actions.draft_guidance(
        actor=c.executive, title=title, body="Take payments through the organisation's payment platform.",
        source="practice", category="technology", source_detail="Lessons of other councils")


def published_guidance(c, **kwargs) -> Guidance:
    return actions.publish_guidance(actor=c.executive, guidance=drafted_guidance(c, **kwargs))


def services_dispute(c) -> Dispute:
    """Parking permits (the manager's) disputes Identity's (the other manager's) outages."""
    return actions.raise_dispute(
        actor=c.manager, service=c.service, other_service=c.other_service, subject="Identity outages at month end",
        description="Residents cannot sign in to renew permits on the last day of each month.")


def evaluation_dispute(c, person=None) -> Dispute:
    """The team member disputes, through their community of practice, how they were evaluated."""
    return actions.raise_dispute(
        actor=person or c.team_member, kind="evaluation", subject="My research evaluation",
        description="My evaluation did not use the user research community's guidance for my level.")


def proposal(c, *, actor=None, needs=None, title="Visitor and carer permits") -> Proposal:
    return actions.propose_needs(actor=actor or c.outsider, title=title, needs=needs or NEEDS,
                                 context="Residents keep asking at the front desk.")


def deviation(c) -> Deviation:
    return actions.record_deviation(
        actor=c.executive, title="One manager for the two parking services",
        compromised="Each service has its own manager.", positive="A scarce specialist covers both.",
        negative="Conflicts between the two are judged by one person.",
        governance="Disputes between them go straight to the executive.",
        review_on=timezone.localdate() + dt.timedelta(days=180))
