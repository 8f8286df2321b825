"""The whole organisation as a folder of files: which tables, in which files, and how
each value is written as text and read back.

One file per kind of record, under a folder per part of the model (``network/``,
``lifecycle/``…): YAML for most, CSV for the kinds that grow by the million
(measurements, doctrine ratings). Every record keeps its id, so references between files
are plain ids; a reference to a person is written as their email address and one to a
service as its slug, so the files read as what they mean. Records are written in the
order of their ids, so the same organisation always gives the same bytes.

What is not written, and why, is in :data:`LEFT_OUT`.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models

__all__ = ["FORMAT", "MANIFEST", "LEFT_OUT", "Table", "tables", "Column", "writer", "csv_writer", "reader"]

FORMAT = 1
MANIFEST = "osom-organisation.yaml"

APP_ORDER = ["core", "network", "learning", "lifecycle", "governance", "fitness", "maps", "interop"]

# Kinds of record that are not part of the organisation's content, with the reason a
# reader of the export is given (docs/cli.md repeats it).
LEFT_OUT: dict[str, str] = {
    "core.apitoken": "API tokens are credentials: issue new ones after loading",
    "core.auditevent": "the audit log belongs to the installation that recorded it; keep its backup",
    "core.signinfailure": "failed sign-ins are kept only to slow down guessing",
    "core.notification": "notifications are each person's inbox of what happened here",
    "fitness.ingesttoken": "ingest tokens are credentials: issue new ones after loading",
    "interop.webhookendpoint": "webhook endpoints hold shared secrets: add them again after loading",
    "interop.webhookdelivery": "the webhook outbox belongs to the installation that sent it",
    "interop.webhookattempt": "the webhook outbox belongs to the installation that sent it",
}
LEFT_OUT_APPS = {"search": "the search index is rebuilt from the records after loading"}

# Fields never written: credentials, Django's own permission tables the platform does
# not use, and the words a metric's series is found by, worked out again after loading.
LEFT_OUT_FIELDS = {"core.person": {"password", "groups", "user_permissions"}, "fitness.metricseries": {"terms"}}

CSV_KINDS = {"fitness.measurement", "fitness.metricseries", "fitness.consumptionshare", "fitness.periodvolume",
             "learning.doctrinerating"}

# Records referred to by something other than their id.
NATURAL_KEYS = {"core.person": "email", "network.service": "slug"}


class BadValue(ValueError):
    """A value that cannot be read as its column's type; the message says what is wanted."""


@dataclass
class Column:
    name: str  # as written in the file (the field's name)
    field: models.Field
    target: type[models.Model] | None = None  # a reference: the model referred to
    many: bool = False  # a list of references
    key: str = "pk"  # how the target is named in the file: its id or its natural key

    @property
    def attname(self) -> str:
        return self.field.attname


@dataclass
class Table:
    label: str  # app_label.model_name
    model: type[models.Model]
    path: str  # relative path of its file
    columns: list[Column]

    @property
    def csv(self) -> bool:
        return self.path.endswith(".csv")

    @property
    def natural_key(self) -> str | None:
        return NATURAL_KEYS.get(self.label)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


# Where Django's made-up plural would read wrongly.
FILE_NAMES = {
    "core.person": "people", "core.organisation": "organisation", "network.dependency": "dependencies",
    "lifecycle.criterion": "criteria", "lifecycle.assessmentcriterion": "assessment-criteria",
    "lifecycle.reportaddendum": "report-addenda", "lifecycle.spend": "spending", "fitness.metricseries": "metric-series",
    "learning.coereview": "coe-reviews", "learning.communityguidance": "community-guidance",
}


def _file_name(model: type[models.Model]) -> str:
    if model._meta.label_lower in FILE_NAMES:
        return FILE_NAMES[model._meta.label_lower]
    words = str(model._meta.verbose_name_plural).lower().replace("’", "").replace("'", "")
    return "-".join("".join(ch if ch.isalnum() else " " for ch in words).split())


def _columns(model: type[models.Model], label: str) -> list[Column]:
    skip = LEFT_OUT_FIELDS.get(label, set())
    out: list[Column] = []
    for field in model._meta.get_fields():
        if field.auto_created and not field.concrete or field.name in skip:
            continue
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                target = field.related_model
                out.append(Column(field.name, field, target, many=True, key=NATURAL_KEYS.get(target._meta.label_lower, "pk")))
            continue
        if not field.concrete:
            continue
        if field.is_relation:
            target = field.related_model
            out.append(Column(field.name, field, target, key=NATURAL_KEYS.get(target._meta.label_lower, "pk")))
        else:
            out.append(Column(field.name, field))
    natural = NATURAL_KEYS.get(label)
    out.sort(key=lambda c: (not c.field.primary_key, c.name != natural, c.many))
    return out


_TABLES: list[Table] | None = None


def tables() -> list[Table]:
    """Every kind of record the export holds, in the order they are written and read."""
    global _TABLES
    if _TABLES is None:
        found = []
        for app_label in APP_ORDER + sorted({m._meta.app_label for m in apps.get_models()} - set(APP_ORDER)):
            try:
                config = apps.get_app_config(app_label)
            except LookupError:
                continue
            if not config.name.startswith("osom.") or app_label in LEFT_OUT_APPS:
                continue
            for model in config.get_models():
                label = model._meta.label_lower
                if label in LEFT_OUT or model._meta.proxy or not model._meta.managed:
                    continue
                folder = "" if app_label == "core" else f"{app_label}/"
                suffix = ".csv" if label in CSV_KINDS else ".yaml"
                found.append(Table(label, model, f"{folder}{_file_name(model)}{suffix}", _columns(model, label)))
        _TABLES = found
    return _TABLES


# ---- values as text ------------------------------------------------------------------


def writer(column: Column):
    """A function giving one value of ``column`` as it is written: text, a number, true or
    false, None, or (for JSON) lists and mappings with their keys in order."""
    field = column.field
    if isinstance(field, models.DateTimeField):
        utc = dt.timezone.utc

        def moment(value):
            if value is None:
                return None
            return (value if value.utcoffset() == dt.timedelta(0) else value.astimezone(utc)).isoformat()

        return moment
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else value.isoformat()
    if isinstance(field, models.DecimalField):
        return lambda value: None if value is None else format(value, "f")
    if isinstance(field, models.JSONField):
        return lambda value: None if value is None else _sorted(value)
    return lambda value: value


def _sorted(value):
    """JSON with its mappings' keys in order: PostgreSQL keeps them in its own order."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def csv_writer(column: Column):
    """As :func:`writer`, as the text of a CSV cell (None is an empty cell)."""
    write = writer(column)
    if isinstance(column.field, models.JSONField):
        return lambda value: "" if value is None else json.dumps(write(value), sort_keys=True, ensure_ascii=False)
    if isinstance(column.field, models.BooleanField):
        return lambda value: "" if value is None else ("true" if value else "false")
    if isinstance(column.field, (models.CharField, models.TextField)) and not column.field.null:
        return write

    def cell(value):
        value = write(value)
        return "" if value is None else str(value)

    return cell


def _whole(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadValue("give a whole number")
    try:
        return int(value)
    except ValueError:
        raise BadValue("give a whole number") from None


def _parse(field: models.Field, column: Column, from_csv: bool):
    """The conversion of one non-null value for this kind of field, chosen once."""
    if isinstance(field, models.BooleanField):
        def boolean(value):
            if value is True or value is False:
                return value
            if from_csv and value in ("true", "false"):
                return value == "true"
            raise BadValue("give true or false")
        return boolean
    if isinstance(field, (models.AutoField, models.IntegerField)) or column.target is not None and column.key == "pk":
        from django.db import connection
        from django.db.models.fields import PositiveIntegerRelDbTypeMixin

        kind = (column.target._meta.pk if column.target is not None else field).get_internal_type()
        least, most = connection.ops.integer_field_range(kind)
        if isinstance(field, PositiveIntegerRelDbTypeMixin):
            least = max(least or 0, 0)

        def whole(value):
            number = _whole(value)
            if least is not None and number < least or most is not None and number > most:
                raise BadValue(f"give a whole number from {least} to {most}")
            return number
        return whole
    if column.target is not None:
        wanted = f"give the {column.key} of a {column.target._meta.verbose_name}"

        def key(value):
            if value.__class__ is not str:
                raise BadValue(wanted)
            return value
        return key
    if isinstance(field, models.DecimalField):
        def number(value):
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise BadValue("give a number as text, like \"12.50\"")
            try:
                amount = Decimal(str(value))
            except InvalidOperation:
                raise BadValue("give a number, like \"12.50\"") from None
            if not amount.is_finite():
                raise BadValue("give a finite number")
            digits, exponent = amount.as_tuple()[1:]
            places = max(0, -exponent)
            whole = len(digits) + exponent if exponent > 0 else len(digits) - places
            if places > field.decimal_places or whole > field.max_digits - field.decimal_places:
                raise BadValue(f"give a number with at most {field.max_digits - field.decimal_places} digits "
                               f"before the point and {field.decimal_places} after it")
            return amount
        return number
    if isinstance(field, models.DateTimeField):
        utc = dt.timezone.utc

        def moment(value):
            try:
                when = dt.datetime.fromisoformat(str(value))
            except ValueError:
                raise BadValue("give a time as YYYY-MM-DDTHH:MM:SS+00:00") from None
            if when.tzinfo is None:
                raise BadValue("give the time with its offset from UTC, like +00:00")
            return when.astimezone(utc)
        return moment
    if isinstance(field, models.DateField):
        def day(value):
            if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                return value
            try:
                return dt.date.fromisoformat(str(value))
            except ValueError:
                raise BadValue("give a date as YYYY-MM-DD") from None
        return day
    if isinstance(field, models.JSONField):
        def loaded(value):
            if not from_csv:
                return value
            try:
                return json.loads(value)
            except ValueError:
                raise BadValue("give JSON") from None
        return loaded
    if isinstance(field, models.FloatField):
        def real(value):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise BadValue("give a number")
            try:
                return float(value)
            except ValueError:
                raise BadValue("give a number") from None
        return real
    if isinstance(field, (models.CharField, models.TextField)):
        max_length = field.max_length if isinstance(field, models.CharField) else None
        choices = {str(v) for v, _ in field.flatchoices} if field.choices else None
        blank = field.blank
        email = isinstance(field, models.EmailField)

        def text(value):
            if value.__class__ is not str:
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = str(value)
                else:
                    raise BadValue("give text")
            if "\x00" in value:
                raise BadValue("text may not hold a null character")
            if max_length is not None and len(value) > max_length:
                raise BadValue(f"keep it to {max_length} characters (it has {len(value)})")
            if choices is not None and value not in choices and not (value == "" and blank):
                raise BadValue(f"“{value}” is not one of {', '.join(sorted(choices))}")
            if email and "@" not in value:
                raise BadValue(f"“{value}” is not an email address")
            return value
        return text
    raise ImproperlyConfigured(f"{column.name}: a {type(field).__name__} cannot be exported yet")


def reader(column: Column, from_csv: bool):
    """A function reading one value of ``column`` from the file, raising BadValue."""
    field = column.field
    nullable = field.null
    text_field = isinstance(field, (models.CharField, models.TextField))
    empty_is_none = from_csv and not (text_field and not nullable)
    parse = _parse(field, column, from_csv)

    def convert(value):
        if value is None or empty_is_none and value == "":
            if nullable:
                return None
            if text_field:
                raise BadValue("give text (it may be empty, but not null)")
            raise BadValue("a value is needed")
        return parse(value)

    return convert
