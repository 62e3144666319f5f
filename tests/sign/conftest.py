"""Fixtures for signing tests: key pairs on disk, small model trees, a test PKI."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import mlwarden.sign.signing
from mlwarden.sign.keys import generate_private_key, private_pem, public_pem
from tests.sign.oms_schema import assert_oms_conformant

ROOT = Path(__file__).resolve().parents[2]
MODEL_SIGNING_CLI = Path(sys.executable).parent / "model_signing"
"""The reference CLI installed beside the interpreter running the tests (the project's venv)."""


@pytest.fixture(autouse=True)
def oms_conformant_signatures(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every signature ``sign_model`` writes in these tests is checked against the OMS schemas."""
    written: list[Path] = []
    write = mlwarden.sign.signing.atomic_write_text

    def checked(path: str | Path, text: str, *args: Any, **kwargs: Any) -> Any:
        assert_oms_conformant(text)
        written.append(Path(path))
        return write(path, text, *args, **kwargs)

    monkeypatch.setattr(mlwarden.sign.signing, "atomic_write_text", checked)
    return written


@dataclass(frozen=True)
class KeyFiles:
    private: Path
    public: Path
    key: ec.EllipticCurvePrivateKey


def write_key(directory: Path, name: str, curve: str = "P-256") -> KeyFiles:
    key = generate_private_key(curve)
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / f"{name}.pem"
    public = directory / f"{name}.pub"
    private.write_bytes(private_pem(key, None))
    public.write_bytes(public_pem(key.public_key()))
    return KeyFiles(private, public, key)


@pytest.fixture
def keys(tmp_path: Path) -> Callable[..., KeyFiles]:
    def make(name: str = "signer", curve: str = "P-256") -> KeyFiles:
        return write_key(tmp_path / "keys", name, curve)
    return make


def make_model(root: Path, name: str = "model") -> Path:
    """A small model whose two orderings differ: ``tokenizer/`` beside ``tokenizer.json``."""
    model = root / name
    (model / "tokenizer").mkdir(parents=True)
    (model / "tokenizer.json").write_bytes(b'{"model": {"vocab": {"a": 0}}}')
    (model / "tokenizer" / "vocab.txt").write_bytes(b"a\nb\n")
    (model / "config.json").write_bytes(b'{"hidden": 4}')
    (model / "weights.safetensors").write_bytes(os.urandom(4096))
    return model


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path)


# ---------------------------------------------------------------------------------------------
# A test PKI: root CA → intermediate CA → leaf (code signing)

@dataclass(frozen=True)
class Pki:
    root: Path
    intermediate: Path
    leaf: Path
    chain: Path
    """leaf then intermediate, one PEM file (what signing needs)."""
    leaf_key: Path
    subject: str


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example")])


def _cert(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
          issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool, signing: bool = True,
          san: str | None = None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=signing, content_commitment=False, key_encipherment=not signing,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        if signing:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(san)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_pki(directory: Path, *, signing: bool = True, tag: str = "") -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    root_key, inter_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root_name, inter_name = _name(f"Test Root CA{tag}"), _name(f"Test Intermediate CA{tag}")
    leaf_name = _name(f"ml-release{tag}")
    root = _cert(root_name, root_key, root_name, root_key, ca=True)
    inter = _cert(inter_name, inter_key, root_name, root_key, ca=True)
    leaf = _cert(leaf_name, leaf_key, inter_name, inter_key, ca=False, signing=signing,
                 san="release@example.com")
    paths = Pki(directory / "root.pem", directory / "intermediate.pem", directory / "leaf.pem",
                directory / "chain.pem", directory / "leaf.key", leaf_name.rfc4514_string())
    paths.root.write_bytes(_pem(root))
    paths.intermediate.write_bytes(_pem(inter))
    paths.leaf.write_bytes(_pem(leaf))
    paths.chain.write_bytes(_pem(leaf) + _pem(inter))
    paths.leaf_key.write_bytes(private_pem(leaf_key, None))
    return paths


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


def make_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed code-signing certificate ``CN=self-signed-release`` and its key (PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "self-signed-release")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "self.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "self.key").write_bytes(private_pem(key, None))
    return directory / "self.pem", directory / "self.key"
