"""The numeric arguments of protocol-0/1 text opcodes, read exactly as ``Modules/_pickle.c`` reads them.

The C unpickler copies each line into a NUL-terminated buffer and hands it to C string functions,
so everything from the first NUL byte on is ignored (``I1\\x00junk`` is ``1``):

- ``INT``: ``strtol(s, &end, 0)`` (leading whitespace, sign, ``0x`` hex, C octal ``010``), which must
  end the string; otherwise ``PyLong_FromString(s, NULL, 0)`` (Python's ``int(s, 0)`` grammar:
  underscores, ``0o``/``0b``, surrounding whitespace). A 3-byte line (newline included) that
  ``strtol`` reads as 0 or 1 is a bool (``I00``, ``I01``, also ``I+1``, ``I 0``, ``I1\\x00``).
- ``LONG``: a trailing ``L`` is dropped, then ``PyLong_FromString(s, NULL, 0)``.
- ``FLOAT``: ``PyOS_string_to_double`` (no leading whitespace, no underscores), which must end the
  string; here Python's ``float`` reads a superset of that (a stream is never cut short).
- ``GET``/``PUT``: ``PyLong_FromString(s, NULL, 10)`` (whitespace, sign, underscores, leading zeros).

Decimal strings past Python's digit limit (``sys.set_int_max_str_digits``, which the loading process
may set differently) are not converted: their value is irrelevant to the analysis, so a big
``LONG`` is an opaque integer rather than a break in the stream.
"""

from __future__ import annotations

import codecs
import re
import warnings

from mlwarden.scan.pickle.values import Opaque

_LONG_MAX = (1 << 63) - 1
_STRTOL = re.compile(rb"[ \t\n\x0b\x0c\r]*([+-]?)(0[xX](?=[0-9a-fA-F])[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_DECIMAL = re.compile(rb"\s*[+-]?[0-9][0-9_]*\s*")
_BIG_DIGITS = 4000


def c_string(line: bytes) -> bytes:
    """The part of a line C string functions see: the bytes before the first NUL."""
    nul = line.find(b"\x00")
    return line if nul < 0 else line[:nul]


def _strtol(text: bytes) -> int | None:
    """``strtol(text, &end, 0)`` when it converts all of ``text`` without overflow, else ``None``."""
    match = _STRTOL.match(text)
    if match is None or match.end() != len(text):
        return None
    sign, body = match.groups()
    if len(body.lstrip(b"0xX")) > 22:
        return None  # more digits than a 64-bit long holds in any base (ERANGE)
    if body[:2] in (b"0x", b"0X"):
        value = int(body[2:], 16)
    elif body.startswith(b"0"):
        value = int(body, 8)
    else:
        value = int(body)
    value = -value if sign == b"-" else value
    if not -_LONG_MAX - 1 <= value <= _LONG_MAX:
        return None  # ERANGE: the C code falls back to PyLong_FromString
    return value


def _pylong(text: bytes, base: int) -> int | Opaque:
    """``PyLong_FromString(text, NULL, base)`` (ValueError when it fails)."""
    try:
        return int(text, base)
    except ValueError:
        if len(text) > _BIG_DIGITS and _DECIMAL.fullmatch(text):
            return Opaque(f"{len(text)}-digit integer")
        raise


def int_arg(line: bytes) -> int | bool | Opaque:
    """The value of an ``INT`` line (without its newline)."""
    if line.isdigit() and line[0] != 0x30 and len(line) < 19:
        return int(line)  # the common spelling: plain decimal, no C octal, never a bool
    if not line:
        raise ValueError("INT without digits")
    text = c_string(line)
    value = _strtol(text) if text else 0  # strtol("") converts nothing and ends at the NUL
    if value is None:
        return _pylong(text, 0)
    if len(line) == 2 and value in (0, 1):
        return bool(value)
    return value


def long_arg(line: bytes) -> int | Opaque:
    """The value of a ``LONG`` line (without its newline)."""
    if not line:
        raise ValueError("LONG without digits")
    if line.endswith(b"L"):
        line = line[:-1]
    text = c_string(line)
    try:
        return _pylong(text, 0)
    except ValueError:
        # C octal (``010``) is not Python's: both unpicklers reject it in LONG, reading it anyway
        # never cuts a stream short here
        value = _strtol(text)
        if value is None:
            raise
        return value


def float_arg(line: bytes) -> float:
    """The value of a ``FLOAT`` line (without its newline)."""
    try:
        return float(line)  # a superset of PyOS_string_to_double, except a NUL-terminated line
    except ValueError:
        if not line:
            raise
        return float(c_string(line))


def memo_index(line: bytes) -> int:
    """The memo key of a ``GET``/``PUT`` line (without its newline)."""
    if line.isdigit() and len(line) < 19:
        return int(line)
    if not line:
        raise ValueError("memo index without digits")
    value = _pylong(c_string(line), 10)
    if isinstance(value, Opaque):
        raise ValueError("memo index too long")  # PyLong_AsSsize_t overflows on it too
    return value


def string_arg(body: bytes) -> str:
    """A ``STRING`` argument between its quotes, unescaped as ``PyBytes_DecodeEscape`` does (read
    as latin-1). Invalid escapes are kept as they are, with the ``DeprecationWarning`` the decoder
    gives for them silenced (under ``-W error`` it would be an exception)."""
    if b"\\" not in body:
        return body.decode("latin-1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return codecs.escape_decode(body)[0].decode("latin-1")
