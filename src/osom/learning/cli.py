"""``osom`` commands for the learning loop. Nothing of Django is imported at the top: the
parser is built before Django is set up.

- ``osom doctrine patterns [--group G] [--phase N]``: the forty patterns and their meanings
- ``osom doctrine rounds [--service SLUG | --organisation] [--status S]``: the self-assessments
- ``osom doctrine grid [ROUND] [--service SLUG] [--patterns]``: a round's grid, groups × phases
- ``osom doctrine heat-map [--stage S] [--rated]``: services × patterns
- ``osom doctrine open [--service SLUG] [--title T] --as EMAIL``: open a self-assessment
- ``osom doctrine rate ROUND PATTERN=RATING… [--evidence PATTERN=TEXT…] --as EMAIL``: rate patterns
- ``osom doctrine close ROUND --as EMAIL``: close a self-assessment
- ``osom coes [WORDS…] [--service] [--pattern] [--effect] [--status] [--as EMAIL]``: the CoE library
- ``osom coe ID [--as EMAIL]``: one Correction of Error in full
- ``osom coe-action ID open|done|verified|dropped [--note] [--due] --as EMAIL``: update a corrective action
- ``osom coe-review list|agenda|show|schedule|hold``: the executive's reviews
- ``osom learning [--service SLUG]``: the learning figures
- ``osom communities [--profession P] [--status S]``: communities of practice and coverage
- ``osom community ID [join|leave] [--as EMAIL]``: one community; join or leave it

Writes act as the person named by ``--as`` through the actions, so they are checked and
audited like any other; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

__all__ = ["LETTERS", "register"]

# The models' choices, repeated here so the parser needs no Django (a test keeps them equal).
GROUPS = ["communication", "development", "operation", "structure", "learning", "leading"]
RATINGS = ["good", "partly", "weak", "unknown"]
ROUND_STATUSES = ["open", "closed"]
COE_STATUSES = ["draft", "published", "reviewed"]
EFFECTS = ["helped", "hurt"]
ACTION_STATUSES = ["open", "done", "verified", "dropped"]
REVIEW_STATUSES = ["scheduled", "held"]
COMMUNITY_STATUSES = ["forming", "endorsed"]
STAGES = ["discovery", "alpha", "beta", "live"]

# One letter per colour of a doctrine cell, the same in the grid and the heat map.
LETTERS = {"good": "G", "partly": "P", "weak": "W", "unknown": "?"}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_LEGEND = "G good  P partly  W weak  ? unknown"


def register(sub) -> None:
    """Add this app's subcommands to the ``osom`` parser."""
    p = sub.add_parser("doctrine", help="the doctrine's patterns, self-assessments against them and the heat map")
    acts = p.add_subparsers(dest="doctrine_command", required=True, metavar="ACTION")
    q = acts.add_parser("patterns", help="the forty patterns by group and phase, with the organisation's meanings")
    q.add_argument("--group", choices=GROUPS)
    q.add_argument("--phase", type=int, choices=[1, 2, 3, 4])
    q.set_defaults(func=cmd_doctrine_patterns)
    q = acts.add_parser("rounds", help="the self-assessments, the newest first")
    whose = q.add_mutually_exclusive_group()
    whose.add_argument("--service", metavar="SLUG", help="only this service's")
    whose.add_argument("--organisation", action="store_true", help="only the whole organisation's")
    q.add_argument("--status", choices=ROUND_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_doctrine_rounds)
    q = acts.add_parser("grid", help="a self-assessment as a grid: groups × phases, a letter per pattern")
    q.add_argument("round", type=int, nargs="?", help="the round's id (default: the latest, see `osom doctrine rounds`)")
    q.add_argument("--service", metavar="SLUG", help="the latest round of this service (default: the organisation's)")
    q.add_argument("--patterns", action="store_true", help="also list every pattern with its ratings")
    q.set_defaults(func=cmd_doctrine_grid)
    q = acts.add_parser("heat-map", help="running services × the forty patterns, by each service's latest round")
    q.add_argument("--stage", choices=STAGES)
    q.add_argument("--rated", action="store_true", help="only the services that have rated themselves")
    q.add_argument("--limit", type=int, default=50, help="at most this many services (default 50)")
    q.set_defaults(func=cmd_doctrine_heat_map)
    q = acts.add_parser("open", help="open a self-assessment of a service, or of the organisation")
    q.add_argument("--service", metavar="SLUG", help="the service assessed (default: the whole organisation)")
    q.add_argument("--title", default="")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who opens it")
    q.set_defaults(func=cmd_doctrine_open)
    q = acts.add_parser("rate", help="rate patterns in a self-assessment: PATTERN=good|partly|weak|unknown")
    q.add_argument("round", type=int, help="the round's id")
    q.add_argument("ratings", nargs="+", metavar="PATTERN=RATING", help="e.g. know-your-users=good")
    q.add_argument("--evidence", action="append", default=[], metavar="PATTERN=TEXT",
                   help="what a rating rests on (repeat for each pattern)")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who rates")
    q.set_defaults(func=cmd_doctrine_rate)
    q = acts.add_parser("close", help="close a self-assessment: it takes no more ratings")
    q.add_argument("round", type=int, help="the round's id")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who closes it")
    q.set_defaults(func=cmd_doctrine_close)

    p = sub.add_parser("coes", help="the library of Corrections of Error, searchable")
    p.add_argument("words", nargs="*", help="words in the title, problem, impact, root cause or lessons")
    p.add_argument("--service", metavar="SLUG")
    p.add_argument("--pattern", metavar="SLUG", help="a doctrine pattern tagged on it")
    p.add_argument("--effect", choices=EFFECTS, help="with --pattern: where it helped, or where it hurt")
    p.add_argument("--status", choices=COE_STATUSES)
    p.add_argument("--as", dest="as_email", metavar="EMAIL", help="also the drafts this person may read")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_coes)

    p = sub.add_parser("coe", help="one Correction of Error in full")
    p.add_argument("id", type=int, help="the CoE's id (see `osom coes`)")
    p.add_argument("--as", dest="as_email", metavar="EMAIL", help="who reads it (needed for a draft)")
    p.set_defaults(func=cmd_coe)

    p = sub.add_parser("coe-action", help="mark a corrective action done, dropped, reopened or verified")
    p.add_argument("id", type=int, help="the action's id (see `osom coe ID`)")
    p.add_argument("status", choices=ACTION_STATUSES)
    p.add_argument("--note", default="", help="what was done; needed to drop it")
    p.add_argument("--due", metavar="YYYY-MM-DD", help="move its due date")
    p.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who acts")
    p.set_defaults(func=cmd_coe_action)

    p = sub.add_parser("coe-review", help="the executive's reviews of Corrections of Error")
    acts = p.add_subparsers(dest="review_command", required=True, metavar="ACTION")
    q = acts.add_parser("list", help="every review, the latest first")
    q.add_argument("--status", choices=REVIEW_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_review_list)
    q = acts.add_parser("agenda", help="the agenda of the next review: every published CoE not yet reviewed")
    q.set_defaults(func=cmd_review_agenda)
    q = acts.add_parser("show", help="a review: its agenda, or what it reviewed")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_review_show)
    q = acts.add_parser("schedule", help="schedule a review (the executive's act)")
    q.add_argument("date", metavar="YYYY-MM-DD")
    q.add_argument("--title", default="")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True)
    q.set_defaults(func=cmd_review_schedule)
    q = acts.add_parser("hold", help="record that a review was held; the CoEs gone through are marked reviewed")
    q.add_argument("id", type=int)
    q.add_argument("--notes", default="", help="the meeting's notes")
    q.add_argument("--note", action="append", default=[], metavar="COE=TEXT", help="a note on one CoE (repeat)")
    q.add_argument("--only", type=int, nargs="+", metavar="COE",
                   help="the CoEs gone through (default: the whole agenda)")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True)
    q.set_defaults(func=cmd_review_hold)

    p = sub.add_parser("learning", help="the learning figures: time to close actions, overdue ones, repeated problems")
    p.add_argument("--service", metavar="SLUG", help="one service's figures")
    p.set_defaults(func=cmd_learning)

    p = sub.add_parser("communities", help="communities of practice, and the professions they cover")
    p.add_argument("--profession", help="a job family of the framework")
    p.add_argument("--status", choices=COMMUNITY_STATUSES)
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_communities)

    p = sub.add_parser("community", help="one community: its members, guidance and open roles; join or leave it")
    p.add_argument("id", type=int, help="the community's id (see `osom communities`)")
    p.add_argument("act", nargs="?", choices=["show", "join", "leave"], default="show")
    p.add_argument("--as", dest="as_email", metavar="EMAIL", help="who joins or leaves")
    p.set_defaults(func=cmd_community)


# ---------------------------------------------------------------- helpers


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def _more(total: int, shown: int) -> None:
    if total > shown:
        print(f"… and {total - shown} more (--limit).")


def _limit(value: int) -> int:
    from osom.core.errors import InvalidInput

    if value < 1:
        raise InvalidInput("Give a limit of at least 1.", field="limit")
    return value


def _short(text: str, width: int = 60) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _day(moment) -> str:
    from django.utils import timezone

    return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""


def _prose(text: str, indent: str = "  ", width: int = 88) -> None:
    """Print prose indented, each long line wrapped to ``width`` (a list item's lines
    hang under its text)."""
    import textwrap

    for line in (text or "").strip().splitlines():
        stripped = line.lstrip()
        lead = indent + line[: len(line) - len(stripped)]
        hang = lead + ("  " if stripped[:2] in ("- ", "* ") else "")
        print(textwrap.fill(stripped, width=width, initial_indent=lead, subsequent_indent=hang) if stripped else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _person(email: str | None, *, needed: str | None = None):
    from osom.cli import _person as find
    from osom.core.errors import InvalidInput

    if not email:
        if needed:
            raise InvalidInput(f"Say who {needed}: --as EMAIL.", field="as")
        return None
    return find(email)


def _service(slug: str):
    from osom.core.errors import NotFound
    from osom.network.models import Service

    service = Service.objects.filter(slug=slug.strip()).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="service")
    return service


def _found(model_or_qs, pk: int, what: str):
    from osom.core.errors import NotFound

    qs = model_or_qs.objects.all() if isinstance(model_or_qs, type) else model_or_qs
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"There is no {what} with id {pk}.", field="id")
    return obj


def _pairs(items: list[str], field: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` arguments as pairs; one without ``=`` is refused, naming it."""
    from osom.core.errors import InvalidInput

    out = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"“{item}” is not NAME=VALUE.", field=field)
        out.append((name.strip(), value.strip()))
    return out


# ---------------------------------------------------------------- the doctrine


def cmd_doctrine_patterns(args) -> int:
    from .doctrine import PHASES
    from .models import DoctrinePattern

    qs = DoctrinePattern.objects.order_by("position", "pk")
    if args.group:
        qs = qs.filter(group=args.group)
    if args.phase:
        qs = qs.filter(phase=args.phase)
    group = phase = None
    for p in qs:
        if (p.group, p.phase) != (group, phase):
            group, phase = p.group, p.phase
            print(f"{p.group} — {ROMAN[p.phase]} {PHASES[p.phase]}")
        print(f"  {p.name} ({p.slug})")
        _prose(p.meaning, indent="      ")
    return 0


def _rounds():
    from django.db.models import Count

    from .models import DoctrineRound

    return DoctrineRound.objects.select_related("service", "opened_by").annotate(
        respondent_count=Count("ratings__respondent", distinct=True), rating_count=Count("ratings"))


def _whose(rnd) -> str:
    return f"{rnd.service.name} ({rnd.service.slug})" if rnd.service_id else "the organisation"


def cmd_doctrine_rounds(args) -> int:
    qs = _rounds().order_by("-opened_at", "-pk")
    if args.service:
        qs = qs.filter(service=_service(args.service))
    elif args.organisation:
        qs = qs.filter(service__isnull=True)
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No self-assessment matches." if (args.service or args.organisation or args.status)
              else "No self-assessment against the doctrine has been opened yet.")
        return 0
    rows = [[str(r.pk), _day(r.opened_at), r.status, _whose(r), str(r.respondent_count), str(r.rating_count),
             _short(r.title, 50)] for r in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "OPENED", "STATUS", "OF", "RESPONDENTS", "RATINGS", "TITLE"])
    _more(total, len(rows))
    return 0


def _latest_round(service):
    """The latest round of a service (or of the organisation) that has ratings; else the latest."""
    qs = _rounds().filter(service=service).order_by("-opened_at", "-pk")
    return qs.filter(rating_count__gt=0).first() or qs.first()


def _grid_lines(patterns, colours: dict[str, str]) -> list[str]:
    """The grid as text: a row per group, a column per phase, a letter per pattern."""
    from .doctrine import PHASES

    cells = {(g, n): [LETTERS[colours[p.slug]] for p in patterns if p.group == g and p.phase == n]
             for g in GROUPS for n in PHASES}
    widths = {n: max(len(ROMAN[n]), *(len(" ".join(cells[(g, n)])) for g in GROUPS)) for n in PHASES}
    label = max(len(g) for g in GROUPS)
    lines = [(" " * label + "  " + "  ".join(ROMAN[n].ljust(widths[n]) for n in PHASES)).rstrip()]
    for g in GROUPS:
        lines.append((g.ljust(label) + "  " + "  ".join(" ".join(cells[(g, n)]).ljust(widths[n]) for n in PHASES)).rstrip())
    return lines


def _tally(counts: dict[str, int]) -> str:
    parts = [f"{counts[r]} {r}" for r in RATINGS if counts.get(r)]
    return ", ".join(parts) if parts else "not rated"


def cmd_doctrine_grid(args) -> int:
    from collections import Counter

    from . import queries
    from .doctrine import PHASES
    from .models import DoctrinePattern, Rating

    if args.round is not None:
        rnd = _found(_rounds(), args.round, "doctrine self-assessment")
    else:
        service = _service(args.service) if args.service else None
        rnd = _latest_round(service)
        if rnd is None:
            whose = service.name if service else "The organisation"
            print(f"{whose} has no self-assessment against the doctrine yet.")
            return 0
    patterns = list(DoctrinePattern.objects.order_by("position", "pk"))
    cells = queries.round_cells(rnd)
    colours = {p.slug: cells.get(p.pk, {}).get("colour", Rating.UNKNOWN) for p in patterns}
    tally = Counter(colours.values())
    print(f"Self-assessment #{rnd.pk}: {rnd.title} ({rnd.get_status_display().lower()})")
    print(f"  Of {_whose(rnd)}; opened {_day(rnd.opened_at)} by {rnd.opened_by.name}; "
          f"{_plural(rnd.respondent_count, 'respondent')}, {_plural(rnd.rating_count, 'rating')}")
    print()
    for line in _grid_lines(patterns, colours):
        print(line)
    print()
    print(f"  {_LEGEND}; each letter a pattern, in the table's order")
    print("  Phases: " + " · ".join(f"{ROMAN[n]} {name}" for n, name in PHASES.items()))
    print("  " + ", ".join(f"{tally[r]} {r}" for r in RATINGS))
    if args.patterns:
        print()
        for p in patterns:
            cell = cells.get(p.pk)
            print(f"  {LETTERS[colours[p.slug]]}  {p.name} ({p.slug}): {_tally(cell['counts']) if cell else 'not rated'}")
            for item in (cell or {}).get("evidence", []):
                print(f"       {item['by']} ({item['rating']}): {_short(item['text'], 80)}")
    todo = queries.work_on_next(rnd)
    if todo:
        print()
        print("Work on next (the earliest phase first):")
        for item in todo:
            p = item["pattern"]
            print(f"  {LETTERS[item['colour']]}  {ROMAN[p.phase]:<3} {p.name} ({p.slug})")
    before = queries.previous_round(rnd)
    if before is not None:
        changes = queries.round_change(rnd, before)
        print()
        if not changes:
            print(f"No colour changed since #{before.pk} ({_day(before.opened_at)}).")
        else:
            print(f"Changed since #{before.pk} ({_day(before.opened_at)}):")
            for c in changes:
                print(f"  {c['direction']:<7} {c['pattern'].name}: {c['before']} → {c['after']}")
    return 0


def cmd_doctrine_heat_map(args) -> int:
    from osom.network.models import Service
    from osom.network.stages import Lifecycle

    from . import queries
    from .models import DoctrineRating

    qs = Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED).order_by("name", "pk")
    if args.stage:
        qs = qs.filter(lifecycle_stage=args.stage)
    if args.rated:
        qs = qs.filter(pk__in=DoctrineRating.objects.filter(round__service__isnull=False).values("round__service"))
    total = qs.count()
    if not total:
        print("No running service matches.")
        return 0
    data = queries.heat_map(qs[: _limit(args.limit)])
    patterns = data["patterns"]
    spans: list[tuple[str, int]] = []
    for p in patterns:
        if spans and spans[-1][0] == p.group:
            spans[-1] = (p.group, spans[-1][1] + 1)
        else:
            spans.append((p.group, 1))
    label = max(len("SERVICE"), *(len(row["service"].name) for row in data["rows"]))
    print("SERVICE".ljust(label) + "  " + " ".join(group[:n].ljust(n) for group, n in spans) + "  ROUND")
    for row in data["rows"]:
        letters, start = [], 0
        for _, n in spans:
            letters.append("".join(LETTERS[c] for c in row["cells"][start:start + n]))
            start += n
        print(f"{row['service'].name.ljust(label)}  {' '.join(letters)}  {('#' + str(row['round_id'])) if row['round_id'] else 'none'}")
    print(f"  {_LEGEND}; each column a pattern, in the table's order (see `osom doctrine patterns`)")
    _more(total, len(data["rows"]))
    return 0


def cmd_doctrine_open(args) -> int:
    from . import actions

    service = _service(args.service) if args.service else None
    rnd = actions.open_doctrine_round(actor=_person(args.as_email), service=service, title=args.title)
    print(f"Opened self-assessment #{rnd.pk}: {rnd.title}. Rate it with `osom doctrine rate {rnd.pk} PATTERN=RATING …`.")
    return 0


def cmd_doctrine_rate(args) -> int:
    from osom.core.errors import InvalidInput

    from . import actions
    from .models import DoctrineRound

    rnd = _found(DoctrineRound, args.round, "doctrine self-assessment")
    ratings = [{"pattern": slug, "rating": rating.lower()} for slug, rating in _pairs(args.ratings, "ratings")]
    for slug, text in _pairs(args.evidence, "evidence"):
        rated = [r for r in ratings if r["pattern"] == slug]
        if not rated:
            raise InvalidInput(f"Evidence for “{slug}”, which this command does not rate.", field="evidence")
        rated[0]["evidence"] = text
    written = actions.rate_doctrine(actor=_person(args.as_email), round=rnd, ratings=ratings)
    print(f"Recorded {_plural(written, 'rating')} in “{rnd.title}”." if written
          else "Those ratings were already recorded; nothing changed.")
    return 0


def cmd_doctrine_close(args) -> int:
    from . import actions
    from .models import DoctrineRound

    rnd = actions.close_doctrine_round(actor=_person(args.as_email),
                                       round=_found(DoctrineRound, args.round, "doctrine self-assessment"))
    print(f"Closed self-assessment #{rnd.pk}: {rnd.title}.")
    return 0


# ---------------------------------------------------------------- Corrections of Error


def _with_action_counts(qs):
    from django.db.models import Count, Q
    from django.utils import timezone

    from .models import CorrectiveAction

    open_ = Q(actions__status=CorrectiveAction.Status.OPEN)
    return qs.select_related("service", "author").annotate(
        action_count=Count("actions", distinct=True), open_actions=Count("actions", filter=open_, distinct=True),
        overdue_actions=Count("actions", filter=open_ & Q(actions__due_date__lt=timezone.localdate()), distinct=True))


def _coe_rows(coes) -> list[list[str]]:
    return [[str(c.pk), f"{c.occurred_on:%Y-%m-%d}", c.status, c.service.name, f"{c.open_actions}/{c.action_count}",
             str(c.overdue_actions) if c.overdue_actions else "", _short(c.title, 50)] for c in coes]


_COE_HEADER = ["ID", "OCCURRED", "STATUS", "SERVICE", "OPEN", "OVERDUE", "TITLE"]


def cmd_coes(args) -> int:
    from . import queries

    viewer = _person(args.as_email)
    if args.service:
        _service(args.service)
    qs = queries.coe_library(q=" ".join(args.words), service=(args.service or "").strip(),
                             pattern=(args.pattern or "").strip(), effect=args.effect or "", status=args.status or "",
                             viewer=viewer)
    qs = _with_action_counts(qs)
    total = qs.count()
    if not total:
        print("No Correction of Error matches.")
        return 0
    rows = _coe_rows(qs[: _limit(args.limit)])
    _table(rows, _COE_HEADER)
    _more(total, len(rows))
    return 0


def cmd_coe(args) -> int:
    from django.utils import timezone

    from osom.core.errors import NotAllowed
    from osom.core.policy import refusal
    from osom.governance.models import Guidance

    from .models import CorrectionOfError

    coe = _found(CorrectionOfError.objects.select_related("service", "author", "published_by", "review"), args.id,
                 "Correction of Error")
    if coe.is_draft:
        if not args.as_email:
            raise NotAllowed("This Correction of Error is still a draft, read only by its service's manager and "
                             "team: say who you are with --as EMAIL.")
        refused = refusal(_person(args.as_email), "write_coe", service=coe.service)
        if refused:
            raise NotAllowed(f"This Correction of Error is still a draft. {refused}")
    print(f"Correction of Error #{coe.pk}: {coe.title} ({coe.get_status_display().lower()})")
    print(f"  {coe.service.name} ({coe.service.slug}); occurred {coe.occurred_on:%Y-%m-%d}; "
          f"users affected: {'yes' if coe.users_affected else 'no'}")
    line = f"  Written by {coe.author.name}"
    if coe.published_at:
        line += f"; published {_day(coe.published_at)} by {coe.published_by.name}"
    print(line)
    sections = [("The problem", coe.problem), ("Its impact", coe.impact), ("The root cause", coe.root_cause),
                ("Data supporting the root cause", coe.root_cause_data),
                ("The trade-offs that led to it", coe.trade_offs_that_led),
                ("Trade-offs to avoid in future", coe.trade_offs_to_avoid), ("Lessons learned", coe.lessons)]
    for heading, text in sections:
        if text.strip():
            print()
            print(heading)
            _prose(text)
    timeline = list(coe.timeline.all())
    if timeline:
        print()
        print("Timeline")
        for e in timeline:
            print(f"  {timezone.localtime(e.at):%Y-%m-%d %H:%M}  {e.description}")
    chains = list(coe.why_chains.all())
    if chains:
        print()
        print("5 whys")
        for chain in chains:
            print(f"  {chain.question}")
            for n, why in enumerate(chain.whys, start=1):
                print(f"    {n}. {why}")
    effects = list(coe.pattern_effects.select_related("pattern"))
    if effects:
        print()
        print("Doctrine patterns")
        for e in effects:
            print(f"  {e.effect:<6} {e.pattern.name} ({e.pattern.slug})" + (f": {e.note}" if e.note else ""))
    today = timezone.localdate()
    corrective = list(coe.actions.select_related("owner"))
    print()
    print("Corrective actions" if corrective else "No corrective action yet.")
    for a in corrective:
        flag = " OVERDUE" if a.is_overdue(today) else ""
        print(f"  #{a.pk} {a.status}{flag}, due {a.due_date:%Y-%m-%d}, {a.owner.name}: {_short(a.description, 70)}")
        if a.dropped_reason:
            print(f"      dropped: {a.dropped_reason}")
        elif a.note:
            print(f"      {a.note}")
    if coe.review_id:
        print()
        print(f"Reviewed in #{coe.review.pk} “{coe.review.title}” ({coe.review.scheduled_for:%Y-%m-%d})"
              + (f": {coe.review_note}" if coe.review_note else ""))
    drawn = list(Guidance.objects.filter(coe=coe).order_by("created_at", "pk"))
    if drawn:
        print()
        print("Guidance drawn from it")
        for g in drawn:
            print(f"  #{g.pk} {g.status}: {g.title}")
    return 0


def cmd_coe_action(args) -> int:
    from . import actions
    from .models import CorrectiveAction

    action = _found(CorrectiveAction.objects.select_related("coe"), args.id, "corrective action")
    actor = _person(args.as_email)
    if args.status == CorrectiveAction.Status.VERIFIED:
        action = actions.verify_corrective_action(actor=actor, action=action, note=args.note)
    else:
        action = actions.update_corrective_action(actor=actor, action=action, status=args.status, note=args.note,
                                                  due_date=args.due)
    print(f"Corrective action #{action.pk} of “{action.coe.title}” is {action.get_status_display().lower()}, "
          f"due {action.due_date:%Y-%m-%d}.")
    return 0


# ---------------------------------------------------------------- reviews


def _reviews():
    from django.db.models import Count

    from .models import CoEReview

    return CoEReview.objects.select_related("scheduled_by", "held_by").annotate(reviewed_count=Count("reviewed"))


def cmd_review_list(args) -> int:
    qs = _reviews().order_by("-scheduled_for", "-pk")
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No review matches." if args.status else "No review of Corrections of Error has been scheduled yet.")
        return 0
    rows = [[str(r.pk), f"{r.scheduled_for:%Y-%m-%d}", r.status, str(r.reviewed_count), _short(r.title, 60)]
            for r in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "DATE", "STATUS", "REVIEWED", "TITLE"])
    _more(total, len(rows))
    return 0


def _print_agenda() -> None:
    from . import actions

    agenda = list(_with_action_counts(actions.review_agenda()))
    if not agenda:
        print("Nothing on the agenda: every published Correction of Error has been reviewed.")
        return
    print(f"Agenda: {_plural(len(agenda), 'published Correction')} of Error not yet reviewed, the oldest first")
    _table(_coe_rows(agenda), _COE_HEADER)


def cmd_review_agenda(args) -> int:
    from django.utils import timezone

    from .models import CoEReview

    upcoming = (CoEReview.objects.filter(status=CoEReview.Status.SCHEDULED, scheduled_for__gte=timezone.localdate())
                .order_by("scheduled_for", "pk").first())
    if upcoming:
        print(f"Next review: #{upcoming.pk} {upcoming.title} ({upcoming.scheduled_for:%Y-%m-%d})")
    else:
        print("No review is scheduled: the executive schedules one with `osom coe-review schedule DATE`.")
    _print_agenda()
    return 0


def cmd_review_show(args) -> int:
    from .models import CoEReview, CorrectionOfError

    review = _found(_reviews(), args.id, "review of Corrections of Error")
    print(f"Review #{review.pk}: {review.title} ({review.get_status_display().lower()})")
    print(f"  {review.scheduled_for:%Y-%m-%d}; scheduled by {review.scheduled_by.name}")
    if review.status == CoEReview.Status.SCHEDULED:
        print()
        _print_agenda()
        return 0
    print(f"  Held {_day(review.held_at)} by {review.held_by.name}; {_plural(review.reviewed_count, 'CoE')} reviewed")
    if review.notes:
        print()
        _prose(review.notes)
    reviewed = _with_action_counts(CorrectionOfError.objects.filter(review=review)).order_by("published_at", "pk")
    print()
    for c in reviewed:
        print(f"  #{c.pk} {c.service.name}: {c.title}" + (f"\n      {c.review_note}" if c.review_note else ""))
    return 0


def cmd_review_schedule(args) -> int:
    from . import actions

    review = actions.schedule_coe_review(actor=_person(args.as_email), scheduled_for=args.date, title=args.title)
    print(f"Scheduled review #{review.pk}: {review.title}. Every service manager is invited.")
    return 0


def cmd_review_hold(args) -> int:
    from . import actions
    from .models import CoEReview

    review = _found(CoEReview, args.id, "review of Corrections of Error")
    notes = dict(_pairs(args.note, "coe_notes"))
    review = actions.hold_coe_review(actor=_person(args.as_email), review=review, notes=args.notes, coe_notes=notes,
                                     reviewed=args.only)
    count = review.reviewed.count()
    print(f"Held “{review.title}”: {_plural(count, 'Correction')} of Error marked reviewed.")
    return 0


# ---------------------------------------------------------------- the learning figures


def cmd_learning(args) -> int:
    from django.utils import timezone

    from . import queries

    service = _service(args.service) if args.service else None
    f = queries.learning_figures(service=service)
    print(f"Learning figures: {service.name if service else 'the whole organisation'}")
    if f["closed"]:
        print(f"  Corrective actions closed: {f['closed']}, a median of {f['median_days_to_close']:g} days to close; "
              f"{f['closed_on_time']} of {f['closed']} ({f['share_on_time']}%) by their due date")
    else:
        print("  No corrective action closed yet.")
    print(f"  Open: {f['open']}, of which {f['open_overdue']} past their due date; dropped: {f['dropped']}")
    print(f"  Published CoEs awaiting review: {f['unreviewed']}")
    overdue = list(queries.overdue_actions(services=[service] if service else None))
    today = timezone.localdate()
    if overdue:
        print()
        print(f"Overdue corrective actions ({len(overdue)}{'+' if len(overdue) >= 50 else ''})")
        for a in overdue:
            print(f"  #{a.pk} due {a.due_date:%Y-%m-%d} ({_plural((today - a.due_date).days, 'day')} overdue), "
                  f"{a.owner.name}, {a.coe.service.name}: {_short(a.description, 60)} [CoE #{a.coe_id}]")
    if f["repeated"]:
        print()
        print(f"Problems that repeat ({len(f['repeated'])}): CoEs of one service with similar root causes")
        for group in f["repeated"]:
            print(f"  {group['service'].name}: " + "; ".join(f"#{c.pk} {c.title} ({c.occurred_on:%Y-%m-%d})"
                                                            for c in group["coes"]))
    return 0


# ---------------------------------------------------------------- communities of practice


def cmd_communities(args) -> int:
    from django.db.models import Count, Q

    from . import queries
    from .models import Community

    current = Q(memberships__left_at__isnull=True, memberships__person__is_active=True)
    qs = (Community.objects.select_related("lead").annotate(members=Count("memberships", filter=current))
          .order_by("name", "pk"))
    if args.profession:
        qs = qs.filter(profession=args.profession.strip())
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No community matches." if (args.profession or args.status)
              else "No community of practice has been formed yet.")
    else:
        rows = [[str(c.pk), c.name, c.profession, f"endorsed {c.endorsed_on:%Y-%m-%d}" if c.endorsed_on else c.status,
                 str(c.members), c.lead.name] for c in qs[: _limit(args.limit)]]
        _table(rows, ["ID", "NAME", "PROFESSION", "STATUS", "MEMBERS", "LEAD"])
        _more(total, len(rows))
    rows = queries.coverage()
    print()
    if not rows:
        print("Coverage: no profession is present in service teams yet.")
        return 0
    endorsed = sum(1 for r in rows if r["state"] == "endorsed")
    print(f"Coverage: {endorsed} of {_plural(len(rows), 'profession')} in service teams have an endorsed community")
    _table([[r["profession"], str(r["people"]), str(r["services"]), r["state"],
             ", ".join(c.name for c in r["communities"]) or "—"] for r in rows],
           ["PROFESSION", "PEOPLE", "SERVICES", "COVERED", "COMMUNITIES"])
    return 0


def cmd_community(args) -> int:
    from . import communities
    from .models import Community, CommunityMembership, OpenRole

    community = _found(Community.objects.select_related("lead", "endorsed_by"), args.id, "community of practice")
    if args.act in ("join", "leave"):
        actor = _person(args.as_email, needed=f"{args.act}s")
        act = communities.join_community if args.act == "join" else communities.leave_community
        act(actor=actor, community=community)
        print(f"{actor.name} {'joined' if args.act == 'join' else 'left'} {community.name}.")
        return 0
    status = (f"endorsed on {community.endorsed_on:%Y-%m-%d} by {community.endorsed_by.name}" if community.endorsed_on
              else community.get_status_display().lower())
    print(f"Community #{community.pk}: {community.name} ({status})")
    print(f"  Profession: {community.profession}; led by {community.lead.name}")
    _prose(community.purpose)
    members = list(CommunityMembership.objects.filter(community=community, left_at__isnull=True, person__is_active=True)
                   .select_related("person").order_by("person__name", "pk"))
    print()
    print(f"Members ({len(members)}): " + ", ".join(m.person.name for m in members))
    guidance = list(community.guidance.all())
    if guidance:
        print()
        print("Guidance")
        for g in guidance:
            withdrawn = f", withdrawn {_day(g.withdrawn_at)}" if g.withdrawn_at else ""
            print(f"  #{g.pk} {g.get_kind_display().lower()}{withdrawn}: {g.title}")
    roles = list(OpenRole.objects.filter(status=OpenRole.Status.OPEN, role__job_family=community.profession)
                 .select_related("service", "role").order_by("-posted_at", "-pk"))
    print()
    if not roles:
        print(f"No open role in {community.profession} just now.")
    else:
        print(f"Open roles in {community.profession}")
        for r in roles:
            print(f"  #{r.pk} {r.role.name} ({r.get_level_display().lower()}) in {r.service.name}, posted {_day(r.posted_at)}"
                  + (f": {_short(r.description, 60)}" if r.description else ""))
    return 0
