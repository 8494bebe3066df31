"""The transparency log: RFC 9162 Merkle hashing and proofs, C2SP checkpoints, signed notes and tiles."""
