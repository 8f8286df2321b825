"""Finding needs that look alike: for demand management (which existing services could
meet these proposed needs?) and for the duplication finder (which services meet the
same need inside their own boundaries?), model 5.2 and 5.8.

A plain TF-IDF model over the current contracts, built in two queries: each service is
a document (its name, what it is, and its needs); each need is a document too. Scores
are cosine similarities; every match says which words made it.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import F

from osom.network.models import Need, Service
from osom.network.stages import Lifecycle

__all__ = ["tokens", "ServiceMatch", "NeedPair", "suggest_services", "find_duplicate_needs"]

_WORD = re.compile(r"[a-z0-9]+")

# Words that say nothing about what a need is about.
STOPWORDS = set("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each either every few for from further get gets getting had has
have having he her here hers him his how i if in into is it its itself just less like make makes many may me
might more most much must my need needs no nor not now of off on once one only or other our ours out over own
per same she should so some such than that the their theirs them then there these they this those through to too
under until up upon us use used uses using very want was we were what when where whether which while who whom
why will with within without would yes yet you your yours so-that able way ways sure know whose whom
""".split())


def _stem(word: str) -> str:
    """A light stem, enough that 'permits' meets 'permit' and 'booking' meets 'book'."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: len(word) - len(suffix)] + keep
            break
    return word


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall((text or "").lower()) if len(w) > 2 and w not in STOPWORDS]


class _Model:
    """TF-IDF vectors for a set of documents."""

    def __init__(self, docs: dict) -> None:
        self.counts = {key: Counter(toks) for key, toks in docs.items()}
        df: Counter = Counter()
        for counts in self.counts.values():
            df.update(counts.keys())
        n = max(len(self.counts), 1)
        self.idf = {term: math.log((1 + n) / (1 + d)) + 1.0 for term, d in df.items()}
        self.vectors = {key: self.vector(c) for key, c in self.counts.items()}

    def vector(self, counts: Counter) -> dict[str, float]:
        vec = {t: (1 + math.log(c)) * self.idf.get(t, math.log(1 + max(len(self.counts), 1)) + 1.0) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> tuple[float, list[str]]:
    if len(a) > len(b):
        a, b = b, a
    shared = [(t, a[t] * b[t]) for t in a if t in b]
    shared.sort(key=lambda x: -x[1])
    return sum(w for _, w in shared), [t for t, _ in shared]


def _need_text(as_a: str, i_need: str, so_that: str) -> str:
    # who has the need matters less than what it is: the activity and outcome count twice
    return f"{as_a} {i_need} {i_need} {so_that}"


@dataclass
class ServiceMatch:
    service: Service
    score: float
    words: list[str]  # the shared words that weigh most
    best_need: str = ""  # the service's need closest to what was proposed
    need_score: float = 0.0


def suggest_services(needs: list[dict], *, limit: int = 5, minimum: float = 0.08) -> list[ServiceMatch]:
    """Existing services whose needs or description match the proposed ``needs``
    (dicts with as_a, i_need, so_that), best first, each saying why."""
    services = {
        s.pk: s for s in Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
        .select_related("manager").only("pk", "name", "slug", "summary", "lifecycle_stage", "evolution_stage",
                                        "manager__name", "current_version_id")
    }
    need_rows = list(
        Need.objects.filter(version__service__current_version=F("version"), version__service_id__in=services.keys())
        .values_list("version__service_id", "as_a", "i_need", "so_that")
    )
    docs: dict[int, list[str]] = {pk: tokens(f"{s.name} {s.name} {s.summary}") for pk, s in services.items()}
    need_docs: dict[tuple[int, int], list[str]] = {}
    need_texts: dict[tuple[int, int], str] = {}
    for i, (pk, as_a, i_need, so_that) in enumerate(need_rows):
        toks = tokens(_need_text(as_a, i_need, so_that))
        docs[pk] = docs.get(pk, []) + toks
        need_docs[(pk, i)] = toks
        need_texts[(pk, i)] = f"As a {as_a}, I need {i_need} so that {so_that}"
    if not docs:
        return []
    model = _Model(docs)
    query = model.vector(Counter(tokens(" ".join(_need_text(n.get("as_a", ""), n.get("i_need", ""), n.get("so_that", ""))
                                                 for n in needs))))
    scored = []
    for pk, vec in model.vectors.items():
        score, words = _cosine(query, vec)
        if score >= minimum:
            scored.append(ServiceMatch(services[pk], round(score, 3), words[:6]))
    scored.sort(key=lambda m: (-m.score, m.service.name))
    scored = scored[:limit]
    by_service = defaultdict(list)
    for (pk, i), toks in need_docs.items():
        by_service[pk].append((i, toks))
    for match in scored:
        best = (0.0, "")
        for i, toks in by_service.get(match.service.pk, []):
            s, _ = _cosine(query, model.vector(Counter(toks)))
            if s > best[0]:
                best = (s, need_texts[(match.service.pk, i)])
        match.need_score, match.best_need = round(best[0], 3), best[1]
    return scored


@dataclass
class NeedPair:
    """Two needs of different services that look like the same need."""

    score: float
    words: list[str]
    first: dict = field(default_factory=dict)  # service, need text
    second: dict = field(default_factory=dict)


def find_duplicate_needs(*, threshold: float = 0.3, limit: int = 100, common_term_share: float = 0.02) -> list[NeedPair]:
    """Pairs of needs in different services that look alike: candidates for a shared
    service. Candidates come from an inverted index of the rarer words, so the work
    grows with the number of similar needs, not with the square of all of them."""
    rows = list(
        Need.objects.filter(version__service__current_version=F("version"))
        .exclude(version__service__lifecycle_stage=Lifecycle.DECOMMISSIONED)
        .values_list("pk", "version__service_id", "version__service__name", "version__service__slug",
                     "as_a", "i_need", "so_that")
    )
    docs = {r[0]: tokens(_need_text(r[4], r[5], r[6])) for r in rows}
    if len(docs) < 2:
        return []
    model = _Model(docs)
    info = {r[0]: r for r in rows}
    postings: dict[str, list[int]] = defaultdict(list)
    for pk, counts in model.counts.items():
        for term in counts:
            postings[term].append(pk)
    # a word in very many needs says little and would pair everything with everything;
    # but a need that four or five services share must still be seen
    too_common = max(25, min(2000, int(len(docs) * common_term_share)))
    candidates: Counter = Counter()
    for term, pks in postings.items():
        if len(pks) > too_common:
            continue
        for i, a in enumerate(pks):
            for b in pks[i + 1:]:
                if info[a][1] != info[b][1]:
                    candidates[(a, b) if a < b else (b, a)] += 1
    pairs = []
    for (a, b), shared in candidates.items():
        if shared < 2:
            continue
        score, words = _cosine(model.vectors[a], model.vectors[b])
        if score >= threshold:
            ra, rb = info[a], info[b]
            pairs.append(NeedPair(
                round(score, 3), words[:6],
                {"service": ra[2], "slug": ra[3], "need": f"As a {ra[4]}, I need {ra[5]} so that {ra[6]}", "need_id": a},
                {"service": rb[2], "slug": rb[3], "need": f"As a {rb[4]}, I need {rb[5]} so that {rb[6]}", "need_id": b},
            ))
    # a total order (ties broken by the needs' ids), so a list read in pages never repeats a pair
    pairs.sort(key=lambda p: (-p.score, p.first["service"], p.second["service"], p.first["need_id"], p.second["need_id"]))
    return pairs[:limit]
