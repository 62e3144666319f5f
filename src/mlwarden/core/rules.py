"""Rules: the stable, documented identities behind findings.

Each check declares its rules at import time with :func:`register`; a duplicate id is a fatal
programming error (like trivy's analyzer registry). Every rule has a page in ``docs/rules.md``,
generated from this registry (``mlwarden rules --format markdown``) and checked by a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from mlwarden.core.finding import Finding, JSONValue, Location
from mlwarden.core.severity import Severity

_ID = re.compile(r"^MW-(?P<area>[A-Z]+)-\d{3}$")


@dataclass(frozen=True, slots=True)
class Rule:
    """A check's rule: the id, a default severity, documentation and references."""

    id: str
    name: str
    """A short PascalCase name (SARIF ``rule.name``)."""
    title: str
    description: str
    severity: Severity
    remediation: str
    references: tuple[str, ...] = ()
    version: int = 1
    tags: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"rule id {self.id!r} is not of the form MW-<AREA>-<NNN>")
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]+", self.name):
            raise ValueError(f"rule name {self.name!r} must be PascalCase")

    @property
    def area(self) -> str:
        match = _ID.match(self.id)
        assert match is not None
        return match["area"]

    def finding(
        self,
        message: str,
        location: Location,
        *,
        severity: Severity | None = None,
        title: str | None = None,
        evidence: Mapping[str, JSONValue] | None = None,
        remediation: str | None = None,
    ) -> Finding:
        """A finding of this rule, with the rule's defaults for what is not given."""
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            title=title or self.title,
            message=message,
            location=location,
            evidence=dict(evidence or {}),
            remediation=remediation if remediation is not None else self.remediation,
            references=self.references,
        )


_REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add ``rule`` to the registry; registering a different rule under a taken id is fatal."""
    existing = _REGISTRY.get(rule.id)
    if existing is not None and existing != rule:
        raise RuntimeError(f"rule {rule.id} registered twice with different definitions")
    _REGISTRY[rule.id] = rule
    return rule


def get(rule_id: str) -> Rule | None:
    """The registered rule with this id, or ``None``."""
    return _REGISTRY.get(rule_id)


def all_rules() -> Iterator[Rule]:
    """Every registered rule, sorted by id. Importing :mod:`mlwarden.checks` loads them all."""
    yield from (r for _, r in sorted(_REGISTRY.items()))
