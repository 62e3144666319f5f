"""Write files so that a crash never leaves half of one: temp file in the same directory, then rename."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from mlwarden.core.errors import InputError


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Open a temp file beside ``path`` for binary writing; rename it over ``path`` on success.

    On any exception the temp file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise InputError("is a directory; give the path of a file to write", path=target)
    try:
        import tempfile

        parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    except FileExistsError:  # mkdir met a regular file where a folder should be
        raise InputError("cannot write here: a parent of this path is a file, not a folder",
                         path=target) from None
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", path=target) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_open(path, mode) as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)
