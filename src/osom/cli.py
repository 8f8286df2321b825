"""The ``osom`` command.

Writes act as a named person (``--as EMAIL``) and go through the same actions as the
pages and the API, so they are checked and audited like any other. A refusal prints one
line and exits with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main"]


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osom.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _person(email: str):
    from osom.core.errors import NotFound
    from osom.core.models import Person

    person = Person.objects.filter(email__iexact=(email or "").strip()).first()
    if person is None:
        raise NotFound(f"There is no one with the email address {email!r}.", field="email")
    return person


def cmd_demo(args) -> int:
    from osom.network.demo import DEMO_PASSWORD, load_demo

    _migrate()
    result = load_demo(verbose=True)
    print(result.summary)
    print(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for line in result.sign_ins:
        print(f"  {line}")
    return 0


def cmd_serve(args) -> int:
    from django.core.management import call_command

    _migrate()
    url = f"http://{args.host}:{args.port}/"
    print(f"OSOM is running at {url}  (Ctrl+C stops it)", flush=True)
    if args.dev:
        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
        return 0
    from gunicorn.app.base import BaseApplication

    from osom.wsgi import application

    class _App(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", "-" if args.access_log else None)

        def load(self):
            return application

    _App().run()
    return 0


def cmd_createperson(args) -> int:
    from osom.core.actions import create_person
    from osom.core.models import Person

    actor = _person(args.as_email) if args.as_email else None
    if actor is None and Person.objects.exists():
        from osom.core.errors import InvalidInput

        raise InvalidInput("Say who is adding this person: --as EMAIL of the executive or a member of its team.", field="as")
    role = args.role.replace("-", "_")
    password = os.environ.get("OSOM_NEW_PASSWORD") or None
    person = create_person(actor=actor, email=args.email, name=args.name or args.email.split("@")[0].replace(".", " ").title(),
                           role=role, areas_of_interest=args.areas or "", password=password)
    print(f"Added {person.name} <{person.email}> as {person.get_role_display().lower()}.")
    if password is None:
        print("They have no password yet: set one with `osom manage changepassword EMAIL`, or use `osom token EMAIL` for the API.")
    return 0


def cmd_token(args) -> int:
    from osom.core.actions import issue_api_token

    person = _person(args.email)
    token, raw = issue_api_token(actor=person, person=person, label=args.label or "command line", days=args.days)
    print(raw)
    expiry = f"expires {token.expires_at:%Y-%m-%d}" if token.expires_at else "never expires"
    print(f"Token for {person.email}; {expiry}. It is shown once: keep it safe.", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    from django.core.management import call_command

    call_command("check", deploy=args.deploy)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    vendor = connection.vendor
    if plan:
        print(f"Database ({vendor}) reachable; {len(plan)} migration(s) not yet applied: run `osom migrate`.")
        return 1
    print(f"Database ({vendor}) reachable and up to date. All checks passed.")
    return 0


def cmd_audit_verify(args) -> int:
    from osom.core.audit import verify_chain

    report = verify_chain()
    if report.intact:
        print(f"The audit log is intact: {report.checked} events, each chained to the one before.")
        return 0
    print(f"The audit log has been tampered with: {report.problem}.", file=sys.stderr)
    return 1


def cmd_backup(args) -> int:
    from osom.core.backup import backup_database

    path = backup_database(args.file)
    print(f"Backed up the database to {path}.")
    return 0


def cmd_restore(args) -> int:
    from osom.core.backup import restore_database

    if not args.yes:
        print("Restoring replaces everything in the database with the backup's content. "
              "Stop the app first, then run again with --yes.", file=sys.stderr)
        return 2
    path = restore_database(args.file)
    print(f"Restored {path} from {args.file}.")
    return 0


def cmd_migrate(args) -> int:
    _migrate(verbosity=1)
    return 0


def cmd_manage(args) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["osom manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osom", description="The OSOM platform: the service network and its governance.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="create or migrate the database and load the demo organisation (safe to repeat)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("serve", help="run the web app and API")
    p.add_argument("--host", default=os.environ.get("OSOM_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("OSOM_PORT", "8000")))
    p.add_argument("--workers", type=int, default=int(os.environ.get("OSOM_WORKERS", "2")))
    p.add_argument("--dev", action="store_true", help="Django's development server instead of gunicorn")
    p.add_argument("--access-log", action="store_true", help="print one line per request")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("createperson", help="add a person to the organisation")
    p.add_argument("email")
    p.add_argument("--role", default="member", choices=["executive", "executive-team", "executive_team", "member"])
    p.add_argument("--name", help="their name (default: from the email address)")
    p.add_argument("--areas", help="areas of interest, for executive team members")
    p.add_argument("--as", dest="as_email", metavar="EMAIL", help="who is adding them (not needed for the first person)")
    p.set_defaults(func=cmd_createperson)

    p = sub.add_parser("token", help="print a new personal API token for a person")
    p.add_argument("email")
    p.add_argument("--label", default="")
    p.add_argument("--days", type=int, default=90, help="days until it expires (default 90)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("check", help="check the configuration and the database")
    p.add_argument("--deploy", action="store_true", help="also run Django's deployment checks")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("audit", help="check the audit log")
    audit_sub = p.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    q = audit_sub.add_parser("verify", help="check that no audit event was changed, removed or inserted")
    q.set_defaults(func=cmd_audit_verify)

    p = sub.add_parser("backup", help="copy the embedded database to FILE while the app runs")
    p.add_argument("file")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="replace the embedded database with a backup (stop the app first)")
    p.add_argument("file")
    p.add_argument("--yes", action="store_true", help="confirm that everything in the database is replaced")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("migrate", help="create or update the database tables")
    p.set_defaults(func=cmd_migrate)

    # each app adds its own commands (their modules import nothing of Django at the top)
    from osom.bench.cli import register as register_bench
    from osom.fitness.cli import register as register_fitness
    from osom.governance.cli import register as register_governance
    from osom.interop.cli import register as register_interop
    from osom.interop.webhook_cli import register as register_webhooks
    from osom.interop.publish_cli import register as register_publish
    from osom.learning.cli import register as register_learning
    from osom.lifecycle.cli import register as register_lifecycle
    from osom.maps.cli import register as register_maps
    from osom.search.cli import register as register_search

    register_lifecycle(sub)
    register_governance(sub)
    register_learning(sub)
    register_fitness(sub)
    register_maps(sub)
    register_interop(sub)
    register_bench(sub)
    register_webhooks(sub)
    register_publish(sub)
    register_search(sub)

    p = sub.add_parser("manage", help="run a Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup()
    from osom.core.errors import DomainError

    try:
        return args.func(args) or 0
    except DomainError as exc:
        field = f" ({exc.field})" if exc.field else ""
        print(f"osom: {exc.message}{field}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
