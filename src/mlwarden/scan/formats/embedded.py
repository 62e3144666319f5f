"""Payloads hidden in other formats' fields: a string or byte value that a loader decodes and
deserialises is scanned as what it decodes to.

A custom Keras layer may ``pickle.loads(base64.b64decode(config["blob"]))``; some safetensors
loaders unpickle ``__metadata__`` values; HDF5 attributes hold pickles as bytes, numpy void or
arrays of bytes. Every scanner of a format with free-form fields (JSON configs, safetensors
metadata, GGUF strings, ONNX ``metadata_props`` and string attributes, HDF5 attributes) hands
those values to :class:`FieldScanner`, one per scanned target.

For each value of at least :data:`MIN_RAW` bytes the raw bytes are a candidate; a value of at
least :data:`MIN_ENCODED` characters that is plausibly encoded (at most one character in
:data:`JUNK_RATIO` outside the base64/hex alphabets, whitespace and ``=`` aside) adds what the
standard library's decoders make of it —
``base64.b64decode`` and ``urlsafe_b64decode`` (non-validating, as loaders call them: characters
outside the alphabet are dropped, decoding stops at the padding; missing padding added, as the
``s + "=" * (-len(s) % 4)`` idiom does), ``bytes.fromhex`` — up to :data:`MAX_LAYERS` encodings
deep. A candidate is handed back to the engine (``ctx.scan_nested``, member
``field(base64)``) only when it sniffs as a format the engine knows: a pickle the VM can follow to
``STOP`` (or one whose partial run already imports something serious), a zip, HDF5, npy, 7z, tar,
GGUF, safetensors or ONNX file, a compressed stream that decompresses to one of those, or a JSON
object (walked in place when the field itself holds JSON text). Printable text as stored is
never taken for a pickle (importing needs protocol 0's line breaks or a binary opcode). Decoded
bytes of anything else (images, text, tokenizer data) are ignored, and a pickle of plain values
is clean, so benign base64 costs a decode and a few byte comparisons.

Bounds (per scanned target): values examined, characters decoded and payloads handed on. Passing
one, or a single value over :data:`MAX_FIELD`, is ``MW-EMB-001`` (high): the rest was not checked.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import contextlib
import json
import lzma
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan import sniff
from mlwarden.scan.interface import ScanContext, ScanTarget

MIN_ENCODED = 16
"""Shortest text value decoded (12 bytes of base64, 8 of hex: less holds no payload)."""
MIN_RAW = 8
"""Shortest raw byte value looked at."""
MAX_FIELD = 64 * 1024 * 1024
"""Longest value decoded; a longer one is ``MW-EMB-001``."""
MAX_VALUES = 500_000
"""Values of one target examined (long enough to be candidates)."""
MAX_DECODED = 512 * 1024 * 1024
"""Characters of one target decoded in all."""
MAX_PAYLOADS = 256
"""Decoded payloads of one target handed on to the engine."""
MAX_LAYERS = 3
"""Encodings undone one inside another (hex of base64 of a pickle)."""
TRIAL_OUTPUT = 1 << 16
"""Bytes a compressed candidate is inflated to, to see what it holds."""

_DATA_URI = re.compile(r"^\s*data:[^,]{0,200};base64,", re.IGNORECASE)
_HEX_PREFIX = re.compile(r"^\s*0[xX]")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_NOT_ENCODED = re.compile(r"[^A-Za-z0-9+/\-_]")
_SPACE_OR_PAD = re.compile(r"[\s=]")
_HEX = re.compile(r"\s*(?:[0-9A-Fa-f]{2}\s*)+")
JUNK_RATIO = 8
"""At most one character in eight of a value may be outside the alphabets for it to be decoded."""
_URLSAFE = str.maketrans("-_", "+/")


def _text_of(value: str | bytes) -> str | None:
    """The value as text for the decoders (bytes only when they are ASCII)."""
    if isinstance(value, str):
        return value
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return None


def _raw_of(value: str | bytes) -> list[bytes]:
    """The byte strings a loader could take a value for: itself, or a text's Latin-1 (what
    ``s.encode("latin-1")`` gives for JSON ``\\u00XX`` escapes) and UTF-8 encodings."""
    if isinstance(value, bytes):
        return [value]
    out = []
    with contextlib.suppress(UnicodeEncodeError):
        out.append(value.encode("latin-1"))
    utf8 = value.encode("utf-8", "surrogatepass")
    if utf8 not in out:
        out.append(utf8)
    return out


def plausible(text: str) -> bool:
    """Whether ``text`` may be base64 or hex: at least :data:`MIN_ENCODED` characters of the
    alphabets, and at most one in :data:`JUNK_RATIO` of the rest something else (whitespace and
    ``=`` do not count). Loaders' non-validating decoders drop such junk, so a little of it is
    followed; prose, paths and token merges are not decoded at all."""
    core = len(_NOT_ENCODED.sub("", text))
    if core < MIN_ENCODED:
        return False
    junk = len(text) - core - len(_SPACE_OR_PAD.findall(text))
    return junk * JUNK_RATIO <= len(text)


def decodings(text: str) -> Iterator[tuple[str, bytes]]:
    """``(encoding, bytes)`` for each way the standard library decodes ``text``: base64 as
    given, re-padded by the ``s + "=" * (-len(s) % 4)`` idiom, and its alphabet characters alone
    (all, or those before the first ``=``) re-padded the same way; urlsafe base64 likewise when
    the text has a ``-`` or ``_``; hex as ``bytes.fromhex`` reads it."""
    body = _DATA_URI.sub("", text, count=1)
    decoders: list[tuple[str, Callable[[str], bytes], str]] = [
        ("base64", base64.b64decode, body)]
    if "-" in body or "_" in body:
        decoders.append(("urlsafe-base64", base64.urlsafe_b64decode, body.translate(_URLSAFE)))
    clean = _NOT_BASE64.search(body) is None
    for name, decode, spelt in decoders:
        if clean and name == "base64":
            candidates: Iterable[str] = (body + "=" * (-len(body) % 4),)
        else:
            core = _NOT_BASE64.sub("", spelt)
            first = _NOT_BASE64.sub("", spelt.split("=", 1)[0])
            candidates = dict.fromkeys((body, body + "=" * (-len(body) % 4),
                                        core + "=" * (-len(core) % 4),
                                        first + "=" * (-len(first) % 4)))
        results: set[bytes] = set()
        for candidate in candidates:
            try:
                data = decode(candidate)
            except (binascii.Error, ValueError):
                continue
            if data not in results:
                results.add(data)
                yield name, data
    hexed = _HEX_PREFIX.sub("", body, count=1)
    if _HEX.fullmatch(hexed):
        with contextlib.suppress(ValueError):
            yield "hex", bytes.fromhex(hexed)


def _pickle_payload(data: bytes, ctx: ScanContext) -> bool:
    """Whether ``data`` is a pickle the loader would run: the VM reaches STOP, or its partial run
    already imports or calls something serious (``pickle.loads`` does those before failing)."""
    from mlwarden.scan.pickle import analyze_pickle, looks_like_pickle

    if not looks_like_pickle(data[:4096], final=len(data) <= 4096, size=len(data)):
        return False
    scratch = ScanContext(limits=ctx.limits, allow_globals=ctx.allow_globals)
    result = analyze_pickle(ScanTarget(path="<embedded>", data=data), scratch)
    return result.complete or any(f.severity >= Severity.HIGH for f in scratch.findings)


def _inflate(data: bytes) -> bytes | None:
    """The first bytes a compressed stream decodes to (``None``: not one the stdlib reads)."""
    head = data[:6]
    try:
        if head[:3] == b"\x1f\x8b\x08":
            return zlib.decompressobj(31).decompress(data, TRIAL_OUTPUT)
        if head[:1] == b"\x78":
            return zlib.decompressobj().decompress(data, TRIAL_OUTPUT)
        if head[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data, TRIAL_OUTPUT)
        if head == b"\xfd7zXZ\x00" or sniff.could_be_lzma_alone(data[:64]):
            return lzma.LZMADecompressor().decompress(data, TRIAL_OUTPUT)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return None
    return None


_MAGIC_FIRST = frozenset(b"P\x89\x937GZ(\x04\x1fxB\xfd")
"""First bytes of the magic numbers below (zip, HDF5, npy, 7z, GGUF, joblib ZF, zstd, lz4,
gzip, zlib, bz2, xz): most decoded bytes are turned away by one set lookup."""
_JSON_FIRST = frozenset(b"{ \t\r\n")


def known_format(data: bytes, ctx: ScanContext, depth: int = 0, *,
                 text: bool = False) -> str | None:
    """The format the engine would read ``data`` as, when it is one worth handing on.

    ``text``: ``data`` is printable text as it was stored. It is then no pickle: a pickle that
    imports anything needs protocol 0's line breaks or a non-text opcode."""
    size = len(data)
    if size < 2:
        return None
    first = data[0]
    if size >= 10 and data[8] == 0x7B and int.from_bytes(data[:8], "little") <= size - 8:
        return "safetensors"
    if size >= 512:
        if sniff.hdf5_signature_offset(data) is not None:
            return "hdf5"
        if sniff.looks_like_tar(data[:512]):
            return "tar"
    if first in _MAGIC_FIRST:
        fmt = _magic_format(data, ctx, depth)
        if fmt is not None:
            return fmt
    elif size >= 14 and data[13] == 0 and depth < MAX_LAYERS and \
            sniff.could_be_lzma_alone(data[:64]):
        inflated = _inflate(data)
        if inflated and known_format(inflated, ctx, depth + 1) is not None:
            return "compressed"
    if first in _JSON_FIRST and data.lstrip()[:1] == b"{":
        try:
            json.loads(data)
        except (ValueError, RecursionError):
            pass
        else:
            return "json"
    if not text and first in sniff.PICKLE_FIRST_OPCODES and _pickle_payload(data, ctx):
        return "pickle"
    if first in sniff.ONNX_FIRST_TAGS or data[:2] in sniff.ONNX_FIRST_TAGS_2:
        from mlwarden.scan.formats.onnx import OnnxScanner

        if OnnxScanner.detect(data[:4096], ScanTarget(path="<embedded>", data=data)):
            return "onnx"
    return None


def _magic_format(data: bytes, ctx: ScanContext, depth: int) -> str | None:
    head = data[:16]
    if head.startswith((sniff.ZIP_LOCAL_SIG, sniff.ZIP_EOCD_SIG, sniff.ZIP_SPANNED_SIG)):
        return "zip"
    if head.startswith(sniff.HDF5_SIGNATURE):
        return "hdf5"
    if head.startswith(sniff.NUMPY_MAGIC):
        return "npy"
    if head.startswith(sniff.SEVEN_ZIP_MAGIC):
        return "7z"
    if head.startswith(sniff.GGUF_MAGIC):
        return "gguf"
    if head.startswith((sniff.ZSTD_MAGIC, b"\x04\x22\x4d\x18", b"ZF0x")):
        return "compressed"
    inflated = _inflate(data) if depth < MAX_LAYERS else None
    if inflated and known_format(inflated, ctx, depth + 1) is not None:
        return "compressed"
    return None


def json_path(parent: str, key: str | int) -> str:
    """``layers[3].config.blob``-style path of a JSON value."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if re.fullmatch(r"[A-Za-z_][\w\-]*", key):
        return f"{parent}.{key}" if parent else key
    return f"{parent}[{json.dumps(key)[:80]}]"


_Path = tuple["_Path | None", str | int]
"""A JSON value's path as a chain of ``(parent, key)`` links (the root's key is its name)."""


def _name(where: str | _Path) -> str:
    return where if isinstance(where, str) else _spell(where)


def _spell(path: _Path) -> str:
    keys: list[str | int] = []
    link: _Path | None = path
    while link is not None:
        parent, key = link
        keys.append(key)
        link = parent
    keys.reverse()
    out = str(keys[0])
    for key in keys[1:]:
        out = json_path(out, key)
    return out


@dataclass
class FieldScanner:
    """Looks at the free-form values of one target (see the module doc). Use :meth:`value` for
    each string/bytes field, :meth:`json` for a JSON tree, then :meth:`finish` once."""

    target: ScanTarget
    ctx: ScanContext
    prefix: str = ""
    """Put before each field's name in the member name (``config.json:``)."""
    values: int = 0
    decoded: int = 0
    payloads: int = 0
    over: list[str] = field(default_factory=list)
    _nested_json: int = 0

    def value(self, where: str | _Path, value: str | bytes | bytearray | memoryview, *,
              raw: bool = True) -> None:
        """Scan one field value (``raw``: its bytes as they are count too, not only decoded).
        ``where`` names the field (a JSON path chain is spelt only when something is found)."""
        if isinstance(value, bytearray | memoryview):
            value = bytes(value)
        size = len(value)
        if size < MIN_RAW:
            return
        if size > MAX_FIELD:
            self._over(f"{_name(where)} is {size} bytes long (limit {MAX_FIELD})")
            return
        if self.values >= MAX_VALUES or self.decoded + size > MAX_DECODED:
            self._over(f"more than {MAX_VALUES} values or {MAX_DECODED} characters")
            return
        self.values += 1
        if raw:
            printable = value.isprintable() if isinstance(value, str) else \
                (value.isascii() and value.decode("ascii").isprintable())
            for data in _raw_of(value):
                if self._try(where, "raw", data, text=printable):
                    break
        text = _text_of(value)
        if text is None or len(text) < MIN_ENCODED or not plausible(text):
            return
        self.decoded += size
        self._decode(where, text, (), 1)

    def _decode(self, where: str | _Path, text: str, layers: tuple[str, ...],
                depth: int) -> None:
        for encoding, data in decodings(text):
            if len(data) < MIN_RAW:
                continue
            names = (*layers, encoding)
            if self._try(where, ",".join(reversed(names)), data):
                continue
            if depth < MAX_LAYERS and len(data) >= MIN_ENCODED and data.isascii():
                inner = data.decode("ascii")
                if plausible(inner):
                    self._decode(where, inner, names, depth + 1)

    def _try(self, where: str | _Path, encoding: str, data: bytes, *, text: bool = False) -> bool:
        fmt = known_format(data, self.ctx, text=text)
        if fmt is None:
            return False
        name = _name(where)
        if encoding == "raw" and fmt == "json":
            # JSON text held in a string (a Keras ``model_config``): its strings are walked here,
            # not handed on, so the container's own analysis of it is not reported twice
            if self._nested_json < MAX_LAYERS:
                self._nested_json += 1
                try:
                    self.json(json.loads(data), f"{name}(json)")
                finally:
                    self._nested_json -= 1
            return True
        if self.payloads >= MAX_PAYLOADS:
            self._over(f"more than {MAX_PAYLOADS} embedded payloads")
            return True
        self.payloads += 1
        child = self.target.child(f"{self.prefix}{name}({encoding})", data)
        # A field's bytes are a guess at a payload (random bytes, or base64 that decodes to
        # them, may begin like a format: a 16-byte value can be a complete pickle of a long that
        # the legacy-torch reader then calls a truncated archive). Keep what a loader would act
        # on — findings at high and above — not "malformed" noise; what could not be checked
        # still counts for raw bytes (a real embedded file), not for decodings (guesses).
        scratch = ScanContext(limits=self.ctx.limits, allow_globals=self.ctx.allow_globals,
                              formats=self.ctx.formats, dispatch=self.ctx.dispatch)
        scratch.scan_nested(child)
        self.ctx.findings.extend(f for f in scratch.findings if f.severity >= Severity.HIGH)
        if encoding == "raw":
            self.ctx.skipped.extend(scratch.skipped)
        return True

    def json(self, root: object, where: str = "") -> None:
        """Every string in a parsed JSON tree (keys are names, not payloads). Paths are built only
        for the strings looked at: a tokenizer.json has millions of short values."""
        if isinstance(root, str):
            self._json_string((None, where), root)
            return
        if not isinstance(root, dict | list):
            return
        stack: list[tuple[object, _Path]] = [(root, (None, where))]
        while stack:
            node, path = stack.pop()
            items: Iterable[tuple[str | int, object]] = (
                node.items() if isinstance(node, dict) else enumerate(node))  # type: ignore[arg-type]
            for key, child in items:
                if isinstance(child, str):
                    if len(child) >= MIN_RAW:
                        self._json_string((path, key if isinstance(key, int) else str(key)),
                                          child)
                elif isinstance(child, dict | list):
                    stack.append((child, (path, key if isinstance(key, int) else str(key))))

    def _json_string(self, path: _Path, value: str) -> None:
        if len(value) >= MIN_ENCODED or not value.isprintable():
            self.value(path, value)

    def _over(self, why: str) -> None:
        if len(self.over) < 5:
            self.over.append(why)

    def finish(self) -> None:
        """Report the limits hit (fail closed: what was left is not clean)."""
        if not self.over:
            return
        self.ctx.add(R.EMBEDDED_UNCHECKED.finding(
            f"fields not checked for embedded payloads: {'; '.join(self.over)}",
            self.target.location(), evidence={"reasons": list(self.over)}))
        self.ctx.skip(self.target, "some fields were not checked for embedded payloads")


def scan_json_fields(root: object, target: ScanTarget, ctx: ScanContext, *,
                     prefix: str = "", where: str = "") -> None:
    """Scan every string of a parsed JSON document for embedded payloads."""
    scanner = FieldScanner(target, ctx, prefix=prefix)
    scanner.json(root, where)
    scanner.finish()
