"""Who may do what: one table for the whole platform (design habit 2).

Each act names the rights that allow it. An action calls :func:`authorise` first; pages
call :func:`can` to decide which buttons to show. The permission tests walk this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import NotAllowed
from .models import Person, Role
from .orgcache import current_organisation, in_team

__all__ = ["EXECUTIVE", "MANAGER", "TEAM", "SELF", "ASSESSOR", "LEAD", "ANYONE", "ACTS", "authorise", "can", "refusal", "Authority"]

# Rights
EXECUTIVE = "executive"  # the executive, or an executive team member acting in its name
MANAGER = "service_manager"  # the current manager of the service acted on
TEAM = "team_member"  # a current member of the service's team
SELF = "self"  # the person acted on is the actor
ASSESSOR = "assessor"  # one of the assessors of the assessment acted on
LEAD = "lead"  # the lead of the community of practice acted on
ANYONE = "anyone"  # any signed-in, active person


@dataclass(frozen=True)
class Act:
    rights: tuple[str, ...]
    says: str  # finishes "Only … may <says>."


ACTS: dict[str, Act] = {
    # network
    "establish_service": Act((EXECUTIVE,), "establish a service"),
    "adopt_existing_service": Act((EXECUTIVE,), "adopt an existing service"),
    "appoint_manager": Act((EXECUTIVE,), "appoint a service's manager"),
    "replace_manager": Act((EXECUTIVE,), "replace a service's manager"),
    "draft_contract_version": Act((MANAGER, EXECUTIVE), "draft a new version of this contract"),
    "edit_contract_draft": Act((MANAGER, EXECUTIVE), "edit this contract draft"),
    "discard_contract_draft": Act((MANAGER, EXECUTIVE), "discard this contract draft"),
    "submit_contract_version": Act((MANAGER,), "submit this contract version for approval"),
    "approve_contract_version": Act((EXECUTIVE,), "approve a contract version"),
    "return_contract_version": Act((EXECUTIVE,), "return a contract version to its manager"),
    "alter_contract": Act((EXECUTIVE,), "alter an approved contract"),
    "add_dependency": Act((MANAGER, EXECUTIVE), "add a dependency to this service's contract"),
    "remove_dependency": Act((MANAGER, EXECUTIVE), "remove a dependency from this service's contract"),
    "add_team_member": Act((MANAGER,), "add people to this service's team"),
    "remove_team_member": Act((MANAGER,), "remove people from this service's team"),
    "flag_for_decommissioning": Act((EXECUTIVE, MANAGER), "flag this service for decommissioning"),
    "clear_decommission_flag": Act((EXECUTIVE,), "clear a service's flag for decommissioning"),
    # lifecycle: criteria, assessments, reports
    "manage_criteria": Act((EXECUTIVE,), "add or change assessment criteria"),
    "schedule_assessment": Act((EXECUTIVE,), "schedule an assessment"),
    "edit_assessment": Act((EXECUTIVE,), "change a scheduled assessment"),
    "publish_assessment_agenda": Act((EXECUTIVE,), "publish an assessment's agenda"),
    "cancel_assessment": Act((EXECUTIVE,), "cancel an assessment"),
    "record_assessment_decisions": Act((EXECUTIVE, ASSESSOR), "record an assessment's decisions"),
    "publish_assessment_report": Act((EXECUTIVE,), "publish an assessment report"),
    "decommission_service": Act((EXECUTIVE,), "decommission a service"),
    "add_report_addendum": Act((EXECUTIVE, ASSESSOR), "add an addendum to this report"),
    "set_assessment_cadence": Act((EXECUTIVE,), "set how often live services are assessed"),
    # budgets
    "allocate_budget": Act((EXECUTIVE,), "allocate a budget"),
    "record_spend": Act((MANAGER, TEAM), "record spending against this service's budget"),
    "reinvest_savings": Act((MANAGER,), "re-invest this service's savings"),
    "request_funding": Act((MANAGER,), "ask for this service's budget or scope to change"),
    "decide_funding_request": Act((EXECUTIVE,), "decide a funding request"),
    # governance: mandates, guidance, disputes, demand, deviations
    "draft_mandate": Act((EXECUTIVE,), "draft a mandate"),
    "issue_mandate": Act((EXECUTIVE,), "issue a mandate"),
    "close_mandate": Act((EXECUTIVE,), "close a mandate"),
    "remind_mandate": Act((EXECUTIVE,), "send reminders of a mandate"),
    "acknowledge_mandate": Act((MANAGER,), "acknowledge a mandate for this service"),
    "report_mandate_progress": Act((MANAGER,), "report this service's progress on a mandate"),
    "draft_guidance": Act((EXECUTIVE,), "draft guidance"),
    "publish_guidance": Act((EXECUTIVE,), "publish guidance"),
    "withdraw_guidance": Act((EXECUTIVE,), "withdraw guidance"),
    "decide_guidance": Act((MANAGER,), "decide whether this service adopts guidance"),
    "raise_dispute": Act((MANAGER,), "raise a dispute for this service"),
    "raise_evaluation_dispute": Act((ANYONE,), "raise a dispute about an evaluation"),
    "withdraw_dispute": Act((SELF,), "withdraw this dispute"),
    "resolve_dispute": Act((EXECUTIVE,), "resolve a dispute"),
    "propose_needs": Act((ANYONE,), "propose needs"),
    "decide_proposal": Act((EXECUTIVE,), "decide what to do with proposed needs"),
    "record_deviation": Act((EXECUTIVE,), "record a deviation from the template"),
    "set_reserved_acts": Act((EXECUTIVE,), "choose the acts it keeps to itself"),
    "read_notifications": Act((SELF,), "mark these notifications as read"),
    # learning: doctrine, corrections of error, communities of practice
    "edit_doctrine_meaning": Act((EXECUTIVE,), "rewrite the meaning of a doctrine pattern"),
    "open_doctrine_round": Act((MANAGER, EXECUTIVE), "open a doctrine self-assessment"),
    "close_doctrine_round": Act((MANAGER, EXECUTIVE), "close this doctrine self-assessment"),
    "rate_doctrine": Act((MANAGER, TEAM), "rate this service against the doctrine"),
    "rate_organisation_doctrine": Act((ANYONE,), "rate the organisation against the doctrine"),
    "write_coe": Act((MANAGER, TEAM), "write a Correction of Error for this service"),
    "discard_coe": Act((MANAGER, TEAM), "discard this draft Correction of Error"),
    "publish_coe": Act((MANAGER,), "publish this service's Correction of Error"),
    "add_corrective_action": Act((MANAGER, TEAM), "add a corrective action to this Correction of Error"),
    "update_corrective_action": Act((MANAGER, TEAM, SELF), "update this corrective action"),
    "verify_corrective_action": Act((MANAGER, EXECUTIVE), "verify a corrective action"),
    "schedule_coe_review": Act((EXECUTIVE,), "schedule a review of Corrections of Error"),
    "hold_coe_review": Act((EXECUTIVE,), "hold a review of Corrections of Error"),
    "form_community": Act((ANYONE,), "form a community of practice"),
    "edit_community": Act((LEAD,), "change this community of practice"),
    "join_community": Act((SELF,), "join a community of practice"),
    "leave_community": Act((SELF,), "leave a community of practice"),
    "endorse_community": Act((EXECUTIVE,), "endorse a community of practice"),
    "withdraw_endorsement": Act((EXECUTIVE,), "withdraw a community's endorsement"),
    "publish_community_guidance": Act((LEAD,), "publish guidance for this community's profession"),
    "withdraw_community_guidance": Act((LEAD,), "withdraw this community's guidance"),
    "escalate_evaluation_dispute": Act((LEAD,), "escalate an evaluation dispute to the executive"),
    "post_open_role": Act((MANAGER,), "post an open role in this service's team"),
    "close_open_role": Act((MANAGER,), "close an open role in this service's team"),
    # fitness data, capital flow and maps
    "record_measurement": Act((MANAGER, TEAM), "record this service's measurements"),
    "import_measurements": Act((MANAGER, TEAM), "upload this service's measurements"),
    "set_measurement_cadence": Act((MANAGER,), "set how often this service reports a metric"),
    "issue_ingest_token": Act((MANAGER,), "issue an ingest token for this service"),
    "revoke_ingest_token": Act((MANAGER, EXECUTIVE), "revoke this service's ingest token"),
    "add_standard_measure": Act((MANAGER, EXECUTIVE), "add a standard measure to this service's contract"),
    "define_aggregation": Act((EXECUTIVE,), "define figures across services"),
    "retire_aggregation": Act((EXECUTIVE,), "retire a figure"),
    "record_consumption_shares": Act((MANAGER, EXECUTIVE), "record how this service's consumption was shared"),
    "record_transactions": Act((MANAGER, TEAM), "record this service's transactions"),
    "save_service_map": Act((MANAGER, TEAM), "save this service's map"),
    # imports, exports and webhooks
    "import_catalogue": Act((EXECUTIVE,), "import a catalogue of services"),
    "manage_webhooks": Act((EXECUTIVE,), "manage webhooks"),
    # organisation
    "edit_terminology": Act((EXECUTIVE,), "change the organisation's names for the model's roles"),
    "create_person": Act((EXECUTIVE,), "add people to the organisation"),
    "issue_api_token": Act((SELF,), "issue an API token for themselves"),
    "revoke_api_token": Act((SELF, EXECUTIVE), "revoke this API token"),
}


# Acts the executive's team can never do in its name, whatever the executive reserves.
ALWAYS_RESERVED = {"set_reserved_acts"}


@dataclass(frozen=True)
class Authority:
    """In whose right an allowed act is done."""

    right: str
    on_behalf_of_executive: bool = False


def _check(actor: Person | None, act: str, service=None, subject: Person | None = None, obj=None) -> Authority | str:
    """Returns the authority, or the sentence that refuses."""
    rule = ACTS[act]
    org = current_organisation()
    terms = org.terms()
    if actor is None or not actor.is_active:
        return "You must sign in first."
    reserved = act in (org.reserved_acts or []) or act in ALWAYS_RESERVED
    for right in rule.rights:
        if right == EXECUTIVE:
            if actor.role == Role.EXECUTIVE:
                return Authority(EXECUTIVE)
            if actor.role == Role.EXECUTIVE_TEAM and not reserved:
                return Authority(EXECUTIVE, on_behalf_of_executive=True)
        elif right == MANAGER and service is not None and service.manager_id == actor.pk:
            return Authority(MANAGER)
        elif right == TEAM and service is not None and in_team(service, actor):
            return Authority(TEAM)
        elif right == SELF and subject is not None and subject.pk == actor.pk:
            return Authority(SELF)
        elif right == ASSESSOR and obj is not None and obj.assessors.filter(pk=actor.pk).exists():
            return Authority(ASSESSOR)
        elif right == LEAD and obj is not None and getattr(obj, "lead_id", None) == actor.pk:
            return Authority(LEAD)
        elif right == ANYONE:
            return Authority(ANYONE)
    if reserved and actor.role == Role.EXECUTIVE_TEAM and EXECUTIVE in rule.rights:
        return (
            f"The {terms['executive']} keeps the right to {rule.says} to itself; "
            f"{terms['executive_team']} members may not do it."
        )
    who = []
    for right in rule.rights:
        if right == EXECUTIVE:
            who.append(f"the {terms['executive']}")
        elif right == MANAGER:
            name = f" of {service.name}" if service is not None else ""
            who.append(f"the {terms['service_manager'].lower()}{name}")
        elif right == TEAM:
            who.append("its team")
        elif right == SELF:
            who.append("the person themselves")
        elif right == ASSESSOR:
            who.append("its assessors")
        elif right == LEAD:
            who.append("the community's lead")
    return f"Only {' or '.join(who)} may {rule.says}."


def authorise(actor: Person | None, act: str, *, service=None, subject: Person | None = None, obj=None) -> Authority:
    """Raise :class:`NotAllowed` with a sentence unless ``actor`` may do ``act``.
    ``obj`` is the object acted on where a right depends on it (an assessment's assessors)."""
    result = _check(actor, act, service, subject, obj)
    if isinstance(result, str):
        raise NotAllowed(result)
    return result


def refusal(actor: Person | None, act: str, *, service=None, subject: Person | None = None, obj=None) -> str | None:
    """The sentence that refuses ``act`` to ``actor``, or None when it is allowed."""
    result = _check(actor, act, service, subject, obj)
    return result if isinstance(result, str) else None


def can(actor: Person | None, act: str, *, service=None, subject: Person | None = None, obj=None) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return isinstance(_check(actor, act, service, subject, obj), Authority)
