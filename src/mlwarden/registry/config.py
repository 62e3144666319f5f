"""Where the registry lives: the home folder (``MLWARDEN_HOME``) and the database URL (``MLWARDEN_DB``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlwarden.core.errors import ConfigError
from mlwarden.core.home import home_folder

SUPPORTED_DIALECTS = ("sqlite", "postgresql")


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    """The resolved location of a registry: its home folder, database URL and artifact store."""

    home: Path
    db_url: str
    store_url: str

    @property
    def key_path(self) -> Path:
        """The registry's ECDSA private key (signs audit checkpoints), kept apart from the signing
        key store under ``keys/`` so the two never mix."""
        return self.home / "registry" / "checkpoint-key.pem"

    @property
    def public_key_path(self) -> Path:
        """The registry's public key pinned outside the database: ``audit verify`` trusts this file
        (or ``--key``), never the copy in the database."""
        return self.home / "registry" / "checkpoint-key.pub"


resolve_home = home_folder
"""The state folder (:func:`mlwarden.core.home.home_folder`, the one resolver)."""


def normalise_db_url(url: str) -> str:
    """Validate a database URL; ``postgresql://`` means the psycopg (3) driver.

    Raises :class:`ConfigError` (exit 2) naming the problem for anything unusable.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a database URL: {url!r}",
                          advice="use sqlite:///path/registry.db or "
                                 "postgresql+psycopg://user@host:5432/db") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise ConfigError(f"unsupported database {backend!r} in {parsed.render_as_string()!r}",
                          advice="the registry runs on SQLite or PostgreSQL")
    if backend == "postgresql" and parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "postgresql" and parsed.drivername != "postgresql+psycopg":
        raise ConfigError(f"unsupported PostgreSQL driver {parsed.drivername!r}",
                          advice="use postgresql+psycopg://…")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError("an in-memory SQLite database cannot hold a registry",
                          advice="give a file: sqlite:///path/registry.db")
    return parsed.render_as_string(hide_password=False)


def resolve(home: str | Path | None = None, db: str | None = None,
            store: str | None = None) -> RegistryConfig:
    """The registry location from arguments, then the environment, then ``./.mlwarden``."""
    home_path = resolve_home(home)
    url = db or os.environ.get("MLWARDEN_DB")
    url = normalise_db_url(url) if url else f"sqlite:///{(home_path / 'registry.db').resolve()}"
    store_url = store or os.environ.get("MLWARDEN_STORE") or str((home_path / "store").resolve())
    return RegistryConfig(home=home_path, db_url=url, store_url=store_url)
