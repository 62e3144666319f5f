"""Key hygiene (issue 13): the registry key encrypted at rest, private files 0600, a corrupted
encrypted PEM named as corrupted rather than as a wrong passphrase."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mlwarden.core.errors import ConfigError, InputError, UsageError
from mlwarden.registry.service import Registry
from mlwarden.sign.keys import (
    encrypted_pem_damage,
    generate_private_key,
    parse_private_key,
    private_pem,
)

from .conftest import Env

PASS = b"a good long passphrase"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_registry_key_is_encrypted_and_private(env: Env) -> None:
    pem = env.reg.config.key_path.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert _mode(env.reg.config.key_path) == 0o600
    if env.db_url.startswith("sqlite"):
        database = Path(env.db_url.split("///", 1)[1])
        assert _mode(database) == 0o600
        for extra in (database.with_name(database.name + "-wal"),
                      database.with_name(database.name + "-shm")):
            if extra.exists():
                assert _mode(extra) & 0o077 == 0, extra


def test_init_without_a_passphrase_is_refused_unless_insecure_is_allowed(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLWARDEN_KEY_PASSPHRASE")
    with Registry.open(home=tmp_path / "h", db_url=db_url, store=str(tmp_path / "s")) as reg:
        with pytest.raises(UsageError, match="needs a passphrase"):
            reg.init("root")
        assert not reg.config.key_path.exists()
        reg.init("root", allow_insecure_key=True)
        assert b"ENCRYPTED" not in reg.config.key_path.read_bytes()
        assert _mode(reg.config.key_path) == 0o600


def test_without_the_passphrase_actions_leave_an_unsigned_tail_until_a_checkpoint(
        env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLWARDEN_KEY_PASSPHRASE")
    other = Registry.open(home=env.home, db_url=env.db_url, store=str(tmp_path / "store"))
    try:
        other.record(env.admin, "test.event", "s")  # works: it just cannot sign
        status = other.audit_verify(env.admin)
        assert not status.intact and (status.problem or "").startswith("unsigned tail")
        with pytest.raises(ConfigError, match="encrypted and no passphrase"):
            other.audit_checkpoint(env.admin)
        other.key_passphrase = b"registry-test-passphrase"
        other.audit_checkpoint(env.admin)
        assert other.audit_verify(env.admin).intact
    finally:
        other.close()


def test_a_wrong_registry_passphrase_fails_loudly(env: Env, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWARDEN_KEY_PASSPHRASE", "not the passphrase")
    other = Registry.open(home=env.home, db_url=env.db_url, store=str(tmp_path / "store"))
    try:
        with pytest.raises(InputError, match="wrong passphrase"):
            other.record(env.admin, "test.event", "s")
    finally:
        other.close()


def test_a_readable_registry_key_is_refused(env: Env, tmp_path: Path) -> None:
    env.reg.config.key_path.chmod(0o644)
    other = Registry.open(home=env.home, db_url=env.db_url, store=str(tmp_path / "store"))
    try:
        with pytest.raises(ConfigError, match="readable by others"):
            other.record(env.admin, "test.event", "s")
    finally:
        other.close()


def _cut_middle_line(pem: bytes) -> bytes:
    lines = pem.splitlines(keepends=True)
    return b"".join(lines[:2] + lines[3:])


@pytest.mark.parametrize("damage", [
    pytest.param(lambda p: p[:200], id="truncated"),
    pytest.param(_cut_middle_line, id="line-missing"),
    pytest.param(lambda p: p.replace(b"-----END", b"=====END"), id="armour"),
    pytest.param(lambda p: p[:60] + b"*" + p[61:], id="not-base64"),
])
def test_a_corrupted_encrypted_pem_is_named_corrupted(damage: object) -> None:
    pem = private_pem(generate_private_key("P-256"), PASS)
    assert encrypted_pem_damage(pem) is None
    broken = damage(pem)  # type: ignore[operator]
    for passphrase in (PASS, b"another passphrase!"):
        with pytest.raises(InputError, match="corrupted") as info:
            parse_private_key(broken, passphrase)
        assert "wrong passphrase" not in info.value.message


def test_a_wrong_passphrase_on_an_intact_pem_is_still_a_wrong_passphrase() -> None:
    pem = private_pem(generate_private_key("P-256"), PASS)
    with pytest.raises(InputError, match="wrong passphrase"):
        parse_private_key(pem, b"another passphrase!")
    assert parse_private_key(pem, PASS) is not None


def test_the_registry_key_uses_the_key_stores_passphrase_variable() -> None:
    from mlwarden.registry import key
    from mlwarden.sign import keystore

    assert key.PASSPHRASE_ENV == keystore.PASSPHRASE_ENV
