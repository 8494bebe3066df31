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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Engine, PoolProxiedConnection, Select
from sqlalchemy.orm import Session

_Process = Callable[[Any], Any]
_Processor = _Process | None
#: Any SELECT, whatever its column types.
AnySelect = Select[*tuple[Any, ...]]


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
    results: tuple[_Processor, ...]


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
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self._statement.selected_columns
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

        With a Session, the query runs in its transaction. With an Engine, on a pooled
        connection of its own, without the Session's bookkeeping (about 0.15 ms a request):
        for a single statement that needs no transaction around it. On PostgreSQL that
        statement runs in autocommit mode, outside any transaction, so the pool has nothing
        to roll back when the connection returns: a ROLLBACK makes psycopg forget the
        statements it prepared on the server, and PostgreSQL would plan the query again on
        every request.
        """
        if isinstance(bind, Engine):
            raw = bind.raw_connection()
            try:
                if bind.dialect.name == "postgresql":
                    return self._run_autocommit(bind.dialect, raw, params)
                return self._run(bind.dialect, raw, params)
            finally:
                raw.close()  # back to the pool
        connection = bind.connection()
        return self._run(connection.dialect, connection.connection, params)

    def _run_autocommit(
        self, dialect: Dialect, dbapi: PoolProxiedConnection, params: dict[str, Any]
    ) -> list[tuple[Any, ...]]:
        driver: Any = dbapi.driver_connection  # a psycopg connection, idle after checkout
        driver.autocommit = True
        try:
            return self._run(dialect, dbapi, params)
        finally:
            if not driver.closed:
                driver.autocommit = False  # as the pool's other users expect it

    def _run(
        self, dialect: Dialect, dbapi: PoolProxiedConnection, params: dict[str, Any]
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
        if not any(results):
            return [tuple(row) for row in rows]
        return [
            tuple(
                value if process is None else process(value)
                for process, value in zip(results, row, strict=True)
            )
            for row in rows
        ]
