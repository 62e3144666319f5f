"""Loads every module that declares rules, so the registry is complete (for docs and SARIF).

Each check package adds its rules module here when it lands; ``tests/test_rules_doc.py`` fails if
``docs/rules.md`` falls out of step with the registry.
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


def load_all() -> None:
    for name in RULE_MODULES:
        importlib.import_module(name)
