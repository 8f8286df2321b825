"""Pausing Python's cycle collector while work builds a great many small objects.

Costing the capital flow of a large network makes hundreds of thousands of tuples, dicts
and Decimals in a few hundred milliseconds; loading a whole organisation reads millions
of records. None of them is part of a reference cycle, so reference counting frees each
as soon as it is done with; the cycle collector, which runs whenever enough new
containers have been made, would only walk them over and over (on a 50,000-service
network that was about 40 % of the capital-flow page's time, and two fifths of an
import's reading and checking). It is paused for the duration of such work and resumed
after it, whatever happens, and left alone when something else had already paused it.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

__all__ = ["cycle_collection_paused", "pauses_cycle_collection"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def pauses_cycle_collection(func: Callable[P, R]) -> Callable[P, R]:
    """``func`` runs with the cycle collector paused (see the module)."""

    @functools.wraps(func)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with cycle_collection_paused():
            return func(*args, **kwargs)

    return paused
