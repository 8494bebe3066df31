"""GET /api/v1/search: certificates by number, USCC or any part of an organisation's names.

Query parameters: ``q`` (required), ``status``, ``scheme``, ``tier``, ``issuer``, ``cursor``
and ``limit`` (1-100, default 20). See docs/search.md for how ``q`` is read.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from registry.app import read_with_retry, registry
from registry.domain.calendar import china_today
from registry.services.search import (
    MAX_LIMIT,
    OrganisationHit,
    SearchError,
    SearchQuery,
    SearchResult,
    search,
)
from registry.web.api import status_json
from registry.web.errors import APIError
from registry.web.limits import search_limit

bp = Blueprint("search_api", __name__, url_prefix="/api/v1")

#: Results change when an issuer pushes; a few seconds of caching absorbs bursts of the same
#: query without hiding a push for long.
SEARCH_MAX_AGE = 10
DEFAULT_LIMIT = 20


@bp.get("/search")
@search_limit
def get_search() -> Response:
    """One page of search results, grouped by organisation."""
    args = request.args
    query = SearchQuery(
        text=args.get("q", ""),
        status=args.get("status") or None,
        scheme=args.get("scheme") or None,
        tier=args.get("tier") or None,
        issuer=args.get("issuer") or None,
        cursor=args.get("cursor") or None,
        limit=_limit(args.get("limit")),
    )
    try:
        today = china_today(registry().clock())
        result = read_with_retry(lambda session: search(session, query, today))
    except SearchError as exc:
        raise APIError(400, exc.code, exc.message) from exc
    response = jsonify(result_json(query.text.strip(), result))
    response.cache_control.public = True
    response.cache_control.max_age = SEARCH_MAX_AGE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


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
        "results": [_group_json(group) for group in result.groups],
        "next_cursor": result.next_cursor,
        "uscc_problem": None
        if problem is None
        else {
            "message": problem.message,
            "expected_check_character": problem.expected_check_character,
            "suggestion": problem.suggestion,
        },
    }


def _group_json(group: OrganisationHit) -> dict[str, Any]:
    return {
        "organisation": {
            "uscc": group.uscc,
            "name": group.name,
            "former_names": list(group.former_names),
            "matched_former_name": group.matched_former_name,
        },
        "certificates": [
            {
                "certificate_number": c.certificate_number,
                "issuer": c.issuer_id,
                "scheme": c.scheme,
                "tier": c.tier,
                "status": status_json(c.status),
                "expiry_date": c.expiry_date.isoformat(),
                # Numbers and issuer ids are URL-safe by their syntax; the issuer makes the
                # link unambiguous when two issuers use one number.
                "url": f"/api/v1/certificates/{c.certificate_number}?issuer={c.issuer_id}",
            }
            for c in group.certificates
        ],
    }
