"""A small per-process cache of rendered responses (QR images and which image is current),
and :class:`Rendered`, a response body with its validator.

Entries are keyed by everything the answer depends on. Images are keyed by their ETag, which
names the record version and parameters: they never expire. Entries with a time limit expire
after ``ttl`` seconds. Lookups are not cached: see
:func:`registry.web.api.current_certificate`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class Rendered:
    """A response body and its validator."""

    body: bytes
    etag: str


class RenderedCache(Generic[V]):
    """A thread-safe LRU, with a time limit per entry unless ``ttl`` is None."""

    def __init__(
        self,
        size: int = 4096,
        ttl: float | None = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The entry for ``key`` if present and younger than the time limit."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            stored_at, value = found
            if self._ttl is not None and self._clock() - stored_at > self._ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
