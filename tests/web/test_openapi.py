"""The OpenAPI document at /api/openapi.json matches what the API does (schemathesis).

Every documented GET operation is called with generated parameters against a seeded app, and
every answer must be a documented status with a documented content type and a body that
matches its schema, and never a server error. Generated certificate numbers and USCCs rarely
exist, so a second test drives the same checks through real ones.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.web.openapi import document

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

#: Certificates pushed before each run: a plain one, one with history, an organisation with two.
NUMBERS = ("CQC-ASS-2024-000123", "CQC-ASS-2024-000124", "CQC-ASS-2024-000125")
USCC = "91330100MA2H3B4C5X"


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the document describes the web layer, which is the same on both backends."""
    target = tmp_path / "registry.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def seeded(app: Flask, client: FlaskClient, make_envelope: Callable[..., dict[str, Any]]) -> Flask:
    envelopes = [make_envelope(certificate_number=n) for n in NUMBERS]
    envelopes.append(
        make_envelope(
            certificate_number=NUMBERS[1],
            version=2,
            status="suspended",
            status_reason="未按期接受监督审核",
            status_effective_date="2025-06-01",
        )
    )
    response = client.post("/api/v1/records", json=envelopes)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["accepted"] == len(envelopes)
    return app


# The document is static, so it is loaded once here and every case is sent to each test's own
# seeded app. (schemathesis.pytest.from_fixture would load it from the app, but 4.x reads
# pytest's private Item._nodeid, which pytest 9 no longer has.)
schema = schemathesis.openapi.from_dict(document())


def test_the_served_document_is_the_one_tested(client: FlaskClient) -> None:
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    assert answer.get_json() == document()
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


@schema.include(method="GET").parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_generated_requests_get_documented_answers(case: schemathesis.Case, seeded: Flask) -> None:
    case.call_and_validate(app=seeded, checks=CHECKS)


@pytest.mark.parametrize(
    ("operation", "path_parameters", "query"),
    [
        ("getCertificate", {"number": NUMBERS[0]}, {}),
        ("getCertificate", {"number": NUMBERS[1]}, {"at": "2025-07-01"}),
        ("getCertificate", {"number": NUMBERS[1]}, {"at": "2019-01-01"}),
        ("getCertificate", {"number": NUMBERS[0]}, {"issuer": "CNCA-R-2002-001"}),
        ("getCertificate", {"number": NUMBERS[0]}, {"at": "2025-13-01"}),
        ("getCertificate", {"number": "NO-SUCH-NUMBER"}, {}),
        ("getCertificateHistory", {"number": NUMBERS[1]}, {}),
        ("getCertificateHistory", {"number": "NO-SUCH-NUMBER"}, {}),
        ("getOrganisation", {"uscc": USCC}, {}),
        ("getOrganisation", {"uscc": "91330100MA2H3B4C5Y"}, {}),
        ("getOrganisation", {"uscc": "91110000100000000X"}, {}),
        ("getIssuers", {}, {}),
        ("getOpenAPI", {}, {}),
        ("search", {}, {"q": "海川"}),
        ("search", {}, {"q": "电"}),
        ("search", {}, {"q": USCC}),
        ("search", {}, {"q": NUMBERS[0]}),
        ("search", {}, {"q": "茶餐厅"}),
        ("search", {}, {"q": ""}),
        ("getJWKS", {}, {}),
        ("getReceiptKey", {}, {}),
    ],
)
def test_real_requests_get_documented_answers(
    seeded: Flask, operation: str, path_parameters: dict[str, str], query: dict[str, str]
) -> None:
    case = schema.find_operation_by_id(operation).Case(path_parameters=path_parameters, query=query)
    response = case.call_and_validate(app=seeded, checks=CHECKS)
    assert response.status_code < 500


def test_a_missing_certificate_is_documented_as_404(client: FlaskClient) -> None:
    """Regression guard for the document itself: a status the API uses must be listed."""
    answer = client.get("/api/v1/certificates/NO-SUCH-NUMBER")
    documented = document()["paths"]["/api/v1/certificates/{number}"]["get"]["responses"]
    assert answer.status_code == 404
    assert str(answer.status_code) in documented
    assert answer.get_json()["error"]["code"] == "CertificateNotFound"


def test_every_api_route_is_documented(app: Flask) -> None:
    """A new /api/v1 route without an entry in the document fails here."""
    documented = set(document()["paths"])
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/.well-known/")):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        path = path.replace("{path:", "{").replace("{int:", "{")
        if path not in documented:
            missing.append(rule.rule)
    assert missing == []
