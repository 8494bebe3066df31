"""Bulk inserts for the write path: one statement, many rows, handed to the driver.

Ingest writes thousands of rows a batch (history, log entries and hashes, certificates,
organisations). Through ``session.execute(insert(table), rows)`` SQLAlchemy builds and converts
each row's parameters generically, about half the Python cost of a thousand-row insert.
:func:`insert_rows` runs the same insert with the same values: planned once per table, keys
and dialect, each value converted by its column type's own bind processor, on the session's
connection, in its transaction. Values are bound parameters, never SQL text.

- SQLite: ``INSERT … VALUES (?, …)``, the rows passed to the driver's ``executemany``.
- PostgreSQL (psycopg): ``INSERT … SELECT … FROM unnest(…) WITH ORDINALITY``, one statement
  whose parameters are the columns, each one array sent in binary. psycopg's ``executemany``
  has the server run the statement once a row: 2-4 times the cost of a short row (a log hash,
  a gram count), the same for a long one (docs/benchmarks.md, "Ingest on PostgreSQL").

:func:`add_rows` does the same for counters: ``INSERT … ON CONFLICT (keys) DO UPDATE`` adding
each row's count to the stored one, spelt per dialect (SQLite 3.24+ and PostgreSQL 9.5+ both
have it); :func:`upsert_rows` replaces the stored row's other columns instead.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect, Select, String, Table, bindparam, cast, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ScalarElementColumnDefault
from sqlalchemy.types import TypeEngine

__all__ = ["add_rows", "insert_rows", "upsert_rows"]

_UNSEEN = object()


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Do what ``session.execute(insert(table), rows)`` does, for rows that all have the same
    keys (the first row's keys name the columns). A column the rows leave out gets its
    Python-side default, as with ``insert``; a default computed per row must be given instead
    (:class:`ValueError`).

    The driver receives the values ``session.execute`` would send it (see the module
    docstring). Raises what the driver raises (wrapped by SQLAlchemy), e.g. on a constraint.
    """
    _execute(session, table, rows, None)


def add_rows(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, object]],
    *,
    keys: tuple[str, ...],
    add: str,
) -> None:
    """Insert ``rows`` as :func:`insert_rows` does, except that a row whose ``keys`` columns
    match a stored row (a unique index on them) adds its ``add`` column to the stored one
    instead. Two rows of one call must not share their keys."""
    _execute(session, table, rows, (keys, add))


def upsert_rows(
    session: Session, table: Table, rows: Sequence[Mapping[str, object]], *, keys: tuple[str, ...]
) -> None:
    """Insert ``rows`` as :func:`insert_rows` does, except that a row whose ``keys`` columns
    match a stored row (a unique index on them) replaces that row's other columns instead (one
    the rows leave out, by its default). Two rows of one call must not share their keys."""
    _execute(session, table, rows, (keys, None))


def _execute(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, object]],
    conflict: tuple[tuple[str, ...], str | None] | None,
) -> None:
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = tuple(rows[0])
    defaults = _defaults(table, names)
    if defaults:
        names += tuple(defaults)
        rows = [{**row, **defaults} for row in rows]
    if dialect.driver == "psycopg":
        sql, processors = _unnest_plan(table, names, dialect, conflict)
        # One statement, each column one array parameter in binary: psycopg's executemany
        # runs the statement once a row on the server, 2-4 times the cost of a short row.
        arrays = zip(*_converted(rows, names, processors), strict=True)
        connection.exec_driver_sql(sql, {f"c{i}": list(array) for i, array in enumerate(arrays)})
        return
    sql, order, processors = _insert_plan(table, names, dialect, conflict)
    values = _converted(rows, order or names, processors)
    # Positional paramstyles (SQLite) take sequences, named ones mappings.
    params = values if order is not None else [dict(zip(names, v, strict=True)) for v in values]
    connection.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=32)
def _defaults(table: Table, names: tuple[str, ...]) -> Mapping[str, object]:
    """The Python-side defaults of the columns of ``table`` that ``names`` leave out."""
    defaults: dict[str, object] = {}
    for column in table.columns:
        default = column.default
        if column.key in names or default is None:
            continue
        if not isinstance(default, ScalarElementColumnDefault):
            raise ValueError(
                f"{table.name}.{column.key} has a default computed per row; give its value"
            )
        defaults[column.key] = default.arg
    return defaults


def _converted(
    rows: Sequence[Mapping[str, object]],
    columns: tuple[str, ...],
    processors: Sequence[Callable[[Any], Any] | None],
) -> list[tuple[object, ...]]:
    """Each row's values of ``columns``, in that order, through their bind processors."""
    pick = operator.itemgetter(*columns)
    convert = [(i, process) for i, process in enumerate(processors) if process is not None]
    # The last value each processor saw and what it made of it: a batch's receipt time is one
    # datetime object in every row, converted once. (Processors are pure, values immutable.)
    last: list[tuple[object, object]] = [(_UNSEEN, None)] * len(convert)
    params: list[tuple[object, ...]] = []
    for row in rows:
        values = pick(row)
        if len(columns) == 1:
            values = (values,)
        if convert:
            values = list(values)
            for slot, (i, process) in enumerate(convert):
                value = values[i]
                seen, made = last[slot]
                if value is not seen:
                    made = process(value)
                    last[slot] = (value, made)
                values[i] = made
        params.append(tuple(values))
    return params


@functools.lru_cache(maxsize=32)
def _insert_plan(
    table: Table,
    names: tuple[str, ...],
    dialect: Dialect,
    conflict: tuple[tuple[str, ...], str | None] | None,
) -> tuple[str, tuple[str, ...] | None, Sequence[Callable[[Any], Any] | None]]:
    """The SQL of ``INSERT INTO table (names) VALUES (…)`` for ``dialect``, with the clause
    for ``conflict`` (:func:`_statement`), the parameter order if it is positional (else
    None), and each parameter's bind processor in that order."""
    compiled = _statement(table, names, dialect, conflict, None).compile(
        dialect=dialect, column_keys=list(names)
    )
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return compiled.string, order, _processors(table, order or names, dialect)


@functools.lru_cache(maxsize=32)
def _unnest_plan(
    table: Table,
    names: tuple[str, ...],
    dialect: Dialect,
    conflict: tuple[tuple[str, ...], str | None] | None,
) -> tuple[str, Sequence[Callable[[Any], Any] | None]]:
    """psycopg: the SQL of ``INSERT INTO table (names) SELECT … FROM unnest(…)`` with one
    binary array parameter ``c<i>`` per column of ``names``, rows inserted in array order (serial
    keys are drawn in that order), and the clause for ``conflict``; and the columns' bind
    processors."""
    aliases = [f"c{i}" for i in range(len(names))]
    rows = (
        func.unnest(
            *(
                cast(bindparam(alias), _array_of(table.c[name].type))
                for alias, name in zip(aliases, names, strict=True)
            )
        )
        .table_valued(*aliases, with_ordinality="n")
        .render_derived()
    )
    source = select(*(rows.c[alias] for alias in aliases)).order_by(rows.c.n)
    sql = _statement(table, names, dialect, conflict, source).compile(dialect=dialect).string
    for alias in aliases:  # psycopg's placeholder for a parameter sent in binary
        sql = sql.replace(f"%({alias})s", f"%({alias})b")
    return sql, _processors(table, names, dialect)


def _statement(
    table: Table,
    names: tuple[str, ...],
    dialect: Dialect,
    conflict: tuple[tuple[str, ...], str | None] | None,
    source: Select[Any] | None,
) -> Any:
    """``INSERT INTO table (names)``, of ``source``'s rows if given. With ``conflict``
    ``(keys, add)``, a row whose keys are stored updates it instead: ``ON CONFLICT (keys) DO
    UPDATE SET add = add + excluded.add``, or with ``add`` None, sets every other column of
    ``names`` to the row's (``= excluded.column``)."""
    if conflict is None and source is None:
        return insert(table)
    if dialect.name not in ("sqlite", "postgresql"):
        raise NotImplementedError(f"no upsert for {dialect.name}")
    statement = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
    if source is not None:
        statement = statement.from_select(list(names), source)
    if conflict is None:
        return statement
    keys, add = conflict
    excluded = statement.excluded
    if add is not None:
        changes = {add: table.c[add] + excluded[add]}
    else:
        changes = {name: excluded[name] for name in names if name not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=changes)


def _array_of(type_: TypeEngine[Any]) -> postgresql.ARRAY[Any]:
    """An array of ``type_`` without its length: ``CAST(… AS varchar(n)[])`` would cut a longer
    value silently, where the insert's own conversion to the column refuses it."""
    if isinstance(type_, String) and type_.length is not None:
        type_ = String()
    return postgresql.ARRAY(type_)


def _processors(
    table: Table, columns: Sequence[str], dialect: Dialect
) -> list[Callable[[Any], Any] | None]:
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
