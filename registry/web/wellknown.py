"""``/.well-known/jwks.json``: every issuer key the registry knows, for offline verification.

An RFC 7517 JWK Set of RFC 8037 OKP keys, each with ``kid`` (the RFC 7638 thumbprint), ``use``,
``alg`` and the registry's fields (``issuer``, ``status``, ``valid_from``, ``valid_until``,
``compromised_from``). Open to every origin and cacheable for a few minutes with an ETag, so
scanners and mirrors can poll it cheaply.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, request

from registry.app import db, registry
from registry.services.issuers import jwk, keys_of

bp = Blueprint("wellknown", __name__, url_prefix="/.well-known")

#: Key statuses change rarely but matter (a compromise); five minutes bounds the delay.
JWKS_MAX_AGE = 300


@bp.get("/jwks.json")
def jwks() -> Response:
    """The key set; 304 when ``If-None-Match`` names the current ETag."""
    now = registry().clock()
    document = {"keys": [jwk(key, now) for key in keys_of(db())]}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": f"public, max-age={JWKS_MAX_AGE}",
        "Access-Control-Allow-Origin": "*",
    }
    if request.if_none_match.contains_weak(etag):  # weak comparison (RFC 9110, 13.1.2)
        return Response(status=304, headers=headers)
    return Response(body, 200, mimetype="application/jwk-set+json", headers=headers)
