"""Each ``MW-SIGN-*`` rule, triggered for real on a signed model, and silent when it verifies.

Every test signs a small model with a freshly generated key, then damages exactly one thing
(removes the signature, alters the signed statement, adds/removes/renames a file, corrupts the
signature file) and checks the one finding that results: its rule id, severity and the file it
names. The negative case is the same model before the damage: no finding of that rule.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mlwarden.core.finding import Finding
from mlwarden.core.severity import Severity
from mlwarden.sign import rules
from mlwarden.sign.keys import EcdsaSigner
from mlwarden.sign.signing import KeyMaterial, sign_model
from mlwarden.sign.trust import Trust
from mlwarden.sign.verify import verification_findings, verification_report
from tests.sign.conftest import KeyFiles

Signed = tuple[Path, Trust]


@pytest.fixture
def signed(model: Path, keys: Callable[..., KeyFiles]) -> Signed:
    key = keys()
    sign_model(model, KeyMaterial(EcdsaSigner(key.key)))
    return model, Trust.from_public_keys([key.public])


def only(findings: list[Finding], rule_id: str) -> Finding:
    assert [f.rule_id for f in findings] == [rule_id], [f.message for f in findings]
    return findings[0]


def assert_clean(model: Path, trust: Trust, rule_id: str) -> None:
    findings, result = verification_findings(model, None, trust)
    assert rule_id not in {f.rule_id for f in findings}
    assert findings == [] and result is not None


def test_sign_001_unsigned_model(signed: Signed) -> None:
    model, trust = signed
    assert_clean(model, trust, "MW-SIGN-001")
    (model / "model.sig").unlink()
    findings, result = verification_findings(model, None, trust)
    f = only(findings, "MW-SIGN-001")
    assert result is None
    assert f.severity is Severity.HIGH is rules.UNSIGNED.severity
    assert f.location.path == str(model)
    assert "unsigned" in f.message
    assert f.evidence["signature"] == str(model / "model.sig")


def test_sign_002_altered_signed_statement(signed: Signed) -> None:
    model, trust = signed
    assert_clean(model, trust, "MW-SIGN-002")
    sig = model / "model.sig"
    bundle = json.loads(sig.read_text())
    envelope = bundle["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["tampered"] = True  # the attacker edits what was signed
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig.write_text(json.dumps(bundle))
    f = only(verification_findings(model, None, trust)[0], "MW-SIGN-002")
    assert f.severity is Severity.CRITICAL is rules.SIGNATURE_INVALID.severity
    assert f.location.path == str(sig)
    assert "does not verify" in f.message and f.evidence["model"] == str(model)


def test_sign_002_signed_by_another_key(signed: Signed, keys: Callable[..., KeyFiles]) -> None:
    model, _ = signed
    other = Trust.from_public_keys([keys("other").public])
    f = only(verification_findings(model, None, other)[0], "MW-SIGN-002")
    assert f.severity is Severity.CRITICAL
    assert f.location.path == str(model / "model.sig") and "another key" in f.message


def test_sign_005_file_added_after_signing(signed: Signed) -> None:
    model, trust = signed
    assert_clean(model, trust, "MW-SIGN-005")
    (model / "modeling_custom.py").write_text("import os\n")
    f = only(verification_findings(model, None, trust)[0], "MW-SIGN-005")
    assert f.severity is Severity.HIGH is rules.FILE_ADDED.severity
    assert f.location.path == f"{model}/modeling_custom.py"
    assert "modeling_custom.py" in f.message and "not covered" in f.message


def test_sign_006_signed_file_missing(signed: Signed) -> None:
    model, trust = signed
    assert_clean(model, trust, "MW-SIGN-006")
    (model / "tokenizer" / "vocab.txt").unlink()
    f = only(verification_findings(model, None, trust)[0], "MW-SIGN-006")
    assert f.severity is Severity.HIGH is rules.FILE_MISSING.severity
    assert f.location.path == f"{model}/tokenizer/vocab.txt"
    assert "missing: tokenizer/vocab.txt" in f.message and "sha256:" in f.message


def test_sign_007_signed_file_renamed(signed: Signed) -> None:
    model, trust = signed
    assert_clean(model, trust, "MW-SIGN-007")
    (model / "config.json").rename(model / "config.old.json")
    f = only(verification_findings(model, None, trust)[0], "MW-SIGN-007")
    assert f.severity is Severity.HIGH is rules.FILE_RENAMED.severity
    assert f.location.path == f"{model}/config.json"
    assert "config.json -> config.old.json" in f.message
    assert f.evidence["renamed_to"] == "config.old.json"


@pytest.mark.parametrize("damage", ["truncated", "not-json", "not-a-bundle"])
def test_sign_008_signature_file_corrupted(signed: Signed, damage: str) -> None:
    model, trust = signed
    assert_clean(model, trust, "MW-SIGN-008")
    sig = model / "model.sig"
    text = sig.read_text()
    sig.write_text({"truncated": text[: len(text) // 2], "not-json": "\x00\x01garbage",
                    "not-a-bundle": json.dumps({"hello": "world"})}[damage])
    f = only(verification_findings(model, None, trust)[0], "MW-SIGN-008")
    assert f.severity is Severity.HIGH is rules.SIGNATURE_MALFORMED.severity
    assert f.location.path == str(sig) and f.evidence["model"] == str(model)


def test_report_carries_the_finding_and_no_verification(signed: Signed) -> None:
    model, trust = signed
    clean = verification_report(model, None, trust)
    assert not list(clean.findings) and clean.metadata["verification"] is not None
    (model / "extra.bin").write_bytes(b"x")
    report = verification_report(model, None, trust)
    assert [f.rule_id for f in report.findings] == ["MW-SIGN-005"]
    assert report.metadata["verification"] is None
