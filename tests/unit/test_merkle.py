"""The Merkle tree of the audit seals hashes and proves exactly as RFC 9162 (and RFC 6962)
say, checked byte for byte against the reference vectors transparency-dev/merkle tests
itself with, and for random trees: every proof made verifies, and no altered one does."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.audit.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    roots,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

# Vectors from github.com/transparency-dev/merkle: the leaf inputs, node hashes and roots
# of testonly/constants.go (LeafInputs, NodeHashes, RootHashes), and the proofs of
# proof/verify_test.go (inclusionProofs, consistencyProofs; commit 022f84c, since moved
# to testdata/{inclusion,consistency}/*/happy-path.json). They are the RFC 6962 test
# vectors of google/certificate-transparency's merkle_tree_test.
LEAF_INPUTS = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
LEAF_HASHES = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
    h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
    h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
    h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
    h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
    h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
]
LEVEL_1 = [
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
]
LEVEL_2 = [
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
]
EMPTY_ROOT = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
ROOTS = [  # by tree size, 0 to 8
    EMPTY_ROOT,
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf index, tree size, proof); verify_test.go counts leaves from 1, these from 0.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
# (old size, new size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]
# verify_test.go's sha256SomeHash: a well-formed hash of nothing in these trees.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_leaf_and_node_hashes_match_the_vectors() -> None:
    assert [leaf_hash(d) for d in LEAF_INPUTS] == LEAF_HASHES
    assert [node_hash(LEAF_HASHES[i], LEAF_HASHES[i + 1]) for i in range(0, 8, 2)] == LEVEL_1
    assert [node_hash(LEVEL_1[i], LEVEL_1[i + 1]) for i in range(0, 4, 2)] == LEVEL_2
    assert node_hash(*LEVEL_2) == ROOTS[8]


def test_the_roots_of_the_trees_of_0_to_8_leaves_match_the_vectors() -> None:
    assert [root(LEAF_HASHES[:n]) for n in range(9)] == ROOTS
    assert root([]) == hashlib.sha256(b"").digest()


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors_and_verify(
    index: int, size: int, proof: list[bytes]
) -> None:
    assert inclusion_proof(LEAF_HASHES[:size], index) == proof
    assert verify_inclusion(index, size, LEAF_HASHES[index], proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors_and_verify(
    old: int, new: int, proof: list[bytes]
) -> None:
    assert consistency_proof(LEAF_HASHES[:new], old) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION[1:])
def test_no_corruption_of_a_known_inclusion_proof_verifies(
    index: int, size: int, proof: list[bytes]
) -> None:
    """The probes of verify_test.go's corruptInclusionProof."""
    leaf, good = LEAF_HASHES[index], ROOTS[size]
    probes = [
        (index - 1, size, leaf, proof, good),
        (index + 1, size, leaf, proof, good),
        (index ^ 2, size, leaf, proof, good),
        (index, size * 2, leaf, proof, good),
        (index, size // 2, leaf, proof, good),
        (index, size, b"WrongLeaf", proof, good),
        (index, size, SOME_HASH, proof, good),
        (index, size, leaf, proof, EMPTY_ROOT),
        (index, size, leaf, proof, SOME_HASH),
        (index, size, leaf, [*proof, b""], good),
        (index, size, leaf, [*proof, good], good),
        (index, size, leaf, [b"", *proof], good),
        (index, size, leaf, [good, *proof], good),
        (index, size, leaf, proof[:-1], good),
        (index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], good),
        *[(index, size, leaf, _flip(proof, i, 0), good) for i in range(len(proof))],
    ]
    assert [p[:2] for p in probes if verify_inclusion(*p)] == []


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY[1:])
def test_no_corruption_of_a_known_consistency_proof_verifies(
    old: int, new: int, proof: list[bytes]
) -> None:
    """The probes of verify_test.go's corruptConsistencyProof."""
    r1, r2 = ROOTS[old], ROOTS[new]
    probes = [
        (old - 1, new, r1, r2, proof),
        (old + 1, new, r1, r2, proof),
        (old ^ 2, new, r1, r2, proof),
        (old, new * 2, r1, r2, proof),
        (old, new // 2, r1, r2, proof),
        (old, new, b"WrongRoot", r2, proof),
        (old, new, r1, b"WrongRoot", proof),
        (old, new, r2, r1, proof),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*proof, b""]),
        (old, new, r1, r2, [*proof, r1]),
        (old, new, r1, r2, [*proof, r2]),
        (old, new, r1, r2, [b"", *proof]),
        (old, new, r1, r2, [r1, *proof]),
        (old, new, r1, r2, [r2, *proof]),
        (old, new, r1, r2, [proof[0], *proof]),
        (old, new, r1, r2, proof[:-1]),
        *[(old, new, r1, r2, _flip(proof, i, 0)) for i in range(len(proof))],
    ]
    assert [p[:2] for p in probes if verify_consistency(*p)] == []


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root", "proof", "holds"),
    [
        # testdata/consistency/additional/*.json of transparency-dev/merkle, except that
        # a proof from the empty tree holds when empty, as c2sp.org/tlog-witness has it
        # (the Go library refuses any proof from size 0 as meaningless).
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, ROOTS[1], [], True),
        (0, 8, EMPTY_ROOT, ROOTS[8], [], True),
        (1, 1, ROOTS[1], ROOTS[1], [], True),
        (1, 1, ROOTS[1], ROOTS[2], [], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 0, ROOTS[1], EMPTY_ROOT, [], False),
        (2, 1, ROOTS[2], ROOTS[1], [], False),
        (1, 2, ROOTS[1], ROOTS[2], [], False),
        (8, 8, ROOTS[8], ROOTS[8], [], True),
    ],
)
def test_the_edge_cases_of_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes], holds: bool
) -> None:
    assert verify_consistency(old, new, old_root, new_root, proof) is holds


def test_a_single_leaf_tree_is_its_leaf() -> None:
    """verify_test.go's TestVerifyInclusionSingleEntry."""
    leaf = leaf_hash(b"data")
    assert verify_inclusion(0, 1, leaf, [], leaf)
    assert not verify_inclusion(0, 1, b"", [], leaf)
    assert not verify_inclusion(0, 1, leaf, [], b"")
    assert not verify_inclusion(0, 1, b"", [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (-1, 1), (0, -1)])
def test_an_index_outside_the_tree_is_never_included(index: int, size: int) -> None:
    assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)
    assert not verify_inclusion(index, size, SOME_HASH, [], SOME_HASH)


def test_proofs_are_asked_only_of_the_tree_they_are_made_from() -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(LEAF_HASHES, 8)
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match="outside"):
        consistency_proof(LEAF_HASHES, 9)
    assert consistency_proof(LEAF_HASHES, 0) == []
    assert consistency_proof(LEAF_HASHES, 8) == []


def test_a_large_tree_is_hashed_and_proved_quickly_enough() -> None:
    """1e5 leaves (centuries of daily seals) in linear work: nothing quadratic."""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    top = root(leaves)
    proof = inclusion_proof(leaves, 77_777)
    assert verify_inclusion(77_777, 100_000, leaves[77_777], proof, top)
    step = consistency_proof(leaves, 65_537)
    assert verify_consistency(65_537, 100_000, root(leaves[:65_537]), top, step)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=12))
def test_the_roots_of_many_sizes_in_one_pass_equal_each_tree_s_root(sizes: list[int]) -> None:
    """verify holds every anchored checkpoint to the seals with one pass (merkle.roots)."""
    leaves = ALL[:300]
    assert roots(leaves, sizes) == {n: root(leaves[:n]) for n in sizes}


def test_the_roots_of_the_vector_trees_in_one_pass() -> None:
    assert roots(LEAF_HASHES, range(9)) == dict(enumerate(ROOTS))


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(b"seal %d" % i) for i in range(n)]


MAX = 300
ALL = _leaves(MAX + 1)


def _flip(proof: list[bytes], element: int, byte: int) -> list[bytes]:
    changed = list(proof)
    value = bytearray(changed[element])
    value[byte] ^= 0x10
    changed[element] = bytes(value)
    return changed


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_inclusion_proof_verifies_and_no_altered_one(case: tuple[int, int]) -> None:
    size, index = case
    leaves, top = ALL[:size], root(ALL[:size])
    proof = inclusion_proof(leaves, index)
    assert verify_inclusion(index, size, leaves[index], proof, top)
    for element in range(len(proof)):
        for byte in (0, 17, 31):
            altered = _flip(proof, element, byte)
            assert not verify_inclusion(index, size, leaves[index], altered, top)
    assert not verify_inclusion(index, size, leaves[index], proof, _flip([top], 0, 5)[0])
    assert not verify_inclusion(index, size, _flip([leaves[index]], 0, 9)[0], proof, top)
    for other in {size - 1, size + 1, size * 2, size // 2} - {size}:
        # A size comes with its root (both from one checkpoint): the proof holds for
        # neither a tree of another size, nor for this root under another size unless the
        # proof has the same length (the size only fixes the proof's shape).
        if index < other <= MAX + 1:
            assert not verify_inclusion(index, other, leaves[index], proof, root(ALL[:other]))
        if index < other and len(proof) != _inclusion_length(index, other):
            assert not verify_inclusion(index, other, leaves[index], proof, top)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_every_consistency_proof_verifies_and_no_altered_one(case: tuple[int, int]) -> None:
    old, new = case
    old_root, new_root = root(ALL[:old]), root(ALL[:new])
    proof = consistency_proof(ALL[:new], old)
    assert verify_consistency(old, new, old_root, new_root, proof)
    for element in range(len(proof)):
        for byte in (0, 17, 31):
            altered = _flip(proof, element, byte)
            assert not verify_consistency(old, new, old_root, new_root, altered)
    if old == new:
        assert not verify_consistency(old, new, old_root, new_root, [new_root])
        return
    assert not verify_consistency(old, new, _flip([old_root], 0, 3)[0], new_root, proof)
    assert not verify_consistency(old, new, old_root, _flip([new_root], 0, 3)[0], proof)
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    for other in {old - 1, old + 1} - {0, new}:
        assert not verify_consistency(other, new, root(ALL[:other]), new_root, proof)
    for other in {new - 1, new + 1, new * 2} - {old}:
        if old <= other <= MAX + 1:
            assert not verify_consistency(old, other, old_root, root(ALL[:other]), proof)


def _inclusion_length(index: int, size: int) -> int:
    """The length of PATH(index, D[size]), counted by RFC 9162 section 2.1.3.1's recursion."""
    length = 0
    while size > 1:
        k = 1 << ((size - 1).bit_length() - 1)
        index, size = (index, k) if index < k else (index - k, size - k)
        length += 1
    return length
