"""The scan evidence kind. A scan report pushed with a version is kept as evidence but never
trusted: when a policy requires ``scan``, the gate scans the bytes itself."""

from __future__ import annotations

from mlwarden.core.evidence import SCAN_PREDICATE, EvidenceKind


class ScanEvidence(EvidenceKind):
    name = "scan"
    requirement = "scan"
    predicate_types = (SCAN_PREDICATE,)
    statement = False
    description = "a scan of the model's files (run by the gate itself)"
