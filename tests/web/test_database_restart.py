"""A PostgreSQL restart costs no failed requests: pooled connections the server dropped are
noticed on checkout (``pool_pre_ping``) and replaced; the hot reads, whose pool does not ping
(``registry.store.prepared.pg_reader``), run once more on a fresh pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from tests.conftest import push_accepted

PATHS = (
    "/api/v1/certificates/CQC-ASS-2024-000123",  # the fast path: a prepared engine read
    "/api/v1/certificates/CQC-ASS-2024-000123/history",
    "/c/CQC-ASS-2024-000123",
    "/api/v1/search?q=" + quote("海尔"),  # read_db(): an autocommit session
    "/search?q=" + quote("海尔"),
)


@pytest.mark.postgres
def test_requests_after_the_server_dropped_every_connection(
    app: Flask,
    client: FlaskClient,
    make_envelope: Callable[..., dict[str, Any]],
    postgres_admin_url: str,
) -> None:
    engine = app.extensions["registry"].engine
    if engine.dialect.name != "postgresql":
        return  # SQLite has no server to lose
    envelope = make_envelope()
    push_accepted(client, envelope)
    paths = (*PATHS, "/o/" + envelope["record"]["organisation"]["uscc"])
    for path in paths * 3:
        assert client.get(path).status_code == 200, path
    # Several connections in the pool, as under load: each request takes one in turn.
    held = [engine.raw_connection() for _ in range(4)]
    for connection in held:
        connection.close()
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            dropped = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": make_url(engine.url).database},
            ).scalar_one()
    finally:
        admin.dispose()
    assert dropped >= 1
    for path in paths:
        assert client.get(path).status_code == 200, path
