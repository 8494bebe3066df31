"""Ed25519 keys: public keys as values, private keys as opaque signers.

A key's id (``kid``) is its RFC 7638 JWK thumbprint and is never chosen by anyone (STYLE rule 6).
Scan tokens carry ``short_kid``, the first 8 bytes of the thumbprint digest, to save QR space.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.crypto.encoding import b64url_decode, b64url_encode
from registry.crypto.errors import VerificationError
from registry.crypto.jcs import canonicalize

__all__ = [
    "SIGNATURE_SIZE",
    "PrivateKey",
    "PublicKey",
    "b64url_decode",
    "b64url_encode",
]

#: Ed25519 signatures are 64 bytes (RFC 8032 §5.1.6).
SIGNATURE_SIZE = 64
_KEY_SIZE = 32


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key (RFC 8032), identified by its RFC 7638 thumbprint.

    Attributes:
        raw: the 32-byte encoded public key (RFC 8032 §5.1.5).
    Raises (on construction):
        ValueError: ``raw`` is not 32 bytes.
    """

    raw: bytes
    # The loaded key is cached so verify() does not re-parse on every call (ingest verifies
    # thousands of records a second); it is derived from raw, so it stays out of eq/hash/repr.
    _loaded: Ed25519PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != _KEY_SIZE:
            raise ValueError("an Ed25519 public key is exactly 32 bytes")
        try:
            loaded = Ed25519PublicKey.from_public_bytes(self.raw)
        except ValueError as exc:
            raise ValueError(f"not a valid Ed25519 public key: {exc}") from exc
        object.__setattr__(self, "_loaded", loaded)

    @classmethod
    def from_raw(cls, raw: bytes) -> PublicKey:
        """Build from the 32-byte RFC 8032 encoding. Raises ValueError on a wrong length."""
        return cls(bytes(raw))

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, object]) -> PublicKey:
        """Build from an RFC 8037 OKP JWK (``kty`` "OKP", ``crv`` "Ed25519", ``x``).

        Other members (``kid``, ``use``, ``alg``, registry fields) are ignored here; callers that
        care about them (see :func:`registry.crypto.jwks.parse_jwks`) check them.

        Raises:
            ValueError: not a mapping, wrong ``kty``/``crv``, ``x`` not strict base64url of 32
                bytes, or a private ``d`` member (a public key document must not carry one).
        """
        if not isinstance(jwk, Mapping):
            raise ValueError("a JWK must be a JSON object")
        if jwk.get("kty") != "OKP":
            raise ValueError(f"JWK kty must be 'OKP' (RFC 8037 §2), got {jwk.get('kty')!r}")
        if jwk.get("crv") != "Ed25519":
            raise ValueError(f"JWK crv must be 'Ed25519', got {jwk.get('crv')!r}")
        if "d" in jwk:
            raise ValueError("JWK contains a private key ('d'); refusing it as a public key")
        x = jwk.get("x")
        if not isinstance(x, str):
            raise ValueError("JWK x must be a base64url string")
        raw = b64url_decode(x)
        if len(raw) != _KEY_SIZE:
            raise ValueError(f"JWK x must decode to 32 bytes, got {len(raw)}")
        return cls(raw)

    def to_jwk(self) -> dict[str, str]:
        """Return the minimal RFC 8037 JWK: ``{"kty": "OKP", "crv": "Ed25519", "x": ...}``."""
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}

    @classmethod
    def from_pem(cls, data: bytes) -> PublicKey:
        """Load a PEM SubjectPublicKeyInfo (RFC 8410). Raises ValueError if not Ed25519 PEM."""
        try:
            loaded = serialization.load_pem_public_key(data)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError(f"not a PEM public key: {exc}") from exc
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError(f"PEM public key is {type(loaded).__name__}, not Ed25519")
        return cls(loaded.public_bytes_raw())

    def to_pem(self) -> bytes:
        """Return the PEM SubjectPublicKeyInfo encoding (RFC 8410 §4)."""
        return self._loaded.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @cached_property
    def thumbprint_bytes(self) -> bytes:
        """SHA-256 over the canonical required members ``{"crv","kty","x"}`` (RFC 7638 §3)."""
        return hashlib.sha256(canonicalize(self.to_jwk())).digest()

    @cached_property
    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint, base64url without padding: this key's ``kid``."""
        return b64url_encode(self.thumbprint_bytes)

    @property
    def short_kid(self) -> bytes:
        """The first 8 bytes of :attr:`thumbprint_bytes`; the ``kid`` in scan tokens."""
        return self.thumbprint_bytes[:8]

    def verify(self, signature: bytes, message: bytes) -> None:
        """Verify an Ed25519 signature (RFC 8032 §5.1.7) over ``message``.

        Raises:
            VerificationError: code ``"BadSignature"`` if it does not verify.
        """
        if len(signature) != SIGNATURE_SIZE:
            raise VerificationError(
                f"an Ed25519 signature is 64 bytes, got {len(signature)}", "BadSignature"
            )
        try:
            self._loaded.verify(signature, message)
        except InvalidSignature:
            raise VerificationError(
                f"Ed25519 signature does not verify with key {self.thumbprint}", "BadSignature"
            ) from None


class PrivateKey:
    """An Ed25519 private key that can sign. Not a value object: it never prints its secret."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        """Wrap a loaded key; prefer the named constructors below."""
        self._key = key
        self._public = PublicKey(key.public_key().public_bytes_raw())

    def __repr__(self) -> str:
        return f"PrivateKey(kid={self._public.thumbprint!r})"

    @classmethod
    def generate(cls) -> PrivateKey:
        """Generate a fresh key from the OS random source."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        """Build from the 32-byte RFC 8032 private key (seed); for test vectors and fixtures.

        Raises:
            ValueError: ``seed`` is not 32 bytes.
        """
        if len(seed) != _KEY_SIZE:
            raise ValueError("an Ed25519 seed is exactly 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @classmethod
    def from_pem(cls, data: bytes, passphrase: bytes | None = None) -> PrivateKey:
        """Load a PKCS#8 PEM private key, encrypted or not.

        Raises:
            ValueError: not PEM, a passphrase is missing / wrong / given for a plain key, or the
                key is not Ed25519. The message says which.
        """
        try:
            loaded = serialization.load_pem_private_key(data, password=passphrase)
        except TypeError as exc:
            # cryptography raises TypeError for both "needs a password" and "is not encrypted".
            if passphrase is None:
                raise ValueError("private key is encrypted: a passphrase is required") from exc
            raise ValueError("private key is not encrypted, but a passphrase was given") from exc
        except ValueError as exc:
            if passphrase is not None:
                raise ValueError(
                    "cannot load private key: wrong passphrase or corrupt PEM"
                ) from exc
            raise ValueError(f"cannot load private key: {exc}") from exc
        except UnsupportedAlgorithm as exc:
            raise ValueError(f"unsupported private key: {exc}") from exc
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"private key is {type(loaded).__name__}, not Ed25519")
        return cls(loaded)

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        """Return PKCS#8 PEM, encrypted with the best available scheme when a passphrase is given.

        Raises:
            ValueError: an empty passphrase (it would protect nothing).
        """
        if passphrase is not None and not passphrase:
            raise ValueError("an empty passphrase protects nothing; pass None for a plain key")
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase is not None
            else serialization.NoEncryption()
        )
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    @property
    def public_key(self) -> PublicKey:
        """The matching :class:`PublicKey`."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte deterministic Ed25519 signature of ``message`` (RFC 8032 §5.1.6)."""
        return self._key.sign(message)
