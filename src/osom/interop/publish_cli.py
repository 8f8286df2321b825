"""``osom publish DIR [--markdown]``: the network as a static website, or as Markdown files
for a git repository. Nothing of Django is imported at the top: the parser is built before
Django is set up.

Publishing reads only; it needs no ``--as``, since what it writes is what everyone in the
organisation may already read.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["register"]


def register(sub) -> None:
    p = sub.add_parser("publish", help="write the network as a static website (or Markdown files) into a folder")
    p.add_argument("path", metavar="DIR", help="the folder to write (created, or replaced if it holds an earlier publication)")
    p.add_argument("--markdown", action="store_true", help="Markdown files with SVG maps, for a git repository")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the publication date the pages show (default: today)")
    p.set_defaults(func=cmd_publish)


def cmd_publish(args) -> int:
    import datetime as dt
    import time

    from osom.core.errors import InvalidInput

    published_on = None
    if args.date:
        try:
            published_on = dt.date.fromisoformat(args.date)
        except ValueError:
            raise InvalidInput(f"{args.date!r} is not a date: write it as YYYY-MM-DD.", field="date") from None
    started = time.monotonic()
    try:
        if args.markdown:
            from .publish_markdown import publish_markdown

            result = publish_markdown(Path(args.path), published_on=published_on)
        else:
            from .publish import publish_site

            result = publish_site(Path(args.path), published_on=published_on)
    except OSError as exc:
        print(f"osom: cannot write to {args.path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    took = time.monotonic() - started
    what = "Markdown files" if args.markdown else "a static website"
    print(f"Published {result.services} service{'s' if result.services != 1 else ''} as {what}: "
          f"{result.files} files in {result.path} ({took:.1f} s).")
    if not args.markdown:
        print(f"Open {Path(result.path).absolute() / 'index.html'} in a browser.", file=sys.stderr)
    return 0
