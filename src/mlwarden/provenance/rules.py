"""Rules of the provenance checks (``MW-PROV-*``): what :func:`lineage_findings` reports."""

from __future__ import annotations

from mlwarden.core.rules import Rule, register
from mlwarden.core.severity import Severity

_SLSA = "https://slsa.dev/spec/v1.0/provenance"

MISSING = register(Rule(
    id="MW-PROV-001", name="ProvenanceMissing", title="No provenance attestation for the model",
    description="No training provenance attestation names this model's digest, so nothing says "
                "which data, code and environment produced it.",
    severity=Severity.HIGH,
    remediation="Train through `mlwarden train --data … --out MODEL --key KEY -- COMMAND`, or import "
                "the run with `mlwarden train --from-mlflow RUN_ID`.",
    references=("CWE-1357", "ML10", _SLSA),
))
SIGNATURE_INVALID = register(Rule(
    id="MW-PROV-002", name="ProvenanceSignatureInvalid",
    title="Provenance attestation signature does not verify",
    description="The DSSE signature over the provenance statement is bad, or it was made by a key "
                "that is not trusted: the statement may have been forged or edited.",
    severity=Severity.CRITICAL,
    remediation="Do not use the model. Re-create the attestation from a trusted training run, and "
                "pass the right public key with --key.",
    references=("CWE-347", "ML10", "AML.T0010"),
))
MODEL_MISMATCH = register(Rule(
    id="MW-PROV-003", name="ProvenanceModelMismatch",
    title="Model on disk does not match its provenance",
    description="The model's digest differs from the subject of the provenance attestation found "
                "for it: the model was modified or swapped after training.",
    severity=Severity.CRITICAL,
    remediation="Do not deploy the model; recover the trained artifact or retrain with provenance.",
    references=("CWE-345", "ML10", "AML.T0010"),
))
DATASET_MISMATCH = register(Rule(
    id="MW-PROV-004", name="ProvenanceDatasetMismatch",
    title="Training dataset differs from the one recorded",
    description="A dataset recorded in the provenance is present locally but its fingerprint no "
                "longer matches: the data changed (or was poisoned) since training.",
    severity=Severity.HIGH,
    remediation="Find out what changed in the data (diff the per-file digests with "
                "`mlwarden data fingerprint`), and retrain if the model must match the data.",
    references=("CWE-345", "ML02", "AML.T0020"),
))
UNAVAILABLE = register(Rule(
    id="MW-PROV-005", name="ProvenanceInputUnavailable",
    title="A recorded training input is not available to re-check",
    description="A dataset, base model, lock file or commit named in the provenance is not present "
                "here, so its digest could not be re-checked (the signed record still names it).",
    severity=Severity.INFO,
    remediation="Run `mlwarden trace` where the training inputs are available to check them too.",
    references=("ML10",),
))
DIRTY_TREE = register(Rule(
    id="MW-PROV-006", name="ProvenanceDirtyTree",
    title="Model trained from uncommitted code",
    description="The git working tree had uncommitted changes when the model was trained: the "
                "commit alone does not reproduce it (the diff's digest is recorded).",
    severity=Severity.MEDIUM,
    remediation="Commit the training code before training, so the commit identifies the code.",
    references=("CWE-1357", "ML10"),
))
NO_CODE_IDENTITY = register(Rule(
    id="MW-PROV-007", name="ProvenanceNoCodeIdentity",
    title="Training code is not identified by a commit",
    description="The training run was not inside a git repository, so the provenance does not "
                "identify the code that produced the model.",
    severity=Severity.MEDIUM,
    remediation="Train from a git checkout, so the commit is recorded.",
    references=("CWE-1357", "ML10"),
))
UNVERIFIED = register(Rule(
    id="MW-PROV-008", name="ProvenanceSignatureUnchecked",
    title="Provenance attestation signature could not be checked",
    description="No trusted public key was available to check the attestation's signature, so its "
                "content is unauthenticated.",
    severity=Severity.HIGH,
    remediation="Pass the training key's public key with --key (or add it to the key store).",
    references=("CWE-347", "ML10"),
))
MALFORMED = register(Rule(
    id="MW-PROV-009", name="ProvenanceMalformed",
    title="Provenance attestation is malformed",
    description="The attestation file is not a DSSE envelope holding an in-toto Statement v1 with "
                "an SLSA provenance v1 predicate of mlwarden's training build type.",
    severity=Severity.HIGH,
    remediation="Re-create the attestation with `mlwarden train`.",
    references=("CWE-20", "ML10"),
))
DEPENDENCY_MISMATCH = register(Rule(
    id="MW-PROV-010", name="ProvenanceDependencyMismatch",
    title="Base model, lock file or params file differs from the one recorded",
    description="A resolved dependency other than a dataset (the base model, the dependency lock "
                "file) no longer matches its recorded digest.",
    severity=Severity.HIGH,
    remediation="Restore the recorded dependency or retrain with the current one.",
    references=("CWE-345", "ML06"),
))
