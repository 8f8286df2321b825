"""Measure the pages and API lists of a large organisation against their floor.

    python benchmarks/run.py --sizes 1000,10000 [--database sqlite|postgresql|both]
                             [--repeat 20] [--out FILE] [--profile]

For each size and database an organisation is generated into a fresh database
(``osom.bench.generate``), then every target is requested in process with Django's test
client: one warm-up, one request to count its queries, then ``--repeat`` timed requests.
Each target's floor, the same rows fetched by one raw SQL query and rendered plainly
(``floors.py``), is timed the same way. Generation and measurement run in subprocesses of
their own so each starts with clean settings and the memory peak is the measuring
process's alone. The result is a Markdown table per database and size (see README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"

# (key, label, the time budget of its p95 in ms); every target must also stay within
# three times its floor
TARGETS = [
    ("network_list", "network list", 150),
    ("network_filtered", "network list, stage=live&evolution=commodity", 150),
    ("search", "search", 150),
    ("service_page", "service page of the biggest hub", 150),
    ("reports", "assessment reports", 150),
    ("executive_dashboard", "executive's dashboard", 150),
    ("manager_dashboard", "a manager's dashboard", 150),
    ("network_map", "network map around one service", 150),
    ("impact", "impact of the biggest hub", 200),
    ("capital_flow", "capital flow, latest period, worked out (as after a write)", 2000),
    ("capital_flow_kept", "capital flow, latest period, kept (nothing written since)", 150),
    ("heat_map", "doctrine heat map", 150),
    ("fitness", "network fitness", 150),
    ("fitness_words", "network fitness, searched for a word", 150),
    ("api_services", "API /api/v1/services", 150),
    ("api_assessments", "API /api/v1/assessments", 150),
    ("api_fitness", "API /api/v1/fitness", 150),
    ("search_page", "search page (services, needs, guidance, CoEs)", 150),
    ("api_search", "API /api/v1/search", 150),
]
FLOOR_FACTOR = 3
# targets asked for as after a write: each request works out what is otherwise kept until
# the next write (osom.core.kept), as the first view after any write does
WORKED_OUT = {"capital_flow"}


# ---------------------------------------------------------------- in the worker process

def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osom.settings")
    import django

    django.setup()


def worker_generate(size: int, seed: int) -> dict:
    _setup_django()
    from django.core.management import call_command

    from osom.bench.generate import generate_organisation

    call_command("migrate", interactive=False, verbosity=0)
    result = generate_organisation(services=size, seed=seed)
    settled = _settle()
    return {"seconds": result.seconds, "rows": sum(result.counts.values()), "settle_seconds": settled}


def _settle() -> float | None:
    """On PostgreSQL, what autovacuum does to tables soon after a bulk load, done at once:
    VACUUM marks the pages of the new rows all-visible, so that a count can be answered
    from an index alone (an index-only scan) rather than by visiting every row. A running
    installation is measured, not one caught in the minute after its load."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
    return time.monotonic() - began


def _choose(page_size: int) -> dict:
    """Real objects of the generated organisation for the targets to ask for."""
    from collections import Counter

    from django.db.models import Count, F
    from django.utils import timezone

    from osom.core.models import Person, Role
    from osom.fitness.models import ConsumptionShare
    from osom.lifecycle.models import BudgetAllocation
    from osom.network.models import Dependency, Service
    from osom.network.stages import Lifecycle

    executive = Person.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("pk").first()
    current = Dependency.objects.filter(version__service__current_version=F("version"))
    hub_id = (current.values("provider").annotate(n=Count("pk")).order_by("-n", "provider")
              .values_list("provider", flat=True).first())
    hub = Service.objects.get(pk=hub_id)
    # the hub's consumer that depends on most services directly: the map around it is the largest
    consumer_id = (current.filter(version__service__in=current.filter(provider=hub).values("version__service"))
                   .values("version__service").annotate(n=Count("pk")).order_by("-n", "version__service")
                   .values_list("version__service", flat=True).first())
    around = Service.objects.get(pk=consumer_id)
    manager_id = (Service.objects.exclude(lifecycle_stage=Lifecycle.DECOMMISSIONED).exclude(manager=None)
                  .values("manager").annotate(n=Count("pk")).order_by("-n", "manager")
                  .values_list("manager", flat=True).first())
    manager = Person.objects.get(pk=manager_id)
    # the word of service names that most names contain: a search that matches many
    words = Counter(w for name in Service.objects.values_list("name", flat=True)
                    for w in set(name.lower().replace("(", " ").replace(")", " ").split()) if len(w) >= 4)
    word = words.most_common(1)[0][0]
    # the whole network's capital flow: the latest period whose consumption shares are
    # recorded (the current year's are recorded when it closes), else the latest budget
    period = (ConsumptionShare.objects.order_by("-period").values_list("period", flat=True).first()
              or BudgetAllocation.objects.order_by("-period").values_list("period", flat=True).first())
    return {"executive": executive, "manager": manager, "hub": hub, "around": around, "word": word,
            "period": period, "page_size": page_size, "today": timezone.localdate(),
            "hub_id": hub.pk, "hub_version_id": hub.current_version_id, "around_id": around.pk,
            "manager_id": manager.pk, "hub_consumers": current.filter(provider=hub).count()}


def _urls(ctx: dict) -> dict:
    from urllib.parse import urlencode

    from django.urls import reverse

    hub = ctx["hub"].slug
    return {
        "network_list": reverse("network:list"),
        "network_filtered": reverse("network:list") + "?stage=live&evolution=commodity",
        "search": reverse("network:list") + "?" + urlencode({"q": ctx["word"]}),
        "service_page": reverse("network:service", args=[hub]),
        "reports": reverse("lifecycle:reports"),
        "executive_dashboard": reverse("governance:dashboard"),
        "manager_dashboard": reverse("governance:dashboard"),
        "network_map": reverse("maps:network") + "?" + urlencode({"around": ctx["around"].slug}),
        "impact": reverse("maps:impact", args=[hub]),
        "capital_flow": reverse("fitness:capital") + "?" + urlencode({"period": ctx["period"] or ""}),
        "capital_flow_kept": reverse("fitness:capital") + "?" + urlencode({"period": ctx["period"] or ""}),
        "heat_map": reverse("learning:heat_map"),
        "fitness": reverse("fitness:overview"),
        "fitness_words": reverse("fitness:overview") + "?" + urlencode({"q": ctx["word"]}),
        "api_services": "/api/v1/services",
        "api_assessments": "/api/v1/assessments",
        "api_fitness": "/api/v1/fitness",
        "search_page": "/search/?" + urlencode({"q": ctx["word"]}),
        "api_search": "/api/v1/search?" + urlencode({"q": ctx["word"]}),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    # linear interpolation between the closest ranks
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _profile_top(call, limit: int = 6) -> list[str]:
    """Profile one call; the functions that spent most time themselves."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    call()
    profile.disable()
    stats = pstats.Stats(profile)
    entries = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:limit]  # by own time
    total = max(stats.total_tt, 1e-9)
    out = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in entries:
        short = filename.split("site-packages/")[-1].split("/src/")[-1]
        out.append(f"{name} ({short}:{line}) {tottime * 1000:.0f} ms own, {calls:,} calls, "
                   f"{100 * tottime / total:.0f}%")
    return out


def worker_measure(repeat: int, profile: bool) -> dict:
    _setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from osom.core.actions import issue_api_token
    from osom.core.kept import forget_all, ready_to_serve

    import served_floor
    from floors import FLOORS

    # every URL of the app, plus the floors served through it (served_floor.py)
    settings.ROOT_URLCONF = "served_floor"
    ctx = _choose(settings.PAGE_SIZE)
    urls = _urls(ctx)
    host = "localhost"
    as_executive = Client(HTTP_HOST=host)
    as_executive.force_login(ctx["executive"])
    as_manager = Client(HTTP_HOST=host)
    as_manager.force_login(ctx["manager"])
    _token, raw = issue_api_token(actor=ctx["executive"], person=ctx["executive"], label="benchmark", days=1)
    api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {raw}")

    def client_for(key):
        if key.startswith("api_"):
            return api
        return as_manager if key == "manager_dashboard" else as_executive

    # an API list's floor fetches as many rows as the API returns by default
    ctx["api_limit"] = {}
    for key in ("api_services", "api_assessments", "api_fitness", "api_search"):
        response = api.get(urls[key])
        ctx["api_limit"][key] = len(json.loads(response.content)["items"]) or 1
    served_floor.configure(FLOORS, ctx)
    # as an app process starts serving (osom.wsgi): what is in memory now set aside
    ready_to_serve()

    results = {}
    for key, _label, _budget in TARGETS:
        client, url = client_for(key), urls[key]
        # what is kept until the next write is given up before each request of a target
        # measured as after a write, outside the time measured
        fresh = forget_all if key in WORKED_OUT else (lambda: None)
        fresh()
        client.get(url)  # warm-up
        fresh()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        # read now: the next request clears the connection's log the list is cut from
        queries = len(captured.captured_queries)
        timings = []
        for _ in range(repeat):
            fresh()
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
        build, render = FLOORS[key]
        sql, params = build(ctx)

        def floor(sql=sql, params=params, render=render):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return render(cursor.fetchall())

        floor_rows = floor().count("\n") + 1  # warm-up
        floor_timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            floor()
            floor_timings.append((time.perf_counter() - began) * 1000)
        # the same query served through the app: the request's fixed cost included
        served_url = served_floor.address(key)
        served = client.get(served_url)  # warm-up
        served_timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            client.get(served_url)
            served_timings.append((time.perf_counter() - began) * 1000)
        results[key] = {
            "url": url, "status": response.status_code, "bytes": len(response.content),
            "p50": _percentile(timings, 0.5), "p95": _percentile(timings, 0.95),
            "queries": queries,
            "floor_p50": _percentile(floor_timings, 0.5), "floor_p95": _percentile(floor_timings, 0.95),
            "floor_lines": floor_rows,
            "served_p50": _percentile(served_timings, 0.5), "served_p95": _percentile(served_timings, 0.95),
            "served_status": served.status_code,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        if profile:
            results[key]["profile"] = _profile_top(lambda c=client, u=url: (fresh(), c.get(u)))
    return {
        "targets": results,
        "chosen": {"executive": ctx["executive"].email, "manager": ctx["manager"].email,
                   "manager_services": ctx["manager"].managed_services.count(),
                   "hub": ctx["hub"].name, "hub_consumers": ctx["hub_consumers"], "around": ctx["around"].name,
                   "word": ctx["word"], "period": ctx["period"]},
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "database": connection.vendor,
    }


# ---------------------------------------------------------------- in the parent process

def _run_worker(args: list[str], env: dict) -> dict:
    completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), *args], env=env,
                               capture_output=True, text=True, cwd=str(HERE))
    if completed.returncode != 0:
        raise SystemExit(f"benchmark worker {' '.join(args)} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _postgres(sql: str, *, dbname: str = "postgres"):
    import psycopg

    with psycopg.connect(f"{POSTGRES_SERVER}/{dbname}", autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else None


def _environment(database: str, size: int, workdir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OSOM_DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    # measured as it runs in production: no debug pages, the template cache on
    env["OSOM_DEBUG"] = "0"
    env["OSOM_DATA_DIR"] = str(workdir)
    src = HERE.parent / "src"
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if database == "postgresql":
        env["OSOM_DATABASE_URL"] = f"{POSTGRES_SERVER}/osom_bench_{size}"
    return env


def measure_one(database: str, size: int, *, repeat: int, seed: int, profile: bool) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"osom-benchrun-{database}-{size}-"))
    dbname = f"osom_bench_{size}"
    try:
        if database == "postgresql":
            _postgres(f"DROP DATABASE IF EXISTS {dbname}")
            _postgres(f"CREATE DATABASE {dbname}")
        env = _environment(database, size, workdir)
        (workdir / "static").mkdir()  # where static files would be collected; its absence is only a warning
        began = time.monotonic()
        generated = _run_worker(["--worker", "generate", "--size", str(size), "--seed", str(seed)], env)
        generated["wall"] = time.monotonic() - began
        measured = _run_worker(["--worker", "measure", "--repeat", str(repeat)] + (["--profile"] if profile else []),
                               env)
        measured["generated"] = generated
        return measured
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if database == "postgresql":
            _postgres(f"DROP DATABASE IF EXISTS {dbname}")


def machine() -> dict:
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        memory = "unknown"
    try:
        postgres = _postgres("SHOW server_version")[0][0]
    except Exception:  # noqa: BLE001 - any failure means the server is not there to ask
        postgres = "not reachable"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"nproc": os.cpu_count(), "memory": memory, "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version, "postgresql": postgres,
            "load": f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}" if load else "unknown",
            "platform": platform.platform()}


def _met(key: str, budget: int, row: dict) -> str:
    misses = []
    if row["status"] != 200:
        misses.append(f"status {row['status']}")
    if row["p95"] > budget:
        misses.append(f"p95 > {budget} ms")
    if row["served_status"] != 200:
        misses.append(f"floor status {row['served_status']}")
    if row["p50"] > FLOOR_FACTOR * row["served_p50"]:
        misses.append(f"> {FLOOR_FACTOR}× floor")
    return "yes" if not misses else "no: " + ", ".join(misses)


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def report(runs: list[tuple[str, int, dict]], info: dict, repeat: int) -> str:
    lines = ["# Pages and API lists against their floor", "",
             f"Machine: {info['nproc']} cores (nproc), {info['memory']} of memory, Python {info['python']}, "
             f"SQLite {info['sqlite']}, PostgreSQL {info['postgresql']}; load average at the end "
             f"{info['load']}; {info['platform']}.",
             f"Each target: one warm-up, one request counting its queries, then {repeat} timed requests "
             "(server time in process, Django's test client). Floor: the same rows by one raw SQL query, "
             "rendered plainly and served through the app (middleware, session or token, response); "
             "query: that SQL and rendering alone. Met: p95 within the target's budget and p50 within "
             f"{FLOOR_FACTOR}× the floor's p50.",
             ""]
    for database, size, result in runs:
        chosen, generated = result["chosen"], result["generated"]
        lines += [f"## {database}, {size:,} services", "",
                  f"Generated in {generated['wall'] - (generated.get('settle_seconds') or 0):.0f} s "
                  f"({generated['rows']:,} rows)"
                  + (f", then VACUUM in {generated['settle_seconds']:.0f} s" if generated.get("settle_seconds") is not None
                     else "") + ". Biggest hub: "
                  f"{chosen['hub']} ({chosen['hub_consumers']:,} consumers); map around {chosen['around']}; "
                  f"search for “{chosen['word']}”; manager with {chosen['manager_services']} services; "
                  f"capital flow of {chosen['period']}. Peak memory of the measuring process: "
                  f"{result['maxrss_mb']:.0f} MB.", "",
                  "| target | p50 ms | p95 ms | queries | floor p50 ms | ratio | query p50 ms | met? |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for key, label, budget in TARGETS:
            row = result["targets"][key]
            ratio = row["p50"] / row["served_p50"] if row["served_p50"] else float("inf")
            lines.append(f"| {label} | {_ms(row['p50'])} | {_ms(row['p95'])} | {row['queries']} | "
                         f"{_ms(row['served_p50'])} | {ratio:,.1f}× | {_ms(row['floor_p50'])} | "
                         f"{_met(key, budget, row)} |")
        profiled = [(label, result["targets"][key]) for key, label, _b in TARGETS
                    if result["targets"][key].get("profile")]
        if profiled:
            lines += ["", "Where the time goes (one request under cProfile, functions by their own time):", ""]
            for label, row in profiled:
                lines.append(f"- {label}: " + "; ".join(row["profile"][:3]))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="services per organisation, comma-separated")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per target (after one warm-up)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the Markdown here (default: print it)")
    parser.add_argument("--profile", action="store_true", help="profile one request of each target")
    parser.add_argument("--json", type=Path, help="also write the raw measurements as JSON")
    # the subprocesses: one generates, one measures
    parser.add_argument("--worker", choices=["generate", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker == "generate":
        print(json.dumps(worker_generate(args.size, args.seed)))
        return 0
    if args.worker == "measure":
        sys.path.insert(0, str(HERE))
        print(json.dumps(worker_measure(args.repeat, args.profile), default=str))
        return 0

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, e.g. 1000,10000")
    if not sizes or min(sizes) < 1:
        parser.error("--sizes needs at least one size of 1 or more")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    runs = []
    for database in databases:
        for size in sizes:
            print(f"measuring {database}, {size:,} services…", file=sys.stderr, flush=True)
            runs.append((database, size, measure_one(database, size, repeat=args.repeat, seed=args.seed,
                                                     profile=args.profile)))
    text = report(runs, machine(), args.repeat)
    if args.json:
        args.json.write_text(json.dumps([{"database": d, "size": s, **r} for d, s, r in runs], default=str, indent=1))
    if args.out:
        args.out.write_text(text + "\n")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
