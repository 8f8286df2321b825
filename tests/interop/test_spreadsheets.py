"""Services and needs in and out of spreadsheets (CSV).

Data is built through the actions; files are written here by hand, as someone would
save them from a spreadsheet, and read back with the ``csv`` module, not with the code
under test.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.cli import main
from osom.core.errors import InvalidInput, NotAllowed
from osom.core.models import AuditEvent
from osom.interop import spreadsheets
from osom.interop.spreadsheets import export_catalogue, import_catalogue, neutralise, restore
from osom.network.models import Appointment, ContractVersion, Dependency, Need, Service

from .. import factories
from ..governance.helpers import EVERY_TABLE
from ..lifecycle.test_permissions import Row
from ..network import test_permissions as network
from ..network.test_permissions import assert_refusal_is_a_sentence_naming_who_may

SERVICE_HEADER = ["name", "slug", "lifecycle stage", "evolution stage", "user type", "manager email", "purpose",
                  "depends on", "adopted", "contract version"]
NEED_HEADER = ["service slug", "as a", "i need", "so that", "metric keys"]


def write(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Service, ContractVersion, Need, Dependency, Appointment, AuditEvent)}


def snapshot() -> dict[str, list[dict]]:
    tables = [*EVERY_TABLE, AuditEvent]
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in tables}


# A catalogue as someone would keep it: two new services, one consuming a service already
# in the network and one consuming the other new one, listed after it.
NEW_SERVICES = [
    ["Street lighting", "street-lighting", "live", "custom", "external", "max@example.org",
     "Keeps the streets lit at night.", "lighting-data", "yes", "1"],
    ["Lighting data", "lighting-data", "beta", "product", "internal", "",
     "Holds every lamp and its state.", "identity", "yes", "1"],
]
NEW_NEEDS = [
    ["street-lighting", "resident", "lit streets after dark", "I walk home safely", ""],
    ["street-lighting", "council officer", "to know which lamps are out", "they are mended within a week", ""],
    ["lighting-data", "lighting engineer", "the state of every lamp", "I plan repairs", ""],
]


def catalogue(folder: Path, services=None, needs=None) -> Path:
    write(folder / "services.csv", SERVICE_HEADER, NEW_SERVICES if services is None else services)
    if needs is not False:
        write(folder / "needs.csv", NEED_HEADER, NEW_NEEDS if needs is None else needs)
    return folder


def invalid(cast, folder: Path, **kwargs) -> InvalidInput:
    before = counts()
    with pytest.raises(InvalidInput) as raised:
        import_catalogue(actor=cast.executive, path=folder, dry_run=False, progress=None, **kwargs)
    assert counts() == before, "a refused import writes nothing"
    return raised.value


# --- export ----------------------------------------------------------------------------------


def test_export_writes_every_service_and_need_as_the_network_holds_them(cast, tmp_path):
    assert export_catalogue(path=tmp_path / "out") == 2
    header, rows = read(tmp_path / "out" / "services.csv")
    assert header == SERVICE_HEADER
    by_slug = {row[1]: row for row in rows}
    assert set(by_slug) == set(Service.objects.values_list("slug", flat=True))
    permits = cast.service
    assert by_slug["parking-permits"] == [
        "Parking permits", "parking-permits", "discovery", "custom", "external", "max@example.org",
        permits.current_version.purpose, "identity", "no", str(permits.current_version.number)]
    assert by_slug["identity"][5] == "olu@example.org" and by_slug["identity"][7] == ""

    header, rows = read(tmp_path / "out" / "needs.csv")
    assert header == NEED_HEADER
    expected = [[s.slug, n.as_a, n.i_need, n.so_that, ";".join(m.key for m in n.metrics.order_by("position"))]
                for s in Service.objects.order_by("name") for n in s.current_version.needs.order_by("position")]
    assert rows == expected
    assert ["parking-permits", "resident", "Parking permits need 1", "I get on with my day", "m1"] in rows


def test_export_of_an_adopted_service_with_several_providers_keeps_their_order(cast, tmp_path):
    factories.service(cast.executive, "Payments", evolution_stage="product")
    factories.service(cast.executive, "Fines", stage="live", needs=2, dependencies=["payments", "identity"])
    export_catalogue(path=tmp_path)
    _, rows = read(tmp_path / "services.csv")
    fines = next(r for r in rows if r[1] == "fines")
    assert (fines[2], fines[7], fines[8]) == ("live", "payments;identity", "yes")
    _, needs = read(tmp_path / "needs.csv")
    assert [n[4] for n in needs if n[0] == "fines"] == ["m1", "m2"]


def test_a_cell_that_would_run_as_a_formula_is_written_quoted_and_read_back_as_it_was(cast, tmp_path):
    for value in ["=HYPERLINK(\"http://x\")", "+44 20", "-1", "@SUM(A1)", "'=already", "plain", "", "a=b"]:
        assert restore(neutralise(value)) == value
    assert neutralise("=1+1") == "'=1+1" and neutralise("'=x") == "''=x" and neutralise("a=b") == "a=b"

    factories.service(cast.executive, "Formulae", purpose="=cmd|' /C calc'!A0 is what it is.")
    export_catalogue(path=tmp_path)
    _, rows = read(tmp_path / "services.csv")
    assert next(r for r in rows if r[1] == "formulae")[6] == "'=cmd|' /C calc'!A0 is what it is."
    # read back: a new service named in the file gets the text as it was written
    rows = [["Formulae again", "", "alpha", "custom", "external", "", "'=cmd|' /C calc'!A0 is what it is.", "", "", ""]]
    needs = [["Formulae again", "'@everyone", "'-nothing", "'+more", ""]]
    import_catalogue(actor=cast.executive, path=catalogue(tmp_path / "in", rows, needs), dry_run=False, progress=None)
    service = Service.objects.get(name="Formulae again")
    assert service.current_version.purpose == "=cmd|' /C calc'!A0 is what it is."
    need = service.current_version.needs.get()
    assert (need.as_a, need.i_need, need.so_that) == ("@everyone", "-nothing", "+more")


def test_export_reads_the_same_number_of_queries_whatever_the_number_of_services(cast, tmp_path):
    def queries(folder: Path) -> int:
        with CaptureQueriesContext(connection) as ctx:
            export_catalogue(path=folder)
        return len(ctx.captured_queries)

    for i in range(2):
        factories.service(cast.executive, f"Small {i}", needs=2, dependencies=["identity"])
    small = queries(tmp_path / "small")
    for i in range(8):
        factories.service(cast.executive, f"Large {i}", needs=3, dependencies=["identity", "parking-permits"])
    assert queries(tmp_path / "large") == small
    assert len(read(tmp_path / "large" / "services.csv")[1]) == 12


# --- import ----------------------------------------------------------------------------------


def test_an_import_adopts_each_new_service_with_its_needs_manager_and_dependencies(cast, tmp_path):
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path), dry_run=False, progress=None)
    lighting = Service.objects.get(slug="street-lighting")
    data = Service.objects.get(slug="lighting-data")
    assert (lighting.lifecycle_stage, lighting.adopted, lighting.manager) == ("live", True, cast.manager)
    assert lighting.next_assessment_due is not None, "adopted live, it is due its periodic assessment"
    assert (data.lifecycle_stage, data.evolution_stage, data.user_type, data.manager) == ("beta", "product", "internal", None)
    # the provider listed later in the file was adopted first, so the first contract names it
    assert lighting.current_version.number == 1
    assert [d.provider.slug for d in lighting.current_version.dependencies.all()] == ["lighting-data"]
    assert [d.provider.slug for d in data.current_version.dependencies.all()] == ["identity"]
    assert [n.i_need for n in lighting.current_version.needs.order_by("position")] == [
        "lit streets after dark", "to know which lamps are out"]
    assert report.created == {"services": 2, "needs": 3, "dependencies": 2}
    assert any("Lighting data has no manager" in w for w in report.warnings)
    # one event per adoption, through the network's action, and one for the whole import
    events = list(AuditEvent.objects.order_by("-id")[:3])
    assert [e.verb for e in events] == ["import_catalogue", "adopt_existing_service", "adopt_existing_service"]
    assert events[0].actor == cast.executive and events[0].after["services"] == ["lighting-data", "street-lighting"]


def test_a_file_written_here_comes_back_out_as_the_same_rows(cast, tmp_path):
    import_catalogue(actor=cast.executive, path=catalogue(tmp_path / "in"), dry_run=False, progress=None)
    export_catalogue(path=tmp_path / "out")
    _, services = read(tmp_path / "out" / "services.csv")
    _, needs = read(tmp_path / "out" / "needs.csv")
    new = {"street-lighting", "lighting-data"}
    assert sorted(r for r in services if r[1] in new) == sorted(NEW_SERVICES)
    assert sorted(r for r in needs if r[0] in new) == sorted(NEW_NEEDS)


def test_columns_are_matched_by_name_whatever_their_order_case_or_common_alias(cast, tmp_path):
    header = ["Notes", "Stage", "Service Name", "Users", "Evolution", "Manager", "Summary", "Dependencies",
              "As a", "I need", "So that"]
    rows = [["ignore me", "Alpha", "Pothole reports", "External users", "Custom-built", "MAX@example.org",
             "Residents report potholes.", "Identity", "resident", "to report a pothole", "it is filled"]]
    report = import_catalogue(actor=cast.executive, path=write(tmp_path / "sheet.csv", header, rows), dry_run=False,
                              progress=None)
    service = Service.objects.get(name="Pothole reports")
    assert (service.lifecycle_stage, service.user_type, service.evolution_stage) == ("alpha", "external", "custom")
    assert service.manager == cast.manager
    assert service.current_version.dependencies.get().provider == cast.other_service
    assert service.current_version.needs.get().so_that == "it is filled"
    assert ("sheet.csv column “Notes”", "not a column this import knows") in report.not_mapped


def test_services_already_in_the_network_are_left_as_they_are(cast, tmp_path):
    version = cast.service.current_version
    rows = [["Parking permits", "parking-permits", "live", "commodity", "internal", "olu@example.org",
             "Something else entirely.", "", "yes", "7"], *NEW_SERVICES]
    needs = [["parking-permits", "driver", "a permit", "I can park", ""], *NEW_NEEDS]
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path, rows, needs), dry_run=False,
                              progress=None)
    cast.service.refresh_from_db()
    assert cast.service.current_version == version and cast.service.lifecycle_stage == "discovery"
    assert cast.service.manager == cast.manager
    assert version.purpose != "Something else entirely."
    assert ("services.csv:2 Parking permits", "already in the network as parking-permits; its approved contract is "
            "not changed by an import") in report.not_mapped
    assert ("needs.csv row 2", "needs of Parking permits, which is not imported") in report.not_mapped
    assert report.created["services"] == 2
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path / "again", rows, [needs[0], NEW_NEEDS[0], needs[0], needs[0], *NEW_NEEDS[1:]]),
                              dry_run=True, progress=None)
    assert ("needs.csv rows 2, 4–5", "needs of Parking permits, which is not imported") in report.not_mapped


def test_every_bad_row_is_named_by_its_file_and_row_and_nothing_is_written(cast, tmp_path):
    rows = [
        NEW_SERVICES[0],
        ["Lighting data", "lighting-data", "retired", "product", "internal", "", "Holds lamps.", "", "", ""],
        ["Gritting", "", "live", "custom", "external", "nobody@example.org", "Grits roads.", "snow-ploughs", "", ""],
        ["", "", "live", "custom", "external", "", "No name.", "", "", ""],
        ["Salt stock", "", "beta", "ancient", "external", "", "", "", "", ""],
    ]
    needs = [*NEW_NEEDS, ["gritting", "driver", "gritted roads", "", ""], ["salt-stock", "driver", "salt", "roads", ""]]
    error = invalid(cast, catalogue(tmp_path, rows, needs))
    assert set(error.errors) == {"services.csv:3", "services.csv:4", "services.csv:5", "services.csv:6",
                                 "needs.csv:5"}
    assert "lifecycle stage" in error.errors["services.csv:3"][0] and "“retired”" in error.errors["services.csv:3"][0]
    gritting = " ".join(error.errors["services.csv:4"])
    assert "manager email: nobody has the email address nobody@example.org" in gritting
    assert "depends on: there is no service “snow-ploughs”" in gritting
    assert error.errors["services.csv:5"] == ["name: give the service a name."]
    salt = " ".join(error.errors["services.csv:6"])
    assert "evolution stage: “ancient” is not one of" in salt and "purpose:" in salt
    assert error.errors["needs.csv:5"][0].startswith("so that:")


def test_a_need_of_an_unknown_service_and_a_service_without_needs_are_refused(cast, tmp_path):
    needs = [NEW_NEEDS[2], ["street-lightning", "resident", "light", "I see", ""]]
    error = invalid(cast, catalogue(tmp_path, needs=needs))
    assert "there is no service “street-lightning”" in error.errors["needs.csv:3"][0]
    assert "Street lighting has no user need" in error.errors["services.csv:2"][0]


def test_a_service_listed_twice_and_a_header_given_twice_are_refused(cast, tmp_path):
    error = invalid(cast, catalogue(tmp_path / "twice", [*NEW_SERVICES, NEW_SERVICES[0]]))
    assert "same service as row 2" in error.errors["services.csv:4"][0]
    write(tmp_path / "cols" / "services.csv", ["name", "Service name", "stage"], [["A", "B", "live"]])
    error = invalid(cast, tmp_path / "cols")
    assert "both give the name" in error.errors["services.csv"][0]


def test_a_decommissioned_row_is_not_adopted_and_a_link_to_it_is_left_out(cast, tmp_path):
    old = ["Paper forms", "paper-forms", "decommissioned", "custom", "external", "", "Forms on paper.", "", "", ""]
    leaning = ["Lamp stock", "", "beta", "product", "internal", "", "Lamps in store.", "paper-forms;identity", "", ""]
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path, [old, leaning],
                                                                   [["Lamp stock", "engineer", "lamps", "I fix", ""]]),
                              dry_run=False, progress=None)
    assert ("services.csv:2 Paper forms", "decommissioned: only a running service is adopted") in report.not_mapped
    assert not Service.objects.filter(name="Paper forms").exists()
    assert any(what == "services.csv:3 depends on “paper-forms”" for what, _ in report.not_mapped)
    lamps = Service.objects.get(name="Lamp stock")
    assert [d.provider for d in lamps.current_version.dependencies.all()] == [cast.other_service]


def test_a_file_that_is_not_utf8_or_a_folder_without_services_is_refused(cast, tmp_path):
    write(tmp_path / "latin" / "services.csv", SERVICE_HEADER, [["Café", "", "live", "custom", "external", "",
                                                                  "Coffee.", "", "", ""]], encoding="latin-1")
    assert "not UTF-8" in invalid(cast, tmp_path / "latin").errors["services.csv"][0]
    (tmp_path / "empty").mkdir()
    assert "holds no services.csv" in invalid(cast, tmp_path / "empty").errors["path"][0]
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "services.csv").write_text("")
    assert "is empty" in invalid(cast, tmp_path / "blank").errors["services.csv"][0]


def test_metric_keys_of_needs_are_reported_not_mapped(cast, tmp_path):
    needs = [[*NEW_NEEDS[0][:4], "lit-streets"], *NEW_NEEDS[1:]]
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path, needs=needs), dry_run=False,
                              progress=None)
    assert any(what == "needs.csv metric keys (row 2)" for what, _ in report.not_mapped)
    assert not Service.objects.get(slug="street-lighting").current_version.metrics.exists()


def test_services_of_the_file_that_depend_on_each_other_in_a_cycle_are_all_imported(cast, tmp_path):
    rows = [[*NEW_SERVICES[0][:7], "lighting-data", "", ""], [*NEW_SERVICES[1][:7], "street-lighting", "", ""]]
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path, rows), dry_run=False, progress=None)
    lighting = Service.objects.get(slug="street-lighting")
    data = Service.objects.get(slug="lighting-data")
    assert [d.provider for d in lighting.current_version.dependencies.all()] == [data]
    # the link closing the cycle waits in a draft, for its manager to submit
    draft = data.versions.get(number=2)
    assert draft.status == "draft" and [d.provider for d in draft.dependencies.all()] == [lighting]
    assert not data.current_version.dependencies.exists()
    assert any("draft version 2" in w for w in report.warnings)


def test_only_a_link_of_the_cycle_waits_when_a_service_outside_it_is_listed_first(cast, tmp_path):
    # Gully cleaning consumes Street lighting, which is in a cycle with Lighting data
    rows = [["Gully cleaning", "", "live", "custom", "external", "", "Clears drains.", "street-lighting", "", ""],
            [*NEW_SERVICES[0][:7], "lighting-data", "", ""], [*NEW_SERVICES[1][:7], "street-lighting", "", ""]]
    needs = [["gully-cleaning", "resident", "clear drains", "my street does not flood", ""], *NEW_NEEDS]
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path, rows, needs), dry_run=False,
                              progress=None)
    gully = Service.objects.get(slug="gully-cleaning")
    assert [d.provider.slug for d in gully.current_version.dependencies.all()] == ["street-lighting"]
    assert not gully.versions.filter(number=2).exists()
    assert ContractVersion.objects.filter(status="draft").count() == 1
    assert len([w for w in report.warnings if "closes a cycle" in w]) == 1
    # reported in the file's order, whatever order they were adopted in
    assert [line.split()[0] for line in report.mapped] == ["services.csv:2", "services.csv:3", "services.csv:4"]


def test_a_dry_run_reports_what_would_be_done_and_writes_nothing(cast, tmp_path):
    before = snapshot()
    seen = []
    report = import_catalogue(actor=cast.executive, path=catalogue(tmp_path), dry_run=True,
                              progress=lambda done, total, what="": seen.append((done, total)))
    assert snapshot() == before
    assert report.dry_run and report.created["services"] == 2
    assert seen == [(1, 2), (2, 2)]
    lines = report.lines()
    assert "dry run" in lines[0] and lines[1].startswith("Would create: ")
    assert any("Street lighting → adopted at live as street-lighting" in line for line in lines)


def test_an_import_failing_half_way_writes_nothing(cast, tmp_path, monkeypatch):
    real = spreadsheets.audit.record

    def failing(actor, verb, *args, **kwargs):
        if verb == "import_catalogue":  # the very last write of the import
            raise RuntimeError("the disk is full")
        return real(actor, verb, *args, **kwargs)

    monkeypatch.setattr(spreadsheets.audit, "record", failing)
    before = snapshot()
    with pytest.raises(RuntimeError):
        import_catalogue(actor=cast.executive, path=catalogue(tmp_path), dry_run=False, progress=None)
    assert snapshot() == before


# --- who may import ------------------------------------------------------------------------


def _import(c):
    def do(actor):
        folder = Path(c.tmp) / f"by-{actor.pk}"
        return import_catalogue(actor=actor, path=catalogue(folder), dry_run=False, progress=None)
    return do


# Who may bring a catalogue into the network (model 2: the executive establishes and
# adopts services), here from a spreadsheet.
MATRIX: dict[str, Row] = {
    "import_catalogue from a spreadsheet": Row("import_catalogue", "import_catalogue", _import,
                                               network.EXECUTIVE_ONLY, ("executive",)),
}
CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in network.ROLES]


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_an_import(cast, tmp_path, act, role):
    row = MATRIX[act]
    cast.tmp = tmp_path
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = snapshot()
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    if role in row.allowed:
        do(actor)
        events = list(AuditEvent.objects.filter(id__gt=last).order_by("id"))
        assert [e.verb for e in events] == ["adopt_existing_service", "adopt_existing_service", row.verb]
        event = events[-1]
        assert (event.actor, event.authority) == (actor, row.allowed[role])
        if role == "exec_team":
            assert event.authority_person == cast.executive, "the executive team acts on the executive's authority"
        assert Service.objects.filter(slug="street-lighting").exists()
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
        assert snapshot() == before, "a refused import writes nothing, not even an audit event"


# --- the command line ----------------------------------------------------------------------


def test_the_command_line_imports_dry_runs_and_exports(cast, tmp_path, capsys):
    folder = catalogue(tmp_path / "in")
    assert main(["import", "--from", "csv", str(folder), "--as", cast.executive.email, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "Would create: 2 dependencies, 3 needs, 2 services" in out
    assert not Service.objects.filter(slug="street-lighting").exists()

    assert main(["import", "--from", "csv", str(folder), "--as", cast.executive.email]) == 0
    assert "Created: 2 dependencies, 3 needs, 2 services" in capsys.readouterr().out
    assert Service.objects.filter(slug="street-lighting").exists()

    assert main(["export", "--to", "csv", str(tmp_path / "out")]) == 0
    assert "Wrote 2 files" in capsys.readouterr().out
    assert len(read(tmp_path / "out" / "services.csv")[1]) == Service.objects.count()


def test_the_command_line_names_bad_rows_and_refuses_those_who_may_not(cast, tmp_path, capsys):
    rows = [[*NEW_SERVICES[0][:2], "someday", *NEW_SERVICES[0][3:]], NEW_SERVICES[1]]
    before = counts()
    assert main(["import", "--from", "csv", str(catalogue(tmp_path / "bad", rows)), "--as",
                 cast.executive.email]) == 2
    err = capsys.readouterr().err
    assert "services.csv:2" in err and "“someday”" in err
    assert main(["import", "--from", "csv", str(catalogue(tmp_path / "ok")), "--as", cast.manager.email]) == 2
    assert "Only" in capsys.readouterr().err
    assert counts() == before
