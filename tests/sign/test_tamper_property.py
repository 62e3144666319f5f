"""Sign a random tree, change one thing, verify: it must fail and name exactly that thing.

In the spirit of model-transparency's ``fuzz_sign_then_mutate_verify_with_valid_key``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlwarden.sign.keys import EcdsaSigner, generate_private_key
from mlwarden.sign.signing import KeyMaterial, sign_model
from mlwarden.sign.trust import Trust, TrustedKey
from mlwarden.sign.verify import ModelMismatchError, verify_model

KEY = generate_private_key("P-256")

segment = st.text(alphabet="abcXYZ019._-", min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and not s.startswith(".git") and s != "model.sig")
rel_path = st.lists(segment, min_size=1, max_size=3).map("/".join)
trees = st.dictionaries(rel_path, st.binary(min_size=0, max_size=64), min_size=1, max_size=6)


def _trust() -> Trust:
    from mlwarden.sign.trust import AllOf, AnyOf, KeyIs

    key = TrustedKey("k", KEY.public_key())
    return Trust(policy=AnyOf((AllOf((KeyIs(key.keyid),), name="k"),)), keys=(key,))


def _write(root: Path, tree: dict[str, bytes]) -> dict[str, bytes]:
    """Write the tree, dropping paths that collide with a file used as a directory."""
    written: dict[str, bytes] = {}
    for name in sorted(tree, key=len):
        parts = name.split("/")
        if any("/".join(parts[:i]) in written for i in range(1, len(parts))):
            continue
        if any(other.startswith(name + "/") for other in written):
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tree[name])
        written[name] = tree[name]
    return written


mutations = st.sampled_from(["modify", "truncate", "append", "delete", "add", "rename"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees, mutation=mutations, pick=st.integers(0, 100), data=st.binary(min_size=1,
                                                                                 max_size=8))
def test_sign_mutate_verify_names_the_change(tree: dict[str, bytes], mutation: str, pick: int,
                                             data: bytes) -> None:
    root = Path(tempfile.mkdtemp(prefix="mw-prop-"))
    try:
        model = root / "m"
        model.mkdir()
        files = _write(model, tree)
        sign_model(model, KeyMaterial(EcdsaSigner(KEY)))
        trust = _trust()
        verify_model(model, None, trust)
        names = sorted(files)
        target = names[pick % len(names)]
        path = model / target
        expected: set[tuple[str, str]]
        if mutation == "modify":
            original = files[target]
            changed = bytes([original[0] ^ 1]) + original[1:] if original else data
            path.write_bytes(changed)
            kind = "modified" if len(changed) == len(original) else "grown"
            expected = {(kind, target)}
        elif mutation == "truncate":
            if not files[target]:
                return
            path.write_bytes(files[target][:-1])
            expected = {("truncated", target)}
        elif mutation == "append":
            path.write_bytes(files[target] + data)
            expected = {("grown", target)}
        elif mutation == "delete":
            path.unlink()
            expected = {("missing", target)}
        elif mutation == "add":
            new = f"{target.replace('/', '_')}.added"
            if new in files or (model / new).exists():
                return
            (model / new).write_bytes(data)
            expected = {("added", new)}
        else:
            new = f"{target.replace('/', '_')}.moved"
            if (model / new).exists():
                return
            path.rename(model / new)
            same_content = [n for n in names if n != target and files[n] == files[target]]
            expected = {("renamed", target)} if not same_content else set()
        with pytest.raises(ModelMismatchError) as info:
            verify_model(model, None, trust)
        got = {(p.kind, p.path) for p in info.value.problems}
        if expected:
            assert got == expected, info.value.message
        assert target in info.value.message or any(p.path in info.value.message for p in
                                                   info.value.problems)
    finally:
        shutil.rmtree(root)
