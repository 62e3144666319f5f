"""The demo's own report: every step's findings and facts, decided by the default policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlwarden.core.report import Report

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


def build_report(ctx: DemoContext) -> Report:
    from mlwarden.core.digest import sha256_file
    from mlwarden.core.policy import Policy

    report = Report.build(
        "demo", str(ctx.workdir), ctx.findings, started_at=ctx.started_at, checks=ctx.checks,
        artifacts={str(p): sha256_file(p) for p in ctx.artifacts.values() if p.is_file()},
        metadata={k: v for k, v in ctx.facts.items() if isinstance(v, (str, int, float, bool))},
    )
    return Policy.default().evaluate(report)
