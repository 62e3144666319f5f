"""Walking and hashing a model's files by the OpenSSF Model Signing (OMS) *files* rules.

What :mod:`mlwarden.core.identity` (the model digest) and :mod:`mlwarden.sign.manifest` (the OMS
manifest) both stand on: which files make up a model (top-level ``.git*`` paths and the signature
left out, symbolic links refused unless allowed, devices/FIFOs/sockets refused) and how one file is
hashed (one reused buffer, a file that changes while it is read is an error).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mlwarden.core.errors import InputError

DEFAULT_SIGNATURE_NAME = "model.sig"
GIT_PATHS: tuple[str, ...] = (".git", ".gitattributes", ".github", ".gitignore")
"""Top-level paths ``model_signing`` always ignores."""
HASH_ALGORITHMS: dict[str, Callable[[], Any]] = {
    "sha256": hashlib.sha256,
    "blake2b": hashlib.blake2b,
}
"""Per-resource hashes we compute. ``blake3`` signatures are reported as unsupported."""
DEFAULT_HASH = "sha256"
BUFFER = 256 << 10
"""Read size: small enough to stay in L2 cache between the read and the hash (8 MiB is ~30% slower)."""

# ---------------------------------------------------------------------------------------------
# Walking a model


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A regular file of the model: its resource name, where it is, and its size."""

    name: str
    path: Path
    size: int


def is_git_path(top: str) -> bool:
    return top.startswith(".git")


def ignored(name: str, ignore: Iterable[str]) -> bool:
    """Whether ``name`` is one of ``ignore`` or lies under one of them."""
    return any(name == p or name.startswith(p.rstrip("/") + "/") for p in ignore)


def list_model_files(model: Path, *, ignore: Iterable[str] = (),
                     allow_symlinks: bool = False) -> dict[str, ModelFile]:
    """Every regular file of ``model`` by resource name, not opening any of them.

    ``ignore`` holds names relative to the model. Symbolic links raise :class:`InputError` unless
    ``allow_symlinks``; then a link must resolve inside the model. Sockets, devices and FIFOs raise.
    """
    ignore = tuple(ignore)
    try:
        st = model.lstat()
    except FileNotFoundError:
        raise InputError("model not found", path=model) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=model) from None
    if stat.S_ISLNK(st.st_mode):
        if not allow_symlinks:
            raise InputError("the model path is a symbolic link", path=model,
                             advice="pass the real path, or allow symlinks")
        st = model.stat()
    if stat.S_ISREG(st.st_mode):
        return {".": ModelFile(".", model, st.st_size)}
    if not stat.S_ISDIR(st.st_mode):
        raise InputError("not a regular file or directory", path=model)
    root = model.resolve()
    files: dict[str, ModelFile] = {}
    stack: list[tuple[Path, str]] = [(model, "")]
    seen_dirs = {(st.st_dev, st.st_ino)}  # a followed link back to one of them is a loop
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            raise InputError(f"cannot list: {exc.strerror or exc}", path=directory) from None
        for entry in entries:
            name = prefix + entry.name
            path = Path(entry.path)
            check_utf8_name(name, path)
            if ignored(name, ignore):
                continue
            try:
                is_link = entry.is_symlink()
                if is_link:
                    if not allow_symlinks:
                        raise InputError("symbolic link in the model (refused by default)",
                                         path=path, advice="remove it, or allow symlinks")
                    try:
                        target = path.resolve(strict=True)
                    except RuntimeError:  # Python < 3.13 reports a loop this way
                        raise InputError("symbolic link loop", path=path) from None
                    if not target.is_relative_to(root):
                        raise InputError(f"symbolic link points outside the model "
                                         f"(to {target})", path=path)
                    entry_stat = path.stat()
                else:
                    entry_stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                raise InputError("dangling symbolic link or vanished file", path=path) from None
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise InputError("symbolic link loop", path=path) from None
                raise InputError(f"cannot stat: {exc.strerror or exc}", path=path) from None
            if stat.S_ISDIR(entry_stat.st_mode):
                key = (entry_stat.st_dev, entry_stat.st_ino)
                if key in seen_dirs:
                    raise InputError("symbolic link loop: it leads back to a folder already in "
                                     "the model", path=path)
                seen_dirs.add(key)
                stack.append((path, name + "/"))
            elif stat.S_ISREG(entry_stat.st_mode):
                files[name] = ModelFile(name, path, entry_stat.st_size)
            else:
                raise InputError("not a regular file or directory (device, FIFO or socket)",
                                 path=path)
    return files


def check_utf8_name(name: str, path: Path) -> None:
    """Refuse a file name that is not valid UTF-8 (resource names are UTF-8 text: OMS, JSON)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(name).decode("utf-8", "backslashreplace")
        raise InputError(f"file name is not valid UTF-8: {shown!r}", path=Path(
            os.fsencode(path).decode("utf-8", "backslashreplace")),
            advice="rename it (model file names must be UTF-8)") from None


def default_ignores(model: Path, signature: Path | None) -> tuple[str, ...]:
    """What signing ignores: top-level ``.git*`` names and the signature if it is inside."""
    names = set(GIT_PATHS)
    if model.is_dir():
        with contextlib.suppress(OSError):
            names.update(e.name for e in os.scandir(model) if is_git_path(e.name))
    if signature is not None:
        inside = relative_inside(model, signature)
        if inside is not None:
            names.add(inside)
    return tuple(sorted(names))


def relative_inside(model: Path, path: Path) -> str | None:
    """``path`` relative to ``model`` (POSIX) when it lies inside the model directory, else None."""
    if not model.is_dir():
        return None
    try:
        rel = path.absolute().resolve().relative_to(model.absolute().resolve())
    except ValueError:
        return None
    text = PurePosixPath(*rel.parts).as_posix()
    return None if text in ("", ".") else text


# ---------------------------------------------------------------------------------------------
# Hashing


def hash_file(path: Path, algorithm: str = DEFAULT_HASH, *, start: int = 0,
              end: int | None = None, expected_size: int | None = None) -> str:
    """Hex digest of the bytes ``[start, end)`` of ``path``, read through one reused buffer.

    When ``expected_size`` is given the file must still have that size after reading (a file that
    changes while it is hashed is an error, not a silently wrong digest).
    """
    h = HASH_ALGORITHMS[algorithm]()
    buffer = bytearray(BUFFER)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            if start:
                handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                want = BUFFER if remaining is None else min(BUFFER, remaining)
                n = handle.readinto(view[:want])
                if not n:
                    break
                h.update(view[:n])
                if remaining is not None:
                    remaining -= n
            if remaining:
                raise InputError(f"file shrank while hashing ({remaining} bytes short)",
                                 path=path)
            if expected_size is not None and os.fstat(handle.fileno()).st_size != expected_size:
                raise InputError("file changed size while hashing", path=path)
    except FileNotFoundError:
        raise InputError("file vanished while hashing", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return str(h.hexdigest())


def hash_workers(jobs: int) -> int:
    """Threads to hash ``jobs`` files with (hashlib releases the GIL while hashing)."""
    return max(1, min(jobs, os.cpu_count() or 1))
