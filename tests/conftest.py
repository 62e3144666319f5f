"""Shared fixtures: sample findings and reports, the CLI runner, the SARIF schema."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlwarden.core import Finding, Location, Report, Rule, Severity, register

ROOT = Path(__file__).resolve().parents[1]

SAMPLE_RULE = register(Rule(
    id="MW-TEST-001", name="TestDangerousImport", title="Dangerous import (test rule)",
    description="A test rule standing for a scanner rule.", severity=Severity.CRITICAL,
    remediation="Do not load the file.", references=("CWE-502", "ML06", "AML.T0010"),
))
SAMPLE_RULE_LOW = register(Rule(
    id="MW-TEST-002", name="TestOddity", title="Oddity (test rule)",
    description="A low-severity test rule.", severity=Severity.LOW, remediation="Look at it.",
))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="Rewrite golden report files instead of comparing against them.")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def sarif_schema() -> dict[str, object]:
    """The official OASIS SARIF 2.1.0 schema: ../shared beside the checkout, else the copy here."""
    for candidate in (ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json",
                      ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"):
        if candidate.is_file():
            return json.loads(candidate.read_text())
    raise FileNotFoundError("sarif-schema-2.1.0.json")


@pytest.fixture
def findings() -> list[Finding]:
    return [
        SAMPLE_RULE.finding("os.system is called on load", Location("models/evil.pkl", offset=42),
                            evidence={"callable": "os.system"}),
        SAMPLE_RULE.finding("nested pickle calls subprocess.Popen",
                            Location("models/ckpt.pt", member="archive/data.pkl", offset=7)),
        SAMPLE_RULE_LOW.finding("an odd but harmless thing", Location("data/train.csv", line=12)),
    ]


@pytest.fixture
def report(findings: list[Finding]) -> Report:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Report.build("scan", "models/", findings, started_at=start,
                        artifacts={"models/evil.pkl": "sha256:" + "ab" * 32})


# Test keys are plain PEM files (the model_signing oracle reads the same files), which ``--key``
# refuses by default; set for the whole session (session fixtures sign too).
# tests/sign/test_insecure_key.py removes it to test the refusal.
os.environ["MLWARDEN_ALLOW_INSECURE_KEY"] = "1"


CliRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(tmp_path: Path) -> CliRun:
    """Run ``python -m mlwarden ARGS`` in a real subprocess (exit codes, stderr, no traceback)."""

    def run(*args: str, cwd: Path | None = None, check: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        import os

        full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "mlwarden", *args], cwd=cwd or tmp_path,
                              capture_output=True, text=True, env=full_env, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


class LazyModule:
    """A module imported on first use, not at collection (``torch = LazyModule("torch")``): a
    test that touches it imports it, or is skipped when it is not installed. Collection (paid by
    every xdist worker) stays free of torch's seconds of import time."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: object | None = None

    def __getattr__(self, attr: str) -> object:
        if attr.startswith("_"):  # pytest probes module attributes (_pytestfixturefunction...)
            raise AttributeError(attr)
        if self._module is None:
            self._module = pytest.importorskip(self._name)
        return getattr(self._module, attr)
