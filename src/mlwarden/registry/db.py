"""Engines, schema migrations and write transactions for SQLite and PostgreSQL.

Every write is one transaction. On SQLite a transaction starts with ``BEGIN IMMEDIATE`` (the write
lock is taken up front, so concurrent processes queue instead of failing halfway); on PostgreSQL the
audit log serialises appenders with a row lock on its head row (see :mod:`.audit`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from mlwarden.core.errors import ConfigError, ExitCode, MlwardenError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA_HEAD = "0003"
"""The newest migration; opening a database already there skips alembic (a test keeps it true)."""
BUSY_TIMEOUT_S = 10.0
"""How long a write waits for another client's lock before failing (``MLWARDEN_DB_LOCK_TIMEOUT``
overrides it): SQLite ``busy_timeout``, PostgreSQL ``lock_timeout``."""
STATEMENT_TIMEOUT_S = 300.0
"""PostgreSQL ``statement_timeout``: no statement runs longer."""
IDLE_IN_TRANSACTION_TIMEOUT_S = 60.0
"""PostgreSQL ``idle_in_transaction_session_timeout``: a stalled client's transaction (and its
locks) is ended by the server after this long."""
LOCK_TIMEOUT_ENV = "MLWARDEN_DB_LOCK_TIMEOUT"
READ_ONLY = "mlwarden_read_only"
_MIGRATION_LOCK = 0x6D6C7764  # "mlwd": PostgreSQL advisory lock held while migrating


class ConflictError(MlwardenError):
    """A concurrent writer won a race (a unique constraint held); the transaction rolled back."""

    exit_code = ExitCode.FINDINGS


class BusyError(ConflictError):
    """Another client held a lock for longer than the lock timeout; nothing was written."""


def lock_timeout() -> float:
    """The lock timeout in seconds (``MLWARDEN_DB_LOCK_TIMEOUT``, else :data:`BUSY_TIMEOUT_S`)."""
    value = os.environ.get(LOCK_TIMEOUT_ENV)
    if not value:
        return BUSY_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds, not {value!r}"
                          ) from None
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{LOCK_TIMEOUT_ENV} must be between 0 and 3600 seconds")
    return seconds


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (already normalised by :func:`.config.normalise_db_url`)."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[-1]
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ConfigError("cannot create the registry folder: a file is in the way",
                              path=Path(database).parent,
                              advice="point --home or --db elsewhere") from None
        except OSError as exc:
            raise ConfigError(f"cannot create the registry folder: {exc.strerror}",
                              path=database) from None
        _create_private(Path(database))
        engine = create_engine(url, connect_args={"timeout": lock_timeout()})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let us issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # Readers take a WAL snapshot and never wait for writers; writers queue up front.
            read_only = conn.get_execution_options().get(READ_ONLY, False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    return _postgres_engine(url)


def _postgres_engine(url: str) -> Engine:
    """A PostgreSQL engine whose sessions cannot wait on, or hold, a lock indefinitely."""
    engine = create_engine(url, pool_pre_ping=True)
    settings = {"lock_timeout": lock_timeout(), "statement_timeout": STATEMENT_TIMEOUT_S,
                "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT_S}

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for name, seconds in settings.items():
            cur.execute(f"SET {name} = {int(seconds * 1000)}")  # milliseconds; names are fixed
        cur.close()
        dbapi_conn.commit()

    return engine


def _create_private(database: Path) -> None:
    """Create a new SQLite database file mode 0600 (SQLite gives its -wal and -shm files the same
    mode); an existing file keeps its mode."""
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # reported by the first connection, with SQLite's own words
    os.close(fd)


def current_revision(engine: Engine) -> str | None:
    """The schema revision recorded in the database (``None`` for a new database)."""
    from sqlalchemy import inspect

    try:  # a read: on SQLite it must not take the write lock (BEGIN, not BEGIN IMMEDIATE)
        with engine.execution_options(**{READ_ONLY: True}).connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DatabaseError as exc:  # OperationalError, or "file is not a database" (not SQLite)
        raise ConfigError(f"cannot open the registry database: {_first_line(exc)}",
                          path=_safe_url(engine)) from None


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (``alembic upgrade head``), under a lock."""
    if current_revision(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except CommandError as exc:  # e.g. a revision this mlwarden does not know (a newer one)
        raise ConfigError(f"cannot migrate the registry database: {exc}", path=_safe_url(engine),
                          advice="is it the database of a newer mlwarden, or another program's?"
                          ) from None
    except DatabaseError as exc:
        raise ConfigError(f"cannot open the registry database: {_first_line(exc)}",
                          path=_safe_url(engine)) from None


def _first_line(exc: DBAPIError) -> str:
    return (str(exc.orig).strip().splitlines() or ["unknown error"])[0]


def _safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


safe_url = _safe_url


@contextlib.contextmanager
def transaction(engine: Engine, *, read_only: bool = False) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception.

    ``read_only`` transactions see one consistent snapshot and, on SQLite, do not take the write
    lock (they must not write).
    """
    bind = engine.execution_options(**{READ_ONLY: True}) if read_only else engine
    try:
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session
    except IntegrityError as exc:
        raise ConflictError(f"a concurrent change to the registry conflicted with this one "
                            f"({_first_line(exc)})", advice="nothing was written; retry") from None
    except OperationalError as exc:
        if _is_lock_timeout(exc):
            raise BusyError(f"the registry is busy: another client held a lock for more than "
                            f"{lock_timeout():g} s ({_first_line(exc)})",
                            advice=f"nothing was written; retry (the wait is "
                                   f"{LOCK_TIMEOUT_ENV} seconds)") from None
        raise ConfigError(f"registry database error: {_first_line(exc)}",
                          path=_safe_url(engine)) from None


def _is_lock_timeout(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return ("database is locked" in text or "lock timeout" in text
            or "statement timeout" in text or "database table is locked" in text)
