"""Instructions per request, counted by valgrind: a figure that does not drift with the machine.

The HTTP benchmark's ratios move by 10-20% between runs on a shared machine, more than most
single changes make. ``python -m bench instructions`` measures what a change does to the
code's own work instead: it runs the app in a child Python process under ``valgrind
--tool=callgrind`` twice per endpoint, once sending ``warm`` requests and once ``warm +
requests``, and divides the difference in instructions by ``requests``. Start-up, imports and
warm-up cancel out; what is left is the cost of one request at the WSGI level, over distinct
URLs (first requests, as in the HTTP benchmark), with the garbage collector's share included.
The same is done for the hello-world app, and each endpoint is printed as a ratio to it.

Instructions are not time: they miss cache misses and the page faults of a cold database, and
nothing here counts gunicorn, HTTP or the access log. Use it to compare builds, and the HTTP
benchmark for the figures of record.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HELLO = "hello-world"
_COLLECTED = re.compile(rb"Collected : (\d+)")


def _environ(target: str) -> dict[str, object]:
    path, _, query = target.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9",
    }


def child(db: Path, paths_file: Path, count: int) -> None:
    """Send the first ``count`` paths of ``paths_file`` to the registry serving ``db`` (or to
    hello-world if the file's first line is ``hello-world``); run under valgrind."""
    from bench.http import registry_env

    lines = paths_file.read_text().splitlines()
    if lines[0] == HELLO:
        from bench.hello import app

        wsgi, paths = app.wsgi_app, ["/"] * count
    else:
        from registry import create_app

        wsgi, paths = create_app(environ=registry_env(db)), lines[:count]

    def start_response(status: str, headers: object, exc_info: object = None) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"{status} for a benchmark URL")

    for path in paths:
        b"".join(wsgi(_environ(path), start_response))  # type: ignore[arg-type]


def _instructions(db: Path, paths_file: Path, count: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        str(db),
        str(paths_file),
        str(count),
    ]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(command, capture_output=True, cwd=root, env=env, check=False)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])
    return int(found.group(1))


def measure(
    db: Path, names: list[str], requests: int, warm: int, echo: Callable[[str], None] = print
) -> dict[str, int]:
    """Instructions per request of hello-world and each endpoint in ``names``; prints a table.

    Raises:
        RuntimeError: valgrind is missing, or a child failed.
    """
    from bench.http import Sample, endpoints, registry_env

    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed (Debian: apt-get install valgrind)")
    sample = Sample.from_db(registry_env(db)["REGISTRY_DATABASE_URL"], warm + requests)
    by_name = {e.name: e for e in endpoints(sample)}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise RuntimeError(f"unknown endpoints {unknown}; known: {sorted(by_name)}")
    per_request: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as temp, ThreadPoolExecutor(2) as pool:
        for name in [HELLO, *names]:
            file = Path(temp) / "paths.txt"
            paths = [HELLO] if name == HELLO else by_name[name].paths[: warm + requests]
            file.write_text("\n".join(paths) + "\n")
            runs = [pool.submit(_instructions, db, file, n) for n in (warm, warm + requests)]
            base, full = (run.result() for run in runs)
            per_request[name] = (full - base) // requests
            echo(
                f"{name:>20}: {per_request[name]:>12,} instructions/request  "
                f"x hello {per_request[HELLO] / per_request[name]:.2f}"
            )
    return per_request


if __name__ == "__main__":
    child(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
