"""Hot reads on PostgreSQL go through a companion engine that does not ping on checkout.

``pool_pre_ping`` costs a round trip a request (0.1–0.2 ms of the lookup's 0.25–0.4 ms), so
:class:`Prepared` reads through :func:`pg_reader` instead, which retries a statement once on a
fresh pool when the connection it took is dead. These tests pin that trade: no ping, no
failed request after the server dropped every connection, no retry of other errors, and a
companion that follows the engine through dispose and fork.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, bindparam, select

from registry.store import prepared
from registry.store.db import make_engine
from registry.store.models import LogState
from registry.store.prepared import Prepared, pg_reader
from tests.conftest import BACKENDS
from tests.postgres import drop_every_connection

SIZE = Prepared(select(LogState.size).where(LogState.id == bindparam("id")))

pytestmark = pytest.mark.parametrize("database_url", [BACKENDS[1]], indirect=True)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_reads_do_not_ping(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    companion = pg_reader(engine)
    pings: list[object] = []
    monkeypatch.setattr(companion.dialect, "do_ping", lambda connection: pings.append(1))
    for _ in range(3):
        assert SIZE.all(engine, id=1) == [(0,)]
    assert pings == []
    assert pg_reader(engine) is companion


def test_a_read_after_the_server_dropped_every_connection_succeeds(
    engine: Engine, postgres_admin_url: str
) -> None:
    companion = pg_reader(engine)
    held = [companion.raw_connection() for _ in range(3)]  # several pooled, as under load
    for connection in held:
        connection.close()
    assert drop_every_connection(engine, postgres_admin_url) >= 3
    assert SIZE.all(engine, id=1) == [(0,)]
    assert SIZE.all(engine, id=1) == [(0,)]  # the other dead connections went with the pool


def test_other_errors_are_not_retried(engine: Engine) -> None:
    missing = Table("no_such_table", MetaData(), Column("x", Integer))
    values = Prepared(select(missing.c.x).where(missing.c.x == bindparam("x")))
    companion = pg_reader(engine)
    pool = companion.pool
    with pytest.raises(psycopg.errors.UndefinedTable):
        values.all(engine, x=1)
    assert companion.pool is pool  # not replaced: the connection was fine
    assert SIZE.all(engine, id=1) == [(0,)]


def test_dispose_replaces_the_companion_and_closes_its_connections(engine: Engine) -> None:
    SIZE.all(engine, id=1)
    before = pg_reader(engine)
    assert before.pool.checkedin() == 1
    engine.dispose()
    assert before.pool.checkedin() == 0
    assert SIZE.all(engine, id=1) == [(0,)]
    assert pg_reader(engine) is not before


def test_a_forked_child_makes_its_own_and_leaves_the_parents_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child closing the parent's sockets would end the parent's sessions too."""
    SIZE.all(engine, id=1)
    parents = pg_reader(engine)
    real_pid = prepared.os.getpid()
    monkeypatch.setattr(prepared.os, "getpid", lambda: real_pid + 1)
    engine.dispose(close=False)  # what gunicorn's post_fork hook does in the child
    assert parents.pool.checkedin() == 1  # untouched
    assert SIZE.all(engine, id=1) == [(0,)]
    child = pg_reader(engine)
    assert child is not parents
    assert parents.pool.checkedin() == 1
    assert any(getattr(kept, "engine", None) is parents for kept in prepared._INHERITED)
    monkeypatch.undo()
    parents.dispose()
    child.dispose()
