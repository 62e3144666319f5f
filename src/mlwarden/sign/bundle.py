"""Sigstore bundles (v0.3 JSON) that carry an OMS signature: the ``model.sig`` file.

Three kinds of verification material, as ``model_signing`` writes them:

* ``publicKey.hint`` (private-key signing): SHA-256 (hex) of the PEM public key;
* ``x509CertificateChain.certificates[].rawBytes`` (PKI signing): the leaf first, DER, base64;
* ``certificate`` plus ``tlogEntries`` (Sigstore keyless): verified through ``model_signing``;
  a ``certificate`` with no log entry (the Go client's certificate method without a chain) is read
  as a chain of that one certificate and validated to the trusted roots like any other.

A file that is not a bundle (truncated, corrupted, not JSON, missing fields) raises
:class:`~mlwarden.core.errors.VerificationError` naming the file and what is wrong with it: a
damaged signature is a failed verification (exit 1), not a usage error.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.core.attestation import Envelope
from mlwarden.core.errors import InputError, VerificationError

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGSTORE_MEDIA_TYPES = (
    BUNDLE_MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
)
MAX_SIGNATURE_BYTES = 64 << 20


class SignatureFileError(VerificationError):
    """The signature file is missing, truncated or not a Sigstore bundle."""


@dataclass(frozen=True, slots=True)
class Bundle:
    """A parsed bundle: the DSSE envelope and the verification material beside it."""

    envelope: Envelope
    media_type: str = BUNDLE_MEDIA_TYPE
    public_key_hint: str | None = None
    certificate_chain: tuple[bytes, ...] = ()
    """DER certificates, leaf first (PKI signing)."""
    sigstore_certificate: bytes | None = None
    """The Fulcio leaf certificate (DER) of a keyless Sigstore signature."""
    tlog_entries: tuple[Mapping[str, Any], ...] = field(default=(), hash=False)

    def __post_init__(self) -> None:
        kinds = sum(bool(x) for x in (self.public_key_hint is not None, self.certificate_chain,
                                      self.sigstore_certificate))
        if kinds > 1:
            raise InputError("a bundle carries exactly one kind of verification material")
        if len(self.envelope.signatures) != 1:
            raise InputError("an OMS bundle carries exactly one DSSE signature")

    @property
    def method(self) -> str:
        """``key``, ``pki`` or ``sigstore``."""
        if self.certificate_chain:
            return "pki"
        if self.sigstore_certificate is not None or self.tlog_entries:
            return "sigstore"
        return "key"

    def to_dict(self) -> dict[str, Any]:
        material: dict[str, Any]
        if self.certificate_chain:
            material = {"x509CertificateChain": {"certificates": [
                {"rawBytes": base64.b64encode(der).decode("ascii")}
                for der in self.certificate_chain]}}
        elif self.sigstore_certificate is not None:
            material = {"certificate": {
                "rawBytes": base64.b64encode(self.sigstore_certificate).decode("ascii")}}
        else:
            material = {"publicKey": {"hint": self.public_key_hint or ""}}
        material["tlogEntries"] = [dict(e) for e in self.tlog_entries]
        envelope = self.envelope.to_dict()
        return {
            "mediaType": self.media_type,
            "verificationMaterial": material,
            "dsseEnvelope": {
                "payload": envelope["payload"],
                "payloadType": envelope["payloadType"],
                "signatures": [{"sig": s["sig"], "keyid": s["keyid"]}
                               for s in envelope["signatures"]],
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, data: bytes | str, *, source: str = "<signature>") -> Bundle:
        def fail(message: str) -> SignatureFileError:
            return SignatureFileError(f"signature file is corrupted: {message}", path=source,
                                      advice="re-sign the model or fetch the signature again")

        try:
            raw = json.loads(data)
        except UnicodeDecodeError:
            raise fail("not UTF-8 text") from None
        except RecursionError:
            raise fail("JSON nested too deeply") from None
        except ValueError as exc:
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
            if text.lstrip().startswith("{") and not text.rstrip().endswith("}"):
                raise SignatureFileError(
                    f"signature file is truncated (JSON ends at byte {len(data)})",
                    path=source, advice="re-sign the model or fetch the signature again",
                ) from None
            raise fail(f"not JSON ({exc})") from None
        if not isinstance(raw, Mapping):
            raise fail("not a JSON object")
        media_type = raw.get("mediaType")
        if media_type not in SIGSTORE_MEDIA_TYPES:
            raise fail(f"mediaType is {media_type!r}, expected {BUNDLE_MEDIA_TYPE!r}")
        material = raw.get("verificationMaterial")
        if not isinstance(material, Mapping):
            raise fail("no verificationMaterial")
        envelope_raw = raw.get("dsseEnvelope")
        if not isinstance(envelope_raw, Mapping):
            if "messageSignature" in raw:
                raise fail("a message signature, not a DSSE envelope (not an OMS signature)")
            raise fail("no dsseEnvelope")
        try:
            envelope = Envelope.from_dict(envelope_raw, source=source)
        except InputError as exc:
            raise fail(exc.message) from None
        if len(envelope.signatures) != 1:
            raise fail(f"expected one DSSE signature, found {len(envelope.signatures)}")
        tlog = material.get("tlogEntries", [])
        if not isinstance(tlog, list) or not all(isinstance(e, Mapping) for e in tlog):
            raise fail("tlogEntries is not a list of objects")
        hint: str | None = None
        chain: tuple[bytes, ...] = ()
        leaf: bytes | None = None
        if "x509CertificateChain" in material:
            certs = material["x509CertificateChain"]
            items = certs.get("certificates") if isinstance(certs, Mapping) else None
            if not isinstance(items, list) or not items:
                raise fail("x509CertificateChain has no certificates")
            chain = tuple(_b64(c.get("rawBytes") if isinstance(c, Mapping) else None,
                               f"certificates[{i}].rawBytes", fail)
                          for i, c in enumerate(items))
        elif "certificate" in material:
            cert = material["certificate"]
            der = _b64(cert.get("rawBytes") if isinstance(cert, Mapping) else None,
                       "certificate.rawBytes", fail)
            if tlog:
                leaf = der
            else:
                # The Go client's certificate method without a chain writes the signing
                # certificate here (sigstore-go's field) with no transparency log entry: not a
                # Sigstore signature (that needs a log entry) but a one-certificate chain.
                chain = (der,)
        elif "publicKey" in material:
            key = material["publicKey"]
            if not isinstance(key, Mapping):
                raise fail("publicKey is not an object")
            value = key.get("hint") or ""
            if not isinstance(value, str):
                raise fail("publicKey.hint is not a string")
            hint = value
        else:
            raise fail("verificationMaterial has no publicKey, certificate or certificate chain")
        return cls(envelope=envelope, media_type=str(media_type), public_key_hint=hint,
                   certificate_chain=chain, sigstore_certificate=leaf,
                   tlog_entries=tuple(tlog))

    @classmethod
    def load(cls, path: str | Path) -> Bundle:
        path = Path(path)
        try:
            size = path.stat().st_size
            if size > MAX_SIGNATURE_BYTES:
                raise SignatureFileError(f"signature file is {size} bytes, over the "
                                         f"{MAX_SIGNATURE_BYTES} byte limit", path=path)
            data = path.read_bytes()
        except FileNotFoundError:
            raise UnsignedError("no signature file: the model is unsigned", path=path,
                                advice="sign it with 'mlwarden sign' or pass --signature") from None
        except IsADirectoryError:
            raise SignatureFileError("signature path is a directory", path=path) from None
        except OSError as exc:
            raise SignatureFileError(f"cannot read the signature: {exc.strerror or exc}",
                                     path=path) from None
        if not data.strip():
            raise SignatureFileError("signature file is empty", path=path,
                                     advice="re-sign the model or fetch the signature again")
        return cls.from_json(data, source=str(path))


class UnsignedError(VerificationError):
    """There is no signature for the model."""


def _b64(value: Any, name: str, fail: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise fail(f"{name} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise fail(f"{name} is not valid base64") from None
