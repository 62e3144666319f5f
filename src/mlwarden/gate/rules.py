"""Rules of the gate: each unmet requirement is a finding (visible in SARIF) and a deny reason."""

from __future__ import annotations

from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

SCAN_UNAVAILABLE = register(Rule(
    id="MW-GATE-001", name="ScanNotPossible", title="Required scan could not run",
    description="The policy requires a scan of the model, but the scanner could not run on it. "
                "An unscanned model never passes the gate.",
    severity=Severity.HIGH,
    remediation="Install mlwarden with the scan extra, or fix the input so it can be scanned.",
    references=("ML06", "AML.T0010"),
))
MISSING_SIGNATURE = register(Rule(
    id="MW-GATE-002", name="MissingSignature", title="Required signature missing",
    description="The policy requires an OMS signature by a trusted key, and the model has none.",
    severity=Severity.HIGH,
    remediation="Sign the model (mlwarden sign) and attach the signature (--signature, or "
                "mlwarden registry attach).",
    references=("CWE-345", "ML06", "AML.T0010"),
))
SIGNATURE_NOT_VERIFIED = register(Rule(
    id="MW-GATE-003", name="SignatureNotVerified", title="Signature did not verify",
    description="The model's signature does not verify against the files, or it was not made by "
                "a key the policy trusts.",
    severity=Severity.CRITICAL,
    remediation="Find out who changed the files or signed them; re-sign with a trusted key only "
                "after review.",
    references=("CWE-347", "ML06", "AML.T0010"),
))
MISSING_PROVENANCE = register(Rule(
    id="MW-GATE-004", name="MissingProvenance", title="Required provenance missing",
    description="The policy requires a signed SLSA provenance attestation for the model, and none "
                "was given.",
    severity=Severity.HIGH,
    remediation="Train through 'mlwarden train' and attach the provenance it writes.",
    references=("CWE-345", "ML06"),
))
PROVENANCE_NOT_VERIFIED = register(Rule(
    id="MW-GATE-005", name="ProvenanceNotVerified", title="Provenance did not verify",
    description="The provenance attestation is not signed by a trusted key, is incomplete, or its "
                "subject is not this model.",
    severity=Severity.CRITICAL,
    remediation="Attach the provenance produced for exactly these model bytes, signed by a "
                "trusted key.",
    references=("CWE-347", "ML06"),
))
MISSING_APPROVALS = register(Rule(
    id="MW-GATE-006", name="MissingApprovals", title="Not enough approvals",
    description="The policy requires approvals by distinct approvers who did not publish the "
                "version; fewer were recorded.",
    severity=Severity.HIGH,
    remediation="Ask approvers to review and run 'mlwarden registry approve'.",
    references=("CWE-284",),
))
CHECK_EVIDENCE_MISSING = register(Rule(
    id="MW-GATE-007", name="CheckEvidenceMissing", title="Required check evidence missing or failed",
    description="The policy requires data-check or model-test results for the model; none were "
                "given, they are not signed by a trusted key, or they report a failure.",
    severity=Severity.HIGH,
    remediation="Run the data checks or model tests and attach their signed attestation.",
    references=("ML02", "ML01"),
))
