from __future__ import annotations

from pathlib import Path

import pytest

from mlwarden import __version__

from ..conftest import CliRun


def test_version(cli: CliRun) -> None:
    proc = cli("--version", check=True)
    assert proc.stdout.strip() == f"mlwarden {__version__}"


def test_help_lists_command_groups(cli: CliRun) -> None:
    proc = cli("--help", check=True)
    for group in ("demo", "rules", "policy"):
        assert group in proc.stdout


@pytest.mark.parametrize("args", [("frobnicate",), ("--no-such-flag",), ("policy", "check"),
                                  ("rules", "--area")])
def test_bad_invocation_is_one_line_exit_2(cli: CliRun, args: tuple[str, ...]) -> None:
    proc = cli(*args)
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlwarden: error: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_policy_check_valid_and_malformed(cli: CliRun, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("name: prod\nfail_on: medium\nwaivers:\n"
                    "  - {rule: MW-PKL-001, owner: a, reason: r, expires: 2000-01-01}\n")
    proc = cli("policy", "check", str(good))
    assert proc.returncode == 0, proc.stderr
    assert "prod" in proc.stdout and "EXPIRED" in proc.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("fail_on: never\n")
    proc = cli("policy", "check", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"mlwarden: error: {bad}: field 'fail_on': Input should be 'info', 'low', 'medium', "
        "'high' or 'critical'")


def test_missing_file_is_exit_2_naming_it(cli: CliRun) -> None:
    proc = cli("policy", "check", "nope.yaml")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "mlwarden: error: nope.yaml: policy file not found"


def test_rules_lists_registered_rules(cli: CliRun) -> None:
    proc = cli("rules", check=True)
    assert "MW-POL-001" in proc.stdout


def test_rules_doc_is_current(cli: CliRun) -> None:
    from ..conftest import ROOT

    proc = cli("rules", "--markdown", check=True)
    assert (ROOT / "docs" / "rules.md").read_text() == proc.stdout, (
        "docs/rules.md is stale: run `make docs`")
