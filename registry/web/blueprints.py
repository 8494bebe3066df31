"""Registers every blueprint, the error handlers and the security headers."""

from __future__ import annotations

from flask import Flask, Response

from registry.web import (
    api,
    checks,
    errors,
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
    """Attach blueprints, error handlers and the after-request security headers."""
    errors.init_app(app)
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
    app.after_request(_security_headers)
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


def _security_headers(response: Response) -> Response:
    # One pass over the headers already set, then plain appends: Werkzeug's Headers.setdefault
    # validates and scans the list for each call, a measurable cost on every request.
    present = {name.lower() for name, _ in response.headers.to_wsgi_list()}
    for name, value in SECURITY_HEADERS:
        if name.lower() not in present:
            response.headers.add(name, value)
    return response
