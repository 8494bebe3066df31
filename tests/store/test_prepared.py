"""Prepared statements give the rows SQLAlchemy would, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from registry.app import Registry
from registry.services.ingest import ingest
from registry.store.models import IssuerKey, LogState, RecordVersion
from registry.store.prepared import Prepared, pg_reader
from tests.conftest import Clock
from tests.postgres import pooled_driver_connection, server_prepared_statements

STATEMENT = (
    select(
        RecordVersion.certificate_number,
        RecordVersion.envelope,
        RecordVersion.received_at,
        RecordVersion.flagged,
        IssuerKey.compromised_at,
        select(LogState.size).where(LogState.id == 1).scalar_subquery(),
    )
    .join(IssuerKey, IssuerKey.kid == RecordVersion.kid)
    .where(RecordVersion.certificate_number == bindparam("number"))
    .order_by(RecordVersion.version)
)
PREPARED = Prepared(STATEMENT)


@pytest.fixture
def stored(
    state: Registry, make_envelope: Callable[..., dict[str, Any]], clock: Clock
) -> list[str]:
    numbers = ["P-1", "P-2"]
    with state.sessions() as session:
        envelopes = [make_envelope(certificate_number=n) for n in numbers]
        envelopes.append(make_envelope(certificate_number="P-1", version=2))
        ingest(session, envelopes, clock.now)
        session.commit()
    return numbers


def expected(session: Session, number: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(STATEMENT, {"number": number})]


def test_rows_match_sqlalchemy_on_a_session_and_on_the_engine(
    state: Registry, session: Session, stored: list[str]
) -> None:
    for number in [*stored, "NOPE"]:
        want = expected(session, number)
        assert PREPARED.all(session, number=number) == want
        assert PREPARED.all(state.engine, number=number) == want
    rows = PREPARED.all(state.engine, number="P-1")
    assert [len(rows), rows[0][0]] == [2, "P-1"]
    _, envelope, received_at, flagged, compromised_at, log_size = rows[0]
    assert isinstance(envelope, bytes)
    assert received_at.tzinfo is not None
    assert received_at.utcoffset() == dt.timedelta(0)
    assert flagged is False
    assert compromised_at is None
    assert log_size >= 3  # the literal bound in the statement itself (LogState.id == 1)


def test_a_missing_parameter_is_an_error(state: Registry, stored: list[str]) -> None:
    with pytest.raises(KeyError):
        PREPARED.all(state.engine)


def test_values_are_bound_not_spliced(state: Registry, stored: list[str]) -> None:
    assert PREPARED.all(state.engine, number="P-1' OR '1'='1") == []


def test_parameters_go_through_their_column_types(
    state: Registry, stored: list[str], clock: Clock
) -> None:
    """An aware datetime is bound as the column type stores it (naive UTC on SQLite)."""
    received = Prepared(
        select(RecordVersion.certificate_number)
        .where(
            RecordVersion.received_at <= bindparam("until", type_=RecordVersion.received_at.type)
        )
        .order_by(RecordVersion.log_index)
    )
    later = clock.now + dt.timedelta(hours=1)
    assert [n for (n,) in received.all(state.engine, until=later)] == ["P-1", "P-2", "P-1"]
    assert received.all(state.engine, until=clock.now - dt.timedelta(hours=1)) == []


def test_engine_reads_keep_postgresql_prepared_statements(
    state: Registry, stored: list[str]
) -> None:
    """A read on the engine runs outside a transaction, so returning the connection to the
    pool needs no ROLLBACK, which would make psycopg drop its prepared statements and
    PostgreSQL plan the query again on every request (about 0.45 ms for the lookup)."""
    engine = state.engine
    for _ in range(8):  # psycopg prepares a statement on its fifth run on a connection
        assert PREPARED.all(engine, number="P-1") == PREPARED.all(engine, number="P-1")
    if engine.dialect.name != "postgresql":
        return  # pysqlite neither prepares on the server nor begins a transaction to read
    with pooled_driver_connection(pg_reader(engine)) as driver:
        assert driver.autocommit is True  # the companion's connections never begin one
        prepared = server_prepared_statements(driver)
    assert any("FROM record" in text for text in prepared), prepared
