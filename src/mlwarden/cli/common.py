"""Options shared by every command (typer), and the output helpers re-exported from
:mod:`mlwarden.cli.output` (which stays typer-free for the lean ``scan`` path)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlwarden.cli.output import emit, err, exit_code_for, out, parse_severity
from mlwarden.report.interface import OutputFormat

if TYPE_CHECKING:
    from mlwarden.core.policy import Policy

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

__all__ = ["FailOnOpt", "FormatOpt", "OutputOpt", "PolicyOpt", "emit", "err", "exit_code_for",
           "load_policy", "out", "parse_severity"]


def load_policy(path: Path | None, fail_on: str | None) -> Policy:
    """The policy from ``--policy``, or the default one; ``--fail-on`` overrides its threshold."""
    from mlwarden.core.policy import Policy

    threshold = parse_severity(fail_on) if fail_on is not None else None
    policy = Policy.load(path) if path is not None else Policy.default()
    if threshold is not None:
        policy = policy.model_copy(update={"fail_on": threshold.value})
    return policy
