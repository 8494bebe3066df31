"""The registry under gunicorn with the deploy config, as it is served in production."""

from __future__ import annotations

import gc
import os
import runpy
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from tests.conftest import push_accepted
from tests.postgres import free_port

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str


@contextmanager
def gunicorn(database_url: str, keys_path: Path, instance: Path) -> Iterator[Server]:
    """``gunicorn -c deploy/gunicorn.conf.py 'registry:create_app()'`` with one worker, until it
    answers; killed at the end if the test has not stopped it."""
    port = free_port()
    environ = {
        **os.environ,
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_KEYS_PATH": str(keys_path),
        "REGISTRY_INSTANCE_PATH": str(instance),
        "REGISTRY_PUBLIC_URL": "https://registry.example.cn",
        "REGISTRY_BIND": f"127.0.0.1:{port}",
        "REGISTRY_WORKERS": "1",
        "REGISTRY_ACCESS_LOG": "/dev/null",
    }
    process = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "registry:create_app()"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(server.base_url + "/", timeout=5):  # noqa: S310
                    break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    assert process.stderr is not None
                    raise AssertionError(process.stderr.read().decode()) from None
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def scan_total(database_url: str) -> int | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            total: int | None = connection.execute(
                text("SELECT sum(count) FROM scan_count")
            ).scalar()
            return total
    finally:
        engine.dispose()


@pytest.fixture
def served(
    app: Flask,
    client: FlaskClient,
    make_envelope: Callable[..., dict[str, Any]],
    database_url: str,
    keys_path: Path,
    tmp_path: Path,
) -> Iterator[tuple[Server, str]]:
    """gunicorn serving a database with one certificate pushed; and that certificate's token."""
    envelope = make_envelope()
    push_accepted(client, envelope)
    app.extensions["registry"].engine.dispose()
    with gunicorn(database_url, keys_path, tmp_path / "instance") as server:
        yield server, envelope["qr"]


def scan(server: Server, token: str, times: int) -> None:
    for _ in range(times):
        with urllib.request.urlopen(f"{server.base_url}/v/{token}") as answer:  # noqa: S310
            assert answer.status == 200


def test_an_idle_worker_writes_its_scan_counts_when_they_are_due(
    served: tuple[Server, str], database_url: str
) -> None:
    """No later scan is needed to write a batch: each worker's writer thread does it once the
    batch is due (5 s), so an issuer's scan counts do not wait for that worker's next scan."""
    server, token = served
    scan(server, token, 2)
    assert scan_total(database_url) is None
    deadline = time.monotonic() + 20
    while scan_total(database_url) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.process.poll() is None  # still running: the writer, not the exit hook
    assert scan_total(database_url) == 2


def test_a_worker_writes_its_scan_counts_when_it_stops(
    served: tuple[Server, str], database_url: str
) -> None:
    """A worker that stops (gunicorn's graceful shutdown, or recycling after max_requests)
    writes the counts it still holds instead of dropping them."""
    server, token = served
    scan(server, token, 3)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0
    assert scan_total(database_url) == 3


@pytest.fixture(autouse=True)
def _needs_gunicorn() -> None:
    assert GUNICORN.exists(), f"{GUNICORN} is installed with the project"


def test_the_master_freezes_the_preloaded_app_before_forking() -> None:
    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        config["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
        assert gc.get_count()[0] < 100
    finally:
        gc.unfreeze()
