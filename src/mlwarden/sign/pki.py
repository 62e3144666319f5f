"""X.509 certificate chains: loading, chain validation to trusted roots, and signer identities.

Validation follows ``model_signing``: the chain (leaf first, then intermediates, as carried in the
bundle) must build to one of the trusted root certificates *at the time the leaf became valid*
(an OMS signature has no trusted timestamp; a signature made while the certificate was valid stays
valid), and the leaf must allow signing (key usage ``digitalSignature`` or extended key usage
``codeSigning``). The chain is built by OpenSSL through pyOpenSSL, as ``model_signing`` does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from mlwarden.core.errors import ConfigError, InputError, VerificationError


@dataclass(frozen=True, slots=True)
class SignerIdentity:
    """Who a verified signature says signed: a key, a certificate, or a Sigstore identity."""

    method: str
    """``key``, ``pki`` or ``sigstore``."""
    keyid: str
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo of the key that verified the signature."""
    subject: str | None = None
    """The leaf certificate's subject (RFC 4514), for ``pki``."""
    sans: tuple[str, ...] = ()
    """Subject alternative names (emails, URIs, DNS names) of the leaf certificate."""
    issuer: str | None = None
    """The OIDC issuer (``sigstore``) or the leaf's issuer DN (``pki``)."""
    root_fingerprint: str | None = None
    """SHA-256 (hex) of the DER trust anchor the chain built to, for ``pki``."""

    def describe(self) -> str:
        if self.method == "key":
            return f"key {self.keyid}"
        who = self.subject or ", ".join(self.sans) or "(no subject)"
        if self.method == "pki":
            return f"certificate '{who}' (key {self.keyid[:16]}…, root sha256:" \
                   f"{(self.root_fingerprint or '')[:16]}…)"
        return f"sigstore identity '{', '.join(self.sans) or who}' from {self.issuer}"

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "keyid": self.keyid, "subject": self.subject,
                "sans": list(self.sans), "issuer": self.issuer,
                "root_fingerprint": self.root_fingerprint}


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """Every PEM certificate in ``path`` (at least one)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError("certificate file not found", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read certificate: {exc.strerror or exc}", path=path) from None
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise InputError("no PEM certificate in the file", path=path) from None
    return certs


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def subject_alternative_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    names: list[str] = []
    for kind in (x509.RFC822Name, x509.UniformResourceIdentifier, x509.DNSName):
        names.extend(str(v) for v in ext.value.get_values_for_type(kind))
    return tuple(names)


def _can_sign(cert: x509.Certificate) -> bool:
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        return ExtendedKeyUsageOID.CODE_SIGNING in eku
    except x509.ExtensionNotFound:
        return False


def verify_chain(chain_der: Sequence[bytes], roots: Sequence[x509.Certificate],
                 *, source: str = "<signature>") -> tuple[x509.Certificate, x509.Certificate]:
    """Validate ``chain_der`` (leaf first) to one of ``roots``; return (leaf, root it built to)."""
    try:
        from OpenSSL import crypto
    except ImportError:  # model-signing 1.1.1 needs it too but does not declare it
        raise ConfigError("certificate chains are verified with pyOpenSSL, which is not "
                          "installed", advice="pip install 'mlwarden[sign]'") from None

    if not roots:
        raise VerificationError("no trusted root certificate to verify the chain with",
                                path=source)
    try:
        chain = [x509.load_der_x509_certificate(der) for der in chain_der]
    except ValueError:
        raise VerificationError("a certificate in the signature's chain is not valid DER",
                                path=source) from None
    leaf = chain[0]
    if not isinstance(leaf.public_key(), ec.EllipticCurvePublicKey):
        raise VerificationError("the signing certificate does not hold an ECDSA key",
                                path=source)
    store = crypto.X509Store()
    by_subject: dict[bytes, list[x509.Certificate]] = {}
    for root in roots:
        store.add_cert(crypto.X509.from_cryptography(root))
        by_subject.setdefault(root.subject.public_bytes(), []).append(root)
    store.set_time(leaf.not_valid_before_utc)
    context = crypto.X509StoreContext(
        store, crypto.X509.from_cryptography(leaf),
        [crypto.X509.from_cryptography(c) for c in chain[1:]])
    try:
        built = context.get_verified_chain()
    except crypto.X509StoreContextError as exc:
        who = leaf.subject.rfc4514_string() or "(empty subject)"
        raise VerificationError(f"certificate chain of '{who}' does not verify to a trusted "
                                f"root: {exc.args[0] if exc.args else exc}", path=source) from None
    anchor = built[-1].to_cryptography()
    now = dt.datetime.now(dt.UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        # Spec 8.2: the leaf must be within its validity period. model_signing 1.1.1 checks the
        # chain at the leaf's notBefore and so accepts an expired certificate; mlwarden does not.
        when = "expired on" if now > leaf.not_valid_after_utc else "is not valid before"
        stamp = (leaf.not_valid_after_utc if now > leaf.not_valid_after_utc
                 else leaf.not_valid_before_utc)
        raise VerificationError(f"signing certificate '{leaf.subject.rfc4514_string()}' "
                                f"{when} {stamp:%Y-%m-%d %H:%M} UTC", path=source,
                                advice="re-sign the model with a valid certificate")
    if not _can_sign(leaf):
        raise VerificationError(f"certificate '{leaf.subject.rfc4514_string()}' may not sign "
                                "(needs key usage digitalSignature or extended key usage "
                                "codeSigning)", path=source)
    return leaf, anchor

