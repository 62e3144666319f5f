"""JSON: the stable, documented form of a report (``docs/report.schema.json``)."""

from __future__ import annotations

import json

from mlwarden.core.report import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False, default=str) + "\n"
