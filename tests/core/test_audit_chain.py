"""The audit log is a hash chain: any change to it after the fact is detected."""

from __future__ import annotations

import pytest
from django.db import connection

from osom.cli import main
from osom.core.audit import verify_chain
from osom.core.models import AuditEvent
from osom.network import actions

from .. import factories


def test_every_event_is_chained_to_the_one_before(cast):
    events = list(AuditEvent.objects.order_by("id"))
    assert len(events) > 5
    assert events[0].prev_hash == ""
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash and len(after.hash) == 64
    report = verify_chain()
    assert report.intact and report.checked == len(events)


def test_verify_reports_an_intact_log(cast, capsys):
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out


@pytest.mark.parametrize("column,value", [("summary", "Nothing happened"), ("actor_label", "someone else"),
                                          ("reason", "a different reason")])
def test_a_changed_event_is_detected(cast, capsys, column, value):
    target = AuditEvent.objects.filter(verb="establish_service").order_by("id").first()
    with connection.cursor() as cursor:  # what someone with database access might do
        cursor.execute(f"UPDATE core_auditevent SET {column} = %s WHERE id = %s", [value, target.pk])
    report = verify_chain()
    assert not report.intact and report.broken_at == target.pk
    assert "was changed" in report.problem
    assert main(["audit", "verify"]) == 1
    assert "tampered" in capsys.readouterr().err


def test_a_removed_event_is_detected(cast):
    events = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    victim = events[len(events) // 2]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim])
    report = verify_chain()
    assert report.broken_at == events[events.index(victim) + 1]
    assert "removed or inserted" in report.problem


def test_events_cannot_be_changed_or_removed_through_the_orm(cast):
    event = AuditEvent.objects.first()
    event.summary = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    with pytest.raises(RuntimeError):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(RuntimeError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_the_chain_holds_across_many_kinds_of_act(cast):
    factories.service(cast.executive, "Libraries", stage="live")
    actions.alter_contract(actor=cast.executive, service=cast.service,
                           content=factories.contract("Parking permits", needs=2), reason="More needs", risk="Low")
    assert verify_chain().intact
