"""C2SP transparency log checkpoints (c2sp.org/tlog-checkpoint): the log's signed tree head.

A checkpoint is a signed note (:mod:`registry.log.note`) whose text is::

    <origin>\\n
    <tree size, decimal>\\n
    <root hash, standard base64>\\n
    [<extension line>\\n ...]

Our origin is ``<public host>/log`` (e.g. ``registry.example.cn/log``) and the log
signs with an Ed25519 note key whose name is the origin.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from registry.crypto.errors import VerificationError
from registry.log.merkle import HASH_SIZE
from registry.log.note import NoteSigner, NoteVerifier, open_note, sign_note

__all__ = ["Checkpoint", "open_checkpoint"]

# ASCII digits only (str.isdigit would take other scripts' digits), no leading zero.
_SIZE = re.compile(r"0|[1-9][0-9]*")
# RFC 9162 tree sizes are uint64.
_MAX_SIZE = 2**64 - 1


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size and RFC 9162 root hash.

    Attributes:
        origin: the log's identity, e.g. ``registry.example.cn/log``.
        size: the number of entries in the tree.
        root_hash: the 32-byte RFC 9162 root hash at ``size``.
        extensions: optional extension lines (opaque, non-empty; NOT
            RECOMMENDED by the specification, and we write none).

    Raises:
        ValueError: on construction, if a field breaks the rules of the text format.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise ValueError("checkpoint origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise ValueError(f"checkpoint size {self.size} is not a uint64")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"checkpoint root hash must be {HASH_SIZE} bytes")
        for line in self.extensions:
            if not line or "\n" in line:
                raise ValueError("checkpoint extension lines must be single non-empty lines")

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        """Parse a checkpoint note text (not the signed note; see :func:`open_checkpoint`).

        Strict: the size has no sign, spaces or leading zeros, and the root is the
        canonical standard base64 of exactly 32 bytes, so that one checkpoint has
        exactly one text.

        Args:
            text: the note text, ending in a newline.

        Returns:
            The checkpoint.

        Raises:
            ValueError: if the text is not a well-formed checkpoint.
        """
        if not text.endswith("\n"):
            raise ValueError("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise ValueError("checkpoint text needs origin, size and root hash lines")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            raise ValueError(f"checkpoint size {size_text!r} is not a plain decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise ValueError("checkpoint root hash is not standard base64") from None
        if base64.b64encode(root).decode() != root_text:
            raise ValueError("checkpoint root hash is not canonical base64")
        return cls(origin, int(size_text), root, tuple(extensions))

    def to_text(self) -> str:
        """Format the note text; the inverse of :meth:`from_text`."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "".join(line + "\n" for line in [*lines, *self.extensions])

    def sign(self, signer: NoteSigner) -> str:
        """Sign into a signed note, as served at ``<prefix>/checkpoint``.

        Args:
            signer: the log's note key; its name must be the origin (our
                convention, which the specification recommends).

        Returns:
            The signed note.

        Raises:
            ValueError: if the signer's name is not the origin.
        """
        if signer.name != self.origin:
            raise ValueError(f"note key {signer.name!r} is not named after origin {self.origin!r}")
        return sign_note(self.to_text(), signer)


def open_checkpoint(
    note: str, verifier: NoteVerifier | Sequence[NoteVerifier], origin: str
) -> Checkpoint:
    """Verify a signed checkpoint from the log with origin ``origin``.

    Args:
        note: the signed note.
        verifier: the log's key, or several (e.g. the old and new key while
            rotating); signatures by other keys (witnesses) are ignored.
        origin: the origin the checkpoint must name.

    Returns:
        The verified checkpoint.

    Raises:
        VerificationError: a note error from :func:`registry.log.note.open_note`
            (``MalformedNote``, ``BadNoteSignature``, ``UnknownNoteKey``), or
            ``BadCheckpoint`` if the signed text is not a checkpoint of ``origin``.
    """
    verifiers = [verifier] if isinstance(verifier, NoteVerifier) else list(verifier)
    text = open_note(note, verifiers)
    try:
        checkpoint = Checkpoint.from_text(text)
    except ValueError as error:
        raise VerificationError(str(error), "BadCheckpoint") from None
    if checkpoint.origin != origin:
        raise VerificationError(
            f"checkpoint is for origin {checkpoint.origin!r}, expected {origin!r}", "BadCheckpoint"
        )
    return checkpoint
