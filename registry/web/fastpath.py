"""Answers for the hottest plain GET requests without Flask's per-request machinery.

A certificate lookup by number (every app that scans a label, every bulk client) and a QR
image that was just rendered cost, in their own work, one indexed query and a cached
rendering, or only a dictionary lookup. Flask's request context, routing over every rule and
the ``Response`` object around that work cost as much again or more (docs/benchmarks.md has
the profile). :class:`FastPaths` sits in front of the app at the WSGI level and gives each
handler a chance to answer a request that is plain enough:

- ``GET``, with no query string and no conditional headers, to a printable ASCII path (or, for
  a handler registered for one exact path, with a query string, which it reads itself);
- the handler answers it from the same functions (and caches) the view uses, so the bytes and
  headers are the view's own (tests compare them);
- anything else, including an unknown or ambiguous number, a cache miss, or a handler that
  fails, goes to the app unchanged, so every error answer, 304 and log line still comes from
  the views.

The security headers middleware wraps this one, so these answers carry them too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: A response body and its headers (Content-Length is added).
Answer = tuple[bytes, Sequence[tuple[str, str]]]
#: Answers a plain request for the path it is given (with the request's WSGI environ, for its
#: headers), or None to leave it to the app.
Handler = Callable[[str, "WSGIEnvironment"], Answer | None]


class FastPaths:
    """WSGI middleware: ``handlers`` may answer plain GET requests, and ``with_query`` (by
    exact path) plain GET requests with a query string; the app answers the rest."""

    def __init__(
        self,
        app: WSGIApplication,
        handlers: Sequence[Handler],
        with_query: Mapping[str, Handler] | None = None,
    ) -> None:
        self.app = app
        self.handlers = tuple(handlers)
        self.with_query = dict(with_query or {})

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = plain_path(environ)
        if path is not None:
            if environ.get("QUERY_STRING"):
                handler = self.with_query.get(path)
                handlers: Sequence[Handler] = () if handler is None else (handler,)
            else:
                handlers = self.handlers
            for handler in handlers:
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
    """The path of a GET request plain enough for a fast path to answer, else None (its
    query string, if any, is for the handler to read)."""
    if (
        environ.get("REQUEST_METHOD") != "GET"
        or "HTTP_IF_NONE_MATCH" in environ
        or "HTTP_IF_MODIFIED_SINCE" in environ
    ):
        return None
    path: str = environ.get("PATH_INFO", "")
    if not (path.isascii() and path.isprintable()):
        return None
    return path


def query_args(environ: WSGIEnvironment, names: frozenset[str]) -> dict[str, str] | None:
    """The first value of each parameter of the request's query string, if it is ASCII (as
    URL-encoded text is) and names no parameter outside ``names``; else None."""
    query: str = environ.get("QUERY_STRING", "")
    if not query.isascii():
        return None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return None
    args: dict[str, str] = {}
    for name, value in pairs:
        if name not in names:
            return None
        args.setdefault(name, value)
    return args


def segment_after(path: str, prefix: str, suffix: str = "") -> str | None:
    """The one path segment between ``prefix`` and ``suffix`` in ``path``, if non-empty."""
    if not (path.startswith(prefix) and path.endswith(suffix)):
        return None
    segment = path[len(prefix) : len(path) - len(suffix)]
    if not segment or "/" in segment:
        return None
    return segment
