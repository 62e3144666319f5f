from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlwarden.core import Finding, PolicyError, ReasonCode, Report, Severity
from mlwarden.core.errors import DeniedError
from mlwarden.core.policy import Policy

TODAY = dt.date(2026, 11, 22)


def _policy(text: str) -> Policy:
    return Policy.from_yaml(text, source="policy.yaml")


def test_default_threshold_denies_critical(report: Report) -> None:
    out = Policy.default().evaluate(report, today=TODAY)
    assert out.decision is not None and not out.decision.allowed
    codes = {r.code for r in out.decision.reasons}
    assert codes == {ReasonCode.THRESHOLD}
    assert len(out.decision.reasons) == 2  # the two critical findings, not the low one
    with pytest.raises(DeniedError, match="MW-TEST-001"):
        out.decision.enforce()


def test_threshold_above_every_finding_allows(report: Report) -> None:
    policy = Policy.default(fail_on=Severity.CRITICAL)
    assert not policy.evaluate(report, today=TODAY).decision.allowed  # type: ignore[union-attr]
    low_only = Report.build("scan", "x", [f for f in report.findings
                                          if f.severity is Severity.LOW],
                            started_at=report.started_at)
    decision = Policy.default(fail_on=Severity.MEDIUM).evaluate(low_only, today=TODAY).decision
    assert decision is not None and decision.allowed
    assert decision.reasons[0].code is ReasonCode.CLEAN
    decision.enforce()  # does not raise


def test_fail_on_low_denies_low(report: Report) -> None:
    low_only = Report.build("scan", "x", [f for f in report.findings
                                          if f.severity is Severity.LOW],
                            started_at=report.started_at)
    assert not Policy.default(fail_on=Severity.LOW).evaluate(low_only).decision.allowed  # type: ignore[union-attr]


def test_valid_waiver_suppresses_but_keeps_the_finding_visible(report: Report) -> None:
    policy = _policy("""
fail_on: high
waivers:
  - rule: MW-TEST-001
    path: "models/*"
    owner: alice@example.com
    reason: reviewed in SEC-1
    expires: 2026-12-31
""")
    out = policy.evaluate(report, today=TODAY)
    assert out.decision is not None and out.decision.allowed, out.decision
    waived = [f for f in out.findings if f.suppression]
    assert len(waived) == 2
    assert all(f.suppression and f.suppression.owner == "alice@example.com" for f in waived)
    assert len(out.findings) == len(report.findings)  # still visible, nothing added
    assert len(out.active) == 1


def test_waiver_is_valid_on_its_expiry_day_and_expired_the_day_after(report: Report) -> None:
    text = """
waivers:
  - {rule: "MW-TEST-*", path: "*", owner: bob, reason: r, expires: 2026-11-22}
"""
    assert _policy(text).evaluate(report, today=TODAY).decision.allowed  # type: ignore[union-attr]
    out = _policy(text).evaluate(report, today=TODAY + dt.timedelta(days=1))
    assert out.decision is not None and not out.decision.allowed
    expired = [f for f in out.findings if f.rule_id == "MW-POL-001"]
    assert len(expired) == 1 and "expired on 2026-11-22" in expired[0].message
    assert expired[0].location.path == "policy.yaml"
    assert ReasonCode.EXPIRED_WAIVER in {r.code for r in out.decision.reasons}
    assert not any(f.suppression for f in out.findings)  # the waiver no longer applies


def test_non_matching_waiver_does_not_suppress_and_is_reported(report: Report) -> None:
    policy = _policy("""
waivers:
  - {rule: MW-TEST-001, path: "other/*.pkl", owner: carol, reason: r, expires: 2030-01-01}
""")
    out = policy.evaluate(report, today=TODAY)
    assert out.decision is not None and not out.decision.allowed
    unused = [f for f in out.findings if f.rule_id == "MW-POL-002"]
    assert len(unused) == 1 and unused[0].severity is Severity.INFO


def test_waiver_matches_archive_members(report: Report) -> None:
    policy = _policy("""
waivers:
  - {rule: MW-TEST-001, path: "models/ckpt.pt!archive/*", owner: d, reason: r, expires: 2030-01-01}
""")
    out = policy.evaluate(report, today=TODAY)
    waived = [f for f in out.findings if f.suppression]
    assert [f.location.member for f in waived] == ["archive/data.pkl"]


def test_deny_rule_denies_whatever_the_severity(report: Report) -> None:
    policy = _policy("fail_on: critical\nrules: {deny: [MW-TEST-002]}")
    low_only = Report.build("scan", "x", [f for f in report.findings
                                          if f.severity is Severity.LOW],
                            started_at=report.started_at)
    decision = policy.evaluate(low_only, today=TODAY).decision
    assert decision is not None and not decision.allowed
    assert decision.reasons[0].code is ReasonCode.DENIED_RULE


def test_allow_rule_and_severity_override(report: Report) -> None:
    allowed = _policy("rules: {allow: ['MW-TEST-001']}").evaluate(report, today=TODAY)
    assert allowed.decision is not None and allowed.decision.allowed
    assert all(f.suppression.kind == "policy" for f in allowed.findings  # type: ignore[union-attr]
               if f.rule_id == "MW-TEST-001")
    lowered = _policy("rules: {severity: {MW-TEST-001: medium}}").evaluate(report, today=TODAY)
    assert lowered.decision is not None and lowered.decision.allowed
    assert {f.severity for f in lowered.findings if f.rule_id == "MW-TEST-001"} == {
        Severity.MEDIUM}


def test_suppressed_findings_never_count(findings: list[Finding]) -> None:
    from mlwarden.core import Suppression

    report = Report.build("scan", "x", [f.suppressed_by(Suppression("waiver", "r"))
                                        for f in findings], started_at=dt.datetime.now(dt.UTC))
    assert Policy.default(fail_on=Severity.INFO).evaluate(report).decision.allowed  # type: ignore[union-attr]


@pytest.mark.parametrize(("text", "needle"), [
    ("fail_on: severe", "field 'fail_on'"),
    ("waivers:\n  - {rule: MW-TEST-001, owner: a, reason: r}", "field 'waivers.0.expires'"),
    ("waivers:\n  - {rule: MW-TEST-001, owner: a, reason: r, expires: someday}",
     "field 'waivers.0.expires'"),
    ("waivers:\n  - {rule: bogus, owner: a, reason: r, expires: 2030-01-01}",
     "field 'waivers.0.rule'"),
    ("waivers:\n  - {rule: MW-TEST-001, owner: '', reason: r, expires: 2030-01-01}",
     "field 'waivers.0.owner'"),
    ("fail_on: high\nfial_on: low", "field 'fial_on'"),
    ("- just\n- a list", "mapping at the top level"),
    ("fail_on: [unclosed", "not valid YAML"),
    ("scan: {allow_globals: ['nodots']}", "field 'scan.allow_globals'"),
    ("version: 2", "field 'version'"),
])
def test_malformed_policies_name_the_file_and_field(text: str, needle: str) -> None:
    with pytest.raises(PolicyError) as info:
        _policy(text)
    line = info.value.one_line()
    assert line.startswith("policy.yaml: ")
    assert needle in line
    assert "\n" not in line


def test_load_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        Policy.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bin.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(bad)


def test_empty_file_is_the_default_policy(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("")
    policy = Policy.load(path)
    assert policy.threshold is Severity.HIGH and policy.source == str(path)


def test_policy_digest_changes_with_content() -> None:
    assert _policy("fail_on: high").digest == _policy("fail_on: high").digest
    assert _policy("fail_on: high").digest != _policy("fail_on: low").digest


@pytest.mark.parametrize("fail_on", list(Severity))
def test_threshold_decision_matches_the_default_policy(report: Report, fail_on: Severity) -> None:
    from mlwarden.core.decision import decide_by_threshold

    lean = decide_by_threshold(report.findings, fail_on)
    full = Policy.default(fail_on=fail_on).decide(report.findings)
    assert lean.allowed == full.allowed
    assert [r.message for r in lean.reasons] == [r.message for r in full.reasons]
