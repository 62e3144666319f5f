"""The demo's scan step: the model scans clean, the canary is caught and never runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlwarden.core.severity import Severity
from mlwarden.demo import DemoContext
from mlwarden.demo.scan import canary_pickle, step_scan
from mlwarden.scan.engine import scan_bytes


def test_canary_pickle_is_critical() -> None:
    report = scan_bytes(canary_pickle("echo hi > /nonexistent/x"))
    assert report.max_severity() is Severity.CRITICAL


def test_step_scan(tmp_path: Path) -> None:
    sio = pytest.importorskip("skops.io")
    from sklearn.linear_model import LogisticRegression

    model_path = tmp_path / "model" / "model.skops"
    model_path.parent.mkdir()
    sio.dump(LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]), model_path)
    lines: list[str] = []
    ctx = DemoContext(workdir=tmp_path, log=lines.append, artifacts={"model": model_path})
    step_scan(ctx)
    assert not [f for f in ctx.findings if not f.suppressed]
    assert (tmp_path / "model" / "model.joblib").is_file()
    assert ctx.facts["canary_verdict"] == "deny"
    assert not (tmp_path / "quarantine" / "CANARY-FIRED.txt").exists()
    canary_report = json.loads((tmp_path / "reports" / "scan-canary.json").read_text())
    assert canary_report["summary"]["max_severity"] == "critical"
    assert {c.name for c in ctx.checks} >= {"zip", "compressed", "pickle"}
