"""Evidence kinds bound to predicate types, typed policy sections: the attacks that opened them.

Attackers: a publisher who hands the gate one signed statement as several kinds of evidence
(signed with a trusted key: the key is not the weakness, the claim is), and a policy author whose
typo would silently weaken a policy. ``policy check``, ``registry policy set`` and ``gate`` must
refuse every policy mistake alike, with one line naming file and field (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden.cli.main import run
from mlwarden.core.attestation import Statement, Subject, sign_statement
from mlwarden.core.errors import PolicyError
from mlwarden.core.evidence import (
    DATA_CHECK_PREDICATE,
    MODEL_TEST_PREDICATE,
    EvidenceKind,
    kinds,
    statement_kinds,
)
from mlwarden.core.policy import Policy, PolicySection, registered_sections
from mlwarden.gate.engine import gate_path
from mlwarden.sign.keys import EcdsaSigner
from mlwarden.sign.manifest import hash_model

from ..registry.helpers import clean_model, new_key, oms_signature, policy_file


def _statement(model: Path, signer: EcdsaSigner, predicate_type: str,
               predicate: dict[str, object]) -> str:
    digest = hash_model(model).model_digest().removeprefix("sha256:")
    st = Statement((Subject(model.name, {"sha256": digest}),), predicate_type, predicate)
    return sign_statement(st, signer).to_json()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, EcdsaSigner, Path]:
    signer, pub = new_key(tmp_path, "k")
    model = clean_model(tmp_path / "model" / "w.bin")
    (model.parent / "model.sig").write_text(oms_signature(model.parent, signer))
    policy = policy_file(tmp_path, "p", gate=(
        f"    signature: true\n    trusted_keys: [{pub.name}]\n"
        "    data_checks: true\n    model_tests: true\n"))
    return model.parent, signer, policy


def _invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_one_statement_of_any_type_cannot_stand_in_for_two_kinds(
        setup: tuple[Path, EcdsaSigner, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    model, signer, policy = setup
    anything = tmp_path / "anything.json"
    anything.write_text(_statement(model, signer, "https://example.com/anything/v1",
                                   {"passed": True}))
    # The gate itself: deny, naming the type the statement has and the one each kind needs.
    report = gate_path(Policy.load(policy), model, data_checks=[anything],
                       model_tests=[anything])
    assert report.decision is not None and not report.decision.allowed
    reasons = [r.message for r in report.decision.reasons]
    assert any("predicateType is 'https://example.com/anything/v1', but data-check evidence must "
               f"be {DATA_CHECK_PREDICATE!r}" in r for r in reasons), reasons
    assert any(f"model-test evidence must be {MODEL_TEST_PREDICATE!r}" in r for r in reasons)
    # The command line refuses it up front, as bad input (exit 2, one line naming the file).
    code, _, err = _invoke(capsys, "gate", str(model), "--policy", str(policy),
                           "--data-check", str(anything), "--model-test", str(anything))
    assert code == 2, err
    assert err.strip().splitlines() == [
        f"mlwarden: error: {anything}: --data-check needs predicateType "
        f"{DATA_CHECK_PREDICATE!r}, not 'https://example.com/anything/v1' (is it the right file "
        "for --data-check?)"]


def test_malformed_evidence_is_an_error_even_when_the_policy_does_not_need_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = clean_model(tmp_path / "m.bin")
    policy = policy_file(tmp_path, "p", gate="    scan: true\n")
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    for option in ("--provenance", "--data-check", "--model-test", "--signature"):
        code, _, err = _invoke(capsys, "gate", str(model), "--policy", str(policy), option,
                               str(junk))
        assert code == 2, (option, err)
        assert str(junk) in err and len(err.strip().splitlines()) == 1, (option, err)


def test_each_kind_takes_only_its_own_predicate_and_a_valid_one(
        setup: tuple[Path, EcdsaSigner, Path], tmp_path: Path) -> None:
    model, signer, policy_path = setup
    policy = Policy.load(policy_path)
    data = tmp_path / "data.json"
    data.write_text(_statement(model, signer, DATA_CHECK_PREDICATE, {"passed": True}))
    test = tmp_path / "test.json"
    test.write_text(_statement(model, signer, MODEL_TEST_PREDICATE, {"passed": True}))
    ok = gate_path(policy, model, data_checks=[data], model_tests=[test])
    assert ok.decision is not None and ok.decision.allowed, ok.decision
    swapped = gate_path(policy, model, data_checks=[test], model_tests=[data])
    assert swapped.decision is not None and not swapped.decision.allowed
    for bad, why in (({"passed": "yes"}, "field 'passed'"),
                     ({"note": "fine"}, "says neither 'passed' nor 'decision.allowed'"),
                     ({"passed": True, "decision": {"allowed": False}}, "disagree"),
                     ({"decision": {"allowed": False}}, "did not pass")):
        odd = tmp_path / "odd.json"
        odd.write_text(_statement(model, signer, DATA_CHECK_PREDICATE, bad))
        report = gate_path(policy, model, data_checks=[odd], model_tests=[test])
        assert report.decision is not None and not report.decision.allowed
        assert any(why in r.message for r in report.decision.reasons), (bad, report.decision)


def test_registry_attach_refuses_a_statement_of_another_kind(
        setup: tuple[Path, EcdsaSigner, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    model, signer, _ = setup
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWARDEN_HOME", str(tmp_path / "home"))
    code, admin, err = _invoke(capsys, "registry", "init", "--admin", "ada", "--allow-insecure-key")
    assert code == 0, err
    monkeypatch.setenv("MLWARDEN_TOKEN", admin.strip())
    code, invite, err = _invoke(capsys, "registry", "user", "invite", "pat", "--role", "publisher")
    assert code == 0, err
    code, token, err = _invoke(capsys, "registry", "enrol", invite.strip())
    assert code == 0, err
    monkeypatch.setenv("MLWARDEN_TOKEN", token.strip())
    test = tmp_path / "test.json"
    test.write_text(_statement(model, signer, MODEL_TEST_PREDICATE, {"passed": True}))
    code, _, err = _invoke(capsys, "registry", "push", str(model), "--name", "m",
                           "--data-check", str(test))
    assert code == 2, err
    assert "a data-check attestation must have predicateType" in err
    assert len(err.strip().splitlines()) == 1


POLICY_MISTAKES = {
    "extensions-typo": ("extensions:\n  gaet:\n    signature: true\n", "extensions.gaet"),
    "not-a-bool": ("gate:\n  scan: yes-please\n", "gate.scan"),
    "string-number": ("gate:\n  approvals: '2'\n", "gate.approvals"),
    "unknown-stage": ("gate:\n  stages:\n    prod:\n      approvals: 2\n", "gate.stages.prod"),
    "stage-typo": ("gate:\n  stages:\n    production:\n      signatures: true\n",
                   "gate.stages.production.signatures"),
    "missing-key-file": ("gate:\n  signature: true\n  trusted_keys: [nope.pub]\n",
                         "gate.trusted_keys"),
    "section-typo": ("gaet:\n  signature: true\n", "'gaet'"),
    "rules-typo": ("rules:\n  deni: [MW-PKL-*]\n", "rules.deni"),
    "unscanned-typo": ("scan:\n  on_unscanned: sometimes\n", "scan.on_unscanned"),
    "extensions-both": ("gate: {scan: true}\nextensions:\n  gate: {scan: false}\n",
                        "extensions.gate"),
}


@pytest.mark.parametrize("case", sorted(POLICY_MISTAKES))
def test_policy_mistakes_are_refused_alike_by_check_set_and_gate(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    text, field = POLICY_MISTAKES[case]
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: p\n" + text)
    model = clean_model(tmp_path / "m.bin")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWARDEN_HOME", str(tmp_path / "home"))
    code, admin, _ = _invoke(capsys, "registry", "init", "--admin", "ada", "--allow-insecure-key")
    assert code == 0
    monkeypatch.setenv("MLWARDEN_TOKEN", admin.strip())
    for args in (("policy", "check", str(policy)),
                 ("registry", "policy", "set", "production", str(policy)),
                 ("gate", str(model), "--policy", str(policy))):
        code, _, err = _invoke(capsys, *args)
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"mlwarden: error: {policy}: "), lines
        assert field in lines[0], (args, lines[0])
        assert "Traceback" not in err
    code, out, _ = _invoke(capsys, "registry", "policy", "show", "production")
    assert "default-production" in out  # nothing was stored


def test_the_old_extensions_spelling_loads_with_a_notice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "old.yaml"
    policy.write_text("name: old\nextensions:\n  gate:\n    scan: true\n    approvals: 1\n")
    code, _, err = _invoke(capsys, "policy", "check", str(policy))
    assert code == 0, err
    assert f"mlwarden: warning: {policy}: 'extensions.gate' is deprecated" in err
    new = tmp_path / "new.yaml"
    new.write_text("name: old\ngate:\n  scan: true\n  approvals: 1\n")
    assert Policy.load(new).digest == Policy.load(policy).digest  # the same policy


def test_kinds_and_sections_are_registered_and_bound() -> None:
    names = {k.name for k in kinds()}
    assert names == {"scan", "signature", "provenance", "data-check", "model-test"}
    types = [t for k in kinds() for t in k.predicate_types]
    assert len(types) == len(set(types))  # one predicate type, one kind
    for k in statement_kinds():
        assert all(t.startswith("https://") and t.rsplit("/", 1)[-1].startswith("v")
                   for t in k.predicate_types), k.name  # versioned URIs
    from mlwarden.registry.models import AttestationKind

    assert {a.value for a in AttestationKind} == names
    assert set(registered_sections()) == {"gate"}
    with pytest.raises(RuntimeError, match="registered twice"):
        type("Again", (EvidenceKind,), {"name": "data-check", "requirement": "x",
                                        "predicate_types": ("https://x/v1",)})
    with pytest.raises(RuntimeError, match="registered twice"):
        type("GateAgain", (PolicySection,), {"section": "gate"})


def test_a_new_kind_is_one_class_and_the_gate_section_follows() -> None:
    """What adding a kind takes: a class (and the catalogue line); the policy switch and the
    gate's loop follow from the registry. Checked on a throwaway module's worth of code."""
    import subprocess
    import sys

    code = (
        "from mlwarden.core.evidence import CheckResultKind, EvidenceKind\n"
        "class Serving(CheckResultKind):\n"
        "    name = 'serving-check'\n"
        "    requirement = 'serving_checks'\n"
        "    predicate_types = ('https://mlwarden.dev/attestations/serving-check/v1',)\n"
        "from mlwarden.core.policy import Policy\n"
        "from mlwarden.gate.requirements import requirements_for\n"
        "p = Policy.from_data({'gate': {'serving_checks': True}})\n"
        "assert requirements_for(p).serving_checks is True\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def test_policy_built_in_code_is_validated_too() -> None:
    with pytest.raises(PolicyError, match=r"gate\.scan"):
        Policy.model_validate({"gate": {"scan": "yes-please"}})


def test_evidence_document_is_current() -> None:
    from mlwarden.core.evidence import schemas_document

    from ..conftest import ROOT

    assert (ROOT / "docs" / "evidence.md").read_text() == schemas_document(), (
        "docs/evidence.md is stale: run `make docs`")
