"""Mixed reads and writes against gunicorn on PostgreSQL, then a count of what was written.

    python benchmarks/load.py --seconds 60 --users 20 --services 1000
                              [--database osom_load] [--workers 5] [--threads 4] [--warmup 5]
                              [--out FILE] [--json FILE] [--log FILE] [--keep]

1. A fresh PostgreSQL database (``--database``, on the server ``--server`` or the one
   ``OSOM_DATABASE_URL`` names), migrated and filled as ``osom generate --services N`` does.
2. Setup, through the actions: a member of the executive team who signs in to the pages,
   API tokens for the executive and for the managers of the services measured, and an
   open contract draft on a few services.
3. gunicorn serves ``osom.wsgi`` with production settings (``OSOM_ENV=production``, a
   secret key of its own, ``DEBUG`` off, static files collected), on a free local port.
   Requests arrive as from the reverse proxy: ``X-Forwarded-Proto: https``.
4. ``--users`` threads, each signed in with its own session and keeping its connection
   open, send requests back to back for ``--seconds``: the network list with filters,
   service pages, the dashboard, API lists, measurements recorded through the API, and
   contract drafts edited through the API with the revision they read (so two users
   editing one draft at once meet a 409, counted as a conflict, not an error). Each user
   makes every kind of request once first, then picks each next one at random by weight.
5. gunicorn is stopped, and the database is asked what it holds: every measurement
   acknowledged (201) must be there, and no other; every draft's revision must have moved
   on by exactly the edits acknowledged, no two acknowledged edits may start from the
   same revision, and the draft must hold the last acknowledged edit's text.

Any answer other than the expected one (200 for reads, 201 for measurements, 200 or 409
for edits), and any connection failure, is an error. The exit status is 1 when there was
an error or a write is missing. Only the standard library is used on the driving side;
the setup and the count run in subprocesses with Django.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import math
import os
import platform
import random
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
MEASUREMENT_NOTE = "load test"
SIGN_IN_EMAIL = "load.reader@load.example"
# Measurements the load records cover one day each, counted on from this day per
# service and metric: long before the generated history, so they never meet it.
FIRST_DAY = dt.date(1990, 1, 1)
# gunicorn closes a kept-alive connection idle for 2 s (its --keep-alive); a connection
# idle for longer than this is not reused, so a request never races that close
IDLE_CONNECTION = 1.0

# (kind, label, weight): how often each request is made, out of the total weight
MIX = [
    ("network_list", "network list, filtered", 20),
    ("service_page", "service page", 20),
    ("dashboard", "dashboard", 8),
    ("api_services", "API: services, filtered", 14),
    ("api_measurements", "API: a service's measurements", 8),
    ("record_measurement", "write: record a measurement (POST)", 20),
    ("edit_draft", "write: edit a contract draft (GET + PUT)", 10),
]
LABELS = {kind: label for kind, label, _ in MIX} | {
    "draft_read": "API: the draft, read before editing", "sign_in": "sign in (form)"}
STAGES = ("discovery", "alpha", "beta", "live")
EVOLUTIONS = ("genesis", "custom", "product", "commodity")


# ================================================================ PostgreSQL and processes


def server_url(option: str | None) -> str:
    """The PostgreSQL server: the option, else the one OSOM_DATABASE_URL names, else local."""
    url = option or os.environ.get("OSOM_DATABASE_URL") or DEFAULT_SERVER
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql", "postgresql+psycopg"}:
        raise SystemExit(f"{url!r} is not a PostgreSQL address")
    return urlunparse(parsed._replace(scheme="postgresql", path="", query=""))


def _admin(server: str, sql: str) -> list:
    import psycopg

    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def create_database(server: str, name: str) -> str:
    """A new, empty database ``name`` (dropped first if it exists); its address."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"{name!r}: use lower-case letters, digits and underscores for the database name")
    drop_database(server, name)
    _admin(server, f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_env(database_url: str, data_dir: Path, secret_key: str) -> dict:
    """The environment of a production run: the settings docs/deployment.md names."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSOM_", "DJANGO_"))}
    env.update(
        OSOM_ENV="production",
        OSOM_SECRET_KEY=secret_key,
        OSOM_ALLOWED_HOSTS="127.0.0.1,localhost",
        OSOM_DATABASE_URL=database_url,
        OSOM_DATA_DIR=str(data_dir),
        OSOM_DEBUG="0",
        OSOM_LOG_LEVEL="WARNING",
        # no mail server here: what the acts would send is dropped
        OSOM_EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        DJANGO_SETTINGS_MODULE="osom.settings",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    )
    return env


def osom(env: dict, *args: str, timeout: int = 3600) -> str:
    """Run the ``osom`` command; its output (fails loudly)."""
    done = subprocess.run([sys.executable, "-m", "osom.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"osom {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


class Gunicorn:
    """``gunicorn osom.wsgi`` on a local port, stopped with SIGTERM as systemd would.

    With no port given it takes a free one; if another program takes that port between
    choosing it and gunicorn binding it, gunicorn ends at start and a new port is tried."""

    ATTEMPTS = 3

    def __init__(self, env: dict, port: int | None = None, *, workers: int = 2, threads: int = 4,
                 log: Path | None = None):
        self.env, self.workers, self.threads = env, workers, threads
        self.choose_port = port is None
        self.port = free_port() if port is None else port
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, wait: float = 60) -> Gunicorn:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 (closed in stop)
        self._out = out
        for attempt in range(1, self.ATTEMPTS + 1):
            if self._launch(wait):
                return self
            if not self.choose_port or attempt == self.ATTEMPTS:
                self.stop()
                raise RuntimeError(f"gunicorn on port {self.port} ended at start with status {self.proc.returncode}"
                                   + (f"; see {self.log}" if self.log else ""))
            self.port = free_port()
        raise AssertionError("unreachable")

    def _launch(self, wait: float) -> bool:
        """Start gunicorn and wait for its /healthz: True when it answers, False when it
        ended at start; an error if it neither answers nor ends within ``wait`` seconds."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "osom.wsgi", "--workers", str(self.workers), "--threads",
             str(self.threads), "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "10"],
            env=self.env, cwd=ROOT, stdout=self._out, stderr=self._out)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                # briefly: whatever else might be listening there must not hold the start up
                status, _, body = Browser(self.port, timeout=2).get("/healthz")
                if status == 200 and body == b"ok":
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn on port {self.port} did not answer /healthz within {wait:.0f} s")

    def stop(self) -> int | None:
        """Stop gracefully; killed if it does not end within 30 s. Its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._out is not subprocess.DEVNULL:
            self._out.close()
        return self.proc.returncode


# ================================================================ a browser, in brief


class _Forms(HTMLParser):
    """Every form's fields with their values, as a browser would submit them untouched."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._text: tuple[str, list] | None = None  # a textarea being read
        self._select: str | None = None
        self._first_option: dict = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                               "fields": {}})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "reset", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            fields[name] = a.get("value") or ("on" if kind in {"checkbox", "radio"} else "")
        elif tag == "textarea" and name:
            self._text = (name, [])
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            value = a.get("value") or ""
            self._first_option.setdefault(self._select, value)
            if "selected" in a:
                fields[self._select] = value

    def handle_data(self, data):
        if self._text:
            self._text[1].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._text and self.forms:
            name, parts = self._text
            # a browser drops the one newline that may follow <textarea>
            self.forms[-1]["fields"][name] = "".join(parts).removeprefix("\n")
            self._text = None
        elif tag == "select" and self._select and self.forms:
            self.forms[-1]["fields"].setdefault(self._select, self._first_option.get(self._select, ""))
            self._select = None


def forms_in(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Browser:
    """One person's connection to one app process: keeps its cookies and its connection
    open, and sends what the reverse proxy would (``X-Forwarded-Proto: https``)."""

    def __init__(self, port: int, *, token: str | None = None, timeout: float = 60):
        self.port, self.token, self.timeout = port, token, timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        sent = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if self.conn is not None and time.monotonic() - self.last_used > IDLE_CONNECTION:
            self.close()  # the server may be closing it just now: start afresh
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # the server closed a kept-alive connection between two requests: a
                # browser opens a new one and sends again, once
                self.close()
                if attempt == 2 or method not in {"GET", "HEAD"}:
                    raise
        self.last_used = time.monotonic()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def get(self, path: str) -> tuple[int, dict, bytes]:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict, *, referer: str | None = None) -> tuple[int, dict, bytes]:
        return self.request("POST", path, urlencode(fields).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Referer": self.origin + (referer or path)})

    def send_json(self, method: str, path: str, payload) -> tuple[int, dict, bytes]:
        return self.request(method, path, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def sign_in(self, email: str, password: str) -> None:
        """Through the sign-in form, with the CSRF token it carries."""
        status, _, body = self.get("/accounts/login/")
        if status != 200:
            raise RuntimeError(f"the sign-in page answered {status}")
        form = next(f for f in forms_in(body.decode()) if "csrfmiddlewaretoken" in f["fields"])
        fields = {**form["fields"], "username": email, "password": password}
        status, headers, _ = self.post_form("/accounts/login/", fields)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"signing in as {email} answered {status}, not a redirect with a session")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ================================================================ Django side (subprocesses)


def worker_prepare(params: dict) -> dict:
    """The organisation, as ``osom generate`` makes it (migrations first), the static
    files collected, then people, tokens and drafts for the load, made through the
    actions. One process for all of it: each new one spends seconds starting Django."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count

    from osom.bench.generate import generate_organisation

    from osom.core.actions import create_person, issue_api_token
    from osom.core.models import Person, Role
    from osom.network.actions import draft_contract_version
    from osom.network.models import Service

    call_command("migrate", interactive=False, verbosity=0)
    generate_organisation(services=params["services"], seed=params["seed"])
    call_command("collectstatic", interactive=False, verbosity=0)
    executive = Person.objects.get(role=Role.EXECUTIVE)
    create_person(actor=executive, email=SIGN_IN_EMAIL, name="Load Reader", role=Role.EXECUTIVE_TEAM,
                  password=params["password"])
    running = (Service.objects.exclude(lifecycle_stage="decommissioned")
               .filter(manager__isnull=False, current_version__isnull=False)
               .annotate(n=Count("current_version__metrics")).filter(n__gt=0).order_by("pk"))
    rng = random.Random(params["seed"])
    candidates = list(running.select_related("manager"))
    if len(candidates) < 2:
        raise SystemExit("the organisation has too few running services with metrics: generate more")
    # a small organisation gives each kind of write a share of what there is
    n_drafts = min(params["drafts"], max(1, len(candidates) // 4))
    n_measured = min(params["measured"], len(candidates) - n_drafts)
    chosen = rng.sample(candidates, n_measured + n_drafts)
    tokens: dict[int, str] = {}

    def token_of(person) -> str:
        if person.pk not in tokens:
            tokens[person.pk] = issue_api_token(actor=person, person=person, label="load test", days=1)[1]
        return tokens[person.pk]

    measured = []
    for service in chosen[:n_measured]:
        keys = sorted(service.current_version.metrics.values_list("key", flat=True))
        measured.append({"slug": service.slug, "metrics": keys, "token": token_of(service.manager)})
    drafts = []
    for service in chosen[n_measured:]:
        version = draft_contract_version(actor=executive, service=service, change_note="Edited under load")
        drafts.append({"slug": service.slug, "number": version.number, "revision": version.revision})
    slugs = list(Service.objects.order_by("?").values_list("slug", flat=True)[:300])
    return {"executive_token": token_of(executive), "measured": measured, "drafts": drafts, "slugs": slugs}


def worker_count(params: dict) -> dict:
    """What the database holds of the load's writes."""
    import django

    django.setup()
    from osom.core.models import AuditEvent
    from osom.fitness.models import Measurement
    from osom.network.contract import read_content
    from osom.network.models import ContractVersion

    ids = list(Measurement.objects.filter(note=MEASUREMENT_NOTE).values_list("pk", flat=True))
    drafts = []
    for d in params["drafts"]:
        version = ContractVersion.objects.get(service__slug=d["slug"], number=d["number"])
        drafts.append({"slug": d["slug"], "revision": version.revision, "purpose": read_content(version)["purpose"],
                       "audited": AuditEvent.objects.filter(verb="edit_contract_draft",
                                                            object_id=str(version.pk)).count()})
    return {"measurements": ids, "drafts": drafts}


def in_django(env: dict, what: str, params: dict) -> dict:
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", what],
                          input=json.dumps(params), env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-6000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ================================================================ the load


@dataclass
class Tally:
    """What the users saw, shared by their threads (under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    # requests started before this moment (the warm-up) are checked but not timed
    measure_from: float = 0.0
    stop_at: float = 0.0
    times: dict = field(default_factory=lambda: defaultdict(list))  # kind → seconds
    errors: dict = field(default_factory=lambda: defaultdict(int))
    samples: list = field(default_factory=list)  # a few errors, to say what went wrong
    conflicts: int = 0
    measurement_ids: set = field(default_factory=set)
    edits: dict = field(default_factory=lambda: defaultdict(list))  # slug → [(expected revision, purpose)]
    days: dict = field(default_factory=lambda: defaultdict(int))  # (slug, metric) → days used

    def seen(self, kind: str, started: float, ok: bool, detail: str = "") -> None:
        seconds = time.perf_counter() - started
        with self.lock:
            if started >= self.measure_from or kind == "sign_in":
                self.times[kind].append(seconds)
            if not ok:
                self.errors[kind] += 1
                if len(self.samples) < 10:
                    self.samples.append(f"{kind}: {detail}"[:300])

    def next_day(self, slug: str, metric: str) -> dt.date:
        with self.lock:
            n = self.days[(slug, metric)]
            self.days[(slug, metric)] = n + 1
        return FIRST_DAY + dt.timedelta(days=n)


class User(threading.Thread):
    def __init__(self, n: int, port: int, setup: dict, password: str, tally: Tally, ready: threading.Barrier,
                 seed: int):
        super().__init__(name=f"user-{n}", daemon=True)
        self.n, self.port, self.setup, self.password, self.tally = n, port, setup, password, tally
        self.ready = ready
        self.rng = random.Random(seed * 1000 + n)
        self.page = Browser(port)
        self.api = Browser(port, token=setup["executive_token"])
        self.writers = {m["slug"]: Browser(port, token=m["token"]) for m in setup["measured"]}
        self.kinds = [k for k, _, _ in MIX]
        self.weights = [w for _, _, w in MIX]
        self.failure: BaseException | None = None

    def timed(self, kind: str, call, ok_statuses=(200,)):
        started = time.perf_counter()
        try:
            status, _, body = call()
        except (OSError, http.client.HTTPException) as exc:
            self.tally.seen(kind, started, False, repr(exc))
            return None, b""
        ok = status in ok_statuses
        self.tally.seen(kind, started, ok, f"{status} {body[:200]!r}")
        return status, body

    def run(self) -> None:
        try:
            started = time.perf_counter()
            self.page.sign_in(SIGN_IN_EMAIL, self.password)
            self.tally.seen("sign_in", started, True)
            self.ready.wait()  # everyone signed in: the clock starts
            for kind in self.kinds:  # every kind of request at least once, however short the run
                getattr(self, "do_" + kind)()
            while time.perf_counter() < self.tally.stop_at:
                getattr(self, "do_" + self.rng.choices(self.kinds, self.weights)[0])()
        except BaseException as exc:  # noqa: BLE001 (reported by the main thread)
            self.failure = exc
            self.ready.abort()
        finally:
            for b in (self.page, self.api, *self.writers.values()):
                b.close()

    def _filters(self) -> str:
        chosen = {"stage": self.rng.choice(STAGES), "evolution": self.rng.choice(EVOLUTIONS)}
        return urlencode(dict(self.rng.sample(sorted(chosen.items()), self.rng.randint(1, 2))))

    def do_network_list(self):
        self.timed("network_list", lambda: self.page.get("/?" + self._filters()))

    def do_service_page(self):
        self.timed("service_page", lambda: self.page.get(f"/services/{self.rng.choice(self.setup['slugs'])}/"))

    def do_dashboard(self):
        self.timed("dashboard", lambda: self.page.get("/dashboard/"))

    def do_api_services(self):
        self.timed("api_services", lambda: self.api.get("/api/v1/services?" + self._filters()))

    def do_api_measurements(self):
        slug = self.rng.choice(self.setup["measured"])["slug"]
        self.timed("api_measurements", lambda: self.api.get(f"/api/v1/services/{slug}/measurements"))

    def do_record_measurement(self):
        target = self.rng.choice(self.setup["measured"])
        metric = self.rng.choice(target["metrics"])
        day = self.tally.next_day(target["slug"], metric)
        payload = {"metric": metric, "value": str(self.rng.randint(0, 10000)), "period_start": day.isoformat(),
                   "note": MEASUREMENT_NOTE}
        status, body = self.timed("record_measurement", lambda: self.writers[target["slug"]].send_json(
            "POST", f"/api/v1/services/{target['slug']}/measurements", payload), ok_statuses=(201,))
        if status == 201:
            with self.tally.lock:
                self.tally.measurement_ids.add(json.loads(body)["id"])

    def do_edit_draft(self):
        """Read the draft, change its purpose, send it back with the revision read. Two
        users doing this on one draft at once: one is told of the other's edit (409)."""
        draft = self.rng.choice(self.setup["drafts"])
        path = f"/api/v1/services/{draft['slug']}/versions/{draft['number']}"
        status, body = self.timed("draft_read", lambda: self.api.get(path))
        if status != 200:
            return
        read = json.loads(body)
        purpose = f"Edited under load by user {self.n}, edit {secrets.token_hex(4)}."
        payload = {**read, "purpose": purpose, "expected_revision": read["revision"], "change_note": None}
        status, body = self.timed("edit_draft", lambda: self.api.send_json("PUT", path, payload),
                                  ok_statuses=(200, 409))
        with self.tally.lock:
            if status == 200:
                self.tally.edits[draft["slug"]].append((read["revision"], purpose))
            elif status == 409:
                self.tally.conflicts += 1


def drive(port: int, setup: dict, password: str, *, users: int, seconds: float, warmup: float,
          seed: int) -> tuple[Tally, float]:
    """The users sign in, then send requests for ``warmup`` + ``seconds``; only those
    started after the warm-up are timed (every one is checked). The measured seconds."""
    tally = Tally()

    def start_the_clock() -> None:  # run once, before anyone is let through
        now = time.perf_counter()
        tally.measure_from, tally.stop_at = now + warmup, now + warmup + seconds

    ready = threading.Barrier(users + 1, action=start_the_clock)
    threads = [User(n, port, setup, password, tally, ready, seed) for n in range(users)]
    for t in threads:
        t.start()
    try:
        ready.wait(timeout=600)
    except threading.BrokenBarrierError:
        pass  # a user failed to sign in: reported below
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - tally.measure_from
    for t in threads:
        if t.failure is not None:
            raise RuntimeError(f"{t.name} stopped: {t.failure!r}") from t.failure
    return tally, elapsed


def verify(tally: Tally, setup: dict, found: dict) -> dict:
    """Acknowledged writes against what the database holds."""
    in_db = set(found["measurements"])
    drafts_ok, edits_found, problems = True, 0, []
    for d, now in zip(setup["drafts"], found["drafts"], strict=True):
        acked = tally.edits.get(d["slug"], [])
        moved = now["revision"] - d["revision"]
        edits_found += moved
        bases = [r for r, _ in acked]
        if moved != len(acked) or now["audited"] != len(acked):
            problems.append(f"{d['slug']}: {len(acked)} edits acknowledged, revision moved by {moved}, "
                            f"{now['audited']} audited")
        if len(set(bases)) != len(bases):
            problems.append(f"{d['slug']}: two acknowledged edits started from the same revision")
        if acked and now["purpose"] != max(acked)[1]:
            problems.append(f"{d['slug']}: the draft does not hold the last acknowledged edit")
    drafts_ok = not problems
    measurements_ok = in_db == tally.measurement_ids
    if not measurements_ok:
        problems.append(f"measurements: {len(tally.measurement_ids - in_db)} acknowledged but missing, "
                        f"{len(in_db - tally.measurement_ids)} present but never acknowledged")
    return {
        "measurements_acknowledged": len(tally.measurement_ids), "measurements_found": len(in_db),
        "edits_acknowledged": sum(len(v) for v in tally.edits.values()), "edits_found": edits_found,
        "conflicts": tally.conflicts, "ok": measurements_ok and drafts_ok, "problems": problems,
    }


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(tally: Tally, elapsed: float) -> dict:
    kinds = {}
    for kind in [k for k, _, _ in MIX] + ["draft_read", "sign_in"]:
        times = tally.times.get(kind)
        if not times:
            continue
        kinds[kind] = {"label": LABELS[kind], "requests": len(times), "errors": tally.errors.get(kind, 0),
                       **{f"p{p}": round(percentile(times, p) * 1000, 1) for p in (50, 95, 99)}}
    driven = [t for k, ts in tally.times.items() if k != "sign_in" for t in ts]
    return {"kinds": kinds, "requests": len(driven), "errors": sum(tally.errors.values()),
            "seconds": round(elapsed, 1), "throughput": round(len(driven) / elapsed, 1),
            **({f"p{p}": round(percentile(driven, p) * 1000, 1) for p in (50, 95, 99)} if driven else {}),
            "error_samples": tally.samples}


def machine(server: str) -> dict:
    mem = ""
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, StopIteration, ValueError):
        pass
    cpu = platform.processor()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "postgresql": _admin(server, "SHOW server_version")[0][0].split()[0], "os": platform.platform(),
            "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def markdown(result: dict) -> str:
    s, v, m, a = result["summary"], result["writes"], result["machine"], result["args"]
    lines = [
        "## Load",
        "",
        f"{a['users']} users for {a['seconds']:g} s, after {a['warmup']:g} s of warm-up, against gunicorn ({a['workers']} workers × {a['threads']} threads, "
        f"production settings) on PostgreSQL {m['postgresql']}, an organisation of {a['services']:,} services "
        "made by `osom generate`. Each user signs in through the form and then sends requests back to back, "
        "with no pause between them: the figures are what the machine gives when it is saturated. "
        "Requests made during the warm-up are checked like the others but not timed.",
        "",
        "```sh",
        result["command"],
        "```",
        "",
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory']} of memory, Python {m['python']}, {m['os']}; "
        "the app, PostgreSQL and the users driving the load all share these cores "
        f"(load average when it ended: {m['load_average']}).",
        "",
        "| request | count | errors | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for k in s["kinds"].values():
        lines.append(f"| {k['label']} | {k['requests']:,} | {k['errors']} | {k['p50']} | {k['p95']} | {k['p99']} |")
    lines += [
        f"| **all requests** (sign-ins left out) | **{s['requests']:,}** | **{s['errors']}** | {s.get('p50', '–')} "
        f"| {s.get('p95', '–')} | {s.get('p99', '–')} |",
        "",
        f"- **Throughput:** {s['throughput']} requests a second over {s['seconds']} s.",
        f"- **Errors:** {s['errors']} (any answer other than the expected one, or a failed connection; "
        "the warm-up's requests included).",
        f"- **Measurements:** {v['measurements_acknowledged']:,} acknowledged (201), {v['measurements_found']:,} "
        "found in the database afterwards.",
        f"- **Contract draft edits:** {v['edits_acknowledged']:,} acknowledged (200), {v['edits_found']:,} found "
        f"(the drafts' revisions moved on by that much, each edit audited, each draft holding the last one); "
        f"{v['conflicts']:,} edits were refused with 409 because another user had edited the draft since "
        "they read it — expected, and not errors.",
        f"- **No lost writes:** {'yes' if v['ok'] else 'NO — ' + '; '.join(v['problems'])}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the load lasts (default 60)")
    parser.add_argument("--warmup", type=float, default=5,
                        help="seconds of load before the timing starts, checked but not timed (default 5)")
    parser.add_argument("--users", type=int, default=20, help="users sending requests at once (default 20)")
    parser.add_argument("--services", type=int, default=1000, help="services generated (default 1000)")
    parser.add_argument("--database", default="osom_load", help="the database made for the run (default osom_load)")
    parser.add_argument("--server", help="the PostgreSQL server, postgresql://USER@HOST:PORT (default: "
                                         "OSOM_DATABASE_URL's server, else the local one)")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1,
                        help="gunicorn workers (default twice the cores, plus one)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--measured", type=int, default=10, help="services whose measurements are recorded (default 10)")
    parser.add_argument("--drafts", type=int, default=3, help="contract drafts edited by all users (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="write the Markdown section there (default: print it)")
    parser.add_argument("--json", help="also write the raw results there")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--log", help="keep gunicorn's log there (its errors' tracebacks); by default the end "
                                      "of it is printed when a request failed")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        params = json.loads(sys.stdin.read())
        print(json.dumps({"prepare": worker_prepare, "count": worker_count}[args.worker](params)))
        return 0

    server = server_url(args.server)
    password = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="osom-load-") as folder:
        data = Path(folder)
        url = create_database(server, args.database)
        env = app_env(url, data, secrets.token_urlsafe(50))
        app = None
        try:
            say(f"generating {args.services} services into {args.database}; people, tokens and drafts")
            setup = in_django(env, "prepare", {"services": args.services, "password": password, "seed": args.seed,
                                               "measured": args.measured, "drafts": args.drafts})
            log = Path(args.log) if args.log else data / "gunicorn.log"
            app = Gunicorn(env, workers=args.workers, threads=args.threads, log=log).start()
            port = app.port
            say(f"gunicorn on port {port} ({args.workers} workers × {args.threads} threads)")
            say(f"{args.users} users for {args.seconds:g} s")
            tally, elapsed = drive(port, setup, password, users=args.users, seconds=args.seconds,
                                   warmup=args.warmup, seed=args.seed)
            say("stopping gunicorn; counting the writes")
            status = app.stop()
            app = None
            if status != 0:
                raise RuntimeError(f"gunicorn ended with status {status}")
            if tally.errors and log.exists():
                print("--- the end of gunicorn's log\n" + log.read_text(errors="replace")[-6000:], file=sys.stderr)
            found = in_django(env, "count", {"drafts": setup["drafts"]})
            result = {
                "args": {k: getattr(args, k) for k in ("seconds", "warmup", "users", "services", "workers", "threads")},
                "command": shlex.join(["python", "benchmarks/load.py", *_measuring_options(
                    sys.argv[1:] if argv is None else argv)]),
                "summary": summary(tally, elapsed), "writes": verify(tally, setup, found), "machine": machine(server),
            }
        finally:
            if app is not None:
                app.stop()
            if not args.keep:
                drop_database(server, args.database)
    text = markdown(result)
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    for line in result["summary"]["error_samples"]:
        print("error:", line, file=sys.stderr)
    for line in result["writes"]["problems"]:
        print("lost:", line, file=sys.stderr)
    return 0 if result["summary"]["errors"] == 0 and result["writes"]["ok"] else 1


def _measuring_options(argv: list[str]) -> list[str]:
    """The command's options without those that only say where output goes."""
    kept, skip = [], False
    for arg in argv:
        name = arg.split("=", 1)[0]
        if skip:
            skip = False
        elif name in {"--out", "--json", "--log"}:
            skip = "=" not in arg
        elif name != "--keep":
            kept.append(arg)
    return kept


_T0 = time.monotonic()


def say(text: str) -> None:
    print(f"[load {time.monotonic() - _T0:5.1f} s] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
