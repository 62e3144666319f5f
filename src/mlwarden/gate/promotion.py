"""Promotion, stage policies and verified pull: the gate deciding over what the registry stores.

The registry stores (versions, stage policy texts, stage moves, approvals, the audit log); this
module decides. It reads a version's evidence through :meth:`Registry.evidence`, runs the stage's
policy with :func:`mlwarden.gate.engine.gate_evidence`, and asks the registry to move the stage
with :meth:`Registry.move_stage`, which refuses (a conflict, nothing changed) when the version's
stage or the stage's stored policy changed while it was being gated. ``rollback`` is still a
registry operation (:meth:`Registry.rollback`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlwarden.core.errors import DeniedError, InputError, VerificationError
from mlwarden.core.report import Report, utcnow
from mlwarden.registry import auth
from mlwarden.registry.models import AttestationKind, Stage
from mlwarden.registry.service import (
    GATED_STAGES,
    StoredPolicy,
    check_transition,
    gated_stage,
    parse_stage,
)

if TYPE_CHECKING:
    from mlwarden.core.policy import Policy
    from mlwarden.registry.service import Registry
    from mlwarden.sign.keys import EcdsaVerifier


class PromotionDenied(DeniedError):
    """The stage's policy denied a promotion; ``report`` holds the gate's full report."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


def _parse(stored: StoredPolicy) -> Policy:
    from mlwarden.core.policy import Policy

    return Policy.from_yaml(stored.text, source=f"registry policy for {stored.stage}")


def _policy_of(reg: Registry, stage: str) -> tuple[Policy, StoredPolicy | None]:
    from mlwarden.gate.requirements import default_policy

    stored = reg.stored_stage_policy(stage)
    if stored is None:
        return default_policy(gated_stage(stage).value), None
    return _parse(stored), stored


def stage_policy(reg: Registry, stage: str) -> Policy:
    """The stored policy for ``stage``, else the built-in default (secure defaults)."""
    return _policy_of(reg, stage)[0]


def set_stage_policy(reg: Registry, p: auth.Principal, stage: str, path: Path) -> Policy:
    """Check the policy file as ``gate`` would (file and field of any mistake, keys loadable),
    inline its trusted keys, and store it as the policy that gates ``stage``."""
    from mlwarden.core.policy import Policy
    from mlwarden.gate.checks import load_verifiers
    from mlwarden.gate.requirements import inline_keys, key_texts, requirements_for

    reg.authorize(p, auth.Action.SET_POLICY)
    st = gated_stage(stage)
    Policy.load(path)  # names the file and field of any mistake
    text = inline_keys(path.read_text(encoding="utf-8"), path)
    policy = Policy.from_yaml(text, source=str(path))
    load_verifiers(key_texts(requirements_for(policy, st.value), policy))  # fail now, not later
    reg.store_stage_policy(p, st.value, text, policy.digest, name=policy.name, source=str(path))
    return policy


def promote(reg: Registry, p: auth.Principal, ref: str, stage: str, *, reason: str = "",
            otp: str | None = None) -> Report:
    """Move a version to ``stage``; gated stages run the stage's policy first.

    Approvals count only while they are valid now (role held, token not revoked, neither the
    publisher's, the promoter's, nor by someone they invited); a promotion into production needs
    the promoter's one-time code when they (or the registry) have a second factor. A deny is
    recorded in the audit log and raised as :class:`PromotionDenied` (exit 1).
    """
    reg.authorize(p, auth.Action.PROMOTE)
    target = parse_stage(stage)
    ref, current = reg.stage_of(ref)
    check_transition(ref, current, target)
    if target not in GATED_STAGES:
        reg.move_stage(p, ref, target, expected=current, reason=reason)
        return Report.build("registry promote", ref, [], started_at=utcnow())
    if target is Stage.PRODUCTION:
        reg.second_factor(p, otp, "a promotion into production")
    from mlwarden.gate.engine import gate_evidence

    policy, stored = _policy_of(reg, target.value)
    with reg.evidence(p, ref, promoter=p.name) as ev:
        if ev.blocked is not None:
            raise DeniedError(f"{ref} is blocked: {ev.blocked}")
        report = gate_evidence(policy, ev, stage=target.value)
        seen = ev.approvers.get(target.value, ())
    decision = report.decision
    assert decision is not None
    if not decision.allowed:
        reg.record_denial(p, ref, target.value, decision.to_dict())
        try:
            decision.enforce()
        except DeniedError as exc:
            raise PromotionDenied(exc.message, report) from None
    reg.move_stage(p, ref, target, expected=current, reason=reason, gated=True,
                   gated_policy=stored, decision=decision.to_dict(), approvers_seen=seen)
    return report


def rollback(reg: Registry, p: auth.Principal, model: str, reason: str, *,
             otp: str | None = None) -> tuple[str, str, Report]:
    """Return production to the newest earlier production version the *current* production
    policy allows (a version signed by a since-distrusted key, blocked, tampered with or no
    longer approved cannot come back): ``(from ref, to ref, the gate's report)``.

    Each candidate refused is recorded in the audit log; none allowed is a :class:`DeniedError`
    naming why each was passed over."""
    from mlwarden.gate.engine import gate_evidence

    current, candidates, problems = reg.rollback_candidates(p, model, reason)
    reg.second_factor(p, otp, "a rollback of production")
    policy, stored = _policy_of(reg, Stage.PRODUCTION.value)
    for ref in candidates:
        try:
            with reg.evidence(p, ref, promoter=p.name) as ev:
                report = gate_evidence(policy, ev, stage=Stage.PRODUCTION.value)
                seen = ev.approvers.get(Stage.PRODUCTION.value, ())
        except VerificationError as exc:
            problems.append(f"{ref}: {exc.message}")
            continue
        decision = report.decision
        assert decision is not None
        if not decision.allowed:
            reg.record(p, "version.rollback.denied", ref,
                       {"stage": Stage.PRODUCTION.value, "decision": decision.to_dict()})
            why = "; ".join(r.message for r in decision.reasons[:2])
            problems.append(f"{ref}: the production policy denies it ({why})")
            continue
        reg.rollback_to(p, current, ref, reason, gated_policy=stored,
                        decision=decision.to_dict(), approvers_seen=seen)
        return current, ref, report
    extra = f" ({'; '.join(problems)})" if problems else ""
    raise DeniedError(f"no earlier production version of {model!r} to roll back to{extra}")


def gate_version(reg: Registry, p: auth.Principal, ref: str, policy: Policy, *,
                 stage: str = "production") -> Report:
    """Gate a stored version under ``policy`` (a file the caller chose, not the stage's own).

    Recorded as ``gate.adhoc`` with the policy's digest and whether it is the stage's stored
    policy: a policy file that merely carries a stage's name is never logged as that stage's
    decision (only a promotion is)."""
    from mlwarden.gate.engine import gate_evidence

    reg.authorize(p, auth.Action.GATE)
    with reg.evidence(p, ref) as ev:
        report = gate_evidence(policy, ev, stage=stage)
    assert report.decision is not None
    stored = reg.stored_stage_policy(stage) if Stage(stage) in GATED_STAGES else None
    reg.record(p, "gate.adhoc", ref, {"policy": policy.name, "policy_digest": policy.digest,
                                      "requirements_of": stage,
                                      "stage_policy_digest": stored.digest if stored else None,
                                      "is_stage_policy": bool(stored and
                                                              stored.digest == policy.digest),
                                      "decision": report.decision.to_dict()})
    return report


PULLABLE_STAGES = frozenset({Stage.STAGING.value, Stage.PRODUCTION.value})
"""Stages a version reaches only through the gate: the only ones ``pull`` serves by default."""


def _refuse_unapproved(ref: str, stage: str, blocked: str | None) -> None:
    if blocked is not None:
        raise DeniedError(f"{ref} is blocked: {blocked}",
                          advice="--allow-unapproved pulls it anyway (recorded in the audit log)")
    if stage not in PULLABLE_STAGES:
        raise DeniedError(f"{ref} is in {stage}: no gate allowed it into staging or production "
                          "(or it left them)",
                          advice="pull a staging or production version, or pass "
                                 "--allow-unapproved (recorded in the audit log)")


def pull(reg: Registry, p: auth.Principal, ref: str, dest: Path, *, stage: str | None = None,
         trusted_keys: Sequence[Path] = (), require_signature: bool = False,
         allow_unapproved: bool = False) -> Path:
    """Re-verify digest (and signature, when the version carries one) and write ``dest``.

    A bare ``MODEL`` means its production version. Only a version the gate let into staging or
    production, and not blocked, is served, unless ``allow_unapproved`` (then the pull is
    recorded as ``version.pull.unapproved``). Files are materialised in a temporary folder
    beside ``dest`` and renamed into place only after every check passed; ``dest`` must not
    exist.
    """
    from mlwarden.registry.store import sync_filesystem

    reg.authorize(p, auth.Action.PULL)
    if dest.exists() or dest.is_symlink():
        raise InputError("already exists; pull into a new path", path=dest)
    parent = dest.parent if str(dest.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.pull-", dir=parent))
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror}", path=dest) from None
    from mlwarden.gate.checks import verifiers_from_paths

    keys = verifiers_from_paths(trusted_keys) if trusted_keys else None  # bad --key: exit 2 first
    try:
        if stage is None and "@" not in ref:
            stage = Stage.PRODUCTION.value
        got = reg.materialise(p, ref, tmp, stage=stage,
                              check=None if allow_unapproved else _refuse_unapproved)
        verifiers = keys if keys is not None else _trust(reg, got.stage, ())
        # every byte was hashed while it was copied out, against the manifest whose listing
        # digest is the registered digest (Registry.materialise): no second pass over the bytes
        bundles = got.attestations.get(AttestationKind.SIGNATURE.value, ())
        signer_ids: list[str] = []
        if bundles:
            from mlwarden.gate.checks import verify_signature_bundles

            if verifiers:
                signer_ids = verify_signature_bundles(got.root, bundles, verifiers,
                                                      source=got.ref)
            elif require_signature:
                raise VerificationError(f"{got.ref}: no trusted key to verify its signature with",
                                        advice="pass --key, or set a stage policy that names "
                                               "trusted keys")
            # else: no key is trusted anywhere (the default policies): the signature cannot be
            # checked, exactly as for an unsigned version; recorded as not verified
        elif require_signature:
            raise VerificationError(f"{got.ref} carries no signature")
        sync_filesystem(tmp)  # durable before it appears under its name (one syncfs, not one
        os.replace(got.root, dest)  # fsync per file)
        unapproved = got.blocked is not None or got.stage not in PULLABLE_STAGES
        reg.record(p, "version.pull.unapproved" if unapproved else "version.pull", got.ref,
                   {"digest": got.digest, "signature_verified": bool(signer_ids),
                    "signers": signer_ids, "stage": got.stage, "blocked": got.blocked})
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _trust(reg: Registry, stage: str, paths: Sequence[Path]) -> list[EcdsaVerifier]:
    """Keys to verify a pulled signature: ``--key`` files, else the stage's stored policy (the
    version's own stage, then production, then staging)."""
    from mlwarden.gate.checks import load_verifiers, verifiers_from_paths
    from mlwarden.gate.requirements import key_texts, requirements_for

    if paths:
        return verifiers_from_paths(paths)
    for name in (stage, Stage.PRODUCTION.value, Stage.STAGING.value):
        stored = reg.stored_stage_policy(name) if Stage(name) in GATED_STAGES else None
        if stored is not None:
            policy = _parse(stored)
            return load_verifiers(key_texts(requirements_for(policy, name), policy))
    return []
