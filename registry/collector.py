"""Pausing CPython's cyclic garbage collector around a bounded, allocation-heavy batch.

A push of a thousand envelopes allocates hundreds of thousands of short-lived dicts, lists and
tuples: parsed records, rows, grams. Reference counting frees nearly all of them; the cyclic
collector finds almost nothing, yet every few hundred allocations it runs, and every few
thousand it walks the whole heap. Measured in ``bench.log_bench ingest`` that was 45–70 µs a
record, a fifth of what ingest adds to its signature checks. ``timeit`` pauses the collector
for the same reason.

:func:`paused` stops automatic collection for the ``with`` block and resumes it when the last
overlapping pause in the process ends (the collector's switch is process-wide; a worker may
run several requests in threads). A collector that was already disabled stays disabled. What a
paused batch leaves in cycles is bounded by the batch size and collected after it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def paused() -> Iterator[None]:
    """Disable automatic garbage collection for the block; resume it after the last pause."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
