"""The demo's conversion step converts the model's joblib copy and refuses the canary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

from mlwarden.demo import STEPS, DemoContext
from mlwarden.demo.convert import step_convert
from mlwarden.demo.scan import CANARY_COMMAND, canary_pickle


def test_step_converts_and_refuses(tmp_path: Path, sk_models: dict[str, Any]) -> None:
    lines: list[str] = []
    ctx = DemoContext(workdir=tmp_path, log=lines.append)
    model = tmp_path / "model" / "model.joblib"
    model.parent.mkdir()
    joblib.dump(sk_models["pipeline_logreg"], model, compress=("zlib", 3))
    ctx.artifacts["model_joblib"] = model
    fired = tmp_path / "quarantine" / "CANARY-FIRED.txt"
    (tmp_path / "quarantine").mkdir()
    (tmp_path / "quarantine" / "canary.pkl").write_bytes(
        canary_pickle(CANARY_COMMAND.format(path=fired)))
    step_convert(ctx)
    assert ctx.artifacts["model_converted"] == tmp_path / "converted" / "model.skops"
    assert "identical" in ctx.facts["convert_summary"]
    assert ctx.facts["convert_refused_canary"] is True
    assert not fired.exists() and not (tmp_path / "converted" / "canary.skops").exists()
    assert any("refused" in line for line in lines)


def test_step_sits_after_the_scan_step() -> None:
    titles = [s.title for s in STEPS]
    assert titles.index("Convert to a safe format") == titles.index("Scan model files") + 1
