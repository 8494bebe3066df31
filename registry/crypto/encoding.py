"""Strict text encodings of bytes: base64url (RFC 4648 §5) and base32 (RFC 4648 §6), unpadded.

Both decoders are strict on purpose: a value that decodes must have exactly one spelling, so that
a signature, key or token cannot be re-spelled by a third party (no padding, no whitespace, no
characters outside the alphabet, and unused trailing bits must be zero).
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["b32_decode", "b32_encode", "b64url_decode", "b64url_encode"]

_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_B32_CHARS = re.compile(r"[A-Z2-7]*")
_TO_INT_DIGITS = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv"
)


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without padding (RFC 4648 §5, RFC 7515 §2 "Base64url")."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly (RFC 7515 §2 / RFC 4648 §5).

    Args:
        text: base64url characters only, no ``=`` padding.
    Returns:
        the decoded bytes.
    Raises:
        ValueError: on a non-str, padding, characters outside the alphabet, an impossible length,
            or non-zero unused trailing bits (a non-canonical spelling).
    """
    if not isinstance(text, str):
        raise ValueError("base64url value must be a string")
    if not _B64URL_CHARS.fullmatch(text):
        raise ValueError("base64url value contains characters outside [A-Za-z0-9_-] (or padding)")
    if len(text) % 4 == 1:
        raise ValueError("base64url value has an impossible length")
    padded = text + "=" * (-len(text) % 4)
    try:
        data = base64.urlsafe_b64decode(padded)
    except binascii.Error as exc:  # pragma: no cover - the checks above make this unreachable
        raise ValueError(f"invalid base64url: {exc}") from exc
    if b64url_encode(data) != text:
        raise ValueError("base64url value is not canonical (unused trailing bits are set)")
    return data


def b32_encode(data: bytes) -> str:
    """Encode ``data`` as uppercase base32 without padding (RFC 4648 §6).

    Uppercase because QR codes store ``[0-9A-Z $%*+-./:]`` in alphanumeric mode at 5.5 bits per
    character instead of 8.
    """
    return base64.b32encode(data).rstrip(b"=").decode("ascii")


def b32_decode(text: str) -> bytes:
    """Decode unpadded base32 strictly (RFC 4648 §6); lowercase letters are accepted.

    Raises:
        ValueError: on a non-str, padding, characters outside the alphabet, an impossible length,
            or non-zero unused trailing bits.
    """
    if not isinstance(text, str):
        raise ValueError("base32 value must be a string")
    upper = text.upper()
    if not _B32_CHARS.fullmatch(upper):
        raise ValueError("base32 value contains characters outside [A-Z2-7] (or padding)")
    if len(upper) % 8 in (1, 3, 6):
        raise ValueError("base32 value has an impossible length")
    # CPython's base64.b32decode is written in Python; int() parses base 32 in C. Mapping the
    # RFC 4648 alphabet onto int()'s digits 0-9a-v turns the text into one big number whose low
    # bits past the last whole byte must be zero (the canonical form, RFC 4648 §3.5).
    bits = 5 * len(upper)
    size, unused = divmod(bits, 8)
    value = int(upper.translate(_TO_INT_DIGITS), 32) if upper else 0
    if value & ((1 << unused) - 1):
        raise ValueError("base32 value is not canonical (unused trailing bits are set)")
    return (value >> unused).to_bytes(size, "big")
