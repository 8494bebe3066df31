"""The public read API under /api/v1: certificates (now, on a date, history), organisations,
issuers. JSON, ISO 8601 dates, ETags and open CORS."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from flask import Blueprint, Response, jsonify, request

from registry.app import Registry, db, registry
from registry.crypto.envelope import record_member
from registry.domain import calendar
from registry.domain.calendar import china_today, rfc3339
from registry.domain.schemes import SCHEMES, scheme_by_id
from registry.domain.status import Status, derive_status, status_json
from registry.domain.uscc import USCCInvalid, validate_uscc
from registry.fastjson import dumps_bytes, loads
from registry.services import lookup
from registry.web import fastpath
from registry.web.cors import CORS_READ_HEADERS
from registry.web.errors import APIError
from registry.web.log import certificate_inclusion
from registry.web.rendered import Rendered

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

#: Lookups change when an issuer pushes; a minute of caching keeps load off the database
#: without showing stale answers for long.
LOOKUP_MAX_AGE = 60


def iso_time(moment: dt.datetime | None) -> str | None:
    """RFC 3339 UTC, or None for a time that never happened (e.g. an issuer's first push)."""
    return rfc3339(moment) if moment is not None else None


def record_json(record: Mapping[str, Any]) -> dict[str, Any]:
    """The facts of a record (its JSON object, as signed) as the API shows them, with scheme
    and tier spelled out. Only records the registry accepted reach here, so scheme and tier
    are known."""
    scheme, tier = _scheme_and_tier(record["scheme"], record["tier"])
    out: dict[str, Any] = dict(record)
    out.pop("type", None)
    out["scheme"] = scheme
    out["tier"] = tier
    out.pop("standard", None)
    return out


@functools.cache
def _scheme_and_tier(scheme_id: str, tier_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """A scheme and a tier as the API spells them out; built once each (read-only: the
    answers are serialised, never changed)."""
    scheme = scheme_by_id(scheme_id)
    tier = scheme.tier_named(tier_name)
    if tier is None:  # pragma: no cover - ingest accepts known tiers only
        raise LookupError(f"unknown tier {tier_name!r}")
    return (
        {
            "id": scheme.id,
            "code": scheme.code,
            "name_zh": scheme.name_zh,
            "name_en": scheme.name_en,
            "standard": scheme.standard,
        },
        {
            "name": tier.name,
            "code": tier.code,
            "name_en": tier.name_en,
            "meaning_zh": tier.meaning_zh,
            "meaning_en": tier.meaning_en,
        },
    )


def issuer_json(info: lookup.IssuerInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "name_en": info.name_en,
        "last_push_at": iso_time(info.last_push_at),
    }


def version_json(version: lookup.Version) -> dict[str, Any]:
    return {
        "version": version.record.version,
        "received_at": iso_time(version.received_at),
        "log_index": version.log_index,
        "kid": version.kid,
        "key_compromised": version.untrusted,
        "flagged": version.flagged,
    }


def not_found(number: str) -> APIError:
    return APIError(
        404,
        "CertificateNotFound",
        f"no certificate {number} in this registry. Check the number; if it was issued "
        "recently, compare with when its issuer last published (details.publishers).",
        details={
            "publishers": [
                {**issuer_json(p), "certificates": p.certificates}
                for p in lookup.publishers(registry().engine)
            ]
        },
    )


def parse_day(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return calendar.parse_day(value, name)
    except ValueError as exc:
        raise APIError(400, "InvalidDate", str(exc)) from exc


def ambiguous(number: str, issuers: Sequence[str]) -> APIError:
    """The answer when several issuers use a number and the request did not say which."""
    return APIError(
        409,
        "AmbiguousNumber",
        f"{len(issuers)} issuers use number {number}; add ?issuer=",
        details={"issuers": list(issuers)},
    )


def resolve_issuer(number: str) -> str:
    """The issuer of the certificate named in the URL (``?issuer=`` when ambiguous).

    Raises:
        APIError: 404 (with who publishes here) or 409 (which issuers use the number).
    """
    try:
        return lookup.resolve_issuer(db(), number, request.args.get("issuer") or None)
    except lookup.CertificateNotFound as exc:
        raise not_found(number) from exc
    except lookup.AmbiguousNumber as exc:
        raise ambiguous(number, exc.issuers) from exc


def load_certificate(number: str) -> lookup.CertificateState:
    """The certificate named in the URL, or the API's 404/409 answers."""
    state = registry()
    now = state.clock()
    issuer = request.args.get("issuer") or None
    try:
        return lookup.certificate(state.engine, number, issuer, now, china_today(now))
    except lookup.CertificateNotFound as exc:
        raise not_found(number) from exc
    except lookup.AmbiguousNumber as exc:
        raise ambiguous(number, exc.issuers) from exc


def certificate_json(cert: lookup.CertificateState) -> dict[str, Any]:
    current = cert.current
    body: dict[str, Any] = {
        **record_json(current.record.to_json()),
        "issuer": issuer_json(cert.issuer),
        "status": status_json(cert.status),
        "signed_status": current.record.status,
        **version_json(current),
        "checked_at": iso_time(cert.checked_at),
        "envelope": current.envelope,
    }
    return body


def cached(response: Response, *parts: object, max_age: int = LOOKUP_MAX_AGE) -> Response:
    """Add a strong ETag over ``parts`` and Cache-Control; answer 304 when it matches."""
    return conditional(response, etag_of(*parts), max_age)


def cache_headers(etag: str, max_age: int) -> tuple[tuple[str, str], ...]:
    """A strong ETag and a public Cache-Control of ``max_age`` seconds."""
    return (("ETag", f'"{etag}"'), ("Cache-Control", f"public, max-age={max_age}"))


def conditional(response: Response, etag: str, max_age: int = LOOKUP_MAX_AGE) -> Response:
    """Set ``etag`` and a public Cache-Control on ``response``; 304 when the client has it.

    Werkzeug's ``make_conditional`` is only needed (and only paid for) when the request is
    conditional; the WSGI environ says so without building the request's header map.
    """
    response.headers.update(cache_headers(etag, max_age))
    environ = request.environ
    if "HTTP_IF_NONE_MATCH" in environ or "HTTP_IF_MODIFIED_SINCE" in environ:
        response.make_conditional(request)
    return response


@bp.get("/certificates/<number>")
def get_certificate(number: str) -> Response:
    """A certificate's current state; with ``?at=YYYY-MM-DD`` also its status on that day.

    The plain form (no ``at`` or ``proof``) is the hottest public request: see
    :func:`current_certificate`, which :func:`lookup_fast_path` also answers it with.
    """
    args = request.args
    if "at" in args or "proof" in args:
        return _render_certificate(number)  # needs the history or a proof: the full path
    try:
        hit = current_certificate(
            registry(), number, (args.get("issuer") or None) if args else None
        )
    except lookup.CertificateNotFound as exc:
        raise not_found(number) from exc
    except lookup.AmbiguousNumber as exc:
        raise ambiguous(number, exc.issuers) from exc
    return json_answer(hit)


def current_certificate(state: Registry, number: str, issuer: str | None) -> Rendered:
    """The rendered answer to ``GET /api/v1/certificates/<number>[?issuer=]``.

    It takes the short way: one prepared query (:func:`registry.services.lookup.current_versions`),
    the issuer and key from the process's :class:`registry.services.lookup.PublisherCache`, and
    the answer rendered from the stored signed record. Rendered answers are not kept: a
    per-process cache of them cost the lookup 0.05–0.08 × hello-world under the benchmark's
    long tail of numbers, more than its hits saved (docs/benchmarks.md), and every push or key
    event would have made its entries unreachable anyway.

    Raises:
        lookup.CertificateNotFound: no issuer uses ``number`` (or not ``issuer``).
        lookup.AmbiguousNumber: several issuers use it and ``issuer`` is None.
    """
    now = state.clock()
    day = china_today(now)
    rows = lookup.current_versions(state.engine, number, state.publishers)
    if issuer is not None:
        rows = [row for row in rows if row.issuer.id == issuer]
    if not rows:
        raise lookup.CertificateNotFound(number)
    if len(rows) > 1:
        raise lookup.AmbiguousNumber(number, [row.issuer.id for row in rows])
    (row,) = rows
    raw = loads(record_member(row.envelope))
    status = derive_status(Status(raw["status"]), dt.date.fromisoformat(raw["expiry_date"]), day)
    body = {
        **record_json(raw),
        "issuer": issuer_json(row.issuer),
        "status": status_json(status),
        "signed_status": raw["status"],
        "version": raw["version"],
        "received_at": iso_time(row.received_at),
        "log_index": row.log_index,
        "kid": row.kid,
        "key_compromised": row.untrusted,
        "flagged": row.flagged,
        "checked_at": iso_time(now),
    }
    # The signed envelope goes out as the exact bytes the registry stored and logged.
    answer = b"".join((dumps_bytes(body)[:-1], b',"envelope":', row.envelope, b"}"))
    return Rendered(answer, etag_of(row.issuer.id, number, row.log_index, day, row.log_size))


def etag_of(*parts: object) -> str:
    """A strong validator over everything an answer depends on."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def json_answer(rendered: Rendered, max_age: int = LOOKUP_MAX_AGE) -> Response:
    """A rendered JSON answer with its ETag and Cache-Control; 304 when the client has it."""
    response = Response(rendered.body, mimetype="application/json")
    return conditional(response, rendered.etag, max_age)


def _render_certificate(number: str) -> Response:
    cert = load_certificate(number)
    day = parse_day(request.args.get("at"), "at")
    body = certificate_json(cert)
    if request.args.get("proof") in ("1", "true"):
        body["log"] = certificate_inclusion(cert.current.log_index)
    if day is not None:
        answer = lookup.status_at(cert.history, day)
        body["at"] = {
            "date": day.isoformat(),
            "status": status_json(answer.status),
            "version": answer.version.record.version if answer.version else None,
            "known_since": iso_time(answer.known_since),
            "status_as_known_then": status_json(answer.status_as_known),
            "note": _at_note(answer),
        }
    now_day = china_today(cert.checked_at)
    return cached(
        jsonify(body),
        cert.issuer.id,
        number,
        cert.current.log_index,
        now_day,
        request.args.get("at"),
        body.get("log", {}).get("tree_size"),
    )


def _at_note(answer: lookup.StatusOnDate) -> str:
    if answer.status is None:
        return "the certificate had not been issued on that day"
    if answer.status != answer.status_as_known:
        return (
            "the registry learned of this status after that day; on that day it would "
            "have answered status_as_known_then"
        )
    return "the registry knew this status on that day"


@bp.get("/certificates/<number>/history")
def get_history(number: str) -> Response:
    """Every version of a certificate, oldest first, with status changes and their reasons."""
    cert = load_certificate(number)
    versions = []
    for version in cert.history:
        rec = version.record
        versions.append(
            {
                **version_json(version),
                "status": rec.status,
                "status_reason": rec.status_reason,
                "status_effective_date": rec.status_effective_date.isoformat()
                if rec.status_effective_date
                else None,
                "effective_from": rec.effective_from.isoformat(),
                "tier": rec.tier,
                "issue_date": rec.issue_date.isoformat(),
                "expiry_date": rec.expiry_date.isoformat(),
                "envelope": version.envelope,
            }
        )
    body = {"certificate_number": number, "issuer": issuer_json(cert.issuer), "versions": versions}
    return cached(jsonify(body), "history", cert.issuer.id, number, cert.current.log_index)


@bp.get("/organisations/<uscc>")
def get_organisation(uscc: str) -> Response:
    """An organisation by USCC (in either case) with all its certificates."""
    uscc = uscc.upper()
    try:
        validate_uscc(uscc)
    except USCCInvalid as exc:
        raise APIError(
            400, "InvalidUSCC", str(exc), details={"expected_check_character": exc.expected}
        ) from exc
    state = registry()
    now = state.clock()
    view = lookup.organisation(state.engine, uscc, china_today(now))
    if view is None:
        raise APIError(
            404, "OrganisationNotFound", f"no certificates for USCC {uscc} in this registry"
        )
    body = {
        "uscc": view.uscc,
        "name": view.name,
        "former_names": list(view.former_names),
        "certificates": [
            {
                "certificate_number": c.certificate_number,
                "issuer": c.issuer_id,
                "scheme": c.scheme,
                "tier": c.tier,
                "status": status_json(status),
                "expiry_date": c.expiry_date.isoformat(),
                "version": c.version,
            }
            for c, status in view.certificates
        ],
        "checked_at": iso_time(now),
    }
    return cached(
        jsonify(body),
        "org",
        uscc,
        tuple(c.log_index for c, _ in view.certificates),
        china_today(now),
    )


@bp.get("/schemes")
def get_schemes() -> Response:
    """The schemes and tiers this registry knows, with score thresholds per scale."""
    body = {
        "schemes": [
            {
                "id": scheme.id,
                "code": scheme.code,
                "name_zh": scheme.name_zh,
                "name_en": scheme.name_en,
                "standard": scheme.standard,
                "scales": list(scheme.scales),
                "max_validity_years": scheme.max_validity_years,
                "surveillance_months": scheme.surveillance_months,
                "score_required": scheme.score_required,
                "tiers": [
                    {
                        "name": tier.name,
                        "code": tier.code,
                        "name_en": tier.name_en,
                        "meaning_zh": tier.meaning_zh,
                        "meaning_en": tier.meaning_en,
                        "min_score": {
                            str(scale): score for scale, score in (tier.min_score or {}).items()
                        },
                    }
                    for tier in scheme.tiers
                ],
            }
            for scheme in SCHEMES
        ]
    }
    return cached(jsonify(body), "schemes", max_age=3600)


@bp.get("/issuers")
def get_issuers() -> Response:
    """Every issuer publishing here and when each last pushed."""
    publishers = lookup.publishers(registry().engine)
    body = {"issuers": [{**issuer_json(p), "certificates": p.certificates} for p in publishers]}
    return cached(
        jsonify(body), "issuers", tuple((p.id, p.last_push_at) for p in publishers), max_age=10
    )


@bp.after_request
def _cors(response: Response) -> Response:
    """The public read API is open to every origin; clients may read its validators and
    limits."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        for name, value in CORS_READ_HEADERS:
            response.headers[name] = value
    return response


def lookup_fast_path(state: Registry) -> fastpath.Handler:
    """Answers ``GET /api/v1/certificates/<number>`` as :func:`get_certificate` does, for
    :class:`registry.web.fastpath.FastPaths`."""
    prefix = PREFIX + "/certificates/"

    def answer(path: str, _environ: object) -> fastpath.Answer | None:
        number = fastpath.segment_after(path, prefix)
        if number is None:
            return None
        try:
            hit = current_certificate(state, number, None)
        except LookupError:  # unknown or ambiguous: the view's 404 or 409
            return None
        return hit.body, (
            ("Content-Type", "application/json"),
            *cache_headers(hit.etag, LOOKUP_MAX_AGE),
            *CORS_READ_HEADERS,
        )

    return answer
