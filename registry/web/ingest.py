"""The issuing system's side of the API: pushing records and key rollovers."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from registry import collector
from registry.app import db, registry
from registry.services import transparency
from registry.services.ingest import ingest
from registry.services.issuers import KeyEventRejected, rollover
from registry.web.errors import APIError
from registry.web.payload import json_body

bp = Blueprint("ingest", __name__, url_prefix="/api/v1")


@bp.post("/records")
def push_records() -> tuple[Response, int]:
    """Push one envelope (an object) or a batch (an array of up to ``max_batch`` envelopes).

    Every accepted item is committed before this answers. One envelope gets 201 when accepted,
    200 when it is a duplicate and 422 when rejected; a batch gets 200 with per-item results.
    The cyclic garbage collector is paused from parsing the body to the commit
    (:mod:`registry.collector`).
    """
    with collector.paused():
        return _push_records()


def _push_records() -> tuple[Response, int]:
    body = json_body()
    state = registry()
    if isinstance(body, list):
        if not body:
            raise APIError(400, "EmptyBatch", "the batch holds no envelopes")
        if len(body) > state.settings.max_batch:
            raise APIError(
                413,
                "BatchTooLarge",
                f"a batch holds at most {state.settings.max_batch} envelopes, not {len(body)}",
            )
        envelopes = body
    elif isinstance(body, dict):
        envelopes = [body]
    else:
        raise APIError(400, "MalformedEnvelope", "push an envelope object or an array of them")
    session = db()
    now = state.clock()
    report = ingest(session, envelopes, now)
    session.commit()
    if report.count("accepted"):
        _refresh_checkpoint()
    status = 200
    if isinstance(body, dict):
        status = {"accepted": 201, "duplicate": 200, "rejected": 422}[report.results[0].outcome]
    return jsonify(report.to_json()), status


@bp.post("/keys/rollover")
def push_rollover() -> tuple[Response, int]:
    """Apply an issuer's key-rollover statement ``{"statement": {...}, "signature": {...}}``."""
    body = json_body()
    if not isinstance(body, dict) or set(body) != {"statement", "signature"}:
        raise APIError(
            400,
            "MalformedEnvelope",
            'a rollover is an object with exactly "statement" and "signature"',
        )
    session = db()
    state = registry()
    try:
        event = rollover(session, body["statement"], body["signature"], state.clock())
    except KeyEventRejected as exc:
        session.rollback()
        raise APIError(422, exc.code, exc.message) from exc
    session.commit()
    _refresh_checkpoint()
    return jsonify({"kid": event.kid, "log_index": event.log_index}), 201


def _refresh_checkpoint() -> None:
    """Sign a checkpoint over new entries if the last one is older than the interval.

    Best effort, after the push has committed: the push is already acknowledged, so a failure
    here must not turn its answer into an error. Readers of /log/checkpoint sign a fresh one
    whenever the latest is stale, so nothing stays uncovered for longer than the interval.
    """
    state = registry()
    session = db()
    try:
        transparency.fresh_checkpoint(
            session,
            state.log_signer,
            state.settings.log_origin,
            state.settings.checkpoint_interval,
            state.clock(),
        )
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        current_app.logger.warning(
            "checkpoint after push not signed; readers will sign it", exc_info=True
        )
