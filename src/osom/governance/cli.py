"""``osom`` commands for the executive's levers. Nothing of Django is imported at the
top: the parser is built before Django is set up.

- ``osom mandates list [--status S]``: every mandate with its progress
- ``osom mandate show ID``: a mandate, each service's progress and a text burn-up
- ``osom mandate remind ID --as EMAIL``: remind the managers of services not done
- ``osom guidance list [--status S] [--category C] [--source S]``: guidance and its uptake
- ``osom proposals list [--status S]``: proposals of needs and what was decided
- ``osom match "I need …" [--as-a WHO] [--so-that WHY]``: existing services that could meet a need, and why
- ``osom duplicates [--threshold T]``: needs of different services that look alike
- ``osom attention``: what needs the executive's attention, in plain text

Writes act as the person named by ``--as`` through the actions, so they are checked and
audited like any other; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

__all__ = ["register"]

# The models' choices, repeated here so the parser needs no Django (a test keeps them equal).
MANDATE_STATUSES = ["draft", "issued", "closed"]
GUIDANCE_STATUSES = ["draft", "published", "withdrawn"]
GUIDANCE_CATEGORIES = ["technology", "architecture", "security", "procurement", "data", "design", "operations", "people"]
GUIDANCE_SOURCES = ["law", "practice", "coe", "community"]
PROPOSAL_STATUSES = ["open", "folded", "declined", "established"]

_BAR = 20  # characters of a burn-up bar


def register(sub) -> None:
    """Add this app's subcommands to the ``osom`` parser."""
    p = sub.add_parser("mandates", help="the executive's mandates and their progress")
    actions = p.add_subparsers(dest="mandates_command", required=True, metavar="ACTION")
    q = actions.add_parser("list", help="every mandate: the issued first, then drafts, then the closed")
    q.add_argument("--status", choices=MANDATE_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_mandates_list)

    p = sub.add_parser("mandate", help="one mandate: show it, or remind the managers behind on it")
    actions = p.add_subparsers(dest="mandate_command", required=True, metavar="ACTION")
    q = actions.add_parser("show", help="what it asks, each service's progress and a burn-up")
    q.add_argument("id", type=int, help="the mandate's id (see `osom mandates list`)")
    q.set_defaults(func=cmd_mandate_show)
    q = actions.add_parser("remind", help="remind the managers of the services not yet done (the executive's act)")
    q.add_argument("id", type=int, help="the mandate's id")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who sends the reminders")
    q.set_defaults(func=cmd_mandate_remind)

    p = sub.add_parser("guidance", help="the executive's guidance and how many services adopted or rejected it")
    actions = p.add_subparsers(dest="guidance_command", required=True, metavar="ACTION")
    q = actions.add_parser("list", help="all guidance, the latest published first")
    q.add_argument("--status", choices=GUIDANCE_STATUSES)
    q.add_argument("--category", choices=GUIDANCE_CATEGORIES)
    q.add_argument("--source", choices=GUIDANCE_SOURCES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_guidance_list)

    p = sub.add_parser("proposals", help="proposals of needs the network may not meet")
    actions = p.add_subparsers(dest="proposals_command", required=True, metavar="ACTION")
    q = actions.add_parser("list", help="the newest first, with what was decided")
    q.add_argument("--status", choices=PROPOSAL_STATUSES)
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_proposals_list)

    p = sub.add_parser("match", help="which existing services could meet a need, and why")
    p.add_argument("need", metavar="\"I need …\"", help="what is needed")
    p.add_argument("--as-a", dest="as_a", default="", metavar="WHO", help="who has the need")
    p.add_argument("--so-that", dest="so_that", default="", metavar="WHY", help="the outcome they want")
    p.add_argument("--limit", type=int, default=5, help="at most this many services (default 5)")
    p.set_defaults(func=cmd_match)

    p = sub.add_parser("duplicates", help="needs of different services that look alike: candidates for a shared service")
    p.add_argument("--threshold", type=float, default=0.3, help="how alike, 0.05 to 1 (default 0.3)")
    p.add_argument("--limit", type=int, default=20, help="at most this many pairs (default 20)")
    p.set_defaults(func=cmd_duplicates)

    p = sub.add_parser("attention", help="what needs the executive's attention now")
    p.add_argument("--limit", type=int, default=20, help="at most this many items in each list (default 20)")
    p.set_defaults(func=cmd_attention)


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


def _bar(done: int, acknowledged: int, total: int) -> str:
    """``#`` for services done, ``+`` for those only acknowledged, ``·`` for the rest."""
    if not total:
        return "·" * _BAR
    d = round(done * _BAR / total)
    a = max(round(acknowledged * _BAR / total) - d, 0)
    return "#" * d + "+" * a + "·" * (_BAR - d - a)


# ---------------------------------------------------------------- mandates


def cmd_mandates_list(args) -> int:
    from django.db.models import Case, Count, IntegerField, Q, Value, When
    from django.utils import timezone

    from .models import Mandate, MandateTarget

    done_ = MandateTarget.Status.DONE
    qs = Mandate.objects.annotate(
        total=Count("targets"), done=Count("targets", filter=Q(targets__status=done_)),
        acknowledged=Count("targets", filter=Q(targets__status__in=[MandateTarget.Status.ACKNOWLEDGED, done_])))
    if args.status:
        qs = qs.filter(status=args.status)
    issued_first = Case(When(status=Mandate.Status.ISSUED, then=Value(0)),
                        When(status=Mandate.Status.DRAFT, then=Value(1)), default=Value(2), output_field=IntegerField())
    qs = qs.order_by(issued_first, "due_date", "-pk")
    total = qs.count()
    if not total:
        print("No mandate matches." if args.status else "No mandate has been drafted yet.")
        return 0
    today = timezone.localdate()
    rows = []
    for m in qs[: _limit(args.limit)]:
        late = m.status == Mandate.Status.ISSUED and m.due_date < today and m.done < m.total
        rows.append([str(m.pk), m.status, f"{m.due_date:%Y-%m-%d}" + (" OVERDUE" if late else ""),
                     f"{m.done}/{m.total}", str(m.acknowledged), _short(m.title)])
    _table(rows, ["ID", "STATUS", "DUE", "DONE", "ACKNOWLEDGED", "TITLE"])
    _more(total, len(rows))
    return 0


def _mandate(pk: int):
    from osom.core.errors import NotFound

    from .models import Mandate

    mandate = Mandate.objects.select_related("created_by").filter(pk=pk).first()
    if mandate is None:
        raise NotFound(f"There is no mandate with id {pk}.", field="id")
    return mandate


def cmd_mandate_show(args) -> int:
    from django.utils import timezone

    from osom.core.models import Organisation

    from . import queries
    from .models import Mandate, MandateTarget

    mandate = _mandate(args.id)
    targets = list(mandate.targets.select_related("service__manager").order_by("service__name", "pk"))
    done = sum(1 for t in targets if t.status == MandateTarget.Status.DONE)
    acknowledged = sum(1 for t in targets if t.status != MandateTarget.Status.PENDING)
    manager_name = Organisation.current().terms()["service_manager"].upper()
    print(f"Mandate #{mandate.pk}: {mandate.title} ({mandate.get_status_display().lower()})")
    issued = (f"issued {timezone.localtime(mandate.issued_at):%Y-%m-%d}" if mandate.issued_at
              else f"drafted by {mandate.created_by.name}")
    print(f"  Due {mandate.due_date:%Y-%m-%d}; {issued}; {len(targets)} service{'s' if len(targets) != 1 else ''}: "
          f"{acknowledged} acknowledged, {done} done")
    print(f"  Scope: {mandate.scope_description or 'no services chosen'}")
    for line in mandate.instruction.splitlines():
        print(f"  > {line}".rstrip())
    if targets:
        print()
        _table([[f"{t.service.name} ({t.service.slug})", t.service.manager.name if t.service.manager else "none",
                 t.get_status_display().lower(), _short(t.progress_note, 50)] for t in targets],
               ["SERVICE", manager_name, "STATUS", "NOTE"])
    print()
    points = queries.burn_up(mandate)
    if mandate.status == Mandate.Status.DRAFT or not points:
        print("Not issued yet: no burn-up.")
        return 0
    print(f"Burn-up (services done, of {points[-1]['total']}):")
    for p in points:
        print(f"  {p['date']}  {_bar(p['done'], p['acknowledged'], p['total'])}  "
              f"{p['done']}/{p['total']} done, {p['acknowledged']} acknowledged")
    print("  # done  + acknowledged  · awaiting acknowledgement")
    return 0


def cmd_mandate_remind(args) -> int:
    from osom.cli import _person

    from . import actions

    mandate = _mandate(args.id)
    told = actions.remind_mandate(actor=_person(args.as_email), mandate=mandate)
    print(f"Reminded {told} manager{'s' if told != 1 else ''} of the mandate “{mandate.title}”.")
    return 0


# ---------------------------------------------------------------- guidance and proposals


def cmd_guidance_list(args) -> int:
    from django.db.models import Count, F, Q

    from .models import Guidance, GuidanceDecision

    qs = Guidance.objects.annotate(
        adopted=Count("decisions", filter=Q(decisions__decision=GuidanceDecision.Decision.ADOPT)),
        rejected=Count("decisions", filter=Q(decisions__decision=GuidanceDecision.Decision.REJECT)),
    )
    for name in ("status", "category", "source"):
        if getattr(args, name):
            qs = qs.filter(**{name: getattr(args, name)})
    qs = qs.order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")
    total = qs.count()
    if not total:
        print("No guidance matches.")
        return 0
    rows = [[str(g.pk), g.status, g.category, g.source, str(g.adopted), str(g.rejected), _short(g.title)]
            for g in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "STATUS", "CATEGORY", "SOURCE", "ADOPTED", "REJECTED", "TITLE"])
    _more(total, len(rows))
    return 0


def cmd_proposals_list(args) -> int:
    from django.db.models import Count
    from django.utils import timezone

    from .models import Proposal

    qs = (Proposal.objects.select_related("proposed_by", "service").annotate(needs_count=Count("needs"))
          .order_by("-proposed_at", "-pk"))
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    if not total:
        print("No proposal matches." if args.status else "Nobody has proposed needs yet.")
        return 0
    rows = [[str(p.pk), f"{timezone.localtime(p.proposed_at):%Y-%m-%d}", p.status, str(p.needs_count), p.proposed_by.name, _short(p.title, 50),
             f"{p.service.name} ({p.service.slug})" if p.service else ""] for p in qs[: _limit(args.limit)]]
    _table(rows, ["ID", "PROPOSED", "STATUS", "NEEDS", "BY", "TITLE", "SERVICE"])
    _more(total, len(rows))
    return 0


# ---------------------------------------------------------------- the matcher


def cmd_match(args) -> int:
    from osom.core.errors import InvalidInput

    from .api import shared_words
    from .matching import suggest_services, tokens

    need = {"as_a": args.as_a, "i_need": args.need, "so_that": args.so_that}
    asked = " ".join(need.values())
    if not tokens(asked):
        raise InvalidInput("Say what is needed, in a few words the matcher can use.", field="need")
    matches = suggest_services([need], limit=_limit(args.limit))
    if not matches:
        print("No existing service looks like it meets this need. Propose it, so the executive can decide.")
        return 0
    print("Existing services that could meet it, best first:")
    for n, m in enumerate(matches, start=1):
        words = shared_words(m.words, asked, m.best_need, m.service.name, m.service.summary)
        print(f"{n}. {m.service.name} ({m.service.slug}) — {round(m.score * 100)}% alike")
        print(f"   why: {', '.join(words)}")
        if m.best_need:
            print(f"   closest need ({round(m.need_score * 100)}%): {m.best_need}")
    return 0


def cmd_duplicates(args) -> int:
    from osom.core.errors import InvalidInput

    from .api import shared_words
    from .matching import find_duplicate_needs

    if not 0.05 <= args.threshold <= 1:
        raise InvalidInput("Give a threshold from 0.05 to 1.", field="threshold")
    limit = _limit(args.limit)
    pairs = find_duplicate_needs(threshold=args.threshold, limit=limit + 1)
    if not pairs:
        print(f"No two services' needs look alike at this threshold ({args.threshold:g}).")
        return 0
    for n, p in enumerate(pairs[:limit], start=1):
        words = shared_words(p.words, p.first["need"], p.second["need"])
        print(f"{n}. {round(p.score * 100)}% alike — shared words: {', '.join(words)}")
        for side in (p.first, p.second):
            print(f"   {side['service']} ({side['slug']}): {side['need']}")
    if len(pairs) > limit:
        print("… and more (--limit).")
    return 0


# ---------------------------------------------------------------- the executive's attention


def cmd_attention(args) -> int:
    from django.utils import timezone

    from osom.core.models import Organisation
    from osom.lifecycle.queries import format_money

    from . import queries

    org = Organisation.current()
    limit = _limit(args.limit)
    attention = queries.executive_attention(limit=limit)
    today = timezone.localdate()

    def manager(s) -> str:
        return f"; manager {s.manager.name}" if s.manager else "; no manager"

    def dispute(d) -> str:
        between = (f"{d.service.name} and {d.other_service.name}" if d.service and d.other_service
                   else "about an evaluation")
        return f"#{d.pk} {d.subject} ({between}), raised {timezone.localtime(d.raised_at):%Y-%m-%d}"

    def funding(r) -> str:
        amount = f" by {format_money(r.amount, org.currency)}" if r.amount is not None else ""
        return (f"#{r.pk} {r.service.name}: {r.get_kind_display().lower()}{amount} for {r.period}, "
                f"asked by {r.requested_by.name}")

    sections = [
        ("overdue", "Overdue assessments", lambda s: (
            f"{s.name} ({s.slug}): due {s.next_assessment_due:%Y-%m-%d}, "
            f"{(today - s.next_assessment_due).days} days overdue{manager(s)}")),
        ("assessments_to_report", "Assessments to report", lambda a: (
            f"#{a.pk} {a.service.name}: {a.get_stage_display().lower()}, held {a.scheduled_for:%Y-%m-%d}")),
        ("funding_requests", "Funding requests", funding),
        ("disputes", "Open disputes", dispute),
        ("mandates_behind", "Mandates past their due date", lambda m: (
            f"#{m.pk} {m.title}: due {m.due_date:%Y-%m-%d}, {m.done} of {m.total} services done")),
        ("proposals", "Proposed needs", lambda p: (
            f"#{p.pk} {p.title}, proposed by {p.proposed_by.name} on {timezone.localtime(p.proposed_at):%Y-%m-%d}")),
        ("due_soon", f"Assessments due in the next {queries.DUE_SOON_DAYS} days", lambda s: (
            f"{s.name} ({s.slug}): due {s.next_assessment_due:%Y-%m-%d}{manager(s)}")),
        ("rejections", "Guidance rejected", lambda d: (
            f"{d.service.name} rejected “{d.guidance.title}”: {_short(d.rationale, 80)}")),
    ]
    to_act = sum(len(attention[key]) for key, _, _ in sections[:6])
    print(f"Needs the {org.terms()['executive']}'s attention: {to_act} item{'s' if to_act != 1 else ''} to act on.")
    for key, title, line in sections:
        items = attention[key]
        if not items:
            continue
        print()
        print(f"{title} ({len(items)}{'+' if len(items) >= limit else ''})")
        for item in items:
            print(f"  - {line(item)}")
    return 0
