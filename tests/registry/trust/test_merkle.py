"""RFC 9162 Merkle trees: the transparency-dev vectors, the RFC 6962 reference tree, and properties."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcreg.registry.trust import merkle
from mcreg.registry.trust.merkle import (
    EMPTY_ROOT,
    Frontier,
    InvalidProofError,
    MerkleError,
    MerkleTree,
    consistency_path,
    covering_subtrees,
    inclusion_path,
    leaf_hash,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)
from tests.testdata import data_path

VECTORS = data_path("merkle")

# The eight leaves of the RFC 6962 / transparency-dev reference tree the vectors are drawn from.
REFERENCE_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
REFERENCE_ROOT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def _cases(kind: str) -> list[Path]:
    """The vector files of one kind, ``inclusion`` or ``consistency``."""
    return sorted((VECTORS / kind).glob("*/*.json"))


def test_the_vectors_are_there() -> None:
    assert len(_cases("inclusion")) == 49
    assert len(_cases("consistency")) == 43


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _proof(case: dict) -> list[bytes]:
    return [_b64(p) for p in case["proof"] or []]


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.fixture(scope="module")
def reference() -> MerkleTree:
    return MerkleTree(leaf_hash(leaf) for leaf in REFERENCE_LEAVES)


def test_reference_tree_root(reference: MerkleTree) -> None:
    assert reference.root().hex() == REFERENCE_ROOT
    assert merkle_root(leaf_hash(leaf) for leaf in REFERENCE_LEAVES).hex() == REFERENCE_ROOT


def test_empty_tree_hash_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([]) == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_case_id)
def test_inclusion_vector(path: Path, reference: MerkleTree) -> None:
    case = _load(path)
    args = (_b64(case["leafHash"]), case["leafIdx"], case["treeSize"], _proof(case), _b64(case["root"]))
    if case["wantErr"]:
        with pytest.raises(InvalidProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)
        # and we generate exactly the proof the vector holds
        assert reference.inclusion_proof(case["leafIdx"], case["treeSize"]) == _proof(case)


@pytest.mark.parametrize("path", _cases("consistency"), ids=_case_id)
def test_consistency_vector(path: Path, reference: MerkleTree) -> None:
    case = _load(path)
    args = (case["size1"], case["size2"], _b64(case["root1"]), _b64(case["root2"]), _proof(case))
    if case["wantErr"]:
        with pytest.raises(InvalidProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)
        if case["size2"] <= reference.size:
            assert reference.consistency_proof(case["size1"], case["size2"]) == _proof(case)


# --- generation -----------------------------------------------------------------------------------


def test_paths_follow_rfc_9162_example() -> None:
    # RFC 9162 §2.1.5, the tree of 7 leaves d0..d6: leaves a..f and j = d6, g = (a, b), h = (c, d),
    # i = (e, f), k = (g, h), l = (i, j). Each node is written as the range of leaves it covers.
    n = {name: (i, i + 1) for i, name in enumerate("abcdefj")}
    n.update(g=(0, 2), h=(2, 4), i=(4, 6), k=(0, 4), l=(4, 7))

    def nodes(names: str) -> list[tuple[int, int]]:
        return [n[name] for name in names]

    assert inclusion_path(0, 7) == nodes("bhl")
    assert inclusion_path(3, 7) == nodes("cgl")
    assert inclusion_path(4, 7) == nodes("fjk")
    assert inclusion_path(6, 7) == nodes("ik")
    assert consistency_path(3, 7) == nodes("cdgl")
    assert consistency_path(4, 7) == nodes("l")
    assert consistency_path(6, 7) == nodes("ijk")


def test_covering_subtrees_follow_the_binary_size() -> None:
    assert covering_subtrees(0, 7) == [(0, 4), (4, 6), (6, 7)]
    assert covering_subtrees(8, 16) == [(8, 16)]
    assert covering_subtrees(96, 100) == [(96, 100)]
    assert covering_subtrees(64, 100) == [(64, 96), (96, 100)]
    with pytest.raises(MerkleError):
        covering_subtrees(2, 6)  # not a node: 2 is not aligned to 4
    with pytest.raises(MerkleError):
        covering_subtrees(3, 3)


def test_proofs_at_100_million_leaves_need_few_lookups() -> None:
    size = 100_000_000
    lookups: list[tuple[int, int]] = []

    def subtree_root(start: int, end: int) -> bytes:
        lookups.append((start, end))
        return merkle.node_hash(start.to_bytes(16, "big"), end.to_bytes(16, "big"))  # any 32 bytes will do

    proof = merkle.inclusion_proof(size - 1, size, subtree_root)
    assert len(proof) == len(inclusion_path(size - 1, size)) <= 27
    assert len(lookups) == len(set(lookups)) <= 2 * 27
    lookups.clear()
    merkle.consistency_proof(size // 3, size, subtree_root)
    assert len(lookups) <= 2 * 27


def test_frontier_nodes_stored_in_a_table_serve_the_same_proofs() -> None:
    table: dict[tuple[int, int], bytes] = {}  # (level, index) -> hash, as a database table would hold them
    frontier, tree = Frontier(), MerkleTree()
    for i in range(37):
        h = leaf_hash(i.to_bytes(4, "big"))
        nodes = frontier.append(h)
        assert nodes == tree.append(h)
        table.update({(n.level, n.index): n.hash for n in nodes})
        assert frontier.root() == tree.root()

    def from_table(start: int, end: int) -> bytes:
        level = (end - start).bit_length() - 1
        return table[level, start >> level]

    for size in (1, 2, 5, 16, 37):
        assert merkle.root_hash(size, from_table) == tree.root(size)
        for index in range(size):
            assert merkle.inclusion_proof(index, size, from_table) == tree.inclusion_proof(index, size)
        for old in range(1, size + 1):
            assert merkle.consistency_proof(old, size, from_table) == tree.consistency_proof(old, size)
    resumed = Frontier.from_subtrees(37, from_table)
    assert resumed.roots == frontier.roots and resumed.root() == tree.root()


def test_bad_arguments_are_named() -> None:
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(4))
    with pytest.raises(MerkleError, match="leaf index 4 is not below tree size 4"):
        tree.inclusion_proof(4)
    with pytest.raises(MerkleError, match="first tree size 3 is larger"):
        tree.consistency_proof(3, 2)
    with pytest.raises(MerkleError, match="beyond"):
        tree.root(5)
    with pytest.raises(MerkleError, match="32 bytes"):
        tree.append(b"short")
    with pytest.raises(MerkleError, match="not a complete subtree"):
        tree.subtree_root(0, 3)
    with pytest.raises(InvalidProofError, match="must be 32 bytes"):
        verify_inclusion(leaf_hash(b"\x00"), 0, 4, [b""], tree.root())


def test_two_empty_trees_are_consistent_only_with_the_empty_root() -> None:
    # RFC 9162: trees of equal sizes have an empty proof and equal roots, and MTH({}) is SHA-256 of nothing.
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    wrong = leaf_hash(b"not the empty tree")
    for root1, root2 in ((EMPTY_ROOT, wrong), (wrong, EMPTY_ROOT), (wrong, wrong)):
        with pytest.raises(InvalidProofError):
            verify_consistency(0, 0, root1, root2, [])
    with pytest.raises(InvalidProofError, match="must be empty"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])


def test_equal_sizes_need_equal_roots() -> None:
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(3))
    verify_consistency(3, 3, tree.root(), tree.root(), [])
    with pytest.raises(InvalidProofError, match="roots of two trees of size 3 differ"):
        verify_consistency(3, 3, tree.root(), tree.root(2), [])


def test_no_consistency_proof_starts_from_the_empty_tree() -> None:
    # RFC 9162 §2.1.4 defines PROOF(first, D[second]) for 0 < first <= second only; transparency-dev/merkle
    # refuses first = 0 ("meaningless"). An empty proof from 0 used to pass whatever the second root.
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(3))
    for root2 in (tree.root(), leaf_hash(b"any root at all")):
        with pytest.raises(InvalidProofError, match="from the empty tree"):
            verify_consistency(0, 3, EMPTY_ROOT, root2, [])
    with pytest.raises(MerkleError, match="from the empty tree"):
        consistency_path(0, 3)
    with pytest.raises(MerkleError, match="from the empty tree"):
        tree.consistency_proof(0)


def test_a_second_tree_smaller_than_the_first_is_refused() -> None:
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(4))
    for size1, size2 in ((4, 3), (1, 0)):
        with pytest.raises(InvalidProofError, match=f"second tree size {size2} is smaller"):
            verify_consistency(size1, size2, tree.root(size1), tree.root(size2), [])


# --- properties -----------------------------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=70)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[MerkleTree, int, int]:
    size = draw(sizes)
    tree = MerkleTree(leaf_hash(i.to_bytes(2, "big")) for i in range(size))
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return tree, index, size


@st.composite
def tree_and_sizes(draw: st.DrawFn) -> tuple[MerkleTree, int, int]:
    size2 = draw(sizes)
    tree = MerkleTree(leaf_hash(i.to_bytes(2, "big")) for i in range(size2))
    size1 = draw(st.integers(min_value=1, max_value=size2))
    return tree, size1, size2


def _flip(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    tampered = list(proof)
    h = bytearray(tampered[position])
    h[bit // 8] ^= 1 << (bit % 8)
    tampered[position] = bytes(h)
    return tampered


@given(tree_and_index())
def test_every_inclusion_proof_verifies(case: tuple[MerkleTree, int, int]) -> None:
    tree, index, size = case
    proof = tree.inclusion_proof(index)
    verify_inclusion(tree.subtree_root(index, index + 1), index, size, proof, tree.root())
    assert merkle_root(tree.subtree_root(i, i + 1) for i in range(size)) == tree.root()


@given(tree_and_index(), st.data())
def test_a_tampered_inclusion_proof_fails(case: tuple[MerkleTree, int, int], data: st.DataObject) -> None:
    tree, index, size = case
    leaf, proof, root = tree.subtree_root(index, index + 1), tree.inclusion_proof(index), tree.root()
    how = data.draw(st.sampled_from(["leaf", "root", "index", "extra", "bit", "drop"] if proof else ["leaf", "root"]))
    bit = data.draw(st.integers(0, 255))
    if how == "leaf":
        leaf = _flip([leaf], 0, bit)[0]
    elif how == "root":
        root = _flip([root], 0, bit)[0]
    elif how == "index":
        index = data.draw(st.integers(0, size).filter(lambda i: i != index))
    elif how == "extra":
        proof = [*proof, root]
    elif how == "bit":
        proof = _flip(proof, data.draw(st.integers(0, len(proof) - 1)), bit)
    elif how == "drop":
        proof = proof[:-1]
    with pytest.raises(InvalidProofError):
        verify_inclusion(leaf, index, size, proof, root)


def test_inclusion_proofs_bind_the_size_only_through_the_root() -> None:
    # RFC 9162 verification takes (size, root) as one trusted claim, as a signed checkpoint gives it:
    # leaf 0's proof in the 5-leaf tree also "verifies" against the 5-leaf root when told size 6.
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(6))
    proof = tree.inclusion_proof(0, 5)
    verify_inclusion(tree.subtree_root(0, 1), 0, 6, proof, tree.root(5))
    with pytest.raises(InvalidProofError):
        verify_inclusion(tree.subtree_root(0, 1), 0, 6, proof, tree.root(6))


@given(tree_and_sizes())
def test_every_consistency_proof_verifies(case: tuple[MerkleTree, int, int]) -> None:
    tree, size1, size2 = case
    verify_consistency(size1, size2, tree.root(size1), tree.root(size2), tree.consistency_proof(size1, size2))


@given(tree_and_sizes(), st.data())
def test_a_tampered_consistency_proof_fails(case: tuple[MerkleTree, int, int], data: st.DataObject) -> None:
    tree, size1, size2 = case
    root1, root2, proof = tree.root(size1), tree.root(size2), tree.consistency_proof(size1, size2)
    bit = data.draw(st.integers(0, 255))
    tampering = ["root1", "root2", "extra"] + (["bit", "drop"] if proof else [])
    how = data.draw(st.sampled_from(tampering))
    if how == "root1":
        root1 = _flip([root1], 0, bit)[0]
    elif how == "root2":
        root2 = _flip([root2], 0, bit)[0]
    elif how == "extra":
        proof = [*proof, root2]
    elif how == "bit":
        proof = _flip(proof, data.draw(st.integers(0, len(proof) - 1)), bit)
    elif how == "drop":
        proof = proof[:-1]
    with pytest.raises(InvalidProofError):
        verify_consistency(size1, size2, root1, root2, proof)
