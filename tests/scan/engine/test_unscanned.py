"""Nothing unchecked passes: what the scanner could not check denies under the default policy.

Attacker: the file author, who picks a format the scanner cannot read on the victim's install (a
bare ``pip install mlwarden`` without h5py or py7zr), or a name a loader opens with content the
scanner does not recognise. Each case here must end in exit 1 / deny by default, be listed in
every report format, and pass only when the policy (``scan.on_unscanned: warn``) or the command
line (``--on-unscanned warn``) says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlwarden.core.decision import ReasonCode, decide_by_threshold
from mlwarden.core.finding import Skip
from mlwarden.core.policy import Policy
from mlwarden.core.severity import Severity
from mlwarden.scan.engine import scan_paths

from ...conftest import CliRun, sarif_schema
from .conftest import CANARY, benign_pickle, evil_pickle


def test_empty_folder_is_not_clean(cli: CliRun, tmp_path: Path) -> None:
    empty = tmp_path / "models"
    empty.mkdir()
    proc = cli("scan", str(empty))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "nothing to scan" in proc.stdout
    assert cli("scan", str(empty), "--on-unscanned", "warn").returncode == 0


def test_unknown_content_under_a_model_name_is_unscanned(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# a model card\n")
    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    report = scan_paths([tmp_path])
    assert report.skipped == ()
    assert decide_by_threshold(report.findings, Severity.HIGH, skipped=report.skipped).allowed
    (tmp_path / "model.PT").write_bytes(b"\x00\x01not a format anyone knows" * 10)
    report = scan_paths([tmp_path])
    assert [s.path for s in report.skipped] == [str(tmp_path / "model.PT")]
    decision = decide_by_threshold(report.findings, Severity.HIGH, skipped=report.skipped)
    assert not decision.allowed
    assert [r.code for r in decision.reasons] == [ReasonCode.UNSCANNED]


def test_policy_and_threshold_decide_alike() -> None:
    skips = [Skip(path="m.h5", reason="HDF5 file not checked: h5py is not installed")]
    for on_unscanned in ("deny", "warn"):
        policy = Policy.model_validate({"scan": {"on_unscanned": on_unscanned}})
        ours = policy.decide([], skipped=skips)
        lean = decide_by_threshold([], Severity.HIGH, skipped=skips, on_unscanned=on_unscanned)
        assert ours.allowed == lean.allowed == (on_unscanned == "warn")
        assert [r.message for r in ours.reasons] == [r.message for r in lean.reasons]
    assert Policy.default().scan.on_unscanned == "deny"


def test_policy_setting_is_validated(cli: CliRun, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("scan:\n  on_unscanned: maybe\n")
    proc = cli("policy", "check", str(policy))
    assert proc.returncode == 2
    assert "on_unscanned" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("scan", str(tmp_path), "--on-unscanned", "sometimes")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_policy_warn_lets_a_skip_through_but_keeps_it_visible(cli: CliRun, tmp_path: Path) -> None:
    model = tmp_path / "weights.pkl"
    model.write_bytes(b"\x00" * 64)
    policy = tmp_path / "p.yaml"
    policy.write_text("name: lab\nscan:\n  on_unscanned: warn\n")
    proc = cli("scan", str(model), "--policy", str(policy), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["summary"]["skipped"] == 1 and data["skipped"][0]["path"] == str(model)
    proc = cli("scan", str(model), "--policy", str(policy), "--on-unscanned", "deny")
    assert proc.returncode == 1


def test_every_report_format_lists_the_unscanned(cli: CliRun, tmp_path: Path) -> None:
    import jsonschema

    model = tmp_path / "model.ckpt"
    model.write_bytes(b"\x00" * 64)
    for fmt in ("table", "json", "sarif", "html"):
        out = tmp_path / f"report.{fmt}"
        proc = cli("scan", str(model), "--format", fmt, "--output", str(out))
        assert proc.returncode == 1, (fmt, proc.stderr)
        text = out.read_text()
        assert "model.ckpt" in text and "not checked" in text, fmt
        if fmt == "sarif":
            sarif = json.loads(text)
            jsonschema.validate(sarif, sarif_schema())
            invocation = sarif["runs"][0]["invocations"][0]
            assert invocation["toolExecutionNotifications"]
        if fmt == "json":
            data = json.loads(text)
            assert data["decision"]["reasons"][0]["code"] == "unscanned"


def _bare_install_scan(path: Path) -> subprocess.CompletedProcess[str]:
    """``mlwarden scan PATH`` with h5py and py7zr unimportable, as on ``pip install mlwarden``."""
    code = ("import sys\n"
            "for name in ('h5py', 'py7zr'):\n"
            "    sys.modules[name] = None\n"
            "from mlwarden.cli.fastpath import entry\n"
            f"sys.argv = ['mlwarden', 'scan', {str(path)!r}, '--format', 'json']\n"
            "entry()\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)


def test_bare_install_fails_closed_on_hdf5_and_7z(tmp_path: Path) -> None:
    h5py = pytest.importorskip("h5py")
    py7zr = pytest.importorskip("py7zr")
    from ..formats.keras_samples import keras3_lambda, sequential

    lambda_h5 = tmp_path / "lambda.h5"
    with h5py.File(lambda_h5, "w") as f:
        f.attrs["model_config"] = json.dumps(sequential([keras3_lambda()]))
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "model.pkl").write_bytes(evil_pickle())
    wrapped = tmp_path / "model.7z"
    with py7zr.SevenZipFile(wrapped, "w") as archive:
        archive.write(inner / "model.pkl", "model.pkl")
    for path, why in ((lambda_h5, "h5py is not installed"), (wrapped, "py7zr is not installed")):
        proc = _bare_install_scan(path)
        assert proc.returncode == 1, (path, proc.stdout, proc.stderr)
        data = json.loads(proc.stdout)
        assert data["decision"]["verdict"] == "deny"
        assert any(why in s["reason"] for s in data["skipped"]), data["skipped"]
    assert not CANARY.exists()


def test_gate_denies_what_it_could_not_scan(tmp_path: Path) -> None:
    from mlwarden.gate.engine import GateInput, run_gate

    model = tmp_path / "model"
    model.mkdir()
    (model / "ok.pkl").write_bytes(benign_pickle())
    (model / "weights.bin").write_bytes(b"\x00\x01\x02 unknown" * 8)
    policy = Policy.model_validate({"extensions": {"gate": {"scan": True}}})
    report = run_gate(policy, GateInput(path=model, target="model"))
    assert report.decision is not None and not report.decision.allowed
    assert any(r.code is ReasonCode.UNSCANNED for r in report.decision.reasons)
    warn = Policy.model_validate({"scan": {"on_unscanned": "warn"},
                                  "extensions": {"gate": {"scan": True}}})
    report = run_gate(warn, GateInput(path=model, target="model"))
    assert report.decision is not None and report.decision.allowed, report.decision
    assert report.skipped


def test_exclude_globs_ignore_file_quiet_and_exit_zero(cli: CliRun, tmp_path: Path) -> None:
    """Attacker: a model repository that ships its own ``.mlwardenignore`` to hide its payload.
    Only the working directory's ignore file counts, and every excluded file is listed."""
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "evil.pkl").write_bytes(evil_pickle())
    (repo / "ok.pkl").write_bytes(benign_pickle())
    (repo / ".mlwardenignore").write_text("*\n")  # the repository's own: must not count
    proc = cli("scan", str(repo))
    assert proc.returncode == 1 and "MW-PKL-001" in proc.stdout
    proc = cli("scan", str(repo), "--exclude", "tests/", "--verbose")
    assert proc.returncode == 0, proc.stdout
    assert f"excluded {repo / 'tests' / 'evil.pkl'}" in proc.stdout
    assert "1 excluded by --exclude/.mlwardenignore" in proc.stdout
    (tmp_path / ".mlwardenignore").write_text("# the CI repository's own file\ntests/*\n")
    proc = cli("scan", str(repo), "-f", "json")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["metadata"]["excluded"] == [str(repo / "tests" / "evil.pkl")]
    (tmp_path / ".mlwardenignore").unlink()
    proc = cli("scan", str(repo), "--exclude", "*.pkl", "--exclude", ".mlwarden*")
    assert proc.returncode == 1 and "3 excluded" in proc.stdout  # nothing left: not clean
    quiet = cli("scan", str(repo / "ok.pkl"), "-q")
    assert quiet.returncode == 0 and quiet.stdout == ""
    loud = cli("scan", str(repo), "-q")
    assert loud.returncode == 1 and "MW-PKL-001" in loud.stdout  # a denial always prints
    assert cli("scan", str(repo), "--exit-zero").returncode == 0
    assert cli("scan", str(tmp_path / "missing"), "--exit-zero").returncode == 2
    assert not CANARY.exists()
