"""The ``osom`` commands for fitness data, figures, capital flow and the dependency graph:
reads print what the API answers, on data made through the actions; writes act as a named
person through the same actions, checked and audited; a refusal prints one line and exits
with code 2, writing nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from osom.cli import main
from osom.core.models import AuditEvent
from osom.fitness import actions, cli
from osom.fitness.models import Aggregation, ConsumptionShare, IngestToken, Measurement, MetricSeries, PeriodVolume
from osom.network.stages import Lifecycle

from .api.test_fitness_api import PERIOD, day, fitness_rows, last_month, measure, worked_example
from .api.test_maps_api import make_cycle


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _refused(capsys, *argv: str, field: str | None = None) -> str:
    """One line on standard error, exit code 2, nothing on standard output and nothing written."""
    before = fitness_rows()
    code, out, err = _run(capsys, *argv)
    assert (code, out) == (2, ""), (code, out, err)
    assert err.startswith("osom: ") and err.count("\n") == 1, err
    if field:
        assert err.endswith(f" ({field})\n"), err
    assert fitness_rows() == before
    return err


def _done(capsys, verb: str, actor, *argv: str) -> tuple[str, str]:
    """A write that succeeds: exit 0, and exactly one audit event by the person named by ``--as``."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    code, out, err = _run(capsys, *argv)
    assert code == 0, (code, out, err)
    assert [(e.verb, e.actor) for e in AuditEvent.objects.filter(pk__gt=last)] == [(verb, actor)]
    return out, err


def test_the_parsers_choices_are_the_models_own():
    assert cli.GRAINS == Aggregation.Grain.values
    assert cli.WITHIN == Aggregation.Within.values
    assert cli.STAGES == Lifecycle.values


# ---------------------------------------------------------------- measurements


def test_measure_record_and_replace(cast, capsys):
    start, end = day(-30), day(-1)
    out, _ = _done(capsys, "record_measurement", cast.team_member, "measure", "record", "parking-permits", "m1",
                   "96.50", "--start", str(start), "--end", str(end), "--note", "Survey", "--as", cast.team_member.email)
    assert out == f"Recorded m1 = 96.5 for Parking permits ({start} to {end}).\n"
    m = Measurement.objects.get()
    assert (m.value, m.note, m.source) == (Decimal("96.5"), "Survey", "manual")
    _refused(capsys, "measure", "record", "parking-permits", "m1", "97", "--start", str(start), "--end", str(end),
             "--as", cast.manager.email, field="period_start")
    _done(capsys, "record_measurement", cast.manager, "measure", "record", "parking-permits", "m1", "97", "--start",
          str(start), "--end", str(end), "--replace", "--as", cast.manager.email)
    assert Measurement.objects.get().value == Decimal("97")


def test_measure_record_is_refused_to_others_and_for_bad_input(cast, capsys):
    start = str(day(-3))
    err = _refused(capsys, "measure", "record", "parking-permits", "m1", "1", "--start", start, "--as",
                   cast.outsider.email)
    assert err.startswith("osom: Only ")
    _refused(capsys, "measure", "record", "parking-permits", "m9", "1", "--start", start, "--as", cast.manager.email,
             field="metric_key")
    _refused(capsys, "measure", "record", "parking-permits", "m1", "lots", "--start", start, "--as",
             cast.manager.email, field="value")
    _refused(capsys, "measure", "record", "nowhere", "m1", "1", "--start", start, "--as", cast.manager.email,
             field="service")
    _refused(capsys, "measure", "record", "parking-permits", "m1", "1", "--start", start, "--as", "nobody@example.org",
             field="email")


def test_measure_import_names_every_bad_row_on_one_line(cast, capsys, tmp_path):
    start, end = last_month()
    good = tmp_path / "good.csv"
    good.write_text(f"metric,period_start,period_end,value\nm1,{start},{end},91\nm1,{day(-3)},{day(-2)},92\n")
    out, _ = _done(capsys, "import_measurements", cast.manager, "measure", "import", "parking-permits", str(good),
                   "--as", cast.manager.email)
    assert out == "Uploaded 2 measurements for Parking permits: 2 new, 0 replaced.\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"metric,period_start,value\nm9,{day(-5)},1\nm1,{day(-5)},lots\nm1,{day(-6)},3\n")
    err = _refused(capsys, "measure", "import", "parking-permits", str(bad), "--as", cast.manager.email)
    assert "Row 2" in err and "Row 3" in err and "Row 4" not in err
    _refused(capsys, "measure", "import", "parking-permits", str(tmp_path / "missing.csv"), "--as",
             cast.manager.email, field="file")
    _refused(capsys, "measure", "import", "parking-permits", str(good), "--as", cast.outsider.email)


def test_measure_export_prints_csv_or_writes_a_file(cast, capsys, tmp_path):
    measure(cast, "91")
    code, out, _ = _run(capsys, "measure", "export", "parking-permits")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "metric,period_start,period_end,value,measured_at,note,source,record_id"
    assert lines[1].startswith(f"m1,{day(-40)},") and ",91," in lines[1]
    target = tmp_path / "out.csv"
    code, out, _ = _run(capsys, "measure", "export", "parking-permits", "--metric", "m1", "-o", str(target))
    assert code == 0 and out == f"Wrote the measurements of Parking permits to {target}.\n"
    assert target.read_text().splitlines() == lines


def test_measure_status_shows_each_metric_against_its_target(cast, capsys):
    m = measure(cast, "97.5")
    actions.set_measurement_cadence(actor=cast.manager, service=cast.service, metric_key="m1", days=7)
    code, out, _ = _run(capsys, "measure", "status", "parking-permits")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Parking permits: 1 metric"
    assert lines[1].split() == ["METRIC", "TARGET", "LATEST", "UNIT", "PERIOD", "STATUS", "DUE", "EVERY", "(DAYS)"]
    due = m.period_end + dt.timedelta(days=7)
    assert lines[2].split() == ["m1", "≥", "95", "97.5", "%", f"{m.period_start}..{m.period_end}", "met", str(due),
                                "(stale)", "7"]
    assert lines[3] == "1 metric overdue."


def test_measure_cadence(cast, capsys):
    out, _ = _done(capsys, "set_measurement_cadence", cast.manager, "measure", "cadence", "parking-permits", "m1", "14",
                   "--as", cast.manager.email)
    assert out == "Parking permits reports m1 every 14 days.\n"
    assert MetricSeries.objects.get(service=cast.service, metric_key="m1").cadence_days == 14
    _refused(capsys, "measure", "cadence", "parking-permits", "m1", "0", "--as", cast.manager.email, field="days")
    _refused(capsys, "measure", "cadence", "parking-permits", "m1", "7", "--as", cast.team_member.email)


def test_measure_token_issue_prints_it_once_and_revoke_takes_its_prefix(cast, capsys):
    out, err = _done(capsys, "issue_ingest_token", cast.manager, "measure", "token", "issue", "parking-permits",
                     "--label", "billing", "--as", cast.manager.email)
    raw = out.strip()
    token = IngestToken.objects.get()
    assert raw.startswith(token.prefix) and IngestToken.find(raw) == token
    assert "shown once" in err
    _refused(capsys, "measure", "token", "issue", "parking-permits", "--as", cast.team_member.email)
    _refused(capsys, "measure", "token", "revoke", "osomi_zzzzzz", "--as", cast.manager.email, field="token")
    _refused(capsys, "measure", "token", "revoke", "abc", "--as", cast.manager.email, field="token")
    out, _ = _done(capsys, "revoke_ingest_token", cast.executive, "measure", "token", "revoke", token.prefix, "--as",
                   cast.executive.email)
    assert out == f"Revoked ingest token {token.prefix}… of Parking permits.\n"
    assert IngestToken.find(raw) is None
    _refused(capsys, "measure", "token", "revoke", raw, "--as", cast.manager.email, field="token")


# ---------------------------------------------------------------- figures


def test_figure_define_list_show_and_retire(cast, capsys):
    start, end = last_month()
    measure(cast, "97.5", start=start, end=end)
    measure(cast, "80", service=cast.other_service, actor=cast.other_manager, start=start, end=end)
    out, _ = _done(capsys, "define_aggregation", cast.executive, "figure", "define", "Outcomes", "AVG(m1)", "--unit",
                   "%", "--as", cast.executive.email)
    assert out == "Defined the figure “Outcomes” (outcomes): avg(m1)\n"
    code, out, _ = _run(capsys, "figure", "list")
    assert out.splitlines()[1].split() == ["outcomes", "Outcomes", "month", "%", "avg(m1)"]
    code, out, _ = _run(capsys, "figure", "show", "outcomes", "--periods", "2")
    lines = out.splitlines()
    assert lines[0] == "Outcomes (outcomes)" and lines[1] == "  avg(m1)"
    assert lines[-2].split() == [start.strftime("%Y-%m"), "88.75"]
    assert lines[-1].startswith(dt.date.today().strftime("%Y-%m")) and "no service reported" in lines[-1]
    _refused(capsys, "figure", "define", "Mine", "sum(m1)", "--as", cast.manager.email)
    _refused(capsys, "figure", "define", "Broken", "total(m1)", "--as", cast.executive.email, field="expression")
    _done(capsys, "retire_aggregation", cast.executive, "figure", "retire", "outcomes", "--as", cast.executive.email)
    assert _run(capsys, "figure", "list")[1] == "The executive has defined no figure yet.\n"
    assert _run(capsys, "figure", "list", "--retired")[1].splitlines()[1].startswith("outcomes")
    _refused(capsys, "figure", "retire", "outcomes", "--as", cast.executive.email)
    _refused(capsys, "figure", "show", "nothing", field="figure")


# ---------------------------------------------------------------- capital flow


def test_capital_flow_is_worked_out_with_the_cycle_collector_paused(cast, capsys, monkeypatch, collector_on):
    import gc

    from osom.fitness import queries

    worked_example(cast)
    seen, original = [], queries.capital_flow_for

    def spy(period):
        seen.append(gc.isenabled())
        return original(period)

    monkeypatch.setattr(queries, "capital_flow_for", spy)
    assert _run(capsys, "capital", "flow", PERIOD)[0] == 0
    assert seen == [False] and gc.isenabled()


def test_capital_flow_prints_the_worked_example(cast, capsys):
    worked_example(cast)
    assert _run(capsys, "capital", "periods") == (0, f"{PERIOD}\n", "")
    code, out, _ = _run(capsys, "capital", "flow", PERIOD)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Capital flow, {PERIOD}"
    rows = {line[:14].strip(): line.split() for line in lines[2:6]}
    assert rows["Renew a permit"][3:] == ["£30.00", "£260.00", "100", "%", "£260.00", "13,000", "0.02"]
    assert rows["Hosting"][1:] == ["£100.00", "£100.00", "0", "%", "£0.00", "—", "—"]
    assert lines[-1] == "Total direct spend £260.00; reaching external users £260.00; unallocated £0.00."
    code, out, _ = _run(capsys, "capital", "flow", PERIOD, "--service", "renew-a-permit")
    assert code == 0
    assert out.splitlines()[0] == (f"Renew a permit, {PERIOD}: direct £30.00; fully loaded £260.00; 100 % to external "
                                   "users (£260.00)")
    assert "  13,000 transactions: 0.02 each" in out
    assert any(line.split() == ["Hosting", "£100.00", "0.0077"] for line in out.splitlines())
    _refused(capsys, "capital", "flow", "1999-00", field="period")


def test_capital_flow_names_a_cycle_money_never_leaves(cast, capsys):
    make_cycle(cast)
    from .api.test_fitness_api import spend

    spend(cast, cast.service, "10")
    actions.record_consumption_shares(actor=cast.executive, provider=cast.service, period=PERIOD, shares={"identity": "1"})
    actions.record_consumption_shares(actor=cast.executive, provider=cast.other_service, period=PERIOD,
                                      shares={"parking-permits": "1"})
    err = _refused(capsys, "capital", "flow", PERIOD, field="period")
    assert "never leaves the cycle" in err and "Identity" in err and "Parking permits" in err


def test_capital_shares_and_transactions(cast, capsys):
    out, _ = _done(capsys, "record_consumption_shares", cast.other_manager, "capital", "shares", "identity", PERIOD,
                   "parking-permits=30%", "--as", cast.other_manager.email)
    assert out == f"Recorded Identity's consumption in {PERIOD}: Parking permits 30 %; 70 % external.\n"
    assert ConsumptionShare.objects.get().share == Decimal("0.3")
    _refused(capsys, "capital", "shares", "identity", PERIOD, "parking-permits=2", "--as", cast.other_manager.email,
             field="shares.parking-permits")
    _refused(capsys, "capital", "shares", "identity", PERIOD, "parking-permits", "--as", cast.other_manager.email,
             field="shares")
    _refused(capsys, "capital", "shares", "identity", PERIOD, "parking-permits=0.1", "--as", cast.manager.email)
    out, _ = _done(capsys, "record_transactions", cast.team_member, "capital", "transactions", "parking-permits", PERIOD,
                   "4200", "--as", cast.team_member.email)
    assert out == f"Parking permits completed 4,200 transactions in {PERIOD}.\n"
    assert PeriodVolume.objects.get().transactions == 4200
    _refused(capsys, "capital", "transactions", "parking-permits", PERIOD, "many", "--as", cast.manager.email,
             field="transactions")


# ---------------------------------------------------------------- the dependency graph


def test_graph_neighbours_impact_and_cycles(cast, capsys):
    from . import factories

    factories.service(cast.executive, "Renew a permit", manager=cast.manager, dependencies=["parking-permits"])
    code, out, _ = _run(capsys, "graph", "neighbours", "parking-permits")
    lines = out.splitlines()
    assert lines[0] == "Parking permits: 2 services within 1 dependency"
    assert {tuple(line.split()[:1] + line.split()[-3:]) for line in lines[2:]} == {
        ("renew-a-permit", "1", "consumer", "discovery"), ("identity", "1", "provider", "discovery")}
    _refused(capsys, "graph", "neighbours", "parking-permits", "--hops", "9", field="hops")
    code, out, _ = _run(capsys, "graph", "impact", "identity")
    assert out.splitlines()[0] == ("If Identity fails, 2 services are affected (1 directly, up to 2 hops away; "
                                   "2 meet external users).")
    assert "Renew a permit → Parking permits → Identity" in out
    assert _run(capsys, "graph", "impact", "renew-a-permit")[1].startswith("No running service depends on")
    assert _run(capsys, "graph", "cycles")[1] == "The running network has no dependency cycle.\n"
    make_cycle(cast)
    code, out, _ = _run(capsys, "graph", "cycles")
    assert out.splitlines()[0] == "1 cycle through 2 services:"
    assert out.splitlines()[1].strip().split(" → ")[0] == out.splitlines()[1].strip().split(" → ")[-1]


@pytest.mark.parametrize("argv", [["graph", "impact", "nowhere"], ["measure", "status", "nowhere"]])
def test_an_unknown_service_is_one_line(cast, capsys, argv):
    _refused(capsys, *argv, field="service")
