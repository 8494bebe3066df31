"""The one error type that every verification in :mod:`registry.crypto` raises.

Verification returns a verified object or raises :class:`VerificationError`; it never returns a
bare bool (STYLE rule 5). ``code`` is stable and machine readable (API responses and metrics key on
it); ``reason`` is for people and may change wording.

Codes used in this package:

``BadSignature``          the signature does not verify over the signed bytes
``MalformedSignature``    the signature object is not ``{"alg", "kid", "value"}`` with valid values
``MalformedRecord``       the signed JSON value cannot be canonicalized (RFC 8785)
``MalformedToken``        a scan token is not a well-formed COSE_Sign1 of our profile
``UnsupportedAlgorithm``  an algorithm other than Ed25519 / EdDSA
``KeyMismatch``           the signature names a different key than the one supplied
``UnknownKey``            (for callers) no registered key has the named ``kid``
"""

from __future__ import annotations

__all__ = ["VerificationError"]


class VerificationError(Exception):
    """A signature, token or signed document failed verification.

    Args:
        reason: human readable explanation; ``str(error) == reason``.
        code: stable machine code, e.g. ``"BadSignature"`` (see the module docstring).
    """

    def __init__(self, reason: str, code: str = "VerificationError") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    def __str__(self) -> str:
        return self.reason

    def __repr__(self) -> str:
        return f"VerificationError({self.reason!r}, code={self.code!r})"
