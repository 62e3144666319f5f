"""The registry's own key (it signs the audit log's tree heads and checkpoints), kept encrypted.

Like the user keys of :mod:`mlwarden.sign.keystore`, the PKCS#8 PEM is encrypted with a passphrase
(``$MLWARDEN_KEY_PASSPHRASE`` or ``--passphrase-file``) and stored mode 0600. A machine without the
passphrase still works; it just cannot sign, so its entries stay an *unsigned tail* until someone
with the key runs ``mlwarden audit checkpoint``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import NoReturn

from cryptography.hazmat.primitives.asymmetric import ec

from mlwarden.core.errors import ConfigError

PASSPHRASE_ENV = "MLWARDEN_KEY_PASSPHRASE"  # noqa: S105 - the key store's variable (a test checks)

__all__ = ["PASSPHRASE_ENV", "explain_missing", "is_encrypted", "load", "passphrase"]


def passphrase(explicit: bytes | None) -> bytes | None:
    if explicit:
        return explicit
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def is_encrypted(path: Path) -> bool:
    try:
        return b"ENCRYPTED" in path.read_bytes()
    except OSError:
        return False


def load(path: Path, explicit: bytes | None) -> ec.EllipticCurvePrivateKey | None:
    """The key, or ``None`` when it is encrypted and no passphrase is at hand.

    A group/world-readable key file, a wrong passphrase or a corrupted file is an error.
    """
    from mlwarden.sign.keys import load_private_key

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(f"the registry key file is readable by others (mode {mode:04o})",
                          path=path, advice=f"chmod 600 {path}")
    secret = passphrase(explicit)
    if is_encrypted(path):
        return None if secret is None else load_private_key(path, secret)
    return load_private_key(path)


def explain_missing(path: Path) -> NoReturn:
    if path.is_file() and is_encrypted(path):
        raise ConfigError("the registry key is encrypted and no passphrase was given", path=path,
                          advice=f"set {PASSPHRASE_ENV} or use --passphrase-file")
    raise ConfigError("this machine does not hold the registry key", path=path)
