"""Scan tokens: the issuer-signed COSE_Sign1 carried in a certificate's QR code.

Profile (docs/formats has the normative text):

* COSE_Sign1 (RFC 9052 §4.2), CBOR tag 18: ``[protected, unprotected, payload, signature]``.
* protected header: the bstr-wrapped map ``{1: -8}`` (alg EdDSA, RFC 9053 §2.2), nothing else.
* unprotected header: ``{4: short_kid}``, the first 8 bytes of the RFC 7638 thumbprint.
* payload: a CBOR map of CWT-style claims (RFC 8392 §3) with integer keys::

      1  iss  issuer id (text)            -1  certificate number (text)
      6  iat  issue time (int seconds)    -2  scheme code (ASCII text)
                                          -3  tier code (ASCII text)
                                          -4  first 8 bytes of record_hash (bstr)
                                          -5  expiry date as int YYYYMMDD

* signature: Ed25519 over the Sig_structure ``["Signature1", protected, h'', payload]``
  (RFC 9052 §4.4).
* Encoding: RFC 8949 §4.2 core deterministic encoding. Parsing *requires* it: a token is
  re-encoded after parsing and must come out byte for byte the same, so a token has exactly one
  spelling (no trailing bytes, indefinite lengths, non-minimal integers or reordered maps).
* In text: uppercase RFC 4648 base32 without padding, so the QR stores it in alphanumeric mode.

Size: framing, kid and signature take 85 bytes, so the claims map has 78 bytes to stay within
:data:`MAX_TOKEN_BYTES`. The registry's limits (issuer id <= 16 characters, certificate number
<= 24, scheme code <= 4, tier code <= 2, issue times before 2106) give a worst-case map of 78
bytes and token of 163 bytes: version 10-M with a public URL of up to 28 characters.

cbor2's ``canonical=True`` sorts map keys length-first (RFC 7049 §3.9); every key in this profile
encodes to one byte, where that order equals RFC 8949 §4.2.1's bytewise order.
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cbor2

from registry.crypto.encoding import b32_decode, b32_encode
from registry.crypto.errors import VerificationError
from registry.crypto.keys import SIGNATURE_SIZE, PrivateKey, PublicKey

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_TOKEN_BYTES",
    "ScanClaims",
    "ScanToken",
    "build_sign1",
    "scan_url",
    "sig_structure",
    "sign_token",
    "token_text_from_url",
]

COSE_SIGN1_TAG = 18  # RFC 9052 §2
_ALG = 1  # RFC 9052 §3.1 header label "alg"
_KID = 4  # RFC 9052 §3.1 header label "kid"
_EDDSA = -8  # RFC 9053 §2.2
_PROTECTED = cbor2.dumps({_ALG: _EDDSA}, canonical=True)  # b"\xa1\x01\x27"
_SHORT_KID_SIZE = 8
#: Bytes of the record hash carried in the token (claim -4). The hash sits inside the signed
#: payload and only binds a label to a stored version, so 64 bits suffice, and they keep the
#: worst-case token inside QR version 10-M (docs/formats.md, "Scan token").
RECORD_HASH_SIZE = 8
_RECORD_HASH_SIZE = RECORD_HASH_SIZE

# CWT claim keys (RFC 8392 §3.1.1, §3.1.6) and this profile's private claims (negative keys).
_ISS, _IAT = 1, 6
_CERTIFICATE_NUMBER, _SCHEME, _TIER, _RECORD_HASH, _EXPIRY = -1, -2, -3, -4, -5
_CLAIM_KEYS = frozenset({_ISS, _IAT, _CERTIFICATE_NUMBER, _SCHEME, _TIER, _RECORD_HASH, _EXPIRY})

# Text limits keep every valid token parseable (below MAX_INPUT_BYTES) and QR-sized.
_MAX_ID_CHARS = 64
_MAX_CODE_CHARS = 16

#: Hard cap on the bytes a parser looks at; far above any valid token, it bounds work on garbage.
MAX_INPUT_BYTES = 512

#: The largest token whose URL still fits a QR code of version 10 at error correction M
#: (216 data codewords = 1728 bits, ISO/IEC 18004 Table 7) when the URL is encoded as a byte-mode
#: segment for a prefix of up to 31 characters (``https://<20-char host>/v/``: a public URL of
#: up to 28 characters; 4 + 16 + 248 bits) and an alphanumeric-mode segment for the base32 token
#: (4 + 11 bits of header, then 11 bits per two characters): 1728 - 268 - 15 = 1445 bits hold
#: 262 characters, and 262 base32 characters carry 163 bytes.
MAX_TOKEN_BYTES = 163


def _malformed(reason: str) -> VerificationError:
    return VerificationError(reason, "MalformedToken")


def _encode(value: object) -> bytes:
    return cbor2.dumps(value, canonical=True)


# The structures this profile signs and parses have fixed shapes, so their deterministic bytes
# are written here directly (a few µs less per token than cbor2's encoder, on every scan and
# push); tests/crypto/test_scantoken.py checks them against cbor2's canonical encoding.

_UINT, _BSTR, _TSTR = 0, 2, 3  # CBOR major types (RFC 8949 §3.1)


def _head(major: int, argument: int) -> bytes:
    """A data item's head with its argument in the shortest form (RFC 8949 §4.2.1)."""
    if argument < 24:
        return bytes((major << 5 | argument,))
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << 8 * size:
            return bytes((major << 5 | extra,)) + argument.to_bytes(size, "big")
    raise ValueError("CBOR argument must be below 2**64")


def _bstr(value: bytes) -> bytes:
    return _head(_BSTR, len(value)) + value


def _tstr(value: str) -> bytes:
    encoded = value.encode()
    return _head(_TSTR, len(encoded)) + encoded


#: ``["Signature1", …`` : an array of four, then the context text (RFC 9052 §4.4).
_SIG_STRUCTURE_HEAD = b"\x84" + _tstr("Signature1")
#: ``18([`` : tag 18 and an array of four (RFC 9052 §4.2).
_SIGN1_HEAD = b"\xd2\x84"
#: ``{4: …`` : the unprotected header, a map of one entry, the kid.
_KID_MAP_HEAD = b"\xa1\x04"


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """Return the COSE Sig_structure for COSE_Sign1 (RFC 9052 §4.4), the bytes that are signed.

    Args:
        protected: the serialized protected header (bstr contents; ``b""`` if empty).
        payload: the payload bytes.
        external_aad: externally supplied data (empty in this profile).
    """
    return b"".join((_SIG_STRUCTURE_HEAD, _bstr(protected), _bstr(external_aad), _bstr(payload)))


def build_sign1(
    protected_header: Mapping[int, object],
    unprotected_header: Mapping[int, object],
    payload: bytes,
    sign: Callable[[bytes], bytes],
) -> bytes:
    """Build a tagged COSE_Sign1 (RFC 9052 §4.2) with arbitrary header maps.

    The general form behind :func:`sign_token`, exercised directly by the COSE WG vectors.

    Args:
        protected_header: header map to serialize (deterministically) into the protected bstr;
            empty means a zero-length bstr (RFC 9052 §3).
        unprotected_header: header map placed as is.
        payload: the payload bytes (attached).
        sign: called with the Sig_structure bytes, returns the signature.
    Returns:
        the deterministic CBOR encoding of ``18([protected, unprotected, payload, signature])``.
    """
    protected = _encode(dict(protected_header)) if protected_header else b""
    signature = sign(sig_structure(protected, payload))
    return _encode_sign1(protected, unprotected_header, payload, signature)


def _encode_sign1(
    protected: bytes, unprotected: Mapping[int, object], payload: bytes, signature: bytes
) -> bytes:
    return _encode(
        cbor2.CBORTag(COSE_SIGN1_TAG, [protected, dict(unprotected), payload, signature])
    )


def _encode_token(short_kid: bytes, payload: bytes, signature: bytes) -> bytes:
    """The profile's COSE_Sign1, ``18([h'A10127', {4: short_kid}, payload, signature])``."""
    return b"".join(
        (
            _SIGN1_HEAD,
            _bstr(_PROTECTED),
            _KID_MAP_HEAD,
            _bstr(short_kid),
            _bstr(payload),
            _bstr(signature),
        )
    )


def _ascii_code(value: str, name: str) -> None:
    if not value or len(value) > _MAX_CODE_CHARS or not value.isascii() or not value.isprintable():
        raise ValueError(f"{name} must be 1 to {_MAX_CODE_CHARS} printable ASCII characters")


@dataclass(frozen=True)
class ScanClaims:
    """The claims a scan token asserts about one certificate record.

    Attributes:
        issuer: the issuer id (claim 1, ``iss``), e.g. ``"CNCA-R-2002-001"``.
        certificate_number: the certificate number (claim -1).
        scheme: the scheme code (claim -2), short printable ASCII.
        tier: the tier code (claim -3), short printable ASCII.
        expiry: the certificate's expiry date (claim -5, as int YYYYMMDD).
        issued_at: when the token was signed, seconds since the epoch (claim 6, ``iat``).
        record_hash: the first 8 bytes of ``record_hash(record)`` (claim -4).
    Raises (on construction):
        ValueError: a claim has the wrong type or is out of range.
    """

    issuer: str
    certificate_number: str
    scheme: str
    tier: str
    expiry: datetime.date
    issued_at: int
    record_hash: bytes

    def __post_init__(self) -> None:
        for name in ("issuer", "certificate_number"):
            value = getattr(self, name)
            if not isinstance(value, str) or not 0 < len(value) <= _MAX_ID_CHARS:
                raise ValueError(f"{name} must be text of 1 to {_MAX_ID_CHARS} characters")
        for name in ("scheme", "tier"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"{name} must be text")
            _ascii_code(value, name)
        # datetime is a subclass of date; a timestamp here would be a caller's mistake.
        if type(self.expiry) is not datetime.date:
            raise ValueError("expiry must be a datetime.date")
        if type(self.issued_at) is not int or not 0 <= self.issued_at < 2**63:
            raise ValueError("issued_at must be a non-negative int (seconds since the epoch)")
        if not isinstance(self.record_hash, bytes) or len(self.record_hash) != _RECORD_HASH_SIZE:
            raise ValueError(
                f"record_hash must be the first {_RECORD_HASH_SIZE} bytes of the record hash"
            )

    def to_bytes(self) -> bytes:
        """Return the claims map (:meth:`to_cbor_map`) in deterministic CBOR: the payload."""
        # Keys in bytewise order of their encodings: 1, 6, then -1 to -5 (0x20 to 0x24).
        return b"".join(
            (
                b"\xa7\x01",
                _tstr(self.issuer),
                b"\x06",
                _head(_UINT, self.issued_at),
                b"\x20",
                _tstr(self.certificate_number),
                b"\x21",
                _tstr(self.scheme),
                b"\x22",
                _tstr(self.tier),
                b"\x23",
                _bstr(self.record_hash),
                b"\x24",
                _head(_UINT, self._expiry_number()),
            )
        )

    def _expiry_number(self) -> int:
        return self.expiry.year * 10000 + self.expiry.month * 100 + self.expiry.day

    def to_cbor_map(self) -> dict[int, object]:
        """Return the claims as the CWT-style map with integer keys (see the module docstring)."""
        expiry = self._expiry_number()
        return {
            _ISS: self.issuer,
            _IAT: self.issued_at,
            _CERTIFICATE_NUMBER: self.certificate_number,
            _SCHEME: self.scheme,
            _TIER: self.tier,
            _RECORD_HASH: self.record_hash,
            _EXPIRY: expiry,
        }

    @classmethod
    def from_cbor_map(cls, claims: object) -> ScanClaims:
        """Build from a decoded claims map; the inverse of :meth:`to_cbor_map`.

        Raises:
            VerificationError: code ``MalformedToken`` if it is not a map of exactly the profile's
                claims with the right types and values.
        """
        if not isinstance(claims, dict):
            raise _malformed("scan token payload must be a CBOR map of claims")
        if any(type(key) is not int for key in claims) or set(claims) != _CLAIM_KEYS:
            missing = sorted(_CLAIM_KEYS - set(claims))
            raise _malformed(
                f"scan token claims must be exactly {sorted(_CLAIM_KEYS)}; missing {missing}"
                if missing
                else "scan token has unknown claims"
            )
        expiry = claims[_EXPIRY]
        if type(expiry) is not int or not 10000101 <= expiry <= 99991231:
            raise _malformed("scan token expiry (-5) must be an int YYYYMMDD")
        fields = {
            "issuer": claims[_ISS],
            "certificate_number": claims[_CERTIFICATE_NUMBER],
            "scheme": claims[_SCHEME],
            "tier": claims[_TIER],
            "issued_at": claims[_IAT],
            "record_hash": claims[_RECORD_HASH],
        }
        for name in ("issuer", "certificate_number", "scheme", "tier"):
            if type(fields[name]) is not str:
                raise _malformed(f"scan token claim {name} must be text")
        try:
            date = datetime.date(expiry // 10000, expiry // 100 % 100, expiry % 100)
            return cls(expiry=date, **fields)
        except ValueError as exc:
            raise _malformed(f"scan token claims: {exc}") from None


@dataclass(frozen=True)
class ScanToken:
    """A parsed (not yet verified) scan token; :meth:`verify` checks it against a key.

    Attributes:
        claims: the decoded claims (trust them only after :meth:`verify`).
        short_kid: the 8-byte key id from the unprotected header.
        protected: the serialized protected header (always ``{1: -8}``).
        payload: the serialized claims.
        signature: the 64-byte Ed25519 signature.
        encoded: the whole COSE_Sign1 in deterministic CBOR.
    """

    claims: ScanClaims
    short_kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes
    encoded: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> ScanToken:
        """Parse a COSE_Sign1 scan token strictly; does not check the signature.

        Raises:
            VerificationError: code ``MalformedToken`` for anything that is not exactly this
                profile in deterministic encoding (and for any garbage: nothing else escapes).
        """
        if not isinstance(data, bytes | bytearray):
            raise _malformed("scan token must be bytes")
        data = bytes(data)
        if len(data) > MAX_INPUT_BYTES:
            raise _malformed(f"scan token is longer than {MAX_INPUT_BYTES} bytes")
        try:
            decoded = cbor2.loads(data)
        except Exception as exc:  # the decoder raises many types on garbage
            raise _malformed(f"scan token is not CBOR: {type(exc).__name__}") from None
        if not isinstance(decoded, cbor2.CBORTag) or decoded.tag != COSE_SIGN1_TAG:
            raise _malformed("scan token must be a tagged COSE_Sign1 (CBOR tag 18)")
        body = decoded.value
        if not isinstance(body, list) or len(body) != 4:
            raise _malformed("COSE_Sign1 must be an array of 4 elements (RFC 9052 §4.2)")
        protected, unprotected, payload, signature = body
        if not isinstance(protected, bytes) or not isinstance(payload, bytes):
            raise _malformed("COSE_Sign1 protected header and payload must be byte strings")
        if protected != _PROTECTED:
            raise _malformed("protected header must be exactly {1: -8} (alg EdDSA)")
        if (
            not isinstance(unprotected, dict)
            or list(unprotected) != [_KID]
            or type(next(iter(unprotected))) is not int
        ):
            raise _malformed("unprotected header must be exactly {4: kid}")
        short_kid = unprotected[_KID]
        if not isinstance(short_kid, bytes) or len(short_kid) != _SHORT_KID_SIZE:
            raise _malformed("kid must be 8 bytes (the start of the key's thumbprint)")
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            raise _malformed("signature must be 64 bytes (Ed25519)")
        try:
            claims_map = cbor2.loads(payload)
        except Exception as exc:  # as above
            raise _malformed(f"scan token payload is not CBOR: {type(exc).__name__}") from None
        claims = ScanClaims.from_cbor_map(claims_map)
        if claims.to_bytes() != payload:
            raise _malformed("scan token payload is not in deterministic CBOR encoding")
        if _encode_token(short_kid, payload, signature) != data:
            raise _malformed("scan token is not in deterministic CBOR encoding or has extra bytes")
        return cls(claims, short_kid, protected, payload, signature, data)

    def to_bytes(self) -> bytes:
        """Return the COSE_Sign1 bytes (``encoded``); the inverse of :meth:`from_bytes`."""
        return self.encoded

    @classmethod
    def from_text(cls, text: str) -> ScanToken:
        """Parse the base32 text form (uppercase, unpadded; lowercase accepted).

        Raises:
            VerificationError: code ``MalformedToken`` for bad base32 or a malformed token.
        """
        if not isinstance(text, str):
            raise _malformed("scan token text must be a string")
        if len(text) > (MAX_INPUT_BYTES * 8 + 4) // 5:
            raise _malformed(f"scan token is longer than {MAX_INPUT_BYTES} bytes")
        try:
            data = b32_decode(text)
        except ValueError as exc:
            raise _malformed(f"scan token text: {exc}") from None
        return cls.from_bytes(data)

    def to_text(self) -> str:
        """Return the uppercase unpadded base32 form used in URLs (RFC 4648 §6)."""
        return b32_encode(self.encoded)

    def verify(self, key: PublicKey) -> ScanClaims:
        """Verify the signature with ``key`` and return the now trusted claims.

        Raises:
            VerificationError: ``KeyMismatch`` if the token's kid is not ``key.short_kid``;
                ``BadSignature`` if the signature does not verify (RFC 9052 §4.4).
        """
        if key.short_kid != self.short_kid:
            raise VerificationError(
                f"scan token kid {self.short_kid.hex()} is not key {key.thumbprint}",
                "KeyMismatch",
            )
        key.verify(self.signature, sig_structure(self.protected, self.payload))
        return self.claims


def sign_token(claims: ScanClaims, key: PrivateKey) -> ScanToken:
    """Sign ``claims`` into a scan token with ``key`` (COSE_Sign1, EdDSA, RFC 9052 §4).

    Raises:
        ValueError: the encoded token would exceed :data:`MAX_INPUT_BYTES` (cannot happen within
            the claim limits; kept as a guard).
    """
    payload = claims.to_bytes()
    short_kid = key.public_key.short_kid
    signature = key.sign(sig_structure(_PROTECTED, payload))
    encoded = _encode_token(short_kid, payload, signature)
    if len(encoded) > MAX_INPUT_BYTES:  # pragma: no cover - excluded by the claim limits
        raise ValueError(f"scan token would be {len(encoded)} bytes")
    return ScanToken(claims, short_kid, _PROTECTED, payload, signature, encoded)


def scan_url(public_url: str, token: ScanToken) -> str:
    """Return the QR URL ``<public_url>/v/<TOKEN>`` (no trailing slash doubled)."""
    return f"{public_url.rstrip('/')}/v/{token.to_text()}"


def token_text_from_url(url_or_text: str) -> str:
    """Return the token text from a scan URL (``…/v/<TOKEN>``) or a bare token.

    The token is not parsed here; pass the result to :meth:`ScanToken.from_text`.

    Raises:
        VerificationError: code ``MalformedToken`` if it is a URL without a ``/v/<TOKEN>`` path.
    """
    text = url_or_text.strip()
    if "/" not in text:
        return text
    path = urllib.parse.urlsplit(text).path
    head, sep, token = path.rstrip("/").rpartition("/")
    if not sep or head.rpartition("/")[2].lower() != "v" or not token:
        raise _malformed("scan URL must end in /v/<token>")
    return token
