"""Read HDF5 files' structure with h5py, in a child process: ``python -I hdf5_probe.py --serve``.

The HDF5 C library segfaults or loops on some malformed files, so the scanner never opens an
untrusted HDF5 file in its own process: it keeps this script (standard library + h5py only, no
mlwarden import) running as one child under a memory limit and a per-request timeout. Requests
on stdin and answers on stdout are frames: an 8-byte big-endian length, then the payload. A
request is a file path, ``os.fsencode``-d (absolute, so never starting with NUL), or a *window*: a
NUL byte, the offset and the length (8 bytes big-endian each), then the path: the bytes
``[offset, offset + length)`` of that file are probed as the HDF5 file, in place (an archive member
stored uncompressed), through :class:`Window`, which never reads outside them. A request over
:data:`MAX_REQUEST` bytes or not of either shape ends the child (exit 2), so the scanner reports
the probe failed. An answer is a JSON object. The child exits at EOF on stdin.
``python -I hdf5_probe.py FILE`` probes one file and writes the bare JSON object. Answer:

``{"open_error": str | null, "configs": [[where, text]], "external": [[kind, name, files]],
"pickles": [[where, base64]], "errors": [[where, message]], "truncated": bool,
"fields": [[where, base64, is_text]], "field_bytes": int, "fields_truncated": bool}``

No dataset is read; only attributes (strings that may hold Keras configs, byte strings that
PyTables — and so ``pandas.read_hdf`` — unpickles: a scalar byte string ending in ``.``, or one
starting like a protocol 2+ pickle; and every string-like attribute value, for the scanner's
embedded-payload check) and the object layout (links, external storage, virtual-dataset sources).
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import struct
import sys
from typing import Any, NoReturn

CONFIG_ATTRIBUTES = ("model_config", "training_config")
MAX_OBJECTS = 200_000
MAX_ATTRIBUTES = 1000
MAX_TEXT = 64 * 1024 * 1024
MAX_PICKLES = 1000
MAX_PICKLE_BYTES = 16 * 1024 * 1024
MAX_FIELDS = 500_000
"""String-like attribute values sent for the embedded-payload check (then ``fields_truncated``,
which the scanner reports as ``MW-EMB-001``): far above the weight names of a large Keras model."""
MAX_FIELD_BYTES = 256 * 1024 * 1024
MAX_ELEMENTS = 1_000_000
"""Elements of one attribute array sent (a longer array sets ``fields_truncated``)."""
MIN_FIELD = 8


class _Stop(Exception):
    pass


class _TooMany(Exception):
    """An attribute array with more elements than are sent: the scanner is told."""


def _as_text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, str):
        return value
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        inner = item()
        if isinstance(inner, bytes | str):
            return _as_text(inner)
    return None


def _maybe_pickle(value: object) -> bytes | None:
    """The bytes of a scalar byte-string attribute that PyTables would unpickle (it calls
    ``pickle.loads`` on any ``numpy.bytes_`` attribute ending in ``.``), or ``None``."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        value = item()
    if not isinstance(value, bytes):
        return None
    raw = value.rstrip(b"\0")
    if raw.endswith(b".") or (len(raw) > 1 and raw[0] == 0x80 and 1 <= raw[1] <= 5):
        return raw[:MAX_PICKLE_BYTES]
    return None


def _check_pickles(out: dict[str, Any], where: str, attrs: Any) -> None:
    for attr in list(attrs.keys())[:MAX_ATTRIBUTES]:
        if len(out["pickles"]) >= MAX_PICKLES:
            break
        try:
            raw = _maybe_pickle(attrs[attr])
        except Exception:  # noqa: BLE001, S112 - an unreadable attribute is not a pickle
            continue
        if raw is not None:
            out["pickles"].append([f"{where}@{attr}", base64.b64encode(raw).decode("ascii")])
    _collect_fields(out, where, attrs)


def _field_values(value: Any, path: str = "") -> list[tuple[str, bytes, bool]]:
    """``(suffix, bytes, is_text)`` of every string-like part of an attribute value: byte and
    text strings, numpy bytes/str/void (opaque) scalars, arrays of those (each element), and
    integer byte arrays (``np.frombuffer(blob, "u1")`` stored as an attribute) as one blob."""
    if isinstance(value, bytes):
        return [(path, value, False)]
    if isinstance(value, str):
        return [(path, value.encode("utf-8", "surrogateescape"), True)]
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if dtype is None or shape is None:
        return []
    kind = getattr(dtype, "kind", "")
    if kind == "V" and not getattr(dtype, "names", None):
        return [(path, value.tobytes(), False)]
    if kind in "iu" and getattr(dtype, "itemsize", 0) == 1 and len(shape) == 1:
        return [(path, value.tobytes(), False)]
    if shape == ():
        if kind in "SUOV":
            return _field_values(value.item(), path)
        return []
    if kind not in "SUOV":
        return []
    if getattr(value, "size", 0) > MAX_ELEMENTS:
        raise _TooMany
    out: list[tuple[str, bytes, bool]] = []
    for index, item in enumerate(value.reshape(-1)):
        inner = item.item() if hasattr(item, "item") and kind != "O" else item
        out.extend(_field_values(inner, f"{path}[{index}]"))
    return out


def _collect_fields(out: dict[str, Any], where: str, attrs: Any) -> None:
    """String-like attribute values for the scanner's embedded-payload check."""
    done = {entry[0] for entry in out["pickles"]}
    names = list(attrs.keys())
    if len(names) > MAX_ATTRIBUTES:
        out["fields_truncated"] = True
    for attr in names[:MAX_ATTRIBUTES]:
        name = f"{where}@{attr}"
        try:
            parts = _field_values(attrs[attr])
        except _TooMany:
            out["fields_truncated"] = True
            continue
        except Exception:  # noqa: BLE001, S112 - an unreadable attribute holds nothing to scan
            continue
        for suffix, raw, text in parts:
            if len(raw) < MIN_FIELD or (not suffix and name in done):
                continue
            if len(out["fields"]) >= MAX_FIELDS or out["field_bytes"] + len(raw) > MAX_FIELD_BYTES:
                out["fields_truncated"] = True
                return
            out["field_bytes"] += len(raw)
            out["fields"].append([name + suffix, base64.b64encode(raw).decode("ascii"), text])


class Window(io.RawIOBase):
    """A read-only file over the bytes ``[offset, offset + length)`` of an open file descriptor.

    Positions are relative to ``offset``; the end is ``length`` (``seek(0, SEEK_END)``, which is
    how h5py's file-object driver learns the file size); a read never returns a byte before
    ``offset`` or from ``offset + length`` on (``os.pread``, so nothing else moves a shared file
    position). Nothing can be written. The window owns ``fd``: :meth:`close` closes it.
    """

    def __init__(self, fd: int, offset: int, length: int) -> None:
        super().__init__()
        if offset < 0 or length < 0:
            raise ValueError("negative window")
        self._fd = fd
        self._offset = offset
        self._length = length
        self._pos = 0

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            base = 0
        elif whence == io.SEEK_CUR:
            base = self._pos
        elif whence == io.SEEK_END:
            base = self._length
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if base + pos < 0:
            raise OSError("negative seek position")
        self._pos = base + pos
        return self._pos

    def write(self, data: Any) -> int:
        raise io.UnsupportedOperation("the window is read-only")

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        size = max(0, min(len(view), self._length - self._pos))
        if size == 0:
            return 0
        data = os.pread(self._fd, size, self._offset + self._pos)
        view[:len(data)] = data
        self._pos += len(data)
        return len(data)


def open_window(path: str, offset: int, length: int) -> Window:
    """A :class:`Window` over a regular file that holds the whole range (else ``OSError``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError("not a regular file")
        if offset + length > info.st_size:
            raise OSError(f"bytes {offset}..{offset + length} are not in the file "
                          f"({info.st_size} bytes)")
        return Window(fd, offset, length)
    except BaseException:
        os.close(fd)
        raise


def probe(path: str, window: tuple[int, int] | None = None) -> dict[str, Any]:
    """Probe the file at ``path``, or only its bytes ``window`` (offset, length)."""
    out: dict[str, Any] = {"open_error": None, "configs": [], "external": [], "errors": [],
                           "pickles": [], "truncated": False, "fields": [], "field_bytes": 0,
                           "fields_truncated": False}
    if window is None:
        _probe(path, out)
        return out
    try:
        source = open_window(path, *window)
    except (OSError, ValueError) as exc:
        out["open_error"] = f"{type(exc).__name__}: {exc}"
        return out
    with source:
        _probe(source, out)
    return out


def _probe(source: str | Window, out: dict[str, Any]) -> None:
    import h5py

    try:
        handle = h5py.File(source, "r")
    except Exception as exc:  # noqa: BLE001 - h5py raises many types for hostile files
        out["open_error"] = f"{type(exc).__name__}: {exc}"
        return
    with handle:
        for name in CONFIG_ATTRIBUTES:
            try:
                if name not in handle.attrs:
                    continue
                text = _as_text(handle.attrs[name])
            except Exception as exc:  # noqa: BLE001
                out["errors"].append([f"/@{name}", f"attribute cannot be read: {exc}"])
                continue
            if text is None:
                out["errors"].append([f"/@{name}", "attribute is not a JSON string"])
            else:
                out["configs"].append([f"/@{name}", text[:MAX_TEXT + 1]])
        _check_pickles(out, "/", handle.attrs)
        count = 0

        def visit(name: str, link: Any) -> None:
            nonlocal count
            count += 1
            if count > MAX_OBJECTS:
                raise _Stop
            if isinstance(link, h5py.ExternalLink):
                out["external"].append(["external link", name,
                                        [f"{link.filename}:{link.path}"]])
                return
            if not isinstance(link, h5py.HardLink):
                return
            obj = handle.get(name)
            if obj is None:
                return
            if isinstance(obj, h5py.Dataset):
                if obj.external:
                    out["external"].append(["external storage", name,
                                            [str(e[0]) for e in obj.external][:20]])
                if obj.is_virtual:
                    files = sorted({str(s.file_name) for s in obj.virtual_sources()} - {"."})
                    if files:
                        out["external"].append(["virtual dataset", name, files[:20]])
            _check_pickles(out, f"/{name}/", obj.attrs)
            for attr in list(obj.attrs.keys())[:MAX_ATTRIBUTES]:
                try:
                    text = _as_text(obj.attrs[attr])
                except Exception:  # noqa: BLE001, S112 - an unreadable attribute is no config
                    continue
                if text is not None and text.lstrip()[:1] == "{" and "class_name" in text:
                    out["configs"].append([f"/{name}/@{attr}", text[:MAX_TEXT + 1]])

        try:
            handle.visititems_links(visit)
        except _Stop:
            out["truncated"] = True
        except Exception as exc:  # noqa: BLE001 - malformed objects fail inside h5py
            out["errors"].append(["/", f"structure cannot be read: {exc}"])


FRAME = struct.Struct(">Q")
WINDOW = struct.Struct(">QQ")
"""After the NUL of a window request: offset and length."""
MAX_REQUEST = 1 << 16


class BadRequest(Exception):
    pass


def parse_request(raw: bytes) -> tuple[str, tuple[int, int] | None]:
    """``(path, window)`` from a request payload (:class:`BadRequest` when it is neither shape)."""
    window: tuple[int, int] | None = None
    if raw[:1] == b"\0":
        if len(raw) <= 1 + WINDOW.size:
            raise BadRequest("window request too short")
        offset, length = WINDOW.unpack_from(raw, 1)
        raw = raw[1 + WINDOW.size:]
        window = (offset, length)
    if not raw or b"\0" in raw:
        raise BadRequest("request holds no path, or a NUL in the path")
    return os.fsdecode(raw), window


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _refuse(why: str) -> NoReturn:
    """End the child on a request it cannot trust (the pipe may be out of step)."""
    sys.stderr.write(f"hdf5 probe: bad request: {why}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def serve(have_h5py: bool) -> None:
    """Answer framed requests from stdin until it closes."""
    requests = sys.stdin.fileno()
    answers = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot corrupt a frame
    while True:
        header = _read_exact(requests, FRAME.size)
        if header is None:
            return
        size = FRAME.unpack(header)[0]
        if size > MAX_REQUEST:
            _refuse(f"{size} bytes (at most {MAX_REQUEST})")
        raw = _read_exact(requests, size)
        if raw is None:
            return
        try:
            path, window = parse_request(raw)
        except BadRequest as exc:
            _refuse(str(exc))
        if not have_h5py:
            result: dict[str, Any] = {"missing": "h5py"}
        elif window is None:
            result = probe(path)
        else:
            result = probe(path, window)
        body = json.dumps(result, ensure_ascii=True).encode("ascii")
        _write_all(answers, FRAME.pack(len(body)) + body)


def main() -> None:
    try:
        import h5py  # noqa: F401
    except ImportError:
        have_h5py = False
    else:
        have_h5py = True
    if sys.argv[1:] == ["--serve"]:
        serve(have_h5py)
        return
    if not have_h5py:
        sys.stdout.write(json.dumps({"missing": "h5py"}))
        return
    sys.stdout.write(json.dumps(probe(sys.argv[1]), ensure_ascii=True))


if __name__ == "__main__":
    main()
