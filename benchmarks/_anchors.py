"""The scanners compared in ``scan_vs_anchors.py``: how each is run and how its answer is read.

Each tool gives one of three verdicts per file: ``flagged``, ``clean`` or ``error`` (it crashed,
timed out, or said it could not scan the file). An error is never a detection; on a benign file it
is not a clean verdict either, so errors are counted in their own column.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANCHORS = ROOT / "benchmarks" / ".anchors"
ANCHOR_PACKAGES = ("picklescan", "modelscan", "fickling", "modelaudit")
FORMAT_LIBRARIES = ("h5py", "onnx", "safetensors", "py7zr")
"""Optional libraries the anchors use to open more formats (installed beside them, not torch/TF)."""

FICKLING_JSON = ROOT / "benchmarks" / "results" / "tmp" / "fickling-safety.json"
"""fickling writes a JSON report beside the cwd unless told where: keep it out of the corpus."""

Verdict = str  # "flagged" | "clean" | "error"


@dataclass(frozen=True)
class Run:
    verdict: Verdict
    seconds: float
    rc: int
    tail: str


@dataclass(frozen=True)
class Tool:
    name: str
    argv: Callable[[Path], list[str]]
    classify: Callable[[int, str], Verdict]
    """From the exit code and the combined output."""

    def run(self, path: Path, timeout: float) -> Run:
        # no telemetry: there is no network here, and its retries would be timed as scan time
        env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200",
               "PYTHONWARNINGS": "ignore", "PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_ANALYTICS": "1",
               "DO_NOT_TRACK": "1"}
        FICKLING_JSON.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        try:
            proc = subprocess.run(self.argv(path), capture_output=True, text=True, errors="replace",
                                  timeout=timeout, env=env, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            return Run("error", time.perf_counter() - start, -1, "timeout")
        seconds = time.perf_counter() - start
        output = proc.stdout + proc.stderr
        return Run(self.classify(proc.returncode, output), seconds, proc.returncode, output[-400:])


def _bin(name: str) -> str:
    return str(ANCHORS / "bin" / name)


def _exit_code(rc: int, _out: str, *, flagged: tuple[int, ...] = (1,)) -> Verdict:
    if rc == 0:
        return "clean"
    return "flagged" if rc in flagged else "error"


def _picklescan(rc: int, out: str) -> Verdict:
    # exit 0 nothing dangerous, 1 dangerous globals found, 2 scan error; a file it cannot parse
    # as a pickle is reported with a warning and exit 0 (not a verdict on the file)
    if rc == 1:
        return "flagged"
    if rc == 0:
        return "error" if "could not parse" in out else "clean"
    return "error"


def _modelscan(rc: int, out: str) -> Verdict:
    # exit 0 no issues, 1 issues found, 2 scan error, 3 no supported files, 4 usage error
    return _exit_code(rc, out)


def _fickling(rc: int, out: str) -> Verdict:
    # --check-safety: exit 0 when it finds nothing unsafe, 1 when it judges the pickle unsafe;
    # "failed to parse" (not a pickle, or a container it cannot open) is not a verdict
    if "failed to parse" in out or "Traceback" in out:
        return "error"
    return _exit_code(rc, out)


def _modelaudit(rc: int, out: str) -> Verdict:
    # modelaudit scan: exit 0 no issues, 1 issues found (warnings included), 2 scan errors
    return _exit_code(rc, out)


def _mlwarden(rc: int, out: str) -> Verdict:
    return _exit_code(rc, out)


TOOLS: dict[str, Tool] = {
    "mlwarden": Tool("mlwarden", lambda p: [str(ROOT / ".venv" / "bin" / "mlwarden"), "scan",
                                            str(p)], _mlwarden),
    "picklescan": Tool("picklescan", lambda p: [_bin("picklescan"), "-p", str(p)], _picklescan),
    "modelscan": Tool("modelscan", lambda p: [_bin("modelscan"), "-p", str(p)], _modelscan),
    "fickling": Tool("fickling", lambda p: [_bin("fickling"), "--check-safety", "--print-results",
                                            "--json-output", str(FICKLING_JSON), str(p)],
                     _fickling),
    "modelaudit": Tool("modelaudit", lambda p: [_bin("modelaudit"), "scan", str(p)], _modelaudit),
}


def setup_anchors() -> None:
    """Create ``benchmarks/.anchors`` and install the anchor tools there (their own venv)."""
    if not (ANCHORS / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(ANCHORS)], check=True)
    subprocess.run([str(ANCHORS / "bin" / "pip"), "install", "-q", *ANCHOR_PACKAGES,
                    *FORMAT_LIBRARIES], check=True)


def versions() -> dict[str, str]:
    out = {}
    py = str(ANCHORS / "bin" / "python")
    for pkg in ANCHOR_PACKAGES:
        proc = subprocess.run([py, "-c", f"import importlib.metadata as m; print(m.version({pkg!r}))"],
                              capture_output=True, text=True, check=False)
        out[pkg] = proc.stdout.strip() or "not installed"
    import mlwarden

    out["mlwarden"] = mlwarden.__version__
    return out
