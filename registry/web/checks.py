"""Bulk checks with signed receipts: the JSON API and the page for procurement officers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from registry.app import db, registry
from registry.crypto.jwks import jwk_for
from registry.domain.calendar import china_today, parse_day
from registry.domain.status import Status
from registry.services import checks, lookup, transparency
from registry.web.errors import APIError
from registry.web.payload import json_body

bp = Blueprint("checks", __name__)


def _run_check(queries_in: Any, as_of_text: object) -> checks.Receipt:
    """Validate, answer, sign and store a check; the caller renders it.

    Raises:
        APIError: 400 with a stable code on bad input.
    """
    state = registry()
    now = state.clock()
    try:
        queries = checks.parse_queries(queries_in)
    except checks.CheckRejected as exc:
        raise APIError(400, exc.code, exc.message) from exc
    if as_of_text in (None, ""):
        as_of = china_today(now)
    elif isinstance(as_of_text, str):
        try:
            as_of = parse_day(as_of_text, "as_of")
        except ValueError as exc:
            raise APIError(400, "InvalidDate", str(exc)) from exc
    else:
        raise APIError(400, "InvalidDate", "as_of must be a date as YYYY-MM-DD")
    session = db()
    size = transparency.size(session)
    checkpoint = transparency.fresh_checkpoint(
        session,
        state.log_signer,
        state.settings.log_origin,
        state.settings.checkpoint_interval,
        now,
        covering=size,
    )
    receipt = checks.check(
        session,
        queries,
        as_of,
        now,
        china_today(now),
        state.log_key,
        checkpoint,
        state.settings.log_origin,
    )
    session.commit()
    return receipt


@bp.post("/api/v1/checks")
def post_check() -> tuple[Response, int]:
    """Check up to 500 certificate numbers or USCCs as of a date; answer with a signed receipt.

    Body: ``{"queries": ["CQC-…", "9133…", "NUMBER ISSUER"], "as_of": "YYYY-MM-DD"}``.
    """
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise APIError(400, "MalformedCheck", 'send {"queries": [...], "as_of": "YYYY-MM-DD"}')
    if set(body) - {"queries", "as_of"}:
        raise APIError(400, "MalformedCheck", "unknown members besides queries and as_of")
    receipt = _run_check(body["queries"], body.get("as_of"))
    response = jsonify(
        {"id": receipt.id, "url": f"/api/v1/receipts/{receipt.id}", **receipt.document}
    )
    response.headers["Location"] = f"/api/v1/receipts/{receipt.id}"
    return response, 201


@bp.get("/api/v1/receipts/<receipt_id>")
def get_receipt(receipt_id: str) -> Response:
    """A stored receipt, byte for byte as signed (RFC 8785 JSON), immutable."""
    data = checks.stored_receipt(db(), receipt_id.upper())
    if data is None:
        raise APIError(404, "ReceiptNotFound", f"no receipt {receipt_id}")
    response = Response(data, mimetype="application/json")
    response.headers["Content-Disposition"] = f'inline; filename="receipt-{receipt_id}.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 31536000
    response.cache_control.immutable = True
    return response


@bp.get("/api/v1/receipts/key")
def get_receipt_key() -> Response:
    """The registry's public key that signs receipts (and checkpoints), as a JWK."""
    key = registry().log_key.public_key
    response = jsonify(jwk_for(key, issuer="registry", status="active"))
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/check")
def check_form() -> str:
    """The bulk-check form: one certificate number or USCC per line, and a date."""
    return render_template("check.html", queries="", as_of="", error=None)


@bp.post("/check")
def check_page() -> tuple[str, int]:
    """Run a bulk check from the form and show the answers with a link to the receipt."""
    queries = request.form.get("queries", "")
    as_of = request.form.get("as_of", "")
    try:
        receipt = _run_check(queries, as_of)
    except APIError as exc:
        return render_template(
            "check.html",
            queries=queries,
            as_of=as_of,
            error=exc,
            max_queries=checks.MAX_QUERIES,
            max_query_length=checks.MAX_QUERY_LENGTH,
        ), exc.status
    return render_template(
        "check_result.html",
        receipt=receipt,
        result=receipt.document["receipt"],
        statuses={status.value: status for status in Status},
        issuers={info.id: info for info in lookup.publishers(db())},
    ), 201
