"""``mlwarden gate`` on files: every requirement checked, unmet ones deny, never a silent pass."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlwarden.core.errors import PolicyError
from mlwarden.core.evidence import DATA_CHECK_PREDICATE
from mlwarden.core.policy import Policy
from mlwarden.gate.engine import gate_path
from mlwarden.gate.requirements import requirements_for

from ..conftest import CliRun, sarif_schema
from ..registry.helpers import (
    check_attestation,
    clean_model,
    evil_pickle,
    new_key,
    oms_signature,
    policy_file,
    weights_file,
)


def _reasons(report: object) -> set[str]:
    decision = report.decision  # type: ignore[attr-defined]
    assert decision is not None
    return {r.rule_id or r.code.value for r in decision.reasons}


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A model folder signed in place (model.sig), and the trusted public key."""
    signer, pub = new_key(tmp_path, "release")
    model = tmp_path / "model"
    clean_model(model / "weights.bin", b"\x00" * 64)
    clean_model(model / "config.json", b'{"layers": 2}')
    (model / "model.sig").write_text(oms_signature(model, signer))
    return model, pub, tmp_path


def test_signed_clean_model_is_allowed(signed: tuple[Path, Path, Path]) -> None:
    model, pub, tmp = signed
    policy = Policy.load(policy_file(tmp, "p", gate=f"    signature: true\n"
                                                      f"    trusted_keys: [{pub.name}]\n"))
    report = gate_path(policy, model)
    assert report.decision is not None and report.decision.allowed, report.decision
    assert report.metadata["signed_by"]


def test_modified_file_after_signing_is_denied(signed: tuple[Path, Path, Path]) -> None:
    model, pub, tmp = signed
    (model / "weights.bin").write_bytes(weights_file(b"\x01" * 64))
    policy = Policy.load(policy_file(tmp, "p", gate=f"    signature: true\n"
                                                      f"    trusted_keys: [{pub.name}]\n"))
    report = gate_path(policy, model)
    assert _reasons(report) == {"MW-SIGN-004"}  # modified after signing, named precisely
    message = report.decision.reasons[0].message  # type: ignore[union-attr]
    assert "weights.bin" in message and str(tmp) not in message.replace(str(model), "")


def test_untrusted_signer_and_unsigned_are_denied(signed: tuple[Path, Path, Path]) -> None:
    model, _, tmp = signed
    _, other = new_key(tmp, "other")
    policy = Policy.load(policy_file(tmp, "p", gate=f"    signature: true\n"
                                                      f"    trusted_keys: [{other.name}]\n"))
    untrusted = _reasons(gate_path(policy, model))
    assert untrusted and all(r.startswith("MW-SIGN-") for r in untrusted), untrusted
    (model / "model.sig").unlink()
    assert "MW-GATE-002" in _reasons(gate_path(policy, model))


def test_scanner_finding_over_threshold_denies(tmp_path: Path) -> None:
    evil = evil_pickle(tmp_path / "m" / "model.pkl")
    report = gate_path(Policy.load(policy_file(tmp_path, "p", gate="    scan: true\n")), evil)
    assert "MW-PKL-001" in _reasons(report)
    lax = Policy.load(policy_file(tmp_path, "lax", gate="    scan: true\n",
                                  extra="rules: {allow: [MW-PKL-*]}\n"))
    assert gate_path(lax, evil).decision.allowed  # type: ignore[union-attr]


def test_unmet_requirements_each_deny_and_show_in_the_report(tmp_path: Path) -> None:
    signer, pub = new_key(tmp_path, "k")
    model = clean_model(tmp_path / "m.bin")
    gate = (f"    scan: false\n    trusted_keys: [{pub.name}]\n    provenance: true\n"
            "    model_tests: true\n    data_checks: true\n    approvals: 1\n")
    policy = Policy.load(policy_file(tmp_path, "p", gate=gate))
    report = gate_path(policy, model)
    assert _reasons(report) == {"MW-GATE-004", "MW-GATE-006", "MW-GATE-007"}
    assert {f.rule_id for f in report.findings} >= {"MW-GATE-004", "MW-GATE-006", "MW-GATE-007"}

    passing = tmp_path / "tests.json"
    passing.write_text(check_attestation(model, signer, passed=True))
    failing = tmp_path / "data.json"
    failing.write_text(check_attestation(model, signer, passed=False,
                                         predicate_type=DATA_CHECK_PREDICATE))
    report = gate_path(policy, model, model_tests=[passing], data_checks=[failing])
    reasons = report.decision.reasons  # type: ignore[union-attr]
    assert [r.rule_id for r in reasons if "did not pass" in r.message] == ["MW-GATE-007"]
    other = clean_model(tmp_path / "other.bin", b"other")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(check_attestation(other, signer, passed=True))
    report = gate_path(policy, model, model_tests=[wrong])
    assert any("subject is not this model" in r.message
               for r in report.decision.reasons)  # type: ignore[union-attr]


def test_stage_overrides_and_bad_gate_section(tmp_path: Path) -> None:
    policy = Policy.load(policy_file(tmp_path, "p", gate=(
        "    approvals: 1\n    stages:\n      production: {approvals: 3, provenance: true}\n")))
    assert requirements_for(policy).approvals == 1
    prod = requirements_for(policy, "production")
    assert prod.approvals == 3 and prod.provenance and prod.scan
    with pytest.raises(PolicyError, match=r"field 'gate\.approvals'") as bad:
        Policy.load(policy_file(tmp_path, "b", gate="    approvals: lots\n"))
    assert bad.value.one_line().startswith(f"{tmp_path / 'b.yaml'}: field 'gate.approvals'")


def test_cli_gate_exit_codes_and_sarif(cli: CliRun, signed: tuple[Path, Path, Path]) -> None:
    model, pub, tmp = signed
    pol = policy_file(tmp, "p", gate=f"    signature: true\n    trusted_keys: [{pub.name}]\n")
    ok = cli("gate", str(model), "--policy", str(pol), "-f", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["decision"]["verdict"] == "allow"
    (model / "config.json").write_text("{}")
    sarif_out = tmp / "gate.sarif"
    bad = cli("gate", str(model), "--policy", str(pol), "-f", "sarif", "-o", str(sarif_out))
    assert bad.returncode == 1, bad.stderr
    doc = json.loads(sarif_out.read_text())
    jsonschema.validate(doc, sarif_schema())
    assert any(r["ruleId"] == "MW-SIGN-004" for r in doc["runs"][0]["results"])
    missing = cli("gate", str(tmp / "nope"), "--policy", str(pol))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["scan", "signature", "approvals", "trusted_keys",
                                        "provenance", "stages", "bogus"]),
                       st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=5)
                       | st.lists(st.text(max_size=5), max_size=2)
                       | st.dictionaries(st.sampled_from(["production", "staging", "qa"]),
                                         st.dictionaries(st.sampled_from(["approvals", "scan"]),
                                                         st.integers(-1, 3) | st.text(max_size=3),
                                                         max_size=2), max_size=2),
                       max_size=4))
def test_any_gate_section_is_valid_or_a_policy_error(section: dict[str, object]) -> None:
    try:
        policy = Policy.from_data({"name": "h", "gate": section})
    except PolicyError as exc:
        assert exc.one_line().startswith("<policy>: field 'gate")
        return
    for stage in (None, "staging", "production"):
        req = requirements_for(policy, stage)
        assert 0 <= req.approvals <= 100
