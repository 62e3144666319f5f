"""The demo's conversion step: the joblib copy of the model → skops, and the canary refused.

The joblib copy written by the scan step is converted back into skops through the safe path
(scan those bytes, allowlisting unpickler, identical predictions on a probe, atomic write). The
quarantined canary pickle is offered to the converter too: it is refused before anything loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.demo.context import DemoContext


def step_convert(ctx: DemoContext) -> None:
    from mlwarden.scan.convert import ConversionRefused, convert

    source = ctx.artifacts.get("model_joblib")
    out_dir = ctx.workdir / "converted"
    if source is None or not source.is_file():
        ctx.log("no joblib copy of the model to convert (the scan step made none)")
    else:
        result = convert(source, out_dir / "model.skops")
        ctx.artifacts["model_converted"] = result.output
        ctx.facts["convert_summary"] = result.summary
        ctx.log(f"{source.name} → {result.output.relative_to(ctx.workdir)}: {result.summary}")
    canary = ctx.workdir / "quarantine" / "canary.pkl"
    if canary.is_file():
        try:
            convert(canary, out_dir / "canary.skops")
        except ConversionRefused as exc:
            ctx.facts["convert_refused_canary"] = True
            why = f"{exc.finding.rule_id} {exc.finding.severity.value}" if exc.finding else "flagged"
            ctx.log(f"canary.pkl refused before anything was loaded ({why})")
        else:  # pragma: no cover - would mean the scanner missed the canary
            raise AssertionError("the converter accepted the canary pickle")
        fired = ctx.workdir / "quarantine" / "CANARY-FIRED.txt"
        ctx.log("canary never ran" if not fired.exists() else "CANARY FIRED")
