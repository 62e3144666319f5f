"""The console table: what a person reads in a terminal."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from mlwarden.core.report import Report
from mlwarden.core.severity import Severity
from mlwarden.report.plain import (
    reason_lines,
    severity_label,
    skip_lines,
    summary_parts,
    suppression_note,
)

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def build(report: Report) -> Group:
    """The rich renderable for a report: findings table, skips, summary and decision."""
    parts: list[Table | Text] = []
    if report.findings:
        # Every string from the report is a Text: file names and messages are data, never markup
        # (``evil[v2].pkl`` must not render as ``evil.pkl``), whatever console prints this.
        table = Table(title=Text(f"{report.command}: {report.target}"), title_justify="left",
                      expand=False, show_lines=False)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Location", overflow="fold")
        table.add_column("Finding", overflow="fold")
        for f in report.findings:
            sev = Text(severity_label(f), style="dim strike" if f.suppression
                       else SEVERITY_STYLE[f.severity])
            message = Text(f.title, style="bold")
            message.append(f"\n{f.message}", style="")
            note = suppression_note(f)
            if note:
                message.append(f"\n{note}", style="dim italic")
            table.add_row(sev, Text(f.rule_id), Text(str(f.location)), message)
        parts.append(table)
    parts += [Text(line, style="yellow") for line in skip_lines(report)]
    text, skipped = summary_parts(report)
    summary = Text(text)
    if skipped:
        summary.append(skipped, style="yellow")
    summary.append(f" in {report.duration_s:.2f}s")
    parts.append(summary)
    if report.decision is not None:
        d = report.decision
        line = Text(f"decision: {d.verdict.upper()}", style="bold green" if d.allowed
                    else "bold red")
        line.append(f" (policy {d.policy!r})", style="")
        parts.append(line)
        parts += [Text(reason, style="red") for reason in reason_lines(report)]
    return Group(*parts)


def print_report(report: Report, console: Console) -> None:
    console.print(build(report))


def render_table(report: Report, *, width: int = 120) -> str:
    """The rich table as text without colour codes (``mlwarden.report.plain`` is what files and
    pipes get; this is for callers that want the boxed layout at a given width)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False,
                      legacy_windows=False)
    console.print(build(report))
    return buffer.getvalue()
