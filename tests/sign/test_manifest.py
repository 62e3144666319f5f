"""The OMS manifest and the model digest: names, order, ignores, symlinks, hashing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.errors import InputError
from mlwarden.sign.manifest import (
    Resource,
    Serialization,
    check_resource_name,
    hash_file,
    hash_model,
    list_model_files,
    model_digest,
    split_shard,
)


def make_model(root: Path) -> Path:
    model = root / "model"
    (model / "tokenizer").mkdir(parents=True)
    (model / "tokenizer.json").write_bytes(b'{"vocab": 3}')
    (model / "tokenizer" / "merges.txt").write_bytes(b"a b\n")
    (model / "weights.bin").write_bytes(os.urandom(3000))
    return model


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_digests_use_code_point_order(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    files = {"tokenizer.json": b'{"vocab": 3}', "tokenizer/merges.txt": b"a b\n",
             "weights.bin": (model / "weights.bin").read_bytes()}
    # '.' (0x2E) sorts before '/' (0x2F): tokenizer.json comes before tokenizer/merges.txt.
    ordered = sorted(files)
    assert ordered[:2] == ["tokenizer.json", "tokenizer/merges.txt"]
    root = hashlib.sha256(b"".join(bytes.fromhex(sha(files[n])) for n in ordered)).hexdigest()
    assert hash_model(model).root_digest() == root
    listing = ",".join(f'{{"algorithm":"sha256","digest":"{sha(files[n])}","name":"{n}"}}'
                       for n in ordered)
    assert model_digest(model) == "sha256:" + sha(f"[{listing}]".encode())


def test_digest_ignores_git_paths_and_the_signature_but_not_other_files(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    before = model_digest(model)
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref")
    (model / ".gitattributes").write_text("*.bin lfs")
    (model / ".gitmodules").write_text("")
    (model / "model.sig").write_text("{}")
    assert model_digest(model) == before
    (model / "sub").mkdir()
    (model / "sub" / ".gitignore").write_text("x")  # only top-level git paths are ignored
    assert model_digest(model) != before


def test_digest_changes_with_content_and_name(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    before = model_digest(model)
    root = hash_model(model).root_digest()
    (model / "weights.bin").rename(model / "weights2.bin")
    renamed = model_digest(model)
    assert renamed != before
    # The OMS root digest does not bind names; the model digest does.
    assert hash_model(model).root_digest() == root
    (model / "weights2.bin").write_bytes(b"x")
    assert model_digest(model) not in (before, renamed)


def test_single_file_model_is_one_resource_named_dot(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"abc")
    manifest = hash_model(path)
    assert [r.name for r in manifest.resources] == ["."]
    assert manifest.model_name == "model.safetensors"
    assert manifest.root_digest() == hashlib.sha256(bytes.fromhex(sha(b"abc"))).hexdigest()
    assert model_digest(path).startswith("sha256:")


def test_symlinks_are_refused_by_default_and_must_stay_inside(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    (model / "link.bin").symlink_to(model / "weights.bin")
    with pytest.raises(InputError, match="symbolic link") as info:
        model_digest(model)
    assert info.value.path == str(model / "link.bin")
    files = list_model_files(model, allow_symlinks=True)
    assert files["link.bin"].size == 3000
    (tmp_path / "outside").write_text("secret")
    (model / "escape").symlink_to(tmp_path / "outside")
    with pytest.raises(InputError, match="outside the model"):
        list_model_files(model, allow_symlinks=True)


def test_missing_model_and_special_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        model_digest(tmp_path / "nope")
    model = make_model(tmp_path)
    os.mkfifo(model / "pipe")
    with pytest.raises(InputError, match="FIFO"):
        model_digest(model)


def test_sharded_hashing_covers_each_range(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    manifest = hash_model(model, serialization=Serialization("shards", shard_size=1024))
    data = (model / "weights.bin").read_bytes()
    shards = {r.name: r for r in manifest.resources if r.path == "weights.bin"}
    assert sorted(shards) == ["weights.bin:0:1024", "weights.bin:1024:2048",
                              "weights.bin:2048:3000"]
    assert shards["weights.bin:2048:3000"].digest == sha(data[2048:])
    assert shards["weights.bin:0:1024"].algorithm == "sha256-sharded-1024"


def test_blake2b_resources(tmp_path: Path) -> None:
    model = make_model(tmp_path)
    manifest = hash_model(model, serialization=Serialization(hash_type="blake2b"))
    digest = manifest.by_name["tokenizer.json"].digest
    assert digest == hashlib.blake2b(b'{"vocab": 3}').hexdigest()
    with pytest.raises(InputError, match="unsupported hash"):
        Serialization(hash_type="md5")


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/passwd", "", "a//b", "./a", "a/.",
                                  "a\x00b"])
def test_escaping_resource_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_resource_name(name)


def test_shard_names_split_from_the_right() -> None:
    assert split_shard("dir/a:b.bin:10:20") == ("dir/a:b.bin", 10, 20)
    with pytest.raises(InputError):
        split_shard("a:b")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=5000), st.integers(0, 5000), st.integers(0, 5000))
def test_hash_file_ranges_match_hashlib(tmp_path_factory: pytest.TempPathFactory, data: bytes,
                                        a: int, b: int) -> None:
    path = tmp_path_factory.mktemp("h") / "f"
    path.write_bytes(data)
    start, end = sorted((min(a, len(data)), min(b, len(data))))
    assert hash_file(path) == sha(data)
    if end > start:
        assert hash_file(path, start=start, end=end) == sha(data[start:end])


def test_resource_is_a_value() -> None:
    assert Resource("a", "sha256", "00").to_dict() == {"name": "a", "algorithm": "sha256",
                                                      "digest": "00"}
