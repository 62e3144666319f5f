"""Sign → verify, and every way verification must fail, with its own precise message."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlwarden.core.attestation import Statement, Subject
from mlwarden.core.errors import InputError, VerificationError
from mlwarden.sign import rules
from mlwarden.sign.bundle import Bundle, SignatureFileError, UnsignedError
from mlwarden.sign.keys import EcdsaSigner
from mlwarden.sign.manifest import Serialization, hash_model
from mlwarden.sign.oms import PREDICATE_TYPE
from mlwarden.sign.signing import KeyMaterial, sign_model
from mlwarden.sign.trust import Trust, UntrustedSignerError
from mlwarden.sign.verify import ModelMismatchError, verification_findings, verify_model
from tests.sign.conftest import KeyFiles


@pytest.fixture
def signed(model: Path, keys: Callable[..., KeyFiles]) -> tuple[Path, KeyFiles, Trust]:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    return model, key, Trust.from_public_keys([key.public])


def mismatch(model: Path, trust: Trust) -> ModelMismatchError:
    with pytest.raises(ModelMismatchError) as info:
        verify_model(model, None, trust)
    return info.value


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
def test_sign_then_verify(model: Path, keys: Callable[..., KeyFiles], curve: str) -> None:
    key = keys(curve=curve)
    signed = sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    assert signed.signature == model / "model.sig"
    result = verify_model(model, None, Trust.from_public_keys([key.public]))
    assert result.identity.keyid == EcdsaSigner(key.key).keyid
    assert result.model_digest == signed.model_digest == hash_model(model).model_digest()
    assert len(result.manifest.resources) == 4
    assert result.bytes_hashed == sum(p.stat().st_size for p in model.rglob("*")
                                      if p.is_file() and p.name != "model.sig")


def test_single_file_signature_sits_beside_it(tmp_path: Path,
                                              keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    path = tmp_path / "model.onnx"
    path.write_bytes(b"onnx bytes")
    result = sign_model(path, KeyMaterial(EcdsaSigner(key.key)))
    assert result.signature == tmp_path / "model.onnx.sig"
    trust = Trust.from_public_keys([key.public])
    assert verify_model(path, None, trust).manifest.resources[0].name == "."
    path.write_bytes(b"onnx bytez")
    error = mismatch(path, trust)
    assert error.problems[0].kind == "modified" and error.problems[0].path == "."


def test_modified_file_names_path_and_both_digests(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    signed_digest = hash_model(model).by_name["config.json"].digest
    (model / "config.json").write_bytes(b'{"hidden": 5}')  # same size: found by hashing
    error = mismatch(model, trust)
    assert [(p.kind, p.path) for p in error.problems] == [("modified", "config.json")]
    assert f"sha256:{signed_digest}" in error.message
    assert hash_model(model).by_name["config.json"].digest in error.message
    assert "Digest(" not in error.message and "b'" not in error.message


def test_truncated_file_is_found_by_size_before_hashing(
        signed: tuple[Path, KeyFiles, Trust], monkeypatch: pytest.MonkeyPatch) -> None:
    model, _, trust = signed
    with open(model / "weights.safetensors", "r+b") as handle:
        handle.truncate(100)

    def no_hashing(*args: object, **kwargs: object) -> None:
        raise AssertionError("content was hashed")

    monkeypatch.setattr("mlwarden.sign.verify.hash_files", no_hashing)
    monkeypatch.setattr("mlwarden.sign.verify.hash_file", no_hashing)
    error = mismatch(model, trust)
    assert [(p.kind, p.path) for p in error.problems] == [("truncated", "weights.safetensors")]
    assert "signed 4096 bytes, found 100" in error.message
    assert "before hashing" in error.message


def test_added_missing_and_renamed_files(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    (model / "extra.py").write_text("import os")
    error = mismatch(model, trust)
    assert [(p.kind, p.path) for p in error.problems] == [("added", "extra.py")]
    (model / "extra.py").unlink()
    (model / "tokenizer" / "vocab.txt").unlink()
    error = mismatch(model, trust)
    assert [(p.kind, p.path) for p in error.problems] == [("missing", "tokenizer/vocab.txt")]
    assert "missing: tokenizer/vocab.txt (signed sha256:" in error.message
    (model / "tokenizer" / "vocab.txt").write_bytes(b"a\nb\n")
    (model / "config.json").rename(model / "config.bak")
    error = mismatch(model, trust)
    assert [(p.kind, p.path, p.renamed_to) for p in error.problems] == [
        ("renamed", "config.json", "config.bak")]


def test_wrong_key(signed: tuple[Path, KeyFiles, Trust], keys: Callable[..., KeyFiles]) -> None:
    model, _, _ = signed
    other = keys("other")
    with pytest.raises(VerificationError, match="signed with another key") as info:
        verify_model(model, None, Trust.from_public_keys([other.public]))
    assert not isinstance(info.value, UntrustedSignerError)


def test_modified_statement_is_a_bad_signature(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    sig = model / "model.sig"
    data = json.loads(sig.read_text())
    statement = json.loads(base64.b64decode(data["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "0" * 64
    data["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig.write_text(json.dumps(data))
    with pytest.raises(VerificationError, match="does not verify with the trusted key"):
        verify_model(model, None, trust)


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[: len(raw) // 2], "truncated"),
    (lambda raw: b"", "empty"),
    (lambda raw: b"\xff\xfe" + raw, "not UTF-8"),
    (lambda raw: raw.replace(b'"dsseEnvelope"', b'"dsseEnvelopx"'), "no dsseEnvelope"),
    (lambda raw: raw.replace(b"application/vnd.dev.sigstore.bundle.v0.3+json", b"x"),
     "mediaType"),
    (lambda raw: b"[1, 2]", "not a JSON object"),
])
def test_damaged_signature_files(signed: tuple[Path, KeyFiles, Trust],
                                 damage: Callable[[bytes], bytes], message: str) -> None:
    model, _, trust = signed
    sig = model / "model.sig"
    sig.write_bytes(damage(sig.read_bytes()))
    with pytest.raises(SignatureFileError, match=message) as info:
        verify_model(model, None, trust)
    assert info.value.path == str(sig)
    assert info.value.exit_code == 1


def test_unsigned_model(model: Path, keys: Callable[..., KeyFiles]) -> None:
    trust = Trust.from_public_keys([keys().public])
    with pytest.raises(UnsignedError, match="unsigned"):
        verify_model(model, None, trust)
    findings, result = verification_findings(model, None, trust)
    assert result is None
    assert [f.rule_id for f in findings] == [rules.UNSIGNED.id]


def _resign(model: Path, key: KeyFiles, mutate: Callable[[dict[str, object]], None]) -> None:
    """Sign a hand-made statement (a hostile signer) over the model's real manifest."""
    sig = model / "model.sig"
    bundle = Bundle.load(sig)
    statement = json.loads(bundle.envelope.payload)
    mutate(statement)
    forged = Statement.from_dict(statement)
    KeyMaterial(EcdsaSigner(key.key))
    new = KeyMaterial(EcdsaSigner(key.key)).bundle(forged)
    sig.write_text(new.to_json())


def test_resource_escaping_the_model_is_refused(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, key, trust = signed

    def escape(statement: dict) -> None:  # type: ignore[type-arg]
        resources = statement["predicate"]["resources"]
        resources[0]["name"] = "../outside.bin"
        statement["predicate"]["resources"][0].pop("annotations", None)
    _resign(model, key, escape)
    with pytest.raises(SignatureFileError, match=r"\.\./outside\.bin.*escapes"):
        verify_model(model, None, trust)


def test_inconsistent_subject_digest_is_refused(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, key, trust = signed

    def wrong_subject(statement: dict) -> None:  # type: ignore[type-arg]
        statement["subject"][0]["digest"]["sha256"] = "ab" * 32
    _resign(model, key, wrong_subject)
    with pytest.raises(SignatureFileError, match="inconsistent manifest"):
        verify_model(model, None, trust)


def test_other_predicate_type_is_refused(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, key, trust = signed
    statement = Statement((Subject("m", {"sha256": "ab" * 32}),), "https://slsa.dev/provenance/v1",
                          {})
    (model / "model.sig").write_text(KeyMaterial(EcdsaSigner(key.key)).bundle(statement).to_json())
    with pytest.raises(SignatureFileError, match=PREDICATE_TYPE.replace(".", r"\.")):
        verify_model(model, None, trust)


def test_symlink_added_after_signing_is_refused(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    (model / "link").symlink_to("/etc/hostname")
    with pytest.raises(InputError, match="symbolic link"):
        verify_model(model, None, trust)


def test_git_paths_and_signature_are_ignored(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: main")
    (model / ".gitattributes").write_text("*.safetensors filter=lfs")
    verify_model(model, None, trust)


def test_detached_signature_elsewhere(model: Path, tmp_path: Path,
                                      keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    sig = tmp_path / "sigs" / "model.sig"
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)), signature=sig)
    assert not (model / "model.sig").exists()
    verify_model(model, sig, Trust.from_public_keys([key.public]))


@pytest.mark.parametrize("serialization", [
    Serialization(hash_type="blake2b"),
    Serialization("shards", shard_size=1000),
    Serialization("shards", hash_type="blake2b", shard_size=4096),
])
def test_other_serializations_round_trip_and_detect_tampering(
        model: Path, keys: Callable[..., KeyFiles], serialization: Serialization) -> None:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)), serialization=serialization)
    trust = Trust.from_public_keys([key.public])
    verify_model(model, None, trust)
    data = bytearray((model / "weights.safetensors").read_bytes())
    data[2500] ^= 1
    (model / "weights.safetensors").write_bytes(bytes(data))
    error = mismatch(model, trust)
    assert error.problems[0].path.startswith("weights.safetensors")


def test_directory_signature_against_a_file(signed: tuple[Path, KeyFiles, Trust],
                                            tmp_path: Path) -> None:
    model, _, trust = signed
    lone = tmp_path / "lone.bin"
    lone.write_bytes(b"x")
    with pytest.raises(VerificationError, match="for a model directory"):
        verify_model(lone, model / "model.sig", trust)


def test_findings_carry_paths_and_evidence(signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    (model / "config.json").write_bytes(b"{}")
    (model / "new.bin").write_bytes(b"1")
    findings, result = verification_findings(model, None, trust)
    assert result is None
    got = sorted((f.rule_id, f.location.path) for f in findings)
    assert got == [(rules.FILE_MODIFIED.id, f"{model}/config.json"),
                   (rules.FILE_ADDED.id, f"{model}/new.bin")]
    truncated = next(f for f in findings if f.rule_id == rules.FILE_MODIFIED.id)
    assert truncated.evidence["kind"] == "truncated"


def test_statement_parser_checks_file_versus_directory(signed: tuple[Path, KeyFiles, Trust]) -> None:
    from mlwarden.sign.oms import statement_to_manifest

    model, _, _ = signed
    statement = Statement.from_json_bytes(Bundle.load(model / "model.sig").envelope.payload)
    statement_to_manifest(statement, single_file=False)
    with pytest.raises(InputError, match="for a model directory"):
        statement_to_manifest(statement, single_file=True)


def test_many_problems_are_summarised_in_the_line_but_all_kept(
        signed: tuple[Path, KeyFiles, Trust]) -> None:
    model, _, trust = signed
    for index in range(30):
        (model / f"extra-{index:02d}.bin").write_bytes(b"x")
    error = mismatch(model, trust)
    assert len(error.problems) == 30
    assert "and 10 more" in error.message and "extra-19.bin" in error.message
    assert "extra-29.bin" not in error.message
    findings, _ = verification_findings(model, None, trust)
    assert len(findings) == 30
