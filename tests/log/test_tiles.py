"""C2SP tlog-tiles: paths, tile contents from stored hashes, entry bundles."""

from __future__ import annotations

import pytest

from registry.log.merkle import MemoryTree, NodeId, leaf_hash, node_hash, root_nodes
from registry.log.tiles import (
    TILE_WIDTH,
    TileRef,
    entry_bundle,
    parse_entry_bundle,
    parse_tile,
    parse_tile_path,
    partial_tiles,
    tile_data,
    tile_nodes,
    tiles_for_size,
)

PATHS = [
    ("tile/0/000", TileRef(0, 0)),
    ("tile/0/x001/x234/067", TileRef(0, 1234067)),  # the specification's example index
    ("tile/1/x001/x234/067.p/8", TileRef(1, 1234067, 8)),
    ("tile/2/999", TileRef(2, 999)),
    ("tile/0/x001/000", TileRef(0, 1000)),
    ("tile/63/x999/999.p/255", TileRef(63, 999999, 255)),
    ("tile/entries/000.p/1", TileRef(0, 0, 1, is_entries=True)),
    ("tile/entries/x001/x234/067", TileRef(0, 1234067, is_entries=True)),
]


@pytest.mark.parametrize(("path", "tile"), PATHS, ids=[p for p, _ in PATHS])
def test_tile_paths_round_trip(path: str, tile: TileRef) -> None:
    assert parse_tile_path(path) == tile
    assert TileRef.from_path(path) == tile
    assert tile.to_path() == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/5",
        "tile/0/05",
        "tile/0/0005",
        "tile/0/x000/005",  # a superfluous leading group
        "tile/0/001/002",  # groups but the last need an x
        "tile/0/x001",  # the last group has no x
        "tile/00/000",
        "tile/64/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/08",
        "tile/0/000.p/",
        "tile/0/000.p",
        "/tile/0/000",
        "tile/0/000/",
        "tile/entries/000.p/x",
        "tile/entries/1/000",
        "tile/data/000",
        "tile/0/x1/000",
    ],
)
def test_bad_tile_paths_are_rejected(path: str) -> None:
    with pytest.raises(ValueError, match="tile"):
        parse_tile_path(path)


def test_tile_nodes_are_level_8l_hashes() -> None:
    assert tile_nodes(0, 0, 2) == [(0, 0), (0, 1)]
    assert tile_nodes(1, 3, 1) == [(8, 768)]
    assert tile_nodes(2, 0) == [(16, i) for i in range(256)]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, []),
        (1, [(0, 0, 1)]),
        (256, [(1, 0, 1)]),
        (70_000, [(0, 273, 112), (1, 1, 17), (2, 0, 1)]),
    ],
)
def test_partial_tiles(size: int, expected: list[tuple[int, int, int]]) -> None:
    assert [(t.level, t.index, t.width) for t in partial_tiles(size)] == expected


def test_tiles_for_size_matches_the_specifications_example() -> None:
    tiles = list(tiles_for_size(70_000))
    level0 = [t for t in tiles if t.level == 0]
    assert sum(not t.is_partial for t in level0) == 273
    assert [t.width for t in level0 if t.is_partial] == [112]
    assert [(t.level, t.width) for t in tiles if t.level > 0] == [(1, 256), (1, 17), (2, 1)]
    with_entries = list(tiles_for_size(70_000, entries=True))
    assert sum(t.is_entries for t in with_entries) == 274
    assert all(t.is_available(70_000) for t in with_entries)


@pytest.mark.parametrize(
    ("tile", "size", "available"),
    [
        (TileRef(0, 0), 255, False),
        (TileRef(0, 0), 256, True),
        (TileRef(0, 0, 3), 3, True),
        (TileRef(0, 0, 3), 1000, True),  # an old partial tile: its hashes never change
        (TileRef(0, 1, 3), 258, False),
        (TileRef(1, 0, 1), 255, False),
        (TileRef(1, 0, 1), 256, True),
        (TileRef(0, 0, 5, is_entries=True), 5, True),
    ],
)
def test_is_available(tile: TileRef, size: int, available: bool) -> None:
    assert tile.is_available(size) is available


# A tree with full and partial level-0 tiles, a full level-1 tile and a partial one.
SIZE = 256 * 256 + 256 * 2 + 7
TREE = MemoryTree.from_entries([i.to_bytes(4, "big") for i in range(SIZE)])


def node_from_tiles(level: int, index: int, tile_hashes: dict[NodeId, bytes]) -> bytes:
    """Recompute a tree node from tile hashes only, as a tile-fetching client would."""
    if level % 8 == 0:
        return tile_hashes[(level, index)]
    left = node_from_tiles(level - 1, 2 * index, tile_hashes)
    return node_hash(left, node_from_tiles(level - 1, 2 * index + 1, tile_hashes))


def test_tiles_recompute_the_root() -> None:
    tile_hashes: dict[NodeId, bytes] = {}
    tiles = list(tiles_for_size(SIZE))
    assert {t.level for t in tiles} == {0, 1, 2}
    for tile in tiles:
        data = tile_data(tile, TREE.hashes)
        assert len(data) == 32 * tile.width
        tile_hashes.update(zip(tile.nodes(), parse_tile(data, tile.width), strict=True))
    folded = [node_from_tiles(level, index, tile_hashes) for level, index in root_nodes(SIZE)]
    root = folded[-1]
    for value in reversed(folded[:-1]):
        root = node_hash(value, root)
    assert root == TREE.root_hash()


def test_level_1_tile_hashes_are_roots_of_level_0_tiles() -> None:
    level1 = parse_tile(tile_data(TileRef(1, 0), TREE.hashes))
    for n in (0, 1, 255):
        tile0 = parse_tile(tile_data(TileRef(0, n), TREE.hashes))
        layer = tile0
        while len(layer) > 1:  # a full tile is a perfect subtree of height 8
            layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer), 2)]
        assert level1[n] == layer[0]


def test_entry_bundle_hashes_to_level_0_tile() -> None:
    tile = TileRef(0, 256, 2, is_entries=True)
    entries = TREE.entries[256 * 256 : 256 * 256 + 2]
    bundle = entry_bundle(entries)
    assert bundle == b"\x00\x04" + entries[0] + b"\x00\x04" + entries[1]
    assert [leaf_hash(e) for e in parse_entry_bundle(bundle, tile.width)] == [
        TREE.hashes[node] for node in tile.nodes()
    ]


@pytest.mark.parametrize(
    "entries", [[b""], [b"a", b"bc"], [b"x" * 0xFFFF], [bytes([i]) for i in range(256)]]
)
def test_entry_bundle_round_trips(entries: list[bytes]) -> None:
    assert parse_entry_bundle(entry_bundle(entries), len(entries)) == entries


@pytest.mark.parametrize(
    ("entries", "message"),
    [([], "1..256"), ([b""] * 257, "1..256"), ([b"x" * 0x10000], "does not fit")],
)
def test_entry_bundle_refuses(entries: list[bytes], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        entry_bundle(entries)


@pytest.mark.parametrize(
    ("data", "width", "message"),
    [
        (b"\x00", None, "length prefix"),
        (b"\x00\x02a", None, "inside an entry"),
        (b"\x00\x01a", 2, "expected 2"),
        (b"\x00\x00" * 257, None, "more than 256"),
    ],
)
def test_bad_entry_bundles_are_rejected(data: bytes, width: int | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_entry_bundle(data, width)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((64, 0), "level"),
        ((0, -1), "negative"),
        ((0, 0, 0), "width"),
        ((0, 0, 257), "width"),
        ((1, 0, 256, True), "level 0"),
    ],
)
def test_tile_ref_validates(args: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TileRef(*args)  # type: ignore[arg-type]


def test_tile_data_and_parse_tile_refuse_mismatches() -> None:
    with pytest.raises(ValueError, match="entry_bundle"):
        tile_data(TileRef(0, 0, is_entries=True), TREE.hashes)
    with pytest.raises(ValueError, match="8192 bytes"):
        parse_tile(bytes(31 * TILE_WIDTH))


@pytest.mark.parametrize("path", ["tile/0/000.p/0", "tile/0/000.p/256"])
def test_a_partial_width_out_of_range_says_the_range(path: str) -> None:
    with pytest.raises(ValueError, match=r"partial tile width must be 1\.\.255"):
        parse_tile_path(path)
