"""Bulk inserts for the write path: one statement, many rows, handed to the driver.

Ingest writes thousands of rows a batch (history, log entries and hashes, certificates,
organisations). Through ``session.execute(insert(table), rows)`` SQLAlchemy builds and converts
each row's parameters generically, about half the Python cost of a thousand-row insert.
:func:`insert_rows` runs the same statement with the same values: compiled once per table, keys
and dialect, each value converted by its column type's own bind processor, the rows passed to
the driver's ``executemany`` on the session's connection, in its transaction. Values are bound
parameters, never SQL text.

:func:`add_rows` does the same for counters: ``INSERT … ON CONFLICT (keys) DO UPDATE`` adding
each row's count to the stored one, spelt per dialect (SQLite 3.24+ and PostgreSQL 9.5+ both
have it); :func:`upsert_rows` replaces the stored row's other columns instead.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Dialect, Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["add_rows", "insert_rows", "upsert_rows"]

_UNSEEN = object()


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Do what ``session.execute(insert(table), rows)`` does, for rows that all have the same
    keys (the first row's keys name the columns).

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
    match a stored row (a unique index on them) replaces that row's other columns instead. Two
    rows of one call must not share their keys."""
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
    names = tuple(rows[0])
    sql, order, processors = _insert_plan(table, names, connection.dialect, conflict)
    columns = order if order is not None else names
    pick = operator.itemgetter(*columns)
    convert = [(i, process) for i, process in enumerate(processors) if process is not None]
    # The last value each processor saw and what it made of it: a batch's receipt time is one
    # datetime object in every row, converted once. (Processors are pure, values immutable.)
    last: list[tuple[object, object]] = [(_UNSEEN, None)] * len(convert)
    params: list[Any] = []
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
        # Positional paramstyles (SQLite) take a sequence, named ones (psycopg) a mapping.
        params.append(tuple(values) if order is not None else dict(zip(names, values, strict=True)))
    connection.exec_driver_sql(sql, params)


@functools.lru_cache(maxsize=32)
def _insert_plan(
    table: Table,
    names: tuple[str, ...],
    dialect: Dialect,
    conflict: tuple[tuple[str, ...], str | None] | None,
) -> tuple[str, tuple[str, ...] | None, Sequence[Callable[[Any], Any] | None]]:
    """The SQL of ``INSERT INTO table (names)`` for ``dialect``, the parameter order if it is
    positional (else None), and each parameter's bind processor in that order.

    With ``conflict`` ``(keys, add)``, a row whose keys are stored updates it instead: ``ON
    CONFLICT (keys) DO UPDATE SET add = add + excluded.add``, or with ``add`` None, sets every
    other column of ``names`` to the row's (``= excluded.column``).
    """
    statement: Any = insert(table)
    if conflict is not None:
        keys, add = conflict
        if dialect.name not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"no upsert for {dialect.name}")
        upsert = (postgresql if dialect.name == "postgresql" else sqlite).insert(table)
        excluded = upsert.excluded
        if add is not None:
            changes = {add: table.c[add] + excluded[add]}
        else:
            changes = {name: excluded[name] for name in names if name not in keys}
        statement = upsert.on_conflict_do_update(index_elements=list(keys), set_=changes)
    compiled = statement.compile(dialect=dialect, column_keys=list(names))
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    columns = order if order is not None else names
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    return compiled.string, order, processors
