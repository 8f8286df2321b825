"""``osom import`` and ``osom export``: catalogues in and out. Nothing of Django is imported
at the top: the parser is built before Django is set up.

- ``osom import --from backstage PATH --as EMAIL [--team-role NAME] [--team-level LEVEL] [--dry-run]``:
  Backstage catalogue descriptors; the two options place the members of a Group that owns
  a service in its team when their User's annotations do not say their role or level
- ``osom import --from csv PATH --as EMAIL [--dry-run]``: services and needs from a spreadsheet (CSV)
- ``osom import --sync DIR --as EMAIL [--dry-run]``: contract drafts made to match a folder of YAML contracts
- ``osom export --to backstage DIR`` / ``osom export --to csv DIR``: the same formats written back
- ``osom export --to contracts DIR``: every running service's contract as ``<slug>.yaml``
- ``osom export DIR`` / ``osom import DIR [--dry-run]``: the whole organisation, every record,
  as files; loaded only into an empty database (see :mod:`osom.interop.whole`)

An import is all-or-nothing and ends with a report of what was mapped and what was not,
and why. It acts as the person named by ``--as``, checked and audited like any other write.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["register"]

IMPORT_FORMATS = {"backstage": "osom.interop.backstage", "csv": "osom.interop.spreadsheets"}
EXPORT_FORMATS = {**IMPORT_FORMATS, "contracts": "osom.interop.contracts"}


def register(sub) -> None:
    p = sub.add_parser("import", help="load a whole organisation (DIR), bring a catalogue in (Backstage descriptors, "
                                      "a spreadsheet) or sync YAML contracts")
    p.add_argument("path", metavar="PATH", nargs="?",
                   help="a folder or file to read (with --from); alone, a folder written by `osom export DIR`")
    p.add_argument("--from", dest="source", choices=sorted(IMPORT_FORMATS), help="the catalogue's format")
    p.add_argument("--sync", metavar="DIR", help="make contract drafts match the YAML contracts in DIR")
    p.add_argument("--as", dest="as_email", metavar="EMAIL",
                   help="who imports (the executive); needed with --from and --sync")
    p.add_argument("--team-role", metavar="NAME",
                   help="with --from backstage: the role in the professional framework of a Group's members whose "
                        "User has no osom/role annotation, in the teams of the services the Group owns")
    p.add_argument("--team-level", metavar="LEVEL",
                   help="with --from backstage: their level (trainee … head) when their User has no osom/level "
                        "annotation; practitioner if not given")
    p.add_argument("--dry-run", action="store_true", help="show what would change, and write nothing")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export", help="write the whole organisation out (DIR), or the catalogue as Backstage "
                                      "descriptors, a spreadsheet or YAML contracts (--to)")
    p.add_argument("path", metavar="DIR", help="the folder to write into (created if missing)")
    p.add_argument("--to", dest="target", choices=sorted(EXPORT_FORMATS),
                   help="a catalogue format to write; without it, every record of the organisation")
    p.set_defaults(func=cmd_export)


def _module(name: str):
    import importlib

    return importlib.import_module(EXPORT_FORMATS[name])


def _progress(done: int, total: int, what: str = "") -> None:
    """A progress bar on stderr, redrawn in place; silent when stderr is not a terminal."""
    if not sys.stderr.isatty() or total <= 0:
        return
    width = 30
    filled = int(width * done / total)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {what[:40]:<40}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_import(args) -> int:
    from osom.core.errors import DomainError
    from osom.core.models import Person

    if args.sync is not None and (args.source or args.path):
        print("osom: give either --sync DIR or --from FORMAT PATH, not both", file=sys.stderr)
        return 2
    if args.sync is None and not args.path:
        print("osom: say what to import: DIR written by `osom export DIR`, --from backstage|csv PATH, "
              "or --sync DIR for YAML contracts", file=sys.stderr)
        return 2
    team_options = {k: v for k, v in (("team_role", args.team_role), ("team_level", args.team_level)) if v is not None}
    if team_options and args.source != "backstage":
        print("osom: --team-role and --team-level are for --from backstage", file=sys.stderr)
        return 2
    if args.sync is None and not args.source:
        return _import_organisation(args)
    if not args.as_email:
        print("osom: say who imports, with --as EMAIL", file=sys.stderr)
        return 2
    actor = Person.objects.filter(email__iexact=args.as_email).first()
    if actor is None:
        print(f"osom: nobody has the email address {args.as_email}", file=sys.stderr)
        return 2
    path = Path(args.sync if args.sync is not None else args.path)
    if not path.exists():
        print(f"osom: {path} does not exist", file=sys.stderr)
        return 2
    try:
        if args.sync is not None:
            from osom.interop.contracts import sync_contracts

            report = sync_contracts(actor=actor, path=path, dry_run=args.dry_run, progress=_progress)
        else:
            report = _module(args.source).import_catalogue(actor=actor, path=path, dry_run=args.dry_run,
                                                           progress=_progress, **team_options)
    except DomainError as exc:
        return _refused(exc)
    print("\n".join(report.lines()))
    return 0


def _refused(exc) -> int:
    print(f"osom: {exc.message}", file=sys.stderr)
    for field, messages in exc.errors.items():
        for message in messages:
            if message != exc.message:
                print(f"  {field}: {message}" if field != "path" else f"  {message}", file=sys.stderr)
    return 2


def _import_organisation(args) -> int:
    from osom.core.errors import DomainError
    from osom.interop.whole_import import import_organisation

    if args.as_email:
        print("osom: a whole organisation loads into an empty database, where there is nobody to name with --as",
              file=sys.stderr)
        return 2
    path = Path(args.path)
    if not path.is_dir():
        print(f"osom: {path} is not a folder", file=sys.stderr)
        return 2
    try:
        report = import_organisation(path=path, dry_run=args.dry_run, progress=_progress)
    except DomainError as exc:
        return _refused(exc)
    print("\n".join(report.lines()))
    return 0


def cmd_export(args) -> int:
    path = Path(args.path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"osom: cannot write to {path}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.target is None:
        from osom.interop.whole_export import export_organisation

        counts = export_organisation(path=path, progress=_progress)
        print(f"Wrote {sum(counts.values())} records in {len(counts) + 1} files to {path}")
        return 0
    written = _module(args.target).export_catalogue(path=path)
    print(f"Wrote {written} file{'s' if written != 1 else ''} to {path}")
    return 0
