"""safetensors files: an 8-byte little-endian header length N, N bytes of JSON, then the data.

Nothing in safetensors executes, so the risks are parser differentials and memory-safety bugs in
loaders. The header is validated as the reference (Rust) implementation does, plus stricter
checks it performs implicitly: UTF-8 JSON object, no duplicate keys, ``__metadata__`` a
string→string map (its values are checked for embedded payloads,
:mod:`mlwarden.scan.formats.embedded`), each tensor with a known dtype, a shape of non-negative
integers and two ordered ``data_offsets``; the byte size equals shape × dtype width; and the
tensors, sorted by offset, tile the data section exactly (no overlap, no hole, nothing past the
end, nothing left over).
"""

from __future__ import annotations

import json
import struct
from typing import ClassVar

from mlwarden.core.rules import Rule
from mlwarden.core.severity import Severity
from mlwarden.scan import format_rules as R
from mlwarden.scan.interface import FormatScanner, ScanContext, ScanTarget

DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16,
    "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "F64": 64, "I64": 64, "U64": 64,
    "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}
"""safetensors dtypes and their width in bits (safetensors 0.6 ``Dtype``)."""
MAX_FINDINGS = 20
_JSON_OBJECT_SECOND_BYTES = frozenset((b'"', b" ", b"\t", b"\r", b"\n"))
"""What may follow the ``{`` of a non-empty safetensors header: a key's quote or JSON
whitespace."""


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class SafetensorsScanner(FormatScanner):
    """safetensors files."""

    name: ClassVar[str] = "safetensors"
    version: ClassVar[str] = "1"
    priority: ClassVar[int] = 40

    @classmethod
    def detect(cls, head: bytes, target: ScanTarget) -> bool:
        if len(head) < 9:
            return False
        (length,) = struct.unpack_from("<Q", head, 0)
        if length < 2 or head[8:9] != b"{":
            return False
        if length <= target.size - 8:
            return True
        # A length past the end of the file (1 TiB in a 100-byte file) is a hostile or broken
        # safetensors that a loader would try to allocate: claim it only when a JSON object
        # plausibly starts at offset 8, so random bytes followed by "{" are not taken.
        return head[9:10] in _JSON_OBJECT_SECOND_BYTES

    def scan(self, target: ScanTarget, ctx: ScanContext) -> None:
        data = target.data
        (length,) = struct.unpack_from("<Q", data, 0)
        loc = target.location
        if length > ctx.limits.max_header_size:
            ctx.add(R.SAFET_HEADER.finding(
                f"header length field says {length} bytes, over the "
                f"{ctx.limits.max_header_size}-byte limit (the file is {len(data)} bytes; a "
                "loader would try to allocate the header)", loc(0),
                evidence={"header_size": length, "file_size": len(data)}))
            return
        if length > len(data) - 8:
            ctx.add(R.SAFET_HEADER.finding(f"header length {length} runs past the end of the "
                                           f"file ({len(data)} bytes)", loc(0),
                                           evidence={"header_size": length,
                                                     "file_size": len(data)}))
            return
        raw = bytes(data[8:8 + length])
        try:
            header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except _DuplicateKey as exc:
            ctx.add(R.SAFET_HEADER.finding(f"header has duplicate key {exc.args[0]!r}", loc(8),
                                           evidence={"key": str(exc.args[0])}))
            return
        except RecursionError:
            ctx.add(R.SAFET_HEADER.finding("header JSON is nested too deeply", loc(8)))
            return
        except (UnicodeDecodeError, ValueError) as exc:
            ctx.add(R.SAFET_HEADER.finding(f"header is not valid UTF-8 JSON: {exc}", loc(8)))
            return
        if not isinstance(header, dict):
            ctx.add(R.SAFET_HEADER.finding(f"header is a JSON {type(header).__name__}, not an "
                                           "object", loc(8)))
            return
        problems: list[tuple[Rule, str]] = []
        metadata = header.pop("__metadata__", None)
        if metadata is not None and not (isinstance(metadata, dict) and all(
                isinstance(v, str) for v in metadata.values())):
            problems.append((R.SAFET_HEADER, "__metadata__ is not a map of strings to strings"))
        if metadata is not None:
            # some loaders unpickle or decode metadata values (a pickled config, a base64 blob)
            from mlwarden.scan.formats.embedded import scan_json_fields

            scan_json_fields(metadata, target, ctx, where="__metadata__")
        spans: list[tuple[int, int, str]] = []
        for name, info in header.items():
            problem = self._check_tensor(name, info)
            if problem is not None:
                problems.append(problem)
                continue
            begin, end = info["data_offsets"]
            spans.append((begin, end, name))
        data_size = len(data) - 8 - length
        problems.extend((R.SAFET_LAYOUT, msg) for msg in _layout_problems(spans, data_size))
        for rule, message in problems[:MAX_FINDINGS]:
            ctx.add(rule.finding(message, loc(8)))
        if len(problems) > MAX_FINDINGS:
            ctx.add(R.SAFET_LAYOUT.finding(f"{len(problems) - MAX_FINDINGS} more header problems "
                                           "not listed", loc(8), severity=Severity.MEDIUM))

    @staticmethod
    def _check_tensor(name: str, info: object) -> tuple[Rule, str] | None:
        if not isinstance(info, dict):
            return R.SAFET_HEADER, f"tensor {name!r} entry is not an object"
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
            return R.SAFET_HEADER, f"tensor {name!r} has unknown dtype {dtype!r}"
        if not isinstance(shape, list) or not all(_is_uint(d) for d in shape):
            return R.SAFET_HEADER, f"tensor {name!r} shape {shape!r} is not a list of sizes"
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_uint(o) for o in
                                                                        offsets)):
            return R.SAFET_HEADER, f"tensor {name!r} data_offsets {offsets!r} are not two offsets"
        begin, end = offsets
        if end < begin:
            return R.SAFET_LAYOUT, f"tensor {name!r} ends ({end}) before it begins ({begin})"
        elements = 1
        for dim in shape:
            elements *= dim
        bits = elements * DTYPE_BITS[dtype]
        if bits % 8:
            return R.SAFET_LAYOUT, f"tensor {name!r} of {elements} {dtype} values is not a whole " \
                                   "number of bytes"
        if bits // 8 != end - begin:
            return (R.SAFET_LAYOUT, f"tensor {name!r} is {end - begin} bytes but shape {shape} of "
                                    f"{dtype} needs {bits // 8}")
        return None


def _layout_problems(spans: list[tuple[int, int, str]], data_size: int) -> list[str]:
    problems: list[str] = []
    position = 0
    previous = None
    for begin, end, name in sorted(spans):
        if begin < position:
            problems.append(f"tensor {name!r} [{begin}, {end}) overlaps {previous!r}")
        elif begin > position:
            problems.append(f"{begin - position} bytes before tensor {name!r} belong to no tensor "
                            f"(hole at {position})")
        if end > data_size:
            problems.append(f"tensor {name!r} [{begin}, {end}) lies beyond the data section "
                            f"({data_size} bytes)")
        if end >= position:
            position, previous = end, name
    if position < data_size and not any(end > data_size for _, end, _ in spans):
        problems.append(f"{data_size - position} bytes at the end of the data section belong to "
                        "no tensor")
    return problems
