"""The provenance evidence kind: a signed SLSA provenance v1 of the training run that made the
model, complete (every field :class:`~mlwarden.provenance.slsa.TrainingRun` needs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.evidence import SLSA_PROVENANCE_PREDICATE, EvidenceKind

if TYPE_CHECKING:
    from mlwarden.core.attestation import Statement


class ProvenanceEvidence(EvidenceKind):
    name = "provenance"
    requirement = "provenance"
    predicate_types = (SLSA_PROVENANCE_PREDICATE,)
    description = "a signed SLSA v1 provenance from 'mlwarden train' whose subject is the model"

    @classmethod
    def judge(cls, statement: Statement, *, source: str) -> None:
        from mlwarden.provenance.slsa import TrainingRun

        try:
            TrainingRun.from_statement(statement)
        except InputError as exc:
            raise VerificationError(f"incomplete SLSA provenance: {exc.message}",
                                    path=source) from None
