"""Issuers and their keys: registration, rollover and compromise, each a logged key event.

Key events are log entries like records, so a monitor sees every key the registry ever trusted.
Registration and compromise are the operator's statements (the checkpoint signature vouches for
them); a rollover is the issuer's own statement, signed by its current key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from registry.crypto.envelope import verify_json
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize
from registry.crypto.jwks import jwk_for
from registry.crypto.keys import PublicKey
from registry.domain.calendar import parse_rfc3339, rfc3339
from registry.domain.problems import ProblemCode
from registry.domain.record import ISSUER_ID_MAX, NAME_MAX
from registry.domain.text import text_problem
from registry.services import transparency
from registry.store.models import Issuer, IssuerKey, RecordVersion

ISSUER_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")

ACTIVE = "active"
RETIRED = "retired"
COMPROMISED = "compromised"


class KeyEventRejected(Exception):
    """A key operation was refused; ``code`` is a stable machine-readable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_iso(text: object, field: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp with an explicit offset (:func:`parse_rfc3339`).

    Raises:
        KeyEventRejected: with code InvalidField when ``text`` is not one.
    """
    try:
        return parse_rfc3339(text, field)
    except ValueError as exc:
        raise KeyEventRejected(ProblemCode.INVALID_FIELD, str(exc)) from exc


@dataclass(frozen=True)
class KeyEvent:
    """The outcome of a key event: the key affected and where the event sits in the log."""

    kid: str
    log_index: int


def _check_name(name: str, field: str) -> None:
    """An issuer's name: not blank, at most NAME_MAX characters, one line in NFC without
    control or bidi characters (:func:`registry.domain.text.text_problem`)."""
    if not name.strip():
        raise KeyEventRejected(ProblemCode.INVALID_FIELD, f"{field} must not be empty")
    if len(name) > NAME_MAX:
        raise KeyEventRejected(
            ProblemCode.INVALID_FIELD, f"{field} must be at most {NAME_MAX} characters"
        )
    problem = text_problem(name, field)
    if problem is not None:
        raise KeyEventRejected(problem.code, problem.message)


def register_issuer(
    session: Session,
    issuer_id: str,
    name: str,
    name_en: str | None,
    key: PublicKey,
    now: dt.datetime,
    valid_from: dt.datetime | None = None,
) -> KeyEvent:
    """Register a new issuer with its first key (an operator action).

    Raises:
        KeyEventRejected: the id or a name is malformed (names follow the records' text
            rules: they are logged for good and shown with every certificate), or the issuer
            or key exists already.
    """
    if not issuer_id or len(issuer_id) > ISSUER_ID_MAX or not set(issuer_id) <= ISSUER_ID_CHARS:
        raise KeyEventRejected(
            ProblemCode.INVALID_FIELD,
            f"issuer id must be 1-{ISSUER_ID_MAX} characters of A-Z, 0-9 and '-'",
        )
    _check_name(name, "name")
    if name_en is not None:
        _check_name(name_en, "name_en")
    log_size = transparency.lock(session)
    if session.get(Issuer, issuer_id) is not None:
        raise KeyEventRejected("IssuerExists", f"issuer {issuer_id} is registered already")
    session.add(Issuer(id=issuer_id, name=name, name_en=name_en, registered_at=now))
    session.flush()
    return _add_key(
        session,
        log_size,
        issuer_id,
        key,
        valid_from or now,
        now,
        {
            "type": "key-registration",
            "issuer": issuer_id,
            "issuer_name": name,
        },
    )


def add_key(
    session: Session,
    issuer_id: str,
    key: PublicKey,
    now: dt.datetime,
    valid_from: dt.datetime | None = None,
) -> KeyEvent:
    """Register a further key for an existing issuer (an operator action, e.g. a second site).

    Raises:
        KeyEventRejected: unknown issuer, or the key exists already.
    """
    log_size = transparency.lock(session)
    if session.get(Issuer, issuer_id) is None:
        raise KeyEventRejected(ProblemCode.UNKNOWN_ISSUER, f"no issuer {issuer_id}")
    return _add_key(
        session,
        log_size,
        issuer_id,
        key,
        valid_from or now,
        now,
        {
            "type": "key-registration",
            "issuer": issuer_id,
        },
    )


def rollover(session: Session, statement: object, signature: object, now: dt.datetime) -> KeyEvent:
    """Apply an issuer's key-rollover statement, signed by a current key of that issuer.

    The statement is ``{"type": "key-rollover", "issuer", "new_key" (OKP JWK), "valid_from",
    "issued_at"}``. The new key is trusted from ``valid_from``; every other active key of the
    issuer stops being valid for new records at that moment.

    Raises:
        KeyEventRejected: malformed statement, unknown issuer or key, bad signature.
    """
    if not isinstance(statement, Mapping) or not isinstance(signature, Mapping):
        raise KeyEventRejected(
            ProblemCode.MALFORMED_ENVELOPE, 'a rollover is {"statement": {...}, "signature": {...}}'
        )
    expected = {"type", "issuer", "new_key", "valid_from", "issued_at"}
    if set(statement) != expected or statement.get("type") != "key-rollover":
        raise KeyEventRejected(
            ProblemCode.MALFORMED_ENVELOPE,
            f"a key-rollover statement has exactly the fields {sorted(expected)}",
        )
    issuer_id = statement["issuer"]
    kid = signature.get("kid")
    log_size = transparency.lock(session)
    signer = session.get(IssuerKey, kid) if isinstance(kid, str) else None
    if signer is None or signer.issuer_id != issuer_id:
        raise KeyEventRejected(
            ProblemCode.UNKNOWN_KEY, f"key {kid!r} is not a key of issuer {issuer_id!r}"
        )
    problem = key_unusable(signer, now)
    if problem is not None:
        raise KeyEventRejected(*problem)
    try:
        verify_json(statement, signature, PublicKey(signer.public_key))
    except VerificationError as exc:
        raise KeyEventRejected(ProblemCode.BAD_SIGNATURE, exc.reason) from exc
    new_key_jwk = statement["new_key"]
    if not isinstance(new_key_jwk, Mapping):
        raise KeyEventRejected(ProblemCode.INVALID_FIELD, "new_key must be an OKP JWK object")
    try:
        new_key = PublicKey.from_jwk(new_key_jwk)
    except ValueError as exc:
        raise KeyEventRejected(ProblemCode.INVALID_FIELD, f"new_key: {exc}") from exc
    valid_from = parse_iso(statement["valid_from"], "valid_from")
    parse_iso(statement["issued_at"], "issued_at")
    session.execute(
        update(IssuerKey)
        .where(
            IssuerKey.issuer_id == issuer_id,
            IssuerKey.status == ACTIVE,
            IssuerKey.valid_until.is_(None),
        )
        .values(valid_until=valid_from)
    )
    event: dict[str, object] = {"event": dict(statement), "signature": dict(signature)}
    return _add_key(session, log_size, str(issuer_id), new_key, valid_from, now, {}, event)


def mark_compromised(session: Session, kid: str, since: dt.datetime, now: dt.datetime) -> KeyEvent:
    """Mark a key compromised from ``since`` (an operator action).

    Records signed with it and pushed from then on are rejected; records already stored are
    flagged, and lookups warn about them. A compromise is only ever moved earlier: a later
    ``since`` would make records signed in between trusted again.

    Raises:
        KeyEventRejected: unknown key, or the key is compromised since ``since`` or earlier
            already.
    """
    log_size = transparency.lock(session)
    key = session.get(IssuerKey, kid)
    if key is None:
        raise KeyEventRejected(ProblemCode.UNKNOWN_KEY, f"no key {kid}")
    if key.compromised_at is not None and since >= key.compromised_at:
        raise KeyEventRejected(
            ProblemCode.KEY_COMPROMISED,
            f"key {kid} is marked compromised since {rfc3339(key.compromised_at)} already; "
            "a compromise can only be moved earlier",
        )
    key.status = COMPROMISED
    key.compromised_at = since
    session.execute(update(RecordVersion).where(RecordVersion.kid == kid).values(flagged=True))
    event = {
        "event": {
            "type": "key-compromise",
            "issuer": key.issuer_id,
            "kid": kid,
            "compromised_from": rfc3339(since),
            "recorded_at": rfc3339(now),
        }
    }
    (index,) = transparency.append(
        session, log_size, [(transparency.KEY_EVENT, canonicalize(event))], now
    )
    return KeyEvent(kid, index)


def key_unusable(key: IssuerKey, moment: dt.datetime) -> tuple[str, str] | None:
    """Why ``key`` may not sign a record received at ``moment`` (code, message), or None."""
    if key.compromised_at is not None and moment >= key.compromised_at:
        return (
            ProblemCode.KEY_COMPROMISED,
            f"key {key.kid} is marked compromised since {rfc3339(key.compromised_at)}",
        )
    if moment < key.valid_from:
        return (
            ProblemCode.UNKNOWN_KEY,
            f"key {key.kid} is not valid before {rfc3339(key.valid_from)}",
        )
    if key.valid_until is not None and moment >= key.valid_until:
        return (
            ProblemCode.UNKNOWN_KEY,
            f"key {key.kid} was retired at {rfc3339(key.valid_until)} (rolled over)",
        )
    return None


def keys_of(session: Session, issuer_id: str | None = None) -> list[IssuerKey]:
    """Every key (of one issuer, or of all), oldest first."""
    query = select(IssuerKey).order_by(IssuerKey.registered_at, IssuerKey.kid)
    if issuer_id is not None:
        query = query.where(IssuerKey.issuer_id == issuer_id)
    return list(session.execute(query).scalars())


def key_status(key: IssuerKey, now: dt.datetime) -> str:
    """``active``, ``retired`` or ``compromised`` as of ``now``."""
    if key.compromised_at is not None:
        return COMPROMISED
    if key.valid_until is not None and now >= key.valid_until:
        return RETIRED
    return ACTIVE


def jwk(key: IssuerKey, now: dt.datetime) -> dict[str, str]:
    """The key as published in the JWKS, with the registry's fields."""
    fields = {
        "issuer": key.issuer_id,
        "status": key_status(key, now),
        "valid_from": rfc3339(key.valid_from),
    }
    if key.valid_until is not None:
        fields["valid_until"] = rfc3339(key.valid_until)
    if key.compromised_at is not None:
        fields["compromised_from"] = rfc3339(key.compromised_at)
    return jwk_for(PublicKey(key.public_key), **fields)


def _add_key(
    session: Session,
    log_size: int,
    issuer_id: str,
    key: PublicKey,
    valid_from: dt.datetime,
    now: dt.datetime,
    registration: dict[str, object],
    event: dict[str, object] | None = None,
) -> KeyEvent:
    """Store ``key`` and log its event: ``event`` if given (a rollover statement as pushed),
    else an operator's registration statement built from ``registration``."""
    if session.get(IssuerKey, key.thumbprint) is not None:
        raise KeyEventRejected("KeyExists", f"key {key.thumbprint} is registered already")
    session.add(
        IssuerKey(
            kid=key.thumbprint,
            issuer_id=issuer_id,
            public_key=key.raw,
            short_kid=key.short_kid,
            status=ACTIVE,
            valid_from=valid_from,
            registered_at=now,
        )
    )
    if event is None:
        event = {
            "event": {
                **registration,
                "key": key.to_jwk(),
                "kid": key.thumbprint,
                "valid_from": rfc3339(valid_from),
                "recorded_at": rfc3339(now),
            }
        }
    session.flush()
    (index,) = transparency.append(
        session, log_size, [(transparency.KEY_EVENT, canonicalize(event))], now
    )
    return KeyEvent(key.thumbprint, index)
