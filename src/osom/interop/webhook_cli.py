"""``osom webhooks``: send the deliveries that are due, and see the webhooks and their logs.
Nothing of Django is imported at the top: the parser is built before Django is set up.

- ``osom webhooks deliver [--loop] [--interval S] [--limit N] [--timeout S]``: post what is
  due once, or keep doing so every few seconds until stopped (Ctrl-C, or SIGTERM)
- ``osom webhooks list``: every webhook, its events and how its deliveries stand
- ``osom webhooks log WEBHOOK [--status S] [--limit N]``: a webhook's deliveries, newest first,
  with every attempt
"""

from __future__ import annotations

import signal
import sys
import time

__all__ = ["register"]

STATUSES = ["pending", "delivered", "failed"]  # WebhookDelivery.Status, repeated so the parser needs no Django


def _positive(kind):
    def parse(text: str):
        import argparse

        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"“{text}” is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError("give a number above 0")
        return value
    return parse


def register(sub) -> None:
    p = sub.add_parser("webhooks", help="send webhook deliveries; list webhooks and their delivery logs")
    what = p.add_subparsers(dest="webhooks_command", required=True, metavar="COMMAND")
    d = what.add_parser("deliver", help="post the deliveries that are due (with --loop, keep doing so)")
    d.add_argument("--loop", action="store_true", help="keep running, looking for due deliveries every few seconds")
    d.add_argument("--interval", type=_positive(float), default=5.0, help="seconds between looks with --loop (5)")
    d.add_argument("--limit", type=_positive(int), default=100, help="at most this many deliveries per look (100)")
    d.add_argument("--timeout", type=_positive(float), default=5.0, help="seconds to wait for each receiver (5)")
    d.set_defaults(func=cmd_deliver)
    lst = what.add_parser("list", help="every webhook, its events and its deliveries")
    lst.set_defaults(func=cmd_list)
    log = what.add_parser("log", help="a webhook's deliveries, the newest first, with every attempt")
    log.add_argument("webhook", type=int, metavar="WEBHOOK", help="the webhook's id (see osom webhooks list)")
    log.add_argument("--status", choices=STATUSES, help="only deliveries in this state")
    log.add_argument("--limit", type=_positive(int), default=20, help="at most this many deliveries (20)")
    log.set_defaults(func=cmd_log)


def _say(counts: dict[str, int]) -> str:
    return f"{counts['delivered']} delivered, {counts['retrying']} to retry, {counts['failed']} failed"


def cmd_deliver(args) -> int:
    from django.db import close_old_connections, connection

    from .webhooks import deliver_due

    if not args.loop:
        print(_say(deliver_due(limit=args.limit, timeout=args.timeout)))
        return 0
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    previous = signal.signal(signal.SIGTERM, stop)
    print(f"Sending webhook deliveries every {args.interval:g} s; Ctrl-C to stop.", flush=True)
    try:
        while not stopping:
            if not connection.in_atomic_block:
                close_old_connections()  # a long-running loop must not hold a connection the database dropped
            counts = deliver_due(limit=args.limit, timeout=args.timeout)
            if any(counts.values()):
                print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {_say(counts)}", flush=True)
            # a full batch means more may be due at once: look again without waiting
            if sum(counts.values()) < args.limit:
                slept = 0.0
                while slept < args.interval and not stopping:
                    time.sleep(min(0.5, args.interval - slept))
                    slept += 0.5
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("Stopped.", file=sys.stderr)
    return 0


def cmd_list(args) -> int:
    from django.db.models import Count, Q

    from osom.governance.cli import _table

    from .models import WebhookEndpoint

    counts = {s: Count("deliveries", filter=Q(deliveries__status=s)) for s in STATUSES}
    rows = [[str(e.pk), e.name, e.url, ", ".join(e.events), "active" if e.active else "removed",
             f"{e.delivered}/{e.pending}/{e.failed}"]
            for e in WebhookEndpoint.objects.annotate(**counts).order_by("-active", "name", "pk")]
    if not rows:
        print("No webhook yet.")
        return 0
    _table(rows, ["ID", "NAME", "URL", "EVENTS", "STATE", "DELIVERED/PENDING/FAILED"])
    return 0


def cmd_log(args) -> int:
    from django.utils.timezone import localtime

    from osom.core.errors import NotFound
    from osom.governance.cli import _more

    from .models import WebhookDelivery, WebhookEndpoint

    endpoint = WebhookEndpoint.objects.filter(pk=args.webhook).first()
    if endpoint is None:
        raise NotFound(f"There is no webhook with id {args.webhook}.", field="webhook")
    qs = WebhookDelivery.objects.filter(endpoint=endpoint).prefetch_related("attempt_log").order_by("-created_at", "-pk")
    if args.status:
        qs = qs.filter(status=args.status)
    total = qs.count()
    print(f"{endpoint.name} ({endpoint.url}){'' if endpoint.active else ', removed'}: {total} deliver"
          f"{'y' if total == 1 else 'ies'}")
    for d in qs[: args.limit]:
        when = localtime(d.created_at).strftime("%Y-%m-%d %H:%M:%S")
        extra = ""
        if d.status == "pending" and d.next_attempt_at:
            extra = f", next try {localtime(d.next_attempt_at):%Y-%m-%d %H:%M}"
        print(f"#{d.pk} {when} {d.event} {d.event_id} {d.status}, {d.attempts} attempt"
              f"{'' if d.attempts == 1 else 's'}{extra}")
        for a in sorted(d.attempt_log.all(), key=lambda a: a.number):
            answer = f"HTTP {a.status_code}" if a.status_code else "no answer"
            print(f"    {a.number}. {localtime(a.at):%Y-%m-%d %H:%M:%S} {answer} in {a.duration_ms} ms"
                  f"{': ' + a.error if a.error else ''}")
    _more(total, min(total, args.limit))
    return 0
