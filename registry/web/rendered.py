"""A small per-process cache of rendered responses, for the hottest public lookups.

Entries are keyed by everything the answer depends on (the caller includes the log size, which
grows with every accepted push and key event, so any change to the registry makes old keys
unreachable) and expire after ``ttl`` seconds, the same minute the answers may be cached by
clients anyway (Cache-Control max-age), so the "checked at" time they carry is never older.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rendered:
    """A response body and its validator."""

    body: bytes
    etag: str


class RenderedCache:
    """A thread-safe LRU with a time limit per entry."""

    def __init__(
        self, size: int = 4096, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Rendered]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Rendered | None:
        """The entry for ``key`` if present and younger than the time limit."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            stored_at, value = found
            if self._clock() - stored_at > self._ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Rendered) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
