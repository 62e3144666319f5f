"""Sigstore keyless signing, tested at its boundary: the configuration handed to model_signing, and
a clear error (never a traceback) when Fulcio, Rekor or the OIDC issuer cannot be reached."""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import pytest
from model_signing._signing import sign_sigstore

from mlwarden.core.attestation import DSSE_PAYLOAD_TYPE, Envelope, Signature
from mlwarden.core.errors import VerificationError
from mlwarden.sign.bundle import Bundle
from mlwarden.sign.signing import (
    SigstoreUnavailableError,
    sign_model_sigstore,
    sigstore_signing_config,
)
from mlwarden.sign.trust import AllOf, AnyOf, SigstoreIdentityIs, Trust
from mlwarden.sign.verify import verify_model


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(101, "Network is unreachable (test: offline)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_signing_config_is_built_for_keyless_files_sha256(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_init(self: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(sign_sigstore.Signer, "__init__", fake_init)
    config = sigstore_signing_config(use_staging=True, identity_token="eyJ.token",
                                     ignore=["model.sig"])
    assert isinstance(config._signer, sign_sigstore.Signer)
    assert seen["use_staging"] is True and seen["identity_token"] == "eyJ.token"
    assert seen["use_ambient_credentials"] is True
    hashing = config._hashing_config
    assert "model.sig" in {str(p) for p in hashing._ignored_paths}
    assert hashing._ignore_git_paths is True
    serializer = hashing._serializer
    assert serializer._serialization_description.serialization_parameters["hash_type"] == "sha256"
    assert serializer._serialization_description.serialization_parameters["method"] == "files"


def test_offline_signing_is_a_clear_error(model: Path, offline: None) -> None:
    with pytest.raises(SigstoreUnavailableError) as info:
        sign_model_sigstore(model, identity_token="eyJ.token")
    line = info.value.one_line()
    assert line.startswith("Sigstore keyless signing failed")
    assert "network access" in line and "--key" in line
    assert not (model / "model.sig").exists()


def test_offline_sigstore_verification_is_a_clear_error(model: Path, offline: None) -> None:
    envelope = Envelope(b"{}", DSSE_PAYLOAD_TYPE, (Signature("", b"sig"),))
    bundle = Bundle(envelope=envelope, sigstore_certificate=b"\x30\x03\x02\x01\x01",
                    tlog_entries=({"logIndex": "1"},))
    (model / "model.sig").write_text(bundle.to_json())
    assert Bundle.load(model / "model.sig").method == "sigstore"
    identity, issuer = "release@example.com", "https://accounts.example.com"
    trust = Trust(policy=AnyOf((AllOf((SigstoreIdentityIs(identity, issuer),)),)),
                  sigstore=((identity, issuer),))
    with pytest.raises(VerificationError, match="does not verify for any trusted identity"):
        verify_model(model, None, trust)
    # Without a Sigstore identity to trust, the message says what to pass.
    key_trust = Trust(policy=trust.policy)
    with pytest.raises(VerificationError, match="no trusted Sigstore identity") as info:
        verify_model(model, None, key_trust)
    assert "--identity and --issuer" in info.value.one_line()


def test_bundle_round_trip_keeps_the_material() -> None:
    envelope = Envelope(b"{}", DSSE_PAYLOAD_TYPE, (Signature("", b"sig"),))
    bundle = Bundle(envelope=envelope, sigstore_certificate=b"der", tlog_entries=({"a": 1},))
    again = Bundle.from_json(bundle.to_json())
    assert again.sigstore_certificate == b"der" and again.method == "sigstore"
    assert again.to_dict()["verificationMaterial"]["certificate"]["rawBytes"] == \
        base64.b64encode(b"der").decode()
