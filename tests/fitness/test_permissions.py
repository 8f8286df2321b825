"""Every write action of fitness data and capital flow, as every role of the cast (design
habit 8).

The table below says who may do what. It is written by hand from the policy the guide
describes (model sections 2, 5.3, 5.4 and 11; ``osom.core.policy.ACTS``), not read from
the code under test: the tests only call the actions. For each cell:

- allowed: the action succeeds, something is written, and exactly one audit event records
  it, with the verb the table states, the actor and the authority (an executive team
  member acts on the executive's authority, and the event names the executive);
- refused: ``NotAllowed`` with a full sentence naming who may do it, and nothing written
  anywhere: fitness data, the network, the lifecycle, governance, maps, notifications.

Pushing measurements with an ingest token is no person's act: the token is the only
authority, and it is tested on its own at the end.

This module also holds the builders the other fitness tests use: data is made through the
actions, by the people who would make it.
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io

import pytest
from django.utils import timezone

from osom.core.errors import NotAllowed
from osom.core.models import AuditEvent
from osom.core.policy import ACTS
from osom.fitness import actions
from osom.fitness.models import (
    Aggregation,
    ConsumptionShare,
    IngestToken,
    Measurement,
    MetricSeries,
    PeriodVolume,
)
from osom.maps.models import MapVersion

from .. import factories
from ..governance.helpers import EVERY_TABLE as GOVERNANCE_TABLES
from ..lifecycle.test_permissions import Row
from ..network import test_permissions as network
from ..network.test_permissions import check_cell

ROLES = network.ROLES
EXEC = network.EXEC
MANAGER = network.MANAGER
TEAM = "team_member"

FITNESS_TABLES = [Measurement, MetricSeries, IngestToken, ConsumptionShare, PeriodVolume, Aggregation, MapVersion]
# the network's, the lifecycle's and governance's tables too, with everyone's notifications
EVERY_TABLE = [*GOVERNANCE_TABLES, *FITNESS_TABLES]


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table a fitness or map action may touch."""
    return {m._meta.label: list(m.objects.order_by("pk").values()) for m in EVERY_TABLE}


def counts() -> dict[str, int]:
    """How many rows each fitness table holds, and how many audit events there are."""
    return {m._meta.label: m.objects.count() for m in [*FITNESS_TABLES, AuditEvent]}


# --- dates: measurements may not cover a period that has not begun -----------------------

TODAY = timezone.localdate()
BUDGET_PERIOD = "2026-27"


def month(back: int) -> tuple[dt.date, dt.date]:
    """The first and last day of the month ``back`` months before this one."""
    index = TODAY.year * 12 + TODAY.month - 1 - back
    first = dt.date(index // 12, index % 12 + 1, 1)
    nxt = index + 1
    return first, dt.date(nxt // 12, nxt % 12 + 1, 1) - dt.timedelta(days=1)


LAST_MONTH = month(1)
MONTH_BEFORE = month(2)


# --- builders, each through the actions by the people who would do it ----------------------

def measured(c, value="90", *, service=None, key: str = "m1", period=LAST_MONTH, actor=None, **kwargs) -> Measurement:
    """A measurement entered by hand by the service's manager."""
    service = service or c.service
    return actions.record_measurement(actor=actor or service.manager, service=service, metric_key=key, value=value,
                                      period_start=period[0], period_end=period[1], **kwargs)


def csv_text(*rows, header=("metric", "period_start", "period_end", "value", "note")) -> str:
    """A CSV upload: the header and the rows, quoted as a spreadsheet would quote them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def issued(c, service=None) -> tuple[IngestToken, str]:
    """An ingest token issued by the service's manager: the row and the token itself."""
    service = service or c.service
    return actions.issue_ingest_token(actor=service.manager, service=service, label="Permits back office")


def record(record_id: str, value, *, metric: str = "m1", period=LAST_MONTH, **fields) -> dict:
    """One record as a service's systems push it."""
    return {"id": record_id, "metric": metric, "value": value, "timestamp": f"{period[1].isoformat()}T17:00:00Z",
            "period_start": period[0].isoformat(), "period_end": period[1].isoformat(), **fields}


def consumer_of(c, provider=None, name: str = "Bin collection"):
    """A service, managed by the other manager, whose current contract consumes ``provider``
    (the cast's service unless told otherwise)."""
    provider = provider or c.service
    return factories.service(c.executive, name, manager=c.other_manager, dependencies=[provider.slug])


def figure(c, name: str = "Reported outcome", expression: str = "sum(m1)", **kwargs) -> Aggregation:
    """A figure defined by the executive."""
    return actions.define_aggregation(actor=c.executive, name=name, expression=expression, **kwargs)


# --- preconditions of each cell: set up, then the act as a function of the actor ----------

def _record_measurement(c):
    return lambda actor: actions.record_measurement(
        actor=actor, service=c.service, metric_key="m1", value="97.5", period_start=LAST_MONTH[0],
        period_end=LAST_MONTH[1], note="From the permits dashboard")


def _import(c):
    text = csv_text(("m1", *MONTH_BEFORE, "96", ""), ("m1", *LAST_MONTH, "97.25", "After the redesign"))
    return lambda actor: actions.import_measurements_csv(actor=actor, service=c.service, text=text)


def _cadence(c):
    return lambda actor: actions.set_measurement_cadence(actor=actor, service=c.service, metric_key="m1", days=7)


def _issue_token(c):
    return lambda actor: actions.issue_ingest_token(actor=actor, service=c.service, label="Back office")


def _revoke_token(c):
    token, _ = issued(c)
    return lambda actor: actions.revoke_ingest_token(actor=actor, token=token)


def _standard_measure(c):
    return lambda actor: actions.add_standard_measure(actor=actor, service=c.service, measure="user-satisfaction",
                                                      target="85")


def _define(c):
    return lambda actor: actions.define_aggregation(
        actor=actor, name="Permits outcome", expression="sum(m1 where users = external)", unit="%")


def _redefine(c):
    existing = figure(c)
    return lambda actor: actions.define_aggregation(
        actor=actor, aggregation=existing, expected_revision=existing.revision, name="Reported outcome",
        expression="avg(m1)", within="mean")


def _retire(c):
    existing = figure(c)
    return lambda actor: actions.retire_aggregation(actor=actor, aggregation=existing)


def _shares(c):
    bins = consumer_of(c)
    return lambda actor: actions.record_consumption_shares(actor=actor, provider=c.service, period=BUDGET_PERIOD,
                                                           shares={bins.slug: "40%"})


def _transactions(c):
    return lambda actor: actions.record_transactions(actor=actor, service=c.service, period=BUDGET_PERIOD,
                                                     transactions=13000)


EXECUTIVE_ONLY = {"executive": EXEC, "exec_team": EXEC}
MANAGER_ONLY = {"manager": MANAGER}
MANAGER_OR_TEAM = {"manager": MANAGER, "team_member": TEAM}
MANAGER_OR_EXECUTIVE = {"executive": EXEC, "exec_team": EXEC, "manager": MANAGER}

# THE table: who may report a service's fitness and move its capital-flow figures (model
# 5.3, 5.4, 11). The first field is the function of osom.fitness.actions called, the second
# the verb of its audit event, which is also the act of the policy.
MATRIX: dict[str, Row] = {
    "record_measurement": Row("record_measurement", "record_measurement", _record_measurement, MANAGER_OR_TEAM,
                              ("service manager", "its team")),
    "import_measurements": Row("import_measurements_csv", "import_measurements", _import, MANAGER_OR_TEAM,
                               ("service manager", "its team")),
    "set_measurement_cadence": Row("set_measurement_cadence", "set_measurement_cadence", _cadence, MANAGER_ONLY,
                                   ("service manager",)),
    "issue_ingest_token": Row("issue_ingest_token", "issue_ingest_token", _issue_token, MANAGER_ONLY,
                              ("service manager",)),
    "revoke_ingest_token": Row("revoke_ingest_token", "revoke_ingest_token", _revoke_token, MANAGER_OR_EXECUTIVE,
                               ("service manager", "executive")),
    "add_standard_measure": Row("add_standard_measure", "add_standard_measure", _standard_measure,
                                MANAGER_OR_EXECUTIVE, ("service manager", "executive")),
    "define_aggregation": Row("define_aggregation", "define_aggregation", _define, EXECUTIVE_ONLY, ("executive",)),
    "define_aggregation redefining": Row("define_aggregation", "define_aggregation", _redefine, EXECUTIVE_ONLY,
                                         ("executive",)),
    "retire_aggregation": Row("retire_aggregation", "retire_aggregation", _retire, EXECUTIVE_ONLY, ("executive",)),
    "record_consumption_shares": Row("record_consumption_shares", "record_consumption_shares", _shares,
                                     MANAGER_OR_EXECUTIVE, ("service manager", "executive")),
    "record_transactions": Row("record_transactions", "record_transactions", _transactions, MANAGER_OR_TEAM,
                               ("service manager", "its team")),
}

# Written with a token, not by a person: see the tests of ingestion below.
TOKEN_WRITES = {"ingest_measurements"}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def _writes(module) -> set[str]:
    return {name for name in module.__all__ if inspect.isfunction(getattr(module, name))}


def test_the_matrix_covers_every_write_action_of_fitness():
    assert TOKEN_WRITES <= _writes(actions)
    assert _writes(actions) - TOKEN_WRITES == {row.action for row in MATRIX.values()}


def test_every_fitness_act_of_the_policy_has_a_row():
    acts = list(ACTS)
    fitness = acts[acts.index("record_measurement"): acts.index("record_transactions") + 1]
    assert len(fitness) == 10
    covered = {v for row in MATRIX.values() for v in (row.verb, *row.policy_acts)}
    assert set(fitness) <= covered, sorted(set(fitness) - covered)


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_each_fitness_action(cast, act, role):
    check_cell(cast, MATRIX[act], role, snapshot)


def test_someone_who_left_the_team_may_no_longer_record_measurements(cast):
    from osom.network.actions import remove_team_member
    from osom.network.models import TeamMembership

    membership = TeamMembership.objects.get(service=cast.service, person=cast.team_member, ended_at__isnull=True)
    remove_team_member(actor=cast.manager, membership=membership)
    before = snapshot()
    with pytest.raises(NotAllowed, match="its team"):
        measured(cast, actor=cast.team_member)
    assert snapshot() == before


def test_a_manager_has_no_say_on_a_service_they_do_not_manage(cast):
    before = snapshot()
    with pytest.raises(NotAllowed, match="Identity"):
        measured(cast, service=cast.other_service, actor=cast.manager)
    with pytest.raises(NotAllowed):
        actions.record_transactions(actor=cast.manager, service=cast.other_service, period=BUDGET_PERIOD,
                                    transactions=5)
    assert snapshot() == before


# --- ingestion: the token is the authority ---------------------------------------------------

def test_a_push_with_a_live_token_needs_no_person_and_is_audited_as_the_services_systems(cast):
    token, raw = issued(cast)
    before_events = set(AuditEvent.objects.values_list("pk", flat=True))
    result = actions.ingest_measurements(token=raw, records=[record("r-1", 97)])
    assert (result.created, result.replaced) == (1, 0)
    stored = Measurement.objects.get(service=cast.service, record_id="r-1")
    assert (stored.source, stored.recorded_by) == ("ingest", None)
    new = list(AuditEvent.objects.exclude(pk__in=before_events))
    assert [(e.verb, e.actor, e.authority) for e in new] == [("ingest_measurements", None, "system")]
    assert token.prefix in new[0].summary
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_writes_only_to_its_own_service(cast):
    _, raw = issued(cast, cast.other_service)
    actions.ingest_measurements(token=raw, records=[record("id-7", 99)])
    assert Measurement.objects.filter(service=cast.other_service, record_id="id-7").count() == 1
    assert not Measurement.objects.filter(service=cast.service).exists()


def test_only_the_hash_of_a_token_is_kept(cast):
    token, raw = issued(cast)
    assert raw.startswith("osomi_") and len(raw) > 30
    row = IngestToken.objects.get(pk=token.pk)
    assert raw not in {row.digest, row.prefix, row.label}
    assert raw.startswith(row.prefix) and len(row.prefix) < len(raw)


@pytest.mark.parametrize("bad", ["", "osomi_not-a-token", "osom_abc", None, 12345, "x" * 500])
def test_a_push_with_a_wrong_token_is_refused_and_writes_nothing(cast, bad):
    issued(cast)
    before = snapshot()
    with pytest.raises(NotAllowed, match="not valid"):
        actions.ingest_measurements(token=bad, records=[record("r-1", 97)])
    assert snapshot() == before


def test_a_revoked_token_is_refused_and_writes_nothing(cast):
    token, raw = issued(cast)
    actions.ingest_measurements(token=raw, records=[record("r-1", 97)])
    actions.revoke_ingest_token(actor=cast.executive, token=token)
    before = snapshot()
    with pytest.raises(NotAllowed, match="revoked"):
        actions.ingest_measurements(token=raw, records=[record("r-2", 98, period=MONTH_BEFORE)])
    assert snapshot() == before
    # another live token of the same service still works
    _, fresh = issued(cast)
    assert actions.ingest_measurements(token=fresh, records=[record("r-2", 98, period=MONTH_BEFORE)]).created == 1
