"""The table as plain text: what a pipe, a CI log or a ``--format table -o file`` gets.

A terminal gets the rich table (:mod:`mlwarden.report.console`); everything else gets this: one
line per finding (severity, rule, location, title and message, columns aligned), so that ``grep``
and CI log viewers work on it, and no box drawing or colour codes. It is also what keeps
``mlwarden scan`` in CI lean: rich costs more start-up than scanning a small model.
The summary and decision lines are built here and shared with the rich renderer.
"""

from __future__ import annotations

from mlwarden.core.finding import Finding
from mlwarden.core.report import Report

MAX_REASONS = 10
"""Deny reasons listed under the decision line; the rest are counted."""


def severity_label(finding: Finding) -> str:
    return f"{finding.severity.value} (waived)" if finding.suppression else \
        finding.severity.value.upper()


def suppression_note(finding: Finding) -> str | None:
    s = finding.suppression
    if s is None:
        return None
    who = f" by {s.owner}" if s.owner else ""
    until = f" until {s.expires}" if s.expires else ""
    return f"suppressed ({s.kind}{who}{until}): {s.reason}"


def skip_lines(report: Report) -> list[str]:
    return [f"skipped {f'{s.path}!{s.member}' if s.member else s.path}: {s.reason}"
            for s in report.skipped]


def summary_parts(report: Report) -> tuple[str, str]:
    """The summary line as (text, skipped note); the note is styled apart on a terminal."""
    artifacts = f"{len(report.artifacts)} artifact(s), " if report.artifacts else ""
    text = f"{artifacts}{len(report.active)} active finding(s)"
    detail = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    if detail:
        text += f" ({detail})"
    suppressed = len(report.findings) - len(report.active)
    if suppressed:
        text += f", {suppressed} suppressed"
    skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
    excluded = report.metadata.get("excluded")
    if isinstance(excluded, list) and excluded:
        skipped += f", {len(excluded)} excluded by --exclude/.mlwardenignore"
    return text, skipped


def reason_lines(report: Report) -> list[str]:
    """The deny reasons listed under the decision line (none when it allows)."""
    d = report.decision
    if d is None or d.allowed:
        return []
    lines = [f"  - {r.message}" for r in d.reasons[:MAX_REASONS]]
    if len(d.reasons) > MAX_REASONS:
        lines.append(f"  … and {len(d.reasons) - MAX_REASONS} more")
    return lines


def render_plain(report: Report) -> str:
    """The report as plain text, one line per finding."""
    lines: list[str] = []
    if report.findings:
        lines.append(f"{report.command}: {report.target}")
        cells = [(severity_label(f), f.rule_id, str(f.location)) for f in report.findings]
        widths = [max(len(c[i]) for c in cells) for i in range(3)]
        for (sev, rule, where), f in zip(cells, report.findings, strict=True):
            message = " ".join(f.message.split())
            lines.append(f"{sev:<{widths[0]}}  {rule:<{widths[1]}}  {where:<{widths[2]}}  "
                         f"{f.title}: {message}")
            note = suppression_note(f)
            if note:
                lines.append(" " * (widths[0] + 2) + note)
    lines += skip_lines(report)
    text, skipped = summary_parts(report)
    lines.append(f"{text}{skipped} in {report.duration_s:.2f}s")
    if report.decision is not None:
        lines.append(f"decision: {report.decision.verdict.upper()} "
                     f"(policy {report.decision.policy!r})")
        lines += reason_lines(report)
    return "\n".join(lines) + "\n"
