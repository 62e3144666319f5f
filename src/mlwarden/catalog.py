"""The catalogue of plug-ins: the modules that declare rules, evidence kinds and policy sections.

Each check package adds its modules here when it lands (a new stage adds modules and a line per
kind of plug-in here, nothing else). ``tests/test_rules_doc.py`` fails if ``docs/rules.md`` falls
out of step with the rule registry; ``tests/test_plugins.py`` checks that every module named here
registers what it says.
"""

from __future__ import annotations

import importlib

RULE_MODULES: tuple[str, ...] = (
    "mlwarden.core.policy",
    "mlwarden.gate.rules",
    "mlwarden.provenance.rules",
    "mlwarden.scan.container_rules",
    "mlwarden.scan.format_rules",
    "mlwarden.scan.pickle.rules",
    "mlwarden.sign.rules",
)

EVIDENCE_MODULES: tuple[str, ...] = (
    "mlwarden.data.evidence",
    "mlwarden.evaluate.evidence",
    "mlwarden.provenance.evidence",
    "mlwarden.scan.evidence",
    "mlwarden.sign.evidence",
)
"""Modules that register :class:`mlwarden.core.evidence.EvidenceKind` subclasses."""

SECTION_MODULES: tuple[str, ...] = (
    "mlwarden.gate.requirements",
)
"""Modules that register :class:`mlwarden.core.policy.PolicySection` subclasses."""


def load_all() -> None:
    for name in RULE_MODULES:
        importlib.import_module(name)


def load_evidence() -> None:
    for name in EVIDENCE_MODULES:
        importlib.import_module(name)


def load_sections() -> None:
    for name in SECTION_MODULES:
        importlib.import_module(name)
