"""More ``osom map`` commands, those that read and write the database: the network map
drawn from the contracts, a service's saved map, and saving a new version of it. Nothing
of Django is imported at the top: the parser is built before Django is set up.

- ``osom map network [--around SLUG] [--stage S] [--evolution E] [--q WORDS] [--svg] [-o FILE]``
- ``osom map show SERVICE [--version N] [--svg] [-o FILE]``
- ``osom map save SERVICE FILE [--note] [--expected N] --as EMAIL``: each line not understood
  is reported on standard error as ``FILE:LINE: message``; the map is saved all the same

Writes act as the person named by ``--as`` through the actions, so they are checked and
audited like any other; a refusal prints one line and exits with code 2.
"""

from __future__ import annotations

import sys

__all__ = ["register_more", "STAGES", "EVOLUTION"]

# The models' choices, repeated here so the parser needs no Django (a test keeps them equal).
STAGES = ["discovery", "alpha", "beta", "live", "decommissioned"]
EVOLUTION = ["genesis", "custom", "product", "commodity"]


def register_more(map_sub) -> None:
    """Add the commands that use the database to ``osom map``'s subcommands."""
    q = map_sub.add_parser("network", help="the Wardley map of the running network, drawn from the contracts",
                           description="A map of the running service network: each service at its contract's "
                                       "evolution stage, those meeting external users at the top, what they consume "
                                       "below. Map text by default (every matching service); --svg draws it "
                                       "(at most 300 services, those meeting external users first).")
    q.add_argument("--around", metavar="SLUG", default="", help="only this service and what it depends on")
    q.add_argument("--stage", choices=STAGES, help="only the services at this lifecycle stage")
    q.add_argument("--evolution", choices=EVOLUTION, help="only the services at this evolution stage")
    q.add_argument("--q", metavar="WORDS", default="", help="only the services whose names contain these words")
    q.add_argument("--svg", action="store_true", help="draw it as SVG instead of writing map text")
    q.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of standard output")
    q.set_defaults(func=cmd_map_network)
    q = map_sub.add_parser("show", help="a service's saved map, as text or drawn as SVG")
    q.add_argument("service", metavar="SERVICE", help="the service's slug")
    q.add_argument("--version", type=int, metavar="N", help="an earlier version (default: the current one)")
    q.add_argument("--svg", action="store_true", help="draw it as SVG instead of printing its text")
    q.add_argument("-o", "--output", metavar="FILE", help="write to this file instead of standard output")
    q.set_defaults(func=cmd_map_show)
    q = map_sub.add_parser("save", help="save map text as a service's new current map version")
    q.add_argument("service", metavar="SERVICE", help="the service's slug")
    q.add_argument("file", metavar="FILE", help="the map text, UTF-8 (- for standard input)")
    q.add_argument("--note", default="", help="what changed")
    q.add_argument("--expected", type=int, metavar="N",
                   help="the version the text was edited from (0 for a first map): refuse if someone saved since")
    q.add_argument("--as", dest="as_email", metavar="EMAIL", required=True,
                   help="who saves it: the service's manager or someone of its team")
    q.set_defaults(func=cmd_map_save)


def _service(slug: str):
    from osom.core.errors import NotFound
    from osom.network.models import Service

    service = Service.objects.filter(slug=(slug or "").strip()).first()
    if service is None:
        raise NotFound(f"There is no service “{slug}”.", field="service")
    return service


def _write(path: str | None, text: str) -> None:
    """``text`` to a file, or to standard output when no file is named; a file that
    cannot be written is refused in one line."""
    from pathlib import Path

    from osom.core.errors import InvalidInput

    if not path or path == "-":
        sys.stdout.write(text)
        return
    try:
        Path(path).write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise InvalidInput(f"Cannot write {path}: {exc.strerror or exc}.", field="output") from None


def _title(selection, args) -> str:
    parts = []
    if selection.around:
        parts.append(f"what {selection.around['name']} depends on")
    if args.stage:
        parts.append(f"{args.stage} services")
    if args.evolution:
        parts.append(f"{args.evolution} services")
    if args.q.strip():
        parts.append(f"names containing “{args.q.strip()}”")
    return "Service network" + (": " + ", ".join(parts) if parts else "")


def cmd_map_network(args) -> int:
    from osom.core.errors import NotFound

    from . import queries
    from .network import network_map
    from .svg import render_svg

    selection = queries.network_selection(around=args.around.strip(), stage=args.stage or "",
                                          evolution=args.evolution or "", q=args.q.strip(),
                                          cap=queries.DRAWING_CAP if args.svg else 10**9)
    if selection.not_found:
        raise NotFound(f"There is no running service “{args.around.strip()}”.", field="around")
    wardley_map = network_map(selection.nodes, selection.edges, title=_title(selection, args))
    if args.svg:
        count = len(selection.nodes)
        _write(args.output, render_svg(wardley_map, width=min(3200, 900 + 9 * count), height=min(2400, 620 + 6 * count)))
    else:
        _write(args.output, wardley_map.to_text())
    if selection.capped:
        print(f"Drew {len(selection.nodes)} of the {selection.matched} services that match; narrow it with "
              "--around, --stage, --evolution or --q.", file=sys.stderr)
    if args.output and args.output != "-":
        print(f"Wrote the map of {len(selection.nodes)} services to {args.output}.")
    return 0


def cmd_map_show(args) -> int:
    from osom.core.errors import NotFound

    from . import queries
    from .models import MapVersion
    from .svg import render_svg
    from .text import parse

    service = _service(args.service)
    if args.version is not None:
        version = MapVersion.objects.filter(service=service, number=args.version).first()
        if version is None:
            raise NotFound(f"{service.name}'s map has no version {args.version}.", field="version")
    else:
        version = queries.current_map(service)
        if version is None:
            raise NotFound(f"{service.name} has no map yet: save one with `osom map save`.", field="service")
    _write(args.output, render_svg(parse(version.text)) if args.svg else version.text)
    if args.output and args.output != "-":
        print(f"Wrote version {version.number} of {service.name}'s map to {args.output}.")
    return 0


def cmd_map_save(args) -> int:
    from pathlib import Path

    from osom.cli import _person
    from osom.core.errors import InvalidInput

    from .actions import save_service_map
    from .text import parse

    service = _service(args.service)
    actor = _person(args.as_email)
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{args.file} is not text in UTF-8.", field="file") from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {args.file}: {exc.strerror or exc}.", field="file") from None
    version = save_service_map(actor=actor, service=service, text=text, note=args.note,
                               expected_number=args.expected)
    for warning in parse(version.text).warnings:
        print(f"{args.file}:{warning.line}: {warning.message}", file=sys.stderr)
    understood = (f"; {version.warnings} line{'' if version.warnings == 1 else 's'} not understood"
                  if version.warnings else "")
    print(f"Saved version {version.number} of {service.name}'s map{understood}.")
    return 0
