"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures (type 0x01).

A note is text ending in a newline, a blank line, and one or more signature lines::

    <text ending in \\n>
    \\n
    — <key name> base64(key ID (4 bytes) || Ed25519 signature (64 bytes))\\n

The key ID is SHA-256(key name || 0x0A || 0x01 || public key)[:4], and a verifier
key is written ``<name>+<key ID hex>+base64(0x01 || public key)``.

Verification (:func:`open_note`) raises
:class:`~registry.crypto.errors.VerificationError` with one of these codes:

``MalformedNote``     the note breaks the format rules of the specification
``BadNoteSignature``  a signature by a known key does not verify
``UnknownNoteKey``    no signature is by a known key
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from registry.crypto.errors import VerificationError
from registry.crypto.keys import PrivateKey, PublicKey

__all__ = [
    "MAX_SIGNATURES",
    "NoteSigner",
    "NoteVerifier",
    "open_note",
    "sign_note",
]

ED25519_TYPE = b"\x01"
"""Signature type identifier byte of Ed25519 in the signed-note specification."""

MAX_SIGNATURES = 100
"""Most signature lines :func:`open_note` reads; the specification asks for at least 16."""

_SIGNATURE_PREFIX = "\N{EM DASH} "
_KEY_ID_SIZE = 4
_SIGNATURE_SIZE = 64


def _check_key_name(name: str) -> None:
    """Key names are non-empty and hold no Unicode space and no '+' (signed-note, Format)."""
    if not name or "+" in name or any(char.isspace() for char in name):
        raise ValueError(f"invalid note key name {name!r}: empty, or has a space or '+'")


def _check_characters(text: str) -> None:
    """Notes are valid UTF-8 with no ASCII control character but newline (signed-note, Format)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("note is not valid UTF-8 (it contains a lone surrogate)") from None
    for char in text:
        if char < " " and char != "\n":
            raise ValueError(f"note contains the control character U+{ord(char):04X}")


def _key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || public key)[:4] (signed-note, Ed25519 signatures)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public_key).digest()[:_KEY_ID_SIZE]


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: the name and key ID that signature lines must carry.

    Attributes:
        name: the key name (for our log: the checkpoint origin).
        key_id: the 4-byte key ID derived from ``name`` and ``public_key``.
        public_key: the Ed25519 public key.
    """

    name: str
    key_id: bytes
    public_key: PublicKey

    @classmethod
    def from_public_key(cls, name: str, public_key: PublicKey) -> NoteVerifier:
        """Make the verifier for ``public_key`` under ``name``.

        Raises:
            ValueError: if ``name`` is not a valid key name.
        """
        _check_key_name(name)
        return cls(name, _key_id(name, public_key.raw), public_key)

    @classmethod
    def from_verifier_key(cls, verifier_key: str) -> NoteVerifier:
        """Parse a verifier key ``<name>+<hex key ID>+<base64(0x01 || public key)>``.

        Args:
            verifier_key: e.g. ``example.com/foo+530d903a+AekyeRrm...``.

        Returns:
            The verifier.

        Raises:
            ValueError: if the string is malformed, the type is not Ed25519, or the
                key ID does not match the name and key (a configuration error,
                hence not a ``VerificationError``).
        """
        parts = verifier_key.split("+", 2)  # base64 may hold "+", names and hex may not
        if len(parts) != 3:
            raise ValueError("verifier key must be <name>+<key ID>+<key>")
        name, key_id_hex, key_b64 = parts
        _check_key_name(name)
        if len(key_id_hex) != 2 * _KEY_ID_SIZE or not all(
            char in "0123456789abcdef" for char in key_id_hex
        ):
            raise ValueError("verifier key ID must be 8 lowercase hex digits")
        try:
            key = base64.b64decode(key_b64, validate=True)
        except binascii.Error:
            raise ValueError("verifier key is not standard base64") from None
        if key[:1] != ED25519_TYPE or len(key) != 1 + 32:
            raise ValueError("verifier key is not a 32-byte Ed25519 key (type 0x01)")
        verifier = cls.from_public_key(name, PublicKey.from_raw(key[1:]))
        if verifier.key_id.hex() != key_id_hex:
            raise ValueError("verifier key ID does not match its name and public key")
        return verifier

    def to_verifier_key(self) -> str:
        """Format as ``<name>+<hex key ID>+<base64(0x01 || public key)>``; inverse of the parser."""
        key = base64.b64encode(ED25519_TYPE + self.public_key.raw).decode()
        return f"{self.name}+{self.key_id.hex()}+{key}"

    def verify(self, text: str, signature: bytes) -> None:
        """Verify one decoded signature (key ID and Ed25519 signature) over ``text``.

        Raises:
            VerificationError: code ``BadNoteSignature``.
        """
        if len(signature) != _KEY_ID_SIZE + _SIGNATURE_SIZE:
            raise VerificationError(
                f"signature by {self.name} has {len(signature)} bytes, not "
                f"{_KEY_ID_SIZE + _SIGNATURE_SIZE}",
                "BadNoteSignature",
            )
        try:
            self.public_key.verify(signature[_KEY_ID_SIZE:], text.encode())
        except VerificationError as error:
            raise VerificationError(
                f"signature by {self.name} does not verify: {error.reason}", "BadNoteSignature"
            ) from error


class NoteSigner:
    """An Ed25519 note key with its name; signs note texts.

    Not a dataclass: it holds a private key, which must not show in ``repr`` or
    comparisons.

    Args:
        name: the key name; for our log, the checkpoint origin.
        key: the Ed25519 private key.

    Raises:
        ValueError: if ``name`` is not a valid key name.
    """

    def __init__(self, name: str, key: PrivateKey) -> None:
        self.verifier = NoteVerifier.from_public_key(name, key.public_key)
        self._key = key

    def __repr__(self) -> str:
        return f"NoteSigner({self.verifier.to_verifier_key()!r})"

    @property
    def name(self) -> str:
        """The key name."""
        return self.verifier.name

    @property
    def verifier_key(self) -> str:
        """The verifier key string to publish, see :meth:`NoteVerifier.to_verifier_key`."""
        return self.verifier.to_verifier_key()

    def signature_line(self, text: str) -> str:
        """The signature line ``— <name> <base64(key ID || signature)>\\n`` over ``text``."""
        signature = self.verifier.key_id + self._key.sign(text.encode())
        return f"{_SIGNATURE_PREFIX}{self.name} {base64.b64encode(signature).decode()}\n"


def sign_note(text: str, signer: NoteSigner | Sequence[NoteSigner]) -> str:
    """Sign ``text`` into a note (c2sp.org/signed-note, Format).

    Args:
        text: the note text; must end with a newline, be valid UTF-8 and hold no
            control character but newline.
        signer: one signer, or several (their lines in the order given).

    Returns:
        ``text + "\\n" + signature lines``.

    Raises:
        ValueError: if the text breaks those rules or no signer is given.
    """
    signers = [signer] if isinstance(signer, NoteSigner) else list(signer)
    if not signers:
        raise ValueError("a note needs at least one signer")
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    _check_characters(text)
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


def _malformed(reason: str) -> VerificationError:
    return VerificationError(reason, "MalformedNote")


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> str:
    """Verify a signed note and return its text (c2sp.org/signed-note, Signatures).

    Signatures whose (key name, key ID) matches no verifier are ignored, as the
    specification requires (this is what lets witnesses cosign and keys rotate).
    Every signature that does match a verifier must verify.

    Args:
        note: the whole signed note.
        verifiers: the trusted keys.

    Returns:
        The verified note text, ending in a newline (without the blank line).

    Raises:
        VerificationError: ``MalformedNote`` if the note breaks the format (bad
            characters, no blank line before the signatures, a bad signature
            line, more than :data:`MAX_SIGNATURES` signatures);
            ``BadNoteSignature`` if a signature by a known key does not verify;
            ``UnknownNoteKey`` if no signature is by a known key.
    """
    try:
        _check_characters(note)
    except ValueError as error:
        raise _malformed(str(error)) from None
    # The text ends at the *last* blank line: the text itself may hold blank lines.
    split = note.rfind("\n\n")
    if split < 0:
        raise _malformed("note has no blank line before its signatures")
    text, signature_block = note[: split + 1], note[split + 2 :]
    if not signature_block.endswith("\n"):
        raise _malformed("note does not end with a newline")
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"note has more than {MAX_SIGNATURES} signatures")

    trusted = {(verifier.name, verifier.key_id): verifier for verifier in verifiers}
    verified = False
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX):
            raise _malformed(f"signature line does not start with an em dash and space: {line!r}")
        name, space, signature_b64 = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        try:
            _check_key_name(name)
        except ValueError as error:
            raise _malformed(str(error)) from None
        if not space or " " in signature_b64:
            raise _malformed(f"signature line is not '— <name> <signature>': {line!r}")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except binascii.Error:
            raise _malformed(f"signature by {name} is not standard base64") from None
        if len(signature) <= _KEY_ID_SIZE:
            raise _malformed(f"signature by {name} is too short")
        verifier = trusted.get((name, signature[:_KEY_ID_SIZE]))
        if verifier is None:
            continue
        verifier.verify(text, signature)
        verified = True
    if not verified:
        raise VerificationError("note has no signature by a known key", "UnknownNoteKey")
    return text
