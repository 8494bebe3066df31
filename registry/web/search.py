"""GET /api/v1/search: certificates by number, USCC or any part of an organisation's names.

Query parameters: ``q`` (required), ``status``, ``scheme``, ``tier``, ``issuer``, ``cursor``
and ``limit`` (1-100, default 20). See docs/search.md for how ``q`` is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, request
from sqlalchemy import Engine

from registry.app import Registry, read_with_retry, registry
from registry.domain.calendar import china_today
from registry.fastjson import dumps_bytes
from registry.services.search import (
    MAX_LIMIT,
    SearchError,
    SearchQuery,
    SearchResult,
    card_json,
    search,
    search_cards,
)
from registry.web import fastpath
from registry.web.errors import APIError
from registry.web.limits import COUNTED, EXTENSION, SCOPE, Limits, search_limit

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")

#: Results change when an issuer pushes; a few seconds of caching absorbs bursts of the same
#: query without hiding a push for long.
SEARCH_MAX_AGE = 10
DEFAULT_LIMIT = 20


@bp.get("/search")
@search_limit
def get_search() -> Response:
    """One page of search results, grouped by organisation."""
    query = _query(request.args.get)
    today = china_today(registry().clock())
    try:
        # (Unless the fast path tried the cards already and left the request here.)
        tried = request.environ.get(_CARDS_TRIED, False)
        body = None if tried else cards_body(registry().engine, query, today)
        if body is None:
            result = read_with_retry(lambda session: search(session, query, today))
            body = dumps_bytes(result_json(query.text.strip(), result))
    except SearchError as exc:
        raise APIError(400, exc.code, exc.message) from exc
    return Response(body, headers=SEARCH_HEADERS)


#: The headers of every page of results.
SEARCH_HEADERS = (
    ("Content-Type", "application/json"),
    ("Cache-Control", f"public, max-age={SEARCH_MAX_AGE}"),
    ("Access-Control-Allow-Origin", "*"),
)
#: The parameters of a search the fast path answers (none of the filters).
_PLAIN = frozenset({"q", "cursor", "limit"})
#: Set in the WSGI environ when the fast path asked the cards and they could not answer.
_CARDS_TRIED = "registry.search_cards_tried"


def _query(arg: Callable[[str], str | None]) -> SearchQuery:
    """The search asked by the request parameters ``arg(name)``.

    Raises:
        APIError: 400 ``InvalidLimit``.
    """
    return SearchQuery(
        text=arg("q") or "",
        status=arg("status") or None,
        scheme=arg("scheme") or None,
        tier=arg("tier") or None,
        issuer=arg("issuer") or None,
        cursor=arg("cursor") or None,
        limit=_limit(arg("limit")),
    )


def cards_body(engine: Engine, query: SearchQuery, today: dt.date) -> bytes | None:
    """The answer to ``query`` from the organisations' search cards
    (:func:`registry.services.search.search_cards`) as the API's JSON, or None when it needs
    :func:`registry.services.search.search`.

    Raises:
        SearchError: the query is invalid.
    """
    page = search_cards(engine, query, today)
    if page is None:
        return None
    # The bytes dumps_bytes(result_json(...)) gives: compact JSON, keys in this order.
    return b"".join(
        (
            b'{"query":',
            dumps_bytes(query.text.strip()),
            b',"kind":',
            dumps_bytes(page.kind),
            b',"results":[',
            ",".join(page.cards).encode(),
            b'],"next_cursor":',
            dumps_bytes(page.next_cursor),
            b',"uscc_problem":null}',
        )
    )


def search_fast_path(app: Flask) -> fastpath.Handler:
    """Answers ``GET /api/v1/search`` as :func:`get_search` does when the cards can, for
    :class:`registry.web.fastpath.FastPaths`, counting it against the search rate limit.

    A request over the limit, with a filter or a bad parameter, or whose page needs the
    certificate rows, goes to the view (one already counted is marked, so it is counted once).
    """
    state: Registry = app.extensions["registry"]

    def answer(_path: str, environ: WSGIEnvironment) -> fastpath.Answer | None:
        args = fastpath.query_args(environ, _PLAIN)
        if args is None:
            return None
        counters: Limits = app.extensions[EXTENSION]
        allowed = counters.allow(counters.search_rate, SCOPE, environ.get("REMOTE_ADDR"))
        environ[COUNTED] = allowed  # the view, if it answers, counts the request no more
        if not allowed:
            return None  # the view answers 429
        try:
            query = _query(args.get)
            body = cards_body(state.engine, query, china_today(state.clock()))
        except (APIError, SearchError):
            return None  # the view answers 400
        if body is None:
            environ[_CARDS_TRIED] = True
            return None
        del environ[COUNTED]
        return body, SEARCH_HEADERS

    return answer


def _limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise APIError(400, "InvalidLimit", f"limit must be between 1 and {MAX_LIMIT}")
    return int(value)


def result_json(text: str, result: SearchResult) -> dict[str, Any]:
    """The API's body for one page of results."""
    problem = result.uscc_problem
    return {
        "query": text,
        "kind": result.kind,
        "results": [card_json(group) for group in result.groups],
        "next_cursor": result.next_cursor,
        "uscc_problem": None
        if problem is None
        else {
            "message": problem.message,
            "expected_check_character": problem.expected_check_character,
            "suggestion": problem.suggestion,
        },
    }
