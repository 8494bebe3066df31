"""GET /api/v1/search end to end, and its rate limit, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.app import db, read_db, registry
from registry.client import Signer
from registry.settings import SettingsError
from registry.store.prepared import pg_reader
from tests.conftest import ISSUER_ID
from tests.postgres import pooled_driver_connection, server_prepared_statements
from tests.services.test_search import USCC, certificate, wrong_check

MakeEnvelope = Callable[..., dict[str, Any]]


@pytest.fixture
def pushed(client: FlaskClient, signer: Signer) -> None:
    rows = [
        certificate("ASS-0001", "杭州海川电器有限公司", USCC[0], former=["杭州海川电器厂"]),
        certificate("ASS-0002", "深圳市华信科技有限公司", USCC[1], status="suspended"),
        certificate("ASS-0003", "深圳市华信物流有限公司", USCC[2]),
    ]
    envelopes = [signer.envelope(row, issued_at=1) for row in rows]
    response = client.post("/api/v1/records", json=envelopes)
    assert response.get_json()["accepted"] == 3, response.get_json()


def get(client: FlaskClient, query: str) -> tuple[int, dict[str, Any], Any]:
    response = client.get(f"/api/v1/search?{query}")
    return response.status_code, response.get_json(), response.headers


@pytest.mark.usefixtures("pushed")
def test_a_name_search_answers_groups_with_certificates(client: FlaskClient) -> None:
    status, body, headers = get(client, "q=" + quote("电器厂"))
    assert status == 200
    assert body == {
        "query": "电器厂",
        "kind": "name",
        "results": [
            {
                "organisation": {
                    "uscc": USCC[0],
                    "name": "杭州海川电器有限公司",
                    "former_names": ["杭州海川电器厂"],
                    "matched_former_name": "杭州海川电器厂",
                },
                "certificates": [
                    {
                        "certificate_number": "ASS-0001",
                        "issuer": ISSUER_ID,
                        "scheme": "after-sales-service",
                        "tier": "五星级",
                        "status": {"code": "valid", "zh": "有效", "en": "Valid"},
                        "expiry_date": "2027-02-28",
                        "url": f"/api/v1/certificates/ASS-0001?issuer={ISSUER_ID}",
                    }
                ],
            }
        ],
        "next_cursor": None,
        "uscc_problem": None,
    }
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=10" in headers["Cache-Control"]
    assert "Retry-After" not in headers


@pytest.mark.usefixtures("pushed")
def test_the_certificate_url_resolves(client: FlaskClient) -> None:
    _, body, _ = get(client, "q=ASS-0002")
    assert body["kind"] == "number"
    url = body["results"][0]["certificates"][0]["url"]
    assert client.get(url).status_code == 200


@pytest.mark.usefixtures("pushed")
def test_filters_and_cursor_pages(client: FlaskClient) -> None:
    _, body, _ = get(client, "q=" + quote("深圳") + "&status=suspended")
    assert [r["organisation"]["name"] for r in body["results"]] == ["深圳市华信科技有限公司"]
    _, first, _ = get(client, "q=" + quote("深圳") + "&limit=1")
    assert len(first["results"]) == 1
    assert first["next_cursor"]
    _, second, _ = get(client, "q=" + quote("深圳") + "&limit=1&cursor=" + first["next_cursor"])
    assert second["next_cursor"] is None
    assert {
        first["results"][0]["organisation"]["uscc"],
        second["results"][0]["organisation"]["uscc"],
    } == {
        USCC[1],
        USCC[2],
    }


@pytest.mark.usefixtures("pushed")
def test_a_mistyped_uscc_answers_the_problem(client: FlaskClient) -> None:
    status, body, _ = get(client, "q=" + wrong_check(USCC[0]))
    assert status == 200
    assert body["kind"] == "uscc"
    assert body["results"] == []
    assert body["uscc_problem"]["suggestion"] == USCC[0]
    assert body["uscc_problem"]["expected_check_character"] == USCC[0][17]


@pytest.mark.usefixtures("pushed")
def test_no_match_is_an_empty_answer(client: FlaskClient) -> None:
    status, body, _ = get(client, "q=" + quote("不存在"))
    assert (status, body["kind"], body["results"], body["next_cursor"]) == (200, "empty", [], None)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", "EmptyQuery"),
        ("q=", "EmptyQuery"),
        ("q=" + "x" * 5000, "QueryTooLong"),
        ("q=%E5%8D%8E%00", "InvalidQuery"),
        ("q=a%0Db", "InvalidQuery"),
        ("q=a&limit=abc", "InvalidLimit"),
        ("q=a&limit=-1", "InvalidLimit"),
        ("q=a&limit=1000", "InvalidLimit"),
        ("q=a&status=ok", "UnknownStatus"),
        ("q=a&scheme=x", "UnknownScheme"),
        ("q=a&tier=x", "UnknownTier"),
        ("q=a&issuer=%20", "InvalidIssuer"),
        ("q=a&cursor=%25%25", "InvalidCursor"),
        ("q=a&cursor=WyJuYW1lIiwtMSwiIl0", "InvalidCursor"),
    ],
)
def test_bad_input_is_a_json_400(client: FlaskClient, query: str, code: str) -> None:
    status, body, _ = get(client, query)
    assert status == 400
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_search_is_rate_limited_per_client_with_retry_after(
    fresh_app_factory: Callable[..., Flask],
) -> None:
    app = fresh_app_factory(search_rate_limit="2/minute")
    client = app.test_client()
    try:
        assert [get(client, "q=a")[0] for _ in range(2)] == [200, 200]
        status, body, headers = get(client, "q=b")
        assert status == 429
        assert body["error"]["code"] == "RateLimited"
        assert 1 <= int(headers["Retry-After"]) <= 60
        # Only search is limited.
        assert client.get("/api/v1/issuers").status_code == 200
        # Another client address has its own budget.
        other = client.get("/api/v1/search?q=a", environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert other.status_code == 200
    finally:
        app.extensions["registry"].engine.dispose()


@pytest.mark.parametrize(("proxies", "separate"), [(0, False), (1, True)])
def test_forwarded_addresses_count_only_behind_trusted_proxies(
    fresh_app_factory: Callable[..., Flask], proxies: int, separate: bool
) -> None:
    app = fresh_app_factory(search_rate_limit="1/minute", trusted_proxies=proxies)
    client = app.test_client()
    try:
        codes = [
            client.get(
                "/api/v1/search?q=a", headers={"X-Forwarded-For": f"198.51.100.{n}"}
            ).status_code
            for n in (1, 2)
        ]
        assert codes == ([200, 200] if separate else [200, 429])
    finally:
        app.extensions["registry"].engine.dispose()


@pytest.mark.parametrize(
    "settings",
    [{"search_rate_limit": "lots"}, {"ratelimit_storage_url": "nosuchstore://x"}],
)
def test_a_bad_limit_setting_fails_at_start(
    fresh_app_factory: Callable[..., Flask], settings: dict[str, str]
) -> None:
    with pytest.raises(SettingsError):
        fresh_app_factory(**settings)


@pytest.mark.usefixtures("pushed")
def test_searches_read_outside_a_transaction_on_postgresql(app: Flask, client: FlaskClient) -> None:
    """read_db(): on PostgreSQL the search runs in autocommit mode, so the request ends
    without a ROLLBACK and psycopg keeps the statements it prepared; on SQLite it is the
    request's usual session."""
    with app.test_request_context():
        reader, usual = read_db(), db()
        postgres = registry().engine.dialect.name == "postgresql"
        assert (reader is usual) is not postgres
        if postgres:
            assert reader.connection().connection.driver_connection.autocommit is True
            assert usual.connection().connection.driver_connection.autocommit is False
    # psycopg prepares a statement on its fifth run on a connection, and the pool hands out
    # its few connections in turn.
    for _ in range(20):
        assert get(client, "q=" + quote("华信"))[0] == 200
    if not postgres:
        return
    # Read sessions use the engine's companion pool (registry.store.prepared.pg_reader).
    with pooled_driver_connection(pg_reader(app.extensions["registry"].engine)) as driver:
        prepared = server_prepared_statements(driver)
    assert any("name_gram" in text for text in prepared), prepared
