"""``osom generate``: a large organisation to measure the platform against."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("it must be at least 1")
    return value


def cmd_generate(args) -> int:
    from django.core.management import call_command

    from .generate import generate_organisation

    call_command("migrate", interactive=False, verbosity=0)
    result = generate_organisation(services=args.services, seed=args.seed, years=args.years,
                                   progress=not args.quiet)
    if not args.quiet:
        print(result.summary)
        for name, count in sorted(result.counts.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<28} {count:>12,}")
    return 0


def register(sub) -> None:
    """Add ``osom generate`` to the ``osom`` parser."""
    p = sub.add_parser("generate", help="build a large, realistic organisation in an empty database, for benchmarks")
    p.add_argument("--services", type=_positive, required=True, metavar="N", help="how many services")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same organisation (default 1)")
    p.add_argument("--years", type=_positive, default=5, help="years of history and measurements (default 5)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.set_defaults(func=cmd_generate)
