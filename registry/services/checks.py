"""Bulk checks for procurement: many certificates at once, as of a tender date, answered with
a registry-signed receipt that anyone can verify later, instead of a screenshot.

A query is a certificate number (optionally followed by an issuer id, when two issuers use the
same number) or a USCC (every certificate of that organisation). Each answer gives the status on
the chosen date by what is known now, what the registry had been told by the end of that day,
and since when it knew; it names the log index of the version it rests on. The receipt binds the
answers to a signed checkpoint of the log at the time of the check.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.crypto.encoding import b32_encode
from registry.crypto.envelope import sign_json, verify_json
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize, parse_json
from registry.crypto.keys import PrivateKey, PublicKey
from registry.domain.calendar import rfc3339
from registry.domain.status import Status
from registry.domain.text import ascii_form
from registry.domain.uscc import USCCInvalid, looks_like_uscc, validate_uscc
from registry.services import lookup, transparency
from registry.store.models import Certificate
from registry.store.receipts import CheckReceipt

#: The most queries one check answers (a tender rarely has more bidders' certificates).
MAX_QUERIES = 500
MAX_QUERY_LENGTH = 64
RECEIPT_TYPE = "check-receipt/1"


class CheckRejected(ValueError):
    """The check as a whole cannot be answered; ``code`` is stable, the message human."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _status(status: Status | None) -> str | None:
    return status.value if status is not None else None


def _answer(session: Session, row: Certificate, as_of: dt.date, today: dt.date) -> dict[str, Any]:
    history = lookup.versions(session, row.issuer_id, row.certificate_number)
    on_date = lookup.status_at(history, as_of)
    current = history[-1]
    record = current.record
    return {
        "certificate_number": row.certificate_number,
        "issuer": row.issuer_id,
        "organisation": {"name": record.organisation.name, "uscc": record.organisation.uscc},
        "scheme": record.scheme,
        "tier": record.tier,
        "expiry_date": record.expiry_date.isoformat(),
        "status_on_date": _status(on_date.status),
        "status_as_known_then": _status(on_date.status_as_known),
        "known_since": rfc3339(on_date.known_since) if on_date.known_since else None,
        "version": on_date.version.record.version if on_date.version else None,
        "log_index": on_date.version.log_index if on_date.version else None,
        "status_now": lookup.derived_status(row, today).value,
        "key_compromised": any(v.untrusted for v in history),
    }


def answer_query(session: Session, query: str, as_of: dt.date, today: dt.date) -> dict[str, Any]:
    """Answer one query line (a certificate number [issuer], or a USCC)."""
    parts = query.split()
    result: dict[str, Any] = {"query": query, "certificates": []}
    if len(parts) == 1 and looks_like_uscc(parts[0].upper()) and len(parts[0]) == 18:
        try:
            uscc = validate_uscc(parts[0].upper())
        except USCCInvalid as exc:
            return {**result, "outcome": "invalid", "message": str(exc)}
        rows = session.execute(
            select(Certificate)
            .where(Certificate.uscc == uscc)
            .order_by(Certificate.certificate_number, Certificate.issuer_id)
        ).scalars()
    elif 1 <= len(parts) <= 2:
        number = parts[0]
        query_rows = select(Certificate).where(Certificate.certificate_number == number)
        if len(parts) == 2:
            query_rows = query_rows.where(Certificate.issuer_id == parts[1])
        rows = session.execute(query_rows.order_by(Certificate.issuer_id)).scalars()
    else:
        return {
            **result,
            "outcome": "invalid",
            "message": "a query is a certificate number (and optionally its issuer id) or a USCC",
        }
    certificates = [_answer(session, row, as_of, today) for row in rows]
    if not certificates:
        return {
            **result,
            "outcome": "not_found",
            "message": "not in this registry: check the number, and when its issuer last "
            "published (GET /api/v1/issuers)",
        }
    return {**result, "outcome": "found", "certificates": certificates}


def parse_queries(text_or_list: str | Sequence[object]) -> list[str]:
    """Queries from a textarea (one per line, blank lines ignored) or a JSON list of strings.

    Raises:
        CheckRejected: no queries, too many, one too long or not a string.
    """
    raw = text_or_list.splitlines() if isinstance(text_or_list, str) else list(text_or_list)
    queries: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise CheckRejected("InvalidQuery", "each query must be a string")
        query = " ".join(item.split())
        if not query:
            continue
        query = ascii_form(query)  # lists pasted from documents often hold full-width forms
        if len(query) > MAX_QUERY_LENGTH or not query.isprintable():
            raise CheckRejected(
                "InvalidQuery", f"a query is at most {MAX_QUERY_LENGTH} printable characters"
            )
        queries.append(query)
    if not queries:
        raise CheckRejected("EmptyCheck", "give at least one certificate number or USCC")
    if len(queries) > MAX_QUERIES:
        raise CheckRejected("TooManyQueries", f"a check answers at most {MAX_QUERIES} queries")
    return queries


@dataclass(frozen=True)
class Receipt:
    """A stored, signed receipt."""

    id: str
    document: dict[str, Any]
    data: bytes


def check(
    session: Session,
    queries: Sequence[str],
    as_of: dt.date,
    now: dt.datetime,
    today: dt.date,
    key: PrivateKey,
    checkpoint: transparency.SignedCheckpoint,
    origin: str,
) -> Receipt:
    """Answer ``queries`` as of ``as_of``, sign the receipt with ``key`` and store it.

    The caller commits. ``checkpoint`` is the log checkpoint the answers are consistent with.
    """
    receipt: dict[str, Any] = {
        "type": RECEIPT_TYPE,
        "registry": origin,
        "checked_at": rfc3339(now),
        "as_of": as_of.isoformat(),
        "checkpoint": checkpoint.note,
        "results": [answer_query(session, q, as_of, today) for q in queries],
    }
    document = {"receipt": receipt, "signature": sign_json(receipt, key)}
    data = canonicalize(document)
    receipt_id = b32_encode(secrets.token_bytes(10))
    session.add(CheckReceipt(id=receipt_id, created_at=now, document=data))
    session.flush()
    return Receipt(receipt_id, document, data)


def stored_receipt(session: Session, receipt_id: str) -> bytes | None:
    """The exact bytes of a stored receipt."""
    row = session.get(CheckReceipt, receipt_id)
    return row.document if row is not None else None


def verify_receipt(data: bytes, key: PublicKey) -> dict[str, Any]:
    """Verify a receipt document offline against the registry's key; return the receipt.

    Raises:
        VerificationError: malformed, or the signature does not verify.
    """
    try:
        document = parse_json(data)
    except ValueError as exc:
        raise VerificationError(f"not JSON: {exc}", "MalformedReceipt") from exc
    if not isinstance(document, dict) or set(document) != {"receipt", "signature"}:
        raise VerificationError(
            'a receipt is {"receipt": ..., "signature": ...}', "MalformedReceipt"
        )
    receipt, signature = document["receipt"], document["signature"]
    if not isinstance(receipt, dict) or not isinstance(signature, dict):
        raise VerificationError("receipt and signature must be objects", "MalformedReceipt")
    if receipt.get("type") != RECEIPT_TYPE:
        raise VerificationError(f"not a {RECEIPT_TYPE}", "MalformedReceipt")
    verify_json(receipt, signature, key)
    return receipt
