"""The cycle collector is paused inside and resumed after: on success, on an error, and
never resumed when something else had paused it."""

from __future__ import annotations

import gc

import pytest

from osom.core.gcpause import cycle_collection_paused, pauses_cycle_collection


def test_the_collector_is_paused_inside_and_resumed_after(collector_on):
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_is_resumed_after_an_error(collector_on):
    @pauses_cycle_collection
    def fails():
        assert not gc.isenabled()
        raise ValueError("no")

    with pytest.raises(ValueError):
        fails()
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused(collector_on):
    gc.disable()
    with cycle_collection_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_decorated_function_keeps_its_name_and_result(collector_on):
    @pauses_cycle_collection
    def add(a, b=1):
        """Adds."""
        return a + b

    assert add(2, b=3) == 5 and add.__name__ == "add" and add.__doc__ == "Adds."
