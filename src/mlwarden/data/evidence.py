"""The data-check evidence kind: a signed result of a check on a model's data."""

from __future__ import annotations

from mlwarden.core.evidence import DATA_CHECK_PREDICATE, CheckResultKind


class DataCheckEvidence(CheckResultKind):
    name = "data-check"
    requirement = "data_checks"
    predicate_types = (DATA_CHECK_PREDICATE,)
    description = "a signed data-check result (contract, drift, PII, poisoning) that passed"
