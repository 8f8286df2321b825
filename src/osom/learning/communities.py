"""Every write of communities of practice (model 8): forming, joining and leaving, the
lead's changes, the executive's endorsement, the guidance a community issues for its
profession, the evaluation disputes it escalates, and the open roles in service teams
it makes visible to its practitioners."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, Errors, InvalidInput
from osom.core.models import Person, Role
from osom.core.notify import notify
from osom.core.policy import authorise
from osom.governance.models import Dispute
from osom.network.models import ProfessionalRole, Service
from osom.network.stages import LEVELS, Lifecycle

from .actions import _check_revision, _date, _lock, _prose, _text, _title
from .models import Community, CommunityGuidance, CommunityMembership, OpenRole

__all__ = [
    "close_open_role",
    "edit_community",
    "endorse_community",
    "escalate_evaluation_dispute",
    "form_community",
    "join_community",
    "leave_community",
    "post_open_role",
    "professions",
    "publish_community_guidance",
    "withdraw_community_guidance",
    "withdraw_endorsement",
]


def professions() -> list[str]:
    """The professions a community may gather: the job families of the framework."""
    return list(ProfessionalRole.objects.order_by("job_family").values_list("job_family", flat=True).distinct())


def _name(errors: Errors, value) -> str:
    name = _text(value)
    if not name:
        errors.add("name", "Give the community a name.")
    elif len(name) > 200:
        errors.add("name", "Keep the name to 200 characters.")
    return name


def _clean_community(errors: Errors, name, profession, purpose) -> tuple[str, str, str]:
    name = _name(errors, name)
    profession = _text(profession)
    known = professions()
    if not profession:
        errors.add("profession", "Choose the profession the community gathers.")
    elif profession not in known:
        errors.add("profession", f"“{profession}” is not a profession of the framework: use one of {', '.join(known)}.")
    purpose = _prose(purpose)
    if not purpose:
        errors.add("purpose", "Say what the community is for.")
    return name, profession, purpose


def _members(community: Community):
    return Person.objects.filter(community_memberships__community=community, community_memberships__left_at__isnull=True,
                                 is_active=True)


@refuses_null_characters
def form_community(*, actor: Person, name: str, profession: str, purpose: str) -> Community:
    """Anyone may form a community around a profession; they lead it and are its first member."""
    authority = authorise(actor, "form_community")
    errors = Errors()
    name, profession, purpose = _clean_community(errors, name, profession, purpose)
    if name and Community.objects.filter(name__iexact=name).exists():
        errors.add("name", f"There is a community called “{name}” already.")
    errors.raise_if_any()
    try:
        with transaction.atomic():
            community = Community.objects.create(name=name, profession=profession, purpose=purpose, lead=actor,
                                                 formed_by=actor)
            CommunityMembership.objects.create(community=community, person=actor)
            audit.record(actor, "form_community", community, authority=authority,
                         summary=f"Formed the community of practice “{name}” for {profession}")
    except IntegrityError:
        raise InvalidInput(f"There is a community called “{name}” already.", field="name") from None
    return community


@refuses_null_characters
def edit_community(*, actor: Person, community: Community, name: str, purpose: str, lead: Person | None = None,
                   expected_revision: int | None = None) -> Community:
    """The lead changes the community's name or purpose, or hands the lead to another member."""
    community = Community.objects.get(pk=community.pk)  # its lead as it is now
    authority = authorise(actor, "edit_community", obj=community)
    errors = Errors()
    name, _, purpose = _clean_community(errors, name, community.profession, purpose)
    if name and Community.objects.filter(name__iexact=name).exclude(pk=community.pk).exists():
        errors.add("name", f"There is a community called “{name}” already.")
    if lead is not None and not _members(community).filter(pk=lead.pk).exists():
        errors.add("lead", f"{lead.name} is not a member; the lead is chosen among the members.")
    errors.raise_if_any()
    with transaction.atomic():
        community = _lock(Community, community)
        _check_revision(community, expected_revision, "This community")
        before = {"name": community.name, "purpose": community.purpose, "lead": community.lead_id}
        community.name, community.purpose = name, purpose
        if lead is not None:
            community.lead = lead
        community.revision += 1
        community.save()
        if lead is not None and before["lead"] != lead.pk:
            notify([lead], f"You now lead the community of practice “{community.name}”",
                   reverse("learning:community", args=[community.pk]))
        audit.record(actor, "edit_community", community, authority=authority, summary=f"Changed the community “{name}”",
                     before=before, after={"name": name, "purpose": purpose, "lead": community.lead_id})
    return community


@refuses_null_characters
def join_community(*, actor: Person, community: Community, person: Person | None = None) -> CommunityMembership:
    person = person or actor
    authority = authorise(actor, "join_community", subject=person)
    with transaction.atomic():
        community = _lock(Community, community)
        if CommunityMembership.objects.filter(community=community, person=person, left_at__isnull=True).exists():
            raise Conflict(f"You are a member of {community.name} already.", field="community")
        membership = CommunityMembership.objects.create(community=community, person=person)
        audit.record(actor, "join_community", membership, authority=authority, summary=f"Joined the community “{community.name}”")
    return membership


@refuses_null_characters
def leave_community(*, actor: Person, community: Community, person: Person | None = None) -> CommunityMembership:
    person = person or actor
    authority = authorise(actor, "leave_community", subject=person)
    with transaction.atomic():
        community = _lock(Community, community)
        membership = CommunityMembership.objects.select_for_update(no_key=True).filter(community=community, person=person,
                                                                           left_at__isnull=True).first()
        if membership is None:
            raise Conflict(f"You are not a member of {community.name}.", field="community")
        if community.lead_id == person.pk:
            raise Conflict("You lead this community: hand the lead to another member before leaving.", field="lead")
        membership.left_at = timezone.now()
        membership.save()
        audit.record(actor, "leave_community", membership, authority=authority, summary=f"Left the community “{community.name}”")
    return membership


@refuses_null_characters
def endorse_community(*, actor: Person, community: Community, on=None) -> Community:
    """The executive endorses a community once it can advise managers on evaluating its
    practitioners: it must have published guidance on that."""
    authority = authorise(actor, "endorse_community")
    if on is not None:
        errors = Errors()
        on = _date(errors, "on", on)
        if on is not None and on > timezone.localdate():
            errors.add("on", "An endorsement is recorded once it is given: the date is in the future.")
        errors.raise_if_any()
    with transaction.atomic():
        community = _lock(Community, community)
        if community.status == Community.Status.ENDORSED:
            raise Conflict(f"{community.name} is endorsed already, since {community.endorsed_on:%-d %B %Y}.", field="community")
        if not community.guidance.filter(kind=CommunityGuidance.Kind.EVALUATION, withdrawn_at__isnull=True).exists():
            raise Conflict(f"{community.name} has not yet published guidance on evaluating its practitioners; "
                           "it is endorsed once it can advise managers on that.", field="community")
        community.status = Community.Status.ENDORSED
        community.endorsed_on, community.endorsed_by = on or timezone.localdate(), actor
        community.revision += 1
        community.save()
        notify(_members(community), f"{community.name} is endorsed by the executive",
               reverse("learning:community", args=[community.pk]))
        audit.record(actor, "endorse_community", community, authority=authority,
                     summary=f"Endorsed the community of practice “{community.name}”")
    return community


@refuses_null_characters
def withdraw_endorsement(*, actor: Person, community: Community, reason: str) -> Community:
    authority = authorise(actor, "withdraw_endorsement")
    reason = _prose(reason)
    if not reason:
        raise InvalidInput("Say why the endorsement is withdrawn.", field="reason")
    with transaction.atomic():
        community = _lock(Community, community)
        if community.status != Community.Status.ENDORSED:
            raise Conflict(f"{community.name} is not endorsed.", field="community")
        community.status, community.endorsed_on, community.endorsed_by = Community.Status.FORMING, None, None
        community.revision += 1
        community.save()
        notify([community.lead], f"The executive withdrew its endorsement of {community.name}",
               reverse("learning:community", args=[community.pk]), body=reason)
        audit.record(actor, "withdraw_endorsement", community, authority=authority, reason=reason,
                     summary=f"Withdrew the endorsement of “{community.name}”")
    return community


@refuses_null_characters
def publish_community_guidance(*, actor: Person, community: Community, kind: str, title: str, body: str) -> CommunityGuidance:
    community = Community.objects.get(pk=community.pk)  # its lead as it is now
    authority = authorise(actor, "publish_community_guidance", obj=community)
    errors = Errors()
    if kind not in CommunityGuidance.Kind.values:
        errors.add("kind", f"“{kind}” is not a kind of guidance: use practice or evaluation."
                   if kind else "Choose practice or evaluation.")
    title = _title(errors, title)
    body = _prose(body)
    if not body:
        errors.add("body", "Write the guidance itself.")
    errors.raise_if_any()
    with transaction.atomic():
        item = CommunityGuidance.objects.create(community=community, kind=kind, title=title, body=body, published_by=actor)
        notify(_members(community).exclude(pk=actor.pk), f"{community.name} published guidance: {title}",
               reverse("learning:community", args=[community.pk]))
        audit.record(actor, "publish_community_guidance", item, authority=authority,
                     summary=f"{community.name} published guidance on {item.get_kind_display().lower()}: “{title}”")
    return item


@refuses_null_characters
def withdraw_community_guidance(*, actor: Person, guidance: CommunityGuidance, reason: str = "") -> CommunityGuidance:
    guidance = CommunityGuidance.objects.select_related("community").get(pk=guidance.pk)
    authority = authorise(actor, "withdraw_community_guidance", obj=guidance.community)
    with transaction.atomic():
        community = _lock(Community, guidance.community)
        guidance = _lock(CommunityGuidance, guidance)
        if guidance.withdrawn_at:
            raise Conflict("This guidance is withdrawn already.", field="guidance")
        if (community.status == Community.Status.ENDORSED and guidance.kind == CommunityGuidance.Kind.EVALUATION
                and not community.guidance.filter(kind=CommunityGuidance.Kind.EVALUATION, withdrawn_at__isnull=True)
                .exclude(pk=guidance.pk).exists()):
            raise Conflict(f"{community.name} is endorsed because it advises managers on evaluating its practitioners; "
                           "publish new guidance on that before withdrawing this, the last of it.", field="guidance")
        guidance.withdrawn_at = timezone.now()
        guidance.save()
        audit.record(actor, "withdraw_community_guidance", guidance, authority=authority, reason=_prose(reason),
                     summary=f"{guidance.community.name} withdrew its guidance “{guidance.title}”")
    return guidance


@refuses_null_characters
def escalate_evaluation_dispute(*, actor: Person, community: Community, subject: str, description: str) -> Dispute:
    """The community's lead escalates an evaluation dispute it could not settle to the
    executive, who mediates it (model 5.7, 8)."""
    community = Community.objects.get(pk=community.pk)  # its lead as it is now
    authority = authorise(actor, "escalate_evaluation_dispute", obj=community)
    errors = Errors()
    subject = _title(errors, subject, "subject")
    description = _prose(description)
    if not description:
        errors.add("description", "Describe the dispute and what the community tried.")
    errors.raise_if_any()
    with transaction.atomic():
        dispute = Dispute.objects.create(kind=Dispute.Kind.EVALUATION, raised_by=actor, community=community,
                                         subject=subject, description=description)
        notify(Person.objects.filter(role=Role.EXECUTIVE, is_active=True), f"{community.name} escalated a dispute: {subject}",
               reverse("governance:dispute", args=[dispute.pk]))
        audit.record(actor, "escalate_evaluation_dispute", dispute, authority=authority,
                     summary=f"{community.name} escalated an evaluation dispute: {subject}")
    return dispute


@refuses_null_characters
def post_open_role(*, actor: Person, service: Service, role: ProfessionalRole | None, level: str,
                   description: str = "") -> OpenRole:
    """The manager posts a place in the team; practitioners of the matching profession
    (the members of its communities) are told of it."""
    service = Service.objects.get(pk=service.pk)  # its manager as it is now
    authority = authorise(actor, "post_open_role", service=service)
    errors = Errors()
    if role is None:
        errors.add("role", "Choose the role from the professional framework.")
    if level not in dict(LEVELS):
        errors.add("level", f"“{level}” is not a level: use {', '.join(dict(LEVELS))}." if level else "Choose a level.")
    description = _prose(description)
    if len(description) > 4000:
        errors.add("description", "Keep the description to 4,000 characters.")
    if Service.objects.filter(pk=service.pk, lifecycle_stage=Lifecycle.DECOMMISSIONED).exists():
        errors.add("service", f"{service.name} is decommissioned; it recruits nobody.")
    errors.raise_if_any()
    with transaction.atomic():
        opening = OpenRole.objects.create(service=service, role=role, level=level, description=description, posted_by=actor)
        practitioners = Person.objects.filter(
            Q(community_memberships__community__profession=role.job_family, community_memberships__left_at__isnull=True)
        ).exclude(pk=actor.pk).distinct()
        notify(practitioners, f"Open role in {service.name}: {role.name} ({opening.get_level_display()})",
               reverse("learning:open_roles") + f"?profession={role.job_family}")
        audit.record(actor, "post_open_role", opening, authority=authority, service=service,
                     summary=f"Posted an open role in {service.name}: {role.name}, {opening.get_level_display()}")
    return opening


@refuses_null_characters
def close_open_role(*, actor: Person, opening: OpenRole, filled: bool) -> OpenRole:
    opening = OpenRole.objects.select_related("service", "role").get(pk=opening.pk)
    authority = authorise(actor, "close_open_role", service=opening.service)
    with transaction.atomic():
        opening = _lock(OpenRole, opening)
        if opening.status != OpenRole.Status.OPEN:
            raise Conflict(f"This role is {opening.get_status_display().lower()} already.", field="opening")
        opening.status = OpenRole.Status.FILLED if filled else OpenRole.Status.WITHDRAWN
        opening.closed_at = timezone.now()
        opening.save()
        audit.record(actor, "close_open_role", opening, authority=authority, service=opening.service,
                     summary=f"{'Filled' if filled else 'Withdrew'} the open role {opening.role.name} in {opening.service.name}")
    return opening
