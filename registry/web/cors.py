"""Cross-origin access to the public API: every read, its errors, and the preflights.

Nothing the registry serves depends on cookies or ambient credentials (pushes and the
issuers' API are authenticated by signatures), so the API is open to every origin with ``*``.
"""

from __future__ import annotations

from flask import Flask, Response, request

#: Path prefixes of the programs' API (errors there are JSON too: registry.web.errors).
API_PREFIXES = ("/api/", "/log/", "/.well-known/")

#: Sent with every read of the API, refusals included: a browser client must be able to read
#: why it was refused, and a 429's Retry-After. (Set, not added: views set them as well.)
CORS_READ_HEADERS = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "ETag, Retry-After"),
)

#: Request headers a script may set: validators, and the JSON body of a bulk check.
_ALLOWED_HEADERS = "Content-Type, If-None-Match, If-Modified-Since, Accept-Language"
#: How long a browser may keep a preflight's answer, in seconds.
_PREFLIGHT_MAX_AGE = "86400"


def _preflight(response: Response) -> Response:
    """Answer a browser's preflight (OPTIONS with Access-Control-Request-Method) on the API
    with the methods the route allows (Flask's own OPTIONS answer lists them in Allow)."""
    if (
        request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
        and request.path.startswith(API_PREFIXES)
    ):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = response.headers.get(
            "Allow", "GET, HEAD, OPTIONS"
        )
        response.headers["Access-Control-Allow-Headers"] = _ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = _PREFLIGHT_MAX_AGE
    return response


def init_app(app: Flask) -> None:
    """Answer preflights on the API."""
    app.after_request(_preflight)
