"""The migrations: one linear history that builds exactly the schema the models describe."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask.testing import FlaskClient
from sqlalchemy import Engine, Row, text
from sqlalchemy.exc import IntegrityError

import registry.store.receipts
import registry.store.scans
import registry.store.search
from registry.app import Registry
from registry.services import lookup, search
from registry.store import schema
from registry.store.db import make_engine
from registry.store.models import Base
from tests.conftest import push_accepted

#: Objects only migrations create: the prefix-search index on certificate numbers is an
#: expression index (COLLATE "C") on PostgreSQL, which the models cannot declare portably
#: (on SQLite the models' ``ix_certificate_number`` serves prefix search too).
MIGRATION_ONLY = {"ix_search_certificate_number"}


def declared_in_models(
    obj: object, name: str | None, kind: str, reflected: bool, compare_to: object
) -> bool:
    return name not in MIGRATION_ONLY


def test_the_history_is_linear() -> None:
    assert len(ScriptDirectory.from_config(schema.alembic_config()).get_heads()) == 1
    del registry.store.receipts, registry.store.scans


def test_migrations_build_the_models_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert schema.current_revision(engine) == schema.head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": declared_in_models}
            )
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


#: What revision 0006 (records keyed by log index) must carry over, row for row.
_RECORDS = text(
    "SELECT log_index, issuer_id, certificate_number, version, envelope, record_hash, kid,"
    " received_at, status, effective_from, flagged FROM record ORDER BY log_index"
)
_CURRENT_VERSIONS = text(
    "SELECT c.certificate_number, r.version, r.log_index FROM certificate c"
    " JOIN record r ON r.log_index = c.log_index ORDER BY c.certificate_number"
)


def _contents(engine: Engine) -> tuple[list[Row[Any]], list[Row[Any]]]:
    with engine.connect() as connection:
        return list(connection.execute(_RECORDS)), list(connection.execute(_CURRENT_VERSIONS))


def test_rekeying_records_by_log_index_keeps_every_row_both_ways(
    state: Registry, client: FlaskClient, make_envelope: Callable[..., dict[str, Any]]
) -> None:
    suspended = {"status": "suspended", "status_reason": "监督审核不合格"}
    push_accepted(
        client,
        make_envelope(),
        make_envelope(version=2, status_effective_date="2026-02-20", **suspended),
        make_envelope(certificate_number="CQC-ASS-2024-000124"),
    )
    engine = state.engine
    before = _contents(engine)
    assert [tuple(row)[1] for row in before[1]] == [2, 1]  # current versions: 000123 v2, 000124 v1

    schema.downgrade(engine, "0005")
    assert _contents(engine) == before
    with engine.connect() as connection:
        ids = connection.execute(text("SELECT id FROM record ORDER BY log_index")).scalars()
        assert len(set(ids)) == 3  # the surrogate key is back, one per row

    schema.upgrade(engine)
    assert _contents(engine) == before
    assert schema.current_revision(engine) == schema.head_revision()
    # The certificate still references its record.
    with engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(text("UPDATE certificate SET log_index = 999"))
    # And the app writes and reads through the new key.
    push_accepted(client, make_envelope(version=3, status="valid"))
    current = client.get("/api/v1/certificates/CQC-ASS-2024-000123").get_json()
    assert current["version"] == 3


def _sqlite_plan(tmp_path: Path, statement: Any, params: tuple[object, ...]) -> list[str]:
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    schema.upgrade(engine)
    sql = str(statement.compile(dialect=engine.dialect))
    raw = engine.raw_connection()
    try:
        plan = raw.cursor().execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    finally:
        raw.close()
        engine.dispose()
    details = [str(row[-1]) for row in plan]
    assert not any(d.startswith("SCAN") for d in details), details
    return details


def test_the_lookup_reads_the_number_index_and_the_record_by_its_rowid(tmp_path: Path) -> None:
    """The lookup's one query reads the certificate part from the number index alone, then
    joins to the record on its key: on SQLite the rowid, one B-tree search, not an index
    search followed by a table search."""
    details = _sqlite_plan(tmp_path, lookup._CURRENT._statement, (1, "X"))
    assert any("certificate USING COVERING INDEX ix_certificate_number" in d for d in details)
    assert any("record USING INTEGER PRIMARY KEY (rowid=?)" in d for d in details), details


def test_the_number_prefix_search_is_a_range_of_the_number_index(tmp_path: Path) -> None:
    statement = search._statement("prefix", search._Filters())
    details = _sqlite_plan(tmp_path, statement, ("CQC-", "CQC.", 20, 0))
    expected = "certificate USING INDEX ix_certificate_number (certificate_number>? AND"
    assert any(expected in d for d in details), details


def test_an_upgrade_that_breaks_references_is_rolled_back_whole(tmp_path: Path) -> None:
    """On SQLite foreign keys are off while revisions run: a reference broken by the end is
    caught before the commit, and the rollback undoes the DDL too (the table rebuild of 0006)."""
    path = tmp_path / "broken.db"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine, "0005")
    raw = sqlite3.connect(path)  # foreign keys are off on a plain connection
    raw.execute(
        "INSERT INTO certificate (issuer_id, certificate_number, version, log_index,"
        " organisation_name, uscc, scheme, tier, status, issue_date, expiry_date, received_at)"
        " VALUES ('NOBODY', 'N-1', 1, 42, 'x', 'x', 'x', 'x', 'valid', '2026-01-01',"
        " '2027-01-01', '2026-01-01 00:00:00')"
    )
    raw.commit()
    raw.close()
    try:
        with pytest.raises(schema.MigrationError, match="broke references"):
            schema.upgrade(engine)
        assert schema.current_revision(engine) == "0005"
        with engine.connect() as connection:
            columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_info(record)")}
            tables = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name = 'record_new'"
            ).all()
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert "id" in columns  # 0006's rebuild was undone
        assert tables == []
    finally:
        engine.dispose()
