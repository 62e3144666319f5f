"""HDF5 files: legacy Keras models (``model_config`` / ``training_config``) and Keras 3 weights.

Recognised by the HDF5 signature at offset 0, 512, 1024, 2048... (after a user block). The HDF5
C library crashes on some malformed files, so h5py only ever reads an untrusted file in a child
process (:mod:`mlwarden.scan.formats.hdf5_probe`, one long-lived child per scanning process, fed
file paths over a pipe) with a per-file timeout and a memory limit; a crash, a hang or an
unreadable file is a finding, and the next file gets a fresh child. An archive member whose
bytes lie in a file as they are (stored uncompressed: ``model.weights.h5`` in a ``.keras``, see
:meth:`ScanTarget.file_range`) is probed in place, as a window on that file; any other member is
copied to a temporary file first. Without h5py the file is skipped with a reason. The Keras
configs stored as root attributes, and any other attribute holding a Keras-shaped JSON config, go
through :mod:`mlwarden.scan.formats.keras_config`.
Byte-string attributes that PyTables (``pandas.read_hdf``) would unpickle are scanned by content
as members ``attr:/path@name`` (a pickle goes to the pickle VM). External links, external raw
storage and virtual datasets that read other files are findings. No dataset is read.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import importlib.util
import json
import os
import selectors
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, ClassVar

from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.keras_config import ConfigError, parse_config, report_config
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import HDF5_SIGNATURE as SIGNATURE
from mlwarden.scan.sniff import hdf5_signature_offset

CONFIG_LIMIT = 64 * 1024 * 1024
MAX_OBJECTS = 200_000
"""Links the probe visits before it stops (a skip is recorded for the rest)."""
PROBE = Path(__file__).with_name("hdf5_probe.py")
PROBE_TIMEOUT = 120
PROBE_MEMORY = 8 * 1024**3
"""Address-space limit of the probe process (HDF5 bombs stop here, not in the scanner)."""


signature_offset = hdf5_signature_offset


class Hdf5Scanner(FormatScanner):
    """HDF5 (legacy Keras ``.h5`` and Keras 3 ``model.weights.h5``)."""

    name: ClassVar[str] = "hdf5"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 60

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if head[:8] == SIGNATURE:
            return True
        return signature_offset(target.data) is not None

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        start = signature_offset(target.data)
        if start:
            # A user block: other loaders read the file from byte 0, where it may hold a tar
            # (torch.load's legacy path), a zip or a pickle. Scan it by content as well.
            ctx.scan_nested(target.child("<hdf5-user-block>", memoryview(target.data)[:start]))
        if importlib.util.find_spec("h5py") is None:
            ctx.skip(target, "HDF5 file not checked: h5py is not installed "
                             "(pip install 'mlwarden[scan]')")
            return
        result = _run_probe(target)
        if isinstance(result, str):
            ctx.add(R.HDF_MALFORMED.finding(result, target.location()))
            ctx.skip(target, "HDF5 structure not checked: " + result)
            return
        if result.get("missing"):
            ctx.skip(target, "HDF5 file not checked: h5py is not installed")
            return
        if result.get("open_error"):
            ctx.add(R.HDF_MALFORMED.finding(
                f"HDF5 library cannot open the file: {result['open_error']}", target.location()))
            return
        for where, message in result.get("errors", []):
            ctx.add(R.HDF_MALFORMED.finding(f"{where}: {message}", target.location()))
        for where, text in result.get("configs", []):
            self._analyze(text.encode("utf-8", "surrogateescape"), where, target, ctx)
        for where, encoded in result.get("pickles", []):
            try:
                raw = base64.b64decode(encoded, validate=True)
            except (ValueError, TypeError):
                ctx.add(R.HDF_MALFORMED.finding(f"{where}: unreadable attribute from the probe",
                                                target.location()))
                continue
            ctx.scan_nested(target.child(f"attr:{where}", raw))
        self._scan_fields(result, target, ctx)
        for kind, name, files in result.get("external", []):
            ctx.add(R.HDF_EXTERNAL.finding(f"{kind} {name!r} reads {files}", target.location(),
                                           evidence={"object": name, "kind": kind,
                                                     "files": files}))
        if result.get("truncated"):
            ctx.skip(target, f"HDF5 file has more than {MAX_OBJECTS} objects; the rest were "
                             "not checked")

    @staticmethod
    def _scan_fields(result: dict[str, Any], target: ScanTarget, ctx: ScanContext) -> None:
        """String-like attribute values: pickles, archives or models stored raw or encoded."""
        from mlwarden.scan.formats.embedded import FieldScanner

        fields = FieldScanner(target, ctx, prefix="attr:")
        configs = {str(entry[0]) for entry in result.get("configs", [])}
        for entry in result.get("fields", []):
            try:
                where, encoded, is_text = entry
                if str(where) in configs:
                    continue  # a Keras config: analysed, and its fields walked, as one
                raw = base64.b64decode(encoded, validate=True)
            except (ValueError, TypeError):
                ctx.add(R.HDF_MALFORMED.finding("unreadable attribute from the probe",
                                                target.location()))
                continue
            value: str | bytes = raw
            if is_text:
                value = raw.decode("utf-8", "surrogateescape")
            fields.value(str(where), value)
        if result.get("fields_truncated"):
            fields.over.append("the file has more attribute values than the probe sends")
        fields.finish()

    @staticmethod
    def _analyze(raw: bytes, where: str, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            parsed = parse_config(raw, CONFIG_LIMIT)
        except ConfigError as exc:
            ctx.add(R.KERAS_MALFORMED.finding(f"Keras config {where}: {exc}", target.location()))
            return
        report_config(parsed, target, ctx, base=where)
        from mlwarden.scan.formats.embedded import scan_json_fields

        scan_json_fields(parsed.root, target, ctx, prefix=f"attr:{where}:")


def _limit_memory() -> None:  # pragma: no cover - runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (PROBE_MEMORY, PROBE_MEMORY))


FRAME = struct.Struct(">Q")
"""Frame header on the probe's stdin and stdout: the payload length, 8 bytes big-endian."""
WINDOW = struct.Struct(">QQ")
"""Offset and length in a window request (after its NUL byte; see :mod:`hdf5_probe`)."""
MAX_REQUEST = 1 << 16
"""The probe refuses longer requests (and exits)."""
MAX_ANSWER = 1 << 36
STDERR_TAIL = 4096


class ProbeChild:
    """The one long-lived probe process of this scanning process (see :mod:`hdf5_probe`).

    Started on the first request and reused. A request that times out kills it; one that ends
    in EOF (crash, exit) or garbage discards it; either way the next request starts a fresh one.
    """

    spawned: ClassVar[int] = 0
    """Children started by this process (tests check the reuse)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._command: list[str] = []
        self._owner = 0
        self._finalizer_pid = 0

    def prewarm(self) -> None:
        """Start the child now, without waiting for it: it imports h5py (the slow part of the
        first request) while this process scans other files. Errors surface on the request."""
        with self._lock, contextlib.suppress(OSError):
            self._ensure()

    def _ensure(self) -> None:
        command = [sys.executable, "-I", str(PROBE), "--serve"]
        if self._owner != os.getpid():  # forked: the child belongs to the parent process
            self._forget()
        if self._proc is not None and (self._command != command
                                       or self._proc.poll() is not None):
            self._stop()
        if self._proc is None:
            self._start(command)

    def request(self, path: Path, window: tuple[int, int] | None = None) -> dict[str, Any] | str:
        """Probe the file at ``path`` (absolute), or only its bytes ``window`` (offset, length)."""
        try:
            payload = _request_payload(path, window)
        except ValueError as exc:
            return f"HDF5 probe could not run: {exc}"
        with self._lock:
            try:
                self._ensure()
            except OSError as exc:
                return f"HDF5 probe could not run: {exc}"
            try:
                result = self._exchange(payload)
            except BaseException:  # e.g. KeyboardInterrupt mid-answer: never reuse a half-read pipe
                self._stop()
                raise
            if isinstance(result, str) or result.get("errors") or result.get("open_error"):
                # a failed probe, or a file the HDF5 library choked on, may have left the child's
                # library state damaged: the next file gets a fresh child
                self._stop()
            return result

    @property
    def pid(self) -> int | None:
        """The running child's process id (``None`` before the first request or after a stop)."""
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        """End the child: EOF on its stdin, then a kill if it does not leave; always reaped."""
        with self._lock:
            if self._owner == os.getpid():
                self._stop()
            else:
                self._forget()

    def _start(self, command: list[str]) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, preexec_fn=_limit_memory if sys.platform.startswith("linux") else None)
        self._command = command
        self._owner = os.getpid()
        ProbeChild.spawned += 1
        if self._finalizer_pid != self._owner:  # worker processes skip atexit; this runs there
            import multiprocessing.util

            multiprocessing.util.Finalize(self, ProbeChild.close, args=(self,), exitpriority=10)
            self._finalizer_pid = self._owner

    def after_fork(self) -> None:
        """In a forked process: let go of the parent's child at once (so EOF reaches it)."""
        self._lock = threading.Lock()
        self._forget()

    def _forget(self) -> None:
        """Drop a child inherited through fork without touching it (it is the parent's)."""
        if self._proc is not None:
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                if stream is not None:
                    stream.close()
            self._proc.returncode = 0  # never wait for or kill another process's child
        self._proc = None
        self._owner = os.getpid()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()

    def _exchange(self, payload: bytes) -> dict[str, Any] | str:
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        assert proc.stdout is not None and proc.stderr is not None
        try:
            proc.stdin.write(FRAME.pack(len(payload)) + payload)
            proc.stdin.flush()
        except OSError:
            pass  # the child is gone: its exit status says why, below
        deadline = time.monotonic() + PROBE_TIMEOUT
        answer = bytearray()
        err = bytearray()
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        open_fds = {out_fd, err_fd}
        with selectors.DefaultSelector() as sel:
            for fd in open_fds:
                sel.register(fd, selectors.EVENT_READ)
            while out_fd in open_fds:
                if len(answer) >= FRAME.size:
                    size = FRAME.unpack_from(answer)[0]
                    if size > MAX_ANSWER:
                        return "HDF5 probe gave no readable result"
                    if len(answer) >= FRAME.size + size:
                        if len(answer) > FRAME.size + size:
                            return "HDF5 probe gave no readable result"
                        return _decode(bytes(answer[FRAME.size:]))
                left = deadline - time.monotonic()
                if left <= 0:
                    proc.kill()
                    proc.wait()
                    return f"HDF5 library did not finish reading the file within {PROBE_TIMEOUT} s"
                for key, _ in sel.select(left):
                    fd = int(key.fd)
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        open_fds.discard(fd)
                        sel.unregister(fd)
                    elif fd == out_fd:
                        answer += chunk
                    else:
                        err = (err + chunk)[-STDERR_TAIL:]
        try:  # stdout closed before a whole answer: the child crashed or exited
            returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return f"HDF5 library did not finish reading the file within {PROBE_TIMEOUT} s"
        err += _drain(proc.stderr)
        if returncode < 0:
            return (f"HDF5 library crashed on this file (signal {-returncode}): a malformed or "
                    "hostile HDF5 structure")
        if returncode != 0:
            tail = bytes(err).decode("utf-8", "replace").strip().splitlines()[-1:] or ["?"]
            return f"HDF5 probe failed (exit {returncode}): {tail[0][:300]}"
        return "HDF5 probe gave no readable result"


def _request_payload(path: Path, window: tuple[int, int] | None) -> bytes:
    """A request frame's payload (``ValueError`` for a path or window the probe would refuse)."""
    raw = os.fsencode(path)
    if not os.path.isabs(raw) or b"\0" in raw:
        raise ValueError(f"not an absolute path: {path!r}")
    if window is not None:
        offset, length = window
        if not (0 <= offset < 1 << 63 and 0 <= length < 1 << 63):
            raise ValueError(f"bad window {window!r}")
        raw = b"\0" + WINDOW.pack(offset, length) + raw
    if len(raw) > MAX_REQUEST:
        raise ValueError("path too long")
    return raw


def _drain(stream: IO[bytes]) -> bytes:
    """What is left in the stderr pipe of a child that has exited (its tail)."""
    try:
        os.set_blocking(stream.fileno(), False)
        return (stream.read() or b"")[-STDERR_TAIL:]
    except (OSError, ValueError):
        return b""


def _decode(body: bytes) -> dict[str, Any] | str:
    try:
        result = json.loads(body)
    except ValueError:
        return "HDF5 probe gave no readable result"
    return result if isinstance(result, dict) else "HDF5 probe gave no readable result"


_CHILD = ProbeChild()
atexit.register(_CHILD.close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_CHILD.after_fork)


def prewarm_probe() -> None:
    """Start this process's probe child ahead of the first HDF5 file (when h5py is installed)."""
    if importlib.util.find_spec("h5py") is not None:
        _CHILD.prewarm()


def _run_probe(target: ScanTarget) -> dict[str, Any] | str:
    """Probe the target in the shared child process; a string says why it failed.

    A whole file is probed by its path; a member whose bytes lie in a file as they are
    (:meth:`ScanTarget.file_range`, which ``ScanTarget.child`` checked) as a window on that file,
    without a copy; anything else (an inflated member, bytes from memory) from a temporary copy.
    """
    temp: Path | None = None
    try:
        where = target.file_range()
        if target.fs_path is not None and target.member is None:
            path = target.fs_path
        elif where is not None:
            file, offset, length = where
            return _CHILD.request(file.absolute(), (offset, length))
        else:
            fd, name = tempfile.mkstemp(prefix="mlwarden-", suffix=".h5")
            temp = Path(name)
            with os.fdopen(fd, "wb") as fh:
                fh.write(target.data)
            path = temp
        return _CHILD.request(Path(path).absolute())
    except OSError as exc:
        return f"HDF5 probe could not run: {exc}"
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
