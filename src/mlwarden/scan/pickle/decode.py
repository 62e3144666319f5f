"""Evaluating the pure byte-producing helpers an attacker wraps a nested payload in.

``base64.b64decode(b'...')``, ``codecs.decode(s, 'hex')``, ``zlib.decompress(...)`` and friends
are computed on constants taken from the pickle, with bounded output, so the payload they produce
can be analysed. Nothing named in the pickle is imported: each helper is implemented here by name.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import lzma
import zlib
from collections.abc import Callable

MAX_DECODED = 64 * 1024 * 1024
"""Largest output a decoder may produce (decompression bombs stop here)."""

Data = bytes | str


class DecodeError(Exception):
    """The helper cannot be evaluated statically (wrong argument types, corrupt input, too big)."""


def _as_bytes(value: Data) -> bytes:
    if isinstance(value, str):
        try:
            return value.encode("ascii")
        except UnicodeEncodeError as exc:
            raise DecodeError("non-ASCII text for a binary decoder") from exc
    return value


def _bounded(decompressor: object, data: bytes) -> bytes:
    out: bytes = decompressor.decompress(data, MAX_DECODED + 1)  # type: ignore[attr-defined]
    if len(out) > MAX_DECODED:
        raise DecodeError(f"decompressed payload exceeds {MAX_DECODED} bytes")
    return out


def _zlib(data: bytes, wbits: int = zlib.MAX_WBITS) -> bytes:
    try:
        return _bounded(zlib.decompressobj(wbits), data)
    except zlib.error as exc:
        raise DecodeError(f"zlib: {exc}") from exc


def _bz2(data: bytes) -> bytes:
    try:
        return _bounded(bz2.BZ2Decompressor(), data)
    except (OSError, ValueError) as exc:
        raise DecodeError(f"bz2: {exc}") from exc


def _lzma(data: bytes) -> bytes:
    try:
        return _bounded(lzma.LZMADecompressor(), data)
    except lzma.LZMAError as exc:
        raise DecodeError(f"lzma: {exc}") from exc


def _gzip(data: bytes) -> bytes:
    return _zlib(data, 16 + zlib.MAX_WBITS)


_BINARY: dict[str, Callable[[bytes], bytes]] = {
    "base64": base64.b64decode, "base_64": base64.b64decode, "base64_codec": base64.b64decode,
    "hex": binascii.unhexlify, "hex_codec": binascii.unhexlify,
    "zlib": _zlib, "zip": _zlib, "zlib_codec": _zlib, "bz2": _bz2, "bz2_codec": _bz2,
    "uu": binascii.a2b_uu, "uu_codec": binascii.a2b_uu,
}
_TEXT_ENCODINGS = {"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "l1", "utf8",
                   "utf-8", "utf_8", "ascii", "us-ascii", "raw_unicode_escape", "unicode_escape",
                   "utf-16", "utf-32", "cp1252"}
LATIN1 = frozenset({"latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "l1"})


def _codec_name(value: object) -> str:
    if not isinstance(value, str):
        raise DecodeError("codec name is not a string")
    return value.strip().lower().replace(" ", "")


def _codecs_decode(obj: Data, encoding: Data = "utf-8", errors: Data = "strict") -> Data:
    enc = _codec_name(encoding)
    if enc in _BINARY:
        return _BINARY[enc](_as_bytes(obj))
    if enc in {"rot13", "rot_13"} and isinstance(obj, str):
        return codecs.decode(obj, "rot13")
    if enc in _TEXT_ENCODINGS and isinstance(obj, bytes):
        return obj.decode(enc, "replace")
    raise DecodeError(f"codec {enc!r} is not evaluated")


def _codecs_encode(obj: Data, encoding: Data = "utf-8", errors: Data = "strict") -> Data:
    enc = _codec_name(encoding)
    if isinstance(obj, str) and enc in _TEXT_ENCODINGS:
        return obj.encode(enc, "replace")
    if enc in {"rot13", "rot_13"} and isinstance(obj, str):
        return codecs.encode(obj, "rot13")
    if enc in {"base64", "base64_codec"} and isinstance(obj, bytes):
        return base64.encodebytes(obj)
    if enc in {"hex", "hex_codec"} and isinstance(obj, bytes):
        return binascii.hexlify(obj)
    raise DecodeError(f"codec {enc!r} is not evaluated")


def _fromhex(text: Data) -> bytes:
    if not isinstance(text, str):
        raise DecodeError("bytes.fromhex wants a string")
    return bytes.fromhex(text)


def _bytes(value: Data | int, *args: Data) -> Data:
    if isinstance(value, str):
        return _codecs_encode(value, *args)
    if isinstance(value, int):
        if not 0 <= value <= MAX_DECODED:
            raise DecodeError("bytes(n) beyond the decode bound")
        return bytes(value)
    return bytes(value)


_EVALUATORS: dict[str, Callable[..., Data]] = {
    "base64.b64decode": lambda s, *a: base64.b64decode(_as_bytes(s), *a),
    "base64.standard_b64decode": lambda s: base64.standard_b64decode(_as_bytes(s)),
    "base64.urlsafe_b64decode": lambda s: base64.urlsafe_b64decode(_as_bytes(s)),
    "base64.decodebytes": lambda s: base64.decodebytes(_as_bytes(s)),
    "base64.b32decode": lambda s, *a: base64.b32decode(_as_bytes(s), *a),
    "base64.b16decode": lambda s, *a: base64.b16decode(_as_bytes(s), *a),
    "base64.a85decode": lambda s, *a: base64.a85decode(_as_bytes(s)),
    "base64.b85decode": lambda s: base64.b85decode(_as_bytes(s)),
    "binascii.a2b_base64": lambda s, *a: binascii.a2b_base64(_as_bytes(s)),
    "binascii.a2b_hex": lambda s: binascii.a2b_hex(_as_bytes(s)),
    "binascii.unhexlify": lambda s: binascii.unhexlify(_as_bytes(s)),
    "codecs.decode": _codecs_decode,
    "_codecs.decode": _codecs_decode,
    "codecs.encode": _codecs_encode,
    "_codecs.encode": _codecs_encode,
    "zlib.decompress": lambda s, *a: _zlib(_as_bytes(s), *[int(x) for x in a[:1]]),
    "bz2.decompress": lambda s: _bz2(_as_bytes(s)),
    "lzma.decompress": lambda s, *a: _lzma(_as_bytes(s)),
    "gzip.decompress": lambda s: _gzip(_as_bytes(s)),
    "builtins.bytes.fromhex": _fromhex,
    "bytes.fromhex": _fromhex,
    "builtins.bytes": lambda s=b"", *a: _bytes(s, *a),
    "builtins.bytearray": lambda s=b"", *a: _bytes(s, *a),
    "builtins.str": lambda s="", *a: _codecs_decode(s, *a) if isinstance(s, bytes) and a else str(s),
}


def can_evaluate(qual: str) -> bool:
    return qual in _EVALUATORS


def evaluate(qual: str, args: tuple[Data | int, ...]) -> Data:
    """``qual(*args)`` computed here; :class:`DecodeError` when it cannot be done statically."""
    func = _EVALUATORS.get(qual)
    if func is None:
        raise DecodeError(f"{qual} is not evaluated")
    if any(not isinstance(a, bytes | str | int) for a in args):
        raise DecodeError("arguments are not constants")
    try:
        out: Data = func(*args)
    except DecodeError:
        raise
    except (ValueError, TypeError, binascii.Error, LookupError, OverflowError) as exc:
        raise DecodeError(f"{qual}: {exc}") from exc
    if len(out) > MAX_DECODED:
        raise DecodeError(f"decoded payload exceeds {MAX_DECODED} bytes")
    return out
