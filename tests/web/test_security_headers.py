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

    from registry.web.blueprints import _security_headers

    app = Flask("svg")
    with app.test_request_context():
        response = Response("<svg/>", mimetype="image/svg+xml")
        response.headers["Content-Security-Policy"] = "default-src 'none'"
        response = _security_headers(response)
    assert response.headers.get_all("Content-Security-Policy") == ["default-src 'none'"]
    assert response.headers["X-Frame-Options"] == "DENY"
