"""Builders for red-team samples: raw pickle opcodes, zips, fake third-party classes.

Nothing here ever unpickles anything. Hostile samples carry a canary payload (``touch <canary>`` or
a file created at the canary path); the test asserts the canary never appears.
"""

from __future__ import annotations

import io
import pickle
import struct
import sys
import types
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Label = Literal["malicious", "benign"]
DATE = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Case:
    """One red-team sample: ``build(folder, canary)`` writes it under ``folder``, returns its path."""

    id: str
    label: Label
    technique: str
    build: Callable[[Path, Path], Path]
    gap: str | None = None
    """Why the scanner gets this sample wrong today (the test is a strict xfail), or None."""
    review_notes: frozenset[str] = frozenset()
    """Benign samples only: rule ids whose MEDIUM findings are expected review notes here (below
    the default fail-on of high), e.g. MW-PKL-003 for a class only rebuilt by NEWOBJ + BUILD."""


# -- pickle opcodes ---------------------------------------------------------------------------

def proto(n: int) -> bytes:
    return b"\x80" + bytes([n])


def g(module: str, name: str) -> bytes:
    """GLOBAL (text opcode, any protocol)."""
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def s(text: str) -> bytes:
    """A str constant (SHORT_BINUNICODE or BINUNICODE)."""
    data = text.encode()
    if len(data) < 256:
        return b"\x8c" + bytes([len(data)]) + data
    return b"X" + struct.pack("<I", len(data)) + data


def i(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def sg(module: str, name: str) -> bytes:
    """STACK_GLOBAL of two literal strings."""
    return s(module) + s(name) + b"\x93"


MARK, TUPLE, REDUCE, STOP, BUILD, NEWOBJ, POP = b"(", b"t", b"R", b".", b"b", b"\x81", b"0"
EMPTY_DICT, EMPTY_TUPLE, SETITEM, NONE = b"}", b")", b"s", b"N"


def tup(*items: bytes) -> bytes:
    return MARK + b"".join(items) + TUPLE


def call(fn: bytes, *args: bytes) -> bytes:
    """``fn(*args)``: a callable expression, a tuple of argument expressions, REDUCE."""
    return fn + tup(*args) + REDUCE


def shell(canary: Path) -> str:
    return f"touch {canary}"


def pysrc(canary: Path) -> str:
    return f"open({str(canary)!r}, 'w').close()"


class Call:
    """Pickles as ``fn(*args)`` through the real pickler (a ``__reduce__`` naming the callable)."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return self.fn, self.args

    def __call__(self, *args: Any) -> Any:  # pragma: no cover - the pickler needs a callable
        raise RuntimeError("red-team payloads are never called")


def dumps(obj: Any, protocol: int = 4) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


# -- fake third-party classes (so the real pickler writes their real global names) -----------

@contextmanager
def fake_modules(classes: dict[str, type | Any]) -> Iterator[None]:
    """Install ``{"pkg.mod.Name": obj}`` as importable names while pickling, then remove them."""
    added: list[str] = []
    missing = object()
    previous: list[tuple[types.ModuleType, str, object]] = []
    try:
        for qual, obj in classes.items():
            module, _, name = qual.rpartition(".")
            parts = module.split(".")
            for n in range(1, len(parts) + 1):
                mod_name = ".".join(parts[:n])
                if mod_name not in sys.modules:
                    sys.modules[mod_name] = types.ModuleType(mod_name)
                    added.append(mod_name)
            target = sys.modules[module]
            previous.append((target, name, getattr(target, name, missing)))
            setattr(target, name, obj)
            if isinstance(obj, type):
                obj.__module__, obj.__qualname__ = module, name
        yield
    finally:
        for target, name, old in reversed(previous):  # a real module keeps its own attributes
            if old is missing:
                delattr(target, name)
            else:
                setattr(target, name, old)
        for mod_name in reversed(added):
            sys.modules.pop(mod_name, None)


def fake_class(name: str, base: type = object) -> type:
    return type(name, (base,), {})


# -- zips and files -----------------------------------------------------------------------------

def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_STORED,
              *, zip64: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = method
            with zf.open(info, "w", force_zip64=zip64) as out:
                out.write(data)
    return buf.getvalue()


def torch_zip(data_pkl: bytes, prefix: str = "archive",
              extra: list[tuple[str, bytes]] | None = None) -> bytes:
    """The members of a ``torch.save`` archive around ``data_pkl`` (no storages)."""
    return zip_bytes([(f"{prefix}/data.pkl", data_pkl), (f"{prefix}/byteorder", b"little"),
                      *(extra or []), (f"{prefix}/version", b"3\n"),
                      (f"{prefix}/.data/serialization_id", b"1234567890")])


def put(folder: Path, rel: str, data: bytes) -> Path:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def file_case(id_: str, label: Label, technique: str, rel: str,
              data: Callable[[Path], bytes], gap: str | None = None) -> Case:
    """A one-file sample whose bytes depend only on the canary path."""
    return Case(id_, label, technique, lambda folder, canary: put(folder, rel, data(canary)), gap)
