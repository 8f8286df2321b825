"""The whole organisation out as files and back into an empty database.

Data is built through the actions (the demo loader and the factories); the database is
emptied between export and import with plain SQL, as a new installation would be; the
files are changed by hand where a test needs them wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.db import connection, transaction
from django.test import override_settings

from osom.bench.generate import generate_organisation
from osom.core.actions import create_person
from osom.core.errors import InvalidInput
from osom.core.models import AuditEvent, Person
from osom.core.audit import verify_chain
from osom.fitness.models import MetricSeries
from osom.fitness.queries import fitness_overview
from osom.interop import whole_import
from osom.interop.whole import LEFT_OUT, LEFT_OUT_APPS, LEFT_OUT_FIELDS, MANIFEST, tables
from osom.interop.whole_export import export_organisation
from osom.interop.whole_import import import_organisation
from osom.lifecycle.models import Assessment
from osom.network.demo import load_demo
from osom.network.models import ContractVersion, Service

from .. import factories
from ..browser.hostile_corpus import prose


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def osom_models():
    return [m for m in apps.get_models(include_auto_created=True) if m.__module__.startswith("osom.")
            or m._meta.app_label in {c.label for c in apps.get_app_configs() if c.name.startswith("osom.")}]


def empty_the_database() -> None:
    """Every row of the platform's tables gone, as in a newly created database."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        for model in osom_models():
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")


def snapshot() -> dict[str, list[dict]]:
    """Every exported table's rows as the database holds them, credentials aside."""
    out = {}
    for table in tables():
        skip = {f"{n}" for n in LEFT_OUT_FIELDS.get(table.label, set())}
        rows = list(table.model._default_manager.order_by("pk").values())
        out[table.label] = [{k: v for k, v in row.items() if k not in skip} for row in rows]
        for column in table.columns:
            if column.many:
                through = column.field.remote_field.through
                out[f"{table.label}.{column.name}"] = sorted(through.objects.values_list(
                    f"{column.field.m2m_column_name()}", f"{column.field.m2m_reverse_name()}"))
    return out


def catalogue() -> list[tuple]:
    """Every index and constraint of the database, as its own catalogue defines them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # an SQLite table's definition holds its foreign keys and checks
            cursor.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
        else:
            cursor.execute("SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
                           "WHERE schemaname = current_schema() "
                           "UNION ALL SELECT 'constraint', conname, conrelid::regclass::text, pg_get_constraintdef(oid) "
                           "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2, 3")
        return cursor.fetchall()


def index_names(table: str) -> set[str]:
    return {name for kind, name, on, _ in catalogue() if kind == "index" and on == table}


def line_of(path: Path, text: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path}")


def problems_of(exc: InvalidInput) -> list[str]:
    return exc.errors["path"]


# ---------------------------------------------------------------- the demo, round trip


@pytest.mark.django_db
def test_the_demo_goes_out_and_back_byte_for_byte_and_row_for_row(tmp_path):
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        load_demo()
    before = snapshot()
    words_before = dict(MetricSeries.objects.values_list("pk", "terms"))
    assert all(words_before.values())
    first = export_organisation(path=tmp_path / "first")
    assert first["network/services.yaml"] == Service.objects.count() > 30
    assert first["fitness/measurements.csv"] > 1000

    empty_the_database()
    assert not Person.objects.exists() and not AuditEvent.objects.exists()
    indexes_and_keys = catalogue()
    report = import_organisation(path=tmp_path / "first")
    assert report.created["services"] == before["network.service"].__len__()
    # the indexes and keys dropped for the load were all made again, exactly as they were
    assert catalogue() == indexes_and_keys

    # every row of every table as it was, ids and references included
    assert snapshot() == before
    # the words each metric's series is found by are worked out again, and indexed
    assert dict(MetricSeries.objects.values_list("pk", "terms")) == words_before
    some = MetricSeries.objects.filter(current=True).exclude(terms="").order_by("pk").first()
    assert some in fitness_overview(q=some.terms.split()[-1])
    export_organisation(path=tmp_path / "second")
    assert files(tmp_path / "second") == files(tmp_path / "first")

    # one audit event says what was loaded, chained like every other
    events = list(AuditEvent.objects.all())
    assert [e.verb for e in events] == ["import_organisation"]
    assert "36 services" in events[0].summary and events[0].actor is None
    assert verify_chain().intact

    # the database goes on: new rows get new ids (PostgreSQL's sequences were moved on)
    executive = Person.objects.get(email="ada.okafor@northbridge.example")
    newcomer = create_person(actor=executive, email="new.person@northbridge.example", name="New Person")
    assert newcomer.pk > max(r["id"] for r in before["core.person"])
    service = factories.service(executive, "Street lighting faults")
    assert service.pk > max(r["id"] for r in before["network.service"])
    # passwords are not carried: nobody signs in with the old one until they set a new one
    assert not executive.has_usable_password()


def test_every_kind_of_record_is_exported_or_left_out_with_a_reason():
    exported = {t.label for t in tables()}
    for model in apps.get_models():
        label = model._meta.label_lower
        if not model.__module__.startswith("osom."):
            continue
        assert label in exported or label in LEFT_OUT or model._meta.app_label in LEFT_OUT_APPS, label
    # and every field of an exported kind is a column, but the credentials named
    for table in tables():
        names = {c.name for c in table.columns}
        for field in table.model._meta.get_fields():
            if field.concrete or (field.many_to_many and not field.auto_created):
                assert field.name in names or field.name in LEFT_OUT_FIELDS.get(table.label, set()), (table.label, field.name)
    paths = [t.path for t in tables()]
    assert len(paths) == len(set(paths))


@pytest.mark.django_db
def test_the_organisation_is_read_and_loaded_with_the_cycle_collector_paused(tmp_path, cast, monkeypatch):
    import gc

    export_organisation(path=tmp_path / "out")
    empty_the_database()
    seen = []
    for name in ("read_organisation", "_load"):
        def spy(*args, _original=getattr(whole_import, name), **kwargs):
            seen.append(gc.isenabled())
            return _original(*args, **kwargs)

        monkeypatch.setattr(whole_import, name, spy)
    was = gc.isenabled()
    gc.enable()
    try:
        import_organisation(path=tmp_path / "out")
        assert seen == [False, False]  # read, then loaded, both paused
        assert gc.isenabled()  # and resumed after
    finally:
        gc.enable() if was else gc.disable()
    assert Service.objects.filter(name=cast.service.name).exists()


@pytest.mark.django_db
def test_hostile_text_and_every_line_ending_come_back_exactly(tmp_path, cast):
    awkward = [
        prose(),
        "  leading spaces\nand trailing spaces   \n\n\nthree blank lines, then a tab\tand\r\nWindows line endings\r",
        "- looks like a list item\nkey: looks like a key\n# looks like a comment\n---\n...\n",
        "quotes ' \" ` and « » and emoji 🚲 and right-to-left שלום and a zero-width ​ joiner",
        "no newline at the end, but a final space ",
    ]
    executive = cast.executive
    made = []
    for n, text in enumerate(awkward):
        service = factories.service(executive, f"Awkward {n}", purpose=text)
        made.append(service.pk)
    stored = [ContractVersion.objects.get(service_id=pk, number=1).purpose for pk in made]
    assert "\r\n" in stored[1] and "---\n..." in stored[2] and stored[4].endswith("final space")
    before = snapshot()
    export_organisation(path=tmp_path / "out")
    empty_the_database()
    import_organisation(path=tmp_path / "out")
    assert snapshot() == before
    assert [ContractVersion.objects.get(service_id=pk, number=1).purpose for pk in made] == stored
    export_organisation(path=tmp_path / "again")
    assert files(tmp_path / "again") == files(tmp_path / "out")


# ---------------------------------------------------------------- refusing, and writing nothing


@pytest.fixture
def exported(tmp_path, cast) -> Path:
    """A small organisation exported, and the database then emptied."""
    folder = tmp_path / "org"
    export_organisation(path=folder)
    empty_the_database()
    return folder


def assert_nothing_written() -> None:
    assert not Person.objects.exists()
    assert not Service.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_each_problem_is_named_with_its_file_and_line_and_nothing_is_written(exported):
    services = exported / "network" / "services.yaml"
    services.write_text(services.read_text().replace("lifecycle_stage: discovery", "lifecycle_stage: mature", 1))
    bad_stage = line_of(services, "lifecycle_stage: mature")
    versions = exported / "network" / "contract-versions.yaml"
    versions.write_text(versions.read_text().replace("created_by: ada@example.org", "created_by: nobody@example.org", 1))
    bad_person = line_of(versions, "created_by: nobody@example.org")
    people = exported / "people.yaml"
    people.write_text(people.read_text().replace("email: bea@example.org", "email: max@example.org"))
    first, second = [n for n, line in enumerate(people.read_text().split("\n"), start=1)
                     if line == "  email: max@example.org"]
    needs = exported / "network" / "needs.yaml"
    needs.write_text(needs.read_text().replace("  position: 0\n", "  position: 0\n  colour: red\n", 1))
    unknown = line_of(needs, "colour: red")

    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    found = problems_of(caught.value)
    assert f"network/services.yaml:{bad_stage}: lifecycle_stage: “mature” is not one of " \
           "alpha, beta, decommissioned, discovery, live" in found
    assert f"network/contract-versions.yaml:{bad_person}: created_by: there is no person 'nobody@example.org' " \
           "in people.yaml" in found
    assert f"people.yaml:{second}: email: the same as the record on line {first - 1}" in found
    assert f"network/needs.yaml:{unknown}: “colour” is not a field of a need" in found
    assert len(found) == 4, found
    assert "4 problems found, and nothing was written" in caught.value.message
    assert_nothing_written()


@pytest.mark.django_db
def test_a_bad_csv_row_is_named_by_its_line_even_after_a_value_spanning_lines(exported, cast):
    shares = exported / "fitness" / "measurements.csv"
    header = "id,service,metric_key,period_start,period_end,value,measured_at,source,record_id,note,recorded_by,recorded_at\n"
    assert shares.read_text().startswith(header)
    shares.write_text(header
                      + '1,parking-permits,m1,2026-01-01,2026-01-31,97.5000,2026-02-01T06:00:00+00:00,manual,,'
                        '"a note\nover two lines",max@example.org,2026-02-01T06:00:00+00:00\n'
                      + '2,parking-permits,m1,2026-02-01,2026-02-30,97.5000,2026-03-01T06:00:00+00:00,manual,,,'
                        'max@example.org,2026-03-01T06:00:00+00:00\n'
                      + '3,parking-permits,m1,2026-03-01,2026-03-31,lots,2026-04-01T06:00:00+00:00,manual,,,'
                        'max@example.org,2026-04-01T06:00:00+00:00\n'
                      + '4,parking-permits,m1,2026-04-01,2026-04-30,97.12345,2026-05-01T06:00:00+00:00,manual,,,'
                        'max@example.org,2026-05-01T06:00:00+00:00\n')
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    assert problems_of(caught.value) == [
        "fitness/measurements.csv:4: period_end: give a date as YYYY-MM-DD",
        "fitness/measurements.csv:5: value: give a number, like \"12.50\"",
        "fitness/measurements.csv:6: value: give a number with at most 16 digits before the point and 4 after it",
    ]
    assert_nothing_written()


@pytest.mark.django_db
def test_a_missing_file_text_that_is_not_yaml_and_a_foreign_folder_are_refused(exported, tmp_path):
    (exported / "learning" / "doctrine-rounds.yaml").unlink()
    (exported / "maps" / "map-versions.yaml").write_text("- id: 1\n  service: [unclosed\n")
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    found = problems_of(caught.value)
    assert found[0].startswith("learning/doctrine-rounds.yaml: this file is missing")
    assert found[1].startswith("maps/map-versions.yaml:3: this is not YAML that can be read")
    assert_nothing_written()

    stranger = tmp_path / "stranger"
    stranger.mkdir()
    with pytest.raises(InvalidInput, match="holds no osom-organisation.yaml"):
        import_organisation(path=stranger)
    (exported / MANIFEST).write_text("format: 99\n")
    with pytest.raises(InvalidInput, match="reads format 1 .* not 99"):
        import_organisation(path=exported)
    assert_nothing_written()


@pytest.mark.django_db
def test_a_database_already_holding_an_organisation_is_refused(tmp_path, cast):
    export_organisation(path=tmp_path / "org")
    before = snapshot()
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=tmp_path / "org")
    assert caught.value.field == "database"
    assert "already holds 6 people" in caught.value.message
    assert snapshot() == before


@pytest.mark.django_db
def test_a_dry_run_reads_and_checks_everything_and_writes_nothing(exported):
    report = import_organisation(path=exported, dry_run=True)
    assert report.dry_run
    assert report.created["people"] == 6 and report.created["services"] == 2
    assert "(dry run: nothing was written)" in report.lines()[0]
    assert_nothing_written()


@pytest.mark.django_db
def test_an_import_failing_half_way_leaves_nothing(exported, monkeypatch):
    written = []
    real = whole_import._insert
    before = catalogue()
    during = []

    def insert_then_fail(loaded, naturals, progress=None):
        real(loaded, naturals)
        written.append(loaded.table.label)
        if loaded.table.label == "learning.doctrinerating":
            during.extend(catalogue())
            raise RuntimeError("the disk is full")

    monkeypatch.setattr(whole_import, "_insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        import_organisation(path=exported)
    assert "network.service" in written  # people and services were written before it failed
    assert_nothing_written()
    assert not Assessment.objects.exists()
    # the services' secondary indexes were dropped for the load; they are back, as is the rest
    dropped = {row for row in before if row[0] == "index" and row[2] == "network_service"} - set(during)
    assert dropped and all(row[3] for row in dropped)
    assert catalogue() == before


@pytest.mark.django_db
def test_a_rule_checked_only_when_an_index_is_made_again_refuses_the_import(exported):
    """Two measurements of a service with the same record id: the unique index saying so is
    conditional (it leaves out empty ids), so only the database checks it, when the load
    makes it again. The index is there afterwards, and nothing was written."""
    measurements = exported / "fitness" / "measurements.csv"
    header = measurements.read_text().splitlines()[0]
    row = ("{n},parking-permits,m1,2026-0{n}-01,2026-0{n}-28,97.5000,2026-0{n}-28T06:00:00+00:00,ingest,same-id,,"
           "max@example.org,2026-0{n}-28T06:00:00+00:00\n")
    measurements.write_text(header + "\n" + row.format(n=1) + row.format(n=2))
    before = catalogue()
    assert "one_measurement_per_record_id" in index_names("fitness_measurement")
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    assert caught.value.message.startswith("The database refused the records, and nothing was written")
    assert_nothing_written()
    assert catalogue() == before


@pytest.mark.django_db(transaction=True)
def test_the_database_checks_every_reference_again_before_it_commits(reference_data, exported, monkeypatch):
    """On SQLite the foreign keys are not checked row by row during the load, and on
    PostgreSQL they are dropped and added again: either way the database checks them all
    before anything is committed. (Outside a test's transaction, as the command runs.)"""
    needs = exported / "network" / "needs.yaml"
    text, replaced = re.subn(r"^  version: \d+$", "  version: 999999", needs.read_text(), count=1, flags=re.M)
    assert replaced == 1
    needs.write_text(text)
    real = whole_import._check
    monkeypatch.setattr(whole_import, "_check", lambda everything, problems: real(everything, whole_import.Problems()))
    before = catalogue()
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    assert caught.value.message.startswith("The database refused the records, and nothing was written")
    assert_nothing_written()
    assert catalogue() == before
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # and checked row by row again
            assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1


@pytest.mark.django_db
def test_files_laid_out_otherwise_are_read_record_by_record_to_the_same_records(tmp_path):
    """Files as the export writes them are read column by column; files written otherwise
    (by hand, or by another tool) are read record by record: the organisation comes back
    the same either way."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        load_demo()
    folder = tmp_path / "org"
    export_organisation(path=folder)
    before = snapshot()
    # YAML: the first record's fields in another order, and a comment between two records
    services = folder / "network" / "services.yaml"
    text = services.read_text()
    first = re.search(r"^- id: (\d+)\n  slug: (.+)$", text, flags=re.M)
    text = text.replace(first.group(0), f"- slug: {first.group(2)}\n  id: {first.group(1)}", 1)
    text = re.sub(r"^- id: ", "# written by hand\n- id: ", text, count=1, flags=re.M)
    services.write_text(text)
    # CSV: the columns in another order
    measurements = folder / "fitness" / "measurements.csv"
    with open(measurements, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert len(rows) > 1000
    with open(measurements, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows([list(reversed(row)) for row in rows])

    empty_the_database()
    import_organisation(path=folder)
    assert snapshot() == before


# ---------------------------------------------------------------- the command


def _osom(data_dir, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OSOM_", "DJANGO_"))}
    env["OSOM_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "osom.cli", *args], capture_output=True, text=True, env=env, timeout=300)


def test_the_commands_move_an_organisation_to_a_new_database(tmp_path):
    """As an operator would: the demo exported, loaded into a new database, exported again."""
    old, new = tmp_path / "old", tmp_path / "new"
    assert _osom(old, "demo").returncode == 0
    out = _osom(old, "export", str(tmp_path / "first"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Wrote ") and f"in {len(tables()) + 1} files" in out.stdout
    assert _osom(new, "migrate").returncode == 0
    refused = _osom(new, "import", str(tmp_path / "first"), "--as", "ada.okafor@northbridge.example")
    assert refused.returncode == 2 and "nobody to name with --as" in refused.stderr
    dry = _osom(new, "import", str(tmp_path / "first"), "--dry-run")
    assert dry.returncode == 0 and "dry run" in dry.stdout and "36 services" in dry.stdout
    done = _osom(new, "import", str(tmp_path / "first"))
    assert done.returncode == 0, done.stderr
    assert "Created: " in done.stdout and "26 people" in done.stdout
    again = _osom(new, "export", str(tmp_path / "second"))
    assert again.returncode == 0
    assert files(tmp_path / "second") == files(tmp_path / "first")
    twice = _osom(new, "import", str(tmp_path / "first"))
    assert twice.returncode == 2 and "loads only into an empty database" in twice.stderr
    assert "Traceback" not in twice.stderr
    assert _osom(new, "audit", "verify").returncode == 0

    # the files read as what they mean: people by email, services by slug, CSV as CSV
    versions = yaml.safe_load((tmp_path / "first" / "network" / "contract-versions.yaml").read_text())
    assert versions[0]["service"] == "cloud-hosting" and versions[0]["created_by"].endswith("@northbridge.example")
    with open(tmp_path / "first" / "fitness" / "measurements.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["service"] and rows[0]["metric_key"]
    manifest = yaml.safe_load((tmp_path / "first" / MANIFEST).read_text())
    assert manifest["files"]["network/services.yaml"] == 36
    assert "core.auditevent" in manifest["left_out"]



@pytest.mark.django_db
def test_a_rule_only_the_database_checks_refuses_the_import_cleanly(exported):
    measurements = exported / "fitness" / "measurements.csv"
    header = measurements.read_text().splitlines()[0]
    measurements.write_text(header + "\n" + '1,parking-permits,m1,2026-02-01,2026-01-01,97.5000,'
                            '2026-02-01T06:00:00+00:00,manual,,,max@example.org,2026-02-01T06:00:00+00:00\n')
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    assert caught.value.message.startswith("The database refused the records, and nothing was written")
    assert caught.value.field == "path"
    assert_nothing_written()


@pytest.mark.django_db
def test_numbers_beyond_what_the_database_holds_are_named(exported):
    people = exported / "people.yaml"
    text, replaced = re.subn(r"^- id: \d+$", "- id: 99999999999999999999", people.read_text(), count=1, flags=re.M)
    assert replaced == 1
    people.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        import_organisation(path=exported)
    assert problems_of(caught.value)[0].startswith("people.yaml:2: id: give a whole number from ")
    assert_nothing_written()


@pytest.mark.django_db
def test_a_generated_organisation_passes_the_imports_checks_and_comes_back_whole(tmp_path):
    """The generator writes in bulk, not through the actions; the import's checks are the
    platform's own reading of what a valid organisation holds."""
    generate_organisation(services=40, seed=5, years=1, today=dt.date(2026, 11, 27))
    before = snapshot()
    assert len(before["network.service"]) == 40 and before["fitness.measurement"]
    export_organisation(path=tmp_path / "generated")
    empty_the_database()
    report = import_organisation(path=tmp_path / "generated")
    assert report.created["services"] == 40
    assert snapshot() == before
    export_organisation(path=tmp_path / "again")
    assert files(tmp_path / "again") == files(tmp_path / "generated")


@pytest.mark.django_db
def test_the_day_an_assessment_is_listed_by_is_worked_out_again_not_read_from_the_files(tmp_path):
    """Each assessment's listed day follows from its report's day or the day it was
    scheduled; a file with other days (edited by hand, or made elsewhere) does not decide it."""
    generate_organisation(services=30, seed=3, years=1, today=dt.date(2026, 11, 27))
    expected = {a.pk: a.listed_day() for a in Assessment.objects.all()}
    assert len(expected) > 5 and any(a.published_at for a in Assessment.objects.all())
    export_organisation(path=tmp_path / "out")
    empty_the_database()
    wrong = 0
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and "listed_on" in (text := path.read_text(encoding="utf-8")):
            text, n = re.subn(r"listed_on: \S+", "listed_on: 1999-01-01", text)
            path.write_text(text, encoding="utf-8")
            wrong += n
    assert wrong == len(expected)
    import_organisation(path=tmp_path / "out")
    assert {a.pk: a.listed_on for a in Assessment.objects.all()} == expected
