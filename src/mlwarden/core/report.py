"""Reports: findings plus what produced them, ready for any renderer."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from mlwarden import __version__
from mlwarden.core.finding import Finding, JSONValue, Skip
from mlwarden.core.severity import Severity

if TYPE_CHECKING:
    from mlwarden.core.decision import Decision

REPORT_SCHEMA_VERSION = "1.0"
REPORT_SCHEMA_URI = "https://mlwarden.dev/schemas/report/v1.0"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class CheckRun:
    """A check that ran (name and version), so a report says which rule versions produced it."""

    name: str
    version: str

    def to_dict(self) -> dict[str, JSONValue]:
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True, slots=True)
class Report:
    """The findings of one command over one target, with tool version, timing and skips."""

    command: str
    target: str
    findings: tuple[Finding, ...] = ()
    skipped: tuple[Skip, ...] = ()
    checks: tuple[CheckRun, ...] = ()
    started_at: dt.datetime = field(default_factory=utcnow)
    finished_at: dt.datetime = field(default_factory=utcnow)
    artifacts: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Path → digest (``sha256:…``) of every artifact that was checked."""
    metadata: Mapping[str, JSONValue] = field(default_factory=dict, hash=False)
    decision: Decision | None = None
    tool_version: str = __version__

    @classmethod
    def build(
        cls,
        command: str,
        target: str,
        findings: Iterable[Finding],
        *,
        started_at: dt.datetime,
        skipped: Iterable[Skip] = (),
        checks: Iterable[CheckRun] = (),
        artifacts: Mapping[str, str] | None = None,
        metadata: Mapping[str, JSONValue] | None = None,
    ) -> Report:
        """A report with findings sorted most severe first, then by place."""
        ordered = sorted(
            findings,
            key=lambda f: (-f.severity.rank, f.location.path, f.location.member or "",
                           f.location.offset or 0, f.location.line or 0, f.rule_id),
        )
        return cls(
            command=command,
            target=target,
            findings=tuple(ordered),
            skipped=tuple(skipped),
            checks=tuple(checks),
            started_at=started_at,
            finished_at=utcnow(),
            artifacts=dict(artifacts or {}),
            metadata=dict(metadata or {}),
        )

    @property
    def active(self) -> tuple[Finding, ...]:
        """Findings not suppressed by a waiver or policy."""
        return tuple(f for f in self.findings if not f.suppressed)

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def max_severity(self, *, include_suppressed: bool = False) -> Severity | None:
        pool = self.findings if include_suppressed else self.active
        return max((f.severity for f in pool), default=None)

    def counts(self) -> dict[str, int]:
        """Active findings per severity, every severity present (zero if none)."""
        counter = Counter(f.severity for f in self.active)
        return {s.value: counter.get(s, 0) for s in sorted(Severity, reverse=True)}

    def at_or_above(self, threshold: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.active if f.severity >= threshold)

    def with_decision(self, decision: Decision, findings: Iterable[Finding]) -> Report:
        return replace(self, decision=decision, findings=tuple(findings))

    def merged(self, other: Report) -> Report:
        """Combine two reports over related targets (e.g. a gate collecting several checks)."""
        return replace(
            self,
            findings=self.findings + other.findings,
            skipped=self.skipped + other.skipped,
            checks=self.checks + tuple(c for c in other.checks if c not in self.checks),
            started_at=min(self.started_at, other.started_at),
            finished_at=max(self.finished_at, other.finished_at),
            artifacts={**self.artifacts, **other.artifacts},
            metadata={**self.metadata, **other.metadata},
        )

    def to_dict(self) -> dict[str, JSONValue]:
        """The documented JSON form (``docs/report.schema.json``)."""
        import platform

        return {
            "$schema": REPORT_SCHEMA_URI,
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": {"name": "mlwarden", "version": self.tool_version,
                     "python": platform.python_version()},
            "command": self.command,
            "target": self.target,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_s": round(self.duration_s, 6),
            "summary": {
                "total": len(self.findings),
                "active": len(self.active),
                "suppressed": len(self.findings) - len(self.active),
                "skipped": len(self.skipped),
                "by_severity": self.counts(),
                "max_severity": (s.value if (s := self.max_severity()) else None),
            },
            "checks": [c.to_dict() for c in self.checks],
            "artifacts": dict(self.artifacts),
            "findings": [f.to_dict() for f in self.findings],
            "skipped": [s.to_dict() for s in self.skipped],
            "decision": self.decision.to_dict() if self.decision else None,
            "metadata": dict(self.metadata),
        }
