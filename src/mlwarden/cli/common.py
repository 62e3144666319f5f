"""Options shared by every command (typer), and the output helpers re-exported from
:mod:`mlwarden.cli.output` (which stays typer-free for the lean ``scan`` path)."""

from __future__ import annotations

import enum
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
class TextFormat(str, enum.Enum):
    """``--format`` of commands whose result is a record, not a findings report."""

    TABLE = "table"
    JSON = "json"


TextFormatOpt = Annotated[TextFormat, typer.Option(
    "--format", "-f", help="Output format: table or json.", case_sensitive=False)]
JsonFlagOpt = Annotated[bool, typer.Option(
    "--json", hidden=True, help="The same as --format json (kept for old scripts).")]


def wants_json(fmt: TextFormat, as_json: bool) -> bool:
    return as_json or fmt is TextFormat.JSON


PolicyOpt = Annotated[Path | None, typer.Option(
    "--policy", "-p", help="A policy file (YAML): thresholds, rule allow/deny, waivers.")]

__all__ = ["FailOnOpt", "FormatOpt", "JsonFlagOpt", "OutputOpt", "PolicyOpt", "TextFormat",
           "TextFormatOpt", "emit", "err", "exit_code_for", "load_policy", "out", "parse_severity",
           "passphrase_prompt", "wants_json"]


def load_policy(path: Path | None, fail_on: str | None) -> Policy:
    """The policy from ``--policy``, or the default one; ``--fail-on`` overrides its threshold."""
    from mlwarden.core.policy import Policy

    threshold = parse_severity(fail_on) if fail_on is not None else None
    policy = Policy.load(path) if path is not None else Policy.default()
    if threshold is not None:
        policy = policy.model_copy(update={"fail_on": threshold.value})
    return policy


def passphrase_prompt(confirm: bool) -> str:
    """Ask for a key passphrase on the terminal (every signing command asks the same way)."""
    import sys

    if not sys.stdin.isatty():  # no one to ask: say how to give it instead of reading a pipe
        from mlwarden.core.errors import UsageError

        raise UsageError("the key needs a passphrase and stdin is not a terminal",
                         advice="use --passphrase-file or set MLWARDEN_KEY_PASSPHRASE")
    return str(typer.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm))


AllowInsecureKeyOpt = Annotated[bool, typer.Option(
    "--allow-insecure-key", envvar="MLWARDEN_ALLOW_INSECURE_KEY",
    help="Accept a --key PEM file that is unencrypted or readable by group/others "
         "(refused by default).")]
