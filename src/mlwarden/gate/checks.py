"""The individual checks of the gate: signatures, signed attestations, trusted keys.

Each raises :class:`VerificationError` (or :class:`InputError` for malformed evidence) naming what
failed; :mod:`.engine` turns that into a finding and a deny reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlwarden.core.errors import InputError, VerificationError

if TYPE_CHECKING:
    from mlwarden.core.attestation import Statement
    from mlwarden.sign.keys import EcdsaVerifier


def load_verifiers(keys: Sequence[tuple[str, bytes]]) -> list[EcdsaVerifier]:
    from mlwarden.sign.keys import EcdsaVerifier, parse_public_key

    return [EcdsaVerifier(parse_public_key(pem, source=label)) for label, pem in keys]


def verifiers_from_paths(paths: Sequence[Path]) -> list[EcdsaVerifier]:
    out: list[tuple[str, bytes]] = []
    for p in paths:
        try:
            out.append((str(p), p.read_bytes()))
        except OSError as exc:
            raise InputError(f"cannot read key: {exc.strerror or exc}", path=p) from None
    return load_verifiers(out)


def _signed_by(envelope_sig: bytes, message: bytes, verifiers: Sequence[EcdsaVerifier]) -> str:
    for v in verifiers:
        if v.verify(envelope_sig, message):
            return v.keyid
    return ""


def verify_oms_signature(model: Path, bundle_text: str, verifiers: Sequence[EcdsaVerifier], *,
                         source: str) -> str:
    """Verify an OMS (model_signing) bundle over the files at ``model``; return the signer key id.

    The DSSE signature must verify with a trusted key, and every file named in the signed manifest
    must hash as signed, with no file missing or added.
    """
    from mlwarden.core.attestation import DSSE_PAYLOAD_TYPE, pae, verify_envelope
    from mlwarden.sign.bundle import Bundle
    from mlwarden.sign.manifest import hash_model
    from mlwarden.sign.oms import statement_to_manifest

    if not verifiers:
        raise VerificationError("the policy names no trusted key to verify the signature with",
                                path=source, advice="add trusted_keys to the gate policy")
    bundle = Bundle.from_json(bundle_text, source=source)
    if bundle.method != "key":
        raise VerificationError(f"{bundle.method} signatures are not accepted by the gate; "
                                "sign with a key the policy trusts", path=source)
    statement = verify_envelope(bundle.envelope, verifiers, source=source)
    signed, _sizes = statement_to_manifest(statement, source=source,
                                           single_file=model.is_file())
    actual = hash_model(model, serialization=signed.serialization)
    want, have = signed.by_name, actual.by_name
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    changed = sorted(n for n in set(want) & set(have) if want[n].digest != have[n].digest)
    if missing or extra or changed:
        parts = [f"{label}: {', '.join(names[:5])}" for label, names in
                 (("changed", changed), ("missing", missing), ("added", extra)) if names]
        raise VerificationError("the files do not match the signature (" + "; ".join(parts) + ")",
                                path=source)
    message = pae(DSSE_PAYLOAD_TYPE, bundle.envelope.payload)
    return _signed_by(bundle.envelope.signatures[0].sig, message, verifiers)


def verify_signature_bundles(model: Path, bundles: Sequence[str], verifiers: Sequence[EcdsaVerifier],
                             *, source: str) -> list[str]:
    """The key ids of trusted signers; raises naming every failure when none verifies."""
    problems: list[str] = []
    for index, text in enumerate(bundles):
        where = source if len(bundles) == 1 else f"{source} signature #{index + 1}"
        try:
            return [verify_oms_signature(model, text, verifiers, source=where)]
        except (VerificationError, InputError) as exc:
            problems.append(exc.one_line())
    raise VerificationError("; ".join(problems) or "no signature to verify")


def subject_digests(model: Path) -> set[str]:
    """The hex digests an attestation about ``model`` may name: model digest and OMS root digest."""
    from mlwarden.sign.manifest import hash_model

    manifest = hash_model(model)
    return {manifest.model_digest().removeprefix("sha256:"), manifest.root_digest()}


def verify_statement(envelope_text: str, verifiers: Sequence[EcdsaVerifier], digests: set[str], *,
                     source: str, predicate_types: Sequence[str] = ()) -> Statement:
    """A DSSE-signed in-toto statement, by a trusted key, whose subject is this model."""
    from mlwarden.core.attestation import Envelope, verify_envelope

    if not verifiers:
        raise VerificationError("the policy names no trusted key to verify it with", path=source)
    try:
        data = json.loads(envelope_text)
    except ValueError:
        raise InputError("not JSON", path=source) from None
    if isinstance(data, dict) and "dsseEnvelope" in data:  # a Sigstore bundle around the envelope
        data = data["dsseEnvelope"]
    statement = verify_envelope(Envelope.from_dict(data, source=source), verifiers, source=source)
    if predicate_types and statement.predicate_type not in predicate_types:
        raise VerificationError(f"predicateType is {statement.predicate_type!r}, expected "
                                f"{' or '.join(predicate_types)}", path=source)
    named = {d for s in statement.subjects for alg, d in s.digest.items() if alg == "sha256"}
    if not named & digests:
        raise VerificationError("its subject is not this model (no subject digest matches)",
                                path=source)
    return statement


def check_result_passed(statement: Statement, *, source: str) -> None:
    """A check attestation's predicate must say it passed (``passed`` or ``decision.allowed``)."""
    p = statement.predicate
    passed = p.get("passed")
    decision = p.get("decision")
    if passed is None and isinstance(decision, dict):
        passed = decision.get("allowed")
    if passed is not True:
        raise VerificationError("the attested check did not pass" if passed is False
                                else "the attestation does not say whether the check passed",
                                path=source)
