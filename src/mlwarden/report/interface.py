"""Output formats: a closed set, each with one renderer, exhaustively dispatched."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import assert_never

from mlwarden.core.atomic import atomic_write_text
from mlwarden.core.report import Report


class OutputFormat(str, enum.Enum):
    """Every report format ``--format`` accepts."""

    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"
    HTML = "html"

    @property
    def suffix(self) -> str:
        return {"table": ".txt", "json": ".json", "sarif": ".sarif", "html": ".html"}[self.value]


def render(report: Report, fmt: OutputFormat) -> str:
    """Render ``report`` in ``fmt`` as text (the table as plain text: no box drawing, no colour)."""
    if fmt is OutputFormat.TABLE:
        from mlwarden.report.plain import render_plain

        return render_plain(report)
    if fmt is OutputFormat.JSON:
        from mlwarden.report.jsonfmt import render_json

        return render_json(report)
    if fmt is OutputFormat.SARIF:
        from mlwarden.report.sarif import render_sarif

        return render_sarif(report)
    if fmt is OutputFormat.HTML:
        from mlwarden.report.html import render_html

        return render_html(report)
    assert_never(fmt)


def write_report(report: Report, fmt: OutputFormat, path: str | Path) -> Path:
    """Write a rendered report atomically and return its path."""
    target = Path(path)
    atomic_write_text(target, render(report, fmt))
    return target
