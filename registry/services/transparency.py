"""The transparency log's write and read side: appends, checkpoints and proofs.

Appends happen inside the caller's transaction (the state change they record commits with them or
not at all). Every writer first takes the sequencer lock (:func:`lock`): one row update that
PostgreSQL serialises with a row lock and SQLite with its single writer lock, so log indices are
gapless and two concurrent pushes cannot interleave.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from registry.log import merkle
from registry.log.checkpoint import Checkpoint
from registry.log.note import NoteSigner
from registry.store.models import Checkpoint as CheckpointRow
from registry.store.models import LogEntry, LogHash, LogState

#: Kinds of log entry.
RECORD = "record"
KEY_EVENT = "key"

Node = tuple[int, int]


def lock(session: Session) -> int:
    """Take the sequencer lock for the rest of the transaction and return the log size.

    Must be the first write of the transaction (on SQLite it is what acquires the write lock).
    """
    session.execute(update(LogState).where(LogState.id == 1).values(size=LogState.size))
    return session.execute(select(LogState.size).where(LogState.id == 1)).scalar_one()


def size(session: Session) -> int:
    """The number of entries committed to the log."""
    return session.execute(select(LogState.size).where(LogState.id == 1)).scalar_one()


def fetch_hashes(session: Session, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """Read stored complete-subtree hashes in one query (chunked for huge requests)."""
    wanted = sorted(set(nodes))
    found: dict[Node, bytes] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(LogHash.level, LogHash.idx, LogHash.hash).where(
                tuple_(LogHash.level, LogHash.idx).in_(chunk)
            )
        )
        for level, idx, digest in rows:
            found[(level, idx)] = digest
    missing = [n for n in wanted if n not in found]
    if missing:
        raise LookupError(f"log hashes missing from the store: {missing[:5]}")
    return found


def append(session: Session, log_size: int, entries: Sequence[tuple[str, bytes]],
           now: dt.datetime) -> list[int]:
    """Append ``entries`` (kind, exact bytes) at ``log_size``; return their indices.

    The caller holds the sequencer lock (:func:`lock`) and passes the size it returned. Costs
    one read of O(log n) frontier hashes and bulk inserts of entries and new hashes.
    """
    if not entries:
        return []
    leaves = [merkle.leaf_hash(data) for _, data in entries]
    frontier = fetch_hashes(session, merkle.append_nodes(log_size))
    rows = merkle.append_hashes(log_size, leaves, frontier)
    session.execute(
        LogEntry.__table__.insert(),
        [
            {"idx": log_size + i, "kind": kind, "data": data, "appended_at": now}
            for i, (kind, data) in enumerate(entries)
        ],
    )
    session.execute(
        LogHash.__table__.insert(),
        [{"level": level, "idx": idx, "hash": digest} for level, idx, digest in rows],
    )
    new_size = log_size + len(entries)
    session.execute(update(LogState).where(LogState.id == 1).values(size=new_size))
    return list(range(log_size, new_size))


def root_hash(session: Session, tree_size: int) -> bytes:
    """The RFC 9162 root of the first ``tree_size`` entries, from O(log n) stored hashes."""
    return merkle.root_hash(tree_size, fetch_hashes(session, merkle.root_nodes(tree_size)))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint and its signed note text."""

    checkpoint: Checkpoint
    note: str
    signed_at: dt.datetime


def latest_checkpoint(session: Session) -> SignedCheckpoint | None:
    """The newest checkpoint published, if any."""
    row = session.execute(
        select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)
    ).scalar_one_or_none()
    if row is None:
        return None
    return SignedCheckpoint(Checkpoint.from_text(_body(row.note)), row.note, row.signed_at)


def checkpoint_for(session: Session, tree_size: int) -> SignedCheckpoint | None:
    """The published checkpoint of exactly ``tree_size`` entries, if there is one."""
    row = session.get(CheckpointRow, tree_size)
    if row is None:
        return None
    return SignedCheckpoint(Checkpoint.from_text(_body(row.note)), row.note, row.signed_at)


def fresh_checkpoint(session: Session, signer: NoteSigner, origin: str, interval: float,
                     now: dt.datetime) -> SignedCheckpoint:
    """The latest checkpoint, signing a new one first if entries are uncovered.

    A new checkpoint is signed when the log has grown since the last one and that one is older
    than ``interval`` seconds, or when there is none. The caller commits.
    """
    current = size(session)
    latest = latest_checkpoint(session)
    if latest is not None and (
        latest.checkpoint.size == current
        or (now - latest.signed_at).total_seconds() < interval
    ):
        return latest
    checkpoint = Checkpoint(origin=origin, size=current, root_hash=root_hash(session, current))
    note = checkpoint.sign(signer)
    if session.get(CheckpointRow, current) is None:
        session.add(CheckpointRow(size=current, note=note, signed_at=now))
        session.flush()
    return SignedCheckpoint(checkpoint, note, now)


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size`` entries."""
    hashes = fetch_hashes(session, merkle.inclusion_nodes(index, tree_size))
    return merkle.inclusion_proof(index, tree_size, hashes)


def consistency_proof(session: Session, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 consistency proof between trees of ``size1`` and ``size2`` entries."""
    hashes = fetch_hashes(session, merkle.consistency_nodes(size1, size2))
    return merkle.consistency_proof(size1, size2, hashes)


def leaf_hash(session: Session, index: int) -> bytes:
    """The stored leaf hash of entry ``index``."""
    return fetch_hashes(session, [(0, index)])[(0, index)]


def entries(session: Session, start: int, end: int) -> list[LogEntry]:
    """Entries with ``start <= idx < end``, in order."""
    return list(
        session.execute(
            select(LogEntry).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
        ).scalars()
    )


def _body(note: str) -> str:
    """The text of a signed note (everything before the blank line that starts signatures)."""
    return note[: note.index("\n\n") + 1]
