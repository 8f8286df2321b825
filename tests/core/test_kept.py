"""Results kept in the process until the next write: the write mark is the head of the
audit chain, which every action moves."""

from __future__ import annotations

import pytest

from osom.core.kept import KeptUntilWritten, forget_all, write_mark
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
