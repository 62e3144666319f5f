"""ECDSA keys (P-256, P-384, P-521): generation, PEM loading, and DSSE signers and verifiers.

The hash follows the curve as Sigstore and ``model_signing`` require: SHA-256 for P-256, SHA-384 for
P-384, SHA-512 for P-521. A key's id is the SHA-256 of its DER SubjectPublicKeyInfo, in hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import exceptions as crypto_exceptions
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mlwarden.core.errors import InputError

Curve = Literal["P-256", "P-384", "P-521"]
CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
MIN_PASSPHRASE = 8


def curve_name(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> str:
    """``P-256``/``P-384``/``P-521``; :class:`InputError` for any other curve."""
    name = _CURVE_NAMES.get(key.curve.name)
    if name is None:
        raise InputError(f"unsupported elliptic curve {key.curve.name} "
                         "(use P-256, P-384 or P-521)")
    return name


def hash_for(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> hashes.HashAlgorithm:
    """The signature hash for the key's curve (SHA-256/384/512)."""
    size = {"P-256": 256, "P-384": 384, "P-521": 512}[curve_name(key)]
    return {256: hashes.SHA256(), 384: hashes.SHA384(), 512: hashes.SHA512()}[size]


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 (hex) of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def public_pem(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_hint(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key hint ``model_signing`` writes in a bundle: SHA-256 (hex) of the PEM public key."""
    return hashlib.sha256(public_pem(public_key)).hexdigest()


def generate_private_key(curve: str = "P-256") -> ec.EllipticCurvePrivateKey:
    try:
        return ec.generate_private_key(CURVES[curve]())
    except KeyError:
        raise InputError(f"unknown curve {curve!r} (use P-256, P-384 or P-521)") from None


def private_pem(key: ec.EllipticCurvePrivateKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM, encrypted with ``passphrase`` (best available scheme) when one is given."""
    if passphrase is not None and len(passphrase) < MIN_PASSPHRASE:
        raise InputError(f"passphrase too short (at least {MIN_PASSPHRASE} characters)")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase
        else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             encryption)


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", path=path) from None
    except IsADirectoryError:
        raise InputError(f"is a directory, expected a {what}", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", path=path) from None


_ENCRYPTED_PEM = re.compile(rb"-----BEGIN ENCRYPTED PRIVATE KEY-----(.*?)"
                            rb"-----END ENCRYPTED PRIVATE KEY-----", re.S)


def _der_item(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER item at ``pos``; ValueError when cut short."""
    if pos + 2 > len(der):
        raise ValueError("truncated")
    tag, first = der[pos], der[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(der):
            raise ValueError("bad length")
        length = int.from_bytes(der[pos:pos + n], "big")
        pos += n
    if pos + length > len(der):
        raise ValueError("truncated")
    return tag, pos, pos + length


def encrypted_pem_damage(data: bytes) -> str | None:
    """Why a PKCS#8 ``ENCRYPTED PRIVATE KEY`` PEM is structurally broken (``None`` if it is whole,
    or not that format): damage is told apart from a wrong passphrase before decryption."""
    if b"ENCRYPTED PRIVATE KEY" not in data:
        return None
    match = _ENCRYPTED_PEM.search(data)
    if match is None:
        return "its PEM armour is cut off"
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        return "its base64 body does not decode"
    try:
        tag, start, end = _der_item(der, 0)
        if tag != 0x30 or end != len(der):
            return "its DER structure has the wrong length"
        tag, _, alg_end = _der_item(der, start)
        if tag != 0x30:
            return "its encryption algorithm is unreadable"
        tag, body, body_end = _der_item(der, alg_end)
        if tag != 0x04 or body_end != end:
            return "its encrypted data is malformed"
        if (body_end - body) % 8:
            return "its encrypted data is cut short"
    except ValueError:
        return "its DER structure is cut short"
    return None


def parse_private_key(data: bytes, passphrase: bytes | None, *,
                      source: str = "<key>") -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(data, passphrase)
    except TypeError as exc:
        if "encrypted" in str(exc).lower() and passphrase is None:
            raise InputError("private key is encrypted and no passphrase was given", path=source,
                             advice="use --passphrase-file or MLWARDEN_KEY_PASSPHRASE") from None
        raise InputError("private key is not encrypted but a passphrase was given",
                         path=source) from None
    except ValueError as exc:
        text = str(exc).lower()
        damage = encrypted_pem_damage(data)
        if damage is not None:
            raise InputError(f"the encrypted private key is corrupted ({damage})", path=source,
                             advice="restore the key file from a backup; the passphrase was "
                                    "not tried") from None
        if passphrase is not None and ("decrypt" in text or "password" in text
                                       or "bad" in text):
            raise InputError("wrong passphrase for the private key", path=source) from None
        raise InputError("not a PEM private key", path=source) from None
    except crypto_exceptions.UnsupportedAlgorithm:
        raise InputError("unsupported private key algorithm", path=source) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InputError(f"{type(key).__name__.lstrip('_')} is not an ECDSA key "
                         "(use P-256, P-384 or P-521)", path=source)
    try:
        curve_name(key)
    except InputError as exc:
        raise InputError(exc.message, path=source) from None
    return key


def parse_public_key(data: bytes, *, source: str = "<key>") -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, crypto_exceptions.UnsupportedAlgorithm):
        raise InputError("not a PEM public key", path=source) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InputError("not an ECDSA public key (use P-256, P-384 or P-521)", path=source)
    try:
        curve_name(key)
    except InputError as exc:
        raise InputError(exc.message, path=source) from None
    return key


def load_private_key(path: str | Path,
                     passphrase: bytes | str | None = None) -> ec.EllipticCurvePrivateKey:
    """A PEM ECDSA private key; wrong passphrase, wrong type or bad file → :class:`InputError`."""
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    return parse_private_key(_read(path, "private key"), passphrase or None, source=str(path))


def load_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    """A PEM ECDSA public key (SubjectPublicKeyInfo); anything else → :class:`InputError`."""
    return parse_public_key(_read(path, "public key"), source=str(path))


@dataclass(frozen=True)
class EcdsaSigner:
    """A DSSE :class:`~mlwarden.core.attestation.Signer` over an ECDSA private key."""

    private_key: ec.EllipticCurvePrivateKey

    def __post_init__(self) -> None:
        curve_name(self.private_key)

    @property
    def keyid(self) -> str:
        return key_id(self.private_key.public_key())

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        """DER-encoded ECDSA signature of ``data``."""
        return self.private_key.sign(data, ec.ECDSA(hash_for(self.private_key)))


@dataclass(frozen=True)
class EcdsaVerifier:
    """A DSSE :class:`~mlwarden.core.attestation.Verifier` over an ECDSA public key."""

    public_key: ec.EllipticCurvePublicKey

    def __post_init__(self) -> None:
        curve_name(self.public_key)

    @property
    def keyid(self) -> str:
        return key_id(self.public_key)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public_key.verify(signature, data, ec.ECDSA(hash_for(self.public_key)))
        except crypto_exceptions.InvalidSignature:
            return False
        return True
