"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashes and proofs.

Implements RFC 9162 §2.1.1 (the Merkle Tree Hash, MTH), §2.1.3 (inclusion
proofs: generation §2.1.3.1, verification §2.1.3.2) and §2.1.4 (consistency
proofs: generation §2.1.4.1, verification §2.1.4.2), with SHA-256:

* leaf hash ``SHA-256(0x00 || data)``, interior node ``SHA-256(0x01 || left || right)``;
* the empty tree's hash is ``SHA-256("")``;
* a tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``;
* a consistency proof goes from a size ``first`` to ``second`` with ``0 < first <= second``.

Built for a log of 100 million leaves and more: proofs are generated from a
``subtree_root(start, end)`` callable that answers the hash of a *complete*
subtree (``end - start`` a power of two, ``start`` a multiple of it), so the
caller can keep those hashes in a table keyed by ``(level, start >> level)``.
Every node of a proof, including the "ragged" ones on the right edge of the
tree, is computed from at most ``log2(n)`` such lookups. :class:`Frontier`
appends leaves while holding only the ``log2(n)`` roots of the right edge and
reports the complete subtrees each append creates; :class:`MerkleTree` keeps
every level in memory for tests and small logs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "InvalidProofError",
    "MerkleError",
    "MerkleTree",
    "Node",
    "SubtreeRoot",
    "consistency_path",
    "consistency_proof",
    "covering_subtrees",
    "inclusion_path",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "range_root",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_NO_PROOF_FROM_EMPTY = "RFC 9162 defines no consistency proof from the empty tree (size 0): every tree extends it"
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

SubtreeRoot = Callable[[int, int], bytes]
"""``subtree_root(start, end)``: the hash of the complete subtree over leaves ``[start, end)``.

Only called with ``end - start`` a power of two and ``start`` a multiple of it;
``subtree_root(i, i + 1)`` is the leaf hash of leaf ``i``.
"""

Range = tuple[int, int]


class MerkleError(ValueError):
    """An argument is outside what the Merkle tree math accepts (a negative size, a bad hash length...)."""


class InvalidProofError(MerkleError):
    """A proof does not prove what it claims: it is malformed, or it leads to a different root."""


# --- hashes (§2.1.1) ---------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf holding ``data``: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def merkle_root(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over a sequence of leaf hashes (not leaf data), in O(n) time and O(log n) memory."""
    frontier = Frontier()
    for h in leaf_hashes:
        frontier.append(h)
    return frontier.root()


def _check_hash(what: str, value: bytes, error: type[MerkleError] = MerkleError) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        size = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise error(f"{what} must be {HASH_SIZE} bytes, got {size}")


def _check_size(what: str, value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise MerkleError(f"{what} must be a non-negative integer, got {value!r}")


def _split(size: int) -> int:
    """The largest power of two strictly below ``size`` (``size >= 2``)."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# --- which subtrees a proof needs ----------------------------------------------------------------


def covering_subtrees(start: int, end: int) -> list[Range]:
    """The complete subtrees whose roots make up MTH(D[start:end]), largest (leftmost) first.

    ``[start, end)`` must be a node of the tree, as every range in an RFC 9162
    proof is: ``start`` a multiple of the smallest power of two at least
    ``end - start``. The subtrees follow the binary representation of the
    range's size; MTH is their right fold with :func:`node_hash`.
    """
    _check_size("start", start)
    if end <= start:
        raise MerkleError(f"range [{start}, {end}) is empty")
    size = end - start
    span = 1 << (size - 1).bit_length()
    if start % span:
        raise MerkleError(f"range [{start}, {end}) is not a node of a Merkle tree: {start} is not a multiple of {span}")
    ranges = []
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            ranges.append((start, start + (1 << level)))
            start += 1 << level
    return ranges


def range_root(start: int, end: int, subtree_root: SubtreeRoot) -> bytes:
    """MTH(D[start:end]) for a node range, from the roots of its :func:`covering_subtrees`."""
    hashes = []
    for a, b in covering_subtrees(start, end):
        h = subtree_root(a, b)
        _check_hash(f"subtree_root({a}, {b})", h)
        hashes.append(bytes(h))
    root = hashes[-1]
    for h in reversed(hashes[:-1]):
        root = node_hash(h, root)
    return root


def inclusion_path(leaf_index: int, tree_size: int) -> list[Range]:
    """The leaf ranges whose MTHs form PATH(leaf_index, D[tree_size]) (RFC 9162 §2.1.3.1), leaf end first."""
    _check_size("leaf index", leaf_index)
    _check_size("tree size", tree_size)
    if leaf_index >= tree_size:
        raise MerkleError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    path = []
    start, end = 0, tree_size
    while end - start > 1:
        middle = start + _split(end - start)
        if leaf_index < middle:
            path.append((middle, end))
            end = middle
        else:
            path.append((start, middle))
            start = middle
    path.reverse()
    return path


def consistency_path(size1: int, size2: int) -> list[Range]:
    """The leaf ranges whose MTHs form PROOF(size1, D[size2]) (RFC 9162 §2.1.4.1), deepest first.

    Defined for ``0 < size1 <= size2``; empty when the sizes are equal.
    """
    _check_size("first tree size", size1)
    _check_size("second tree size", size2)
    if size1 > size2:
        raise MerkleError(f"first tree size {size1} is larger than second tree size {size2}")
    if size1 == 0:
        raise MerkleError(_NO_PROOF_FROM_EMPTY)
    if size1 == size2:
        return []
    path = []
    start, end, whole = 0, size2, True  # whole: SUBPROOF's flag b, "this subtree is the old tree's root"
    while True:
        if size1 - start == end - start:
            if not whole:
                path.append((start, end))
            break
        middle = start + _split(end - start)
        if size1 <= middle:
            path.append((middle, end))
            end = middle
        else:
            path.append((start, middle))
            start, whole = middle, False
    path.reverse()
    return path


def _memoized(subtree_root: SubtreeRoot) -> SubtreeRoot:
    seen: dict[Range, bytes] = {}

    def lookup(start: int, end: int) -> bytes:
        if (start, end) not in seen:
            seen[start, end] = subtree_root(start, end)
        return seen[start, end]

    return lookup


def inclusion_proof(leaf_index: int, tree_size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """The inclusion proof of leaf ``leaf_index`` in the tree of the first ``tree_size`` leaves.

    Costs O(log n) distinct ``subtree_root`` lookups. To fetch them in one
    query, collect ``covering_subtrees(a, b)`` for each ``(a, b)`` of
    :func:`inclusion_path` first.
    """
    lookup = _memoized(subtree_root)
    return [range_root(a, b, lookup) for a, b in inclusion_path(leaf_index, tree_size)]


def consistency_proof(size1: int, size2: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """The consistency proof between the trees of the first ``size1`` and ``size2`` leaves."""
    lookup = _memoized(subtree_root)
    return [range_root(a, b, lookup) for a, b in consistency_path(size1, size2)]


def root_hash(tree_size: int, subtree_root: SubtreeRoot) -> bytes:
    """MTH of the tree of the first ``tree_size`` leaves (``EMPTY_ROOT`` for 0)."""
    _check_size("tree size", tree_size)
    return range_root(0, tree_size, subtree_root) if tree_size else EMPTY_ROOT


# --- verification (§2.1.3.2, §2.1.4.2) -----------------------------------------------------------


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p, InvalidProofError)


def root_from_inclusion_proof(leaf: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-5, short of the comparison)."""
    _check_size("leaf index", leaf_index)
    _check_size("tree size", tree_size)
    _check_hash("leaf hash", leaf, InvalidProofError)
    _check_proof(proof)
    if leaf_index >= tree_size:
        raise InvalidProofError(f"leaf index {leaf_index} is not below tree size {tree_size}")
    fn, sn, r = leaf_index, tree_size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            raise InvalidProofError(f"inclusion proof has {len(proof)} hashes, more than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProofError(f"inclusion proof has {len(proof)} hashes, fewer than the path to the root")
    return r


def verify_inclusion(leaf: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that leaf hash ``leaf`` is leaf ``leaf_index`` of the tree of size ``tree_size`` and root ``root``.

    Raises :class:`InvalidProofError` saying what is wrong; returns nothing on success.
    """
    _check_hash("root", root, InvalidProofError)
    computed = root_from_inclusion_proof(leaf, leaf_index, tree_size, proof)
    if not hmac.compare_digest(computed, root):
        raise InvalidProofError(f"inclusion proof leads to root {computed.hex()}, not {bytes(root).hex()}")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (size2, root2) extends the tree (size1, root1) (RFC 9162 §2.1.4.2).

    Proofs exist for ``0 < size1 <= size2`` only, as transparency-dev/merkle
    has it: equal sizes need an empty proof and equal roots (two empty trees,
    ``EMPTY_ROOT`` both); from size 0 to a larger tree there is no proof to
    check, so none is accepted. Raises :class:`InvalidProofError`.
    """
    _check_size("first tree size", size1)
    _check_size("second tree size", size2)
    _check_hash("first root", root1, InvalidProofError)
    _check_hash("second root", root2, InvalidProofError)
    _check_proof(proof)
    if size2 < size1:
        raise InvalidProofError(f"second tree size {size2} is smaller than first tree size {size1}")
    if size1 == size2:
        if proof:
            raise InvalidProofError(f"a consistency proof between trees of size {size1} must be empty")
        if not hmac.compare_digest(root1, root2):
            raise InvalidProofError(
                f"the roots of two trees of size {size1} differ: {bytes(root1).hex()}, {bytes(root2).hex()}"
            )
        if size1 == 0 and not hmac.compare_digest(root1, EMPTY_ROOT):
            raise InvalidProofError(f"the empty tree's root is {EMPTY_ROOT.hex()}, not {bytes(root1).hex()}")
        return
    if size1 == 0:
        raise InvalidProofError(_NO_PROOF_FROM_EMPTY)
    if not proof:
        raise InvalidProofError("consistency proof is empty")
    path = [bytes(root1), *proof] if _is_power_of_two(size1) else [bytes(p) for p in proof]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProofError(f"consistency proof has {len(proof)} hashes, more than needed")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProofError(f"consistency proof has {len(proof)} hashes, fewer than needed")
    if not hmac.compare_digest(fr, root1):
        raise InvalidProofError(f"consistency proof leads to first root {fr.hex()}, not {bytes(root1).hex()}")
    if not hmac.compare_digest(sr, root2):
        raise InvalidProofError(f"consistency proof leads to second root {sr.hex()}, not {bytes(root2).hex()}")


# --- building trees -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A complete subtree: ``2**level`` leaves from ``index * 2**level``, with root ``hash``."""

    level: int
    index: int
    hash: bytes

    @property
    def start(self) -> int:
        return self.index << self.level

    @property
    def end(self) -> int:
        return (self.index + 1) << self.level


def _complete_level(start: int, end: int) -> int:
    size = end - start
    if start < 0 or not _is_power_of_two(size) or start % size:
        raise MerkleError(f"[{start}, {end}) is not a complete subtree")
    return size.bit_length() - 1


class Frontier:
    """The right edge of a growing tree: the roots of its :func:`covering_subtrees` of ``[0, size)``.

    Enough to append leaves and compute the root without the rest of the tree:
    at most one hash per set bit of ``size``.
    """

    def __init__(self, size: int = 0, roots: Sequence[bytes] = ()) -> None:
        _check_size("tree size", size)
        if len(roots) != size.bit_count():
            raise MerkleError(f"a tree of size {size} has {size.bit_count()} frontier roots, got {len(roots)}")
        for i, r in enumerate(roots):
            _check_hash(f"roots[{i}]", r)
        self._size = size
        self._roots = [bytes(r) for r in roots]

    @classmethod
    def from_subtrees(cls, size: int, subtree_root: SubtreeRoot) -> Frontier:
        """The frontier of the tree of the first ``size`` leaves, read from stored subtree roots."""
        _check_size("tree size", size)
        roots = [subtree_root(a, b) for a, b in covering_subtrees(0, size)] if size else []
        return cls(size, roots)

    @property
    def size(self) -> int:
        return self._size

    @property
    def roots(self) -> tuple[bytes, ...]:
        return tuple(self._roots)

    def append(self, leaf: bytes) -> list[Node]:
        """Add a leaf hash; answer the complete subtrees it creates, the leaf itself first."""
        _check_hash("leaf hash", leaf)
        level, index, h = 0, self._size, bytes(leaf)
        created = [Node(0, index, h)]
        while index & 1:
            h = node_hash(self._roots.pop(), h)
            level, index = level + 1, index >> 1
            created.append(Node(level, index, h))
        self._roots.append(h)
        self._size += 1
        return created

    def root(self) -> bytes:
        """MTH of the tree so far."""
        if not self._roots:
            return EMPTY_ROOT
        root = self._roots[-1]
        for h in reversed(self._roots[:-1]):
            root = node_hash(h, root)
        return root


class MerkleTree:
    """A tree with every complete subtree root in memory (about 2n hashes): for tests and small logs."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> list[Node]:
        """Add a leaf hash; answer the complete subtrees it creates, the leaf itself first."""
        _check_hash("leaf hash", leaf)
        level, index, h = 0, self.size, bytes(leaf)
        self._levels[0].append(h)
        created = [Node(0, index, h)]
        while index & 1:
            h = node_hash(self._levels[level][index - 1], h)
            level, index = level + 1, index >> 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(h)
            created.append(Node(level, index, h))
        return created

    def append_data(self, data: bytes) -> list[Node]:
        """Add a leaf holding ``data``."""
        return self.append(leaf_hash(data))

    def subtree_root(self, start: int, end: int) -> bytes:
        """The root of the complete subtree over leaves ``[start, end)``; a :data:`SubtreeRoot`."""
        level = _complete_level(start, end)
        if end > self.size:
            raise MerkleError(f"subtree [{start}, {end}) reaches beyond tree size {self.size}")
        return self._levels[level][start >> level]

    def _size_or_current(self, tree_size: int | None) -> int:
        if tree_size is None:
            return self.size
        _check_size("tree size", tree_size)
        if tree_size > self.size:
            raise MerkleError(f"tree size {tree_size} is beyond the {self.size} leaves held")
        return tree_size

    def root(self, tree_size: int | None = None) -> bytes:
        """MTH of the first ``tree_size`` leaves (default: all)."""
        return root_hash(self._size_or_current(tree_size), self.subtree_root)

    def inclusion_proof(self, leaf_index: int, tree_size: int | None = None) -> list[bytes]:
        return inclusion_proof(leaf_index, self._size_or_current(tree_size), self.subtree_root)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(size1, self._size_or_current(size2), self.subtree_root)
