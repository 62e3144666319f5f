"""The individual checks of the gate: signatures, signed attestations, trusted keys.

Each raises :class:`VerificationError` (or :class:`InputError` for malformed evidence) naming what
failed; :mod:`.engine` turns that into a finding and a deny reason.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.finding import Finding

if TYPE_CHECKING:
    from mlwarden.core.attestation import Statement
    from mlwarden.core.evidence import EvidenceKind
    from mlwarden.sign.keys import EcdsaVerifier
    from mlwarden.sign.trust import Trust


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


def _trust(verifiers: Sequence[EcdsaVerifier]) -> Trust:
    """A signing trust that accepts exactly these keys, for any model."""
    from mlwarden.sign.trust import AllOf, AnyOf, KeyIs, Trust, TrustedKey

    if not verifiers:
        raise VerificationError("the policy names no trusted key to verify the signature with",
                                advice="add trusted_keys to the gate policy")
    keys = tuple(TrustedKey(f"trusted key {v.keyid[:16]}", v.public_key) for v in verifiers)
    policy = AnyOf(tuple(AllOf((KeyIs(k.keyid),), name=k.name) for k in keys))
    return Trust(policy=policy, keys=keys, source="gate policy")


def signature_findings(model: Path, bundles: Sequence[str], verifiers: Sequence[EcdsaVerifier]
                       ) -> tuple[list[Finding], str | None, list[Path]]:
    """Verify the OMS bundles over ``model`` with :mod:`mlwarden.sign.verify`.

    Returns ``([], signer key id, _)`` when one verifies, else the ``MW-SIGN-*`` findings of every
    bundle and the temporary signature paths they name (for the caller to relabel).
    """
    from mlwarden.sign.verify import verification_findings

    trust = _trust(verifiers)
    findings: list[Finding] = []
    paths: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="mlwarden-sig-") as tmp:
        for index, text in enumerate(bundles):
            sig = Path(tmp) / f"signature-{index + 1}.sig"
            sig.write_text(text, encoding="utf-8")
            paths.append(sig)
            found, result = verification_findings(model, sig, trust)
            if result is not None:
                return [], result.identity.keyid, paths
            findings.extend(found)
    return findings, None, paths


def verify_signature_bundles(model: Path, bundles: Sequence[str],
                             verifiers: Sequence[EcdsaVerifier], *, source: str) -> list[str]:
    """The key id of a trusted signer; raises :class:`VerificationError` naming what failed."""
    findings, keyid, _ = signature_findings(model, bundles, verifiers)
    if keyid is not None:
        return [keyid]
    head = "; ".join(f.message for f in findings[:3]) or "no signature to verify"
    raise VerificationError(f"signature does not verify: {head}", path=source)


def subject_digests(model: Path) -> set[str]:
    """The hex digests an attestation about ``model`` may name: model digest and OMS root digest."""
    from mlwarden.sign.manifest import hash_model

    manifest = hash_model(model)
    return {manifest.model_digest().removeprefix("sha256:"), manifest.root_digest()}


def verify_statement(envelope_text: str, verifiers: Sequence[EcdsaVerifier], digests: set[str], *,
                     source: str, kind: type[EvidenceKind]) -> Statement:
    """A DSSE-signed in-toto statement, by a trusted key, whose subject is this model, of
    ``kind``'s predicate type, whose predicate validates and holds (:meth:`EvidenceKind.check`)."""
    from mlwarden.core.attestation import Envelope, verify_envelope

    if not verifiers:
        raise VerificationError("the policy names no trusted key to verify it with", path=source)
    try:
        data = json.loads(envelope_text)
    except ValueError:
        raise InputError("not JSON", path=source) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", path=source) from None
    if isinstance(data, dict) and "dsseEnvelope" in data:  # a Sigstore bundle around the envelope
        data = data["dsseEnvelope"]
    statement = verify_envelope(Envelope.from_dict(data, source=source), verifiers, source=source)
    named = {d for s in statement.subjects for alg, d in s.digest.items() if alg == "sha256"}
    if not named & digests:
        raise VerificationError("its subject is not this model (no subject digest matches)",
                                path=source)
    kind.check(statement, source=source)
    return statement
