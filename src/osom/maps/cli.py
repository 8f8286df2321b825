"""``osom map`` commands. Nothing of Django is imported here: maps are drawn from text alone.

- ``osom map render IN OUT``: draw the map text in IN (``-`` reads standard input) as SVG
  in OUT (``-`` writes standard output). Each line that was not understood is reported on
  standard error as ``IN:LINE: message``; the map is drawn all the same (exit 0). A file
  that cannot be read, or written, is one line on standard error and exit code 2.
"""

from __future__ import annotations

import sys

__all__ = ["register"]


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.buffer.read().decode("utf-8")
    with open(source, encoding="utf-8", newline="") as handle:
        return handle.read()


def cmd_map_render(args) -> int:
    from .svg import render_svg
    from .text import parse

    try:
        text = _read(args.source)
    except UnicodeDecodeError as exc:
        print(f"osom: cannot read {args.source}: it is not UTF-8 text (byte {exc.start}).", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"osom: cannot read {args.source}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    wmap = parse(text)
    svg = render_svg(wmap, width=args.width, height=args.height)
    try:
        if args.target == "-":
            sys.stdout.write(svg)
            sys.stdout.flush()
        else:
            with open(args.target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(svg)
    except OSError as exc:
        print(f"osom: cannot write {args.target}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    for warning in wmap.warnings:
        print(f"{args.source}:{warning.line}: {warning.message}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add ``osom map`` and its subcommands to the ``osom`` command's subparsers."""
    p = sub.add_parser("map", help="Wardley maps: draw map text as SVG")
    map_sub = p.add_subparsers(dest="map_command", required=True, metavar="ACTION")
    q = map_sub.add_parser("render", help="draw a map text file as an SVG picture",
                           description="Draw Wardley map text (the OnlineWardleyMaps language) as SVG. "
                                       "Lines that are not understood are reported as IN:LINE: message and kept out "
                                       "of the drawing; everything else is drawn.")
    q.add_argument("source", metavar="IN", help="the map text, UTF-8 (- for standard input)")
    q.add_argument("target", metavar="OUT", help="the SVG file to write (- for standard output)")
    q.add_argument("--width", type=int, default=900, help="width in pixels (default 900)")
    q.add_argument("--height", type=int, default=620, help="height in pixels (default 620)")
    q.set_defaults(func=cmd_map_render)
    from .cli_more import register_more  # network, show and save, which use the database
    register_more(map_sub)
