"""The files in examples/ that users copy: policies valid, workflow well formed, hook works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from mlwarden.core.policy import Policy
from mlwarden.gate.requirements import requirements_for

from ..conftest import ROOT
from ..registry.helpers import clean_model, evil_pickle, new_key, policy_file

EXAMPLES = ROOT / "examples"


def test_example_policies_are_valid_and_say_what_they_promise(tmp_path: Path) -> None:
    import shutil

    # As in a user's repository: the policies under examples/policies, the key in keys/ at the top.
    policies = tmp_path / "examples" / "policies"
    shutil.copytree(EXAMPLES / "policies", policies)
    (tmp_path / "keys").mkdir()
    _, pub = new_key(tmp_path / "keys", "release")
    assert pub == tmp_path / "keys" / "release.pub"
    ci = Policy.load(policies / "ci.yaml")
    req = requirements_for(ci)
    assert req.scan and req.signature and req.trusted_keys
    release = Policy.load(policies / "release.yaml")
    staging, prod = requirements_for(release, "staging"), requirements_for(release, "production")
    assert staging.signature and not staging.provenance and staging.approvals == 0
    assert prod.signature and prod.provenance and prod.approvals == 2


def test_workflow_gates_uploads_sarif_and_promotes() -> None:
    wf = yaml.safe_load((EXAMPLES / "github-actions" / "mlwarden-gate.yml").read_text())
    assert set(wf["jobs"]) == {"gate", "promote"}
    steps = wf["jobs"]["gate"]["steps"]
    assert any("mlwarden gate" in s.get("run", "") and "sarif" in s.get("run", "") for s in steps)
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["if"] == "always()"
    assert wf["permissions"]["security-events"] == "write"
    assert wf["jobs"]["promote"]["needs"] == "gate"


def test_pre_commit_hook_blocks_a_model_that_fails_the_gate(tmp_path: Path) -> None:
    config = yaml.safe_load((EXAMPLES / "pre-commit" / ".pre-commit-config.yaml").read_text())
    hook = config["repos"][0]["hooks"][0]
    assert hook["pass_filenames"] is True and "pkl" in hook["files"]
    policy = policy_file(tmp_path, "p", gate="    scan: true\n")
    good = clean_model(tmp_path / "ok.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    evil = evil_pickle(tmp_path / "evil.pkl")
    env = {**os.environ, "MLWARDEN_POLICY": str(policy),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    script = str(EXAMPLES / "pre-commit" / "mlwarden-gate-hook.sh")
    ok = subprocess.run(["bash", script, str(good)], env=env, capture_output=True, text=True,
                        cwd=tmp_path, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run(["bash", script, str(good), str(evil)], env=env, capture_output=True,
                         text=True, cwd=tmp_path, timeout=120)
    assert bad.returncode == 1 and "evil.pkl does not pass" in bad.stderr
