"""RFC 9162 Merkle tree hashing and proofs over stored complete-subtree hashes.

Storage model
-------------
A log store keeps the hash of every *complete* (perfect) subtree, addressed by a
:data:`NodeId` ``(level, index)``:

* level 0, index ``i`` is the leaf hash of entry ``i``;
* level ``L``, index ``n`` is the hash of the perfect subtree over the leaves
  ``[n * 2**L, (n + 1) * 2**L)``.

Such a hash never changes once the tree has grown past its last leaf, so rows are
only ever inserted. These are exactly the hashes C2SP tlog-tiles serves: a tile at
tile level ``T`` holds level ``8 * T`` hashes (see :mod:`registry.log.tiles`).

Nodes on the right edge of a tree whose size is not a power of two are not
complete; they are folded on demand from at most ``log2(size)`` stored hashes.

Plan, then fetch
----------------
Every operation comes as a pair so that a database store does one read per
request: a *plan* function (``root_nodes``, ``inclusion_nodes``,
``consistency_nodes``, ``append_nodes``) names the stored hashes needed, the
store fetches them in one query into a mapping, and the matching *compute*
function (``root_hash``, ``inclusion_proof``, ``consistency_proof``,
``append_hashes``) turns that mapping into the result. Plans are O(log n) long.

Everything here is pure: no I/O, no database. :class:`MemoryTree` is the
in-memory reference store built on the same functions.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence

from registry.crypto.errors import VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "NodeId",
    "append_hashes",
    "append_nodes",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_hash",
    "root_nodes",
    "verify_consistency",
    "verify_inclusion",
]

NodeId = tuple[int, int]
"""``(level, index)`` of a complete subtree; see the module docstring."""

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root hash of the empty tree, MTH({}) = SHA-256() (RFC 9162 §2.1.1)."""


def leaf_hash(entry: bytes) -> bytes:
    """Hash one log entry as a leaf: SHA-256(0x00 || entry) (RFC 9162 §2.1.1).

    Args:
        entry: the exact bytes stored in the log.

    Returns:
        The 32-byte leaf hash.
    """
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1).

    Args:
        left: the left child's hash.
        right: the right child's hash.

    Returns:
        The 32-byte interior node hash.
    """
    return hashlib.sha256(b"\x01" + left + right).digest()


# ---------------------------------------------------------------------------
# Plans: which stored hashes an operation needs.


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size must be non-negative, got {size}")


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162 §2.1.1: the largest power of two strictly less than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_nodes(start: int, end: int) -> list[NodeId]:
    """The complete subtrees whose right fold is MTH(D[start:end]).

    In RFC 9162's recursion every subrange handed to MTH starts at a multiple of
    a power of two at least as large as the range, so the range splits into one
    perfect subtree per set bit of its length, largest first.
    """
    nodes: list[NodeId] = []
    width = end - start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def root_nodes(size: int) -> list[NodeId]:
    """Plan the root hash of the tree of ``size`` leaves.

    Args:
        size: the tree size, >= 0.

    Returns:
        The complete subtrees, left to right (largest first), whose right fold is
        the root (RFC 9162 §2.1.1). Empty for the empty tree. At most
        ``size.bit_length()`` nodes.

    Raises:
        ValueError: if ``size`` is negative.
    """
    _check_size(size)
    return _range_nodes(0, size)


def append_nodes(size: int) -> list[NodeId]:
    """Plan an append at tree size ``size``: the stored hashes :func:`append_hashes` needs.

    These are the left siblings on the right frontier, i.e. the complete subtrees
    a new leaf at index ``size`` may merge with. They are the same nodes as
    :func:`root_nodes` (so the store can also compute the old root from them).

    Args:
        size: the current tree size, >= 0.

    Returns:
        At most ``size.bit_length()`` node ids.

    Raises:
        ValueError: if ``size`` is negative.
    """
    return root_nodes(size)


def _inclusion_plan(index: int, size: int) -> list[list[NodeId]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), each proof element as the nodes it folds from.

    Elements are ordered leaf first, as the RFC's proof is.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    plan: list[list[NodeId]] = []
    start, end = 0, size
    # Walk down from the root; each step records the sibling of the side that
    # holds the leaf, so the list comes out root first and is reversed at the end.
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            plan.append(_range_nodes(start + k, end))
            end = start + k
        else:
            plan.append(_range_nodes(start, start + k))
            start += k
    plan.reverse()
    return plan


def inclusion_nodes(index: int, size: int) -> list[NodeId]:
    """Plan the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    Args:
        index: the leaf index, 0 <= index < size.
        size: the tree size.

    Returns:
        The stored hashes :func:`inclusion_proof` needs, at most
        ``2 * size.bit_length()`` of them.

    Raises:
        ValueError: if ``index`` is not a leaf of that tree.
    """
    return [node for element in _inclusion_plan(index, size) for node in element]


def _consistency_plan(size1: int, size2: int) -> list[list[NodeId]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]), each proof element as the nodes it folds from."""
    if not 0 < size1 <= size2:
        raise ValueError(
            f"a consistency proof needs 0 < size1 <= size2, got size1={size1}, size2={size2}"
        )
    plan: list[list[NodeId]] = []
    start, end, m = 0, size2, size1
    whole_old_tree = True  # the b flag of SUBPROOF
    # SUBPROOF recurses into one side and appends the other side's hash after
    # the recursive part, so walking down collects elements in reverse order.
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            plan.append(_range_nodes(start + k, end))
            end = start + k
        else:
            plan.append(_range_nodes(start, start + k))
            start += k
            m -= k
            whole_old_tree = False
    if not whole_old_tree:
        plan.append(_range_nodes(start, end))
    plan.reverse()
    return plan


def consistency_nodes(size1: int, size2: int) -> list[NodeId]:
    """Plan the consistency proof between tree sizes ``size1`` and ``size2``.

    Args:
        size1: the older tree size, 0 < size1 <= size2. A proof from the empty
            tree proves nothing and is refused, as the verifier refuses it.
        size2: the newer tree size.

    Returns:
        The stored hashes :func:`consistency_proof` needs, at most
        ``2 * size2.bit_length()`` of them; empty when the sizes are equal.

    Raises:
        ValueError: unless 0 < size1 <= size2.
    """
    return [node for element in _consistency_plan(size1, size2) for node in element]


# ---------------------------------------------------------------------------
# Computations from the fetched hashes.


def _stored(hashes: Mapping[NodeId, bytes], node: NodeId) -> bytes:
    try:
        return hashes[node]
    except KeyError:
        raise KeyError(f"stored hash for (level, index) {node} was not supplied") from None


def _fold(nodes: Sequence[NodeId], hashes: Mapping[NodeId, bytes]) -> bytes:
    """Fold complete subtrees right to left into the hash of the range they cover."""
    result = _stored(hashes, nodes[-1])
    for node in reversed(nodes[:-1]):
        result = node_hash(_stored(hashes, node), result)
    return result


def root_hash(size: int, hashes: Mapping[NodeId, bytes]) -> bytes:
    """Compute the root hash MTH(D[0:size]) (RFC 9162 §2.1.1).

    Args:
        size: the tree size, >= 0.
        hashes: at least the nodes named by ``root_nodes(size)``.

    Returns:
        The 32-byte root; :data:`EMPTY_ROOT` for size 0.

    Raises:
        ValueError: if ``size`` is negative.
        KeyError: if a planned hash is missing from ``hashes`` (a store bug).
    """
    nodes = root_nodes(size)
    return _fold(nodes, hashes) if nodes else EMPTY_ROOT


def inclusion_proof(index: int, size: int, hashes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Compute the inclusion proof PATH(index, D[0:size]) (RFC 9162 §2.1.3.1).

    Args:
        index: the leaf index, 0 <= index < size.
        size: the tree size.
        hashes: at least the nodes named by ``inclusion_nodes(index, size)``.

    Returns:
        The audit path, leaf end first, as :func:`verify_inclusion` expects.

    Raises:
        ValueError: if ``index`` is not a leaf of that tree.
        KeyError: if a planned hash is missing from ``hashes``.
    """
    return [_fold(element, hashes) for element in _inclusion_plan(index, size)]


def consistency_proof(size1: int, size2: int, hashes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Compute the consistency proof PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1).

    Args:
        size1: the older tree size, 0 < size1 <= size2.
        size2: the newer tree size.
        hashes: at least the nodes named by ``consistency_nodes(size1, size2)``.

    Returns:
        The proof as :func:`verify_consistency` expects; empty if the sizes are equal.

    Raises:
        ValueError: unless 0 < size1 <= size2.
        KeyError: if a planned hash is missing from ``hashes``.
    """
    return [_fold(element, hashes) for element in _consistency_plan(size1, size2)]


def append_hashes(
    size: int, leaves: Sequence[bytes], hashes: Mapping[NodeId, bytes]
) -> list[tuple[int, int, bytes]]:
    """Compute the rows to store when appending leaf hashes at indices size, size+1, ...

    Args:
        size: the tree size before the append, >= 0.
        leaves: the new entries' leaf hashes (see :func:`leaf_hash`), in order.
        hashes: at least the nodes named by ``append_nodes(size)``.

    Returns:
        ``(level, index, hash)`` rows: each new leaf at level 0 followed by every
        complete subtree it completes, in append order. Storing them all keeps
        the store's invariant: every complete subtree of the new tree is stored.

    Raises:
        ValueError: if ``size`` is negative or a leaf hash is not 32 bytes.
        KeyError: if a planned hash is missing from ``hashes``.
    """
    # The frontier: the complete subtrees not yet merged into a bigger one,
    # largest (leftmost) first. A new leaf merges with the frontier's tail while
    # they are the same height, exactly like a binary counter's carry.
    frontier: list[tuple[int, int, bytes]] = [
        (level, index, _stored(hashes, (level, index))) for level, index in append_nodes(size)
    ]
    rows: list[tuple[int, int, bytes]] = []
    for offset, leaf in enumerate(leaves):
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        level, index, value = 0, size + offset, leaf
        rows.append((level, index, value))
        while frontier and frontier[-1][0] == level:
            _, left_index, left = frontier.pop()
            level, index, value = level + 1, left_index >> 1, node_hash(left, value)
            rows.append((level, index, value))
        frontier.append((level, index, value))
    return rows


# ---------------------------------------------------------------------------
# Verification (the client side: needs only the proof, never the store).


def _check_hash(value: bytes, what: str, code: str) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}", code)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify an inclusion proof (RFC 9162 §2.1.3.2).

    Args:
        leaf_hash: the leaf hash of the entry (see :func:`leaf_hash`).
        index: the entry's index in the log.
        size: the size of the tree whose root is ``root``.
        proof: the audit path, leaf end first.
        root: the trusted root hash of that tree (e.g. from a verified checkpoint).

    Returns:
        None; the proof is valid.

    Raises:
        VerificationError: code ``"InclusionProofInvalid"``, with the reason,
            when the index is outside the tree, a hash is not 32 bytes, the path
            has the wrong length, or it does not lead to ``root``.
    """
    code = "InclusionProofInvalid"
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is not in a tree of size {size}", code)
    _check_hash(leaf_hash, "leaf hash", code)
    _check_hash(root, "root hash", code)
    for element in proof:
        _check_hash(element, "proof hash", code)

    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the tree is deep", code)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # A left child on the right edge has no right sibling at this level:
            # skip the levels where the edge node is carried up unhashed.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is shorter than the tree is deep", code)
    if not hmac.compare_digest(r, root):
        raise VerificationError("inclusion proof does not lead to the root hash", code)


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify a consistency proof between two tree heads (RFC 9162 §2.1.4.2).

    Args:
        size1: the older tree size; must be at least 1 (a proof from the empty
            tree proves nothing, and RFC 9162 defines none).
        size2: the newer tree size, >= size1.
        proof: the consistency proof; must be empty when the sizes are equal.
        root1: the trusted root hash at ``size1``.
        root2: the root hash at ``size2``.

    Returns:
        None; the tree at ``size2`` extends the tree at ``size1``.

    Raises:
        VerificationError: code ``"ConsistencyProofInvalid"``, with the reason.
    """
    code = "ConsistencyProofInvalid"
    if size1 < 1:
        raise VerificationError(f"size1 must be at least 1, got {size1}", code)
    if size2 < size1:
        raise VerificationError(f"size2 ({size2}) is smaller than size1 ({size1})", code)
    _check_hash(root1, "root1", code)
    _check_hash(root2, "root2", code)
    for element in proof:
        _check_hash(element, "proof hash", code)
    if size1 == size2:
        if proof:
            raise VerificationError("sizes are equal but the proof is not empty", code)
        if not hmac.compare_digest(root1, root2):
            raise VerificationError("sizes are equal but the roots differ", code)
        return
    if not proof:
        raise VerificationError("proof is empty but the sizes differ", code)

    path = list(proof)
    # When size1 is a power of two the old tree is itself a complete subtree of
    # the new one, and the RFC omits its hash from the proof.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is too long", code)
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is too short", code)
    if not hmac.compare_digest(fr, root1):
        raise VerificationError("consistency proof does not lead to root1", code)
    if not hmac.compare_digest(sr, root2):
        raise VerificationError("consistency proof does not lead to root2", code)


# ---------------------------------------------------------------------------
# Reference store.


class MemoryTree:
    """An in-memory log store: the reference for database stores, and the monitor's tree.

    It keeps the entries and a dict of every complete-subtree hash, and does all
    its work through the plan/compute functions above, so a test that passes on
    it exercises the same code paths a database store uses. It is deliberately
    mutable (it *is* a store), unlike the value objects in this package.
    """

    def __init__(self) -> None:
        """Create an empty tree."""
        self.entries: list[bytes] = []
        self.hashes: dict[NodeId, bytes] = {}

    @classmethod
    def from_entries(cls, entries: Iterable[bytes]) -> MemoryTree:
        """Build a tree from entries, e.g. those a monitor fetched from the log.

        Args:
            entries: the exact entry bytes, in log order.

        Returns:
            A tree holding them.
        """
        tree = cls()
        tree.append(list(entries))
        return tree

    @property
    def size(self) -> int:
        """The number of entries."""
        return len(self.entries)

    def append(self, entries: Sequence[bytes]) -> int:
        """Append entries as one batch, the way a database store should.

        Args:
            entries: the exact entry bytes.

        Returns:
            The index of the first appended entry.
        """
        first = self.size
        frontier = {node: self.hashes[node] for node in append_nodes(first)}
        rows = append_hashes(first, [leaf_hash(entry) for entry in entries], frontier)
        self.hashes.update(((level, index), value) for level, index, value in rows)
        self.entries.extend(entries)
        return first

    def root_hash(self, size: int | None = None) -> bytes:
        """The root hash at ``size`` (default: the current size).

        Raises:
            ValueError: if ``size`` is negative or larger than the tree.
        """
        return root_hash(self._size(size), self.hashes)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of entry ``index`` at ``size`` (default: the current size).

        Raises:
            ValueError: if the sizes are out of range.
        """
        return inclusion_proof(index, self._size(size), self.hashes)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The consistency proof from ``size1`` to ``size2`` (default: the current size).

        Raises:
            ValueError: if the sizes are out of range.
        """
        return consistency_proof(size1, self._size(size2), self.hashes)

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is not in 0..{self.size}")
        return size
