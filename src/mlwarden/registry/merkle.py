"""RFC 6962 / RFC 9162 Merkle tree hashing over the audit log's entries.

A leaf is ``SHA-256(0x00 || entry)``, an interior node ``SHA-256(0x01 || left || right)``, and the
tree over ``n`` leaves splits at the largest power of two below ``n`` (the Certificate Transparency
tree). :class:`Frontier` keeps only the roots of the perfect subtrees (at most log2(n) hashes), so
appending a leaf and computing the root of every prefix is cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of RFC 6962 section 2.1, by its recursive definition (the reference)."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


@dataclass
class Frontier:
    """The roots of the perfect subtrees of a tree (largest first) and its size."""

    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    def append_leaf_hash(self, leaf: bytes) -> None:
        node, size = leaf, self.size
        while size & 1:  # merge with the equal-sized subtrees to the left
            node = node_hash(self.peaks.pop(), node)
            size >>= 1
        self.peaks.append(node)
        self.size += 1

    def append(self, entry: bytes) -> None:
        self.append_leaf_hash(leaf_hash(entry))

    def root(self) -> bytes:
        if not self.peaks:
            return EMPTY_ROOT
        node = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            node = node_hash(peak, node)
        return node

    def to_text(self) -> str:
        return ",".join(p.hex() for p in self.peaks)

    @classmethod
    def from_text(cls, size: int, text: str) -> Frontier:
        peaks = [bytes.fromhex(p) for p in text.split(",") if p]
        if len(peaks) != bin(size).count("1") or any(len(p) != 32 for p in peaks):
            raise ValueError("frontier does not match the tree size")
        return cls(size, peaks)

    @classmethod
    def of(cls, entries: Iterable[bytes]) -> Frontier:
        f = cls()
        for e in entries:
            f.append(e)
        return f


def root_text(root: bytes) -> str:
    return "sha256:" + root.hex()
