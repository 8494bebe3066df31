"""Reads on a SQLite file engine run on the thread's own connection, outside the pool.

Under load, the pool's checkout and reset cost the lookup about 7% of its throughput
(docs/benchmarks.md), so :class:`Prepared` runs a statement given an engine on a connection
of the thread's own. These tests pin what that connection must never do: hold a snapshot
between statements, outlive a dispose, or be reused in a forked child.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, bindparam, event, select, text

from registry.store import prepared
from registry.store.db import make_engine
from registry.store.models import LogState
from registry.store.prepared import Prepared, sqlite_reader
from registry.store.schema import upgrade

SIZE = Prepared(select(LogState.size).where(LogState.id == bindparam("id")))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'reads.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def set_size(engine: Engine, size: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE log_state SET size = :size WHERE id = 1"), {"size": size})


def checkouts(engine: Engine) -> list[object]:
    seen: list[object] = []
    event.listen(engine, "checkout", lambda *args: seen.append(args[0]))
    return seen


def test_reads_use_one_connection_of_the_thread_not_the_pool(engine: Engine) -> None:
    seen = checkouts(engine)
    assert SIZE.all(engine, id=1) == [(0,)]
    reader = sqlite_reader(engine)
    for _ in range(5):
        assert SIZE.all(engine, id=1) == [(0,)]
    assert len(seen) == 1  # the one that made the thread's connection, then left the pool
    assert sqlite_reader(engine) is reader
    assert engine.pool.checkedout() == 0


def test_each_read_sees_the_latest_commit_and_holds_no_snapshot(engine: Engine) -> None:
    """Python's sqlite3 begins no transaction for a SELECT: every statement reads the newest
    committed state, and nothing stays open to keep the WAL from being checkpointed."""
    assert SIZE.all(engine, id=1) == [(0,)]
    set_size(engine, 7)
    assert SIZE.all(engine, id=1) == [(7,)]
    reader = sqlite_reader(engine)
    assert reader is not None
    assert not reader.in_transaction
    set_size(engine, 8)
    with engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    assert busy == 0  # a reader holding a snapshot would make the checkpoint busy
    assert SIZE.all(engine, id=1) == [(8,)]


def test_the_connection_has_the_engines_settings(engine: Engine) -> None:
    reader = sqlite_reader(engine)
    assert reader is not None
    assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert reader.execute("PRAGMA foreign_keys").fetchone() == (1,)
    assert reader.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_dispose_replaces_and_closes_the_connection(engine: Engine) -> None:
    SIZE.all(engine, id=1)
    before = sqlite_reader(engine)
    engine.dispose()
    assert SIZE.all(engine, id=1) == [(0,)]
    after = sqlite_reader(engine)
    assert after is not before
    assert before is not None
    with pytest.raises(sqlite3.ProgrammingError):
        before.execute("SELECT 1")


def test_a_forked_child_opens_its_own_and_leaves_the_parents_open(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing a SQLite file in a process drops every POSIX lock the process holds on it, so
    the child must not close what it inherited (gunicorn forks its workers)."""
    SIZE.all(engine, id=1)
    parents = sqlite_reader(engine)
    real_pid = prepared.os.getpid()
    monkeypatch.setattr(prepared.os, "getpid", lambda: real_pid + 1)
    assert SIZE.all(engine, id=1) == [(0,)]
    child = sqlite_reader(engine)
    assert child is not parents
    assert parents is not None
    assert parents.execute("SELECT 1").fetchone() == (1,)  # still open
    assert any(getattr(kept, "dbapi_connection", None) is parents for kept in prepared._INHERITED)


def test_threads_have_their_own(engine: Engine) -> None:
    found: list[object] = []

    def read() -> None:
        assert SIZE.all(engine, id=1) == [(0,)]
        found.append(sqlite_reader(engine))

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    read()
    assert len({id(c) for c in found}) == 3


def test_a_failed_statement_drops_the_connection(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
    scratch = Table("scratch", MetaData(), Column("x", Integer))
    values = Prepared(select(scratch.c.x).where(scratch.c.x == bindparam("x")))
    assert values.all(engine, x=1) == []
    before = sqlite_reader(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE scratch")
    with pytest.raises(sqlite3.OperationalError):
        values.all(engine, x=1)
    assert sqlite_reader(engine) is not before
    assert SIZE.all(engine, id=1) == [(0,)]


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_a_memory_database_reads_through_the_pool(url: str) -> None:
    """A new connection to ``:memory:`` would be another, empty database."""
    engine = make_engine(url)
    upgrade(engine)
    assert sqlite_reader(engine) is None
    assert SIZE.all(engine, id=1) == [(0,)]
    engine.dispose()
