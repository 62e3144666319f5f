"""Decisions: what a policy concluded about a set of findings, and why."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from mlwarden.core.errors import DeniedError
from mlwarden.core.finding import Finding, JSONValue, Skip
from mlwarden.core.severity import Severity


class ReasonCode(str, enum.Enum):
    """Why a decision came out the way it did."""

    THRESHOLD = "threshold"
    """An active finding is at or above the policy's ``fail_on`` severity."""
    DENIED_RULE = "denied-rule"
    """An active finding belongs to a rule the policy denies outright."""
    EXPIRED_WAIVER = "expired-waiver"
    """A waiver has expired; what it covered counts again."""
    UNSCANNED = "unscanned"
    """A file or member could not be checked (a skip) and the policy's ``scan.on_unscanned`` is
    ``deny``: what was not checked is not clean."""
    REQUIREMENT = "requirement"
    """A requirement of the policy (an attestation, a signer, an approval) is not met."""
    CLEAN = "clean"
    """Nothing stands in the way."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason of a decision: what the policy saw (a finding, a waiver, a clean result)."""

    code: ReasonCode
    message: str
    rule_id: str | None = None
    fingerprint: str | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"code": self.code.value, "message": self.message, "rule_id": self.rule_id,
                "fingerprint": self.fingerprint}


@dataclass(frozen=True, slots=True)
class Decision:
    """Allow or deny, with every reason. Use :meth:`enforce` rather than reading ``allowed``."""

    allowed: bool
    reasons: tuple[Reason, ...]
    policy: str
    """The policy's name."""
    policy_digest: str
    """``sha256:…`` of the policy's canonical form, so a recorded decision names its exact policy."""
    evaluated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @property
    def verdict(self) -> str:
        return "allow" if self.allowed else "deny"

    def enforce(self) -> None:
        """Raise :class:`DeniedError` with the first reasons when the decision is deny."""
        if self.allowed:
            return
        blocking = [r for r in self.reasons if r.code is not ReasonCode.CLEAN]
        head = "; ".join(r.message for r in blocking[:3])
        more = f" (+{len(blocking) - 3} more)" if len(blocking) > 3 else ""
        raise DeniedError(f"policy {self.policy!r} denies: {head}{more}")

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "verdict": self.verdict,
            "allowed": self.allowed,
            "policy": self.policy,
            "policy_digest": self.policy_digest,
            "evaluated_at": self.evaluated_at.isoformat(),
            "reasons": [r.to_dict() for r in self.reasons],
        }


OnUnscanned = Literal["deny", "warn"]
"""What a decision makes of a skip: ``deny`` (the default: fail closed) or ``warn`` (reported only)."""


def unscanned_reasons(skipped: Iterable[Skip], on_unscanned: OnUnscanned = "deny") -> list[Reason]:
    """One ``unscanned`` reason per skip when ``on_unscanned`` is ``deny``, none for ``warn``."""
    if on_unscanned == "warn":
        return []
    return [Reason(ReasonCode.UNSCANNED,
                   f"not checked: {f'{s.path}!{s.member}' if s.member else s.path}: {s.reason}")
            for s in skipped]


def decide_by_threshold(findings: Iterable[Finding], fail_on: Severity,
                        policy: str = "default", *, skipped: Iterable[Skip] = (),
                        on_unscanned: OnUnscanned = "deny") -> Decision:
    """The decision of the default policy (``fail_on`` only), without loading pydantic or YAML.

    Gives the same verdict and reasons as ``Policy.default(fail_on).decide(findings, skipped=…)``;
    commands that take no ``--policy`` use it to keep start-up lean. Skips deny unless
    ``on_unscanned`` is ``warn``.
    """
    import hashlib
    import json

    reasons = unscanned_reasons(skipped, on_unscanned)
    reasons += [Reason(ReasonCode.THRESHOLD, f"{f.rule_id} ({f.severity.value}) at {f.location}: "
                       f"{f.title}", f.rule_id, f.fingerprint)
                for f in findings if not f.suppressed and f.severity >= fail_on]
    settings: dict[str, str] = {"fail_on": fail_on.value, "name": policy}
    if on_unscanned != "deny":
        settings["on_unscanned"] = on_unscanned
    canonical = json.dumps(settings, sort_keys=True)
    digest = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    if not reasons:
        return Decision(True, (Reason(ReasonCode.CLEAN, f"no active finding at or above "
                                                         f"{fail_on.value}"),), policy, digest)
    return Decision(False, tuple(reasons), policy, digest)
