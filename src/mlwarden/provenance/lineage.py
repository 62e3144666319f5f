"""Lineage: from a model back to its training run, with every link re-checked.

:func:`trace_model` digests the model, finds the provenance attestations that may be about it (an
explicit file, the sidecar ``<model>.provenance.json``, the index entry for its digest), verifies each
envelope's signature, checks that the model is the attestation's subject, and re-checks every
resolved dependency it can reach: datasets, the base model, the lock file and the params file are
re-fingerprinted where they still lie, and the commit is looked up in the local repository.

Every link gets a :class:`Status`: ``verified`` (re-checked and equal), ``mismatched`` (re-checked
and different, or a bad signature), ``unavailable`` (could not be re-checked here) or ``recorded``
(signed facts with nothing to re-check: the environment, the parameters, the run's times).
:func:`lineage_findings` turns the tree into ``MW-PROV-*`` findings for reports and the gate.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.core.attestation import Envelope, Statement, Verifier, verify_envelope
from mlwarden.core.errors import InputError, VerificationError
from mlwarden.core.finding import Finding, Location
from mlwarden.provenance import capture, rules, store
from mlwarden.provenance.slsa import Dependency, TrainingRun


class Status(str, enum.Enum):
    VERIFIED = "verified"
    MISMATCHED = "mismatched"
    UNAVAILABLE = "unavailable"
    RECORDED = "recorded"


@dataclass(frozen=True, slots=True)
class Link:
    """One node of the lineage tree: what it is, its status, and why."""

    kind: str
    """``model``, ``attestation``, ``signature``, ``subject``, ``code``, ``dataset``, ``base-model``,
    ``lockfile``, ``params-file``, ``run``, ``parameters``, ``environment`` or ``metrics``."""
    name: str
    status: Status
    detail: str
    expected: str | None = None
    actual: str | None = None
    path: str | None = None
    children: tuple[Link, ...] = ()
    evidence: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def walk(self) -> Iterator[Link]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "status": self.status.value,
                "detail": self.detail, "expected": self.expected, "actual": self.actual,
                "path": self.path, "evidence": dict(self.evidence),
                "children": [c.to_dict() for c in self.children]}


@dataclass(frozen=True, slots=True)
class Lineage:
    """The lineage of one model: its digest, the tree of links, and the runs that were read."""

    model: str
    digest: str
    root: Link
    runs: tuple[TrainingRun, ...] = ()
    """Training runs whose attestation names this model and whose signature verified."""
    unverified_runs: tuple[TrainingRun, ...] = ()
    """Runs that name this model but whose signature could not be checked (no trusted key)."""
    signature_findings: tuple[Finding, ...] = ()
    """``MW-SIGN-*`` findings of verifying the model's own OMS signature, when it has one."""

    def links(self) -> Iterator[Link]:
        return self.root.walk()

    @property
    def attested(self) -> bool:
        """At least one attestation names this model and its signature verified."""
        return bool(self.runs)

    @property
    def ok(self) -> bool:
        """Attested, nothing mismatched, every signature verified."""
        return self.attested and not any(
            link.status is Status.MISMATCHED
            or (link.kind == "signature" and link.status is not Status.VERIFIED)
            for link in self.links())

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "digest": self.digest, "ok": self.ok,
                "attested": self.attested, "lineage": self.root.to_dict(),
                "runs": [{"subjects": [s.to_dict() for s in run.subjects],
                          "predicate": run.predicate()} for run in self.runs]}


def trace_model(path: str | Path, *, keys: Sequence[Path] = (),
                verifiers: Sequence[Verifier] = (), attestations: Sequence[Path] = (),
                home: Path | None = None, cwd: Path | None = None) -> Lineage:
    """The lineage of the model at ``path``; :class:`InputError` if the model itself is missing.

    ``keys`` are trusted public keys (PEM files): they verify the attestations' DSSE signatures
    and the model's own OMS signature (``<model>.sig`` or ``<dir>/model.sig``) when there is one.
    ``verifiers`` adds DSSE verifiers directly (for library callers holding key objects).
    """
    from mlwarden.core.identity import artifact_digest as model_digest
    from mlwarden.sign.keys import EcdsaVerifier, load_public_key

    model = Path(path)
    if not model.exists():
        raise InputError("model not found", path=model)
    verifiers = [*verifiers, *(EcdsaVerifier(load_public_key(k)) for k in keys)]
    for explicit in attestations:
        if explicit.is_dir():
            raise InputError("is a directory, expected an attestation file", path=explicit)
        if not explicit.is_file():
            raise InputError("attestation not found", path=explicit)
    here = (cwd or Path.cwd()).resolve()
    state = store.home(home)
    state = state if state.is_absolute() else here / state
    digest = model_digest(model)
    children: list[Link] = []
    runs: list[TrainingRun] = []
    unverified: list[TrainingRun] = []
    seen: set[str] = set()
    for candidate in store.candidates(model, digest, state, explicit=attestations):
        try:
            raw = candidate.read_bytes()
        except OSError as exc:
            children.append(Link("attestation", str(candidate), Status.UNAVAILABLE,
                                 f"cannot read: {exc.strerror or exc}", path=str(candidate)))
            continue
        key = hashlib.sha256(raw).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        link, run = _attestation_link(candidate, model, digest, verifiers, here)
        children.append(link)
        if run is not None:
            (runs if link.status is Status.VERIFIED else unverified).append(run)
    if not children:
        children.append(Link("attestation", "provenance", Status.UNAVAILABLE,
                             f"no provenance attestation found for {digest} (looked beside the "
                             f"model and in {state / 'attestations'})"))
    signature, sig_findings = _model_signature_link(model, keys)
    root = Link("model", str(model), Status.VERIFIED if runs else Status.UNAVAILABLE,
                f"digest {digest}", actual=digest, path=str(model),
                children=(signature, *children))
    return Lineage(model=str(model), digest=digest, root=root, runs=tuple(runs),
                   unverified_runs=tuple(unverified), signature_findings=tuple(sig_findings))


def _model_signature_link(model: Path, keys: Sequence[Path]) -> tuple[Link, list[Finding]]:
    """The model's own OMS signature (``mlwarden sign``), verified with ``keys`` if it exists."""
    from mlwarden.sign.signing import default_signature_path
    from mlwarden.sign.trust import Trust
    from mlwarden.sign.verify import verification_findings

    sig = default_signature_path(model)
    if not sig.is_file():
        return Link("model-signature", sig.name, Status.UNAVAILABLE,
                    f"the model is not signed (no {sig})", path=str(sig)), []
    if not keys:
        return Link("model-signature", sig.name, Status.UNAVAILABLE,
                    "not checked: no trusted public key given", path=str(sig)), []
    findings, result = verification_findings(model, sig, Trust.from_public_keys(list(keys)))
    if result is not None:
        return Link("model-signature", sig.name, Status.VERIFIED,
                    f"OMS signature verified: signed by {result.identity.describe()}",
                    expected=result.model_digest, actual=result.model_digest,
                    path=str(sig)), []
    detail = "; ".join(f.message for f in findings[:3]) or "did not verify"
    return Link("model-signature", sig.name, Status.MISMATCHED, detail, path=str(sig)), findings


def _attestation_link(path: Path, model: Path, digest: str, verifiers: Sequence[Verifier],
                      here: Path) -> tuple[Link, TrainingRun | None]:
    name = str(path)
    try:
        envelope = store.load(path)
    except InputError as exc:
        return Link("attestation", name, Status.MISMATCHED, f"malformed: {exc.message}",
                    path=name, evidence={"malformed": True}), None
    signature, statement = _signature_link(envelope, verifiers, name)
    if statement is None:
        return Link("attestation", name, Status.MISMATCHED, "the statement could not be read",
                    path=name, children=(signature,)), None
    try:
        run = TrainingRun.from_statement(statement)
    except InputError as exc:
        return Link("attestation", name, Status.MISMATCHED,
                    f"malformed: not mlwarden training provenance: {exc.message}", path=name,
                    children=(signature,), evidence={"malformed": True}), None
    subject = _subject_link(run, model, digest)
    links = [signature, subject, _run_link(run)]
    if signature.status is Status.VERIFIED:
        links += [_dependency_link(dep, run, here) for dep in run.dependencies]
    else:
        # Paths and commits in an unauthenticated statement are not followed: a forged one could
        # point the trace at any file or folder on this machine.
        links += [Link(dep.kind, dep.name, Status.UNAVAILABLE,
                       "not re-checked: the attestation's signature did not verify",
                       expected=_expected(dep), evidence={"unauthenticated": True})
                  for dep in run.dependencies]
    if run.code is None:
        links.append(Link("code", "source", Status.UNAVAILABLE,
                          "no git commit recorded: the run was not inside a git repository",
                          evidence={"no_code_identity": True}))
    links += _recorded_links(run)
    trusted = signature.status is Status.VERIFIED and subject.status is Status.VERIFIED
    status = Status.VERIFIED if trusted else (
        Status.MISMATCHED if Status.MISMATCHED in (signature.status, subject.status)
        else Status.UNAVAILABLE)
    detail = f"SLSA provenance v1, invocation {run.invocation_id}"
    unchecked = signature.status is Status.UNAVAILABLE and subject.status is Status.VERIFIED
    return (Link("attestation", name, status, detail, path=name, children=tuple(links)),
            run if trusted or unchecked else None)


def _signature_link(envelope: Envelope, verifiers: Sequence[Verifier],
                    source: str) -> tuple[Link, Statement | None]:
    keyids = ", ".join(s.keyid or "(no keyid)" for s in envelope.signatures) or "none"
    if verifiers:
        try:
            statement = verify_envelope(envelope, verifiers, source=source)
        except VerificationError as exc:
            unsigned = _unverified_statement(envelope, source)
            return Link("signature", "DSSE signature", Status.MISMATCHED, exc.message,
                        evidence={"keyids": keyids}), unsigned
        return Link("signature", "DSSE signature", Status.VERIFIED,
                    f"signed by trusted key {keyids}", evidence={"keyids": keyids}), statement
    return (Link("signature", "DSSE signature", Status.UNAVAILABLE,
                 f"not checked: no trusted public key given (signed by {keyids})",
                 evidence={"keyids": keyids}), _unverified_statement(envelope, source))


def _unverified_statement(envelope: Envelope, source: str) -> Statement | None:
    try:
        return Statement.from_json_bytes(envelope.payload, source=source)
    except InputError:
        return None


def _subject_link(run: TrainingRun, model: Path, digest: str) -> Link:
    from mlwarden.core.identity import same_artifact

    recorded = [s for s in run.subjects
                if same_artifact(f"sha256:{s.digest.get('sha256', '')}", digest)]
    if recorded:
        return Link("subject", recorded[0].name, Status.VERIFIED,
                    "the model on disk is the attested output", expected=digest, actual=digest,
                    path=str(model))
    by_name = [s for s in run.subjects if Path(s.name).name == model.name] or list(run.subjects)
    expected = "sha256:" + by_name[0].digest.get("sha256", "?")
    return Link("subject", by_name[0].name, Status.MISMATCHED,
                "the model on disk is not the attested output (modified or swapped)",
                expected=expected, actual=digest, path=str(model))


def _run_link(run: TrainingRun) -> Link:
    return Link("run", run.invocation_id, Status.RECORDED,
                f"{' '.join(run.command)} (exit {run.exit_code}, {run.started_on:%Y-%m-%d %H:%M:%S}"
                f" → {run.finished_on:%H:%M:%S} UTC) by {run.builder_id}",
                evidence={"command": list(run.command), "builder": run.builder_id,
                          "startedOn": run.started_on.isoformat(),
                          "finishedOn": run.finished_on.isoformat()})


def _recorded_links(run: TrainingRun) -> list[Link]:
    env = run.environment
    python = env.get("python", {}) if isinstance(env.get("python"), Mapping) else {}
    plat = env.get("platform", {}) if isinstance(env.get("platform"), Mapping) else {}
    packages = env.get("packages", []) if isinstance(env.get("packages"), list) else []
    described = (f"Python {python.get('version')} on {plat.get('platform', '?')}; "
                 if python.get("version") else "interpreter not recorded; ")
    links = [Link("environment", "environment", Status.RECORDED,
                  f"{described}{len(packages)} packages")]
    shown = ", ".join(f"{k}={v}" for k, v in list(run.parameters.items())[:8])
    more = f" (+{len(run.parameters) - 8} more)" if len(run.parameters) > 8 else ""
    links.append(Link("parameters", "parameters", Status.RECORDED,
                      (shown + more) if run.parameters else "none recorded",
                      evidence={"seed": run.seed}))
    if run.metrics:
        links.append(Link("metrics", "metrics", Status.RECORDED,
                          ", ".join(f"{k}={v:g}" for k, v in list(run.metrics.items())[:8])))
    return links


def _locate(dep: Dependency, run: TrainingRun, here: Path) -> Path | None:
    if dep.path is None:
        return None
    recorded = Path(dep.path)
    options = [recorded] if recorded.is_absolute() else [
        here / recorded, Path(run.working_directory) / recorded]
    return next((p for p in options if p.exists()), None)


def _expected(dep: Dependency) -> str:
    algorithm, value = next(iter(sorted(dep.digest.items())))
    return f"{algorithm}:{value}"


def _dependency_link(dep: Dependency, run: TrainingRun, here: Path) -> Link:
    if dep.kind == "code":
        return _code_link(dep, run, here)
    expected = dep.digest.get("sha256")
    where = _locate(dep, run, here)
    evidence = {k: v for k, v in dep.annotations.items() if k in ("rows", "files", "bytes")}
    if expected is None:
        return Link(dep.kind, dep.name, Status.UNAVAILABLE, "no sha256 digest recorded",
                    evidence=evidence)
    if where is None:
        return Link(dep.kind, dep.name, Status.UNAVAILABLE,
                    f"not present here (recorded at {dep.path or dep.uri}); not re-checked",
                    expected="sha256:" + expected, evidence=evidence)
    from mlwarden.data.fingerprint import fingerprint

    try:
        fp = fingerprint(where, summarize=False)
        actual = fp.hex
    except InputError as exc:
        return Link(dep.kind, dep.name, Status.UNAVAILABLE, f"cannot re-check: {exc.message}",
                    expected="sha256:" + expected, path=str(where), evidence=evidence)
    if actual == expected:
        return Link(dep.kind, dep.name, Status.VERIFIED, "re-fingerprinted: unchanged",
                    expected="sha256:" + expected, actual="sha256:" + actual, path=str(where),
                    evidence=evidence)
    recorded = dep.annotations.get("fileDigests")
    detail = "re-fingerprinted: CHANGED since training"
    if isinstance(recorded, Mapping):
        now = {f.path: f.digest for f in fp.files}
        if fp.kind == "file" and len(recorded) == 1:  # a renamed single file: compare contents
            now = {next(iter(recorded)): fp.files[0].digest}
        diff = {"changed": sorted(k for k in recorded if k in now and now[k] != recorded[k]),
                "added": sorted(k for k in now if k not in recorded),
                "missing": sorted(k for k in recorded if k not in now)}
        evidence.update({k: v[:20] for k, v in diff.items() if v})
        parts = [f"{k}: {', '.join(v[:5])}{' …' if len(v) > 5 else ''}"
                 for k, v in diff.items() if v]
        if parts:
            detail += f" ({'; '.join(parts)})"
    return Link(dep.kind, dep.name, Status.MISMATCHED, detail, expected="sha256:" + expected,
                actual="sha256:" + actual, path=str(where), evidence=evidence)


def _code_link(dep: Dependency, run: TrainingRun, here: Path) -> Link:
    commit = dep.digest.get("gitCommit", "")
    dirty = bool(dep.annotations.get("dirty"))
    evidence: dict[str, Any] = {"dirty": dirty, "uri": dep.uri}
    if dirty:
        evidence["diffSha256"] = dep.annotations.get("diffSha256")
    note = " (tree was DIRTY: uncommitted changes)" if dirty else ""
    found = capture.commit_exists(commit, here) if commit else None
    if not found and Path(run.working_directory).is_dir():
        found = capture.commit_exists(commit, run.working_directory) if commit else None
    if found:
        return Link("code", dep.uri or "source", Status.VERIFIED,
                    f"commit {commit[:12]} is in the local repository{note}", expected=commit,
                    actual=commit, evidence=evidence)
    return Link("code", dep.uri or "source", Status.UNAVAILABLE,
                f"commit {commit[:12]} not found in a local repository{note}", expected=commit,
                evidence=evidence)


def lineage_findings(lineage: Lineage | Statement) -> list[Finding]:
    """``MW-PROV-*`` findings for every problem in the lineage (none for a clean one).

    Given a bare (already verified) provenance :class:`Statement` instead of a traced
    :class:`Lineage`, only what the record itself shows is reported (see
    :func:`statement_findings`): nothing on disk is re-checked.
    """
    if isinstance(lineage, Statement):
        return statement_findings(lineage)
    findings: list[Finding] = []
    model = lineage.model
    findings.extend(lineage.signature_findings)
    found = any(link.kind == "signature" for link in lineage.links()) or any(
        link.kind == "attestation" and link.status is not Status.UNAVAILABLE
        for link in lineage.links())
    if not found:
        findings.append(rules.MISSING.finding(
            f"no provenance attestation names this model ({lineage.digest})", Location(model),
            evidence={"digest": lineage.digest}))
        return findings
    for att in lineage.root.children:
        if att.kind != "attestation":
            continue
        where = Location(att.path or model)
        if att.evidence.get("malformed"):
            findings.append(rules.MALFORMED.finding(f"{att.name}: {att.detail}", where))
        for link in att.children:
            findings.extend(_finding_for(link, att, model))
    return findings


def _finding_for(link: Link, att: Link, model: str) -> list[Finding]:
    if link.evidence.get("unauthenticated"):
        return []  # the signature finding says it all
    where = Location(att.path or model)
    ev = {"expected": link.expected, "actual": link.actual, "attestation": att.name}
    if link.kind == "signature":
        if link.status is Status.MISMATCHED:
            return [rules.SIGNATURE_INVALID.finding(f"{att.name}: {link.detail}", where,
                                                    evidence={**ev, **link.evidence})]
        if link.status is Status.UNAVAILABLE:
            return [rules.UNVERIFIED.finding(f"{att.name}: {link.detail}", where)]
        return []
    if link.kind == "subject" and link.status is Status.MISMATCHED:
        return [rules.MODEL_MISMATCH.finding(
            f"{model} has digest {link.actual}, but {att.name} attests {link.name} with "
            f"{link.expected}", Location(model), evidence=ev)]
    if link.kind == "code":
        out = []
        if link.evidence.get("no_code_identity"):
            out.append(rules.NO_CODE_IDENTITY.finding(f"{att.name}: {link.detail}", where))
        elif link.status is Status.UNAVAILABLE:
            out.append(rules.UNAVAILABLE.finding(f"code {link.name}: {link.detail}", where,
                                                 evidence=ev))
        if link.evidence.get("dirty"):
            out.append(rules.DIRTY_TREE.finding(
                f"{att.name}: trained from a dirty tree at {link.expected}", where,
                evidence={"commit": link.expected,
                          "diffSha256": link.evidence.get("diffSha256")}))
        return out
    if link.kind in ("dataset", "base-model", "lockfile", "params-file"):
        if link.status is Status.MISMATCHED:
            rule = rules.DATASET_MISMATCH if link.kind == "dataset" else rules.DEPENDENCY_MISMATCH
            return [rule.finding(
                f"{link.kind} {link.name} has digest {link.actual}, but the model was trained "
                f"on {link.expected}", Location(link.path or link.name), evidence=ev)]
        if link.status is Status.UNAVAILABLE:
            return [rules.UNAVAILABLE.finding(f"{link.kind} {link.name}: {link.detail}",
                                              Location(link.path or link.name), evidence=ev)]
    return []


def statement_findings(statement: Statement) -> list[Finding]:
    """Findings from a provenance statement alone: dirty tree, no code identity.

    :class:`InputError` when the statement is not mlwarden training provenance.
    """
    run = TrainingRun.from_statement(statement)
    where = Location(run.subjects[0].name)
    code = run.code
    if code is None:
        return [rules.NO_CODE_IDENTITY.finding(
            f"{run.invocation_id}: no git commit recorded: the run was not inside a git "
            "repository", where)]
    if code.annotations.get("dirty"):
        return [rules.DIRTY_TREE.finding(
            f"{run.invocation_id}: trained from a dirty tree at {code.digest.get('gitCommit')}",
            where, evidence={"commit": code.digest.get("gitCommit"),
                             "diffSha256": code.annotations.get("diffSha256")})]
    return []
