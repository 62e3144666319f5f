"""Trust files and policies: who may sign which model; PKI chains and identities."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from mlwarden.core.errors import PolicyError, VerificationError
from mlwarden.sign.keys import EcdsaSigner, load_private_key
from mlwarden.sign.pki import SignerIdentity, load_certificates
from mlwarden.sign.signing import CertificateMaterial, KeyMaterial, sign_model
from mlwarden.sign.trust import (
    AllOf,
    AnyOf,
    KeyIs,
    ModelMatches,
    ModelRef,
    Trust,
    UnsafeNoIdentityCheck,
    UnsafeTrustWarning,
    UntrustedSignerError,
)
from mlwarden.sign.verify import verification_findings, verify_model
from tests.sign.conftest import KeyFiles, Pki, make_model, make_pki


def write_trust(directory: Path, text: str) -> Path:
    path = directory / "trust.yaml"
    path.write_text(text)
    return path


def test_trust_file_scopes_signers_to_models(tmp_path: Path,
                                             keys: Callable[..., KeyFiles]) -> None:
    release, research = keys("release"), keys("research")
    prod = make_model(tmp_path, "prod-resnet")
    lab = make_model(tmp_path, "lab-gpt")
    sign_model(prod, KeyMaterial(EcdsaSigner(release.key)))
    sign_model(lab, KeyMaterial(EcdsaSigner(research.key)))
    trust = Trust.load(write_trust(tmp_path, f"""
version: 1
signers:
  - name: release-team
    public_key: {release.public}
    models: ["prod-*"]
  - name: research
    public_key: {research.public}
    models: ["lab-*"]
"""))
    assert verify_model(prod, None, trust).trusted_as == "release-team"
    assert verify_model(lab, None, trust).trusted_as == "research"
    # The research key signs a production model: valid signature, untrusted signer.
    sign_model(prod, KeyMaterial(EcdsaSigner(research.key)))
    with pytest.raises(UntrustedSignerError) as info:
        verify_model(prod, None, trust)
    message = info.value.message
    assert "signer 'research': trusted only for models ['lab-*'], not for" in message
    assert "prod-resnet" in message
    findings, _ = verification_findings(prod, None, trust)
    assert [f.rule_id for f in findings] == ["MW-SIGN-003"]


def test_unknown_key_in_trust_file(tmp_path: Path, keys: Callable[..., KeyFiles]) -> None:
    known, stranger = keys("known"), keys("stranger")
    model = make_model(tmp_path)
    sign_model(model, KeyMaterial(EcdsaSigner(stranger.key)))
    trust = Trust.load(write_trust(tmp_path, f"""
signers:
  - {{name: known, public_key: {known.public}, models: ["*"]}}
"""))
    with pytest.raises(VerificationError, match=r"matches no trusted key \(known"):
        verify_model(model, None, trust)


def test_inline_pem_and_relative_paths(tmp_path: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys("k")
    pem = key.public.read_text().replace("\n", "\n      ")
    trust = Trust.load(write_trust(key.public.parent, f"""
signers:
  - name: inline
    public_key: |
      {pem}
    models: ["*"]
  - name: relative
    public_key: k.pub
    models: ["*"]
"""))
    assert len(trust.keys) == 2 and trust.keys[0].keyid == trust.keys[1].keyid


@pytest.mark.parametrize("text, message", [
    ("signers: []", "signers"),
    ("signers: [{name: a, models: ['*']}]", "exactly one of"),
    ("signers: [{name: a, public_key: k.pub}]", "models"),
    ("signers: [{name: a, certificate_identity: x, models: ['*']}]", "go together"),
    ("signers: [{name: a, public_key: k.pub, models: []}]", "models"),
    ("signers: [{name: a, public_key: k.pub, models: ['*'], extra: 1}]", "extra"),
    ("version: 2\nsigners: [{name: a, public_key: k.pub, models: ['*']}]", "version"),
    ("signers: [{name: a, public_key: k.pub, models: ['*']}, "
     "{name: a, public_key: k.pub, models: ['*']}]", "unique"),
    ("signers: [{name: a, public_key: missing.pub, models: ['*']}]", "not found"),
    ("signers: [\n  - oops", "not valid YAML"),
    ("- a list", "mapping"),
])
def test_malformed_trust_files_name_the_problem(tmp_path: Path, keys: Callable[..., KeyFiles],
                                                text: str, message: str) -> None:
    key = keys("k")
    path = write_trust(key.public.parent, text)
    with pytest.raises(PolicyError, match=message) as info:
        Trust.load(path)
    assert info.value.path == str(path)


def test_policies_refuse_to_be_empty_and_raise() -> None:
    with pytest.raises(ValueError, match="empty AllOf"):
        AllOf(())
    with pytest.raises(ValueError):
        AnyOf(())
    with pytest.raises(ValueError):
        ModelMatches(())
    who = SignerIdentity("key", "ab" * 32)
    model = ModelRef.of("models/prod-a")
    AnyOf((KeyIs("cd" * 32), AllOf((KeyIs("ab" * 32), ModelMatches(("prod-*",)))))).verify(
        who, model)
    with pytest.raises(UntrustedSignerError, match="not trusted for model 'models/prod-a'"):
        AnyOf((KeyIs("cd" * 32),)).verify(who, model)


def test_unsafe_policy_warns(tmp_path: Path) -> None:
    with pytest.warns(UnsafeTrustWarning, match="UNSAFE"):
        UnsafeNoIdentityCheck().verify(SignerIdentity("key", "ab" * 32), ModelRef.of("m"))


def sign_pki(model: Path, pki: Pki) -> None:
    material = CertificateMaterial(EcdsaSigner(load_private_key(pki.leaf_key)),
                                   tuple(load_certificates(pki.chain)))
    sign_model(model, material)


def test_pki_identity_and_root_are_checked(model: Path, tmp_path: Path, pki: Pki) -> None:
    sign_pki(model, pki)
    result = verify_model(model, None, Trust.from_roots([pki.root], pki.subject))
    assert result.identity.describe().startswith(f"certificate '{pki.subject}'")
    assert verify_model(model, None, Trust.from_roots([pki.root], "release@example.com"))
    with pytest.raises(UntrustedSignerError, match="not 'CN=someone-else'"):
        verify_model(model, None, Trust.from_roots([pki.root], "CN=someone-else"))
    other = make_pki(tmp_path / "other", tag=" 2")
    with pytest.raises(VerificationError, match="does not verify to a trusted root"):
        verify_model(model, None, Trust.from_roots([other.root], pki.subject))
    # Without an identity, any certificate under the root is accepted, loudly.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verify_model(model, None, Trust.from_roots([pki.root]))
    assert any(issubclass(w.category, UnsafeTrustWarning) for w in caught)


def test_pki_trust_file(model: Path, tmp_path: Path, pki: Pki) -> None:
    sign_pki(model, pki)
    trust = Trust.load(write_trust(tmp_path, f"""
signers:
  - name: corp
    certificate_identity: "{pki.subject}"
    ca: {pki.root}
    models: ["model"]
"""))
    assert verify_model(model, None, trust).trusted_as == "corp"


def test_certificate_that_may_not_sign_is_refused(model: Path, tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "nosign", signing=False)
    sign_pki(model, pki)
    with pytest.raises(VerificationError, match="may not sign"):
        verify_model(model, None, Trust.from_roots([pki.root], pki.subject))


def test_certificate_must_match_the_key(model: Path, pki: Pki,
                                        keys: Callable[..., KeyFiles]) -> None:
    from mlwarden.core.errors import InputError

    with pytest.raises(InputError, match="does not hold the public key"):
        CertificateMaterial(EcdsaSigner(keys().key), tuple(load_certificates(pki.chain)))


def test_key_signature_needs_a_key_and_certificate_needs_a_root(
        model: Path, pki: Pki, keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    with pytest.raises(VerificationError, match="no trusted public key"):
        verify_model(model, None, Trust.from_roots([pki.root], pki.subject))
    sign_pki(model, pki)
    with pytest.raises(VerificationError, match="no trusted root"):
        verify_model(model, None, Trust.from_public_keys([key.public]))


def test_trust_from_pem_bytes(model: Path, keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    trust = Trust.from_public_key_pems([("policy key", key.public.read_bytes())])
    assert verify_model(model, None, trust).trusted_as == "policy key"
