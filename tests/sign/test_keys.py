"""ECDSA key loading, key ids and the curve-bound hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from mlwarden.core.errors import InputError
from mlwarden.sign.keys import (
    EcdsaSigner,
    EcdsaVerifier,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_pem,
    public_pem,
)


def test_key_id_is_sha256_of_der_spki() -> None:
    key = generate_private_key("P-384").public_key()
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    assert key_id(key) == hashlib.sha256(der).hexdigest()


def test_encrypted_key_round_trip_and_wrong_passphrase(tmp_path: Path) -> None:
    key = generate_private_key("P-256")
    path = tmp_path / "k.pem"
    path.write_bytes(private_pem(key, b"correct horse"))
    assert b"ENCRYPTED" in path.read_bytes()
    loaded = load_private_key(path, "correct horse")
    assert key_id(loaded.public_key()) == key_id(key.public_key())
    with pytest.raises(InputError, match="wrong passphrase"):
        load_private_key(path, "incorrect horse")
    with pytest.raises(InputError, match="encrypted and no passphrase"):
        load_private_key(path, None)


def test_short_passphrase_is_refused() -> None:
    with pytest.raises(InputError, match="too short"):
        private_pem(generate_private_key(), b"short")


def test_public_key_loading(tmp_path: Path) -> None:
    key = generate_private_key("P-521")
    pub = tmp_path / "k.pub"
    pub.write_bytes(public_pem(key.public_key()))
    verifier = EcdsaVerifier(load_public_key(pub))
    signer = EcdsaSigner(key)
    assert verifier.keyid == signer.keyid
    assert verifier.verify(signer.sign(b"data"), b"data")
    assert not verifier.verify(signer.sign(b"data"), b"date")


def test_non_ecdsa_and_garbage_keys_are_refused(tmp_path: Path) -> None:
    ed = ed25519.Ed25519PrivateKey.generate()
    (tmp_path / "ed.pem").write_bytes(ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "ed.pub").write_bytes(ed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "junk").write_bytes(b"-----BEGIN PUBLIC KEY-----\nnope\n")
    with pytest.raises(InputError, match="not an ECDSA key"):
        load_private_key(tmp_path / "ed.pem")
    with pytest.raises(InputError, match="not an ECDSA public key"):
        load_public_key(tmp_path / "ed.pub")
    with pytest.raises(InputError, match="not a PEM public key"):
        load_public_key(tmp_path / "junk")
    with pytest.raises(InputError, match="not found"):
        load_public_key(tmp_path / "missing")
    with pytest.raises(InputError, match="not a PEM private key"):
        load_private_key(tmp_path / "junk")


def test_unsupported_curve_is_refused(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256K1())
    (tmp_path / "k1.pub").write_bytes(public_pem(key.public_key()))
    with pytest.raises(InputError, match="unsupported elliptic curve"):
        load_public_key(tmp_path / "k1.pub")
    with pytest.raises(InputError, match="unknown curve"):
        generate_private_key("P-192")
