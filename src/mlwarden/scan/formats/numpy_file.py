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
from typing import Any, ClassVar

from mlwarden.core.severity import Severity
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
    """The header of an .npy file cannot be parsed.

    ``data_offset`` is where the array data starts when the header is framed correctly but beyond
    what the scanner parses (numpy may still read it): the scan then fails closed there.
    """

    def __init__(self, message: str, *, data_offset: int | None = None) -> None:
        super().__init__(message)
        self.data_offset = data_offset


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
    dtype = _numpy_dtype(descr)
    return None if dtype is None else bool(dtype.hasobject)


def _numpy_itemsize(descr: object) -> int | None:
    """``descr_to_dtype(descr).itemsize`` as numpy reads it; ``None`` without numpy or if numpy
    refuses the descr (then np.load refuses the file too)."""
    dtype = _numpy_dtype(descr)
    return None if dtype is None else int(dtype.itemsize)


def _numpy_dtype(descr: object) -> Any:
    """``numpy.lib.format.descr_to_dtype(descr)`` (numpy parses the descr itself, running
    nothing); ``None`` without numpy or when numpy refuses the descr."""
    try:
        from numpy.lib.format import descr_to_dtype
    except ImportError:
        return None
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return descr_to_dtype(descr)  # type: ignore[arg-type]
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
    if isinstance(descr, dict):  # descr_to_dtype iterates a dict's keys as fields
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
    """Parse an .npy header as ``numpy.lib.format._read_array_header`` does.

    :class:`NpyHeaderError` says what is wrong; its ``data_offset`` is set when numpy with
    ``allow_pickle=True`` may still read the header (it lifts ``max_header_size`` then) and the
    scanner did not: the caller fails closed at that offset.
    """
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
    if start + length > len(data):
        raise NpyHeaderError("header truncated")
    if length > max_header:
        raise NpyHeaderError(f"header of {length} bytes exceeds the scanner's limit of "
                             f"{max_header} (np.load with allow_pickle=True has no limit)",
                             data_offset=start + length)
    raw = bytes(data[start:start + length])
    try:
        text = raw.decode("utf-8" if major == 3 else "latin-1")
    except UnicodeDecodeError:
        raise NpyHeaderError("version 3.0 header is not UTF-8") from None
    value = _literal(text, python2=major < 3)
    if not isinstance(value, dict) or not {"descr", "fortran_order", "shape"} <= set(value):
        raise NpyHeaderError("header is not a dict with descr, fortran_order and shape")
    shape = value["shape"]
    # numpy checks isinstance(x, int) only: negative sizes and bools pass its header check
    if not isinstance(shape, tuple) or not all(isinstance(d, int) for d in shape):
        raise NpyHeaderError(f"bad shape {shape!r:.80}")
    if not isinstance(value["fortran_order"], bool):
        raise NpyHeaderError("fortran_order is not a bool")
    return NpyHeader((major, minor), value["descr"], value["fortran_order"], shape,
                     start + length)


def _literal(text: str, *, python2: bool) -> object:
    """``ast.literal_eval`` of the header; on a syntax error, a version 1.0/2.0 header is tried
    again with the ``L`` suffixes of Python 2 integers dropped, as numpy's ``_filter_header``
    does."""
    try:
        return ast.literal_eval(text)
    except SyntaxError:
        if not python2:
            raise NpyHeaderError("header is not a Python literal: SyntaxError") from None
    except (ValueError, TypeError, MemoryError, RecursionError) as exc:
        raise NpyHeaderError(f"header is not a Python literal: {type(exc).__name__}") from None
    try:
        return ast.literal_eval(drop_long_suffixes(text))
    except Exception as exc:  # noqa: BLE001 - numpy lets these propagate: it refuses the file
        raise NpyHeaderError(f"header is not a Python literal: {type(exc).__name__}") from None


def drop_long_suffixes(text: str) -> str:
    """numpy's ``_filter_header``: the header re-tokenized without a ``L`` name token that
    directly follows a number (``(3L, 4L)`` written by Python 2)."""
    import io
    import tokenize

    tokens = []
    after_number = False
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if not (after_number and token.type == tokenize.NAME and token.string == "L"):
            tokens.append(token)
        after_number = token.type == tokenize.NUMBER
    return str(tokenize.untokenize(tokens))


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
            if exc.data_offset is not None:
                self._unmodelled(target, ctx, str(exc), exc.data_offset)
                return
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
            size = _numpy_itemsize(header.descr)
        if size is None:
            self._unmodelled(target, ctx, f"dtype {header.descr!r:.80} that the scanner cannot "
                             "read without numpy", header.data_offset)
            return
        if any(d < 0 for d in header.shape):
            ctx.add(NPY_MALFORMED.finding(
                f"negative dimension in shape {header.shape!r:.80} (np.load refuses it for a "
                "plain dtype)", target.location()))
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

    @staticmethod
    def _unmodelled(target: ScanTarget, ctx: ScanContext, problem: str, data_offset: int) -> None:
        """Fail closed: numpy may read this header and unpickle what follows it, the scanner
        could not tell; the bytes after the header are analysed as the pickle they may be."""
        record_format(ctx, target, "numpy-object")
        ctx.add(NPY_MALFORMED.finding(
            f"{problem}: np.load(allow_pickle=True) may read it and unpickle the data after the "
            "header, which was analysed as a pickle", target.location(offset=data_offset),
            severity=Severity.HIGH, evidence={"data_offset": data_offset}))
        analyze_embedded(target, ctx, start=data_offset, all_streams=True)
