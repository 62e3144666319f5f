"""The local key store: ``$MLWARDEN_HOME/keys`` (default ``./.mlwarden/keys``).

Each key is two files: ``NAME.key``, the PKCS#8 private key encrypted with a passphrase (mode 0600),
and ``NAME.pub``, the public key (mode 0644); the directory is mode 0700. Passphrases come from a
file, the ``MLWARDEN_KEY_PASSPHRASE`` environment variable, or a prompt, and are never logged or
written anywhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from mlwarden.core.atomic import atomic_write_bytes
from mlwarden.core.errors import ConfigError, InputError, UsageError
from mlwarden.core.home import home_folder
from mlwarden.sign.keys import (
    MIN_PASSPHRASE,
    curve_name,
    generate_private_key,
    key_id,
    load_private_key,
    load_public_key,
    private_pem,
    public_pem,
)

PASSPHRASE_ENV = "MLWARDEN_KEY_PASSPHRASE"  # noqa: S105 - a variable name, not a secret
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


home = home_folder
"""The state folder (:func:`mlwarden.core.home.home_folder`, the one resolver)."""


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"key name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit")
    return name


def read_passphrase(*, passphrase_file: Path | None = None,
                    prompt: Callable[[], str] | None = None) -> bytes:
    """The passphrase from ``passphrase_file``, else the environment, else ``prompt()``."""
    if passphrase_file is not None:
        try:
            text = passphrase_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError("passphrase file not found", path=passphrase_file) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read passphrase file: {exc}", path=passphrase_file) from None
        value = text.rstrip("\r\n")
    elif os.environ.get(PASSPHRASE_ENV):
        value = os.environ[PASSPHRASE_ENV]
    elif prompt is not None:
        value = prompt()
    else:
        raise UsageError("a passphrase is needed", advice=f"use --passphrase-file or set "
                                                          f"{PASSPHRASE_ENV}")
    if len(value) < MIN_PASSPHRASE:
        raise UsageError(f"passphrase too short (at least {MIN_PASSPHRASE} characters)")
    return value.encode("utf-8")


@dataclass(frozen=True)
class StoredKey:
    name: str
    keyid: str
    curve: str
    created: dt.datetime
    private_path: Path
    public_path: Path

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "keyid": self.keyid, "curve": self.curve,
                "created": self.created.isoformat(), "public_key": str(self.public_path)}


@dataclass(frozen=True)
class KeyStore:
    root: Path

    @classmethod
    def open(cls, explicit_home: str | Path | None = None) -> KeyStore:
        return cls(home(explicit_home) / "keys")

    def _ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.root, 0o700)
        except OSError as exc:
            raise ConfigError(f"cannot create the key store: {exc.strerror or exc}",
                              path=self.root) from None

    def private_path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.key"

    def public_path(self, name: str) -> Path:
        return self.root / f"{check_name(name)}.pub"

    def generate(self, name: str, passphrase: bytes, curve: str = "P-256",
                 *, overwrite: bool = False) -> StoredKey:
        private = self.private_path(name)
        if private.exists() and not overwrite:
            raise UsageError(f"key {name!r} already exists", path=private,
                             advice="choose another name")
        self._ensure()
        key = generate_private_key(curve)
        atomic_write_bytes(private, private_pem(key, passphrase), mode=0o600)
        atomic_write_bytes(self.public_path(name), public_pem(key.public_key()), mode=0o644)
        return self.get(name)

    def get(self, name: str) -> StoredKey:
        public = self.public_path(name)
        private = self.private_path(name)
        if not public.is_file():
            known = ", ".join(k.name for k in self.list()) or "none"
            raise InputError(f"no key named {name!r} in the key store (keys: {known})",
                             path=self.root, advice="create one with 'mlwarden keys generate'")
        key = load_public_key(public)
        created = dt.datetime.fromtimestamp(public.stat().st_mtime, dt.UTC)
        return StoredKey(name, key_id(key), curve_name(key), created, private, public)

    def list(self) -> list[StoredKey]:
        if self.root.exists() and not self.root.is_dir():
            raise ConfigError("the key store is not a folder", path=self.root)
        if self.root.parent.exists() and not self.root.parent.is_dir():
            raise ConfigError("the mlwarden home is not a folder", path=self.root.parent)
        if not self.root.is_dir():
            return []
        keys = []
        for public in sorted(self.root.glob("*.pub")):
            try:
                keys.append(self.get(public.stem))
            except (InputError, UsageError):
                continue
        return keys

    def private_key(self, name: str, passphrase: bytes) -> ec.EllipticCurvePrivateKey:
        path = self.private_path(name)
        if not path.is_file():
            self.get(name)  # names the known keys
            raise InputError(f"key {name!r} has no private key here", path=path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"private key file is readable by others (mode {mode:04o})",
                              path=path, advice=f"chmod 600 {path}")
        return load_private_key(path, passphrase)

    def export_public(self, name: str) -> bytes:
        """The public key's PEM (private keys are never exported)."""
        return public_pem(load_public_key(self.get(name).public_path))


def check_key_file_hygiene(path: Path, data: bytes) -> None:
    """Refuse a private key file that is readable by group/others or not encrypted (a ``--key``
    PEM; ``--allow-insecure-key`` skips this)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"private key file is readable by others (mode {mode:04o})", path=path,
                          advice=f"chmod 600 {path}, or pass --allow-insecure-key")
    if b"ENCRYPTED" not in data:
        raise ConfigError("private key file is not encrypted", path=path,
                          advice="encrypt it (openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY), or "
                                 "pass --allow-insecure-key")


def resolve_private_key(key: str | Path, *, passphrase_file: Path | None = None,
                        prompt: Callable[[], str] | None = None,
                        explicit_home: str | Path | None = None,
                        allow_insecure: bool = False) -> ec.EllipticCurvePrivateKey:
    """The private key that ``--key`` names, the same for every command that signs (``sign``,
    ``train``, ``keys``): an existing file is a PEM private key (its passphrase asked for only if
    it is encrypted; an unencrypted or group/world-readable file is refused unless
    ``allow_insecure``); otherwise a plain name is a key in the key store (named before any
    passphrase is asked for); anything else is a missing file."""
    from mlwarden.sign.keys import load_private_key

    path = Path(key)
    if path.is_file():
        data = path.read_bytes()
        passphrase = None
        if b"ENCRYPTED" in data:
            passphrase = read_passphrase(passphrase_file=passphrase_file, prompt=prompt)
        elif passphrase_file is not None:
            raise UsageError("--passphrase-file given but the key is not encrypted", path=path)
        loaded = load_private_key(path, passphrase)
        if not allow_insecure:
            check_key_file_hygiene(path, data)
        return loaded
    if len(path.parts) != 1 or not _NAME.match(str(key)):
        raise InputError("key file not found", path=path,
                         advice="give a PEM private key or a key-store name")
    store = KeyStore.open(explicit_home)
    store.get(str(key))  # an unknown name is named, with the known ones, before any passphrase
    return store.private_key(str(key), read_passphrase(passphrase_file=passphrase_file,
                                                       prompt=prompt))
