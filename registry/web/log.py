"""The transparency log over HTTP: C2SP resources under /log/, JSON proofs under /api/v1/log/.

``/log/checkpoint``, ``/log/key`` and ``/log/tile/…`` follow C2SP tlog-tiles, so the same files can
be copied to static storage or a CDN. The JSON API serves inclusion proofs (by index or by
certificate), consistency proofs and entries. Everything is bounded by the latest published
checkpoint (signed first if stale), so every answer can be checked against a signed root.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Response, jsonify, request

from registry.app import db, registry
from registry.log.tiles import TileRef, parse_tile_path
from registry.services import issuers, transparency
from registry.web.errors import APIError, error_response

bp = Blueprint("log", __name__)

#: Most entries one ``/api/v1/log/entries`` answer holds.
MAX_ENTRIES = 1000

#: Full tiles and bundles never change: cache them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
#: Partial tiles are superseded as the log grows; clients should come back soon.
PARTIAL = "public, max-age=60"


def published(covering: int = 0) -> transparency.SignedCheckpoint:
    """The latest checkpoint, signed and committed first if stale (or not covering ``covering``
    entries)."""
    state = registry()
    session = db()
    checkpoint = transparency.fresh_checkpoint(
        session,
        state.log_signer,
        state.settings.log_origin,
        state.settings.checkpoint_interval,
        state.clock(),
        covering,
    )
    session.commit()
    return checkpoint


def b64(data: bytes) -> str:
    """Standard, padded base64 (RFC 4648 §4), as docs/formats.md uses for hashes and entries."""
    return base64.b64encode(data).decode()


def inclusion_json(inclusion: transparency.Inclusion) -> dict[str, Any]:
    """The inclusion proof JSON of docs/formats.md (also embedded in certificate lookups)."""
    return {
        "index": inclusion.index,
        "tree_size": inclusion.checkpoint.size,
        "leaf_hash": b64(inclusion.leaf_hash),
        "proof": [b64(h) for h in inclusion.proof],
        "checkpoint": inclusion.checkpoint.note,
    }


def certificate_inclusion(log_index: int) -> dict[str, Any]:
    """The ``log`` member of a certificate lookup with ``?proof=1``."""
    checkpoint = published(covering=log_index + 1)
    return inclusion_json(transparency.inclusion(db(), log_index, checkpoint))


def int_arg(name: str, default: int | None = None) -> int:
    """A non-negative decimal query parameter.

    Raises:
        APIError: 400 ``InvalidParameter`` when missing (without default) or malformed.
    """
    value = request.args.get(name)
    if value is None or value == "":
        if default is None:
            raise APIError(400, "InvalidParameter", f"query parameter {name} is required")
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 20:
        raise APIError(
            400, "InvalidParameter", f"{name} must be a non-negative integer, not {value!r}"
        )
    return int(value)


def out_of_range(message: str) -> APIError:
    return APIError(400, "OutOfRange", message)


def text_response(body: str, cache_control: str) -> Response:
    response = Response(body, mimetype="text/plain")
    response.headers["Cache-Control"] = cache_control
    return response


# --- C2SP resources --------------------------------------------------------------------------


@bp.get("/log/checkpoint")
def get_checkpoint() -> Response:
    """The latest signed checkpoint (C2SP tlog-checkpoint), covering every entry committed more
    than ``checkpoint_interval`` seconds ago."""
    return text_response(published().note, "no-cache")


@bp.get("/log/key")
def get_key() -> Response:
    """The log's C2SP signed-note verifier key, one line."""
    return text_response(registry().log_signer.verifier_key + "\n", "public, max-age=3600")


@bp.get("/log/tile/<path:path>")
def get_tile(path: str) -> Response:
    """A tile or entry bundle (C2SP tlog-tiles) that the published tree fixes."""
    try:
        ref: TileRef = parse_tile_path("tile/" + path)
    except ValueError as exc:
        raise APIError(404, "TileNotFound", str(exc)) from exc
    checkpoint = published()
    try:
        data = transparency.tile(db(), ref, checkpoint.size)
    except ValueError as exc:
        raise APIError(404, "TileNotFound", str(exc)) from exc
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Cache-Control"] = PARTIAL if ref.is_partial else IMMUTABLE
    return response


# --- JSON API --------------------------------------------------------------------------------


@bp.get("/api/v1/log/proof/inclusion")
def get_inclusion() -> Response:
    """An inclusion proof: ``?index=N[&tree_size=M]``, or
    ``?certificate=<number>[&issuer=][&version=]`` (default: the current version).

    Without ``tree_size`` the proof is against the latest checkpoint; with it, ``M`` must be the
    size of a published checkpoint.
    """
    number = request.args.get("certificate")
    index = _certificate_index(number) if number is not None else int_arg("index")
    requested = request.args.get("tree_size")
    checkpoint = published(covering=index + 1 if requested is None else 0)
    if requested is not None:
        tree_size = int_arg("tree_size")
        if tree_size > checkpoint.size:
            raise out_of_range(
                f"tree_size {tree_size} is beyond the latest checkpoint ({checkpoint.size})"
            )
        found = transparency.checkpoint_for(db(), tree_size)
        if found is None:
            raise APIError(
                404, "CheckpointNotFound", f"no checkpoint of size {tree_size} was published"
            )
        checkpoint = found
    if index >= checkpoint.size:
        raise out_of_range(f"index {index} is not in the tree of {checkpoint.size} entries")
    return _json(inclusion_json(transparency.inclusion(db(), index, checkpoint)))


def _resolve_issuer(number: str) -> str:
    # registry.web.api imports this module (lookups embed inclusion proofs), so its
    # URL-to-issuer answer, shared with every certificate endpoint, is imported at call time.
    from registry.web.api import resolve_issuer

    return resolve_issuer(number)


def _certificate_index(number: str) -> int:
    session = db()
    issuer_id = _resolve_issuer(number)
    versions = transparency.certificate_versions(session, issuer_id, number)
    if "version" not in request.args:
        return versions[-1].log_index
    wanted = int_arg("version")
    for version in versions:
        if version.version == wanted:
            return version.log_index
    raise APIError(404, "VersionNotFound", f"certificate {number} has no version {wanted}")


@bp.get("/api/v1/log/proof/consistency")
def get_consistency() -> Response:
    """A consistency proof ``?size1=&size2=`` (``size2`` defaults to the latest checkpoint)."""
    checkpoint = published()
    size1 = int_arg("size1")
    size2 = int_arg("size2", checkpoint.size)
    if not 0 < size1 <= size2:
        raise out_of_range(f"need 0 < size1 <= size2, got size1={size1}, size2={size2}")
    if size2 > checkpoint.size:
        raise out_of_range(f"size2 {size2} is beyond the latest checkpoint ({checkpoint.size})")
    proof = transparency.consistency_proof(db(), size1, size2)
    return _json({"size1": size1, "size2": size2, "proof": [b64(h) for h in proof]})


@bp.get("/api/v1/log/entries")
def get_entries() -> Response:
    """Entries ``start <= index < end`` (at most 1000; ``end`` defaults to that bound, clipped
    to the latest checkpoint), each with its kind, time of appending and base64 bytes."""
    checkpoint = published()
    start = int_arg("start")
    end = int_arg("end", min(start + MAX_ENTRIES, checkpoint.size))
    if not start < end <= checkpoint.size:
        raise out_of_range(
            f"need start < end <= {checkpoint.size} (the latest checkpoint), "
            f"got start={start}, end={end}"
        )
    if end - start > MAX_ENTRIES:
        raise out_of_range(f"at most {MAX_ENTRIES} entries per request")
    rows = transparency.entries(db(), start, end)
    if len(rows) != end - start:
        raise transparency.LogIncomplete(f"entries missing from the store in [{start}, {end})")
    body = {
        "tree_size": checkpoint.size,
        "entries": [
            {
                "index": row.idx,
                "kind": row.kind,
                "appended_at": row.appended_at.isoformat().replace("+00:00", "Z"),
                "data": b64(row.data),
            }
            for row in rows
        ],
    }
    return _json(body)


@bp.get("/c/<number>/proof.json")
def get_proof_bundle(number: str) -> Response:
    """The offline proof bundle of a certificate (``?issuer=`` when ambiguous): every version,
    its inclusion proof, the signed checkpoint, the log's verifier key and the issuer's keys.
    Check it with ``registry verify-bundle FILE``."""
    session = db()
    issuer_id = _resolve_issuer(number)
    versions = transparency.certificate_versions(session, issuer_id, number)
    checkpoint = published(covering=max(v.log_index for v in versions) + 1)
    state = registry()
    now = state.clock()
    keys = [issuers.jwk(key, now) for key in issuers.keys_of(session, issuer_id)]
    bundle = transparency.proof_bundle(
        session, issuer_id, number, checkpoint, state.log_signer.verifier_key, keys
    )
    response = jsonify(bundle)
    response.headers["Content-Disposition"] = f'attachment; filename="{number}.proof.json"'
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _json(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.errorhandler(transparency.LogIncomplete)
def _log_incomplete(error: transparency.LogIncomplete) -> Response:
    # The store lacks rows a published checkpoint covers: say so plainly, monitors alarm on it.
    return error_response(APIError(500, "LogIncomplete", str(error)))


@bp.after_request
def _cors(response: Response) -> Response:
    # Verifiers run in browsers too: every log resource is public.
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response
