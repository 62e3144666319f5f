"""Run the checks a policy requires over one model and decide.

The decision is ``policy.decide(scan findings, requirements=unmet requirements)``. Every unmet
requirement also appears as a ``MW-GATE-*`` finding so that SARIF and HTML reports show it; those
findings are not counted a second time, and no waiver can lift them (change the policy instead).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwarden.core.decision import Reason, ReasonCode
from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.finding import Finding, Location, Skip
from mlwarden.core.report import CheckRun, Report, utcnow
from mlwarden.core.rules import Rule
from mlwarden.gate import rules
from mlwarden.gate.requirements import key_texts, required, requirements_for

if TYPE_CHECKING:
    from mlwarden.core.attestation import Statement
    from mlwarden.core.evidence import EvidenceKind
    from mlwarden.core.policy import Policy
    from mlwarden.registry.service import Evidence
    from mlwarden.sign.keys import EcdsaVerifier

GATE_VERSION = "2"


@dataclass(frozen=True, slots=True)
class GateInput:
    """Everything the gate looks at for one model."""

    target: str
    """The name shown in reports (a path, or ``model@version``)."""
    path: Path
    """The model's files (for a registry version: verified copies in a temporary folder)."""
    signatures: tuple[str, ...] = ()
    evidence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Signed statements by evidence kind name (``provenance``, ``data-check``, ``model-test``)."""
    approvers: tuple[str, ...] = ()
    discounted: tuple[str, ...] = ()
    """Approvals that no longer count, as ``"name (why)"`` (shown in the deny reason)."""
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
    from mlwarden.core.evidence import statement_kinds

    wanted = [k for k in statement_kinds() if required(req, k.requirement)]
    if wanted:
        from mlwarden.gate.checks import subject_digests

        digests = subject_digests(inp.path)
        for kind in wanted:
            _statements(kind, inp, verifiers, digests, out)
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


def _required(req: Any) -> list[str]:
    from mlwarden.core.evidence import kinds

    names = [k.requirement for k in kinds() if required(req, k.requirement)]
    if req.approvals:
        names.append(f"approvals>={req.approvals}")
    return names


def _verifiers(req: Any, policy: Policy) -> list[EcdsaVerifier]:
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


_MISSING = {"provenance": rules.MISSING_PROVENANCE}
_NOT_VERIFIED = {"provenance": rules.PROVENANCE_NOT_VERIFIED}


def _statements(kind: type[EvidenceKind], inp: GateInput, verifiers: Sequence[EcdsaVerifier],
                digests: set[str], out: _Outcome) -> None:
    """Pass when one statement of ``kind`` verifies: signed by a trusted key, about this model,
    of the kind's own predicate type, with a predicate that validates and holds."""
    texts = inp.evidence.get(kind.name, ())
    if not texts:
        out.unmet(_MISSING.get(kind.name, rules.CHECK_EVIDENCE_MISSING),
                  f"{inp.target} has no {kind.name} attestation", inp.target)
        return
    from mlwarden.gate.checks import verify_statement

    problems = []
    for index, text in enumerate(texts):
        where = f"{inp.target} {kind.name} #{index + 1}"
        try:
            statement = verify_statement(text, verifiers, digests, source=where, kind=kind)
        except ImportError as exc:
            problems.append(f"{kind.name} checks are not available ({exc})")
            continue
        except (VerificationError, InputError) as exc:
            problems.append(exc.one_line())
            continue
        if kind.name == "provenance":
            lineage = _lineage_findings(statement, where)
            if lineage is not None:
                out.findings.extend(lineage)
            out.facts[kind.name] = "verified"
        else:
            out.facts[kind.name] = "passed"
        return
    out.unmet(_NOT_VERIFIED.get(kind.name, rules.CHECK_EVIDENCE_MISSING), "; ".join(problems),
              inp.target)


def _lineage_findings(statement: Statement, where: str) -> list[Finding] | None:
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


def _approvals(req: Any, inp: GateInput, out: _Outcome) -> None:
    if not inp.in_registry:
        out.unmet(rules.MISSING_APPROVALS, f"{req.approvals} approval(s) required; approvals "
                                           "exist only for registry versions", inp.target)
        return
    valid = sorted({a for a in inp.approvers if a != inp.publisher})
    out.facts["approvers"] = ",".join(valid)
    if len(valid) < req.approvals:
        self_note = " (the publisher's own approval does not count)" \
            if inp.publisher in inp.approvers else ""
        gone = f"; not counted: {', '.join(inp.discounted)}" if inp.discounted else ""
        out.unmet(rules.MISSING_APPROVALS, f"{len(valid)} of {req.approvals} required approval(s) "
                                           f"by distinct approvers{self_note}{gone}", inp.target)


def gate_evidence(policy: Policy, ev: Evidence, *, stage: str) -> Report:
    """Gate a registry version (its verified files and bound attestations) for ``stage``."""
    a = ev.attestations
    return run_gate(policy, GateInput(
        target=ev.ref, path=ev.path, signatures=a.get("signature", ()),
        evidence={k: v for k, v in a.items() if k != "signature"},
        approvers=ev.approvers.get(stage, ()), discounted=ev.discounted.get(stage, ()),
        publisher=ev.publisher, in_registry=True,
        digest=ev.digest), stage=stage)


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
              model_tests: Sequence[Path] = (), evidence: Mapping[str, Sequence[Path]] | None = None,
              stage: str | None = None) -> Report:
    """Gate files on disk; a ``model.sig`` beside a folder's files is used when none is given.

    ``evidence`` maps an evidence kind's name to statement files; ``provenance``, ``data_checks``
    and ``model_tests`` are shorthands for the three built-in statement kinds."""
    if not path.exists():
        raise InputError("no such file or folder", path=path)
    sigs = list(signatures)
    if not sigs:
        from mlwarden.sign.signing import default_signature_path

        candidate = default_signature_path(path)
        if candidate.is_file():
            sigs.append(candidate)
    from mlwarden.core.identity import artifact_digest

    files: dict[str, list[Path]] = {"provenance": list(provenance),
                                    "data-check": list(data_checks),
                                    "model-test": list(model_tests)}
    for name, paths in (evidence or {}).items():
        files.setdefault(name, []).extend(paths)
    return run_gate(policy, GateInput(
        target=str(path), path=path, signatures=_read_all(sigs),
        evidence={k: _read_all(v) for k, v in files.items() if v},
        digest=artifact_digest(path)), stage=stage)
