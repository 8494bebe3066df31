"""Reading the files the ``registry`` command is given (a JSON array of records or envelopes,
or a CSV of records) and opening the database it works on, with a clear error (click's
``Error: …``, exit 1) instead of a traceback when either is not what it should be."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from registry.crypto.jcs import parse_json

_BOM = b"\xef\xbb\xbf"


def json_items(source: Path) -> list[Any]:
    """The items of the JSON array in ``source`` (a lone value is one item). A UTF-8 byte
    order mark, which some editors write, is skipped as it is for CSV.

    Raises:
        click.ClickException: the file is not JSON.
    """
    data = source.read_bytes()
    try:
        loaded = parse_json(data.removeprefix(_BOM))
    except ValueError as exc:
        raise click.ClickException(f"{source}: not a JSON document: {exc}") from exc
    return loaded if isinstance(loaded, list) else [loaded]


def csv_records(source: Path) -> list[dict[str, object]]:
    """The records of a CSV file (columns: docs/formats.md section 3), UTF-8 with or without
    a byte order mark.

    Raises:
        click.ClickException: the file is not UTF-8, a column is unknown or a required one is
            missing, or a row holds a value that cannot be read (naming the row, counting the
            header as row 1).
    """
    from registry.client import CSV_COLUMNS, records_from_csv
    from registry.domain.problems import RecordInvalid

    records: list[dict[str, object]] = []
    try:
        with source.open(newline="", encoding="utf-8-sig") as handle:
            rows = csv.DictReader(handle)
            # A misspelt column would silently drop its values from every record.
            for column in rows.fieldnames or ():
                if column.strip() and column.strip() not in CSV_COLUMNS:
                    raise click.ClickException(
                        f"{source}: unknown column {column.strip()!r}; the columns are "
                        f"{', '.join(sorted(CSV_COLUMNS))} (docs/formats.md section 3)"
                    )
            try:
                for record in records_from_csv(rows):
                    records.append(record)
            except UnicodeDecodeError:
                raise  # a ValueError too, but about the file, not a row: answered below
            except KeyError as exc:
                raise click.ClickException(
                    f"{source}, row {rows.line_num}: the column {exc} is missing"
                ) from exc
            except (ValueError, RecordInvalid) as exc:
                raise click.ClickException(f"{source}, row {rows.line_num}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise click.ClickException(
            f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as "
            "UTF-8 (in Excel: 'CSV UTF-8')"
        ) from exc
    return records


@contextmanager
def ready_engine(database_url: str) -> Iterator[Engine]:
    """An engine on the registry's database, migrated to the newest revision, disposed
    afterwards (a command holds no pool).

    Raises:
        click.ClickException: there is no database (a SQLite file is not created), it cannot be
            read, or it is not migrated (naming `registry init` or `registry db upgrade`).
    """
    from registry.store import schema
    from registry.store.db import make_engine

    engine = make_engine(database_url)
    try:
        problem = schema.readiness_problem(engine)
        if problem is not None:
            raise click.ClickException(problem)
        yield engine
    finally:
        engine.dispose()
