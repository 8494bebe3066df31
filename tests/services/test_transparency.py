"""The log's store (services.transparency) against the in-memory reference tree, both databases."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from registry.app import Registry
from registry.crypto.jcs import canonicalize
from registry.log import merkle
from registry.log.checkpoint import open_checkpoint
from registry.log.tiles import MAX_ENTRY_SIZE, TileRef, parse_entry_bundle, parse_tile
from registry.services import transparency
from registry.services.ingest import ingest
from registry.store.models import Checkpoint as CheckpointRow
from registry.store.models import LogEntry
from tests.conftest import Clock

NOW = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
ORIGIN = "registry.example.cn/log"


def entry(n: int) -> bytes:
    return canonicalize({"event": {"n": n}})


def append_batches(session: Session, batches: list[int]) -> merkle.MemoryTree:
    """Append batches of synthetic entries, committing each; return the reference tree."""
    reference = merkle.MemoryTree()
    for count in batches:
        start = transparency.lock(session)
        data = [entry(start + i) for i in range(count)]
        indices = transparency.append(session, start, [("key", d) for d in data], NOW)
        assert indices == list(range(start, start + count))
        session.commit()
        reference.append(data)
    return reference


@pytest.mark.parametrize("batches", [[1], [1, 1, 1], [3, 5], [8, 1], [255, 2], [1, 30, 2, 300]])
def test_roots_and_proofs_match_the_reference_tree(session: Session, batches: list[int]) -> None:
    reference = append_batches(session, batches)
    size = reference.size
    assert transparency.size(session) == size
    for tree_size in sorted({min(n, size) for n in (1, 2, 3, size // 2 or 1, size - 1 or 1, size)}):
        assert transparency.root_hash(session, tree_size) == reference.root_hash(tree_size)
        for index in sorted({0, tree_size // 2, tree_size - 1}):
            assert transparency.inclusion_proof(
                session, index, tree_size
            ) == reference.inclusion_proof(index, tree_size)
        assert transparency.consistency_proof(session, tree_size, size) == (
            reference.consistency_proof(tree_size, size)
        )


def test_append_writes_one_row_per_complete_subtree(session: Session) -> None:
    append_batches(session, [4, 3])
    # 7 leaves: 7 level-0, 3 level-1 (0-1, 2-3, 4-5), 1 level-2 (0-3).
    from registry.store.models import LogHash

    levels = session.execute(
        select(LogHash.level, func.count()).group_by(LogHash.level).order_by(LogHash.level)
    ).all()
    assert [tuple(row) for row in levels] == [(0, 7), (1, 3), (2, 1)]


def test_missing_hashes_are_reported_not_guessed(session: Session) -> None:
    append_batches(session, [3])
    with pytest.raises(transparency.LogIncomplete):
        transparency.inclusion_proof(session, 0, 9)


def test_fresh_checkpoint_signs_only_when_stale(session: Session, state: Registry) -> None:
    signer, interval = state.log_signer, 1.0
    first = transparency.fresh_checkpoint(session, signer, ORIGIN, interval, NOW)
    assert first.size == 0
    append_batches(session, [2])
    later = NOW + dt.timedelta(seconds=0.5)
    same = transparency.fresh_checkpoint(session, signer, ORIGIN, interval, later)
    assert same.size == 0  # younger than the interval
    covering = transparency.fresh_checkpoint(session, signer, ORIGIN, interval, later, covering=2)
    assert covering.size == 2  # a caller needs entry 1 proven now
    session.commit()
    stale = NOW + dt.timedelta(seconds=5)
    assert transparency.fresh_checkpoint(session, signer, ORIGIN, interval, stale) == covering
    head = open_checkpoint(covering.note, signer.verifier, ORIGIN)
    assert head.root_hash == transparency.root_hash(session, 2)


def test_concurrent_signers_of_one_size_agree(state: Registry) -> None:
    """Regression: readers racing to sign the same size must not fail on the primary key."""
    with state.sessions() as session:
        append_batches(session, [3])
    errors: list[BaseException] = []
    notes: list[str] = []
    barrier = threading.Barrier(6)

    def sign(offset: int) -> None:
        try:
            with state.sessions() as session:
                barrier.wait()
                signed = transparency.fresh_checkpoint(
                    session,
                    state.log_signer,
                    ORIGIN,
                    1.0,
                    NOW + dt.timedelta(microseconds=offset),
                )
                session.commit()
                notes.append(signed.note)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sign, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(notes)) == 1
    with state.sessions() as session:
        assert session.execute(select(func.count()).select_from(CheckpointRow)).scalar_one() == 1


def test_checkpoint_text_ends_at_the_last_blank_line(session: Session, state: Registry) -> None:
    append_batches(session, [1])
    signed = transparency.fresh_checkpoint(session, state.log_signer, ORIGIN, 1.0, NOW)
    row = session.get(CheckpointRow, 1)
    assert row is not None
    # A witness cosignature appended to the stored note does not change what it says.
    row.note += "— witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
    assert transparency.SignedCheckpoint.from_row(row).checkpoint == signed.checkpoint


def test_tiles_match_the_reference_tree(session: Session) -> None:
    reference = append_batches(session, [300])
    tile = transparency.tile(session, TileRef(0, 0), 300)
    assert parse_tile(tile) == [reference.hashes[(0, i)] for i in range(256)]
    bundle = transparency.tile(session, TileRef(0, 1, 44, is_entries=True), 300)
    assert parse_entry_bundle(bundle, 44) == reference.entries[256:]
    with pytest.raises(ValueError, match="not available"):
        transparency.tile(session, TileRef(0, 1), 300)


def test_a_deleted_entry_makes_its_bundle_incomplete(session: Session) -> None:
    append_batches(session, [10])
    session.execute(delete(LogEntry).where(LogEntry.idx == 4))
    with pytest.raises(transparency.LogIncomplete):
        transparency.tile(session, TileRef(0, 0, 10, is_entries=True), 10)


def big_sites(count: int) -> list[dict[str, str]]:
    scope = "家用电器的安装、维修与退换货服务，" * 60  # 1,020 characters, 3 bytes each
    return [
        {"name": f"第{n}服务网点", "address": "浙江省杭州市西湖区文三路100号", "scope": scope}
        for n in range(count)
    ]


@pytest.mark.parametrize(("sites", "accepted"), [(20, True), (22, False), (40, False)])
def test_ingest_refuses_envelopes_beyond_the_entry_bundle_limit(
    session: Session,
    make_envelope: Callable[..., dict[str, Any]],
    clock: Clock,
    sites: int,
    accepted: bool,
) -> None:
    envelope = make_envelope(sites=big_sites(sites))
    size = len(canonicalize(envelope))
    assert (size <= MAX_ENTRY_SIZE) is accepted
    report = ingest(session, [envelope], clock.now)
    result = report.results[0]
    if accepted:
        assert result.outcome == "accepted"
        return
    assert result.outcome == "rejected"
    assert [p.code for p in result.problems] == ["MalformedEnvelope"]
    assert str(size) in result.problems[0].message
    assert "65535" in result.problems[0].message
