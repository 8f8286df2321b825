"""Results worked out from much of the database, kept in the app process until anything
is written.

Every write to the platform is an action that appends one event to the audit chain, and
the chain is appended to one writer at a time, in the order the writes are committed
(``audit.record``). The hash of its last event therefore changes with every committed
write, whichever process made it: a result kept beside the hash it was worked out under
is still true while the hash is the same, and is worked out again as soon as it is not.

The hash is read *before* the result is worked out, so a write committed in between is
seen by the next request, which works the result out again; a kept result is never
older than the write mark it is kept under.

A kept result can be millions of small objects (a period's capital flow at 50,000
services). Left to Python's cycle collector, every full pass of it, which comes every so
many requests whatever they ask for, would walk them all again: a fifth of a second or
more, on a request that has nothing to do with them. Once a result is worked out,
everything then in memory is set aside from those passes (``gc.freeze``): it is still
freed as soon as nothing refers to it, like every object the collector is not watching,
and a kept result holds no reference cycles. Before the next result is worked out the
set-aside objects are handed back to the collector and one full pass is made, so that
garbage set aside with them is collected, not kept for the life of the process.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from typing import Callable, Generic, TypeVar

from .models import AuditEvent

__all__ = ["write_mark", "KeptUntilWritten", "forget_all", "ready_to_serve"]

V = TypeVar("V")

_every: list["KeptUntilWritten"] = []


def write_mark() -> str:
    """The hash of the last event of the audit chain ("" when nothing was ever written)."""
    return AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or ""


class KeptUntilWritten(Generic[V]):
    """``compute(*key)`` kept for its key until the next write; at most ``size`` keys at a
    time, the one used longest ago given up first. One computation at a time per process:
    two requests asking at once for a result that takes seconds and much memory make it
    once, the second waiting for the first."""

    def __init__(self, compute: Callable[..., V], *, size: int = 1):
        self.compute = compute
        self.size = size
        self._kept: OrderedDict[tuple, tuple[str, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # how many times a result was worked out (rather than found kept)
        _every.append(self)

    def __call__(self, *key) -> V:
        mark = write_mark()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == mark and mark:
                self._kept.move_to_end(key)
                return kept[1]
            # what is given up is given up before the new result takes its place in memory
            self._kept.pop(key, None)
            while len(self._kept) >= self.size:
                self._kept.popitem(last=False)
            _hand_back()
            value = self.compute(*key)
            self.computed += 1
            if mark:  # an empty chain is a database nothing was written to through the actions
                self._kept[key] = (mark, value)
                _set_aside()
            return value

    def forget(self) -> None:
        with self._lock:
            self._kept.clear()


def forget_all() -> None:
    """Give up every kept result of the process (another database, or a test's end)."""
    for kept in _every:
        kept.forget()
    gc.unfreeze()


def _set_aside() -> None:
    """Everything in memory now, the result just kept with it, left out of the cycle
    collector's passes (see the module)."""
    gc.freeze()


def _hand_back() -> None:
    """What was set aside handed back to the cycle collector, and one full pass of it
    (made even where a page has paused the collector for its work)."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


def ready_to_serve() -> None:
    """Made once by an app process before its first request (``osom.wsgi``): every view,
    form and API schema loaded (through the URL configuration, which would otherwise load
    them on the first request), then everything in memory set aside from the cycle
    collector's full passes, as a kept result is.

    A process serving requests holds about 190,000 objects that the collector watches,
    nearly all of them loaded code that lives as long as the process; a full pass walked
    them all, 0.1 s or more on a modest machine, on whichever request it fell (one in
    thirty or so). Set aside, a full pass walks only what requests have made since. Under
    gunicorn the master process makes this before it starts its workers, which inherit it."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # imports every view module
    gc.collect()
    _set_aside()

