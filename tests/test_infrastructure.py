"""The test infrastructure itself: the PostgreSQL cluster and the live server."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.live_server import serve


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_postgres_is_version_15_with_the_test_database(postgres: sa.Engine) -> None:
    with postgres.connect() as conn:
        version = conn.scalar(sa.text("SELECT version()"))
        database = conn.scalar(sa.text("SELECT current_database()"))
    assert "PostgreSQL 15" in str(version)
    assert database == "registry_test"


@pytest.mark.postgres
def test_postgres_has_pg_trgm(postgres: sa.Engine) -> None:
    with postgres.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        similarity = conn.scalar(sa.text("SELECT similarity('registry', 'registries')"))
    assert similarity is not None
    assert similarity > 0.5


@pytest.mark.postgres
def test_postgres_treats_chinese_as_text(postgres: sa.Engine) -> None:
    # The cluster's ctype is UTF-8, so case mapping and pattern matching see characters, not bytes.
    with postgres.connect() as conn:
        assert conn.scalar(sa.text("SELECT length('杭州海川电器')")) == 6
        assert conn.scalar(sa.text("SELECT '杭州海川电器' ILIKE '%海川%'")) is True


@pytest.mark.postgres
def test_postgres_admin_url_can_create_and_drop_databases(postgres_admin_url: str) -> None:
    admin = sa.create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("CREATE DATABASE infrastructure_probe"))
            conn.execute(sa.text("DROP DATABASE infrastructure_probe"))
    finally:
        admin.dispose()


def test_live_server_serves_and_stops() -> None:
    app = Flask(__name__)

    @app.get("/ping")
    def ping() -> str:
        return "pong"

    with (
        serve(app) as base_url,
        urllib.request.urlopen(base_url + "/ping", timeout=5) as response,  # noqa: S310
    ):
        assert response.read() == b"pong"

    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(base_url + "/ping", timeout=5)  # noqa: S310
