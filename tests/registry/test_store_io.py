"""How the store moves bytes (no timings): hashed once while copied, one file-system sync per
push or pull instead of an fsync per file, and tampering still caught."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from mlwarden.gate import promotion
from mlwarden.registry import store as store_mod
from mlwarden.registry.store import ArtifactStore, copy_hashing, copy_local_hashing

from .conftest import Env
from .helpers import clean_model, policy_file


@pytest.mark.parametrize("size", [0, 1, store_mod.COPY_BUFFER - 1, store_mod.COPY_BUFFER,
                                  2 * store_mod.COPY_BUFFER + 7])
def test_copy_hashing_copies_and_hashes_the_same_bytes(size: int) -> None:
    data = os.urandom(size)
    out = io.BytesIO()
    digest, n = copy_hashing(io.BytesIO(data), out)
    assert out.getvalue() == data and n == size
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, store_mod.COPY_BUFFER + 3])
def test_kernel_copy_then_hash_names_the_bytes_written(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src"
    src.write_bytes(data)
    with open(src, "rb") as s, open(tmp_path / "dst", "w+b", buffering=0) as out:
        digest, n = copy_local_hashing(s, out)
    assert (tmp_path / "dst").read_bytes() == data and n == size
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    with open(tmp_path / "dst2", "w+b", buffering=0) as out:  # no file descriptor: the fallback
        assert copy_local_hashing(io.BytesIO(data), out) == (digest, size)


def test_push_and_pull_sync_once_and_never_fsync_per_file(env: Env, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    pubr, _ = env.user("pub", "publisher")
    lax = policy_file(tmp_path, "lax", gate="    scan: false\n")
    promotion.set_stage_policy(env.reg, env.admin, "staging", lax)
    model = tmp_path / "many"
    for i in range(40):
        clean_model(model / f"d{i % 4}" / f"f{i}.safetensors", f"w{i}".encode())
    calls = {"fsync": 0, "syncfs": 0}
    real_fsync, real_sync = os.fsync, store_mod.sync_filesystem

    def fsync(fd: int) -> None:
        calls["fsync"] += 1
        real_fsync(fd)

    def syncfs(path: str | Path) -> None:
        calls["syncfs"] += 1
        real_sync(path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(store_mod, "sync_filesystem", syncfs)
    info = env.reg.push(pubr, model, "m")
    assert calls == {"fsync": 0, "syncfs": 1}
    promotion.promote(env.reg, pubr, info.ref, "staging")
    calls.update(fsync=0, syncfs=0)
    out = promotion.pull(env.reg, pubr, info.ref, tmp_path / "out")
    assert calls == {"fsync": 0, "syncfs": 1}
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == \
        sorted(p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file())


def test_a_corrupted_object_is_replaced_on_the_next_push(tmp_path: Path) -> None:
    store = ArtifactStore(str(tmp_path / "store"))
    src = tmp_path / "a.bin"
    src.write_bytes(b"payload")
    digest, _ = store.put_file(src)
    obj = Path(store.object_path(digest))
    obj.chmod(0o644)
    obj.write_bytes(b"corrupt")
    assert store.put_file(src)[0] == digest
    assert obj.read_bytes() == b"payload"
