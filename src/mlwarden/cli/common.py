"""Options and output helpers shared by every command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlwarden.core.errors import ExitCode, UsageError
from mlwarden.core.severity import Severity
from mlwarden.report.interface import OutputFormat

if TYPE_CHECKING:
    from rich.console import Console

    from mlwarden.core.policy import Policy
    from mlwarden.core.report import Report

FormatOpt = Annotated[OutputFormat, typer.Option(
    "--format", "-f", help="Report format: table, json, sarif or html.", case_sensitive=False)]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Write the report to this file (atomically) instead of stdout.",
    dir_okay=False)]
FailOnOpt = Annotated[str, typer.Option(
    "--fail-on", help="Exit 1 when an active finding is at or above this severity "
                      "(info, low, medium, high, critical).", metavar="SEVERITY")]
PolicyOpt = Annotated[Path | None, typer.Option(
    "--policy", "-p", help="A policy file (YAML): thresholds, rule allow/deny, waivers.")]

_stdout: Console | None = None
_stderr: Console | None = None


def out() -> Console:
    """The console for results (stdout)."""
    global _stdout
    if _stdout is None:
        from rich.console import Console

        _stdout = Console(soft_wrap=False)
    return _stdout


def err() -> Console:
    """The console for progress and diagnostics (stderr)."""
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True)
    return _stderr


def parse_severity(value: str, option: str = "--fail-on") -> Severity:
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def load_policy(path: Path | None, fail_on: str | None) -> Policy:
    """The policy from ``--policy``, or the default one; ``--fail-on`` overrides its threshold."""
    from mlwarden.core.policy import Policy

    threshold = parse_severity(fail_on) if fail_on is not None else None
    policy = Policy.load(path) if path is not None else Policy.default()
    if threshold is not None:
        policy = policy.model_copy(update={"fail_on": threshold.value})
    return policy


def emit(report: Report, fmt: OutputFormat, output: Path | None) -> None:
    """Print or write ``report``. Tables on a terminal get colour; files are written atomically."""
    from mlwarden.report.interface import render, write_report

    if output is not None:
        write_report(report, fmt, output)
        err().print(f"wrote {fmt.value} report to {output}")
        return
    if fmt is OutputFormat.TABLE:
        from mlwarden.report.console import print_report

        print_report(report, out())
    else:
        sys.stdout.write(render(report, fmt))
        sys.stdout.flush()


def exit_code_for(report: Report) -> ExitCode:
    """0 when the report's decision allows (or there is none and nothing active), else 1."""
    if report.decision is not None:
        return ExitCode.OK if report.decision.allowed else ExitCode.FINDINGS
    return ExitCode.FINDINGS if report.active else ExitCode.OK
