"""The registry under gunicorn with the deploy config, as it is served in production."""

from __future__ import annotations

import os
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


def test_a_worker_writes_its_scan_counts_when_it_stops(
    app: Flask,
    client: FlaskClient,
    make_envelope: Callable[..., dict[str, Any]],
    database_url: str,
    keys_path: Path,
    tmp_path: Path,
) -> None:
    """Workers count scans in memory and write them every few seconds, on a later scan; a
    worker that stops (gunicorn's graceful shutdown, or recycling after max_requests) writes
    what it still holds instead of dropping it."""
    envelope = make_envelope()
    push_accepted(client, envelope)
    app.extensions["registry"].engine.dispose()
    with gunicorn(database_url, keys_path, tmp_path / "instance") as server:
        for _ in range(3):
            with urllib.request.urlopen(f"{server.base_url}/v/{envelope['qr']}") as answer:  # noqa: S310
                assert answer.status == 200
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=60) == 0
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            counted = connection.execute(text("SELECT sum(count) FROM scan_count")).scalar()
    finally:
        engine.dispose()
    assert counted == 3


@pytest.fixture(autouse=True)
def _needs_gunicorn() -> None:
    assert GUNICORN.exists(), f"{GUNICORN} is installed with the project"
