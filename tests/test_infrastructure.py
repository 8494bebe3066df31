"""The test infrastructure itself: the PostgreSQL cluster, the live server, the pins."""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


ROOT = Path(__file__).resolve().parents[1]


def test_constraints_pin_every_dependency_for_one_python() -> None:
    pins = [
        Requirement(line)
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all(
        len(pin.specifier) == 1 and next(iter(pin.specifier)).operator == "==" for pin in pins
    )
    assert {str(pin.marker) for pin in pins} == {'python_version == "3.11"'}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [
        *project["dependencies"],
        *(r for extra in project["optional-dependencies"].values() for r in extra),
    ]
    pinned = {canonicalize_name(pin.name) for pin in pins}
    names = {canonicalize_name(Requirement(r).name) for r in wanted} - {project["name"]}
    assert names <= pinned, f"not in constraints.txt (run make constraints): {names - pinned}"
