"""A PostgreSQL restart costs no failed requests: pooled connections the server dropped are
noticed on checkout (``pool_pre_ping``) and replaced; the reads that go through the pool that
does not ping (``registry.store.prepared.pg_reader``: the hot reads and the read sessions of
search and the organisation page) run once more on a fresh connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.store.prepared import pg_reader
from tests.conftest import push_accepted
from tests.postgres import drop_every_connection

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
    for path in paths:  # each first after a restart: no other request cleans up before it
        # Several connections in each pool, as under load: each request takes one in turn.
        held = [pool.raw_connection() for pool in (engine, pg_reader(engine)) for _ in range(4)]
        for connection in held:
            connection.close()
        assert drop_every_connection(engine, postgres_admin_url) >= 1
        assert client.get(path).status_code == 200, path
        assert client.get(path).status_code == 200, path


@pytest.mark.postgres
def test_search_reads_without_a_ping(
    app: Flask,
    client: FlaskClient,
    make_envelope: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = app.extensions["registry"].engine
    if engine.dialect.name != "postgresql":
        return  # SQLite has no server to ping
    push_accepted(client, make_envelope())
    companion = pg_reader(engine)
    pings: list[object] = []
    monkeypatch.setattr(companion.dialect, "do_ping", lambda connection: pings.append(1))
    for path in PATHS[3:]:
        assert client.get(path).status_code == 200, path
    assert pings == []
