"""The real loaders as test oracles, run in a child process with CPU-time and memory limits.

Each question runs a loader's own *reading* code — numpy's header reader, joblib's compressor
detection and decompressing file objects, ``zipfile``/``tarfile``/``py7zr``/``gzip``/``bz2``/
``lzma``, torch's ``PyTorchFileReader`` — on bytes sent by the test, and never anything that
unpickles for real: no ``np.load(allow_pickle=True)``, no ``joblib.load``, no ``torch.load``. The
one question that runs an unpickler (joblib's, for its inline arrays) resolves only numpy/joblib
data constructors and replaces every other global with an inert stand-in that records the call.
The answers are what the scanner must agree with (see ``test_*_parity.py``). Streams come back as
their SHA-256 and length, so a large decompressed stream costs no pipe traffic.

The child is started once per test module (``Oracle`` is a context manager) and speaks JSON lines;
a question that overruns the time limit kills the child (it is started again for the next one).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

MEMORY_LIMIT = 3 * 1024**3
"""Address-space limit of the oracle process (torch maps much virtual memory when imported)."""
QUESTION_MEMORY = 1024**3
"""Address-space limit while answering a question other than torch's: joblib's zlib reader spins
allocating on bytes after the end of a stream until memory runs out."""
CPU_SECONDS = 600
ANSWER_TIMEOUT = 60.0
"""Seconds one question may take."""
MAX_STREAM = 64 * 1024 * 1024
"""Decompressed bytes an oracle reads from one stream before it stops (bombs)."""

_ROOT = Path(__file__).resolve().parents[2]


def digest(data: bytes) -> list[object]:
    return [hashlib.sha256(data).hexdigest(), len(data)]


# --------------------------------------------------------------------------- questions (child side)


def _npy_header(data: bytes) -> dict[str, Any]:
    """``read_magic`` + ``_check_version`` + ``_read_array_header`` with ``max_header_size`` as
    ``np.load(allow_pickle=True)`` sets it; where an object dtype would be unpickled from."""
    from numpy.lib import _format_impl as fmt

    fp = io.BytesIO(data)
    version = fmt.read_magic(fp)
    fmt._check_version(version)
    shape, fortran, dtype = fmt._read_array_header(fp, version, max_header_size=2**64)
    return {"shape": list(shape), "fortran_order": fortran, "hasobject": bool(dtype.hasobject),
            "itemsize": int(dtype.itemsize), "data_offset": fp.tell()}


def _np_load_kind(data: bytes) -> dict[str, Any]:
    """Which reader ``numpy.load`` picks for these bytes (its own sniffing, read from its
    source: zip prefixes, the npy magic, anything else pickle)."""
    import numpy as np

    magic = data[:len(np.lib.format.MAGIC_PREFIX)]
    if magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return {"kind": "npz"}
    if magic == np.lib.format.MAGIC_PREFIX:
        return {"kind": "npy"}
    return {"kind": "pickle"}


def _read_limited(fileobj: Any) -> bytes:
    out = bytearray()
    while len(out) < MAX_STREAM:
        chunk = fileobj.read(1 << 20)
        if not chunk:
            break
        out += chunk
    return bytes(out)


def _joblib_stream(data: bytes) -> dict[str, Any]:
    """The bytes ``joblib.load`` hands to its unpickler: the compressor its magic sniffing picks
    and that compressor's file object behind joblib's own buffer, read to the end (or
    ``read_zfile`` for ``ZF`` files). When the reader fails, the bytes it delivered before are
    the answer (the unpickler has run on them) and ``error`` names the failure."""
    from joblib import numpy_pickle_compat, numpy_pickle_utils
    from joblib.compressor import _COMPRESSORS

    name = numpy_pickle_utils._detect_compressor(io.BytesIO(data))
    fileobj = io.BytesIO(data)
    if name == "compat":
        return {"compressor": name, "stream": digest(numpy_pickle_compat.read_zfile(fileobj))}
    if name == "not-compressed":
        return {"compressor": name, "stream": digest(data)}
    reader = numpy_pickle_utils._buffered_read_file(_COMPRESSORS[name].decompressor_file(fileobj))
    out = bytearray()
    try:
        while len(out) < MAX_STREAM:
            chunk = reader.read1(1 << 16)
            if not chunk:
                break
            out += chunk
    except Exception as exc:  # noqa: BLE001 - the partial stream is the answer
        return {"compressor": name, "stream": digest(bytes(out)), "error": type(exc).__name__}
    return {"compressor": name, "stream": digest(bytes(out))}


def _stream(data: bytes, codec: str) -> dict[str, Any]:
    """``gzip``/``bz2``/``lzma``/``zstd`` file objects read to the end (partial bytes kept on
    error)."""
    import bz2
    import gzip
    import lzma

    openers: dict[str, Any] = {"gzip": gzip.GzipFile, "bz2": bz2.BZ2File, "lzma": lzma.LZMAFile}
    if codec == "zstd":
        try:
            from compression import zstd  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,unused-ignore,no-redef]
        openers["zstd"] = zstd.ZstdFile
    opener = openers[codec]
    out = bytearray()
    try:
        with opener(fileobj=io.BytesIO(data)) if codec == "gzip" else \
                opener(io.BytesIO(data)) as f:  # type: ignore[operator]
            while len(out) < MAX_STREAM:
                chunk = f.read(1 << 16)
                if not chunk:
                    break
                out += chunk
    except Exception as exc:  # noqa: BLE001
        return {"stream": digest(bytes(out)), "error": type(exc).__name__}
    return {"stream": digest(bytes(out))}


def _zip_members(data: bytes) -> dict[str, Any]:
    import zipfile

    members: list[list[object]] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            try:
                members.append([info.filename, *digest(zf.read(info)[:MAX_STREAM])])
            except Exception as exc:  # noqa: BLE001 - an unreadable member is reported as such
                members.append([info.filename, None, type(exc).__name__])
    return {"members": members}


def _tar_members(data: bytes) -> dict[str, Any]:
    """``tarfile.open(mode='r:*')`` (compression autodetected) and every regular member."""
    import tarfile

    members: list[list[object]] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        for info in tf:
            if info.isreg():
                handle = tf.extractfile(info)
                assert handle is not None
                members.append([info.name, *digest(handle.read()[:MAX_STREAM])])
    return {"members": members}


def _seven_zip_members(data: bytes) -> dict[str, Any]:
    """``py7zr`` extracting into memory: every product in order, duplicates included."""
    import py7zr
    from py7zr.io import BytesIOFactory

    class AllProducts(BytesIOFactory):
        def __init__(self, limit: int) -> None:
            super().__init__(limit)
            self.made: list[tuple[str, Any]] = []

        def create(self, filename: str) -> Any:
            product = super().create(filename)
            self.made.append((filename, product))
            return product

    factory = AllProducts(MAX_STREAM)
    with py7zr.SevenZipFile(io.BytesIO(data), mode="r") as archive:
        archive.extractall(factory=factory)
    members = []
    for name, product in factory.made:
        product.seek(0)
        members.append([name, *digest(product.read())])
    return {"members": members}


def _torch_records(data: bytes) -> dict[str, Any]:
    """torch's own zip reader (miniz, the one ``torch.load`` uses): every record, no unpickling."""
    import tempfile

    import torch

    with tempfile.NamedTemporaryFile(prefix="mlwarden-oracle-", suffix=".pt") as handle:
        handle.write(data)
        handle.flush()
        reader = torch._C.PyTorchFileReader(handle.name)
        records = []
        for name in reader.get_all_records():
            try:
                records.append([name, *digest(bytes(reader.get_record(name)))])
            except Exception as exc:  # noqa: BLE001
                records.append([name, None, type(exc).__name__])
    return {"records": records}


_REAL_GLOBALS = frozenset({
    "numpy.dtype", "numpy.ndarray", "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct", "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar", "joblib.numpy_pickle.NumpyArrayWrapper",
    "builtins.list", "builtins.dict", "builtins.tuple", "builtins.set", "builtins.frozenset",
    "builtins.int", "builtins.float", "builtins.complex", "builtins.bool", "builtins.str",
    "builtins.bytes", "builtins.bytearray", "builtins.object", "copyreg._reconstructor",
    "numpy.int64", "numpy.float32", "numpy.float64", "numpy.object_", "numpy.int32",
})
"""Globals the inert joblib load resolves for real: data constructors only."""


def _joblib_load_inert(data: bytes, mmap_mode: str | None = None) -> dict[str, Any]:
    """``joblib.load``'s own unpickler (``NumpyUnpickler``, inline arrays and all) on a
    decompressed joblib stream, with every global outside ``_REAL_GLOBALS`` replaced by an inert
    stand-in that records being called. The answer lists the stand-ins called: what the real
    load would have run. ``mmap_mode`` is ``joblib.load``'s (the file is written to a temporary
    file, which joblib memory-maps arrays from)."""
    from joblib import numpy_pickle

    called: list[str] = []

    class Inert:
        qualname = "?"

        def __new__(cls, *args: object, **kwargs: object) -> Inert:
            called.append(cls.qualname)
            _progress(f"called {cls.qualname}")  # survives a crash later in the load
            return object.__new__(cls)

        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __setstate__(self, state: object) -> None:
            pass

    class Unpickler(numpy_pickle.NumpyUnpickler):
        def find_class(self, module: str, name: str) -> Any:
            if f"{module}.{name}" in _REAL_GLOBALS:
                return super().find_class(module, name)
            return type(name, (Inert,), {"qualname": f"{module}.{name}"})

    import tempfile

    error = None
    with tempfile.NamedTemporaryFile(prefix="mlwarden-oracle-", suffix=".joblib") as handle:
        handle.write(data)
        handle.flush()
        with open(handle.name, "rb") as fileobj:  # joblib memory-maps by file name
            try:
                Unpickler(handle.name, fileobj, ensure_native_byte_order=False,
                          mmap_mode=mmap_mode).load()
            except Exception as exc:  # noqa: BLE001 - the calls made before it still count
                error = type(exc).__name__
    return {"called": called, "error": error}


_QUESTIONS = {"npy_header": _npy_header, "np_load_kind": _np_load_kind,
              "joblib_stream": _joblib_stream, "stream": _stream, "zip_members": _zip_members,
              "tar_members": _tar_members, "torch_records": _torch_records,
              "joblib_load_inert": _joblib_load_inert, "seven_zip_members": _seven_zip_members}


_OUT: list[Any] = []
"""The child's answer channel (set by :func:`serve`)."""


def _progress(line: str) -> None:
    """A line the client collects before the answer: a later crash does not lose it."""
    if _OUT:
        _OUT[0].write(line + "\n")
        _OUT[0].flush()


def serve() -> None:
    """The child's loop: one JSON question per line in, one JSON answer per line out."""
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    warnings.simplefilter("ignore")
    out = sys.stdout
    _OUT.append(out)
    sys.stdout = sys.stderr  # nothing a loader prints may corrupt the answers
    for line in sys.stdin:
        question = json.loads(line)
        kwargs = question.get("kwargs", {})
        soft = MEMORY_LIMIT if question["ask"] == "torch_records" else QUESTION_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (soft, MEMORY_LIMIT))
        try:
            answer = _QUESTIONS[question["ask"]](base64.b64decode(question["data"]), **kwargs)
            answer["ok"] = True
        except BaseException as exc:  # noqa: BLE001 - the loader's refusal is an answer too
            answer = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()


# --------------------------------------------------------------------------- client (test side)


class Oracle:
    """The oracle child process; ask it with :meth:`ask`."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None
        self._pending = b""

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        return subprocess.Popen(
            [sys.executable, "-c", "from tests.scan.loader_oracle import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=env, cwd=str(_ROOT))

    def ask(self, question: str, data: bytes, **kwargs: object) -> dict[str, Any]:
        """The loader's answer; ``{"ok": False, "error": ...}`` when it refuses the bytes, or
        ``{"ok": False, "error": "timeout or crash"}`` when it does not answer in time."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
            self._pending = b""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        line = json.dumps({"ask": question, "data": base64.b64encode(data).decode(),
                           "kwargs": kwargs})
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        called: list[str] = []
        while True:
            answer = self._line()
            if answer is None:
                self.close()
                return {"ok": False, "error": "timeout or crash", "called": called}
            if answer.startswith("called "):
                called.append(answer[len("called "):])
                continue
            result: dict[str, Any] = json.loads(answer)
            return result

    def _line(self) -> str | None:
        """The child's next line, or ``None`` when it does not come in time (read from the pipe
        with ``os.read``: a buffered reader would hold lines ``select`` cannot see)."""
        import select

        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._pending:
            ready, _, _ = select.select([fd], [], [], ANSWER_TIMEOUT)
            chunk = os.read(fd, 1 << 16) if ready else b""
            if not chunk:
                return None
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode()

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
