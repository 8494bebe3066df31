"""Driving a server with wrk (Debian's ``wrk`` package) and reading its report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "rotate.lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkMissing(RuntimeError):
    """wrk is not installed (Debian: apt-get install wrk)."""


@dataclass(frozen=True)
class Result:
    """One wrk run: throughput, latency percentiles in milliseconds, and failures."""

    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int

    @classmethod
    def from_output(cls, text: str) -> Result:
        """Parse ``wrk --latency`` output.

        Raises:
            ValueError: the output lacks the throughput or latency lines.
        """
        rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
        total = re.search(r"^\s+(\d+) requests in", text, re.MULTILINE)
        p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
        if not (rate and total and p50 and p99):
            raise ValueError(f"unexpected wrk output:\n{text}")
        non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
        errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
        )
        return cls(
            requests=int(total.group(1)),
            rate=float(rate.group(1)),
            p50_ms=float(p50.group(1)) * _UNITS[p50.group(2)],
            p99_ms=float(p99.group(1)) * _UNITS[p99.group(2)],
            non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
            socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        )


def wrk_path() -> str:
    """The wrk executable.

    Raises:
        WrkMissing: it is not on PATH.
    """
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed (Debian: apt-get install wrk)")
    return path


def run(base_url: str, paths: Path, duration: float, connections: int, threads: int) -> Result:
    """Drive ``base_url`` for ``duration`` seconds, rotating through the paths in ``paths``."""
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(duration, 1):.0f}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        base_url,
        "--",
        str(paths),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    )
    return Result.from_output(done.stdout)
