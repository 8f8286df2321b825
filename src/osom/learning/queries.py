"""What the learning loop reads: the colour of a doctrine cell from its ratings, a
round's grid, the network heat map, the change between rounds and what to work on next;
the Correction of Error library and the learning figures; the coverage of professions by
communities of practice. Each runs a fixed number of queries, whatever the size of the
organisation."""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Case, Count, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from osom.network.models import Service, TeamMembership
from osom.network.stages import Lifecycle

from .doctrine import GROUPS, PHASES
from .models import (
    Community,
    CorrectionOfError,
    CorrectiveAction,
    DoctrinePattern,
    DoctrineRating,
    DoctrineRound,
    OpenRole,
    Rating,
)

__all__ = [
    "SCORES",
    "cell_colour",
    "coe_library",
    "coverage",
    "guidance_seed",
    "heat_map",
    "learning_figures",
    "open_roles_for",
    "overdue_actions",
    "patterns_by_cell",
    "previous_round",
    "repeated_problems",
    "round_cells",
    "round_change",
    "round_grid",
    "standing_round",
    "standing_rounds",
    "work_on_next",
]

# A cell's colour: the mean of the known ratings, good = 2, partly = 1, weak = 0.
# Above 1.5 is good, above 0.5 partly, else weak: a mean exactly on a boundary takes the
# more cautious colour, so one "good" and one "partly" make "partly". Unknown ratings
# count for nothing; a cell rated only "unknown", or not at all, is unknown.
SCORES = {Rating.GOOD: 2, Rating.PARTLY: 1, Rating.WEAK: 0}
ORDER = {Rating.WEAK: 0, Rating.PARTLY: 1, Rating.UNKNOWN: 2, Rating.GOOD: 3}


def cell_colour(ratings: Iterable[str]) -> str:
    known = [SCORES[r] for r in ratings if r in SCORES]
    if not known:
        return Rating.UNKNOWN
    mean = sum(known) / len(known)
    if mean > 1.5:
        return Rating.GOOD
    if mean > 0.5:
        return Rating.PARTLY
    return Rating.WEAK


def _colour_from_counts(counts: dict[str, int]) -> str:
    return cell_colour(r for r, n in counts.items() for _ in range(n))


def patterns_by_cell() -> list[dict]:
    """The table's layout: a row per group, a column per phase, each cell the patterns
    placed there, in the table's order."""
    cells: dict[tuple[str, int], list] = defaultdict(list)
    for pattern in DoctrinePattern.objects.all():
        cells[(pattern.group, pattern.phase)].append(pattern)
    return [{"group": g, "phases": [{"phase": p, "patterns": cells[(g, p)]} for p in PHASES]} for g in GROUPS]


def round_cells(rnd: DoctrineRound) -> dict[int, dict]:
    """For each pattern of a round: its colour, the count of each rating, and the
    evidence given. One query."""
    cells: dict[int, dict] = defaultdict(lambda: {"counts": {r: 0 for r in Rating.values}, "evidence": []})
    for r in DoctrineRating.objects.filter(round=rnd).select_related("respondent").order_by("pattern_id", "rated_at"):
        cell = cells[r.pattern_id]
        cell["counts"][r.rating] += 1
        if r.evidence:
            cell["evidence"].append({"by": r.respondent.name, "rating": r.rating, "text": r.evidence})
    out = {}
    for pk, cell in cells.items():
        out[pk] = {**cell, "colour": _colour_from_counts(cell["counts"]), "respondents": sum(cell["counts"].values())}
    return out


def round_grid(rnd: DoctrineRound) -> list[dict]:
    """The forty cells of a round laid out by group and phase, each with its colour."""
    cells = round_cells(rnd)
    empty = {"counts": {r: 0 for r in Rating.values}, "evidence": [], "colour": Rating.UNKNOWN, "respondents": 0}
    layout = patterns_by_cell()
    for row in layout:
        for column in row["phases"]:
            column["cells"] = [{"pattern": p, **cells.get(p.pk, empty)} for p in column["patterns"]]
    return layout


def previous_round(rnd: DoctrineRound) -> DoctrineRound | None:
    """The last round of the same service (or of the organisation) opened before this one."""
    return (DoctrineRound.objects.filter(service_id=rnd.service_id)
            .filter(Q(opened_at__lt=rnd.opened_at) | Q(opened_at=rnd.opened_at, pk__lt=rnd.pk))
            .order_by("-opened_at", "-pk").first())


def round_change(rnd: DoctrineRound, before: DoctrineRound | None = None) -> list[dict]:
    """Each pattern whose colour changed since the previous round: from, to, and whether
    it is better or worse. Empty when there is no previous round."""
    before = before or previous_round(rnd)
    if before is None:
        return []
    now, then = round_cells(rnd), round_cells(before)
    rank = {Rating.WEAK: 0, Rating.PARTLY: 1, Rating.GOOD: 2}
    changes = []
    for pattern in DoctrinePattern.objects.all():
        a = then.get(pattern.pk, {}).get("colour", Rating.UNKNOWN)
        b = now.get(pattern.pk, {}).get("colour", Rating.UNKNOWN)
        if a == b:
            continue
        direction = "better" if a in rank and b in rank and rank[b] > rank[a] else (
            "worse" if a in rank and b in rank else "known" if b in rank else "unknown")
        changes.append({"pattern": pattern, "before": a, "after": b, "direction": direction})
    return changes


def work_on_next(rnd: DoctrineRound, limit: int = 10) -> list[dict]:
    """The weak and partly patterns of a round, earliest phase first (stop self-harm
    before anything else), weak before partly, in the table's order."""
    cells = round_cells(rnd)
    todo = []
    for pattern in DoctrinePattern.objects.all():
        colour = cells.get(pattern.pk, {}).get("colour", Rating.UNKNOWN)
        if colour in (Rating.WEAK, Rating.PARTLY):
            todo.append({"pattern": pattern, "colour": colour})
    todo.sort(key=lambda t: (t["pattern"].phase, ORDER[t["colour"]], t["pattern"].position))
    return todo[:limit]


def standing_rounds():
    """Rounds ordered so the first of a scope is the one that stands for it: the latest
    closed round, or while none is closed, the latest round with ratings. A round still
    being rated does not replace a finished one on the heat map or the doctrine page."""
    return (DoctrineRound.objects.filter(ratings__isnull=False)
            .annotate(finished=Case(When(status=DoctrineRound.Status.CLOSED, then=Value(1)), default=Value(0)))
            .order_by("-finished", "-opened_at", "-pk"))


def standing_round(service=None) -> DoctrineRound | None:
    """The round that stands for a service, or for the organisation when ``service`` is None."""
    return standing_rounds().filter(service=service).first()


def heat_map(services) -> dict:
    """Services × patterns, each service coloured by the round that stands for it (see
    :func:`standing_rounds`). ``services`` is a page of services; three queries whatever
    its length."""
    services = list(services)
    latest = standing_rounds().filter(service=OuterRef("pk")).values("pk")[:1]
    round_of = dict(Service.objects.filter(pk__in=[s.pk for s in services]).annotate(r=Subquery(latest))
                    .values_list("pk", "r"))
    counts: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    rows = (DoctrineRating.objects.filter(round_id__in=[r for r in round_of.values() if r])
            .values("round_id", "pattern_id", "rating").annotate(n=Count("pk")))
    for row in rows:
        counts[row["round_id"]][row["pattern_id"]][row["rating"]] += row["n"]
    patterns = list(DoctrinePattern.objects.all())
    out_rows = []
    for service in services:
        r = round_of.get(service.pk)
        cells = [_colour_from_counts(counts[r][p.pk]) if r else Rating.UNKNOWN for p in patterns]
        out_rows.append({"service": service, "round_id": r, "cells": cells})
    return {"patterns": patterns, "rows": out_rows}


# ---------------------------------------------------------------- Corrections of Error

def coe_library(*, q: str = "", service: str = "", pattern: str = "", effect: str = "", status: str = "",
                viewer=None):
    """Published and reviewed CoEs, searchable by service, pattern and text; drafts only
    for those who may see them (their service's manager and team)."""
    qs = CorrectionOfError.objects.select_related("service", "author")
    visible = ~Q(status=CorrectionOfError.Status.DRAFT)
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        visible |= Q(service__manager=viewer) | Q(service__team__person=viewer, service__team__ended_at__isnull=True)
    qs = qs.filter(visible)
    if service:
        qs = qs.filter(service__slug=service)
    if pattern:
        match = Q(pattern_effects__pattern__slug=pattern)
        if effect:
            match &= Q(pattern_effects__effect=effect)
        qs = qs.filter(match)
    if status:
        qs = qs.filter(status=status)
    for word in q.split():
        qs = qs.filter(Q(title__icontains=word) | Q(problem__icontains=word) | Q(root_cause__icontains=word)
                       | Q(lessons__icontains=word) | Q(impact__icontains=word))
    return qs.distinct().order_by("-occurred_on", "-pk")


STOP_WORDS = {
    "a", "an", "and", "are", "as", "at", "be", "because", "been", "but", "by", "did", "do", "does", "for",
    "from", "had", "has", "have", "in", "into", "is", "it", "its", "not", "of", "on", "or", "our", "so", "that",
    "the", "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when",
    "which", "while", "who", "why", "will", "with", "without", "would", "your",
}


def _fold(word: str) -> str:
    """A word folded a little, so its plural and its -ing and -ed forms match it:
    "certificate", "certificates" and "certificated" all become "certificat"."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    for ending in ("ing", "ed"):
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _words(text: str) -> set[str]:
    """Significant words of a root cause, folded a little (plurals and -ing/-ed endings)."""
    return {_fold(word) for word in re.findall(r"[a-z0-9]+", (text or "").lower())
            if len(word) >= 3 and word not in STOP_WORDS}


SIMILAR = 0.4  # two root causes are similar when they share this share of their significant words (Jaccard)


def similarity(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def _root(parent: list[int], i: int) -> int:
    """The representative of ``i``'s group (union-find, halving the path as it goes)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def repeated_problems(service_ids: Iterable[int] | None = None) -> list[dict]:
    """Problems that repeat: published CoEs of one service whose root causes are similar
    (at least :data:`SIMILAR` of their significant words shared). Each group names the
    service and its CoEs, earliest first."""
    qs = CorrectionOfError.objects.exclude(status=CorrectionOfError.Status.DRAFT).select_related("service")
    if service_ids is not None:
        qs = qs.filter(service_id__in=list(service_ids))
    by_service: dict[int, list[CorrectionOfError]] = defaultdict(list)
    for coe in qs.order_by("service_id", "occurred_on", "pk").only("pk", "title", "root_cause", "occurred_on", "service__name",
                                                                 "service__slug", "service_id", "status"):
        by_service[coe.service_id].append(coe)
    groups = []
    for coes in by_service.values():
        if len(coes) < 2:
            continue
        parent = list(range(len(coes)))
        words = [_words(c.root_cause) for c in coes]
        for i in range(len(coes)):
            for j in range(i + 1, len(coes)):
                if words[i] and words[j] and len(words[i] & words[j]) / len(words[i] | words[j]) >= SIMILAR:
                    parent[_root(parent, j)] = _root(parent, i)
        clusters: dict[int, list] = defaultdict(list)
        for i, coe in enumerate(coes):
            clusters[_root(parent, i)].append(coe)
        for members in clusters.values():
            if len(members) > 1:
                shared = set.intersection(*(_words(c.root_cause) for c in members))
                groups.append({"service": members[0].service, "coes": members, "shared_words": sorted(shared)})
    groups.sort(key=lambda g: (-len(g["coes"]), g["service"].name))
    return groups


def learning_figures(*, today: dt.date | None = None, service: Service | None = None) -> dict:
    """The figures the executive watches (model 11): the median days to close a
    corrective action (done or verified), the share closed by the due date agreed when
    they were published (moving a due date later does not make a late action on time), the open
    actions past due, and the problems that repeat. Actions of draft CoEs are not counted."""
    today = today or timezone.localdate()
    actions = CorrectiveAction.objects.exclude(coe__status=CorrectionOfError.Status.DRAFT)
    if service is not None:
        actions = actions.filter(coe__service=service)
    closed = list(actions.filter(status__in=[CorrectiveAction.Status.DONE, CorrectiveAction.Status.VERIFIED],
                                 done_at__isnull=False).values_list("created_at", "done_at", "agreed_due_date", "due_date"))
    days = [max((done - created).total_seconds(), 0) / 86400 for created, done, _, _ in closed]
    on_time = sum(1 for _, done, agreed, due in closed if timezone.localdate(done) <= (agreed or due))
    overdue = actions.filter(status=CorrectiveAction.Status.OPEN, due_date__lt=today)
    return {
        "closed": len(closed),
        "median_days_to_close": round(statistics.median(days), 1) if days else None,
        "closed_on_time": on_time,
        "share_on_time": round(100 * on_time / len(closed)) if closed else None,
        "open": actions.filter(status=CorrectiveAction.Status.OPEN).count(),
        "open_overdue": overdue.count(),
        "dropped": actions.filter(status=CorrectiveAction.Status.DROPPED).count(),
        "repeated": repeated_problems([service.pk] if service is not None else None),
        "unreviewed": CorrectionOfError.objects.filter(status=CorrectionOfError.Status.PUBLISHED,
                                                       **({"service": service} if service else {})).count(),
    }


def guidance_seed(coe: CorrectionOfError) -> tuple[str, str]:
    """What guidance drawn from a CoE starts from: a title after it, and as its body the
    lessons learned and the trade-offs to avoid."""
    parts = [f"**{heading}**\n\n{text.strip()}" for heading, text in (
        ("Lessons learned", coe.lessons), ("Trade-offs to avoid", coe.trade_offs_to_avoid)) if text.strip()]
    body = "\n\n".join(parts) or f"What every service can learn from “{coe.title}” ({coe.service.name})."
    return f"Learning from “{coe.title}”"[:200], body


def overdue_actions(*, person=None, services=None, limit: int = 50):
    """Open corrective actions past their due date, of published CoEs: all of them, or
    those a person owns or their services hold."""
    qs = (CorrectiveAction.objects.filter(status=CorrectiveAction.Status.OPEN, due_date__lt=timezone.localdate())
          .exclude(coe__status=CorrectionOfError.Status.DRAFT).select_related("coe__service", "owner"))
    if person is not None or services is not None:
        match = Q()
        if person is not None:
            match |= Q(owner=person)
        if services is not None:
            # the CoEs of the services first, as a list of ids the actions' own column is
            # checked against: with an owner beside it, naming the CoEs' services through
            # the join made PostgreSQL read every CoE to keep a handful of actions
            match |= Q(coe__in=CorrectionOfError.objects.filter(service__in=services).values("pk"))
        qs = qs.filter(match)
    return qs.order_by("due_date", "pk")[:limit]


# ---------------------------------------------------------------- communities of practice

def coverage() -> list[dict]:
    """Each profession present in service teams today, with its practitioners and
    services, against the communities gathering it: the executive aims for every
    profession to have an endorsed community."""
    present = (TeamMembership.objects.filter(ended_at__isnull=True)
               .exclude(service__lifecycle_stage=Lifecycle.DECOMMISSIONED).values("role__job_family")
               .annotate(people=Count("person", distinct=True), services=Count("service", distinct=True)))
    communities: dict[str, list[Community]] = defaultdict(list)
    for community in Community.objects.all():
        communities[community.profession].append(community)
    rows = []
    for row in present:
        profession = row["role__job_family"]
        found = communities.get(profession, [])
        endorsed = [c for c in found if c.status == Community.Status.ENDORSED]
        rows.append({"profession": profession, "people": row["people"], "services": row["services"], "communities": found,
                     "state": "endorsed" if endorsed else ("forming" if found else "none")})
    rows.sort(key=lambda r: ({"none": 0, "forming": 1, "endorsed": 2}[r["state"]], -r["people"], r["profession"]))
    return rows


def open_roles_for(person) -> list[OpenRole]:
    """Open roles in the professions a person practises: those of the communities they
    belong to and of their roles in service teams."""
    mine = set(person.community_memberships.filter(left_at__isnull=True).values_list("community__profession", flat=True))
    mine |= set(TeamMembership.objects.filter(person=person, ended_at__isnull=True).values_list("role__job_family", flat=True))
    return list(OpenRole.objects.filter(status=OpenRole.Status.OPEN, role__job_family__in=mine)
                .exclude(service__lifecycle_stage=Lifecycle.DECOMMISSIONED)  # nobody joins a service that has gone
                .select_related("service", "role").order_by("-posted_at")[:50])
