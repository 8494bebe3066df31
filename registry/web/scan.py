"""The scan page, label reports, QR images, and the issuers' reports API.

``GET /v/<TOKEN>``                   the verdict on a label (statuses: docs/api-scan.md)
``POST /label-reports``              the "report this label" form (rate limited, no login)
``GET /c/<number>/qr.svg|qr.png``    the certificate's QR code; ``label.svg|label.png`` with
                                     the number and tier printed under it
``GET /api/v1/issuers/<id>/reports`` reports for an issuer, signed with one of its keys
``GET /api/v1/issuers/<id>/scans``   scan counts per certificate and day, signed likewise
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from werkzeug.datastructures import MultiDict

from registry.app import db, registry
from registry.client import AUTH_SCHEME, signed_message
from registry.crypto.errors import VerificationError
from registry.crypto.keys import PublicKey
from registry.domain.calendar import china_today, parse_day, rfc3339
from registry.domain.schemes import SCHEMES, Scheme, Tier
from registry.services import labels, scan
from registry.services.issuers import KeyEventRejected, key_unusable, parse_iso
from registry.store.models import IssuerKey
from registry.web import fastpath, limits
from registry.web.errors import APIError
from registry.web.i18n import VARY, render_plain
from registry.web.rendered import RenderedCache

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

bp = Blueprint("scan", __name__)

#: Bump when the rendering changes, so clients drop images cached under old ETags.
RENDER_REVISION = "1"
#: Images of a named version (``?v=``) never change; the current one changes on a push.
IMMUTABLE = "public, max-age=31536000, immutable"
CURRENT_MAX_AGE = 300
#: Rendered images kept per process.
IMAGE_CACHE_SIZE = 512
#: How long a process answers an image request from memory, without asking the database which
#: version is current: far less than the max-age clients and CDNs may already cache it for.
IMAGE_ANSWER_TTL = 2.0
#: How far an API signature's ``created`` may be from the registry's clock.
SIGNATURE_SKEW = 300

#: The form's fields, with their messages (registry/web/messages/scan.py). Its reasons are
#: written out in scan.html, in the order of scan.REPORT_REASONS.
FIELD_MSGIDS = {
    "reason": "scan.field_reason",
    "details": "scan.field_details",
    "place": "scan.field_place",
    "token": "scan.field_token",
}

#: CSS class of the verdict banner (static/scan.css).
VERDICT_CLASS = {verdict: f"scan-verdict--{verdict.value}" for verdict in scan.Verdict}


def _image_cache() -> RenderedCache[bytes]:
    # Keyed by ETag, which pins the record version and the parameters: no expiry needed.
    return RenderedCache(size=IMAGE_CACHE_SIZE, ttl=None)


def _answer_cache(app: Flask) -> RenderedCache[ImageAnswer]:
    # Keyed by the request (number, issuer, version, parameters); expires, because a push
    # changes which version is current. Timed by the registry's clock, which tests can move.
    state = app.extensions["registry"]
    return RenderedCache(
        size=IMAGE_CACHE_SIZE, ttl=IMAGE_ANSWER_TTL, clock=lambda: state.clock().timestamp()
    )


@dataclass
class ScanState:
    """Per-app, per-process state of this feature (app.extensions["scan"])."""

    cache: scan.ScanCache = field(default_factory=scan.ScanCache)
    counter: scan.ScanCounter = field(default_factory=scan.ScanCounter)
    images: RenderedCache[bytes] = field(default_factory=_image_cache)
    answers: RenderedCache[ImageAnswer] = field(default_factory=RenderedCache)
    #: The stop event of this process's count writer (:func:`start_count_writer`), if one was
    #: started: while it is not set, a scan that finds its batch due leaves it to the writer.
    writer: threading.Event | None = None


def init_app(app: Flask) -> None:
    """Register the blueprint and this app's caches."""
    app.extensions["scan"] = ScanState(answers=_answer_cache(app))
    app.register_blueprint(bp)


def limit_reports(app: Flask) -> None:
    """Put ``Settings.report_rate_limit`` (per client address) on the report form; call after
    :func:`registry.web.limits.init_app`, whose counters it uses.

    Raises:
        SettingsError: the rate is malformed.
    """
    settings = app.extensions["registry"].settings
    rate = limits.parse_rate(settings.report_rate_limit, "REGISTRY_REPORT_RATE_LIMIT")
    endpoint = f"{bp.name}.{report_label.__name__}"
    app.view_functions[endpoint] = limits.limited(app.view_functions[endpoint], rate, "report")


def _state() -> ScanState:
    found: ScanState = current_app.extensions["scan"]
    return found


# --- the scan page -------------------------------------------------------------------------


@bp.get("/v/<token>")
def scan_page(token: str) -> Response:
    """The verdict on a label: checked against the registry's keys and the live record."""
    state = _state()
    now = registry().clock()
    today = china_today(now)
    session = db()
    result = scan.check(session, token, state.cache, now, today)
    reported = request.args.get("reported") == "1"
    # A HEAD (a link checker, a chat app's preview) is nobody looking at the label.
    if not reported and request.method == "GET" and _count(state, result, now, today):
        state.counter.flush(session)
    return _verdict_page(result, now, reported=reported)


def _count(state: ScanState, result: scan.ScanResult, now: dt.datetime, today: dt.date) -> bool:
    """Count a view of the scan page of a label that names a certificate; return whether the
    caller should now write the counts: the batch is due and this process has no count writer
    to do it."""
    claims = result.claims
    return (
        result.identifies_certificate
        and claims is not None
        and state.counter.note(claims.issuer, claims.certificate_number, today, now)
        and (state.writer is None or state.writer.is_set())
    )


#: How often the scan-count writer looks whether the batch is due, in seconds.
COUNT_WRITER_PERIOD = 1.0
#: While its writes keep failing, the writer logs the failure at most this often, in seconds.
COUNT_WRITER_LOG_EVERY = 60.0


def flush_scan_counts(app: Flask) -> int:
    """Write the scan counts this process still holds in memory; return the rows written.

    The count writer (:func:`start_count_writer`) calls it when a batch is due; gunicorn's
    ``worker_exit`` hook (``deploy/gunicorn.conf.py``) and ``registry serve``/``demo`` call it
    as they stop, so the last few seconds of counts are not lost with the process.
    """
    state: ScanState = app.extensions["scan"]
    with app.extensions["registry"].sessions() as session:
        return state.counter.flush(session)


def start_count_writer(app: Flask) -> threading.Event:
    """Start this process's scan-count writer: a daemon thread that writes the pending counts
    once their batch is due, so that they do not wait for the worker's next scan and no scan
    waits for them to be written. Set the returned event to stop it (scans then write the
    counts again). ``deploy/gunicorn.conf.py`` starts one in each worker (``post_fork``).
    """
    state: ScanState = app.extensions["scan"]
    registry_state = app.extensions["registry"]
    stop = threading.Event()

    def run() -> None:
        failing_since: float | None = None  # while writes fail: since when (monotonic)
        logged = 0.0
        while not stop.wait(COUNT_WRITER_PERIOD):
            if not state.counter.due(registry_state.clock()):
                continue
            try:
                flush_scan_counts(app)
            except Exception:  # the counts stay pending; the next round tries again
                now = time.monotonic()
                if failing_since is None or now - logged >= COUNT_WRITER_LOG_EVERY:
                    app.logger.exception("could not write the scan counts; trying again")
                    logged = now
                failing_since = now if failing_since is None else failing_since
            else:
                if failing_since is not None:
                    app.logger.warning(
                        "scan counts written again after %.0f s of failed writes",
                        time.monotonic() - failing_since,
                    )
                    failing_since = None

    state.writer = stop
    threading.Thread(target=run, name="scan-count-writer", daemon=True).start()
    return stop


def _verdict_page(
    result: scan.ScanResult,
    checked_at: dt.datetime,
    *,
    reported: bool = False,
    form: dict[str, str] | None = None,
    form_error: str | None = None,
    status: int | None = None,
) -> Response:
    html = render_template(
        "scan.html",
        **verdict_context(result, checked_at, reported=reported, form=form, form_error=form_error),
    )
    response = Response(html, status or result.verdict.http_status, mimetype="text/html")
    # The verdict is live and every view is counted: no shared caching.
    response.headers["Cache-Control"] = "no-store"
    return response


#: The report form's fields before anything is typed (the template reads each by subscript,
#: which a dict answers without the attribute lookup that Jinja tries first and that raises).
_NO_FORM = MappingProxyType({"reason": "", "details": "", "place": ""})


def verdict_context(
    result: scan.ScanResult,
    checked_at: dt.datetime,
    *,
    reported: bool = False,
    form: dict[str, str] | None = None,
    form_error: str | None = None,
) -> dict[str, object]:
    """What scan.html renders, for the view and its fast path."""
    record = result.certificate.record if result.certificate else None
    return {
        "result": result,
        "verdict": result.verdict.value,
        "verdict_class": VERDICT_CLASS[result.verdict],
        "record": record,
        "scheme": record.scheme_def if record else None,
        "tier": record.tier_def if record else None,
        "label_scheme": _scheme_of_claims(result),
        "checked_at": checked_at,
        "field_msgids": FIELD_MSGIDS,
        "details_max": scan.REPORT_DETAILS_MAX,
        "place_max": scan.REPORT_PLACE_MAX,
        "can_report": result.claims is not None,
        "reported": reported,
        "form": form or _NO_FORM,
        "form_error": form_error,
    }


#: The headers of a scan page answered 200, as the view and the i18n hook set them.
SCAN_PAGE_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("Cache-Control", "no-store"),
    ("Vary", VARY),
)


def scan_page_fast_path(app: Flask) -> fastpath.Handler:
    """Answers ``GET /v/<TOKEN>`` with no query string as :func:`scan_page` does when the
    verdict's status is 200 (genuine, or genuine but no longer valid), for
    :class:`registry.web.fastpath.FastPaths`: the same check, count, context and template, in
    the request's language, without Flask's request context. Other verdicts go to the view,
    uncounted here."""
    registry_state = app.extensions["registry"]
    state: ScanState = app.extensions["scan"]

    def answer(path: str, environ: WSGIEnvironment) -> fastpath.Answer | None:
        token = fastpath.segment_after(path, "/v/")
        if token is None:
            return None
        now = registry_state.clock()
        today = china_today(now)
        # On the engine: the usual check needs no session (scan.check).
        result = scan.check(registry_state.engine, token, state.cache, now, today)
        if result.verdict.http_status != 200:
            return None
        context = verdict_context(result, now)
        body = render_plain(app.jinja_env, "scan.html", context, path, environ)
        if _count(state, result, now, today):
            flush_scan_counts(app)
        return body, SCAN_PAGE_HEADERS

    return answer


def _scheme_of_claims(result: scan.ScanResult) -> tuple[Scheme | None, Tier | None]:
    """The scheme and tier the label claims, when its codes are known ones."""
    if result.claims is None:
        return None, None
    for scheme in SCHEMES:
        if scheme.code == result.claims.scheme:
            return scheme, scheme.tier_by_code(result.claims.tier)
    return None, None


@bp.post("/label-reports")
def report_label() -> Response:
    """Store a consumer's report about a label, then show the scan page again (303)."""
    token = request.form.get("token", "")
    now = registry().clock()
    session = db()
    result = scan.check(session, token, _state().cache, now, china_today(now))
    form = {name: request.form.get(name, "") for name in ("reason", "details", "place")}
    try:
        scan.add_report(session, result, form["reason"], form["details"], form["place"], now)
    except scan.ReportRejected as exc:
        return _verdict_page(result, now, form=form, form_error=exc.field, status=400)
    session.commit()
    return Response(
        status=303,
        headers={"Location": f"/v/{result.token}?reported=1", "Cache-Control": "no-store"},
    )


# --- QR images -----------------------------------------------------------------------------


def _int_arg(args: MultiDict[str, str], name: str, default: int, digits: int = 6) -> int:
    """The parameter ``name`` as a whole number of at most ``digits`` ASCII digits."""
    text = args.get(name)
    if text is None or text == "":
        return default
    # isdigit alone also takes "²" (which int refuses) and "٣" (which it reads as 3).
    if not (text.isascii() and text.isdigit()) or len(text) > digits:
        raise APIError(400, "InvalidParameter", f"{name} must be a whole number")
    return int(text)


def _answer_key(
    number: str,
    kind: str,
    label: bool,
    size: int = labels.DEFAULT_SIZE,
    margin: int = labels.DEFAULT_MARGIN,
    version: int | None = None,
    issuer: str | None = None,
) -> tuple[object, ...]:
    """The key of an image request in the answer cache (the defaults: no parameters)."""
    return (number, kind, label, size, margin, version, issuer)


def _image(number: str, kind: str, label: bool) -> Response:
    """A QR image or label: from this process's memory when it answered the same request in
    the last :data:`IMAGE_ANSWER_TTL` seconds, else from the database (which version is
    current) and the image cache (rendered once per version and parameters)."""
    args = request.args
    size = _int_arg(args, "size", labels.DEFAULT_SIZE) if args else labels.DEFAULT_SIZE
    margin = _int_arg(args, "margin", labels.DEFAULT_MARGIN) if args else labels.DEFAULT_MARGIN
    if not labels.MIN_SIZE <= size <= labels.MAX_SIZE:
        raise APIError(
            400, "InvalidParameter", f"size must be {labels.MIN_SIZE} to {labels.MAX_SIZE}"
        )
    if not 0 <= margin <= labels.MAX_MARGIN:
        raise APIError(400, "InvalidParameter", f"margin must be 0 to {labels.MAX_MARGIN}")
    version = args.get("v") if args else None
    version_number = _int_arg(args, "v", 0) if version else None
    issuer = (args.get("issuer") or None) if args else None
    answers = _state().answers
    key = _answer_key(number, kind, label, size, margin, version_number, issuer)
    answer = answers.get(key)
    if answer is None:
        answer = _render_image(number, kind, label, size, margin, version_number, issuer)
        answers.put(key, answer)
    if "HTTP_IF_NONE_MATCH" in request.environ and (
        # Weak comparison, as RFC 9110 (13.1.2) asks of If-None-Match: W/"x" matches "x".
        request.if_none_match.contains_weak(answer.etag) or request.if_none_match.star_tag
    ):
        return Response(status=304, headers=answer.headers)
    return Response(answer.body, 200, headers=answer.headers)


@dataclass(frozen=True)
class ImageAnswer:
    """An image with its validator and every header it is sent with."""

    body: bytes
    etag: str
    headers: tuple[tuple[str, str], ...]


def _render_image(
    number: str,
    kind: str,
    label: bool,
    size: int,
    margin: int,
    version: int | None,
    issuer: str | None,
) -> ImageAnswer:
    state = registry()
    public_url = state.settings.public_url
    try:
        log_index = labels.find_label(state.engine, number, issuer, version)
    except labels.LabelNotFound:
        raise APIError(
            404,
            "NotFound",
            f"no certificate {number} (version {version})"
            if version is not None
            else f"no certificate {number}",
        ) from None
    except labels.AmbiguousLabel as exc:
        raise APIError(
            409,
            "AmbiguousNumber",
            f"several issuers use {number}; add ?issuer=",
            details={"issuers": exc.issuers},
        ) from None
    etag = hashlib.sha256(
        f"{RENDER_REVISION}|{public_url}|{log_index}|{kind}|{label}|{size}|{margin}".encode()
    ).hexdigest()[:32]
    images = _state().images
    data = images.get(etag)
    if data is None:
        url, caption = labels.label_content(db(), log_index, public_url)
        data = labels.render(kind, url, size, margin, caption if label else None)
        images.put(etag, data)
    headers = [
        ("Content-Type", labels.MEDIA_TYPES[kind]),
        ("ETag", f'"{etag}"'),
        (
            "Cache-Control",
            IMMUTABLE if version is not None else f"public, max-age={CURRENT_MAX_AGE}",
        ),
        ("Access-Control-Allow-Origin", "*"),
    ]
    if kind == labels.SVG:
        # An SVG opened directly is a document: forbid it any script or foreign resource.
        headers.append(("Content-Security-Policy", "default-src 'none'"))
    return ImageAnswer(data, etag, tuple(headers))


#: The image routes below by file name: (kind, with the label caption).
IMAGE_FILES = {
    "qr.svg": (labels.SVG, False),
    "qr.png": (labels.PNG, False),
    "label.svg": (labels.SVG, True),
    "label.png": (labels.PNG, True),
}


def image_fast_path(app: Flask) -> fastpath.Handler:
    """Answers a plain image request (``/c/<number>/qr.png`` and the others, no parameters)
    that :func:`_image` answered in the last :data:`IMAGE_ANSWER_TTL` seconds, from the same
    cache, for :class:`registry.web.fastpath.FastPaths`. A miss goes to the view."""
    answers = app.extensions["scan"].answers

    def answer(path: str, _environ: object) -> fastpath.Answer | None:
        if not path.startswith("/c/"):
            return None
        name = path[path.rfind("/") + 1 :]
        image = IMAGE_FILES.get(name)
        number = fastpath.segment_after(path, "/c/", "/" + name)
        if image is None or number is None:
            return None
        found = answers.get(_answer_key(number, *image))
        return None if found is None else (found.body, found.headers)

    return answer


@bp.get("/c/<number>/qr.svg")
def qr_svg(number: str) -> Response:
    """The QR code of the certificate's current record (``?v=`` a named version), as SVG."""
    return _image(number, *IMAGE_FILES["qr.svg"])


@bp.get("/c/<number>/qr.png")
def qr_png(number: str) -> Response:
    """As :func:`qr_svg`, as a PNG at 300 dpi."""
    return _image(number, *IMAGE_FILES["qr.png"])


@bp.get("/c/<number>/label.svg")
def label_svg(number: str) -> Response:
    """The QR code with the certificate number and tier printed under it, as SVG."""
    return _image(number, *IMAGE_FILES["label.svg"])


@bp.get("/c/<number>/label.png")
def label_png(number: str) -> Response:
    """As :func:`label_svg`, as a PNG at 300 dpi."""
    return _image(number, *IMAGE_FILES["label.png"])


# --- the issuers' API ----------------------------------------------------------------------

_AUTH_PARAM = re.compile(r'\s*([a-z]+)="([^"]*)"\s*(?:,|$)')


def _unauthorised(code: str, message: str) -> APIError:
    return APIError(401, code, message, headers={"WWW-Authenticate": AUTH_SCHEME})


#: Unix seconds: ASCII digits, few enough for a float (str.isdigit also takes "²").
_CREATED = re.compile(r"[0-9]{1,12}", re.ASCII)
#: A kid is a base64url JWK thumbprint; anything else (a NUL byte, which PostgreSQL's text
#: refuses) names no key, without asking the database.
_KID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
#: A signature: base64url without padding (an Ed25519 signature is 86 characters).
_BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,128}", re.ASCII)


def _authenticate(issuer_id: str) -> None:
    """Check the request's Registry-Signature by a usable key of ``issuer_id``.

    Raises:
        APIError: 401 with ``MissingSignature``, ``MalformedSignature``, ``StaleSignature``,
            ``UnknownKey`` or ``BadSignature``.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, rest = header.partition(" ")
    if scheme != AUTH_SCHEME:
        raise _unauthorised(
            "MissingSignature",
            f'send Authorization: {AUTH_SCHEME} kid="…", created="…", signature="…"',
        )
    pairs = _AUTH_PARAM.findall(rest)
    params = dict(pairs)
    if (
        len(pairs) != 3  # each once: which of two kids would the signature be judged by?
        or set(params) != {"kid", "created", "signature"}
        or not _CREATED.fullmatch(params["created"])
    ):
        raise _unauthorised(
            "MalformedSignature",
            "the header needs kid, created (unix seconds) and signature, each once",
        )
    text = params["signature"]
    try:
        if not _BASE64URL.fullmatch(text):  # the decoder would skip other characters
            raise ValueError(text)
        signature = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise _unauthorised("MalformedSignature", "signature must be base64url") from None
    created = int(params["created"])
    now = registry().clock()
    if abs(now.timestamp() - created) > SIGNATURE_SKEW:
        raise _unauthorised(
            "StaleSignature",
            f"created is more than {SIGNATURE_SKEW} s from the registry's time "
            f"{int(now.timestamp())}",
        )
    key = db().get(IssuerKey, params["kid"]) if _KID.fullmatch(params["kid"]) else None
    if key is None or key.issuer_id != issuer_id or key_unusable(key, now) is not None:
        raise _unauthorised("UnknownKey", f"kid is not a current key of issuer {issuer_id}")
    query = request.query_string.decode("latin-1")
    path = request.path + (f"?{query}" if query else "")
    try:
        PublicKey(key.public_key).verify(signature, signed_message(request.method, path, created))
    except VerificationError:
        raise _unauthorised("BadSignature", "the signature does not verify") from None


@bp.get("/api/v1/issuers/<issuer_id>/reports")
def issuer_reports(issuer_id: str) -> Response:
    """Label reports about an issuer's labels, oldest first; ``since`` (RFC 3339) and
    ``after`` (the last id seen) narrow them. Signed requests only (docs/api-scan.md)."""
    _authenticate(issuer_id)
    since_text = request.args.get("since")
    try:
        since = parse_iso(since_text, "since") if since_text else None
    except KeyEventRejected as exc:
        raise APIError(400, "InvalidParameter", exc.message) from None
    # A report id (a 64-bit key counting every issuer's reports): 18 digits always fit.
    after = _int_arg(request.args, "after", 0, digits=18) if request.args.get("after") else None
    found = scan.reports(db(), issuer_id, since, after)
    response = jsonify(
        {
            "issuer": issuer_id,
            "reports": [scan.report_json(r) for r in found],
            "last_id": found[-1].id if found else after,
            "more": len(found) == scan.REPORTS_PAGE,
            "checked_at": rfc3339(registry().clock()),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/issuers/<issuer_id>/scans")
def issuer_scans(issuer_id: str) -> Response:
    """Scan counts of an issuer's certificates per day (China Standard Time) from ``since``
    (``YYYY-MM-DD``, default 30 days ago). Signed requests only."""
    _authenticate(issuer_id)
    today = china_today(registry().clock())
    since_text = request.args.get("since")
    if since_text:
        try:
            since = parse_day(since_text, "since")
        except ValueError as exc:
            raise APIError(400, "InvalidParameter", str(exc)) from None
    else:
        since = today - dt.timedelta(days=30)
    # Counts still in this worker's memory would be missing; write them first.
    _state().counter.flush(db())
    rows = scan.scan_counts(db(), issuer_id, since)
    response = jsonify(
        {
            "issuer": issuer_id,
            "since": since.isoformat(),
            "scans": [
                {"certificate_number": number, "day": day.isoformat(), "count": count}
                for number, day, count in rows
            ],
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
