"""The demo organisation's fitness data, capital flow and maps, loaded last by ``osom demo``.

The data is in ``demo_fitness.yaml`` beside this module and the map texts in
``osom/maps/demo_maps/``. Like the rest of the demo, everything is written through the
actions, by the people whose job it is, in the transaction of
:func:`osom.network.demo.load_demo`: a failure here leaves nothing of the demo behind.

The measurements tell a year of the services' lives, so each report is made as of the day
it would have been (the clock of :func:`osom.network.demo._as_of`): a month's values a few
days after it ends, a week's on the Monday after, and the records pushed by Payments'
own systems with its ingest token likewise. The values are worked out from the data file's
description of each series (where it starts, where it is now, how much it wobbles), with
a random wobble seeded by the service and metric, so every load gives the same figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.utils import timezone

from osom.core.models import Person, Role
from osom.lifecycle import actions as lifecycle
from osom.lifecycle.models import BudgetAllocation
from osom.maps.actions import save_service_map
from osom.maps.models import MapVersion
from osom.network import actions as network
from osom.network.demo import DemoDataError, _as_of, _check_fields, financial_year
from osom.network.models import Metric, Service

from . import actions as fitness
from .models import Aggregation, Measurement
from .standard import standard_measure

__all__ = ["FITNESS_FILE", "MAPS_DIR", "Period", "Series", "load_fitness_demo", "read_fitness_data", "read_series",
           "series_periods", "series_values", "working_day"]

FITNESS_FILE = Path(__file__).with_name("demo_fitness.yaml")
MAPS_DIR = Path(__file__).resolve().parent.parent / "maps" / "demo_maps"

_SECTIONS = {"platform_started", "revisions", "standard_measures", "measurements", "corrections", "capital", "figures", "maps"}
_REVISION_FIELDS = {"service", "change_note", "by", "add_dependencies", "approved_by"}
_STANDARD_FIELDS = {"change_note", "approved_by", "by", "measures"}
_SERVICE_FIELDS = {"by", "how", "token_label", "series"}
_SERIES_FIELDS = {"from", "to", "wobble", "places", "every", "periods", "stopped", "at", "notes"}
_CORRECTION_FIELDS = {"service", "metric", "period", "value", "note", "by", "after"}
_CAPITAL_FIELDS = {"running_costs", "shares", "transactions"}
_FIGURE_FIELDS = {"name", "expression", "unit", "grain", "within", "description", "revised"}
_MAP_FIELDS = {"file", "by", "day", "note"}
HOW = ("csv", "manual", "ingest")
# how many periods a series goes back, and how long after a period ends it is reported
DEFAULT_PERIODS = {"month": 12, "week": 52, "quarter": 4}
REPORTED_AFTER = {"month": 4, "week": 1, "quarter": 10}
# a weekly or quarterly series promises that cadence; a monthly one keeps the default
CADENCE_DAYS = {"week": 7, "quarter": 92}
JOINED_A_DAY = 4  # services joining the performance platform on each day after it went live
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


# ---------------------------------------------------------------- reading the data


def _number(where: str, value) -> Decimal:
    """A number of the data file, exactly as it is written there (YAML reads 99.95 as a
    float; its shortest text is what was written)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DemoDataError(f"{where}: “{value}” is not a number.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise DemoDataError(f"{where}: “{value}” is not a number.") from None
    if not number.is_finite():
        raise DemoDataError(f"{where}: “{value}” is not a number.")
    return number


@dataclass(frozen=True)
class Series:
    """How one metric's values go over the periods (see the data file's header)."""

    first: Decimal
    latest: Decimal
    wobble: Decimal
    places: int
    every: str = "month"
    periods: int = 12
    stopped: int = 0
    at: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)


def _places(*numbers: Decimal) -> int:
    return max(max(0, -n.normalize().as_tuple().exponent) if n else 0 for n in numbers)


def _period_keys(where: str, keys, every: str, periods: int) -> None:
    for key in keys:
        if isinstance(key, int) and not isinstance(key, bool):
            if not 0 <= key < periods:
                raise DemoDataError(f"{where}: {key} periods back is outside the series ({periods} periods).")
        elif key in MONTHS:
            if every != "month":
                raise DemoDataError(f"{where}: a month by name is only for a monthly series.")
            if periods < 12:
                raise DemoDataError(f"{where}: a series of {periods} months does not always hold {key}; "
                                    "give the number of months back instead.")
        else:
            raise DemoDataError(f"{where}: “{key}” is neither a month (January…) nor a number of periods back.")


def read_series(where: str, spec) -> Series:
    if isinstance(spec, list):
        if len(spec) != 3:
            raise DemoDataError(f"{where}: a series written as a list is [first value, latest value, wobble].")
        spec = dict(zip(("from", "to", "wobble"), spec, strict=True))
    _check_fields(where, spec, _SERIES_FIELDS, {"from", "to", "wobble"})
    first, latest, wobble = (_number(f"{where}, {k}", spec[k]) for k in ("from", "to", "wobble"))
    if wobble < 0:
        raise DemoDataError(f"{where}: the wobble is how far a value may move either way, 0 or more.")
    every = spec.get("every", "month")
    if every not in DEFAULT_PERIODS:
        raise DemoDataError(f"{where}: every is one of {', '.join(DEFAULT_PERIODS)}.")
    periods = spec.get("periods", DEFAULT_PERIODS[every])
    stopped = spec.get("stopped", 0)
    for name, value, least in (("periods", periods, 1), ("stopped", stopped, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise DemoDataError(f"{where}: {name} is a whole number of at least {least}.")
    if stopped >= periods:
        raise DemoDataError(f"{where}: a series that stopped {stopped} periods ago has nothing left to report.")
    at = {k: _number(f"{where}, at {k}", v) for k, v in (spec.get("at") or {}).items()}
    notes = spec.get("notes") or {}
    if not isinstance(notes, dict) or not all(isinstance(n, str) and n.strip() for n in notes.values()):
        raise DemoDataError(f"{where}: notes map a period to its note.")
    _period_keys(f"{where}, at", at, every, periods)
    _period_keys(f"{where}, notes", notes, every, periods)
    places = spec.get("places", _places(first, latest, wobble, *at.values()))
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= 4:
        raise DemoDataError(f"{where}: places is a whole number from 0 to 4.")
    return Series(first, latest, wobble, places, every, periods, stopped, at, {k: v.strip() for k, v in notes.items()})


def read_fitness_data(path: Path | str | None = None) -> dict:
    """The demo's fitness data (``demo_fitness.yaml``), its shape checked and its series
    read; the actions check the rest as it is loaded."""
    with open(path or FITNESS_FILE, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    _check_fields("fitness", data, _SECTIONS)
    started = data.get("platform_started", -1)
    if isinstance(started, bool) or not isinstance(started, int) or started >= 0:
        raise DemoDataError("platform_started: the number of days before loading the platform went live (< 0).")
    for n, spec in enumerate(data.get("revisions") or [], start=1):
        _check_fields(f"revision {n}", spec, _REVISION_FIELDS, {"service", "change_note"})
        for dep in spec.get("add_dependencies") or []:
            _check_fields(f"revision {n}, dependency", dep, {"service", "note"}, {"service"})
    for name, spec in (data.get("standard_measures") or {}).items():
        _check_fields(f"standard measures of {name}", spec, _STANDARD_FIELDS, {"change_note", "measures"})
        for key in spec["measures"] or {}:
            if standard_measure(key) is None:
                raise DemoDataError(f"standard measures of {name}: “{key}” is not a standard measure.")
    for name, spec in (data.get("measurements") or {}).items():
        _check_fields(f"measurements of {name}", spec, _SERVICE_FIELDS, {"series"})
        if spec.get("how", "csv") not in HOW:
            raise DemoDataError(f"measurements of {name}: how is one of {', '.join(HOW)}.")
        if spec.get("token_label") and spec.get("how") != "ingest":
            raise DemoDataError(f"measurements of {name}: only a service that pushes its values has a token.")
        if not isinstance(spec["series"], dict) or not spec["series"]:
            raise DemoDataError(f"measurements of {name}: series map each metric key to its values.")
        spec["series"] = {key: read_series(f"{name}, {key}", s) for key, s in spec["series"].items()}
    for n, spec in enumerate(data.get("corrections") or [], start=1):
        _check_fields(f"correction {n}", spec, _CORRECTION_FIELDS, _CORRECTION_FIELDS - {"by"})
        series = ((data.get("measurements") or {}).get(spec["service"]) or {}).get("series", {}).get(spec["metric"])
        if series is None:
            raise DemoDataError(f"correction {n}: {spec['service']} reports no series “{spec['metric']}” to correct.")
        _period_keys(f"correction {n}", [spec["period"]], series.every, series.periods)
        spec["value"] = _number(f"correction {n}, value", spec["value"])
    capital = data.get("capital") or {}
    _check_fields("capital", capital, _CAPITAL_FIELDS)
    if capital.get("running_costs"):
        _check_fields("running costs", capital["running_costs"], {"what", "services"}, {"what", "services"})
        for name, spec in capital["running_costs"]["services"].items():
            _check_fields(f"running costs of {name}", spec, {"by", "monthly"}, {"by", "monthly"})
            _number(f"running costs of {name}", spec["monthly"])
    for name, shares in (capital.get("shares") or {}).items():
        if not isinstance(shares, dict) or not shares:
            raise DemoDataError(f"shares of {name}: map each consumer to its share.")
    for name, count in (capital.get("transactions") or {}).items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise DemoDataError(f"transactions of {name}: a whole number of transactions a month.")
    for n, spec in enumerate(data.get("figures") or [], start=1):
        _check_fields(f"figure {n}", spec, _FIGURE_FIELDS, {"name", "expression"})
        if spec.get("revised"):
            _check_fields(f"figure {n}, revised", spec["revised"], _FIGURE_FIELDS - {"revised"})
    for name, versions in (data.get("maps") or {}).items():
        if not isinstance(versions, list) or not versions:
            raise DemoDataError(f"maps of {name}: a list of versions.")
        days = []
        for spec in versions:
            _check_fields(f"map of {name}", spec, _MAP_FIELDS, {"file", "by", "day"})
            if not (MAPS_DIR / spec["file"]).is_file():
                raise DemoDataError(f"map of {name}: there is no map file {spec['file']} in {MAPS_DIR}.")
            days.append(spec["day"])
        if days != sorted(days) or any(not isinstance(d, int) or d >= 0 for d in days):
            raise DemoDataError(f"maps of {name}: each version is saved on a day before loading (days < 0), in order.")
    return data


# ---------------------------------------------------------------- periods and values


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    reported: dt.date  # the day its values are reported


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def working_day(day: dt.date) -> dt.date:
    """The day itself, or the Monday after a weekend."""
    return day + dt.timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


def series_periods(every: str, count: int, today: dt.date) -> list[Period]:
    """The last ``count`` whole periods that ended before ``today``, oldest first, each
    with the working day its values are reported."""
    after = dt.timedelta(days=REPORTED_AFTER[every])
    if every == "week":
        last_sunday = today - dt.timedelta(days=today.weekday() + 1)
        ends = [last_sunday - dt.timedelta(weeks=n) for n in range(count)]
        return [Period(end - dt.timedelta(days=6), end, end + after) for end in reversed(ends)]
    months = 3 if every == "quarter" else 1
    current = dt.date(today.year, today.month, 1)
    if every == "quarter":
        current = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    periods = []
    for n in range(count, 0, -1):
        start = _add_months(current, -months * n)
        end = _add_months(start, months) - dt.timedelta(days=1)
        periods.append(Period(start, end, working_day(end + after)))
    return periods


def _nth_working_day(first: dt.date, n: int) -> dt.date:
    """The ``n``-th working day from ``first`` (0: ``first`` itself, or the Monday after)."""
    day = working_day(first)
    for _ in range(n):
        day = working_day(day + dt.timedelta(days=1))
    return day


def _index(key, periods: list[Period]) -> int:
    """The position in ``periods`` of a key of `at` or `notes`: a number of periods back,
    or the last period that starts in the month named."""
    if isinstance(key, int):
        return len(periods) - 1 - key
    month = MONTHS.index(key) + 1
    return max(i for i, p in enumerate(periods) if p.start.month == month)


def series_values(seed: str, series: Series, periods: list[Period], *, percent: bool = False) -> list[Decimal]:
    """The value of each period: on the straight line from the first value to the latest,
    the ones between moved by a wobble the seed always draws the same; the values given
    in `at` as they are; none below 0, nor above 100 for a percentage."""
    rng = random.Random(seed)
    unit = Decimal(1).scaleb(-series.places)
    reach = int(series.wobble / unit)
    last = len(periods) - 1
    values = []
    for i in range(len(periods)):
        value = series.first + (series.latest - series.first) * i / last if last else series.latest
        wobble = rng.randint(-reach, reach)  # drawn for every period, so an `at` leaves the others as they were
        if 0 < i < last:
            value += wobble * unit
        value = max(Decimal(0), min(Decimal(100), value) if percent else value)
        values.append(value.quantize(unit))
    for key, value in series.at.items():
        values[_index(key, periods)] = value.quantize(unit)
    return values


# ---------------------------------------------------------------- loading


@dataclass
class _Row:
    service: Service
    metric: str
    period: Period
    value: Decimal
    note: str = ""

    def measured_at(self) -> dt.datetime:
        """The values of a period are taken early on the day after it ends."""
        return timezone.make_aware(dt.datetime.combine(self.period.end + dt.timedelta(days=1), dt.time(6)))


def load_fitness_demo(*, say: Callable[[str], None] = lambda _message: None, path: Path | str | None = None) -> bool:
    """Load the fitness data, capital flow and maps of the demo organisation, whose network
    must be loaded already. Does nothing, and returns False, when they are there."""
    if Measurement.objects.exists() or MapVersion.objects.exists() or Aggregation.objects.exists():
        say("The demo's fitness data and maps are already loaded; nothing to do.")
        return False
    data = read_fitness_data(path)
    _FitnessLoader(data, say).run()
    return True


class _FitnessLoader:
    def __init__(self, data: dict, say: Callable[[str], None]):
        self.data = data
        self.say = say
        self.started = timezone.now()
        self.today = timezone.localdate()
        self.period, self.period_start = financial_year(self.today)
        self.people = {p.email.lower(): p for p in Person.objects.all()}
        self.executive = next((p for p in self.people.values() if p.role == Role.EXECUTIVE), None)
        if self.executive is None:
            raise DemoDataError("The demo's fitness data needs the demo organisation, with its executive, loaded first.")
        self.steps: list[tuple[dt.date, int, Callable[[], object]]] = []
        self.tokens: dict[str, str] = {}
        self.last_push: dict[str, list[dict]] = {}
        self.standard = {(name, key) for name, spec in (data.get("standard_measures") or {}).items()
                         for key in spec["measures"]}

    def person(self, email: str) -> Person:
        try:
            return self.people[email.lower()]
        except KeyError:
            raise DemoDataError(f"“{email}” is not one of the demo's people.") from None

    def service(self, name: str) -> Service:
        try:
            return Service.objects.select_related("manager").get(name=name)
        except Service.DoesNotExist:
            raise DemoDataError(f"“{name}” is not one of the demo's services.") from None

    def run(self) -> None:
        self.revise_contracts()
        self.take_on_standard_measures()
        self.plan_measurements()
        self.plan_corrections()
        self.plan_running_costs()
        self.plan_maps()
        self.do_the_steps()
        self.upload_standard_measures()
        self.record_capital_flow()
        self.define_figures()

    # ------------------------------------------------------------ contracts

    def _approve(self, service: Service, draft, approved_by: str | None) -> None:
        draft = network.submit_contract_version(actor=service.manager, version=draft)
        network.approve_contract_version(actor=self.person(approved_by) if approved_by else self.executive,
                                         version=draft)

    def revise_contracts(self) -> None:
        revisions = self.data.get("revisions") or []
        if revisions:
            self.say(f"Revising {_count(revisions, 'contract')} for the capital flow…")
        for spec in revisions:
            service = self.service(spec["service"])
            actor = self.person(spec["by"]) if spec.get("by") else service.manager
            draft = network.draft_contract_version(actor=actor, service=service, change_note=spec["change_note"])
            for dep in spec.get("add_dependencies") or []:
                network.add_dependency(actor=actor, service=service, provider=self.service(dep["service"]),
                                       note=dep.get("note", ""))
            draft.refresh_from_db()
            self._approve(service, draft, spec.get("approved_by"))

    def take_on_standard_measures(self) -> None:
        """The standard measures go into a new version of each contract, which the
        executive approves, so that they are measured under the current contract."""
        chosen = self.data.get("standard_measures") or {}
        if chosen:
            self.say(f"Adding standard measures to the contracts of {_count(chosen, 'service')}…")
        for name, spec in chosen.items():
            service = self.service(name)
            draft = network.draft_contract_version(actor=service.manager, service=service,
                                                   change_note=spec["change_note"])
            for key, target in spec["measures"].items():
                draft = fitness.add_standard_measure(actor=service.manager, service=service, measure=key,
                                                     target=None if target is None else str(target))
            self._approve(service, draft, spec.get("approved_by"))

    # ------------------------------------------------------------ planning the dated steps

    def on(self, day: dt.date, step: Callable[[], object]) -> None:
        self.steps.append((day, len(self.steps), step))

    def plan_measurements(self) -> None:
        reported = self.data.get("measurements") or {}
        self.say(f"Reporting a year of measurements of {_count(reported, 'service')}: uploaded, entered by hand "
                 "and pushed by a service's own systems…")
        platform_started = self.today + dt.timedelta(days=self.data.get("platform_started", -1))
        for position, (name, spec) in enumerate(reported.items()):
            service = self.service(name)
            joined = min(_nth_working_day(platform_started, position // JOINED_A_DAY), self.today)
            actor = self.person(spec["by"]) if spec.get("by") else service.manager
            percent = dict(Metric.objects.filter(version_id=service.current_version_id).values_list("key", "unit"))
            rows: list[_Row] = []
            for key, series in spec["series"].items():
                periods = series_periods(series.every, series.periods, self.today)
                values = series_values(f"{name}/{key}", series, periods, percent=percent.get(key) == "%")
                notes = {_index(k, periods): note for k, note in series.notes.items()}
                kept = len(periods) - series.stopped
                rows += [_Row(service, key, p, v, notes.get(i, "")) for i, (p, v) in
                         enumerate(zip(periods[:kept], values[:kept], strict=True))]
                if series.every in CADENCE_DAYS:
                    self.on(joined, functools.partial(
                        fitness.set_measurement_cadence, actor=service.manager, service=service, metric_key=key,
                        days=CADENCE_DAYS[series.every]))
            # the standard measures' past values are uploaded once they are in the contract
            rows = [r for r in rows if (name, r.metric) not in self.standard]
            how = spec.get("how", "csv")
            if how == "ingest":
                self.on(joined, functools.partial(self.issue_token, service, spec.get("token_label", "")))

            def day_of(row: _Row, joined=joined) -> dt.date:
                return max(row.period.reported, joined)  # what was kept before joining, is sent on joining

            for day, same_day in itertools.groupby(sorted(rows, key=day_of), key=day_of):
                batch = list(same_day)
                if how == "csv":
                    self.on(day, functools.partial(self.upload, actor, service, batch))
                elif how == "manual":
                    for row in batch:
                        self.on(day, functools.partial(self.enter, actor, row))
                else:
                    self.on(day, functools.partial(self.push, service, batch))
            if how == "ingest":
                # the last push was sent again after a timeout: its records replace themselves
                self.on(max(day_of(r) for r in rows), functools.partial(self.push_again, service))

    def plan_corrections(self) -> None:
        for spec in self.data.get("corrections") or []:
            service = self.service(spec["service"])
            series = self.data["measurements"][spec["service"]]["series"][spec["metric"]]
            periods = series_periods(series.every, series.periods, self.today)
            period = periods[_index(spec["period"], periods)]
            row = _Row(service, spec["metric"], period, spec["value"], spec["note"])
            actor = self.person(spec["by"]) if spec.get("by") else service.manager
            day = min(working_day(period.reported + dt.timedelta(days=spec["after"])), self.today)
            self.on(day, functools.partial(self.enter, actor, row, replace=True))

    def months_ended(self) -> list[dt.date]:
        """The first day of each month of the budget period that has ended."""
        months, month = [], self.period_start
        while _add_months(month, 1) <= self.today:
            months.append(month)
            month = _add_months(month, 1)
        return months

    def plan_running_costs(self) -> None:
        costs = (self.data.get("capital") or {}).get("running_costs")
        months = self.months_ended()
        if not costs or not months:
            return
        self.say(f"Recording {len(months)} months of running costs of {_count(costs['services'], 'service')} "
                 f"in {self.period}…")
        # a quarter at a time: April to June, July to September… (the quarters of the budget period)
        for _, quarter in itertools.groupby(months, key=lambda m: (m.year * 12 + m.month - self.period_start.month) // 3):
            quarter = list(quarter)
            first, last = quarter[0], quarter[-1]
            named = f"{last:%B %Y}" if first == last else (
                f"{first:%B} to {last:%B %Y}" if first.year == last.year else f"{first:%B %Y} to {last:%B %Y}")
            day = _add_months(last, 1) - dt.timedelta(days=1)
            while day.weekday() >= 5:  # paid on the last working day
                day -= dt.timedelta(days=1)
            for name, spec in costs["services"].items():
                amount = _number(f"running costs of {name}", spec["monthly"]) * len(quarter)
                self.on(day, functools.partial(self.spend, name, spec["by"], amount, day,
                                               costs["what"].replace("{months}", named)))

    def plan_maps(self) -> None:
        maps = self.data.get("maps") or {}
        if maps:
            self.say(f"Drawing the Wardley maps of {_count(maps, 'service')}…")
        for name, versions in maps.items():
            for spec in versions:
                day = min(working_day(self.today + dt.timedelta(days=spec["day"])), self.today)
                self.on(day, functools.partial(self.save_map, name, spec))

    def do_the_steps(self) -> None:
        """Each step as of its day, in office hours, in the order planned within a day."""
        self.steps.sort(key=lambda s: (s[0], s[1]))
        for day, same_day in itertools.groupby(self.steps, key=lambda s: s[0]):
            for n, (_, _, step) in enumerate(same_day):
                at = timezone.make_aware(dt.datetime.combine(day, dt.time(9))) + dt.timedelta(minutes=4 * min(n, 120))
                with _as_of(min(at, self.started)):
                    step()

    # ------------------------------------------------------------ the steps

    @staticmethod
    def _csv(rows: list[_Row]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["metric", "period_start", "period_end", "value", "measured_at", "note"])
        for r in rows:
            writer.writerow([r.metric, r.period.start.isoformat(), r.period.end.isoformat(), str(r.value),
                             r.measured_at().isoformat(), r.note])
        return out.getvalue()

    def upload(self, actor: Person, service: Service, rows: list[_Row]) -> None:
        fitness.import_measurements_csv(actor=actor, service=service, text=self._csv(rows))

    def enter(self, actor: Person, row: _Row, replace: bool = False) -> None:
        fitness.record_measurement(actor=actor, service=row.service, metric_key=row.metric, value=row.value,
                                   period_start=row.period.start, period_end=row.period.end,
                                   measured_at=row.measured_at(), note=row.note, replace=replace)

    def issue_token(self, service: Service, label: str) -> None:
        _, raw = fitness.issue_ingest_token(actor=service.manager, service=service, label=label)
        self.tokens[service.name] = raw

    def push(self, service: Service, rows: list[_Row]) -> None:
        records = [{"id": f"{r.metric}/{r.period.start.isoformat()}", "metric": r.metric, "value": str(r.value),
                    "timestamp": r.measured_at().isoformat(), "period_start": r.period.start.isoformat(),
                    "period_end": r.period.end.isoformat(), **({"note": r.note} if r.note else {})} for r in rows]
        fitness.ingest_measurements(token=self.tokens[service.name], records=records)
        self.last_push[service.name] = records

    def push_again(self, service: Service) -> None:
        fitness.ingest_measurements(token=self.tokens[service.name], records=self.last_push[service.name])

    def spend(self, name: str, by: str, amount: Decimal, day: dt.date, what: str) -> None:
        service = self.service(name)
        # the allocation with the most left of it (a service given more money during the year has two)
        allocations = BudgetAllocation.objects.filter(service=service, period=self.period,
                                                      stage=service.lifecycle_stage).order_by("pk")
        allocation = max(allocations, key=lambda a: lifecycle.allocation_balance(a)["remaining"], default=None)
        if allocation is None:
            raise DemoDataError(f"{name} has no budget for {self.period} at {service.lifecycle_stage} to spend from.")
        lifecycle.record_spend(actor=self.person(by), allocation=allocation, amount=amount, spent_on=day,
                               description=what)

    def save_map(self, name: str, spec: dict) -> None:
        text = (MAPS_DIR / spec["file"]).read_text(encoding="utf-8")
        save_service_map(actor=self.person(spec["by"]), service=self.service(name), text=text,
                         note=" ".join(str(spec.get("note", "")).split()))

    # ------------------------------------------------------------ on the day of loading

    def upload_standard_measures(self) -> None:
        """A year of the standard measures' values, uploaded at once from the survey tool
        and the analytics, now that the measures are in the contract."""
        for name, spec in (self.data.get("standard_measures") or {}).items():
            series = (self.data.get("measurements") or {}).get(name, {}).get("series", {})
            service = self.service(name)
            rows = []
            for key in spec["measures"]:
                if key not in series:
                    continue
                periods = series_periods(series[key].every, series[key].periods, self.today)
                values = series_values(f"{name}/{key}", series[key], periods,
                                       percent=standard_measure(key).unit == "%")
                kept = len(periods) - series[key].stopped
                rows += [_Row(service, key, p, v) for p, v in zip(periods[:kept], values[:kept], strict=True)]
            if rows:
                actor = self.person(spec["by"]) if spec.get("by") else service.manager
                self.upload(actor, service, rows)

    def record_capital_flow(self) -> None:
        capital = self.data.get("capital") or {}
        shares = capital.get("shares") or {}
        if shares:
            self.say(f"Measuring how {_count(shares, 'provider')} shared their consumption in {self.period}…")
        for name, given in shares.items():
            provider = self.service(name)
            fitness.record_consumption_shares(actor=provider.manager, provider=provider, period=self.period,
                                              shares={self.service(c).slug: str(s) for c, s in given.items()})
        months = len(self.months_ended())
        for name, monthly in (capital.get("transactions") or {}).items():
            if months and monthly:
                service = self.service(name)
                fitness.record_transactions(actor=service.manager, service=service, period=self.period,
                                            transactions=monthly * months)

    def define_figures(self) -> None:
        figures = self.data.get("figures") or []
        if figures:
            self.say(f"Defining {_count(figures, 'figure')} across services for the executive…")
        for spec in figures:
            values = {k: spec[k] for k in ("name", "expression", "unit", "grain", "within", "description") if k in spec}
            figure = fitness.define_aggregation(actor=self.executive, **values)
            if spec.get("revised"):
                fitness.define_aggregation(actor=self.executive, aggregation=figure, expected_revision=figure.revision,
                                           **{**values, **spec["revised"]})


def _count(items, noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"
