"""Bad input to every write action of fitness data, figures and capital flow: a domain
error naming the field, with a sentence a person can act on, and nothing written — no
measurement, no series, no share, no audit event (design habits 4 and 8).

Each case is done by someone who has the right to act, so that only the input (or the
moment: a period already measured, a token already revoked, a figure changed since it
was opened) is wrong.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from osom.core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from osom.fitness import actions

from .. import factories
from ..lifecycle.helpers import decommissioned
from ..network.test_bad_input import assert_is_a_sentence
from .test_permissions import (
    BUDGET_PERIOD,
    LAST_MONTH,
    MONTH_BEFORE,
    TODAY,
    consumer_of,
    counts,
    csv_text,
    figure,
    issued,
    measured,
    month,
    record,
    snapshot,
)

TOMORROW = TODAY + dt.timedelta(days=1)
THREE_MONTHS_AGO = month(3)


@dataclass(frozen=True)
class Case:
    error: type[DomainError]
    field: str | None  # the key of ``.errors`` that must name the problem (None: no field)
    says: str  # words the message for that field must contain
    setup: Callable  # cast → (() → result)
    # the message reads as a sentence: capital (or quoted value) first, full stop last
    sentence: bool = True


def _measure(**changes):
    def setup(c):
        kwargs = {"metric_key": "m1", "value": "90", "period_start": LAST_MONTH[0], "period_end": LAST_MONTH[1]}
        kwargs.update(changes)
        return lambda: actions.record_measurement(actor=c.manager, service=c.service, **kwargs)
    return setup


def _measure_twice(c):
    measured(c, "90")
    return lambda: measured(c, "91")


def _measure_decommissioned(c):
    old = decommissioned(c)
    return lambda: measured(c, service=old, actor=c.manager)


def _upload(text):
    def setup(c):
        return lambda: actions.import_measurements_csv(actor=c.manager, service=c.service, text=text)
    return setup


def _upload_after_good_data(text):
    """An upload over periods that already hold values: a failed upload replaces none of them."""
    def setup(c):
        measured(c, "80", period=MONTH_BEFORE)
        measured(c, "81", period=LAST_MONTH)
        return lambda: actions.import_measurements_csv(actor=c.manager, service=c.service, text=text)
    return setup


def _push(*records, raw_records=None):
    def setup(c):
        _, raw = issued(c)
        sent = list(records) if raw_records is None else raw_records
        return lambda: actions.ingest_measurements(token=raw, records=sent)
    return setup


def _push_with(token):
    def setup(c):
        issued(c)
        return lambda: actions.ingest_measurements(token=token, records=[record("r-1", 97)])
    return setup


def _push_revoked(c):
    token, raw = issued(c)
    actions.revoke_ingest_token(actor=c.manager, token=token)
    return lambda: actions.ingest_measurements(token=raw, records=[record("r-1", 97)])


def _cadence(days, key="m1"):
    def setup(c):
        return lambda: actions.set_measurement_cadence(actor=c.manager, service=c.service, metric_key=key, days=days)
    return setup


def _issue(label="", *, old=False):
    def setup(c):
        service = decommissioned(c) if old else c.service
        return lambda: actions.issue_ingest_token(actor=c.manager, service=service, label=label)
    return setup


def _revoke_twice(c):
    token, _ = issued(c)
    actions.revoke_ingest_token(actor=c.manager, token=token)
    return lambda: actions.revoke_ingest_token(actor=c.executive, token=token)


def _standard(measure, *, twice=False, old=False, submitted=False):
    def setup(c):
        service = decommissioned(c) if old else c.service
        if twice:
            actions.add_standard_measure(actor=c.manager, service=service, measure=measure)
        if submitted:
            from osom.network.actions import draft_contract_version, submit_contract_version

            draft = draft_contract_version(actor=c.manager, service=service)
            submit_contract_version(actor=c.manager, version=draft)
        return lambda: actions.add_standard_measure(actor=c.manager, service=service, measure=measure)
    return setup


def _define(**changes):
    def setup(c):
        kwargs = {"name": "Outcome across services", "expression": "sum(m1)"}
        kwargs.update(changes)
        return lambda: actions.define_aggregation(actor=c.executive, **kwargs)
    return setup


def _define_duplicate(c):
    figure(c, name="Reported outcome")
    return lambda: actions.define_aggregation(actor=c.exec_team, name="reported OUTCOME", expression="avg(m1)")


def _rename_onto_another(c):
    figure(c, name="Reported outcome")
    other = figure(c, name="Another figure")
    return lambda: actions.define_aggregation(actor=c.executive, aggregation=other, name="Reported outcome",
                                              expression="sum(m1)", expected_revision=other.revision)


def _redefine_stale(c):
    existing = figure(c)
    seen = existing.revision
    actions.define_aggregation(actor=c.exec_team, aggregation=existing, expected_revision=seen,
                               name="Reported outcome", expression="avg(m1)")
    return lambda: actions.define_aggregation(actor=c.executive, aggregation=existing, expected_revision=seen,
                                              name="Reported outcome", expression="sum(m1)")


def _retire_twice(c):
    existing = figure(c)
    actions.retire_aggregation(actor=c.executive, aggregation=existing)
    return lambda: actions.retire_aggregation(actor=c.executive, aggregation=existing)


def _share(shares, *, period=BUDGET_PERIOD):
    def setup(c):
        consumer_of(c, name="Bin collection")
        consumer_of(c, name="Libraries")
        return lambda: actions.record_consumption_shares(actor=c.manager, provider=c.service, period=period,
                                                         shares=shares)
    return setup


def _share_after_good_shares(shares):
    """Bad shares where the period already has good ones: the old ones stay as they were."""
    def setup(c):
        consumer_of(c, name="Bin collection")
        actions.record_consumption_shares(actor=c.manager, provider=c.service, period=BUDGET_PERIOD,
                                          shares={"bin-collection": "0.25"})
        return lambda: actions.record_consumption_shares(actor=c.manager, provider=c.service, period=BUDGET_PERIOD,
                                                         shares=shares)
    return setup


def _share_drafted_dependency(c):
    """A dependency only drafted is not consumption yet: the current contract decides."""
    from osom.network.actions import add_dependency

    add_dependency(actor=c.other_manager, service=c.other_service, provider=c.service)
    return lambda: actions.record_consumption_shares(actor=c.manager, provider=c.service, period=BUDGET_PERIOD,
                                                     shares={"identity": "0.5"})


def _transactions(count, *, period=BUDGET_PERIOD):
    def setup(c):
        return lambda: actions.record_transactions(actor=c.manager, service=c.service, period=period,
                                                   transactions=count)
    return setup


GOOD = ("m1", *LAST_MONTH, "97", "")
OLDER = ("m1", *MONTH_BEFORE, "96", "")

CASES: dict[str, Case] = {
    # record_measurement
    "measurement of an unknown metric": Case(InvalidInput, "metric_key", "is not a metric of Parking permits",
                                            _measure(metric_key="bounce-rate")),
    "measurement without a metric": Case(InvalidInput, "metric_key", "Name the metric", _measure(metric_key="")),
    "measurement that is not a number": Case(InvalidInput, "value", "is not a number", _measure(value="ninety")),
    "measurement NaN": Case(InvalidInput, "value", "is not a number", _measure(value="NaN")),
    "measurement Infinity": Case(InvalidInput, "value", "is not a number", _measure(value="Infinity")),
    "measurement -Infinity": Case(InvalidInput, "value", "is not a number", _measure(value="-inf")),
    "measurement with too many decimals": Case(InvalidInput, "value", "four decimal places",
                                               _measure(value="97.12345")),
    "measurement too large": Case(InvalidInput, "value", "too large", _measure(value="1e16")),
    "measurement given as a boolean": Case(InvalidInput, "value", "as a number", _measure(value=True)),
    "measurement without a value": Case(InvalidInput, "value", "as a number", _measure(value="")),
    "measurement period ending before it starts": Case(
        InvalidInput, "period_end", "on or after", _measure(period_start=LAST_MONTH[1], period_end=LAST_MONTH[0])),
    "measurement of a future period": Case(InvalidInput, "period_start", "has not begun",
                                           _measure(period_start=TOMORROW, period_end=TOMORROW)),
    "measurement period longer than a year": Case(
        InvalidInput, "period_end", "a year at most",
        _measure(period_start=LAST_MONTH[1] - dt.timedelta(days=400), period_end=LAST_MONTH[1])),
    "measurement with a date that is not one": Case(InvalidInput, "period_start", "is not a date",
                                                    _measure(period_start="31/01/2026")),
    "measurement with a time that is not one": Case(InvalidInput, "measured_at", "is not a time",
                                                    _measure(measured_at="yesterday")),
    "measurement with an over-long note": Case(InvalidInput, "note", "300 characters", _measure(note="n" * 301)),
    "measurement with a null character": Case(InvalidInput, "note", "", _measure(note="a\x00b")),
    "a period measured twice by hand": Case(Conflict, "period_start", "The metric m1 already has the value 90 for",
                                            _measure_twice),
    "measurement of a decommissioned service": Case(Conflict, "service", "decommissioned", _measure_decommissioned),
    # import_measurements_csv
    "upload without its columns": Case(InvalidInput, "file", "lacks the columns period_start, value",
                                       _upload("metric,period_end,note\nm1,2026-01-31,x\n")),
    "upload with an unknown column": Case(
        InvalidInput, "file", "unknown column colour",
        _upload(csv_text(GOOD + ("red",), header=("metric", "period_start", "period_end", "value", "note", "colour")))),
    "upload of an empty file": Case(InvalidInput, "file", "empty", _upload("")),
    "upload of blank lines": Case(InvalidInput, "file", "empty", _upload("\n  \n")),
    "upload of a header alone": Case(InvalidInput, "file", "no measurements", _upload(csv_text())),
    "upload that is not UTF-8": Case(InvalidInput, "file", "not UTF-8",
                                     _upload(b"metric,period_start,value\nm1,2026-01-01,9\xff\xfe\n")),
    "upload of more than 20,000 rows": Case(InvalidInput, "file", "more than 20,000 rows",
                                            _upload("metric,period_start,value\n" + "m1,2020-01-01,1\n" * 20001)),
    "upload with a bad value": Case(InvalidInput, "row 2", "Row 2, value", _upload(csv_text(("m1", *LAST_MONTH, "x", "")))),
    "upload with a future period": Case(InvalidInput, "row 2", "has not begun",
                                        _upload(csv_text(("m1", TOMORROW, TOMORROW, "9", "")))),
    "upload with an over-long note": Case(InvalidInput, "row 2", "300 characters",
                                          _upload(csv_text(("m1", *LAST_MONTH, "9", "n" * 301)))),
    "upload of one metric and period twice": Case(InvalidInput, "row 3", "Row 3, period_start: the same metric and period as row 2",
                                                  _upload(csv_text(GOOD, ("m1", *LAST_MONTH, "98", "")))),
    "upload with a row longer than the header": Case(InvalidInput, "row 2", "has 6 cells",
                                                     _upload(csv_text(GOOD + ("extra",)))),
    "upload with bad rows over good data": Case(
        InvalidInput, "row 3", "Row 3",
        _upload_after_good_data(csv_text(OLDER, ("m1", *LAST_MONTH, "abc", "")))),
    # ingest_measurements
    "push with an unknown field": Case(InvalidInput, "records[0].colour", "Unknown field",
                                       _push(record("r-1", 97, colour="red"))),
    "push without an id": Case(InvalidInput, "records[0].id", "Give each record an id",
                               _push({k: v for k, v in record("r-1", 97).items() if k != "id"})),
    "push with an id that is a number": Case(InvalidInput, "records[0].id", "Give each record an id",
                                             _push(record(17, 97))),
    "push with an id twice": Case(InvalidInput, "records[1].id", "The same id as records[0]",
                                  _push(record("r-1", 97), record("r-1", 96, period=MONTH_BEFORE))),
    "push with one metric and period twice": Case(InvalidInput, "records[1].period_start", "same metric and period",
                                                  _push(record("r-1", 97), record("r-2", 96))),
    "push with a boolean value": Case(InvalidInput, "records[0].value", "as a number", _push(record("r-1", True))),
    "push with a list value": Case(InvalidInput, "records[0].value", "as a number", _push(record("r-1", [97, 98]))),
    "push with a NaN value": Case(InvalidInput, "records[0].value", "is not a number",
                                  _push(record("r-1", float("nan")))),
    "push with an infinite value": Case(InvalidInput, "records[0].value", "is not a number",
                                        _push(record("r-1", "Infinity"))),
    "push of an unknown metric": Case(InvalidInput, "records[0].metric", "is not a metric",
                                      _push(record("r-1", 97, metric="bounce-rate"))),
    "push without a timestamp": Case(InvalidInput, "records[0].timestamp", "Give the time",
                                     _push(record("r-1", 97, timestamp=""))),
    "push of a future period": Case(InvalidInput, "records[0].period_start", "has not begun",
                                    _push(record("r-1", 97, period=(TOMORROW, TOMORROW)))),
    "push where a record is not an object": Case(InvalidInput, "records[1]", "object",
                                                 _push(record("r-1", 97), "r-2,98")),
    "push of no records": Case(InvalidInput, "records", "one or more", _push(raw_records=[])),
    "push of more than 5,000 records": Case(InvalidInput, "records", "at most 5,000",
                                            _push(raw_records=[record(f"r-{i}", 1) for i in range(5001)])),
    "push of something else than a list": Case(InvalidInput, "records", "one or more",
                                               _push(raw_records={"id": "r-1"})),
    "push of a good record beside a bad one": Case(
        InvalidInput, "records[1].value", "is not a number",
        _push(record("r-1", 97), record("r-2", "lots", period=MONTH_BEFORE))),
    "push with a wrong token": Case(NotAllowed, None, "not valid", _push_with("osomi_made-up")),
    "push with a revoked token": Case(NotAllowed, None, "revoked", _push_revoked),
    # set_measurement_cadence
    "cadence of no days": Case(InvalidInput, "days", "from 1 to 400", _cadence(0)),
    "cadence too long": Case(InvalidInput, "days", "from 1 to 400", _cadence(401)),
    "cadence that is not a number": Case(InvalidInput, "days", "from 1 to 400", _cadence("weekly")),
    "cadence of a boolean": Case(InvalidInput, "days", "from 1 to 400", _cadence(True)),
    "cadence of an unknown metric": Case(InvalidInput, "metric_key", "is not a metric", _cadence(7, key="nope")),
    # ingest tokens
    "token with an over-long label": Case(InvalidInput, "label", "100 characters", _issue("l" * 101)),
    "token for a decommissioned service": Case(Conflict, "service", "decommissioned", _issue(old=True)),
    "token revoked twice": Case(Conflict, "token", "already revoked", _revoke_twice),
    # standard measures
    "an unknown standard measure": Case(InvalidInput, "measure", "is not a standard measure",
                                        _standard("happiness-index")),
    "a standard measure twice": Case(InvalidInput, "measure", "already has the metric user-satisfaction",
                                     _standard("user-satisfaction", twice=True)),
    "a standard measure for a decommissioned service": Case(Conflict, "service", "decommissioned",
                                                            _standard("completion-rate", old=True)),
    "a standard measure while a version awaits approval": Case(Conflict, "service", "awaiting approval",
                                                               _standard("completion-rate", submitted=True)),
    # figures
    "figure without a name": Case(InvalidInput, "name", "Name the figure", _define(name=" ")),
    "figure with an over-long name": Case(InvalidInput, "name", "150 characters", _define(name="f" * 151)),
    "figure without an expression": Case(InvalidInput, "expression", "Write the expression", _define(expression="")),
    # the parser's messages give the column (of the expression as stored: trimmed)
    "figure with a bad expression": Case(InvalidInput, "expression", "The expression ends too soon at column 10",
                                         _define(expression="sum(m1) / ")),
    "figure with unbalanced brackets": Case(InvalidInput, "expression", "Expected 'and' or ')' at column 30",
                                            _define(expression="sum(m1 where users = external")),
    "figure with an unknown function": Case(InvalidInput, "expression", "Unknown function 'total' at column 1",
                                            _define(expression="total(m1)")),
    "figure filtering on an unknown field": Case(InvalidInput, "expression",
                                                 "Unknown field 'colour' — use one of: evolution, service, stage, users",
                                                 _define(expression="sum(m1 where colour = red)")),
    "figure filtering on an unknown value": Case(InvalidInput, "expression", "Users cannot be 'martians': use one of",
                                                 _define(expression="sum(m1 where users = martians)")),
    "figure with an unknown grain": Case(InvalidInput, "grain", "month, quarter, year", _define(grain="week")),
    "figure with an unknown within": Case(InvalidInput, "within", "latest, sum, mean", _define(within="median")),
    "figure with an over-long unit": Case(InvalidInput, "unit", "40 characters", _define(unit="u" * 41)),
    "figure with an over-long description": Case(InvalidInput, "description", "5,000 characters",
                                                 _define(description="d" * 5001)),
    "figure with the name of another": Case(InvalidInput, "name", "already a figure called", _define_duplicate),
    "figure renamed onto another": Case(InvalidInput, "name", "already a figure called", _rename_onto_another),
    "figure changed since it was opened": Case(Conflict, "revision", "changed by someone else", _redefine_stale),
    "figure retired twice": Case(Conflict, "aggregation", "already retired", _retire_twice),
    # consumption shares
    "shares over 100 % in total": Case(InvalidInput, "shares", "add up to 110 %",
                                       _share({"bin-collection": "60%", "libraries": "0.5"})),
    "shares of a service that does not consume the provider": Case(
        InvalidInput, "shares.identity", "does not consume Parking permits", _share({"identity": "0.2"})),
    "shares of an unknown service": Case(InvalidInput, "shares.nobody", "does not consume", _share({"nobody": "0.2"})),
    "a share of 1.5": Case(InvalidInput, "shares.bin-collection", "between 0 and 1", _share({"bin-collection": "1.5"})),
    "a share of 150 %": Case(InvalidInput, "shares.bin-collection", "between 0 and 1",
                             _share({"bin-collection": "150%"})),
    "a negative share": Case(InvalidInput, "shares.bin-collection", "between 0 and 1",
                             _share({"bin-collection": "-0.1"})),
    "a share of abc": Case(InvalidInput, "shares.bin-collection", "is not a share", _share({"bin-collection": "abc"})),
    "a share of NaN": Case(InvalidInput, "shares.bin-collection", "is not a share", _share({"bin-collection": "NaN"})),
    "a share given as a boolean": Case(InvalidInput, "shares.bin-collection", "is not a share",
                                       _share({"bin-collection": True})),
    "a share with too many decimals": Case(InvalidInput, "shares.bin-collection", "six decimal places",
                                           _share({"bin-collection": "0.1234567"})),
    "shares that are not a mapping": Case(InvalidInput, "shares", "consumer", _share([("bin-collection", "0.2")])),
    "shares without a period": Case(InvalidInput, "period", "Name the budget period",
                                    _share({"bin-collection": "0.2"}, period="")),
    "shares with an over-long period": Case(InvalidInput, "period", "40 characters",
                                            _share({"bin-collection": "0.2"}, period="p" * 41)),
    "bad shares over good ones": Case(InvalidInput, "shares.bin-collection", "between 0 and 1",
                                      _share_after_good_shares({"bin-collection": "2"})),
    "shares of a dependency only drafted": Case(InvalidInput, "shares.identity", "under its current contract",
                                                _share_drafted_dependency),
    # transactions
    "transactions below zero": Case(InvalidInput, "transactions", "0 or more", _transactions(-1)),
    "transactions not a number": Case(InvalidInput, "transactions", "whole number", _transactions("many")),
    "transactions not whole": Case(InvalidInput, "transactions", "whole number", _transactions("1.5")),
    "transactions as a boolean": Case(InvalidInput, "transactions", "whole number", _transactions(True)),
    "transactions too many": Case(InvalidInput, "transactions", "whole number", _transactions(10 ** 15)),
    "transactions without a period": Case(InvalidInput, "period", "Name the budget period", _transactions(5, period="")),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_names_the_field_says_why_and_writes_nothing(cast, name):
    case = CASES[name]
    do = case.setup(cast)
    before, before_counts = snapshot(), counts()
    with pytest.raises(DomainError) as raised:
        do()
    error = raised.value
    assert type(error) is case.error, (type(error), error.message)
    if case.sentence:
        assert_is_a_sentence(error.message)
    if case.field is None:
        assert case.says in error.message
    else:
        assert case.field in error.errors, (case.field, error.errors)
        texts = error.errors[case.field]
        assert any(case.says in text for text in texts), texts
        if case.sentence:
            for text in texts:
                assert_is_a_sentence(text)
    assert counts() == before_counts, "nothing written, not even an audit event"
    assert snapshot() == before, "nothing written, not even an audit event"


def test_every_write_action_has_a_bad_input_case():
    from .test_permissions import MATRIX, TOKEN_WRITES, _writes

    tried = " ".join(CASES)
    words = {"record_measurement": "measurement", "import_measurements_csv": "upload", "ingest_measurements": "push",
             "set_measurement_cadence": "cadence", "issue_ingest_token": "token with",
             "revoke_ingest_token": "revoked twice", "add_standard_measure": "standard measure",
             "define_aggregation": "figure with", "retire_aggregation": "retired twice",
             "record_consumption_shares": "share", "record_transactions": "transactions"}
    assert set(words) == {row.action for row in MATRIX.values()} | TOKEN_WRITES == _writes(actions)
    for action, word in words.items():
        assert word in tried, action


def test_every_bad_row_of_an_upload_is_named_by_its_row_number_and_none_is_imported(cast):
    text = csv_text(
        ("m1", *THREE_MONTHS_AGO, "95", ""),  # row 2: good
        ("m1", *MONTH_BEFORE, "NaN", ""),  # row 3: not a number
        ("m1", *LAST_MONTH, "97", ""),  # row 4: good
        ("bounce-rate", *LAST_MONTH, "12", ""),  # row 5: not a metric of the contract
        ("m1", LAST_MONTH[1], LAST_MONTH[0], "97", ""),  # row 6: ends before it starts
    )
    before = counts()
    with pytest.raises(InvalidInput) as raised:
        actions.import_measurements_csv(actor=cast.team_member, service=cast.service, text=text)
    errors = raised.value.errors
    assert set(errors) == {"row 3", "row 5", "row 6"}
    assert "Row 3" in errors["row 3"][0] and "is not a number" in errors["row 3"][0]
    assert "Row 5" in errors["row 5"][0] and "bounce-rate" in errors["row 5"][0]
    assert "Row 6" in errors["row 6"][0] and "on or after" in errors["row 6"][0]
    assert "and 2 more problems" in raised.value.message
    assert counts() == before


def test_a_failed_upload_leaves_the_values_it_would_have_replaced(cast):
    measured(cast, "80", period=MONTH_BEFORE)
    with pytest.raises(InvalidInput):
        actions.import_measurements_csv(actor=cast.manager, service=cast.service,
                                        text=csv_text(("m1", *MONTH_BEFORE, "99", ""), ("m1", *LAST_MONTH, "?", "")))
    from osom.fitness.models import Measurement

    assert [str(v) for v in Measurement.objects.values_list("value", flat=True)] == ["80.0000"]


def test_a_service_of_another_kind_of_contract_names_its_own_metrics(cast):
    """The message lists the metrics the contract does have, so the person can correct the key."""
    libraries = factories.service(cast.executive, "Libraries", manager=cast.manager, needs=2)
    with pytest.raises(InvalidInput) as raised:
        measured(cast, service=libraries, key="m3")
    assert "its metrics: m1, m2" in raised.value.errors["metric_key"][0]
