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
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_prints_a_results_table(tmp_path: Path) -> None:
    if shutil.which("wrk") is None and os.environ.get("CI") != "true":
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    db = tmp_path / "registry.db"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "http", "--quick", "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
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
