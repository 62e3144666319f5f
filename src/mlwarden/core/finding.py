"""Findings: the one currency of mlwarden.

Scanners, data checks, model tests and monitors all return :class:`Finding` values; renderers in
:mod:`mlwarden.report` turn them into tables, JSON, SARIF and HTML. Findings are frozen: a policy
that waives one returns a *new* finding carrying a :class:`Suppression`, so waived findings stay
visible in every report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlwarden.core.severity import Severity

JSONValue = Any
"""A value that :func:`json.dumps` accepts (str, int, float, bool, None, list, dict)."""

_REFERENCE = re.compile(r"^(CWE-\d+|ML(0[1-9]|10)|AML\.T\d{4}(\.\d{3})?|https?://\S+)$")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: a file, an archive member inside it, a byte offset or a line."""

    path: str
    member: str | None = None
    """The member inside an archive or container (``archive/data.pkl``), if any."""
    offset: int | None = None
    """Byte offset inside the member (or the file when there is no member)."""
    line: int | None = None
    """1-based line number, for text inputs."""

    def __str__(self) -> str:
        text = self.path
        if self.member:
            text += f"!{self.member}"
        if self.offset is not None:
            text += f"@{self.offset}"
        if self.line is not None:
            text += f":{self.line}"
        return text

    def to_dict(self) -> dict[str, JSONValue]:
        return {"path": self.path, "member": self.member, "offset": self.offset, "line": self.line}


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding no longer counts against the policy. The finding itself stays in the report."""

    kind: str
    """``waiver`` (an owned, expiring exception) or ``policy`` (the rule is allowed by policy)."""
    reason: str
    owner: str | None = None
    expires: dt.date | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "kind": self.kind,
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat() if self.expires else None,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One result of one check about one place in one artifact."""

    rule_id: str
    severity: Severity
    title: str
    message: str
    location: Location
    evidence: Mapping[str, JSONValue] = field(default_factory=dict, hash=False)
    remediation: str = ""
    references: tuple[str, ...] = ()
    suppression: Suppression | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"MW-[A-Z]+-\d{3}", self.rule_id):
            raise ValueError(f"rule id {self.rule_id!r} is not of the form MW-<AREA>-<NNN>")
        if not isinstance(self.severity, Severity):
            raise TypeError(f"severity must be a Severity, not {type(self.severity).__name__}")
        for ref in self.references:
            if not _REFERENCE.match(ref):
                raise ValueError(f"reference {ref!r} is not a CWE, OWASP ML, ATLAS id or URL")

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None

    @property
    def fingerprint(self) -> str:
        """A stable identity of this finding across runs (rule, place, and resolved evidence)."""
        import hashlib  # here, not at import: ``mlwarden scan`` of a clean file never needs it
        import json

        key = json.dumps(
            [self.rule_id, self.location.path, self.location.member, self.location.offset,
             self.location.line, self.title],
            sort_keys=True,
        )
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    def suppressed_by(self, suppression: Suppression) -> Finding:
        """Return a copy of this finding carrying ``suppression``."""
        return replace(self, suppression=suppression)

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "location": self.location.to_dict(),
            "evidence": dict(self.evidence),
            "remediation": self.remediation,
            "references": list(self.references),
            "fingerprint": self.fingerprint,
            "suppression": self.suppression.to_dict() if self.suppression else None,
        }


@dataclass(frozen=True, slots=True)
class Skip:
    """A target (or member) that could not be checked, and why. A skip is never a clean result."""

    path: str
    reason: str
    member: str | None = None

    def to_dict(self) -> dict[str, JSONValue]:
        return {"path": self.path, "member": self.member, "reason": self.reason}
