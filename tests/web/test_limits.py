"""Rate limits cost nothing on the views that have none."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask_limiter import Limiter


def test_only_limited_views_consult_the_limiter(
    fresh_app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """flask-limiter checks every request in a before-request hook by default, a cost on the
    hottest endpoints (lookups, pages, QR images), which have no limit. Only the views with a
    limit may consult it, from their own decorator."""
    checks: list[bool] = []
    original = Limiter._check_request_limit

    def counting(self: Limiter, *args: Any, **kwargs: Any) -> None:
        checks.append(kwargs.get("in_middleware", True))
        original(self, *args, **kwargs)

    # Patched before the app exists, so hooks registered at start-up count too.
    monkeypatch.setattr(Limiter, "_check_request_limit", counting)
    app = fresh_app_factory(search_rate_limit="1/minute")
    client = app.test_client()
    try:
        for path in ("/api/v1/issuers", "/api/v1/schemes", "/", "/api/v1/certificates/X"):
            client.get(path)
        assert checks == []
        codes = [client.get("/api/v1/search?q=a").status_code for _ in range(2)]
        assert codes == [200, 429]
        assert checks == [False, False]
    finally:
        app.extensions["registry"].engine.dispose()
