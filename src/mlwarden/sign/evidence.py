"""The signature evidence kind: an OpenSSF Model Signing bundle (verified by the gate with
:mod:`mlwarden.sign.verify` against the policy's trusted keys, not as a bare statement)."""

from __future__ import annotations

from mlwarden.core.evidence import OMS_LEGACY_PREDICATE, OMS_SIGNATURE_PREDICATE, EvidenceKind


class SignatureEvidence(EvidenceKind):
    name = "signature"
    requirement = "signature"
    predicate_types = (OMS_SIGNATURE_PREDICATE, OMS_LEGACY_PREDICATE)
    statement = False
    description = "an OMS signature over every file of the model by a trusted key"
