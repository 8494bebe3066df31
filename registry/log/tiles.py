"""C2SP tiled transparency log layout (c2sp.org/tlog-tiles): tile paths and contents.

A tile at tile level ``L``, index ``N`` holds up to 256 consecutive Merkle tree
hashes at tree level ``8 * L``: hash ``i`` covers the leaves
``[(N * 256 + i) * 256**L, (N * 256 + i + 1) * 256**L)``. In our storage model
(:mod:`registry.log.merkle`) that is the stored complete-subtree hash
``(8 * L, N * 256 + i)``, so serving a tile is one range read.

Paths (relative to the log prefix)::

    tile/<L>/<N>[.p/<W>]        Merkle tree tile
    tile/entries/<N>[.p/<W>]    entry bundle (the entries of level-0 tile N)

``N`` is written in 3-digit groups, all but the last prefixed by ``x``
(1234067 -> ``x001/x234/067``); ``.p/<W>`` marks a partial tile of width ``W``
(1..255). Full tiles are 256 hashes (8,192 bytes). Partial tiles are never
hashed into the level above.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from registry.log.merkle import HASH_SIZE, NodeId

__all__ = [
    "MAX_ENTRY_SIZE",
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileRef",
    "entry_bundle",
    "parse_entry_bundle",
    "parse_tile",
    "parse_tile_path",
    "partial_tiles",
    "tile_data",
    "tile_nodes",
    "tiles_for_size",
]

TILE_HEIGHT = 8
"""Tree levels per tile level."""

TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (256)."""

MAX_TILE_LEVEL = 63
"""Highest tile level a path may name."""

MAX_ENTRY_SIZE = 0xFFFF
"""Largest entry an entry bundle can hold (its length prefix is a uint16)."""

_DECIMAL = r"0|[1-9][0-9]*"
_PATH = re.compile(
    rf"tile/(?:(?P<entries>entries)|(?P<level>{_DECIMAL}))"
    r"/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})"
    rf"(?:\.p/(?P<width>{_DECIMAL}))?"
)


def _index_path(index: int) -> str:
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if not index:
            break
    groups.reverse()
    return "/".join(["x" + group for group in groups[:-1]] + groups[-1:])


@dataclass(frozen=True)
class TileRef:
    """One tile or entry bundle, as named by its path.

    Attributes:
        level: the tile level, 0..63 (0 for entry bundles).
        index: the tile index within the level.
        width: the number of hashes (or entries), 1..256; below 256 means partial.
        is_entries: True for an entry bundle, False for a Merkle tree tile.

    Raises:
        ValueError: on construction, if a field is out of range.
    """

    level: int
    index: int
    width: int = TILE_WIDTH
    is_entries: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.level <= MAX_TILE_LEVEL:
            raise ValueError(f"tile level {self.level} is not in 0..{MAX_TILE_LEVEL}")
        if self.is_entries and self.level != 0:
            raise ValueError("entry bundles belong to level 0")
        if self.index < 0:
            raise ValueError(f"tile index {self.index} is negative")
        if not 1 <= self.width <= TILE_WIDTH:
            raise ValueError(f"tile width {self.width} is not in 1..{TILE_WIDTH}")

    @property
    def is_partial(self) -> bool:
        """Whether the tile has fewer than 256 hashes (or entries)."""
        return self.width < TILE_WIDTH

    @classmethod
    def from_path(cls, path: str) -> TileRef:
        """Parse a tile path; see :func:`parse_tile_path`."""
        return parse_tile_path(path)

    def to_path(self) -> str:
        """The path, e.g. ``tile/1/x001/x234/067.p/8`` or ``tile/entries/000``."""
        kind = "entries" if self.is_entries else str(self.level)
        suffix = f".p/{self.width}" if self.is_partial else ""
        return f"tile/{kind}/{_index_path(self.index)}{suffix}"

    def nodes(self) -> list[NodeId]:
        """The stored hashes that make up this tile (or whose leaves this bundle holds)."""
        return tile_nodes(self.level, self.index, self.width)

    def is_available(self, size: int) -> bool:
        """Whether a tree of ``size`` entries fixes this tile's contents.

        True when all its hashes are complete subtrees of that tree. A partial
        tile of an older tree size stays available (its contents never change).
        """
        return self.index * TILE_WIDTH + self.width <= size >> (TILE_HEIGHT * self.level)


def parse_tile_path(path: str) -> TileRef:
    """Parse ``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]`` strictly.

    Args:
        path: the path relative to the log prefix, without a leading slash.

    Returns:
        The tile it names.

    Raises:
        ValueError: if the path is not the one canonical spelling of a tile: a
            level outside 0..63 or with leading zeros, an index group without
            ``x`` or with a superfluous leading ``x000`` group, a width outside
            1..255 or with leading zeros.
    """
    match = _PATH.fullmatch(path)
    if match is None:
        raise ValueError(f"not a tile path: {path!r}")
    index = int(match["index"].replace("x", "").replace("/", ""))
    width = int(match["width"]) if match["width"] is not None else TILE_WIDTH
    if match["width"] is not None and not 1 <= width < TILE_WIDTH:
        raise ValueError(f"partial tile width must be 1..255 in {path!r}")
    is_entries = match["entries"] is not None
    tile = TileRef(0 if is_entries else int(match["level"]), index, width, is_entries)
    # One tile, one path: reject e.g. "x000/005" for index 5.
    if tile.to_path() != path:
        raise ValueError(f"tile path is not canonical: {path!r} (expected {tile.to_path()!r})")
    return tile


def tile_nodes(level: int, index: int, width: int = TILE_WIDTH) -> list[NodeId]:
    """The stored complete-subtree hashes that make up a tile, in tile order.

    Args:
        level: the tile level.
        index: the tile index.
        width: the tile width, 1..256.

    Returns:
        ``[(8 * level, index * 256 + i) for i in range(width)]``.

    Raises:
        ValueError: if the arguments do not name a tile.
    """
    TileRef(level, index, width)
    return [(TILE_HEIGHT * level, index * TILE_WIDTH + i) for i in range(width)]


def tile_data(tile: TileRef, hashes: Mapping[NodeId, bytes]) -> bytes:
    """The bytes served for a Merkle tree tile: its hashes concatenated.

    Args:
        tile: a tree tile (not an entry bundle).
        hashes: at least the nodes named by ``tile.nodes()``.

    Raises:
        ValueError: if ``tile`` is an entry bundle.
        KeyError: if a needed hash is missing.
    """
    if tile.is_entries:
        raise ValueError("an entry bundle is made with entry_bundle(), not tile_data()")
    return b"".join(hashes[node] for node in tile.nodes())


def parse_tile(data: bytes, width: int = TILE_WIDTH) -> list[bytes]:
    """Split tile bytes into its hashes; the inverse of :func:`tile_data`.

    Raises:
        ValueError: if ``data`` is not exactly ``width`` 32-byte hashes.
    """
    if len(data) != width * HASH_SIZE:
        raise ValueError(
            f"tile of width {width} must be {width * HASH_SIZE} bytes, not {len(data)}"
        )
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode an entry bundle: each entry as a big-endian uint16 length, then its bytes.

    Args:
        entries: the entries of one level-0 tile, in log order (1..256 of them).

    Raises:
        ValueError: if an entry is longer than 65,535 bytes, or the count is not 1..256.
    """
    if not 1 <= len(entries) <= TILE_WIDTH:
        raise ValueError(f"an entry bundle holds 1..{TILE_WIDTH} entries, not {len(entries)}")
    parts = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"entry of {len(entry)} bytes does not fit an entry bundle")
        parts.append(len(entry).to_bytes(2, "big") + entry)
    return b"".join(parts)


def parse_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Decode an entry bundle; the inverse of :func:`entry_bundle`.

    Args:
        data: the bundle bytes.
        width: if given, the number of entries the bundle must hold.

    Raises:
        ValueError: on a truncated entry or the wrong number of entries.
    """
    entries = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise ValueError("entry bundle ends inside a length prefix")
        length = int.from_bytes(data[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(data):
            raise ValueError("entry bundle ends inside an entry")
        entries.append(data[offset : offset + length])
        offset += length
    if width is not None and len(entries) != width:
        raise ValueError(f"entry bundle holds {len(entries)} entries, expected {width}")
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"entry bundle holds more than {TILE_WIDTH} entries")
    return entries


def _levels(size: int) -> Iterator[tuple[int, int]]:
    """(tile level, number of hashes at that level) for every non-empty level."""
    level = 0
    while (count := size >> (TILE_HEIGHT * level)) > 0:
        yield level, count
        level += 1


def partial_tiles(size: int) -> list[TileRef]:
    """The partial tree tiles of a tree of ``size`` entries, lowest level first.

    The partial tile at level ``l`` has ``floor(size / 256**l) mod 256`` hashes
    and exists only when that is not zero. The matching partial entry bundle is
    ``TileRef(0, t.index, t.width, is_entries=True)`` for the level-0 tile ``t``.

    Raises:
        ValueError: if ``size`` is negative.
    """
    if size < 0:
        raise ValueError(f"tree size must be non-negative, got {size}")
    return [
        TileRef(level, count // TILE_WIDTH, count % TILE_WIDTH)
        for level, count in _levels(size)
        if count % TILE_WIDTH
    ]


def tiles_for_size(size: int, *, entries: bool = False) -> Iterator[TileRef]:
    """Every tile (full, then the partial one, level by level) of a tree of ``size`` entries.

    For example a tree of 70,000 entries has 273 full level-0 tiles, one partial
    level-0 tile of width 112, one full level-1 tile, a partial level-1 tile of
    width 17 and a partial level-2 tile of width 1 (c2sp.org/tlog-tiles).

    Args:
        size: the tree size.
        entries: also yield the entry bundles, after the level-0 tiles.

    Returns:
        A lazy iterator (a large log has many tiles).

    Raises:
        ValueError: if ``size`` is negative.
    """
    if size < 0:
        raise ValueError(f"tree size must be non-negative, got {size}")
    for level, count in _levels(size):
        kinds = [False, True] if entries and level == 0 else [False]
        for is_entries in kinds:
            for index in range(count // TILE_WIDTH):
                yield TileRef(level, index, TILE_WIDTH, is_entries)
            if count % TILE_WIDTH:
                yield TileRef(level, count // TILE_WIDTH, count % TILE_WIDTH, is_entries)
