"""What the demo's steps share: the folder, the artifacts made so far, the findings so far."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.core.finding import Finding
from mlwarden.core.report import CheckRun, utcnow


@dataclass
class DemoContext:
    workdir: Path
    log: Callable[[str], None]
    artifacts: dict[str, Path] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckRun] = field(default_factory=list)
    started_at: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Step:
    title: str
    run: Callable[[DemoContext], None]
