"""Availability (issue 13): reads take no write lock, a write waits at most the lock timeout, a
stalled (SIGSTOP) client cannot hold the others, and a denied action is audited even when it
fails early. SQLite and PostgreSQL both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlwarden.core.errors import DeniedError
from mlwarden.registry.db import BusyError
from mlwarden.registry.service import Registry

from .conftest import Env

TIMEOUT = 1.5

_HOLDER = """
import sys, time
from mlwarden.registry import audit
from mlwarden.registry.service import Registry
reg = Registry.open(home=sys.argv[2], db_url=sys.argv[1], store=sys.argv[3])
with reg.transaction() as s:
    audit._lock_head(s)  # the write lock every appender needs (BEGIN IMMEDIATE on SQLite)
    print("locked", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def stalled(env: Env, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A client that took the write lock and was then stopped (SIGSTOP) mid-transaction."""
    script = tmp_path / "holder.py"
    script.write_text(_HOLDER)
    proc = subprocess.Popen([sys.executable, str(script), env.db_url, str(env.home),
                             str(tmp_path / "store")], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        os.kill(proc.pid, signal.SIGSTOP)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _client(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    monkeypatch.setenv("MLWARDEN_DB_LOCK_TIMEOUT", str(TIMEOUT))
    return Registry.open(home=env.home, db_url=env.db_url, store=str(tmp_path / "store"))


def test_a_stalled_client_cannot_hold_the_others(env: Env, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 stalled: subprocess.Popen[str]) -> None:
    other = _client(env, tmp_path, monkeypatch)
    try:
        start = time.monotonic()  # opening and reading take no write lock
        who = other.authenticate(env.admin_token)
        assert other.list_versions(who) == []
        assert time.monotonic() - start < TIMEOUT
        start = time.monotonic()
        with pytest.raises(BusyError, match="the registry is busy") as info:
            other.record(who, "test.event", "s")
        waited = time.monotonic() - start
        assert waited < TIMEOUT + 3, waited
        assert "nothing was written" in (info.value.advice or "")
    finally:
        other.close()
    os.kill(stalled.pid, signal.SIGKILL)
    stalled.wait()
    again = _client(env, tmp_path, monkeypatch)
    try:
        again.record(env.admin, "test.event", "after")  # the lock went with the client
        assert again.audit_verify(env.admin).intact
    finally:
        again.close()


def test_opening_the_registry_takes_no_write_lock(env: Env, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  stalled: subprocess.Popen[str]) -> None:
    start = time.monotonic()
    other = _client(env, tmp_path, monkeypatch)
    try:
        assert other.audit_records(env.admin) is not None
        assert [r.seq for r in other.audit_records(env.admin)][:1] == [1]
    finally:
        other.close()
    assert time.monotonic() - start < TIMEOUT


def test_a_readers_denied_revoke_is_quick_and_audited(env: Env) -> None:
    reader, _ = env.user("rita", "reader")
    start = time.monotonic()
    with pytest.raises(DeniedError):
        env.reg.revoke_token(reader, env.admin.token_id or "")
    assert time.monotonic() - start < 5
    denied = [r for r in env.reg.audit_records(env.admin) if r.action == "access.denied"]
    assert [r.actor for r in denied] == ["rita"]
    assert env.reg.authenticate(env.admin_token).name == env.admin.name  # not revoked


def test_a_denial_inside_a_write_is_audited_after_the_rollback(env: Env) -> None:
    with pytest.raises(DeniedError, match="own admin role"):
        env.reg.set_roles(env.admin, env.admin.name, frozenset({"reader"}))
    denied = [r for r in env.reg.audit_records(env.admin) if r.action == "access.denied"]
    assert len(denied) == 1 and denied[0].actor == env.admin.name
    assert "own admin role" in denied[0].details["message"]
    assert env.reg.audit_verify(env.admin).intact
