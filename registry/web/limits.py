"""Rate limits on search, per client address (flask-limiter).

Every view marked with :func:`search_limit` (the JSON search API and the HTML search page)
draws from one budget per client address, ``Settings.search_rate_limit`` (e.g.
``"120/minute"``). Counters live in ``Settings.ratelimit_storage_url``: ``memory://`` (per
process) by default, ``redis://host:6379`` to share them between hosts and workers. Behind
reverse proxies, ``Settings.trusted_proxies`` says how many of them append to
X-Forwarded-For; the client address is taken from there (werkzeug's ProxyFix) and from the
socket otherwise, so a client cannot pick its own address with a forged header.

Over the limit, the answer is 429 with ``Retry-After`` (JSON for the API, an HTML page for
people), never a captcha.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import limits
from flask import Flask, Response, current_app
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from registry.settings import Settings, SettingsError
from registry.web.errors import APIError, error_response

#: Where the app keeps its :class:`Limiter` (one per app: tests build many apps).
EXTENSION = "registry.limiter"
#: The scope shared by every search view, so pages and API draw from one budget.
SCOPE = "search"

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


def search_limit(view: _View) -> _View:
    """Mark ``view`` as a search endpoint, limited per client by ``search_rate_limit``.

    Works above or below the route decorator: it only marks the function, and
    :func:`init_app` puts the limit on every marked view once all blueprints are registered.
    """
    setattr(view, _MARK, True)
    return view


def init_app(app: Flask) -> None:
    """Set up the client address, the limiter and the 429 answer; call after registering
    every blueprint.

    Raises:
        SettingsError: the rate or the storage URL is malformed, or the storage needs a
            package that is not installed.
    """
    settings: Settings = app.extensions["registry"].settings
    try:
        limits.parse(settings.search_rate_limit)
    except ValueError as exc:
        raise SettingsError(
            f"REGISTRY_SEARCH_RATE_LIMIT={settings.search_rate_limit!r} is not a rate such as "
            "'120/minute'"
        ) from exc
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=0, x_host=0
        )
    limiter = Limiter(
        get_remote_address,
        storage_uri=_storage_uri(settings.ratelimit_storage_url),
        key_prefix="registry",
        headers_enabled=False,  # it would put Retry-After on every 200; 429s carry their own
    )
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:
        raise SettingsError(f"REGISTRY_RATELIMIT_STORAGE_URL: {exc}") from exc
    _drop_global_hooks(app, limiter)
    limit = limiter.shared_limit(settings.search_rate_limit, scope=SCOPE)
    for endpoint, view in list(app.view_functions.items()):
        if getattr(view, _MARK, False):
            limited: Any = limit(view)  # flask-limiter types it as possibly async; it is not
            app.view_functions[endpoint] = limited
    app.extensions[EXTENSION] = limiter
    app.register_error_handler(RateLimitExceeded, _rate_limited)


def _drop_global_hooks(app: Flask, limiter: Limiter) -> None:
    """Remove the hooks flask-limiter puts on every request.

    The before- and after-request hooks serve default and application-wide limits, which the
    registry does not set: every limit here is on a view, and a limited view checks itself in
    its decorator. The teardown hook resets the limiter's per-request state, which lives on the
    request context and is discarded with it anyway. Left in place, the three cost about a
    tenth of a millisecond on every request (lookups, pages, QR images), limited or not.
    """

    app.before_request_funcs[None] = _without(app.before_request_funcs.get(None, []), limiter)
    app.after_request_funcs[None] = _without(app.after_request_funcs.get(None, []), limiter)
    app.teardown_request_funcs[None] = _without(app.teardown_request_funcs.get(None, []), limiter)


_Hook = TypeVar("_Hook")


def _without(hooks: list[_Hook], limiter: Limiter) -> list[_Hook]:
    """``hooks`` without those of ``limiter`` (bound methods, or partials taking it first)."""

    def ours(hook: object) -> bool:
        if isinstance(hook, partial):
            return hook.args[:1] == (limiter,)
        return getattr(hook, "__self__", None) is limiter

    return [hook for hook in hooks if not ours(hook)]


def _storage_uri(url: str) -> str:
    if url.startswith("memory://"):
        return "registry-memory://" + url.removeprefix("memory://")
    return url


def _rate_limited(error: RateLimitExceeded) -> Response:
    limiter: Limiter = current_app.extensions[EXTENSION]
    current = limiter.current_limit
    wait = max(1, int(current.reset_at - time.time())) if current is not None else 60
    return error_response(
        APIError(
            429,
            "RateLimited",
            f"too many requests from your address (at most {error.description}); "
            f"try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    )
