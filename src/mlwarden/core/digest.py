"""Content digests of files: the identity evidence binds to."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mlwarden.core.errors import InputError

CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    """``sha256:<hex>`` of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                h.update(chunk)
    except FileNotFoundError:
        raise InputError("file not found", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return "sha256:" + h.hexdigest()
