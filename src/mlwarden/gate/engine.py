"""Run the checks a policy requires over one model and decide.

The decision is ``policy.decide(scan findings, requirements=unmet requirements)``. Every unmet
requirement also appears as a ``MW-GATE-*`` finding so that SARIF and HTML reports show it; those
findings are not counted a second time, and no waiver can lift them (change the policy instead).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlwarden.core.decision import Reason, ReasonCode
from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.finding import Finding, Location, Skip
from mlwarden.core.report import CheckRun, Report, utcnow
from mlwarden.core.rules import Rule
from mlwarden.gate import rules
from mlwarden.gate.requirements import Requirements, key_texts, requirements_for

if TYPE_CHECKING:
    from mlwarden.core.policy import Policy
    from mlwarden.registry.service import Evidence
    from mlwarden.sign.keys import EcdsaVerifier

GATE_VERSION = "1"
SLSA_PREDICATE = "https://slsa.dev/provenance/v1"


@dataclass(frozen=True, slots=True)
class GateInput:
    """Everything the gate looks at for one model."""

    target: str
    """The name shown in reports (a path, or ``model@version``)."""
    path: Path
    """The model's files (for a registry version: verified copies in a temporary folder)."""
    signatures: tuple[str, ...] = ()
    provenance: tuple[str, ...] = ()
    data_checks: tuple[str, ...] = ()
    model_tests: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    publisher: str | None = None
    in_registry: bool = False
    digest: str | None = None


@dataclass
class _Outcome:
    findings: list[Finding] = field(default_factory=list)
    gate_findings: list[Finding] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    checks: list[CheckRun] = field(default_factory=list)
    facts: dict[str, str | int] = field(default_factory=dict)

    def unmet(self, rule: Rule, message: str, where: str) -> None:
        finding = rule.finding(message, Location(where))
        self.gate_findings.append(finding)
        self.reasons.append(Reason(ReasonCode.REQUIREMENT, f"{rule.title}: {message}", rule.id,
                                   finding.fingerprint))


def run_gate(policy: Policy, inp: GateInput, *, stage: str | None = None) -> Report:
    """The gate's report on ``inp`` under ``policy`` (for ``stage`` when promoting)."""
    started = utcnow()
    req = requirements_for(policy, stage)
    out = _Outcome(checks=[CheckRun("gate", GATE_VERSION)])
    verifiers: list[EcdsaVerifier] = []
    try:
        verifiers = _verifiers(req, policy)
    except (InputError, VerificationError) as exc:
        out.unmet(rules.SIGNATURE_NOT_VERIFIED, f"trusted keys unusable: {exc.one_line()}",
                  policy.source or policy.name)
    if req.scan:
        _scan(policy, inp, out)
    if req.signature:
        _signature(inp, verifiers, out)
    digests: set[str] | None = None
    if req.provenance or req.data_checks or req.model_tests:
        from mlwarden.gate.checks import subject_digests

        digests = subject_digests(inp.path)
    if req.provenance:
        _provenance(inp, verifiers, digests or set(), out)
    if req.data_checks:
        _check_evidence(inp.data_checks, "data-check", inp, verifiers, digests or set(), out)
    if req.model_tests:
        _check_evidence(inp.model_tests, "model-test", inp, verifiers, digests or set(), out)
    if req.approvals:
        _approvals(req, inp, out)
    evaluated = policy.evaluate(Report.build("gate", inp.target, out.findings, started_at=started))
    decision = policy.decide(evaluated.findings, requirements=out.reasons, skipped=out.skipped)
    report = Report.build(
        "gate", inp.target, [*evaluated.findings, *out.gate_findings], started_at=started,
        skipped=out.skipped, checks=out.checks,
        artifacts={inp.target: inp.digest} if inp.digest else {},
        metadata={"stage": stage or "", "policy": policy.name,
                  "requirements": ",".join(_required(req)), **out.facts},
    )
    return report.with_decision(decision, report.findings)


def _required(req: Requirements) -> list[str]:
    names = [n for n in ("scan", "signature", "provenance", "data_checks", "model_tests")
             if getattr(req, n)]
    if req.approvals:
        names.append(f"approvals>={req.approvals}")
    return names


def _verifiers(req: Requirements, policy: Policy) -> list[EcdsaVerifier]:
    if not req.trusted_keys:
        return []
    from mlwarden.gate.checks import load_verifiers

    return load_verifiers(key_texts(req, policy))


def _scan(policy: Policy, inp: GateInput, out: _Outcome) -> None:
    try:
        from mlwarden.scan.engine import scan_paths
    except ImportError as exc:
        out.unmet(rules.SCAN_UNAVAILABLE, f"the scanner is not available ({exc})", inp.target)
        return
    report = scan_paths([inp.path], allow_globals=policy.scan.allow_globals, workers=1)

    def rename(path: str) -> str:
        return _relabel(path, inp)

    for f in report.findings:
        out.findings.append(dataclasses.replace(
            f, location=dataclasses.replace(f.location, path=rename(f.location.path))))
    for s in report.skipped:
        out.skipped.append(dataclasses.replace(s, path=rename(s.path)))
    out.checks.extend(c for c in report.checks if c not in out.checks)
    out.facts["scanned_files"] = len(report.artifacts) or len(report.checks)


def _signature(inp: GateInput, verifiers: Sequence[EcdsaVerifier], out: _Outcome) -> None:
    if not inp.signatures:
        out.unmet(rules.MISSING_SIGNATURE, f"{inp.target} is not signed", inp.target)
        return
    from mlwarden.gate.checks import signature_findings

    try:
        findings, keyid, sig_paths = signature_findings(inp.path, inp.signatures, verifiers)
    except (VerificationError, InputError) as exc:
        out.unmet(rules.SIGNATURE_NOT_VERIFIED, exc.one_line(), inp.target)
        return
    if keyid is not None:
        out.facts["signed_by"] = keyid
        return
    labels = {str(p): f"{inp.target} signature #{i + 1}" for i, p in enumerate(sig_paths)}
    for f in findings:  # MW-SIGN-* findings: each one a deny reason, whatever fail_on says
        path = labels.get(f.location.path) or _relabel(f.location.path, inp)
        message = f.message.replace(str(inp.path), inp.target)
        for tmp, label in labels.items():
            message = message.replace(tmp, label)
        f = dataclasses.replace(f, location=dataclasses.replace(f.location, path=path),
                                message=message)
        out.gate_findings.append(f)
        out.reasons.append(Reason(ReasonCode.REQUIREMENT, f"{f.title}: {f.message}", f.rule_id,
                                  f.fingerprint))


def _relabel(path: str, inp: GateInput) -> str:
    prefix = str(inp.path)
    return inp.target + path[len(prefix):] if path.startswith(prefix) else path


def _provenance(inp: GateInput, verifiers: Sequence[EcdsaVerifier], digests: set[str],
                out: _Outcome) -> None:
    if not inp.provenance:
        out.unmet(rules.MISSING_PROVENANCE, f"{inp.target} has no provenance attestation",
                  inp.target)
        return
    from mlwarden.gate.checks import verify_statement

    problems = []
    for index, text in enumerate(inp.provenance):
        where = f"{inp.target} provenance #{index + 1}"
        try:
            statement = verify_statement(text, verifiers, digests, source=where,
                                         predicate_types=(SLSA_PREDICATE,))
            from mlwarden.provenance.slsa import TrainingRun

            TrainingRun.from_statement(statement)  # complete: every required field is present
        except ImportError as exc:
            problems.append(f"provenance checks are not available ({exc})")
            continue
        except (VerificationError, InputError) as exc:
            problems.append(exc.one_line())
            continue
        lineage = _lineage_findings(statement, where)
        if lineage is not None:
            out.findings.extend(lineage)
        out.facts["provenance"] = "verified"
        return
    out.unmet(rules.PROVENANCE_NOT_VERIFIED, "; ".join(problems), inp.target)


def _lineage_findings(statement: object, where: str) -> list[Finding] | None:
    """Lineage findings of the provenance helper, when it provides them."""
    import importlib

    try:
        lineage = importlib.import_module("mlwarden.provenance.lineage")
    except ImportError:
        return None
    fn = getattr(lineage, "lineage_findings", None)
    if fn is None:
        return None
    try:
        return list(fn(statement))
    except (InputError, VerificationError, TypeError) as exc:
        return [rules.PROVENANCE_NOT_VERIFIED.finding(f"lineage could not be traced: {exc}",
                                                      Location(where))]


def _check_evidence(texts: Sequence[str], kind: str, inp: GateInput, verifiers: Sequence[EcdsaVerifier],
                    digests: set[str], out: _Outcome) -> None:
    if not texts:
        out.unmet(rules.CHECK_EVIDENCE_MISSING, f"{inp.target} has no {kind} attestation",
                  inp.target)
        return
    from mlwarden.gate.checks import check_result_passed, verify_statement

    problems = []
    for index, text in enumerate(texts):
        where = f"{inp.target} {kind} #{index + 1}"
        try:
            statement = verify_statement(text, verifiers, digests, source=where)
            check_result_passed(statement, source=where)
        except (VerificationError, InputError) as exc:
            problems.append(exc.one_line())
            continue
        out.facts[kind] = "passed"
        return
    out.unmet(rules.CHECK_EVIDENCE_MISSING, "; ".join(problems), inp.target)


def _approvals(req: Requirements, inp: GateInput, out: _Outcome) -> None:
    if not inp.in_registry:
        out.unmet(rules.MISSING_APPROVALS, f"{req.approvals} approval(s) required; approvals "
                                           "exist only for registry versions", inp.target)
        return
    valid = sorted({a for a in inp.approvers if a != inp.publisher})
    out.facts["approvers"] = ",".join(valid)
    if len(valid) < req.approvals:
        self_note = " (the publisher's own approval does not count)" \
            if inp.publisher in inp.approvers else ""
        out.unmet(rules.MISSING_APPROVALS, f"{len(valid)} of {req.approvals} required approval(s) "
                                           f"by distinct approvers{self_note}", inp.target)


def gate_evidence(policy: Policy, ev: Evidence, *, stage: str) -> Report:
    """Gate a registry version (its verified files and bound attestations) for ``stage``."""
    a = ev.attestations
    return run_gate(policy, GateInput(
        target=ev.ref, path=ev.path, signatures=a.get("signature", ()),
        provenance=a.get("provenance", ()), data_checks=a.get("data-check", ()),
        model_tests=a.get("model-test", ()), approvers=ev.approvers.get(stage, ()),
        publisher=ev.publisher, in_registry=True, digest=ev.digest), stage=stage)


def _read_all(paths: Sequence[Path]) -> tuple[str, ...]:
    out = []
    for p in paths:
        try:
            out.append(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("file not found", path=p) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read: {exc}", path=p) from None
    return tuple(out)


def gate_path(policy: Policy, path: Path, *, signatures: Sequence[Path] = (),
              provenance: Sequence[Path] = (), data_checks: Sequence[Path] = (),
              model_tests: Sequence[Path] = (), stage: str | None = None) -> Report:
    """Gate files on disk; a ``model.sig`` beside a folder's files is used when none is given."""
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    sigs = list(signatures)
    if not sigs:
        from mlwarden.sign.signing import default_signature_path

        candidate = default_signature_path(path)
        if candidate.is_file():
            sigs.append(candidate)
    from mlwarden.sign.manifest import model_digest

    return run_gate(policy, GateInput(
        target=str(path), path=path, signatures=_read_all(sigs), provenance=_read_all(provenance),
        data_checks=_read_all(data_checks), model_tests=_read_all(model_tests),
        digest=model_digest(path)), stage=stage)
