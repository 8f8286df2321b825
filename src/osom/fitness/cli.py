"""``osom`` commands for fitness data, the executive's figures, capital flow and the
dependency graph. Nothing of Django is imported at the top: the parser is built before
Django is set up.

- ``osom measure record SERVICE METRIC VALUE --start D [--end D] [--note] [--replace] --as EMAIL``
- ``osom measure import SERVICE FILE.csv --as EMAIL``: upload measurements (every bad row is named)
- ``osom measure export SERVICE [--metric KEY] [-o FILE]``: the measurements as CSV
- ``osom measure status SERVICE``: each metric's latest value against its target, and what is stale
- ``osom measure cadence SERVICE METRIC DAYS --as EMAIL``: how often a metric is reported
- ``osom measure token issue SERVICE [--label] --as EMAIL`` / ``revoke TOKEN_PREFIX --as EMAIL``
- ``osom figure list [--retired] | show SLUG | define NAME EXPRESSION [...] --as | retire SLUG --as``
- ``osom capital periods``, ``osom capital flow PERIOD [--service SLUG]``
- ``osom capital shares PROVIDER PERIOD CONSUMER=SHARE... --as``, ``osom capital transactions SERVICE PERIOD N --as``
- ``osom graph neighbours SLUG [--hops N]``, ``osom graph impact SLUG``, ``osom graph cycles``

Writes act as the person named by ``--as`` through the actions, so they are checked and
audited like any other; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

import sys

from osom.core.gcpause import pauses_cycle_collection

# the table, paging and shortening helpers are the governance commands' own
from osom.governance.cli import _limit, _more, _short, _table

__all__ = ["register", "GRAINS", "WITHIN", "STAGES"]

# The models' choices, repeated here so the parser needs no Django (a test keeps them equal).
GRAINS = ["month", "quarter", "year"]
WITHIN = ["latest", "sum", "mean"]
STAGES = ["discovery", "alpha", "beta", "live", "decommissioned"]
# How many row problems of an upload the one-line refusal names before counting the rest.
_ROWS_NAMED = 5


def _as(parser, who: str) -> None:
    parser.add_argument("--as", dest="as_email", metavar="EMAIL", required=True, help=who)


def register(sub) -> None:
    """Add this app's subcommands to the ``osom`` parser."""
    p = sub.add_parser("measure", help="a service's measurements: record, upload, export, status, cadence, "
                                       "ingest tokens")
    acts = p.add_subparsers(dest="measure_command", required=True, metavar="ACTION")
    q = acts.add_parser("record", help="record a value of one of a service's metrics for the period it covers")
    q.add_argument("service", metavar="SERVICE", help="the service's slug")
    q.add_argument("metric", metavar="METRIC", help="the metric's key (see `osom measure status SERVICE`)")
    q.add_argument("value", metavar="VALUE", help="the value, e.g. 99.5")
    q.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="the first day of the period")
    q.add_argument("--end", metavar="YYYY-MM-DD", help="its last day (default: the same day)")
    q.add_argument("--note", default="")
    q.add_argument("--replace", action="store_true", help="overwrite a value already recorded for that period")
    _as(q, "who records it: the service's manager or someone of its team")
    q.set_defaults(func=cmd_measure_record)
    q = acts.add_parser("import", help="upload measurements from a CSV file: metric, period_start, period_end, "
                                       "value, measured_at, note")
    q.add_argument("service", metavar="SERVICE")
    q.add_argument("file", metavar="FILE.csv", help="- for standard input")
    _as(q, "who uploads them: the service's manager or someone of its team")
    q.set_defaults(func=cmd_measure_import)
    q = acts.add_parser("export", help="print a service's measurements as CSV, in the columns an upload reads")
    q.add_argument("service", metavar="SERVICE")
    q.add_argument("--metric", metavar="KEY", default="", help="only this metric's")
    q.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of standard output")
    q.set_defaults(func=cmd_measure_export)
    q = acts.add_parser("status", help="each metric's latest value against its target, and what is overdue")
    q.add_argument("service", metavar="SERVICE")
    q.set_defaults(func=cmd_measure_status)
    q = acts.add_parser("cadence", help="how often a service reports a metric; later than that, it is stale")
    q.add_argument("service", metavar="SERVICE")
    q.add_argument("metric", metavar="METRIC")
    q.add_argument("days", metavar="DAYS", help="days between reports, 1 to 400")
    _as(q, "who sets it: the service's manager")
    q.set_defaults(func=cmd_measure_cadence)
    q = acts.add_parser("token", help="tokens a service's own systems push measurements with")
    tokens = q.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    r = tokens.add_parser("issue", help="issue an ingest token and print it (shown once)")
    r.add_argument("service", metavar="SERVICE")
    r.add_argument("--label", default="", help="what the token is for")
    _as(r, "who issues it: the service's manager")
    r.set_defaults(func=cmd_token_issue)
    r = tokens.add_parser("revoke", help="revoke an ingest token: pushes with it are refused from now on")
    r.add_argument("token", metavar="TOKEN_PREFIX", help="the token's first characters (osomi_…), or the whole token")
    _as(r, "who revokes it: the service's manager or the executive")
    r.set_defaults(func=cmd_token_revoke)

    p = sub.add_parser("figure", help="the executive's figures across services")
    acts = p.add_subparsers(dest="figure_command", required=True, metavar="ACTION")
    q = acts.add_parser("list", help="the figures in use, by name")
    q.add_argument("--retired", action="store_true", help="the retired ones instead")
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_figure_list)
    q = acts.add_parser("show", help="a figure and its value for each recent period")
    q.add_argument("slug", metavar="SLUG")
    q.add_argument("--periods", type=int, metavar="N", help="how many periods (default: 12 months, 8 quarters, 5 years)")
    q.set_defaults(func=cmd_figure_show)
    q = acts.add_parser("define", help="define a figure: an expression over metrics (the executive's act)")
    q.add_argument("name", metavar="NAME")
    q.add_argument("expression", metavar="EXPRESSION",
                   help="e.g. 'sum(cost where users = external) / sum(transactions)'")
    q.add_argument("--unit", default="")
    q.add_argument("--grain", choices=GRAINS, default="month", help="the periods it is computed for (default month)")
    q.add_argument("--within", choices=WITHIN, default="latest",
                   help="how one service's values inside a period are combined (default latest)")
    q.add_argument("--description", default="", metavar="TEXT")
    _as(q, "who defines it")
    q.set_defaults(func=cmd_figure_define)
    q = acts.add_parser("retire", help="retire a figure (the executive's act)")
    q.add_argument("slug", metavar="SLUG")
    _as(q, "who retires it")
    q.set_defaults(func=cmd_figure_retire)

    p = sub.add_parser("capital", help="capital flow: what each service really costs, by the reciprocal method")
    acts = p.add_subparsers(dest="capital_command", required=True, metavar="ACTION")
    q = acts.add_parser("periods", help="the budget periods with spending or consumption recorded")
    q.set_defaults(func=cmd_capital_periods)
    q = acts.add_parser("flow", help="a period's direct, fully loaded and external costs, per service")
    q.add_argument("period", metavar="PERIOD", help="a budget period, e.g. 2026-27")
    q.add_argument("--service", metavar="SLUG", help="one service's cost, by the providers it comes from")
    q.set_defaults(func=cmd_capital_flow)
    q = acts.add_parser("shares", help="record how a service's consumption in a period was shared among its "
                                       "consumers; the rest went to external users")
    q.add_argument("provider", metavar="PROVIDER", help="the service consumed, by slug")
    q.add_argument("period", metavar="PERIOD")
    q.add_argument("shares", nargs="*", metavar="CONSUMER=SHARE", help="e.g. parking-permits=0.3 or "
                                                                         "parking-permits=30%%; none: all external")
    _as(q, "who records them: the provider's manager or the executive")
    q.set_defaults(func=cmd_capital_shares)
    q = acts.add_parser("transactions", help="record how many transactions a service completed in a period")
    q.add_argument("service", metavar="SERVICE")
    q.add_argument("period", metavar="PERIOD")
    q.add_argument("transactions", metavar="N")
    _as(q, "who records them: the service's manager or someone of its team")
    q.set_defaults(func=cmd_capital_transactions)

    p = sub.add_parser("graph", help="the dependency graph of the current contracts")
    acts = p.add_subparsers(dest="graph_command", required=True, metavar="ACTION")
    q = acts.add_parser("neighbours", help="the running services within N dependencies of one, either way")
    q.add_argument("slug", metavar="SLUG")
    q.add_argument("--hops", type=int, default=1, help="how many dependencies away, 1 to 6 (default 1)")
    q.set_defaults(func=cmd_graph_neighbours)
    q = acts.add_parser("impact", help="who is affected if a service fails")
    q.add_argument("slug", metavar="SLUG")
    q.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    q.set_defaults(func=cmd_graph_impact)
    q = acts.add_parser("cycles", help="the dependency cycles among running services")
    q.set_defaults(func=cmd_graph_cycles)


# ---------------------------------------------------------------- helpers


def _person(email: str):
    from osom.cli import _person as find

    return find(email)


def _service(slug: str, field: str = "service"):
    from osom.core.errors import NotFound
    from osom.network.models import Service

    service = Service.objects.filter(slug=(slug or "").strip()).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field=field)
    return service


def _read(path: str, field: str) -> str:
    """A file's text (``-``: standard input); one that cannot be read is refused, naming ``field``."""
    from pathlib import Path

    from osom.core.errors import InvalidInput

    try:
        return sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not text in UTF-8.", field=field) from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror or exc}.", field=field) from None


def _write(path: str | None, text: str) -> None:
    """``text`` to a file, or to standard output when no file is named."""
    from pathlib import Path

    from osom.core.errors import InvalidInput

    if not path or path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.", field="output") from None


def _number(value) -> str:
    from osom.core.numbers import plain_number

    return plain_number(value) if value is not None else "—"


def _money(value) -> str:
    from osom.core.models import Organisation
    from osom.lifecycle.queries import format_money

    return format_money(value, Organisation.current().currency)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------- measurements


def cmd_measure_record(args) -> int:
    from . import actions

    service = _service(args.service)
    m = actions.record_measurement(actor=_person(args.as_email), service=service, metric_key=args.metric,
                                   value=args.value, period_start=args.start, period_end=args.end, note=args.note,
                                   replace=args.replace)
    print(f"Recorded {m.metric_key} = {_number(m.value)} for {service.name} ({m.period_start} to {m.period_end}).")
    return 0


def cmd_measure_import(args) -> int:
    from osom.core.errors import InvalidInput

    from . import actions

    service = _service(args.service)
    actor = _person(args.as_email)
    text = _read(args.file, "file")
    try:
        result = actions.import_measurements_csv(actor=actor, service=service, text=text)
    except InvalidInput as exc:
        problems = [m for texts in exc.errors.values() for m in texts] or [exc.message]
        if len(problems) > 1:  # every bad row, on the one line a refusal has
            named = "; ".join(p.rstrip(".") for p in problems[:_ROWS_NAMED])
            more = len(problems) - _ROWS_NAMED
            raise InvalidInput(f"{named}" + (f"; and {more} more." if more > 0 else "."), field=exc.field) from None
        raise
    print(f"Uploaded {_plural(result.total, 'measurement')} for {service.name}: {result.created} new, "
          f"{result.replaced} replaced.")
    return 0


def cmd_measure_export(args) -> int:
    from . import queries

    service = _service(args.service)
    _write(args.output, queries.measurements_csv(service, args.metric.strip()))
    if args.output and args.output != "-":
        print(f"Wrote the measurements of {service.name} to {args.output}.")
    return 0


def cmd_measure_status(args) -> int:
    from . import queries

    service = _service(args.service)
    views = queries.service_fitness(service, points=0)
    if not views:
        print(f"{service.name} has no approved contract yet, so no metrics to report.")
        return 0
    rows = []
    for v in views:
        s, metric = v.series, v.metric
        period = f"{s.latest_start}..{s.latest_end}" if s and s.latest_end else "—"
        due = f"{s.due_on}{' (stale)' if v.stale else ''}" if s and s.due_on else "—"
        target = f"{'≥' if metric.direction == 'higher' else '≤'} {_number(metric.target)}" if metric.target is not None else "—"
        rows.append([metric.key, target, _number(s.latest_value if s else None), metric.unit, period, v.status, due,
                     str(v.cadence_days)])
    print(f"{service.name}: {_plural(len(views), 'metric')}")
    _table(rows, ["METRIC", "TARGET", "LATEST", "UNIT", "PERIOD", "STATUS", "DUE", "EVERY (DAYS)"])
    stale = sum(v.stale for v in views)
    if stale:
        print(f"{_plural(stale, 'metric')} overdue.")
    return 0


def cmd_measure_cadence(args) -> int:
    from . import actions

    service = _service(args.service)
    series = actions.set_measurement_cadence(actor=_person(args.as_email), service=service, metric_key=args.metric,
                                             days=args.days)
    due = f"; next due {series.due_on}" if series.due_on else ""
    print(f"{service.name} reports {series.metric_key} every {series.cadence_days} days{due}.")
    return 0


def cmd_token_issue(args) -> int:
    from . import actions

    service = _service(args.service)
    token, raw = actions.issue_ingest_token(actor=_person(args.as_email), service=service, label=args.label)
    print(raw)
    print(f"Ingest token {token.prefix}… for {service.name}: send it as 'Authorization: Bearer <token>' to "
          "POST /api/v1/ingest. It is shown once: keep it safe.", file=sys.stderr)
    return 0


def cmd_token_revoke(args) -> int:
    from osom.core.errors import InvalidInput, NotFound

    from . import actions
    from .models import IngestToken

    given = (args.token or "").strip()
    # the stored prefix is the token's first characters: a whole token or a longer paste is cut to it
    prefix_length = len(IngestToken.PREFIX) + 6
    if not given.startswith(IngestToken.PREFIX) or len(given) <= len(IngestToken.PREFIX):
        raise InvalidInput(f"Give the token's first characters, starting {IngestToken.PREFIX}.", field="token")
    found = list(IngestToken.objects.select_related("service").filter(prefix__startswith=given[:prefix_length],
                                                                      revoked_at__isnull=True)[:2])
    if not found:
        raise NotFound(f"No ingest token in use starts with {given[:prefix_length]}.", field="token")
    if len(found) > 1:
        raise InvalidInput(f"More than one ingest token starts with {given}: give more of it.", field="token")
    token = actions.revoke_ingest_token(actor=_person(args.as_email), token=found[0])
    print(f"Revoked ingest token {token.prefix}… of {found[0].service.name}.")
    return 0


# ---------------------------------------------------------------- figures


def _figure(slug: str):
    from osom.core.errors import NotFound

    from .models import Aggregation

    figure = Aggregation.objects.filter(slug=(slug or "").strip()).first()
    if figure is None:
        raise NotFound(f"There is no figure “{slug}” (see `osom figure list`).", field="figure")
    return figure


def cmd_figure_list(args) -> int:
    from .models import Aggregation

    qs = Aggregation.objects.filter(retired_at__isnull=not args.retired).order_by("name", "pk")
    total = qs.count()
    if not total:
        print("No figure has been retired." if args.retired else "The executive has defined no figure yet.")
        return 0
    rows = [[f.slug, _short(f.name, 40), f.grain, f.unit or "—", _short(f.expression, 60)]
            for f in qs[: _limit(args.limit)]]
    _table(rows, ["SLUG", "NAME", "GRAIN", "UNIT", "EXPRESSION"])
    _more(total, len(rows))
    return 0


def cmd_figure_show(args) -> int:
    from osom.core.errors import InvalidInput

    from . import expressions, queries

    figure = _figure(args.slug)
    if args.periods is not None and not 1 <= args.periods <= 60:
        raise InvalidInput("Give from 1 to 60 periods.", field="periods")
    print(f"{figure.name} ({figure.slug}){' — retired' if figure.retired_at else ''}")
    print(f"  {figure.expression}")
    print(f"  By {figure.grain}; a service's values in a period: {figure.get_within_display().lower()}."
          + (f" Unit: {figure.unit}." if figure.unit else ""))
    if figure.description:
        print(f"  {_short(figure.description, 200)}")
    try:
        values = queries.aggregation_values(figure, count=args.periods)
    except expressions.ExpressionError as exc:
        print(f"  Its expression no longer reads: {exc.message}")
        return 0
    print()
    _table([[v["period"].label, _number(v["value"]) if v["value"] is not None else "—", v["reason"]]
            for v in values], ["PERIOD", "VALUE", ""])
    return 0


def cmd_figure_define(args) -> int:
    from . import actions

    figure = actions.define_aggregation(actor=_person(args.as_email), name=args.name, expression=args.expression,
                                        description=args.description, unit=args.unit, grain=args.grain,
                                        within=args.within)
    print(f"Defined the figure “{figure.name}” ({figure.slug}): {figure.expression}")
    return 0


def cmd_figure_retire(args) -> int:
    from . import actions

    figure = actions.retire_aggregation(actor=_person(args.as_email), aggregation=_figure(args.slug))
    print(f"Retired the figure “{figure.name}”.")
    return 0


# ---------------------------------------------------------------- capital flow


def cmd_capital_periods(args) -> int:
    from . import queries

    periods = queries.budget_periods_with_flow()
    if not periods:
        print("No spending or consumption has been recorded for any budget period yet.")
        return 0
    for period in periods:
        print(period)
    return 0


def _percent(share) -> str:
    """A share (a Decimal, or the exact Fraction capital flow computes) as a percentage."""
    from fractions import Fraction

    from .capital import round_fraction

    return f"{_number(round_fraction(Fraction(share) * 100, 2))} %"


def _flow(period: str):
    """The period's capital flow; a period with nothing recorded, or one money cannot
    leave, is refused in one line naming the services at fault."""
    from osom.core.errors import Conflict, NotFound

    from . import queries

    view = queries.capital_flow_for(period)
    if not view.services:
        raise NotFound(f"Nothing is recorded for the budget period “{period}” (see `osom capital periods`).",
                       field="period")
    if view.flow is None:
        names = ", ".join(s.name for s in view.error_services)
        message = f"The capital flow of {period} cannot be computed: {view.error}"
        if names and names not in message:
            message += f" (services: {names})"
        raise Conflict(message + ".", field="period")
    return view


@pauses_cycle_collection
def cmd_capital_flow(args) -> int:
    view = _flow(args.period)
    flow = view.flow
    if args.service:
        return _service_flow(view, _service(args.service))
    rows = []
    for pk in sorted(view.services, key=lambda pk: (view.services[pk].name.casefold(), pk)):
        count = view.transactions.get(pk)
        per = flow.cost_per_transaction(pk, count) if count else None
        rows.append([view.services[pk].name, _money(flow.direct[pk]), _money(flow.fully_loaded[pk]),
                     _percent(flow.external_share[pk]), _money(flow.external_cost[pk]),
                     f"{count:,}" if count is not None else "—", _number(per) if per is not None else "—"])
    print(f"Capital flow, {view.period}")
    _table(rows, ["SERVICE", "DIRECT", "FULLY LOADED", "EXTERNAL", "EXTERNAL COST", "TRANSACTIONS", "PER TRANSACTION"])
    print(f"Total direct spend {_money(flow.total_direct)}; reaching external users {_money(flow.total_external)}; "
          f"unallocated {_money(flow.unallocated)}.")
    return 0


def _service_flow(view, service) -> int:
    from osom.core.errors import NotFound

    flow = view.flow
    if service.pk not in view.services:
        raise NotFound(f"{service.name} has no spending or consumption recorded in {view.period}.", field="service")
    count = view.transactions.get(service.pk)
    per = flow.breakdown_per_transaction(service.pk, count) if count else None
    print(f"{service.name}, {view.period}: direct {_money(flow.direct[service.pk])}; fully loaded "
          f"{_money(flow.fully_loaded[service.pk])}; {_percent(flow.external_share[service.pk])} to external users "
          f"({_money(flow.external_cost[service.pk])})")
    if count:
        print(f"  {count:,} transactions: {_number(flow.cost_per_transaction(service.pk, count))} each")
    rows = [[view.services[k].name, _money(amount), _number(per[k]) if per else "—"]
            for k, amount in flow.breakdown(service.pk).items()]
    print()
    _table(rows, ["FROM", "AMOUNT", "PER TRANSACTION"])
    consumers = sorted(((view.services[c], s) for (p, c), s in view.shares.items() if p == service.pk),
                       key=lambda pair: pair[0].name.casefold())
    if consumers:
        print()
        _table([[c.name, _percent(s)] for c, s in consumers], ["USED BY", "SHARE"])
    return 0


def cmd_capital_shares(args) -> int:
    from osom.core.errors import InvalidInput

    from . import actions

    provider = _service(args.provider, field="provider")
    shares: dict[str, str] = {}
    for item in args.shares:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"“{item}” is not CONSUMER=SHARE.", field="shares")
        shares[name.strip()] = value.strip()
    rows = actions.record_consumption_shares(actor=_person(args.as_email), provider=provider, period=args.period,
                                             shares=shares)
    internal = sum(r.share for r in rows)
    parts = ", ".join(f"{r.consumer.name} {_percent(r.share)}" for r in rows) or "no internal consumer"
    print(f"Recorded {provider.name}'s consumption in {args.period.strip()}: {parts}; "
          f"{_percent(1 - internal)} external.")
    return 0


def cmd_capital_transactions(args) -> int:
    from . import actions

    service = _service(args.service)
    volume = actions.record_transactions(actor=_person(args.as_email), service=service, period=args.period,
                                         transactions=args.transactions)
    print(f"{service.name} completed {volume.transactions:,} transactions in {volume.period}.")
    return 0


# ---------------------------------------------------------------- the dependency graph


def cmd_graph_neighbours(args) -> int:
    from osom.core.errors import InvalidInput
    from osom.maps import queries

    if not 1 <= args.hops <= 6:
        raise InvalidInput("Give from 1 to 6 hops.", field="hops")
    view = queries.neighbourhood_view(_service(args.slug), args.hops)
    others = [n for n in view.nodes if n.relation != "centre"]
    print(f"{view.centre.name}: {_plural(len(others), 'service')} within {_plural(view.hops, 'dependency')}"
          + (" (cut at 400)" if view.truncated else ""))
    if others:
        _table([[n.service.slug, n.service.name, str(n.distance), n.relation, n.service.lifecycle_stage]
                for n in others], ["SLUG", "NAME", "DISTANCE", "SIDE", "STAGE"])
    return 0


def cmd_graph_impact(args) -> int:
    from osom.maps import queries

    view = queries.impact_view(_service(args.slug))
    if not view.total:
        print(f"No running service depends on {view.failed.name}: its failure affects no other service.")
        return 0
    print(f"If {view.failed.name} fails, {_plural(view.total, 'service')} are affected "
          f"({len(view.direct_ids):,} directly, up to {view.deepest} hops away; "
          f"{view.external_reached:,} meet external users).")
    rows = [[r.service.name, str(r.hops), " → ".join(s.name for s in r.chain)]
            for r in view.rows(view.order[: _limit(args.limit)])]
    _table(rows, ["SERVICE", "HOPS", "CHAIN"])
    _more(view.total, len(rows))
    return 0


def cmd_graph_cycles(args) -> int:
    from osom.maps import queries

    view = queries.cycles_view()
    if not view.cycles:
        print("The running network has no dependency cycle.")
        return 0
    print(f"{_plural(len(view.cycles), 'cycle')} through {_plural(view.services_in_cycles, 'service')}:")
    for cycle in view.cycles:
        print("  " + " → ".join(s.name for s in cycle))
    return 0
