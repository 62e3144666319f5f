"""``--key FILE.pem`` for every command that takes a private key (``sign``, ``train``): an
unencrypted or group/world-readable file is refused unless ``--allow-insecure-key`` (issue 13)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mlwarden.sign.keys import generate_private_key, private_pem

from ..conftest import CliRun

PASS = "a good long passphrase"


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLWARDEN_ALLOW_INSECURE_KEY", raising=False)


def _key(tmp_path: Path, name: str, *, encrypted: bool, mode: int) -> Path:
    path = tmp_path / name
    key = generate_private_key("P-256")
    path.write_bytes(private_pem(key, PASS.encode() if encrypted else None))
    os.chmod(path, mode)
    return path


def _model(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    (model / "w.bin").write_bytes(b"weights")
    return model


def _last_error(proc: object) -> str:
    lines = proc.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert lines and lines[-1].startswith("mlwarden: error: "), lines
    return lines[-1]


@pytest.mark.usefixtures("strict")
@pytest.mark.parametrize("encrypted, mode, words", [
    (False, 0o600, "not encrypted"),
    (False, 0o644, "readable by others"),
    (True, 0o640, "readable by others"),
    (True, 0o604, "readable by others"),
])
def test_sign_refuses_an_insecure_key_file(cli: CliRun, tmp_path: Path, encrypted: bool,
                                            mode: int, words: str) -> None:
    model, key = _model(tmp_path), _key(tmp_path, "k.pem", encrypted=encrypted, mode=mode)
    env = {"MLWARDEN_KEY_PASSPHRASE": PASS}
    proc = cli("sign", str(model), "--key", str(key), env=env)
    assert proc.returncode == 2 and words in _last_error(proc), proc.stderr
    assert not (model / "model.sig").exists()
    ok = cli("sign", str(model), "--key", str(key), "--allow-insecure-key", env=env)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.usefixtures("strict")
def test_sign_accepts_an_encrypted_private_key_file(cli: CliRun, tmp_path: Path) -> None:
    model, key = _model(tmp_path), _key(tmp_path, "k.pem", encrypted=True, mode=0o600)
    proc = cli("sign", str(model), "--key", str(key), env={"MLWARDEN_KEY_PASSPHRASE": PASS})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.usefixtures("strict")
def test_train_refuses_an_unencrypted_key_file(cli: CliRun, tmp_path: Path) -> None:
    key = _key(tmp_path, "train.pem", encrypted=False, mode=0o644)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    out = tmp_path / "model.bin"
    proc = cli("train", "--data", str(data), "--out", str(out), "--key", str(key), "--",
               sys.executable, "-c", f"open({str(out)!r}, 'wb').write(b'm')")
    assert proc.returncode == 2 and "readable by others" in _last_error(proc), proc.stderr
    assert not out.exists()  # refused before the command ran
