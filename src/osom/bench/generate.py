"""A realistic large organisation, built in bulk (``osom generate --services N``).

The platform must stay quick for an organisation of tens of thousands of services, so it
needs one to be measured against. This module builds one in an empty database: people,
services with approved contracts, a power-law dependency network, appointments and teams,
years of measurements, assessment reports, budgets and spending, consumption shares,
Corrections of Error, doctrine self-assessments and a few Wardley maps.

It does not go through the actions: one at a time they would take hours. It writes rows
with ``bulk_create`` in batches inside one transaction, assigning primary keys itself so
rows can name each other before they are written (foreign keys are checked when the
transaction commits). Everything the actions keep true is kept true here: each service's
current version is its latest approved one, versions are numbered from 1, needs, metrics
and dependencies belong to versions, each metric series agrees with its measurements and every
metric of a current contract has one, carrying its status against the contract's target, and
every provider's consumption shares add up to at most 1. Rows are made service by service
in chunks, so memory stays bounded whatever the size. One audit event records the whole
act. The same seed gives the same organisation (on the same day: dates count back from
``today``).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from osom.core import audit
from osom.core.errors import Conflict, InvalidInput
from osom.core.models import Organisation, Person, Role
from osom.fitness.models import ConsumptionShare, Measurement, MetricSeries, PeriodVolume
from osom.fitness.series import series_terms
from osom.learning.models import (
    CoEReview, CorrectionOfError, CorrectiveAction, DoctrinePattern, DoctrineRating, DoctrineRound, PatternEffect,
    TimelineEvent,
)
from osom.lifecycle.models import (
    Assessment, AssessmentCriterion, AssessmentKind, AssessmentStatus, BudgetAllocation, Criterion, Result, Spend,
    StageChange,
)
from osom.lifecycle.outcomes import DECOMMISSION_CONDITIONS
from osom.maps.models import MapVersion
from osom.network.models import (
    Appointment, ContractVersion, Dependency, Metric, Need, ProfessionalRole, Service, TeamMembership,
)
from osom.network.stages import Evolution, Lifecycle, MetricKind, UserType, VersionStatus

from . import words

__all__ = ["GenerateResult", "generate_organisation", "BATCH_SIZE", "DOMAIN"]

BATCH_SIZE = 5000
DOMAIN = "generated.example"
# services whose every metric reports weekly for all their years; the others report monthly
# for the last half year (five years of weekly values for every metric of 50,000 services
# would be tens of millions of rows for no extra insight)
WEEKLY_SHARE = 0.1
RECENT_MONTHS = 6
STAGE_WEIGHTS = {Lifecycle.LIVE: 70, Lifecycle.BETA: 10, Lifecycle.ALPHA: 7, Lifecycle.DISCOVERY: 7,
                 Lifecycle.DECOMMISSIONED: 6}
LAYER_SHARES = ((0, 0.10), (1, 0.30), (2, 0.30), (3, 0.30))
CHUNK = 1000  # services whose rows are made together
D, A, B, L, X = Lifecycle.DISCOVERY, Lifecycle.ALPHA, Lifecycle.BETA, Lifecycle.LIVE, Lifecycle.DECOMMISSIONED
TRANSITION_OUTCOMES = {D: ("progress_to_alpha", "Progress to alpha: the needs are identified"),
                       A: ("progress_to_beta", "Progress to beta: the best way is found"),
                       B: ("progress_to_live", "Progress to live: ready to run as live")}
DECOMMISSION_OUTCOMES = {D: "not_required", A: "no_suitable_way", L: "decommission"}
NEXT_STAGE = {D: A, A: B, B: L}
STAGE_DAYS = {D: (45, 120), A: (60, 180), B: (60, 240)}


@dataclass
class GenerateResult:
    services: int
    counts: dict[str, int]
    seconds: float
    summary: str = ""


@dataclass
class _Service:
    """What the generator keeps of each service between its passes (small: there may be
    50,000 of them)."""

    id: int
    index: int
    name: str
    slug: str
    layer: int
    stage: str
    evolution: str
    user_type: str
    manager: int
    established: dt.date
    adopted: bool
    # (stage entered, date, how): the service's path through the lifecycle
    path: list[tuple[str, dt.date]] = field(default_factory=list)
    providers: list[int] = field(default_factory=list)
    revised_on: dt.date | None = None  # when a second version replaced the first
    decommissioned_on: dt.date | None = None
    team: list[int] = field(default_factory=list)


class _Progress:
    """A one-line progress bar on standard error, drawn only for a terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{step:<24} [{'#' * filled}{'.' * (width - filled)}] {done:>7,}/{total:,}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _converter(model_field) -> Callable | None:
    """How a value reaches SQLite as Django itself would store it (None: as it is)."""
    kind = model_field.get_internal_type()
    if kind == "DateTimeField":
        def stored(value):
            if value is None:
                return None
            if timezone.is_aware(value):
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            return str(value)
        return stored
    if kind == "JSONField":
        return json.dumps
    return None


class _Writer:
    """Rows waiting to be written, per model, flushed in batches. Keys are handed out
    here, counting on from the largest already in the table.

    Rows are model instances (``add``) or, for the most numerous, plain dicts of column
    values (``row``), which skip building a model object for each. On SQLite a batch is
    one ``executemany`` of the table's INSERT; Django's ``bulk_create`` spends most of its
    time turning each value into SQL, several times over what SQLite takes to store it.
    On PostgreSQL a batch is streamed with ``COPY``. Elsewhere batches go through ``bulk_create``."""

    def __init__(self):
        self.pending: dict[type[models.Model], list] = {}
        self.next_id: dict[type[models.Model], int] = {}
        self.counts: Counter = Counter()

    def id(self, model) -> int:
        if model not in self.next_id:
            self.next_id[model] = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def add(self, obj: models.Model) -> models.Model:
        model = type(obj)
        if obj.pk is None and model._meta.pk.name == "id":
            obj.pk = self.id(model)
        rows = self.pending.setdefault(model, [])
        rows.append(obj)
        if len(rows) >= BATCH_SIZE:
            self.flush(model)
        return obj

    def row(self, model, **values) -> int:
        if "id" not in values and model._meta.pk.attname == "id":
            values["id"] = self.id(model)
        rows = self.pending.setdefault(model, [])
        rows.append(values)
        if len(rows) >= BATCH_SIZE:
            self.flush(model)
        return values.get("id")

    def flush(self, model=None) -> None:
        for m in [model] if model else list(self.pending):
            rows = self.pending.get(m) or []
            if not rows:
                continue
            if connection.vendor == "sqlite":
                self._insert(m, rows)
            elif connection.vendor == "postgresql":
                self._copy(m, rows)
            else:
                m.objects.bulk_create([m(**r) if isinstance(r, dict) else r for r in rows], batch_size=BATCH_SIZE)
            self.counts[m._meta.label] += len(rows)
            self.pending[m] = []

    def _insert(self, model, rows: list) -> None:
        fields = model._meta.local_concrete_fields
        names = [f.attname for f in fields]
        converters = [_converter(f) for f in fields]
        defaults = {f.attname: f.get_default() for f in fields}

        def values(obj):
            raw = [obj[n] if n in obj else defaults[n] for n in names] if isinstance(obj, dict) \
                else [getattr(obj, n) for n in names]
            return tuple(c(v) if c is not None and v is not None else v for c, v in zip(converters, raw))

        quote = connection.ops.quote_name
        sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))})")
        with connection.cursor() as cursor:
            cursor.executemany(sql, [values(obj) for obj in rows])

    def _copy(self, model, rows: list) -> None:
        """PostgreSQL's COPY: each value prepared by its field as a save would prepare it,
        then streamed to the server with the rest of the batch."""
        fields = model._meta.local_concrete_fields
        names = [f.attname for f in fields]
        defaults = {f.attname: f.get_default() for f in fields}
        quote = connection.ops.quote_name
        sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for obj in rows:
                raw = [obj[n] if n in obj else defaults[n] for n in names] if isinstance(obj, dict) \
                    else [getattr(obj, n) for n in names]
                copy.write_row([f.get_db_prep_save(v, connection) for f, v in zip(fields, raw)])

    def reset_sequences(self) -> None:
        # keys were given explicitly: PostgreSQL's sequences must be moved past them
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.next_id))
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.timezone.utc)


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    # whole thousands, as budgets are set; Decimal throughout
    return Decimal(rng.randint(low // 1000, high // 1000) * 1000)


def _pence(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _outcome_metrics(rng: random.Random) -> list[tuple]:
    """The outcome metrics of a service's contract, drawn from its own generator so the
    contract and its measurements agree."""
    return rng.sample(words.OUTCOME_METRICS, rng.randint(1, 3))


def financial_year(day: dt.date) -> tuple[str, dt.date]:
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}", dt.date(first, 4, 1)


class _Generator:
    def __init__(self, *, count: int, seed: int, years: int, today: dt.date, progress: _Progress):
        self.n = count
        self.rng = random.Random(seed)
        self.years = years
        self.today = today
        self.start = today - dt.timedelta(days=365 * years)
        self.progress = progress
        self.w = _Writer()
        self.services: list[_Service] = []
        self.names: set[str] = set()

    # ------------------------------------------------------------ people
    def _person(self, first: str, last: str, role: str = Role.MEMBER, areas: str = "") -> int:
        pid = self.w.id(Person)
        email = f"{first}.{last}.{pid}@{DOMAIN}".lower().replace(" ", "-").replace("'", "")
        joined = self.start - dt.timedelta(days=self.rng.randint(0, 2000))
        password = "!" + "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=40))
        self.w.add(Person(pk=pid, email=email, name=f"{first} {last}", role=role, areas_of_interest=areas,
                          password=password, joined_at=_at(joined)))
        return pid

    def _random_person(self, role: str = Role.MEMBER, areas: str = "") -> int:
        return self._person(self.rng.choice(words.FIRST_NAMES), self.rng.choice(words.LAST_NAMES), role, areas)

    def people(self) -> None:
        existing = Person.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("pk").first()
        self.executive = existing.pk if existing else self._random_person(Role.EXECUTIVE)
        self.exec_team = [self._random_person(Role.EXECUTIVE_TEAM, ", ".join(self.rng.sample(words.EXEC_AREAS, 2)))
                          for _ in range(max(3, min(12, self.n // 5000 + 3)))]
        # managers: most run one service, some several (model 2), a few many
        self.managers = [self._random_person() for _ in range(max(2, self.n * 2 // 5))]
        self.w.flush(Person)

    # ------------------------------------------------------------ the network's shape
    def _name(self, layer: int) -> str:
        rng = self.rng
        for attempt in range(20):
            area = rng.choice(words.AREAS)
            capability = rng.choice(words.CAPABILITIES[layer])
            if layer == 0:
                name = capability[:1].upper() + capability[1:]
                name = name if attempt == 0 else f"{name} ({rng.choice(words.DISTRICTS)})"
            else:
                name = f"{area} {capability}"
                if attempt > 2:
                    name = f"{name} ({rng.choice(words.DISTRICTS)})"
            if name not in self.names:
                self.names.add(name)
                return name
        name = f"{area} {capability} {len(self.names) + 1}"
        self.names.add(name)
        return name

    def _stage(self, layer: int) -> str:
        if layer == 0:
            # the platform is mostly in place: it is what everything else stands on
            return self.rng.choices([L, B, X], weights=[90, 7, 3])[0]
        stages, weights = zip(*STAGE_WEIGHTS.items())
        return self.rng.choices(stages, weights=weights)[0]

    def _evolution(self, layer: int) -> str:
        weights = {0: (0, 2, 28, 70), 1: (1, 25, 54, 20), 2: (3, 62, 30, 5), 3: (8, 72, 18, 2)}[layer]
        return self.rng.choices([Evolution.GENESIS, Evolution.CUSTOM, Evolution.PRODUCT, Evolution.COMMODITY],
                                weights=weights)[0]

    def _path(self, s: _Service) -> None:
        """When the service entered each stage: adopted services at their real stage when
        the organisation began, the others established in discovery and assessed onwards."""
        rng, start, today = self.rng, self.start, self.today
        final = s.stage
        before_end = final
        if final == X:
            before_end = rng.choices([L, D, A], weights=[60, 25, 15])[0]
        order = [D, A, B, L]
        upto = order.index(before_end)
        s.adopted = before_end in (B, L) and rng.random() < 0.45
        first = before_end if s.adopted else D
        steps = order[order.index(first):upto + 1]
        durations = [rng.randint(*STAGE_DAYS[st]) for st in steps[:-1]]
        tail = rng.randint(30, 400) if final == X else 0
        room = (today - start).days - 14
        needed = sum(durations) + tail
        if s.adopted:
            established = start + dt.timedelta(days=rng.randint(0, 60))
        elif final in (D, A, B):
            # a service still in discovery, alpha or beta entered that stage recently
            in_stage = rng.randint(10, {D: 200, A: 300, B: 400}[final])
            room_before = max(1, (today - start).days - in_stage)
            if sum(durations) >= room_before:
                durations = [max(7, int(d * room_before / sum(durations) * 0.9)) for d in durations]
            established = today - dt.timedelta(days=in_stage + sum(durations))
        else:
            latest = room - needed
            if latest <= 0:
                scale = room / max(needed, 1) * 0.9
                durations = [max(7, int(d * scale)) for d in durations]
                tail = max(7, int(tail * scale)) if tail else 0
                latest = max(1, room - sum(durations) - tail)
            # newer services are more common: the organisation keeps growing
            established = start + dt.timedelta(days=int(latest * rng.random() ** 0.7))
        s.established = established
        day = established
        s.path = [(steps[0], day)]
        for st, d in zip(steps[1:], durations):
            day = day + dt.timedelta(days=d)
            s.path.append((st, day))
        if final == X:
            s.decommissioned_on = min(day + dt.timedelta(days=max(tail, 7)), today - dt.timedelta(days=3))
            s.path.append((X, s.decommissioned_on))
        if final in (L, X) and rng.random() < 0.15:
            live_from = s.path[-1][1] if final == L else s.path[-2][1]
            end = s.decommissioned_on or today
            if (end - live_from).days > 60:
                s.revised_on = live_from + dt.timedelta(days=rng.randint(30, (end - live_from).days - 7))

    def network(self) -> None:
        rng = self.rng
        layers = []
        for layer, share in LAYER_SHARES:
            layers += [layer] * max(1, round(self.n * share))
        layers = sorted(layers[: self.n] + [3] * max(0, self.n - len(layers)))
        for index, layer in enumerate(layers):
            name = self._name(layer)
            stage = self._stage(layer)
            user_type = {0: UserType.INTERNAL, 1: UserType.INTERNAL,
                         2: rng.choices([UserType.INTERNAL, UserType.BOTH], weights=[70, 30])[0],
                         3: rng.choices([UserType.EXTERNAL, UserType.BOTH], weights=[85, 15])[0]}[layer]
            # most managers run one or two services; chance gives some of them several
            manager = rng.choice(self.managers) if rng.random() < 0.6 else self.managers[index % len(self.managers)]
            s = _Service(id=self.w.id(Service), index=index, name=name, slug="", layer=layer, stage=stage,
                         evolution=self._evolution(layer), user_type=user_type, manager=manager,
                         established=self.start, adopted=False)
            self._path(s)
            self.services.append(s)
        self._slugs()
        self._dependencies()
        self.progress("network", self.n, self.n)

    def _slugs(self) -> None:
        taken = {"new", "lookup"}
        for s in self.services:
            base = slugify(s.name)[:140] or "service"
            slug, k = base, 2
            while slug in taken:
                slug, k = f"{base}-{k}", k + 1
            taken.add(slug)
            s.slug = slug

    def _dependencies(self) -> None:
        """Preferential attachment in layered order: each service consumes services that
        come before it, chosen in proportion to how many consumers they have already, so a
        few platform services end up consumed by hundreds. Then a handful of small
        cycles, as real networks have."""
        rng = self.rng
        pool: list[int] = []  # provider positions, one entry per consumer plus one
        layer_of = [s.layer for s in self.services]
        pending_layer: list[int] = []
        current_layer = 0
        for s in self.services:
            if s.layer != current_layer:
                pool += pending_layer
                pending_layer, current_layer = [], s.layer
            if s.stage in (L, B) or (s.stage == A and rng.random() < 0.3):
                # the platform's first services start with a head start: hosting, identity…
                weight = 25 if s.layer == 0 and s.index < 8 else 1
                pending_layer += [s.index] * weight
            if not pool:
                continue
            want = {0: 0, 1: rng.randint(1, 3), 2: rng.randint(1, 5), 3: rng.randint(2, 8)}[s.layer]
            if s.stage == D:
                want = min(want, rng.randint(0, 2))
            chosen: list[int] = []
            for _ in range(want * 3):
                if len(chosen) >= want:
                    break
                p = rng.choice(pool)
                if p not in chosen and layer_of[p] < s.layer:
                    chosen.append(p)
            for p in chosen:
                s.providers.append(self.services[p].id)
                if s.stage != X:
                    pool.append(p)
        self.cycles = self._cycles()

    def _cycles(self) -> int:
        rng = self.rng
        by_id = {s.id: s for s in self.services}
        edges = [(s, by_id[p]) for s in self.services if s.stage in (L, B) and s.layer in (1, 2)
                 for p in s.providers if by_id[p].layer in (1, 2) and by_id[p].stage in (L, B)]
        made = 0
        rng.shuffle(edges)
        for consumer, provider in edges[: max(2, min(20, self.n // 2500))]:
            if consumer.id not in provider.providers:
                provider.providers.append(consumer.id)  # a two-service cycle: each consumes the other
                made += 1
        return made

    # ------------------------------------------------------------ contracts
    def _contract(self, s: _Service, version_id: int) -> list:
        """Needs and metrics of one version (the same for every version of the service)."""
        rng = random.Random(s.id * 7919 + 17)  # the same content whichever version asks
        rows = []
        chosen = _outcome_metrics(rng)
        metric_count = len(chosen)
        metrics = []
        for position, (key, name, unit, direction, target) in enumerate(chosen):
            metrics.append(Metric(id=self.w.id(Metric), version_id=version_id, key=key, position=position, name=name,
                                  unit=unit, direction=direction,
                                  target=Decimal(target) if rng.random() < 0.85 else None,
                                  kind=MetricKind.OUTCOME, how_measured="From the service's own records, weekly."))
        extra = words.COST_METRIC if s.user_type != UserType.INTERNAL else words.CONSUMPTION_METRIC
        key, name, unit, direction, target = extra
        metrics.append(Metric(id=self.w.id(Metric), version_id=version_id, key=key, position=len(metrics), name=name,
                              unit=unit, direction=direction, target=Decimal(target) if target else None,
                              kind=MetricKind.COST if key.startswith("cost") else MetricKind.CONSUMPTION,
                              how_measured="From the finance system." if key.startswith("cost")
                              else "Counted at the service's front door."))
        rows += metrics
        what = s.name.lower()
        for position in range(rng.randint(1, 3)):
            i_need, so_that = rng.choice(words.NEEDS)
            need = Need(id=self.w.id(Need), version_id=version_id, key=f"need-{position + 1}", position=position,
                        as_a=rng.choice(words.USERS[s.layer]), i_need=i_need.format(what=what), so_that=so_that)
            rows.append(need)
            for metric in (metrics[position % metric_count], metrics[-1]) if position == 0 else \
                    (metrics[position % metric_count],):
                self.w.row(Need.metrics.through, need_id=need.id, metric_id=metric.id)
        for provider in s.providers:
            rows.append(Dependency(id=self.w.id(Dependency), version_id=version_id, provider_id=provider,
                                   note=rng.choice(("", "For every transaction", "Nightly", "On demand"))))
        return rows

    def _version(self, s: _Service, number: int, stage: str, approved_on: dt.date, based_on: int | None,
                 *, note: str, reasons: str = "", migration: str = "") -> int:
        vid = self.w.id(ContractVersion)
        what = s.name
        self.w.add(ContractVersion(
            id=vid, service_id=s.id, number=number, status=VersionStatus.APPROVED, name=s.name,
            lifecycle_stage=stage, evolution_stage=s.evolution, user_type=s.user_type,
            purpose=f"{what} is how {'residents' if s.layer == 3 else 'services'} get this done. "
                    f"It is one of the organisation's {('platform', 'shared', 'business', 'customer')[s.layer]} services.",
            benefit="Fewer calls and less rework; one place to improve.",
            usage="Online, and through its API for other services." if s.layer < 3 else "Online, by phone, in person.",
            onboarding="Read the guide, ask for access, and the team sets you up within a week.",
            expectations="Available around the clock; planned work is announced a week ahead.",
            support="Raise a request on the service desk; urgent problems page the team on call.",
            migration_path=migration or "Export your records through the API and move them to the replacement.",
            decommission_reasons=reasons, change_note=note, created_by_id=s.manager,
            created_at=_at(approved_on, 9), submitted_at=_at(approved_on, 9),
            approved_by_id=self.executive, approved_at=_at(approved_on, 16), based_on_id=based_on))
        for row in self._contract(s, vid):
            self.w.add(row)
        return vid

    def contracts_and_history(self) -> None:
        criteria = list(Criterion.objects.filter(source__in=("common", "technical")).order_by("position")
                        .values_list("pk", flat=True)) or list(Criterion.objects.values_list("pk", flat=True))
        roles = dict(ProfessionalRole.objects.values_list("name", "pk"))
        fallback_role = next(iter(roles.values()))
        for chunk_start in range(0, self.n, CHUNK):
            for s in self.services[chunk_start:chunk_start + CHUNK]:
                self._service_rows(s, criteria, roles, fallback_role)
            self.progress("contracts and history", min(self.n, chunk_start + CHUNK), self.n)

    def _service_rows(self, s: _Service, criteria: list[int], roles: dict, fallback_role: int) -> None:
        rng = self.rng
        first_stage = s.path[0][0]
        v1 = self._version(s, 1, first_stage, s.established, None,
                           note="Contract written when the running service was adopted." if s.adopted
                           else "Contract published when the service was established.")
        versions = [(s.established, v1)]
        current = v1
        if s.revised_on:
            stage_then = [st for st, day in s.path if day <= s.revised_on][-1]
            current = self._version(s, 2, stage_then, s.revised_on, v1,
                                    note="A new need raised by users, agreed at the last assessment.")
            versions.append((s.revised_on, current))
        condition = reasons = migration = ""
        if s.decommissioned_on:
            condition = rng.choice(("a", "b"))
            reasons = rng.choice(words.DECOMMISSION_REASONS[condition])
            migration = "Consumers move to the shared service that replaced it; the team helps each one move."
            current = self._version(
                s, len(versions) + 1, X, s.decommissioned_on, None,
                note=f"Decommissioned by the assessment of {s.decommissioned_on:%d %b %Y}.",
                reasons=f"Condition ({condition}): {DECOMMISSION_CONDITIONS[condition]}\n\n{reasons}",
                migration=migration)
            versions.append((s.decommissioned_on, current))
        next_due = self._assessments(s, versions, criteria, condition, reasons, migration)
        stage_since = s.path[-1][1]
        self.w.add(Service(
            id=s.id, name=s.name, slug=s.slug, lifecycle_stage=s.stage, evolution_stage=s.evolution,
            user_type=s.user_type, summary=f"{s.name} is how {'residents' if s.layer == 3 else 'services'} get this done.",
            manager_id=s.manager, current_version_id=current, established_at=_at(s.established, 9), adopted=s.adopted,
            stage_since=_at(stage_since, 16), next_assessment_due=next_due, revision=len(versions) + 1))
        # appointments: some services changed manager along the way
        appointed = s.established
        if rng.random() < 0.2 and (self.today - s.established).days > 120:
            middle = s.established + dt.timedelta(days=rng.randint(30, (self.today - s.established).days - 30))
            earlier = rng.choice(self.managers)
            earlier = earlier if earlier != s.manager else self.managers[(self.managers.index(earlier) + 1) % len(self.managers)]
            self.w.add(Appointment(service_id=s.id, person_id=earlier, started_at=_at(s.established),
                                   ended_at=_at(middle), appointed_by_id=self.executive,
                                   reason="Appointed when the service was established."))
            appointed = middle
        # the open appointment is the current manager's, decommissioned or not, as the app keeps it
        self.w.add(Appointment(service_id=s.id, person_id=s.manager, started_at=_at(appointed),
                               appointed_by_id=self.executive,
                               reason="Appointed when the service was established." if appointed == s.established
                               else "The previous manager moved to another service."))
        self._team(s, roles, fallback_role)

    def _team(self, s: _Service, roles: dict, fallback_role: int) -> None:
        rng = self.rng
        stage = s.stage if s.stage != X else L
        size = {D: (2, 4), A: (3, 7), B: (4, 9), L: (3, 8)}[stage]
        for _ in range(rng.randint(*size)):
            # most people are in one team; some join a second service's team too
            if s.team and rng.random() < 0.1 and self.services[max(0, s.index - 1)].team:
                person = rng.choice(self.services[max(0, s.index - 1)].team)
                if person in s.team:
                    continue
            else:
                person = self._random_person()
            s.team.append(person)
            role = roles.get(rng.choice(words.TEAM_ROLES[stage]), fallback_role)
            start = s.established + dt.timedelta(days=rng.randint(0, 60))
            self.w.row(TeamMembership, service_id=s.id, person_id=person, role_id=role, level=rng.choice(words.LEVELS),
                                      started_at=_at(min(start, self.today)),
                                      ended_at=_at(s.decommissioned_on) if s.decommissioned_on else None,
                                      added_by_id=s.manager)
        # keep only a little of each team for later passes (CoE owners, doctrine respondents)
        s.team = s.team[:4]

    def _assessment(self, s: _Service, *, kind: str, stage: str, day: dt.date, version: int, criteria: list[int],
                    outcome: str, label: str, result: str = Result.MET, reassesses: int | None = None,
                    condition: str = "", reasons: str = "", migration: str = "") -> int:
        rng = self.rng
        aid = self.w.id(Assessment)
        assessor = rng.choice(self.exec_team)
        self.w.add(Assessment(
            id=aid, service_id=s.id, kind=kind, stage=stage, scheduled_for=day, status=AssessmentStatus.PUBLISHED,
            agenda_note="The criteria below, and how the service meets its users' needs.",
            agenda_published_at=_at(day - dt.timedelta(days=14)), reassesses_id=reassesses, result=result,
            outcome=outcome, summary=f"{label}. The panel heard from the team and two consuming services.",
            contract_version_id=version, manager_id=s.manager, decommission_condition=condition,
            decommission_reasons=reasons, migration_path=migration, published_at=_at(day, 15),
            published_by_id=self.executive, created_by_id=self.executive, created_at=_at(day - dt.timedelta(days=30)),
            revision=3))
        self.w.row(Assessment.assessors.through, assessment_id=aid, person_id=self.executive)
        self.w.row(Assessment.assessors.through, assessment_id=aid, person_id=assessor)
        for position, criterion in enumerate(rng.sample(criteria, min(3, len(criteria)))):
            decision = result if position == 0 else (Result.MET if rng.random() < 0.9 else Result.NOT_MET)
            self.w.row(AssessmentCriterion,
                assessment_id=aid, criterion_id=criterion, position=position, decision=decision,
                did_well="Clear evidence from user research and the service's own measures.",
                to_improve="" if decision == Result.MET else "Show how the gaps found will be closed, and by when.")
        return aid

    def _assessments(self, s: _Service, versions, criteria, condition, reasons, migration) -> dt.date | None:
        """The reports that moved the service along its path, its periodic live
        assessments, and the stage changes and budgets they made."""
        rng = self.rng

        def version_on(day):
            return [v for d, v in versions if d <= day][-1] if any(d <= day for d, _ in versions) else versions[0][1]

        live_since = None
        for (stage, _), (to_stage, day) in zip(s.path, s.path[1:]):
            if to_stage == X:
                outcome = DECOMMISSION_OUTCOMES.get(stage, "decommission")
                aid = self._assessment(s, kind=AssessmentKind.PERIODIC if stage == L else AssessmentKind.TRANSITION,
                                       stage=stage, day=day, version=version_on(day - dt.timedelta(days=1)),
                                       criteria=criteria, outcome=outcome, label="The service is no longer needed",
                                       result=Result.NOT_MET if stage != L else Result.MET, condition=condition,
                                       reasons=reasons, migration=migration)
                self.w.row(StageChange, service_id=s.id, from_stage=stage, to_stage=X, at=_at(day, 15), assessment_id=aid,
                                       note="Decommissioned")
                continue
            # the periodic assessments of a live service come before anything later in its path
            outcome, label = TRANSITION_OUTCOMES[stage]
            aid = self._assessment(s, kind=AssessmentKind.TRANSITION, stage=stage, day=day, version=version_on(day),
                                   criteria=criteria, outcome=outcome, label=label)
            self.w.row(StageChange, service_id=s.id, from_stage=stage, to_stage=to_stage, at=_at(day, 15),
                                   assessment_id=aid, note=label)
            period, _ = financial_year(day)
            self.w.add(BudgetAllocation(
                service_id=s.id, period=period, stage=to_stage, amount=self._budget(s, to_stage), assessment_id=aid,
                allocated_by_id=self.executive, allocated_at=_at(day, 15),
                note=f"Allocated with the report that moved {s.name} to {to_stage}."))
            if to_stage == L:
                live_since = day
        if s.adopted and s.path[0][0] == L:
            live_since = s.established
        if live_since is None:
            return None
        # periodic assessments, each about a year after the last, some held late
        end = s.decommissioned_on or self.today
        last = live_since
        while True:
            due = last + dt.timedelta(days=365)
            held = due + dt.timedelta(days=rng.randint(-30, 75))
            if held >= end - dt.timedelta(days=1):
                break
            not_met = rng.random() < 0.08
            aid = self._assessment(s, kind=AssessmentKind.PERIODIC, stage=L, day=held, version=version_on(held),
                                   criteria=criteria, outcome="remain_live",
                                   label="Remain live: assessed again at the next due date",
                                   result=Result.NOT_MET if not_met else Result.MET)
            if not_met:
                again = held + dt.timedelta(days=42)
                if again < end - dt.timedelta(days=1):
                    self._assessment(s, kind=AssessmentKind.REASSESSMENT, stage=L, day=again, version=version_on(again),
                                     criteria=criteria, outcome="remain_live",
                                     label="Reassessment: the criteria not met are now met", reassesses=aid)
            last = held
        return None if s.decommissioned_on else last + dt.timedelta(days=365)

    def _budget(self, s: _Service, stage: str) -> Decimal:
        low, high = {D: (40_000, 150_000), A: (120_000, 450_000), B: (250_000, 900_000),
                     L: (150_000, 1_500_000)}[stage]
        if s.layer == 0 and stage == L:
            low, high = 1_000_000, 6_000_000
        return _money(self.rng, low, high)

    # ------------------------------------------------------------ measurements
    def measurements(self) -> None:
        metric_keys = {}
        for s in self.services:
            if s.stage in (L, B, X):
                metric_keys[s.id] = None
        total = len(metric_keys)
        done = 0
        for s in self.services:
            if s.id not in metric_keys:
                continue
            self._measure(s)
            done += 1
            if done % 200 == 0 or done == total:
                self.progress("measurements", done, total)

    def _measure(self, s: _Service) -> None:
        rng = self.rng
        chosen = _outcome_metrics(random.Random(s.id * 7919 + 17))
        extra = words.COST_METRIC if s.user_type != UserType.INTERNAL else words.CONSUMPTION_METRIC
        keys = [(key, name, unit, target) for key, name, unit, _, target in [*chosen, extra]]
        reporting_from = max([day for st, day in s.path if st in (B, L)] or [s.established])
        end = (s.decommissioned_on or self.today) - dt.timedelta(days=1)
        weekly = rng.random() < WEEKLY_SHARE
        if weekly:
            first = max(reporting_from, self.start)
            first -= dt.timedelta(days=first.weekday())  # weeks run Monday to Sunday
            periods = []
            day = first
            while day + dt.timedelta(days=6) <= end:
                periods.append((day, day + dt.timedelta(days=6)))
                day += dt.timedelta(days=7)
            cadence = 7
        else:
            periods = []
            month = dt.date(end.year, end.month, 1)
            for _ in range(RECENT_MONTHS + 1):
                last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
                if last <= end and month >= reporting_from:
                    periods.append((month, last))
                month = (month - dt.timedelta(days=1)).replace(day=1)
            periods.reverse()
            cadence = 31
        if not periods:
            return
        for key, name, unit, target in keys:
            # some series stop a few periods early: the service forgot to report, and shows as stale
            stops = rng.random() < 0.08 and len(periods) > 4
            series = periods[: -rng.randint(1, 3)] if stops else periods
            base = float(target) if target else float(rng.randint(1_000, 50_000))
            spread = base * 0.04 if key != "availability" else 0.3
            value = base
            for start, finish in series:
                # a random walk pulled back towards the target: most periods near it, some missing it
                value += rng.gauss(0, spread) + (base - value) * 0.2
                bounded = min(max(value, 0.0), 100.0) if unit == "%" else max(value, 0.0)
                shown = Decimal(f"{bounded:.2f}")
                self.w.row(Measurement, service_id=s.id, metric_key=key, period_start=start, period_end=finish,
                                       value=shown, measured_at=_at(finish + dt.timedelta(days=1), 7),
                                       source=Measurement.Source.CSV, recorded_by_id=s.manager,
                                       recorded_at=_at(finish + dt.timedelta(days=1), 8))
            last_start, last_end = series[-1]
            self.w.add(MetricSeries(service_id=s.id, metric_key=key, cadence_days=cadence, count=len(series),
                                    latest_value=shown, latest_start=last_start, latest_end=last_end,
                                    due_on=last_end + dt.timedelta(days=cadence),
                                    terms=series_terms(s.name, name, key)))

    # ------------------------------------------------------------ money
    def money(self) -> None:
        """A budget for each running service in the last complete financial year and this
        one, with spending each quarter, and the providers' consumption shares and the
        journeys' transactions for the last complete year, so its capital flow computes."""
        rng = self.rng
        this_period, this_start = financial_year(self.today)
        last_period, last_start = financial_year(this_start - dt.timedelta(days=1))
        self.flow_period = last_period
        running = {}
        for s in self.services:
            stage_at = {}
            for period, begins in ((last_period, last_start), (this_period, this_start)):
                if s.established > begins + dt.timedelta(days=364):
                    continue
                if s.decommissioned_on and s.decommissioned_on < begins:
                    continue
                entered = [st for st, day in s.path if day <= max(begins, s.established) and st != X]
                stage = entered[-1] if entered else s.path[0][0]
                stage_at[period] = stage
                aid = self.w.id(BudgetAllocation)
                amount = self._budget(s, stage)
                self.w.add(BudgetAllocation(id=aid, service_id=s.id, period=period, stage=stage, amount=amount,
                                            allocated_by_id=self.executive, allocated_at=_at(begins - dt.timedelta(days=20)),
                                            note="The annual allocation."))
                quarters = 4 if period == last_period else max(0, (self.today - this_start).days // 91)
                if s.decommissioned_on:
                    quarters = min(quarters, max(0, (s.decommissioned_on - begins).days // 91))
                for q in range(quarters):
                    spent = _pence(amount / 4 * Decimal(rng.randint(80, 104)) / 100)
                    self.w.row(Spend, allocation_id=aid, amount=spent, spent_on=begins + dt.timedelta(days=91 * q + 88),
                                     description=f"Quarter {q + 1}: team and running costs", recorded_by_id=s.manager,
                                     recorded_at=_at(begins + dt.timedelta(days=91 * q + 90)))
            if last_period in stage_at and s.stage != X:
                running[s.id] = s
        # consumption shares along the current contracts' dependencies (consumers that run)
        consumers: dict[int, list[int]] = {}
        for s in self.services:
            if s.id in running:
                for p in s.providers:
                    if p in running:
                        consumers.setdefault(p, []).append(s.id)
        for provider, who in consumers.items():
            internal = Decimal(rng.randint(30, 90)) / 100  # the rest goes to external users
            weights = [rng.paretovariate(1.5) for _ in who]
            scale = sum(weights)
            for consumer, weight in zip(who, weights):
                share = (internal * Decimal(weight / scale)).quantize(Decimal("0.000001"), rounding="ROUND_DOWN")
                if share <= 0:
                    continue
                self.w.row(ConsumptionShare, period=last_period, provider_id=provider, consumer_id=consumer,
                                            share=share, recorded_by_id=self.executive,
                                            recorded_at=_at(this_start + dt.timedelta(days=10)))
        for s in running.values():
            if s.user_type in (UserType.EXTERNAL, UserType.BOTH):
                self.w.add(PeriodVolume(period=last_period, service_id=s.id, transactions=rng.randint(2_000, 900_000),
                                        recorded_by_id=s.manager, recorded_at=_at(this_start + dt.timedelta(days=12))))
        self.progress("budgets and capital flow", 1, 1)

    # ------------------------------------------------------------ learning
    def learning(self) -> None:
        rng = self.rng
        patterns = list(DoctrinePattern.objects.order_by("position").values_list("pk", flat=True))
        candidates = [s for s in self.services if s.stage in (L, B, X) and s.team]
        coe_count = max(3, self.n // 8)
        # reviews: one a month over the years, held, except the next one
        months = max(1, self.years * 12)
        reviews = []
        for k in range(months):
            day = self.start + dt.timedelta(days=30 * k + 25)
            if day >= self.today - dt.timedelta(days=40):
                break
            rid = self.w.id(CoEReview)
            self.w.add(CoEReview(id=rid, title=f"Correction of Error review, {day:%B %Y}", scheduled_for=day,
                                 status=CoEReview.Status.HELD, notes="Every published CoE was walked through in the open.",
                                 scheduled_by_id=self.executive, scheduled_at=_at(day - dt.timedelta(days=21)),
                                 held_at=_at(day, 14), held_by_id=self.executive))
            reviews.append((day, rid))
        upcoming = self.today + dt.timedelta(days=14)
        self.w.add(CoEReview(title=f"Correction of Error review, {upcoming:%B %Y}", scheduled_for=upcoming,
                             scheduled_by_id=self.executive, scheduled_at=_at(self.today - dt.timedelta(days=7))))
        for k in range(coe_count if candidates else 0):
            s = rng.choice(candidates)
            live_from = max(s.established, self.start)
            end = s.decommissioned_on or self.today
            if (end - live_from).days < 20:
                continue
            occurred = live_from + dt.timedelta(days=rng.randint(1, (end - live_from).days - 10))
            if k >= coe_count * 0.9 and not s.decommissioned_on:
                # the newest tenth happened since the last review: awaiting the next one
                occurred = self.today - dt.timedelta(days=rng.randint(5, 35))
            title, cause = rng.choice(words.COE_PROBLEMS)
            published = occurred + dt.timedelta(days=rng.randint(3, 14))
            # a held review went through every CoE published before it
            review = next(((day, rid) for day, rid in reviews if day >= published + dt.timedelta(days=3)), None)
            if published >= self.today:
                status = CorrectionOfError.Status.DRAFT
            elif review is None:
                status = CorrectionOfError.Status.PUBLISHED
            else:
                status = CorrectionOfError.Status.REVIEWED
            cid = self.w.id(CorrectionOfError)
            author = rng.choice(s.team)
            is_public = status != CorrectionOfError.Status.DRAFT
            self.w.add(CorrectionOfError(
                id=cid, service_id=s.id, title=f"{title} in {s.name}"[:200], occurred_on=occurred,
                users_affected=rng.random() < 0.6, problem=f"{title}.", impact="Some users could not finish what they came to do.",
                root_cause=cause, root_cause_data="Logs and the timeline below.",
                trade_offs_that_led="Speed of change was put ahead of checks.",
                trade_offs_to_avoid="Changing everything at once to save a day.",
                lessons="Make the safe way the easy way.", status=status, author_id=author,
                created_at=_at(occurred + dt.timedelta(days=1)),
                published_at=_at(published) if is_public else None,
                published_by_id=s.manager if is_public else None,
                review_id=review[1] if status == CorrectionOfError.Status.REVIEWED else None,
                review_note="Discussed; the actions were agreed." if status == CorrectionOfError.Status.REVIEWED else "",
                reviewed_at=_at(review[0], 14) if status == CorrectionOfError.Status.REVIEWED else None, revision=2))
            for position, hours in enumerate((0, 1, 3)):
                self.w.row(TimelineEvent, coe_id=cid, position=position, at=_at(occurred, 9 + hours),
                                         description=("The problem began.", "The team was alerted.",
                                                      "Service was restored.")[position])
            for pattern in rng.sample(patterns, 2) if len(patterns) >= 2 else []:
                self.w.add(PatternEffect(coe_id=cid, pattern_id=pattern,
                                         effect=rng.choice((PatternEffect.Effect.HELPED, PatternEffect.Effect.HURT))))
            for position in range(rng.randint(1, 3)):
                due = published + dt.timedelta(days=rng.randint(14, 90))
                if not is_public:
                    status_a = CorrectiveAction.Status.OPEN
                elif due < self.today - dt.timedelta(days=30):
                    status_a = rng.choices([CorrectiveAction.Status.VERIFIED, CorrectiveAction.Status.DONE,
                                            CorrectiveAction.Status.DROPPED, CorrectiveAction.Status.OPEN],
                                           weights=[60, 20, 8, 12])[0]
                else:
                    status_a = rng.choice([CorrectiveAction.Status.OPEN, CorrectiveAction.Status.DONE])
                finished = min(self.today, due + dt.timedelta(days=rng.randint(-10, 20)))
                self.w.add(CorrectiveAction(
                    coe_id=cid, position=position, description=rng.choice(words.ACTIONS),
                    owner_id=rng.choice(s.team), due_date=due, agreed_due_date=due if is_public else None,
                    status=status_a, created_at=_at(occurred + dt.timedelta(days=2)),
                    done_at=_at(finished) if status_a in (CorrectiveAction.Status.DONE, CorrectiveAction.Status.VERIFIED)
                    else None,
                    verified_at=_at(finished, 15) if status_a == CorrectiveAction.Status.VERIFIED else None,
                    verified_by_id=s.manager if status_a == CorrectiveAction.Status.VERIFIED else None,
                    dropped_reason="Overtaken by the move to the shared platform."
                    if status_a == CorrectiveAction.Status.DROPPED else ""))
        self.progress("corrections of error", 1, 1)
        self._doctrine(patterns)

    def _doctrine(self, patterns: list[int]) -> None:
        rng = self.rng
        if not patterns:
            return
        ratings = [r for r, _ in DoctrineRating._meta.get_field("rating").choices]
        sampled = [s for s in self.services if s.stage in (L, B) and len(s.team) >= 2]
        rng.shuffle(sampled)
        for s in sampled[: max(2, self.n // 15)]:
            opened = self.today - dt.timedelta(days=rng.randint(20, 400))
            rid = self.w.id(DoctrineRound)
            self.w.add(DoctrineRound(id=rid, service_id=s.id, title=f"{s.name}: doctrine self-assessment, {opened:%B %Y}"[:200],
                                     status=DoctrineRound.Status.CLOSED, opened_by_id=s.manager, opened_at=_at(opened),
                                     closed_at=_at(opened + dt.timedelta(days=14))))
            leaning = rng.random()
            for respondent in dict.fromkeys([s.manager, *s.team[:2]]):
                for pattern in patterns:
                    roll = rng.random()
                    rating = ratings[0] if roll < leaning * 0.6 else rng.choice(ratings)
                    self.w.row(DoctrineRating, round_id=rid, pattern_id=pattern, respondent_id=respondent, rating=rating,
                                              rated_at=_at(opened + dt.timedelta(days=3)))
        self.w.add(DoctrineRound(title="The whole organisation: doctrine self-assessment", status=DoctrineRound.Status.OPEN,
                                 opened_by_id=self.executive, opened_at=_at(self.today - dt.timedelta(days=5))))
        self.progress("doctrine rounds", 1, 1)

    # ------------------------------------------------------------ maps
    def maps(self) -> None:
        from osom.maps.text import parse

        by_id = {s.id: s for s in self.services}
        position = {Evolution.GENESIS: 0.1, Evolution.CUSTOM: 0.3, Evolution.PRODUCT: 0.58, Evolution.COMMODITY: 0.85}
        chosen = [s for s in self.services if s.stage == L and s.layer == 3 and s.providers][:12]
        for s in chosen:
            lines = [f"title {s.name}", "style wardley", "", f"anchor {words.USERS[3][0].capitalize()}s [0.97, 0.5]",
                     f"component {s.name} [0.82, {position[s.evolution]:.2f}]"]
            links = [f"{words.USERS[3][0].capitalize()}s->{s.name}"]
            for k, pid in enumerate(s.providers):
                p = by_id[pid]
                visibility = 0.62 - 0.4 * (3 - p.layer) / 3 - 0.02 * (k % 3)
                lines.append(f"component {p.name} [{visibility:.2f}, {position[p.evolution]:.2f}]")
                links.append(f"{s.name}->{p.name}")
            text = "\n".join(lines + [""] + links) + "\n"
            self.w.add(MapVersion(service_id=s.id, number=1, text=text, note="First map of the service",
                                  warnings=len(parse(text).warnings), saved_by_id=s.manager,
                                  saved_at=_at(self.today - dt.timedelta(days=30))))
        self.progress("maps", 1, 1)


def generate_organisation(*, services: int, seed: int = 1, years: int = 5, progress: bool = False,
                          today: dt.date | None = None) -> GenerateResult:
    """Build an organisation of ``services`` services in an empty database, in one
    transaction, and record one audit event for it. Refuses when services exist."""
    if not isinstance(services, int) or isinstance(services, bool) or not 1 <= services <= 1_000_000:
        raise InvalidInput("Give the number of services: a whole number from 1 to 1,000,000.", field="services")
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 20:
        raise InvalidInput("Give the years of history: a whole number from 1 to 20.", field="years")
    existing = Service.objects.count()
    if existing:
        raise Conflict(f"The database already holds {existing:,} service{'s' if existing != 1 else ''}: an organisation "
                       "is generated only into an empty database (use a new OSOM_DATA_DIR).", field="services")
    began = time.monotonic()
    gen = _Generator(count=services, seed=seed, years=years, today=today or timezone.localdate(),
                     progress=_Progress(progress))
    with transaction.atomic():
        organisation = Organisation.current()
        gen.people()
        gen.network()
        gen.contracts_and_history()
        gen.w.flush()
        gen.measurements()
        gen.money()
        gen.learning()
        gen.maps()
        gen.w.flush()
        gen.w.reset_sequences()
        # the rows above were written without saving models: what their saves keep in step is made here
        from osom.fitness.series import sync_all as sync_metric_series
        from osom.core.dbstats import refresh_statistics
        from osom.search.index import rebuild as rebuild_search_index

        gen.w.counts[MetricSeries._meta.label] += sync_metric_series()
        rebuild_search_index()
        refresh_statistics()
        counts = {label.split(".")[-1]: n for label, n in sorted(gen.w.counts.items())}
        audit.record(None, "generate_organisation", organisation, authority=None,
                     summary=f"Generated an organisation of {services:,} services",
                     after={"services": services, "seed": seed, "years": years, "cycles": gen.cycles,
                            "rows": sum(counts.values())})
    seconds = time.monotonic() - began
    summary = (f"Generated an organisation of {services:,} services ({sum(counts.values()):,} rows) "
               f"in {seconds:.1f} s, seed {seed}.")
    return GenerateResult(services=services, counts=counts, seconds=seconds, summary=summary)
