"""Property tests for what the registry parses from outside: manifests, tokens, URLs, references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.errors import ConfigError, UsageError, VerificationError
from mlwarden.registry import auth
from mlwarden.registry.config import normalise_db_url
from mlwarden.registry.manifest import MANIFEST_TYPE, Manifest, build
from mlwarden.registry.service import split_ref
from mlwarden.registry.store import ArtifactStore

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                         max_size=4),
                     max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | _json.map(lambda v: json.dumps(v).encode()))
def test_hostile_manifest_bytes_never_crash(data: bytes) -> None:
    try:
        manifest = Manifest.from_json(data)
    except VerificationError:
        return
    assert manifest.files and all(f.size >= 0 and len(f.digest) == 71 for f in manifest.files)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=4))
def test_manifest_paths_never_escape(paths: list[str]) -> None:
    doc = {"_type": MANIFEST_TYPE, "kind": "dir", "name": "m",
           "files": [{"path": p, "digest": "sha256:" + "0" * 64, "size": 1} for p in paths]}
    try:
        manifest = Manifest.from_json(json.dumps(doc).encode())
    except VerificationError:
        return
    for f in manifest.files:
        resolved = (Path("/base") / f.path).resolve()
        assert resolved.is_relative_to(Path("/base")) and resolved != Path("/base")


def test_manifest_round_trips(tmp_path: Path) -> None:
    (tmp_path / "m" / "sub").mkdir(parents=True)
    (tmp_path / "m" / "a.bin").write_bytes(b"a")
    (tmp_path / "m" / "sub" / "b.json").write_bytes(b"{}")
    store = ArtifactStore(str(tmp_path / "store"))
    manifest = build(tmp_path / "m", store.put_file)
    assert Manifest.from_json(manifest.to_json()) == manifest
    here = build(Path(str(tmp_path / "m" / "sub" / "..")), store.put_file)  # "m/sub/.." is "m"
    assert here.name == "m" and here.digest == manifest.digest
    assert Manifest.from_json(here.to_json()) == here
    for bad in ("../x", "/etc/passwd", "a/../../x", "a\\b", ""):
        doc = json.loads(manifest.to_json())
        doc["files"][0]["path"] = bad
        with pytest.raises(VerificationError, match="unsafe path"):
            Manifest.from_json(json.dumps(doc).encode())


@given(st.text(max_size=80))
def test_split_token_accepts_only_well_formed_tokens(text: str) -> None:
    parts = auth.split_token(text)
    if parts is not None:
        assert len(parts[0]) == 12 and len(parts[1]) == 43


def test_new_tokens_parse_and_check() -> None:
    tok = auth.new_token()
    parts = auth.split_token(tok.value)
    assert parts == (tok.token_id, parts[1]) if parts else False
    assert auth.check_secret(parts[1], tok.salt, tok.secret_hash)
    assert not auth.check_secret(parts[1][:-1] + "x", tok.salt, tok.secret_hash)
    assert not auth.check_secret(parts[1], None, None)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_db_urls_are_accepted_or_refused_with_a_config_error(url: str) -> None:
    try:
        out = normalise_db_url(url)
    except ConfigError:
        return
    assert out.startswith(("sqlite", "postgresql+psycopg"))


@given(st.text(max_size=40))
def test_references_parse_or_are_usage_errors(ref: str) -> None:
    try:
        name, version = split_ref(ref)
    except UsageError:
        return
    assert not {"", ".", ".."} & set(name.split("/"))
    assert not name.startswith(("/", "."))
    assert version is None or "@" not in version


def test_fsspec_store_round_trip_and_tamper(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    import fsspec

    store = ArtifactStore("memory://mlwarden-test-store")
    assert not store.is_local
    src = tmp_path / "w.bin"
    src.write_bytes(b"weights" * 100)
    digest, size = store.put_file(src)
    assert size == 700 and store.exists(digest)
    store.copy_out(digest, tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
    fs = fsspec.filesystem("memory")
    with fs.open(store.object_path(digest), "wb") as handle:
        handle.write(b"tampered")
    with pytest.raises(VerificationError, match="tampered"):
        store.copy_out(digest, tmp_path / "out2.bin")
    assert not (tmp_path / "out2.bin").exists()
