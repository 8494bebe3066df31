"""Rate limits: nothing spent on the views that have none; shared through Redis."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask

from registry.web.limits import Limits
from tests.postgres import free_port, unavailable


def test_only_limited_views_count(
    fresh_app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hottest endpoints (lookups, pages, QR images) have no limit and must not pay for
    one; search counts once per request."""
    scopes: list[str] = []
    original = Limits.allow

    def counting(self: Limits, rate: Any, scope: str, client: str | None) -> bool:
        scopes.append(scope)
        return original(self, rate, scope, client)

    monkeypatch.setattr(Limits, "allow", counting)
    app = fresh_app_factory(search_rate_limit="1/minute")
    client = app.test_client()
    try:
        for path in ("/api/v1/issuers", "/api/v1/schemes", "/", "/api/v1/certificates/X"):
            client.get(path)
        assert scopes == []
        codes = [client.get("/api/v1/search?q=a").status_code for _ in range(2)]
        assert codes == [200, 429]
        page = client.get("/search?q=a")  # the page draws from the same budget
        assert page.status_code == 429
        assert page.mimetype == "text/html"
        assert scopes == ["search", "search", "search"]
    finally:
        app.extensions["registry"].engine.dispose()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server (Debian's ``redis-server``) on a free port, nothing saved."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed (Debian: apt-get install redis-server)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = server.stdout.read().decode() if server.stdout else ""
                    unavailable("redis-server did not start", log)
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def test_limits_are_shared_through_redis(
    fresh_app_factory: Callable[..., Flask], redis_url: str
) -> None:
    """With ``REGISTRY_RATELIMIT_STORAGE_URL=redis://…`` the workers and hosts of a deployment
    draw from one budget per client: two apps stand for two gunicorn workers."""
    redis.Redis.from_url(redis_url).flushall()  # the server serves both database params
    settings = {"search_rate_limit": "3/minute", "ratelimit_storage_url": redis_url}
    workers = [fresh_app_factory(**settings).test_client() for _ in range(2)]
    try:
        codes = [workers[n % 2].get("/api/v1/search?q=a").status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]
        # Another address still has its budget, on either worker.
        other = workers[1].get("/api/v1/search?q=a", environ_base={"REMOTE_ADDR": "192.0.2.9"})
        assert other.status_code == 200
    finally:
        for client in workers:
            client.application.extensions["registry"].engine.dispose()
