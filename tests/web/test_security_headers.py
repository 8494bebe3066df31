"""Every response carries the security headers; a view's own CSP is kept."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from registry.web.blueprints import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/", "/api/v1/schemes", "/api/v1/nope", "/c/NOPE-1", "/log/key"])
def test_every_response_has_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.headers.get_all("Content-Security-Policy") == [CONTENT_SECURITY_POLICY]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


def test_a_views_own_policy_wins() -> None:
    """An SVG label sets ``default-src 'none'`` itself; the app-wide policy must not be added."""
    from flask import Flask, Response

    from registry.web.blueprints import SecurityHeaders

    app = Flask("svg")

    @app.get("/label.svg")
    def label() -> Response:
        response = Response("<svg/>", mimetype="image/svg+xml")
        response.headers["content-security-policy"] = "default-src 'none'"
        return response

    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    response = app.test_client().get("/label.svg")
    assert response.headers.get_all("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_unhandled_error_has_them_too(client: FlaskClient) -> None:
    """Headers are added below Flask, so even its last-resort 500 answer carries them."""
    app = client.application
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["X-Content-Type-Options"] == "nosniff"
