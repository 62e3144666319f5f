"""NumPy ``.npy`` files (``.npz`` archives are zips of them and reach here member by member).

The header is a Python dict literal; it is evaluated with :func:`ast.literal_eval` (literals only,
never code) on a bounded string, without importing numpy. Plain dtypes are raw numbers: the data
size is checked against the shape. Object arrays are stored as a pickle after the header, which
``np.load(allow_pickle=True)`` unpickles: that pickle goes to the pickle VM, which tells a plain
list of strings from a payload.
"""

from __future__ import annotations

import ast
import math
import re
import struct
from dataclasses import dataclass
from typing import ClassVar

from mlwarden.scan.container_rules import NPY_MALFORMED, NPY_OBJECT_ARRAY
from mlwarden.scan.formats.pickled import analyze_embedded, record_format
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.numpy_dtypes import simple_descr_has_objects
from mlwarden.scan.sniff import NUMPY_MAGIC as MAGIC

_SIMPLE = re.compile(r"^[<>|=]?(?P<kind>[?bBhHiIlLqQpPefdgFDGSaUVOMmcui])(?P<size>\d*)(?:\[\w+\])?$")
_FIXED = {"?": 1, "b": 1, "B": 1, "h": 2, "H": 2, "i": 4, "I": 4, "l": 8, "L": 8, "q": 8, "Q": 8,
          "p": 8, "P": 8, "e": 2, "f": 4, "d": 8, "g": 16, "F": 8, "D": 16, "G": 32, "O": 8,
          "M": 8, "m": 8, "c": 1}


class NpyHeaderError(ValueError):
    """The header of an .npy file cannot be parsed."""


@dataclass(frozen=True, slots=True)
class NpyHeader:
    version: tuple[int, int]
    descr: object
    fortran_order: bool
    shape: tuple[int, ...]
    data_offset: int

    @property
    def has_objects(self) -> bool:
        numpy_says = _numpy_has_objects(self.descr)
        return _has_objects(self.descr) if numpy_says is None else numpy_says

    @property
    def count(self) -> int:
        return math.prod(self.shape)


_OBJECT_WORDS = frozenset({"object", "object_", "object0"})
_OBJECT_CODE = re.compile(r"^[<>|=]?O\d*$")


def _numpy_has_objects(descr: object) -> bool | None:
    """What ``np.load`` decides: ``descr_to_dtype(descr).hasobject`` (numpy parses the descr
    string or field list itself, running nothing); ``None`` without numpy or if numpy refuses it.
    The codes numpy writes itself (``'<f4'``) are answered without importing numpy.
    """
    simple = simple_descr_has_objects(descr)
    if simple is not None:
        return simple
    try:
        from numpy.lib.format import descr_to_dtype
    except ImportError:
        return None
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(descr_to_dtype(descr).hasobject)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - numpy raises many types on descrs it cannot load
        return None


def _has_objects(descr: object) -> bool:
    """Without numpy: every spelling numpy maps to ``dtype('O')`` ('O', '|O8', 'object', 'object_'),
    also as a field of a comma-separated (``'i4,O'``) or sub-array (``'(2,)O'``) spec."""
    if isinstance(descr, str):
        for part in descr.split(","):
            code = re.sub(r"^\s*\([\d,\s]*\)\s*", "", part).strip()
            if code.lower() in _OBJECT_WORDS or _OBJECT_CODE.match(code):
                return True
        match = _SIMPLE.match(descr)
        return (match is None and "O" in descr) or bool(match and match["kind"] == "O")
    if isinstance(descr, (list, tuple)):
        return any(_has_objects(item) for item in descr)
    return False


def itemsize(descr: object) -> int | None:
    """Bytes per element of a descr (``'<f4'``, ``[('a', '<i4'), ('b', '|S3', (2,))]``), if known."""
    if isinstance(descr, str):
        match = _SIMPLE.match(descr)
        if match is None:
            return None
        kind, size = match["kind"], match["size"]
        if kind in ("S", "a", "V"):
            return int(size or 0)
        if kind == "U":
            return 4 * int(size or 0)
        if size and kind in "biufc":
            return int(size)
        return _FIXED.get(kind)
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) not in (2, 3):
                return None
            sub = itemsize(field[1])
            if sub is None:
                return None
            if len(field) == 3:
                shape = field[2] if isinstance(field[2], tuple) else (field[2],)
                if not all(isinstance(d, int) and d >= 0 for d in shape):
                    return None
                sub *= math.prod(shape)
            total += sub
        return total
    return None


def parse_header(data: bytes | memoryview, max_header: int) -> NpyHeader:
    """Parse an .npy header; :class:`NpyHeaderError` says what is wrong."""
    head = bytes(data[:12])
    if not head.startswith(MAGIC) or len(head) < 10:
        raise NpyHeaderError("not an .npy file (bad magic or truncated)")
    major, minor = head[6], head[7]
    if major == 1:
        (length,) = struct.unpack_from("<H", head, 8)
        start = 10
    elif major in (2, 3) and len(head) >= 12:
        (length,) = struct.unpack_from("<I", head, 8)
        start = 12
    else:
        raise NpyHeaderError(f"unsupported .npy format version {major}.{minor}")
    if length > max_header:
        raise NpyHeaderError(f"header of {length} bytes exceeds the limit of {max_header}")
    if start + length > len(data):
        raise NpyHeaderError("header truncated")
    raw = bytes(data[start:start + length])
    text = raw.decode("utf-8" if major == 3 else "latin-1", "replace")
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        raise NpyHeaderError(f"header is not a Python literal: {type(exc).__name__}") from None
    if not isinstance(value, dict) or not {"descr", "fortran_order", "shape"} <= set(value):
        raise NpyHeaderError("header is not a dict with descr, fortran_order and shape")
    shape = value["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise NpyHeaderError(f"bad shape {shape!r:.80}")
    if not isinstance(value["fortran_order"], bool):
        raise NpyHeaderError("fortran_order is not a bool")
    return NpyHeader((major, minor), value["descr"], value["fortran_order"], shape,
                     start + length)


class NumpyScanner(FormatScanner):
    """``.npy`` arrays, by the ``\\x93NUMPY`` magic."""

    name: ClassVar[str] = "numpy"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 400

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return head.startswith(MAGIC)

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        try:
            header = parse_header(target.data, ctx.limits.max_header_size)
        except NpyHeaderError as exc:
            ctx.add(NPY_MALFORMED.finding(f"malformed .npy file: {exc}", target.location()))
            ctx.skip(target, f"malformed .npy header: {exc}")
            return
        if header.has_objects:
            record_format(ctx, target, "numpy-object")
            ctx.add(NPY_OBJECT_ARRAY.finding(
                f"object array (descr {header.descr!r:.60}, shape {header.shape!r:.60}): loading it "
                "needs allow_pickle=True and unpickles the data", target.location(),
                evidence={"descr": repr(header.descr)[:200], "shape": list(header.shape[:16])}))
            analyze_embedded(target, ctx, start=header.data_offset, all_streams=True)
            return
        size = itemsize(header.descr)
        if size is None:
            ctx.add(NPY_MALFORMED.finding(f"unrecognised dtype {header.descr!r:.80}",
                                          target.location()))
            return
        expected = header.count * size
        actual = target.size - header.data_offset
        if actual < expected:
            ctx.add(NPY_MALFORMED.finding(
                f"array data truncated: {actual} bytes for shape {header.shape} x {size} bytes "
                f"({expected} expected)", target.location(offset=header.data_offset),
                evidence={"expected": expected, "actual": actual}))
        elif actual > expected:
            ctx.add(NPY_MALFORMED.finding(
                f"{actual - expected} bytes follow the array data (np.load ignores them; "
                "something may be hidden there)", target.location(offset=header.data_offset
                                                                  + expected),
                evidence={"expected": expected, "actual": actual}))
            tail = target.child(f"<trailing@{header.data_offset + expected}>",
                                memoryview(target.data)[header.data_offset + expected:])
            ctx.scan_nested(tail)
