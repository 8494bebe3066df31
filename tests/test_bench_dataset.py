"""The benchmark loader resumes a stopped load with the same records a straight load pushes.

Each load runs in a fresh interpreter, as ``python -m bench load`` does: the loader signs in a
forked process pool, and forking the test process (which may have browser and server threads
by then) can leave a worker holding a lock it never releases.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import dataset
from registry.domain.calendar import china_today

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 22)

#: Loads with batches of 100 records (several batches, some in flight), printing the report.
_LOAD = """
import dataclasses, datetime, json, sys
from pathlib import Path
from bench import dataset
dataset.BATCH = 100
db, certificates, seed, today = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
day = datetime.date.fromisoformat(today) if today else None
report = dataset.load(Path(db), certificates, seed=seed, today=day, echo=print)
print(json.dumps(dataclasses.asdict(report)))
"""


def _load(
    db: Path, certificates: int, seed: int = 2026, today: dt.date | None = None
) -> tuple[dataset.LoadReport, list[str]]:
    """Run :func:`dataset.load` in a fresh interpreter; its report and progress lines.

    Raises:
        RuntimeError: the load failed (the message carries its output).
    """
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _LOAD,
            str(db),
            str(certificates),
            str(seed),
            today.isoformat() if today else "",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    *lines, last = done.stdout.splitlines()
    return dataset.LoadReport(**json.loads(last)), lines


def _rows(db: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(db)
    try:
        return {
            "record": connection.execute(
                "SELECT issuer_id, certificate_number, version, envelope, log_index, status"
                " FROM record ORDER BY log_index"
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
            "search_organisation": connection.execute(
                "SELECT count(*) FROM search_organisation"
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
def test_a_resumed_load_holds_the_same_records_as_a_straight_load(tmp_path: Path) -> None:
    resumed_db = tmp_path / "resumed.db"
    # No ``today``: the first part is as of today in China, and the resumed part must take
    # the same day from the stored receipt times, whenever it runs.
    first, _ = _load(resumed_db, 300)
    _stop_after(resumed_db, first.records)
    stopped = dataset.stopped_load(resumed_db)
    assert stopped is not None
    assert stopped[0] == first.records
    assert first.today == china_today(stopped[1]).isoformat()

    report, lines = _load(resumed_db, 600)
    straight, _ = _load(tmp_path / "straight.db", 600, today=dt.date.fromisoformat(first.today))

    assert lines[0] == (
        f"resuming {resumed_db}: {first.records:,} records loaded (today {first.today})"
    )
    assert report.today == first.today
    assert report.resumed_from == first.records
    assert report.records == straight.records
    assert report.organisations == straight.organisations
    assert _rows(resumed_db) == _rows(tmp_path / "straight.db")
    assert dataset.cached(resumed_db, 600, 2026) == report


@pytest.mark.slow
def test_resuming_another_stream_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    first, _ = _load(db, 40, today=TODAY)
    _stop_after(db, first.records)
    with pytest.raises(RuntimeError, match="not the start of this stream"):
        _load(db, 80, seed=7, today=TODAY)


def test_a_missing_or_empty_database_is_not_a_stopped_load(
    tmp_path: Path,
) -> None:
    db = tmp_path / "none.db"
    assert dataset.stopped_load(db) is None
    sqlite3.connect(db).close()
    assert dataset.stopped_load(db) is None  # no record table
