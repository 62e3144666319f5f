"""Registry fixtures: every registry test runs on SQLite and on the real PostgreSQL server.

PostgreSQL tests get a uniquely named schema per test (dropped afterwards) on the server at
127.0.0.1:5432 (user postgres, database test); when the server is unreachable they are skipped
with the reason, so a run without PostgreSQL says what it skipped (``MLWARDEN_TEST_PG_DSN`` replaces
the DSN of that reachability check, e.g. to see the skip).
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlwarden.cli.main import run
from mlwarden.registry.auth import Principal
from mlwarden.registry.service import Registry

PG_DSN = os.environ.get("MLWARDEN_TEST_PG_DSN",
                        "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
_pg_error: str | None = None
_pg_checked = False


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None."""
    global _pg_checked, _pg_error
    if not _pg_checked:
        _pg_checked = True
        try:
            import psycopg

            with psycopg.connect(PG_DSN) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - any failure means "skip, and say why"
            _pg_error = f"PostgreSQL test server ({PG_DSN}) unreachable: {type(exc).__name__}: {exc}"
    return _pg_error


@pytest.fixture(autouse=True)
def _registry_key_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry key is encrypted at rest: every registry test (and its child processes) has
    the passphrase, as a deployment sets ``MLWARDEN_KEY_PASSPHRASE``."""
    monkeypatch.setenv("MLWARDEN_KEY_PASSPHRASE", "registry-test-passphrase")


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    import psycopg

    schema = f"mlw_test_{secrets.token_hex(6)}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


BACKENDS = [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", BACKENDS, indirect=True)


@dataclass
class Env:
    reg: Registry
    home: Path
    db_url: str
    admin: Principal
    admin_token: str

    def user(self, name: str, *roles: str) -> tuple[Principal, str]:
        code = self.reg.invite(self.admin, name, frozenset(roles))
        _, token = self.reg.enrol(code)
        return self.reg.authenticate(token), token


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> Iterator[Env]:
    home = tmp_path / "home"
    reg = Registry.open(home=home, db_url=db_url, store=str(tmp_path / "store"))
    token = reg.init("root")
    try:
        yield Env(reg, home, db_url, reg.authenticate(token), token)
    finally:
        reg.close()


CliRun = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> CliRun:
    def invoke(*args: str, env: dict[str, str] | None = None,
               check: bool = False) -> subprocess.CompletedProcess[str]:
        with monkeypatch.context() as m:
            m.chdir(tmp_path)
            for key in ("MLWARDEN_HOME", "MLWARDEN_DB", "MLWARDEN_TOKEN"):
                m.delenv(key, raising=False)
            for key, value in (env or {}).items():
                m.setenv(key, value)
            capsys.readouterr()
            code = run(list(args))
            captured = capsys.readouterr()
        proc = subprocess.CompletedProcess(list(args), code, captured.out, captured.err)
        if check and code != 0:
            raise AssertionError(f"exit {code}\n{captured.out}\n{captured.err}")
        return proc

    return invoke


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "mwhome"
