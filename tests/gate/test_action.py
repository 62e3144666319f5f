"""The reusable GitHub Action (action.yml) and the pre-commit hook manifest users add by URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from ..conftest import ROOT
from ..registry.helpers import clean_model, evil_pickle


def _action() -> dict[str, object]:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def _run_step(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    steps = _action()["runs"]["steps"]  # type: ignore[index]
    script = next(s for s in steps if s.get("id") == "run")["run"]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(["bash", "-c", script], env={**os.environ, "PATH": path, **env},
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_action_is_a_composite_action_with_documented_inputs() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"  # type: ignore[index]
    assert {"paths", "mode", "policy", "fail-on", "sarif"} <= set(action["inputs"])  # type: ignore[arg-type]
    steps = action["runs"]["steps"]  # type: ignore[index]
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["if"].startswith("always()")


def test_action_scan_and_gate_steps_run_and_write_sarif(tmp_path: Path) -> None:
    good = clean_model(tmp_path / "models" / "ok.safetensors")
    out = tmp_path / "github_output"
    base = {"GITHUB_OUTPUT": str(out), "FAIL_ON": "high", "SARIF": "mlwarden.sarif",
            "POLICY": "", "MODE": "scan"}
    ok = _run_step({**base, "PATHS": str(good)}, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "exit-code=0" in out.read_text()
    assert json.loads((tmp_path / "mlwarden.sarif").read_text())["version"] == "2.1.0"
    evil = evil_pickle(tmp_path / "models" / "evil.pkl")
    bad = _run_step({**base, "PATHS": f"{good} {evil}"}, tmp_path)
    assert bad.returncode == 1 and "exit-code=1" in out.read_text().splitlines()[-1]
    policy = tmp_path / "p.yaml"
    policy.write_text("name: ci\ngate:\n  scan: true\n")
    gate = _run_step({**base, "MODE": "gate", "POLICY": str(policy), "PATHS": f"{good} {evil}"},
                     tmp_path)
    assert gate.returncode == 1, gate.stderr
    assert (tmp_path / "mlwarden-evil.pkl.sarif").is_file()
    missing = _run_step({**base, "MODE": "gate", "PATHS": str(good)}, tmp_path)
    assert missing.returncode == 2


def test_pre_commit_hook_manifest() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    for hook in hooks:
        assert {"id", "name", "entry", "language", "files"} <= set(hook)
        assert hook["entry"].startswith("mlwarden ")
    scan = next(h for h in hooks if h["id"] == "mlwarden-scan")
    import re

    assert re.search(scan["files"], "model.pt") and not re.search(scan["files"], "train.py")
