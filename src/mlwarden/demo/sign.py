"""The demo's signing step: sign the trained model (OMS), verify it, and show a tamper caught."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


def step_sign(ctx: DemoContext) -> None:
    """Sign the model with a fresh P-256 release key; verify it; verify a tampered copy too."""
    from mlwarden.core.atomic import atomic_write_bytes
    from mlwarden.core.errors import VerificationError
    from mlwarden.core.report import CheckRun
    from mlwarden.sign.keys import EcdsaSigner, generate_private_key, public_pem
    from mlwarden.sign.signing import KeyMaterial, sign_model
    from mlwarden.sign.trust import Trust
    from mlwarden.sign.verify import CHECK_VERSION, verify_model

    model = ctx.artifacts["model"]
    signer = EcdsaSigner(generate_private_key("P-256"))
    public = ctx.workdir / "keys" / "release.pub"
    atomic_write_bytes(public, public_pem(signer.public_key))
    signed = sign_model(model, KeyMaterial(signer))
    ctx.artifacts["signature"] = signed.signature
    ctx.artifacts["public_key"] = public
    ctx.log(f"signed {model.name} (OpenSSF Model Signing bundle) -> {signed.signature.name}, "
            f"key {signer.keyid[:16]}…")

    trust = Trust.from_public_keys([public])
    result = verify_model(model, signed.signature, trust)
    ctx.facts["signature_verified"] = True
    ctx.facts["signer_keyid"] = result.identity.keyid
    ctx.facts["signed_model_digest"] = result.model_digest
    ctx.checks.append(CheckRun("sign.verify", CHECK_VERSION))
    ctx.log(f"verified: signed by {result.identity.describe()[:24]}…; model digest "
            f"{result.model_digest}")

    # An attacker swaps one byte of the weights: verification names the file and both digests.
    tampered = ctx.workdir / "tampered" / model.name
    tampered.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, tampered)
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    try:
        verify_model(tampered, signed.signature, trust)
    except VerificationError as exc:
        ctx.facts["tamper_detected"] = True
        ctx.log(f"tampered copy rejected: {exc.message[:160]}")
    else:  # pragma: no cover - would be a verification bug
        raise AssertionError("a tampered model verified")
