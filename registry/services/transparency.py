"""The transparency log's write and read side: appends, checkpoints, proofs, tiles and entries.

Appends happen inside the caller's transaction (the state change they record commits with them or
not at all). Every writer first takes the sequencer lock (:func:`lock`): one row update that
PostgreSQL serialises with a row lock and SQLite with its single writer lock, so log indices are
gapless and two concurrent pushes cannot interleave.

Reads serve only what a signed checkpoint covers: :func:`fresh_checkpoint` names the published
size, and proofs, tiles and entries are refused beyond it, so everything the log hands out can be
checked against a root whose signature a client has verified.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import TextClause, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from registry.log import BUNDLE_TYPE, merkle
from registry.log.checkpoint import Checkpoint
from registry.log.note import NoteSigner
from registry.log.tiles import TILE_HEIGHT, TILE_WIDTH, TileRef, entry_bundle, tile_data
from registry.store.bulk import insert_rows
from registry.store.models import Checkpoint as CheckpointRow
from registry.store.models import LogEntry, LogHash, LogState, RecordVersion, table_of

#: Kinds of log entry.
RECORD = "record"
KEY_EVENT = "key"

Node = tuple[int, int]

#: Most hashes asked for in one ``IN`` list; keeps statements small on both backends.
_FETCH_CHUNK = 500


class LogIncomplete(LookupError):
    """The store lacks rows that a published tree size covers (a damaged or tampered store)."""


def lock(session: Session) -> int:
    """Take the sequencer lock for the rest of the transaction and return the log size.

    Must be the first write of the transaction (on SQLite it is what acquires the write lock).
    """
    session.execute(update(LogState).where(LogState.id == 1).values(size=LogState.size))
    return session.execute(select(LogState.size).where(LogState.id == 1)).scalar_one()


def size(session: Session) -> int:
    """The number of entries committed to the log (signed or not yet)."""
    return session.execute(select(LogState.size).where(LogState.id == 1)).scalar_one()


def fetch_hashes(session: Session, nodes: Iterable[Node]) -> dict[Node, bytes]:
    """Read stored complete-subtree hashes in as few queries as possible.

    Raises:
        LogIncomplete: a requested hash is not stored.
    """
    wanted = sorted(set(nodes))
    found: dict[Node, bytes] = {}
    for start in range(0, len(wanted), _FETCH_CHUNK):
        chunk = wanted[start : start + _FETCH_CHUNK]
        params: dict[str, int] = {}
        for i, (level, idx) in enumerate(chunk):
            params[f"l{i}"] = level
            params[f"i{i}"] = idx
        for level, idx, digest in session.execute(_hashes_query(len(chunk)), params):
            found[(level, idx)] = digest
    missing = [n for n in wanted if n not in found]
    if missing:
        raise LogIncomplete(f"log hashes missing from the store: {missing[:5]}")
    return found


@functools.lru_cache(maxsize=_FETCH_CHUNK)
def _hashes_query(count: int) -> TextClause:
    """``SELECT … WHERE (level = :l0 AND idx = :i0) OR …`` for ``count`` nodes.

    Proofs are on the hot path (a 2 ms budget at ten million entries): built once per node count
    as bound-parameter text, the statement costs no expression building per request, and each
    OR term is one primary-key lookup on both backends (a row-value IN list makes SQLite scan).
    """
    terms = " OR ".join(f"(level = :l{i} AND idx = :i{i})" for i in range(count))
    return text(f"SELECT level, idx, hash FROM log_hash WHERE {terms}")  # noqa: S608 - no values


def append(
    session: Session, log_size: int, entries: Sequence[tuple[str, bytes]], now: dt.datetime
) -> list[int]:
    """Append ``entries`` (kind, exact bytes) at ``log_size``; return their indices.

    The caller holds the sequencer lock (:func:`lock`) and passes the size it returned. Costs
    one read of O(log n) frontier hashes and bulk inserts of entries and new hashes.
    """
    if not entries:
        return []
    leaves = [merkle.leaf_hash(data) for _, data in entries]
    frontier = fetch_hashes(session, merkle.append_nodes(log_size))
    rows = merkle.append_hashes(log_size, leaves, frontier)
    insert_rows(
        session,
        table_of(LogEntry),
        [
            {"idx": log_size + i, "kind": kind, "data": data, "appended_at": now}
            for i, (kind, data) in enumerate(entries)
        ],
    )
    insert_rows(
        session,
        table_of(LogHash),
        [{"level": level, "idx": idx, "hash": digest} for level, idx, digest in rows],
    )
    new_size = log_size + len(entries)
    session.execute(update(LogState).where(LogState.id == 1).values(size=new_size))
    return list(range(log_size, new_size))


def root_hash(session: Session, tree_size: int) -> bytes:
    """The RFC 9162 root of the first ``tree_size`` entries, from O(log n) stored hashes."""
    return merkle.root_hash(tree_size, fetch_hashes(session, merkle.root_nodes(tree_size)))


# --- checkpoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedCheckpoint:
    """A published checkpoint: the parsed tree head, its signed note and when it was signed."""

    checkpoint: Checkpoint
    note: str
    signed_at: dt.datetime

    @property
    def size(self) -> int:
        """The tree size the checkpoint commits to."""
        return self.checkpoint.size

    @classmethod
    def from_row(cls, row: CheckpointRow) -> SignedCheckpoint:
        """Parse a stored checkpoint row.

        The note is our own, so its signature is not re-verified here; the text is everything
        before the *last* blank line, as c2sp.org/signed-note defines it.

        Raises:
            ValueError: the stored note is not a checkpoint note (a damaged store).
        """
        split = row.note.rfind("\n\n")
        if split < 0:
            raise ValueError(f"stored checkpoint {row.size} is not a signed note")
        return cls(Checkpoint.from_text(row.note[: split + 1]), row.note, row.signed_at)


def latest_checkpoint(session: Session) -> SignedCheckpoint | None:
    """The newest checkpoint published, if any."""
    row = session.execute(
        select(CheckpointRow).order_by(CheckpointRow.size.desc()).limit(1)
    ).scalar_one_or_none()
    return None if row is None else SignedCheckpoint.from_row(row)


def checkpoint_for(session: Session, tree_size: int) -> SignedCheckpoint | None:
    """The published checkpoint of exactly ``tree_size`` entries, if there is one."""
    row = session.get(CheckpointRow, tree_size)
    return None if row is None else SignedCheckpoint.from_row(row)


def fresh_checkpoint(
    session: Session,
    signer: NoteSigner,
    origin: str,
    interval: float,
    now: dt.datetime,
    covering: int = 0,
) -> SignedCheckpoint:
    """The latest checkpoint, signing a new one first if it is stale.

    A new checkpoint is signed when there is none, or when the log has grown past the latest one
    and either that one was signed ``interval`` seconds ago or more, or it has fewer than
    ``covering`` entries (a caller that needs a proof for a just-appended entry). So every entry
    committed more than ``interval`` seconds before ``now`` is covered by the result.

    Concurrent callers may sign the same size at once (several app processes, or readers on
    PostgreSQL): the insert ignores a conflicting row, and the stored row is returned, so all
    agree on one note per size. The caller commits.
    """
    current = size(session)
    latest = latest_checkpoint(session)
    if latest is not None and (
        latest.size >= current
        or (latest.size >= covering and (now - latest.signed_at).total_seconds() < interval)
    ):
        return latest
    checkpoint = Checkpoint(origin=origin, size=current, root_hash=root_hash(session, current))
    note = checkpoint.sign(signer)
    values = {"size": current, "note": note, "signed_at": now}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(CheckpointRow).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(CheckpointRow).values(values).on_conflict_do_nothing())
    elif session.get(CheckpointRow, current) is None:  # pragma: no cover - other backends
        session.execute(insert(CheckpointRow).values(values))
    stored = checkpoint_for(session, current)
    if stored is None:  # pragma: no cover - the row was just inserted or found
        raise LogIncomplete(f"checkpoint {current} vanished while being published")
    return stored


# --- proofs ------------------------------------------------------------------------------------


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    """RFC 9162 inclusion proof of entry ``index`` in the tree of ``tree_size`` entries.

    Raises:
        ValueError: ``index`` is not in that tree.
        LogIncomplete: the store lacks a hash the proof needs.
    """
    hashes = fetch_hashes(session, merkle.inclusion_nodes(index, tree_size))
    return merkle.inclusion_proof(index, tree_size, hashes)


def consistency_proof(session: Session, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 consistency proof between trees of ``size1`` and ``size2`` entries.

    Raises:
        ValueError: unless ``0 < size1 <= size2``.
        LogIncomplete: the store lacks a hash the proof needs.
    """
    hashes = fetch_hashes(session, merkle.consistency_nodes(size1, size2))
    return merkle.consistency_proof(size1, size2, hashes)


def leaf_hash(session: Session, index: int) -> bytes:
    """The stored leaf hash of entry ``index``.

    Raises:
        LogIncomplete: there is no such entry.
    """
    return fetch_hashes(session, [(0, index)])[(0, index)]


@dataclass(frozen=True)
class Inclusion:
    """Everything a client needs to check that one entry is in the log.

    Attributes:
        index: the entry's index.
        leaf_hash: its RFC 9162 leaf hash.
        proof: the audit path to the root of ``checkpoint``, leaf end first.
        checkpoint: the published checkpoint the proof leads to.
    """

    index: int
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: SignedCheckpoint


def inclusion(session: Session, index: int, checkpoint: SignedCheckpoint) -> Inclusion:
    """The inclusion of entry ``index`` in the published ``checkpoint``.

    Raises:
        ValueError: the checkpoint does not cover ``index``.
        LogIncomplete: the store lacks a hash the proof needs.
    """
    tree_size = checkpoint.size
    nodes = [(0, index), *merkle.inclusion_nodes(index, tree_size)]
    hashes = fetch_hashes(session, nodes)
    proof = merkle.inclusion_proof(index, tree_size, hashes)
    return Inclusion(index, hashes[(0, index)], proof, checkpoint)


# --- entries and tiles -------------------------------------------------------------------------


def entries(session: Session, start: int, end: int) -> list[LogEntry]:
    """Entries with ``start <= idx < end``, in order."""
    return list(
        session.execute(
            select(LogEntry).where(LogEntry.idx >= start, LogEntry.idx < end).order_by(LogEntry.idx)
        ).scalars()
    )


def tile(session: Session, ref: TileRef, published_size: int) -> bytes:
    """The bytes of a C2SP tlog-tiles tile or entry bundle.

    Args:
        session: a session.
        ref: the tile asked for.
        published_size: the size of the latest published checkpoint; only tiles that tree
            fixes are served.

    Raises:
        ValueError: the tile is not available at ``published_size`` (not yet, or never: a
            partial tile wider than the tree holds).
        LogIncomplete: the store lacks entries or hashes the published tree covers.
    """
    if not ref.is_available(published_size):
        raise ValueError(
            f"{ref.to_path()} is not available in the published tree of {published_size} entries"
        )
    first = ref.index * TILE_WIDTH
    if ref.is_entries:
        rows = session.execute(
            select(LogEntry.idx, LogEntry.data)
            .where(LogEntry.idx >= first, LogEntry.idx < first + ref.width)
            .order_by(LogEntry.idx)
        ).all()
        if [idx for idx, _ in rows] != list(range(first, first + ref.width)):
            raise LogIncomplete(f"entries missing from the store for {ref.to_path()}")
        return entry_bundle([data for _, data in rows])
    level = TILE_HEIGHT * ref.level
    hashes = {
        (level, idx): digest
        for idx, digest in session.execute(
            select(LogHash.idx, LogHash.hash).where(
                LogHash.level == level, LogHash.idx >= first, LogHash.idx < first + ref.width
            )
        )
    }
    try:
        return tile_data(ref, hashes)
    except KeyError as exc:
        raise LogIncomplete(f"hashes missing from the store for {ref.to_path()}") from exc


@dataclass(frozen=True)
class LoggedVersion:
    """Where one version of a certificate sits in the log, and which key signed it."""

    version: int
    log_index: int
    kid: str


def certificate_versions(session: Session, issuer_id: str, number: str) -> list[LoggedVersion]:
    """Every stored version of one certificate with its log index, oldest first."""
    rows = session.execute(
        select(RecordVersion.version, RecordVersion.log_index, RecordVersion.kid)
        .where(RecordVersion.issuer_id == issuer_id, RecordVersion.certificate_number == number)
        .order_by(RecordVersion.version)
    )
    return [LoggedVersion(version, index, kid) for version, index, kid in rows]


def proof_bundle(
    session: Session,
    issuer_id: str,
    number: str,
    checkpoint: SignedCheckpoint,
    verifier_key: str,
    issuer_keys: Sequence[dict[str, str]],
) -> dict[str, object]:
    """An offline proof bundle: every version of a certificate, proven in ``checkpoint``.

    Args:
        session: a session.
        issuer_id, number: the certificate.
        checkpoint: a published checkpoint covering every version.
        verifier_key: the log's C2SP verifier key.
        issuer_keys: the issuer's JWKs (at least those that signed the versions).

    Returns:
        The bundle as a JSON object (see docs/formats.md); entries are standard base64 of the
        exact logged bytes.

    Raises:
        LookupError: the certificate has no stored version.
        ValueError: the checkpoint does not cover a version.
    """
    logged = certificate_versions(session, issuer_id, number)
    if not logged:
        raise LookupError(f"no stored version of {issuer_id} {number}")
    data = {
        idx: blob
        for idx, blob in session.execute(
            select(LogEntry.idx, LogEntry.data).where(
                LogEntry.idx.in_([v.log_index for v in logged])
            )
        )
    }
    versions = []
    for version in logged:
        if version.log_index not in data:
            raise LogIncomplete(f"log entry {version.log_index} is missing from the store")
        proven = inclusion(session, version.log_index, checkpoint)
        versions.append(
            {
                "version": version.version,
                "log_index": version.log_index,
                "entry": base64.b64encode(data[version.log_index]).decode(),
                "leaf_hash": base64.b64encode(proven.leaf_hash).decode(),
                "proof": [base64.b64encode(h).decode() for h in proven.proof],
            }
        )
    return {
        "type": BUNDLE_TYPE,
        "issuer": issuer_id,
        "certificate_number": number,
        "log": {
            "origin": checkpoint.checkpoint.origin,
            "verifier_key": verifier_key,
            "tree_size": checkpoint.size,
            "checkpoint": checkpoint.note,
        },
        "issuer_keys": list(issuer_keys),
        "versions": versions,
    }
