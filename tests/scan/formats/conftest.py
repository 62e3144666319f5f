"""Helpers for the format-scanner tests: run the real engine dispatch on bytes or a file."""

from __future__ import annotations

from pathlib import Path

from mlwarden.core.finding import Finding
from mlwarden.scan import engine
from mlwarden.scan.interface import ScanContext, ScanLimits, ScanTarget

engine.load_scanners()


def scan(data: bytes | memoryview, name: str = "model", fs_path: Path | None = None,
         limits: ScanLimits | None = None) -> ScanContext:
    """Detect ``data``'s format and scan it exactly as ``mlwarden scan`` does."""
    ctx = ScanContext(limits=limits or ScanLimits(), dispatch=engine.dispatch)
    engine.dispatch(ScanTarget(path=name, data=data, fs_path=fs_path), ctx)
    return ctx


def scan_file(path: Path) -> ScanContext:
    return scan(path.read_bytes(), name=str(path), fs_path=path)


def rule_ids(ctx: ScanContext) -> set[str]:
    return {f.rule_id for f in ctx.findings}


def by_rule(ctx: ScanContext, rule_id: str) -> list[Finding]:
    return [f for f in ctx.findings if f.rule_id == rule_id]


def format_of(ctx: ScanContext, name: str = "model") -> str | None:
    return ctx.formats.get(name)


def assert_no_crash(ctx: ScanContext) -> None:
    """The engine turns a scanner exception into MW-FMT-001: that must never happen here."""
    crashes = [f for f in ctx.findings if f.rule_id.startswith("MW-FMT-")]
    assert not crashes, crashes
