"""Detached JSON signatures: records, key events and other signed JSON documents.

A signature object is ``{"alg": "Ed25519", "kid": <RFC 7638 thumbprint>, "value": <base64url>}``
where ``value`` is the Ed25519 signature (RFC 8032) over the RFC 8785 canonical bytes of the
signed JSON value. ``sign_record``/``verify_record`` are the names the rest of the registry uses
for certificate records; ``sign_json``/``verify_json`` are the same operation for any document,
such as a key-rollover statement signed by the issuer's current key.

The registry stores and logs ``envelope_bytes(envelope)``: the JCS form of the envelope as pushed
(``{"record", "signature", "qr"}``). Re-encoding parsed JSON is safe here because JCS is a
function of the JSON value and the record signature covers exactly that value's JCS bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from registry.crypto.encoding import b64url_decode, b64url_encode
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize
from registry.crypto.keys import SIGNATURE_SIZE, PrivateKey, PublicKey

__all__ = [
    "SIGNATURE_ALG",
    "envelope_bytes",
    "record_hash",
    "record_member",
    "sign_json",
    "sign_record",
    "verify_json",
    "verify_record",
]

#: The only signature algorithm accepted in signature objects.
SIGNATURE_ALG = "Ed25519"
_SIGNATURE_MEMBERS = frozenset({"alg", "kid", "value"})


def sign_json(document: Mapping[str, object], key: PrivateKey) -> dict[str, str]:
    """Sign the RFC 8785 canonical bytes of ``document`` with ``key``.

    Returns:
        ``{"alg": "Ed25519", "kid": key.public_key.thumbprint, "value": base64url(signature)}``.
    Raises:
        ValueError, TypeError: ``document`` is not canonicalizable JSON (see ``canonicalize``).
    """
    signature = key.sign(canonicalize(document))
    return {
        "alg": SIGNATURE_ALG,
        "kid": key.public_key.thumbprint,
        "value": b64url_encode(signature),
    }


def verify_json(
    document: Mapping[str, object], signature: Mapping[str, object], key: PublicKey
) -> bytes:
    """Verify a signature object over the RFC 8785 canonical bytes of ``document``.

    Args:
        document: the signed JSON object, as parsed (e.g. by ``parse_json``).
        signature: the signature object, exactly the members ``alg``, ``kid``, ``value``.
        key: the key the caller expects to have signed (looked up by ``signature["kid"]``).
    Returns:
        the canonical bytes of ``document`` that the signature covers.
    Raises:
        VerificationError: with code ``MalformedSignature`` (not an object of exactly three
            strings, or ``value`` not strict base64url of 64 bytes), ``UnsupportedAlgorithm``
            (``alg`` is not "Ed25519"), ``KeyMismatch`` (``kid`` is not ``key.thumbprint``),
            ``MalformedRecord`` (``document`` is not a canonicalizable JSON object) or
            ``BadSignature``.
    """
    if not isinstance(signature, Mapping) or set(signature) != _SIGNATURE_MEMBERS:
        raise VerificationError(
            "signature must be an object with exactly the members alg, kid and value",
            "MalformedSignature",
        )
    alg, kid, value = signature["alg"], signature["kid"], signature["value"]
    if not (isinstance(alg, str) and isinstance(kid, str) and isinstance(value, str)):
        raise VerificationError(
            "signature alg, kid and value must be strings", "MalformedSignature"
        )
    if alg != SIGNATURE_ALG:
        raise VerificationError(
            f"signature algorithm {alg[:40]!r} is not supported; use 'Ed25519'",
            "UnsupportedAlgorithm",
        )
    if kid != key.thumbprint:
        raise VerificationError(
            f"signature kid {kid[:60]!r} does not name the key {key.thumbprint!r}", "KeyMismatch"
        )
    try:
        raw_signature = b64url_decode(value)
    except ValueError as exc:
        raise VerificationError(f"signature value: {exc}", "MalformedSignature") from None
    if len(raw_signature) != SIGNATURE_SIZE:
        raise VerificationError(
            f"signature value must decode to 64 bytes, got {len(raw_signature)}",
            "MalformedSignature",
        )
    if not isinstance(document, Mapping):
        raise VerificationError("the signed document must be a JSON object", "MalformedRecord")
    try:
        message = canonicalize(document)
    except (ValueError, TypeError) as exc:
        raise VerificationError(
            f"cannot canonicalize the signed document: {exc}", "MalformedRecord"
        ) from None
    key.verify(raw_signature, message)
    return message


#: The names the rest of the registry uses for certificate records (RFC 8785 + RFC 8032).
sign_record = sign_json
verify_record = verify_json


def envelope_bytes(envelope: Mapping[str, object]) -> bytes:
    """Return the bytes the registry stores verbatim and appends to the log: JCS of the envelope.

    Raises:
        ValueError, TypeError: ``envelope`` is not canonicalizable JSON.
    """
    return canonicalize(envelope)


def envelope_bytes_from(record_bytes: bytes, signature: Mapping[str, object], qr: object) -> bytes:
    """The same bytes as :func:`envelope_bytes` for ``{"qr", "record", "signature"}``, built
    around the record's canonical bytes (as :func:`verify_record` returns them) so ingest
    canonicalises each record once.

    RFC 8785 sorts the three members as ``qr`` < ``record`` < ``signature``; each member is
    canonical on its own, so the concatenation is the canonical envelope. A verified envelope's
    ``qr`` and signature members are short printable ASCII strings (base32 and base64url), whose
    JCS form is the text in quotes; those are written directly, anything else goes through
    :func:`canonicalize`.

    Raises:
        ValueError, TypeError: ``signature`` or ``qr`` is not canonicalizable JSON.
    """
    return b"".join(
        (
            b'{"qr":',
            _bare_string(qr) or canonicalize(qr),
            b',"record":',
            record_bytes,
            b',"signature":',
            _bare_signature(signature) or canonicalize(signature),
            b"}",
        )
    )


def record_member(data: bytes) -> bytes:
    """The record's bytes inside the canonical bytes of a verified envelope (as
    :func:`envelope_bytes_from` builds them and the registry stores and logs them), found
    without parsing the envelope.

    RFC 8785 puts the members in the order ``qr``, ``record``, ``signature``. In a verified
    envelope ``qr`` is a string and ``signature`` an object of strings, and a JSON string holds
    no unescaped quote: so the record lies between the first ``,"record":`` and the last
    ``,"signature":``, whatever the record itself contains.

    Raises:
        ValueError: ``data`` is not laid out so.
    """
    start = data.find(b',"record":')
    end = data.rfind(b',"signature":')
    if not data.startswith(b'{"qr":"') or start < 0 or end < start or not data.endswith(b"}"):
        raise ValueError("not the canonical bytes of an envelope")
    return data[start + len(b',"record":') : end]


def _bare_string(value: object) -> bytes | None:
    """The JCS bytes of a string that needs no escaping (printable ASCII without ``"`` and
    ``\\``), or None for any other value."""
    if (
        type(value) is str
        and value.isascii()
        and value.isprintable()
        and '"' not in value
        and "\\" not in value
    ):
        return b'"' + value.encode("ascii") + b'"'
    return None


def _bare_signature(signature: Mapping[str, object]) -> bytes | None:
    """The JCS bytes of a signature object of exactly alg, kid and value, all bare strings
    (members in that order, which is RFC 8785's), or None for anything else."""
    if type(signature) is not dict or signature.keys() != _SIGNATURE_MEMBERS:
        return None
    alg = _bare_string(signature["alg"])
    kid = _bare_string(signature["kid"])
    value = _bare_string(signature["value"])
    if alg is None or kid is None or value is None:
        return None
    return b'{"alg":' + alg + b',"kid":' + kid + b',"value":' + value + b"}"


def record_hash(record: Mapping[str, object]) -> bytes:
    """Return SHA-256 of the RFC 8785 canonical bytes of ``record`` (32 bytes).

    Raises:
        ValueError, TypeError: ``record`` is not canonicalizable JSON.
    """
    return hashlib.sha256(canonicalize(record)).digest()
