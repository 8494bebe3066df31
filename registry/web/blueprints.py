"""Registers every blueprint, the error handlers and the security headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

from registry.web import (
    api,
    checks,
    cors,
    errors,
    fastpath,
    i18n,
    ingest,
    limits,
    log,
    openapi,
    pages,
    scan,
    search,
    wellknown,
)

#: No inline script or style anywhere: templates load /static files only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    """Attach blueprints, error handlers, the fast paths and the security headers (WSGI
    middleware)."""
    errors.init_app(app)
    cors.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(ingest.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(log.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(checks.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(wellknown.bp)
    scan.init_app(app)
    hot = [
        api.lookup_fast_path(app.extensions["registry"]),
        scan.image_fast_path(app),
        pages.certificate_fast_path(app),
        scan.scan_page_fast_path(app),
    ]
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]
        fastpath.FastPaths(app.wsgi_app, hot, {"/api/v1/search": search.search_fast_path(app)})
    )
    limits.init_app(app)  # last: it limits the views marked @search_limit in every blueprint
    scan.limit_reports(app)  # after limits: it uses the app's limiter


#: Sent with every response. Views may set their own Content-Security-Policy first (an SVG
#: opened directly gets ``default-src 'none'``); the others are the same everywhere.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
)


class SecurityHeaders:
    """WSGI middleware adding :data:`SECURITY_HEADERS` to every response that lacks them.

    At the WSGI level the headers are a plain list of pairs, so this costs a few microseconds,
    a fraction of an after-request hook working through Werkzeug's ``Headers``; and it covers
    every response, error pages included.
    """

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            add_security_headers(headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def add_security_headers(headers: list[tuple[str, str]]) -> None:
    """Append to ``headers`` each security header it does not already have."""
    present = {name.lower() for name, _ in headers}
    headers.extend(pair for pair in SECURITY_HEADERS if pair[0].lower() not in present)
