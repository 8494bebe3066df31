"""Prepared statements for the hottest reads: compiled once, run on the DBAPI cursor.

Building a SQLAlchemy statement and executing it through a Session costs a few hundred
microseconds a request before the database does any work; through Core, with the statement
built once, still about 70 µs. The public lookup answers in well under a millisecond in all, so
that overhead is most of its budget. :class:`Prepared` keeps the statement as a SQLAlchemy
expression (so it is written once, for every dialect, with bound parameters), compiles it once
per dialect, and runs the compiled SQL on the session connection's DBAPI cursor, in the
session's transaction. Values go in as bound parameters, never into the SQL text; the column
types' bind and result processors are applied, so rows come back as they would from Core
(``UTCDateTime`` gives aware datetimes, booleans are ``bool`` on SQLite too).

Use it only for read statements on hot paths, with columns (not ORM entities) selected and
no expanding (``IN``-list) parameters.

Run on an :class:`~sqlalchemy.Engine` rather than a session, a statement needs no transaction
around it. On a SQLite file it then runs on a connection of the thread's own, outside the
pool (:func:`sqlite_reader`): under load, the pool's checkout and reset cost the lookup about
7% of its throughput (docs/benchmarks.md). On PostgreSQL it runs in autocommit mode on the
pool of a companion engine that does not ping the server at each checkout, and is retried
once on a fresh connection when the one it took turns out dead (:func:`pg_reader`).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Dialect, Engine, PoolProxiedConnection, Select, create_engine, event
from sqlalchemy.orm import Session

_Process = Callable[[Any], Any]
#: Any SELECT, whatever its column types.
AnySelect = Select[*tuple[Any, ...]]


class _Cursors(Protocol):
    """A DBAPI connection, pooled or not: all :meth:`Prepared._run` needs of it."""

    def cursor(self) -> Any: ...


class _Readers(threading.local):
    """One engine's direct SQLite connection in the current thread, and what it belongs to."""

    #: The detached pool connection (kept: dropping it would close the driver's connection).
    pooled: PoolProxiedConnection | None = None
    connection: Any = None
    pid: int = 0
    generation: int = -1


#: Per engine: its threads' direct connections, and how often it was disposed (a
#: disposed engine's connections are replaced on their next use).
_READERS: weakref.WeakKeyDictionary[Engine, _Readers] = weakref.WeakKeyDictionary()
_GENERATIONS: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()
#: Connections a forked child inherited: never used again, and never closed there either,
#: since closing a SQLite file in a process drops every POSIX lock the process holds on it.
_INHERITED: list[Any] = []
_SETUP = threading.Lock()


def _follow_disposal(engine: Engine) -> None:
    """Count ``engine``'s disposals from now on (call under ``_SETUP``, once per engine)."""
    if engine not in _GENERATIONS:
        _GENERATIONS[engine] = 0
        event.listen(engine, "engine_disposed", _disposed)


def _is_file(engine: Engine) -> bool:
    url = engine.url
    database = url.database or ""
    return (
        engine.dialect.name == "sqlite"
        and database not in ("", ":memory:")
        and url.query.get("mode") != "memory"
        and not database.startswith("file::memory:")
    )


def sqlite_reader(engine: Engine) -> Any | None:
    """The current thread's own DBAPI connection to ``engine``'s SQLite file, or None for
    any other database (in memory, or not SQLite), whose reads go through the pool.

    The connection is made by the engine (so with its ``connect`` settings: WAL, mmap, page
    cache), then detached from the pool. Python's sqlite3 opens no transaction for a SELECT,
    so each statement reads the latest committed state and releases its read lock when its
    rows are fetched: the connection never holds a snapshot between requests. It is replaced
    after :meth:`Engine.dispose` and in a forked child (gunicorn's workers), where the
    parent's is left alone.
    """
    readers = _READERS.get(engine)
    if readers is None:
        if not _is_file(engine):
            return None
        with _SETUP:
            readers = _READERS.get(engine)
            if readers is None:
                _follow_disposal(engine)
                readers = _READERS[engine] = _Readers()
    pid = os.getpid()
    generation = _GENERATIONS.get(engine, 0)
    connection = readers.connection
    if connection is not None and readers.pid == pid and readers.generation == generation:
        return connection
    if readers.pooled is not None:
        if readers.pid == pid:
            readers.pooled.close()
        else:
            _INHERITED.append(readers.pooled)
    pooled = engine.raw_connection()
    connection = pooled.driver_connection  # (None once detached)
    pooled.detach()
    readers.pooled, readers.connection = pooled, connection
    readers.pid, readers.generation = pid, generation
    return readers.connection


@dataclass(frozen=True)
class _PgReader:
    engine: Engine
    pid: int
    generation: int


_PG_READERS: weakref.WeakKeyDictionary[Engine, _PgReader] = weakref.WeakKeyDictionary()


def pg_reader(engine: Engine) -> Engine:
    """The companion of PostgreSQL ``engine`` that :class:`Prepared` reads through.

    Its pool does not ping the server at each checkout (``pool_pre_ping`` costs a round trip,
    0.1–0.2 ms of a lookup's 0.25–0.4 ms in-process); :meth:`Prepared.all` instead retries a
    statement once, after replacing the pool, when the connection it took turns out dead (a
    restarted or failed-over server). Its connections stay in autocommit mode, so returning
    one needs no ROLLBACK, which would make psycopg forget the statements it prepared. A
    disposed ``engine`` gets a new companion (the old one is disposed too); a forked child
    makes its own and leaves the parent's connections alone.
    """
    pid = os.getpid()
    found = _PG_READERS.get(engine)
    if found is not None and found.pid == pid and found.generation == _GENERATIONS.get(engine):
        return found.engine
    with _SETUP:
        _follow_disposal(engine)
        generation = _GENERATIONS[engine]
        found = _PG_READERS.get(engine)
        if found is not None and found.pid == pid and found.generation == generation:
            return found.engine
        if found is not None and found.pid != pid:
            _INHERITED.append(found)
        # (A stale companion of this process was disposed with its engine, in _disposed.)
        reader = create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
            pool_pre_ping=False,
        )
        _PG_READERS[engine] = _PgReader(reader, pid, generation)
        return reader


def _disposed(engine: Engine) -> None:
    _GENERATIONS[engine] = _GENERATIONS.get(engine, 0) + 1
    companion = _PG_READERS.get(engine)
    if companion is not None and companion.pid == os.getpid():
        companion.engine.dispose()  # (in a forked child it is the parent's: left alone)


def _drop_reader(engine: Engine) -> None:
    """Forget (and close) the current thread's connection after it failed."""
    readers = _READERS.get(engine)
    if readers is not None and readers.pooled is not None and readers.pid == os.getpid():
        pooled, readers.pooled, readers.connection = readers.pooled, None, None
        pooled.close()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: Parameter names in the order a positional paramstyle wants them; None for named ones.
    positions: tuple[str, ...] | None
    #: Values of parameters bound in the statement itself (e.g. ``LogState.id == 1``).
    defaults: dict[str, Any]
    #: Parameters the caller must give.
    required: frozenset[str]
    binds: dict[str, _Process]
    #: The result columns that need processing, by position, with their processors.
    results: tuple[tuple[int, _Process], ...]


class Prepared:
    """A read statement compiled once per dialect and run on the DBAPI cursor."""

    def __init__(self, statement: AnySelect) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is not None:
            return found
        with self._lock:
            compiled = self._statement.compile(dialect=dialect)
            positions = compiled.positiontup
            # Parameters by the names the SQL uses ("number", "id_1" for an anonymous one).
            params = {compiled.bind_names[param]: param for param in compiled.binds.values()}
            binds = {
                name: param.type.dialect_impl(dialect).bind_processor(dialect)
                for name, param in params.items()
            }
            processors = (
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self._statement.selected_columns
            )
            results = tuple(
                (position, process)
                for position, process in enumerate(processors)
                if process is not None
            )
            defaults = {k: v for k, v in compiled.params.items() if v is not None}
            found = _Compiled(
                sql=str(compiled),
                positions=tuple(positions) if positions is not None else None,
                defaults=defaults,
                required=frozenset(params) - defaults.keys(),
                binds={name: p for name, p in binds.items() if p is not None},
                results=results,
            )
            self._compiled[dialect.name] = found
            return found

    def all(self, bind: Session | Engine, **params: Any) -> list[tuple[Any, ...]]:
        """Every row for ``params`` (the statement's ``bindparam`` names), processed.

        With a Session, the query runs in its transaction. With an Engine, for a single
        statement that needs no transaction around it, without the Session's bookkeeping
        (about 0.15 ms a request): on a SQLite file on the thread's own connection
        (:func:`sqlite_reader`), on PostgreSQL in autocommit mode through the engine's
        companion (:func:`pg_reader`), retried once if the connection was dead. Outside a
        transaction, the pool has nothing to roll back when the connection returns: a
        ROLLBACK makes psycopg forget the statements it prepared on the server, and
        PostgreSQL would plan the query again on every request.
        """
        if isinstance(bind, Engine):
            if bind.dialect.name == "postgresql":
                return self._run_retrying(pg_reader(bind), params)
            reader = sqlite_reader(bind)
            if reader is not None:
                try:
                    return self._run(bind.dialect, reader, params)
                except bind.dialect.loaded_dbapi.Error:
                    _drop_reader(bind)  # the next statement starts on a fresh connection
                    raise
            raw = bind.raw_connection()
            try:
                return self._run(bind.dialect, raw, params)
            finally:
                raw.close()  # back to the pool
        connection = bind.connection()
        return self._run(connection.dialect, connection.connection, params)

    def _run_retrying(self, engine: Engine, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """Run on a pooled connection of ``engine`` (which does not ping on checkout); if the
        connection is dead, replace the whole pool (a restarted server dropped every one) and
        run once more."""
        dialect = engine.dialect
        for attempt in (1, 2):
            raw = engine.raw_connection()
            try:
                return self._run(dialect, raw, params)
            except dialect.loaded_dbapi.Error as exc:
                if attempt == 2 or not dialect.is_disconnect(exc, raw.dbapi_connection, None):
                    raise
                raw.invalidate(exc)
                engine.dispose()
            finally:
                raw.close()
        raise AssertionError("unreachable")  # pragma: no cover

    def _run(
        self, dialect: Dialect, dbapi: _Cursors, params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        compiled = self._compile(dialect)
        if not compiled.required <= params.keys():
            raise KeyError(f"missing parameters: {sorted(compiled.required - params.keys())}")
        values = {**compiled.defaults, **params}
        for name, process in compiled.binds.items():
            values[name] = process(values[name])
        args: Sequence[Any] | dict[str, Any] = (
            [values[name] for name in compiled.positions]
            if compiled.positions is not None
            else values
        )
        cursor = dbapi.cursor()
        try:
            cursor.execute(compiled.sql, args)
            rows = cursor.fetchall()
        finally:
            cursor.close()
        results = compiled.results
        if not results:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            processed = list(row)
            for position, process in results:
                processed[position] = process(processed[position])
            out.append(tuple(processed))
        return out
