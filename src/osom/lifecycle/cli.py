"""``osom`` commands for assessments and budgets. Nothing of Django is imported at the
top: the parser is built before Django is set up.

- ``osom assessments due [--overdue]``: live services by their next periodic assessment
- ``osom assessments list [--service SLUG] [--status S]``: reports and assessments to come
- ``osom report ID [--markdown]``: a published report, in brief or as Markdown
- ``osom budget show SLUG``: a service's money
- ``osom budget allocate SLUG AMOUNT --period P [--stage S] --as EMAIL``: the executive's act

Writes act as the person named by ``--as`` through the actions, so they are checked and
audited like any other; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

__all__ = ["register"]

_STATUSES = ["scheduled", "agenda", "published", "cancelled"]
_FUNDED_STAGES = ["discovery", "alpha", "beta", "live"]


def register(sub) -> None:
    """Add this app's subcommands to the ``osom`` parser."""
    p = sub.add_parser("assessments", help="what is due, and the assessments and their reports")
    actions = p.add_subparsers(dest="assessments_command", required=True, metavar="ACTION")
    q = actions.add_parser("due", help="live services by their next periodic assessment, the overdue first")
    q.add_argument("--overdue", action="store_true", help="only those overdue")
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_due)
    q = actions.add_parser("list", help="published reports and assessments to come, newest first")
    q.add_argument("--service", metavar="SLUG", help="of this service only")
    q.add_argument("--status", choices=_STATUSES, help="cancelled ones are listed only when asked for")
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_list)

    p = sub.add_parser("report", help="print a published assessment report")
    p.add_argument("id", type=int, help="the assessment's id (see `osom assessments list`)")
    p.add_argument("--markdown", action="store_true", help="the whole report as a Markdown document")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("budget", help="a service's money: show it, or allocate some")
    actions = p.add_subparsers(dest="budget_command", required=True, metavar="ACTION")
    q = actions.add_parser("show", help="allocations with what was spent and re-invested, and funding requests")
    q.add_argument("slug", help="the service's slug")
    q.set_defaults(func=cmd_budget_show)
    q = actions.add_parser("allocate", help="allocate money to a service (the executive's act)")
    q.add_argument("slug", help="the service's slug")
    q.add_argument("amount", help="exact to the penny, e.g. 120000.00")
    q.add_argument("--period", required=True, help="the period it is for, e.g. 2026-27")
    q.add_argument("--stage", choices=_FUNDED_STAGES, help="the stage it funds (default: the service's own)")
    q.add_argument("--note", default="", help="what it is for")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help="who allocates it")
    q.set_defaults(func=cmd_budget_allocate)


# ---------------------------------------------------------------- helpers


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())


def _service(slug: str):
    from osom.core.errors import NotFound
    from osom.network.models import Service

    service = Service.objects.select_related("manager").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="slug")
    return service


def _money(value) -> str:
    from osom.core.models import Organisation

    from .queries import format_money

    return format_money(value, Organisation.current().currency)


# ---------------------------------------------------------------- assessments


def cmd_due(args) -> int:
    from django.utils import timezone

    from osom.core.models import Organisation

    from .queries import due_services

    today = timezone.localdate()
    qs = due_services()
    if args.overdue:
        qs = qs.filter(next_assessment_due__lt=today)
    total = qs.count()
    if not total:
        print("No live service is overdue." if args.overdue else "No live service has a periodic assessment due.")
        return 0
    default = Organisation.current().live_cadence_days
    rows = []
    for s in qs[: args.limit]:
        late = (today - s.next_assessment_due).days
        rows.append([
            f"{s.next_assessment_due:%Y-%m-%d}",
            f"OVERDUE {late}d" if late > 0 else f"in {-late}d",
            f"{s.name} ({s.slug})",
            s.manager.name if s.manager else "no manager",
            f"every {s.assessment_cadence_days or default}d",
            f"booked {s.booked_for:%Y-%m-%d} (#{s.booked_id})" if s.booked_for else "not booked",
        ])
    _table(rows, ["DUE", "", "SERVICE", "MANAGER", "CADENCE", "ASSESSMENT"])
    if total > len(rows):
        print(f"… and {total - len(rows)} more (--limit).")
    return 0


def cmd_list(args) -> int:
    from django.db.models import DateField, F
    from django.db.models.functions import Coalesce, TruncDate

    from .models import Assessment, AssessmentStatus
    from .queries import outcome_label

    # newest first by the day of the report, else the day scheduled (as the API lists them)
    qs = (Assessment.objects.select_related("service")
          .annotate(day=Coalesce(TruncDate("published_at"), F("scheduled_for"), output_field=DateField()))
          .order_by("-day", "-pk"))
    if args.status:
        qs = qs.filter(status=args.status)
    else:
        qs = qs.exclude(status=AssessmentStatus.CANCELLED)
    if args.service:
        service = _service(args.service)
        qs = qs.filter(service=service)
    total = qs.count()
    if not total:
        print("No assessment matches.")
        return 0
    rows = []
    for a in qs[: args.limit]:
        rows.append([
            str(a.pk), f"{a.day:%Y-%m-%d}", a.get_status_display().lower(), f"{a.service.name} ({a.service.slug})",
            f"{a.get_stage_display().lower()}, {a.get_kind_display().lower()}",
            a.get_result_display() if a.result else "—",
            outcome_label(a).split(":")[0] if a.outcome else "",
        ])
    _table(rows, ["ID", "DAY", "STATUS", "SERVICE", "ASSESSED", "RESULT", "OUTCOME"])
    if total > len(rows):
        print(f"… and {total - len(rows)} more (--limit).")
    return 0


def cmd_report(args) -> int:
    from django.conf import settings
    from django.utils import timezone

    from osom.core.errors import NotFound
    from osom.core.models import Organisation

    from . import queries
    from .models import Assessment

    try:
        a = queries.assessment_detail(args.id)
    except Assessment.DoesNotExist:
        raise NotFound(f"There is no assessment with id {args.id}.", field="id") from None
    if not a.is_published:
        raise NotFound(f"Assessment {args.id} has no published report yet ({a.get_status_display().lower()}).",
                       field="id")
    org = Organisation.current()
    previous = queries.previous_reports(a)
    if args.markdown:
        print(queries.report_markdown(a, terms=org.terms(), previous=previous, allocations=a.allocations.order_by("pk"),
                                      currency=org.currency, base_url=settings.OSOM_BASE_URL.rstrip("/")), end="")
        return 0
    print(f"Assessment report #{a.pk}: {a.service.name}, {timezone.localtime(a.published_at):%d %B %Y}")
    print(f"  {a.get_result_display()} — {a.outcome_text}")
    print(f"  Stage assessed: {a.get_stage_display().lower()} ({a.get_kind_display().lower()}); "
          f"contract version {a.pinned_version.number if a.pinned_version else '—'}; "
          f"{org.terms()['service_manager'].lower()}: {a.manager.name if a.manager else 'none appointed'}")
    print(f"  Assessors: {', '.join(p.name for p in a.assessors.all())}")
    for item in a.items.all():
        print(f"  [{item.get_decision_display() or 'not decided':>7}] {item.criterion.name}")
    for allocation in a.allocations.order_by("pk"):
        print(f"  Allocated {_money(allocation.amount)} for {allocation.get_stage_display().lower()}, {allocation.period}")
    addenda = list(a.addenda.all())
    if addenda:
        print(f"  {len(addenda)} addend{'um' if len(addenda) == 1 else 'a'}; see --markdown")
    if previous:
        print(f"  Previous reports: {', '.join(f'#{r.pk}' for r in previous)}")
    return 0


# ---------------------------------------------------------------- budgets


def cmd_budget_show(args) -> int:
    from . import queries

    service = _service(args.slug)
    money = queries.service_budget(service)
    totals = money["totals"]
    print(f"{service.name} ({service.get_lifecycle_stage_display().lower()})")
    print(f"  Allocated {_money(totals['allocated'])}; spent {_money(totals['spent'])}; "
          f"re-invested {_money(totals['reinvested'])}; remaining {_money(totals['remaining'])}")
    if not money["allocations"]:
        print("  No money has been allocated yet.")
    else:
        rows = [[f"#{a.pk}", a.period, a.get_stage_display().lower(), _money(a.amount), _money(a.spent),
                 _money(a.reinvested), _money(a.remaining),
                 f"report #{a.assessment_id}" if a.assessment_id else
                 f"request #{a.funding_request_id}" if a.funding_request_id else ""]
                for a in money["allocations"]]
        print()
        _table(rows, ["ID", "PERIOD", "STAGE", "ALLOCATED", "SPENT", "RE-INVESTED", "REMAINING", "FROM"])
    requests = list(queries.service_requests(service))
    if requests:
        print()
        for r in requests:
            amount = f" by {_money(r.amount)}" if r.amount is not None else ""
            print(f"  Request #{r.pk}: {r.get_kind_display().lower()}{amount} for {r.period} — "
                  f"{r.get_status_display().lower()}")
    return 0


def cmd_budget_allocate(args) -> int:
    from osom.cli import _person

    from . import actions

    service = _service(args.slug)
    allocation = actions.allocate_budget(actor=_person(args.as_email), service=service, period=args.period,
                                         amount=args.amount, stage=args.stage, note=args.note)
    print(f"Allocated {_money(allocation.amount)} to {service.name} for {allocation.period} "
          f"({allocation.get_stage_display().lower()}): allocation #{allocation.pk}.")
    return 0
