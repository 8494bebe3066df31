"""The HTTP benchmark's quick mode runs end to end and prints its results table.

This checks the harness (loading, gunicorn, wrk, Datasette, parsing), not performance: the
figures depend on the machine and are recorded in docs/benchmarks.md, never asserted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import ClusterError, find_bindir, unavailable

ROOT = Path(__file__).resolve().parent.parent


def bench(module: str, *args: str, timeout: float) -> str:
    """Run ``python -m MODULE ARGS`` from the checkout; its output, after checking it
    succeeded."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_quick_benchmark_prints_a_results_table(tmp_path: Path) -> None:
    if shutil.which("wrk") is None and os.environ.get("CI") != "true":
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    db = tmp_path / "registry.db"
    out = bench("bench", "http", "--quick", "--db", str(db), timeout=170)
    assert "| endpoint | req/s | × hello | p50 ms | p99 ms |" in out
    lookup = re.search(r"^\| lookup \| ([\d,]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|", out, re.M)
    assert lookup is not None, out
    assert int(lookup.group(1).replace(",", "")) > 0
    # Datasette served the same rows and answered the comparable queries without failures.
    row = next(line for line in out.splitlines() if line.startswith("| lookup |"))
    assert "datasette" not in row.split("|")[-2], row
    assert float(row.split("|")[8]) > 0, row
    assert row.split("|")[9].strip() == "", f"failed requests: {row}"
    assert re.search(r"baseline hello-world [\d,]+ req/s", out)


@pytest.fixture
def pg_folder() -> Iterator[Path]:
    """A folder for a benchmark's own PostgreSQL cluster, never the developer's bench/out/pg/.

    Not pytest's tmp_path: the postgres user must be able to reach it.
    """
    try:
        find_bindir()
    except ClusterError as exc:
        unavailable(str(exc))
    folder = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_quick_benchmark_serves_from_postgres(pg_folder: Path) -> None:
    """``--postgres``: a cluster of its own beside the database path, loaded and served."""
    if shutil.which("wrk") is None and os.environ.get("CI") != "true":
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    out = bench(
        *("bench", "http", "--quick", "--postgres", "--db", str(pg_folder / "registry.db")),
        *("--only", "lookup", "--only", "search (1 char)"),
        timeout=300,
    )
    assert (pg_folder / "pg" / "registry_300.json").is_file()  # the load is cached
    for name in ("lookup", "search (1 char)"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {name} |"))
        cells = [cell.strip() for cell in row.split("|")]
        assert int(cells[2].replace(",", "")) > 0, row
        assert cells[-2] == "", f"failed requests: {row}"
        assert cells[7] == "", f"no Datasette beside PostgreSQL: {row}"


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_ingest_benchmark_prints_its_ratio(database: str, request: pytest.FixtureRequest) -> None:
    """``bench.log_bench ingest`` on a few records, on each database (the figures are not
    asserted: see docs/benchmarks.md)."""
    extra: list[str] = []
    if database == "postgresql":
        folder: Path = request.getfixturevalue("pg_folder")
        extra = ["--postgres", "--pg-dir", str(folder / "pg")]
    out = bench(
        *("bench.log_bench", "ingest", "--records", "200", "--repeat", "1", *extra), timeout=300
    )
    assert re.search(r"ratio ingest / signatures: median [\d.]+ of 1", out), out
