"""Every write of fitness data (model 5.3, 5.4, 11): measurements entered by hand, uploaded
as CSV or pushed with an ingest token; how often each metric is reported; standard measures
added to contracts; the executive's aggregations; and the inputs of capital flow."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from osom.core import audit
from osom.core.actions import refuses_null_characters
from osom.core.errors import Conflict, Errors, InvalidInput, NotAllowed
from osom.core.models import Organisation, Person
from osom.core.policy import authorise
from osom.network.models import Metric, Service
from osom.network.stages import Evolution, Lifecycle, UserType

from . import expressions
from .models import Aggregation, ConsumptionShare, IngestToken, Measurement, MetricSeries, PeriodVolume
from .series import attach as attach_series
from .standard import standard_measure

__all__ = [
    "AGGREGATION_FIELDS", "ImportResult", "add_standard_measure", "define_aggregation", "import_measurements_csv",
    "ingest_measurements", "issue_ingest_token", "record_consumption_shares", "record_measurement",
    "record_transactions", "retire_aggregation", "revoke_ingest_token", "set_measurement_cadence",
]

_MAX_VALUE = Decimal(10) ** 15
_MAX_ROWS = 20_000
_MAX_CSV_BYTES = 5_000_000
# Fields an aggregation may filter services by, and the values each may take (None: any).
AGGREGATION_FIELDS: dict[str, set[str] | None] = {
    "stage": set(Lifecycle.values),
    "evolution": set(Evolution.values),
    "users": set(UserType.values),
    "service": None,
}


@dataclass
class ImportResult:
    """What a measurement upload or push did."""

    created: int = 0
    replaced: int = 0
    measurements: list[Measurement] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.replaced


# --- reading input ---------------------------------------------------------------

def _text(value) -> str:
    return str(value if value is not None else "").strip()


def _date(errors: Errors, name: str, value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors.add(name, f"“{text[:40]}” is not a date: use YYYY-MM-DD." if text else "Give a date.")
        return None


def _moment(errors: Errors, name: str, value, default: dt.datetime | None) -> dt.datetime | None:
    if value in (None, "") and default is not None:
        return default
    if isinstance(value, dt.datetime):
        moment = value
    else:
        text = _text(value)
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            errors.add(name, f"“{text[:40]}” is not a time: use an ISO 8601 timestamp such as 2026-10-31T17:00:00Z."
                       if text else "Give the time the value was taken.")
            return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _value(errors: Errors, name: str, value) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        errors.add(name, "Give the measured value as a number.")
        return None
    try:
        number = Decimal(_text(value).replace(",", ""))
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors.add(name, f"“{_text(value)[:40]}” is not a number.")
        return None
    if abs(number) >= _MAX_VALUE:
        errors.add(name, "That value is too large to record.")
        return None
    if number != number.quantize(Decimal("0.0001")):
        errors.add(name, "Give the value to four decimal places at most.")
        return None
    return number


def _plain(value: Decimal) -> str:
    """90.0000 → "90", 91.5000 → "91.5"."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _period(errors: Errors, prefix: str, start, end) -> tuple[dt.date | None, dt.date | None]:
    first = _date(errors, f"{prefix}period_start", start)
    last = _date(errors, f"{prefix}period_end", end if end not in (None, "") else start)
    if first and last:
        if last < first:
            errors.add(f"{prefix}period_end", "The period must end on or after the day it starts.")
        elif (last - first).days > 366:
            errors.add(f"{prefix}period_end", "A measurement covers a year at most.")
        elif first > timezone.localdate():
            errors.add(f"{prefix}period_start", "A measurement cannot cover a period that has not begun.")
    return first, last


def _service_metrics(service: Service) -> dict[str, Metric]:
    """The metrics of the service's current contract, by key."""
    if service.current_version_id is None:
        return {}
    return {m.key: m for m in Metric.objects.filter(version_id=service.current_version_id)}


def _metric_key(errors: Errors, name: str, value, metrics: dict[str, Metric], service: Service) -> str | None:
    key = _text(value)
    if not key:
        errors.add(name, "Name the metric measured, by its key.")
        return None
    if key not in metrics:
        known = ", ".join(sorted(metrics)) or "none yet"
        errors.add(name, f"“{key[:80]}” is not a metric of {service.name}'s contract (its metrics: {known}).")
        return None
    return key


def _writable(service: Service, what: str) -> None:
    if service.lifecycle_stage == Lifecycle.DECOMMISSIONED:
        raise Conflict(f"{service.name} is decommissioned; it no longer {what}.", field="service")


def _fresh(service: Service) -> Service:
    return Service.objects.get(pk=service.pk)


# --- measurements ----------------------------------------------------------------

@dataclass
class _Row:
    metric_key: str
    period_start: dt.date
    period_end: dt.date
    value: Decimal
    measured_at: dt.datetime
    note: str = ""
    record_id: str = ""
    place: int = 0  # the record's index in a push, for messages


def _store(service: Service, rows: list[_Row], *, source: str, actor: Person | None) -> ImportResult:
    """Write rows inside the caller's transaction: a row for a period already measured
    replaces the old value; a record id already seen replaces that record."""
    result = ImportResult()
    now = timezone.now()
    touched = {row.metric_key for row in rows}
    for row in rows:
        existing = None
        if row.record_id:
            existing = Measurement.objects.select_for_update(no_key=True).filter(
                service=service, record_id=row.record_id).first()
        same_period = Measurement.objects.select_for_update(no_key=True).filter(
            service=service, metric_key=row.metric_key, period_start=row.period_start, period_end=row.period_end).first()
        if existing is not None and same_period is not None and same_period.pk != existing.pk:
            # the resent record moved to a period that already holds a value: that value gives way
            same_period.delete()
        existing = existing or same_period
        if existing is not None:
            touched.add(existing.metric_key)  # a resent record may move to another metric
        values = {"metric_key": row.metric_key, "period_start": row.period_start, "period_end": row.period_end,
                  "value": row.value, "measured_at": row.measured_at, "note": row.note, "source": source,
                  "record_id": row.record_id, "recorded_by": actor, "recorded_at": now}
        if existing is None:
            result.measurements.append(Measurement.objects.create(service=service, **values))
            result.created += 1
        else:
            for name, value in values.items():
                setattr(existing, name, value)
            existing.save()
            result.measurements.append(existing)
            result.replaced += 1
    _refresh_series(service, touched)
    return result


def _refresh_series(service: Service, keys) -> None:
    for key in sorted(keys):
        series, created = MetricSeries.objects.select_for_update(no_key=True).get_or_create(service=service, metric_key=key)
        if created:  # a metric's series is made when it enters the current contract; this one takes what it can
            attach_series(series, service)
        series.refresh()
        series.save()


@refuses_null_characters
def record_measurement(*, actor: Person, service: Service, metric_key: str, value, period_start, period_end=None,
                       measured_at=None, note: str = "", replace: bool = False) -> Measurement:
    """A value of one of the service's contract metrics, entered by hand. A period that
    already has a value is only overwritten when ``replace`` is asked for."""
    service = _fresh(service)
    authority = authorise(actor, "record_measurement", service=service)
    _writable(service, "reports measurements")
    errors = Errors()
    key = _metric_key(errors, "metric_key", metric_key, _service_metrics(service), service)
    number = _value(errors, "value", value)
    first, last = _period(errors, "", period_start, period_end)
    moment = _moment(errors, "measured_at", measured_at, timezone.now())
    note = _text(note)
    if len(note) > 300:
        errors.add("note", "Keep the note to 300 characters.")
    errors.raise_if_any()
    with transaction.atomic():
        old = Measurement.objects.filter(service=service, metric_key=key, period_start=first, period_end=last).first()
        if old is not None and not replace:
            raise Conflict(f"The metric {key} already has the value {_plain(old.value)} for {first} to {last}; "
                           "replace it to correct it.", field="period_start")
        result = _store(service, [_Row(key, first, last, number, moment, note)], source=Measurement.Source.MANUAL,
                        actor=actor)
        audit.record(actor, "record_measurement", result.measurements[0], authority=authority, service=service,
                     summary=f"Recorded {key} = {number} for {service.name} ({first} to {last})",
                     before={"value": _plain(old.value)} if old else None, after={"value": _plain(number)})
    return result.measurements[0]


CSV_COLUMNS = ("metric", "period_start", "period_end", "value", "measured_at", "note")
# Written by an export for the reader; an upload accepts and ignores them, so that an
# exported file can be corrected and uploaded again as it is.
_EXPORT_ONLY_COLUMNS = ("source", "record_id")


@refuses_null_characters
def import_measurements_csv(*, actor: Person, service: Service, text: str) -> ImportResult:
    """Measurements uploaded as CSV, one a row, with a header naming the columns
    ``metric, period_start, period_end, value`` and optionally ``measured_at, note``.
    Every bad row is reported with its row number; nothing is imported unless all are good.
    A row for a period already measured replaces the old value."""
    service = _fresh(service)
    authority = authorise(actor, "import_measurements", service=service)
    _writable(service, "reports measurements")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput("The file is not UTF-8 text; save it as CSV (UTF-8) and upload it again.", field="file")
    text = (text or "").lstrip("\ufeff")
    if not text.strip():
        raise InvalidInput("The file is empty: give a header row and at least one measurement.", field="file")
    if len(text) > _MAX_CSV_BYTES:
        raise InvalidInput("The file is larger than 5 MB; split it into several uploads.", field="file")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise InvalidInput(f"Row 1: the header cannot be read as CSV ({exc}).", field="file")
    missing = [c for c in ("metric", "period_start", "value") if c not in header]
    unknown = [h for h in header if h and h not in CSV_COLUMNS + _EXPORT_ONLY_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append("it lacks the column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
        if unknown:
            parts.append("it has unknown column" + ("s " if len(unknown) > 1 else " ") + ", ".join(unknown[:5]))
        raise InvalidInput(f"Row 1: {' and '.join(parts)}. Columns: {', '.join(CSV_COLUMNS)}.", field="file")
    metrics = _service_metrics(service)
    errors = Errors()
    rows: list[_Row] = []
    seen: dict[tuple, int] = {}
    now = timezone.now()
    number = 1
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if number - 1 > _MAX_ROWS:
                raise InvalidInput(f"The file has more than {_MAX_ROWS:,} rows; split it into several uploads.", field="file")
            if len(cells) > len(header):
                errors.add(f"row {number}", f"Row {number} has {len(cells)} cells but the header names {len(header)}.")
                continue
            record = dict(zip(header, cells))
            row_errors = Errors()
            key = _metric_key(row_errors, "metric", record.get("metric"), metrics, service)
            value = _value(row_errors, "value", record.get("value"))
            first, last = _period(row_errors, "", record.get("period_start"), record.get("period_end"))
            moment = _moment(row_errors, "measured_at", record.get("measured_at"), now)
            note = _text(record.get("note"))
            if note.startswith("'") and note[1:2] in ("=", "+", "-", "@", "\t", "\r"):
                note = note[1:]  # the export's guard against spreadsheet formulas
            if len(note) > 300:
                row_errors.add("note", "Keep the note to 300 characters.")
            if not row_errors and (key, first, last) in seen:
                row_errors.add("period_start", f"the same metric and period as row {seen[(key, first, last)]}.")
            for name, texts in row_errors.by_field.items():
                for message in texts:
                    errors.add(f"row {number}", f"Row {number}, {name}: {message}")
            if not row_errors:
                seen[(key, first, last)] = number
                rows.append(_Row(key, first, last, value, moment, note))
    except csv.Error as exc:
        raise InvalidInput(f"Row {number + 1} cannot be read as CSV ({exc}).", field="file")
    if not errors and not rows:
        raise InvalidInput("The file has a header but no measurements.", field="file")
    errors.raise_if_any()
    with transaction.atomic():
        result = _store(service, rows, source=Measurement.Source.CSV, actor=actor)
        audit.record(actor, "import_measurements", service, authority=authority, service=service,
                     summary=f"Uploaded {result.total} measurements for {service.name} "
                             f"({result.created} new, {result.replaced} replaced)",
                     after={"created": result.created, "replaced": result.replaced})
    return result


INGEST_FIELDS = ("id", "metric", "value", "timestamp", "period_start", "period_end", "note")


@refuses_null_characters
def ingest_measurements(*, token: str, records) -> ImportResult:
    """Records pushed by a service's own systems with its ingest token: flat objects with
    ``id, metric, value, timestamp, period_start, period_end`` (and an optional ``note``).
    A record resent with the same id replaces the one sent before, so retries never
    count twice. Every bad record is reported; none is stored unless all are good."""
    found = IngestToken.find(token if isinstance(token, str) else "")
    if found is None:
        raise NotAllowed("This ingest token is not valid: it is unknown or was revoked.")
    service = _fresh(found.service)
    _writable(service, "reports measurements")
    if not isinstance(records, list) or not records:
        raise InvalidInput("Send a list of one or more records.", field="records")
    if len(records) > 5_000:
        raise InvalidInput("Send at most 5,000 records at a time.", field="records")
    metrics = _service_metrics(service)
    errors = Errors()
    rows: list[_Row] = []
    ids: dict[str, int] = {}
    for i, record in enumerate(records):
        place = f"records[{i}]"
        if not isinstance(record, dict):
            errors.add(place, "Each record is an object of fields.")
            continue
        unknown = sorted(set(record) - set(INGEST_FIELDS))
        if unknown:
            errors.add(f"{place}.{unknown[0]}", f"Unknown field; a record has only: {', '.join(INGEST_FIELDS)}.")
        record_id = record.get("id")
        if not isinstance(record_id, str) or not record_id.strip():
            errors.add(f"{place}.id", "Give each record an id (text), so that resending it replaces it.")
        elif len(record_id.strip()) > 100:
            errors.add(f"{place}.id", "Keep ids to 100 characters.")
        elif record_id.strip() in ids:
            errors.add(f"{place}.id", f"The same id as records[{ids[record_id.strip()]}].")
        else:
            ids[record_id.strip()] = i
        key = _metric_key(errors, f"{place}.metric", record.get("metric"), metrics, service)
        raw_value = record.get("value")
        if not isinstance(raw_value, (int, float, str)) or isinstance(raw_value, bool):
            errors.add(f"{place}.value", "Give the value as a number.")
            value = None
        else:
            value = _value(errors, f"{place}.value", raw_value)
        moment = _moment(errors, f"{place}.timestamp", record.get("timestamp"), None)
        first, last = _period(errors, f"{place}.", record.get("period_start"), record.get("period_end"))
        note = record.get("note") or ""
        if not isinstance(note, str) or len(note) > 300:
            errors.add(f"{place}.note", "A note is text of 300 characters at most.")
        if None not in (key, value, moment, first, last) and isinstance(record_id, str) and not errors.by_field.get(f"{place}.id"):
            rows.append(_Row(key, first, last, value, moment, note.strip(), record_id.strip(), i))
    pairs: dict[tuple, int] = {}
    for row in rows:
        where = (row.metric_key, row.period_start, row.period_end)
        if where in pairs:
            errors.add(f"records[{row.place}].period_start",
                       f"The same metric and period as records[{pairs[where]}]; send one value for each.")
        else:
            pairs[where] = row.place
    errors.raise_if_any()
    with transaction.atomic():
        result = _store(service, rows, source=Measurement.Source.INGEST, actor=None)
        IngestToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        audit.record(None, "ingest_measurements", service, authority=None, service=service,
                     summary=f"{service.name}'s systems pushed {result.total} measurements with token {found.prefix}… "
                             f"({result.created} new, {result.replaced} replaced)",
                     after={"created": result.created, "replaced": result.replaced, "token": found.prefix})
    return result


@refuses_null_characters
def set_measurement_cadence(*, actor: Person, service: Service, metric_key: str, days) -> MetricSeries:
    """How often the service promises to report a metric; later than that, it is stale."""
    service = _fresh(service)
    authority = authorise(actor, "set_measurement_cadence", service=service)
    errors = Errors()
    key = _metric_key(errors, "metric_key", metric_key, _service_metrics(service), service)
    try:
        number = int(_text(days)) if not isinstance(days, bool) else None
    except ValueError:
        number = None
    if number is None or not 1 <= number <= 400:
        errors.add("days", "Give the number of days between reports, from 1 to 400.")
    errors.raise_if_any()
    with transaction.atomic():
        cadence, created = MetricSeries.objects.select_for_update(no_key=True).get_or_create(
            service=service, metric_key=key, defaults={"cadence_days": number})
        if created:
            attach_series(cadence, service)
        before = None if created else {"days": cadence.cadence_days}
        cadence.cadence_days = number
        cadence.refresh()
        cadence.save()
        audit.record(actor, "set_measurement_cadence", cadence, authority=authority, service=service,
                     summary=f"{service.name} reports {key} every {number} days", before=before, after={"days": number})
    return cadence


# --- ingest tokens ---------------------------------------------------------------

@refuses_null_characters
def issue_ingest_token(*, actor: Person, service: Service, label: str = "") -> tuple[IngestToken, str]:
    """A token for the service's own systems to push measurements. Returns the stored row
    and the token itself, which is shown once."""
    service = _fresh(service)
    authority = authorise(actor, "issue_ingest_token", service=service)
    _writable(service, "reports measurements")
    label = _text(label)
    if len(label) > 100:
        raise InvalidInput("Keep the label to 100 characters.", field="label")
    with transaction.atomic():
        token, raw = IngestToken.mint(service, created_by=actor, label=label)
        token.save()
        audit.record(actor, "issue_ingest_token", token, authority=authority, service=service,
                     summary=f"Issued ingest token {token.prefix}… for {service.name}", after={"label": label})
    return token, raw


@refuses_null_characters
def revoke_ingest_token(*, actor: Person, token: IngestToken) -> IngestToken:
    service = _fresh(token.service)
    authority = authorise(actor, "revoke_ingest_token", service=service)
    with transaction.atomic():
        token = IngestToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        if token.revoked_at:
            raise Conflict("This ingest token was already revoked.", field="token")
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(actor, "revoke_ingest_token", token, authority=authority, service=service,
                     summary=f"Revoked ingest token {token.prefix}… of {service.name}")
    return token


# --- standard measures -----------------------------------------------------------

@refuses_null_characters
def add_standard_measure(*, actor: Person, service: Service, measure: str, target=None):
    """Add one of the standard measures to the service's draft contract (opening a draft
    if none is open); it is reported once that version is approved."""
    from osom.network.actions import _draft_for_change
    from osom.network.contract import clean_content, read_content, write_content

    service = _fresh(service)
    authority = authorise(actor, "add_standard_measure", service=service)
    _writable(service, "takes on new measures")
    template = standard_measure(measure)
    if template is None:
        raise InvalidInput(f"“{_text(measure)[:60]}” is not a standard measure.", field="measure")
    metric = template.as_metric(Organisation.current().currency)
    if target not in (None, ""):
        metric["target"] = target
    with transaction.atomic():
        draft = _draft_for_change(actor, service)
        content = read_content(draft)
        if any(m["key"] == template.key for m in content["metrics"]):
            raise InvalidInput(f"{service.name}'s contract already has the metric {template.key}.", field="measure")
        content["metrics"].append(metric)
        cleaned = clean_content(content, service=service, require_needs=False)
        write_content(draft, cleaned)
        draft.revision += 1
        draft.save(update_fields=["revision"])
        audit.record(actor, "add_standard_measure", draft, authority=authority, service=service,
                     summary=f"Added the standard measure “{template.name}” to {service.name} (draft version {draft.number})",
                     after={"metric": template.key, "target": str(metric["target"]) if metric["target"] is not None else None})
    return draft


# --- aggregations ----------------------------------------------------------------

@refuses_null_characters
def define_aggregation(*, actor: Person, name: str, expression: str, description: str = "", unit: str = "",
                       grain: str = Aggregation.Grain.MONTH, within: str = Aggregation.Within.LATEST,
                       aggregation: Aggregation | None = None, expected_revision: int | None = None) -> Aggregation:
    """Define, or redefine, a figure the executive computes across services."""
    authority = authorise(actor, "define_aggregation")
    errors = Errors()
    name = _text(name)
    if not name:
        errors.add("name", "Name the figure.")
    elif len(name) > 150:
        errors.add("name", "Keep the name to 150 characters.")
    source = _text(expression)
    if not source:
        errors.add("expression", "Write the expression, e.g. sum(cost where users = external) / sum(transactions).")
    else:
        try:
            source = str(expressions.parse(source, fields=AGGREGATION_FIELDS))
        except expressions.ExpressionError as exc:
            errors.add("expression", exc.message.rstrip(".") + ".")
    description = _text(description)
    if len(description) > 5000:
        errors.add("description", "Keep the description to 5,000 characters.")
    unit = _text(unit)
    if len(unit) > 40:
        errors.add("unit", "Keep the unit to 40 characters.")
    if grain not in Aggregation.Grain.values:
        errors.add("grain", f"Choose one of: {', '.join(Aggregation.Grain.values)}.")
    if within not in Aggregation.Within.values:
        errors.add("within", f"Choose one of: {', '.join(Aggregation.Within.values)}.")
    errors.raise_if_any()
    with transaction.atomic():
        clash = Aggregation.objects.filter(name__iexact=name)
        if aggregation is not None:
            clash = clash.exclude(pk=aggregation.pk)
        if clash.exists():
            raise InvalidInput(f"There is already a figure called “{name}”.", field="name")
        values = {"name": name, "expression": source, "description": description, "unit": unit,
                  "grain": grain, "within": within}
        if aggregation is None:
            base = slugify(name)[:150] or "figure"
            slug, n = base, 2
            while Aggregation.objects.filter(slug=slug).exists():
                slug, n = f"{base}-{n}", n + 1
            aggregation = Aggregation.objects.create(slug=slug, created_by=actor, **values)
            before = None
            summary = f"Defined the figure “{name}”"
        else:
            aggregation = Aggregation.objects.select_for_update(no_key=True).get(pk=aggregation.pk)
            if aggregation.retired_at:
                raise Conflict(f"“{aggregation.name}” is retired; define a new figure instead.", field="aggregation")
            if expected_revision is not None and int(expected_revision) != aggregation.revision:
                raise Conflict("This figure was changed by someone else since you opened it. Reload it, then make your "
                               "change again.", field="revision", changes=[f"Now: {aggregation.expression}"])
            before = {k: getattr(aggregation, k) for k in values}
            for key, value in values.items():
                setattr(aggregation, key, value)
            aggregation.revision += 1
            aggregation.save()
            summary = f"Redefined the figure “{name}”"
        audit.record(actor, "define_aggregation", aggregation, authority=authority, summary=summary,
                     before=before, after=values)
    return aggregation


@refuses_null_characters
def retire_aggregation(*, actor: Person, aggregation: Aggregation) -> Aggregation:
    authority = authorise(actor, "retire_aggregation")
    with transaction.atomic():
        aggregation = Aggregation.objects.select_for_update(no_key=True).get(pk=aggregation.pk)
        if aggregation.retired_at:
            raise Conflict(f"“{aggregation.name}” is already retired.", field="aggregation")
        aggregation.retired_at = timezone.now()
        aggregation.revision += 1
        aggregation.save()
        audit.record(actor, "retire_aggregation", aggregation, authority=authority,
                     summary=f"Retired the figure “{aggregation.name}”")
    return aggregation


# --- capital flow inputs -----------------------------------------------------------

def _budget_period(errors: Errors, value) -> str:
    period = _text(value)
    if not period:
        errors.add("period", "Name the budget period, e.g. 2026-27.")
    elif len(period) > 40:
        errors.add("period", "Keep the period to 40 characters.")
    return period


@refuses_null_characters
def record_consumption_shares(*, actor: Person, provider: Service, period: str, shares: dict) -> list[ConsumptionShare]:
    """The provider's measured consumption in a budget period: the share each consuming
    service used (``{consumer slug: share}``, shares between 0 and 1, or percentages with
    a % sign). What is not shared out internally went to external users. Replaces the
    period's shares of this provider as a whole."""
    provider = _fresh(provider)
    authority = authorise(actor, "record_consumption_shares", service=provider)
    errors = Errors()
    period = _budget_period(errors, period)
    if not isinstance(shares, dict):
        raise InvalidInput("Give the shares as consumer → share.", field="shares")
    # consumers under the current contracts: a draft's new dependency does not count yet
    consumers = {s.slug: s for s in Service.objects.filter(current_version__dependencies__provider=provider)}
    parsed: dict[Service, Decimal] = {}
    total = Decimal(0)
    for ref, raw in shares.items():
        place = f"shares.{ref}"
        consumer = consumers.get(_text(ref))
        if consumer is None:
            errors.add(place, f"“{_text(ref)[:60]}” does not consume {provider.name} under its current contract.")
            continue
        text = _text(raw)
        try:
            share = Decimal(text[:-1].strip()) / 100 if text.endswith("%") else Decimal(text)
            if not share.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors.add(place, f"“{text[:20]}” is not a share: give a number between 0 and 1, or a percentage.")
            continue
        if isinstance(raw, bool) or not 0 <= share <= 1:
            errors.add(place, "A share is between 0 and 1 (0 % and 100 %).")
            continue
        if share != share.quantize(Decimal("0.000001")):
            errors.add(place, "Give a share to six decimal places at most (four for a percentage).")
            continue
        if share:
            parsed[consumer] = share
            total += share
    if total > 1:
        errors.add("shares", f"The shares add up to {_plain(total * 100)} %; together they can be at most 100 %.")
    errors.raise_if_any()
    with transaction.atomic():
        old = {s.consumer.slug: str(s.share) for s in
               ConsumptionShare.objects.select_for_update().filter(period=period, provider=provider).select_related("consumer")}
        ConsumptionShare.objects.filter(period=period, provider=provider).delete()
        rows = [ConsumptionShare.objects.create(period=period, provider=provider, consumer=c, share=s, recorded_by=actor)
                for c, s in sorted(parsed.items(), key=lambda item: item[0].slug)]
        audit.record(actor, "record_consumption_shares", provider, authority=authority, service=provider,
                     summary=f"Recorded how {provider.name}'s consumption in {period} was shared: "
                             f"{total * 100:.2f} % internal, {(1 - total) * 100:.2f} % external",
                     before=old or None, after={c.slug: str(s) for c, s in parsed.items()})
    return rows


@refuses_null_characters
def record_transactions(*, actor: Person, service: Service, period: str, transactions) -> PeriodVolume:
    """How many transactions the service completed in a budget period."""
    service = _fresh(service)
    authority = authorise(actor, "record_transactions", service=service)
    errors = Errors()
    period = _budget_period(errors, period)
    try:
        count = int(_text(transactions)) if not isinstance(transactions, bool) else None
    except ValueError:
        count = None
    if count is None or not 0 <= count < 10 ** 15:
        errors.add("transactions", "Give the number of completed transactions, a whole number of 0 or more.")
    errors.raise_if_any()
    with transaction.atomic():
        volume, created = PeriodVolume.objects.select_for_update(no_key=True).get_or_create(
            period=period, service=service, defaults={"transactions": count, "recorded_by": actor})
        before = None if created else {"transactions": volume.transactions}
        volume.transactions = count
        volume.recorded_by = actor
        volume.recorded_at = timezone.now()
        volume.save()
        audit.record(actor, "record_transactions", volume, authority=authority, service=service,
                     summary=f"{service.name} completed {count:,} transactions in {period}", before=before,
                     after={"transactions": count})
    return volume
