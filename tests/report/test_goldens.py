"""Golden reports: the JSON and SARIF forms of a fixed report must not change by accident.

Run ``pytest tests/report/test_goldens.py --update-goldens`` after an intended change and review
the diff like code.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlwarden import __version__
from mlwarden.core import Finding, Location, Report, Suppression
from mlwarden.core.decision import decide_by_threshold
from mlwarden.core.finding import Skip
from mlwarden.core.severity import Severity
from mlwarden.report import OutputFormat, render

from ..conftest import SAMPLE_RULE, SAMPLE_RULE_LOW

GOLDENS = Path(__file__).parent / "goldens"
T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def _fixed_report() -> Report:
    findings: list[Finding] = [
        SAMPLE_RULE.finding("os.system is called on load", Location("models/evil.pkl", offset=42),
                            evidence={"callable": "os.system", "opcode": "REDUCE"}),
        SAMPLE_RULE.finding("nested pickle", Location("models/ckpt.pt", member="archive/data.pkl",
                                                      offset=7)).suppressed_by(
            Suppression("waiver", "reviewed in SEC-1", owner="alice",
                        expires=dt.date(2030, 1, 1))),
        SAMPLE_RULE_LOW.finding("odd", Location("data/train.csv", line=12),
                                severity=Severity.LOW),
    ]
    report = Report(command="scan", target="models/", findings=tuple(findings),
                    skipped=(Skip("models/x.7z", "encrypted archive", member="a.pkl"),),
                    started_at=T0, finished_at=T0 + dt.timedelta(seconds=1.5),
                    artifacts={"models/evil.pkl": "sha256:" + "ab" * 32},
                    tool_version="0.0.0-golden")
    decision = decide_by_threshold(report.findings, Severity.HIGH)
    decision = type(decision)(decision.allowed, decision.reasons, decision.policy,
                              decision.policy_digest, evaluated_at=T0)
    return report.with_decision(decision, report.findings)


def _normalise(text: str, cwd: Path) -> str:
    import platform

    return (text.replace(cwd.resolve().as_uri(), "file:///CWD")
            .replace(f'"python": "{platform.python_version()}"', '"python": "X"')
            .replace(f'"version": "{__version__}"', '"version": "X"')
            .replace(f'"semanticVersion": "{__version__}"', '"semanticVersion": "X"'))


@pytest.mark.parametrize("fmt", [OutputFormat.JSON, OutputFormat.SARIF])
def test_golden(fmt: OutputFormat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                update_goldens: bool) -> None:
    monkeypatch.chdir(tmp_path)
    text = _normalise(render(_fixed_report(), fmt), tmp_path)
    golden = GOLDENS / f"report{fmt.suffix}"
    if update_goldens:
        golden.write_text(text)
    assert text == golden.read_text(), f"{golden} differs: rerun with --update-goldens if intended"
