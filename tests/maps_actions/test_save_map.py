"""Saving a service's Wardley map (model 5.4): who may, what bad input is refused, and the
rules of its versions — each save is a new version, never a change to an old one; lines
the parser does not understand are kept and counted, never refused; a save made from a
version someone has since replaced is a conflict, not a silent overwrite."""

from __future__ import annotations

import pytest

from osom.core.errors import Conflict, DomainError, InvalidInput, NotAllowed
from osom.core.models import AuditEvent
from osom.core.policy import ACTS
from osom.maps import actions
from osom.maps.actions import MAX_MAP_CHARACTERS
from osom.maps.models import MapVersion

from ..fitness.test_permissions import MANAGER, ROLES, TEAM, Row, snapshot
from ..lifecycle.helpers import decommissioned
from ..network.test_bad_input import assert_is_a_sentence
from ..network.test_permissions import assert_one_event_for, assert_refusal_is_a_sentence_naming_who_may

MAP = """title Parking permits
anchor Resident [0.95, 0.60]
component Permit application [0.80, 0.45]
component Payments [0.50, 0.80]
Resident->Permit application
Permit application->Payments
"""

# a line of an extension another tool invented: kept, warned about, never refused
WITH_AN_UNKNOWN_LINE = MAP + "teambox Platform team [0.6, 0.7, 0.3, 0.9]\n"


def saved(c, text: str = MAP, *, service=None, actor=None, **kwargs) -> MapVersion:
    service = service or c.service
    return actions.save_service_map(actor=actor or service.manager, service=service, text=text, **kwargs)


def _save_first(c):
    return lambda actor: actions.save_service_map(actor=actor, service=c.service, text=MAP, note="First map")


def _save_next(c):
    first = saved(c)
    return lambda actor: actions.save_service_map(actor=actor, service=c.service, text=MAP + "component Ledger [0.3, 0.9]\n",
                                                  expected_number=first.number)


MANAGER_OR_TEAM = {"manager": MANAGER, "team_member": TEAM}

# THE table: who may save a service's map (model 5.4: each manager maintains it, with the team).
MATRIX: dict[str, Row] = {
    "save_service_map": Row("save_service_map", "save_service_map", _save_first, MANAGER_OR_TEAM,
                            ("service manager", "its team")),
    "save_service_map over a saved one": Row("save_service_map", "save_service_map", _save_next, MANAGER_OR_TEAM,
                                             ("service manager", "its team")),
}

CELLS = [pytest.param(act, role, id=f"{act}-{role}") for act in MATRIX for role in ROLES]


def test_the_matrix_covers_the_map_act_of_the_policy():
    assert "save_service_map" in ACTS
    assert {row.verb for row in MATRIX.values()} == {"save_service_map"}
    assert set(actions.__all__) == {"save_service_map", "MAX_MAP_CHARACTERS"}


@pytest.mark.parametrize("act,role", CELLS)
def test_each_role_is_allowed_or_refused_saving_a_map(cast, act, role):
    row = MATRIX[act]
    do = row.setup(cast)
    actor = cast.by_role()[role]
    before = snapshot()
    before_events = {e["id"] for e in before["core.AuditEvent"]}
    if role in row.allowed:
        version = do(actor)
        assert_one_event_for(row, role, cast, before_events)
        assert MapVersion.objects.filter(pk=version.pk, saved_by=actor).exists()
    else:
        with pytest.raises(NotAllowed) as refused:
            do(actor)
        assert_refusal_is_a_sentence_naming_who_may(refused.value.message, row, role)
        assert snapshot() == before, "a refused act writes nothing, not even an audit event"


# --- bad input ---------------------------------------------------------------------------------

def _stale(c):
    first = saved(c)
    saved(c, MAP + "component Ledger [0.3, 0.9]\n", actor=c.team_member, expected_number=first.number)
    return lambda: saved(c, MAP + "component Audit [0.2, 0.5]\n", expected_number=first.number)


def _first_save_expecting_a_version(c):
    return lambda: saved(c, expected_number=1)


def _old(c):
    old = decommissioned(c)
    return lambda: saved(c, service=old, actor=c.manager)


def _same_again(c):
    saved(c)
    return lambda: saved(c, MAP.replace("\n", "\r\n"))


CASES = {
    "empty text": (InvalidInput, "text", "Write the map text", lambda c: lambda: saved(c, "")),
    "only spaces": (InvalidInput, "text", "Write the map text", lambda c: lambda: saved(c, " \n\t\n")),
    "not text": (InvalidInput, "text", "Write the map text", lambda c: lambda: saved(c, None)),
    "too long": (InvalidInput, "text", "at most 200,000 characters",
                 lambda c: lambda: saved(c, MAP + "x" * MAX_MAP_CHARACTERS)),
    "an over-long note": (InvalidInput, "note", "300 characters", lambda c: lambda: saved(c, note="n" * 301)),
    "a null character": (InvalidInput, "text", "", lambda c: lambda: saved(c, MAP + "note a\x00b [0.1, 0.1]\n")),
    "saved by someone else since": (Conflict, "text", "Someone saved version 2 of this map since you opened version 1",
                                    _stale),
    "expecting a version that was never saved": (Conflict, "text", "since you opened version 1",
                                                 _first_save_expecting_a_version),
    "the same text again": (InvalidInput, "text", "the same as the current version", _same_again),
    "a decommissioned service": (Conflict, "service", "decommissioned", _old),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_names_the_field_says_why_and_saves_nothing(cast, name):
    error_type, field, says, setup = CASES[name]
    do = setup(cast)
    before = snapshot()
    with pytest.raises(DomainError) as raised:
        do()
    error = raised.value
    assert type(error) is error_type, (type(error), error.message)
    assert field in error.errors and any(says in text for text in error.errors[field]), error.errors
    assert_is_a_sentence(error.message)
    assert snapshot() == before, "nothing written, not even an audit event"


def test_a_stale_save_says_where_the_map_is_now(cast):
    do = _stale(cast)
    with pytest.raises(Conflict) as raised:
        do()
    assert raised.value.changes == ["Now at version 2."]
    assert MapVersion.objects.filter(service=cast.service).count() == 2


# --- rules ---------------------------------------------------------------------------------------

def test_each_save_is_a_new_numbered_version_and_old_ones_stay_as_they_were(cast):
    first = saved(cast, note="First map")
    second = saved(cast, MAP + "component Ledger [0.3, 0.9]\n", actor=cast.team_member, expected_number=1,
                   note="  Ledger added  ")
    assert (first.number, second.number) == (1, 2)
    first.refresh_from_db()
    assert (first.text, first.note, first.saved_by) == (MAP, "First map", cast.manager)
    assert (second.note, second.saved_by) == ("Ledger added", cast.team_member)
    with pytest.raises(ValueError, match="never changed"):
        first.save()
    # each service numbers its own maps
    assert saved(cast, service=cast.other_service).number == 1


def test_lines_not_understood_are_kept_and_counted(cast):
    version = saved(cast, WITH_AN_UNKNOWN_LINE)
    assert version.text == WITH_AN_UNKNOWN_LINE
    assert version.warnings == 1
    event = AuditEvent.objects.order_by("-pk").first()
    assert "(1 lines not understood)" in event.summary
    assert event.after == {"number": 1, "components": 3, "note": ""}
    clean = saved(cast, MAP + "component Ledger [0.3, 0.9]\n")
    assert clean.warnings == 0 and "not understood" not in AuditEvent.objects.order_by("-pk").first().summary


def test_windows_line_ends_are_stored_as_plain_ones(cast):
    version = saved(cast, MAP.replace("\n", "\r\n"))
    assert version.text == MAP


def test_a_save_without_an_expected_number_goes_on_top(cast):
    """The command line and imports save without having opened an editor: no conflict."""
    saved(cast)
    assert saved(cast, MAP + "component Ledger [0.3, 0.9]\n").number == 2


def test_a_map_of_the_maximum_length_is_saved(cast):
    text = MAP + "// " + "x" * (MAX_MAP_CHARACTERS - len(MAP) - 4) + "\n"
    assert len(text) == MAX_MAP_CHARACTERS
    assert saved(cast, text).text == text
