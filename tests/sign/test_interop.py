# mypy: disable-error-code="no-untyped-call"
"""Interoperability with the reference implementation (``model_signing`` 1.1.x), both ways.

The model used has ``tokenizer/`` beside ``tokenizer.json``, where the OMS code-point order and
``model_signing``'s path-component order differ.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import model_signing
import pytest

from mlwarden.sign.keys import EcdsaSigner, load_private_key
from mlwarden.sign.manifest import hash_model
from mlwarden.sign.pki import load_certificates
from mlwarden.sign.signing import CertificateMaterial, KeyMaterial, sign_model
from mlwarden.sign.trust import Trust
from mlwarden.sign.verify import ModelMismatchError, verify_model
from tests.sign.conftest import MODEL_SIGNING_CLI, KeyFiles, Pki

pytestmark = pytest.mark.skipif(not MODEL_SIGNING_CLI.exists(), reason="model_signing CLI")


def statement_of(sig: Path) -> dict:  # type: ignore[type-arg]
    bundle = json.loads(sig.read_text())
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))  # type: ignore[no-any-return]


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODEL_SIGNING_CLI), *map(str, args)], capture_output=True,
                          text=True, timeout=120, check=False)


def ms_key_verifier(public: Path) -> model_signing.verifying.Config:
    return model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public)


def test_orderings_differ_on_this_model(model: Path) -> None:
    ours = [r.name for r in hash_model(model).canonical()]
    theirs = [rd.identifier for rd in model_signing.hashing.hash(model).resource_descriptors()]
    assert ours.index("tokenizer.json") < ours.index("tokenizer/vocab.txt")
    assert theirs.index("tokenizer/vocab.txt") < theirs.index("tokenizer.json")


def test_mlwarden_signature_verifies_with_model_signing_api_and_cli(
        model: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    sig = model / "model.sig"
    ms_key_verifier(key.public).verify(model, sig)
    done = cli("verify", "key", model, "--signature", sig, "--public_key", key.public)
    assert done.returncode == 0, done.stderr
    assert "Verification succeeded" in done.stdout
    # ... and the reference also notices tampering with our signature's model.
    (model / "config.json").write_bytes(b"{}")
    done = cli("verify", "key", model, "--signature", sig, "--public_key", key.public)
    assert done.returncode == 1 and "config.json" in done.stderr


def test_mlwarden_single_file_signature_verifies_with_model_signing_cli(
        tmp_path: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys("k384", "P-384")
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + bytes(100))
    result = sign_model(path, KeyMaterial(EcdsaSigner(key.key)))
    done = cli("verify", "key", path, "--signature", result.signature, "--public_key", key.public)
    assert done.returncode == 0, done.stderr


def test_model_signing_api_signature_verifies_with_mlwarden(
        model: Path, keys: Callable[..., KeyFiles], tmp_path: Path) -> None:
    key = keys()
    sig = tmp_path / "ms.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=key.private).sign(model, sig)
    theirs = statement_of(sig)
    result = verify_model(model, sig, Trust.from_public_keys([key.public]))
    # Same files, same model digest; the OMS subject differs only by resource order.
    assert result.model_digest == hash_model(model).model_digest()
    assert theirs["subject"][0]["digest"]["sha256"] != hash_model(model).root_digest()
    assert result.oms_root_digest == "sha256:" + theirs["subject"][0]["digest"]["sha256"]
    (model / "tokenizer.json").write_bytes(b"{}")
    with pytest.raises(ModelMismatchError, match=r"tokenizer\.json"):
        verify_model(model, sig, Trust.from_public_keys([key.public]))


def test_model_signing_cli_signature_verifies_with_mlwarden(
        model: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    sig = model / "model.sig"
    done = cli("sign", "key", model, "--signature", sig, "--private_key", key.private)
    assert done.returncode == 0, done.stderr
    # model_signing lists the in-model signature in ignore_paths; we honour it.
    assert "model.sig" in statement_of(sig)["predicate"]["serialization"]["ignore_paths"]
    verify_model(model, None, Trust.from_public_keys([key.public]))


def test_model_signing_sharded_float_shard_size_verifies_with_mlwarden(
        model: Path, keys: Callable[..., KeyFiles], tmp_path: Path) -> None:
    key = keys()
    sig = tmp_path / "sharded.sig"
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=key.private)
    config.set_hashing_config(model_signing.hashing.Config().use_shard_serialization(
        shard_size=1024))
    config.sign(model, sig)
    # The trap: the shard size is written as a float (via a protobuf Struct) ...
    assert statement_of(sig)["predicate"]["serialization"]["shard_size"] == 1024.0
    assert isinstance(statement_of(sig)["predicate"]["serialization"]["shard_size"], float)
    # ... which model_signing's own verifier cannot use,
    with pytest.raises(TypeError):
        ms_key_verifier(key.public).verify(model, sig)
    # while mlwarden accepts an integral float, and still checks every shard.
    trust = Trust.from_public_keys([key.public])
    result = verify_model(model, sig, trust)
    assert result.manifest.serialization.shard_size == 1024
    data = bytearray((model / "weights.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (model / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelMismatchError, match=r"weights\.safetensors:3072:4096"):
        verify_model(model, sig, trust)


def test_model_signing_blake2_signature_verifies_with_mlwarden(
        model: Path, keys: Callable[..., KeyFiles], tmp_path: Path) -> None:
    key = keys()
    sig = tmp_path / "b2.sig"
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=key.private)
    config.set_hashing_config(model_signing.hashing.Config().use_file_serialization(
        hashing_algorithm="blake2"))
    config.sign(model, sig)
    assert statement_of(sig)["predicate"]["serialization"]["hash_type"] == "blake2b"
    # The reference CLI ignores the recorded hash and compares against sha256: it fails.
    done = cli("verify", "key", model, "--signature", sig, "--public_key", key.public)
    assert done.returncode == 1
    verify_model(model, sig, Trust.from_public_keys([key.public]))


def test_pki_both_ways(model: Path, pki: Pki, tmp_path: Path) -> None:
    # mlwarden signs with a certificate chain; model_signing verifies it against the root.
    leaf_key = load_private_key(pki.leaf_key)
    material = CertificateMaterial(EcdsaSigner(leaf_key), tuple(load_certificates(pki.chain)))
    sign_model(model, material)
    ours = model / "model.sig"
    model_signing.verifying.Config().use_certificate_verifier(
        certificate_chain=[pki.root]).verify(model, ours)
    done = cli("verify", "certificate", model, "--signature", ours, "--certificate_chain",
               pki.root)
    assert done.returncode == 0, done.stderr
    # model_signing signs with a certificate; mlwarden verifies chain, identity and files.
    theirs = tmp_path / "ms-pki.sig"
    model_signing.signing.Config().use_certificate_signer(
        private_key=pki.leaf_key, signing_certificate=pki.leaf,
        certificate_chain=[pki.intermediate]).sign(model, theirs)
    result = verify_model(model, theirs, Trust.from_roots([pki.root], pki.subject))
    assert result.identity.method == "pki"
    assert result.identity.subject == pki.subject
    assert "release@example.com" in result.identity.sans


def test_sign_extra_declares_pyopenssl() -> None:
    # model-signing 1.1.1 imports OpenSSL for certificate verification without depending on it.
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    sign_line = next(line for line in pyproject.splitlines() if line.startswith("sign ="))
    assert "pyopenssl" in sign_line.lower()


def test_mlwarden_sharded_signature_follows_the_spec_not_model_signing(
        model: Path, keys: Callable[..., KeyFiles]) -> None:
    """Disagreement (kept as a regression case): OMS gives a shard the plain hash name.

    The spec (section 6.3.2) and its predicate schema say a shard's ``algorithm`` is the
    ``hash_type`` (``sha256``); model_signing 1.1.1 (and the Go client) write and compare
    ``sha256-sharded-<size>``. mlwarden writes what the spec says, so model_signing's verifier
    rejects mlwarden's shard signatures (its own are rejected by its own verifier too, see the
    float ``shard_size`` test above); mlwarden reads both spellings.
    """
    from mlwarden.sign.manifest import Serialization

    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)),
               serialization=Serialization("shards", shard_size=1024))
    sig = model / "model.sig"
    statement = statement_of(sig)
    shard_size = statement["predicate"]["serialization"]["shard_size"]
    assert shard_size == 1024 and isinstance(shard_size, int)  # an integer, unlike the reference
    assert {r["algorithm"] for r in statement["predicate"]["resources"]} == {"sha256"}
    with pytest.raises(ValueError, match="sha256-sharded-1024"):
        ms_key_verifier(key.public).verify(model, sig)
    verify_model(model, None, Trust.from_public_keys([key.public]))


def test_model_signing_shard_signature_is_outside_the_oms_schema(
        model: Path, keys: Callable[..., KeyFiles], tmp_path: Path) -> None:
    """Disagreement: the reference's shard algorithm name is not in the schema's enum."""
    from tests.sign.oms_schema import schema_errors

    key = keys()
    sig = tmp_path / "sharded.sig"
    config = model_signing.signing.Config().use_elliptic_key_signer(private_key=key.private)
    config.set_hashing_config(model_signing.hashing.Config().use_shard_serialization(
        shard_size=1024))
    config.sign(model, sig)
    errors = schema_errors(sig.read_bytes())
    assert errors and all("sha256-sharded-1024" in e for e in errors), errors
