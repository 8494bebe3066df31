"""The benchmark loader resumes a stopped load with the same records a straight load pushes."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bench import dataset
from registry.domain.calendar import china_today

TODAY = dt.date(2026, 11, 22)


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(db)
    try:
        return {
            "record": connection.execute(
                "SELECT issuer_id, certificate_number, version, envelope, log_index, status"
                " FROM record ORDER BY id"
            ).fetchall(),
            "certificate": connection.execute(
                "SELECT issuer_id, certificate_number, version, log_index, uscc, status"
                " FROM certificate ORDER BY issuer_id, certificate_number"
            ).fetchall(),
            "organisation": connection.execute(
                "SELECT uscc, name, former_names FROM organisation ORDER BY uscc"
            ).fetchall(),
            "issuer": connection.execute(
                "SELECT id, certificates FROM issuer ORDER BY id"
            ).fetchall(),
        }
    finally:
        connection.close()


def _stop_after(db: Path, records: int) -> None:
    """Make ``db`` look like a load that stopped after ``records`` records."""
    dataset.marker_path(db).unlink()
    connection = sqlite3.connect(db)
    stored = connection.execute("SELECT count(*) FROM record").fetchone()[0]
    connection.close()
    assert stored == records


@pytest.mark.slow
def test_a_resumed_load_holds_the_same_records_as_a_straight_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "BATCH", 100)  # several batches, some of them in flight
    quiet: list[str] = []
    resumed_db = tmp_path / "resumed.db"
    # No ``today``: the first part is as of today in China, and the resumed part must take
    # the same day from the stored receipt times, whenever it runs.
    first = dataset.load(resumed_db, 300, echo=quiet.append)
    _stop_after(resumed_db, first.records)
    stopped = dataset.stopped_load(resumed_db)
    assert stopped is not None
    assert stopped[0] == first.records
    assert first.today == china_today(stopped[1]).isoformat()
    lines: list[str] = []
    report = dataset.load(resumed_db, 600, echo=lines.append)
    straight = dataset.load(
        tmp_path / "straight.db", 600, today=dt.date.fromisoformat(first.today), echo=quiet.append
    )

    assert lines[0] == (
        f"resuming {resumed_db}: {first.records:,} records loaded (today {first.today})"
    )
    assert report.today == first.today
    assert report.resumed_from == first.records
    assert report.records == straight.records
    assert report.organisations == straight.organisations
    assert _rows(resumed_db) == _rows(tmp_path / "straight.db")
    assert dataset.cached(resumed_db, 600, 2026) == report
    # The search index was completed too.
    connection = sqlite3.connect(resumed_db)
    try:
        indexed = connection.execute("SELECT count(*) FROM search_organisation").fetchone()[0]
    finally:
        connection.close()
    assert indexed == report.organisations


def test_resuming_another_stream_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dataset, "BATCH", 100)
    db = tmp_path / "other.db"
    first = dataset.load(db, 40, today=TODAY, echo=lambda _: None)
    _stop_after(db, first.records)
    with pytest.raises(RuntimeError, match="not the start of this stream"):
        dataset.load(db, 80, seed=7, today=TODAY, echo=lambda _: None)


def test_a_database_without_records_or_with_a_marker_is_not_a_stopped_load(
    tmp_path: Path,
) -> None:
    db = tmp_path / "none.db"
    assert dataset.stopped_load(db) is None
    sqlite3.connect(db).close()
    assert dataset.stopped_load(db) is None  # no record table
