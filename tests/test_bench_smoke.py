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


def table_row(out: str, endpoint: str) -> dict[str, str]:
    """The cells of ``endpoint``'s row in the printed results table, by column name."""
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("| endpoint |"))
    row = next(line for line in lines if line.startswith(f"| {endpoint} |"))
    names = [cell.strip() for cell in header.strip("|").split("|")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert len(names) == len(cells), (header, row)
    return dict(zip(names, cells, strict=True))


@pytest.mark.slow
def test_quick_benchmark_prints_a_results_table(tmp_path: Path) -> None:
    if shutil.which("wrk") is None and os.environ.get("CI") != "true":
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    db = tmp_path / "registry.db"
    out = bench("bench", "http", "--quick", "--db", str(db), timeout=170)
    assert "| endpoint | req/s | × hello | p50 ms | p99 ms | CPU µs/req | CPU × hello |" in out
    cells = table_row(out, "lookup")
    assert int(cells["req/s"].replace(",", "")) > 0
    assert float(cells["× hello"]) > 0
    # The registry's processes used CPU for the requests, and that compares with hello-world's.
    assert int(cells["CPU µs/req"].replace(",", "")) > 0
    assert float(cells["CPU × hello"]) > 0
    # Datasette served the same rows and answered the comparable queries without failures.
    assert float(cells["× datasette"]) > 0, cells
    assert cells["notes"] == "", f"failed requests: {cells}"
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
        cells = table_row(out, name)
        assert int(cells["req/s"].replace(",", "")) > 0, cells
        assert cells["notes"] == "", f"failed requests: {cells}"
        assert cells["datasette req/s"] == "", f"no Datasette beside PostgreSQL: {cells}"


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


@pytest.mark.slow
def test_instruction_counts_per_request(tmp_path: Path) -> None:
    """``bench instructions`` counts hello-world's and an endpoint's instructions per request
    under valgrind (the figures are not asserted: see docs/benchmarks.md)."""
    if shutil.which("valgrind") is None and os.environ.get("CI") != "true":
        pytest.skip("valgrind is not installed (Debian: apt-get install valgrind)")
    db = tmp_path / "registry.db"
    bench("bench", "load", "--certificates", "60", "--db", str(db), timeout=120)
    out = bench(
        *("bench", "instructions", "--db", str(db), "--requests", "20", "--warm", "5"),
        "lookup",
        timeout=400,
    )
    row = re.compile(r"^\s*(hello-world|lookup): +([\d,]+) instructions/request", re.M)
    counts = dict(row.findall(out))
    assert set(counts) == {"hello-world", "lookup"}, out
    assert all(int(n.replace(",", "")) > 10_000 for n in counts.values()), out
