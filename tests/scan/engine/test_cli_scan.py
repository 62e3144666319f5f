"""``mlwarden scan`` end to end in a subprocess: exit codes, formats, policy, lean start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ...conftest import CliRun, sarif_schema
from .conftest import CANARY, benign_pickle, evil_pickle


def files(tmp_path: Path) -> tuple[Path, Path]:
    good = tmp_path / "good.pkl"
    good.write_bytes(benign_pickle())
    evil = tmp_path / "evil.bin"
    evil.write_bytes(evil_pickle())
    return good, evil


def test_exit_codes(cli: CliRun, tmp_path: Path) -> None:
    good, evil = files(tmp_path)
    assert cli("scan", str(good)).returncode == 0
    proc = cli("scan", str(evil))
    assert proc.returncode == 1, proc.stderr
    assert "MW-PKL-001" in proc.stdout
    assert cli("scan", str(evil), "--fail-on", "critical").returncode == 1
    proc = cli("scan", str(tmp_path / "missing.pt"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"mlwarden: error: {tmp_path / 'missing.pt'}: no such file or directory"
    proc = cli("scan", str(good), "--fail-on", "severe")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not CANARY.exists()


def test_json_and_sarif(cli: CliRun, tmp_path: Path) -> None:
    import jsonschema

    good, evil = files(tmp_path)
    proc = cli("scan", str(tmp_path), "--format", "json", "--workers", "2")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["command"] == "scan"
    assert data["decision"]["verdict"] == "deny"
    assert data["metadata"]["formats"][str(good)] == "pickle"
    out = tmp_path / "r.sarif"
    proc = cli("scan", str(evil), "--format", "sarif", "--output", str(out))
    assert proc.returncode == 1
    jsonschema.validate(json.loads(out.read_text()), sarif_schema())


def test_policy_waiver_and_allow_globals(cli: CliRun, tmp_path: Path) -> None:
    _, evil = files(tmp_path)
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"name: lab\nfail_on: high\nwaivers:\n  - rule: MW-PKL-*\n    path: '{evil}'\n"
                      "    owner: sec\n    reason: known test payload\n    expires: 2999-01-01\n")
    proc = cli("scan", str(evil), "--policy", str(policy), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["decision"]["policy"] == "lab"


def test_digest_flag(cli: CliRun, tmp_path: Path) -> None:
    good, _ = files(tmp_path)
    data = json.loads(cli("scan", str(good), "--format", "json", "--digest").stdout)
    assert data["artifacts"][str(good)].startswith("sha256:")


def test_lean_start_up(tmp_path: Path) -> None:
    good, _ = files(tmp_path)
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlwarden", "scan", str(good)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    # (pydantic is not listed: typer >= 0.2x imports it to coerce any command's parameters)
    heavy = imported & {"yaml", "jinja2", "numpy", "torch", "h5py", "onnx", "sklearn", "py7zr",
                        "pandas", "safetensors", "gguf"}
    assert not heavy, heavy


def test_policy_allow_globals_reach_the_pickle_vm(cli: CliRun, tmp_path: Path) -> None:
    custom = tmp_path / "custom.pkl"
    # mycorp.layers.Dense(4): an importable name on no allowlist (unknown, high) until a policy
    # vouches for it.
    custom.write_bytes(b"\x80\x02cmycorp.layers\nDense\nK\x04\x85R.")
    proc = cli("scan", str(custom), "--format", "json")
    assert proc.returncode == 1
    assert {f["rule_id"] for f in json.loads(proc.stdout)["findings"]} == {"MW-PKL-003"}
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: ours\nscan:\n  allow_globals: ['mycorp.layers.*']\n")
    proc = cli("scan", str(custom), "--policy", str(policy), "--format", "json")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["summary"]["active"] == 0
