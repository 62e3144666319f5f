"""A self-contained HTML report: one file, inline CSS and SVG plots, no network, readable offline."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

from mlwarden.core.report import Report
from mlwarden.core.severity import Severity

COLORS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#d97706", "low": "#0891b2",
          "info": "#6b7280"}


def bar_chart(values: list[tuple[str, int, str]], *, width: int = 420, bar_h: int = 22) -> str:
    """An inline SVG horizontal bar chart of ``(label, value, colour)`` rows."""
    from markupsafe import escape

    peak = max((v for _, v, _ in values), default=0) or 1
    label_w = 150
    height = bar_h * len(values) + 8
    rows = []
    for i, (label, value, color) in enumerate(values):
        y = 4 + i * bar_h
        w = int((width - label_w - 50) * value / peak)
        rows.append(
            f'<text x="{label_w - 6}" y="{y + bar_h * 0.68:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="{color}" rx="2"/>'
            f'<text x="{label_w + w + 6}" y="{y + bar_h * 0.68:.1f}">{value}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
            f'height="{height}" font-size="12" font-family="sans-serif">{"".join(rows)}</svg>')


def render_html(report: Report) -> str:
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    template_text = resources.files("mlwarden.report").joinpath("templates/report.html.j2")
    template = env.from_string(template_text.read_text(encoding="utf-8"))
    counts = report.counts()
    by_severity = bar_chart([(s, n, COLORS[s]) for s, n in counts.items()])
    rules = Counter(f.rule_id for f in report.active)
    by_rule = bar_chart([(r, n, "#4b5563") for r, n in rules.most_common(12)]) if rules else ""
    data: dict[str, Any] = report.to_dict()
    return template.render(
        report=report,
        data=data,
        counts=counts,
        colors=COLORS,
        severities=[s.value for s in sorted(Severity, reverse=True)],
        chart_severity=by_severity,
        chart_rules=by_rule,
        raw_json=json.dumps(data, indent=2, default=str),
    )
