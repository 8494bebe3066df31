"""Answers for the hottest plain GET requests without Flask's per-request machinery.

A certificate lookup by number (every app that scans a label, every bulk client) and a QR
image that was just rendered cost, in their own work, one indexed query and a cached
rendering, or only a dictionary lookup. Flask's request context, routing over every rule and
the ``Response`` object around that work cost as much again or more (docs/benchmarks.md has
the profile). :class:`FastPaths` sits in front of the app at the WSGI level and gives each
handler a chance to answer a request that is plain enough:

- ``GET``, with no query string and no conditional headers, to a printable ASCII path;
- the handler answers it from the same functions (and caches) the view uses, so the bytes and
  headers are the view's own (tests compare them);
- anything else, including an unknown or ambiguous number, a cache miss, or a handler that
  fails, goes to the app unchanged, so every error answer, 304 and log line still comes from
  the views.

The security headers middleware wraps this one, so these answers carry them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: A response body and its headers (Content-Length is added).
Answer = tuple[bytes, Sequence[tuple[str, str]]]
#: Answers a plain request for the path it is given (with the request's WSGI environ, for its
#: headers), or None to leave it to the app.
Handler = Callable[[str, "WSGIEnvironment"], Answer | None]


class FastPaths:
    """WSGI middleware: ``handlers`` may answer plain GET requests; the app answers the rest."""

    def __init__(self, app: WSGIApplication, handlers: Sequence[Handler]) -> None:
        self.app = app
        self.handlers = tuple(handlers)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = plain_path(environ)
        if path is not None:
            for handler in self.handlers:
                try:
                    answer = handler(path, environ)
                except Exception:  # the view answers (and logs) it properly
                    answer = None
                if answer is not None:
                    body, headers = answer
                    start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
                    return [body]
        return self.app(environ, start_response)


def plain_path(environ: WSGIEnvironment) -> str | None:
    """The path of a request plain enough for a fast path to answer, else None."""
    if (
        environ.get("REQUEST_METHOD") != "GET"
        or environ.get("QUERY_STRING")
        or "HTTP_IF_NONE_MATCH" in environ
        or "HTTP_IF_MODIFIED_SINCE" in environ
    ):
        return None
    path: str = environ.get("PATH_INFO", "")
    if not (path.isascii() and path.isprintable()):
        return None
    return path


def segment_after(path: str, prefix: str, suffix: str = "") -> str | None:
    """The one path segment between ``prefix`` and ``suffix`` in ``path``, if non-empty."""
    if not (path.startswith(prefix) and path.endswith(suffix)):
        return None
    segment = path[len(prefix) : len(path) - len(suffix)]
    if not segment or "/" in segment:
        return None
    return segment
