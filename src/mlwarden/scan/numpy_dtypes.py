"""The common numpy dtype spellings, read without importing numpy.

Both the ``.npy`` header check and the joblib/pickle array check ask numpy itself how it reads a
dtype spelling (numpy parses it and runs nothing), because numpy's grammar has many corners. But
importing numpy costs more than scanning a whole model directory, and nearly every real file
spells its dtypes one way: the ``<kind><size>`` codes numpy writes itself (``'<f4'``, ``'|b1'``,
``'O8'``). Those are answered here; anything else still goes to numpy. A test compares this table
with numpy for every code it accepts.
"""

from __future__ import annotations

import struct

_POINTER = struct.calcsize("P")
_SIZES = {"b": (1,), "i": (1, 2, 4, 8), "u": (1, 2, 4, 8), "f": (2, 4, 8), "c": (8, 16),
          "M": (8,), "m": (8,), "O": (_POINTER,)}
"""Item sizes numpy accepts for each kind on every platform (no ``f16``/``c32``: those are
``longdouble`` and exist on some platforms only)."""
_FLEXIBLE = {"S": 1, "V": 1, "U": 4}
_MAX_FLEXIBLE = 2**31 - 1
"""numpy refuses flexible types of 2 GiB and more."""
_ORDER = frozenset("<>|=")


def simple_dtype(spelling: str) -> tuple[int, bool, str] | None:
    """``(itemsize, hasobject, kind)`` of a ``[byte order]<kind><size>`` code (or ``'|O'``), or
    ``None`` when the spelling is anything else (ask numpy)."""
    code = spelling[1:] if spelling[:1] in _ORDER else spelling
    if code == "O":
        return _POINTER, True, "O"
    if len(code) < 2 or not code[1:].isdigit() or not code[1:].isascii():
        return None
    kind, size = code[0], int(code[1:])
    if code[1] == "0":
        return None
    if kind in _FLEXIBLE:  # bytes and void: n bytes; str: n UCS-4 characters
        width = _FLEXIBLE[kind]
        return (size * width, False, kind) if size * width <= _MAX_FLEXIBLE else None
    if size not in _SIZES.get(kind, ()):
        return None
    return size, kind == "O", kind


SCALAR_TYPES: dict[str, tuple[int, bool, str]] = {
    "bool_": (1, False, "b"), "int8": (1, False, "i"), "int16": (2, False, "i"),
    "int32": (4, False, "i"), "int64": (8, False, "i"), "uint8": (1, False, "u"),
    "uint16": (2, False, "u"), "uint32": (4, False, "u"), "uint64": (8, False, "u"),
    "float16": (2, False, "f"), "float32": (4, False, "f"), "float64": (8, False, "f"),
    "complex64": (8, False, "c"), "complex128": (16, False, "c"), "object_": (_POINTER, True, "O"),
}
"""``numpy.<name>`` scalar classes whose dtype is the same on every platform."""


MAX_FIELD_DEPTH = 16
"""Nesting of structured dtypes answered here; deeper ones go to numpy."""


def simple_descr_has_objects(descr: object, depth: int = 0) -> bool | None:
    """Whether a ``.npy`` header's ``descr`` holds objects, for a simple code or a structured
    descr (``[(name, code), (name, code, shape), …]``, nested) made only of simple codes, as numpy
    writes them; ``None`` for anything else (ask numpy)."""
    if isinstance(descr, str):
        simple = simple_dtype(descr)
        return None if simple is None else simple[1]
    if not isinstance(descr, list) or not descr or depth >= MAX_FIELD_DEPTH:
        return None
    found = False
    for field in descr:
        if not isinstance(field, tuple) or len(field) not in (2, 3) or \
                not isinstance(field[0], str):
            return None
        if len(field) == 3 and not (isinstance(field[2], int) or (
                isinstance(field[2], tuple) and all(isinstance(n, int) for n in field[2]))):
            return None
        inner = simple_descr_has_objects(field[1], depth + 1)
        if inner is None:
            return None
        found = found or inner
    return found
