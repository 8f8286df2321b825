"""The ``osom map`` commands that use the database: the network map drawn from the
contracts, a service's saved map as text or SVG, and saving a new version (its warnings
on standard error, each with its line). A refusal prints one line and exits with code 2,
writing nothing."""

from __future__ import annotations

from osom.cli import main
from osom.core.models import AuditEvent
from osom.maps import cli_more
from osom.maps.models import MapVersion
from osom.network.stages import Evolution, Lifecycle

from .api.test_maps_api import MAP, map_rows, saved


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _refused(capsys, *argv: str, field: str | None = None) -> str:
    before = map_rows()
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, ""), (code, out, err)
    assert err.startswith("osom: ") and err.count("\n") == 1, err
    if field:
        assert err.endswith(f" ({field})\n"), err
    assert map_rows() == before
    return err


def test_the_parsers_choices_are_the_models_own():
    assert cli_more.STAGES == Lifecycle.values
    assert cli_more.EVOLUTION == Evolution.values


def test_map_save_keeps_the_text_and_reports_each_line_not_understood(cast, capsys, tmp_path):
    source = tmp_path / "permits.owm"
    source.write_text(MAP)
    last = AuditEvent.objects.latest("pk").pk
    code, out, err = _run(capsys, "map", "save", "parking-permits", str(source), "--note", "First", "--expected", "0",
                          "--as", cast.team_member.email)
    assert code == 0, err
    assert out == "Saved version 1 of Parking permits's map; 1 line not understood.\n"
    assert err.startswith(f"{source}:7: ") and err.count("\n") == 1
    assert [(e.verb, e.actor) for e in AuditEvent.objects.filter(pk__gt=last)] == [("save_service_map", cast.team_member)]
    version = MapVersion.objects.get()
    assert (version.text, version.note, version.saved_by) == (MAP, "First", cast.team_member)
    _refused(capsys, "map", "save", "parking-permits", str(source), "--expected", "0", "--as", cast.manager.email,
             field="text")
    _refused(capsys, "map", "save", "parking-permits", str(source), "--as", cast.outsider.email)
    _refused(capsys, "map", "save", "parking-permits", str(tmp_path / "none.owm"), "--as", cast.manager.email,
             field="file")
    empty = tmp_path / "empty.owm"
    empty.write_text("\n")
    _refused(capsys, "map", "save", "parking-permits", str(empty), "--as", cast.manager.email, field="text")


def test_map_show_prints_the_text_or_draws_it(cast, capsys, tmp_path):
    _refused(capsys, "map", "show", "parking-permits", field="service")
    saved(cast)
    saved(cast, MAP.replace("title Parking permits", "title Permits, revised"))
    assert _run(capsys, "map", "show", "parking-permits") == (0, MAP.replace("title Parking permits",
                                                                             "title Permits, revised"), "")
    assert _run(capsys, "map", "show", "parking-permits", "--version", "1")[1] == MAP
    target = tmp_path / "map.svg"
    code, out, _ = _run(capsys, "map", "show", "parking-permits", "--svg", "-o", str(target))
    assert code == 0 and out == f"Wrote version 2 of Parking permits's map to {target}.\n"
    assert "<svg" in target.read_text() and "Permits, revised" in target.read_text()
    _refused(capsys, "map", "show", "parking-permits", "--version", "5", field="version")


def test_map_network_writes_the_map_of_the_contracts(cast, capsys, tmp_path):
    code, out, _ = _run(capsys, "map", "network")
    assert code == 0
    assert out.startswith("title Service network\n")
    assert "component Parking permits [" in out and "Parking permits->Identity" in out
    code, out, _ = _run(capsys, "map", "network", "--around", "identity")
    assert "Identity" in out and "Parking permits" not in out
    code, out, _ = _run(capsys, "map", "network", "--evolution", "product")
    assert "component Identity" in out and "component Parking permits" not in out
    target = tmp_path / "network.svg"
    code, out, _ = _run(capsys, "map", "network", "--svg", "-o", str(target))
    assert code == 0 and out == f"Wrote the map of 2 services to {target}.\n"
    assert target.read_text().count("<svg") == 1
    _refused(capsys, "map", "network", "--around", "nowhere", field="around")
