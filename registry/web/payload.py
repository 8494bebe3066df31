"""Reading request bodies: JSON only, strict I-JSON, size-limited, with clear errors."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from registry.crypto.jcs import parse_json
from registry.web.errors import APIError


def json_body() -> object:
    """The request body parsed as strict JSON (RFC 7493 I-JSON).

    Raises:
        APIError: 415 when the content type is not JSON, 413 when the body is too large,
            400 when it is not valid I-JSON (duplicate keys included).
    """
    if request.mimetype != "application/json":
        raise APIError(
            415,
            "UnsupportedMediaType",
            f"send Content-Type: application/json, not {request.mimetype or 'nothing'!r}",
        )
    try:
        data = request.get_data(cache=False)
    except RequestEntityTooLarge as exc:
        raise APIError(
            413, "PayloadTooLarge", f"the body is larger than {request.max_content_length} bytes"
        ) from exc
    if not data:
        raise APIError(400, "MalformedJSON", "the body is empty")
    try:
        return parse_json(data)
    except ValueError as exc:
        raise APIError(400, "MalformedJSON", f"the body is not valid JSON: {exc}") from exc
