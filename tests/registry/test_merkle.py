"""The Merkle tree against RFC 6962's definition and the Certificate Transparency test vectors."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.registry.merkle import EMPTY_ROOT, Frontier, mth

# certificate-transparency merkle_tree_test: the leaves and the roots of each prefix.
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
             bytes(range(0x50, 0x58)), bytes(range(0x60, 0x70))]
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def test_ct_vectors() -> None:
    assert Frontier().root() == EMPTY_ROOT
    frontier = Frontier()
    for n, leaf in enumerate(CT_LEAVES, start=1):
        frontier.append(leaf)
        assert frontier.root().hex() == CT_ROOTS[n], n
        assert mth(CT_LEAVES[:n]).hex() == CT_ROOTS[n], n


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), max_size=70))
def test_frontier_equals_the_recursive_definition(leaves: list[bytes]) -> None:
    frontier = Frontier.of(leaves)
    assert frontier.root() == mth(leaves)
    again = Frontier.from_text(frontier.size, frontier.to_text())
    assert again.root() == frontier.root()
