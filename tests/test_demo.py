"""`mlwarden demo` runs the lifecycle end to end on bundled data and writes its reports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from mlwarden.report.schema import SCHEMA

from .conftest import CliRun, sarif_schema


def test_demo_runs_end_to_end(cli: CliRun, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = cli("demo", "--out", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "decision:" in proc.stdout
    reports = out / "reports"
    page = (reports / "demo.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page
    doc = json.loads((reports / "demo.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    jsonschema.validate(json.loads((reports / "demo.sarif").read_text()), sarif_schema())
    assert doc["decision"] is not None
    assert any(p.endswith("model.skops") for p in doc["artifacts"])


def test_demo_into_an_unwritable_place_is_one_line(cli: CliRun, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = cli("demo", "--out", str(blocker / "sub"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot create the demo folder" in proc.stderr
