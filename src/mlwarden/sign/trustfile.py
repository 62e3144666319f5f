"""The trust file's schema (pydantic), loaded only when a trust file is read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mlwarden.core.errors import InputError, PolicyError
from mlwarden.sign.keys import key_id, load_public_key, parse_public_key
from mlwarden.sign.pki import fingerprint, load_certificates
from mlwarden.sign.trust import (
    AllOf,
    AnyOf,
    CertificateIdentityIs,
    KeyIs,
    ModelMatches,
    SigstoreIdentityIs,
    Trust,
    TrustedKey,
    TrustPolicy,
)

SignerName = Annotated[str, Field(min_length=1, max_length=100)]


class SignerSpec(BaseModel):
    """One trusted signer: exactly one kind of identity, and the models it may sign."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SignerName
    public_key: str | None = None
    certificate_identity: str | None = None
    ca: str | list[str] | None = None
    sigstore_identity: str | None = None
    sigstore_issuer: str | None = None
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_kind(self) -> SignerSpec:
        kinds = [self.public_key is not None,
                 self.certificate_identity is not None or self.ca is not None,
                 self.sigstore_identity is not None or self.sigstore_issuer is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of public_key, certificate_identity + ca, "
                             "or sigstore_identity + sigstore_issuer")
        if kinds[1] and (not self.certificate_identity or not self.ca):
            raise ValueError("certificate_identity and ca go together")
        if kinds[2] and (not self.sigstore_identity or not self.sigstore_issuer):
            raise ValueError("sigstore_identity and sigstore_issuer go together")
        return self

    def identity_check(self, base: Path, keys: list[TrustedKey],
                       roots: list[x509.Certificate],
                       sigstore: list[tuple[str, str]]) -> TrustPolicy:
        if self.public_key is not None:
            key = _public_key(self.public_key, base)
            keys.append(TrustedKey(self.name, key))
            return KeyIs(key_id(key))
        if self.certificate_identity is not None:
            cas = [self.ca] if isinstance(self.ca, str) else list(self.ca or [])
            certs = [c for ca in cas for c in load_certificates(base / ca)]
            roots.extend(certs)
            return CertificateIdentityIs(self.certificate_identity,
                                         frozenset(fingerprint(c) for c in certs))
        assert self.sigstore_identity is not None and self.sigstore_issuer is not None
        sigstore.append((self.sigstore_identity, self.sigstore_issuer))
        return SigstoreIdentityIs(self.sigstore_identity, self.sigstore_issuer)


class TrustFile(BaseModel):
    """The trust file: ``version: 1`` and a non-empty list of uniquely named signers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    signers: Annotated[list[SignerSpec], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> TrustFile:
        names = [s.name for s in self.signers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"signer names must be unique: {', '.join(dupes)}")
        return self

    def compile(self, base: Path, source: str) -> Trust:
        keys: list[TrustedKey] = []
        roots: list[x509.Certificate] = []
        sigstore: list[tuple[str, str]] = []
        children: list[TrustPolicy] = []
        for index, signer in enumerate(self.signers):
            try:
                check = signer.identity_check(base, keys, roots, sigstore)
            except InputError as exc:
                raise PolicyError(f"signers[{index}] ({signer.name}): {exc.one_line()}",
                                  path=source) from None
            children.append(AllOf((check, ModelMatches(tuple(signer.models))), name=signer.name))
        return Trust(policy=AnyOf(tuple(children)), keys=tuple(keys), roots=tuple(roots),
                     sigstore=tuple(sigstore), source=source)


def _public_key(value: str, base: Path) -> ec.EllipticCurvePublicKey:
    if value.lstrip().startswith("-----BEGIN"):
        return parse_public_key(value.encode(), source="inline public_key")
    return load_public_key(base / value)
