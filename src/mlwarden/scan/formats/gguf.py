"""GGUF (llama.cpp) model files: header, typed metadata, tensor table, chat templates.

Parsed from bytes with strict bounds: every count and length is checked against the bytes that
remain before anything is read, so absurd counts, huge lengths and truncation become findings
(these are how GGUF loaders have been overflowed), never crashes or long loops. Versions 2 and 3
are read in either byte order; version 1 (32-bit lengths, obsolete since 2023) is skipped with a
reason. The tensor table is checked against the ggml type sizes: dimensions, overflowing element
counts, alignment, and data that lies outside the file or overlaps another tensor.

Chat templates (``tokenizer.chat_template`` and the named ``tokenizer.chat_template.<name>``)
go through :mod:`mlwarden.scan.formats.jinja_ast`.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from typing import ClassVar

from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.formats.jinja_ast import analyze_template
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget
from mlwarden.scan.sniff import GGUF_MAGIC as MAGIC

MAX_KEY_LEN = 65535
MAX_TENSOR_NAME = 63
"""ggml's GGML_MAX_NAME (64) includes the terminating NUL."""
MAX_DIMS = 4
MAX_ARRAY_DEPTH = 8
MAX_LAYOUT_FINDINGS = 20
MAX_METADATA = 65_536
"""Metadata entries accepted (real models have a few dozen)."""
MAX_TENSORS = 1_000_000
MAX_ARRAY_STRINGS = 8_000_000
"""String array elements walked in one file (vocabularies and merges are ~10⁵–10⁶)."""
CHAT_TEMPLATE_KEY = "tokenizer.chat_template"
MIN_ARRAY_STRING = 16
"""String-array elements this long are kept for the embedded-payload check."""
MAX_LONG_STRINGS = 200_000

# value type → (struct code, size) for fixed-size scalars
_SCALARS: dict[int, tuple[str, int]] = {
    0: ("B", 1), 1: ("b", 1), 2: ("H", 2), 3: ("h", 2), 4: ("I", 4), 5: ("i", 4),
    6: ("f", 4), 7: ("?", 1), 10: ("Q", 8), 11: ("q", 8), 12: ("d", 8),
}
STRING, ARRAY = 8, 9
_TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32",
               6: "float32", 7: "bool", 8: "string", 9: "array", 10: "uint64", 11: "int64",
               12: "float64"}

GGML_TYPE_SIZES: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
    9: (32, 40), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
    15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18),
    21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4),
    27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66),
    39: (32, 17), 40: (64, 36), 41: (128, 18),
}
"""ggml tensor type → (block size in elements, bytes per block), as in gguf-py's GGML_QUANT_SIZES."""


class Malformed(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class GgufHeader:
    version: int
    byte_order: str
    tensor_count: int
    metadata: dict[str, object] = field(default_factory=dict)
    """Scalar and string values (arrays are summarised as ``(type, count)``)."""
    key_offsets: dict[str, int] = field(default_factory=dict)


class _Reader:
    def __init__(self, data: bytes | memoryview, order: str) -> None:
        self.data = data
        self.order = order
        self.long_strings: list[tuple[str, bytes]] = []
        """Strings of string arrays long enough to hold an embedded payload."""
        self.long_strings_dropped = 0
        self.pos = 0
        self.size = len(data)
        self.elements = 0
        """String/array elements walked so far (bounded by MAX_ARRAY_STRINGS)."""

    def need(self, n: int, what: str) -> None:
        if n < 0 or n > self.size - self.pos:
            raise Malformed(f"{what} needs {n} bytes but only {self.size - self.pos} remain",
                            self.pos)

    def scalar(self, code: str, size: int, what: str) -> int | float | bool:
        self.need(size, what)
        (value,) = struct.unpack_from(self.order + code, self.data, self.pos)
        self.pos += size
        return value  # type: ignore[no-any-return]

    def u32(self, what: str) -> int:
        return int(self.scalar("I", 4, what))

    def u64(self, what: str) -> int:
        return int(self.scalar("Q", 8, what))

    def string_bytes(self, what: str, limit: int | None = None) -> bytes:
        start = self.pos
        length = self.u64(f"{what} length")
        if limit is not None and length > limit:
            raise Malformed(f"{what} is {length} bytes long (limit {limit})", start)
        self.need(length, what)
        raw = bytes(self.data[self.pos:self.pos + length])
        self.pos += length
        return raw

    def skip_string(self, what: str) -> None:
        length = self.u64(f"{what} length")
        self.need(length, what)
        self.pos += length


def _value(reader: _Reader, vtype: int, key: str, keep_text: bool, depth: int = 0) -> object:
    if vtype in _SCALARS:
        code, size = _SCALARS[vtype]
        return reader.scalar(code, size, f"value of {key!r}")
    if vtype == STRING:
        if keep_text:
            return reader.string_bytes(f"string value of {key!r}")
        reader.skip_string(f"string value of {key!r}")
        return None
    if vtype == ARRAY:
        if depth >= MAX_ARRAY_DEPTH:
            raise Malformed(f"arrays nested deeper than {MAX_ARRAY_DEPTH} in {key!r}", reader.pos)
        at = reader.pos
        etype = reader.u32(f"array type of {key!r}")
        count = reader.u64(f"array length of {key!r}")
        if etype in _SCALARS:
            size = _SCALARS[etype][1]
            if count > (reader.size - reader.pos) // size:
                raise Malformed(f"array {key!r} claims {count} {_TYPE_NAMES[etype]} values, "
                                "more than the file holds", at)
            reader.pos += count * size
        elif etype in (STRING, ARRAY):
            minimum = 8 if etype == STRING else 12
            if count > (reader.size - reader.pos) // minimum:
                raise Malformed(f"array {key!r} claims {count} {_TYPE_NAMES[etype]} values, "
                                "more than the file holds", at)
            reader.elements += count
            if reader.elements > MAX_ARRAY_STRINGS:
                raise Malformed(f"metadata arrays hold more than {MAX_ARRAY_STRINGS} strings or "
                                "nested arrays", at)
            labels = (f"string length in {key!r}", f"string value of {key!r}")
            for index in range(count):
                if etype == STRING:
                    _array_string(reader, key, index, labels)
                else:
                    _value(reader, etype, key, False, depth + 1)
        else:
            raise Malformed(f"array {key!r} has unknown element type {etype}", at)
        return (etype, count)
    raise Malformed(f"metadata {key!r} has unknown value type {vtype}", reader.pos - 4)


def _array_string(reader: _Reader, key: str, index: int, labels: tuple[str, str]) -> None:
    """One string of a string array: skipped, or kept for the embedded-payload check when it is
    long enough to hold a payload (vocabularies are mostly short tokens)."""
    length = reader.u64(labels[0])
    reader.need(length, labels[1])
    if length >= MIN_ARRAY_STRING:
        if len(reader.long_strings) < MAX_LONG_STRINGS:
            reader.long_strings.append(
                (f"{key}[{index}]", bytes(reader.data[reader.pos:reader.pos + length])))
        else:
            reader.long_strings_dropped += 1
    reader.pos += length


def parse_header(data: bytes | memoryview) -> tuple[GgufHeader, _Reader]:
    """Parse the header and metadata; raise :class:`Malformed` on the first inconsistency."""
    if bytes(data[:4]) != MAGIC:
        raise Malformed("missing GGUF magic", 0)
    if len(data) < 8:
        raise Malformed("file ends inside the header", len(data))
    (little,) = struct.unpack_from("<I", data, 4)
    (big,) = struct.unpack_from(">I", data, 4)
    order = "<" if little in (1, 2, 3) or big not in (2, 3) else ">"
    version = little if order == "<" else big
    reader = _Reader(data, order)
    reader.pos = 8
    if version not in (2, 3):
        raise Malformed(f"unsupported GGUF version {version}", 4)
    tensor_count = reader.u64("tensor count")
    kv_count = reader.u64("metadata count")
    remaining = reader.size - reader.pos
    if kv_count > remaining // 13:  # key length (8) + key (>=1) + type (4)
        raise Malformed(f"metadata count {kv_count} is more than the file can hold", 16)
    if tensor_count > remaining // 24:  # name length + n_dims + type + offset
        raise Malformed(f"tensor count {tensor_count} is more than the file can hold", 8)
    if kv_count > MAX_METADATA:
        raise Malformed(f"metadata count {kv_count} is over the limit of {MAX_METADATA}", 16)
    if tensor_count > MAX_TENSORS:
        raise Malformed(f"tensor count {tensor_count} is over the limit of {MAX_TENSORS}", 8)
    header = GgufHeader(version, order, tensor_count)
    for _ in range(kv_count):
        at = reader.pos
        raw_key = reader.string_bytes("metadata key", MAX_KEY_LEN)
        try:
            key = raw_key.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Malformed("metadata key is not UTF-8", at) from exc
        if key in header.metadata:
            raise Malformed(f"metadata key {key!r} appears twice", at)
        vtype = reader.u32(f"type of {key!r}")
        header.metadata[key] = _value(reader, vtype, key, True)
        header.key_offsets[key] = at
    return header, reader


@dataclass(frozen=True, slots=True)
class TensorInfo:
    name: str
    dims: tuple[int, ...]
    ggml_type: int
    offset: int
    nbytes: int
    at: int


def parse_tensors(header: GgufHeader, reader: _Reader) -> list[TensorInfo]:
    tensors: list[TensorInfo] = []
    names: set[str] = set()
    for _ in range(header.tensor_count):
        at = reader.pos
        name = reader.string_bytes("tensor name", 1 << 16).decode("utf-8", "replace")
        if len(name.encode()) > MAX_TENSOR_NAME:
            raise Malformed(f"tensor name {name[:80]!r} is longer than {MAX_TENSOR_NAME} bytes",
                            at)
        if name in names:
            raise Malformed(f"tensor {name!r} appears twice", at)
        names.add(name)
        n_dims = reader.u32(f"dimension count of {name!r}")
        if n_dims > MAX_DIMS:
            raise Malformed(f"tensor {name!r} has {n_dims} dimensions (ggml allows {MAX_DIMS})",
                            at)
        dims = tuple(reader.u64(f"dimension of {name!r}") for _ in range(n_dims))
        ggml_type = reader.u32(f"type of {name!r}")
        offset = reader.u64(f"offset of {name!r}")
        if ggml_type not in GGML_TYPE_SIZES:
            raise Malformed(f"tensor {name!r} has unknown ggml type {ggml_type}", at)
        elements = 1
        for dim in dims:
            elements *= dim
            if elements >= 1 << 63:
                raise Malformed(f"tensor {name!r} element count overflows ({dims})", at)
        block, block_bytes = GGML_TYPE_SIZES[ggml_type]
        if dims and dims[0] % block:
            raise Malformed(f"tensor {name!r} row of {dims[0]} is not a multiple of the "
                            f"block size {block}", at)
        tensors.append(TensorInfo(name, dims, ggml_type, offset, elements // block * block_bytes,
                                  at))
    return tensors


_TAIL_MIN = 64
"""Bytes after the tensor data worth scanning (fewer cannot hold a model or an archive)."""


class GgufScanner(FormatScanner):
    """GGUF model files."""

    name: ClassVar[str] = "gguf"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 40

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        return head[:4] == MAGIC

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        data = target.data
        if len(data) >= 8 and struct.unpack_from("<I", data, 4)[0] == 1:
            ctx.skip(target, "GGUF version 1 (obsolete, 32-bit lengths) is not checked")
            return
        try:
            header, reader = parse_header(data)
        except Malformed as exc:
            ctx.add(R.GGUF_MALFORMED.finding(f"malformed GGUF: {exc}", target.location(exc.offset)))
            return
        self._check_templates(header, target, ctx)
        self._check_fields(header, reader, target, ctx)
        try:
            tensors = parse_tensors(header, reader)
        except Malformed as exc:
            ctx.add(R.GGUF_MALFORMED.finding(f"malformed GGUF tensor table: {exc}",
                                             target.location(exc.offset)))
            return
        self._check_layout(header, tensors, reader.pos, target, ctx)

    @staticmethod
    def _check_fields(header: GgufHeader, reader: _Reader, target: ScanTarget,
                      ctx: ScanContext) -> None:
        """String metadata (and long strings of string arrays) that decode to a payload."""
        from mlwarden.scan.formats.embedded import FieldScanner

        fields = FieldScanner(target, ctx)
        for key, value in header.metadata.items():
            if isinstance(value, bytes) and not key.startswith(CHAT_TEMPLATE_KEY):
                fields.value(key, value)
        for where, value in reader.long_strings:
            fields.value(where, value)
        if reader.long_strings_dropped:
            fields.over.append(f"{reader.long_strings_dropped} long array strings past the first "
                               f"{MAX_LONG_STRINGS}")
        fields.finish()

    @staticmethod
    def _check_templates(header: GgufHeader, target: ScanTarget, ctx: ScanContext) -> None:
        for key, value in header.metadata.items():
            if not (key == CHAT_TEMPLATE_KEY or key.startswith(CHAT_TEMPLATE_KEY + ".")):
                continue
            offset = header.key_offsets.get(key)
            if not isinstance(value, bytes):
                ctx.add(R.GGUF_MALFORMED.finding(f"{key} is not a string", target.location(offset),
                                                 severity=Severity.MEDIUM))
                continue
            try:
                source = value.decode("utf-8")
            except UnicodeDecodeError:
                ctx.add(R.GGUF_MALFORMED.finding(f"{key} is not valid UTF-8",
                                                 target.location(offset), severity=Severity.MEDIUM))
                continue
            for issue in analyze_template(source):
                ctx.add(issue.rule.finding(
                    f"{key}: {issue.message}", target.location(offset, line=issue.line),
                    severity=issue.severity, evidence={"template": key, **issue.evidence}))

    @staticmethod
    def _check_layout(header: GgufHeader, tensors: list[TensorInfo], table_end: int,
                      target: ScanTarget, ctx: ScanContext) -> None:
        alignment = header.metadata.get("general.alignment", 32)
        problems: list[tuple[str, int | None]] = []
        if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 or (
                alignment & (alignment - 1)):
            problems.append((f"general.alignment {alignment!r} is not a positive power of two",
                             header.key_offsets.get("general.alignment")))
            alignment = 32
        data_start = (table_end + alignment - 1) // alignment * alignment
        size = len(target.data)
        if tensors and data_start > size:
            problems.append((f"tensor data would start at {data_start}, past the end of the "
                             f"file ({size})", table_end))
        spans: list[tuple[int, int, str]] = []
        for t in tensors:
            start = data_start + t.offset
            if t.offset % alignment:
                problems.append((f"tensor {t.name!r} offset {t.offset} is not aligned to "
                                 f"{alignment}", t.at))
            if start + t.nbytes > size:
                problems.append((f"tensor {t.name!r} data [{start}, {start + t.nbytes}) lies "
                                 f"beyond the end of the file ({size} bytes)", t.at))
            spans.append((start, start + t.nbytes, t.name))
        spans.sort()
        for (_, a_end, a_name), (b_start, _, b_name) in itertools.pairwise(spans):
            if b_start < a_end:
                problems.append((f"tensors {a_name!r} and {b_name!r} overlap at byte {b_start} "
                                 f"(first ends at {a_end})", None))
        end = max((span[1] for span in spans), default=table_end)
        end = min(size, (end + alignment - 1) // alignment * alignment)
        if size - end >= _TAIL_MIN:
            # llama.cpp ignores bytes after the tensor data, but other readers find what is
            # appended there (zipfile an archive: a '.keras' name loads it): scan it by content
            ctx.scan_nested(target.child("<after-gguf>", memoryview(target.data)[end:],
                                         offset=end))
        for message, offset in problems[:MAX_LAYOUT_FINDINGS]:
            ctx.add(R.GGUF_MALFORMED.finding(f"malformed GGUF layout: {message}",
                                             target.location(offset)))
        if len(problems) > MAX_LAYOUT_FINDINGS:
            ctx.add(R.GGUF_MALFORMED.finding(
                f"{len(problems) - MAX_LAYOUT_FINDINGS} more GGUF layout problems not listed",
                target.location()))
