"""The doctrine's pages (model 9): the forty patterns in the organisation's words, the
self-assessments against them — each round a coloured grid of forty cells, the evidence
behind it, the change since the round before and what to work on next — the page where a
respondent rates the patterns, and the network's heat map of services × patterns.

Every POST calls one action through :func:`osom.core.views.apply_action`: a role that
may not act gets the 403 page with the policy's sentence (checked before any form is
shown), bad input and conflicts come back on the fields they name, nothing is written.
Lists paginate and cost a fixed number of queries whatever their length."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_POST

from osom.core.addresses import address_maker
from osom.core.errors import DomainError, NotAllowed
from osom.core.policy import can, refusal
from osom.core.views import apply_action, forbidden
from osom.network.models import Service
from osom.network.stages import Lifecycle

from . import actions, queries
from .doctrine import PHASES
from .doctrine_forms import (
    HeatMapFilterForm,
    MeaningForm,
    RatingsForm,
    RoundFilterForm,
    RoundForm,
    evidence_field,
    rating_field,
)
from .models import DoctrinePattern, DoctrineRating, DoctrineRound, Rating

__all__ = [
    "LEGEND",
    "doctrine",
    "heat_map",
    "pattern_edit",
    "round_close",
    "round_new",
    "round_page",
    "round_rate",
    "rounds",
    "service_round_new",
]

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}

# The colours of a cell, in the order the legend reads, each with a sign that says the
# same thing as the colour (so it is never the only cue) and what it means.
LEGEND = [
    {"value": Rating.GOOD, "label": "Good", "sign": "✓", "says": "practised well, by most accounts"},
    {"value": Rating.PARTLY, "label": "Partly", "sign": "◐", "says": "practised in places, or only sometimes"},
    {"value": Rating.WEAK, "label": "Weak", "sign": "✕", "says": "hardly practised: a place to start"},
    {"value": Rating.UNKNOWN, "label": "Unknown", "sign": "?", "says": "nobody could say, or nobody rated it"},
]
SIGNS = {item["value"]: item["sign"] for item in LEGEND}
LABELS = {item["value"]: item["label"] for item in LEGEND}


def _posted(request):
    """The POST's data for a form, bound even when the POST is empty."""
    return request.POST if request.method == "POST" else None


def _page(request, qs, param: str = "page"):
    return Paginator(qs, settings.PAGE_SIZE).get_page(request.GET.get(param))


def _phases() -> list[dict]:
    return [{"number": n, "roman": ROMAN[n], "name": name} for n, name in PHASES.items()]


def _renaming(call, names: dict[str, str]):
    """Run ``call``; the fields its refusal names are renamed to the form's own ("" is
    the top of the form)."""
    def wrapped():
        try:
            return call()
        except NotAllowed:
            raise
        except DomainError as exc:
            renamed: dict[str, list[str]] = {}
            for key, texts in exc.errors.items():
                renamed.setdefault(names.get(key, key), []).extend(texts)
            exc.errors = renamed
            raise
    return wrapped


def _button(request, call, success, back: str):
    """A bare button (close a round): the refusal becomes a message or the 403 page."""
    ok, result = apply_action(request, None, call)
    if ok:
        messages.success(request, success(result) if callable(success) else success)
    elif result is not None:
        return result
    return redirect(back)


def _tally(counts: dict[str, int]) -> str:
    """“2 good, 1 partly”: the ratings behind a cell, in the legend's order."""
    parts = [f"{counts.get(item['value'], 0)} {item['label'].lower()}" for item in LEGEND if counts.get(item["value"])]
    return ", ".join(parts) if parts else "not rated"


def _dress(cell: dict) -> dict:
    """A cell of a round's grid with what the page writes about it."""
    cell["label"] = LABELS[cell["colour"]]
    cell["sign"] = SIGNS[cell["colour"]]
    cell["tally"] = _tally(cell["counts"])
    return cell


def _whose(rnd: DoctrineRound) -> str:
    return rnd.service.name if rnd.service_id else "the organisation"


# ---------------------------------------------------------------- the doctrine

def _latest_organisation_round() -> DoctrineRound | None:
    """The organisation's self-assessment that stands: its latest closed one, or the
    latest with ratings while none is closed."""
    return queries.standing_round(None)


def doctrine(request):
    """The forty patterns by group and phase, each with its meaning in the organisation's
    words; coloured by the organisation's latest self-assessment when there is one."""
    layout = queries.patterns_by_cell()
    latest = _latest_organisation_round()
    cells = queries.round_cells(latest) if latest else {}
    empty = {"counts": {}, "colour": Rating.UNKNOWN, "respondents": 0, "evidence": []}
    for row in layout:
        for column in row["phases"]:
            column["cells"] = [{"pattern": p, **_dress({**empty, **cells.get(p.pk, {})})} for p in column["patterns"]]
    open_round = DoctrineRound.objects.filter(service__isnull=True, status=DoctrineRound.Status.OPEN).first()
    return render(request, "learning/doctrine/doctrine.html", {
        "nav": "doctrine", "sub": "doctrine", "grid": layout, "phases": _phases(), "latest": latest,
        "legend": LEGEND, "may_edit": can(request.user, "edit_doctrine_meaning"),
        "open_round": open_round,
        "may_rate_open": open_round is not None and can(request.user, "rate_organisation_doctrine"),
    })


def pattern_edit(request, slug: str):
    """The executive puts a pattern's meaning in the organisation's own words."""
    pattern = get_object_or_404(DoctrinePattern, slug=slug)
    if refused := refusal(request.user, "edit_doctrine_meaning"):
        return forbidden(request, refused)
    form = MeaningForm(_posted(request), initial={"meaning": pattern.meaning, "revision": pattern.revision})
    if request.method == "POST":
        ok, result = apply_action(request, form, lambda: actions.edit_doctrine_meaning(
            actor=request.user, pattern=pattern, meaning=form.cleaned_data.get("meaning", ""),
            expected_revision=form.cleaned_data.get("revision")))
        if ok:
            messages.success(request, f"Saved the organisation's meaning of “{result.name}”.")
            return redirect(f"{reverse('learning:doctrine')}#pattern-{result.slug}")
        if result is not None:
            return result
    return render(request, "learning/doctrine/pattern_form.html", {
        "nav": "doctrine", "sub": "doctrine", "form": form, "pattern": pattern,
        "phase": {"roman": ROMAN[pattern.phase], "name": PHASES[pattern.phase]},
    })


# ---------------------------------------------------------------- rounds

def _strips(rounds: list[DoctrineRound]) -> None:
    """Give each round its forty colours in the table's order (``round.strip``): two
    queries for the whole page of rounds."""
    patterns = list(DoctrinePattern.objects.only("pk", "name", "position"))
    counts: dict[int, dict[int, dict[str, int]]] = {}
    rows = (DoctrineRating.objects.filter(round_id__in=[r.pk for r in rounds])
            .values("round_id", "pattern_id", "rating").annotate(n=Count("pk")))
    for row in rows:
        counts.setdefault(row["round_id"], {}).setdefault(row["pattern_id"], {})[row["rating"]] = row["n"]
    for rnd in rounds:
        mine = counts.get(rnd.pk, {})
        rnd.strip = []
        for p in patterns:
            colour = queries.cell_colour(r for r, n in mine.get(p.pk, {}).items() for _ in range(n))
            rnd.strip.append({"pattern": p, "colour": colour, "label": LABELS[colour]})
        rnd.tallies = {item["value"]: sum(1 for c in rnd.strip if c["colour"] == item["value"]) for item in LEGEND}


def rounds(request):
    """Every self-assessment, of services and of the organisation, newest first; each
    with its forty colours as a strip."""
    form = RoundFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = (DoctrineRound.objects.select_related("service", "opened_by")
          .annotate(respondents=Count("ratings__respondent", distinct=True)))
    if filters.get("scope") == "organisation":
        qs = qs.filter(service__isnull=True)
    elif filters.get("scope") == "services":
        qs = qs.filter(service__isnull=False)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    page = _page(request, qs.order_by("-opened_at", "-pk"))
    page.object_list = list(page.object_list)
    _strips(page.object_list)
    user = request.user
    managed = [s for s in Service.objects.filter(manager=user).exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
               .only("pk", "name", "slug", "manager_id").order_by("name")
               if can(user, "open_doctrine_round", service=s)]
    return render(request, "learning/doctrine/rounds.html", {
        "nav": "doctrine", "sub": "rounds", "form": form, "page": page, "filtered": any(filters.values()),
        "may_open_organisation": can(user, "open_doctrine_round"), "managed": managed, "legend": LEGEND,
    })


def _round_form_page(request, service: Service | None):
    form = RoundForm(_posted(request))
    if request.method == "POST":
        ok, result = apply_action(request, form, _renaming(lambda: actions.open_doctrine_round(
            actor=request.user, service=service, title=form.cleaned_data.get("title", "")), {"service": ""}))
        if ok:
            messages.success(request, f"Opened “{result.title}”. "
                             f"{'Its manager and team have' if service else 'Everyone has'} been asked to rate the forty patterns.")
            return redirect("learning:round", pk=result.pk)
        if result is not None:
            return result
    return render(request, "learning/doctrine/round_form.html", {
        "nav": "doctrine", "sub": "rounds", "form": form, "service": service})


def round_new(request):
    """The executive opens a self-assessment of the whole organisation."""
    if refused := refusal(request.user, "open_doctrine_round"):
        return forbidden(request, refused)
    return _round_form_page(request, None)


def service_round_new(request, slug: str):
    """A service's manager (or the executive) opens a self-assessment of the service."""
    service = get_object_or_404(Service.objects.select_related("manager"), slug=slug)
    if refused := refusal(request.user, "open_doctrine_round", service=service):
        return forbidden(request, refused)
    return _round_form_page(request, service)


def _round(pk: int) -> DoctrineRound:
    return get_object_or_404(DoctrineRound.objects.select_related("service__manager", "opened_by"), pk=pk)


def _rate_act(rnd: DoctrineRound) -> str:
    return "rate_doctrine" if rnd.service_id else "rate_organisation_doctrine"


def round_page(request, pk: int):
    """A self-assessment as a picture: the forty cells by group and phase, coloured by
    what the respondents said; the evidence they gave; what changed since the round
    before; what to work on next, earliest phase first."""
    rnd = _round(pk)
    user = request.user
    grid = queries.round_grid(rnd)
    cells = []
    for row in grid:
        for column in row["phases"]:
            for cell in column["cells"]:
                cells.append(_dress(cell))
    before = queries.previous_round(rnd)
    changes = queries.round_change(rnd, before) if before else []
    for change in changes:
        change["before_label"], change["after_label"] = LABELS[change["before"]], LABELS[change["after"]]
    totals = {item["value"]: 0 for item in LEGEND}
    for cell in cells:
        totals[cell["colour"]] += 1
    legend = [{**item, "count": totals[item["value"]]} for item in LEGEND]
    return render(request, "learning/doctrine/round.html", {
        "nav": "doctrine", "sub": "rounds", "round": rnd, "whose": _whose(rnd), "grid": grid, "phases": _phases(),
        "legend": legend,
        "evidence": [c for c in cells if c["evidence"]],
        "respondents": rnd.ratings.values("respondent").distinct().count(),
        "mine": rnd.ratings.filter(respondent=user).count(),
        "before": before, "changes": changes,
        "better": sum(1 for c in changes if c["direction"] == "better"),
        "worse": sum(1 for c in changes if c["direction"] == "worse"),
        "todo": [{**t, "label": LABELS[t["colour"]], "sign": SIGNS[t["colour"]], "roman": ROMAN[t["pattern"].phase]}
                 for t in queries.work_on_next(rnd)],
        "may_rate": rnd.is_open and can(user, _rate_act(rnd), service=rnd.service),
        "may_close": rnd.is_open and can(user, "close_doctrine_round", service=rnd.service),
    })


def round_rate(request, pk: int):
    """The signed-in respondent rates all forty patterns, each with optional evidence,
    their earlier answers filled in; only what is new or changed is recorded."""
    rnd = _round(pk)
    if refused := refusal(request.user, _rate_act(rnd), service=rnd.service):
        return forbidden(request, refused)
    if not rnd.is_open:
        messages.warning(request, "This self-assessment is closed; it takes no more ratings.")
        return redirect("learning:round", pk=rnd.pk)
    patterns = list(DoctrinePattern.objects.all())
    earlier = {r.pattern_id: r for r in DoctrineRating.objects.filter(round=rnd, respondent=request.user)}
    form = RatingsForm(_posted(request), patterns=patterns, earlier=earlier)
    if request.method == "POST" and form.is_valid():
        ratings, slugs = form.changed_ratings()
        if not ratings and earlier:
            messages.info(request, "Nothing changed: your ratings are as they were.")
            return redirect("learning:round", pk=rnd.pk)
        names = {"ratings": ""}
        for i, slug in enumerate(slugs):
            names.update({f"ratings[{i}].rating": rating_field(slug), f"ratings[{i}].evidence": evidence_field(slug),
                          f"ratings[{i}].pattern": ""})
        ok, result = apply_action(request, form, _renaming(
            lambda: actions.rate_doctrine(actor=request.user, round=rnd, ratings=ratings), names))
        if ok:
            messages.success(request, f"Saved {result} rating{'s' if result != 1 else ''}. Thank you.")
            return redirect("learning:round", pk=rnd.pk)
        if result is not None:
            return result
    sections = form.rows(queries.patterns_by_cell())
    for section in sections:
        for item in section["items"]:
            item["roman"] = ROMAN[item["pattern"].phase]
    return render(request, "learning/doctrine/rate.html", {
        "nav": "doctrine", "sub": "rounds", "round": rnd, "whose": _whose(rnd), "form": form,
        "sections": sections, "legend": LEGEND, "earlier": len(earlier),
    })


@require_POST
def round_close(request, pk: int):
    rnd = _round(pk)
    return _button(request, lambda: actions.close_doctrine_round(actor=request.user, round=rnd),
                   "Closed the self-assessment. Its grid is now final.", reverse("learning:round", args=[pk]))


# ---------------------------------------------------------------- the heat map

class _HeatCells:
    """A row of the heat map's cells as HTML, for a page of fifty rows by forty patterns:
    two thousand cells, which the template engine took about 35 ms to draw at five
    variable look-ups a cell. Each cell is its colour's opening, the service's name and
    its pattern's and colour's ending, all escaped: each pattern's and colour's once a
    page, each service's once a row."""

    def __init__(self, patterns):
        self.heads = {}
        tails = [{} for _ in patterns]
        for value, label in LABELS.items():
            colour, label = escape(value), escape(label)
            self.heads[value] = (f'<td class="lg-heat__cell"><span class="lg-sq lg-sq--{colour}" '
                                 f'data-colour="{colour}" title="')
            for tail, pattern in zip(tails, patterns):
                tail[value] = (f', {escape(pattern.name)}: {label}">'
                               f'<span class="visually-hidden">{label}</span></span></td>')
        self.tails = tails

    def __call__(self, service_name: str, colours: list[str]) -> SafeString:
        service, heads = escape(service_name), self.heads
        # every piece escaped above
        return mark_safe("".join([heads[c] + service + tail[c] for tail, c in zip(self.tails, colours)]))


def heat_map(request):
    """Running services × the forty patterns, each service coloured by its latest
    self-assessment: where the network is strong and weak at a glance."""
    stages = [c for c in Lifecycle.choices if c[0] != Lifecycle.DECOMMISSIONED]
    form = HeatMapFilterForm(request.GET or None, stages=stages)
    stage = form.cleaned_data.get("stage") if form.is_valid() else ""
    qs = (Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED)
          .only("pk", "name", "slug", "lifecycle_stage", "manager_id").order_by("name", "pk"))
    if stage:
        qs = qs.filter(lifecycle_stage=stage)
    page = _page(request, qs)
    data = queries.heat_map(page.object_list)
    patterns = data["patterns"]
    groups: list[dict] = []
    for p in patterns:
        if groups and groups[-1]["name"] == p.group:
            groups[-1]["span"] += 1
        else:
            groups.append({"name": p.group, "span": 1})
    cell_of = _HeatCells(patterns)
    round_address = address_maker("learning:round")
    opening_address = address_maker("learning:service_round_new", slug=True)
    user = request.user
    # a round opened but not yet rated: say so, rather than offer to open another
    opened = dict(DoctrineRound.objects.filter(service_id__in=[r["service"].pk for r in data["rows"]],
                                               status=DoctrineRound.Status.OPEN).values_list("service_id", "pk"))
    rows = []
    for row in data["rows"]:
        service = row["service"]
        open_round = opened.get(service.pk)
        linked = row["round_id"] or open_round  # the round that colours the row, else the one under way
        may_open = (row["round_id"] is None and open_round is None
                    and can(user, "open_doctrine_round", service=service))
        rows.append({
            "service": service, "round_id": row["round_id"], "cells": cell_of(service.name, row["cells"]),
            "tallies": {item["value"]: row["cells"].count(item["value"]) for item in LEGEND},
            "open_round": open_round, "may_open": may_open,
            "round_address": round_address(linked) if linked else "",
            "opening_address": opening_address(service.slug) if may_open else "",
        })
    return render(request, "learning/doctrine/heat_map.html", {
        "nav": "doctrine", "sub": "heat_map", "form": form, "page": page, "rows": rows, "patterns": patterns,
        "groups": groups, "legend": LEGEND, "filtered": bool(stage),
        "assessed": sum(1 for r in rows if r["round_id"]),
    })
