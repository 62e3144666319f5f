from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.core import Finding, Location, Rule, Severity
from mlwarden.core.errors import ExitCode, InputError, MlwardenError, UsageError, VerificationError
from mlwarden.core.rules import register


def test_severity_is_ordered_and_parses() -> None:
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert max([Severity.LOW, Severity.CRITICAL, Severity.MEDIUM]) is Severity.CRITICAL
    assert Severity.parse(" HIGH ") is Severity.HIGH
    with pytest.raises(ValueError, match="expected one of"):
        Severity.parse("severe")


def test_finding_rejects_bad_rule_ids_and_references() -> None:
    loc = Location("x.pkl")
    with pytest.raises(ValueError, match="MW-<AREA>-<NNN>"):
        Finding("PKL-1", Severity.HIGH, "t", "m", loc)
    with pytest.raises(ValueError, match="reference"):
        Finding("MW-PKL-001", Severity.HIGH, "t", "m", loc, references=("owasp-ish",))
    with pytest.raises(TypeError):
        Finding("MW-PKL-001", "high", "t", "m", loc)  # type: ignore[arg-type]


def test_fingerprint_is_stable_and_place_sensitive() -> None:
    a = Finding("MW-PKL-001", Severity.HIGH, "t", "m", Location("a.pkl", offset=1))
    b = Finding("MW-PKL-001", Severity.HIGH, "t", "other message", Location("a.pkl", offset=1))
    c = Finding("MW-PKL-001", Severity.HIGH, "t", "m", Location("a.pkl", offset=2))
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint


def test_location_str_names_member_offset_and_line() -> None:
    assert str(Location("m.pt", member="archive/data.pkl", offset=12)) == "m.pt!archive/data.pkl@12"
    assert str(Location("d.csv", line=3)) == "d.csv:3"


def test_duplicate_rule_registration_with_different_definition_is_fatal() -> None:
    rule = Rule(id="MW-TEST-900", name="Dup", title="t", description="d",
                severity=Severity.LOW, remediation="r")
    register(rule)
    register(rule)  # the same definition again is fine (module re-import)
    with pytest.raises(RuntimeError, match="registered twice"):
        register(Rule(id="MW-TEST-900", name="Dup", title="other", description="d",
                      severity=Severity.LOW, remediation="r"))


def test_rule_finding_uses_rule_defaults() -> None:
    rule = Rule(id="MW-TEST-901", name="Defaults", title="Title", description="d",
                severity=Severity.HIGH, remediation="fix", references=("CWE-502",))
    f = rule.finding("msg", Location("p"))
    assert (f.severity, f.title, f.remediation, f.references) == (
        Severity.HIGH, "Title", "fix", ("CWE-502",))
    assert rule.finding("msg", Location("p"), severity=Severity.LOW).severity is Severity.LOW


def test_errors_render_one_line_with_path_and_advice() -> None:
    err = InputError("not a pickle:\n bad magic", path="m.bin", advice="check the file")
    assert err.one_line() == "m.bin: not a pickle: bad magic (check the file)"
    assert "\n" not in err.one_line()
    assert isinstance(err, MlwardenError)
    assert (InputError.exit_code, UsageError.exit_code, VerificationError.exit_code) == (
        ExitCode.USAGE, ExitCode.USAGE, ExitCode.FINDINGS)


@given(path=st.text(min_size=1), member=st.none() | st.text(), offset=st.none()
       | st.integers(min_value=0, max_value=2**63))
def test_finding_to_dict_roundtrips_location(path: str, member: str | None,
                                             offset: int | None) -> None:
    f = Finding("MW-PKL-001", Severity.HIGH, "t", "m", Location(path, member, offset))
    d = f.to_dict()
    assert d["location"] == {"path": path, "member": member, "offset": offset, "line": None}
    assert len(d["fingerprint"]) == 32
