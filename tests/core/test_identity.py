"""One artifact identity: every place that names a model computes and compares the same digest,
and a folder with no files is bad input everywhere (exit 2, one line)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.errors import InputError
from mlwarden.core.identity import (
    EMPTY_MESSAGE,
    artifact_digest,
    listing_digest,
    same_artifact,
)
from mlwarden.registry.manifest import build
from mlwarden.sign.manifest import hash_model, model_digest

from ..conftest import CliRun


def _registry_digest(path: Path) -> str:
    from mlwarden.core.digest import sha256_file

    return build(path, lambda p: (sha256_file(p), p.stat().st_size)).digest


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def test_file_folder_sign_and_registry_agree(tmp_path: Path) -> None:
    single = tmp_path / "model.bin"
    single.write_bytes(b"weights")
    folder = _tree(tmp_path / "m", {"a.bin": b"1", "sub/b.json": b"{}", "z": b"",
                                   ".gitattributes": b"x", "model.sig": b"{}"})
    for path in (single, folder):
        digest = artifact_digest(path)
        assert digest == model_digest(path) == hash_model(path).model_digest()
        assert same_artifact(digest, _registry_digest(path))


_NAMES = st.text(st.characters(codec="utf-8", exclude_characters="/\\\0", exclude_categories=("Cs",)),
                 min_size=1, max_size=12).filter(lambda n: n not in (".", "..")
                                                  and not n.startswith(".git")
                                                  and n != "model.sig")


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(_NAMES, st.binary(max_size=64), min_size=1, max_size=5))
def test_the_two_manifests_never_disagree(tmp_path_factory: pytest.TempPathFactory,
                                          files: dict[str, bytes]) -> None:
    root = tmp_path_factory.mktemp("m")
    try:
        _tree(root, files)
    except OSError:  # a name this file system refuses
        return
    assert artifact_digest(root) == _registry_digest(root) == model_digest(root)


def test_the_listing_binds_names_and_bytes() -> None:
    base = listing_digest([("a", "sha256", "00" * 32), ("b", "sha256", "11" * 32)])
    assert base == listing_digest([("b", "sha256", "11" * 32), ("a", "sha256", "00" * 32)])
    assert base != listing_digest([("a", "sha256", "11" * 32), ("b", "sha256", "00" * 32)])
    assert base != listing_digest([("a", "sha256", "00" * 32), ("c", "sha256", "11" * 32)])


def test_same_artifact_compares_only_well_formed_digests() -> None:
    d = "sha256:" + "ab" * 32
    assert same_artifact(d, d)
    assert not same_artifact(d, "sha256:" + "cd" * 32)
    assert not same_artifact("", "")  # two missing digests never name the same artifact
    assert not same_artifact("sha256:AB", "sha256:AB")


@pytest.mark.parametrize("build_empty", [
    lambda p: p,
    lambda p: (p / "sub" / "deeper").mkdir(parents=True) or p,
    lambda p: (p / ".git").mkdir() or ((p / ".git" / "HEAD").write_text("x") and p),
    lambda p: (p / "model.sig").write_text("{}") and p,
], ids=["empty", "only-folders", "only-git", "only-signature"])
def test_a_folder_without_files_has_no_identity(tmp_path: Path, build_empty: object) -> None:
    root = tmp_path / "model"
    root.mkdir()
    build_empty(root)  # type: ignore[operator]
    for fn in (artifact_digest, model_digest, hash_model, _registry_digest):
        with pytest.raises(InputError, match="holds no files"):
            fn(root)  # type: ignore[operator]


def test_an_empty_folder_is_bad_input_for_every_command(cli: CliRun, tmp_path: Path) -> None:
    from mlwarden.sign.keys import generate_private_key, private_pem

    (tmp_path / "empty").mkdir()
    key = tmp_path / "release.pem"
    key.write_bytes(private_pem(generate_private_key("P-256"), None))
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: t\ngate:\n  scan: true\n")
    env = {"MLWARDEN_HOME": str(tmp_path / "home")}
    token = cli("registry", "init", "--admin", "ada", "--allow-insecure-key", env=env,
                check=True).stdout.strip()
    env["MLWARDEN_TOKEN"] = token
    for args in (("digest", "empty"), ("sign", "empty", "--key", str(key)),
                 ("registry", "push", "empty", "--name", "m"),
                 ("gate", "empty", "--policy", str(policy))):
        proc = cli(*args, env={**os.environ, **env})
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and EMPTY_MESSAGE in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "empty" / "model.sig").exists()
