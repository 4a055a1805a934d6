"""Holding Python's cyclic garbage collector off while projections decode and apply pages."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a page is decoded and applied.

    A page is tens of thousands of small acyclic objects, freed by reference
    counting; meanwhile the collector would trace them again and again, which
    costs a third of a catch-up. Pauses are counted across threads: the
    collector resumes, if it was on, when the last one ends.
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()
