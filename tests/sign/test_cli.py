"""The CLI: keys generate/list/export, sign, verify, digest — exit codes and one-line errors."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from mlwarden.cli.main import run
from mlwarden.sign.manifest import model_digest
from tests.conftest import CliRun
from tests.sign.conftest import KeyFiles, Pki

PASS = "correct horse battery"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "state"
    monkeypatch.setenv("MLWARDEN_HOME", str(home))
    monkeypatch.setenv("MLWARDEN_KEY_PASSPHRASE", PASS)
    return home


def mw(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = run([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_keys_generate_list_export(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = mw(capsys, "keys", "generate", "release", "--curve", "P-384")
    assert code == 0 and "P-384" in out
    keys = home / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert stat.S_IMODE((keys / "release.key").stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in (keys / "release.key").read_bytes()
    assert PASS.encode() not in (keys / "release.key").read_bytes()
    code, out, _ = mw(capsys, "keys", "list", "--json")
    listed = json.loads(out)
    assert [(k["name"], k["curve"]) for k in listed] == [("release", "P-384")]
    code, out, _ = mw(capsys, "keys", "export", "release")
    assert out == (keys / "release.pub").read_text()
    code, _, err = mw(capsys, "keys", "generate", "release")
    assert code == 2 and "already exists" in err
    code, _, err = mw(capsys, "keys", "generate", "../evil")
    assert code == 2 and "key name" in err


def test_passphrase_file_and_short_passphrase(home: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("MLWARDEN_KEY_PASSPHRASE")
    secret = tmp_path / "pass.txt"
    secret.write_text("another long passphrase\n")
    assert mw(capsys, "keys", "generate", "k", "--passphrase-file", secret)[0] == 0
    short = tmp_path / "short.txt"
    short.write_text("abc")
    code, _, err = mw(capsys, "keys", "generate", "k2", "--passphrase-file", short)
    assert code == 2 and "too short" in err


def test_sign_verify_digest_with_a_stored_key(home: Path, model: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    mw(capsys, "keys", "generate", "release")
    code, out, err = mw(capsys, "sign", model, "--key", "release")
    assert code == 0, err
    assert f"model digest {model_digest(model)}" in out
    pub = tmp_path / "release.pub"
    mw(capsys, "keys", "export", "release", "--output", pub)
    code, out, err = mw(capsys, "verify", model, "--public-key", pub)
    assert code == 0, err
    assert out.startswith(f"verified {model}")
    code, out, _ = mw(capsys, "digest", model)
    assert (code, out) == (0, model_digest(model) + "\n")
    code, out, _ = mw(capsys, "digest", model, "--json")
    assert json.loads(out)["files"] == 4


def test_wrong_passphrase_is_one_line(home: Path, model: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    mw(capsys, "keys", "generate", "release")
    monkeypatch.setenv("MLWARDEN_KEY_PASSPHRASE", "not the passphrase")
    code, _, err = mw(capsys, "sign", model, "--key", "release")
    assert code == 2
    assert err.count("\n") == 1 and "wrong passphrase" in err
    code, _, err = mw(capsys, "sign", model, "--key", "nosuchkey")
    assert code == 2 and "no key named 'nosuchkey'" in err and "release" in err


@pytest.mark.parametrize("tamper, code, message", [
    (lambda m: (m / "config.json").write_bytes(b'{"hidden": 5}'), 1, "modified: config.json"),
    (lambda m: (m / "new.py").write_text("x"), 1, "added: new.py"),
    (lambda m: (m / "config.json").unlink(), 1, "missing: config.json"),
    (lambda m: (m / "config.json").rename(m / "cfg.json"), 1, "renamed: config.json -> cfg.json"),
    (lambda m: (m / "weights.safetensors").write_bytes(b"x"), 1,
     "truncated: weights.safetensors (signed 4096 bytes, found 1)"),
    (lambda m: (m / "model.sig").write_text((m / "model.sig").read_text()[:200]), 1,
     "signature file is truncated"),
    (lambda m: (m / "model.sig").unlink(), 1, "the model is unsigned"),
])
def test_verify_failures_exit_1_with_one_clear_line(
        model: Path, keys: Callable[..., KeyFiles], capsys: pytest.CaptureFixture[str],
        tamper: Callable[[Path], object], code: int, message: str) -> None:
    key = keys()
    assert mw(capsys, "sign", model, "--key", key.private)[0] == 0
    tamper(model)
    got, _out, err = mw(capsys, "verify", model, "--public-key", key.public)
    assert got == code
    assert message in err
    assert err.startswith("mlwarden: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and "Digest(" not in err


def test_verify_reports_in_json_and_sarif(model: Path, keys: Callable[..., KeyFiles],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    key = keys()
    mw(capsys, "sign", model, "--key", key.private)
    code, out, _ = mw(capsys, "verify", model, "--public-key", key.public, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["findings"] == []
    assert report["artifacts"] == {str(model): model_digest(model)}
    assert report["metadata"]["verification"]["signer"]["method"] == "key"
    (model / "config.json").write_bytes(b"{}")
    code, out, _ = mw(capsys, "verify", model, "--public-key", key.public, "--format", "sarif")
    sarif = json.loads(out)
    assert code == 1
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["MW-SIGN-004"]


def test_pki_from_the_cli(model: Path, pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = mw(capsys, "sign", model, "--key", pki.leaf_key, "--cert-chain", pki.chain)
    assert code == 0, err
    assert "method pki" in out
    code, out, err = mw(capsys, "verify", model, "--cert-chain", pki.root, "--identity",
                        pki.subject)
    assert code == 0, err
    code, _, err = mw(capsys, "verify", model, "--cert-chain", pki.root)
    assert code == 0 and "UNSAFE" in err


def test_usage_errors(model: Path, keys: Callable[..., KeyFiles], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    key = keys()
    code, _, err = mw(capsys, "verify", model)
    assert code == 2 and "say whom to trust" in err
    code, _, err = mw(capsys, "sign", model)
    assert code == 2 and "needs --key" in err
    code, _, err = mw(capsys, "sign", model, "--key", key.private, "--method", "pki")
    assert code == 2 and "--cert-chain" in err
    code, _, err = mw(capsys, "sign", tmp_path / "nope", "--key", key.private)
    assert code == 2 and "model not found" in err
    code, _, err = mw(capsys, "digest", tmp_path / "nope")
    assert code == 2 and "not found" in err


def test_no_traceback_in_a_real_process(cli: CliRun, model: Path,
                                        keys: Callable[..., KeyFiles]) -> None:
    key = keys()
    assert cli("sign", str(model), "--key", str(key.private)).returncode == 0
    (model / "model.sig").write_bytes(b"\x00garbage")
    proc = cli("verify", str(model), "--public-key", str(key.public))
    assert proc.returncode == 1
    assert proc.stderr.startswith("mlwarden: error: ") and "Traceback" not in proc.stderr
    assert "signature file is corrupted" in proc.stderr
