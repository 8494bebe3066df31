"""Starting the servers under test on 127.0.0.1, each on a free port, and stopping them.

The registry and the hello-world baseline both run under gunicorn with the deploy config
(``deploy/gunicorn.conf.py``: sync workers, one per core plus one, preloaded app). Datasette
is an ASGI app and cannot run in gunicorn's sync workers; it runs under uvicorn with one worker
process per core, which is how it scales across cores.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Server:
    name: str
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User and system CPU time the server's processes have used so far."""
        return _tree_cpu_seconds(self.pid)

    def wait_idle(self, timeout: float = 180.0, window: float = 0.5) -> float:
        """Wait until the server's processes use under 5% of a core; the seconds it took.

        A server can go on working after wrk stops: Datasette finishes every query it had
        started (a LIKE scan of a million names takes seconds), and would otherwise take a
        core from whatever is measured next.
        """
        started = time.monotonic()
        before = _tree_cpu_seconds(self.pid)
        while time.monotonic() - started < timeout:
            time.sleep(window)
            now = _tree_cpu_seconds(self.pid)
            if now - before < 0.05 * window:
                break
            before = now
        return time.monotonic() - started


def _tree_cpu_seconds(root: int) -> float:
    """User and system CPU time of ``root`` and its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name, which is in parentheses and may hold spaces.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own 127.0.0.1 server
                return
        except urllib.error.HTTPError:
            return  # it answers; the status is the benchmark's business
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"{url}: no answer after {timeout:.0f} s; see {log}")


@contextmanager
def serve(
    name: str, command: list[str], env: Mapping[str, str], probe: str, logs: Path
) -> Iterator[Server]:
    """Run ``command`` (which must listen where ``probe`` points), yield, then stop it."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
        )
        try:
            base = probe.split("/", 3)
            _wait(probe, process, log)
            yield Server(name, "/".join(base[:3]), process.pid)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def gunicorn(
    name: str, app: str, env: Mapping[str, str], probe_path: str, logs: Path
) -> Iterator[Server]:
    """Serve WSGI ``app`` (``module:callable``) with the deploy gunicorn config."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), app]
    env = {**env, "REGISTRY_BIND": f"127.0.0.1:{port}", "REGISTRY_LOG_LEVEL": "warning"}
    return serve(name, command, env, f"http://127.0.0.1:{port}{probe_path}", logs)


def datasette(db: Path, logs: Path, workers: int) -> Iterator[Server]:
    """Serve ``db`` read-only (immutable) with Datasette under uvicorn, ``workers`` processes."""
    port = free_port()
    command = [
        str(BIN / "uvicorn"),
        "--factory",
        "bench.datasette_app:create",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {"BENCH_DATASETTE_DB": str(db), "PYTHONPATH": str(ROOT)}
    return serve("datasette", command, env, f"http://127.0.0.1:{port}/-/versions.json", logs)
