"""Trust: which keys, certificate identities and Sigstore identities may sign which models.

A trust file (YAML, validated by pydantic) names the signers::

    version: 1
    signers:
      - name: release-team
        public_key: keys/release.pub          # a PEM file (relative to this file) or inline PEM
        models: ["prod-*", "models/resnet*"]
      - name: corp-pki
        certificate_identity: "CN=ml-release,O=Example"   # the leaf's subject DN or one SAN
        ca: certs/root.pem                                 # trust anchor(s), PEM
        models: ["*"]
      - name: ci
        sigstore_identity: "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main"
        sigstore_issuer: "https://token.actions.githubusercontent.com"
        models: ["*"]

``models`` globs are matched against the model's name (its last path component), the path as given
and its absolute path. The file compiles to policy objects in the style of sigstore-python's
``sigstore/verify/policy.py``: each raises :class:`UntrustedSignerError` when it does not hold,
they compose with :class:`AllOf` and :class:`AnyOf` (an empty one is a programming error, never
"trust everything"), and the one escape hatch is named :class:`UnsafeNoIdentityCheck` and warns.
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from mlwarden.core.errors import InputError, PolicyError, VerificationError
from mlwarden.sign.keys import key_id, load_public_key
from mlwarden.sign.pki import SignerIdentity, fingerprint, load_certificates


class UntrustedSignerError(VerificationError):
    """The signature is valid but its signer is not trusted for this model."""


class UnsafeTrustWarning(UserWarning):
    """An unsafe trust setting is in use (e.g. any identity under a trusted root)."""


@dataclass(frozen=True, slots=True)
class ModelRef:
    """The model a signature is checked for, as the verifier names it (never as the signer does)."""

    given: str
    absolute: str
    name: str

    @classmethod
    def of(cls, path: str | Path) -> ModelRef:
        p = Path(path)
        absolute = p.absolute()
        return cls(p.as_posix(), absolute.as_posix(), absolute.name or p.as_posix())

    def matches(self, pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(c, pattern) for c in (self.name, self.given, self.absolute))


class TrustPolicy(Protocol):
    """A check of who signed (and for which model); raises :class:`UntrustedSignerError`."""

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class KeyIs:
    keyid: str

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        if identity.method != "key" or identity.keyid != self.keyid:
            raise UntrustedSignerError(f"signer is {identity.describe()}, not key {self.keyid}")

    def describe(self) -> str:
        return f"key {self.keyid[:16]}…"


@dataclass(frozen=True)
class CertificateIdentityIs:
    """The leaf's subject DN or one of its SANs equals ``identity``, under one of ``roots``."""

    identity: str
    roots: frozenset[str]
    """SHA-256 fingerprints of the trust anchors the chain may build to."""

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        if identity.method != "pki":
            raise UntrustedSignerError(f"signer is {identity.describe()}, not a certificate")
        if identity.root_fingerprint not in self.roots:
            raise UntrustedSignerError("the certificate chains to another root than this "
                                       "signer's ca")
        if self.identity != identity.subject and self.identity not in identity.sans:
            raise UntrustedSignerError(f"certificate identity is "
                                       f"'{identity.subject}', not '{self.identity}'")

    def describe(self) -> str:
        return f"certificate '{self.identity}'"


@dataclass(frozen=True)
class SigstoreIdentityIs:
    identity: str
    issuer: str

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        if identity.method != "sigstore" or self.identity not in identity.sans \
                or identity.issuer != self.issuer:
            raise UntrustedSignerError(f"signer is {identity.describe()}, not sigstore "
                                       f"identity '{self.identity}' from {self.issuer}")

    def describe(self) -> str:
        return f"sigstore identity '{self.identity}'"


@dataclass(frozen=True)
class ModelMatches:
    patterns: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.patterns:
            raise ValueError("ModelMatches needs at least one pattern")

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        if not any(model.matches(p) for p in self.patterns):
            raise UntrustedSignerError(f"trusted only for models {list(self.patterns)}, not "
                                       f"for '{model.given}'")

    def describe(self) -> str:
        return f"models {list(self.patterns)}"


@dataclass(frozen=True)
class AllOf:
    """Every child must hold. Empty is refused: it would trust everything."""

    children: tuple[TrustPolicy, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("AllOf needs at least one policy (an empty AllOf would trust "
                             "everything)")

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        for child in self.children:
            try:
                child.verify(identity, model)
            except UntrustedSignerError as exc:
                label = f"signer '{self.name}'" if self.name else self.describe()
                raise UntrustedSignerError(f"{label}: {exc.message}") from None

    def describe(self) -> str:
        return self.name or " and ".join(c.describe() for c in self.children)


@dataclass(frozen=True)
class AnyOf:
    """At least one child must hold; the error lists why each did not."""

    children: tuple[TrustPolicy, ...]

    def __post_init__(self) -> None:
        if not self.children:
            raise ValueError("AnyOf needs at least one policy")

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        reasons = []
        for child in self.children:
            try:
                child.verify(identity, model)
                return
            except UntrustedSignerError as exc:
                reasons.append(exc.message)
        raise UntrustedSignerError(f"{identity.describe()} is not trusted for model "
                                   f"'{model.given}': " + "; ".join(reasons))

    def describe(self) -> str:
        return " or ".join(c.describe() for c in self.children)


@dataclass(frozen=True)
class UnsafeNoIdentityCheck:
    """Accept any signer whose signature verified. Warns every time it is used."""

    reason: str = "no signer identity was pinned"

    def verify(self, identity: SignerIdentity, model: ModelRef) -> None:
        warnings.warn(f"UNSAFE: accepting {identity.describe()} for '{model.given}' without an "
                      f"identity check ({self.reason})", UnsafeTrustWarning, stacklevel=2)

    def describe(self) -> str:
        return "any signer (unsafe)"


# ---------------------------------------------------------------------------------------------
# Trust material + policy, from a file or from command-line options


@dataclass(frozen=True)
class TrustedKey:
    name: str
    public_key: ec.EllipticCurvePublicKey

    @property
    def keyid(self) -> str:
        return key_id(self.public_key)


@dataclass(frozen=True)
class Trust:
    """What verification may use (keys, roots, Sigstore identities) and who may sign what."""

    policy: TrustPolicy
    keys: tuple[TrustedKey, ...] = ()
    roots: tuple[x509.Certificate, ...] = ()
    sigstore: tuple[tuple[str, str], ...] = ()
    """(identity, issuer) pairs."""
    source: str = "<trust>"

    def check(self, identity: SignerIdentity, model: str | Path) -> str:
        """The name of the trusted signer that covers ``identity`` for ``model``; else raise."""
        ref = ModelRef.of(model)
        policy = self.policy
        if isinstance(policy, AnyOf):
            for child in policy.children:
                try:
                    child.verify(identity, ref)
                except UntrustedSignerError:
                    continue
                return child.describe()
        policy.verify(identity, ref)
        return policy.describe()

    @classmethod
    def from_public_keys(cls, paths: Sequence[str | Path]) -> Trust:
        """Trust these keys for any model (``--public-key``)."""
        keys = tuple(TrustedKey(Path(p).name, load_public_key(p)) for p in paths)
        if not keys:
            raise InputError("no public key given")
        policy = AnyOf(tuple(AllOf((KeyIs(k.keyid),), name=k.name) for k in keys))
        return cls(policy=policy, keys=keys, source=", ".join(str(p) for p in paths))

    @classmethod
    def from_public_key_pems(cls, keys: Sequence[tuple[str, bytes]]) -> Trust:
        """Trust these PEM public keys, each with a label, for any model."""
        from mlwarden.sign.keys import parse_public_key

        trusted = tuple(TrustedKey(label, parse_public_key(pem, source=label))
                        for label, pem in keys)
        if not trusted:
            raise InputError("no public key given")
        policy = AnyOf(tuple(AllOf((KeyIs(k.keyid),), name=k.name) for k in trusted))
        return cls(policy=policy, keys=trusted, source=", ".join(k.name for k in trusted))

    @classmethod
    def from_roots(cls, paths: Sequence[str | Path], identity: str | None = None) -> Trust:
        """Trust certificates chaining to these roots (``--cert-chain``), for one identity or,
        unsafely, for any."""
        roots = tuple(c for p in paths for c in load_certificates(p))
        if not roots:
            raise InputError("no root certificate given")
        policy: TrustPolicy
        if identity:
            policy = CertificateIdentityIs(identity, frozenset(fingerprint(r) for r in roots))
        else:
            policy = UnsafeNoIdentityCheck("--cert-chain without --identity accepts any "
                                           "certificate issued under the roots")
        return cls(policy=policy, roots=roots, source=", ".join(str(p) for p in paths))

    @classmethod
    def load(cls, path: str | Path) -> Trust:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PolicyError("trust file not found", path=p) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(f"cannot read trust file: {exc}", path=p) from None
        return cls.from_yaml(text, source=str(p), base=p.parent)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<trust>", base: Path | None = None) -> Trust:
        from mlwarden.core.yamlio import load_yaml

        data = load_yaml(text, source=source, what="trust file", error=PolicyError)
        if not isinstance(data, dict):
            raise PolicyError("a trust file must be a YAML mapping with 'signers'", path=source)
        from pydantic import ValidationError

        from mlwarden.sign.trustfile import TrustFile

        try:
            spec = TrustFile.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "(top level)"
            more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
            raise PolicyError(f"field '{where}': {err['msg']}{more}", path=source) from None
        return spec.compile(base or Path("."), source)
