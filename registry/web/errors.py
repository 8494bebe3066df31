"""One error type for the web layer and one handler that speaks JSON to the API, HTML to people."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from registry.web.cors import API_PREFIXES, CORS_READ_HEADERS


class APIError(Exception):
    """An error answered to the client: HTTP status, stable code, human message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


#: Stable codes for the HTTP errors Flask and Werkzeug raise themselves.
HTTP_CODES = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    429: "RateLimited",
    500: "InternalError",
    503: "Unavailable",
}


def wants_json() -> bool:
    """API paths and JSON documents (``/c/<number>/proof.json``) always get JSON; pages get
    HTML unless the client prefers JSON."""
    if request.path.startswith(API_PREFIXES) or request.path.endswith(".json"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_response(error: APIError) -> Response:
    """Render ``error`` for the client that asked."""
    if wants_json():
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.details is not None:
            body["details"] = error.details
        response = jsonify({"error": body})
    else:
        response = Response(render_template("error.html", error=error), mimetype="text/html")
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    if request.method in ("GET", "HEAD", "OPTIONS") and request.path.startswith(API_PREFIXES):
        for name, value in CORS_READ_HEADERS:
            response.headers[name] = value
    return response


#: Form bodies, whose fields reach queries like query parameters do.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul() -> None:
    """Refuse a NUL character in the path or a form field.

    No identifier or text the registry keeps holds one, and PostgreSQL's text cannot (psycopg
    raises DataError, a 500), where SQLite would store it. Query parameters are each checked
    by the view that reads them (a search query's own rules, a certificate number's form).
    """
    if "\x00" in request.path:
        raise APIError(404, "NotFound", "no such page: the path holds a NUL character")
    if request.mimetype in _FORMS and any(
        "\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)
    ):
        raise APIError(400, "InvalidParameter", "a form field holds a NUL character")


def init_app(app: Flask) -> None:
    """Register the handlers."""

    app.before_request(refuse_nul)

    @app.errorhandler(APIError)
    def _api_error(error: APIError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        headers = {k: v for k, v in error.get_headers() if k.lower() in ("retry-after", "allow")}
        return error_response(
            APIError(
                status,
                HTTP_CODES.get(status, "HTTPError"),
                error.description or "",
                headers=headers,
            )
        )

    @app.errorhandler(OperationalError)
    def _database_busy(error: OperationalError) -> Response:
        # A locked SQLite database or a lost PostgreSQL connection: nothing was committed, so
        # the client may retry (pushes are idempotent).
        app.logger.warning("database unavailable: %s", error)
        return error_response(
            APIError(
                503,
                "Unavailable",
                "the database is busy; nothing was stored, retry shortly",
                headers={"Retry-After": "1"},
            )
        )
