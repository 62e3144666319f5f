"""OMS v1.0 conformance: the schemas, the spec's ordering and naming, older and foreign bundles.

Signatures ``sign_model`` writes are checked against the OMS JSON schemas by the autouse fixture in
``conftest.py``; the tests here check the predicate's exact shape, that the helper does catch a
non-conformant bundle (the pre-schema mlwarden format), that bundles mlwarden wrote before still
verify, and that bundles in the shapes the other producers write (the Go client, model_signing
before 1.1) verify. Those foreign bundles are built here byte by byte from the producers' published
code (DSSE signed with ``cryptography`` directly, not with mlwarden's signer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mlwarden.core.errors import UsageError
from mlwarden.sign.bundle import Bundle
from mlwarden.sign.keys import EcdsaSigner
from mlwarden.sign.manifest import Serialization, hash_model
from mlwarden.sign.oms import SIZE_ANNOTATION
from mlwarden.sign.signing import KeyMaterial, sign_model
from mlwarden.sign.trust import Trust
from mlwarden.sign.verify import ModelMismatchError, ignore_path_names, verify_model
from tests.sign.conftest import KeyFiles, Pki, make_pki, make_self_signed
from tests.sign.oms_schema import assert_oms_conformant, schema_errors

LEGACY = Path(__file__).resolve().parents[1] / "data" / "sign" / "mlwarden-legacy"
IN_TOTO = "application/vnd.in-toto+json"


def statement_of(sig: Path) -> dict[str, Any]:
    bundle = json.loads(sig.read_text())
    return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# What mlwarden writes


@pytest.mark.parametrize("serialization", [
    Serialization(), Serialization(hash_type="blake2b"),
    Serialization("shards", shard_size=256), Serialization("shards", "blake2b", shard_size=1000),
], ids=["files-sha256", "files-blake2b", "shards-256", "shards-blake2b"])
def test_predicate_is_exactly_the_oms_predicate(model: Path, keys: Callable[..., KeyFiles],
                                                serialization: Serialization) -> None:
    (model / "weights.safetensors").write_bytes(bytes(range(256)) * 12)  # 12 shards of 256
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)), serialization=serialization,
               ignore=["README.md"])
    sig = model / "model.sig"
    assert_oms_conformant(sig)
    statement = statement_of(sig)
    predicate = statement["predicate"]
    assert sorted(predicate) == ["resources", "serialization"]
    names = [r["name"] for r in predicate["resources"]]
    assert names == sorted(names)  # code-point order of the whole name, shards included
    assert {r["algorithm"] for r in predicate["resources"]} == {serialization.hash_type}
    assert all(set(r) == {"name", "algorithm", "digest", "annotations"}
               for r in predicate["resources"])
    assert "README.md" in predicate["serialization"]["ignore_paths"]
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in predicate["resources"]))
    assert statement["subject"] == [{"name": "model", "digest": {"sha256": root.hexdigest()}}]
    verify_model(model, None, Trust.from_public_keys([key.public]))


def test_shard_names_sort_as_strings(model: Path, keys: Callable[..., KeyFiles]) -> None:
    (model / "weights.safetensors").write_bytes(b"x" * 2600)
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)),
               serialization=Serialization("shards", shard_size=256))
    names = [r["name"] for r in statement_of(model / "model.sig")["predicate"]["resources"]
             if r["name"].startswith("weights")]
    # "weights.safetensors:1024:1280" sorts before "weights.safetensors:256:512" (spec 6.4)
    assert names.index("weights.safetensors:1024:1280") < names.index(
        "weights.safetensors:256:512")


def test_sizes_travel_as_resource_annotations_and_catch_truncation_before_hashing(
        model: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    resources = statement_of(model / "model.sig")["predicate"]["resources"]
    sizes = {r["name"]: r["annotations"][SIZE_ANNOTATION] for r in resources}
    assert sizes["weights.safetensors"] == 4096
    (model / "weights.safetensors").write_bytes(b"short")
    with pytest.raises(ModelMismatchError, match=r"before hashing.*truncated: "
                                                 r"weights\.safetensors \(signed 4096 bytes"):
        verify_model(model, None, Trust.from_public_keys([key.public]))


def test_schema_helper_rejects_the_old_mlwarden_predicate() -> None:
    errors = schema_errors((LEGACY / "files.sig").read_bytes())
    assert any("'mlwarden' was unexpected" in e for e in errors), errors
    errors = schema_errors((LEGACY / "shards.sig").read_bytes())
    assert any("sha256-sharded-256" in e for e in errors), errors


# ---------------------------------------------------------------------------------------------
# Back-compat: signatures mlwarden wrote before the predicate followed the schema


@pytest.fixture
def legacy(tmp_path: Path) -> tuple[Path, Trust]:
    copy = tmp_path / "legacy"
    shutil.copytree(LEGACY, copy)
    return copy, Trust.from_public_keys([copy / "signer.pub"])


@pytest.mark.parametrize("signature", ["files.sig", "shards.sig"])
def test_old_mlwarden_signatures_still_verify(legacy: tuple[Path, Trust], signature: str) -> None:
    root, trust = legacy
    predicate = statement_of(root / signature)["predicate"]
    assert "mlwarden" in predicate  # the old layout, as committed
    result = verify_model(root / "model", root / signature, trust)
    assert len(result.manifest.resources) >= 4
    data = bytearray((root / "model" / "weights.bin").read_bytes())
    data[-1] ^= 1
    (root / "model" / "weights.bin").write_bytes(bytes(data))
    with pytest.raises(ModelMismatchError, match=r"modified: weights\.bin"):
        verify_model(root / "model", root / signature, trust)


def test_old_mlwarden_signature_sizes_are_still_used(legacy: tuple[Path, Trust]) -> None:
    root, trust = legacy
    (root / "model" / "weights.bin").write_bytes(b"grown" * 1000)
    with pytest.raises(ModelMismatchError, match=r"before hashing.*grown: weights\.bin"):
        verify_model(root / "model", root / "files.sig", trust)


# ---------------------------------------------------------------------------------------------
# Bundles in the shapes other producers write


def _pae(payload_type: str, body: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(body), body)


def _foreign_bundle(statement: dict[str, Any], key: ec.EllipticCurvePrivateKey, *,
                    style: str) -> str:
    """A bundle as the Go client (``go``) or model_signing < 1.1 (``python-1.0``) writes it."""
    body = json.dumps(statement, separators=(",", ":"), sort_keys=True).encode()
    # the hash per curve, as sigstore-go's algorithm registry and model_signing choose it
    digest = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]
    sig = key.sign(_pae(IN_TOTO, body), ec.ECDSA(digest))
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    envelope: dict[str, Any] = {"payload": base64.b64encode(body).decode(),
                                "payloadType": IN_TOTO,
                                "signatures": [{"sig": base64.b64encode(sig).decode()}]}
    if style == "go":
        # sigstore-go: hint = hex SHA-256 of the PEM key (ComputeKeyHint), keyid and empty
        # tlogEntries omitted by protojson.
        material: dict[str, Any] = {"publicKey": {"hint": hashlib.sha256(pem).hexdigest()}}
    else:
        # v0.3.1 - v1.0.x (spec section 11): rawBytes + keyDetails, keyid null, tlogEntries [].
        material = {"publicKey": {"rawBytes": base64.b64encode(der).decode(),
                                  "keyDetails": f"PKIX_ECDSA_P{key.curve.key_size}_SHA_"
                                                f"{min(key.curve.key_size, 512)}"},
                    "tlogEntries": []}
        envelope["signatures"][0]["keyid"] = None
    return json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                       "verificationMaterial": material, "dsseEnvelope": envelope})


def _statement(name: str, resources: list[dict[str, str]],
               serialization: dict[str, Any]) -> dict[str, Any]:
    root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
    return {"_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": root}}],
            "predicateType": "https://model_signing/signature/v1.0",
            "predicate": {"serialization": serialization, "resources": resources}}


def _resources(model: Path, *, order: str = "code-point", shard: int | None = None,
               algorithm: str | None = None) -> list[dict[str, str]]:
    serialization = Serialization("shards", shard_size=shard) if shard else Serialization()
    manifest = hash_model(model, serialization=serialization)
    listed = [{"name": r.name, "algorithm": algorithm or r.algorithm, "digest": r.digest}
              for r in manifest.resources]
    if order == "components":  # model_signing's order: by path components
        return sorted(listed, key=lambda r: tuple(r["name"].split("/")))
    return sorted(listed, key=lambda r: r["name"])


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
@pytest.mark.parametrize("style", ["go", "python-1.0"])
def test_foreign_directory_bundles_verify(model: Path, tmp_path: Path, style: str, curve: str,
                                          keys: Callable[..., KeyFiles]) -> None:
    key = keys(curve=curve)
    order = "code-point" if style == "go" else "components"
    serialization: dict[str, Any] = {"method": "files", "hash_type": "sha256",
                                     "allow_symlinks": False}
    if style == "go":
        serialization["ignore_paths"] = [".git", ".gitattributes", ".github", ".gitignore"]
    statement = _statement(model.name, _resources(model, order=order), serialization)
    sig = tmp_path / f"{style}.sig"
    sig.write_text(_foreign_bundle(statement, key.key, style=style))
    if style == "go":
        assert_oms_conformant(sig)  # what the Go client writes is what the schema describes
    trust = Trust.from_public_keys([key.public])
    result = verify_model(model, sig, trust)
    assert result.identity.method == "key"
    (model / "config.json").write_bytes(b"{}")
    with pytest.raises(ModelMismatchError, match=r"modified: config\.json"):
        verify_model(model, sig, trust)


def test_go_shard_bundle_verifies(model: Path, tmp_path: Path,
                                  keys: Callable[..., KeyFiles]) -> None:
    (model / "weights.safetensors").write_bytes(bytes(range(256)) * 11)
    key = keys()
    statement = _statement(model.name, _resources(model, shard=256),
                           {"method": "shards", "hash_type": "sha256", "shard_size": 256,
                            "allow_symlinks": False})
    assert statement["predicate"]["resources"][0]["algorithm"] == "sha256-sharded-256"
    sig = tmp_path / "go-shards.sig"
    sig.write_text(_foreign_bundle(statement, key.key, style="go"))
    verify_model(model, sig, Trust.from_public_keys([key.public]))


@pytest.mark.parametrize("name", [".", "weights.bin"], ids=["python-dot", "spec-basename"])
def test_single_file_bundle_names(tmp_path: Path, keys: Callable[..., KeyFiles],
                                  name: str) -> None:
    """Disagreement: the spec (6.1.2) names a single file's resource by its file name; the
    Python client writes ``.``. mlwarden writes ``.`` (what model_signing verifies) and reads
    both."""
    key = keys()
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"w" * 100)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    statement = _statement("weights.bin", [{"name": name, "algorithm": "sha256",
                                            "digest": digest}],
                           {"method": "files", "hash_type": "sha256", "allow_symlinks": False})
    sig = tmp_path / "weights.bin.sig"
    sig.write_text(_foreign_bundle(statement, key.key, style="go"))
    assert_oms_conformant(sig)
    trust = Trust.from_public_keys([key.public])
    verify_model(weights, sig, trust)
    weights.write_bytes(b"w" * 99 + b"x")
    with pytest.raises(ModelMismatchError, match="modified"):
        verify_model(weights, sig, trust)


def test_basename_alias_is_only_for_single_files(model: Path, tmp_path: Path,
                                                 keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    config = model / "config.json"
    statement = _statement("config.json", [{
        "name": "config.json", "algorithm": "sha256",
        "digest": hashlib.sha256(config.read_bytes()).hexdigest()}],
        {"method": "files", "hash_type": "sha256", "allow_symlinks": False})
    sig = tmp_path / "one.sig"
    sig.write_text(_foreign_bundle(statement, key.key, style="go"))
    with pytest.raises(ModelMismatchError, match="added"):  # the directory has more files
        verify_model(model, sig, Trust.from_public_keys([key.public]))
    verify_model(config, sig, Trust.from_public_keys([key.public]))


def test_bundle_parser_accepts_the_historical_field_variants(
        model: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    statement = _statement(model.name, _resources(model), {
        "method": "files", "hash_type": "sha256", "allow_symlinks": False})
    bundle = Bundle.from_json(_foreign_bundle(statement, key.key, style="python-1.0"))
    assert bundle.method == "key" and bundle.envelope.signatures[0].keyid == ""


# ---------------------------------------------------------------------------------------------
# --ignore-paths as a name relative to the model


def test_ignore_path_names(model: Path, tmp_path: Path) -> None:
    (model / "README.md").write_text("readme")
    assert ignore_path_names(model, ["README.md", "sub/dir/", "./a//b"], cwd=tmp_path) == (
        "README.md", "sub/dir", "a/b")
    # model_signing's CLI reads an entry from the current directory: model/README.md
    assert ignore_path_names(model, ["model/README.md"], cwd=tmp_path) == ("README.md",)
    assert ignore_path_names(model, [str(model / "README.md")], cwd=tmp_path) == ("README.md",)
    for bad in ["../x", "/etc/passwd", "*.md", ".", "a/../../b"]:
        with pytest.raises(UsageError):
            ignore_path_names(model, [bad], cwd=tmp_path)


def test_signature_with_no_resources_is_refused(tmp_path: Path,
                                                keys: Callable[..., KeyFiles]) -> None:
    """Disagreement (spec 5.2.1, "at least one entry"; the Go client refuses it too):
    model_signing 1.1.1 verifies an empty folder against a signature that lists nothing."""
    import model_signing

    from mlwarden.sign.bundle import SignatureFileError

    key = keys()
    empty = tmp_path / "empty"
    empty.mkdir()
    statement = _statement("empty", [], {"method": "files", "hash_type": "sha256",
                                         "allow_symlinks": False})
    sig = tmp_path / "empty.sig"
    sig.write_text(_foreign_bundle(statement, key.key, style="go"))
    model_signing.verifying.Config().use_elliptic_key_verifier(  # type: ignore[no-untyped-call]
        public_key=key.public).verify(empty, sig)
    with pytest.raises(SignatureFileError, match="covers no file"):
        verify_model(empty, sig, Trust.from_public_keys([key.public]))


def test_empty_files_have_no_shards(model: Path, keys: Callable[..., KeyFiles]) -> None:
    """Spec 6.3.2: a zero-byte file is left out of a shard manifest (model_signing does the
    same); verification must not then call it added."""
    import model_signing

    (model / "empty.txt").write_bytes(b"")
    theirs = model_signing.hashing.Config().use_shard_serialization(  # type: ignore[no-untyped-call]
        shard_size=1024).hash(model)
    assert not any(str(rd.identifier).startswith("empty.txt")
                   for rd in theirs.resource_descriptors())
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)),
               serialization=Serialization("shards", shard_size=1024))
    names = [r["name"] for r in statement_of(model / "model.sig")["predicate"]["resources"]]
    assert not any(n.startswith("empty.txt") for n in names)
    verify_model(model, None, Trust.from_public_keys([key.public]))


def _go_certificate_bundle(statement: dict[str, Any], key: ec.EllipticCurvePrivateKey,
                           leaf: bytes, chain: list[bytes]) -> str:
    """The Go client's certificate method: sigstore-go writes the signing certificate under
    ``certificate`` (no tlogEntries); with ``--certificate-chain`` the JSON is rewritten to an
    ``x509CertificateChain`` of the leaf then the chain (EmbedCertChainInBundleFile)."""
    bundle = json.loads(_foreign_bundle(statement, key, style="go"))
    if chain:
        bundle["verificationMaterial"] = {"x509CertificateChain": {"certificates": [
            {"rawBytes": base64.b64encode(der).decode()} for der in [leaf, *chain]]}}
    else:
        bundle["verificationMaterial"] = {"certificate": {
            "rawBytes": base64.b64encode(leaf).decode()}}
    return json.dumps(bundle, indent=2)


@pytest.mark.parametrize("with_chain", [False, True], ids=["no-chain", "chain"])
def test_go_certificate_bundles_verify(model: Path, tmp_path: Path, pki: Pki,
                                       with_chain: bool) -> None:
    """Finding: without a chain the Go client's bundle holds ``certificate`` and no log entry,
    which the OMS bundle schema does not admit (``certificate`` is for Sigstore, with
    ``tlogEntries``). mlwarden reads it as a one-certificate chain; the chain must still reach a
    trusted root."""
    from mlwarden.core.errors import VerificationError
    from mlwarden.sign.keys import load_private_key

    def der(path: Path) -> bytes:
        from cryptography import x509

        return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(
            serialization.Encoding.DER)

    statement = _statement(model.name, _resources(model), {
        "method": "files", "hash_type": "sha256", "allow_symlinks": False})
    sig = tmp_path / "go-cert.sig"
    if with_chain:
        key = load_private_key(pki.leaf_key)
        sig.write_text(_go_certificate_bundle(statement, key, der(pki.leaf),
                                              [der(pki.intermediate)]))
        assert_oms_conformant(sig)
        trust, subject = Trust.from_roots([pki.root], pki.subject), pki.subject
    else:  # a self-signed certificate, trusted as its own root
        cert, key_path = make_self_signed(tmp_path / "self")
        key = load_private_key(key_path)
        sig.write_text(_go_certificate_bundle(statement, key, der(cert), []))
        assert any("certificate" in e for e in schema_errors(sig.read_bytes()))
        subject = "CN=self-signed-release"
        trust = Trust.from_roots([cert], subject)
    result = verify_model(model, sig, trust)
    assert result.identity.method == "pki" and result.identity.subject == subject
    other = make_pki(tmp_path / "other", tag=" other")
    with pytest.raises(VerificationError, match="does not verify to a trusted root"):
        verify_model(model, sig, Trust.from_roots([other.root], subject))
