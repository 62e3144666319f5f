"""``--format`` everywhere: every command that prints a record takes ``--format table|json``
(reports also take sarif and html); the old ``--json`` stays as a hidden alias."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlwarden.cli.main import run


def _out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_policy_check_and_registry_records_as_json(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("name: p\nfail_on: high\ngate:\n  scan: true\n")
    data = json.loads(_out(capsys, "policy", "check", str(policy), "--format", "json"))
    assert data["valid"] and data["policy"]["name"] == "p" and data["digest"].startswith("sha256:")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLWARDEN_HOME", str(tmp_path / "home"))
    token = _out(capsys, "registry", "init", "--admin", "ada", "--allow-insecure-key").strip()
    monkeypatch.setenv("MLWARDEN_TOKEN", token)
    model = tmp_path / "m.safetensors"
    header = b'{"__metadata__": {"a": "b"}}'
    model.write_bytes(len(header).to_bytes(8, "little") + header)
    pushed = json.loads(_out(capsys, "registry", "push", str(model), "--name", "m", "-f", "json"))
    listed = json.loads(_out(capsys, "registry", "list", "--format", "json"))
    alias = json.loads(_out(capsys, "registry", "list", "--json"))
    assert listed == alias and listed[0]["digest"] == pushed["digest"]
    shown = json.loads(_out(capsys, "registry", "show", "m@1", "--format", "json"))
    assert shown["digest"] == pushed["digest"]
    users = json.loads(_out(capsys, "registry", "user", "list", "--format", "json"))
    assert users[0]["name"] == "ada"
