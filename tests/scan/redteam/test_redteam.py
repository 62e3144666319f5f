"""Red-team the model-file scanner like a held-out adversarial corpus would.

Every sample is built in ``tmp_path`` and scanned with the real engine. The bar:

* malicious: an active finding at or above ``high`` (what ``mlwarden scan`` exits 1 on);
* benign: no active finding at or above ``medium`` (info/low notes are fine) — a benign file the
  default policy would hold for review is a false positive;
* never: the canary file appearing (nothing was executed).

A sample the scanner gets wrong today stays here as a strict xfail naming the gap, so the list of
gaps is visible and a fix shows up as an XPASS failure (then drop the gap entry).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlwarden.core.report import Report
from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_paths
from mlwarden.scan.interface import ScanLimits
from tests.scan.redteam.build import Case, zip_bytes
from tests.scan.redteam.cases_benign import benign_cases
from tests.scan.redteam.cases_benign2 import benign2_cases
from tests.scan.redteam.cases_formats import evil_pickle, format_cases
from tests.scan.redteam.cases_pickle import pickle_cases
from tests.scan.redteam.cases_round3 import round3_cases
from tests.scan.redteam.cases_round4_formats import round4_format_cases
from tests.scan.redteam.cases_round4_pickle import round4_pickle_cases
from tests.scan.redteam.cases_round5 import round5_cases
from tests.scan.redteam.cases_walk import walk_cases

CASES: list[Case] = [*pickle_cases(), *format_cases(), *round3_cases(), *walk_cases(),
                     *round4_format_cases(), *round4_pickle_cases(), *round5_cases(),
                     *benign_cases(), *benign2_cases()]


def _params() -> list[object]:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate red-team case ids"
    return [pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=c.gap))
            if c.gap else pytest.param(c, id=c.id) for c in CASES]


def _describe(report: Report) -> str:
    return "; ".join(f"{f.rule_id} {f.severity.value} {f.message[:140]}" for f in report.active)


def _build_and_scan(case: Case, tmp_path: Path) -> tuple[Report, Path]:
    canary = tmp_path / "CANARY"
    target = case.build(tmp_path / "sample", canary)
    report = scan_paths([target], workers=1)
    assert not canary.exists(), "a canary payload ran during the scan"
    return report, target


@pytest.mark.parametrize("case", _params())
def test_verdict(case: Case, tmp_path: Path) -> None:
    report, _ = _build_and_scan(case, tmp_path)
    if case.label == "malicious":
        assert report.at_or_above(Severity.HIGH), (
            f"MISSED {case.technique}: {_describe(report) or 'no findings'}")
    else:
        worrying = [f for f in report.at_or_above(Severity.MEDIUM)
                    if not (f.severity == Severity.MEDIUM and f.rule_id in case.review_notes)]
        assert not worrying, f"FALSE POSITIVE {case.technique}: {_describe(report)}"
        if case.review_notes:
            assert not report.at_or_above(Severity.HIGH)


CLI_CASES = ["pickle-gadget-memmap_reduce", "pickle-evasion-none_pop_prefix",
             "benign-pickle-stdlib-values", "gguf-ssti-namespace-globals",
             "benign-gguf-llama31-tools"]


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_cli_exit_code(case_id: str, tmp_path: Path) -> None:
    """``python -m mlwarden scan`` exits 1 on a hostile sample and 0 on a benign one."""
    case = next(c for c in CASES if c.id == case_id)
    if case.gap:
        pytest.skip(f"known gap: {case.gap}")
    canary = tmp_path / "CANARY"
    target = case.build(tmp_path / "sample", canary)
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "mlwarden", "scan", str(target)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    expected = 1 if case.label == "malicious" else 0
    assert proc.returncode == expected, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert not canary.exists()


def test_fifo_in_model_folder_does_not_hang(tmp_path: Path) -> None:
    """A FIFO named like a weights file must be skipped, never opened (opening blocks); what was
    not checked is not clean, so the scan denies and names it."""
    folder = tmp_path / "model"
    folder.mkdir()
    os.mkfifo(folder / "pytorch_model.bin")
    (folder / "config.json").write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "mlwarden", "scan", str(folder)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "pytorch_model.bin: not a regular file" in proc.stdout
    assert "Traceback" not in proc.stderr


def _limit_samples(canary: Path) -> dict[str, tuple[bytes, ScanLimits]]:
    evil = evil_pickle(canary)
    return {
        "pickle-opcodes": (b"N0" * 2000 + evil, ScanLimits(max_pickle_opcodes=1000)),
        "pickle-stack": (b"\x80\x02" + b"(" * 3000 + evil[2:], ScanLimits(max_pickle_stack=100)),
        "zip-members": (zip_bytes([(f"m/{n}.txt", b"x") for n in range(20)]
                                  + [("m/evil.pkl", evil)]), ScanLimits(max_members=10)),
        "zip-member-size": (zip_bytes([("m/evil.pkl", evil + bytes(5000))]),
                            ScanLimits(max_member_size=1000)),
        "zip-total": (zip_bytes([(f"m/{n}.bin", bytes(3000)) for n in range(5)]
                                + [("m/evil.pkl", evil)]), ScanLimits(max_total_uncompressed=10000)),
    }


@pytest.mark.parametrize("name", list(_limit_samples(Path("/x"))))
def test_resource_limits_fail_closed(name: str, tmp_path: Path) -> None:
    """A payload placed just past a resource limit is never a pass: the limit itself is high."""
    canary = tmp_path / "CANARY"
    data, limits = _limit_samples(canary)[name]
    path = tmp_path / f"{name}.bin"
    path.write_bytes(data)
    report = scan_paths([path], limits=limits, workers=1)
    assert report.at_or_above(Severity.HIGH), _describe(report) or "no findings"
    assert not canary.exists()
