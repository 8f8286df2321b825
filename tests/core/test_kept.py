"""Results kept in the process until the next write: the write mark is the head of the
audit chain, which every action moves."""

from __future__ import annotations

import gc
import weakref

import pytest

from osom.core.kept import KeptUntilWritten, forget_all, ready_to_serve, write_mark
from osom.core.models import AuditEvent

from .. import factories


def counting():
    calls = []

    def compute(*key):
        calls.append(key)
        return {"key": key, "n": len(calls)}
    return KeptUntilWritten(compute, size=2), calls


def test_a_result_is_kept_until_an_action_writes(cast):
    kept, calls = counting()
    first = kept("a")
    assert kept("a") is first and calls == [("a",)]
    mark = write_mark()
    factories.service(cast.executive, "Something new")  # an action: one more audit event
    assert write_mark() != mark
    assert kept("a") is not first and calls == [("a",), ("a",)] and kept.computed == 2


def test_at_most_size_keys_are_kept_the_one_used_longest_ago_given_up_first(cast):
    kept, calls = counting()
    kept("a"), kept("b"), kept("a"), kept("c")  # "b" was used longest ago
    assert calls == [("a",), ("b",), ("c",)]
    kept("a")
    kept("b")
    assert calls == [("a",), ("b",), ("c",), ("b",)]


def test_nothing_is_kept_for_a_database_no_action_ever_wrote_to(db):
    assert not AuditEvent.objects.exists()
    kept, calls = counting()
    kept("a"), kept("a")
    assert write_mark() == "" and len(calls) == 2


def test_forgetting_gives_up_every_kept_result(cast):
    kept, calls = counting()
    kept("a")
    forget_all()
    kept("a")
    assert len(calls) == 2


@pytest.mark.parametrize("n", [1, 3])
def test_asking_for_a_kept_result_is_one_query(cast, n, django_assert_num_queries):
    kept, calls = counting()
    kept("a")
    for _ in range(n):
        with django_assert_num_queries(1):
            kept("a")
    assert len(calls) == 1


class _Node:
    """An object the cycle collector watches, and a weak reference can follow."""

    def __init__(self):
        self.other = None


def _watched(obj) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_a_kept_result_is_left_out_of_the_cycle_collectors_passes_and_still_freed_when_given_up(cast):
    kept = KeptUntilWritten(lambda key: {"rows": [[_Node()] for _ in range(3)]})
    result = kept("a")
    inner = result["rows"][0]
    assert not _watched(inner) and gc.get_freeze_count() > 0  # set aside: no full pass walks it
    gone = weakref.ref(inner[0])
    del result, inner
    factories.service(cast.executive, "Something new")  # a write: the next call works it out again
    kept("a")
    assert gone() is None  # the result given up was freed, cycle collector or not
    forget_all()
    assert gc.get_freeze_count() == 0


def test_garbage_set_aside_with_a_kept_result_is_collected_before_the_next_one_is_worked_out(cast):
    kept = KeptUntilWritten(lambda key: [key])
    first, second = _Node(), _Node()
    first.other, second.other = second, first  # a reference cycle, freed only by the collector
    gone = weakref.ref(first)
    gc.disable()  # as a page that pauses the collector for its work
    try:
        del first, second
        kept("a")  # sets aside everything in memory, the cycle with it
        assert gone() is not None
        factories.service(cast.executive, "Something new")
        kept("a")
        assert gone() is None
    finally:
        gc.enable()
        forget_all()


def test_an_app_process_ready_to_serve_has_its_views_loaded_and_set_aside_and_still_collects_new_garbage(db):
    """What is in memory when a process starts serving is left out of the collector's
    full passes; what requests make afterwards is still watched, and collected."""
    from django.urls import clear_url_caches, get_resolver

    clear_url_caches()  # as in a process that has served nothing yet
    resolver = get_resolver()
    assert "url_patterns" not in resolver.__dict__
    try:
        ready_to_serve()
        assert "url_patterns" in resolver.__dict__  # the URL configuration, every view with it, loaded
        assert gc.get_freeze_count() > 0 and not _watched(resolver.url_patterns)
        first, second = _Node(), _Node()
        first.other, second.other = second, first  # a reference cycle made afterwards
        gone = weakref.ref(first)
        assert _watched(first)
        del first, second
        gc.collect()
        assert gone() is None
    finally:
        forget_all()
    assert gc.get_freeze_count() == 0

