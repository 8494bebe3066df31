"""Fixtures shared by the whole suite.

App-level tests run twice, on SQLite and on a real PostgreSQL 15 cluster (tests/postgres.py).
Each test gets a fresh, migrated database cheaply: the schema is migrated once per session into
a template (a file for SQLite, a template database for PostgreSQL) that each test copies.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from registry import create_app
from registry.app import LOG_KEY_FILE, Registry
from registry.client import Signer
from registry.crypto.keys import PrivateKey
from registry.services.issuers import register_issuer
from registry.store import schema
from registry.store.db import make_engine

pytest_plugins = ["tests.postgres"]

SHARED_VECTORS = Path(__file__).resolve().parents[2] / "shared" / "vectors"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


class Clock:
    """A settable clock for the app: tests move time instead of sleeping."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "registry.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str) -> str:
    """Name of a PostgreSQL template database holding the migrated schema."""
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS registry_template"))
        connection.execute(text("CREATE DATABASE registry_template"))
    url = make_url(postgres_admin_url).set(database="registry_template")
    engine = make_engine(url.render_as_string(hide_password=False))
    schema.upgrade(engine)
    engine.dispose()
    admin.dispose()
    return "registry_template"


_database_numbers = itertools.count()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "registry.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"registry_test_{next(_database_numbers)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def keys_path(tmp_path: Path) -> Path:
    path = tmp_path / "keys"
    path.mkdir()
    (path / LOG_KEY_FILE).write_bytes(PrivateKey.from_seed(bytes(range(32))).to_pem())
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def app(database_url: str, keys_path: Path, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    app = create_app(
        {
            "database_url": database_url,
            "keys_path": keys_path,
            "instance_path": tmp_path / "instance",
            "public_url": "https://registry.example.cn",
        },
        environ={},
    )
    app.config["TESTING"] = True
    app.extensions["registry"].clock = clock
    yield app
    app.extensions["registry"].engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def state(app: Flask) -> Registry:
    registry: Registry = app.extensions["registry"]
    return registry


@pytest.fixture
def session(state: Registry) -> Iterator[Session]:
    with state.sessions() as session:
        yield session


ISSUER_ID = "CNCA-R-2002-001"
#: The test issuer's key (the ``issuer_key`` fixture), for helpers that sign outside a test.
ISSUER_KEY = PrivateKey.from_seed(b"issuer-one-seed-for-tests-000001")


@pytest.fixture
def issuer_key() -> PrivateKey:
    return ISSUER_KEY


@pytest.fixture
def signer(state: Registry, issuer_key: PrivateKey, clock: Clock) -> Signer:
    """The test issuer, registered with one key a day before the clock's now."""
    with state.sessions() as session:
        register_issuer(
            session,
            ISSUER_ID,
            "测试认证中心",
            "Test Certification Centre",
            issuer_key.public_key,
            clock.now,
            valid_from=clock.now - dt.timedelta(days=1),
        )
        session.commit()
    return Signer(issuer_key)


SECOND_ISSUER_ID = "CNCA-R-2010-007"


@pytest.fixture
def second_signer(state: Registry, clock: Clock) -> Signer:
    """A second issuer, registered a day before the clock's now: for numbers two issuers use."""
    key = PrivateKey.from_seed(b"issuer-two-seed-for-tests-000002")
    with state.sessions() as session:
        register_issuer(
            session,
            SECOND_ISSUER_ID,
            "另一认证机构",
            None,
            key.public_key,
            clock.now - dt.timedelta(days=1),
        )
        session.commit()
    return Signer(key)


def record_json(**changes: Any) -> dict[str, Any]:
    """A valid after-sales-service record; keyword arguments replace top-level fields."""
    record: dict[str, Any] = {
        "type": "certificate-record/1",
        "certificate_number": "CQC-ASS-2024-000123",
        "issuer": ISSUER_ID,
        "version": 1,
        "organisation": {
            "name": "杭州海川电器有限公司",
            "uscc": "91330100MA2H3B4C5X",
            "address": "浙江省杭州市西湖区文三路100号",
        },
        "scheme": "after-sales-service",
        "standard": "GB/T 27922-2011",
        "tier": "五星级",
        "score": {"value": 96, "scale": 100},
        "scope": "家用电器的销售及售后服务（安装、维修、退换货）",
        "original_issue_date": "2021-03-01",
        "issue_date": "2024-03-01",
        "expiry_date": "2027-02-28",
        "status": "valid",
        "surveillance": {"last_audit_date": "2025-02-20", "next_due_date": "2026-02-28"},
    }
    record.update(changes)
    return record


def push_accepted(client: FlaskClient, *envelopes: dict[str, Any]) -> None:
    """Push ``envelopes`` in one batch through the API and check every one was accepted."""
    response = client.post("/api/v1/records", json=list(envelopes))
    report = response.get_json()
    assert report["accepted"] == len(envelopes), report


@pytest.fixture
def make_envelope(signer: Signer) -> Callable[..., dict[str, Any]]:
    """Sign a record built by :func:`record_json` with the test issuer's key."""

    def make(**changes: Any) -> dict[str, Any]:
        return signer.envelope(record_json(**changes), issued_at=1_767_225_600)

    return make


@pytest.fixture
def shared_vectors() -> Path:
    if not SHARED_VECTORS.is_dir():
        import os

        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance vectors missing at {SHARED_VECTORS}")
        pytest.skip("../shared/vectors not beside the checkout")
    return SHARED_VECTORS


@pytest.fixture
def fresh_app_factory(database_url: str, keys_path: Path, tmp_path: Path) -> Callable[..., Flask]:
    def factory(**overrides: Any) -> Flask:
        settings: dict[str, Any] = {
            "database_url": database_url,
            "keys_path": keys_path,
            "instance_path": tmp_path / "instance",
        }
        settings.update(overrides)
        return create_app(settings, environ={})

    return factory
