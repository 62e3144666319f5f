"""Read HDF5 files' structure with h5py, in a child process: ``python -I hdf5_probe.py --serve``.

The HDF5 C library segfaults or loops on some malformed files, so the scanner never opens an
untrusted HDF5 file in its own process: it keeps this script (standard library + h5py only, no
mlwarden import) running as one child under a memory limit and a per-request timeout. Requests
on stdin and answers on stdout are frames: an 8-byte big-endian length, then the payload (a
request is a file path, ``os.fsencode``-d; an answer is a JSON object). The child exits at EOF on
stdin. ``python -I hdf5_probe.py FILE`` probes one file and writes the bare JSON object. Answer:

``{"open_error": str | null, "configs": [[where, text]], "external": [[kind, name, files]],
"pickles": [[where, base64]], "errors": [[where, message]], "truncated": bool}``

No dataset is read; only attributes (strings that may hold Keras configs, byte strings that
PyTables — and so ``pandas.read_hdf`` — unpickles: a scalar byte string ending in ``.``, or one
starting like a protocol 2+ pickle) and the object layout (links, external storage,
virtual-dataset sources).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import sys
from typing import Any

CONFIG_ATTRIBUTES = ("model_config", "training_config")
MAX_OBJECTS = 200_000
MAX_ATTRIBUTES = 1000
MAX_TEXT = 64 * 1024 * 1024
MAX_PICKLES = 1000
MAX_PICKLE_BYTES = 16 * 1024 * 1024


class _Stop(Exception):
    pass


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
            return
        try:
            raw = _maybe_pickle(attrs[attr])
        except Exception:  # noqa: BLE001, S112 - an unreadable attribute is not a pickle
            continue
        if raw is not None:
            out["pickles"].append([f"{where}@{attr}", base64.b64encode(raw).decode("ascii")])


def probe(path: str) -> dict[str, Any]:
    import h5py

    out: dict[str, Any] = {"open_error": None, "configs": [], "external": [], "errors": [],
                           "pickles": [], "truncated": False}
    try:
        handle = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 - h5py raises many types for hostile files
        out["open_error"] = f"{type(exc).__name__}: {exc}"
        return out
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
    return out


FRAME = struct.Struct(">Q")


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


def serve(have_h5py: bool) -> None:
    """Answer framed requests from stdin until it closes."""
    requests = sys.stdin.fileno()
    answers = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot corrupt a frame
    while True:
        header = _read_exact(requests, FRAME.size)
        if header is None:
            return
        raw = _read_exact(requests, FRAME.unpack(header)[0])
        if raw is None:
            return
        result = probe(os.fsdecode(raw)) if have_h5py else {"missing": "h5py"}
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
