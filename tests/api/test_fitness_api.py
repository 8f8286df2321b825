"""The fitness data API (model 5.3, 5.4, 11) on data made through the actions: a service's
metrics against their targets, measurements by hand, by CSV and pushed with an ingest
token, the standard measures, the executive's figures, the network's fitness and capital
flow. Each write is allowed to the people the policy names, with one audit event, and
refused to the others (403, nothing written); bad input is refused naming the field."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from osom.core.models import AuditEvent
from osom.fitness import actions, queries
from osom.fitness.models import Aggregation, ConsumptionShare, IngestToken, Measurement, MetricSeries, PeriodVolume
from osom.lifecycle import actions as lifecycle
from osom.network import actions as network
from osom.network.models import ContractVersion, Metric

from .. import factories
from .conftest import API, ApiClient, token_for

PERIOD = "2026-27"
TODAY = timezone.localdate()


def day(days: int) -> dt.date:
    return TODAY + dt.timedelta(days=days)


def last_month() -> tuple[dt.date, dt.date]:
    end = TODAY.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


@pytest.fixture
def api_as(api_as):
    """Every person's token issued up front, so that a later call writes nothing of its own."""
    for role in ("executive", "exec_team", "manager", "other_manager", "team_member", "outsider"):
        api_as(role)
    return api_as


def fitness_rows() -> dict[str, list]:
    """Every row a fitness write may touch, and the audit log: to prove a refusal wrote nothing."""
    return {
        "audit": list(AuditEvent.objects.values_list("pk", flat=True)),
        "measurements": list(Measurement.objects.order_by("pk").values()),
        "series": list(MetricSeries.objects.order_by("pk").values()),
        "tokens": list(IngestToken.objects.order_by("pk").values("pk", "revoked_at", "last_used_at")),
        "shares": list(ConsumptionShare.objects.order_by("pk").values()),
        "volumes": list(PeriodVolume.objects.order_by("pk").values()),
        "figures": list(Aggregation.objects.order_by("pk").values()),
        "versions": list(ContractVersion.objects.order_by("pk").values("pk", "status", "revision")),
        "metrics": list(Metric.objects.order_by("pk").values_list("pk", flat=True)),
    }


def refused(response, status: int, before: dict, field: str | None = None) -> dict:
    """A refusal with a JSON body saying why, naming ``field`` when given, and nothing written."""
    assert response.status_code == status, response.content.decode()[:600]
    body = response.json()
    assert body["message"].strip()
    if field is not None:
        assert body["field"] == field, body
    assert fitness_rows() == before
    return body


def forbidden(response, before: dict) -> None:
    body = refused(response, 403, before)
    assert body["error"] == "forbidden" and body["message"].startswith("Only ")


def one_event(verb: str, actor, since: int) -> None:
    assert [(e.verb, e.actor) for e in AuditEvent.objects.filter(pk__gt=since)] == [(verb, actor)]


def last_event() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def measure(cast, value="97.5", *, service=None, start=None, end=None, metric="m1", actor=None):
    start = start or day(-40)
    return actions.record_measurement(actor=actor or cast.manager, service=service or cast.service, metric_key=metric,
                                      value=value, period_start=start, period_end=end or start + dt.timedelta(days=29))


def ingest_token(cast, service=None) -> str:
    return actions.issue_ingest_token(actor=cast.manager if service is None else service.manager,
                                      service=service or cast.service, label="billing")[1]


def push(token: str | None, body, client: Client | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return (client or Client()).post(f"{API}/ingest", data=json.dumps(body), content_type="application/json",
                                     headers=headers)


def record(record_id: str = "r1", value=92.5, **extra) -> dict:
    start, end = last_month()
    return {"id": record_id, "metric": "m1", "value": value, "timestamp": f"{end}T17:00:00Z",
            "period_start": start.isoformat(), "period_end": end.isoformat(), **extra}


# ---------------------------------------------------------------- a service's fitness


def test_a_services_fitness_reads_each_metric_against_its_target(cast, api_as):
    m = measure(cast, "97.5")
    actions.set_measurement_cadence(actor=cast.manager, service=cast.service, metric_key="m1", days=7)
    body = api_as("outsider").get("/services/parking-permits/fitness").json()
    assert body["service"] == {"slug": "parking-permits", "name": "Parking permits", "lifecycle_stage": "discovery"}
    [metric] = body["metrics"]
    due = m.period_end + dt.timedelta(days=7)
    assert metric == {
        "key": "m1", "name": "Parking permits outcome 1", "unit": "%", "kind": "outcome", "direction": "higher",
        "target": "95", "latest_value": "97.5", "latest_start": m.period_start.isoformat(),
        "latest_end": m.period_end.isoformat(), "status": "met", "stale": due < TODAY, "due_on": due.isoformat(),
        "cadence_days": 7, "count": 1,
    }
    assert metric["stale"] is True  # the period ended 11 days ago and it reports weekly
    identity = api_as("outsider").get("/services/identity/fitness").json()["metrics"][0]
    assert (identity["status"], identity["latest_value"], identity["count"]) == ("no data", None, 0)
    assert api_as("outsider").get("/services/nowhere/fitness").status_code == 404


def test_measurements_are_listed_the_latest_first_and_filtered(cast, api_as):
    for n in range(3):
        measure(cast, str(90 + n), start=day(-100 + 30 * n))
    client = api_as("outsider")
    body = client.get("/services/parking-permits/measurements").json()
    assert body["count"] == 3
    assert [m["value"] for m in body["items"]] == ["92", "91", "90"]
    first = body["items"][0]
    assert (first["metric"], first["source"], first["recorded_by"]["email"]) == ("m1", "manual", cast.manager.email)
    assert client.get("/services/parking-permits/measurements", limit=1, offset=1).json()["items"][0]["value"] == "91"
    since = client.get("/services/parking-permits/measurements", since=day(-41).isoformat()).json()
    assert [m["value"] for m in since["items"]] == ["92", "91"]
    until = client.get("/services/parking-permits/measurements", until=day(-42).isoformat()).json()
    assert [m["value"] for m in until["items"]] == ["90"]
    assert client.get("/services/parking-permits/measurements", metric="m2").json() == {"items": [], "count": 0, "next_cursor": None}


def test_a_team_member_records_a_measurement_and_replaces_it_only_when_asked(cast, api_as):
    client = api_as("team_member")
    since = last_event()
    body = {"metric": "m1", "value": "96.25", "period_start": day(-30).isoformat(), "period_end": day(-1).isoformat(),
            "note": "From the survey"}
    response = client.post("/services/parking-permits/measurements", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["value"], out["source"], out["note"], out["recorded_by"]["email"]) == (
        "96.25", "manual", "From the survey", cast.team_member.email)
    one_event("record_measurement", cast.team_member, since)
    before = fitness_rows()
    again = refused(client.post("/services/parking-permits/measurements", {**body, "value": 97}), 409, before,
                    "period_start")
    assert again["error"] == "conflict"
    replaced = client.post("/services/parking-permits/measurements", {**body, "value": 97, "replace": True})
    assert replaced.status_code == 201 and replaced.json()["value"] == "97"
    assert Measurement.objects.get().value == Decimal("97")


@pytest.mark.parametrize("role", ["outsider", "other_manager", "executive", "exec_team"])
def test_only_the_services_people_record_its_measurements(cast, api_as, role):
    client = api_as(role)
    before = fitness_rows()
    forbidden(client.post("/services/parking-permits/measurements",
                          {"metric": "m1", "value": 1, "period_start": day(-3).isoformat()}), before)


@pytest.mark.parametrize("body, status, field", [
    ({"metric": "nope", "value": 1}, 400, "metric"),
    ({"metric": "m1", "value": "lots"}, 400, "value"),
    ({"metric": "m1", "value": "1.23456"}, 400, "value"),
    ({"metric": "m1", "value": 1, "period_end": "2020-01-01"}, 400, "period_end"),
    ({"metric": "m1", "value": 1, "period_start": "31/12/2025"}, 422, "period_start"),
    ({"metric": "m1", "value": True}, 422, "value"),
], ids=["unknown-metric", "not-a-number", "too-precise", "ends-before-it-starts", "not-a-date", "boolean"])
def test_a_bad_measurement_is_refused_naming_the_field(cast, api_as, body, status, field):
    client = api_as("manager")
    before = fitness_rows()
    refused(client.post("/services/parking-permits/measurements", {"period_start": day(-3).isoformat(), **body}),
            status, before, field)


def test_a_csv_upload_records_every_row_or_none(cast, api_as):
    client = api_as("team_member")
    start, end = last_month()
    text = f"metric,period_start,period_end,value\nm1,{start},{end},91\nm1,{day(-3)},{day(-2)},92.5\n"
    since = last_event()
    response = client.post("/services/parking-permits/measurements/csv", {"csv": text})
    assert response.json() == {"created": 2, "replaced": 0}
    one_event("import_measurements", cast.team_member, since)
    again = client.post("/services/parking-permits/measurements/csv", {"csv": f"metric,period_start,period_end,value\n"
                                                                              f"m1,{start},{end},93\n"})
    assert again.json() == {"created": 0, "replaced": 1}
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [Decimal("92.5"), Decimal("93")]
    before = fitness_rows()
    bad = f"metric,period_start,value\nm1,{day(-5)},94\nm9,{day(-5)},1\nm1,yesterday,2\n"
    body = refused(client.post("/services/parking-permits/measurements/csv", {"csv": bad}), 400, before)
    assert {e["field"] for e in body["errors"]} == {"row 3", "row 4"}
    assert any("m9" in e["message"] for e in body["errors"] if e["field"] == "row 3")
    refused(client.post("/services/parking-permits/measurements/csv", {"csv": "metric,value\nm1,3\n"}), 400, before,
            "csv")
    forbidden(api_as("outsider").post("/services/parking-permits/measurements/csv", {"csv": text}), before)


def test_the_csv_export_is_what_an_upload_reads(cast, api_as):
    measure(cast, "91")
    measure(cast, "12", service=cast.other_service, actor=cast.other_manager)
    response = api_as("outsider").get("/services/parking-permits/measurements.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode()
    assert text == queries.measurements_csv(cast.service)
    assert text.splitlines()[0].startswith("metric,period_start,period_end,value") and ",91," in text
    assert ",12," not in text  # Identity's own
    assert api_as("outsider").get("/services/parking-permits/measurements.csv", metric="m2").content.decode() == (
        "metric,period_start,period_end,value,measured_at,note,source,record_id\n")


def test_an_export_uploads_again_as_it_is(cast, api_as):
    measure(cast, "91")
    text = api_as("outsider").get("/services/parking-permits/measurements.csv").content.decode()
    assert api_as("manager").post("/services/parking-permits/measurements/csv", {"csv": text}).json() == {
        "created": 0, "replaced": 1}


def test_the_manager_sets_how_often_a_metric_is_reported(cast, api_as):
    m = measure(cast)
    since = last_event()
    response = api_as("manager").put("/services/parking-permits/metrics/m1/cadence", {"days": 90})
    assert response.json() == {"metric": "m1", "cadence_days": 90, "due_on": (m.period_end + dt.timedelta(days=90)).isoformat(),
                               "stale": False}
    one_event("set_measurement_cadence", cast.manager, since)
    before = fitness_rows()
    forbidden(api_as("team_member").put("/services/parking-permits/metrics/m1/cadence", {"days": 7}), before)
    refused(api_as("manager").put("/services/parking-permits/metrics/m7/cadence", {"days": 7}), 400, before, "key")
    refused(api_as("manager").put("/services/parking-permits/metrics/m1/cadence", {"days": 0}), 400, before, "days")


# ---------------------------------------------------------------- ingest tokens and pushes


def test_the_manager_issues_an_ingest_token_shown_once_and_the_executive_revokes_it(cast, api_as):
    since = last_event()
    response = api_as("manager").post("/services/parking-permits/ingest-tokens", {"label": "billing system"})
    assert response.status_code == 201, response.content
    issued = response.json()
    assert issued["token"].startswith("osomi_") and issued["token"].startswith(issued["prefix"])
    assert (issued["label"], issued["created_by"]["email"], issued["revoked_at"]) == ("billing system",
                                                                                      cast.manager.email, None)
    one_event("issue_ingest_token", cast.manager, since)
    # only those who may revoke the tokens see the list, as on the page
    assert api_as("outsider").get("/services/parking-permits/ingest-tokens").status_code == 403
    listed = api_as("executive").get("/services/parking-permits/ingest-tokens").json()
    assert listed["count"] == 1 and "token" not in listed["items"][0]
    assert listed["items"][0]["prefix"] == issued["prefix"]
    before = fitness_rows()
    forbidden(api_as("team_member").post("/services/parking-permits/ingest-tokens", {}), before)
    forbidden(api_as("other_manager").post(f"/ingest-tokens/{issued['id']}/revoke"), before)
    revoked = api_as("executive").post(f"/ingest-tokens/{issued['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    before = fitness_rows()
    refused(api_as("manager").post(f"/ingest-tokens/{issued['id']}/revoke"), 409, before)
    refused(api_as("manager").post("/ingest-tokens/999999/revoke"), 404, before, "token_id")


def test_a_record_sent_twice_is_counted_once(cast):
    token = ingest_token(cast)
    first = push(token, {"records": [record("r1", 92.5), record("r2", "3", metric="m1", period_start=day(-3).isoformat(),
                                                                period_end=day(-3).isoformat())]})
    assert first.status_code == 200, first.content
    assert first.json() == {"created": 2, "replaced": 0}
    again = push(token, {"records": [record("r1", 92.5)]})
    assert again.json() == {"created": 0, "replaced": 1}
    assert Measurement.objects.filter(record_id="r1").count() == 1
    assert Measurement.objects.count() == 2
    event = AuditEvent.objects.latest("pk")
    assert (event.verb, event.actor) == ("ingest_measurements", None)
    assert IngestToken.objects.get().last_used_at is not None


def test_a_wrong_or_revoked_token_is_refused_and_nothing_is_stored(cast):
    token = ingest_token(cast)
    before = fitness_rows()
    wrong = refused(push("osomi_" + "x" * 43, {"records": [record()]}), 401, before)
    assert wrong["error"] == "unauthorised" and "unknown or was revoked" in wrong["message"]
    actions.revoke_ingest_token(actor=cast.manager, token=IngestToken.objects.get())
    before = fitness_rows()
    revoked = refused(push(token, {"records": [record()]}), 401, before)
    assert "revoked" in revoked["message"]
    refused(push(None, {"records": [record()]}), 401, before)


def test_a_personal_token_or_a_session_cannot_push(cast):
    ingest_token(cast)
    personal = token_for(cast.manager)
    before = fitness_rows()
    body = refused(push(personal, {"records": [record()]}), 401, before)
    assert "ingest token" in body["message"] and "personal API token" in body["message"]
    before = fitness_rows()
    browser = Client()
    browser.force_login(cast.manager)
    refused(push(None, {"records": [record()]}, client=browser), 401, before)


def test_an_ingest_token_opens_no_other_route(cast):
    token = ingest_token(cast)
    client = ApiClient(token)
    before = fitness_rows()
    for method, path, body in [("GET", "/services", None), ("GET", "/services/parking-permits/fitness", None),
                               ("POST", "/services/parking-permits/measurements",
                                {"metric": "m1", "value": 1, "period_start": day(-2).isoformat()}),
                               ("POST", "/services/parking-permits/ingest-tokens", {})]:
        response = client.call(method, path, body)
        assert response.status_code == 401, (path, response.content)
    assert fitness_rows() == before


def test_a_bad_push_is_refused_naming_each_record_and_storing_none(cast):
    token = ingest_token(cast)
    before = fitness_rows()
    body = refused(push(token, {"records": [record("a"), record("b", metric="m9", period_start=day(-9).isoformat())]}),
                   400, before, "records[1].metric")
    assert body["errors"][0]["field"] == "records[1].metric"
    refused(push(token, {"records": [record("a", colour="red")]}), 422, before, "records[0].colour")
    refused(push(token, {"records": [record("a", value="ten")]}), 400, before, "records[0].value")
    refused(push(token, {"records": []}), 400, before, "records")


# ---------------------------------------------------------------- standard measures


def test_the_standard_measures_are_listed_and_added_to_the_draft(cast, api_as):
    listed = api_as("outsider").get("/standard-measures").json()
    assert [m["key"] for m in listed["items"]] == ["cost-per-transaction", "user-satisfaction", "completion-rate",
                                                   "digital-take-up"]
    assert listed["count"] == 4 and listed["items"][1]["unit"] == "%"
    since = last_event()
    response = api_as("manager").post("/services/parking-permits/standard-measures",
                                      {"measure": "user-satisfaction", "target": 85})
    assert response.status_code == 201, response.content
    added = response.json()
    assert (added["key"], added["target"], added["direction"], added["version"]) == ("user-satisfaction", "85",
                                                                                     "higher", 2)
    assert [e.verb for e in AuditEvent.objects.filter(pk__gt=since)][-1] == "add_standard_measure"
    assert Metric.objects.filter(version__service=cast.service, version__number=2, key="user-satisfaction").exists()
    before = fitness_rows()
    forbidden(api_as("outsider").post("/services/parking-permits/standard-measures", {"measure": "completion-rate"}),
              before)
    refused(api_as("manager").post("/services/parking-permits/standard-measures", {"measure": "happiness"}), 400,
            before, "measure")
    refused(api_as("manager").post("/services/parking-permits/standard-measures", {"measure": "user-satisfaction"}),
            400, before, "measure")
    refused(api_as("manager").post("/services/parking-permits/standard-measures",
                                   {"measure": "completion-rate", "target": "high"}), 400, before, "target")


# ---------------------------------------------------------------- the executive's figures


def test_the_executive_defines_redefines_and_retires_a_figure(cast, api_as):
    start, end = last_month()
    measure(cast, "97.5", start=start, end=end)
    measure(cast, "80", service=cast.other_service, actor=cast.other_manager, start=start, end=end)
    client = api_as("executive")
    since = last_event()
    response = client.post("/figures", {"name": "Outcomes together", "expression": "avg(m1)", "unit": "%"})
    assert response.status_code == 201, response.content
    figure = response.json()
    assert (figure["slug"], figure["expression"], figure["metrics"], figure["grain"], figure["revision"]) == (
        "outcomes-together", "avg(m1)", ["m1"], "month", 1)
    one_event("define_aggregation", cast.executive, since)
    values = api_as("outsider").get("/figures/outcomes-together/values").json()
    assert values["count"] == 12 and values["figure"]["slug"] == "outcomes-together"
    by_label = {v["label"]: v for v in values["items"]}
    assert by_label[start.strftime("%Y-%m")] == {"label": start.strftime("%Y-%m"), "start": start.isoformat(),
                                                 "end": end.isoformat(), "value": "88.75", "reason": ""}
    this_month = by_label[TODAY.strftime("%Y-%m")]
    assert this_month["value"] is None and "no service reported" in this_month["reason"]
    external = client.put("/figures/outcomes-together", {"name": "Outcomes together", "unit": "%",
                                                         "expression": "avg(m1 where users = external)",
                                                         "expected_revision": 1})
    assert external.status_code == 200 and external.json()["revision"] == 2
    values = api_as("outsider").get("/figures/outcomes-together/values", count=3).json()
    assert values["count"] == 3 and values["items"][1]["value"] == "97.5"
    before = fitness_rows()
    stale = refused(client.put("/figures/outcomes-together", {"name": "Outcomes", "expression": "sum(m1)",
                                                              "expected_revision": 1}), 409, before)
    assert stale["error"] == "conflict"
    assert client.post("/figures/outcomes-together/retire").json()["retired_at"]
    assert api_as("outsider").get("/figures").json() == {"items": [], "count": 0, "next_cursor": None}
    retired = api_as("outsider").get("/figures", retired=True).json()
    assert [f["slug"] for f in retired["items"]] == ["outcomes-together"]
    before = fitness_rows()
    refused(client.post("/figures/outcomes-together/retire"), 409, before)
    refused(client.get("/figures/nothing"), 404, before, "slug")


def test_only_the_executive_defines_figures(cast, api_as):
    figure = actions.define_aggregation(actor=cast.executive, name="Outcomes", expression="avg(m1)")
    before = fitness_rows()
    for role in ("manager", "outsider"):
        forbidden(api_as(role).post("/figures", {"name": "Mine", "expression": "sum(m1)"}), before)
        forbidden(api_as(role).put(f"/figures/{figure.slug}", {"name": "Mine", "expression": "sum(m1)",
                                                               "expected_revision": 1}), before)
        forbidden(api_as(role).post(f"/figures/{figure.slug}/retire"), before)


def test_an_expression_is_checked_without_saving(cast, api_as):
    client = api_as("outsider")
    ok = client.post("/figures/check", {"expression": "sum(cost where users = external) / sum(transactions)"})
    assert ok.json() == {"ok": True, "expression": "sum(cost where users = external) / sum(transactions)",
                         "metrics": ["cost", "transactions"]}
    before = fitness_rows()
    bad = refused(client.post("/figures/check", {"expression": "sum(m1) +"}), 400, before, "expression")
    assert isinstance(bad["position"], int) and bad["position"] >= 8
    refused(api_as("executive").post("/figures", {"name": "Broken", "expression": "total(m1)"}), 400, before,
            "expression")
    refused(api_as("executive").post("/figures", {"name": "Broken", "expression": "sum(m1)", "grain": "week"}), 422,
            before, "grain")


# ---------------------------------------------------------------- the network's fitness


def test_the_networks_fitness_is_filtered_by_status_stage_and_words(cast, api_as):
    measure(cast, "97.5")
    measure(cast, "80", service=cast.other_service, actor=cast.other_manager)
    client = api_as("outsider")
    everything = client.get("/fitness").json()
    assert everything["count"] == 2
    assert [(r["service"]["slug"], r["status"], r["latest_value"]) for r in everything["items"]] == [
        ("identity", "missed", "80"), ("parking-permits", "met", "97.5")]
    assert [r["service"]["slug"] for r in client.get("/fitness", status="missed").json()["items"]] == ["identity"]
    assert [r["service"]["slug"] for r in client.get("/fitness", q="parking").json()["items"]] == ["parking-permits"]
    assert client.get("/fitness", status="stale").json()["count"] == 0
    assert client.get("/fitness", stage="live").json()["count"] == 0
    assert client.get("/fitness", status="sideways").status_code == 422


# ---------------------------------------------------------------- capital flow


def spend(cast, service, amount: str, actor=None):
    allocation = lifecycle.allocate_budget(actor=cast.executive, service=service, period=PERIOD, amount="1000000")
    lifecycle.record_spend(actor=actor or service.manager, allocation=allocation, amount=amount, spent_on=day(-1),
                           description="Running costs")


def worked_example(cast) -> dict:
    """Model 11's example: hosting H spends 100, identity I 50, payments P 80, journey J 30;
    I uses 20 % of H; P uses 30 % of H and 40 % of I; J uses 50 % of H, 60 % of I and all of P."""
    ex, mgr = cast.executive, cast.manager
    h = factories.service(ex, "Hosting", manager=mgr, user_type="internal", evolution_stage="commodity")
    i = factories.service(ex, "Sign in", manager=mgr, user_type="internal", dependencies=["hosting"])
    p = factories.service(ex, "Take payments", manager=mgr, user_type="internal", dependencies=["hosting", "sign-in"])
    j = factories.service(ex, "Renew a permit", manager=mgr, dependencies=["hosting", "sign-in", "take-payments"])
    for service, amount in ((h, "100"), (i, "50"), (p, "80"), (j, "30")):
        spend(cast, service, amount)
    actions.record_consumption_shares(actor=mgr, provider=h, period=PERIOD,
                                      shares={"sign-in": "20%", "take-payments": "0.3", "renew-a-permit": "0.5"})
    actions.record_consumption_shares(actor=mgr, provider=i, period=PERIOD,
                                      shares={"take-payments": "0.4", "renew-a-permit": "0.6"})
    actions.record_consumption_shares(actor=mgr, provider=p, period=PERIOD, shares={"renew-a-permit": "1"})
    actions.record_transactions(actor=mgr, service=j, period=PERIOD, transactions=13000)
    return {"h": h, "i": i, "p": p, "j": j}


def test_capital_flow_costs_the_worked_example_to_the_penny(cast, api_as):
    worked_example(cast)
    client = api_as("outsider")
    assert client.get("/capital-flow").json() == {"items": [{"period": PERIOD}], "count": 1, "next_cursor": None}
    flow = client.get(f"/capital-flow/{PERIOD}").json()
    rows = {r["service"]["slug"]: r for r in flow["items"]}
    assert flow["count"] == 4
    assert {slug: r["fully_loaded"] for slug, r in rows.items()} == {
        "hosting": "100.00", "sign-in": "70.00", "take-payments": "138.00", "renew-a-permit": "260.00"}
    assert rows["renew-a-permit"] == {
        "service": {"slug": "renew-a-permit", "name": "Renew a permit", "lifecycle_stage": "discovery"},
        "direct": "30.00", "fully_loaded": "260.00", "external_share": "1", "external_cost": "260.00",
        "transactions": 13000, "cost_per_transaction": "0.02"}
    assert (rows["hosting"]["external_share"], rows["hosting"]["external_cost"]) == ("0", "0.00")
    assert (flow["total_direct"], flow["total_external"], flow["unallocated"]) == ("260.00", "260.00", "0.00")
    assert [r["service"]["slug"] for r in client.get(f"/capital-flow/{PERIOD}", limit=2, offset=1).json()["items"]] == [
        "renew-a-permit", "sign-in"]
    journey = client.get(f"/capital-flow/{PERIOD}/services/renew-a-permit").json()
    assert {p["service"]["slug"]: (p["amount"], p["per_transaction"]) for p in journey["providers"]} == {
        "hosting": ("100.00", "0.0077"), "sign-in": ("50.00", "0.0038"), "take-payments": ("80.00", "0.0062"),
        "renew-a-permit": ("30.00", "0.0023")}
    hosting = client.get(f"/capital-flow/{PERIOD}/services/hosting").json()
    assert [(c["service"]["slug"], c["share"]) for c in hosting["consumers"]] == [
        ("renew-a-permit", "0.5"), ("sign-in", "0.2"), ("take-payments", "0.3")]
    assert client.get("/capital-flow/1999-00").status_code == 404
    assert client.get(f"/capital-flow/{PERIOD}/services/parking-permits").status_code == 404


def test_a_cycle_that_money_never_leaves_is_named(cast, api_as):
    ex = cast.executive
    network.add_dependency(actor=ex, service=cast.other_service, provider=cast.service)
    draft = ContractVersion.objects.get(service=cast.other_service, status="draft")
    network.submit_contract_version(actor=cast.other_manager, version=draft)
    network.approve_contract_version(actor=ex, version=ContractVersion.objects.get(pk=draft.pk))
    spend(cast, cast.service, "10")
    actions.record_consumption_shares(actor=ex, provider=cast.service, period=PERIOD, shares={"identity": "1"})
    actions.record_consumption_shares(actor=ex, provider=cast.other_service, period=PERIOD,
                                      shares={"parking-permits": "100%"})
    response = api_as("outsider").get(f"/capital-flow/{PERIOD}")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["error"] == "conflict" and "never leaves" in body["message"]
    assert sorted(s["slug"] for s in body["services"]) == ["identity", "parking-permits"]
    assert api_as("outsider").get(f"/capital-flow/{PERIOD}/services/identity").status_code == 409


def test_the_provider_records_its_shares_and_the_team_its_transactions(cast, api_as):
    since = last_event()
    response = api_as("other_manager").put(f"/services/identity/consumption/{PERIOD}",
                                           {"shares": {"parking-permits": "30%"}})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "provider": {"slug": "identity", "name": "Identity", "lifecycle_stage": "discovery"}, "period": PERIOD,
        "shares": [{"service": {"slug": "parking-permits", "name": "Parking permits", "lifecycle_stage": "discovery"},
                    "share": "0.3"}], "internal": "0.3", "external": "0.7"}
    one_event("record_consumption_shares", cast.other_manager, since)
    transactions = api_as("team_member").put(f"/services/parking-permits/transactions/{PERIOD}", {"transactions": 4200})
    assert transactions.json() == {"service": {"slug": "parking-permits", "name": "Parking permits",
                                               "lifecycle_stage": "discovery"}, "period": PERIOD, "transactions": 4200}
    before = fitness_rows()
    forbidden(api_as("manager").put(f"/services/identity/consumption/{PERIOD}", {"shares": {}}), before)
    forbidden(api_as("outsider").put(f"/services/parking-permits/transactions/{PERIOD}", {"transactions": 1}), before)
    refused(api_as("other_manager").put(f"/services/identity/consumption/{PERIOD}",
                                        {"shares": {"parking-permits": "2"}}), 400, before, "shares.parking-permits")
    refused(api_as("other_manager").put(f"/services/identity/consumption/{PERIOD}", {"shares": {"nobody": 0.5}}), 400,
            before, "shares.nobody")
    refused(api_as("manager").put(f"/services/parking-permits/transactions/{PERIOD}", {"transactions": -1}), 400,
            before, "transactions")


# ---------------------------------------------------------------- query counts


def _queries(client: ApiClient, path: str, **params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **params)
    assert response.status_code == 200, response.content
    return len(captured), response.json()


def _grow(cast, first: int, last: int) -> None:
    """Services ``first`` to ``last`` (each measured, funded, consuming Identity and with a
    figure of its own), and as many more measurements and ingest tokens of Parking permits."""
    for k in range(first, last):
        service = factories.service(cast.executive, f"Service {k}", manager=cast.manager, dependencies=["identity"])
        measure(cast, str(80 + k), service=service)
        spend(cast, service, str(10 + k))
        actions.define_aggregation(actor=cast.executive, name=f"Figure {k}", expression=f"sum(m1) + {k}")
        measure(cast, str(90 + k), start=day(-360 + 12 * k), end=day(-350 + 12 * k))
        actions.issue_ingest_token(actor=cast.manager, service=cast.service, label=f"system {k}")
    if not first:
        spend(cast, cast.other_service, "100")
    actions.record_consumption_shares(actor=cast.other_manager, provider=cast.other_service, period=PERIOD,
                                      shares={f"service-{k}": "0.1" for k in range(last)})


@pytest.mark.parametrize("path", ["/fitness", "/services/parking-permits/measurements", "/figures",
                                  f"/capital-flow/{PERIOD}", "/services/parking-permits/ingest-tokens",
                                  "/services/parking-permits/fitness", "/capital-flow", "/standard-measures"])
def test_the_lists_make_as_many_queries_at_any_size(cast, path):
    client = ApiClient(token_for(cast.executive))
    _grow(cast, 0, 2)
    small, first = _queries(client, path)
    _grow(cast, 2, 6)
    large, second = _queries(client, path)
    assert small == large, (small, large)
    if "count" in second and path not in ("/capital-flow", "/standard-measures"):
        assert second["count"] > first["count"]  # the larger organisation was really read


# ---------------------------------------------------------------- the document


def test_no_schema_of_fitness_or_maps_shares_its_name_with_another_apps():
    """The document names schemas by their class: one of ours sharing a name with another
    app's would silently stand for both."""
    import inspect

    from ninja import Schema

    from osom.api import schemas as shared
    from osom.fitness import api_schemas as fitness_schemas
    from osom.governance import api_schemas as governance_schemas
    from osom.learning import api_schemas as learning_schemas
    from osom.lifecycle import api_schemas as lifecycle_schemas
    from osom.maps import api_schemas as maps_schemas

    def names(module) -> set[str]:
        return {name for name, value in vars(module).items() if inspect.isclass(value) and issubclass(value, Schema)
                and value.__module__ == module.__name__}

    ours = [names(fitness_schemas), names(maps_schemas)]
    theirs = set().union(*(names(m) for m in (shared, governance_schemas, learning_schemas, lifecycle_schemas)))
    assert len(ours[0]) > 40 and len(ours[1]) > 10
    assert not ours[0] & ours[1] and not (ours[0] | ours[1]) & theirs, (ours[0] | ours[1]) & theirs
