"""Rate limits per client address: on search, and on the label-report form.

Every view marked with :func:`search_limit` (the JSON search API and the HTML search page)
draws from one budget per client address, ``Settings.search_rate_limit`` (e.g.
``"120/minute"``); the report form has its own (``Settings.report_rate_limit``, see
:mod:`registry.web.scan`). Counters live in ``Settings.ratelimit_storage_url``: ``memory://``
(per process) by default, ``redis://host:6379`` to share them between hosts and workers.
Behind reverse proxies, ``Settings.trusted_proxies`` says how many of them append to
X-Forwarded-For; the client address is taken from there (werkzeug's ProxyFix) and from the
socket otherwise, so a client cannot pick its own address with a forged header.

Over the limit, the answer is 429 with ``Retry-After`` (JSON for the API, an HTML page for
people), never a captcha.

The counting is the `limits <https://limits.readthedocs.io>`_ library's: its rate strings,
storage URLs and fixed-window strategy, the same flask-limiter is built on. The registry calls
it directly from the limited views. Through flask-limiter, the check cost about 0.3 ms per
search request (a third of an unmatched search) in request-context bookkeeping, exemption
scopes and limit resolution, for limits that are all known at start-up; this costs
microseconds.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import limits
from flask import Flask, current_app, request
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

from registry.settings import Settings, SettingsError
from registry.web.errors import APIError

#: Where the app keeps its :class:`Limits` (one per app: tests build many apps).
EXTENSION = "registry.limits"
#: The scope shared by every search view, so pages and API draw from one budget.
SCOPE = "search"
#: Prefix of every counter key in the storage (a shared Redis may hold other things).
KEY_PREFIX = "registry"

_MARK = "_registry_search_limited"
#: How often the in-memory counters are swept of expired windows, in seconds.
SWEEP_INTERVAL = 60.0
_View = TypeVar("_View", bound=Callable[..., object])


class SweptMemoryStorage(MemoryStorage):
    """``memory://`` without a thread per request.

    limits' MemoryStorage starts a 10 ms timer thread on every hit that follows 10 ms without
    one, to drop expired counters: about 1 ms a search request here, a quarter of its time.
    Counters are checked for expiry when read anyway, so sweeping once a minute is enough.
    """

    STORAGE_SCHEME = ["registry-memory"]  # noqa: RUF012 -- limits' class attribute

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: str) -> None:
        super().__init__(uri, wrap_exceptions)
        self._next_sweep = 0.0

    # limits calls this name-mangled method from incr() and acquire_entry().
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_INTERVAL
            super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


#: Set in the WSGI environ by a fast path that counted the request against the search limit
#: and then left it to the view: whether it was within the budget. The view takes that
#: verdict instead of counting the request again.
COUNTED = "registry.search_counted"


class Limits:
    """The app's counters: one storage, fixed windows, one budget per (scope, client)."""

    def __init__(self, storage: Storage, search_rate: limits.RateLimitItem) -> None:
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)
        self.search_rate = search_rate

    def allow(self, rate: limits.RateLimitItem, scope: str, client: str | None) -> bool:
        """Count one request of ``client`` (an address) against ``rate`` in ``scope``;
        whether it is within the budget."""
        return self.strategy.hit(rate, KEY_PREFIX, scope, client or "unknown")

    def hit(self, rate: limits.RateLimitItem, scope: str) -> None:
        """Count one request of the current client against ``rate`` in ``scope``; if a fast
        path counted it already (:data:`COUNTED`), take its verdict instead.

        Raises:
            APIError: 429 ``RateLimited`` with ``Retry-After`` when the budget is spent.
        """
        client = request.remote_addr or "unknown"
        verdict = request.environ.pop(COUNTED, None) if scope == SCOPE else None
        if verdict is None:
            verdict = self.allow(rate, scope, client)
        if verdict:
            return
        reset_at, _ = self.strategy.get_window_stats(rate, KEY_PREFIX, scope, client)
        wait = max(1, int(reset_at - time.time()))
        raise APIError(
            429,
            "RateLimited",
            f"too many requests from your address (at most {rate}); try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def limited(view: _View, rate: limits.RateLimitItem, scope: str) -> _View:
    """``view`` counting each call against ``rate`` in ``scope``, per client address."""

    @functools.wraps(view)
    def check_then_call(*args: Any, **kwargs: Any) -> object:
        current_app.extensions[EXTENSION].hit(rate, scope)
        return view(*args, **kwargs)

    return cast(_View, check_then_call)


def search_limit(view: _View) -> _View:
    """Mark ``view`` as a search endpoint, limited per client by ``search_rate_limit``.

    Works above or below the route decorator: it only marks the function, and
    :func:`init_app` puts the limit on every marked view once all blueprints are registered.
    """
    setattr(view, _MARK, True)
    return view


def parse_rate(value: str, variable: str) -> limits.RateLimitItem:
    """A rate string such as ``"120/minute"``.

    Raises:
        SettingsError: naming ``variable`` when the string is not a rate.
    """
    try:
        return limits.parse(value)
    except ValueError as exc:
        raise SettingsError(f"{variable}={value!r} is not a rate such as '120/minute'") from exc


def init_app(app: Flask) -> None:
    """Set up the client address, the counters and the search limit; call after registering
    every blueprint.

    Raises:
        SettingsError: the rate or the storage URL is malformed, or the storage needs a
            package that is not installed.
    """
    settings: Settings = app.extensions["registry"].settings
    rate = parse_rate(settings.search_rate_limit, "REGISTRY_SEARCH_RATE_LIMIT")
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0, x_host=0
        )
    try:
        storage = storage_from_string(_storage_uri(settings.ratelimit_storage_url))
    except ConfigurationError as exc:
        raise SettingsError(f"REGISTRY_RATELIMIT_STORAGE_URL: {exc}") from exc
    if not isinstance(storage, Storage):  # an async:// storage: not for a WSGI app
        raise SettingsError("REGISTRY_RATELIMIT_STORAGE_URL: use a synchronous storage")
    app.extensions[EXTENSION] = Limits(storage, rate)
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, _MARK, False):
            app.view_functions[endpoint] = limited(view, rate, SCOPE)


def _storage_uri(url: str) -> str:
    if url.startswith("memory://"):
        return "registry-memory://" + url.removeprefix("memory://")
    return url
