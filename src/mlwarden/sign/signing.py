"""Signing a model: hash it into an OMS manifest, sign the statement, write a Sigstore bundle.

Methods: a private ECDSA key (``key``), a key with its X.509 certificate chain (``pki``), and
Sigstore keyless (``sigstore``, through ``model_signing``; it needs network access to Fulcio and
Rekor and an OIDC identity). The defaults (files serialization, SHA-256) are what the stock
``model_signing`` CLI verifies; other choices are possible but that CLI cannot check them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509

from mlwarden.core.atomic import atomic_write_text
from mlwarden.core.attestation import Statement, sign_statement
from mlwarden.core.errors import ConfigError, InputError, MlwardenError
from mlwarden.sign.bundle import Bundle
from mlwarden.sign.keys import EcdsaSigner, key_id, pem_hint
from mlwarden.sign.manifest import (
    DEFAULT_SIGNATURE_NAME,
    Manifest,
    Serialization,
    hash_model,
)
from mlwarden.sign.oms import manifest_to_statement


def default_signature_path(model: str | Path) -> Path:
    """``MODEL/model.sig`` for a directory, ``MODEL.sig`` beside a single file."""
    model = Path(model)
    if model.is_dir():
        return model / DEFAULT_SIGNATURE_NAME
    return model.with_name(model.name + ".sig")


@dataclass(frozen=True)
class KeyMaterial:
    """Sign with a private key; the bundle carries the key's hint (SHA-256 of its PEM)."""

    signer: EcdsaSigner
    method = "key"

    def bundle(self, statement: Statement) -> Bundle:
        return Bundle(envelope=sign_statement(statement, self.signer),
                      public_key_hint=pem_hint(self.signer.public_key))


@dataclass(frozen=True)
class CertificateMaterial:
    """Sign with a key whose certificate chain (leaf first) travels in the bundle."""

    signer: EcdsaSigner
    chain: tuple[x509.Certificate, ...]
    method = "pki"

    def __post_init__(self) -> None:
        if not self.chain:
            raise InputError("PKI signing needs the signing certificate (and its chain)")
        leaf_key = self.chain[0].public_key()
        if not hasattr(leaf_key, "curve") or key_id(leaf_key) != self.signer.keyid:  # type: ignore[arg-type]
            raise InputError("the signing certificate (the first in the chain) does not hold the "
                             "public key of the private key")

    def bundle(self, statement: Statement) -> Bundle:
        from cryptography.hazmat.primitives import serialization

        return Bundle(envelope=sign_statement(statement, self.signer),
                      certificate_chain=tuple(c.public_bytes(serialization.Encoding.DER)
                                              for c in self.chain))


SigningMaterial = KeyMaterial | CertificateMaterial


@dataclass(frozen=True)
class SignResult:
    """What signing did: where the signature is, what it covers, and how long it took."""

    model: Path
    signature: Path
    method: str
    keyid: str
    manifest: Manifest
    statement: Statement
    seconds: float

    @property
    def model_digest(self) -> str:
        return self.manifest.model_digest()

    @property
    def root_digest(self) -> str:
        return "sha256:" + self.manifest.root_digest()

    @property
    def bytes_hashed(self) -> int:
        return sum(r.size or 0 for r in self.manifest.resources)

    def to_dict(self) -> dict[str, Any]:
        return {"model": str(self.model), "signature": str(self.signature),
                "method": self.method, "keyid": self.keyid, "model_digest": self.model_digest,
                "oms_root_digest": self.root_digest, "files": len(self.manifest.resources),
                "bytes": self.bytes_hashed, "seconds": round(self.seconds, 6)}


def sign_model(model: str | Path, material: SigningMaterial, *,
               signature: str | Path | None = None,
               serialization: Serialization | None = None,
               ignore: Sequence[str] = (),
               max_workers: int | None = None) -> SignResult:
    """Sign ``model`` (a directory or one file) and write the bundle atomically."""
    model = Path(model)
    if not model.exists() and not model.is_symlink():
        raise InputError("model not found", path=model)
    sig_path = Path(signature) if signature is not None else default_signature_path(model)
    started = time.perf_counter()
    manifest = hash_model(model, serialization=serialization, signature=sig_path,
                          ignore=ignore, max_workers=max_workers)
    if not manifest.resources:
        raise InputError("the model has no files to sign", path=model)
    statement = manifest_to_statement(manifest)
    bundle = material.bundle(statement)
    atomic_write_text(sig_path, bundle.to_json())
    return SignResult(model, sig_path, material.method, material.signer.keyid, manifest,
                      statement, time.perf_counter() - started)


# ---------------------------------------------------------------------------------------------
# Sigstore keyless (network): delegated to model_signing


class SigstoreUnavailableError(MlwardenError):
    """Sigstore could not be reached or no identity could be obtained."""

    exit_code = ConfigError.exit_code


def sigstore_signing_config(*, use_staging: bool = False, identity_token: str | None = None,
                            use_ambient_credentials: bool = True,
                            oidc_issuer: str | None = None,
                            trust_config: Path | None = None,
                            ignore: Sequence[str] = ()) -> Any:
    """The ``model_signing.signing.Config`` for keyless signing, files + SHA-256 hashing."""
    try:
        import model_signing
    except ImportError as exc:  # pragma: no cover - the sign extra is installed in tests
        raise ConfigError("Sigstore signing needs the 'sign' extra (model-signing)",
                          advice="pip install 'mlwarden[sign]'") from exc
    try:
        config = model_signing.signing.Config().use_sigstore_signer(  # type: ignore[no-untyped-call]
            oidc_issuer=oidc_issuer, use_ambient_credentials=use_ambient_credentials,
            use_staging=use_staging, identity_token=identity_token, trust_config=trust_config)
    except Exception as exc:  # noqa: BLE001 - any failure to reach Sigstore is reported the same
        raise _unavailable(exc) from None
    hashing = model_signing.hashing.Config().use_file_serialization(  # type: ignore[no-untyped-call]
        hashing_algorithm="sha256")
    hashing = hashing.set_ignored_paths(paths=list(ignore), ignore_git_paths=True)
    return config.set_hashing_config(hashing)


def _unavailable(exc: BaseException) -> SigstoreUnavailableError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return SigstoreUnavailableError(
        f"Sigstore keyless signing failed: {detail[:300]}",
        advice="it needs network access to Fulcio, Rekor and the Sigstore TUF repository, and "
               "an OIDC identity (--identity-token or ambient CI credentials); sign with --key "
               "where there is no network")


def sign_model_sigstore(model: str | Path, *, signature: str | Path | None = None,
                        **options: Any) -> Path:
    """Keyless signing through ``model_signing`` (network required)."""
    model = Path(model)
    if not model.exists():
        raise InputError("model not found", path=model)
    sig_path = Path(signature) if signature is not None else default_signature_path(model)
    from mlwarden.sign.manifest import relative_inside

    inside = relative_inside(model, sig_path)
    config = sigstore_signing_config(ignore=[inside] if inside else [], **options)
    try:
        config.sign(model, sig_path)
    except Exception as exc:  # noqa: BLE001 - network, OIDC and Fulcio errors alike
        raise _unavailable(exc) from None
    return sig_path
