"""Evidence kinds: every kind of evidence a policy can require, bound to its predicate type.

A kind is one registered class (``EvidenceKind`` subclass, in the package that produces the
evidence: ``sign/evidence.py``, ``provenance/evidence.py``, ``data/evidence.py``...). It names

- ``name``: the kind as the registry and the CLI spell it (``data-check``);
- ``requirement``: the switch of the policy's ``gate`` section that demands it (``data_checks``);
- ``predicate_types``: the in-toto predicate types a statement of this kind may carry (versioned
  URIs, defined here in core so producers and the gate agree); the first is the one mlwarden
  writes. A statement of another type is refused with a reason that names both;
- ``predicate_model``: the predicate's schema as a pydantic model (its JSON schema is
  :meth:`EvidenceKind.schema`, exported to ``docs/schemas/``); a predicate that does not validate
  is refused, naming the field;
- :meth:`EvidenceKind.judge`: what the kind's own verification adds (a check that passed, a
  complete SLSA provenance).

Registration is by subclassing (a duplicate name or requirement is fatal, as for format scanners);
``mlwarden.catalog.load_evidence`` imports every module that declares kinds. Adding a kind is adding
one module and naming it in the catalogue: the gate, its policy section (a ``bool`` switch per
statement kind) and the registry's ``attach`` pick it up from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, StrictBool, model_validator

from mlwarden.core.errors import VerificationError

if TYPE_CHECKING:
    from mlwarden.core.attestation import Statement

MLWARDEN_PREDICATES = "https://mlwarden.dev/attestations"
SCAN_PREDICATE = f"{MLWARDEN_PREDICATES}/scan/v1"
"""A signed scan report (kept with a version as evidence; the gate always re-scans the bytes)."""
DATA_CHECK_PREDICATE = f"{MLWARDEN_PREDICATES}/data-check/v1"
"""The result of a data check (contracts, drift, PII, poisoning) on the data a model was built from."""
MODEL_TEST_PREDICATE = f"{MLWARDEN_PREDICATES}/model-test/v1"
"""The result of a model test (robustness, membership inference, extraction, ownership)."""
SLSA_PROVENANCE_PREDICATE = "https://slsa.dev/provenance/v1"
"""SLSA provenance v1: how the model was trained (``mlwarden train``)."""
OMS_SIGNATURE_PREDICATE = "https://model_signing/signature/v1.0"
"""The OpenSSF Model Signing predicate (carried in a Sigstore bundle, not a bare DSSE envelope)."""
OMS_LEGACY_PREDICATE = "https://model_signing/Digests/v0.1"


class EvidenceKind:
    """One kind of evidence. Subclasses register themselves by ``name``."""

    name: ClassVar[str]
    requirement: ClassVar[str]
    """The ``gate`` policy switch that requires this kind (``provenance``, ``data_checks``...)."""
    predicate_types: ClassVar[tuple[str, ...]]
    predicate_model: ClassVar[type[BaseModel] | None] = None
    statement: ClassVar[bool] = True
    """A DSSE-signed in-toto statement about the model, verified by the gate's loop over kinds
    (``False`` for kinds the gate checks by its own means: the scan it runs, OMS signatures)."""
    description: ClassVar[str] = ""

    registry: ClassVar[dict[str, type[EvidenceKind]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return  # an intermediate base
        for other in EvidenceKind.registry.values():
            if other.__qualname__ == cls.__qualname__ and other.__module__ == cls.__module__:
                continue
            if other.name == cls.name or other.requirement == cls.requirement:
                raise RuntimeError(f"evidence kind {cls.name!r} ({cls.requirement}) registered "
                                   f"twice ({other.__module__} and {cls.__module__})")
        EvidenceKind.registry[cls.name] = cls

    @classmethod
    def schema(cls) -> dict[str, Any]:
        """The JSON schema of the predicate (``{}`` when the kind's spec publishes its own)."""
        if cls.predicate_model is None:
            return {}
        out = cls.predicate_model.model_json_schema()
        out["$id"] = cls.predicate_types[0]
        return out

    @classmethod
    def check(cls, statement: Statement, *, source: str) -> None:
        """Refuse a statement that is not of this kind, or whose predicate is invalid or says the
        evidence did not hold. Raises :class:`VerificationError` naming the reason."""
        if statement.predicate_type not in cls.predicate_types:
            raise VerificationError(
                f"predicateType is {statement.predicate_type!r}, but {cls.name} evidence must be "
                f"{' or '.join(map(repr, cls.predicate_types))}", path=source)
        if cls.predicate_model is not None:
            from pydantic import ValidationError

            try:
                cls.predicate_model.model_validate(dict(statement.predicate))
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"]) or "(predicate)"
                raise VerificationError(f"the {cls.name} predicate does not match its schema: "
                                        f"field '{field}': {err['msg']}", path=source) from None
        cls.judge(statement, source=source)

    @classmethod
    def judge(cls, statement: Statement, *, source: str) -> None:
        """What this kind's verification adds once the predicate validates (default: nothing)."""


def kinds() -> list[type[EvidenceKind]]:
    """Every registered kind, the catalogue's modules loaded first, in a stable order."""
    from mlwarden.catalog import load_evidence

    load_evidence()
    return sorted(EvidenceKind.registry.values(), key=lambda k: k.name)


def kind(name: str) -> type[EvidenceKind]:
    """The kind called ``name``; ``KeyError`` for an unknown one."""
    for k in kinds():
        if k.name == name:
            return k
    raise KeyError(name)


def statement_kinds() -> list[type[EvidenceKind]]:
    """The kinds the gate verifies as signed statements, one policy switch each."""
    return [k for k in kinds() if k.statement]


class DecisionSummary(BaseModel):
    model_config = ConfigDict(extra="allow")
    allowed: StrictBool


class CheckResult(BaseModel):
    """The predicate of a check's result (data-check/v1, model-test/v1): ``passed``, or an
    mlwarden ``decision``, or both (then they agree). Other fields (the check's name, its metrics,
    the report) are free."""

    model_config = ConfigDict(extra="allow", title="mlwarden check result")
    passed: StrictBool | None = None
    decision: DecisionSummary | None = None

    @model_validator(mode="after")
    def _says_whether_it_passed(self) -> CheckResult:
        if self.passed is None and self.decision is None:
            raise ValueError("says neither 'passed' nor 'decision.allowed'")
        if self.passed is not None and self.decision is not None and \
                self.passed != self.decision.allowed:
            raise ValueError("'passed' and 'decision.allowed' disagree")
        return self


class CheckResultKind(EvidenceKind):
    """Base of the kinds that attest a check's result (data checks, model tests): the predicate
    validates as a :class:`CheckResult` and says that the check passed."""

    predicate_model = CheckResult

    @classmethod
    def judge(cls, statement: Statement, *, source: str) -> None:
        result = CheckResult.model_validate(dict(statement.predicate))
        passed = result.passed if result.passed is not None else \
            result.decision is not None and result.decision.allowed
        if not passed:
            raise VerificationError(f"the attested {cls.name} did not pass", path=source)


def schemas_document() -> str:
    """``docs/evidence.md``: every kind with its predicate types and the JSON schema of its
    predicate (generated by ``python -m mlwarden.core.evidence``; a test keeps it current)."""
    import json

    lines = ["# Evidence kinds", "",
             "Generated by `python -m mlwarden.core.evidence` (`make docs`) — do not edit by hand.",
             "Each kind of evidence a policy's `gate` section can require, bound to its in-toto "
             "predicate type: a statement of another type is refused.", "",
             "| kind | gate switch | predicate types | verified as |", "|---|---|---|---|"]
    for k in kinds():
        how = "signed in-toto statement (DSSE)" if k.statement else "by the gate itself"
        lines.append(f"| `{k.name}` | `{k.requirement}` | "
                     f"{'<br>'.join(f'`{t}`' for t in k.predicate_types)} | {how} |")
    for k in kinds():
        schema = k.schema()
        if not schema:
            continue
        lines += ["", f"## `{k.name}` predicate schema", "", k.description + ".", "",
                  "```json", json.dumps(schema, indent=2, sort_keys=True), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from mlwarden.core import evidence  # the registered module, not this __main__ copy

    sys.stdout.write(evidence.schemas_document())
