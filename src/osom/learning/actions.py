"""Every write of the learning loop's doctrine and Corrections of Error (model 7, 9, 11):
the organisation's words for the patterns, self-assessment rounds and ratings, CoE
documents from draft to reviewed, corrective actions, and the executive's reviews.
Communities of practice are in :mod:`osom.learning.communities`."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, Errors, InvalidInput, NotAllowed
from osom.core.models import Person, Role
from osom.core.notify import notify
from osom.core.policy import authorise
from osom.interop import webhooks
from osom.network.models import Service
from osom.network.stages import Lifecycle

from .models import (
    CoEReview,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRating,
    DoctrineRound,
    PatternEffect,
    Rating,
    TimelineEvent,
    WhyChain,
)

__all__ = [
    "COE_TEXT_FIELDS",
    "REQUIRED_TO_PUBLISH",
    "add_corrective_action",
    "close_doctrine_round",
    "discard_coe",
    "edit_doctrine_meaning",
    "hold_coe_review",
    "open_doctrine_round",
    "publish_coe",
    "rate_doctrine",
    "schedule_coe_review",
    "update_corrective_action",
    "verify_corrective_action",
    "write_coe",
]

# The account a CoE gives (model 7), in the order it is read.
COE_TEXT_FIELDS = ("problem", "impact", "root_cause", "root_cause_data", "trade_offs_that_led", "trade_offs_to_avoid", "lessons")
REQUIRED_TO_PUBLISH = {
    "problem": "Say what the problem was.",
    "impact": "Say what its impact was, on users and on the organisation.",
    "root_cause": "Give the root cause.",
    "lessons": "Write down the lessons learned.",
}
MAX_WHYS = 10


def _text(value) -> str:
    return " ".join(str(value or "").split())


def _prose(value) -> str:
    return str(value or "").strip()


def _flag(value) -> bool:
    """A yes/no answer, as a form, the API or a command line gives it."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def _items(errors: Errors, field: str, value) -> list[tuple[int, dict]]:
    """The entries of a list in the content, each with its index; an entry that is not
    a set of named values is refused at its own place (``actions[2]``)."""
    if value in (None, ""):
        return []
    if not isinstance(value, (list, tuple)):
        errors.add(field, "Give a list.")
        return []
    out = []
    for i, item in enumerate(value):
        if item is None:
            item = {}
        if not isinstance(item, dict):
            errors.add(f"{field}[{i}]", "Give each entry as named values.")
            continue
        out.append((i, item))
    return out


def _lines(value) -> list[str]:
    """A list of short texts: given as a list, or as text with one per line."""
    if isinstance(value, str):
        value = value.splitlines()
    return [_prose(v) for v in (value or []) if _prose(v)]


def _date(errors: Errors, field: str, value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.add(field, f"“{value}” is not a date: use YYYY-MM-DD." if value else "Give a date.")
        return None


def _datetime(errors: Errors, field: str, value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = str(value or "").strip()
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            errors.add(field, f"“{text}” is not a time: use YYYY-MM-DD HH:MM." if text else "Give the time it happened.")
            return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _title(errors: Errors, value, field: str = "title") -> str:
    title = _text(value)
    if not title:
        errors.add(field, "Give it a title.")
    elif len(title) > 200:
        errors.add(field, "Keep the title to 200 characters.")
    return title


def _person(errors: Errors, field: str, value) -> Person | None:
    if isinstance(value, Person):
        person = value
    else:
        email = _text(value).lower()
        if not email:
            errors.add(field, "Name the person who owns it.")
            return None
        person = Person.objects.filter(email__iexact=email).first()
        if person is None:
            errors.add(field, f"Nobody in the organisation has the email address “{email}”.")
            return None
    if not person.is_active:
        errors.add(field, f"{person.name} is no longer in the organisation.")
        return None
    return person


def _pattern(errors: Errors, field: str, value, patterns: dict[str, DoctrinePattern]) -> DoctrinePattern | None:
    if isinstance(value, DoctrinePattern):
        return value
    slug = _text(value)
    found = patterns.get(slug)
    if found is None:
        errors.add(field, f"“{slug}” is not a doctrine pattern: use the pattern's short name, e.g. “know-your-users”."
                   if slug else "Choose a doctrine pattern.")
    return found


def _lock(model, obj):
    """The row as it is now, locked until the act ends: FOR NO KEY UPDATE on PostgreSQL,
    which lets another act insert rows referring to it while excluding every other lock
    of the row (a row to be deleted is locked FOR UPDATE instead)."""
    return model.objects.select_for_update(no_key=True).get(pk=obj.pk)


def _current_coe(coe: CorrectionOfError) -> CorrectionOfError:
    """The CoE as it is now, with its service: rights are checked against the service's
    current manager and team, not against a copy read before they changed."""
    return CorrectionOfError.objects.select_related("service").get(pk=coe.pk)


def _check_revision(obj, expected, what: str) -> None:
    if expected is not None and int(expected) != obj.revision:
        raise Conflict(f"{what} was changed by someone else since you opened it. Reload it, then make your change again.",
                       field="revision", changes=[f"Now at revision {obj.revision}."])


def _refuse_decommissioned(service: Service, what: str) -> None:
    if Service.objects.filter(pk=service.pk, lifecycle_stage=Lifecycle.DECOMMISSIONED).exists():
        raise Conflict(f"{service.name} is decommissioned; {what}.", field="service")


# ---------------------------------------------------------------- the doctrine

@refuses_null_characters
def edit_doctrine_meaning(*, actor: Person, pattern: DoctrinePattern, meaning: str,
                          expected_revision: int | None = None) -> DoctrinePattern:
    """The organisation puts a pattern's meaning in its own words; its name and place
    in the table stay the table's."""
    authority = authorise(actor, "edit_doctrine_meaning")
    meaning = _prose(meaning)
    if not meaning:
        raise InvalidInput("Say what the pattern means to the organisation.", field="meaning")
    if len(meaning) > 2000:
        raise InvalidInput("Keep the meaning to 2,000 characters.", field="meaning")
    with transaction.atomic():
        pattern = _lock(DoctrinePattern, pattern)
        _check_revision(pattern, expected_revision, "This pattern")
        before = pattern.meaning
        if before == meaning:
            return pattern
        pattern.meaning = meaning
        pattern.revision += 1
        pattern.save()
        audit.record(actor, "edit_doctrine_meaning", pattern, authority=authority,
                     summary=f"Rewrote the meaning of the doctrine pattern “{pattern.name}”",
                     before={"meaning": before}, after={"meaning": meaning})
    return pattern


@refuses_null_characters
def open_doctrine_round(*, actor: Person, service: Service | None = None, title: str = "") -> DoctrineRound:
    """Open a self-assessment: of a service (by its manager or the executive), or of the
    whole organisation (by the executive). The service's people, or everyone, are asked
    to rate the forty patterns."""
    if service is not None:
        service = Service.objects.get(pk=service.pk)  # its manager as it is now
    authority = authorise(actor, "open_doctrine_round", service=service)
    if service is None and authority.right != "executive":
        raise InvalidInput("Only the executive opens a self-assessment of the whole organisation.", field="service")
    errors = Errors()
    default = f"{service.name if service else 'The organisation'}: doctrine self-assessment, {timezone.localdate():%B %Y}"
    title = _title(errors, title or default)
    errors.raise_if_any()
    if service is not None:
        _refuse_decommissioned(service, "it has no more doctrine to assess")
    with transaction.atomic():
        if DoctrineRound.objects.select_for_update(no_key=True).filter(service=service, status=DoctrineRound.Status.OPEN).exists():
            raise Conflict(f"{'This service' if service else 'The organisation'} has a self-assessment open already; "
                           "close it before opening another.", field="service")
        rnd = DoctrineRound.objects.create(service=service, title=title, opened_by=actor)
        link = reverse("learning:round", args=[rnd.pk])
        if service is not None:
            people = [service.manager, *Person.objects.filter(memberships__service=service, memberships__ended_at__isnull=True)]
        else:
            people = Person.objects.filter(is_active=True)
        notify(people, f"Rate {service.name if service else 'the organisation'} against the doctrine: {title}", link)
        audit.record(actor, "open_doctrine_round", rnd, authority=authority, service=service,
                     summary=f"Opened the doctrine self-assessment “{title}”")
    return rnd


@refuses_null_characters
def close_doctrine_round(*, actor: Person, round: DoctrineRound) -> DoctrineRound:
    round = DoctrineRound.objects.select_related("service").get(pk=round.pk)
    if round.service_id is None:
        authority = authorise(actor, "close_doctrine_round")
        if authority.right != "executive":  # pragma: no cover - only the executive holds it with no service
            raise InvalidInput("Only the executive closes the organisation's self-assessment.", field="round")
    else:
        authority = authorise(actor, "close_doctrine_round", service=round.service)
    with transaction.atomic():
        rnd = _lock(DoctrineRound, round)
        if rnd.status != DoctrineRound.Status.OPEN:
            raise Conflict("This self-assessment is closed already.", field="round")
        if not rnd.ratings.exists():
            raise Conflict("Nobody has rated anything yet; a self-assessment closes once it has ratings.", field="round")
        rnd.status, rnd.closed_at = DoctrineRound.Status.CLOSED, timezone.now()
        rnd.save()
        audit.record(actor, "close_doctrine_round", rnd, authority=authority, service=rnd.service,
                     summary=f"Closed the doctrine self-assessment “{rnd.title}” "
                             f"({rnd.ratings.values('respondent').distinct().count()} respondents)")
    return rnd


@refuses_null_characters
def rate_doctrine(*, actor: Person, round: DoctrineRound, ratings: list[dict]) -> int:
    """A respondent rates patterns: good, partly, weak or unknown, with optional
    evidence. Rating a pattern again replaces the respondent's earlier rating of it."""
    rnd = DoctrineRound.objects.select_related("service").get(pk=round.pk)
    if rnd.service_id is None:
        authority = authorise(actor, "rate_organisation_doctrine")
    else:
        authority = authorise(actor, "rate_doctrine", service=rnd.service)
    errors = Errors()
    if not ratings:
        errors.add("ratings", "Rate at least one pattern.")
    patterns = {p.slug: p for p in DoctrinePattern.objects.all()}
    cleaned: dict[int, tuple[DoctrinePattern, str, str]] = {}
    for i, item in _items(errors, "ratings", ratings):
        pattern = _pattern(errors, f"ratings[{i}].pattern", item.get("pattern"), patterns)
        rating = _text(item.get("rating")).lower()
        if rating not in Rating.values:
            errors.add(f"ratings[{i}].rating", f"“{rating}” is not a rating: use good, partly, weak or unknown."
                       if rating else "Choose good, partly, weak or unknown.")
        evidence = _prose(item.get("evidence"))
        if len(evidence) > 4000:
            errors.add(f"ratings[{i}].evidence", "Keep the evidence to 4,000 characters.")
        if pattern is not None:
            if pattern.pk in cleaned:
                errors.add(f"ratings[{i}].pattern", f"“{pattern.name}” is rated twice; rate each pattern once.")
            cleaned[pattern.pk] = (pattern, rating, evidence)
    errors.raise_if_any()
    with transaction.atomic():
        rnd = _lock(DoctrineRound, rnd)
        if rnd.status != DoctrineRound.Status.OPEN:
            raise Conflict("This self-assessment is closed; it takes no more ratings.", field="round")
        existing = {r.pattern_id: r for r in DoctrineRating.objects.select_for_update(no_key=True).filter(round=rnd, respondent=actor)}
        now = timezone.now()
        new, changed = [], []
        for pk, (pattern, rating, evidence) in cleaned.items():
            old = existing.get(pk)
            if old is None:
                new.append(DoctrineRating(round=rnd, pattern=pattern, respondent=actor, rating=rating, evidence=evidence,
                                          rated_at=now))
            elif (old.rating, old.evidence) != (rating, evidence):
                old.rating, old.evidence, old.rated_at = rating, evidence, now
                changed.append(old)
        if not new and not changed:
            return 0  # the same ratings again: nothing to record
        DoctrineRating.objects.bulk_create(new)
        DoctrineRating.objects.bulk_update(changed, ["rating", "evidence", "rated_at"])
        written = {r.pattern_id for r in (*new, *changed)}
        audit.record(actor, "rate_doctrine", rnd, authority=authority, service=rnd.service,
                     summary=f"Rated {len(written)} pattern{'s' if len(written) != 1 else ''} in “{rnd.title}”",
                     after={p.slug: r for pk, (p, r, _) in cleaned.items() if pk in written})
    return len(new) + len(changed)


# ---------------------------------------------------------------- Corrections of Error

def _clean_coe(errors: Errors, content: dict) -> dict:
    out: dict = {"title": _title(errors, content.get("title"))}
    out["occurred_on"] = _date(errors, "occurred_on", content.get("occurred_on"))
    if out["occurred_on"] and out["occurred_on"] > timezone.localdate():
        errors.add("occurred_on", "A problem is written up after it happens: the date is in the future.")
    out["users_affected"] = _flag(content.get("users_affected"))
    for field in COE_TEXT_FIELDS:
        out[field] = _prose(content.get(field))
        if len(out[field]) > 20000:
            errors.add(field, "Keep it to 20,000 characters.")
    timeline = []
    for i, event in _items(errors, "timeline", content.get("timeline")):
        at = _datetime(errors, f"timeline[{i}].at", event.get("at"))
        description = _prose(event.get("description"))
        if not description:
            errors.add(f"timeline[{i}].description", "Say what happened at that time.")
        timeline.append({"at": at, "description": description})
    out["timeline"] = sorted(timeline, key=lambda e: e["at"] or timezone.now())
    chains = []
    for i, chain in _items(errors, "why_chains", content.get("why_chains")):
        question = _prose(chain.get("question"))
        if not question:
            errors.add(f"why_chains[{i}].question", "Start the chain with the question it answers, e.g. “Why did renewals fail?”.")
        whys = _lines(chain.get("whys"))
        if not whys:
            errors.add(f"why_chains[{i}].whys", "Give at least one answer to “why?”.")
        elif len(whys) > MAX_WHYS:
            errors.add(f"why_chains[{i}].whys", f"Keep a chain to {MAX_WHYS} answers.")
        chains.append({"question": question, "whys": whys})
    out["why_chains"] = chains
    patterns = {p.slug: p for p in DoctrinePattern.objects.all()}
    effects: dict[int, dict] = {}
    for i, item in _items(errors, "pattern_effects", content.get("pattern_effects")):
        pattern = _pattern(errors, f"pattern_effects[{i}].pattern", item.get("pattern"), patterns)
        effect = _text(item.get("effect")).lower()
        if effect not in PatternEffect.Effect.values:
            errors.add(f"pattern_effects[{i}].effect", f"“{effect}” is not an effect: use helped or hurt."
                       if effect else "Say whether the pattern helped or hurt.")
        if pattern is not None:
            if pattern.pk in effects:
                errors.add(f"pattern_effects[{i}].pattern", f"“{pattern.name}” is tagged twice; tag each pattern once.")
            effects[pattern.pk] = {"pattern": pattern, "effect": effect, "note": _prose(item.get("note"))}
    out["pattern_effects"] = list(effects.values())
    out["actions"] = [_clean_action(errors, f"actions[{i}].", a) for i, a in _items(errors, "actions", content.get("actions"))]
    return out


def _clean_action(errors: Errors, prefix: str, item: dict) -> dict:
    description = _prose(item.get("description"))
    if not description:
        errors.add(f"{prefix}description", "Say what the corrective action is.")
    elif len(description) > 4000:
        errors.add(f"{prefix}description", "Keep the action to 4,000 characters.")
    return {"description": description, "owner": _person(errors, f"{prefix}owner", item.get("owner")),
            "due_date": _date(errors, f"{prefix}due_date", item.get("due_date"))}


def _write_parts(coe: CorrectionOfError, cleaned: dict, now: dt.datetime) -> None:
    TimelineEvent.objects.filter(coe=coe).delete()
    WhyChain.objects.filter(coe=coe).delete()
    PatternEffect.objects.filter(coe=coe).delete()
    TimelineEvent.objects.bulk_create([TimelineEvent(coe=coe, position=i, **e) for i, e in enumerate(cleaned["timeline"])])
    WhyChain.objects.bulk_create([WhyChain(coe=coe, position=i, **c) for i, c in enumerate(cleaned["why_chains"])])
    PatternEffect.objects.bulk_create([PatternEffect(coe=coe, **e) for e in cleaned["pattern_effects"]])
    # An action the rewrite keeps (the same words) keeps its history: when it was added,
    # its status and when it was done, which the learning figures are worked out from.
    kept: dict[str, list[CorrectiveAction]] = {}
    for action in CorrectiveAction.objects.filter(coe=coe).order_by("position", "pk"):
        kept.setdefault(action.description, []).append(action)
    new, updated = [], []
    for i, item in enumerate(cleaned["actions"]):
        same = kept.get(item["description"])
        if same:
            action = same.pop(0)
            action.position, action.owner, action.due_date = i, item["owner"], item["due_date"]
            updated.append(action)
        else:
            new.append(CorrectiveAction(coe=coe, position=i, created_at=now, **item))
    CorrectiveAction.objects.filter(pk__in=[a.pk for left in kept.values() for a in left]).delete()
    CorrectiveAction.objects.bulk_update(updated, ["position", "owner", "due_date"])
    CorrectiveAction.objects.bulk_create(new)


def coe_content(coe: CorrectionOfError) -> dict:
    """A CoE as the content :func:`write_coe` takes, to edit it or to send it over the API."""
    return {
        "title": coe.title, "occurred_on": coe.occurred_on.isoformat(), "users_affected": coe.users_affected,
        **{f: getattr(coe, f) for f in COE_TEXT_FIELDS},
        "timeline": [{"at": e.at.isoformat(), "description": e.description} for e in coe.timeline.all()],
        "why_chains": [{"question": c.question, "whys": list(c.whys)} for c in coe.why_chains.all()],
        "pattern_effects": [{"pattern": e.pattern.slug, "effect": e.effect, "note": e.note}
                            for e in coe.pattern_effects.select_related("pattern")],
        "actions": [{"description": a.description, "owner": a.owner.email, "due_date": a.due_date.isoformat()}
                    for a in coe.actions.select_related("owner")],
    }


@refuses_null_characters
def write_coe(*, actor: Person, service: Service, content: dict, coe: CorrectionOfError | None = None,
              expected_revision: int | None = None) -> CorrectionOfError:
    """Start or rewrite a draft Correction of Error. A draft needs only a title and the
    date of the problem; everything else may be filled in over time, until published.
    On a rewrite, what ``content`` leaves out stays as it was."""
    if coe is not None:
        coe = _current_coe(coe)
        service = coe.service
    else:
        service = Service.objects.get(pk=service.pk)
    authority = authorise(actor, "write_coe", service=service)
    content = dict(content or {})
    if coe is not None:
        content = {**coe_content(coe), **content}
    errors = Errors()
    cleaned = _clean_coe(errors, content)
    errors.raise_if_any()
    fields = {k: cleaned[k] for k in ("title", "occurred_on", "users_affected", *COE_TEXT_FIELDS)}
    now = timezone.now()
    with transaction.atomic():
        if coe is None:
            _refuse_decommissioned(service, "write up its problems in the services that replaced it")
            coe = CorrectionOfError.objects.create(service=service, author=actor, created_at=now, **fields)
            summary = f"Started a draft Correction of Error for {service.name}"
        else:
            coe = _lock(CorrectionOfError, coe)
            if coe.status != CorrectionOfError.Status.DRAFT:
                raise Conflict("A published Correction of Error is not rewritten; add corrective actions to it instead.",
                               field="coe")
            _check_revision(coe, expected_revision, "This Correction of Error")
            for name, value in fields.items():
                setattr(coe, name, value)
            coe.revision += 1
            coe.save()
            summary = f"Rewrote a draft Correction of Error of {service.name}"
        _write_parts(coe, cleaned, now)
        # a draft is read only by its service's people, while everyone reads the audit
        # log: its events say what was done, not what the draft says
        audit.record(actor, "write_coe", coe, authority=authority, service=service, summary=summary,
                     after={"revision": coe.revision, "actions": len(cleaned["actions"]),
                            "patterns": len(cleaned["pattern_effects"])})
    return coe


@refuses_null_characters
def discard_coe(*, actor: Person, coe: CorrectionOfError) -> None:
    coe = _current_coe(coe)
    authority = authorise(actor, "discard_coe", service=coe.service)
    with transaction.atomic():
        coe = CorrectionOfError.objects.select_for_update().get(pk=coe.pk)  # FOR UPDATE: it is deleted
        if coe.status != CorrectionOfError.Status.DRAFT:
            raise Conflict("A published Correction of Error is never discarded: it is part of what the organisation learned.",
                           field="coe")
        audit.record(actor, "discard_coe", coe, authority=authority, service=coe.service,
                     summary=f"Discarded a draft Correction of Error of {coe.service.name}")
        coe.delete()


@refuses_null_characters
def publish_coe(*, actor: Person, coe: CorrectionOfError, expected_revision: int | None = None) -> CorrectionOfError:
    """Publish the CoE to the whole organisation; from now its account is fixed, and it
    waits on the agenda of the executive's next review."""
    coe = _current_coe(coe)
    authority = authorise(actor, "publish_coe", service=coe.service)
    with transaction.atomic():
        coe = _lock(CorrectionOfError, coe)
        if coe.status != CorrectionOfError.Status.DRAFT:
            raise Conflict("This Correction of Error is published already.", field="coe")
        _check_revision(coe, expected_revision, "This Correction of Error")
        errors = Errors()
        for field, message in REQUIRED_TO_PUBLISH.items():
            if not getattr(coe, field).strip():
                errors.add(field, message)
        if not coe.actions.exists():
            errors.add("actions", "List at least one corrective action, taken or planned.")
        errors.raise_if_any()
        coe.actions.update(agreed_due_date=F("due_date"))  # closing on time is measured against these
        coe.status = CorrectionOfError.Status.PUBLISHED
        coe.published_at, coe.published_by = timezone.now(), actor
        coe.revision += 1
        coe.save()
        owners = Person.objects.filter(corrective_actions__coe=coe).distinct()
        executive = Person.objects.filter(role=Role.EXECUTIVE, is_active=True)
        link = reverse("learning:coe", args=[coe.pk])
        told = [p for p in (*executive, *owners) if p.pk != actor.pk]  # not the manager who publishes it
        notify(told, f"Correction of Error published for {coe.service.name}: {coe.title}", link)
        webhooks.emit("coe.published", webhooks.coe_published(coe, actor=actor))
        audit.record(actor, "publish_coe", coe, authority=authority, service=coe.service,
                     summary=f"Published the Correction of Error “{coe.title}”")
    return coe


@refuses_null_characters
def add_corrective_action(*, actor: Person, coe: CorrectionOfError, description: str, owner, due_date) -> CorrectiveAction:
    """Add an action to a CoE, draft or published: actions go on being planned after the
    account is published."""
    coe = _current_coe(coe)
    authority = authorise(actor, "add_corrective_action", service=coe.service)
    errors = Errors()
    cleaned = _clean_action(errors, "", {"description": description, "owner": owner, "due_date": due_date})
    errors.raise_if_any()
    with transaction.atomic():
        coe = _lock(CorrectionOfError, coe)
        position = coe.actions.count()
        draft = coe.status == CorrectionOfError.Status.DRAFT
        action = CorrectiveAction.objects.create(coe=coe, position=position, created_at=timezone.now(),
                                                 agreed_due_date=None if draft else cleaned["due_date"], **cleaned)
        if draft:  # the draft changed: an edit begun before this must not silently drop the action
            coe.revision += 1
            coe.save(update_fields=["revision"])
        if coe.status != CorrectionOfError.Status.DRAFT and action.owner_id != actor.pk:
            notify([action.owner], f"A corrective action is yours, due {action.due_date:%-d %B %Y}: {coe.title}",
                   reverse("learning:coe", args=[coe.pk]))
        audit.record(actor, "add_corrective_action", action, authority=authority, service=coe.service,
                     summary=(f"Added a corrective action to a draft Correction of Error of {coe.service.name}" if draft
                              else f"Added a corrective action to “{coe.title}”, owned by {action.owner.name}"),
                     after={} if draft else {"description": action.description, "due_date": action.due_date.isoformat()})
    return action


@refuses_null_characters
def update_corrective_action(*, actor: Person, action: CorrectiveAction, status: str, note: str = "",
                             due_date=None) -> CorrectiveAction:
    """The owner, the team or the manager marks an action done, drops it with a reason,
    reopens it, or moves its due date."""
    action = CorrectiveAction.objects.select_related("coe__service", "owner").get(pk=action.pk)
    authority = authorise(actor, "update_corrective_action", service=action.coe.service, subject=action.owner)
    errors = Errors()
    allowed = (CorrectiveAction.Status.OPEN, CorrectiveAction.Status.DONE, CorrectiveAction.Status.DROPPED)
    if status not in allowed:
        errors.add("status", f"“{status}” cannot be set here: use open, done or dropped (an action is verified by "
                   "the manager or the executive)." if status else "Choose open, done or dropped.")
    note = _prose(note)
    if status == CorrectiveAction.Status.DROPPED and not note:
        errors.add("note", "Say why the action is dropped.")
    new_due = _date(errors, "due_date", due_date) if due_date not in (None, "") else None
    errors.raise_if_any()
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update(no_key=True).get(pk=action.pk)
        before = {"status": action.status, "due_date": action.due_date.isoformat()}
        if action.coe.status == CorrectionOfError.Status.DRAFT and authority.right == "self":
            # a draft is read only by its service's people; an owner from elsewhere waits for publication
            raise NotAllowed("This Correction of Error is still a draft: only its service's manager and team may "
                             "update its actions until it is published.")
        if action.status == CorrectiveAction.Status.VERIFIED:
            raise Conflict("This action is verified; it is closed for good.", field="status")
        if new_due is not None and new_due != action.due_date and not note:
            raise InvalidInput("Say why the due date moves; the date agreed at publication still counts in the figures.",
                               field="note")
        if status == action.status and (new_due is None or new_due == action.due_date):
            raise Conflict(f"This action is {action.get_status_display().lower()} already; nothing changed.", field="status")
        if status != action.status:  # moving only the due date keeps when it was done
            action.done_at = timezone.now() if status == CorrectiveAction.Status.DONE else None
        action.status = status
        action.dropped_reason = note if status == CorrectiveAction.Status.DROPPED else ""
        if note:
            action.note = note
        if new_due is not None:
            action.due_date = new_due
        action.save()
        audit.record(actor, "update_corrective_action", action, authority=authority, service=action.coe.service,
                     summary=f"Marked a corrective action of “{action.coe.title}” {action.get_status_display().lower()}",
                     before=before, after={"status": status, "due_date": action.due_date.isoformat()}, reason=note)
    return action


@refuses_null_characters
def verify_corrective_action(*, actor: Person, action: CorrectiveAction, note: str = "") -> CorrectiveAction:
    """The manager or the executive confirms that a done action had its effect."""
    action = CorrectiveAction.objects.select_related("coe__service").get(pk=action.pk)
    authority = authorise(actor, "verify_corrective_action", service=action.coe.service)
    with transaction.atomic():
        action = CorrectiveAction.objects.select_for_update(no_key=True).get(pk=action.pk)
        if action.status != CorrectiveAction.Status.DONE:
            raise Conflict("Only an action marked done can be verified.", field="status")
        if action.coe.status == CorrectionOfError.Status.DRAFT:
            raise Conflict("Publish the Correction of Error before verifying its actions.", field="coe")
        action.status = CorrectiveAction.Status.VERIFIED
        action.verified_at, action.verified_by = timezone.now(), actor
        if _prose(note):
            action.note = _prose(note)
        action.save()
        audit.record(actor, "verify_corrective_action", action, authority=authority, service=action.coe.service,
                     summary=f"Verified a corrective action of “{action.coe.title}”", reason=_prose(note))
    return action


# ---------------------------------------------------------------- CoE reviews

def review_agenda():
    """Every published CoE not yet reviewed, oldest first: the agenda of a review until it is held."""
    return (CorrectionOfError.objects.filter(status=CorrectionOfError.Status.PUBLISHED)
            .select_related("service", "author").order_by("published_at", "pk"))


@refuses_null_characters
def schedule_coe_review(*, actor: Person, scheduled_for, title: str = "") -> CoEReview:
    authority = authorise(actor, "schedule_coe_review")
    errors = Errors()
    day = _date(errors, "scheduled_for", scheduled_for)
    title = _title(errors, title or (f"Review of Corrections of Error, {day:%-d %B %Y}" if day else ""))
    errors.raise_if_any()
    with transaction.atomic():
        review = CoEReview.objects.create(title=title, scheduled_for=day, scheduled_by=actor)
        managers = Person.objects.filter(pk__in=Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
                                         .filter(manager__isnull=False).values("manager_id"))
        notify(managers, f"{title}: every manager is welcome", reverse("learning:review", args=[review.pk]))
        audit.record(actor, "schedule_coe_review", review, authority=authority,
                     summary=f"Scheduled “{title}” for {day.isoformat()}")
    return review


def _coe_pk(value) -> int | None:
    if isinstance(value, CorrectionOfError):
        return value.pk
    try:
        return int(str(value).strip())
    except ValueError:
        return None


@refuses_null_characters
def hold_coe_review(*, actor: Person, review: CoEReview, notes: str = "", coe_notes: dict | None = None,
                    reviewed=None) -> CoEReview:
    """Record that the review was held: its notes, a note on each CoE discussed, and
    every CoE discussed marked reviewed. ``reviewed`` lists the CoEs gone through (by
    default the whole agenda); each must be on the agenda."""
    authority = authorise(actor, "hold_coe_review")
    errors = Errors()
    notes_by_pk: dict[int, str] = {}
    for key, text in (coe_notes or {}).items():
        pk = _coe_pk(key)
        if pk is None:
            errors.add("coe_notes", f"“{key}” is not a Correction of Error: key each note by its number.")
        elif _prose(text):
            notes_by_pk[pk] = _prose(text)
    coe_notes = notes_by_pk
    chosen_pks: list[int] | None = None
    if reviewed is not None:
        chosen_pks = []
        for item in reviewed:
            pk = _coe_pk(item)
            if pk is None:
                errors.add("reviewed", f"“{item}” is not a Correction of Error: choose them by their number.")
            elif pk not in chosen_pks:
                chosen_pks.append(pk)
    errors.raise_if_any()
    with transaction.atomic():
        review = _lock(CoEReview, review)
        if review.status != CoEReview.Status.SCHEDULED:
            raise Conflict("This review was held already; its record is fixed.", field="review")
        agenda = {c.pk: c for c in CorrectionOfError.objects.select_for_update(no_key=True)
                  .filter(status=CorrectionOfError.Status.PUBLISHED)}
        chosen = chosen_pks if chosen_pks is not None else list(agenda)
        off = [pk for pk in chosen if pk not in agenda]
        if off:
            errors.add("reviewed", ("One of the Corrections of Error chosen is" if len(off) == 1 else
                                    f"{len(off)} of the Corrections of Error chosen are") + " not on the agenda: "
                       "only published ones not yet reviewed are.")
        if not chosen and not off:
            errors.add("reviewed", "There is nothing on the agenda to review." if not agenda
                       else "Choose the Corrections of Error that were gone through.")
        stray = set(coe_notes) - set(chosen)
        if stray:
            errors.add("coe_notes", "Notes are kept only for Corrections of Error reviewed in this meeting.")
        errors.raise_if_any()
        now = timezone.now()
        for pk in chosen:
            coe = agenda[pk]
            coe.status, coe.review, coe.reviewed_at, coe.review_note = CorrectionOfError.Status.REVIEWED, review, now, coe_notes.get(pk, "")
            coe.revision += 1
        CorrectionOfError.objects.bulk_update([agenda[pk] for pk in chosen], ["status", "review", "reviewed_at",
                                                                             "review_note", "revision"])
        review.status, review.notes, review.held_at, review.held_by = CoEReview.Status.HELD, _prose(notes), now, actor
        review.save()
        authors = Person.objects.filter(pk__in=[agenda[pk].author_id for pk in chosen])
        notify(authors, f"Your Correction of Error was reviewed in “{review.title}”", reverse("learning:review", args=[review.pk]))
        audit.record(actor, "hold_coe_review", review, authority=authority,
                     summary=f"Held “{review.title}”: {len(chosen)} Correction{'s' if len(chosen) != 1 else ''} of Error reviewed",
                     after={"reviewed": sorted(chosen)})
    return review
