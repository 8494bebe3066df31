"""The transparency log: RFC 9162 Merkle tree, C2SP signed notes, checkpoints and tiles.

Everything here is pure (no Flask, no SQLAlchemy, no I/O); the database store and
the web endpoints are built on it.

entry
    The exact bytes appended to the log: the RFC 8785 (JCS) bytes of an accepted
    envelope or key event. Leaf hash = SHA-256(0x00 || entry).
complete subtree
    A perfect subtree ``(level, index)`` covering leaves
    ``[index * 2**level, (index + 1) * 2**level)``; stores keep the hash of every
    one (:mod:`registry.log.merkle`).
inclusion proof, consistency proof
    RFC 9162 §2.1.3 and §2.1.4 audit paths, made from stored hashes and checked
    by :func:`~registry.log.merkle.verify_inclusion` and
    :func:`~registry.log.merkle.verify_consistency`.
signed note
    C2SP signed-note text with Ed25519 signature lines (:mod:`registry.log.note`).
checkpoint
    The log's signed tree head, C2SP tlog-checkpoint (:mod:`registry.log.checkpoint`).
origin
    The log's identity, ``<public host>/log``; also the name of its note key.
tile, entry bundle
    C2SP tlog-tiles static resources (:mod:`registry.log.tiles`).

Verification raises :class:`registry.crypto.errors.VerificationError` with codes
``InclusionProofInvalid``, ``ConsistencyProofInvalid``, ``MalformedNote``,
``BadNoteSignature``, ``UnknownNoteKey`` and ``BadCheckpoint``.
"""

#: The type of the offline proof bundle of one certificate (docs/formats.md 5.9): built by
#: :func:`registry.services.transparency.proof_bundle`, checked by
#: :func:`registry.monitor.verify_bundle`.
BUNDLE_TYPE = "certificate-proof-bundle/1"
