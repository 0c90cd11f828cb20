"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing with SHA-256, section 2.1:
the tree over the audit seals whose root a checkpoint commits to, and the proofs that a
seal is in it (inclusion, 2.1.3) and that a later tree extends an earlier one
(consistency, 2.1.4). The hashing is that of RFC 6962 section 2.1, so transparency-log
tooling (witnesses, verifiers) checks these roots and proofs unchanged.

Pure functions over lists of leaf hashes: the caller keeps the leaves (one per seal), and
a proof over n leaves costs O(n) hashing, which is fine for the sizes an installation
reaches (a seal a day is under 1e5 leaves in centuries).

The verifiers never raise on what a proof or its claimed sizes contain: anything
malformed (a hash of the wrong length, a proof too long or too short, sizes out of order)
simply does not verify."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
_EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d) (RFC 9162 section 2.1.1): the prefix keeps a leaf's
    hash apart from any interior node's (second-preimage resistance)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), an interior node (RFC 9162 section 2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes (RFC 9162 section 2.1.1); the empty tree's is
    SHA-256 of the empty string."""
    return _subtree(leaves, 0, len(leaves))


def roots(leaves: Sequence[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """MTH(D[n]) for each n of ``sizes`` (each at most ``len(leaves)``), in one pass over
    the leaves: the tree of n leaves is its perfect subtrees, largest first (n's binary
    digits), and its root folds them from the right."""
    wanted = set(sizes)
    found: dict[int, bytes] = {}
    if 0 in wanted:
        found[0] = root([])
    stack: list[tuple[int, bytes]] = []  # (leaf count, root) of the perfect subtrees
    for n, leaf in enumerate(leaves, start=1):
        count, node = 1, leaf
        while stack and stack[-1][0] == count:
            left = stack.pop()[1]
            count, node = count * 2, node_hash(left, node)
        stack.append((count, node))
        if n in wanted:
            folded = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                folded = node_hash(left, folded)
            found[n] = folded
    return found


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 section 2.1.3.1): the sibling hashes from leaf ``index`` up
    to the root, nearest first. ValueError if the index is not a leaf of the tree."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    proof: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            proof.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_subtree(leaves, lo, lo + k))
            lo, m = lo + k, m - k
    proof.reverse()
    return proof


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 section 2.1.4.1): the hashes
    that let whoever holds the root of the first ``old_size`` leaves compute the root of
    all of them. Empty when old_size is 0 (the empty tree is a prefix of every tree) or
    the whole tree; ValueError if old_size is larger than the tree."""
    size = len(leaves)
    if not 0 <= old_size <= size:
        raise ValueError(f"old size {old_size} is outside a tree of {size} leaves")
    if old_size in (0, size):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(_subtree(leaves, lo + k, hi))
            hi = lo + k
        else:
            proof.append(_subtree(leaves, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
        proof.append(_subtree(leaves, lo, hi))
    proof.reverse()
    return proof


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: whether ``proof`` shows the leaf hash ``leaf`` at
    ``index`` in the tree of ``size`` leaves whose root is ``root``."""
    if not (_is_size(index) and _is_size(size) and index < size):
        return False
    if not (_is_hash(leaf) and _is_hash(root) and all(_is_hash(p) for p in proof)):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: whether ``proof`` shows the tree of ``new_size`` leaves
    with root ``new_root`` extends the one of ``old_size`` leaves with root ``old_root``.

    Edge cases as c2sp.org/tlog-witness has them: from the empty tree (old_size 0) only an
    empty proof holds, as every tree extends it (its root is not consulted); between equal
    sizes only an empty proof and equal roots; never from a larger tree to a smaller one.
    """
    if not (_is_size(old_size) and _is_size(new_size)) or old_size > new_size:
        return False
    if not all(_is_hash(p) for p in proof):
        return False
    if old_size == 0:
        return not proof
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of 2: the old tree is a node of the new
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]), level by level: pairing neighbours and carrying an odd last node up
    unchanged builds exactly RFC 9162's left-full tree, without recursion."""
    if lo == hi:
        return _EMPTY_ROOT
    level = list(leaves[lo:hi])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE
