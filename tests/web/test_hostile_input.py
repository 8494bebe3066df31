"""Input no real client sends: refused with a clear 4xx on both databases, never a 500.

PostgreSQL's text cannot hold a NUL character (psycopg raises DataError), where SQLite stores
it, so a NUL in a path, a query parameter or a form field must be refused before it reaches
a query.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.web.test_ingest_api import MakeEnvelope, push


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/certificates/%00", 404, "NotFound"),
        ("/api/v1/certificates/a%00b/history", 404, "NotFound"),
        ("/api/v1/receipts/%00", 404, "NotFound"),
        ("/c/%00", 404, "NotFound"),
        ("/c/%00/qr.svg", 404, "NotFound"),
        ("/c/%00/proof.json", 404, "NotFound"),
        ("/o/%00", 404, "NotFound"),
        ("/api/v1/log/proof/inclusion?certificate=%00", 404, "CertificateNotFound"),
        ("/api/v1/log/proof/inclusion?certificate=a%00", 404, "CertificateNotFound"),
        ("/api/v1/certificates/CQC-ASS-2024-000123?issuer=%00", 404, "CertificateNotFound"),
        ("/api/v1/search?q=a%00b", 400, "InvalidQuery"),
    ],
)
def test_a_nul_character_is_refused(
    client: FlaskClient, make_envelope: MakeEnvelope, path: str, status: int, code: str
) -> None:
    push(client, make_envelope())
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code


def test_a_nul_character_in_a_form_is_refused(
    client: FlaskClient, make_envelope: MakeEnvelope
) -> None:
    envelope = make_envelope()
    push(client, envelope)
    response = client.post(
        "/label-reports",
        data={"token": envelope["qr"], "details": "a\x00b", "place": "x"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "InvalidParameter"


def test_a_method_not_allowed_says_which_are(client: FlaskClient) -> None:
    response = client.put("/api/v1/certificates/X")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "MethodNotAllowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/search?q=", "/api/v1/search?q=x&limit=0", "/api/v1/nope", "/log/tile/x"],
)
def test_errors_of_the_public_api_are_readable_cross_origin(client: FlaskClient, path: str) -> None:
    """A browser client must be able to read why it was refused (and a 429's Retry-After)."""
    response = client.get(path, headers={"Origin": "https://example.org"})
    assert response.status_code >= 400
    assert response.headers.get_all("Access-Control-Allow-Origin") == ["*"]
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


def test_a_json_download_that_fails_says_why_in_json(client: FlaskClient) -> None:
    """/c/<number>/proof.json is fetched by programs and saved as a file: its errors are JSON
    whatever the client accepts, not an HTML page saved as proof.json."""
    response = client.get("/c/NOPE-1/proof.json")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "CertificateNotFound"


@pytest.mark.parametrize(
    ("path", "method", "headers"),
    [
        ("/api/v1/checks", "POST", "content-type"),
        ("/api/v1/certificates/X", "GET", "if-none-match"),
        ("/api/v1/search", "GET", "if-none-match"),
        ("/log/checkpoint", "GET", "if-none-match"),
    ],
)
def test_a_cors_preflight_is_answered(
    client: FlaskClient, path: str, method: str, headers: str
) -> None:
    """A browser asks before a cross-origin JSON POST (a bulk check) or a GET with a header a
    script set (If-None-Match); without these answers it refuses to send the request."""
    response = client.options(
        path,
        headers={
            "Origin": "https://tender.example.org",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers.get_all("Access-Control-Allow-Origin") == ["*"]
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert headers in response.headers["Access-Control-Allow-Headers"].lower()
