"""The demo's scan step: scan the trained model, a joblib copy of it, and a malicious canary.

The canary is a pickle built opcode by opcode that would call ``os.system`` if anything loaded it;
the scanner reports it as critical and the default policy denies it, without it ever running. Its
findings go into a separate report (``reports/scan-canary.{json,html,sarif}``): the demo's own decision is
about the model, which scans clean.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext

CANARY_COMMAND = "echo 'mlwarden canary: this pickle ran code on load' > {path}"
_SAFE_TYPE_PREFIXES = ("sklearn.", "numpy.", "builtins.")


def canary_pickle(command: str) -> bytes:
    """``os.system(command)`` as a protocol-2 pickle, written opcode by opcode (never run)."""
    arg = command.encode()
    return (b"\x80\x02" + b"cos\nsystem\n" + b"X" + struct.pack("<I", len(arg)) + arg
            + b"\x85" + b"R" + b".")


def _joblib_copy(model_path: Path, dest: Path) -> bool:
    """Write a joblib copy of the skops model; trust only scikit-learn/numpy types when loading."""
    import joblib
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=model_path)
    if any(not t.startswith(_SAFE_TYPE_PREFIXES) for t in untrusted):
        return False
    model = sio.load(model_path, trusted=untrusted)
    joblib.dump(model, dest, compress=("zlib", 3))
    return True


def step_scan(ctx: DemoContext) -> None:
    """Scan the model files by content; show that a malicious pickle is caught, never loaded."""
    from mlwarden.core.decision import decide_by_threshold
    from mlwarden.core.severity import Severity
    from mlwarden.report.interface import OutputFormat, write_report
    from mlwarden.scan.engine import scan_paths

    model_path = ctx.artifacts["model"]
    first = scan_paths([model_path], workers=1)
    if first.active:
        ctx.findings.extend(first.findings)
        ctx.log(f"{model_path.name}: {len(first.active)} finding(s); no joblib copy is made")
    else:
        copy = model_path.with_name("model.joblib")
        if _joblib_copy(model_path, copy):
            ctx.artifacts["model_joblib"] = copy
    report = scan_paths([model_path.parent], workers=1, digest=True)
    ctx.findings.extend(report.findings)
    for check in report.checks:
        if check not in ctx.checks:
            ctx.checks.append(check)
    formats = report.metadata.get("formats", {})
    assert isinstance(formats, dict)
    for path in sorted(formats):
        if "!" not in path:
            ctx.log(f"{Path(path).name}: {formats[path]}")
    verdict = "clean" if not report.active else f"{len(report.active)} finding(s)"
    ctx.log(f"scanned {report.metadata.get('files')} model file(s): {verdict}")
    ctx.facts["scan_findings"] = len(report.active)

    quarantine = ctx.workdir / "quarantine"
    quarantine.mkdir(parents=True, exist_ok=True)
    canary = quarantine / "canary.pkl"
    fired = quarantine / "CANARY-FIRED.txt"
    canary.write_bytes(canary_pickle(CANARY_COMMAND.format(path=fired)))
    caught = scan_paths([canary], workers=1)
    decision = decide_by_threshold(caught.findings, Severity.HIGH)
    caught = caught.with_decision(decision, caught.findings)
    for fmt in (OutputFormat.JSON, OutputFormat.HTML, OutputFormat.SARIF):
        write_report(caught, fmt, ctx.workdir / "reports" / f"scan-canary{fmt.suffix}")
    worst = caught.findings[0] if caught.findings else None
    if worst is not None:
        ctx.log(f"canary {canary.name}: {worst.severity.value} {worst.rule_id} — {worst.message}")
    state = "FIRED" if fired.exists() else f"{fired.name} absent"
    ctx.log(f"default policy on the canary: {decision.verdict} (never loaded; {state})")
    ctx.facts["canary_verdict"] = decision.verdict
