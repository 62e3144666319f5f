"""Test helpers: real keys, real OMS signatures and DSSE attestations, hostile model files."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

from mlwarden.core.attestation import Statement, Subject, sign_statement
from mlwarden.sign.bundle import Bundle
from mlwarden.sign.keys import EcdsaSigner, generate_private_key, pem_hint, public_pem
from mlwarden.sign.manifest import hash_model
from mlwarden.sign.oms import manifest_to_statement


def new_key(tmp: Path, name: str) -> tuple[EcdsaSigner, Path]:
    """A fresh P-256 signer and the path of its PEM public key."""
    signer = EcdsaSigner(generate_private_key("P-256"))
    pub = tmp / f"{name}.pub"
    pub.write_bytes(public_pem(signer.public_key))
    return signer, pub


def oms_signature(model: Path, signer: EcdsaSigner) -> str:
    """A real OMS (model_signing v1.0) bundle over ``model``, signed with ``signer``."""
    from ..sign.oms_schema import assert_oms_conformant

    statement = manifest_to_statement(hash_model(model))
    envelope = sign_statement(statement, signer)
    text = Bundle(envelope, public_key_hint=pem_hint(signer.public_key)).to_json()
    assert_oms_conformant(text)  # every bundle the registry and gate tests use meets the spec
    return text


def check_attestation(model: Path, signer: EcdsaSigner, *, passed: bool,
                      predicate_type: str = "https://mlwarden.dev/attestations/model-test/v1"
                      ) -> str:
    digest = hash_model(model).model_digest().removeprefix("sha256:")
    statement = Statement((Subject(model.name, {"sha256": digest}),), predicate_type,
                          {"passed": passed})
    return sign_statement(statement, signer).to_json()


class _Evil:
    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("echo pwned",))


def evil_pickle(path: Path) -> Path:
    """A pickle that would call os.system on load (built, never loaded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Evil()))
    return path


def weights_file(content: bytes) -> bytes:
    """A real (empty) safetensors file carrying ``content`` in its metadata: distinct bytes for
    distinct ``content``, and a format the scanner recognises (unknown content under a model
    file name is unscanned, which the default policy denies)."""
    header = json.dumps({"__metadata__": {"content": content.hex()}}).encode()
    return len(header).to_bytes(8, "little") + header


def clean_model(path: Path, content: bytes = b"weights-v1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(weights_file(content))
    return path


def policy_file(tmp: Path, name: str, *, gate: str, extra: str = "") -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(f"name: {name}\nfail_on: high\n{extra}gate:\n" + "".join(
        line[2:] + "\n" for line in gate.splitlines()))
    return p
