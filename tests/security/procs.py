"""Separate processes acting on a real database, as the app's workers do in production.

The race and crash tests cannot use pytest-django's test database (each test runs inside
one transaction that is never committed), so they run this file as a script, in its own
process, with settings pointing at a database of their own. A scenario is named by a key,
``NAME@TAG``: the scenario, and a tag that keeps its copies' objects apart.

    python tests/security/procs.py setup KEY...           # the people, then each scenario's objects
    python tests/security/procs.py race KEY together      # two processes act at the same moment
    python tests/security/procs.py race KEY interleaved   # the second acts while the first is inside its act
    python tests/security/procs.py crash KEY              # act, stop inside the transaction, wait to be killed
    python tests/security/procs.py after KEY [--no-redo]  # the database now; then the act again, to the end

Each command ends by printing one line ``RESULT <json>``. The tests import this module
for :func:`prepare`, :func:`run`, :func:`start` and :func:`wait_until_inside`, which import
nothing of Django: the test process never touches these databases itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).resolve()
IDS_FILE = "scenario-ids.json"
# Generous bounds so that a hung process fails the test instead of hanging the suite;
# nothing is asserted about how long anything takes.
PROCESS_TIMEOUT = 300

# ============================================================== the test side (no Django)


def postgres_url() -> str | None:
    """The PostgreSQL server the suite runs on, if it runs on one."""
    url = os.environ.get("OSOM_DATABASE_URL", "")
    return url if urlparse(url).scheme in {"postgres", "postgresql", "postgresql+psycopg"} else None


def _admin(server_url: str, sql: str) -> None:
    import psycopg

    parsed = urlparse(server_url)
    maintenance = urlunparse(parsed._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class Database:
    """A database of one test module's own: an SQLite file in ``folder``, or a fresh
    PostgreSQL database on the suite's server."""

    backend: str  # "sqlite" or "postgresql"
    folder: Path
    url: str | None = None
    name: str = ""

    @classmethod
    def create(cls, backend: str, folder: Path, label: str) -> Database:
        folder.mkdir(parents=True, exist_ok=True)
        if backend == "sqlite":
            return cls(backend, folder)
        server = postgres_url()
        if server is None:
            raise LookupError("OSOM_DATABASE_URL does not name a PostgreSQL server")
        name = f"osom_{label}_{os.getpid()}"
        _admin(server, f'DROP DATABASE IF EXISTS "{name}"')
        _admin(server, f'CREATE DATABASE "{name}"')
        url = urlunparse(urlparse(server)._replace(path=f"/{name}"))
        return cls(backend, folder, url, name)

    def drop(self) -> None:
        if self.backend != "postgresql":
            return
        import psycopg

        try:  # a killed process's session may not have ended yet
            _admin(postgres_url(), f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        except psycopg.errors.SyntaxError:  # before PostgreSQL 13
            _admin(postgres_url(), f'DROP DATABASE IF EXISTS "{self.name}"')

    @property
    def sqlite_file(self) -> Path:
        return self.folder / "osom.sqlite3"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OSOM_", "DJANGO_"))}
        env.update(OSOM_DATA_DIR=str(self.folder), DJANGO_SETTINGS_MODULE="osom.settings",
                   OSOM_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
        if self.url:
            env["OSOM_DATABASE_URL"] = self.url
        return env


def skip_reason(backend: str) -> str | None:
    """Each run of the suite covers its own database: SQLite by default, PostgreSQL when
    OSOM_DATABASE_URL names one (as in the second run of CI)."""
    if not hasattr(os, "fork"):
        return "needs os.fork and signals (Linux)"
    if backend == "postgresql" and postgres_url() is None:
        return "needs OSOM_DATABASE_URL to name a PostgreSQL server (set in CI's second run)"
    if backend == "sqlite" and postgres_url() is not None:
        return "the suite runs on PostgreSQL now; the SQLite case runs when it runs on SQLite"
    return None


def prepare(backend: str, folder: Path, label: str, keys: list[str]) -> Database:
    """A new database, migrated by ``osom migrate``, with each scenario's objects made."""
    db = Database.create(backend, folder, label)
    migrated = osom(db, "migrate")
    assert migrated.returncode == 0, migrated.stderr[-6000:]
    if keys:
        run(db, "setup", *keys)
    return db


def _result(proc_out: str, proc_err: str, what: str) -> dict:
    for line in reversed(proc_out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise AssertionError(f"{what} printed no result.\n--- stdout\n{proc_out[-3000:]}\n--- stderr\n{proc_err[-6000:]}")


def run(db: Database, *args: str) -> dict:
    """Run a command of this script in a new process; its result."""
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], check=False, cwd=ROOT, env=db.env(), capture_output=True,
                          text=True, timeout=PROCESS_TIMEOUT)
    result = _result(proc.stdout, proc.stderr, " ".join(args))
    assert proc.returncode == 0, proc.stderr[-6000:]
    return result


def osom(db: Database, *args: str) -> subprocess.CompletedProcess:
    """The ``osom`` command, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "osom.cli", *args], check=False, cwd=ROOT, env=db.env(), capture_output=True,
                          text=True, timeout=PROCESS_TIMEOUT)


def start(db: Database, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), *args], cwd=ROOT, env=db.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until_inside(proc: subprocess.Popen) -> tuple[dict, dict]:
    """Read the process's output until it says it is inside the act; returns the state
    of the database it saw just before the act, and what it reported from inside."""
    import queue
    import threading

    lines: queue.Queue = queue.Queue()

    def read() -> None:
        with proc.stdout:
            for line in proc.stdout:
                lines.put(line)
        lines.put("")  # the process has closed its output: it ended

    threading.Thread(target=read, daemon=True).start()
    before, seen = None, []
    deadline = time.monotonic() + PROCESS_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=5)
        except queue.Empty:
            continue
        if not line:
            break
        seen.append(line)
        if line.startswith("BEFORE "):
            before = json.loads(line[len("BEFORE "):])
        elif line.startswith("INSIDE "):
            return before, json.loads(line[len("INSIDE "):])
    proc.kill()
    proc.wait()
    raise AssertionError(f"The process never reached the middle of the act.\n--- stdout\n{''.join(seen)[-3000:]}"
                         f"\n--- stderr\n{proc.stderr.read()[-6000:]}")


# ============================================================ the process side (Django)


def _say(prefix: str, value) -> None:
    print(f"{prefix} {json.dumps(value, default=str)}", flush=True)


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osom.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # for tests.factories
    import django

    django.setup()


EXECUTIVE, MANAGER, OTHER_MANAGER = "ada@example.org", "max@example.org", "olu@example.org"


def _person(email: str):
    from osom.core.models import Person

    return Person.objects.get(email=email)


def _day(days: int) -> dt.date:
    from django.utils import timezone

    return timezone.localdate() + dt.timedelta(days=days)


def _service(name: str, manager_email: str = MANAGER):
    from tests import factories

    return factories.service(_person(EXECUTIVE), name, manager=_person(manager_email))


def _ready_report(service, outcome: str):
    """An assessment of ``service`` with its agenda published and every decision recorded:
    only the report is left to publish."""
    from osom.lifecycle import actions as lifecycle
    from osom.lifecycle.models import Criterion

    ex = _person(EXECUTIVE)
    criteria = list(Criterion.objects.filter(active=True).order_by("position")[:2])
    assessment = lifecycle.schedule_assessment(actor=ex, service=service, kind="transition", scheduled_for=_day(7),
                                               assessors=[ex], criteria=criteria)
    lifecycle.publish_assessment_agenda(actor=ex, assessment=assessment)
    lifecycle.record_assessment_decisions(
        actor=ex, assessment=assessment, result="met", outcome=outcome, summary="Judged on the evidence.",
        decisions={c.slug: {"decision": "met", "did_well": "Clear research.", "to_improve": "Nothing."} for c in criteria})
    return assessment


def _audit_count(verbs, **filters) -> int:
    from osom.core.models import AuditEvent

    verbs = [verbs] if isinstance(verbs, str) else list(verbs)
    return AuditEvent.objects.filter(verb__in=verbs, **filters).count()


def _notified(link: str) -> int:
    from osom.core.models import Notification

    return Notification.objects.filter(link=link).count()


# ---------------------------------------------------------------------- the scenarios
# Each makes its objects (``setup``, through the actions, returning their ids), reads
# what a page would have read before acting (``prepare``, returning the act itself) and
# says what the database holds afterwards (``facts``).


def _setup_people() -> None:
    from osom.core.actions import create_person

    ex = create_person(actor=None, email=EXECUTIVE, name="Ada Lovelace", role="executive")
    create_person(actor=ex, email=MANAGER, name="Max Manager")
    create_person(actor=ex, email=OTHER_MANAGER, name="Olu Other")


# contract versions and teams


def setup_approve_version(tag: str) -> dict:
    from osom.network import actions as network

    service = _service(f"Parking permits {tag}")
    draft = network.draft_contract_version(actor=_person(MANAGER), service=service, change_note="Clearer support hours.")
    network.submit_contract_version(actor=_person(MANAGER), version=draft)
    return {"service": service.pk, "version": draft.pk}


def prepare_approve_version(ids: dict, who: int) -> Callable:
    from osom.network import actions as network
    from osom.network.models import ContractVersion

    ex, version = _person(EXECUTIVE), ContractVersion.objects.select_related("service").get(pk=ids["version"])
    return lambda: network.approve_contract_version(actor=ex, version=version)


def facts_approve_version(ids: dict) -> dict:
    from django.urls import reverse

    from osom.network.models import ContractVersion, Service

    service = Service.objects.select_related("current_version").get(pk=ids["service"])
    version = ContractVersion.objects.get(pk=ids["version"])
    return {
        "status": version.status,
        "current_version": service.current_version.number,
        "approved_versions": service.versions.filter(status="approved").count(),
        "events": _audit_count("approve_contract_version", object_id=str(version.pk)),
        "notified": _notified(reverse("network:version", args=[service.slug, version.number])),
    }


def setup_approve_or_return(tag: str) -> dict:
    from osom.network import actions as network

    service = _service(f"Street trading {tag}")
    draft = network.draft_contract_version(actor=_person(MANAGER), service=service, change_note="New pitch fees.")
    network.submit_contract_version(actor=_person(MANAGER), version=draft)
    return {"service": service.pk, "version": draft.pk}


def prepare_approve_or_return(ids: dict, who: int) -> Callable:
    """One process returns the submitted version to its manager while the other approves it."""
    from osom.network import actions as network
    from osom.network.models import ContractVersion

    ex, version = _person(EXECUTIVE), ContractVersion.objects.select_related("service").get(pk=ids["version"])
    if who == 0:
        return lambda: network.return_contract_version(actor=ex, version=version, reason="Say who pays the fees.")
    return lambda: network.approve_contract_version(actor=ex, version=version)


def facts_approve_or_return(ids: dict) -> dict:
    from osom.network.models import ContractVersion, Service

    service = Service.objects.select_related("current_version").get(pk=ids["service"])
    version = ContractVersion.objects.get(pk=ids["version"])
    return {
        "status": version.status,
        "current_version": service.current_version.number,
        "events": _audit_count(["approve_contract_version", "return_contract_version"], object_id=str(version.pk)),
    }


def setup_draft_version(tag: str) -> dict:
    return {"service": _service(f"Street lighting {tag}").pk}


def prepare_draft_version(ids: dict, who: int) -> Callable:
    from osom.network import actions as network
    from osom.network.models import Service

    mgr, service = _person(MANAGER), Service.objects.get(pk=ids["service"])
    return lambda: network.draft_contract_version(actor=mgr, service=service, change_note=f"Change by process {who}.")


def facts_draft_version(ids: dict) -> dict:
    from osom.network.models import ContractVersion

    return {
        "open_drafts": ContractVersion.objects.filter(service_id=ids["service"], status="draft").count(),
        "events": _audit_count("draft_contract_version", service_id=ids["service"]),
    }


def setup_add_team_member(tag: str) -> dict:
    from osom.core.actions import create_person

    service = _service(f"Libraries {tag}")
    joiner = create_person(actor=_person(EXECUTIVE), email=f"joiner-{tag}@example.org", name=f"Jo Iner {tag}")
    return {"service": service.pk, "person": joiner.pk}


def prepare_add_team_member(ids: dict, who: int) -> Callable:
    from osom.core.models import Person
    from osom.network import actions as network
    from osom.network.models import ProfessionalRole, Service

    mgr, service = _person(MANAGER), Service.objects.get(pk=ids["service"])
    joiner, role = Person.objects.get(pk=ids["person"]), ProfessionalRole.objects.get(name="User researcher")
    return lambda: network.add_team_member(actor=mgr, service=service, person=joiner, role=role, level="senior")


def facts_add_team_member(ids: dict) -> dict:
    from osom.network.models import TeamMembership

    return {
        "memberships": TeamMembership.objects.filter(service_id=ids["service"], person_id=ids["person"],
                                                     ended_at__isnull=True).count(),
        "events": _audit_count("add_team_member", service_id=ids["service"]),
    }


# personal API tokens


def setup_revoke_token(tag: str) -> dict:
    from osom.core.actions import issue_api_token

    token, _ = issue_api_token(actor=_person(MANAGER), person=_person(MANAGER), label=f"scripts {tag}")
    return {"token": token.pk}


def prepare_revoke_token(ids: dict, who: int) -> Callable:
    """The token's owner revokes it while the executive revokes it too."""
    from osom.core.actions import revoke_api_token
    from osom.core.models import ApiToken

    actor, token = _person(MANAGER if who == 0 else EXECUTIVE), ApiToken.objects.select_related("person").get(pk=ids["token"])
    return lambda: revoke_api_token(actor=actor, token=token)


def facts_revoke_token(ids: dict) -> dict:
    from osom.core.models import ApiToken

    return {
        "revoked": ApiToken.objects.filter(pk=ids["token"], revoked_at__isnull=False).exists(),
        "events": _audit_count("revoke_api_token", object_id=str(ids["token"])),
    }


# assessments and the lifecycle


def setup_publish_report(tag: str) -> dict:
    service = _service(f"Bus passes {tag}")
    return {"service": service.pk, "assessment": _ready_report(service, "progress_to_alpha").pk}


def prepare_publish_report(ids: dict, who: int) -> Callable:
    from osom.lifecycle import actions as lifecycle
    from osom.lifecycle.models import Assessment

    ex, assessment = _person(EXECUTIVE), Assessment.objects.select_related("service").get(pk=ids["assessment"])
    return lambda: lifecycle.publish_assessment_report(actor=ex, assessment=assessment, budget_amount="25000.00",
                                                       budget_period="2026-27")


def _lifecycle_facts(ids: dict) -> dict:
    from osom.lifecycle.models import Assessment, BudgetAllocation, StageChange
    from osom.network.models import Service

    service = Service.objects.get(pk=ids["service"])
    assessment = Assessment.objects.get(pk=ids["assessment"])
    return {
        "status": assessment.status,
        "stage": service.lifecycle_stage,
        "stage_changes": StageChange.objects.filter(service=service).count(),
        "allocations": BudgetAllocation.objects.filter(service=service).count(),
        "versions": service.versions.count(),
        "decommissioned_versions": service.versions.filter(lifecycle_stage="decommissioned").count(),
        "open_assessments": service.assessments.filter(status__in=["scheduled", "agenda"]).count(),
        "events": _audit_count(["publish_assessment_report", "cancel_assessment"], object_id=str(assessment.pk)),
    }


facts_publish_report = _lifecycle_facts


def setup_decommission(tag: str) -> dict:
    service = _service(f"Fax gateway {tag}")
    return {"service": service.pk, "assessment": _ready_report(service, "not_required").pk}


def prepare_decommission(ids: dict, who: int) -> Callable:
    from osom.lifecycle import actions as lifecycle
    from osom.lifecycle.models import Assessment

    ex, assessment = _person(EXECUTIVE), Assessment.objects.select_related("service").get(pk=ids["assessment"])
    return lambda: lifecycle.publish_assessment_report(
        actor=ex, assessment=assessment, decommission_condition="b",
        decommission_reasons="Nobody sends faxes any more.", migration_path="Use email.")


facts_decommission = _lifecycle_facts


def setup_report_or_cancel(tag: str) -> dict:
    service = _service(f"Allotments {tag}")
    return {"service": service.pk, "assessment": _ready_report(service, "progress_to_alpha").pk}


def prepare_report_or_cancel(ids: dict, who: int) -> Callable:
    """One process cancels the assessment while the other publishes its report."""
    from osom.lifecycle import actions as lifecycle
    from osom.lifecycle.models import Assessment

    ex, assessment = _person(EXECUTIVE), Assessment.objects.select_related("service").get(pk=ids["assessment"])
    if who == 0:
        return lambda: lifecycle.cancel_assessment(actor=ex, assessment=assessment, reason="The team asked for more time.")
    return lambda: lifecycle.publish_assessment_report(actor=ex, assessment=assessment, budget_amount="8000.00",
                                                       budget_period="2026-27")


facts_report_or_cancel = _lifecycle_facts


def setup_schedule_assessment(tag: str) -> dict:
    return {"service": _service(f"Pest control {tag}").pk}


def prepare_schedule_assessment(ids: dict, who: int) -> Callable:
    from osom.lifecycle import actions as lifecycle
    from osom.network.models import Service

    ex, service = _person(EXECUTIVE), Service.objects.get(pk=ids["service"])
    return lambda: lifecycle.schedule_assessment(actor=ex, service=service, kind="transition",
                                                 scheduled_for=_day(10 + who), assessors=[ex])


def facts_schedule_assessment(ids: dict) -> dict:
    from osom.lifecycle.models import Assessment

    return {
        "open_assessments": Assessment.objects.filter(service_id=ids["service"], status__in=["scheduled", "agenda"]).count(),
        "events": _audit_count("schedule_assessment", service_id=ids["service"]),
    }


# governance


def setup_issue_mandate(tag: str) -> dict:
    from osom.governance import actions as governance

    services = [_service(f"Recycling {tag}"), _service(f"Planning {tag}", OTHER_MANAGER)]
    mandate = governance.draft_mandate(actor=_person(EXECUTIVE), title="Publish metrics monthly",
                                       instruction="Publish every metric each month.", due_date=_day(60),
                                       services=services)
    return {"mandate": mandate.pk}


def prepare_issue_mandate(ids: dict, who: int) -> Callable:
    from osom.governance import actions as governance
    from osom.governance.models import Mandate

    ex, mandate = _person(EXECUTIVE), Mandate.objects.get(pk=ids["mandate"])
    return lambda: governance.issue_mandate(actor=ex, mandate=mandate)


def facts_issue_mandate(ids: dict) -> dict:
    from django.urls import reverse

    from osom.governance.models import Mandate

    mandate = Mandate.objects.get(pk=ids["mandate"])
    return {
        "status": mandate.status,
        "targets": mandate.targets.count(),
        "notified": _notified(reverse("governance:mandate", args=[mandate.pk])),
        "events": _audit_count("issue_mandate", object_id=str(mandate.pk)),
    }


BULK = 40


def setup_issue_mandate_bulk(tag: str) -> dict:
    """A mandate whose saved filter chooses many services, each with its own manager:
    issuing it writes a target and a notification per service in one act."""
    from osom.core.actions import create_person
    from osom.governance import actions as governance

    ex = _person(EXECUTIVE)
    for n in range(1, BULK + 1):
        create_person(actor=ex, email=f"bulk{n}@example.org", name=f"Bulk Manager {n}")
        _service(f"Bulk street {n} {tag}", f"bulk{n}@example.org")
    mandate = governance.draft_mandate(actor=ex, title="Adopt the street register", instruction="Use the register.",
                                       due_date=_day(90), scope_filter={"q": "Bulk street"})
    return {"mandate": mandate.pk}


prepare_issue_mandate_bulk = prepare_issue_mandate
facts_issue_mandate_bulk = facts_issue_mandate


# learning


def setup_publish_coe(tag: str) -> dict:
    from osom.learning import actions as learning

    service = _service(f"Renewals {tag}")
    coe = learning.write_coe(actor=_person(MANAGER), service=service, content={
        "title": "Renewals failed overnight", "occurred_on": _day(-2).isoformat(), "users_affected": True,
        "problem": "Renewals failed.", "impact": "300 residents could not renew.",
        "root_cause": "An expired certificate.", "lessons": "Watch certificates.",
        "actions": [{"description": "Alert on expiry", "owner": MANAGER, "due_date": _day(7).isoformat()}],
    })
    return {"coe": coe.pk}


def prepare_publish_coe(ids: dict, who: int) -> Callable:
    from osom.learning import actions as learning
    from osom.learning.models import CorrectionOfError

    mgr, coe = _person(MANAGER), CorrectionOfError.objects.select_related("service").get(pk=ids["coe"])
    return lambda: learning.publish_coe(actor=mgr, coe=coe)


def facts_publish_coe(ids: dict) -> dict:
    from django.urls import reverse

    from osom.learning.models import CorrectionOfError

    coe = CorrectionOfError.objects.get(pk=ids["coe"])
    return {
        "status": coe.status,
        "notified": _notified(reverse("learning:coe", args=[coe.pk])),
        "events": _audit_count("publish_coe", object_id=str(coe.pk)),
    }


# the demo organisation, loaded in one transaction into an empty database


def setup_demo(tag: str) -> dict:
    return {}


def prepare_demo(ids: dict, who: int) -> Callable:
    from osom.network.demo import load_demo

    return lambda: load_demo().created


def facts_demo(ids: dict) -> dict:
    from osom.core.models import AuditEvent, Person
    from osom.network.models import Service

    return {"people": Person.objects.count(), "services": Service.objects.count(), "events": AuditEvent.objects.count()}


# a catalogue imported from a spreadsheet: every service adopted in one transaction

IMPORTED = 24


def setup_import_catalogue(tag: str) -> dict:
    from django.conf import settings
    from django.utils.text import slugify

    folder = Path(settings.DATA_DIR) / f"catalogue-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"Imported register {tag} {i}" for i in range(IMPORTED)]
    services = ["name,lifecycle stage,evolution stage,user type,manager email,purpose"]
    services += [f"{name},live,product,internal,{MANAGER},A register caseworkers look things up in." for name in names]
    needs = ["service slug,as a,i need,so that"]
    needs += [f"{slugify(name)},caseworker,to look up a record,I can answer the resident" for name in names]
    (folder / "services.csv").write_text("\n".join(services) + "\n", encoding="utf-8")
    (folder / "needs.csv").write_text("\n".join(needs) + "\n", encoding="utf-8")
    return {"folder": str(folder), "prefix": f"Imported register {tag} "}


def prepare_import_catalogue(ids: dict, who: int) -> Callable:
    from osom.interop.spreadsheets import import_catalogue

    ex = _person(EXECUTIVE)
    return lambda: import_catalogue(actor=ex, path=Path(ids["folder"]), dry_run=False)


def facts_import_catalogue(ids: dict) -> dict:
    from osom.network.models import Service

    return {"services": Service.objects.filter(name__startswith=ids["prefix"]).count(),
            "events": _audit_count("import_catalogue")}


@dataclass(frozen=True)
class Stop:
    """Where a process stops inside an act: after the ``nth`` call of ``module.name`` returns."""

    module: str
    name: str
    nth: int = 1


# Where each crash scenario is stopped. ``notify`` and ``audit.record`` are called near
# the end of an act, after everything else is written, inside its transaction.
STOPS = {
    "approve_version": Stop("osom.network.actions", "notify"),
    "publish_report": Stop("osom.core.audit", "record"),
    "decommission": Stop("osom.core.audit", "record"),
    "publish_coe": Stop("osom.core.audit", "record"),
    "issue_mandate_bulk": Stop("osom.governance.actions", "notify"),
    # half way through the import: twelve of its twenty-four services adopted
    "import_catalogue": Stop("osom.core.audit", "record", nth=IMPORTED // 2),
    # about half way through the demo's acts (it records some 380 events, one per act)
    "demo": Stop("osom.core.audit", "record", nth=190),
}


# Where the first of two interleaved racers stops (after this returns, inside its act);
# by default after it has recorded its audit event, with every lock it takes held.
RACE_STOPS = {
    # the canceller has locked the assessment, and not yet written anything
    "report_or_cancel": Stop("osom.lifecycle.actions", "_open"),
    # the returner has locked the version, and not yet written anything
    "approve_or_return": Stop("osom.network.actions", "_lock_version"),
}


def _scenario(key: str):
    """A scenario's functions, by its key: its name, ``@`` and a tag telling its copies apart."""
    module, name = sys.modules[__name__], key.split("@")[0]
    return (getattr(module, f"setup_{name}"), getattr(module, f"prepare_{name}"), getattr(module, f"facts_{name}"))


def _ids(key: str) -> dict:
    from django.conf import settings

    path = Path(settings.DATA_DIR) / IDS_FILE
    return json.loads(path.read_text()).get(key, {}) if path.exists() else {}


def fingerprint() -> dict:
    """Every table's row count and a digest of its rows: equal fingerprints, equal data."""
    from django.db import connection

    state = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            rows = cursor.fetchall()
            digest = hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()
            state[table] = [len(rows), digest[:16]]
    return state


def _chain() -> dict:
    from osom.cli import main
    from osom.core.audit import verify_chain

    report = verify_chain()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["audit", "verify"])
    return {"intact": report.intact, "problem": report.problem, "events": report.checked,
            "command": code, "said": (out.getvalue() + err.getvalue()).strip()}


def _attempt(act: Callable) -> dict:
    from osom.core.errors import DomainError

    try:
        act()
    except DomainError as exc:
        return {"outcome": "refused", "code": exc.code, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 — reported to the test, which fails on it
        return {"outcome": "error", "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
    return {"outcome": "done"}


def cmd_setup(keys: list[str]) -> dict:
    """The people, then the objects of each scenario ``NAME@TAG``, through the actions."""
    from django.conf import settings
    from django.db import transaction

    _setup_people()
    ids = {}
    for key in keys:
        with transaction.atomic():
            ids[key] = _scenario(key)[0](key.partition("@")[2])
    (Path(settings.DATA_DIR) / IDS_FILE).write_text(json.dumps(ids))
    return ids


def _backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _blocked(pid: int | None) -> bool:
    """Whether the PostgreSQL session ``pid`` is waiting for a lock."""
    from django.db import connection

    if pid is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


@dataclass
class Signals:
    """What the two racing processes share."""

    barrier: object  # both act from here, together
    inside: object  # set by the first process once it is inside its act (interleaved)
    begins: object  # set by the second process as it begins a transaction (SQLite)
    done: object  # set by the second process once its act has returned
    second_pid: object  # the second process's PostgreSQL session, to see it wait
    results: object


def _hold_inside(name: str, signals: Signals) -> Callable[[], str]:
    """Make the first process stop inside its act, with its locks held and its writes not
    yet committed, until the second process, doing its own act, waits for a lock
    (PostgreSQL), or begins its transaction (SQLite: it waits there, at BEGIN IMMEDIATE,
    for the first to commit), or is done; then go on. Returns a function saying what was
    seen."""
    import importlib

    stop = RACE_STOPS.get(name.split("@")[0], Stop("osom.core.audit", "record"))
    module = importlib.import_module(stop.module)
    original = getattr(module, stop.name)
    seen = []

    def stop_here(*args, **kwargs):
        result = original(*args, **kwargs)
        if not seen:
            signals.inside.set()
            deadline = time.monotonic() + PROCESS_TIMEOUT / 3
            while time.monotonic() < deadline:
                if signals.done.wait(0.02):
                    seen.append("second finished first")
                    break
                if signals.begins.is_set():
                    seen.append("second beginning its transaction")
                    break
                if _blocked(signals.second_pid.value or None):
                    seen.append("second waiting for a lock")
                    break
            else:
                seen.append("gave up waiting")
        return result

    setattr(module, stop.name, stop_here)
    return lambda: seen[0] if seen else "never stopped"


def _telling_when_it_begins(act: Callable, begins) -> Callable:
    """``act``, setting ``begins`` as it starts a transaction on SQLite (``BEGIN
    IMMEDIATE``, where it waits while another process writes)."""
    from django.db import connection

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("BEGIN"):
            begins.set()
        return execute(sql, params, many, context)

    def telling():
        with connection.execute_wrapper(wrapper):
            return act()

    return telling


def _racer(name: str, ids: dict, who: int, mode: str, signals: Signals) -> None:
    from django.db import connections

    try:
        act = _scenario(name)[1](ids, who)  # read as a page reads, before acting
        seen = None
        if mode == "together":
            signals.barrier.wait()
        elif who == 0:
            seen = _hold_inside(name, signals)
        else:
            signals.second_pid.value = _backend_pid() or 0
            if not signals.inside.wait(PROCESS_TIMEOUT / 3):
                raise RuntimeError("the first process never got inside its act")
    except Exception:  # noqa: BLE001
        signals.barrier.abort()
        signals.results.put({"who": who, "outcome": "error", "error": traceback.format_exc()})
        return
    if mode == "interleaved" and who == 1:
        outcome = _attempt(_telling_when_it_begins(act, signals.begins))
    else:
        outcome = _attempt(act)
    if who == 1:
        signals.done.set()
    else:
        signals.inside.set()  # in case the act ended without reaching its stop: the second goes on
    if seen is not None:
        outcome["saw"] = seen()
    connections.close_all()
    signals.results.put({"who": who, **outcome})


def cmd_race(name: str, mode: str) -> dict:
    """Two processes do the act of scenario ``name`` on the same object: ``together``,
    released at the same moment by a barrier; or ``interleaved``, the second acting while
    the first is stopped inside its act (see ``_hold_inside``)."""
    import multiprocessing

    from django.db import connections

    ids = _ids(name)
    connections.close_all()  # each process opens its own connection
    ctx = multiprocessing.get_context("fork")
    signals = Signals(ctx.Barrier(2, timeout=PROCESS_TIMEOUT / 3), ctx.Event(), ctx.Event(), ctx.Event(),
                      ctx.Value("i", 0), ctx.Queue())
    racers = [ctx.Process(target=_racer, args=(name, ids, who, mode, signals)) for who in (0, 1)]
    for racer in racers:
        racer.start()
    outcomes = sorted((signals.results.get(timeout=PROCESS_TIMEOUT) for _ in racers), key=lambda r: r["who"])
    for racer in racers:
        racer.join(timeout=PROCESS_TIMEOUT)
    return {"outcomes": outcomes, "facts": _scenario(name)[2](ids), "chain": _chain()}


def cmd_crash(name: str) -> dict:
    """Do the act and stop inside it, after ``STOPS[name]`` has done its work, until killed."""
    import importlib

    from django.db import connection

    ids = _ids(name)
    act = _scenario(name)[1](ids, 0)
    _say("BEFORE", {"state": fingerprint()})
    stop = STOPS[name.split("@")[0]]
    module = importlib.import_module(stop.module)
    original = getattr(module, stop.name)
    calls = []

    def stop_here(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == stop.nth:
            _say("INSIDE", {"in_transaction": connection.in_atomic_block, "where": f"{stop.module}.{stop.name}",
                            "call": len(calls)})
            while True:  # until the test kills this process
                time.sleep(60)
        return result

    setattr(module, stop.name, stop_here)
    return {"finished": _attempt(act)}


def cmd_after(name: str, redo: bool = True) -> dict:
    """The database as the crash left it; then (unless told not to) the same act, done
    to the end."""
    ids = _ids(name)
    found = {"state": fingerprint(), "chain": _chain()}
    if redo:
        found["redo"] = _attempt(_scenario(name)[1](ids, 0))
        found["chain_after_redo"] = _chain()
    found["facts"] = _scenario(name)[2](ids)
    return found


def main(argv: list[str]) -> int:
    command, *names = argv
    _setup_django()
    if command == "setup":
        result = cmd_setup(names)
    elif command == "race":
        result = cmd_race(names[0], names[1])
    elif command == "crash":
        result = cmd_crash(names[0])
    elif command == "after":
        result = cmd_after(names[0], redo="--no-redo" not in names)
    else:
        raise SystemExit(f"unknown command {command!r}")
    _say("RESULT", result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
