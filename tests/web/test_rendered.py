"""The per-process cache of rendered answers."""

from __future__ import annotations

from registry.web.rendered import Rendered, RenderedCache


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_time_limit() -> None:
    ticker = Ticker()
    cache = RenderedCache(size=10, ttl=60, clock=ticker)
    cache.put("k", Rendered(b"{}", "e"))
    ticker.now = 59.0
    assert cache.get("k") == Rendered(b"{}", "e")
    ticker.now = 61.0
    assert cache.get("k") is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = RenderedCache(size=2, ttl=60, clock=Ticker())
    cache.put("a", Rendered(b"a", "a"))
    cache.put("b", Rendered(b"b", "b"))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", Rendered(b"c", "c"))
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_without_a_time_limit_entries_stay_until_evicted() -> None:
    """How QR images are kept: their ETag pins the version, so age never makes them stale."""
    ticker = Ticker()
    cache: RenderedCache[bytes] = RenderedCache(size=1, ttl=None, clock=ticker)
    cache.put("etag-1", b"png")
    ticker.now = 10**9
    assert cache.get("etag-1") == b"png"
    cache.put("etag-2", b"svg")
    assert cache.get("etag-1") is None
