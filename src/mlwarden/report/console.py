"""The console table: what a person reads in a terminal."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from mlwarden.core.report import Report
from mlwarden.core.severity import Severity

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
        table = Table(title=f"{report.command}: {report.target}", title_justify="left",
                      expand=False, show_lines=False)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Location", overflow="fold")
        table.add_column("Finding", overflow="fold")
        for f in report.findings:
            sev = Text(f.severity.value.upper(), style=SEVERITY_STYLE[f.severity])
            message = Text(f.title, style="bold")
            message.append(f"\n{f.message}", style="")
            if f.suppression:
                sev = Text(f"{f.severity.value} (waived)", style="dim strike")
                who = f" by {f.suppression.owner}" if f.suppression.owner else ""
                until = f" until {f.suppression.expires}" if f.suppression.expires else ""
                message.append(f"\nsuppressed ({f.suppression.kind}{who}{until}): "
                               f"{f.suppression.reason}", style="dim italic")
            table.add_row(sev, f.rule_id, str(f.location), message)
        parts.append(table)
    for skip in report.skipped:
        where = f"{skip.path}!{skip.member}" if skip.member else skip.path
        parts.append(Text(f"skipped {where}: {skip.reason}", style="yellow"))
    counts = report.counts()
    summary = Text(f"{len(report.artifacts) or ''}{' artifact(s), ' if report.artifacts else ''}"
                   f"{len(report.active)} active finding(s)")
    detail = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    if detail:
        summary.append(f" ({detail})")
    suppressed = len(report.findings) - len(report.active)
    if suppressed:
        summary.append(f", {suppressed} suppressed")
    if report.skipped:
        summary.append(f", {len(report.skipped)} skipped", style="yellow")
    summary.append(f" in {report.duration_s:.2f}s")
    parts.append(summary)
    if report.decision is not None:
        d = report.decision
        style = "bold green" if d.allowed else "bold red"
        line = Text(f"decision: {d.verdict.upper()}", style=style)
        line.append(f" (policy {d.policy!r})", style="")
        parts.append(line)
        if not d.allowed:
            for reason in d.reasons[:10]:
                parts.append(Text(f"  - {reason.message}", style="red"))
            if len(d.reasons) > 10:
                parts.append(Text(f"  … and {len(d.reasons) - 10} more", style="red"))
    return Group(*parts)


def print_report(report: Report, console: Console) -> None:
    console.print(build(report))


def render_table(report: Report, *, width: int = 120) -> str:
    """The table as plain text (no colour codes), e.g. for a file."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False,
                      legacy_windows=False)
    console.print(build(report))
    return buffer.getvalue()
