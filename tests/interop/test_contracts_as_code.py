"""Contracts as code: YAML files exported, checked against the published schema, and
synchronised back into contract drafts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext

from osom.cli import main
from osom.core.errors import InvalidInput, NotAllowed
from osom.core.models import AuditEvent
from osom.interop.contracts import (SCHEMA_FILE, contract_schema, export_catalogue, read_contents, schema_text,
                                    sync_contracts)
from osom.network import actions
from osom.network.contract import read_content
from osom.network.models import ContractVersion, Service
from osom.network.queries import open_draft
from osom.network.stages import VersionStatus

from .. import factories
from ..network.test_permissions import snapshot

DOCS_SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "contract-schema.json"


def exported(tmp_path) -> Path:
    folder = tmp_path / "contracts"
    export_catalogue(path=folder)
    return folder


def edit(file: Path, change) -> None:
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    change(data)
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def line_of(file: Path, text: str) -> int:
    return next(i for i, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1) if text in line)


# --- the format and its schema ---------------------------------------------------------------


def test_the_published_schema_is_up_to_date_and_the_docs_hold_the_same_file():
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), "run the schema export: the model changed"
    assert DOCS_SCHEMA.read_text(encoding="utf-8") == SCHEMA_FILE.read_text(encoding="utf-8")
    assert json.loads(schema_text())["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_an_export_writes_one_file_per_running_service_that_the_schema_accepts(cast, tmp_path):
    from jsonschema import Draft202012Validator

    folder = exported(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["identity.yaml", "parking-permits.yaml"]
    text = (folder / "parking-permits.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert list(data)[:5] == ["service", "version", "name", "user_type", "evolution_stage"]
    assert data["service"] == "parking-permits" and data["version"] == cast.service.current_version.number
    assert data["dependencies"] == [{"provider": "identity", "note": ""}]
    assert data["needs"][0]["metrics"] == ["m1"] and data["metrics"][0]["target"] == 95
    assert list(Draft202012Validator(contract_schema()).iter_errors(data)) == []
    # the same contract is always the same bytes, so git shows only real changes
    again = tmp_path / "again"
    export_catalogue(path=again)
    assert (again / "parking-permits.yaml").read_bytes() == text.encode("utf-8")


def test_prose_over_several_lines_and_unicode_survive_the_trip(cast, tmp_path):
    content = read_content(cast.service.current_version)
    content["purpose"] = "Permits for résidents’ parking.\n\n- one\n- two"
    content["metrics"][0]["target"] = "99.95"
    actions.alter_contract(actor=cast.executive, service=cast.service, content=content, reason="Clearer.",
                           risk="None.")
    folder = exported(tmp_path)
    text = (folder / "parking-permits.yaml").read_text(encoding="utf-8")
    assert "purpose: |" in text and "résidents’" in text and "target: 99.95" in text
    report = sync_contracts(actor=cast.executive, path=folder)
    assert report.created == {} and open_draft(cast.service) is None


def test_a_decommissioned_service_is_not_exported(cast, tmp_path):
    factories.service(cast.executive, "Old permits", stage="live")
    Service.objects.filter(slug="old-permits").update(lifecycle_stage="decommissioned")
    assert "old-permits.yaml" not in {p.name for p in exported(tmp_path).iterdir()}


def test_the_schema_is_served_to_people_signed_in(cast, client):
    response = client.get("/schema/contract.json")
    assert response.status_code == 302, "the schema is not public"
    client.force_login(cast.outsider)
    response = client.get("/schema/contract.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    assert json.loads(response.content) == contract_schema()


# --- sync ------------------------------------------------------------------------------------


def test_syncing_an_export_changes_nothing(cast, tmp_path):
    folder = exported(tmp_path)
    before = snapshot()
    report = sync_contracts(actor=cast.executive, path=folder)
    assert snapshot() == before
    assert report.created == {} and report.not_mapped == []
    assert any("parking-permits.yaml: unchanged" in line for line in report.mapped)
    assert any("identity.yaml: unchanged" in line for line in report.mapped)


def test_an_edited_need_opens_a_draft_with_exactly_that_change(cast, tmp_path):
    folder = exported(tmp_path)
    approved = cast.service.current_version
    approved_content = read_content(approved)
    edit(folder / "parking-permits.yaml", lambda d: d["needs"][0].update(so_that="I can park near home"))
    report = sync_contracts(actor=cast.manager, path=folder)

    draft = open_draft(cast.service)
    assert draft is not None and draft.status == VersionStatus.DRAFT, "never submitted, never approved"
    assert draft.change_note == "Synchronised from parking-permits.yaml"
    expected = {**approved_content, "needs": [{**approved_content["needs"][0], "so_that": "I can park near home"}]}
    assert read_content(draft) == expected
    cast.service.refresh_from_db()
    assert cast.service.current_version == approved and read_content(approved) == approved_content
    assert report.created == {"drafts opened": 1}
    assert f"parking-permits.yaml: draft version {draft.number} of Parking permits opened" in report.mapped
    assert open_draft(cast.other_service) is None, "the unchanged file drafts nothing"
    assert not ContractVersion.objects.filter(status=VersionStatus.SUBMITTED).exists()

    # synchronising again leaves the draft as it is; changing the file again rewrites it
    assert sync_contracts(actor=cast.manager, path=folder).created == {}
    edit(folder / "parking-permits.yaml", lambda d: d.update(benefit="Saves a lot of money."))
    report = sync_contracts(actor=cast.manager, path=folder)
    assert report.created == {"drafts rewritten": 1}
    draft.refresh_from_db()
    assert open_draft(cast.service).pk == draft.pk and read_content(draft)["benefit"] == "Saves a lot of money."


def test_a_submitted_draft_is_reported_not_changed(cast, tmp_path):
    folder = exported(tmp_path)
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service, change_note="Next")
    actions.submit_contract_version(actor=cast.manager, version=draft)
    edit(folder / "parking-permits.yaml", lambda d: d.update(benefit="Other."))
    before = snapshot()
    report = sync_contracts(actor=cast.manager, path=folder)
    assert snapshot() == before
    [(what, why)] = report.not_mapped
    assert what == "parking-permits.yaml" and "submitted for approval" in why and f"version {draft.number}" in why


def test_a_file_equal_to_the_approved_contract_leaves_an_open_draft_alone(cast, tmp_path):
    folder = exported(tmp_path)
    draft = actions.draft_contract_version(actor=cast.manager, service=cast.service, change_note="Work in progress")
    content = read_content(draft)
    content["benefit"] = "Being rewritten."
    actions.edit_contract_draft(actor=cast.manager, version=draft, content=content)
    before = snapshot()
    report = sync_contracts(actor=cast.manager, path=folder)
    assert snapshot() == before
    assert (f"parking-permits.yaml: unchanged, equal to approved version 1 of Parking permits (open draft version "
            f"{draft.number} left as it is)") in report.mapped


def test_an_unknown_service_is_reported_and_not_created(cast, tmp_path):
    folder = exported(tmp_path)
    text = (folder / "identity.yaml").read_text(encoding="utf-8").replace("service: identity", "service: lamps")
    (folder / "lamps.yaml").write_text(text.replace("name: Identity", "name: Lamps"), encoding="utf-8")
    before = snapshot()
    report = sync_contracts(actor=cast.executive, path=folder)
    assert snapshot() == before
    assert report.not_mapped == [("lamps.yaml", "there is no service “lamps”; a sync never creates one "
                                                "(establish or adopt it)")]


def test_a_schema_error_names_file_and_line_and_writes_nothing(cast, tmp_path):
    folder = exported(tmp_path)
    file = folder / "parking-permits.yaml"
    edit(file, lambda d: (d["needs"][0].update(i_need=42), d.update(benefit="Changed.")))
    edit(folder / "identity.yaml", lambda d: d.update(evolution_stage="ancient"))
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        sync_contracts(actor=cast.executive, path=folder)
    assert snapshot() == before
    errors = refused.value.errors
    assert errors[f"parking-permits.yaml:{line_of(file, 'i_need: 42')}"] == ["needs[0].i_need: 42 is not of type 'string'"]
    where = f"identity.yaml:{line_of(folder / 'identity.yaml', 'evolution_stage: ancient')}"
    assert "evolution_stage" in errors[where][0] and "ancient" in errors[where][0]
    assert "nothing was synchronised" in refused.value.message


def test_a_rule_error_names_file_and_line_and_writes_nothing(cast, tmp_path):
    folder = exported(tmp_path)
    file = folder / "parking-permits.yaml"
    edit(file, lambda d: d["needs"][0].update(metrics=["no-such-metric"]))
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        sync_contracts(actor=cast.executive, path=folder)
    assert snapshot() == before
    line = line_of(file, "- no-such-metric")
    assert refused.value.errors == {
        f"parking-permits.yaml:{line}": ["needs[0].metrics: “no-such-metric” is not one of this contract's metrics."]}


def test_bad_yaml_duplicated_keys_and_aliases_are_refused_by_line(cast, tmp_path):
    folder = exported(tmp_path)
    (folder / "identity.yaml").write_text("service: identity\nname: [unclosed\n", encoding="utf-8")
    text = (folder / "parking-permits.yaml").read_text(encoding="utf-8")
    (folder / "parking-permits.yaml").write_text(text + "name: Parking again\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        sync_contracts(actor=cast.executive, path=folder)
    errors = refused.value.errors
    duplicate = len(text.splitlines()) + 1
    assert errors[f"parking-permits.yaml:{duplicate}"] == ["“name” is given twice."]
    assert any(key.startswith("identity.yaml:") and "not valid YAML" in msgs[0] for key, msgs in errors.items())
    (folder / "identity.yaml").write_text("service: identity\nname: &n Identity\nbenefit: *n\n", encoding="utf-8")
    (folder / "parking-permits.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        sync_contracts(actor=cast.executive, path=folder)
    assert list(refused.value.errors) == ["identity.yaml:2"]
    assert "aliases" in refused.value.errors["identity.yaml:2"][0]


def test_two_files_for_one_service_are_refused(cast, tmp_path):
    folder = exported(tmp_path)
    (folder / "z-copy.yaml").write_bytes((folder / "identity.yaml").read_bytes())
    with pytest.raises(InvalidInput) as refused:
        sync_contracts(actor=cast.executive, path=folder)
    assert list(refused.value.errors) == [f"z-copy.yaml:{line_of(folder / 'z-copy.yaml', 'service: identity')}"]


def test_a_manager_syncing_another_managers_service_is_refused_and_nothing_is_written(cast, tmp_path):
    folder = exported(tmp_path)
    edit(folder / "parking-permits.yaml", lambda d: d.update(benefit="Mine."))
    edit(folder / "identity.yaml", lambda d: d.update(benefit="Not mine."))
    before = snapshot()
    with pytest.raises(NotAllowed) as refused:
        sync_contracts(actor=cast.manager, path=folder)
    assert snapshot() == before, "the draft of the manager's own service is rolled back too"
    assert refused.value.message.startswith("identity.yaml: Only ")
    assert refused.value.message.endswith("Nothing was synchronised.")


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(cast, tmp_path):
    folder = exported(tmp_path)
    edit(folder / "parking-permits.yaml", lambda d: d.update(benefit="Saves more."))
    before = snapshot()
    report = sync_contracts(actor=cast.manager, path=folder, dry_run=True)
    assert snapshot() == before
    assert report.created == {"drafts opened": 1}
    assert report.lines()[1] == "Would create: 1 drafts opened"


def test_a_file_from_an_older_version_is_warned_about(cast, tmp_path):
    folder = exported(tmp_path)
    content = read_content(cast.service.current_version)
    content["benefit"] = "Changed since the export."
    actions.alter_contract(actor=cast.executive, service=cast.service, content=content, reason="R.", risk="None.")
    report = sync_contracts(actor=cast.executive, path=folder)
    assert any("exported from version 1" in w and "now version 2" in w for w in report.warnings)
    draft = open_draft(cast.service)
    assert read_content(draft)["benefit"] == "Saves money.", "the file is what the draft holds"


def test_decimal_targets_are_read_digit_for_digit(cast, tmp_path):
    folder = exported(tmp_path)
    edit(folder / "parking-permits.yaml", lambda d: d["metrics"][0].update(target=99.9999))
    sync_contracts(actor=cast.executive, path=folder)
    assert open_draft(cast.service).metrics.get().target == Decimal("99.9999")


# --- who may sync ---------------------------------------------------------------------------

# A sync drafts through draft_contract_version and edit_contract_draft, so whoever may
# draft a service's contract may sync its file: its manager and the executive (model 6).
MATRIX_ALLOWED = {"executive", "exec_team", "manager"}


@pytest.mark.parametrize("role", ["executive", "exec_team", "manager", "other_manager", "team_member", "outsider"])
def test_each_role_may_or_may_not_sync_the_services_contract(cast, tmp_path, role):
    folder = exported(tmp_path)
    (folder / "identity.yaml").unlink()
    edit(folder / "parking-permits.yaml", lambda d: d.update(benefit="Changed."))
    actor = cast.by_role()[role]
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    before = snapshot()
    if role in MATRIX_ALLOWED:
        sync_contracts(actor=actor, path=folder)
        verbs = list(AuditEvent.objects.filter(id__gt=last).order_by("id").values_list("verb", "actor"))
        assert verbs == [("draft_contract_version", actor.pk), ("edit_contract_draft", actor.pk)]
        assert open_draft(cast.service).status == VersionStatus.DRAFT
    else:
        with pytest.raises(NotAllowed):
            sync_contracts(actor=actor, path=folder)
        assert snapshot() == before


def counted(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_an_export_reads_the_network_in_queries_that_do_not_grow_with_it(cast, tmp_path):
    small = counted(lambda: export_catalogue(path=tmp_path / "a"))
    for i in range(3):
        factories.service(cast.executive, f"Extra {i}", needs=2, dependencies=["identity"])
    assert counted(lambda: export_catalogue(path=tmp_path / "b")) == small
    assert len(list((tmp_path / "b").iterdir())) == 5


def test_the_bulk_reader_agrees_with_the_networks_own(cast):
    factories.service(cast.executive, "Extra", needs=3, dependencies=["identity", "parking-permits"])
    services = list(Service.objects.all())
    contents = read_contents(s.current_version_id for s in services)
    for service in services:
        assert contents[service.current_version_id] == read_content(service.current_version), service.slug


def test_a_sync_of_unchanged_files_costs_a_few_queries_a_file(cast, tmp_path):
    small = counted(lambda: sync_contracts(actor=cast.executive, path=exported(tmp_path / "a")))
    for i in range(3):
        factories.service(cast.executive, f"Extra {i}")
    large = counted(lambda: sync_contracts(actor=cast.executive, path=exported(tmp_path / "b")))
    # checking a file's rules asks the database about its name and providers; reading is in bulk
    assert (large - small) / 3 <= 4, (small, large)


# --- the command line ------------------------------------------------------------------------


def test_the_command_line_exports_and_syncs(cast, tmp_path, capsys):
    folder = tmp_path / "out"
    assert main(["export", "--to", "contracts", str(folder)]) == 0
    assert "Wrote 2 files" in capsys.readouterr().out
    edit(folder / "parking-permits.yaml", lambda d: d.update(benefit="Saves time."))
    assert main(["import", "--sync", str(folder), "--as", cast.manager.email, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "Would create: 1 drafts opened" in out
    assert open_draft(cast.service) is None
    assert main(["import", "--sync", str(folder), "--as", cast.manager.email]) == 0
    assert "Created: 1 drafts opened" in capsys.readouterr().out
    assert read_content(open_draft(cast.service))["benefit"] == "Saves time."


def test_the_command_line_names_file_and_line_of_a_problem(cast, tmp_path, capsys):
    folder = tmp_path / "out"
    main(["export", "--to", "contracts", str(folder)])
    edit(folder / "identity.yaml", lambda d: d.update(name=""))
    capsys.readouterr()
    assert main(["import", "--sync", str(folder), "--as", cast.executive.email]) == 2
    err = capsys.readouterr().err
    assert err.startswith("osom: 1 problem in the contract files; nothing was synchronised.")
    assert f"identity.yaml:{line_of(folder / 'identity.yaml', 'name:')}: name:" in err


def test_the_command_line_refuses_an_import_saying_neither_from_nor_sync(cast, tmp_path, capsys):
    assert main(["import", "--as", cast.executive.email]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("osom: say what to import: DIR written by `osom export DIR`, --from backstage|csv PATH, "
                   "or --sync DIR for YAML contracts")
    # a folder alone is a whole organisation, loaded only where there is nobody to name
    assert main(["import", str(tmp_path), "--as", cast.executive.email]) == 2
    assert "nobody to name with --as" in capsys.readouterr().err
    assert main(["import", "--from", "csv", str(tmp_path), "--sync", str(tmp_path), "--as", cast.executive.email]) == 2
    assert "not both" in capsys.readouterr().err
