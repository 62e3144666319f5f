"""``MW-GATE-001`` and ``MW-GATE-003``: triggered by a policy whose requirement cannot be met.

Each is checked both ways on the same real model and signature: the unmet requirement gives a
finding of that rule (with its severity, naming the model or the key file) and a deny reason; the
met requirement gives no finding of that rule and the gate allows.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlwarden.core.errors import PolicyError
from mlwarden.core.finding import Finding
from mlwarden.core.policy import Policy
from mlwarden.core.report import Report
from mlwarden.core.severity import Severity
from mlwarden.gate import rules
from mlwarden.gate.engine import gate_path

from ..registry.helpers import clean_model, new_key, oms_signature, policy_file


def of_rule(report: Report, rule_id: str) -> list[Finding]:
    return [f for f in report.findings if f.rule_id == rule_id]


def denied_for(report: Report, rule_id: str) -> bool:
    assert report.decision is not None
    return not report.decision.allowed and rule_id in {r.rule_id for r in report.decision.reasons}


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path]:
    """A clean model folder signed in place (model.sig) and the trusted public key."""
    signer, pub = new_key(tmp_path, "release")
    model = tmp_path / "model"
    clean_model(model / "weights.bin", b"\x00" * 64)
    clean_model(model / "config.json", b'{"layers": 2}')
    (model / "model.sig").write_text(oms_signature(model, signer))
    return model, pub


def test_gate_001_scan_required_but_scanner_cannot_run(
        signed: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = signed
    policy = Policy.load(policy_file(tmp_path, "p", gate="    scan: true\n"))
    clean = gate_path(policy, model)
    assert of_rule(clean, "MW-GATE-001") == []
    assert clean.decision is not None and clean.decision.allowed, clean.decision
    # The scan extra not installed: importing the scan engine fails.
    monkeypatch.setitem(sys.modules, "mlwarden.scan.engine", None)
    report = gate_path(policy, model)
    [f] = of_rule(report, "MW-GATE-001")
    assert f.severity is Severity.HIGH is rules.SCAN_UNAVAILABLE.severity
    assert f.location.path == str(model)
    assert "scanner is not available" in f.message
    assert denied_for(report, "MW-GATE-001")  # an unscanned model never passes


def test_gate_001_not_raised_when_the_policy_does_not_require_a_scan(
        signed: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = signed
    monkeypatch.setitem(sys.modules, "mlwarden.scan.engine", None)
    policy = Policy.load(policy_file(tmp_path, "p", gate="    scan: false\n"))
    report = gate_path(policy, model)
    assert of_rule(report, "MW-GATE-001") == []
    assert report.decision is not None and report.decision.allowed


def test_gate_003_trusted_key_file_is_not_a_key(signed: tuple[Path, Path],
                                                tmp_path: Path) -> None:
    model, pub = signed
    good = Policy.load(policy_file(tmp_path, "good", gate=(
        f"    scan: false\n    signature: true\n    trusted_keys: [{pub.name}]\n")))
    ok = gate_path(good, model)
    assert of_rule(ok, "MW-GATE-003") == [] and ok.decision is not None and ok.decision.allowed
    broken = tmp_path / "broken.pub"
    broken.write_text("-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")
    bad_file = policy_file(tmp_path, "bad", gate=(
        f"    scan: false\n    signature: true\n    trusted_keys: [{broken.name}]\n"))
    with pytest.raises(PolicyError, match=r"field 'gate\.trusted_keys'.*broken\.pub") as refused:
        Policy.load(bad_file)  # refused when loaded: policy check, registry and gate alike
    assert refused.value.one_line().startswith(str(bad_file))
    # A policy built in code is not resolved when built: the gate still fails closed on the key.
    bad = Policy.model_validate({"name": "bad", "gate": {
        "scan": False, "signature": True, "trusted_keys": [str(broken)]}}).model_copy(
        update={"source": str(bad_file)})
    report = gate_path(bad, model)
    found = of_rule(report, "MW-GATE-003")  # the unusable key, then the signature it can't check
    assert all(g.severity is Severity.CRITICAL for g in found)
    [f] = [g for g in found if "trusted keys unusable" in g.message]
    assert f.severity is Severity.CRITICAL is rules.SIGNATURE_NOT_VERIFIED.severity
    assert "trusted keys unusable" in f.message and str(broken) in f.message
    assert f.location.path == str(tmp_path / "bad.yaml")
    assert denied_for(report, "MW-GATE-003")


def test_gate_003_signature_but_no_trusted_key_to_verify_it(signed: tuple[Path, Path],
                                                            tmp_path: Path) -> None:
    model, _ = signed
    policy = Policy.load(policy_file(tmp_path, "p", gate="    scan: false\n    signature: true\n"))
    report = gate_path(policy, model)
    [f] = of_rule(report, "MW-GATE-003")
    assert f.severity is Severity.CRITICAL
    assert f.location.path == str(model) and "no trusted key" in f.message
    assert denied_for(report, "MW-GATE-003")
    assert not any(r.startswith("MW-SIGN-") for r in {x.rule_id for x in report.findings})
