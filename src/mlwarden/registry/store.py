"""The immutable, content-addressed artifact store: ``<root>/sha256/ab/cdef…``.

Objects are named by the SHA-256 of their bytes. A write streams into a temporary object while
hashing and renames it into place, so a reader never sees half an object; every read re-hashes what
it hands out, so a tampered object is detected (:class:`VerificationError`) instead of served. The
root is a local folder by default, or any fsspec URL (``s3://bucket/prefix``) when fsspec is
installed.

Bytes are hashed once. Between local files the kernel copies them (``copy_file_range``, as
``cp`` does) and the copy is then hashed — the digest names the bytes actually stored or handed
out, not the source they came from; otherwise they are hashed while copied through one buffer.
Nothing is fsynced per file: a caller makes a batch durable with one :func:`sync_filesystem`
(``syncfs(2)`` of the file system holding the folder) before it commits the rows naming the
objects, which costs what ``cp`` + ``sync`` costs instead of one disk flush per file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mlwarden.core.errors import ConfigError, InputError, VerificationError

CHUNK = 1 << 20
COPY_BUFFER = 4 << 20


_local = threading.local()


def _buffer() -> memoryview:
    """This thread's copy buffer (allocated once: zeroing 4 MiB per small file costs more than
    copying it)."""
    view: memoryview | None = getattr(_local, "view", None)
    if view is None:
        view = _local.view = memoryview(bytearray(COPY_BUFFER))
    return view


def copy_hashing(source: IO[bytes], out: IO[bytes]) -> tuple[str, int]:
    """Copy ``source`` to ``out`` through one reused buffer, hashing the same bytes:
    ``(sha256:…, size)``."""
    h, size = hashlib.sha256(), 0
    view = _buffer()
    readinto = getattr(source, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                break
            chunk: Any = view[:n]
        else:
            chunk = source.read(COPY_BUFFER)
            if not chunk:
                break
            n = len(chunk)
        h.update(chunk)
        out.write(chunk)
        size += n
    return "sha256:" + h.hexdigest(), size


def _create(dest: Path) -> IO[bytes]:
    """``dest`` opened for writing (unbuffered); its folder is made only when missing."""
    try:
        return open(dest, "w+b", buffering=0)
    except FileNotFoundError:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return open(dest, "w+b", buffering=0)


KERNEL_STEP = 32 << 20


def copy_local_hashing(source: IO[bytes], out: IO[bytes]) -> tuple[str, int]:
    """Copy between two local files in the kernel while hashing what has landed in ``out``
    (``out`` must be open for reading too, ``w+b``): ``(sha256:…, size)``.

    A thread copies ``KERNEL_STEP`` bytes at a time (``copy_file_range``, as ``cp`` does); this
    thread hashes each step back from ``out`` as soon as it is there, so the hash overlaps the
    copy and names the bytes written, not the source. Falls back to :func:`copy_hashing` where
    the kernel cannot copy (a pipe, another file system on old kernels)."""
    try:
        src_fd, out_fd = source.fileno(), out.fileno()
    except (AttributeError, OSError, ValueError):
        return copy_hashing(source, out)
    cond = threading.Condition()
    state: dict[str, Any] = {"copied": 0, "done": False, "error": None}

    def copier() -> None:
        try:
            while n := os.copy_file_range(src_fd, out_fd, KERNEL_STEP):
                with cond:
                    state["copied"] += n
                    cond.notify()
        except OSError as exc:
            state["error"] = exc
        finally:
            with cond:
                state["done"] = True
                cond.notify()

    thread = threading.Thread(target=copier, name="mlwarden-copy", daemon=True)
    thread.start()
    h, hashed = hashlib.sha256(), 0
    view = _buffer()
    try:
        while True:
            with cond:
                while state["copied"] <= hashed and not state["done"]:
                    cond.wait()
                copied, done = state["copied"], state["done"]
            while hashed < copied:
                n = os.preadv(out_fd, [view[:min(len(view), copied - hashed)]], hashed)
                if not n:
                    raise OSError("the copy shrank while it was being hashed")
                h.update(view[:n])
                hashed += n
            if done:
                break
    finally:
        thread.join()
    if state["error"] is not None:
        if hashed:
            raise state["error"]
        return copy_hashing(source, out)
    return "sha256:" + h.hexdigest(), hashed


def sync_filesystem(path: str | Path) -> None:
    """Make everything written under ``path`` durable: ``syncfs(2)`` on Linux (that file system
    only), else ``sync``."""
    import ctypes
    import ctypes.util

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        os.sync()
        return
    try:
        libc_name = ctypes.util.find_library("c")
        syncfs = getattr(ctypes.CDLL(libc_name, use_errno=True), "syncfs", None) \
            if libc_name else None
        if syncfs is None or syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _hexof(digest: str) -> str:
    if not _DIGEST.match(digest):
        raise InputError(f"not a sha256 digest: {digest!r}")
    return digest.split(":", 1)[1]


class ArtifactStore:
    """Content-addressed blobs under ``root`` (a folder or an fsspec URL)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._fs: Any = None
        if "://" in root and not root.startswith("file://"):
            try:
                import fsspec
            except ImportError:
                raise ConfigError(f"the artifact store {root!r} needs fsspec",
                                  advice="pip install fsspec (and the backend, e.g. s3fs)") from None
            try:
                self._fs, self._base = fsspec.core.url_to_fs(root)
            except (ImportError, ValueError) as exc:
                raise ConfigError(f"cannot open the artifact store {root!r}: {exc}") from None
        else:
            self._base = root.removeprefix("file://")

    @property
    def is_local(self) -> bool:
        return self._fs is None

    def object_path(self, digest: str) -> str:
        hexd = _hexof(digest)
        return f"{self._base.rstrip('/')}/sha256/{hexd[:2]}/{hexd[2:]}"

    def exists(self, digest: str) -> bool:
        path = self.object_path(digest)
        return Path(path).is_file() if self.is_local else bool(self._fs.exists(path))

    # -- writing ---------------------------------------------------------------------------
    def put_file(self, path: str | Path) -> tuple[str, int]:
        """Store a file's bytes; returns ``(sha256:…, size)``."""
        try:
            with open(path, "rb") as handle:
                return self._put_stream(handle)
        except FileNotFoundError:
            raise InputError("file not found", path=path) from None
        except IsADirectoryError:
            raise InputError("is a directory, expected a file", path=path) from None
        except PermissionError as exc:
            raise InputError(f"cannot read: {exc.strerror}", path=path) from None

    def put_bytes(self, data: bytes) -> str:
        import io

        return self._put_stream(io.BytesIO(data))[0]

    def _put_stream(self, source: IO[bytes]) -> tuple[str, int]:
        if self.is_local:
            return self._put_local(source)
        return self._put_remote(source)

    def _put_local(self, source: IO[bytes]) -> tuple[str, int]:
        tmp_dir = Path(self._base) / "tmp"
        try:
            tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        except OSError as exc:
            raise ConfigError(f"cannot write to the artifact store: {exc.strerror or exc}",
                              path=self._base) from None
        try:
            with os.fdopen(fd, "w+b", buffering=0) as out:
                digest, size = copy_local_hashing(source, out)
            target = Path(self.object_path(digest))
            if target.is_file() and self._hash_local(target) == digest:
                os.unlink(tmp)
                return digest, size
            target.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)  # also replaces a corrupted object with the verified bytes
            return digest, size
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _put_remote(self, source: IO[bytes]) -> tuple[str, int]:
        tmp = f"{self._base.rstrip('/')}/tmp/put-{secrets.token_hex(8)}"  # noqa: S108 - in the store
        h, size = hashlib.sha256(), 0
        with self._fs.open(tmp, "wb") as out:
            while chunk := source.read(CHUNK):
                h.update(chunk)
                size += len(chunk)
                out.write(chunk)
        digest = "sha256:" + h.hexdigest()
        target = self.object_path(digest)
        if self._fs.exists(target):
            self._fs.rm(tmp)
        else:
            self._fs.mv(tmp, target)
        return digest, size

    # -- reading ---------------------------------------------------------------------------
    @staticmethod
    def _hash_local(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                h.update(chunk)
        return "sha256:" + h.hexdigest()

    @contextlib.contextmanager
    def _open(self, digest: str) -> Iterator[IO[bytes]]:
        path = self.object_path(digest)
        try:
            handle: IO[bytes] = open(path, "rb") if self.is_local else self._fs.open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise VerificationError(f"store object {digest} is missing",
                                    path=path, advice="the artifact store was tampered with "
                                                      "or is not the registry's store") from None
        with handle:
            yield handle

    def read_verified(self, digest: str, *, limit: int = 64 << 20) -> bytes:
        """The bytes of a small object (a manifest), after checking they hash to ``digest``."""
        with self._open(digest) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise VerificationError(f"store object {digest} is larger than expected")
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise VerificationError(f"store object {digest} was tampered with: its bytes no "
                                    "longer hash to its name", path=self.object_path(digest))
        return data

    def sync(self) -> None:
        """Make every object written so far durable (one ``syncfs``, see the module docstring)."""
        if self.is_local and Path(self._base).is_dir():
            sync_filesystem(self._base)

    def copy_out(self, digest: str, dest: Path) -> int:
        """Write the object to ``dest`` while hashing; a mismatch removes ``dest`` and raises.

        Not fsynced: the caller syncs the batch (:func:`sync_filesystem`) before using it."""
        try:
            with self._open(digest) as src, _create(dest) as out:
                got, size = (copy_local_hashing if self.is_local else copy_hashing)(src, out)
        except BaseException:
            with contextlib.suppress(OSError):
                dest.unlink()
            raise
        if got != digest:
            dest.unlink()
            raise VerificationError(f"store object {digest} was tampered with: its bytes no "
                                    "longer hash to its name", path=self.object_path(digest),
                                    advice="refusing to hand it out; restore it from a backup "
                                           "or push the model again")
        return size
